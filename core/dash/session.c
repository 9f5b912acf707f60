// Login sessions: random tokens in the mk_session cookie, a bounded table that evicts the
// least recently used, idle and absolute expiry, and the Set-Cookie lines.
#include "dash/auth_internal.h"

static bool session_expired(const struct mg_auth *auth, const struct mg_auth_session *s, uint64_t now) {
  return now - s->used >= auth->idle_ms || now - s->created >= auth->max_age_ms;
}

struct mg_auth_session *mg_auth_session_new(struct mg_auth *auth, const char *user, uint64_t now) {
  struct mg_auth_session *s = NULL, *lru = NULL;
  for (size_t i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {
    struct mg_auth_session *t = &auth->sessions[i];
    if (t->user[0] != '\0' && session_expired(auth, t, now)) mg_auth_session_end(auth, t);
    if (t->user[0] == '\0') {
      if (s == NULL) s = t;
    } else if (lru == NULL || t->used < lru->used) {
      lru = t;
    }
  }
  if (s == NULL) {
    MG_INFO(("session table full: the least recently used session, of %s, ends", lru->user));
    s = lru;
  }
  mg_auth_session_end(auth, s);
  if (!mg_random(s->token, sizeof(s->token))) {
    MG_ERROR(("no random bytes for a session token"));
    return NULL;
  }
  mg_snprintf(s->user, sizeof(s->user), "%s", user);
  s->created = s->used = now;
  s->id = ++auth->last_session_id;
  return s;
}

struct mg_auth_session *mg_auth_session_find(struct mg_auth *auth, struct mg_str token, uint64_t now) {
  char raw[MG_AUTH_TOKEN_LEN + 4];
  if (token.len == 0 || token.len > 64 ||
      mg_base64url_decode(token.buf, token.len, raw, sizeof(raw)) != MG_AUTH_TOKEN_LEN) {
    return NULL;
  }
  struct mg_auth_session *found = NULL;
  for (size_t i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {  // Every slot, compared in constant time
    struct mg_auth_session *s = &auth->sessions[i];
    if (s->user[0] != '\0' && mg_timingsafe_eq(s->token, raw, MG_AUTH_TOKEN_LEN)) found = s;
  }
  if (found == NULL) return NULL;
  if (session_expired(auth, found, now)) {
    mg_auth_session_end(auth, found);
    return NULL;
  }
  found->used = now;
  return found;
}

struct mg_auth_session *mg_auth_session_by_id(struct mg_auth *auth, uint64_t id, uint64_t now) {
  for (size_t i = 0; id != 0 && i < MG_AUTH_MAX_SESSIONS; i++) {
    struct mg_auth_session *s = &auth->sessions[i];
    if (s->user[0] == '\0' || s->id != id) continue;
    if (session_expired(auth, s, now)) {
      mg_auth_session_end(auth, s);
      return NULL;
    }
    s->used = now;
    return s;
  }
  return NULL;
}

void mg_auth_session_end(struct mg_auth *auth, struct mg_auth_session *s) {
  if (s->user[0] != '\0') auth->changes++;  // Its sockets close now (mg_auth_changes)
  memset(s, 0, sizeof(*s));
}

uint32_t mg_auth_changes(const struct mg_auth *auth) {
  return auth->changes;
}

void mg_auth_sessions_end_user(struct mg_auth *auth, const char *user) {
  for (size_t i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {
    if (strcmp(auth->sessions[i].user, user) == 0) mg_auth_session_end(auth, &auth->sessions[i]);
  }
}

struct mg_str mg_auth_cookie_token(struct mg_http_message *hm) {
  struct mg_str *cookie = mg_http_get_header(hm, "Cookie");
  if (cookie == NULL) return mg_str_n(NULL, 0);
  struct mg_str v = mg_http_get_header_var(*cookie, mg_str(MG_AUTH_COOKIE));
  return v.buf == NULL ? mg_str_n(NULL, 0) : v;
}

void mg_auth_cookie_header(char *buf, size_t len, const struct mg_auth_session *s, bool secure) {
  char token[MG_AUTH_TOKEN_LEN * 2] = "";
  if (s != NULL) mg_base64url_encode(s->token, sizeof(s->token), token, sizeof(token));
  mg_snprintf(buf, len, "Set-Cookie: " MG_AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s%s\r\n", token,
              secure ? "; Secure" : "", s == NULL ? "; Max-Age=0" : "");
}
