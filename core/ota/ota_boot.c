// The boot record's one owner: its bytes (decode, encode), the two copies on flash
// (load picks the newer valid one, save writes the other), and the trial-boot states.
#include "ota/ota_boot.h"

// Layout, little-endian: magic "MKOB", format 1, active, pending, tries, flags
// (1 confirmed, 2 rolled back), 3 zero bytes, seq (4), CRC-32 of the 16 bytes before (4)
#define BOOT_FORMAT 1
#define BOOT_CONFIRMED 1
#define BOOT_ROLLED_BACK 2
#define BOOT_CRC_AT 16
#define BOOT_WRITE_MAX 64  // Largest program unit a record's flash may have
static const uint8_t s_boot_magic[4] = {'M', 'K', 'O', 'B'};

static uint32_t boot_le32(const uint8_t *p) {
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void boot_put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t) (v >> (8 * i));
}

void ota_boot_encode(const struct ota_boot_record *r, uint8_t out[OTA_BOOT_RECORD_SIZE]) {
  memset(out, 0, OTA_BOOT_RECORD_SIZE);
  memcpy(out, s_boot_magic, sizeof(s_boot_magic));
  out[4] = BOOT_FORMAT;
  out[5] = r->active;
  out[6] = r->pending;
  out[7] = r->tries;
  out[8] = (uint8_t) ((r->confirmed ? BOOT_CONFIRMED : 0) | (r->rolled_back ? BOOT_ROLLED_BACK : 0));
  boot_put_le32(out + 12, r->seq);
  boot_put_le32(out + BOOT_CRC_AT, mg_crc32(0, (const char *) out, BOOT_CRC_AT));
}

// The states the transitions can reach, and no other: a record that is none of
// them was not written by this code, whatever its CRC says
static bool boot_consistent(const struct ota_boot_record *r) {
  if (r->active > 1) return false;
  if (r->pending == OTA_SLOT_NONE) return r->tries == 0 && r->confirmed;
  if (r->pending > 1 || r->pending == r->active || r->rolled_back) return false;
  return !r->confirmed || r->tries > 0;  // Not started yet: it has its tries
}

bool ota_boot_decode(const uint8_t *buf, size_t len, struct ota_boot_record *r) {
  if (len < OTA_BOOT_RECORD_SIZE || memcmp(buf, s_boot_magic, sizeof(s_boot_magic)) != 0) return false;
  if (buf[4] != BOOT_FORMAT || (buf[8] & ~(BOOT_CONFIRMED | BOOT_ROLLED_BACK)) != 0) return false;
  if (buf[9] != 0 || buf[10] != 0 || buf[11] != 0) return false;
  if (boot_le32(buf + BOOT_CRC_AT) != mg_crc32(0, (const char *) buf, BOOT_CRC_AT)) return false;
  struct ota_boot_record rec = {buf[5], buf[6], buf[7], (buf[8] & BOOT_CONFIRMED) != 0,
                                (buf[8] & BOOT_ROLLED_BACK) != 0, boot_le32(buf + 12)};
  if (!boot_consistent(&rec)) return false;
  *r = rec;
  return true;
}

static bool boot_read_copy(struct ota_flash *flash, int copy, struct ota_boot_record *r) {
  uint8_t buf[OTA_BOOT_RECORD_SIZE];
  return flash->read(flash, copy, 0, buf, sizeof(buf)) && ota_boot_decode(buf, sizeof(buf), r);
}

// Sequence numbers compared as serial numbers, so the count may wrap
static bool boot_newer(uint32_t a, uint32_t b) {
  return a != b && a - b < 0x80000000u;
}

void ota_boot_load(struct ota_boot *b, struct ota_flash *flash) {
  struct ota_boot_record r[2], factory = {0, OTA_SLOT_NONE, 0, true, false, 0};
  bool ok0 = boot_read_copy(flash, 0, &r[0]), ok1 = boot_read_copy(flash, 1, &r[1]);
  b->flash = flash;
  b->copy = ok1 && (!ok0 || boot_newer(r[1].seq, r[0].seq)) ? 1 : ok0 ? 0 : -1;
  b->rec = b->copy < 0 ? factory : r[b->copy];
  if (b->copy < 0) MG_INFO(("no valid boot record: slot 0, confirmed"));
}

// The copy not holding the committed state is erased, written, synced and read
// back; only then is next committed. Until its last byte lands the older copy
// is intact and wins: a torn save loses only the state being saved.
static bool boot_save(struct ota_boot *b, struct ota_boot_record next) {
  struct ota_flash *f = b->flash;
  int target = b->copy == 0 ? 1 : 0;
  // Written as whole program units, the record's bytes then erased ones
  uint8_t buf[BOOT_WRITE_MAX], back[OTA_BOOT_RECORD_SIZE];
  size_t unit = f->write_size > 1 ? f->write_size : 1;
  size_t len = (OTA_BOOT_RECORD_SIZE + unit - 1) / unit * unit;
  if (len > sizeof(buf)) {
    MG_ERROR(("cannot save the boot record: a %lu-byte program unit is too large", (unsigned long) unit));
    return false;
  }
  next.seq = b->rec.seq + 1;
  memset(buf, 0xFF, sizeof(buf));
  ota_boot_encode(&next, buf);
  bool ok = f->erase(f, target, 0, f->sector_size) && f->write(f, target, 0, buf, len) &&
            (f->sync == NULL || f->sync(f, target)) && f->read(f, target, 0, back, sizeof(back)) &&
            memcmp(buf, back, sizeof(back)) == 0;
  if (!ok) {
    MG_ERROR(("cannot save the boot record (copy %d): the previous state stays", target));
    return false;
  }
  b->rec = next;
  b->copy = target;
  return true;
}

bool ota_boot_set_pending(struct ota_boot *b, uint8_t tries) {
  if (tries == 0 || !b->rec.confirmed) {
    MG_ERROR(("cannot put slot %d on trial: %s", 1 - b->rec.active,
              tries == 0 ? "it needs at least one try" : "a trial is running; confirm it first"));
    return false;
  }
  struct ota_boot_record next = b->rec;
  next.pending = (uint8_t) (1 - b->rec.active);
  next.tries = tries;
  next.rolled_back = false;
  return boot_save(b, next);
}

int ota_boot_select(struct ota_boot *b) {
  struct ota_boot_record next = b->rec;
  if (next.pending == OTA_SLOT_NONE) return next.active;
  if (next.tries == 0) {
    MG_ERROR(("slot %d was never confirmed in its trial boots: rolling back to slot %d", next.pending,
              next.active));
    next.pending = OTA_SLOT_NONE;
    next.confirmed = true;
    next.rolled_back = true;
    boot_save(b, next);  // If it fails, the next boot rolls back again
    return next.active;
  }
  next.tries--;
  next.confirmed = false;
  // Counted before it starts: a slot that hangs or crashes still uses up a try
  if (!boot_save(b, next)) return next.active;
  MG_INFO(("starting slot %d on trial, %d more tries", next.pending, next.tries));
  return next.pending;
}

bool ota_boot_confirm(struct ota_boot *b) {
  if (b->rec.pending == OTA_SLOT_NONE || b->rec.confirmed) return true;  // Not on trial
  struct ota_boot_record next = b->rec;
  next.active = b->rec.pending;
  next.pending = OTA_SLOT_NONE;
  next.tries = 0;
  next.confirmed = true;
  return boot_save(b, next);
}

bool ota_boot_rollback(struct ota_boot *b) {
  if (b->rec.pending == OTA_SLOT_NONE) return true;  // Nothing on trial: nothing to end
  struct ota_boot_record next = b->rec;
  next.rolled_back = !next.confirmed;  // A trial that had started failed; a waiting one is dropped
  next.pending = OTA_SLOT_NONE;
  next.tries = 0;
  next.confirmed = true;
  return boot_save(b, next);
}
