// The auth endpoints (/api/auth..., /api/users...), the session gate every other /api/
// request passes, and the CSRF rule; the tables behind them live in auth_users.c and session*.c.
#include "dash/auth_internal.h"
#include "dash/dash_internal.h"


struct mg_auth *mg_auth_create(const char *data_dir) {
  struct mg_auth *auth = (struct mg_auth *) mg_calloc(1, sizeof(*auth));
  if (auth == NULL) return NULL;
  auth->iterations = MG_AUTH_PBKDF2_ITERATIONS;
  auth->idle_ms = MG_AUTH_IDLE_MS;
  auth->max_age_ms = MG_AUTH_MAX_AGE_MS;
  auth->fs = mg_dash_fs;  // NULL: no filesystem, users live in memory and a restart means setup again
  if (auth->fs != NULL && data_dir != NULL &&
      mg_snprintf(auth->path, sizeof(auth->path), "%s/" MG_AUTH_USERS_FILE, data_dir) >= sizeof(auth->path)) {
    MG_ERROR(("data directory path too long: %s; logins refused", data_dir));
    auth->path[0] = '\0';
    auth->broken = true;
    return auth;
  }
  mg_auth_users_load(auth);
  mg_auth_sessions_take(auth, mg_millis());  // After a restart of ours (an OTA update)
  return auth;
}

void mg_auth_free(struct mg_auth *auth) {
  if (auth == NULL) return;
  mg_auth_jobs_free(auth);
  memset(auth, 0, sizeof(*auth));  // Hashes and tokens do not linger in freed memory
  mg_free(auth);
}

bool mg_auth_log_due(uint64_t *last) {
  uint64_t now = mg_millis();
  if (*last != 0 && now - *last < 1000) return false;
  *last = now;
  return true;
}

// ---------------------------------------------------------------------------
// Replies

void mg_auth_reply_error(struct mg_connection *c, int status, const char *extra, const char *msg) {
  char headers[256];
  mg_snprintf(headers, sizeof(headers), MG_AUTH_JSON "%s", extra == NULL ? "" : extra);
  mg_http_reply(c, status, headers, "{\"error\":%m}\n", MG_ESC(msg));
}

static void auth_method_not_allowed(struct mg_connection *c, const char *allow) {
  char extra[64];
  mg_snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
  mg_auth_reply_error(c, 405, extra, "method not allowed");
}

// 200 {"user","level"} with the session's cookie
void mg_auth_reply_session(struct mg_connection *c, const struct mg_auth_session *s, int level) {
  char cookie[200], headers[300];
  mg_auth_cookie_header(cookie, sizeof(cookie), s, c->is_tls);
  mg_snprintf(headers, sizeof(headers), MG_AUTH_JSON "%s", cookie);
  mg_http_reply(c, 200, headers, "{\"user\":%m,\"level\":\"%s\"}\n", MG_ESC(s->user), mg_dash_level_name(level));
}

// ---------------------------------------------------------------------------
// Requests

static bool auth_method(struct mg_http_message *hm, const char *m) {
  return mg_str_eq(hm->method, m);
}

bool mg_auth_is_write(struct mg_http_message *hm) {
  return auth_method(hm, "POST") || auth_method(hm, "PUT") || auth_method(hm, "PATCH") || auth_method(hm, "DELETE");
}

// A cross-site HTML form can send neither a JSON content type nor a custom header
bool mg_auth_csrf_ok(struct mg_http_message *hm) {
  struct mg_str *xrw = mg_http_get_header(hm, "X-Requested-With");
  if (xrw != NULL && mg_strcasecmp(*xrw, mg_str("meerkat")) == 0) return true;
  struct mg_str *ct = mg_http_get_header(hm, "Content-Type"), type, params;
  if (ct == NULL) return false;
  mg_span(*ct, &type, &params, ';');
  return mg_strcasecmp(mg_str_trim(type), mg_str("application/json")) == 0;
}

static bool auth_csrf_check(struct mg_connection *c, struct mg_http_message *hm) {
  if (!mg_auth_is_write(hm) || mg_auth_csrf_ok(hm)) return true;
  mg_auth_reply_error(c, 415, NULL,
             "state-changing requests need Content-Type: application/json (or X-Requested-With: meerkat)");
  return false;
}

// The body must be one JSON object of at most MG_AUTH_MAX_BODY bytes; else 413 / 400
static bool auth_body_ok(struct mg_connection *c, struct mg_http_message *hm) {
  if (hm->body.len > MG_AUTH_MAX_BODY) {
    char msg[64];
    mg_snprintf(msg, sizeof(msg), "request body too large (at most %d bytes)", (int) MG_AUTH_MAX_BODY);
    mg_auth_reply_error(c, 413, NULL, msg);
    return false;
  }
  int len = 0, ofs = mg_json_get(hm->body, "$", &len);
  if (ofs < 0) {
    char why[160], msg[sizeof(why) + 32];  // The longest message of mg_json_check fits
    mg_json_check(hm->body, why, sizeof(why));
    mg_snprintf(msg, sizeof(msg), "the body is not valid JSON: %s", why);
    mg_auth_reply_error(c, 400, NULL, msg);
    return false;
  }
  if (hm->body.buf[ofs] != '{') {
    mg_auth_reply_error(c, 400, NULL, "the body must be a JSON object");
    return false;
  }
  return true;
}

// The string member name of the body into buf; false (400 answered) when it is not there
static bool auth_field(struct mg_connection *c, struct mg_http_message *hm, const char *name, char *buf,
                       size_t len) {
  char path[32], msg[96];
  long n = 0;
  mg_snprintf(path, sizeof(path), "$.%s", name);
  int r = mg_auth_json_str(hm->body, path, buf, len, &n);
  if (r == MG_AUTH_STR_OK) return true;
  if (r == MG_AUTH_STR_ABSENT) mg_snprintf(msg, sizeof(msg), "missing field \"%s\"", name);
  else if (r == MG_AUTH_STR_NOT_STRING) mg_snprintf(msg, sizeof(msg), "\"%s\" must be a string", name);
  else if (r == MG_AUTH_STR_NUL) mg_snprintf(msg, sizeof(msg), "\"%s\" must not contain NUL (\\u0000)", name);
  else mg_snprintf(msg, sizeof(msg), "\"%s\" is too long (%ld bytes of UTF-8)", name, n);
  mg_auth_reply_error(c, 400, NULL, msg);
  return false;
}

// Lengths count bytes of UTF-8, as the buffers and the hash do (core/dash/API.md)
static bool auth_password_ok(struct mg_connection *c, const char *pass) {
  size_t n = strlen(pass);
  if (n >= MG_AUTH_PASS_MIN && n <= MG_AUTH_PASS_MAX) return true;
  char msg[80];
  mg_snprintf(msg, sizeof(msg), "password must be %d to %d bytes of UTF-8 (this is %lu)", MG_AUTH_PASS_MIN,
              MG_AUTH_PASS_MAX, (unsigned long) n);
  mg_auth_reply_error(c, 400, NULL, msg);
  return false;
}

// Setup and login need a readable users file: fail closed, and say how to recover
static bool auth_file_ok(struct mg_connection *c, struct mg_auth *auth) {
  if (!auth->broken) return true;
  char msg[MG_PATH_MAX + 96];
  mg_snprintf(msg, sizeof(msg), "users file %s is corrupt or unreadable: remove it to set up the device again",
              auth->path);
  mg_auth_reply_error(c, 503, NULL, msg);
  return false;
}

static struct mg_auth_user *auth_session_user(struct mg_auth *auth, struct mg_http_message *hm,
                                              struct mg_auth_session **sp) {
  struct mg_auth_session *s = mg_auth_session_find(auth, mg_auth_cookie_token(hm), mg_millis());
  struct mg_auth_user *u = s == NULL ? NULL : mg_auth_user_find(auth, s->user);
  if (s != NULL && u == NULL) mg_auth_session_end(auth, s);  // Its user is gone
  if (sp != NULL) *sp = u == NULL ? NULL : s;
  return u;
}

int mg_auth_level(struct mg_auth *auth, struct mg_http_message *hm, char *user, size_t userlen) {
  struct mg_auth_user *u = auth_session_user(auth, hm, NULL);
  if (user != NULL && userlen > 0) mg_snprintf(user, userlen, "%s", u == NULL ? "" : u->name);
  return u == NULL ? MG_DASH_NOBODY : u->level;
}

uint64_t mg_auth_session_id(struct mg_auth *auth, struct mg_http_message *hm) {
  struct mg_auth_session *s = NULL;
  auth_session_user(auth, hm, &s);
  return s == NULL ? 0 : s->id;
}

int mg_auth_session_level(struct mg_auth *auth, uint64_t id) {
  // Each check is use: an open dashboard is a user at work, its session stays alive
  struct mg_auth_session *s = mg_auth_session_by_id(auth, id, mg_millis());
  struct mg_auth_user *u = s == NULL ? NULL : mg_auth_user_find(auth, s->user);
  if (s != NULL && u == NULL) mg_auth_session_end(auth, s);  // Its user is gone
  return u == NULL ? MG_DASH_NOBODY : u->level;
}

int mg_auth_gate(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm, int need) {
  if (!mg_auth_host_check(auth, c, hm)) return MG_DASH_NOBODY;
  int level = mg_auth_level(auth, hm, NULL, 0);
  if (level == MG_DASH_NOBODY) {
    mg_auth_reply_error(c, 401, MG_AUTH_CHALLENGE, "login required");
    return MG_DASH_NOBODY;
  }
  if (!auth_csrf_check(c, hm)) return MG_DASH_NOBODY;
  if (level < need) {
    mg_auth_reply_error(c, 403, NULL, mg_dash_forbidden(need));
    return MG_DASH_NOBODY;
  }
  return level;
}

// ---------------------------------------------------------------------------
// Endpoints

// GET /api/auth: who am I, and whether the device still waits for its first setup
static void auth_whoami(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  if (!auth_method(hm, "GET") && !auth_method(hm, "HEAD")) {
    auth_method_not_allowed(c, "GET, HEAD");
    return;
  }
  struct mg_auth_user *u = auth_session_user(auth, hm, NULL);
  bool setup = !auth->broken && mg_auth_admins(auth) == 0;
  if (u == NULL) {
    mg_http_reply(c, 200, MG_AUTH_JSON, "{\"setup\":%s,\"user\":null,\"level\":null}\n", setup ? "true" : "false");
  } else {
    mg_http_reply(c, 200, MG_AUTH_JSON, "{\"setup\":%s,\"user\":%m,\"level\":\"%s\"}\n", setup ? "true" : "false",
                  MG_ESC(u->name), mg_dash_level_name(u->level));
  }
}

// Common start of the POST endpoints that need no session
static bool auth_post_start(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  if (!auth_method(hm, "POST")) {
    auth_method_not_allowed(c, "POST");
    return false;
  }
  return auth_csrf_check(c, hm) && auth_body_ok(c, hm) && auth_file_ok(c, auth);
}

// POST /api/auth/setup {"password"}: the first admin, allowed only while there is none
static void auth_setup(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  char pass[2 * MG_AUTH_PASS_MAX + 2];
  if (!auth_post_start(auth, c, hm)) return;
  if (mg_auth_admins(auth) > 0) {
    mg_auth_reply_error(c, 409, NULL, "already set up");
    return;
  }
  if (!auth_field(c, hm, "password", pass, sizeof(pass)) || !auth_password_ok(c, pass)) return;
  mg_auth_job_start(auth, c, MG_AUTH_JOB_SETUP, "admin", MG_DASH_ADMIN, pass);  // Answered when hashed
  mg_auth_wipe(pass, sizeof(pass));
}

// POST /api/auth/login {"user","password"}
static void auth_login(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  char name[2 * MG_AUTH_NAME_MAX + 2], pass[2 * MG_AUTH_PASS_MAX + 2];
  if (!auth_post_start(auth, c, hm)) return;
  if (!auth_field(c, hm, "user", name, sizeof(name)) || !auth_field(c, hm, "password", pass, sizeof(pass))) return;
  unsigned wait = mg_auth_throttle_wait(auth, &c->rem, name, mg_millis());
  if (wait > 0) {
    char extra[48];
    mg_snprintf(extra, sizeof(extra), "Retry-After: %u\r\n", wait);
    mg_auth_reply_error(c, 429, extra, "too many failed logins: wait and try again");
  } else {
    mg_auth_job_start(auth, c, MG_AUTH_JOB_LOGIN, name, MG_DASH_NOBODY, pass);  // Answered when hashed
  }
  mg_auth_wipe(pass, sizeof(pass));
}

// POST /api/auth/logout: ends the session and clears the cookie
static void auth_logout(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  if (!auth_method(hm, "POST")) {
    auth_method_not_allowed(c, "POST");
    return;
  }
  if (mg_auth_gate(auth, c, hm, MG_DASH_VIEWER) == MG_DASH_NOBODY) return;
  struct mg_auth_session *s = NULL;
  auth_session_user(auth, hm, &s);
  if (s != NULL) mg_auth_session_end(auth, s);
  char cookie[200], headers[300];
  mg_auth_cookie_header(cookie, sizeof(cookie), NULL, c->is_tls);
  mg_snprintf(headers, sizeof(headers), MG_AUTH_JSON "%s", cookie);
  mg_http_reply(c, 200, headers, "{}\n");
}

// GET /api/users: the list
static void auth_users_list(struct mg_auth *auth, struct mg_connection *c) {
  struct mg_iobuf io = {NULL, 0, 0, 256};
  bool ok = mg_iobuf_printf(&io, "{\"users\":[");
  const char *sep = "";
  for (size_t i = 0; i < MG_AUTH_MAX_USERS; i++) {
    struct mg_auth_user *u = &auth->users[i];
    if (u->name[0] == '\0') continue;
    ok = ok && mg_iobuf_printf(&io, "%s{\"user\":%m,\"level\":\"%s\"}", sep, MG_ESC(u->name), mg_dash_level_name(u->level));
    sep = ",";
  }
  ok = ok && mg_iobuf_printf(&io, "]}");
  if (ok) mg_http_reply(c, 200, MG_AUTH_JSON, "%.*s\n", (int) io.len, (char *) io.buf);
  else mg_auth_reply_error(c, 500, NULL, "out of memory");
  mg_iobuf_free(&io);
}

// POST /api/users {"user","password","level"}
static void auth_users_add(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  char name[2 * MG_AUTH_NAME_MAX + 2], pass[2 * MG_AUTH_PASS_MAX + 2], level_name[16];
  if (!auth_body_ok(c, hm) || !auth_field(c, hm, "user", name, sizeof(name)) ||
      !auth_field(c, hm, "password", pass, sizeof(pass)) || !auth_field(c, hm, "level", level_name, sizeof(level_name))) {
    return;
  }
  int level = mg_dash_level_parse(mg_str(level_name));
  if (!mg_auth_name_ok(mg_str(name))) {
    mg_auth_reply_error(c, 400, NULL, "user names are 1 to 32 characters of A-Z a-z 0-9 _ . -");
  } else if (level == MG_DASH_NOBODY) {
    mg_auth_reply_error(c, 400, NULL, "level must be \"viewer\", \"operator\" or \"admin\"");
  } else if (!auth_password_ok(c, pass)) {
    // Answered
  } else if (mg_auth_user_find(auth, name) != NULL) {
    mg_auth_reply_error(c, 409, NULL, "user exists");
  } else {
    struct mg_auth_job *job = mg_auth_job_start(auth, c, MG_AUTH_JOB_ADD, name, level, pass);  // Answered when hashed
    if (job != NULL) job->session = mg_auth_session_id(auth, hm);  // Checked again then
  }
  mg_auth_wipe(pass, sizeof(pass));
}

// DELETE /api/users/NAME
static void auth_users_delete(struct mg_auth *auth, struct mg_connection *c, struct mg_str enc) {
  char name[MG_AUTH_NAME_MAX + 1];
  struct mg_auth_user *u = NULL;
  if (mg_url_decode(enc.buf, enc.len, name, sizeof(name), 0) > 0) u = mg_auth_user_find(auth, name);
  if (u == NULL) {
    mg_auth_reply_error(c, 404, NULL, "no such user");
    return;
  }
  if (u->level == MG_DASH_ADMIN && mg_auth_admins(auth) == 1) {
    mg_auth_reply_error(c, 409, NULL, "cannot remove the last admin");
    return;
  }
  struct mg_auth_user old = *u;
  memset(u, 0, sizeof(*u));
  if (!mg_auth_users_save(auth)) {
    *u = old;
    mg_auth_reply_error(c, 500, NULL, "cannot save the users file: see the device log");
    return;
  }
  mg_auth_sessions_end_user(auth, old.name);
  MG_INFO(("user %s removed", old.name));
  mg_http_reply(c, 200, MG_AUTH_JSON, "{}\n");
}

bool mg_auth_handle(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  struct mg_str caps[2];
  if (!mg_auth_host_check(auth, c, hm)) {
    return true;  // Whatever the URL: setup needs no session, so the name must be checked first
  } else if (mg_str_eq(hm->uri, "/api/auth")) {
    auth_whoami(auth, c, hm);
  } else if (mg_str_eq(hm->uri, "/api/auth/setup")) {
    auth_setup(auth, c, hm);
  } else if (mg_str_eq(hm->uri, "/api/auth/login")) {
    auth_login(auth, c, hm);
  } else if (mg_str_eq(hm->uri, "/api/auth/logout")) {
    auth_logout(auth, c, hm);
  } else if (mg_str_eq(hm->uri, "/api/users")) {
    bool get = auth_method(hm, "GET") || auth_method(hm, "HEAD");
    if (!get && !auth_method(hm, "POST")) auth_method_not_allowed(c, "GET, HEAD, POST");
    else if (mg_auth_gate(auth, c, hm, MG_DASH_ADMIN) == MG_DASH_NOBODY) return true;
    else if (get) auth_users_list(auth, c);
    else auth_users_add(auth, c, hm);
  } else if (mg_match(hm->uri, mg_str("/api/users/*"), caps) && caps[0].len > 0) {
    if (!auth_method(hm, "DELETE")) auth_method_not_allowed(c, "DELETE");
    else if (mg_auth_gate(auth, c, hm, MG_DASH_ADMIN) != MG_DASH_NOBODY) auth_users_delete(auth, c, caps[0]);
  } else {
    return false;
  }
  return true;
}
