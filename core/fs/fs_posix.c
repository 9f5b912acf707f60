// mg_fs over POSIX files and directories (the host build, and devices with an OS).
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "meerkat.h"

#if MG_ENABLE_POSIX_FS
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int posix_stat(const char *path, size_t *size, time_t *mtime) {
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  if (size != NULL) *size = (size_t) st.st_size;
  if (mtime != NULL) *mtime = st.st_mtime;
  return MG_FS_READ | MG_FS_WRITE | (S_ISDIR(st.st_mode) ? MG_FS_DIR : 0);
}

static void posix_list(const char *dir, void (*fn)(const char *, void *), void *arg) {
  DIR *dirp = opendir(dir);
  if (dirp == NULL) return;
  struct dirent *dp;
  while ((dp = readdir(dirp)) != NULL) {
    if (strcmp(dp->d_name, ".") == 0 || strcmp(dp->d_name, "..") == 0) continue;
    fn(dp->d_name, arg);
  }
  closedir(dirp);
}

// Handles are file descriptors plus one, so that descriptor 0 is not NULL
#define POSIX_FD(h) ((int) (intptr_t) (h) - 1)

static void *posix_open(const char *path, int flags) {
  int oflags = (flags & MG_FS_WRITE) ? ((flags & MG_FS_READ) ? O_RDWR | O_CREAT : O_WRONLY | O_CREAT | O_TRUNC)
                                     : O_RDONLY;
  if ((flags & MG_FS_WRITE) && (flags & MG_FS_EXCL)) oflags |= O_EXCL;  // Only a new file
  int fd = open(path, oflags | O_CLOEXEC, 0644);  // A directory opens too, then reads fail
  return fd < 0 ? NULL : (void *) (intptr_t) (fd + 1);
}

static void posix_close(void *h) {
  if (h != NULL) close(POSIX_FD(h));
}

static size_t posix_read(void *h, void *buf, size_t len) {
  ssize_t n;
  do n = read(POSIX_FD(h), buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? 0 : (size_t) n;
}

static size_t posix_write(void *h, const void *buf, size_t len) {
  ssize_t n;
  do n = write(POSIX_FD(h), buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? 0 : (size_t) n;
}

static size_t posix_seek(void *h, size_t offset) {
  off_t pos = lseek(POSIX_FD(h), (off_t) offset, SEEK_SET);
  return pos < 0 ? 0 : (size_t) pos;
}

static bool posix_rename(const char *from, const char *to) {
  return rename(from, to) == 0;
}

static bool posix_remove(const char *path) {
  return remove(path) == 0;
}

static bool posix_mkdir(const char *path) {
  return mkdir(path, 0755) == 0 || errno == EEXIST;
}

// The directory part of path ("." for none), so its entry change can be synced
static void posix_dir_of(const char *path, char *dir, size_t len) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    mg_snprintf(dir, len, ".");
  } else {
    mg_snprintf(dir, len, "%.*s", slash == path ? 1 : (int) (slash - path), path);
  }
}

bool mg_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode) {
  char tmp[MG_PATH_MAX + 8], dir[MG_PATH_MAX];
  if (mg_snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
    MG_ERROR(("cannot save %s: path too long", path));
    return false;
  }
  // O_NOFOLLOW: a link planted at tmp does not redirect the write
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, (mode_t) mode);
  if (fd < 0) {
    MG_ERROR(("cannot save %s: %s: %s", path, tmp, strerror(errno)));
    return false;
  }
  size_t done = 0;
  ssize_t n = 0;
  // fchmod: a stale temporary file keeps its old mode through O_CREAT
  bool ok = fchmod(fd, (mode_t) mode) == 0;
  while (ok && done < len && (n = write(fd, (const char *) buf + done, len - done)) > 0) done += (size_t) n;
  ok = ok && done == len && fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    MG_ERROR(("cannot save %s: %s", path, strerror(err)));
    unlink(tmp);
    return false;
  }
  posix_dir_of(path, dir, sizeof(dir));
  int dfd = open(dir, O_RDONLY | O_CLOEXEC);  // So the rename itself reaches the disk
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}

#undef POSIX_FD
struct mg_fs mg_fs_posix = {posix_stat,  posix_list, posix_open,   posix_close,  posix_read, posix_write,
                            posix_seek, posix_rename, posix_remove, posix_mkdir, NULL, NULL};
#else
// Without an OS there are no files to find: serving with opts->fs left NULL gives 404s
// (and a log line once) instead of a link error in code written for both
static int posix_none_stat(const char *path, size_t *size, time_t *mtime) {
  static bool logged;
  if (!logged) MG_ERROR(("no POSIX files in this build (MG_ENABLE_POSIX_FS=0): set opts->fs, e.g. to a packed fs"));
  logged = true;
  (void) path, (void) size, (void) mtime;
  return 0;
}

static void *posix_none_open(const char *path, int flags) {
  (void) path, (void) flags;
  return NULL;
}

struct mg_fs mg_fs_posix = {posix_none_stat, NULL, posix_none_open, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
#endif
