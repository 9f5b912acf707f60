// The user table: names, levels, salted PBKDF2-HMAC-SHA256 hashes, and the users file
// (<data dir>/users.json on the auth's mg_fs), read at start and written atomically with mode 0600.
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "dash/auth_internal.h"

// Largest users file read: every user's line with room to spare
#define USERS_FILE_MAX (MG_AUTH_MAX_USERS * 256 + 256)

void mg_auth_wipe(void *buf, size_t len) {
  volatile unsigned char *p = (volatile unsigned char *) buf;
  while (len-- > 0) *p++ = 0;
}

bool mg_auth_name_ok(struct mg_str name) {
  if (name.len == 0 || name.len > MG_AUTH_NAME_MAX) return false;
  for (size_t i = 0; i < name.len; i++) {
    char ch = name.buf[i];
    if (!isalnum((unsigned char) ch) && ch != '_' && ch != '.' && ch != '-') return false;
  }
  return true;
}

struct mg_auth_user *mg_auth_user_find(struct mg_auth *auth, const char *name) {
  for (size_t i = 0; i < MG_AUTH_MAX_USERS; i++) {
    if (auth->users[i].name[0] != '\0' && strcmp(auth->users[i].name, name) == 0) return &auth->users[i];
  }
  return NULL;
}

size_t mg_auth_admins(const struct mg_auth *auth) {
  size_t n = 0;
  for (size_t i = 0; i < MG_AUTH_MAX_USERS; i++) {
    if (auth->users[i].name[0] != '\0' && auth->users[i].level == MG_DASH_ADMIN) n++;
  }
  return n;
}

bool mg_auth_hash_set(struct mg_auth_user *u, const char *pass, size_t len, uint32_t iterations) {
  if (!mg_random(u->salt, sizeof(u->salt))) return false;
  u->iterations = iterations;
  mg_pbkdf2_sha256(pass, len, u->salt, sizeof(u->salt), iterations, u->hash, sizeof(u->hash));
  return true;
}

bool mg_auth_hash_ok(const struct mg_auth_user *u, const char *pass, size_t len) {
  unsigned char hash[MG_AUTH_HASH_LEN];
  mg_pbkdf2_sha256(pass, len, u->salt, sizeof(u->salt), u->iterations, hash, sizeof(hash));
  return mg_timingsafe_eq(hash, u->hash, sizeof(hash));
}

struct mg_auth_user *mg_auth_user_put(struct mg_auth *auth, const struct mg_auth_user *u) {
  for (size_t i = 0; i < MG_AUTH_MAX_USERS; i++) {
    if (auth->users[i].name[0] != '\0') continue;
    auth->users[i] = *u;
    return &auth->users[i];
  }
  return NULL;
}

struct mg_auth_user *mg_auth_user_add(struct mg_auth *auth, const char *name, const char *pass, int level) {
  struct mg_auth_user u;
  memset(&u, 0, sizeof(u));
  mg_snprintf(u.name, sizeof(u.name), "%s", name);
  u.level = level;
  if (!mg_auth_hash_set(&u, pass, strlen(pass), auth->iterations)) {
    MG_ERROR(("no random bytes for a password salt"));
    return NULL;
  }
  struct mg_auth_user *slot = mg_auth_user_put(auth, &u);
  mg_auth_wipe(&u, sizeof(u));
  return slot;
}

// ---------------------------------------------------------------------------
// The users file: {"users":[{"user":..,"level":..,"iterations":N,"salt":B64,"hash":B64},...]}

int mg_auth_json_str(struct mg_str json, const char *path, char *buf, size_t len, long *n) {
  struct mg_str tok = mg_json_get_tok(json, path);
  bool nul = false;
  if (tok.buf == NULL || tok.len == 0) return MG_AUTH_STR_ABSENT;
  if (tok.len < 2 || tok.buf[0] != '"') return MG_AUTH_STR_NOT_STRING;
  struct mg_str body = mg_str_n(tok.buf + 1, tok.len - 2);
  long bytes = mg_json_unescaped_len(body, &nul);
  if (n != NULL) *n = bytes;
  if (bytes < 0) return MG_AUTH_STR_NOT_STRING;  // Never in a document mg_json_get accepted
  if (nul) return MG_AUTH_STR_NUL;
  if ((size_t) bytes >= len || !mg_json_unescape_body(body, buf, len)) return MG_AUTH_STR_TOO_LONG;
  return MG_AUTH_STR_OK;
}

static bool users_json_str(struct mg_str json, const char *path, char *buf, size_t len) {
  return mg_auth_json_str(json, path, buf, len, NULL) == MG_AUTH_STR_OK;
}

// A base64 string at path that decodes to exactly len bytes
static bool users_json_bytes(struct mg_str json, const char *path, unsigned char *out, size_t len) {
  char b64[64], raw[48];
  if (!users_json_str(json, path, b64, sizeof(b64))) return false;
  if (mg_base64_decode(b64, strlen(b64), raw, sizeof(raw)) != len) return false;
  memcpy(out, raw, len);
  return true;
}

static bool users_parse_one(struct mg_str obj, struct mg_auth_user *u) {
  char level[16];
  double iterations;
  if (obj.len == 0 || obj.buf[0] != '{') return false;
  if (!users_json_str(obj, "$.user", u->name, sizeof(u->name)) || !mg_auth_name_ok(mg_str(u->name))) return false;
  if (!users_json_str(obj, "$.level", level, sizeof(level))) return false;
  u->level = mg_dash_level_parse(mg_str(level));
  if (u->level == MG_DASH_NOBODY) return false;
  if (!mg_json_get_num(obj, "$.iterations", &iterations) || iterations < 1 || iterations > 1e9 ||
      iterations != (double) (uint32_t) iterations) {
    return false;
  }
  u->iterations = (uint32_t) iterations;
  return users_json_bytes(obj, "$.salt", u->salt, sizeof(u->salt)) &&
         users_json_bytes(obj, "$.hash", u->hash, sizeof(u->hash));
}

// Fills the table from the document; false (table cleared) if anything is off
static bool users_parse(struct mg_auth *auth, struct mg_str json) {
  int len = 0, ofs = mg_json_get(json, "$.users", &len);
  if (ofs < 0 || json.buf[ofs] != '[') return false;
  struct mg_str list = mg_str_n(json.buf + ofs, (size_t) len), key, val;
  size_t n = 0, pos = 0;
  while ((pos = mg_json_next(list, pos, &key, &val)) > 0) {
    struct mg_auth_user u;
    memset(&u, 0, sizeof(u));
    if (n >= MG_AUTH_MAX_USERS || !users_parse_one(val, &u) || mg_auth_user_find(auth, u.name) != NULL) break;
    auth->users[n++] = u;
  }
  if (pos == 0 && mg_auth_admins(auth) > 0) return true;  // Walked the whole list; we never write one without an admin
  memset(auth->users, 0, sizeof(auth->users));
  return false;
}

static bool users_format(struct mg_auth *auth, struct mg_iobuf *io) {
  bool ok = mg_iobuf_printf(io, "{\"users\":[");
  const char *sep = "\n  ";
  for (size_t i = 0; i < MG_AUTH_MAX_USERS; i++) {
    struct mg_auth_user *u = &auth->users[i];
    if (u->name[0] == '\0') continue;
    ok = ok && mg_iobuf_printf(io, "%s{\"user\":%m,\"level\":\"%s\",\"iterations\":%lu,\"salt\":\"%M\",\"hash\":\"%M\"}",
                               sep, MG_ESC(u->name), mg_dash_level_name(u->level), (unsigned long) u->iterations,
                               mg_print_base64, (int) sizeof(u->salt), u->salt, mg_print_base64,
                               (int) sizeof(u->hash), u->hash);
    sep = ",\n  ";
  }
  return ok && mg_iobuf_printf(io, "\n]}\n");
}

bool mg_auth_users_save(struct mg_auth *auth) {
  if (auth->path[0] == '\0') return true;  // Users kept in memory (no filesystem)
  struct mg_iobuf io = {NULL, 0, 0, 256};
  bool ok = users_format(auth, &io);
  if (!ok) MG_ERROR(("out of memory writing %s", auth->path));
  ok = ok && mg_fs_write_atomic(auth->fs, auth->path, io.buf, io.len, 0600);
  mg_iobuf_free(&io);
  return ok;
}

// The file whole into buf (size bytes and a NUL); false on a read error
static bool users_read(struct mg_fs *fs, const char *path, char *buf, size_t size) {
  void *fd = fs->op(path, MG_FS_READ);
  size_t got = 0, n = 1;
  if (fd == NULL) return false;
  while (got < size && n > 0) got += (n = fs->rd(fd, buf + got, size - got));
  fs->cl(fd);
  return got == size;
}

void mg_auth_users_load(struct mg_auth *auth) {
  memset(auth->users, 0, sizeof(auth->users));
  auth->broken = false;
  if (auth->path[0] == '\0') return;
  size_t size = 0;
  int flags = auth->fs->st(auth->path, &size, NULL);
  if (flags == 0) {
    MG_INFO(("no users file %s: setup mode, the dashboard asks for the admin's password", auth->path));
    return;
  }
  char *buf = size > USERS_FILE_MAX ? NULL : (char *) mg_calloc(1, size + 1);
  if (size > USERS_FILE_MAX) {
    MG_ERROR(("users file %s is corrupt: remove it to set up the device again; logins refused", auth->path));
  } else if (buf == NULL) {
    MG_ERROR(("out of memory reading %s: logins refused", auth->path));
  } else if ((flags & MG_FS_DIR) || !users_read(auth->fs, auth->path, buf, size)) {
    MG_ERROR(("users file %s cannot be read: fix it or remove it to set up the device again; logins refused",
              auth->path));
  } else if (users_parse(auth, mg_str_n(buf, size))) {
    mg_free(buf);
    return;
  } else {
    MG_ERROR(("users file %s is corrupt: remove it to set up the device again; logins refused", auth->path));
  }
  auth->broken = true;
  mg_free(buf);
}
