// Helpers over any struct mg_fs: open/close with the owning fs attached, listing
// one entry at a time, and whole-file read and write.
#include "meerkat.h"

struct mg_fd *mg_fs_open(struct mg_fs *fs, const char *path, int flags) {
  struct mg_fd *fd = (struct mg_fd *) mg_calloc(1, sizeof(*fd));
  if (fd == NULL) return NULL;
  fd->fd = fs->op(path, flags);
  fd->fs = fs;
  if (fd->fd == NULL) {
    mg_free(fd);
    return NULL;
  }
  return fd;
}

void mg_fs_close(struct mg_fd *fd) {
  if (fd == NULL) return;
  fd->fs->cl(fd->fd);
  mg_free(fd);
}

struct fs_ls_next {
  char *buf;    // In: the previous name ("" for none); out: the next one
  size_t len;
  bool passed;  // The previous name has been seen: the next one that fits is it
  bool found;
};

// buf is only written once the previous name has been passed, so it can be compared
static void fs_ls_pick(const char *name, void *arg) {
  struct fs_ls_next *n = (struct fs_ls_next *) arg;
  size_t len = strlen(name);
  if (n->found) return;
  if (!n->passed) {
    n->passed = strcmp(name, n->buf) == 0;
  } else if (len < n->len) {
    memcpy(n->buf, name, len + 1);
    n->found = true;
  }
}

bool mg_fs_ls(struct mg_fs *fs, const char *path, char *buf, size_t len) {
  if (fs == NULL || fs->ls == NULL || path == NULL || buf == NULL || len == 0) return false;
  struct fs_ls_next n = {buf, len, buf[0] == '\0', false};
  fs->ls(path, fs_ls_pick, &n);
  return n.found;
}

struct mg_str mg_file_read(struct mg_fs *fs, const char *path) {
  struct mg_str none = MG_NULL_STR, r;
  size_t size = 0;
  if (fs->st(path, &size, NULL) == 0 || size == SIZE_MAX) return none;
  void *fd = fs->op(path, MG_FS_READ);
  if (fd == NULL) return none;
  char *data = (char *) mg_calloc(1, size + 1);  // Zeroed: the NUL after the data is there
  size_t got = 0, n = 1;
  while (data != NULL && got < size && n > 0) {
    n = fs->rd(fd, data + got, size - got);
    got += n;
  }
  fs->cl(fd);
  if (data == NULL) return none;
  if (got != size) {  // A short read is a failed read, never a silently truncated file
    mg_free(data);
    return none;
  }
  r.buf = data, r.len = size;
  return r;
}

static bool fs_write_all(struct mg_fs *fs, const char *path, const void *buf, size_t len) {
  void *fd = fs->op(path, MG_FS_WRITE);
  if (fd == NULL) return false;
  size_t sent = 0, n = 1;
  while (sent < len && n > 0) {
    n = fs->wr(fd, (const char *) buf + sent, len - sent);
    sent += n;
  }
  fs->cl(fd);
  return sent == len;
}

bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf, size_t len) {
  char tmp[MG_PATH_MAX];
  uint32_t r = 0;
  if (fs == NULL || path == NULL || (buf == NULL && len > 0)) return false;
  if (fs->mv == NULL) return fs_write_all(fs, path, buf, len);  // No rename: write in place
  mg_random(&r, sizeof(r));
  if (mg_snprintf(tmp, sizeof(tmp), "%s.%08lx.tmp", path, (unsigned long) r) >= sizeof(tmp)) return false;
  if (fs_write_all(fs, tmp, buf, len) && fs->mv(tmp, path)) return true;
  if (fs->rm != NULL) fs->rm(tmp);
  return false;
}

bool mg_file_printf(struct mg_fs *fs, const char *path, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *data = mg_vmprintf(fmt, &ap);
  va_end(ap);
  if (data == NULL) return false;
  bool ok = mg_file_write(fs, path, data, strlen(data));
  mg_free(data);
  return ok;
}
