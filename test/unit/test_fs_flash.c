// The flash filesystem: its record parser on bad and boundary input, files through
// mg_fs_flash over the RAM flash backend, its limits, compaction, and power lost after
// every byte of a write or a compaction (each file then holds its old or its new content).
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "fs/fs_flash.h"

#define SECTOR 512
#define SLOT (2 * SECTOR)  // Two halves of one sector

static uint8_t s_mem[2 * SLOT];
static struct ota_flash s_ram, s_cut;
static long s_budget = -1;  // Bytes the cut flash still writes or erases; -1 no limit
static bool s_half_byte;    // The byte where power goes is half programmed
static size_t s_spent;      // Bytes written or erased since counted

static char s_log[8192];
static size_t s_log_len;
static void log_capture(char ch, void *param) {
  (void) param;
  if (s_log_len + 1 < sizeof(s_log)) s_log[s_log_len++] = ch, s_log[s_log_len] = '\0';
}
static void log_start(void) {
  s_log_len = 0, s_log[0] = '\0';
  mg_log_set_fn(log_capture, NULL);
}

// The flash through which power can fail: after s_budget bytes nothing more happens
static bool cut_erase(struct ota_flash *f, int slot, size_t off, size_t len) {
  (void) f;
  s_spent += len;
  if (s_budget < 0 || (size_t) s_budget >= len) {
    if (s_budget >= 0) s_budget -= (long) len;
    return s_ram.erase(&s_ram, slot, off, len);
  }
  memset(s_mem + (size_t) slot * SLOT + off, 0xFF, (size_t) s_budget);  // Erase stopped part way
  s_budget = 0;
  return false;
}

static bool cut_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  (void) f;
  s_spent += len;
  if (s_budget < 0 || (size_t) s_budget >= len) {
    if (s_budget >= 0) s_budget -= (long) len;
    return s_ram.write(&s_ram, slot, off, buf, len);
  }
  size_t done = (size_t) s_budget;
  if (done > 0) cr_assert(s_ram.write(&s_ram, slot, off, buf, done));
  if (s_half_byte) s_mem[(size_t) slot * SLOT + off + done] &= (uint8_t) (((const uint8_t *) buf)[done] | 0x5A);
  s_budget = 0;
  return false;
}

static bool cut_read(struct ota_flash *f, int slot, size_t off, void *buf, size_t len) {
  (void) f;
  return s_ram.read(&s_ram, slot, off, buf, len);
}

static void setup(void) {
  memset(s_mem, 0xFF, sizeof(s_mem));
  cr_assert(ota_flash_ram_init(&s_ram, s_mem, sizeof(s_mem), SECTOR));
  s_cut = s_ram;
  s_cut.erase = cut_erase, s_cut.write = cut_write, s_cut.read = cut_read;
  s_budget = -1;
  cr_assert(mg_fs_flash_init(&s_cut, 0));
}

static void teardown(void) {
  mg_log_set_fn(NULL, NULL);
  mg_fs_flash_init(NULL, 0);  // Frees what open handles hold
}

TestSuite(fs_flash, .init = setup, .fini = teardown);

static void reboot(void) {
  s_budget = -1;
  cr_assert(mg_fs_flash_init(&s_cut, 0));
}

static bool put(const char *name, const char *text) {
  return mg_fs_write_atomic(&mg_fs_flash, name, text, strlen(text), 0600);
}

// The file's content, "" for none (a static buffer)
static const char *content(const char *name) {
  static char buf[MG_FS_FLASH_FILE_MAX + 1];
  struct mg_str s = mg_file_read(&mg_fs_flash, name);
  if (s.buf == NULL) return mg_fs_flash.st(name, NULL, NULL) ? "(unreadable)" : "";
  mg_snprintf(buf, sizeof(buf), "%.*s", (int) s.len, s.buf);
  mg_free((void *) s.buf);
  return buf;
}

// --- the record parser ---

static struct fs_flash_rec rec(int kind, const char *name, uint32_t len) {
  struct fs_flash_rec r = {kind, "", 7, len, 0x12345678, 0};
  mg_snprintf(r.name, sizeof(r.name), "%s", name);
  return r;
}

Test(fs_flash, parse_round_trips_each_kind_and_rounds_to_the_unit) {
  uint8_t hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec out, in = rec(FS_FLASH_WRITE, "/users.json", 10);
  fs_flash_encode(&in, hdr);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_RECORD);
  cr_assert_str_eq(out.name, "/users.json");
  cr_assert_eq(out.seq, 7);
  cr_assert_eq(out.len, 10);
  cr_assert_eq(out.data_crc, 0x12345678);
  cr_assert_eq(out.size, FS_FLASH_REC_HEAD + 10);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 32, &out), FS_FLASH_RECORD);
  cr_assert_eq(out.size, 96 + 32);
  in = rec(FS_FLASH_REMOVE, "/x", 0);
  fs_flash_encode(&in, hdr);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_RECORD);
  cr_assert_eq(out.kind, FS_FLASH_REMOVE);
  char longest[MG_FS_FLASH_NAME_MAX + 1];
  memset(longest, 'n', MG_FS_FLASH_NAME_MAX);
  longest[MG_FS_FLASH_NAME_MAX] = '\0';
  in = rec(FS_FLASH_RENAME, longest, MG_FS_FLASH_NAME_MAX);
  fs_flash_encode(&in, hdr);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_RECORD);
  cr_assert_str_eq(out.name, longest);
}

Test(fs_flash, parse_reads_erased_bytes_as_the_end_even_short_of_a_header) {
  uint8_t hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec out;
  memset(hdr, 0xFF, sizeof(hdr));
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_END);
  cr_assert_eq(fs_flash_parse(hdr, 10, 10, 1, &out), FS_FLASH_END);  // The half's last bytes
  cr_assert_eq(fs_flash_parse(hdr, 0, 0, 1, &out), FS_FLASH_END);
  hdr[3] = 0;
  cr_assert_eq(fs_flash_parse(hdr, 10, 10, 1, &out), FS_FLASH_BAD, "not erased, and no room for a record");
}

Test(fs_flash, parse_refuses_a_header_torn_at_every_byte_and_every_bit_flip) {
  uint8_t good[FS_FLASH_REC_HEAD], hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec out, in = rec(FS_FLASH_WRITE, "/settings.json", 100);
  fs_flash_encode(&in, good);
  for (size_t k = 1; k < sizeof(good); k++) {
    memcpy(hdr, good, k);
    memset(hdr + k, 0xFF, sizeof(hdr) - k);
    bool same = memcmp(hdr, good, sizeof(hdr)) == 0;  // The rest happened to be 0xFF
    cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), same ? FS_FLASH_RECORD : FS_FLASH_BAD, "k %zu", k);
  }
  for (size_t bit = 0; bit < 8 * sizeof(good); bit++) {
    memcpy(hdr, good, sizeof(hdr));
    hdr[bit / 8] ^= (uint8_t) (1 << (bit % 8));
    cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_BAD, "bit %zu", bit);
  }
}

Test(fs_flash, parse_refuses_a_length_past_the_half_without_wrapping) {
  uint8_t hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec out, in = rec(FS_FLASH_WRITE, "/a", 100);
  fs_flash_encode(&in, hdr);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), FS_FLASH_REC_HEAD + 100, 1, &out), FS_FLASH_RECORD);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), FS_FLASH_REC_HEAD + 99, 1, &out), FS_FLASH_BAD);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), FS_FLASH_REC_HEAD + 100, 8, &out), FS_FLASH_BAD, "rounded: 104");
  in.len = 0xFFFFFFF0u;
  fs_flash_encode(&in, hdr);
  cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1 << 20, 32, &out), FS_FLASH_BAD);
}

Test(fs_flash, parse_refuses_bad_kinds_names_and_lengths_with_a_good_crc) {
  uint8_t hdr[FS_FLASH_REC_HEAD];
  struct fs_flash_rec out;
  struct fs_flash_rec bad[] = {rec(0, "/a", 1), rec(4, "/a", 1), rec(FS_FLASH_REMOVE, "/a", 1),
                               rec(FS_FLASH_RENAME, "/a", 0), rec(FS_FLASH_RENAME, "/a", MG_FS_FLASH_NAME_MAX + 1),
                               rec(FS_FLASH_WRITE, "", 1)};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    fs_flash_encode(&bad[i], hdr);
    cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_BAD, "case %zu", i);
  }
  // A NUL inside the name, or bytes after it, with the CRC made good again
  struct fs_flash_rec r = rec(FS_FLASH_WRITE, "/abc", 1);
  for (int i = 0; i < 2; i++) {
    fs_flash_encode(&r, hdr);
    hdr[20 + (i == 0 ? 2 : 10)] = i == 0 ? 0 : 'x';
    uint32_t crc = mg_crc32(0, (const char *) hdr, FS_FLASH_REC_HEAD - 4);
    for (int b = 0; b < 4; b++) hdr[FS_FLASH_REC_HEAD - 4 + b] = (uint8_t) (crc >> (8 * b));
    cr_assert_eq(fs_flash_parse(hdr, sizeof(hdr), 1000, 1, &out), FS_FLASH_BAD, "name case %d", i);
  }
}

// --- files ---

Test(fs_flash, files_write_read_list_rename_remove_and_survive_a_reboot) {
  cr_assert(put("/data/a.json", "{\"a\":1}"));
  cr_assert(put("/data/b.json", "bee"));
  cr_assert(put("/top", ""));
  size_t size = 99;
  cr_assert_eq(mg_fs_flash.st("/data/a.json", &size, NULL), MG_FS_READ | MG_FS_WRITE);
  cr_assert_eq(size, 7);
  cr_assert(mg_fs_flash.st("/data", NULL, NULL) & MG_FS_DIR);
  cr_assert_eq(mg_fs_flash.st("/dat", NULL, NULL), 0);
  char name[64] = "";
  cr_assert(mg_fs_ls(&mg_fs_flash, "/data", name, sizeof(name)));
  cr_assert_str_eq(name, "a.json");
  cr_assert(mg_fs_ls(&mg_fs_flash, "/data", name, sizeof(name)));
  cr_assert_str_eq(name, "b.json");
  cr_assert_not(mg_fs_ls(&mg_fs_flash, "/data", name, sizeof(name)));
  name[0] = '\0';
  cr_assert(mg_fs_ls(&mg_fs_flash, "/", name, sizeof(name)));
  cr_assert_str_eq(name, "data", "a directory is listed once");
  cr_assert(mg_fs_ls(&mg_fs_flash, "/", name, sizeof(name)));
  cr_assert_str_eq(name, "top");
  cr_assert_not(mg_fs_ls(&mg_fs_flash, "/", name, sizeof(name)));

  cr_assert(mg_fs_flash.mv("/data/a.json", "/data/b.json"));
  cr_assert_not(mg_fs_flash.mv("/nothing", "/x"));
  cr_assert(mg_fs_flash.rm("/top"));
  cr_assert_not(mg_fs_flash.rm("/top"));
  reboot();
  cr_assert_str_eq(content("/data/b.json"), "{\"a\":1}");
  cr_assert_eq(mg_fs_flash.st("/data/a.json", NULL, NULL), 0);
  cr_assert_eq(mg_fs_flash.st("/top", NULL, NULL), 0);
}

Test(fs_flash, a_file_open_for_writing_is_saved_at_close_only) {
  cr_assert(put("/f", "old"));
  void *fd = mg_fs_flash.op("/f", MG_FS_WRITE);
  cr_assert_not_null(fd);
  cr_assert_eq(mg_fs_flash.wr(fd, "new ", 4), 4);
  cr_assert_eq(mg_fs_flash.wr(fd, "content", 7), 7);
  cr_assert_str_eq(content("/f"), "old", "not before close");
  mg_fs_flash.cl(fd);
  cr_assert_str_eq(content("/f"), "new content");
  fd = mg_fs_flash.op("/f", MG_FS_READ | MG_FS_WRITE);  // Starts from the content
  cr_assert_eq(mg_fs_flash.sk(fd, 4), 4);
  cr_assert_eq(mg_fs_flash.wr(fd, "CONTENT", 7), 7);
  mg_fs_flash.cl(fd);
  cr_assert_str_eq(content("/f"), "new CONTENT");
  cr_assert_null(mg_fs_flash.op("/f", MG_FS_WRITE | MG_FS_EXCL));
  cr_assert_null(mg_fs_flash.op("/absent", MG_FS_READ));
}

Test(fs_flash, limits_are_refused_with_a_log_line_and_nothing_changes) {
  static char big[MG_FS_FLASH_FILE_MAX + 1];
  char name[MG_FS_FLASH_NAME_MAX + 2];
  memset(name, 'n', sizeof(name) - 1);
  name[0] = '/', name[sizeof(name) - 1] = '\0';
  cr_assert(put("/f", "old"));
  log_start();
  cr_assert_not(put(name, "x"));
  cr_assert(strstr(s_log, "MG_FS_FLASH_NAME_MAX") != NULL, "%s", s_log);
  cr_assert_null(mg_fs_flash.op(name, MG_FS_WRITE));
  void *fd = mg_fs_flash.op("/f", MG_FS_WRITE);
  cr_assert_eq(mg_fs_flash.wr(fd, big, MG_FS_FLASH_FILE_MAX), MG_FS_FLASH_FILE_MAX);
  cr_assert_eq(mg_fs_flash.wr(fd, "x", 1), 0);
  mg_fs_flash.cl(fd);
  cr_assert(strstr(s_log, "grows past MG_FS_FLASH_FILE_MAX") != NULL, "%s", s_log);
  cr_assert_str_eq(content("/f"), "old");
  cr_assert_not(mg_fs_write_atomic(&mg_fs_flash, "/f", big, sizeof(big), 0));
  cr_assert(strstr(s_log, "files are at most") != NULL, "%s", s_log);
  void *fds[MG_FS_FLASH_OPEN];
  for (int i = 0; i < MG_FS_FLASH_OPEN; i++) cr_assert_not_null(fds[i] = mg_fs_flash.op("/f", MG_FS_READ));
  cr_assert_null(mg_fs_flash.op("/f", MG_FS_READ));
  cr_assert(strstr(s_log, "MG_FS_FLASH_OPEN") != NULL, "%s", s_log);
  for (int i = 0; i < MG_FS_FLASH_OPEN; i++) mg_fs_flash.cl(fds[i]);
  mg_log_set_fn(NULL, NULL);
}

Test(fs_flash, too_many_files_and_a_full_half_are_refused) {
  char name[16];
  for (int i = 1; i < MG_FS_FLASH_FILES && i < 5; i++) {
    mg_snprintf(name, sizeof(name), "/%d", i);
    cr_assert(put(name, "1"));
  }
  cr_assert(put("/f", "old"));
  static char fill[SECTOR];
  memset(fill, 'z', sizeof(fill));
  log_start();
  cr_assert_not(mg_fs_write_atomic(&mg_fs_flash, "/f", fill, SECTOR - 100, 0));
  cr_assert(strstr(s_log, "full") != NULL, "%s", s_log);
  mg_log_set_fn(NULL, NULL);
  reboot();
  cr_assert_str_eq(content("/f"), "old");
  cr_assert_str_eq(content("/1"), "1");
}

Test(fs_flash, many_files_hit_the_file_limit) {
  struct ota_flash big;
  static uint8_t mem[2 * 16 * 1024];
  memset(mem, 0xFF, sizeof(mem));
  cr_assert(ota_flash_ram_init(&big, mem, sizeof(mem), 1024));
  cr_assert(mg_fs_flash_init(&big, 1));
  char name[16];
  for (int i = 0; i < MG_FS_FLASH_FILES; i++) {
    mg_snprintf(name, sizeof(name), "/%d", i);
    cr_assert(put(name, "x"), "%d", i);
  }
  log_start();
  cr_assert_not(put("/one-more", "x"));
  cr_assert(strstr(s_log, "MG_FS_FLASH_FILES") != NULL, "%s", s_log);
  cr_assert(put("/0", "replaced"), "an existing file can still be replaced");
  mg_log_set_fn(NULL, NULL);
}

Test(fs_flash, refuses_a_slot_of_one_sector_and_a_unit_it_cannot_stage) {
  struct ota_flash small;
  static uint8_t mem[2 * SECTOR];
  cr_assert(ota_flash_ram_init(&small, mem, sizeof(mem), SECTOR));
  cr_assert_not(mg_fs_flash_init(&small, 0));
  cr_assert(ota_flash_ram_init(&small, mem, sizeof(mem), SECTOR / 2));
  small.write_size = 3;
  cr_assert_not(mg_fs_flash_init(&small, 0));
  small.write_size = 32;
  cr_assert(mg_fs_flash_init(&small, 1));
}

Test(fs_flash, rewrites_compact_and_a_reader_follows_its_file) {
  char text[40];
  cr_assert(put("/keep", "kept"));
  void *fd = mg_fs_flash.op("/keep", MG_FS_READ);
  char got[8] = "";
  cr_assert_eq(mg_fs_flash.rd(fd, got, 2), 2);
  for (int i = 0; i < 50; i++) {  // Far more than a half holds
    mg_snprintf(text, sizeof(text), "value %d", i);
    cr_assert(put("/often", text), "%d", i);
  }
  cr_assert_eq(mg_fs_flash.rd(fd, got + 2, 6), 2, "the reader finds its record after compactions");
  cr_assert_str_eq(got, "kept");
  mg_fs_flash.cl(fd);
  reboot();
  cr_assert_str_eq(content("/often"), "value 49");
  cr_assert_str_eq(content("/keep"), "kept");
}

Test(fs_flash, a_record_failing_its_crc_is_ignored_with_a_log_line) {
  cr_assert(put("/f", "first"));
  size_t at = fs_flash_state.end;
  cr_assert(put("/f", "second"));
  s_mem[at + FS_FLASH_REC_HEAD + 1] = 'X';  // Its data, in RAM as on a failing chip
  log_start();
  reboot();
  mg_log_set_fn(NULL, NULL);
  cr_assert(strstr(s_log, "fails its CRC") != NULL, "%s", s_log);
  cr_assert_str_eq(content("/f"), "first");
  cr_assert(put("/g", "after"), "records after it are appended as before");
  reboot();
  cr_assert_str_eq(content("/g"), "after");
}

// --- power lost at every byte ---

// What each file may hold after the cut: the old content or the new one ("" absent)
struct expect {
  const char *name, *old, *new_;
};

static void check_after_cut(const struct expect *e, size_t n, size_t k, int half) {
  for (size_t i = 0; i < n; i++) {
    const char *got = content(e[i].name);
    cr_assert(strcmp(got, e[i].old) == 0 || strcmp(got, e[i].new_) == 0, "cut at %zu (half byte %d): %s holds '%s'",
              k, half, e[i].name, got);
  }
  // And the filesystem goes on: a torn tail is compacted away at the next write (the
  // last file, always there, written again: a full half stays full, nothing more)
  static char last[64];
  mg_snprintf(last, sizeof(last), "%s", content(e[n - 1].name));
  cr_assert(put(e[n - 1].name, last), "cut at %zu", k);
  reboot();
  cr_assert_str_eq(content(e[n - 1].name), last, "cut at %zu", k);
  for (size_t i = 0; i < n; i++) {
    const char *got = content(e[i].name);
    cr_assert(strcmp(got, e[i].old) == 0 || strcmp(got, e[i].new_) == 0, "cut at %zu, then a write: %s '%s'", k,
              e[i].name, got);
  }
}

// Runs op from the state in s_mem, cut after every byte count it writes or erases
static void cut_everywhere(void (*op)(void), const struct expect *e, size_t n) {
  static uint8_t before[sizeof(s_mem)];
  memcpy(before, s_mem, sizeof(s_mem));
  reboot();
  s_spent = 0;
  op();
  size_t total = s_spent;
  cr_assert_gt(total, 0);
  mg_log_set_fn(log_capture, NULL);  // Quiet: each cut logs
  for (size_t k = 0; k <= total; k++) {
    for (int half = 0; half < 2; half++) {
      memcpy(s_mem, before, sizeof(s_mem));
      reboot();
      s_half_byte = half, s_budget = (long) k;
      op();
      s_log_len = 0;
      reboot();
      check_after_cut(e, n, k, half);
    }
  }
  mg_log_set_fn(NULL, NULL);
}

static void op_write_a(void) {
  mg_fs_write_atomic(&mg_fs_flash, "/a", "the new content of a", 20, 0);
}
static void op_remove_a(void) {
  mg_fs_flash.rm("/a");
}
static void op_rename_a(void) {
  mg_fs_flash.mv("/a", "/b");
}

static void fill_until_full(size_t room) {
  char text[24];
  for (int i = 0; fs_flash_state.end + room <= fs_flash_state.half; i++) {
    mg_snprintf(text, sizeof(text), "filler %d", i);
    cr_assert(put("/c", text));
  }
}

Test(fs_flash, power_lost_during_an_appended_write_leaves_old_or_new) {
  cr_assert(put("/a", "old a"));
  cr_assert(put("/b", "bee"));
  struct expect e[] = {{"/a", "old a", "the new content of a"}, {"/b", "bee", "bee"}};
  cut_everywhere(op_write_a, e, 2);
}

static void compaction_cut_everywhere(size_t unit) {
  s_cut.write_size = unit;
  memset(s_mem, 0xFF, sizeof(s_mem));
  reboot();
  cr_assert(put("/a", "old a"));
  cr_assert(put("/b", "bee"));
  fill_until_full(fs_flash_round(FS_FLASH_REC_HEAD, unit) + fs_flash_round(20, unit));
  const char *c = content("/c");
  static char c_now[24];
  mg_snprintf(c_now, sizeof(c_now), "%s", c);
  uint32_t epoch = fs_flash_state.epoch;
  op_write_a();
  cr_assert_eq(fs_flash_state.epoch, epoch + 1, "the write compacted");
  cr_assert_str_eq(content("/a"), "the new content of a");
  // Start again from the full half
  memset(s_mem, 0xFF, sizeof(s_mem));
  reboot();
  cr_assert(put("/a", "old a"));
  cr_assert(put("/b", "bee"));
  fill_until_full(fs_flash_round(FS_FLASH_REC_HEAD, unit) + fs_flash_round(20, unit));
  struct expect e[] = {{"/a", "old a", "the new content of a"}, {"/b", "bee", "bee"}, {"/c", c_now, c_now}};
  cut_everywhere(op_write_a, e, 3);
}

Test(fs_flash, power_lost_during_a_compaction_leaves_old_or_new) {
  compaction_cut_everywhere(1);
}

Test(fs_flash, power_lost_during_a_compaction_in_32_byte_units_leaves_old_or_new) {
  compaction_cut_everywhere(32);
}

Test(fs_flash, power_lost_during_a_remove_or_a_rename_leaves_old_or_new) {
  static uint8_t start[sizeof(s_mem)];
  cr_assert(put("/a", "old a"));
  cr_assert(put("/b", "bee"));
  memcpy(start, s_mem, sizeof(s_mem));
  struct expect rm[] = {{"/a", "old a", ""}, {"/b", "bee", "bee"}};
  cut_everywhere(op_remove_a, rm, 2);
  memcpy(s_mem, start, sizeof(s_mem));
  struct expect mv[] = {{"/a", "old a", ""}, {"/b", "bee", "old a"}};
  cut_everywhere(op_rename_a, mv, 2);
  // Either moved or not: never two copies, never none
  mg_log_set_fn(log_capture, NULL);
  for (long k = 0; k < 150; k++) {
    s_log_len = 0;
    memcpy(s_mem, start, sizeof(s_mem));
    reboot();
    s_budget = k;
    op_rename_a();
    reboot();
    bool moved = strcmp(content("/b"), "old a") == 0;
    cr_assert_eq(moved, strcmp(content("/a"), "") == 0, "cut at %ld", k);
  }
}
