// Mongoose's upload helpers: a file sent as a series of POSTs, each carrying one
// piece (?name=F&offset=N), appended to DIR/F; and the Basic Authorization line.
#include "mg_internal.h"

// A name is one path segment: no separators, no "." or "..", no controls. The
// client chooses it, so it must never reach outside dir.
static bool upload_name_ok(const char *name) {
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return false;
  for (const unsigned char *p = (const unsigned char *) name; *p != '\0'; p++) {
    if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == ':') return false;
  }
  return true;
}

static long upload_fail(struct mg_connection *c, int status, const char *why) {
  MG_INFO(("%lu upload refused: %s", c->id, why));
  mg_http_reply(c, status, "", "%s\n", why);
  return -1;
}

// Pieces must arrive in order: offset 0 starts (truncates) the file, any other
// offset must be the file's current size, so a lost or repeated piece is refused
// rather than leaving a hole or a duplicate. Replies itself; returns the file
// size after this piece, or -1 (the reply then says why).
long mg_http_upload(struct mg_connection *c, struct mg_http_message *hm, struct mg_fs *fs, const char *dir,
                    size_t max_size) {
  char name[MG_PATH_MAX], offset_str[24], path[MG_PATH_MAX];
  uint64_t offset = 0;
  size_t cur = 0;
  if (fs == NULL) fs = &mg_fs_posix;
  if (mg_http_get_var(&hm->query, "name", name, sizeof(name)) <= 0 || !upload_name_ok(name))
    return upload_fail(c, 400, "name: missing or not a plain file name");
  int n = mg_http_get_var(&hm->query, "offset", offset_str, sizeof(offset_str));
  if (n == MG_HTTP_VAR_UNDECODABLE || (n > 0 && !mg_str_to_u64(mg_str(offset_str), 10, &offset)))
    return upload_fail(c, 400, "offset: not a number");
  if (offset > max_size || hm->body.len > max_size - offset) return upload_fail(c, 413, "file too large");
  if (mg_snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) return upload_fail(c, 400, "name: too long");
  int flags = fs->st(path, &cur, NULL);
  if (offset > 0 && (flags == 0 || (flags & MG_FS_DIR) || cur != offset))
    return upload_fail(c, 409, "offset: does not match the size of what was uploaded so far");
  void *fd = fs->op(path, offset == 0 ? MG_FS_WRITE : MG_FS_READ | MG_FS_WRITE);
  if (fd == NULL) return upload_fail(c, 500, "cannot open the file");
  bool ok = offset == 0 || fs->sk(fd, (size_t) offset) == (size_t) offset;
  if (ok && hm->body.len > 0) ok = fs->wr(fd, hm->body.buf, hm->body.len) == hm->body.len;
  fs->cl(fd);
  if (!ok) return upload_fail(c, 500, "cannot write the file");
  long size = (long) (offset + hm->body.len);
  mg_http_reply(c, 200, "", "%ld\n", size);
  return size;
}

// "Authorization: Basic base64(user:pass)" (RFC 7617), for a request being written
void mg_http_bauth(struct mg_connection *c, const char *user, const char *pass) {
  char plain[256], b64[4 * sizeof(plain) / 3 + 4];
  size_t n = mg_snprintf(plain, sizeof(plain), "%s:%s", user == NULL ? "" : user, pass == NULL ? "" : pass);
  if (n >= sizeof(plain)) {
    mg_error(c, "mg_http_bauth: credentials longer than %lu bytes", (unsigned long) sizeof(plain) - 1);
    return;
  }
  mg_base64_encode((const unsigned char *) plain, n, b64, sizeof(b64));
  mg_printf(c, "Authorization: Basic %s\r\n", b64);
}
