// Replacing a whole file as one step on any mg_fs: the dashboard's settings, users and
// sessions are saved through it, whichever filesystem keeps them.
#include "mg_internal.h"

bool mg_fs_write_atomic(struct mg_fs *fs, const char *path, const void *buf, size_t len, unsigned mode) {
  (void) mode;
  if (fs == NULL || path == NULL || (buf == NULL && len > 0)) return false;
#if MG_ENABLE_POSIX_FS
  if (fs == &mg_fs_posix) return mg_file_write_atomic(path, buf, len, mode);
#endif
  if (fs->put != NULL) return fs->put(path, buf, len);  // mg_fs_flash: a record is atomic by itself
  if (mg_file_write(fs, path, buf, len)) return true;
  MG_ERROR(("cannot save %s", path));
  return false;
}
