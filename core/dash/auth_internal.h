// Users and sessions inside the core: the tables behind struct mg_auth and the functions
// its files share (auth.c: endpoints; auth_users.c: users and their file; session*.c).
#ifndef MG_AUTH_INTERNAL_H
#define MG_AUTH_INTERNAL_H

#include "mg_internal.h"

#define MG_AUTH_NAME_MAX 32    // User names: 1..32 of [A-Za-z0-9_.-]
#define MG_AUTH_PASS_MIN 8
#define MG_AUTH_PASS_MAX 128
#define MG_AUTH_SALT_LEN 16
#define MG_AUTH_HASH_LEN 32
#define MG_AUTH_TOKEN_LEN 32   // Session token bytes; 43 characters of base64url
#define MG_AUTH_COOKIE "mk_session"
#define MG_AUTH_FREE_FAILURES 5  // Failed logins in a row before attempts must wait
#define MG_AUTH_MAX_WAIT_S 60

struct mg_auth_user {
  char name[MG_AUTH_NAME_MAX + 1];  // "" marks a free slot
  int level;                        // MG_DASH_VIEWER, MG_DASH_OPERATOR or MG_DASH_ADMIN
  uint32_t iterations;              // PBKDF2 iterations this hash was made with
  unsigned char salt[MG_AUTH_SALT_LEN];
  unsigned char hash[MG_AUTH_HASH_LEN];
};

struct mg_auth_session {
  unsigned char token[MG_AUTH_TOKEN_LEN];
  char user[MG_AUTH_NAME_MAX + 1];  // "" marks a free slot
  uint64_t created, used;           // mg_millis() at login and at the last request
  uint64_t id;                      // Names it to connections that outlive a request; never reused
};

// Failed logins as one user name: from one address (auth->pairs), or from anywhere (auth->names)
struct mg_auth_throttle {
  struct mg_addr addr;              // Client address, port 0 (pairs only)
  char name[MG_AUTH_NAME_MAX + 1];  // As typed, cut to the longest a user's name can be
  unsigned failures;                // Failed logins in a row; 0 marks a free slot
  uint64_t seen;                    // The latest (mg_millis): the wait counts from it
};

// A request whose password is being hashed (auth_job.c)
enum { MG_AUTH_JOB_NONE, MG_AUTH_JOB_LOGIN, MG_AUTH_JOB_UPGRADE, MG_AUTH_JOB_SETUP, MG_AUTH_JOB_ADD };
struct mg_auth_job {
  int kind;                    // MG_AUTH_JOB_*; NONE marks a free slot
  struct mg_auth *auth;
  struct mg_mgr *mgr;          // The waiting connection's
  unsigned long conn_id;       // It is found by id: it may close meanwhile
  struct mg_addr rem;          // Its address, for the throttle even when it has gone
  char name[2 * MG_AUTH_NAME_MAX + 2];  // As typed (a login's may name nobody)
  char pass[2 * MG_AUTH_PASS_MAX + 2];  // Kept for an upgrade's re-hash; wiped at the end
  int level;                            // Of a new user
  uint64_t session;                     // Add: the asking admin's session, checked again at the end
  bool known;                           // Login: the name exists (else a dummy costs the same time)
  struct mg_auth_user user;             // Login: the user as it was when the check began
  unsigned char salt[MG_AUTH_SALT_LEN];  // Setup, add, upgrade: the new hash's salt
  uint32_t iterations;                   // and iteration count
  unsigned char hash[MG_AUTH_HASH_LEN];  // What the hashing gives
  struct mg_pbkdf2 kdf;
};

struct mg_auth {
  char path[MG_PATH_MAX];  // <data dir>/users.json; "" keeps users in memory only
  struct mg_fs *fs;        // Where path is (mg_dash_fs at create)
  bool broken;             // The users file is corrupt or unreadable: refuse setup and logins
  uint32_t iterations;     // For new hashes (MG_AUTH_PBKDF2_ITERATIONS; tests lower it)
  uint64_t idle_ms, max_age_ms;  // Session lifetimes (MG_AUTH_IDLE_MS, MG_AUTH_MAX_AGE_MS; tests shorten them)
  struct mg_auth_user users[MG_AUTH_MAX_USERS];
  struct mg_auth_session sessions[MG_AUTH_MAX_SESSIONS];
  struct mg_auth_throttle pairs[MG_AUTH_THROTTLE_SLOTS];  // Per address and name: an address waits for its sum
  struct mg_auth_throttle names[MG_AUTH_THROTTLE_SLOTS];  // Per name, from any address
  uint64_t last_session_id;
  uint32_t changes;        // Sessions ended and users changed (mg_auth_changes)
  struct mg_auth_job jobs[MG_AUTH_MAX_PENDING];
  struct mg_timer job_timer;  // Runs the jobs, one slice per loop pass, while there are any
  struct mg_mgr *job_mgr;     // Where job_timer is linked; NULL when it is not
  uint64_t busy_logged;       // When "503: busy" was last logged (once a second at most)
  const char *hosts[MG_AUTH_MAX_HOSTS];  // Names /api/ answers to besides IP literals (auth_host.c)
  uint64_t host_logged;       // When a 421 was last logged
};

// Users and passwords (auth_users.c)
void mg_auth_wipe(void *buf, size_t len);  // Zeroes a password buffer where the compiler cannot skip it
bool mg_auth_name_ok(struct mg_str name);
struct mg_auth_user *mg_auth_user_find(struct mg_auth *auth, const char *name);
size_t mg_auth_admins(const struct mg_auth *auth);
// Sets a fresh salt and the hash of pass with the given iterations; false if no random bytes
bool mg_auth_hash_set(struct mg_auth_user *u, const char *pass, size_t len, uint32_t iterations);
bool mg_auth_hash_ok(const struct mg_auth_user *u, const char *pass, size_t len);  // Constant time
// Copies u (name and level already checked, hash set) into a free slot: NULL when full
struct mg_auth_user *mg_auth_user_put(struct mg_auth *auth, const struct mg_auth_user *u);
// mg_auth_user_put with pass hashed here and now (for tools and tests: it blocks for a whole
// hash); NULL when the table is full or no random bytes
struct mg_auth_user *mg_auth_user_add(struct mg_auth *auth, const char *name, const char *pass, int level);
// A JSON string at path unescaped into buf (len bytes with its NUL): MG_AUTH_STR_OK or
// why not; *n (may be NULL) gets its length in bytes of UTF-8 once it is a string
enum { MG_AUTH_STR_OK = 1, MG_AUTH_STR_ABSENT = 0, MG_AUTH_STR_NOT_STRING = -1, MG_AUTH_STR_TOO_LONG = -2, MG_AUTH_STR_NUL = -3 };
int mg_auth_json_str(struct mg_str json, const char *path, char *buf, size_t len, long *n);
void mg_auth_users_load(struct mg_auth *auth);  // Sets auth->broken on a bad file
bool mg_auth_users_save(struct mg_auth *auth);  // Atomic; true without a filesystem

// Sessions and cookies (session.c)
struct mg_auth_session *mg_auth_session_new(struct mg_auth *auth, const char *user, uint64_t now);
// The live session the token (base64url) names, its idle timer refreshed; NULL if none or expired
struct mg_auth_session *mg_auth_session_find(struct mg_auth *auth, struct mg_str token, uint64_t now);
// The live session with this id (see mg_auth_session_id), its use noted; NULL if ended
struct mg_auth_session *mg_auth_session_by_id(struct mg_auth *auth, uint64_t id, uint64_t now);
void mg_auth_session_end(struct mg_auth *auth, struct mg_auth_session *s);  // Counts in auth->changes
void mg_auth_sessions_end_user(struct mg_auth *auth, const char *user);
// Pure (session_handover.c): the sessions a handover file's bytes hold into auth's table,
// if they are a whole, recent handover (now: mg_millis) whose users still exist; how many
int mg_auth_sessions_decode(struct mg_auth *auth, const uint8_t *buf, size_t len, uint64_t now);
struct mg_str mg_auth_cookie_token(struct mg_http_message *hm);  // mk_session's value, or empty
// "Set-Cookie: ..." header line (with CRLF) for s, or one that clears the cookie when s is NULL
void mg_auth_cookie_header(char *buf, size_t len, const struct mg_auth_session *s, bool secure);

// Login throttling per client address and per user name (session_throttle.c)
unsigned mg_auth_throttle_delay_s(unsigned failures);  // Wait after this many failures in a row
// Seconds a login as name from addr must still wait (0: it may try now)
unsigned mg_auth_throttle_wait(struct mg_auth *auth, const struct mg_addr *addr, const char *name, uint64_t now);
// A failed login as name from addr (or one whose client left before the answer)
void mg_auth_throttle_fail(struct mg_auth *auth, const struct mg_addr *addr, const char *name, uint64_t now);
// A good login as name from addr: it proves only that name's password, so it clears that
// name's failures (from addr, and from anywhere) and leaves addr's failures as others
void mg_auth_throttle_pass(struct mg_auth *auth, const struct mg_addr *addr, const char *name);

// Hashing off the request path (auth_job.c). Takes the request on c: pass is hashed
// for kind (user: the login's name, or the new user's name and level) and c answered
// when done; NULL (503 or 500 answered) when MG_AUTH_MAX_PENDING jobs already run, or no random bytes.
struct mg_auth_job *mg_auth_job_start(struct mg_auth *auth, struct mg_connection *c, int kind, const char *user,
                                      int level, const char *pass);
void mg_auth_jobs_free(struct mg_auth *auth);  // Drops every job unanswered

// Whether the request's Host is one of the device's (auth_host.c); false when answered 421
bool mg_auth_host_check(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm);

// True at most once a second per *last (mg_millis of the last true): for log lines a flood must not flood (auth.c)
bool mg_auth_log_due(uint64_t *last);

// Replies shared by the endpoints and the jobs (auth.c)
void mg_auth_reply_error(struct mg_connection *c, int status, const char *extra, const char *msg);
void mg_auth_reply_session(struct mg_connection *c, const struct mg_auth_session *s, int level);
#define MG_AUTH_JSON "Content-Type: application/json\r\nCache-Control: no-store\r\n"
// RFC 9110 11.6.1: a 401 names a challenge; browsers prompt for none they do not know
#define MG_AUTH_CHALLENGE "WWW-Authenticate: Cookie realm=\"meerkat\", cookie-name=" MG_AUTH_COOKIE "\r\n"

// The CSRF rule: a state-changing request carries a JSON content type or X-Requested-With: meerkat
bool mg_auth_is_write(struct mg_http_message *hm);
bool mg_auth_csrf_ok(struct mg_http_message *hm);

#endif  // MG_AUTH_INTERNAL_H
