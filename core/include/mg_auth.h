// Users and sessions for a device: salted PBKDF2 password hashes in <data dir>/users.json,
// session cookies, login throttling, and the /api/auth and /api/users endpoints (core/dash/API.md).
#ifndef MG_AUTH_H
#define MG_AUTH_H

// PBKDF2-HMAC-SHA256 iterations for new hashes; each hash stores its own count, and one
// with fewer is re-hashed at the next good login. (API.md's name MG_DASH_PBKDF2_ITERATIONS works too.)
#ifndef MG_AUTH_PBKDF2_ITERATIONS
#if defined(MG_DASH_PBKDF2_ITERATIONS)
#define MG_AUTH_PBKDF2_ITERATIONS MG_DASH_PBKDF2_ITERATIONS
#elif MG_PORT_BAREMETAL
#define MG_AUTH_PBKDF2_ITERATIONS 10000
#else
#define MG_AUTH_PBKDF2_ITERATIONS 100000
#endif
#endif
#ifndef MG_AUTH_MAX_USERS
#define MG_AUTH_MAX_USERS 16
#endif
// Sessions held at once; a new one evicts the least recently used when full
#ifndef MG_AUTH_MAX_SESSIONS
#define MG_AUTH_MAX_SESSIONS 32
#endif
#ifndef MG_AUTH_IDLE_MS
#define MG_AUTH_IDLE_MS (30UL * 60 * 1000)  // A session unused this long ends
#endif
#ifndef MG_AUTH_MAX_AGE_MS
#define MG_AUTH_MAX_AGE_MS (24UL * 60 * 60 * 1000)  // and any session after this
#endif
// Failed logins are counted in two tables of this many: per (client address, user name)
// and per user name; when one is full, the record with the fewest failures is forgotten
#ifndef MG_AUTH_THROTTLE_SLOTS
#define MG_AUTH_THROTTLE_SLOTS 32
#endif
// Password hashes (login, setup, a new user) in progress at once. Each runs in slices of
// about MG_AUTH_SLICE_MS between the event loop's other work, its request waiting for
// the answer; one more gets 503 with Retry-After: 1, so logins cannot stall the device.
#ifndef MG_AUTH_MAX_PENDING
#define MG_AUTH_MAX_PENDING 2
#endif
#ifndef MG_AUTH_SLICE_MS
#define MG_AUTH_SLICE_MS 2
#endif
// Host names mg_auth_allow_host can add
#ifndef MG_AUTH_MAX_HOSTS
#define MG_AUTH_MAX_HOSTS 4
#endif
// Request bodies to the auth endpoints larger than this get 413
#ifndef MG_AUTH_MAX_BODY
#define MG_AUTH_MAX_BODY 1024
#endif

// The users file's name in the data directory (a persisted field set may not take it)
#define MG_AUTH_USERS_FILE "users.json"

struct mg_auth;

// Loads <data_dir>/users.json (missing: setup mode; corrupt or unreadable: logged, and
// every setup and login refused until the file is fixed). NULL only when out of memory.
// Without a filesystem (MG_ENABLE_POSIX_FS 0) users live in memory until reset.
struct mg_auth *mg_auth_create(const char *data_dir);
// Requests still hashing are dropped unanswered. Free it while its manager is live or
// after mg_mgr_free, not after the manager's memory is gone.
void mg_auth_free(struct mg_auth *auth);

// Sessions across a restart of the device's program (an OTA update or a rollback, where
// the firmware execs the next program): just before, mg_auth_sessions_save writes the live
// sessions to <data_dir>/sessions.handover (mode 0600: they are secrets); the next
// program's mg_auth_create takes them back (mg_auth_sessions_take) and removes the file, so
// nobody has to log in again. A file older than MG_AUTH_HANDOVER_MS, from another boot, or
// damaged brings nothing back; nor does a session whose user is gone.
#ifndef MG_AUTH_HANDOVER_MS
#define MG_AUTH_HANDOVER_MS 60000
#endif
bool mg_auth_sessions_save(struct mg_auth *auth);
int mg_auth_sessions_take(struct mg_auth *auth, uint64_t now);  // How many came back

// Call it first for every /api/ request. A Host that is not the device's (below) gets 421
// whatever the URL; else it answers /api/auth, /api/auth/setup, /api/auth/login,
// /api/auth/logout, /api/users and /api/users/NAME. True when hm was answered (or taken: a
// login, setup or POST /api/users is answered later from c->mgr's timers, once its password
// is hashed), false to leave it to the caller.
bool mg_auth_handle(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm);

// The Host names /api/ answers to, against DNS rebinding (a web page that points its own
// name at the device's address would reach /api/ with that name in Host): always IP
// literals ([IPv6] too) and localhost, with any port; besides, each name added here and
// NAME.local, in any case. name is read at every request, so it may change while the device
// runs (the firmware passes settings.name; its -H option adds more). A request without Host
// passes (browsers always send one). false (logged) when MG_AUTH_MAX_HOSTS are set already.
bool mg_auth_allow_host(struct mg_auth *auth, const char *name);

// The level (MG_DASH_*) of the session hm's cookie names, MG_DASH_NOBODY when none or
// expired; user (may be NULL) gets its name or "". Refreshes the session's idle timer.
int mg_auth_level(struct mg_auth *auth, struct mg_http_message *hm, char *user, size_t userlen);

// For every other /api/ request: the session's level when the request may go on (a Host
// of the device's, a level >= need and, for POST, PUT, PATCH and DELETE, Content-Type
// application/json or X-Requested-With: meerkat); otherwise answers 421, 401, 415 or 403 and
// returns MG_DASH_NOBODY.
int mg_auth_gate(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm, int need);

// For a connection that outlives its request (a WebSocket): a handle on the session hm's
// cookie names (0: none), and later that session's level, MG_DASH_NOBODY once it has
// ended (logout, expiry, its user removed). A check counts as use: while a dashboard
// stays connected its session does not go idle (MG_AUTH_MAX_AGE_MS still ends it).
uint64_t mg_auth_session_id(struct mg_auth *auth, struct mg_http_message *hm);
int mg_auth_session_level(struct mg_auth *auth, uint64_t id);
// A count that moves whenever a session ends (logout, expiry noticed, eviction) or a user is
// removed: a holder of session ids checks them again when it has moved (mg_dash does so at
// every event it is given, so a logout closes that session's WebSockets at once)
uint32_t mg_auth_changes(const struct mg_auth *auth);

#endif  // MG_AUTH_H
