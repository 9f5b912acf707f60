// The flash seam over files (the host firmware): slot N is DIR/NAME-N.bin, and bytes
// past a file's end read as erased, so a fresh directory holds two erased slots.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sync_file_range
#endif
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "ota/ota_flash.h"

#if MG_ENABLE_POSIX_FS
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_CHUNK 512

// The slot's file, opened (created if missing) on first use and kept open: an upload
// writes thousands of pieces. -1 after logging why.
static int file_open(struct ota_flash *f, int slot, const char *op) {
  struct ota_flash_file *file = (struct ota_flash_file *) f->ctx;
  if (file->fd[slot] >= 0) return file->fd[slot];
  char path[MG_PATH_MAX];
  if (mg_snprintf(path, sizeof(path), "%s/%s-%d.bin", file->dir, file->name, slot) >= sizeof(path)) {
    MG_ERROR(("flash %s of slot %d: the path under %s is too long", op, slot, file->dir));
    return -1;
  }
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) MG_ERROR(("flash %s of slot %d: %s: %s", op, slot, path, strerror(errno)));
  file->fd[slot] = fd;
  return fd;
}

// Reads len bytes at off; what lies past the file's end reads as erased
static bool file_pread(int fd, size_t off, uint8_t *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, buf + done, len - done, (off_t) (off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    done += (size_t) n;
  }
  memset(buf + done, 0xFF, len - done);
  return true;
}

static bool file_pwrite(int fd, size_t off, const uint8_t *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, buf + done, len - done, (off_t) (off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += (size_t) n;
  }
  return true;
}

static bool file_size(int fd, size_t *size) {
  struct stat st;
  if (fstat(fd, &st) != 0) return false;
  *size = (size_t) st.st_size;
  return true;
}

static bool file_fill_erased(int fd, size_t off, size_t len) {
  uint8_t ff[FILE_CHUNK];
  memset(ff, 0xFF, sizeof(ff));
  for (size_t done = 0; done < len; done += sizeof(ff)) {
    size_t n = len - done < sizeof(ff) ? len - done : sizeof(ff);
    if (!file_pwrite(fd, off + done, ff, n)) return false;
  }
  return true;
}

// An erase that reaches the file's end shortens it (fast for a whole slot); one
// inside it writes 0xFF
static bool file_erase_fd(int fd, size_t off, size_t len) {
  size_t size;
  if (!file_size(fd, &size)) return false;
  if (off >= size) return true;
  if (off + len >= size) return ftruncate(fd, (off_t) off) == 0;
  return file_fill_erased(fd, off, len);
}

static bool file_erase(struct ota_flash *f, int slot, size_t off, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, true)) return false;
  int fd = file_open(f, slot, "erase");
  if (fd < 0) return false;
  bool ok = file_erase_fd(fd, off, len);
  if (!ok) MG_ERROR(("flash erase of slot %d: %s", slot, strerror(errno)));
  return ok;
}

// As on NOR flash, only erased bytes take a write: checked for the whole range first
static bool file_all_erased(int fd, size_t off, size_t len, int slot) {
  uint8_t buf[FILE_CHUNK];
  for (size_t done = 0; done < len; done += sizeof(buf)) {
    size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
    if (!file_pread(fd, off + done, buf, n)) return false;
    for (size_t i = 0; i < n; i++) {
      if (buf[i] == 0xFF) continue;
      MG_ERROR(("flash write at %lu of slot %d: byte %lu is not erased (erase its sector first)",
                (unsigned long) off, slot, (unsigned long) (off + done + i)));
      return false;
    }
  }
  return true;
}

#define FILE_WRITEBACK_STEP (1024UL * 1024)

// Each whole MiB a write completes goes to the disk now, while the upload goes on, so the
// sync at the end (before a boot record points at the slot) waits for the last piece only.
// Advice: the sync reports any error.
static void file_start_writeback(int fd, size_t off, size_t len) {
#if defined(__linux__)
  size_t from = off / FILE_WRITEBACK_STEP * FILE_WRITEBACK_STEP;
  size_t to = (off + len) / FILE_WRITEBACK_STEP * FILE_WRITEBACK_STEP;
  if (to > from) (void) sync_file_range(fd, (off_t) from, (off_t) (to - from), SYNC_FILE_RANGE_WRITE);
#else
  (void) fd, (void) off, (void) len;
#endif
}

static bool file_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  int fd = file_open(f, slot, "write");
  if (fd < 0) return false;
  size_t size = 0;
  bool ok = file_size(fd, &size);
  // Past the file's end all is erased: an upload, appending, reads nothing back
  if (ok && off < size) ok = file_all_erased(fd, off, len < size - off ? len : size - off, slot);
  // A write past the end would leave a hole, which reads as zeros: fill it erased
  if (ok && ((off > size && !file_fill_erased(fd, size, off - size)) || !file_pwrite(fd, off, (const uint8_t *) buf, len))) {
    MG_ERROR(("flash write of slot %d: %s", slot, strerror(errno)));
    ok = false;
  }
  if (ok) file_start_writeback(fd, off, len);
  return ok;
}

static bool file_read(struct ota_flash *f, int slot, size_t off, void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  int fd = file_open(f, slot, "read");
  if (fd < 0) return false;
  bool ok = file_pread(fd, off, (uint8_t *) buf, len);
  if (!ok) MG_ERROR(("flash read of slot %d: %s", slot, strerror(errno)));
  return ok;
}

// fsync reaches the file's data whichever descriptor wrote it
static bool file_sync(struct ota_flash *f, int slot) {
  if (!ota_flash_range_ok(f, slot, 0, 0, false)) return false;
  int fd = file_open(f, slot, "sync");
  if (fd < 0) return false;
  bool ok = fsync(fd) == 0;
  if (!ok) MG_ERROR(("flash sync of slot %d: %s", slot, strerror(errno)));
  return ok;
}

bool ota_flash_file_init(struct ota_flash *f, struct ota_flash_file *file, const char *dir, const char *name,
                         size_t slot_size, size_t sector_size) {
  if (sector_size == 0 || slot_size % sector_size != 0) {
    MG_ERROR(("flash files of %lu-byte slots: not whole %lu-byte sectors", (unsigned long) slot_size,
              (unsigned long) sector_size));
    return false;
  }
  file->dir = dir;
  file->name = name;
  file->fd[0] = file->fd[1] = -1;
  struct ota_flash ff = {file_erase, file_write, file_read, file_sync, sector_size, slot_size, file, 1};
  *f = ff;
  return true;
}

void ota_flash_file_close(struct ota_flash *f) {
  struct ota_flash_file *file = (struct ota_flash_file *) f->ctx;
  for (int i = 0; i < 2; i++) {
    if (file->fd[i] >= 0) close(file->fd[i]);
    file->fd[i] = -1;
  }
}
#endif
