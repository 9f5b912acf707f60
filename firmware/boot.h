// The host firmware as its own boot loader: two slots and the boot record as files under
// DATA_DIR/ota; a start runs the slot the record says, by exec of that slot's program.
#ifndef FIRMWARE_BOOT_H
#define FIRMWARE_BOOT_H
#include "meerkat.h"
#include "ota/ota_boot.h"
#include "ota/ota_update.h"

#ifndef FIRMWARE_BOARD
#define FIRMWARE_BOARD "host"
#endif
#define BOOT_SLOT_SIZE (64u * 1024 * 1024)  // Each slot: the largest image it takes
#define BOOT_TRIAL_TRIES 3                  // Boots a new image gets to confirm itself

struct boot {
  char dir[MG_PATH_MAX];              // DATA_DIR/ota
  struct ota_flash_file slot_files, record_files;
  struct ota_flash slots, record_flash;
  struct ota_boot record;
  struct ota_update_cfg cfg;          // This device, for uploads and slot checks
  int running;                        // The slot this process runs
  bool factory;                       // It is the installed program: slot 0 held no image
  bool trial;                         // Started on trial: confirms itself once healthy
  char factory_version[24];           // The installed program's, "" if not known yet
};

// First thing in main. Started by hand (or by systemd), selects the slot to run and, if
// it holds an image, checks it whole and execs it (does not return). Started by such an
// exec, or when this program is what runs, fills b and returns true; false when the
// data directory cannot hold the slots (logged).
bool boot_start(struct boot *b, const char *data_dir, const char *version, char **argv);
// The record now says what to run: select and exec it with argv (the listeners' real
// ports in it). Returns only if nothing could be started (logged).
void boot_restart(struct boot *b, char **argv);
// Slot 0 that holds no image: the installed program runs as it
bool boot_is_factory(struct boot *b, int slot);
// The running trial served well: it becomes the confirmed slot
bool boot_confirm(struct boot *b);
void boot_free(struct boot *b);

#endif
