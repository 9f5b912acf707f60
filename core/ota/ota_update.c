// Streams an OTA image into a slot: gathers and checks the header, erases what the image
// needs, writes whole program units as bytes come, and checks hash and signature at the end.
#include "ota/ota_update.h"

#define UPDATE_READ_CHUNK 1024  // Stack buffer for reading a slot back (recover, verify)

static size_t update_unit(const struct ota_flash *f) {
  return f->write_size > 1 ? f->write_size : 1;
}

static size_t update_round_up(size_t n, size_t unit) {
  return (n + unit - 1) / unit * unit;
}

static bool update_fail(struct ota_update *u, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_vsnprintf(u->error, sizeof(u->error), fmt, &ap);
  va_end(ap);
  u->status = status;
  u->state = OTA_UPDATE_FAILED;
  if (!u->checking) MG_ERROR(("OTA image refused: %s", u->error));
  return false;
}

bool ota_update_begin(struct ota_update *u, const struct ota_update_cfg *cfg, int slot, uint32_t total, bool force) {
  memset(u, 0, sizeof(*u));
  u->cfg = cfg;
  u->slot = slot;
  u->force = force;
  u->total = total;
  u->state = OTA_UPDATE_RECEIVING;
  mg_sha256_init(&u->sha);
  if (cfg->verify == NULL) return update_fail(u, 500, "this build has no signature check (it needs mbedTLS), so it takes no image");
  if (update_unit(cfg->flash) > OTA_UPDATE_WRITE_MAX || update_unit(cfg->flash) > MG_OTA_HEADER_SIZE)
    return update_fail(u, 500, "flash program unit of %lu bytes is larger than %d", (unsigned long) update_unit(cfg->flash),
                       OTA_UPDATE_WRITE_MAX);
  if (total != 0 && total < MG_OTA_HEADER_SIZE + MG_OTA_SIG_SIZE + 1)
    return update_fail(u, 400, "%lu bytes cannot be an OTA image (header and signature alone are %d)",
                       (unsigned long) total, MG_OTA_HEADER_SIZE + MG_OTA_SIG_SIZE);
  if (total > cfg->flash->slot_size)
    return update_fail(u, 413, "image of %lu bytes does not fit the %lu-byte slot", (unsigned long) total,
                       (unsigned long) cfg->flash->slot_size);
  return true;
}

// The header's promises against this device: board, size, version
static bool update_check_header(struct ota_update *u) {
  const struct ota_update_cfg *cfg = u->cfg;
  char why[100];
  if (!mg_ota_header_parse(u->head, sizeof(u->head), &u->hdr, why, sizeof(why))) return update_fail(u, 400, "%s", why);
  uint32_t size = mg_ota_image_size(&u->hdr);
  const struct mg_ota_version *v = &u->hdr.version, *run = &cfg->running;
  if (strcmp(u->hdr.board, cfg->board) != 0)
    return update_fail(u, 422, "image is for board \"%s\", this device is \"%s\"", u->hdr.board, cfg->board);
  if (size > cfg->flash->slot_size)
    return update_fail(u, 413, "image of %lu bytes does not fit the %lu-byte slot", (unsigned long) size,
                       (unsigned long) cfg->flash->slot_size);
  if (u->total != 0 && u->total != size)
    return update_fail(u, 400, "upload is %lu bytes but the image header announces %lu", (unsigned long) u->total,
                       (unsigned long) size);
  if (mg_ota_version_cmp(v, run) < 0 && !u->force)
    return update_fail(u, 422, "version %u.%u.%u is older than the running %u.%u.%u (an admin may force a downgrade)",
                       v->major, v->minor, v->patch, run->major, run->minor, run->patch);
  u->total = size;
  return true;
}

// Erases the sectors the image will use: only then is any of it written
static bool update_erase(struct ota_update *u) {
  struct ota_flash *f = u->cfg->flash;
  size_t len = update_round_up(u->total, f->sector_size);
  if (len > f->slot_size) len = f->slot_size;  // slot_size is whole sectors
  if (!f->erase(f, u->slot, 0, len)) return update_fail(u, 500, "cannot erase slot %d (flash error, see the log)", u->slot);
  return true;
}

// Programs len bytes (whole units) at the offset where the staged bytes began
static bool update_program(struct ota_update *u, size_t off, const uint8_t *buf, size_t len) {
  struct ota_flash *f = u->cfg->flash;
  if (len > 0 && !f->write(f, u->slot, off, buf, len))
    return update_fail(u, 500, "cannot write slot %d at %lu (flash error, see the log)", u->slot, (unsigned long) off);
  return true;
}

// Writes bytes at image offset u->received onward: units are programmed straight from
// buf; a tail short of a unit waits in u->stage for the next bytes or the end
static bool update_store(struct ota_update *u, const uint8_t *p, size_t n) {
  size_t unit = update_unit(u->cfg->flash);
  size_t at = u->received - u->staged;  // Image offset of the first staged byte
  if (u->staged > 0) {
    size_t take = unit - u->staged < n ? unit - u->staged : n;
    memcpy(u->stage + u->staged, p, take);
    u->staged += take, p += take, n -= take;
    if (u->staged < unit) return true;
    if (!update_program(u, at, u->stage, unit)) return false;
    at += unit, u->staged = 0;
  }
  size_t whole = n / unit * unit;
  if (!update_program(u, at, p, whole)) return false;
  memcpy(u->stage, p + whole, n - whole);
  u->staged = n - whole;
  return true;
}

// Hashes the payload and keeps the signature, whatever the split of the bytes
static void update_digest(struct ota_update *u, uint32_t at, const uint8_t *p, size_t n) {
  uint32_t payload_end = MG_OTA_HEADER_SIZE + u->hdr.payload_size;
  if (at < payload_end) {
    size_t k = payload_end - at < n ? payload_end - at : n;
    mg_sha256_update(&u->sha, p, k);
    at += (uint32_t) k, p += k, n -= k;
  }
  if (n > 0) memcpy(u->sig + (at - payload_end), p, n);
}

bool ota_update_write(struct ota_update *u, const void *buf, size_t len) {
  const uint8_t *p = (const uint8_t *) buf;
  if (u->state != OTA_UPDATE_RECEIVING) return false;
  if (u->received < MG_OTA_HEADER_SIZE) {  // Gathering the header
    size_t k = MG_OTA_HEADER_SIZE - u->received < len ? MG_OTA_HEADER_SIZE - u->received : len;
    memcpy(u->head + u->received, p, k);
    u->received += (uint32_t) k, p += k, len -= k;
    if (u->received < MG_OTA_HEADER_SIZE) return true;
    u->received = 0;  // The header is stored like any other bytes, from offset 0
    if (!update_check_header(u) || !update_erase(u) || !update_store(u, u->head, sizeof(u->head))) return false;
    u->received = MG_OTA_HEADER_SIZE;
  }
  if (len > u->total - u->received)
    return update_fail(u, 400, "upload is longer than the %lu bytes the image header announces", (unsigned long) u->total);
  if (len == 0) return true;
  update_digest(u, u->received, p, len);
  if (!update_store(u, p, len)) return false;
  u->received += (uint32_t) len;
  return true;
}

// Pads the staged tail with erased bytes to a whole unit and programs it
static bool update_flush(struct ota_update *u) {
  if (u->staged == 0) return true;
  size_t unit = update_unit(u->cfg->flash), at = u->received - u->staged;
  memset(u->stage + u->staged, 0xFF, unit - u->staged);
  u->staged = 0;
  return update_program(u, at, u->stage, unit);
}

static bool update_check_digests(struct ota_update *u) {
  uint8_t digest[32];
  mg_sha256_final(digest, &u->sha);
  if (memcmp(digest, u->hdr.sha256, sizeof(digest)) != 0)
    return update_fail(u, 400, "payload SHA-256 does not match the header: the image was damaged or altered");
  mg_ota_signed_digest(u->head, digest);
  enum ota_verify_result verdict = u->cfg->verify(digest, u->sig, u->cfg->verify_arg);
  if (verdict == OTA_VERIFY_CANNOT)
    return update_fail(u, 500, "cannot check the signature (out of memory, or the device's public key is unusable: see the log)");
  if (verdict != OTA_VERIFY_OK)
    return update_fail(u, 400, "signature does not verify: the image was not signed with this device's key");
  return true;
}

bool ota_update_end(struct ota_update *u) {
  if (u->state != OTA_UPDATE_RECEIVING) return false;
  if (u->received < MG_OTA_HEADER_SIZE || u->received < u->total)
    return update_fail(u, 400, "image is truncated: %lu of %lu bytes", (unsigned long) u->received,
                       (unsigned long) (u->received < MG_OTA_HEADER_SIZE ? MG_OTA_HEADER_SIZE : u->total));
  struct ota_flash *f = u->cfg->flash;
  if (!update_flush(u)) return false;
  if (f->sync != NULL && !f->sync(f, u->slot)) return update_fail(u, 500, "cannot sync slot %d (see the log)", u->slot);
  if (!update_check_digests(u)) return false;
  u->state = OTA_UPDATE_VERIFIED;
  MG_INFO(("OTA image %u.%u.%u for %s verified in slot %d (%lu bytes)", u->hdr.version.major, u->hdr.version.minor,
           u->hdr.version.patch, u->hdr.board, u->slot, (unsigned long) u->total));
  return true;
}

// Bytes [from, to) of the slot through the digests, read back in small pieces
static bool update_digest_slot(struct ota_update *u, uint32_t from, uint32_t to) {
  uint8_t buf[UPDATE_READ_CHUNK];
  struct ota_flash *f = u->cfg->flash;
  while (from < to) {
    size_t n = to - from < sizeof(buf) ? to - from : sizeof(buf);
    if (!f->read(f, u->slot, from, buf, n)) return update_fail(u, 500, "cannot read slot %d (see the log)", u->slot);
    update_digest(u, from, buf, n);
    from += (uint32_t) n;
  }
  return true;
}

// The end of what was programmed: past the last byte that is not erased, rounded up to
// a whole unit (a unit is programmed whole or not at all). Erased bytes that the image
// itself has there are taken again, and writing 0xFF over 0xFF changes nothing.
static bool update_programmed_end(struct ota_update *u, uint32_t *end) {
  uint8_t buf[UPDATE_READ_CHUNK];
  struct ota_flash *f = u->cfg->flash;
  uint32_t at = u->total;
  while (at > MG_OTA_HEADER_SIZE) {
    size_t n = at - MG_OTA_HEADER_SIZE < sizeof(buf) ? at - MG_OTA_HEADER_SIZE : sizeof(buf);
    if (!f->read(f, u->slot, at - n, buf, n)) return update_fail(u, 500, "cannot read slot %d (see the log)", u->slot);
    while (n > 0 && buf[n - 1] == 0xFF) n--, at--;
    if (n > 0) break;
  }
  size_t rounded = update_round_up(at, update_unit(f));
  *end = rounded < u->total ? (uint32_t) rounded : u->total;
  return true;
}

// The header an upload left in the slot, if it suits this device; false (state IDLE) if not
static bool update_load_header(struct ota_update *u, const struct ota_update_cfg *cfg, int slot) {
  struct ota_flash *f = cfg->flash;
  ota_update_begin(u, cfg, slot, 0, true);  // force: the version was judged when it began
  if (u->state != OTA_UPDATE_RECEIVING) return false;
  bool ok = f->read(f, slot, 0, u->head, sizeof(u->head)) &&
            mg_ota_header_parse(u->head, sizeof(u->head), &u->hdr, u->error, sizeof(u->error)) &&
            strcmp(u->hdr.board, cfg->board) == 0 && mg_ota_image_size(&u->hdr) <= f->slot_size;
  if (!ok) {
    u->state = OTA_UPDATE_IDLE;
    return false;
  }
  u->total = mg_ota_image_size(&u->hdr);
  return true;
}

bool ota_update_recover(struct ota_update *u, const struct ota_update_cfg *cfg, int slot) {
  uint32_t end = 0;
  if (!update_load_header(u, cfg, slot) || !update_programmed_end(u, &end) ||
      !update_digest_slot(u, MG_OTA_HEADER_SIZE, end))
    return false;
  u->received = end;
  MG_INFO(("OTA upload into slot %d can go on at %lu of %lu bytes", slot, (unsigned long) end, (unsigned long) u->total));
  return true;
}

bool ota_slot_verify(const struct ota_update_cfg *cfg, int slot, struct mg_ota_header *h, char *why, size_t why_len) {
  struct ota_update u;
  bool ok = update_load_header(&u, cfg, slot);
  u.checking = true;  // A slot that fails is an answer, not an error to log
  ok = ok && update_digest_slot(&u, MG_OTA_HEADER_SIZE, u.total) && update_check_digests(&u);
  if (ok) *h = u.hdr;
  else if (why != NULL) mg_snprintf(why, why_len, "%s", u.state == OTA_UPDATE_IDLE ? "no image" : u.error);
  return ok;
}
