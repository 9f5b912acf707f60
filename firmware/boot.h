// The firmware's boot loader as firmware/ota.c sees it: two slots and the boot record
// behind the flash seam. The host's (boot.c) keeps them as files under DATA_DIR/ota and
// starts a slot by exec; the board's (FIRMWARE_BOOT_RAM: arm/boot_ram.c) keeps them in RAM
// that a reset leaves alone and starts a slot by a copy over the image and a jump.
#ifndef FIRMWARE_BOOT_H
#define FIRMWARE_BOOT_H
#include "meerkat.h"
#include "ota/ota_boot.h"
#include "ota/ota_update.h"

#ifndef FIRMWARE_BOARD
#define FIRMWARE_BOARD "host"
#endif
#define BOOT_TRIAL_TRIES 3                  // Boots a new image gets to confirm itself

struct boot {
#if !FIRMWARE_BOOT_RAM
  char dir[MG_PATH_MAX];              // DATA_DIR/ota
  struct ota_flash_file slot_files, record_files;
#endif
  struct ota_flash slots, record_flash;
  struct ota_boot record;
  struct ota_update_cfg cfg;          // This device, for uploads and slot checks
  int running;                        // The slot this process runs
  bool factory;                       // It is the installed program: slot 0 held no image
  bool trial;                         // Started on trial: confirms itself once healthy
  char factory_version[24];           // The installed program's, "" if not known yet
};

// What both boot loaders share (boot_slots.c). The slot checks' cfg, for version (the
// running firmware's) and this board, over b->slots
void boot_cfg_init(struct boot *b, const char *version);
// Slot 0 that holds no image: the installed program runs as it
bool boot_is_factory(struct boot *b, int slot);
// The running trial served well: it becomes the confirmed slot
bool boot_confirm(struct boot *b);
// The boot proper: the record's choice, started by run (true: it runs, in this program);
// a trial that cannot start counts as failed and the confirmed slot starts instead.
// Returns the slot that runs, or -1 if neither could start
int boot_choose(struct boot *b, bool (*run)(struct boot *b, int slot, void *arg), void *arg);
// Once b->running is known: whether it is the installed program and on trial (logged)
void boot_settle(struct boot *b);

#if FIRMWARE_BOOT_RAM
// First thing in main, before the network: formats the RAM regions on the first power-up;
// at a reset, selects the slot to run and, if it holds an image, checks it whole, copies it
// over the running image and starts it (does not return). Started so, or when this program
// is what runs, fills b and returns true; false if the regions cannot hold the slots (logged).
bool boot_start(struct boot *b, const char *version);
// The record now says what to run: a system reset, after which the boot stage starts it
void boot_restart(struct boot *b);
#else
#define BOOT_SLOT_SIZE (64u * 1024 * 1024)  // Each slot: the largest image it takes
// First thing in main. Started by hand (or by systemd), selects the slot to run and, if
// it holds an image, checks it whole and execs it (does not return). Started by such an
// exec, or when this program is what runs, fills b and returns true; false when the
// data directory cannot hold the slots (logged).
bool boot_start(struct boot *b, const char *data_dir, const char *version, char **argv);
// The record now says what to run: select and exec it with argv (the listeners' real
// ports in it). Returns only if nothing could be started (logged).
void boot_restart(struct boot *b, char **argv);
void boot_free(struct boot *b);
#endif

#endif
