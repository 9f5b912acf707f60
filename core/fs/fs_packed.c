// Packed filesystem: the mg_fs over a const table made by the packer (binary search,
// gzip decoded as read), and Mongoose's mg_fs_packed over the mg_mem_files table.
#include "meerkat.h"

// Copies path into buf (MG_PATH_MAX bytes) and normalises it in place.
// False for NULL, relative, too long, or climbing above the root.
static bool fs_packed_normalize(const char *path, char *buf) {
  if (path == NULL) return false;
  size_t len = 0;
  while (len < MG_PATH_MAX && path[len] != '\0') len++;
  if (len == 0 || len >= MG_PATH_MAX) return false;
  memcpy(buf, path, len);
  buf[len] = '\0';
  return mg_path_normalize(buf, len);  // NUL-terminates when the path shrinks
}

static size_t fs_packed_count(const struct mg_packed_table *t) {
  return t == NULL || t->files == NULL ? 0 : t->count;
}

// Index of the first entry whose path is not below key in strcmp order
static size_t fs_packed_lower_bound(const struct mg_packed_table *t, const char *key) {
  size_t lo = 0, hi = fs_packed_count(t);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(t->files[mid].path, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static const struct mg_packed_file *fs_packed_exact(const struct mg_packed_table *t, const char *path) {
  size_t i = fs_packed_lower_bound(t, path);
  return i < fs_packed_count(t) && strcmp(t->files[i].path, path) == 0 ? &t->files[i] : NULL;
}

// Turns a normalised path into a directory prefix ending in '/' (in place).
// Returns the index of the first entry under it, or the count if it holds none.
// Entries sharing a prefix are contiguous in strcmp order, so they start there.
static size_t fs_packed_dir_start(const struct mg_packed_table *t, char *dir, size_t *dir_len) {
  size_t n = strlen(dir), count = fs_packed_count(t);
  if (dir[n - 1] != '/') {
    if (n + 1 >= MG_PATH_MAX) return count;
    dir[n++] = '/', dir[n] = '\0';
  }
  size_t i = fs_packed_lower_bound(t, dir);
  *dir_len = n;
  return i < count && strncmp(t->files[i].path, dir, n) == 0 ? i : count;
}

const struct mg_packed_file *mg_packed_find(const struct mg_packed_table *t, const char *path) {
  char buf[MG_PATH_MAX];
  if (!fs_packed_normalize(path, buf)) return NULL;
  return fs_packed_exact(t, buf);
}

int mg_packed_stat(const struct mg_packed_table *t, const char *path, size_t *size, time_t *mtime) {
  char buf[MG_PATH_MAX];
  size_t dir_len = 0;
  if (!fs_packed_normalize(path, buf)) return 0;
  const struct mg_packed_file *f = fs_packed_exact(t, buf);
  if (f != NULL) {
    if (size != NULL) *size = f->raw_size;
    if (mtime != NULL) *mtime = f->mtime;
    return MG_FS_READ;
  }
  if (fs_packed_dir_start(t, buf, &dir_len) == fs_packed_count(t)) return 0;
  if (size != NULL) *size = 0;
  if (mtime != NULL) *mtime = 0;
  return MG_FS_DIR | MG_FS_READ;
}

void mg_packed_list(const struct mg_packed_table *t, const char *dir, void (*fn)(const char *, void *),
                    void *arg) {
  char prefix[MG_PATH_MAX], name[MG_PATH_MAX];
  size_t plen = 0, nlen = 0;
  if (fn == NULL || !fs_packed_normalize(dir, prefix)) return;
  // Children of one subdirectory are adjacent, so comparing with the last name dedupes
  for (size_t i = fs_packed_dir_start(t, prefix, &plen); i < fs_packed_count(t); i++) {
    const char *rest = t->files[i].path + plen;
    if (strncmp(t->files[i].path, prefix, plen) != 0) break;
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= sizeof(name)) continue;
    if (nlen == n && memcmp(name, rest, n) == 0) continue;
    memcpy(name, rest, n);
    name[n] = '\0';
    nlen = n;
    fn(name, arg);
  }
}

struct fs_packed_fd {
  const struct mg_packed_file *file;
  size_t pos;            // Offset in the original bytes that the next read returns
  size_t in, out;        // gzip: stored bytes consumed and original bytes produced so far
  struct mg_inflate *z;  // gzip: the decoder, allocated on the first read
  bool failed;           // gzip: the stream is malformed; reads return 0
};

void *mg_packed_open(const struct mg_packed_table *t, const char *path, int flags) {
  if (flags & MG_FS_WRITE) return NULL;
  const struct mg_packed_file *f = mg_packed_find(t, path);
  if (f == NULL) return NULL;
  struct fs_packed_fd *h = (struct fs_packed_fd *) mg_calloc(1, sizeof(*h));
  if (h != NULL) h->file = f;
  return h;
}

void mg_packed_close(void *fd) {
  struct fs_packed_fd *h = (struct fs_packed_fd *) fd;
  if (h == NULL) return;
  mg_free(h->z);
  mg_free(h);
}

// Decodes the next original bytes into out, up to len; returns how many
static size_t fs_packed_inflate(struct fs_packed_fd *h, uint8_t *out, size_t len) {
  const struct mg_packed_file *f = h->file;
  size_t done = 0;
  while (done < len && !h->failed) {
    size_t used = 0, made = 0;
    int rc = mg_inflate(h->z, f->data + h->in, f->size - h->in, &used, out + done, len - done, &made);
    h->in += used, h->out += made, done += made;
    if (rc == MG_INFLATE_ERROR || (rc == MG_INFLATE_MORE && used == 0 && made == 0)) {
      h->failed = true;  // Malformed, or truncated: all input was offered
    } else if (rc == MG_INFLATE_DONE) {
      // len never reaches past raw_size, so an early end means the table is wrong
      if (done < len) h->failed = true;
      break;
    }
  }
  return done;
}

static size_t fs_packed_read_gzip(struct fs_packed_fd *h, uint8_t *buf, size_t len) {
  if (h->failed) return 0;
  if (h->z == NULL) {
    h->z = (struct mg_inflate *) mg_calloc(1, sizeof(*h->z));
    if (h->z == NULL) return 0;
    mg_inflate_init(h->z, true);
  }
  if (h->pos < h->out) {  // Seeked backwards: decode again from the start
    mg_inflate_init(h->z, true);
    h->in = h->out = 0;
  }
  while (h->out < h->pos) {  // Seeked forwards: skip, using the caller's buffer as scratch
    size_t want = h->pos - h->out < len ? h->pos - h->out : len;
    if (fs_packed_inflate(h, buf, want) != want) return 0;
  }
  size_t n = fs_packed_inflate(h, buf, len);
  h->pos += n;
  return n;
}

size_t mg_packed_read(void *fd, void *buf, size_t len) {
  struct fs_packed_fd *h = (struct fs_packed_fd *) fd;
  if (h == NULL || buf == NULL || len == 0) return 0;
  const struct mg_packed_file *f = h->file;
  if (h->pos >= f->raw_size) return 0;
  if (len > f->raw_size - h->pos) len = f->raw_size - h->pos;
  if (f->is_gzip) return fs_packed_read_gzip(h, (uint8_t *) buf, len);
  if (h->pos >= f->size) return 0;  // A table whose size disagrees with raw_size
  if (len > f->size - h->pos) len = f->size - h->pos;
  memcpy(buf, f->data + h->pos, len);
  h->pos += len;
  return len;
}

// Only records the offset: a gzip entry decodes up to it on the next read
size_t mg_packed_seek(void *fd, size_t offset) {
  struct fs_packed_fd *h = (struct fs_packed_fd *) fd;
  if (h == NULL) return 0;
  h->pos = offset < h->file->raw_size ? offset : h->file->raw_size;
  return h->pos;
}

// mg_fs_packed: the files of the table mg_mem_files points at, in no particular
// order (a program may write it by hand); directories are implied by names.

static const struct mg_mem_file fs_mem_none[] = {{NULL, NULL, 0, 0}};
const struct mg_mem_file *mg_mem_files = fs_mem_none;

// The no'th file, NULL past the last
static const struct mg_mem_file *fs_mem_at(size_t no) {
  const struct mg_mem_file *t = mg_mem_files;
  for (size_t i = 0; t != NULL && t[i].path != NULL; i++) {
    if (i == no) return &t[i];
  }
  return NULL;
}

// The name to look up: normalised when possible ("/a//b" is "/a/b"), else as
// given, since a lookup of a name nothing has can only fail
static const char *fs_mem_key(const char *path, char *buf) {
  return fs_packed_normalize(path, buf) ? buf : path;
}

static const struct mg_mem_file *fs_mem_find(const char *path) {
  char buf[MG_PATH_MAX];
  const char *key = path == NULL ? NULL : fs_mem_key(path, buf);
  const struct mg_mem_file *f = NULL;
  for (size_t i = 0; key != NULL && (f = fs_mem_at(i)) != NULL; i++) {
    if (strcmp(f->path, key) == 0) break;
  }
  return f;
}

// Copies the directory prefix of key into buf, ending in '/'; false if too long
static bool fs_mem_prefix(const char *key, char *buf, size_t *len) {
  size_t n = strlen(key);
  if (n + 2 > MG_PATH_MAX) return false;
  memcpy(buf, key, n + 1);
  if (n == 0 || buf[n - 1] != '/') buf[n++] = '/', buf[n] = '\0';
  *len = n;
  return true;
}

// The first path segment of name below prefix, or 0 if name is not below it
static size_t fs_mem_child(const char *name, const char *prefix, size_t plen) {
  if (strncmp(name, prefix, plen) != 0) return 0;
  return strcspn(name + plen, "/");
}

static int fs_mem_st(const char *path, size_t *size, time_t *mtime) {
  char buf[MG_PATH_MAX], prefix[MG_PATH_MAX];
  const struct mg_mem_file *f = fs_mem_find(path);
  size_t plen = 0;
  if (f != NULL) {
    if (size != NULL) *size = f->size;
    if (mtime != NULL) *mtime = f->mtime;
    return MG_FS_READ;
  }
  if (path == NULL || !fs_mem_prefix(fs_mem_key(path, buf), prefix, &plen)) return 0;
  for (size_t i = 0; (f = fs_mem_at(i)) != NULL; i++) {
    if (fs_mem_child(f->path, prefix, plen) > 0) {
      if (size != NULL) *size = 0;
      if (mtime != NULL) *mtime = 0;
      return MG_FS_DIR | MG_FS_READ;
    }
  }
  return 0;
}

// Each child once: a name is reported at its first file. Quadratic in the file
// count, which is small and known at build time.
static void fs_mem_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  char buf[MG_PATH_MAX], prefix[MG_PATH_MAX], child[MG_PATH_MAX];
  const struct mg_mem_file *f, *other;
  size_t plen = 0;
  if (fn == NULL || path == NULL || !fs_mem_prefix(fs_mem_key(path, buf), prefix, &plen)) return;
  for (size_t i = 0; (f = fs_mem_at(i)) != NULL; i++) {
    size_t n = fs_mem_child(f->path, prefix, plen), j = 0;
    if (n == 0 || n >= sizeof(child)) continue;
    for (; j < i && (other = fs_mem_at(j)) != NULL; j++) {
      if (fs_mem_child(other->path, prefix, plen) == n && memcmp(other->path + plen, f->path + plen, n) == 0) break;
    }
    if (j < i) continue;  // Seen already
    memcpy(child, f->path + plen, n);
    child[n] = '\0';
    fn(child, arg);
  }
}

struct fs_mem_fd {
  const struct mg_mem_file *file;
  size_t pos;
};

static void *fs_mem_op(const char *path, int flags) {
  const struct mg_mem_file *f = (flags & MG_FS_WRITE) ? NULL : fs_mem_find(path);
  struct fs_mem_fd *h = f == NULL ? NULL : (struct fs_mem_fd *) mg_calloc(1, sizeof(*h));
  if (h != NULL) h->file = f;
  return h;
}

static void fs_mem_cl(void *fd) {
  mg_free(fd);
}

static size_t fs_mem_rd(void *fd, void *buf, size_t len) {
  struct fs_mem_fd *h = (struct fs_mem_fd *) fd;
  if (h == NULL || buf == NULL || h->pos >= h->file->size) return 0;
  if (len > h->file->size - h->pos) len = h->file->size - h->pos;
  memcpy(buf, h->file->data + h->pos, len);
  h->pos += len;
  return len;
}

static size_t fs_mem_sk(void *fd, size_t offset) {
  struct fs_mem_fd *h = (struct fs_mem_fd *) fd;
  if (h == NULL) return 0;
  h->pos = offset < h->file->size ? offset : h->file->size;
  return h->pos;
}

struct mg_fs mg_fs_packed = {
    .st = fs_mem_st,
    .ls = fs_mem_ls,
    .op = fs_mem_op,
    .cl = fs_mem_cl,
    .rd = fs_mem_rd,
    .wr = NULL,
    .sk = fs_mem_sk,
    .mv = NULL,
    .rm = NULL,
    .mkd = NULL,
    .packed = NULL,
};

struct mg_str mg_unpacked(const char *path) {
  const struct mg_mem_file *f = fs_mem_find(path);
  return f == NULL ? mg_str_n(NULL, 0) : mg_str_n((const char *) f->data, f->size);
}
