// Filesystem interface: the HTTP layer serves files through a struct mg_fs, so
// the same code serves a POSIX directory or a filesystem packed into flash.
#ifndef MG_FS_H
#define MG_FS_H

enum { MG_FS_READ = 1, MG_FS_WRITE = 2, MG_FS_DIR = 4 };

struct mg_fs {
  int (*st)(const char *path, size_t *size, time_t *mtime);  // 0 = absent, else MG_FS_* flags
  void (*ls)(const char *path, void (*fn)(const char *name, void *), void *arg);
  void *(*op)(const char *path, int flags);                   // NULL on failure
  void (*cl)(void *fd);
  size_t (*rd)(void *fd, void *buf, size_t len);              // 0 at end or on error
  size_t (*wr)(void *fd, const void *buf, size_t len);
  size_t (*sk)(void *fd, size_t offset);                      // Absolute seek; returns new offset
  bool (*mv)(const char *from, const char *to);
  bool (*rm)(const char *path);
  bool (*mkd)(const char *path);
};

extern struct mg_fs mg_fs_posix;

// An open file, with the fs it came from
struct mg_fd {
  void *fd;
  struct mg_fs *fs;
};
struct mg_fd *mg_fs_open(struct mg_fs *fs, const char *path, int flags);  // NULL on failure
void mg_fs_close(struct mg_fd *fd);
// Whole-file helpers: malloc'd NUL-terminated contents (NULL on failure), and write-all
char *mg_file_read(struct mg_fs *fs, const char *path, size_t *size);
bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf, size_t len);

#endif  // MG_FS_H
