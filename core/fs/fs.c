// Helpers over any struct mg_fs: open/close with the owning fs attached, and
// whole-file read and write.
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

char *mg_file_read(struct mg_fs *fs, const char *path, size_t *sizep) {
  size_t size = 0;
  if (fs->st(path, &size, NULL) == 0 || size == SIZE_MAX) return NULL;
  void *fd = fs->op(path, MG_FS_READ);
  if (fd == NULL) return NULL;
  char *data = (char *) mg_calloc(1, size + 1);
  size_t got = 0, n = 1;
  while (data != NULL && got < size && n > 0) {
    n = fs->rd(fd, data + got, size - got);
    got += n;
  }
  fs->cl(fd);
  if (data == NULL) return NULL;
  if (got != size) {
    mg_free(data);
    return NULL;
  }
  data[size] = '\0';
  if (sizep != NULL) *sizep = size;
  return data;
}

bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf, size_t len) {
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
