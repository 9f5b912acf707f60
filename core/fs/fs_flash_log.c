// The flash filesystem's log: records appended to the active half of a flash slot, the
// newest valid one of a name winning; compaction into the other half when it fills.
#include "fs/fs_flash.h"

struct fs_flash fs_flash_state;
#define S fs_flash_state

static const uint8_t s_rec_magic[4] = {'M', 'K', 'F', 'R'};
static const uint8_t s_half_magic[4] = {'M', 'K', 'F', 'S'};
#define FS_FLASH_FORMAT 1

static uint32_t log_get32(const uint8_t *p) {
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void log_put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++, v >>= 8) p[i] = (uint8_t) v;
}

static uint32_t log_crc(const uint8_t *p, size_t len) {
  return mg_crc32(0, (const char *) p, len);
}

size_t fs_flash_round(size_t n, size_t unit) {
  return unit <= 1 ? n : (n + unit - 1) / unit * unit;
}

static bool log_erased(const uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if (p[i] != 0xFF) return false;
  }
  return true;
}

bool fs_flash_name_ok(const char *name) {
  size_t len = strlen(name);
  if (len == 0) return false;
  if (len > MG_FS_FLASH_NAME_MAX) {
    MG_ERROR(("flash fs: %s: names are at most %d bytes (MG_FS_FLASH_NAME_MAX)", name, MG_FS_FLASH_NAME_MAX));
    return false;
  }
  return true;
}

// The name field: 1..MG_FS_FLASH_NAME_MAX bytes without a NUL, then zeros only
static bool log_name_ok(const uint8_t *field, size_t len) {
  if (len == 0 || len > MG_FS_FLASH_NAME_MAX) return false;
  for (size_t i = 0; i < FS_FLASH_NAME_FIELD; i++) {
    if ((i < len) != (field[i] != 0)) return false;
  }
  return true;
}

static bool log_len_ok(int kind, uint32_t len) {
  if (kind == FS_FLASH_WRITE) return true;
  if (kind == FS_FLASH_REMOVE) return len == 0;
  return kind == FS_FLASH_RENAME && len >= 1 && len <= MG_FS_FLASH_NAME_MAX;
}

int fs_flash_parse(const uint8_t *hdr, size_t hdr_len, size_t room, size_t unit, struct fs_flash_rec *r) {
  if (log_erased(hdr, hdr_len)) return FS_FLASH_END;
  if (hdr_len < FS_FLASH_REC_HEAD || memcmp(hdr, s_rec_magic, 4) != 0) return FS_FLASH_BAD;
  if (log_get32(hdr + FS_FLASH_REC_HEAD - 4) != log_crc(hdr, FS_FLASH_REC_HEAD - 4)) return FS_FLASH_BAD;
  r->kind = hdr[4];
  r->seq = log_get32(hdr + 8);
  r->len = log_get32(hdr + 12);
  r->data_crc = log_get32(hdr + 16);
  if (hdr[6] != 0 || hdr[7] != 0 || !log_len_ok(r->kind, r->len) || !log_name_ok(hdr + 20, hdr[5])) {
    return FS_FLASH_BAD;
  }
  if (r->len > room) return FS_FLASH_BAD;  // Before rounding, so that the sum cannot wrap
  r->size = fs_flash_round(FS_FLASH_REC_HEAD, unit) + fs_flash_round(r->len, unit);
  if (r->size > room) return FS_FLASH_BAD;
  memcpy(r->name, hdr + 20, FS_FLASH_NAME_FIELD);
  return FS_FLASH_RECORD;
}

void fs_flash_encode(const struct fs_flash_rec *r, uint8_t *out) {
  size_t name_len = strlen(r->name);
  memcpy(out, s_rec_magic, 4);
  out[4] = (uint8_t) r->kind;
  out[5] = (uint8_t) name_len;
  out[6] = out[7] = 0;
  log_put32(out + 8, r->seq);
  log_put32(out + 12, r->len);
  log_put32(out + 16, r->data_crc);
  memset(out + 20, 0, FS_FLASH_NAME_FIELD);
  memcpy(out + 20, r->name, name_len);
  log_put32(out + FS_FLASH_REC_HEAD - 4, log_crc(out, FS_FLASH_REC_HEAD - 4));
}

// ---------------------------------------------------------------------------
// Flash access: the active half, or the other one, of the slot

static size_t log_base(int half) {
  return (size_t) half * S.half;
}

static bool log_read(int half, size_t off, void *buf, size_t len) {
  return S.f->read(S.f, S.slot, log_base(half) + off, buf, len);
}

static bool log_write(int half, size_t off, const void *buf, size_t len) {
  return len == 0 || S.f->write(S.f, S.slot, log_base(half) + off, buf, len);
}

static bool log_erase(int half) {
  return S.f->erase(S.f, S.slot, log_base(half), S.half);
}

// The CRC-32 of len bytes of a half from off, read a chunk at a time
static bool log_crc_of(int half, size_t off, size_t len, uint32_t *crc) {
  uint8_t chunk[FS_FLASH_UNIT_MAX];
  *crc = 0;
  while (len > 0) {
    size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
    if (!log_read(half, off, chunk, n)) return false;
    *crc = mg_crc32(*crc, (const char *) chunk, n);
    off += n, len -= n;
  }
  return true;
}

// Which half is valid, and its epoch (pure over the half's first bytes)
static bool log_half_parse(const uint8_t *p, uint32_t *epoch) {
  if (memcmp(p, s_half_magic, 4) != 0 || p[4] != FS_FLASH_FORMAT || p[5] || p[6] || p[7]) return false;
  if (log_get32(p + 12) != log_crc(p, 12)) return false;
  *epoch = log_get32(p + 8);
  return true;
}

// Programmed last in a compaction: until it is whole, the other half stays the valid one
static bool log_half_write(int half, uint32_t epoch) {
  uint8_t buf[FS_FLASH_UNIT_MAX];
  memset(buf, 0xFF, sizeof(buf));
  memcpy(buf, s_half_magic, 4);
  buf[4] = FS_FLASH_FORMAT;
  buf[5] = buf[6] = buf[7] = 0;
  log_put32(buf + 8, epoch);
  log_put32(buf + 12, log_crc(buf, 12));
  return log_write(half, 0, buf, fs_flash_round(FS_FLASH_HALF_HEAD, S.unit));
}

// ---------------------------------------------------------------------------
// Mount: the newer valid half, its records replayed in order into the table

struct fs_flash_file *fs_flash_find(const char *name) {
  for (size_t i = 0; i < S.nfiles; i++) {
    if (strcmp(S.files[i].name, name) == 0) return &S.files[i];
  }
  return NULL;
}

static void log_forget(struct fs_flash_file *file) {
  *file = S.files[--S.nfiles];
}

static void log_apply_write(const struct fs_flash_rec *r, size_t data_off) {
  struct fs_flash_file *file = fs_flash_find(r->name);
  if (file == NULL && S.nfiles == MG_FS_FLASH_FILES) {
    MG_ERROR(("flash fs: %s is past the limit of %d files (MG_FS_FLASH_FILES): not seen", r->name,
              MG_FS_FLASH_FILES));
    return;
  }
  if (file == NULL) file = &S.files[S.nfiles++];
  memcpy(file->name, r->name, sizeof(file->name));
  file->seq = r->seq, file->len = r->len, file->data_crc = r->data_crc, file->off = data_off;
}

static void log_apply_rename(const struct fs_flash_rec *r, size_t data_off) {
  char from[FS_FLASH_NAME_FIELD] = "";
  if (!log_read(S.active, data_off, from, r->len)) return;
  struct fs_flash_file *file = fs_flash_find(from), *old = fs_flash_find(r->name);
  if (file == NULL) return;
  if (old != NULL && old != file) {
    size_t at = (size_t) (file - S.files);
    log_forget(old);
    if (at == S.nfiles) file = old;  // The last entry moved into old's place
  }
  memcpy(file->name, r->name, sizeof(file->name));
}

static void log_apply(const struct fs_flash_rec *r, size_t off) {
  size_t data_off = off + fs_flash_round(FS_FLASH_REC_HEAD, S.unit);
  struct fs_flash_file *file;
  if (r->kind == FS_FLASH_WRITE) {
    log_apply_write(r, data_off);
  } else if (r->kind == FS_FLASH_REMOVE) {
    if ((file = fs_flash_find(r->name)) != NULL) log_forget(file);
  } else {
    log_apply_rename(r, data_off);
  }
  if ((uint32_t) (r->seq + 1 - S.seq) < 0x80000000UL) S.seq = r->seq + 1;
}

// One record at off: 1 applied or skipped, 0 the end, -1 unreadable from here
static int log_scan_one(size_t *off) {
  uint8_t hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec r;
  size_t room = S.half - *off, n = room < sizeof(hdr) ? room : sizeof(hdr);
  uint32_t crc;
  if (n == 0) return 0;
  if (!log_read(S.active, *off, hdr, n)) return -1;
  int kind = fs_flash_parse(hdr, n, room, S.unit, &r);
  if (kind != FS_FLASH_RECORD) return kind == FS_FLASH_END ? 0 : -1;
  size_t data_off = *off + fs_flash_round(FS_FLASH_REC_HEAD, S.unit);
  if (!log_crc_of(S.active, data_off, r.len, &crc)) return -1;
  if (crc != r.data_crc) {
    MG_ERROR(("flash fs: the record of %s at %lu fails its CRC (cut short, or damaged): ignored", r.name,
              (unsigned long) *off));
  } else {
    log_apply(&r, *off);
  }
  *off += r.size;
  return 1;
}

static void log_scan(void) {
  size_t off = S.start;
  int more;
  S.nfiles = 0;
  while ((more = log_scan_one(&off)) > 0) continue;
  S.end = off;
  if (more < 0) {
    // Not erased, so nothing can be appended there: the next change compacts
    MG_ERROR(("flash fs: bytes at %lu of slot %d are no record (a write cut short): the next write compacts",
              (unsigned long) (log_base(S.active) + off), S.slot));
    S.end = S.half;
  }
}

static bool log_format(void) {
  MG_INFO(("flash fs: no filesystem in slot %d: formatting it, %lu bytes per half", S.slot, (unsigned long) S.half));
  if (!log_erase(0) || !log_half_write(0, 1)) return false;
  S.active = 0, S.epoch = 1;
  return true;
}

// The program unit and the halves (whole sectors each) the flash allows
static bool log_geometry(struct ota_flash *f, int slot) {
  size_t unit = f->write_size == 0 ? 1 : f->write_size;
  size_t sectors = f->sector_size == 0 ? 0 : f->slot_size / f->sector_size;
  if (FS_FLASH_UNIT_MAX % unit != 0 || sectors < 2 || (slot != 0 && slot != 1)) {
    MG_ERROR(("flash fs: slot %d of %lu-byte sectors, %lu-byte program unit: needs slot 0 or 1, 2 sectors or "
              "more, a unit dividing %d",
              slot, (unsigned long) f->sector_size, (unsigned long) unit, FS_FLASH_UNIT_MAX));
    return false;
  }
  S.f = f, S.slot = slot, S.unit = unit;
  S.half = sectors / 2 * f->sector_size;
  S.start = fs_flash_round(FS_FLASH_HALF_HEAD, unit);
  return true;
}

bool fs_flash_mount(struct ota_flash *f, int slot) {
  uint8_t head[2][FS_FLASH_HALF_HEAD];
  uint32_t epoch[2] = {0, 0};
  bool valid[2];
  S.mounted = false;
  S.nfiles = 0, S.seq = 0;
  if (!log_geometry(f, slot)) return false;
  for (int h = 0; h < 2; h++) {
    valid[h] = log_read(h, 0, head[h], sizeof(head[h])) && log_half_parse(head[h], &epoch[h]);
  }
  if (!valid[0] && !valid[1]) {
    if (!log_format()) return false;
  } else {
    // Both valid: a compaction ended before erasing the old half; the newer one wins
    S.active = valid[0] && valid[1] ? (int32_t) (epoch[1] - epoch[0]) > 0 : valid[1];
    S.epoch = epoch[S.active];
  }
  log_scan();
  S.mounted = true;
  return true;
}

// ---------------------------------------------------------------------------
// Writing: a record appended, or the live files and the change into the other half

struct fs_flash_change {
  int kind;
  const char *name, *from;  // from: a rename's old name
  const void *buf;
  size_t len;
};

// Header, whole units of data, then the last partial unit padded with erased bytes
static bool log_put_record(int half, size_t off, const struct fs_flash_rec *r, const void *data) {
  uint8_t stage[FS_FLASH_UNIT_MAX];
  size_t head = fs_flash_round(FS_FLASH_REC_HEAD, S.unit), whole = r->len - r->len % S.unit;
  memset(stage, 0xFF, sizeof(stage));
  fs_flash_encode(r, stage);
  if (!log_write(half, off, stage, head) || !log_write(half, off + head, data, whole)) return false;
  if (whole == r->len) return true;
  memset(stage, 0xFF, sizeof(stage));
  memcpy(stage, (const uint8_t *) data + whole, r->len - whole);
  return log_write(half, off + head + whole, stage, S.unit);
}

// A live file's record into the target half under name: header anew, data as it is
static bool log_copy_file(int to, size_t off, const struct fs_flash_file *file, const char *name) {
  uint8_t chunk[FS_FLASH_UNIT_MAX];
  struct fs_flash_rec r = {FS_FLASH_WRITE, "", file->seq, file->len, file->data_crc, 0};
  size_t head = fs_flash_round(FS_FLASH_REC_HEAD, S.unit), left = fs_flash_round(file->len, S.unit), done = 0;
  mg_snprintf(r.name, sizeof(r.name), "%s", name);
  memset(chunk, 0xFF, sizeof(chunk));
  fs_flash_encode(&r, chunk);
  if (!log_write(to, off, chunk, head)) return false;
  while (done < left) {  // Whole units: the source record's padding comes along
    size_t n = left - done < sizeof(chunk) ? left - done : sizeof(chunk);
    if (!log_read(S.active, file->off + done, chunk, n) || !log_write(to, off + head + done, chunk, n)) return false;
    done += n;
  }
  return true;
}

static size_t log_rec_size(size_t len) {
  return fs_flash_round(FS_FLASH_REC_HEAD, S.unit) + fs_flash_round(len, S.unit);
}

// The name a live file has after the change, NULL if the change drops it
static const char *log_name_after(const struct fs_flash_file *file, const struct fs_flash_change *ch) {
  if (strcmp(file->name, ch->name) == 0) return NULL;  // Replaced, removed, or renamed over
  if (ch->kind == FS_FLASH_RENAME && strcmp(file->name, ch->from) == 0) return ch->name;
  return file->name;
}

static size_t log_compacted_size(const struct fs_flash_change *ch) {
  size_t need = S.start + (ch->kind == FS_FLASH_WRITE ? log_rec_size(ch->len) : 0);
  for (size_t i = 0; i < S.nfiles; i++) {
    if (log_name_after(&S.files[i], ch) != NULL) need += log_rec_size(S.files[i].len);
  }
  return need;
}

// Into the erased other half: the live files as the change leaves them, then the half's
// header, then the old half erased. Cut anywhere, the old half stays the valid one until
// the new header is whole, and the new one is complete from then on.
static bool log_compact(const struct fs_flash_change *ch) {
  int to = !S.active;
  size_t need = log_compacted_size(ch), off = S.start;
  if (need > S.half) {
    MG_ERROR(("flash fs: full: the files would take %lu bytes, a half of slot %d holds %lu: %s not saved",
              (unsigned long) need, S.slot, (unsigned long) S.half, ch->name));
    return false;
  }
  bool ok = log_erase(to);
  for (size_t i = 0; ok && i < S.nfiles; i++) {
    const char *name = log_name_after(&S.files[i], ch);
    if (name == NULL) continue;
    ok = log_copy_file(to, off, &S.files[i], name);
    off += log_rec_size(S.files[i].len);
  }
  if (ok && ch->kind == FS_FLASH_WRITE) {
    struct fs_flash_rec r = {FS_FLASH_WRITE, "", S.seq, (uint32_t) ch->len, 0, 0};
    mg_snprintf(r.name, sizeof(r.name), "%s", ch->name);
    r.data_crc = log_crc((const uint8_t *) ch->buf, ch->len);
    ok = log_put_record(to, off, &r, ch->buf);
  }
  ok = ok && (S.f->sync == NULL || S.f->sync(S.f, S.slot)) && log_half_write(to, S.epoch + 1);
  ok = ok && (S.f->sync == NULL || S.f->sync(S.f, S.slot));
  if (ok && !log_erase(!to)) MG_ERROR(("flash fs: the old half cannot be erased: the next compaction retries"));
  struct ota_flash *f = S.f;
  int slot = S.slot;
  fs_flash_mount(f, slot);  // The table from what the flash now holds, whichever half won
  if (!ok) MG_ERROR(("flash fs: compaction of slot %d failed: %s keeps its old content", slot, ch->name));
  return ok;
}

static bool log_change(const struct fs_flash_change *ch) {
  struct fs_flash_rec r = {ch->kind, "", S.seq, (uint32_t) ch->len, 0, 0};
  if (!S.mounted) {
    MG_ERROR(("flash fs: not mounted (mg_fs_flash_init): %s not saved", ch->name));
    return false;
  }
  mg_snprintf(r.name, sizeof(r.name), "%s", ch->name);
  r.data_crc = log_crc((const uint8_t *) ch->buf, ch->len);
  r.size = log_rec_size(ch->len);
  if (S.end > S.half || r.size > S.half - S.end) return log_compact(ch);
  if (!log_put_record(S.active, S.end, &r, ch->buf) || (S.f->sync != NULL && !S.f->sync(S.f, S.slot))) {
    MG_ERROR(("flash fs: writing %s failed: the file keeps its old content", ch->name));
    S.end = S.half;  // What was written is no record: the next change compacts
    return false;
  }
  log_apply(&r, S.end);
  S.end += r.size;
  return true;
}

bool fs_flash_put(const char *name, const void *buf, size_t len) {
  struct fs_flash_change ch = {FS_FLASH_WRITE, name, NULL, buf, len};
  if (!fs_flash_name_ok(name)) return false;
  if (len > MG_FS_FLASH_FILE_MAX) {
    MG_ERROR(("flash fs: %s: %lu bytes, files are at most %d (MG_FS_FLASH_FILE_MAX): not saved", name,
              (unsigned long) len, MG_FS_FLASH_FILE_MAX));
    return false;
  }
  if (fs_flash_find(name) == NULL && S.nfiles >= MG_FS_FLASH_FILES) {
    MG_ERROR(("flash fs: %s: there are %d files already (MG_FS_FLASH_FILES): not saved", name, MG_FS_FLASH_FILES));
    return false;
  }
  return log_change(&ch);
}

bool fs_flash_remove(const char *name) {
  struct fs_flash_change ch = {FS_FLASH_REMOVE, name, NULL, "", 0};
  return fs_flash_find(name) != NULL && log_change(&ch);
}

bool fs_flash_rename(const char *from, const char *to) {
  struct fs_flash_change ch = {FS_FLASH_RENAME, to, from, from, strlen(from)};
  if (!fs_flash_name_ok(to) || fs_flash_find(from) == NULL) return false;
  if (strcmp(from, to) == 0) return true;
  return log_change(&ch);
}

bool fs_flash_read_at(const struct fs_flash_file *file, size_t pos, void *buf, size_t len) {
  return log_read(S.active, file->off + pos, buf, len);
}
