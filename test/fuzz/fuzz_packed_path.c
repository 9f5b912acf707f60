// Fuzz lookups in a packed table with arbitrary path strings: find, stat, list
// and open agree with a linear scan over the normalised path, a found entry
// finds itself again and reads back whole, and a path that climbs finds nothing.
#include "meerkat.h"

#define F(p, s) {p, (const unsigned char *) s, sizeof(s) - 1, sizeof(s) - 1, 0, "text/plain", "\"x\"", false, false}
// Like a packer table: sorted, and no path is both a file and a directory
static const struct mg_packed_file files[] = {
    F("/...", "dots"),      F("/.hidden", "h"),      F("/a b/c", "space"),  F("/a+", "plus"),
    F("/a-b", "dash"),      F("/a.b/c", "dotdir"),   F("/a/b.txt", "ab"),   F("/a/b/c/d", "abcd"),
    F("/a/b/c/e", "abce"),  F("/a/b0", "ab0"),       F("/a/bc/d", "abcd2"), F("/b", ""),
    F("/dir/x", "x"),       F("/dir/y/z", "z"),      F("/index.html", "<html>"), F("/z..", "zdots"),
    F("/\xc3\xa9t\xc3\xa9", "utf8"),
};
static const struct mg_packed_table table = {files, sizeof(files) / sizeof(files[0])};

static bool starts_with(const char *s, const char *prefix, size_t n) {
  return strncmp(s, prefix, n) == 0;
}

struct names {
  char seen[64][MG_PATH_MAX];
  size_t count;
  const char *dir;  // Normalised, ending in '/'; NULL: only count
};

static void on_name(const char *name, void *arg) {
  struct names *n = (struct names *) arg;
  size_t len = strlen(name);
  if (len == 0 || len >= MG_PATH_MAX || strchr(name, '/') != NULL || n->count >= 64) __builtin_trap();
  if (n->dir == NULL) {
    n->count++;
    return;
  }
  size_t dlen = strlen(n->dir);
  for (size_t i = 0; i < n->count; i++)
    if (strcmp(n->seen[i], name) == 0) __builtin_trap();  // Listed twice
  // Some table path is dir + name, alone or followed by '/'
  bool found = false;
  for (size_t i = 0; i < table.count && !found; i++) {
    const char *p = files[i].path;
    found = starts_with(p, n->dir, dlen) && starts_with(p + dlen, name, len) && (p[dlen + len] == '\0' || p[dlen + len] == '/');
  }
  if (!found) __builtin_trap();
  memcpy(n->seen[n->count++], name, len + 1);
}

// How many distinct immediate children the table has under dir (ending in '/')
static size_t count_children(const char *dir) {
  size_t count = 0, dlen = strlen(dir);
  for (size_t i = 0; i < table.count; i++) {
    if (!starts_with(files[i].path, dir, dlen)) continue;
    const char *name = files[i].path + dlen;
    size_t len = strcspn(name, "/");
    bool dup = false;
    for (size_t j = 0; j < i && !dup; j++)
      dup = starts_with(files[j].path, dir, dlen) && strncmp(files[j].path + dlen, name, len) == 0 &&
            (files[j].path[dlen + len] == '\0' || files[j].path[dlen + len] == '/');
    count += !dup;
  }
  return count;
}

static void check_entry_reads_back(const char *path, const struct mg_packed_file *f) {
  void *fd = mg_packed_open(&table, path, MG_FS_READ);
  if (fd == NULL) __builtin_trap();
  char buf[64];
  size_t n = mg_packed_read(fd, buf, sizeof(buf));
  if (n != f->raw_size || memcmp(buf, f->data, n) != 0) __builtin_trap();
  if (mg_packed_read(fd, buf, sizeof(buf)) != 0) __builtin_trap();
  mg_packed_close(fd);
  if (mg_packed_open(&table, path, MG_FS_WRITE) != NULL) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (size_t i = 1; i < table.count; i++)
    if (strcmp(files[i - 1].path, files[i].path) >= 0) __builtin_trap();  // The table must be sorted
  char *path = (char *) malloc(size + 1);  // Exactly the string: ASan sees any overread
  if (path == NULL) return 0;
  memcpy(path, data, size);
  path[size] = '\0';
  size_t len = strlen(path);

  // The oracle: normalise a copy the same way, then scan the whole table
  char norm[MG_PATH_MAX + 1];
  bool valid = len > 0 && len < MG_PATH_MAX;
  if (valid) {
    memcpy(norm, path, len + 1);
    valid = mg_path_normalize(norm, len);
  }
  const struct mg_packed_file *want = NULL, *f = mg_packed_find(&table, path);
  for (size_t i = 0; valid && i < table.count && want == NULL; i++)
    if (strcmp(files[i].path, norm) == 0) want = &files[i];
  if (f != want) __builtin_trap();

  size_t st_size = 99;
  int flags = mg_packed_stat(&table, path, &st_size, NULL);
  struct names names;
  names.count = 0, names.dir = NULL;
  mg_packed_list(&table, path, on_name, &names);

  if (f != NULL) {
    if (mg_packed_find(&table, f->path) != f) __builtin_trap();  // Finds itself again
    if (flags != MG_FS_READ || st_size != f->raw_size || names.count != 0) __builtin_trap();
    check_entry_reads_back(path, f);
  } else {
    if (mg_packed_open(&table, path, MG_FS_READ) != NULL) __builtin_trap();
    // A directory when some entry starts with the normalised path plus '/'
    bool is_dir = false;
    if (valid) {
      size_t n = strlen(norm);
      if (norm[n - 1] != '/') norm[n++] = '/', norm[n] = '\0';
      for (size_t i = 0; i < table.count && !is_dir; i++) is_dir = starts_with(files[i].path, norm, n);
      if (n >= MG_PATH_MAX) is_dir = false;  // No room for the '/' in the lookup buffer
    }
    if (flags != (is_dir ? (MG_FS_DIR | MG_FS_READ) : 0)) __builtin_trap();
    if (!is_dir && names.count != 0) __builtin_trap();
    if (is_dir) {
      struct names again;
      again.count = 0, again.dir = norm;
      mg_packed_list(&table, path, on_name, &again);
      if (again.count != count_children(norm)) __builtin_trap();
    }
  }
  free(path);
  return 0;
}
