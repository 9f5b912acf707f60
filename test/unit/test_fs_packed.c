// Packed filesystem over a hand-made table: lookup with normalisation, implied
// directories, listing, and reads of stored and gzip entries in any piece size.
#include <criterion/criterion.h>
#include "meerkat.h"


// Made with Python's gzip, zlib and struct modules:
//   lines = "".join("line %d: the quick brown fox jumps over the lazy dog\n" % i for i in range(200))
//   test_lines_gz = gzip.compress(lines.encode(), 9, mtime=0)
//   text = b"stored block text, " * 16; stored = lambda final, d: bytes([final]) + struct.pack("<HH", len(d), len(d) ^ 0xffff) + d
//   test_stored_gz = bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]) + stored(0, text[:100]) + stored(1, text[100:])
//                    + struct.pack("<II", zlib.crc32(text), len(text))
static const unsigned char test_lines_gz[576] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x9d, 0xda, 0xcb, 0x71, 0x13, 0x41,
    0x00, 0x45, 0xd1, 0x3d, 0x51, 0x4c, 0x08, 0xf3, 0xfa, 0xdf, 0x64, 0xc3, 0x47, 0x80, 0x41, 0x58,
    0x60, 0x63, 0xc0, 0x8e, 0x9e, 0x82, 0x0c, 0x38, 0x6b, 0xd5, 0x5b, 0xe9, 0x94, 0x34, 0x73, 0xbb,
    0xaf, 0x77, 0xf7, 0x97, 0xe3, 0x7c, 0x7d, 0xfc, 0xf8, 0x74, 0x39, 0xbe, 0x3f, 0xdd, 0xbd, 0xfb,
    0x72, 0xbc, 0x7d, 0xb8, 0xfd, 0xba, 0x3f, 0x3e, 0xdc, 0x7e, 0x1f, 0x9f, 0x9f, 0xbe, 0x7e, 0x7b,
    0x3c, 0x6e, 0x3f, 0x2f, 0x0f, 0xff, 0x3e, 0xbe, 0xbe, 0x79, 0x79, 0x3e, 0xde, 0xdf, 0x3e, 0xbe,
    0xba, 0xfe, 0xdd, 0x04, 0x36, 0x05, 0x36, 0x15, 0x36, 0x0d, 0x36, 0x1d, 0x36, 0x03, 0x36, 0x13,
    0x36, 0x0b, 0x36, 0x5b, 0xbe, 0x53, 0x82, 0x20, 0x12, 0x22, 0x14, 0x22, 0x16, 0x22, 0x18, 0x22,
    0x1a, 0x22, 0x1c, 0x22, 0x1e, 0x22, 0x20, 0x22, 0x22, 0x8a, 0x88, 0x28, 0xf4, 0xdb, 0x20, 0x22,
    0x8a, 0x88, 0x28, 0x22, 0xa2, 0x88, 0x88, 0x22, 0x22, 0x8a, 0x88, 0x28, 0x22, 0xa2, 0x88, 0x88,
    0x2a, 0x22, 0xaa, 0x88, 0xa8, 0xf4, 0x77, 0x21, 0x22, 0xaa, 0x88, 0xa8, 0x22, 0xa2, 0x8a, 0x88,
    0x2a, 0x22, 0xaa, 0x88, 0xa8, 0x22, 0xa2, 0x89, 0x88, 0x26, 0x22, 0x9a, 0x88, 0x68, 0xf4, 0x04,
    0x21, 0x22, 0x9a, 0x88, 0x68, 0x22, 0xa2, 0x89, 0x88, 0x26, 0x22, 0x9a, 0x88, 0xe8, 0x22, 0xa2,
    0x8b, 0x88, 0x2e, 0x22, 0xba, 0x88, 0xe8, 0xf4, 0x50, 0x29, 0x22, 0xba, 0x88, 0xe8, 0x22, 0xa2,
    0x8b, 0x88, 0x2e, 0x22, 0x86, 0x88, 0x18, 0x22, 0x62, 0x88, 0x88, 0x21, 0x22, 0x86, 0x88, 0x18,
    0xf4, 0x9e, 0x21, 0x22, 0x86, 0x88, 0x18, 0x22, 0x62, 0x88, 0x88, 0x29, 0x22, 0xa6, 0x88, 0x98,
    0x22, 0x62, 0x8a, 0x88, 0x29, 0x22, 0xa6, 0x88, 0x98, 0xf4, 0xea, 0x29, 0x22, 0xa6, 0x88, 0x98,
    0x22, 0x62, 0x89, 0x88, 0x25, 0x22, 0x96, 0x88, 0x58, 0x22, 0x62, 0x89, 0x88, 0x25, 0x22, 0x96,
    0x88, 0x58, 0x54, 0x23, 0x44, 0xc4, 0x12, 0x11, 0x5b, 0x44, 0x6c, 0x11, 0xb1, 0x45, 0xc4, 0x16,
    0x11, 0x5b, 0x44, 0x6c, 0x11, 0xb1, 0x45, 0xc4, 0x16, 0x11, 0x9b, 0x02, 0x95, 0x15, 0x2a, 0x4a,
    0x54, 0x27, 0x35, 0xaa, 0x93, 0x22, 0xd5, 0x49, 0x95, 0xea, 0xa4, 0x4c, 0x75, 0x52, 0xa7, 0x3a,
    0x29, 0x54, 0x9d, 0x54, 0xaa, 0x4e, 0x4a, 0x55, 0x27, 0xd9, 0xc0, 0x7c, 0x49, 0x36, 0x2c, 0x60,
    0x5a, 0xc1, 0xb4, 0x84, 0x69, 0x0d, 0xd3, 0x22, 0xa6, 0x55, 0x4c, 0xcb, 0x98, 0xd4, 0x31, 0x43,
    0x21, 0x33, 0xc5, 0xda, 0x36, 0xd9, 0xa0, 0x96, 0x19, 0x8a, 0x99, 0xa1, 0x9a, 0x19, 0xca, 0x99,
    0xa1, 0x9e, 0x19, 0x0a, 0x9a, 0xa1, 0xa2, 0x19, 0x4a, 0x9a, 0xa1, 0xa6, 0x99, 0x6a, 0x07, 0x1f,
    0x64, 0x83, 0xb2, 0x66, 0xa8, 0x6b, 0x86, 0xc2, 0x66, 0xa8, 0x6c, 0x86, 0xd2, 0x66, 0xa8, 0x6d,
    0x86, 0xe2, 0x66, 0xa8, 0x6e, 0x86, 0xf2, 0x66, 0x9a, 0x9d, 0x8a, 0x91, 0x0d, 0x2a, 0x9c, 0xa1,
    0xc4, 0x19, 0x6a, 0x9c, 0xa1, 0xc8, 0x19, 0xaa, 0x9c, 0xa1, 0xcc, 0x19, 0xea, 0x9c, 0xa1, 0xd0,
    0x19, 0x2a, 0x9d, 0xe9, 0x76, 0x64, 0x4a, 0x36, 0x28, 0x76, 0x86, 0x6a, 0x67, 0x28, 0x77, 0x86,
    0x7a, 0x67, 0x28, 0x78, 0x86, 0x8a, 0x67, 0x28, 0x79, 0x86, 0x9a, 0x67, 0x28, 0x7a, 0x66, 0xd8,
    0x79, 0x3a, 0xd9, 0xa0, 0xee, 0x19, 0x0a, 0x9f, 0xa1, 0xf2, 0x19, 0x4a, 0x9f, 0xa1, 0xf6, 0x19,
    0x8a, 0x9f, 0xa1, 0xfa, 0x19, 0xca, 0x9f, 0xa1, 0xfe, 0x99, 0x69, 0x97, 0x2d, 0xc8, 0x06, 0x25,
    0xd0, 0x50, 0x03, 0x0d, 0x45, 0xd0, 0x50, 0x05, 0x0d, 0x65, 0xd0, 0x50, 0x07, 0x0d, 0x85, 0xd0,
    0x50, 0x09, 0x0d, 0xa5, 0xd0, 0x2c, 0xbb, 0x89, 0x43, 0x36, 0xa8, 0x86, 0x86, 0x72, 0x68, 0xa8,
    0x87, 0x86, 0x82, 0x68, 0xa8, 0x88, 0x86, 0x92, 0x68, 0xa8, 0x89, 0x86, 0xa2, 0x68, 0xa8, 0x8a,
    0x66, 0xdb, 0x35, 0xad, 0xff, 0xb4, 0xf1, 0x07, 0xf3, 0x2d, 0x39, 0xf2, 0xc2, 0x29, 0x00, 0x00,
};

static const unsigned char test_stored_gz[332] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x64, 0x00, 0x9b, 0xff, 0x73,
    0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74,
    0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74,
    0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63,
    0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62,
    0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65,
    0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74,
    0x6f, 0x72, 0x65, 0x01, 0xcc, 0x00, 0x33, 0xff, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20,
    0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f,
    0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20,
    0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72,
    0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73,
    0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74,
    0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74,
    0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63,
    0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62,
    0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74, 0x6f, 0x72, 0x65,
    0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c, 0x20, 0x73, 0x74,
    0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65, 0x78, 0x74, 0x2c,
    0x20, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x64, 0x20, 0x62, 0x6c, 0x6f, 0x63, 0x6b, 0x20, 0x74, 0x65,
    0x78, 0x74, 0x2c, 0x20, 0x5e, 0xf1, 0x43, 0xff, 0x30, 0x01, 0x00, 0x00,
};


// The original of test_lines_gz: 200 numbered lines
static char *test_lines(size_t *len) {
  size_t cap = 16384, n = 0;
  char *buf = malloc(cap);
  for (int i = 0; i < 200; i++)
    n += (size_t) snprintf(buf + n, cap - n, "line %d: the quick brown fox jumps over the lazy dog\n", i);
  *len = n;
  return buf;
}

static char *test_stored_text(size_t *len) {
  char *buf = malloc(16 * 19 + 1);
  buf[0] = '\0';
  for (int i = 0; i < 16; i++) strcat(buf, "stored block text, ");
  *len = 16 * 19;
  return buf;
}

#define TEST_BYTES(s) (const unsigned char *) (s), sizeof(s) - 1, sizeof(s) - 1
static const struct mg_packed_file test_files[] = {
    {"/Case.txt", TEST_BYTES("Upper"), 0, "text/plain; charset=utf-8", "\"c1\"", false, false},
    {"/a/b-c", TEST_BYTES("dash"), 0, "application/octet-stream", "\"c2\"", false, false},
    {"/a/b.txt", TEST_BYTES("dot"), 0, "text/plain; charset=utf-8", "\"c3\"", false, false},
    {"/a/b/c.txt", TEST_BYTES("hello, world\n"), 1700000000, "text/plain; charset=utf-8", "\"c4\"", false, false},
    {"/a/b/d.txt", TEST_BYTES("0123456789"), 0, "text/plain; charset=utf-8", "\"c5\"", false, false},
    {"/a/b0", TEST_BYTES("zero"), 0, "application/octet-stream", "\"c6\"", false, false},
    {"/broken.gz", (const unsigned char *) "this is not gzip", 16, 100, 0, "text/plain", "\"c7\"", true, false},
    {"/empty", (const unsigned char *) "", 0, 0, 0, "application/octet-stream", "\"c8\"", false, false},
    {"/index.html", test_lines_gz, sizeof(test_lines_gz), 10690, 0, "text/html; charset=utf-8", "\"c9\"", true, false},
    {"/stored.txt", test_stored_gz, sizeof(test_stored_gz), 304, 0, "text/plain; charset=utf-8", "\"ca\"", true, false},
    {"/trunc.txt", test_stored_gz, 150, 304, 0, "text/plain; charset=utf-8", "\"cb\"", true, false},
};
static const struct mg_packed_table test_table = {test_files, sizeof(test_files) / sizeof(test_files[0])};

// Reads fd to its end in pieces of piece bytes; returns a malloc'd buffer
static char *test_read_all(void *fd, size_t piece, size_t *len) {
  size_t cap = 65536, n = 0, got;
  char *buf = malloc(cap);
  while (n + piece <= cap && (got = mg_packed_read(fd, buf + n, piece)) > 0) {
    cr_assert_leq(got, piece);
    n += got;
  }
  *len = n;
  return buf;
}

Test(fs_packed, table_under_test_is_sorted) {
  for (size_t i = 1; i < test_table.count; i++)
    cr_assert_lt(strcmp(test_files[i - 1].path, test_files[i].path), 0, "%s", test_files[i].path);
}

Test(fs_packed, finds_every_path_in_the_table) {
  for (size_t i = 0; i < test_table.count; i++)
    cr_assert_eq(mg_packed_find(&test_table, test_files[i].path), &test_files[i], "%s", test_files[i].path);
}

Test(fs_packed, normalises_the_path_before_looking_up) {
  static const struct {
    const char *in;
    size_t index;
  } cases[] = {
      {"//a/./b/c.txt", 3},  {"/a/x/../b/c.txt", 3}, {"/a/b/./c.txt", 3},      {"/a//b//c.txt", 3},
      {"\\a\\b\\c.txt", 3},  {"/x/../index.html", 8}, {"/a/b/../../empty", 7}, {"/./Case.txt", 0},
      {"/a/../a/b0", 5},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    cr_assert_eq(mg_packed_find(&test_table, cases[i].in), &test_files[cases[i].index], "%s", cases[i].in);
}

Test(fs_packed, finds_nothing_for_climbing_relative_or_missing_paths) {
  static const char *bad[] = {
      "/../index.html", "/a/../../index.html", "..", "/..", "", "index.html", "a/b/c.txt",
      "/a/b/c.txt/", "/a/b/c.txt/.", "/a/b", "/a/b/", "/a", "/", "/a/b/c", "/a/b/c.tx", "/a/b/c.txtx",
      "/case.txt", "/CASE.TXT", "/Index.html", "/nothing", "/a/b-", "/a/b.", "/a/b/c.txt\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    cr_assert_null(mg_packed_find(&test_table, bad[i]), "%s", bad[i]);
  cr_assert_null(mg_packed_find(&test_table, NULL));
  cr_assert_null(mg_packed_find(NULL, "/index.html"));
  struct mg_packed_table empty = {NULL, 0};
  cr_assert_null(mg_packed_find(&empty, "/index.html"));
}

Test(fs_packed, paths_longer_than_the_limit_find_nothing) {
  char path[MG_PATH_MAX + 8];
  memset(path, 'a', sizeof(path));
  path[0] = '/';
  path[sizeof(path) - 1] = '\0';
  cr_assert_null(mg_packed_find(&test_table, path));
  cr_assert_eq(mg_packed_stat(&test_table, path, NULL, NULL), 0);
  // Slashes up to the limit: a path that would normalise short is still refused when too long
  char padded[MG_PATH_MAX + 1];
  memset(padded, '/', sizeof(padded));
  strcpy(padded + MG_PATH_MAX - 1 - strlen("empty"), "empty");
  cr_assert_eq(strlen(padded), MG_PATH_MAX - 1);
  cr_assert_eq(mg_packed_find(&test_table, padded), &test_files[7]);
  memset(padded, '/', sizeof(padded));
  strcpy(padded + MG_PATH_MAX - strlen("empty"), "empty");
  cr_assert_eq(strlen(padded), MG_PATH_MAX);
  cr_assert_null(mg_packed_find(&test_table, padded));
}

Test(fs_packed, stat_gives_file_size_and_mtime) {
  size_t size = 1;
  time_t mtime = 1;
  cr_assert_eq(mg_packed_stat(&test_table, "/a/b/c.txt", &size, &mtime), MG_FS_READ);
  cr_assert_eq(size, 13);
  cr_assert_eq(mtime, 1700000000);
  cr_assert_eq(mg_packed_stat(&test_table, "/index.html", &size, &mtime), MG_FS_READ);
  cr_assert_eq(size, 10690, "the original size, not the stored one");
  cr_assert_eq(mtime, 0);
  cr_assert_eq(mg_packed_stat(&test_table, "/empty", &size, NULL), MG_FS_READ);
  cr_assert_eq(size, 0);
  cr_assert_eq(mg_packed_stat(&test_table, "//a/./b/d.txt", NULL, NULL), MG_FS_READ);
}

Test(fs_packed, stat_sees_directories_implied_by_paths) {
  static const char *dirs[] = {"/", "//", "/.", "/a", "/a/", "/a/b", "/a/b/", "/a//b/.", "/x/../a"};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
    size_t size = 7;
    cr_assert_eq(mg_packed_stat(&test_table, dirs[i], &size, NULL), MG_FS_DIR | MG_FS_READ, "%s", dirs[i]);
    cr_assert_eq(size, 0);
  }
  static const char *absent[] = {"/A",      "/a/b/c",   "/a/b/c.txt/", "/a/b-c/", "/a/b.", "/a/b/x",
                                 "/nothing", "/../a", "/a/../..",    "",        "a",     "/Case.txt/"};
  for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
    cr_assert_eq(mg_packed_stat(&test_table, absent[i], NULL, NULL), 0, "%s", absent[i]);
  cr_assert_eq(mg_packed_stat(&test_table, NULL, NULL, NULL), 0);
  struct mg_packed_table empty = {test_files, 0};
  cr_assert_eq(mg_packed_stat(&empty, "/", NULL, NULL), 0, "an empty table has no root");
}

struct test_names {
  char buf[512];
  int count;
};

static void test_collect(const char *name, void *arg) {
  struct test_names *n = arg;
  n->count++;
  strcat(n->buf, name);
  strcat(n->buf, "|");
}

static const char *test_list(const struct mg_packed_table *t, const char *dir) {
  static struct test_names names;
  memset(&names, 0, sizeof(names));
  mg_packed_list(t, dir, test_collect, &names);
  return names.buf;
}

Test(fs_packed, lists_each_immediate_child_once) {
  cr_assert_str_eq(test_list(&test_table, "/"),
                   "Case.txt|a|broken.gz|empty|index.html|stored.txt|trunc.txt|");
  cr_assert_str_eq(test_list(&test_table, "/a"), "b-c|b.txt|b|b0|");
  cr_assert_str_eq(test_list(&test_table, "/a/"), "b-c|b.txt|b|b0|");
  cr_assert_str_eq(test_list(&test_table, "//a/./b/"), "c.txt|d.txt|");
  cr_assert_str_eq(test_list(&test_table, "/a/b/../b"), "c.txt|d.txt|");
}

Test(fs_packed, lists_nothing_for_files_missing_or_bad_dirs) {
  static const char *none[] = {"/a/b/c.txt", "/a/b/c", "/nothing", "/a/b-", "/../a", "", "a", "/A"};
  for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
    cr_assert_str_eq(test_list(&test_table, none[i]), "", "%s", none[i]);
  cr_assert_str_eq(test_list(&test_table, NULL), "");
  cr_assert_str_eq(test_list(NULL, "/"), "");
  mg_packed_list(&test_table, "/", NULL, NULL);  // No callback: nothing to do, no crash
}

Test(fs_packed, open_refuses_writes_directories_and_missing_files) {
  cr_assert_null(mg_packed_open(&test_table, "/a/b/c.txt", MG_FS_WRITE));
  cr_assert_null(mg_packed_open(&test_table, "/a/b/c.txt", MG_FS_READ | MG_FS_WRITE));
  cr_assert_null(mg_packed_open(&test_table, "/a/b", MG_FS_READ));
  cr_assert_null(mg_packed_open(&test_table, "/", MG_FS_READ));
  cr_assert_null(mg_packed_open(&test_table, "/nothing", MG_FS_READ));
  cr_assert_null(mg_packed_open(&test_table, "/../a/b/c.txt", MG_FS_READ));
  mg_packed_close(NULL);
  cr_assert_eq(mg_packed_read(NULL, (char[4]){0}, 4), 0);
  cr_assert_eq(mg_packed_seek(NULL, 4), 0);
}

Test(fs_packed, reads_a_stored_file_whole_and_byte_by_byte) {
  for (size_t piece = 1; piece <= 20; piece += 19) {
    void *fd = mg_packed_open(&test_table, "//a/b/c.txt", MG_FS_READ);
    cr_assert_not_null(fd);
    size_t len;
    char *got = test_read_all(fd, piece, &len);
    cr_assert_eq(len, 13);
    cr_assert_arr_eq(got, "hello, world\n", 13);
    cr_assert_eq(mg_packed_read(fd, got, 1), 0, "end of file stays at the end");
    free(got);
    mg_packed_close(fd);
  }
  void *fd = mg_packed_open(&test_table, "/empty", 0);
  char c;
  cr_assert_not_null(fd);
  cr_assert_eq(mg_packed_read(fd, &c, 1), 0);
  cr_assert_eq(mg_packed_read(fd, NULL, 1), 0);
  mg_packed_close(fd);
}

Test(fs_packed, seeks_in_a_stored_file) {
  void *fd = mg_packed_open(&test_table, "/a/b/d.txt", MG_FS_READ);
  char buf[16] = {0};
  cr_assert_eq(mg_packed_seek(fd, 7), 7);
  cr_assert_eq(mg_packed_read(fd, buf, sizeof(buf)), 3);
  cr_assert_arr_eq(buf, "789", 3);
  cr_assert_eq(mg_packed_seek(fd, 2), 2);
  cr_assert_eq(mg_packed_read(fd, buf, 2), 2);
  cr_assert_arr_eq(buf, "23", 2);
  cr_assert_eq(mg_packed_seek(fd, 10), 10);
  cr_assert_eq(mg_packed_read(fd, buf, 1), 0);
  cr_assert_eq(mg_packed_seek(fd, 1000), 10, "clamped to the size");
  cr_assert_eq(mg_packed_seek(fd, SIZE_MAX), 10);
  cr_assert_eq(mg_packed_read(fd, buf, 1), 0);
  cr_assert_eq(mg_packed_seek(fd, 0), 0);
  cr_assert_eq(mg_packed_read(fd, buf, 1), 1);
  cr_assert_eq(buf[0], '0');
  mg_packed_close(fd);
}

Test(fs_packed, reads_a_gzip_entry_as_original_bytes) {
  size_t want_len;
  char *want = test_stored_text(&want_len);
  static const size_t pieces[] = {1, 3, 99, 100, 101, 304, 4096};
  for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    void *fd = mg_packed_open(&test_table, "/stored.txt", MG_FS_READ);
    size_t len;
    char *got = test_read_all(fd, pieces[i], &len);
    cr_assert_eq(len, want_len, "pieces of %zu", pieces[i]);
    cr_assert_arr_eq(got, want, want_len);
    cr_assert_eq(mg_packed_read(fd, got, 1), 0);
    free(got);
    mg_packed_close(fd);
  }
  free(want);
}

Test(fs_packed, seeks_forwards_and_back_in_a_gzip_entry) {
  size_t want_len;
  char *want = test_stored_text(&want_len);
  void *fd = mg_packed_open(&test_table, "/stored.txt", MG_FS_READ);
  static const size_t offsets[] = {150, 0, 303, 99, 100, 101, 5, 304, 42};
  char buf[64];
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    size_t off = offsets[i];
    cr_assert_eq(mg_packed_seek(fd, off), off);
    size_t n = mg_packed_read(fd, buf, sizeof(buf)), expect = want_len - off < 64 ? want_len - off : 64;
    cr_assert_eq(n, expect, "at %zu", off);
    cr_assert_arr_eq(buf, want + off, n, "at %zu", off);
  }
  // A seek with a 1-byte read buffer still skips the whole way
  cr_assert_eq(mg_packed_seek(fd, 250), 250);
  cr_assert_eq(mg_packed_read(fd, buf, 1), 1);
  cr_assert_eq(buf[0], want[250]);
  mg_packed_close(fd);
  free(want);
}

Test(fs_packed, malformed_or_truncated_gzip_reads_short_and_stops) {
  char buf[512];
  void *fd = mg_packed_open(&test_table, "/broken.gz", MG_FS_READ);
  cr_assert_eq(mg_packed_read(fd, buf, sizeof(buf)), 0);
  cr_assert_eq(mg_packed_read(fd, buf, sizeof(buf)), 0);
  mg_packed_close(fd);

  size_t want_len;
  char *want = test_stored_text(&want_len);
  fd = mg_packed_open(&test_table, "/trunc.txt", MG_FS_READ);
  size_t total = 0, n;
  while ((n = mg_packed_read(fd, buf + total, 7)) > 0) total += n;
  cr_assert_lt(total, want_len);
  cr_assert_arr_eq(buf, want, total, "what was decoded is right");
  cr_assert_eq(mg_packed_seek(fd, 0), 0);
  cr_assert_eq(mg_packed_read(fd, buf, 1), 0, "a broken stream stays broken");
  mg_packed_close(fd);
  free(want);
}

Test(fs_packed, opening_a_gzip_entry_without_reading_allocates_nothing_to_leak) {
  void *fd = mg_packed_open(&test_table, "/index.html", MG_FS_READ);
  cr_assert_not_null(fd);
  cr_assert_eq(mg_packed_seek(fd, 5000), 5000);
  mg_packed_close(fd);  // ASan's leak check fails the run if the decoder leaked
}

Test(fs_packed, decodes_real_compressed_data_in_pieces) {
  size_t want_len;
  char *want = test_lines(&want_len);
  cr_assert_eq(want_len, 10690);
  static const size_t pieces[] = {1, 7, 1000, 32768};
  for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
    void *fd = mg_packed_open(&test_table, "/index.html", MG_FS_READ);
    size_t len;
    char *got = test_read_all(fd, pieces[i], &len);
    cr_assert_eq(len, want_len, "pieces of %zu", pieces[i]);
    cr_assert_arr_eq(got, want, want_len);
    free(got);
    mg_packed_close(fd);
  }
  free(want);
}

Test(fs_packed, seeks_into_real_compressed_data) {
  size_t want_len;
  char *want = test_lines(&want_len);
  void *fd = mg_packed_open(&test_table, "/index.html", MG_FS_READ);
  static const size_t offsets[] = {5000, 10689, 3, 10000, 9999, 0, 10690};
  char buf[100];
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    size_t off = offsets[i];
    cr_assert_eq(mg_packed_seek(fd, off), off);
    size_t n = mg_packed_read(fd, buf, sizeof(buf)), expect = want_len - off < 100 ? want_len - off : 100;
    cr_assert_eq(n, expect, "at %zu", off);
    cr_assert_arr_eq(buf, want + off, n, "at %zu", off);
  }
  mg_packed_close(fd);
  free(want);
}

// The generated wrappers in a packer output file look like these
static int test_fs_st(const char *path, size_t *size, time_t *mtime) {
  return mg_packed_stat(&test_table, path, size, mtime);
}
static void test_fs_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  mg_packed_list(&test_table, path, fn, arg);
}
static void *test_fs_op(const char *path, int flags) {
  return mg_packed_open(&test_table, path, flags);
}
static const struct mg_packed_file *test_fs_packed(const char *path) {
  return mg_packed_find(&test_table, path);
}
static struct mg_fs test_fs = {test_fs_st, test_fs_ls, test_fs_op, mg_packed_close, mg_packed_read, NULL,
                               mg_packed_seek, NULL, NULL, NULL, test_fs_packed, NULL};

Test(fs_packed, serves_as_an_mg_fs) {
  struct mg_str data = mg_file_read(&test_fs, "/a/b/c.txt");
  cr_assert_not_null(data.buf);
  cr_assert_eq(data.len, 13);
  cr_assert_str_eq(data.buf, "hello, world\n");
  mg_free(data.buf);
  data = mg_file_read(&test_fs, "/stored.txt");
  cr_assert_not_null(data.buf);
  cr_assert_eq(data.len, 304);
  mg_free(data.buf);
  data = mg_file_read(&test_fs, "/a");
  cr_assert(data.buf == NULL && data.len == 0);
  data = mg_file_read(&test_fs, "/broken.gz");
  cr_assert(data.buf == NULL && data.len == 0, "a short read is a failed read");
  cr_assert_null(mg_fs_open(&test_fs, "/a/b/c.txt", MG_FS_WRITE));
  cr_assert_eq(test_fs.packed("/a/./b/c.txt"), &test_files[3]);
  cr_assert_str_eq(test_fs.packed("/index.html")->etag, "\"c9\"");
}
