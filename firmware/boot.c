// The host firmware's boot loader: slot N is DATA_DIR/ota/slot-N.bin (an OTA image), the
// record DATA_DIR/ota/boot-N.bin; a slot's program is checked whole, unpacked and exec'd.
// Slot 0 without an image is the installed program itself ("factory"), so a fresh data
// directory boots what was started, and a rollback to it starts that program again.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot.h"

// The exec'd program learns from these that it was booted (and need not select again),
// and where the installed program is, to start it again after a rollback
#define BOOT_ENV_SLOT "MEERKAT_BOOT_SLOT"
#define BOOT_ENV_FACTORY "MEERKAT_FACTORY"
#define BOOT_SECTOR 4096
#define BOOT_RECORD_SECTOR 256

static bool boot_path(const struct boot *b, char *buf, size_t len, const char *name) {
  if (mg_snprintf(buf, len, "%s/%s", b->dir, name) < len) return true;
  MG_ERROR(("path %s/%s is too long", b->dir, name));
  return false;
}

static void boot_read_factory_version(struct boot *b) {
  char path[MG_PATH_MAX];
  FILE *fp = boot_path(b, path, sizeof(path), "factory-version") ? fopen(path, "r") : NULL;
  b->factory_version[0] = '\0';
  if (fp == NULL) return;
  if (fgets(b->factory_version, sizeof(b->factory_version), fp) == NULL) b->factory_version[0] = '\0';
  b->factory_version[strcspn(b->factory_version, "\n")] = '\0';
  fclose(fp);
}

// The installed program says what version it is, for GET /api/ota once it is the other slot
static void boot_write_factory_version(struct boot *b, const char *version) {
  char path[MG_PATH_MAX];
  FILE *fp = boot_path(b, path, sizeof(path), "factory-version") ? fopen(path, "w") : NULL;
  if (fp == NULL) return;
  fprintf(fp, "%s\n", version);
  fclose(fp);
  mg_snprintf(b->factory_version, sizeof(b->factory_version), "%s", version);
}

static bool boot_open(struct boot *b, const char *data_dir, const char *version) {
  memset(b, 0, sizeof(*b));
  if (mg_snprintf(b->dir, sizeof(b->dir), "%s/ota", data_dir) >= sizeof(b->dir) ||
      (mkdir(b->dir, 0755) != 0 && errno != EEXIST)) {
    MG_ERROR(("cannot create %s/ota for the firmware slots: %s", data_dir, strerror(errno)));
    return false;
  }
  if (!ota_flash_file_init(&b->slots, &b->slot_files, b->dir, "slot", BOOT_SLOT_SIZE, BOOT_SECTOR) ||
      !ota_flash_file_init(&b->record_flash, &b->record_files, b->dir, "boot", BOOT_RECORD_SECTOR, BOOT_RECORD_SECTOR))
    return false;
  ota_boot_load(&b->record, &b->record_flash);
  boot_cfg_init(b, version);
  return true;
}

// Writes the slot's payload as an executable DIR/run-N (whole or not at all)
static bool boot_unpack(struct boot *b, int slot, const struct mg_ota_header *h, char *path, size_t len) {
  char tmp[MG_PATH_MAX + 8], name[16];
  static uint8_t buf[64 * 1024];
  mg_snprintf(name, sizeof(name), "run-%d", slot);
  if (!boot_path(b, path, len, name)) return false;
  mg_snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  bool ok = fd >= 0;
  for (uint32_t at = 0; ok && at < h->payload_size;) {
    size_t n = h->payload_size - at < sizeof(buf) ? h->payload_size - at : sizeof(buf);
    ok = b->slots.read(&b->slots, slot, MG_OTA_HEADER_SIZE + at, buf, n) && write(fd, buf, n) == (ssize_t) n;
    at += (uint32_t) n;
  }
  if (fd >= 0 && close(fd) != 0) ok = false;
  if (ok) ok = rename(tmp, path) == 0;
  if (!ok) {
    MG_ERROR(("cannot unpack slot %d into %s: %s", slot, path, strerror(errno)));
    unlink(tmp);
  }
  return ok;
}

// Replaces this process with path as slot's program; returns only if that failed
static void boot_exec(const char *path, int slot, char **argv) {
  char num[4];
  mg_snprintf(num, sizeof(num), "%d", slot);
  setenv(BOOT_ENV_SLOT, num, 1);
  MG_INFO(("starting slot %d: %s", slot, path));
  execv(path, argv);
  MG_ERROR(("cannot start %s: %s", path, strerror(errno)));
  unsetenv(BOOT_ENV_SLOT);
}

// How boot_run starts a slot: with these arguments, and whether this process is the
// installed program (started by hand)
struct boot_exec_args {
  char **argv;
  bool self_is_factory;
};

// Starts slot (the factory program for slot 0 without an image) unless it is the factory
// and this process is that program: then returns true. False if the slot cannot start.
static bool boot_run(struct boot *b, int slot, void *arg) {
  const struct boot_exec_args *how = (const struct boot_exec_args *) arg;
  char **argv = how->argv;
  if (boot_is_factory(b, slot)) {
    if (how->self_is_factory) return true;
    const char *factory = getenv(BOOT_ENV_FACTORY);
    if (factory != NULL) boot_exec(factory, 0, argv);
    return false;
  }
  struct mg_ota_header h;
  char why[128], path[MG_PATH_MAX];
  if (!ota_slot_verify(&b->cfg, slot, &h, why, sizeof(why))) {
    MG_ERROR(("slot %d holds no valid image (%s)", slot, why));
    return false;
  }
  if (boot_unpack(b, slot, &h, path, sizeof(path))) boot_exec(path, slot, argv);
  return false;
}

// The boot proper (boot_choose); the factory program is the last resort
static int boot_select(struct boot *b, char **argv, bool self_is_factory) {
  struct boot_exec_args args = {argv, self_is_factory};
  int slot = boot_choose(b, boot_run, &args);
  if (slot >= 0) return slot;
  if (self_is_factory) {
    MG_ERROR(("no slot can start: running the installed program"));
    return 0;
  }
  const char *factory = getenv(BOOT_ENV_FACTORY);
  if (factory != NULL) boot_exec(factory, 0, argv);
  return -1;
}

bool boot_start(struct boot *b, const char *data_dir, const char *version, char **argv) {
  if (!boot_open(b, data_dir, version)) return false;
  const char *booted = getenv(BOOT_ENV_SLOT);
  if (booted != NULL) {
    b->running = atoi(booted) == 1 ? 1 : 0;
    unsetenv(BOOT_ENV_SLOT);
  } else {
    char self[PATH_MAX];  // Started by hand: this is the installed program
    if (getenv(BOOT_ENV_FACTORY) == NULL && realpath("/proc/self/exe", self) != NULL) setenv(BOOT_ENV_FACTORY, self, 1);
    b->running = boot_select(b, argv, true);
  }
  boot_settle(b);
  if (b->factory) boot_write_factory_version(b, version);
  else boot_read_factory_version(b);
  return true;
}

void boot_restart(struct boot *b, char **argv) {
  unsetenv(BOOT_ENV_SLOT);
  boot_select(b, argv, false);
  MG_ERROR(("restart failed: nothing could be started"));
}

void boot_free(struct boot *b) {
  ota_flash_file_close(&b->slots);
  ota_flash_file_close(&b->record_flash);
}
