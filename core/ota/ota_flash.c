// The rules of the flash seam that hold for every backend: which slot, which range,
// whole sectors for an erase; the backends check with this before touching a medium.
#include "ota/ota_flash.h"

bool ota_flash_range_ok(const struct ota_flash *f, int slot, size_t off, size_t len, bool is_erase) {
  const char *op = is_erase ? "erase" : "access";
  if (slot != 0 && slot != 1) {
    MG_ERROR(("flash %s of slot %d: there are slots 0 and 1 only", op, slot));
    return false;
  }
  // Written so that off + len cannot wrap around
  if (off > f->slot_size || len > f->slot_size - off) {
    MG_ERROR(("flash %s of %lu bytes at %lu: past the end of the %lu-byte slot", op, (unsigned long) len,
              (unsigned long) off, (unsigned long) f->slot_size));
    return false;
  }
  if (is_erase && (len == 0 || off % f->sector_size != 0 || len % f->sector_size != 0)) {
    MG_ERROR(("flash erase of %lu bytes at %lu: not whole %lu-byte sectors", (unsigned long) len,
              (unsigned long) off, (unsigned long) f->sector_size));
    return false;
  }
  return true;
}
