// Sessions across a restart of the device's program (an OTA update, a rollback): saved
// to a file just before the exec, taken back and removed by the next program's start.
#include "dash/auth_internal.h"

// Layout, little-endian: magic "MKSH", format 1, count, saved at (mg_millis, 8 bytes),
// then per session token, user (NUL-padded), created, used (8 bytes each, mg_millis),
// then a CRC-32 of all before. mg_millis is the boot's monotonic clock, the same in the
// next program, so the times need no translation.
#define HANDOVER_FILE "sessions.handover"
#define HANDOVER_FORMAT 1
#define HANDOVER_HEAD 14
#define HANDOVER_ITEM (MG_AUTH_TOKEN_LEN + MG_AUTH_NAME_MAX + 1 + 16)
#define HANDOVER_MAX (HANDOVER_HEAD + MG_AUTH_MAX_SESSIONS * HANDOVER_ITEM + 4)
static const char s_handover_magic[4] = {'M', 'K', 'S', 'H'};

static uint64_t handover_get(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  while (n-- > 0) v = v << 8 | p[n];
  return v;
}

// Pure: the sessions in buf into auth's table, if buf is a whole, recent handover whose
// users still exist. Returns how many came back.
int mg_auth_sessions_decode(struct mg_auth *auth, const uint8_t *buf, size_t len, uint64_t now) {
  if (len < HANDOVER_HEAD + 4 || memcmp(buf, s_handover_magic, 4) != 0 || buf[4] != HANDOVER_FORMAT) return 0;
  size_t count = buf[5], body = HANDOVER_HEAD + count * HANDOVER_ITEM;
  uint64_t saved = handover_get(buf + 6, 8);
  if (count > MG_AUTH_MAX_SESSIONS || len != body + 4) return 0;
  if (handover_get(buf + body, 4) != mg_crc32(0, (const char *) buf, body)) return 0;
  if (now < saved || now - saved > MG_AUTH_HANDOVER_MS) return 0;  // Another boot, or long ago
  int taken = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *p = buf + HANDOVER_HEAD + i * HANDOVER_ITEM;
    char user[MG_AUTH_NAME_MAX + 1];
    memcpy(user, p + MG_AUTH_TOKEN_LEN, sizeof(user));
    user[MG_AUTH_NAME_MAX] = '\0';
    uint64_t created = handover_get(p + HANDOVER_ITEM - 16, 8), used = handover_get(p + HANDOVER_ITEM - 8, 8);
    if (mg_auth_user_find(auth, user) == NULL || created > now || used > now) continue;  // Gone, or not ours
    struct mg_auth_session *s = mg_auth_session_new(auth, user, now);
    if (s == NULL) break;
    memcpy(s->token, p, MG_AUTH_TOKEN_LEN);
    s->created = created;
    s->used = used;
    taken++;
  }
  return taken;
}

static void handover_put(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++, v >>= 8) p[i] = (uint8_t) v;
}

// Beside the users file: same directory, same owner
static bool handover_path(const struct mg_auth *auth, char *buf, size_t len) {
  const char *slash = strrchr(auth->path, '/');
  if (auth->path[0] == '\0' || slash == NULL) return false;
  return mg_snprintf(buf, len, "%.*s/" HANDOVER_FILE, (int) (slash - auth->path), auth->path) < len;
}

bool mg_auth_sessions_save(struct mg_auth *auth) {
  static uint8_t buf[HANDOVER_MAX];
  char path[MG_PATH_MAX];
  uint64_t now = mg_millis();
  size_t n = HANDOVER_HEAD, count = 0;
  if (!handover_path(auth, path, sizeof(path))) return false;
  for (size_t i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {
    const struct mg_auth_session *s = &auth->sessions[i];
    if (s->user[0] == '\0') continue;
    memcpy(buf + n, s->token, MG_AUTH_TOKEN_LEN);
    memset(buf + n + MG_AUTH_TOKEN_LEN, 0, MG_AUTH_NAME_MAX + 1);
    memcpy(buf + n + MG_AUTH_TOKEN_LEN, s->user, strlen(s->user));
    handover_put(buf + n + HANDOVER_ITEM - 16, s->created, 8);
    handover_put(buf + n + HANDOVER_ITEM - 8, s->used, 8);
    n += HANDOVER_ITEM;
    count++;
  }
  memcpy(buf, s_handover_magic, sizeof(s_handover_magic));
  buf[4] = HANDOVER_FORMAT;
  buf[5] = (uint8_t) count;
  handover_put(buf + 6, now, 8);
  handover_put(buf + n, mg_crc32(0, (const char *) buf, n), 4);
  bool ok = mg_fs_write_atomic(auth->fs, path, buf, n + 4, 0600);
  memset(buf, 0, sizeof(buf));  // Tokens do not linger
  if (ok) MG_INFO(("%lu sessions handed over to the next start", (unsigned long) count));
  return ok;
}


int mg_auth_sessions_take(struct mg_auth *auth, uint64_t now) {
  char path[MG_PATH_MAX];
  if (!handover_path(auth, path, sizeof(path))) return 0;
  if (auth->fs->st(path, NULL, NULL) == 0) return 0;
  struct mg_str data = mg_file_read(auth->fs, path);
  if (data.buf == NULL) return 0;
  auth->fs->rm(path);  // Read once: a later start finds nothing
  int taken = mg_auth_sessions_decode(auth, (const uint8_t *) data.buf, data.len, now);
  memset(data.buf, 0, data.len);
  mg_free(data.buf);
  MG_INFO(("%d sessions taken over from the last start", taken));
  return taken;
}
