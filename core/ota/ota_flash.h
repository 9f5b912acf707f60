// The flash seam of OTA: two slots of equal size, erased by whole sectors and
// written only where erased, as NOR flash is; a backend is this struct of functions.
#ifndef OTA_FLASH_H
#define OTA_FLASH_H
#include "meerkat.h"

// A slot is 0 or 1. Every function logs why and returns false on failure: a range
// outside the slot, an erase not on sector boundaries, a write over bytes that are
// not erased (0xFF), or the medium's own error. Erased bytes read as 0xFF.
struct ota_flash {
  bool (*erase)(struct ota_flash *f, int slot, size_t off, size_t len);  // off, len: whole sectors
  bool (*write)(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len);
  bool (*read)(struct ota_flash *f, int slot, size_t off, void *buf, size_t len);
  // Optional (NULL where a write is durable when it returns, as on flash): make the
  // slot's writes survive a power loss, before a boot record points at them
  bool (*sync)(struct ota_flash *f, int slot);
  size_t sector_size, slot_size;
  void *ctx;  // The backend's
  // The program unit (0 or 1: any byte): a write's off and len are multiples of it,
  // as flash with ECC programs whole words (32 bytes on an STM32H7)
  size_t write_size;
};

// The checks every backend makes before touching the medium (ota_flash.c):
// slot 0 or 1, the range inside the slot, and for an erase, whole sectors
bool ota_flash_range_ok(const struct ota_flash *f, int slot, size_t off, size_t len, bool is_erase);

// RAM backend (ota_flash_ram.c) over buf, which holds slot 0 then slot 1, each
// len / 2 bytes; its contents are kept (a reboot of the QEMU board, a test's power
// loss). False if sector_size is 0 or does not divide a slot.
bool ota_flash_ram_init(struct ota_flash *f, uint8_t *buf, size_t len, size_t sector_size);

#if MG_ENABLE_POSIX_FS
// File backend (ota_flash_file.c): slot N is the file DIR/NAME-N.bin, and a missing
// file or bytes past its end read as erased. dir and name must outlive f; the files
// stay open from first use until ota_flash_file_close.
struct ota_flash_file {
  const char *dir, *name;
  int fd[2];
};
bool ota_flash_file_init(struct ota_flash *f, struct ota_flash_file *file, const char *dir, const char *name,
                         size_t slot_size, size_t sector_size);
void ota_flash_file_close(struct ota_flash *f);
#endif

#endif  // OTA_FLASH_H
