// Device dashboard: field sets bound to C variables, served as REST and WebSocket,
// behind users and sessions (core/dash).
#ifndef MG_DASH_H
#define MG_DASH_H

// Access levels, ordered: a level may do everything the ones below it may. A viewer
// reads; an operator also operates the device (writes the fields and calls the endpoints
// that need an operator); an admin also changes its settings, users and firmware. Files
// and JSON hold the names, never these numbers.
enum { MG_DASH_NOBODY = 0, MG_DASH_VIEWER = 1, MG_DASH_OPERATOR = 2, MG_DASH_ADMIN = 3 };
// "viewer", "operator" or "admin"; NULL for any other number
const char *mg_dash_level_name(int level);
// The level of one of those names (exactly, lower case); MG_DASH_NOBODY for any other
int mg_dash_level_parse(struct mg_str name);

// Pushes of one set to one WebSocket client are at most this often
#ifndef MG_DASH_PUSH_INTERVAL_MS
#define MG_DASH_PUSH_INTERVAL_MS 100
#endif
// A persisted set changed from C (mg_dash_changed) is saved this long after the first
// change, with every change made meanwhile: at most one write per set per interval, so
// a value changed every 100 ms costs flash one write per 5 s, not ten a second. A
// crash or power cut loses at most this much; mg_dash_free saves what is waiting.
#ifndef MG_DASH_SAVE_INTERVAL_MS
#define MG_DASH_SAVE_INTERVAL_MS 5000
#endif
// A client with more than this queued gets no push: its sets are marked dirty and
// it gets the latest values once it has drained (its memory stays bounded)
#ifndef MG_DASH_SEND_LIMIT
#define MG_DASH_SEND_LIMIT (16UL * 1024)
#endif
// Request bodies and WebSocket messages larger than this are refused
#ifndef MG_DASH_MAX_BODY
#define MG_DASH_MAX_BODY 4096
#endif
// The most one /api/ws socket holds of a message (over it: close 1009); between
// MG_DASH_MAX_BODY and this, a message is answered with an error and the socket stays
#ifndef MG_DASH_WS_MAX_MESSAGE
#define MG_DASH_WS_MAX_MESSAGE (64UL * 1024)
#endif
// A persisted set's file may hold fields this build does not know (written by another
// version): up to this many bytes of them (as JSON, in file order) are kept and written
// back with each save; a member past that is dropped at the next save, and logged
#ifndef MG_DASH_UNKNOWN_MAX
#define MG_DASH_UNKNOWN_MAX 1024
#endif
// Fields declared with .history = true keep their last MG_DASH_HISTORY values, one sample
// every MG_DASH_HISTORY_INTERVAL_MS (by the clock, not by change: the samples then span a
// known time, 300 x 1 s = the dashboard chart's 5 minutes, however often the C code
// changes the value), and a new /api/ws client gets them with its first message for the
// set (API.md: the newest samples that fit MG_DASH_SEND_LIMIT), so a chart opened now
// shows the last minutes. A set's on_read runs before each sample. Memory: one allocation per
// set at mg_dash_add of MG_DASH_HISTORY x (4 + 4 x its fields with history) bytes, plus
// 32; the firmware's two sensors take 3.6 KB. Values are kept as float (a chart
// needs no more than 7 digits). 0 keeps no history.
#ifndef MG_DASH_HISTORY
#define MG_DASH_HISTORY 300
#endif
#ifndef MG_DASH_HISTORY_INTERVAL_MS
#define MG_DASH_HISTORY_INTERVAL_MS 1000
#endif
// Sets per dashboard (a client's dirty sets are one bit each)
#define MG_DASH_MAX_SETS 32

enum { MG_DASH_BOOL_T, MG_DASH_INT_T, MG_DASH_DOUBLE_T, MG_DASH_STRING_T, MG_DASH_ENUM_T, MG_DASH_INT64_T };

// One field, bound to a C variable. Write them with the macros below; options go
// after the required arguments as designated initializers, e.g.
//   MG_DASH_INT("interval", &interval, 1, 3600, .unit = "s", .title = "Interval")
struct mg_dash_field {
  const char *name;
  int type;                   // MG_DASH_*_T
  void *ptr;                  // bool *, int * (int and enum: the value's index), int64_t *, double *, char[size]
  double min, max;            // int, double: limits when has_limits
  int64_t min64, max64;       // int64: limits when has_limits (a double would round them past 2^53)
  bool has_limits;
  size_t size;                // string: sizeof the array (so at most size - 1 bytes)
  size_t min_len;             // string: fewest bytes
  const char *const *values;  // enum: allowed values, NULL-terminated
  const char *title, *unit;   // For the UI; title defaults to name
  bool readonly;              // Only the C code changes it
  int read, write;            // Levels needed; 0 means MG_DASH_VIEWER to read, MG_DASH_ADMIN to write
                              // (.write = MG_DASH_OPERATOR for what operating the device changes)
  bool history;               // int, int64, double: keep the last MG_DASH_HISTORY samples for charts
};

#define MG_DASH_BOOL(n, p, ...) {.name = (n), .type = MG_DASH_BOOL_T, .ptr = (p), __VA_ARGS__}
#define MG_DASH_INT(n, p, lo, hi, ...) \
  {.name = (n), .type = MG_DASH_INT_T, .ptr = (p), .min = (lo), .max = (hi), .has_limits = true, __VA_ARGS__}
#define MG_DASH_DOUBLE(n, p, lo, hi, ...) \
  {.name = (n), .type = MG_DASH_DOUBLE_T, .ptr = (p), .min = (lo), .max = (hi), .has_limits = true, __VA_ARGS__}
// Unlimited numbers (read-only values such as uptime)
#define MG_DASH_INT_ANY(n, p, ...) {.name = (n), .type = MG_DASH_INT_T, .ptr = (p), __VA_ARGS__}
// 64-bit integers (bytes, counters past 2^31): p must be an int64_t * (anything else is a
// compile error). In JSON a value beyond 2^53 - 1 goes as a string of digits (API.md)
#define MG_DASH_INT64(n, p, lo, hi, ...)                                                                    \
  {.name = (n), .type = MG_DASH_INT64_T, .ptr = MG_DASH_INT64_PTR(p), .min64 = (lo), .max64 = (hi), \
   .has_limits = true, __VA_ARGS__}
#define MG_DASH_INT64_ANY(n, p, ...) {.name = (n), .type = MG_DASH_INT64_T, .ptr = MG_DASH_INT64_PTR(p), __VA_ARGS__}
#define MG_DASH_INT64_PTR(p) (1 ? (p) : (int64_t *) 0)  // Pointer types that differ do not compile
#define MG_DASH_DOUBLE_ANY(n, p, ...) {.name = (n), .type = MG_DASH_DOUBLE_T, .ptr = (p), __VA_ARGS__}
// arr is a char array (not a pointer): its size is the limit
#define MG_DASH_STRING(n, arr, ...) \
  {.name = (n), .type = MG_DASH_STRING_T, .ptr = (arr), .size = sizeof(arr), __VA_ARGS__}
// p is an int holding the index into vals (a NULL-terminated array of names)
#define MG_DASH_ENUM(n, p, vals, ...) {.name = (n), .type = MG_DASH_ENUM_T, .ptr = (p), .values = (vals), __VA_ARGS__}

// A value as the write callback sees it (enum: the index; string: NUL-terminated)
union mg_dash_value {
  bool b;
  int i;
  int64_t i64;  // MG_DASH_INT64 fields
  double d;
  const char *s;
};

struct mg_dash_set;
// Before values are served: refresh the variables (e.g. from hardware)
typedef void (*mg_dash_read_fn)(struct mg_dash_set *set);
// Before a validated write lands: next[i] is what field i will hold (every field,
// changed or not). Return NULL to accept, or a reason to refuse (nothing changes).
typedef const char *(*mg_dash_write_fn)(struct mg_dash_set *set, const union mg_dash_value *next);

struct mg_dash_set {
  const char *name;              // In URLs (/api/sets/NAME) and file names: 1..32 of [a-z0-9_-];
                                 // a persisted set may not be "users" (users.json is the core's)
  struct mg_dash_field *fields;
  size_t nfields;
  const char *title;             // For the UI; defaults to name
  bool persist;                  // Saved to <data dir>/NAME.json after each write (from C: see
                                 // mg_dash_changed), loaded by mg_dash_add
  bool readonly;                 // Every field read-only
  mg_dash_read_fn on_read;       // May be NULL
  mg_dash_write_fn on_write;     // May be NULL
  void *userdata;                // Free for the application
  // Private
  struct mg_dash *dash;
  struct mg_dash_set *next;
  uint64_t last_push;            // mg_millis() of the last push
  uint64_t save_at;              // mg_millis() when changes from C are saved; 0: none wait
  bool pending;                  // Changed since the last push
  uint8_t index;                 // Bit in a client's dirty mask
  char *unknown;                 // The file's members this build does not know ("a":1,"b":2); NULL: none
  const char *corrupt;           // Why the file was corrupt at start ("not JSON"); NULL: it was not
  bool corrupt_kept;             // and whether it was kept as NAME.json.bad
  struct mg_dash_history *history;  // Samples of the fields with .history; NULL: none kept
};

// static struct mg_dash_set leds = MG_DASH_SET("leds", leds_fields, .title = "LEDs");
#define MG_DASH_SET(n, f, ...) {.name = (n), .fields = (f), .nfields = sizeof(f) / sizeof((f)[0]), __VA_ARGS__}

// Endpoints of your own (mg_dash_route below): what a route's handler gets
#define MG_DASH_ROUTE_CAPS 4  // Wildcards a route's pattern may hold
struct mg_dash_req {
  struct mg_http_message *hm;
  const char *user;                             // The session's user name; "" without dash->auth
  int level;                                    // The caller's level: at least the route's
  struct mg_str caps[MG_DASH_ROUTE_CAPS + 1];   // What the pattern's wildcards matched, in order
  void *fn_data;                                // As given to mg_dash_route
};
typedef void (*mg_dash_route_fn)(struct mg_connection *c, struct mg_dash_req *req);

struct mg_dash_client;
struct mg_dash_route;
struct mg_auth;
struct mg_dash {
  // Optional (mg_auth.h): each WebSocket client's writes are judged by its session as it
  // is then, and its socket closed (1008) once the session has ended: at once after a
  // logout or the user's removal (mg_auth_changes), within a second after expiry
  struct mg_auth *auth;
  struct mg_mgr *mgr;
  const char *data_dir;          // NULL: nothing is persisted
  struct mg_fs *fs;              // Where data_dir is: mg_dash_fs at mg_dash_init; NULL keeps sets in memory
  struct mg_dash_set *sets;      // In mg_dash_add order
  struct mg_dash_client *clients;  // WebSocket clients of /api/ws
  struct mg_dash_client **index;   // The same by connection (core/dash/dash_clients.c)
  size_t index_size, nclients;
  struct mg_dash_route *routes;  // mg_dash_route's, in the order they were added
  struct mg_timer *timer;        // Sends coalesced pushes, checks sessions
  uint64_t sessions_checked;     // mg_millis() of the last check
  uint32_t auth_changes;         // mg_auth_changes() at the last check
  uint8_t nsets;
};

// The filesystem mg_dash_init and mg_auth_create keep persisted sets, users and sessions
// in: &mg_fs_posix where MG_ENABLE_POSIX_FS, else NULL (memory only). A board sets it to
// its flash (&mg_fs_flash, after mg_fs_flash_init) before either is called; dash->fs may
// also be changed after mg_dash_init, before the first mg_dash_add.
extern struct mg_fs *mg_dash_fs;
// data_dir: where persisted sets live (NULL: none). Starts the push timer.
void mg_dash_init(struct mg_dash *dash, struct mg_mgr *mgr, const char *data_dir);
// Saves the persisted sets whose changes from C still wait (mg_dash_changed), stops the
// timer, forgets the clients, frees what the sets kept of their files (before mg_mgr_free)
void mg_dash_free(struct mg_dash *dash);
// Registers set (which must outlive dash); a persisted set's file is loaded now.
// false (logged) for a bad declaration, a duplicate name or too many sets.
bool mg_dash_add(struct mg_dash *dash, struct mg_dash_set *set);
struct mg_dash_set *mg_dash_find(struct mg_dash *dash, struct mg_str name);
// The C code changed set's variables: push them to WebSocket clients (coalesced). A
// persisted set is saved too, MG_DASH_SAVE_INTERVAL_MS after the first change with
// every change made until then (at most one write per interval), or at mg_dash_free.
void mg_dash_changed(struct mg_dash *dash, struct mg_dash_set *set);

// An endpoint of your own: method ("GET" answers HEAD too) on the paths that match
// pattern (mg_match: '*' a run without '/', '#' any run, '?' one character; at most
// MG_DASH_ROUTE_CAPS of them), served by fn to callers of at least level. level 0 means
// MG_DASH_VIEWER for GET and HEAD and MG_DASH_OPERATOR for any other method: a request that
// changes state needs the writing level unless the route says otherwise (MG_DASH_ADMIN for
// settings; MG_DASH_VIEWER for a POST that changes nothing). mg_dash_handle answers a caller
// below it 403, and a path that some route matches with a method none has 405 with Allow;
// fn_data reaches fn in req->fn_data. method and pattern are kept, not copied (literals).
// false (logged) for a bad argument, a route of that method and pattern already, or no memory.
//   mg_dash_route(&dash, "POST", "/api/pump/boost", 0, pump_boost, &pump);  // Operators
bool mg_dash_route(struct mg_dash *dash, const char *method, const char *pattern, int level, mg_dash_route_fn fn,
                   void *fn_data);

// The HTTP handler's one call, for every event: serves GET /api/sets, GET and POST
// /api/sets/NAME, the WebSocket /api/ws and the routes of mg_dash_route, for a caller at
// level (MG_DASH_ADMIN without users; the session's level with them, from mg_auth_gate:
// it is read on MG_EV_HTTP_MSG only). Returns true when it took the event (the handler
// has nothing more to do); false for a path none of these match (answer it 404).
bool mg_dash_handle(struct mg_dash *dash, struct mg_connection *c, int ev, void *ev_data, int level);

// The pieces mg_dash_handle is made of, for custom endpoints and tests.
// Schema of the sets readable at level: {"sets":[...]} (API.md); false if out of memory
bool mg_dash_schema_json(struct mg_dash *dash, int level, struct mg_iobuf *out);
// Values of the fields readable at level, as a JSON object (calls on_read first)
bool mg_dash_values_json(struct mg_dash_set *set, int level, struct mg_iobuf *out);
// Validates body (a JSON object of some fields) as a whole and, if it all holds and
// on_write agrees, stores it, saves a persisted set and pushes it. Returns 200, or
// 400 (invalid JSON or fields), 403 (level too low), 409 (on_write refused), 500
// (out of memory, or the file could not be saved: the values stay changed). On error
// err gets the reply's JSON members without braces: "error":"...","fields":{...}
int mg_dash_write(struct mg_dash_set *set, struct mg_str body, int level, struct mg_iobuf *err);

#endif  // MG_DASH_H
