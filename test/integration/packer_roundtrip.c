// Reads back every file of one or more packer outputs through their struct mg_fs,
// for test/integration/packer.test.mjs. Build with -DPACKS='P(one) P(two)' naming
// the -p prefixes. Finds files by walking directories with ls/st from "/", reads
// each one whole, in odd-sized pieces and after seeks, and prints one line per file:
//   file PREFIX PATH SIZE SHA1 GZIP MIME ETAG (separated by tabs)
// Exits 1 (with a line saying why) if the ways of reading disagree.
#include "meerkat.h"

#ifndef PACKS
#define PACKS P(mg_packed)
#endif

#define P(name) extern struct mg_fs name##_fs;
PACKS
#undef P

static int failures;

static void fail(const char *what, const char *path) {
  printf("MISMATCH %s %s\n", what, path);
  failures++;
}

// Reads from the current offset to the end in pieces cycling through 1..maxpiece bytes
static unsigned char *read_rest(struct mg_fs *fs, void *fd, size_t cap, size_t maxpiece, size_t *len) {
  unsigned char *buf = (unsigned char *) malloc(cap + 1);
  size_t n = 0, piece = 1, got;
  while (n < cap + 1) {
    size_t want = piece < cap + 1 - n ? piece : cap + 1 - n;
    if ((got = fs->rd(fd, buf + n, want)) == 0) break;
    n += got;
    piece = piece % maxpiece + 1;
  }
  *len = n;
  return buf;
}

static void check_file(const char *prefix, struct mg_fs *fs, const char *path, size_t size) {
  void *fd = fs->op(path, MG_FS_READ);
  if (fd == NULL) {
    fail("open", path);
    return;
  }
  size_t len = 0, len2 = 0, len3 = 0;
  unsigned char *whole = read_rest(fs, fd, size, 65536, &len);
  if (len != size) fail("size", path);
  if (fs->sk(fd, 0) != 0) fail("seek to 0", path);
  unsigned char *pieces = read_rest(fs, fd, size, 97, &len2);
  if (len2 != len || memcmp(whole, pieces, len) != 0) fail("read in pieces", path);
  // Forwards to the middle, then back near the start: a gzip entry decodes again
  size_t offsets[] = {size / 2, size / 7, size, size > 0 ? size - 1 : 0};
  for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
    if (fs->sk(fd, offsets[i]) != offsets[i]) fail("seek", path);
    unsigned char *tail = read_rest(fs, fd, size, 4096, &len3);
    if (len3 != size - offsets[i] || memcmp(tail, whole + offsets[i], len3) != 0) fail("read after seek", path);
    free(tail);
  }
  fs->cl(fd);

  mg_sha1_ctx ctx;
  unsigned char digest[20];
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, whole, len);
  mg_sha1_final(digest, &ctx);
  const struct mg_packed_file *pf = fs->packed(path);
  if (pf == NULL) {
    fail("packed entry", path);
    return;
  }
  printf("file\t%s\t%s\t%lu\t", prefix, path, (unsigned long) len);
  for (int i = 0; i < 20; i++) printf("%02x", digest[i]);
  printf("\t%d\t%s\t%s\t%d\n", pf->is_gzip ? 1 : 0, pf->mime, pf->etag, pf->is_immutable ? 1 : 0);
  free(whole);
  free(pieces);
}

struct walk {
  const char *prefix;
  struct mg_fs *fs;
  const char *dir;
};

static void visit(const char *name, void *arg) {
  struct walk *w = (struct walk *) arg;
  char path[MG_PATH_MAX];
  size_t size = 0;
  snprintf(path, sizeof(path), "%s%s%s", w->dir, strcmp(w->dir, "/") == 0 ? "" : "/", name);
  int flags = w->fs->st(path, &size, NULL);
  if (flags == (MG_FS_DIR | MG_FS_READ)) {
    struct walk sub = {w->prefix, w->fs, path};
    w->fs->ls(path, visit, &sub);
  } else if (flags == MG_FS_READ) {
    check_file(w->prefix, w->fs, path, size);
  } else {
    fail("stat of a listed name", path);
  }
}

int main(void) {
  struct walk walks[] = {
#define P(name) {#name, &name##_fs, "/"},
      PACKS
#undef P
  };
  for (size_t i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
    if (walks[i].fs->st("/", NULL, NULL) != (MG_FS_DIR | MG_FS_READ)) fail("root is a directory", walks[i].prefix);
    if (walks[i].fs->op("/", MG_FS_WRITE) != NULL) fail("refuses writes", walks[i].prefix);
    walks[i].fs->ls("/", visit, &walks[i]);
  }
  return failures == 0 ? 0 : 1;
}
