// The flash seam over a RAM buffer (the QEMU board, unit tests), as strict as NOR
// flash: erases by whole sectors, writes only over erased bytes.
#include "ota/ota_flash.h"

static uint8_t *ram_at(struct ota_flash *f, int slot, size_t off) {
  return (uint8_t *) f->ctx + (size_t) slot * f->slot_size + off;
}

static bool ram_erase(struct ota_flash *f, int slot, size_t off, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, true)) return false;
  memset(ram_at(f, slot, off), 0xFF, len);
  return true;
}

// Checked before any byte changes, so a refused write leaves the slot as it was
static bool ram_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  uint8_t *p = ram_at(f, slot, off);
  for (size_t i = 0; i < len; i++) {
    if (p[i] != 0xFF) {
      MG_ERROR(("flash write at %lu of slot %d: byte %lu is not erased (erase its sector first)",
                (unsigned long) off, slot, (unsigned long) (off + i)));
      return false;
    }
  }
  memcpy(p, buf, len);
  return true;
}

static bool ram_read(struct ota_flash *f, int slot, size_t off, void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  memcpy(buf, ram_at(f, slot, off), len);
  return true;
}

bool ota_flash_ram_init(struct ota_flash *f, uint8_t *buf, size_t len, size_t sector_size) {
  if (sector_size == 0 || len % 2 != 0 || (len / 2) % sector_size != 0) {
    MG_ERROR(("RAM flash of %lu bytes: two slots of whole %lu-byte sectors do not fit", (unsigned long) len,
              (unsigned long) sector_size));
    return false;
  }
  struct ota_flash ram = {ram_erase, ram_write, ram_read, NULL, sector_size, len / 2, buf, 1};
  *f = ram;
  return true;
}
