// mg_fs_flash: small files (settings, users, sessions) in a slot of a flash seam, one per
// program; open handles, and files written whole at close as one record (fs_flash_log.c).
#include "fs/fs_flash.h"

// A handle: a reader follows its record by sequence (a compaction moves records), a
// writer collects the file in memory, at most MG_FS_FLASH_FILE_MAX bytes, until close
struct flash_fd {
  bool used, writing, failed;
  uint32_t seq;  // Reader: the record read
  size_t pos;
  char name[FS_FLASH_NAME_FIELD];  // Writer: the file to replace
  struct mg_iobuf data;            // Writer: the file so far
};
static struct flash_fd s_fds[MG_FS_FLASH_OPEN];

static const struct fs_flash_file *flash_by_seq(uint32_t seq) {
  for (size_t i = 0; i < fs_flash_state.nfiles; i++) {
    if (fs_flash_state.files[i].seq == seq) return &fs_flash_state.files[i];
  }
  return NULL;
}

// "dir" holds name: name starts with "dir/" ("" and "/" hold every name that starts with '/')
static const char *flash_under(const char *name, const char *dir) {
  size_t n = strlen(dir);
  while (n > 0 && dir[n - 1] == '/') n--;
  if (strncmp(name, dir, n) != 0 || name[n] != '/') return NULL;
  return name + n + 1;
}

static int flash_stat(const char *path, size_t *size, time_t *mtime) {
  const struct fs_flash_file *file = fs_flash_find(path);
  if (mtime != NULL) *mtime = 0;
  if (file != NULL) {
    if (size != NULL) *size = file->len;
    return MG_FS_READ | MG_FS_WRITE;
  }
  for (size_t i = 0; i < fs_flash_state.nfiles; i++) {  // Directories are implied by names
    if (flash_under(fs_flash_state.files[i].name, path) != NULL) {
      if (size != NULL) *size = 0;
      return MG_FS_READ | MG_FS_WRITE | MG_FS_DIR;
    }
  }
  return 0;
}

// The entry of rest's first component has been given already by an earlier file
static bool flash_listed(size_t upto, const char *dir, const char *rest, size_t len) {
  for (size_t i = 0; i < upto; i++) {
    const char *other = flash_under(fs_flash_state.files[i].name, dir);
    if (other != NULL && strncmp(other, rest, len) == 0 && (other[len] == '/' || other[len] == '\0')) return true;
  }
  return false;
}

static void flash_list(const char *dir, void (*fn)(const char *, void *), void *arg) {
  for (size_t i = 0; i < fs_flash_state.nfiles; i++) {
    char entry[FS_FLASH_NAME_FIELD];
    const char *rest = flash_under(fs_flash_state.files[i].name, dir), *slash;
    if (rest == NULL || *rest == '\0') continue;
    size_t len = (slash = strchr(rest, '/')) == NULL ? strlen(rest) : (size_t) (slash - rest);
    if (flash_listed(i, dir, rest, len)) continue;
    mg_snprintf(entry, sizeof(entry), "%.*s", (int) len, rest);
    fn(entry, arg);
  }
}

static struct flash_fd *flash_fd_new(void) {
  for (size_t i = 0; i < MG_FS_FLASH_OPEN; i++) {
    if (!s_fds[i].used) {
      memset(&s_fds[i], 0, sizeof(s_fds[i]));
      s_fds[i].used = true;
      return &s_fds[i];
    }
  }
  MG_ERROR(("flash fs: %d files open already (MG_FS_FLASH_OPEN)", MG_FS_FLASH_OPEN));
  return NULL;
}

// A writer opened with MG_FS_READ too starts from the file's content
static bool flash_preload(struct flash_fd *fd, const struct fs_flash_file *file) {
  if (file->len == 0) return true;
  if (!mg_iobuf_resize(&fd->data, file->len)) return false;
  fd->data.len = file->len;
  return fs_flash_read_at(file, 0, fd->data.buf, file->len);
}

static void *flash_open_write(const char *path, int flags, const struct fs_flash_file *file) {
  struct flash_fd *fd;
  if (!fs_flash_name_ok(path) || ((flags & MG_FS_EXCL) && file != NULL)) return NULL;
  if ((fd = flash_fd_new()) == NULL) return NULL;
  fd->writing = true;
  fd->data.align = 64;
  mg_snprintf(fd->name, sizeof(fd->name), "%s", path);
  if ((flags & MG_FS_READ) && file != NULL && !flash_preload(fd, file)) {
    MG_ERROR(("flash fs: out of memory opening %s", path));
    mg_iobuf_free(&fd->data);
    fd->used = false;
    return NULL;
  }
  return fd;
}

static void *flash_open(const char *path, int flags) {
  const struct fs_flash_file *file = fs_flash_find(path);
  if (!fs_flash_state.mounted) return NULL;
  if (flags & MG_FS_WRITE) return flash_open_write(path, flags, file);
  struct flash_fd *fd = file == NULL ? NULL : flash_fd_new();
  if (fd != NULL) fd->seq = file->seq;
  return fd;
}

static void flash_close(void *h) {
  struct flash_fd *fd = (struct flash_fd *) h;
  if (fd == NULL || !fd->used) return;
  if (fd->writing && !fd->failed) fs_flash_put(fd->name, fd->data.buf, fd->data.len);
  mg_iobuf_free(&fd->data);
  fd->used = false;
}

static size_t flash_read(void *h, void *buf, size_t len) {
  struct flash_fd *fd = (struct flash_fd *) h;
  if (fd->writing) {
    size_t n = fd->pos < fd->data.len ? fd->data.len - fd->pos : 0;
    if (n > len) n = len;
    if (n > 0) memcpy(buf, fd->data.buf + fd->pos, n);
    fd->pos += n;
    return n;
  }
  const struct fs_flash_file *file = flash_by_seq(fd->seq);  // NULL: replaced or removed since
  size_t n = file == NULL || fd->pos >= file->len ? 0 : file->len - fd->pos;
  if (n > len) n = len;
  if (n > 0 && !fs_flash_read_at(file, fd->pos, buf, n)) return 0;
  fd->pos += n;
  return n;
}

static size_t flash_write(void *h, const void *buf, size_t len) {
  struct flash_fd *fd = (struct flash_fd *) h;
  if (!fd->writing || fd->failed) return 0;
  if (fd->pos > MG_FS_FLASH_FILE_MAX || len > MG_FS_FLASH_FILE_MAX - fd->pos) {
    MG_ERROR(("flash fs: %s grows past MG_FS_FLASH_FILE_MAX (%d bytes): it keeps its old content", fd->name,
              MG_FS_FLASH_FILE_MAX));
    fd->failed = true;
    return 0;
  }
  size_t end = fd->pos + len;
  if (end > fd->data.len) {
    if (end > fd->data.size && !mg_iobuf_resize(&fd->data, end)) {
      MG_ERROR(("flash fs: out of memory writing %s: it keeps its old content", fd->name));
      fd->failed = true;
      return 0;
    }
    memset(fd->data.buf + fd->data.len, 0, end - fd->data.len);  // A seek past the end leaves zeros
    fd->data.len = end;
  }
  memcpy(fd->data.buf + fd->pos, buf, len);
  fd->pos = end;
  return len;
}

static size_t flash_seek(void *h, size_t offset) {
  struct flash_fd *fd = (struct flash_fd *) h;
  fd->pos = offset;
  return offset;
}

static bool flash_mkdir(const char *path) {
  (void) path;
  return true;  // Directories are implied by the names of files
}

bool mg_fs_flash_init(struct ota_flash *f, int slot) {
  for (size_t i = 0; i < MG_FS_FLASH_OPEN; i++) {  // A second init forgets the handles of the first
    mg_iobuf_free(&s_fds[i].data);
    s_fds[i].used = false;
  }
  if (f == NULL) return false;
  return fs_flash_mount(f, slot);
}

struct mg_fs mg_fs_flash = {flash_stat, flash_list,      flash_open,       flash_close, flash_read, flash_write,
                            flash_seek, fs_flash_rename, fs_flash_remove, flash_mkdir, NULL, fs_flash_put};
