// Users and sessions: password hashes and their upgrade, the users file (round trip,
// atomic write, corrupt files failing closed), session expiry and eviction, the login
// throttle's schedule, the CSRF rule, and the HTTP endpoints over loopback.
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "dash/auth_internal.h"

#define FAST_ITERATIONS 1000  // Tests hash quickly; the build's default is checked on its own

static char tmp_dir[64];

static void make_tmp_dir(void) {
  mg_snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/meerkat-auth-XXXXXX");
  cr_assert_not_null(mkdtemp(tmp_dir));
}

static void remove_tmp_dir(void) {
  char cmd[128];
  mg_snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
  cr_assert_eq(system(cmd), 0);
}

static void path_in_tmp(char *buf, size_t len, const char *name) {
  mg_snprintf(buf, len, "%s/%s", tmp_dir, name);
}

static void write_file(const char *name, const char *text) {
  char path[128];
  path_in_tmp(path, sizeof(path), name);
  FILE *fp = fopen(path, "wb");
  cr_assert_not_null(fp);
  fwrite(text, 1, strlen(text), fp);
  fclose(fp);
}

static struct mg_auth *auth_new(void) {
  struct mg_auth *auth = mg_auth_create(tmp_dir);
  cr_assert_not_null(auth);
  auth->iterations = FAST_ITERATIONS;
  return auth;
}

// Log lines, captured for the tests that check what a user would read
static char log_text[8192];
static size_t log_len;
static void log_capture(char ch, void *param) {
  if (log_len + 1 < sizeof(log_text)) {
    log_text[log_len++] = ch;
    log_text[log_len] = '\0';
  }
  (void) param;
}
static void log_start(void) {
  log_len = 0;
  log_text[0] = '\0';
  mg_log_set(MG_LL_INFO);
  mg_log_set_fn(log_capture, NULL);
}
static size_t log_count(const char *s) {
  size_t n = 0;
  for (const char *p = log_text; (p = strstr(p, s)) != NULL; p++) n++;
  return n;
}

// ---------------------------------------------------------------------------
// Password hashes

Test(auth_hash, default_iterations_are_at_least_100000_on_hosts) {
  cr_assert_geq(MG_AUTH_PBKDF2_ITERATIONS, 100000);
  make_tmp_dir();
  struct mg_auth *auth = mg_auth_create(tmp_dir);
  cr_assert_eq(auth->iterations, MG_AUTH_PBKDF2_ITERATIONS);
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_hash, hash_is_pbkdf2_of_the_password_with_a_fresh_salt_and_verifies_only_that_password) {
  struct mg_auth_user a, b;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  cr_assert(mg_auth_hash_set(&a, "correct horse", 13, FAST_ITERATIONS));
  cr_assert(mg_auth_hash_set(&b, "correct horse", 13, FAST_ITERATIONS));
  cr_assert_eq(a.iterations, FAST_ITERATIONS);
  cr_assert_neq(memcmp(a.salt, b.salt, sizeof(a.salt)), 0, "each hash has its own salt");
  cr_assert_neq(memcmp(a.hash, b.hash, sizeof(a.hash)), 0);
  unsigned char want[32];
  mg_pbkdf2_sha256("correct horse", 13, a.salt, sizeof(a.salt), FAST_ITERATIONS, want, sizeof(want));
  cr_assert_eq(memcmp(a.hash, want, sizeof(want)), 0);
  cr_assert(mg_auth_hash_ok(&a, "correct horse", 13));
  cr_assert(mg_auth_hash_ok(&b, "correct horse", 13));
  cr_assert_not(mg_auth_hash_ok(&a, "correct horsf", 13));
  cr_assert_not(mg_auth_hash_ok(&a, "correct hors", 12));
  cr_assert_not(mg_auth_hash_ok(&a, "", 0));
  a.iterations++;  // The count is part of the hash
  cr_assert_not(mg_auth_hash_ok(&a, "correct horse", 13));
}

// ---------------------------------------------------------------------------
// The users file

Test(auth_file, missing_file_is_setup_mode) {
  make_tmp_dir();
  struct mg_auth *auth = auth_new();
  cr_assert_not(auth->broken);
  cr_assert_eq(mg_auth_admins(auth), 0);
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_file, round_trip_keeps_names_levels_iterations_salts_and_hashes_mode_0600_no_temp_left) {
  make_tmp_dir();
  struct mg_auth *auth = auth_new();
  cr_assert_not_null(mg_auth_user_add(auth, "admin", "password1", MG_DASH_ADMIN));
  cr_assert_not_null(mg_auth_user_add(auth, "bob.smith-2_x", "password2", MG_DASH_VIEWER));
  cr_assert(mg_auth_users_save(auth));
  struct mg_auth *again = auth_new();
  cr_assert_not(again->broken);
  for (const char *name = "admin"; name != NULL; name = strcmp(name, "admin") == 0 ? "bob.smith-2_x" : NULL) {
    struct mg_auth_user *a = mg_auth_user_find(auth, name), *b = mg_auth_user_find(again, name);
    cr_assert_not_null(b, "%s", name);
    cr_assert_eq(a->level, b->level);
    cr_assert_eq(a->iterations, b->iterations);
    cr_assert_eq(memcmp(a->salt, b->salt, sizeof(a->salt)), 0);
    cr_assert_eq(memcmp(a->hash, b->hash, sizeof(a->hash)), 0);
  }
  cr_assert(mg_auth_hash_ok(mg_auth_user_find(again, "bob.smith-2_x"), "password2", 9));
  char path[128];
  struct stat st;
  path_in_tmp(path, sizeof(path), "users.json");
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned) (st.st_mode & 0777));
  path_in_tmp(path, sizeof(path), "users.json.tmp");
  cr_assert_neq(stat(path, &st), 0, "no temporary file left");
  mg_auth_free(auth);
  mg_auth_free(again);
  remove_tmp_dir();
}

Test(auth_file, a_stale_temp_file_is_replaced_and_the_result_is_still_0600) {
  make_tmp_dir();
  write_file("users.json.tmp", "half of an old write");
  char path[128];
  path_in_tmp(path, sizeof(path), "users.json.tmp");
  chmod(path, 0666);
  struct mg_auth *auth = auth_new();
  cr_assert_not_null(mg_auth_user_add(auth, "admin", "password1", MG_DASH_ADMIN));
  cr_assert(mg_auth_users_save(auth));
  struct stat st;
  cr_assert_neq(stat(path, &st), 0, "no temporary file left");
  path_in_tmp(path, sizeof(path), "users.json");
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_file, a_failed_write_leaves_the_old_file_whole) {
  make_tmp_dir();
  struct mg_auth *auth = auth_new();
  cr_assert_not_null(mg_auth_user_add(auth, "admin", "password1", MG_DASH_ADMIN));
  cr_assert(mg_auth_users_save(auth));
  char path[128];
  path_in_tmp(path, sizeof(path), "users.json.tmp");
  cr_assert_eq(mkdir(path, 0700), 0);  // The temporary file cannot be opened
  cr_assert_not_null(mg_auth_user_add(auth, "bob", "password2", MG_DASH_VIEWER));
  cr_assert_not(mg_auth_users_save(auth));
  struct mg_auth *again = auth_new();
  cr_assert_not(again->broken);
  cr_assert_not_null(mg_auth_user_find(again, "admin"));
  cr_assert_null(mg_auth_user_find(again, "bob"));
  mg_auth_free(auth);
  mg_auth_free(again);
  remove_tmp_dir();
}

static const char *corrupt_files[] = {
    "",
    "{",
    "not json at all",
    "[]",
    "{\"users\":{}}",
    "{\"users\":[]}",  // No admin: we never write such a file
    "{\"users\":[1]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"root\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":0,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":\"1000\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":1000,\"salt\":\"AAAA\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"not base64!\"}]}",
    "{\"users\":[{\"user\":\"a b\",\"level\":\"admin\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
    "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"},"
    "{\"user\":\"admin\",\"level\":\"viewer\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
    "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}",
};

Test(auth_file, corrupt_files_fail_closed_with_a_log_line_that_says_what_to_do) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(corrupt_files); i++) {
    make_tmp_dir();
    write_file("users.json", corrupt_files[i]);
    log_start();
    struct mg_auth *auth = auth_new();
    mg_log_set_fn(NULL, NULL);
    cr_assert(auth->broken, "file %zu: %s", i, corrupt_files[i]);
    cr_assert_eq(mg_auth_admins(auth), 0);
    cr_assert_eq(log_count("is corrupt: remove it to set up the device again"), 1, "file %zu: log %s", i, log_text);
    cr_assert_eq(log_count(tmp_dir), 1, "the log names the file");
    mg_auth_free(auth);
    remove_tmp_dir();
  }
}

// The users file as written (in a static buffer)
static char *read_users_file(void) {
  static char text[8192];
  char path[128];
  path_in_tmp(path, sizeof(path), "users.json");
  FILE *fp = fopen(path, "rb");
  cr_assert_not_null(fp);
  size_t n = fread(text, 1, sizeof(text) - 1, fp);
  fclose(fp);
  text[n] = '\0';
  return text;
}

// users.json holds level names, never numbers: a file written before the operator level
// existed loads with the same levels, and an operator is kept as one
#define USERS_LINE(name, level)                                                                       \
  "{\"user\":\"" name "\",\"level\":\"" level "\",\"iterations\":1000,\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\"," \
  "\"hash\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}"

Test(auth_file, levels_are_stored_by_name_so_older_files_load_and_operators_are_kept) {
  make_tmp_dir();
  write_file("users.json", "{\"users\":[" USERS_LINE("root", "admin") "," USERS_LINE("bob", "viewer") "]}");
  struct mg_auth *auth = auth_new();
  cr_assert_not(auth->broken);
  cr_assert_eq(mg_auth_user_find(auth, "root")->level, MG_DASH_ADMIN);
  cr_assert_eq(mg_auth_user_find(auth, "bob")->level, MG_DASH_VIEWER);
  mg_auth_free(auth);
  write_file("users.json", "{\"users\":[" USERS_LINE("root", "admin") "," USERS_LINE("olive", "operator") "]}");
  auth = auth_new();
  cr_assert_not(auth->broken);
  cr_assert_eq(mg_auth_user_find(auth, "olive")->level, MG_DASH_OPERATOR);
  cr_assert(mg_auth_users_save(auth));
  mg_auth_free(auth);
  const char *text = read_users_file();
  cr_assert(strstr(text, "{\"user\":\"olive\",\"level\":\"operator\"") != NULL, "%s", text);
  remove_tmp_dir();
}

Test(auth_file, a_valid_file_parses_and_one_more_user_than_the_table_holds_is_corrupt) {
  make_tmp_dir();
  struct mg_auth *auth = auth_new();
  char name[16];
  for (int i = 0; i < MG_AUTH_MAX_USERS; i++) {
    mg_snprintf(name, sizeof(name), "user%d", i);
    cr_assert_not_null(mg_auth_user_add(auth, name, "password1", i == 0 ? MG_DASH_ADMIN : MG_DASH_VIEWER));
  }
  cr_assert_null(mg_auth_user_add(auth, "onemore", "password1", MG_DASH_VIEWER), "the table is full");
  cr_assert(mg_auth_users_save(auth));
  mg_auth_free(auth);
  auth = auth_new();
  cr_assert_not(auth->broken);
  cr_assert_not_null(mg_auth_user_find(auth, "user15"));
  // One more line, by hand
  char *text = read_users_file(), *first = strstr(text, "{\"user\":\"user0\"");
  char *end = strchr(first, '}');
  static char more[8192];
  char entry[512];
  mg_snprintf(entry, sizeof(entry), "%.*s", (int) (end + 1 - first), first);
  strstr(entry, "user0")[4] = 'X';  // A copy under a new name: one user too many
  mg_snprintf(more, sizeof(more), "{\"users\":[%s,%s", entry, first);
  write_file("users.json", more);
  mg_auth_free(auth);
  auth = auth_new();
  cr_assert(auth->broken, "%s", more);
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_file, an_unreadable_users_file_fails_closed) {
  make_tmp_dir();
  char path[128];
  path_in_tmp(path, sizeof(path), "users.json");
  cr_assert_eq(mkdir(path, 0700), 0);  // Opens, but reading fails (EISDIR)
  log_start();
  struct mg_auth *auth = auth_new();
  mg_log_set_fn(NULL, NULL);
  cr_assert(auth->broken);
  cr_assert_eq(log_count("remove it to set up the device again"), 1, "%s", log_text);
  mg_auth_free(auth);
  remove_tmp_dir();
}

// ---------------------------------------------------------------------------
// Sessions

static struct mg_str token_of(const struct mg_auth_session *s, char *buf, size_t len) {
  size_t n = mg_base64url_encode(s->token, sizeof(s->token), buf, len);
  cr_assert_eq(n, 43);
  return mg_str_n(buf, n);
}

Test(auth_session, idle_sessions_expire_and_use_keeps_them_alive_until_the_absolute_limit) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = 1000;
  auth.max_age_ms = 5000;
  char tok[64];
  struct mg_auth_session *s = mg_auth_session_new(&auth, "admin", 10000);
  cr_assert_not_null(s);
  struct mg_str t = token_of(s, tok, sizeof(tok));
  for (uint64_t now = 10000; now < 15000; now += 999) {  // Used just often enough
    cr_assert_eq(mg_auth_session_find(&auth, t, now), s, "alive at %lu", (unsigned long) now);
  }
  cr_assert_null(mg_auth_session_find(&auth, t, 15000), "24 h (here 5 s) is the most, however busy");
  cr_assert_eq(s->user[0], '\0', "the slot is freed");

  s = mg_auth_session_new(&auth, "admin", 20000);
  t = token_of(s, tok, sizeof(tok));
  cr_assert_eq(mg_auth_session_find(&auth, t, 20999), s);
  cr_assert_null(mg_auth_session_find(&auth, t, 21999), "idle for the whole idle time");
}

Test(auth_session, tokens_are_32_random_bytes_and_only_the_exact_token_matches) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = auth.max_age_ms = 100000;
  struct mg_auth_session *a = mg_auth_session_new(&auth, "admin", 0);
  struct mg_auth_session *b = mg_auth_session_new(&auth, "admin", 0);
  cr_assert_neq(a, b);
  cr_assert_neq(memcmp(a->token, b->token, sizeof(a->token)), 0);
  char tok[64];
  struct mg_str t = token_of(a, tok, sizeof(tok));
  cr_assert_eq(mg_auth_session_find(&auth, t, 1), a);
  tok[5] = tok[5] == 'A' ? 'B' : 'A';
  cr_assert_null(mg_auth_session_find(&auth, t, 1));
  cr_assert_null(mg_auth_session_find(&auth, mg_str_n(tok, 42), 1));
  cr_assert_null(mg_auth_session_find(&auth, mg_str(""), 1));
  cr_assert_null(mg_auth_session_find(&auth, mg_str("!!!!"), 1));
}

Test(auth_session, a_full_table_evicts_the_least_recently_used_session) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = auth.max_age_ms = 1000000;
  char toks[MG_AUTH_MAX_SESSIONS][64];
  struct mg_str t[MG_AUTH_MAX_SESSIONS];
  for (int i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {
    struct mg_auth_session *s = mg_auth_session_new(&auth, "admin", (uint64_t) (100 + i));
    cr_assert_not_null(s);
    t[i] = token_of(s, toks[i], sizeof(toks[i]));
  }
  cr_assert_not_null(mg_auth_session_find(&auth, t[0], 500));  // The oldest is used again: session 1 is now the LRU
  cr_assert_not_null(mg_auth_session_new(&auth, "bob", 600));
  cr_assert_null(mg_auth_session_find(&auth, t[1], 700), "the least recently used went");
  cr_assert_not_null(mg_auth_session_find(&auth, t[0], 700));
  for (int i = 2; i < MG_AUTH_MAX_SESSIONS; i++) cr_assert_not_null(mg_auth_session_find(&auth, t[i], 700), "%d", i);
}

Test(auth_session, ending_a_users_sessions_leaves_the_others) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = auth.max_age_ms = 1000000;
  char ta[64], tb[64], tc[64];
  struct mg_str a = token_of(mg_auth_session_new(&auth, "alice", 0), ta, sizeof(ta));
  struct mg_str b = token_of(mg_auth_session_new(&auth, "bob", 0), tb, sizeof(tb));
  struct mg_str c = token_of(mg_auth_session_new(&auth, "alice", 0), tc, sizeof(tc));
  mg_auth_sessions_end_user(&auth, "alice");
  cr_assert_null(mg_auth_session_find(&auth, a, 1));
  cr_assert_null(mg_auth_session_find(&auth, c, 1));
  cr_assert_not_null(mg_auth_session_find(&auth, b, 1));
}

// Sessions handed to the next program of a restart (an OTA update): they come back
// with their times, the file goes, and nothing comes back that should not
static struct mg_auth *handover_setup(char *tok_admin, char *tok_bob, size_t len, struct mg_str *a, struct mg_str *b) {
  make_tmp_dir();
  struct mg_auth *auth = auth_new();
  cr_assert_not_null(mg_auth_user_add(auth, "admin", "admin-password", MG_DASH_ADMIN));
  cr_assert_not_null(mg_auth_user_add(auth, "bob", "bob-password", MG_DASH_VIEWER));
  cr_assert(mg_auth_users_save(auth));
  uint64_t now = mg_millis();
  *a = token_of(mg_auth_session_new(auth, "admin", now - 5000), tok_admin, len);
  *b = token_of(mg_auth_session_new(auth, "bob", now), tok_bob, len);
  return auth;
}

static const char *handover_file(void) {
  static char path[128];
  path_in_tmp(path, sizeof(path), "sessions.handover");
  return path;
}

Test(auth_session, handover_brings_live_sessions_back_once_and_the_file_goes) {
  char ta[64], tb[64];
  struct mg_str a, b;
  struct mg_auth *auth = handover_setup(ta, tb, sizeof(ta), &a, &b);
  cr_assert(mg_auth_sessions_save(auth));
  struct stat st;
  cr_assert_eq(stat(handover_file(), &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600, "the tokens are secrets");
  mg_auth_free(auth);
  auth = auth_new();  // The next program
  cr_assert_neq(access(handover_file(), F_OK), 0, "taken and removed");
  uint64_t now = mg_millis();
  struct mg_auth_session *s = mg_auth_session_find(auth, a, now);
  cr_assert_not_null(s);
  cr_assert_str_eq(s->user, "admin");
  cr_assert_geq(now - s->created, 5000, "its age came along: it expires when it would have");
  cr_assert_not_null(mg_auth_session_find(auth, b, now));
  mg_auth_free(auth);
  auth = auth_new();  // A second start finds nothing
  cr_assert_null(mg_auth_session_find(auth, a, mg_millis()));
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_session, handover_drops_stale_damaged_and_orphaned_sessions) {
  char ta[64], tb[64];
  struct mg_str a, b;
  struct mg_auth *auth = handover_setup(ta, tb, sizeof(ta), &a, &b);
  // A user removed meanwhile (users.json changed by hand) loses the session
  cr_assert(mg_auth_sessions_save(auth));
  struct mg_auth_user *bob = mg_auth_user_find(auth, "bob");
  cr_assert_not_null(bob);
  bob->name[0] = '\0';
  cr_assert(mg_auth_users_save(auth));
  mg_auth_free(auth);
  auth = auth_new();
  cr_assert_not_null(mg_auth_session_find(auth, a, mg_millis()));
  cr_assert_null(mg_auth_session_find(auth, b, mg_millis()), "bob is gone");
  // A damaged file: nothing comes back
  cr_assert(mg_auth_sessions_save(auth));
  FILE *fp = fopen(handover_file(), "r+b");
  cr_assert_not_null(fp);
  fseek(fp, 20, SEEK_SET);
  fputc('!', fp);
  fclose(fp);
  mg_auth_free(auth);
  auth = auth_new();
  cr_assert_null(mg_auth_session_find(auth, a, mg_millis()));
  cr_assert_neq(access(handover_file(), F_OK), 0, "a bad file goes too");
  // One left from long ago (a crash between save and start, then a much later start)
  char aside[160];
  mg_snprintf(aside, sizeof(aside), "%s.aside", handover_file());
  cr_assert_not_null(mg_auth_session_new(auth, "admin", mg_millis()));
  cr_assert(mg_auth_sessions_save(auth));
  cr_assert_eq(rename(handover_file(), aside), 0);  // Kept from this start...
  mg_auth_free(auth);
  auth = auth_new();
  cr_assert_eq(rename(aside, handover_file()), 0);  // ... for a start a while later
  cr_assert_eq(mg_auth_sessions_take(auth, mg_millis() + MG_AUTH_HANDOVER_MS + 1), 0);
  cr_assert_neq(access(handover_file(), F_OK), 0);
  mg_auth_free(auth);
  remove_tmp_dir();
}

Test(auth_session, ids_name_sessions_for_sockets_never_reused_and_use_keeps_them_alive) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = 1000;
  auth.max_age_ms = 5000;
  struct mg_auth_session *a = mg_auth_session_new(&auth, "alice", 10000);
  uint64_t ida = a->id;
  cr_assert_neq(ida, 0);
  for (uint64_t now = 10000; now < 15000; now += 999) cr_assert_eq(mg_auth_session_by_id(&auth, ida, now), a);
  cr_assert_null(mg_auth_session_by_id(&auth, ida, 15000), "the absolute limit ends it");
  struct mg_auth_session *b = mg_auth_session_new(&auth, "alice", 20000);
  cr_assert_eq(b, a, "the same slot");
  cr_assert_neq(b->id, ida, "with a new id: a socket of the old session does not pass for the new one");
  cr_assert_null(mg_auth_session_by_id(&auth, ida, 20001));
  cr_assert_null(mg_auth_session_by_id(&auth, 0, 20001), "0 names no session");
  mg_auth_session_end(&auth, b);
  cr_assert_null(mg_auth_session_by_id(&auth, b->id, 20002), "logout ends it");
}

Test(auth_session, cookie_header_has_the_contracts_attributes) {
  struct mg_auth_session s;
  memset(&s, 0, sizeof(s));
  memset(s.token, 0xfb, sizeof(s.token));
  char buf[256];
  mg_auth_cookie_header(buf, sizeof(buf), &s, false);
  cr_assert_str_eq(buf, "Set-Cookie: mk_session=-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s; Path=/; HttpOnly; SameSite=Strict\r\n");
  mg_auth_cookie_header(buf, sizeof(buf), &s, true);
  cr_assert(strstr(buf, "; SameSite=Strict; Secure\r\n") != NULL, "%s", buf);
  mg_auth_cookie_header(buf, sizeof(buf), NULL, false);
  cr_assert_str_eq(buf, "Set-Cookie: mk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
}

// ---------------------------------------------------------------------------
// Throttling

Test(auth_throttle, schedule_is_free_for_five_then_1_2_4_up_to_60_seconds) {
  static const unsigned want[] = {0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60};
  for (unsigned i = 0; i < MG_ARRAY_SIZE(want); i++) cr_assert_eq(mg_auth_throttle_delay_s(i), want[i], "%u failures", i);
  cr_assert_eq(mg_auth_throttle_delay_s(40), 60);
  cr_assert_eq(mg_auth_throttle_delay_s(UINT_MAX), 60);
}

Test(auth_throttle, failures_lock_one_address_with_one_warning_per_lock_and_success_clears_its_own) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  struct mg_addr a, b;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  a.addr.ip4 = MG_IPV4(127, 0, 0, 1);
  a.port = mg_htons(40000);
  b.addr.ip4 = MG_IPV4(127, 0, 0, 2);
  log_start();
  for (int i = 0; i < 4; i++) {
    mg_auth_throttle_fail(&auth, &a, "admin", 1000);
    cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 1000), 0);
  }
  cr_assert_eq(log_count("login throttled"), 0);
  mg_auth_throttle_fail(&auth, &a, "admin", 1000);  // The fifth
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 1000), 1);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "bob", 1000), 1, "the address waits, whatever name it tries");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &b, "admin", 1000), 1, "and the name waits, wherever it is tried from");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &b, "bob", 1000), 0, "another address with another name is free");
  a.port = mg_htons(40001);  // Another connection from the same client
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 1500), 1, "seconds, rounded up");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 2000), 0);
  mg_auth_throttle_fail(&auth, &a, "admin", 2000);  // The sixth
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 2000), 2);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 3999), 1);
  mg_log_set_fn(NULL, NULL);
  cr_assert_eq(log_count("login throttled"), 2, "%s", log_text);
  cr_assert_eq(log_count("login throttled: 6 failures from 127.0.0.1, 6 as \"admin\"; next attempt in 2 s"), 1, "%s",
               log_text);
  mg_auth_throttle_pass(&auth, &a, "bob");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 2000), 2, "bob's password proves nothing about admin's");
  mg_auth_throttle_pass(&auth, &a, "admin");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 2000), 0);
  for (int i = 0; i < 5; i++) mg_auth_throttle_fail(&auth, &a, "admin", 3000);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 3000), 1, "counting starts again from zero");
}

Test(auth_throttle, a_good_login_clears_its_names_failures_and_leaves_the_rest) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  struct mg_addr a, b, c;
  memset(&a, 0, sizeof(a));
  b = c = a;
  a.addr.ip4 = MG_IPV4(10, 0, 0, 1);
  b.addr.ip4 = MG_IPV4(10, 0, 0, 2);
  c.addr.ip4 = MG_IPV4(10, 0, 0, 3);
  mg_log_set(MG_LL_NONE);
  for (int i = 0; i < 3; i++) mg_auth_throttle_fail(&auth, &a, "admin", 1000);
  for (int i = 0; i < 2; i++) mg_auth_throttle_fail(&auth, &a, "bob", 1000);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "carol", 1000), 1, "five from a, under two names");
  mg_auth_throttle_pass(&auth, &a, "bob");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "carol", 1000), 0, "bob's two are gone, admin's three stay");
  for (int i = 0; i < 2; i++) mg_auth_throttle_fail(&auth, &b, "admin", 1000);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &c, "admin", 1000), 1, "five as admin, from two addresses");
  mg_auth_throttle_pass(&auth, &c, "admin");  // The admin logs in from c
  cr_assert_eq(mg_auth_throttle_wait(&auth, &c, "admin", 1000), 0);
  mg_auth_throttle_fail(&auth, &a, "admin", 1000);
  mg_auth_throttle_fail(&auth, &a, "admin", 1000);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "admin", 1000), 1, "a's own five as admin still count");
  cr_assert_eq(mg_auth_throttle_wait(&auth, &c, "admin", 1000), 0, "the name starts again from two");
}

Test(auth_throttle, long_names_share_the_count_of_their_first_32_characters) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  a.addr.ip4 = MG_IPV4(10, 0, 0, 1);
  mg_log_set(MG_LL_NONE);
  char name[80];
  for (int i = 0; i < 5; i++) {
    mg_snprintf(name, sizeof(name), "abcdefghijklmnopqrstuvwxyz012345-%d", i);
    mg_auth_throttle_fail(&auth, &a, name, 1000);
  }
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "abcdefghijklmnopqrstuvwxyz012345", 1000), 1);
  size_t used = 0;
  for (size_t i = 0; i < MG_AUTH_THROTTLE_SLOTS; i++) used += auth.names[i].failures > 0;
  cr_assert_eq(used, 1, "one record, not five");
}

Test(auth_throttle, the_tables_are_bounded_and_forget_the_least_failed_then_the_stalest) {
  struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  mg_log_set(MG_LL_NONE);
  char name[16];
  for (int i = 0; i <= MG_AUTH_THROTTLE_SLOTS; i++) {  // One more address (and name) than slots
    a.addr.ip4 = MG_IPV4(10, 0, 0, i);
    mg_snprintf(name, sizeof(name), "user%d", i);
    for (int k = 0; k < 5; k++) mg_auth_throttle_fail(&auth, &a, name, (uint64_t) (1000 + i));
  }
  a.addr.ip4 = MG_IPV4(10, 0, 0, 0);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "user0", 1500), 0, "the stalest was forgotten");
  for (int i = 1; i <= MG_AUTH_THROTTLE_SLOTS; i++) {
    a.addr.ip4 = MG_IPV4(10, 0, 0, i);
    mg_snprintf(name, sizeof(name), "user%d", i);
    cr_assert_eq(mg_auth_throttle_wait(&auth, &a, name, 1500), 1, "address %d", i);
  }
  // A flood of new names with one failure each churns among the least failed records:
  // the well-counted ones stay
  for (int i = 0; i < 4 * MG_AUTH_THROTTLE_SLOTS; i++) {
    a.addr.ip4 = MG_IPV4(10, 1, i / 256, i % 256);
    mg_snprintf(name, sizeof(name), "spray%d", i);
    mg_auth_throttle_fail(&auth, &a, name, 1500);
  }
  a.addr.ip4 = MG_IPV4(10, 2, 0, 0);
  cr_assert_eq(mg_auth_throttle_wait(&auth, &a, "user2", 1600), 1, "user2's five failures are still counted");
}

// ---------------------------------------------------------------------------
// Levels and the CSRF rule

Test(auth_levels, names_and_order) {
  cr_assert_str_eq(mg_dash_level_name(MG_DASH_ADMIN), "admin");
  cr_assert_str_eq(mg_dash_level_name(MG_DASH_OPERATOR), "operator");
  cr_assert_str_eq(mg_dash_level_name(MG_DASH_VIEWER), "viewer");
  cr_assert_null(mg_dash_level_name(MG_DASH_NOBODY));
  cr_assert_null(mg_dash_level_name(MG_DASH_ADMIN + 1));
  cr_assert_eq(mg_dash_level_parse(mg_str("admin")), MG_DASH_ADMIN);
  cr_assert_eq(mg_dash_level_parse(mg_str("operator")), MG_DASH_OPERATOR);
  cr_assert_eq(mg_dash_level_parse(mg_str("viewer")), MG_DASH_VIEWER);
  cr_assert_eq(mg_dash_level_parse(mg_str("Admin")), MG_DASH_NOBODY);
  cr_assert_eq(mg_dash_level_parse(mg_str("nobody")), MG_DASH_NOBODY);
  cr_assert_eq(mg_dash_level_parse(mg_str("")), MG_DASH_NOBODY);
  cr_assert_gt(MG_DASH_ADMIN, MG_DASH_OPERATOR);
  cr_assert_gt(MG_DASH_OPERATOR, MG_DASH_VIEWER);
  cr_assert_gt(MG_DASH_VIEWER, MG_DASH_NOBODY);
  cr_assert(mg_auth_name_ok(mg_str("a")));
  cr_assert(mg_auth_name_ok(mg_str("A-z_0.9")));
  cr_assert(mg_auth_name_ok(mg_str("abcdefghijklmnopqrstuvwxyz012345")));
  cr_assert_not(mg_auth_name_ok(mg_str("abcdefghijklmnopqrstuvwxyz0123456")));
  cr_assert_not(mg_auth_name_ok(mg_str("")));
  cr_assert_not(mg_auth_name_ok(mg_str("a b")));
  cr_assert_not(mg_auth_name_ok(mg_str("a/b")));
  cr_assert_not(mg_auth_name_ok(mg_str("\xc3\xa9")));
}

static bool csrf(const char *method, const char *headers) {
  static char req[512];
  struct mg_http_message hm;
  mg_snprintf(req, sizeof(req), "%s /api/x HTTP/1.1\r\nHost: x\r\n%s\r\n", method, headers);
  cr_assert_gt(mg_http_parse(req, strlen(req), &hm), 0, "%s", req);
  cr_assert(mg_auth_is_write(&hm) == (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0));
  return mg_auth_csrf_ok(&hm);
}

Test(auth_csrf, writes_need_a_json_content_type_or_the_custom_header) {
  cr_assert(csrf("POST", "Content-Type: application/json\r\n"));
  cr_assert(csrf("PUT", "Content-Type: application/json; charset=utf-8\r\n"));
  cr_assert(csrf("PATCH", "Content-Type: Application/JSON\r\n"));
  cr_assert(csrf("DELETE", "X-Requested-With: meerkat\r\n"));
  cr_assert(csrf("POST", "Content-Type: text/plain\r\nX-Requested-With: meerkat\r\n"));
  // What a cross-site form or a simple request can send
  cr_assert_not(csrf("POST", ""));
  cr_assert_not(csrf("POST", "Content-Type: text/plain\r\n"));
  cr_assert_not(csrf("POST", "Content-Type: application/x-www-form-urlencoded\r\n"));
  cr_assert_not(csrf("POST", "Content-Type: multipart/form-data; boundary=x\r\n"));
  cr_assert_not(csrf("POST", "Content-Type: text/plain; a=application/json\r\n"));
  cr_assert_not(csrf("POST", "Content-Type: application/jsonx\r\n"));
  cr_assert_not(csrf("DELETE", "X-Requested-With: XMLHttpRequest\r\n"));
  cr_assert(csrf("GET", "") == false && csrf("HEAD", "") == false);  // Not asked of reads (the gate skips them)
}

// ---------------------------------------------------------------------------
// The endpoints, over loopback: a server that lets mg_auth answer its own URLs and
// gates /api/other (GET: viewer, writes: admin) and /api/operate (writes: operator) behind it

struct site {
  struct mg_auth *auth;
};

static void site_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct site *site = (struct site *) c->fn_data;
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (mg_auth_handle(site->auth, c, hm)) return;
  int writer = mg_str_eq(hm->uri, "/api/operate") ? MG_DASH_OPERATOR : MG_DASH_ADMIN;
  int need = mg_auth_is_write(hm) ? writer : MG_DASH_VIEWER;
  int level = mg_auth_gate(site->auth, c, hm, need);
  if (level == MG_DASH_NOBODY) return;
  mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"level\":%d}\n", level);
}

struct resp {
  int status;
  char head[1024];
  char body[2048];
  bool done;
};

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct resp *r = (struct resp *) c->fn_data;
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    r->status = mg_http_status(hm);
    mg_snprintf(r->head, sizeof(r->head), "%.*s", (int) hm->head.len, hm->head.buf);
    mg_snprintf(r->body, sizeof(r->body), "%.*s", (int) hm->body.len, hm->body.buf);
    r->done = true;
    c->is_draining = 1;
  }
  if (ev == MG_EV_CLOSE) r->done = true;
}

static struct mg_mgr mgr;
static struct site site;
static int port;
static const char *req_host = "127.0.0.1";  // The Host the requests send (NULL: none, as an HTTP/1.0 client may)

static void site_start(void) {
  req_host = "127.0.0.1";
  make_tmp_dir();
  mg_log_set(MG_LL_NONE);
  site.auth = auth_new();
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", site_fn, &site);
  cr_assert_not_null(l);
  port = mg_ntohs(l->loc.port);
}

static void site_stop(void) {
  mg_mgr_free(&mgr);
  mg_auth_free(site.auth);
  remove_tmp_dir();
}

// A request on a fresh connection, sent but not waited for; headers are extra "Name: value\r\n" lines
static void req_send(struct resp *r, const char *method, const char *uri, const char *headers, const char *body) {
  memset(r, 0, sizeof(*r));
  char url[64], host[128] = "";
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
  if (req_host != NULL) mg_snprintf(host, sizeof(host), "Host: %s\r\n", req_host);
  struct mg_connection *c = mg_http_connect(&mgr, url, client_fn, r);
  cr_assert_not_null(c);
  mg_printf(c, "%s %s HTTP/1.%d\r\n%sConnection: close\r\nContent-Length: %d\r\n%s\r\n%s", method, uri,
            req_host == NULL ? 0 : 1, host, (int) strlen(body), headers, body);
}

static void req_wait(struct resp *r, const char *what) {
  uint64_t end = mg_millis() + 5000;
  while (!r->done && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  cr_assert(r->done, "%s: no answer", what);
}

// One request on a fresh connection, and its answer
static struct resp *req(const char *method, const char *uri, const char *headers, const char *body) {
  static struct resp r;
  req_send(&r, method, uri, headers, body);
  req_wait(&r, uri);
  return &r;
}

#define JSON "Content-Type: application/json\r\n"

// "Cookie: mk_session=...\r\n" from a response's Set-Cookie, into buf
static const char *cookie_of(const struct resp *r, char *buf, size_t len) {
  const char *p = strstr(r->head, "Set-Cookie: mk_session=");
  cr_assert_not_null(p, "no cookie in %s", r->head);
  p += strlen("Set-Cookie: ");
  size_t n = strcspn(p, ";\r");
  mg_snprintf(buf, len, "Cookie: theme=dark; %.*s\r\n", (int) n, p);
  return buf;
}

static const char *with(char *buf, size_t len, const char *a, const char *b) {
  mg_snprintf(buf, len, "%s%s", a, b);
  return buf;
}

Test(auth_http, setup_once_then_409_and_the_session_it_gives_works) {
  site_start();
  struct resp *r = req("GET", "/api/auth", "", "");
  cr_assert_eq(r->status, 200);
  cr_assert_str_eq(r->body, "{\"setup\":true,\"user\":null,\"level\":null}\n");
  cr_assert_eq(req("GET", "/api/other", "", "")->status, 401);
  cr_assert_str_eq(req("GET", "/api/other", "", "")->body, "{\"error\":\"login required\"}\n");

  r = req("POST", "/api/auth/setup", JSON, "{\"password\":\"short\"}");
  cr_assert_eq(r->status, 400);
  cr_assert(strstr(r->body, "password must be 8 to 128 bytes of UTF-8 (this is 5)") != NULL, "%s", r->body);
  cr_assert_eq(req("POST", "/api/auth/setup", "Content-Type: text/plain\r\n", "{\"password\":\"password1\"}")->status, 415);
  cr_assert_eq(req("GET", "/api/auth/setup", "", "")->status, 405);

  r = req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}");
  cr_assert_eq(r->status, 200, "%s", r->body);
  cr_assert_str_eq(r->body, "{\"user\":\"admin\",\"level\":\"admin\"}\n");
  cr_assert(strstr(r->head, "; Path=/; HttpOnly; SameSite=Strict\r\n") != NULL, "%s", r->head);
  cr_assert(strstr(r->head, "Secure") == NULL);
  char cookie[128], h[256];
  cookie_of(r, cookie, sizeof(cookie));

  r = req("POST", "/api/auth/setup", JSON, "{\"password\":\"password2\"}");
  cr_assert_eq(r->status, 409);
  cr_assert_str_eq(r->body, "{\"error\":\"already set up\"}\n");
  cr_assert_str_eq(req("GET", "/api/auth", cookie, "")->body, "{\"setup\":false,\"user\":\"admin\",\"level\":\"admin\"}\n");
  cr_assert_str_eq(req("GET", "/api/auth", "", "")->body, "{\"setup\":false,\"user\":null,\"level\":null}\n");
  cr_assert_eq(req("GET", "/api/other", cookie, "")->status, 200);
  cr_assert_eq(req("POST", "/api/other", with(h, sizeof(h), cookie, JSON), "{}")->status, 200);
  site_stop();
}

Test(auth_http, bodies_must_be_small_json_objects_with_the_right_fields) {
  site_start();
  static const struct {
    const char *body;
    int status;
    const char *error;
  } cases[] = {
      {"", 400, "the body is not valid JSON: empty"},
      {"[1]", 400, "the body must be a JSON object"},
      {"\"password\"", 400, "the body must be a JSON object"},
      {"{\"password\":", 400, "the body is not valid JSON: the text ends early at byte 12 in member \\\"password\\\""},
      // Each error names what is wrong: a NUL is no length problem, a lone surrogate no shape problem
      {"{\"password\":\"password\\u0000\"}", 400, "\\\"password\\\" must not contain NUL (\\\\u0000)"},
      {"{\"password\":\"password\\ud800\"}", 400,
       "the body is not valid JSON: a lone surrogate \\\\ud800 (not a character) at byte 21 in member \\\"password\\\""},
      // Limits count bytes of UTF-8: two euro signs are 6 bytes
      {"{\"password\":\"\xe2\x82\xac\xe2\x82\xac\"}", 400, "password must be 8 to 128 bytes of UTF-8 (this is 6)"},
      {"{}", 400, "missing field \\\"password\\\""},
      {"{\"password\":12345678}", 400, "\\\"password\\\" must be a string"},
      {"{\"password\":null}", 400, "\\\"password\\\" must be a string"},
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    struct resp *r = req("POST", "/api/auth/setup", JSON, cases[i].body);
    cr_assert_eq(r->status, cases[i].status, "%s: %d %s", cases[i].body, r->status, r->body);
    cr_assert(strstr(r->body, cases[i].error) != NULL, "%s: %s", cases[i].body, r->body);
  }
  static char big[MG_AUTH_MAX_BODY + 64];
  mg_snprintf(big, sizeof(big), "{\"password\":\"%0*d\"}", MG_AUTH_MAX_BODY, 0);
  cr_assert_eq(req("POST", "/api/auth/setup", JSON, big)->status, 413);
  mg_snprintf(big, sizeof(big), "{\"password\":\"%0*d\"}", 129, 0);
  cr_assert_eq(req("POST", "/api/auth/setup", JSON, big)->status, 400);
  mg_snprintf(big, sizeof(big), "{\"password\":\"%0*d\"}", 300, 0);
  struct resp *r = req("POST", "/api/auth/setup", JSON, big);
  cr_assert_eq(r->status, 400);
  cr_assert(strstr(r->body, "\\\"password\\\" is too long (300 bytes of UTF-8)") != NULL, "%s", r->body);
  mg_snprintf(big, sizeof(big), "{\"password\":\"%0*d\"}", 128, 0);
  cr_assert_eq(req("POST", "/api/auth/setup", JSON, big)->status, 200, "128 bytes are allowed");
  site_stop();
}

Test(auth_http, login_logout_and_a_viewer_who_may_only_read) {
  site_start();
  char admin[128], viewer[128], h[256];
  cookie_of(req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}"), admin, sizeof(admin));

  struct resp *r = req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password2\"}");
  cr_assert_eq(r->status, 401);
  cr_assert_str_eq(r->body, "{\"error\":\"wrong user or password\"}\n");
  cr_assert(strstr(r->head, "Set-Cookie") == NULL);
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\"}")->status, 400);
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":1,\"password\":\"password1\"}")->status, 400);
  r = req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}");
  cr_assert_eq(r->status, 200);
  cr_assert_str_eq(r->body, "{\"user\":\"admin\",\"level\":\"admin\"}\n");

  // The admin adds a viewer
  cr_assert_eq(req("POST", "/api/users", JSON, "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}")->status,
               401);
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, "Content-Type: text/plain\r\n"),
                   "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}")->status, 415);
  r = req("POST", "/api/users", with(h, sizeof(h), admin, JSON), "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}");
  cr_assert_eq(r->status, 201, "%s", r->body);
  cr_assert_str_eq(r->body, "{\"user\":\"bob\",\"level\":\"viewer\"}\n");
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                   "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}")->status, 409);
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                   "{\"user\":\"b b\",\"password\":\"password3\",\"level\":\"viewer\"}")->status, 400);
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                   "{\"user\":\"carol\",\"password\":\"password3\",\"level\":\"root\"}")->status, 400);
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                   "{\"user\":\"carol\",\"password\":\"pw\",\"level\":\"viewer\"}")->status, 400);
  r = req("GET", "/api/users", admin, "");
  cr_assert_str_eq(r->body, "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\"},{\"user\":\"bob\",\"level\":\"viewer\"}]}\n");

  cookie_of(req("POST", "/api/auth/login", JSON, "{\"user\":\"bob\",\"password\":\"password3\"}"), viewer, sizeof(viewer));
  cr_assert_str_eq(req("GET", "/api/auth", viewer, "")->body, "{\"setup\":false,\"user\":\"bob\",\"level\":\"viewer\"}\n");
  cr_assert_eq(req("GET", "/api/other", viewer, "")->status, 200);
  r = req("POST", "/api/other", with(h, sizeof(h), viewer, JSON), "{}");
  cr_assert_eq(r->status, 403);
  cr_assert_eq(req("GET", "/api/users", viewer, "")->status, 403);
  cr_assert_eq(req("DELETE", "/api/users/admin", with(h, sizeof(h), viewer, "X-Requested-With: meerkat\r\n"), "")->status, 403);

  // Removal: never the last admin; a removed user's sessions end
  cr_assert_eq(req("DELETE", "/api/users/admin", admin, "")->status, 415, "DELETE needs the custom header too");
  r = req("DELETE", "/api/users/admin", with(h, sizeof(h), admin, "X-Requested-With: meerkat\r\n"), "");
  cr_assert_eq(r->status, 409);
  cr_assert_str_eq(r->body, "{\"error\":\"cannot remove the last admin\"}\n");
  cr_assert_eq(req("DELETE", "/api/users/nobody", with(h, sizeof(h), admin, "X-Requested-With: meerkat\r\n"), "")->status, 404);
  cr_assert_eq(req("DELETE", "/api/users/bob", with(h, sizeof(h), admin, "X-Requested-With: meerkat\r\n"), "")->status, 200);
  cr_assert_eq(req("GET", "/api/other", viewer, "")->status, 401, "bob's session ended with bob");
  cr_assert_null(mg_auth_user_find(site.auth, "bob"));

  // Logout ends the session and clears the cookie
  r = req("POST", "/api/auth/logout", with(h, sizeof(h), admin, JSON), "");
  cr_assert_eq(r->status, 200);
  cr_assert_str_eq(r->body, "{}\n");
  cr_assert(strstr(r->head, "Set-Cookie: mk_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n") != NULL, "%s", r->head);
  cr_assert_eq(req("GET", "/api/other", admin, "")->status, 401);
  cr_assert_eq(req("POST", "/api/auth/logout", with(h, sizeof(h), admin, JSON), "")->status, 401);
  site_stop();
}

// Each level gets exactly its rights: a viewer reads, an operator also operates (writes
// what needs an operator), only an admin changes users and what needs an admin
Test(auth_http, an_operator_operates_but_changes_neither_users_nor_what_needs_an_admin) {
  site_start();
  char admin[128], op[128], viewer[128], h[256];
  cookie_of(req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}"), admin, sizeof(admin));
  struct resp *r = req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                       "{\"user\":\"olive\",\"password\":\"password2\",\"level\":\"operator\"}");
  cr_assert_eq(r->status, 201, "%s", r->body);
  cr_assert_str_eq(r->body, "{\"user\":\"olive\",\"level\":\"operator\"}\n");
  r = req("POST", "/api/users", with(h, sizeof(h), admin, JSON), "{\"user\":\"carol\",\"password\":\"password3\",\"level\":\"root\"}");
  cr_assert_eq(r->status, 400);
  cr_assert_str_eq(r->body, "{\"error\":\"level must be \\\"viewer\\\", \\\"operator\\\" or \\\"admin\\\"\"}\n");
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), admin, JSON),
                   "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}")->status, 201);
  r = req("GET", "/api/users", admin, "");
  cr_assert_str_eq(r->body, "{\"users\":[{\"user\":\"admin\",\"level\":\"admin\"},{\"user\":\"olive\",\"level\":\"operator\"},"
                            "{\"user\":\"bob\",\"level\":\"viewer\"}]}\n");

  r = req("POST", "/api/auth/login", JSON, "{\"user\":\"olive\",\"password\":\"password2\"}");
  cr_assert_eq(r->status, 200);
  cr_assert_str_eq(r->body, "{\"user\":\"olive\",\"level\":\"operator\"}\n");
  cookie_of(r, op, sizeof(op));
  cookie_of(req("POST", "/api/auth/login", JSON, "{\"user\":\"bob\",\"password\":\"password3\"}"), viewer, sizeof(viewer));
  cr_assert_str_eq(req("GET", "/api/auth", op, "")->body, "{\"setup\":false,\"user\":\"olive\",\"level\":\"operator\"}\n");

  // Reads: everyone; operating: the operator and the admin; the rest: the admin only
  for (const char *who = admin; who != NULL; who = who == admin ? op : who == op ? viewer : NULL) {
    cr_assert_eq(req("GET", "/api/other", who, "")->status, 200);
  }
  r = req("POST", "/api/operate", with(h, sizeof(h), op, JSON), "{}");
  cr_assert_eq(r->status, 200);
  cr_assert_str_eq(r->body, "{\"level\":2}\n", "the gate returns the operator's level");
  cr_assert_eq(req("POST", "/api/operate", with(h, sizeof(h), admin, JSON), "{}")->status, 200);
  r = req("POST", "/api/operate", with(h, sizeof(h), viewer, JSON), "{}");
  cr_assert_eq(r->status, 403);
  cr_assert_str_eq(r->body, "{\"error\":\"forbidden: this needs an operator\"}\n");
  r = req("POST", "/api/other", with(h, sizeof(h), op, JSON), "{}");
  cr_assert_eq(r->status, 403);
  cr_assert_str_eq(r->body, "{\"error\":\"forbidden: this needs an admin\"}\n");
  cr_assert_eq(req("GET", "/api/users", op, "")->status, 403);
  cr_assert_eq(req("POST", "/api/users", with(h, sizeof(h), op, JSON),
                   "{\"user\":\"eve\",\"password\":\"password4\",\"level\":\"admin\"}")->status, 403);
  cr_assert_eq(req("DELETE", "/api/users/bob", with(h, sizeof(h), op, "X-Requested-With: meerkat\r\n"), "")->status, 403);
  cr_assert_not_null(mg_auth_user_find(site.auth, "bob"));
  cr_assert_null(mg_auth_user_find(site.auth, "eve"));
  site_stop();
}

Test(auth_http, five_failures_lock_the_client_out_with_429_and_retry_after) {
  site_start();
  req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}");
  const char *bad = "{\"user\":\"admin\",\"password\":\"wrong-one\"}", *good = "{\"user\":\"admin\",\"password\":\"password1\"}";
  for (int i = 0; i < 5; i++) cr_assert_eq(req("POST", "/api/auth/login", JSON, bad)->status, 401, "failure %d", i + 1);
  struct resp *r = req("POST", "/api/auth/login", JSON, good);
  cr_assert_eq(r->status, 429, "even the right password waits");
  cr_assert(strstr(r->head, "Retry-After: 1\r\n") != NULL, "%s", r->head);
  usleep(1100 * 1000);
  cr_assert_eq(req("POST", "/api/auth/login", JSON, bad)->status, 401);  // The sixth: 2 s now
  r = req("POST", "/api/auth/login", JSON, good);
  cr_assert_eq(r->status, 429);
  cr_assert(strstr(r->head, "Retry-After: 2\r\n") != NULL, "%s", r->head);
  usleep(2100 * 1000);
  cr_assert_eq(req("POST", "/api/auth/login", JSON, good)->status, 200);
  for (int i = 0; i < 5; i++) cr_assert_eq(req("POST", "/api/auth/login", JSON, bad)->status, 401, "cleared: %d", i + 1);
  site_stop();
}

Test(auth_http, a_corrupt_users_file_refuses_setup_and_login_with_503) {
  site_start();
  mg_auth_free(site.auth);
  write_file("users.json", "{\"users\":[{\"user\":\"admin\"");
  site.auth = auth_new();
  cr_assert(site.auth->broken);
  cr_assert_str_eq(req("GET", "/api/auth", "", "")->body, "{\"setup\":false,\"user\":null,\"level\":null}\n");
  struct resp *r = req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}");
  cr_assert_eq(r->status, 503);
  cr_assert(strstr(r->body, "remove it to set up the device again") != NULL, "%s", r->body);
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}")->status, 503);
  char path[128];
  path_in_tmp(path, sizeof(path), "users.json");
  struct stat st;
  cr_assert_eq(stat(path, &st), 0, "the bad file is left for the user to look at");
  site_stop();
}

Test(auth_http, a_hash_with_fewer_iterations_is_rehashed_at_the_next_good_login) {
  site_start();
  struct mg_auth_user *u = mg_auth_user_add(site.auth, "admin", "old-password", MG_DASH_ADMIN);
  cr_assert_not_null(u);
  cr_assert(mg_auth_users_save(site.auth));
  unsigned char old_salt[MG_AUTH_SALT_LEN];
  memcpy(old_salt, u->salt, sizeof(old_salt));
  site.auth->iterations = FAST_ITERATIONS * 2;  // The build raised its count
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"wrong-password\"}")->status, 401);
  cr_assert_eq(u->iterations, FAST_ITERATIONS, "a failed login changes nothing");
  struct resp *r = req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"old-password\"}");
  cr_assert_eq(r->status, 200, "%s", r->body);
  cr_assert_str_eq(r->body, "{\"user\":\"admin\",\"level\":\"admin\"}\n");
  char cookie[128];
  cookie_of(r, cookie, sizeof(cookie));
  cr_assert_eq(u->iterations, FAST_ITERATIONS * 2);
  cr_assert_neq(memcmp(old_salt, u->salt, sizeof(old_salt)), 0);
  cr_assert(mg_auth_hash_ok(u, "old-password", 12));
  struct mg_auth *again = auth_new();  // And the file has it
  u = mg_auth_user_find(again, "admin");
  cr_assert_not_null(u);
  cr_assert_eq(u->iterations, FAST_ITERATIONS * 2);
  cr_assert(mg_auth_hash_ok(u, "old-password", 12));
  mg_auth_free(again);
  site_stop();
}

Test(auth_http, unknown_user_wrong_password_and_wrong_case_all_fail_alike) {
  site_start();
  cr_assert_not_null(mg_auth_user_add(site.auth, "admin", "password1", MG_DASH_ADMIN));
  static const char *bad[] = {"{\"user\":\"nobody\",\"password\":\"password1\"}",
                              "{\"user\":\"Admin\",\"password\":\"password1\"}",
                              "{\"user\":\"admin\",\"password\":\"password2\"}"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
    struct resp *r = req("POST", "/api/auth/login", JSON, bad[i]);
    cr_assert_eq(r->status, 401, "%s", bad[i]);
    cr_assert_str_eq(r->body, "{\"error\":\"wrong user or password\"}\n");
  }
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}")->status, 200);
  site_stop();
}

// ---------------------------------------------------------------------------
// Hashing does not stall the loop: with the build's real iteration count (about
// 100 ms a hash here, 300 under ASan), other connections are served meanwhile

static void site_start_real_cost(const char *admin_pass) {
  site_start();
  site.auth->iterations = MG_AUTH_PBKDF2_ITERATIONS;
  cr_assert_not_null(mg_auth_user_add(site.auth, "admin", admin_pass, MG_DASH_ADMIN));
  cr_assert(mg_auth_users_save(site.auth));
}

// Sends GET /api/auth one after the other until *done; the slowest answer in ms
static uint64_t probe_until(const bool *done, int *count) {
  uint64_t worst = 0;
  *count = 0;
  while (!*done) {
    uint64_t t0 = mg_millis();
    struct resp *r = req("GET", "/api/auth", "", "");
    cr_assert_eq(r->status, 200);
    uint64_t took = mg_millis() - t0;
    if (took > worst) worst = took;
    (*count)++;
  }
  return worst;
}

Test(auth_async, other_connections_are_answered_within_ms_while_logins_hash) {
  site_start_real_cost("password1");
  struct resp good, bad;
  uint64_t t0 = mg_millis();
  req_send(&good, "POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}");
  req_send(&bad, "POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password2\"}");
  int count = 0;
  uint64_t worst = probe_until(&good.done, &count);
  req_wait(&bad, "the wrong password");
  uint64_t login_ms = mg_millis() - t0;
  cr_log_info("login %lu ms; %d requests answered meanwhile, the slowest in %lu ms", (unsigned long) login_ms, count,
              (unsigned long) worst);
  cr_assert_eq(good.status, 200, "%s", good.body);
  cr_assert_str_eq(good.body, "{\"user\":\"admin\",\"level\":\"admin\"}\n");
  char cookie[128];
  cookie_of(&good, cookie, sizeof(cookie));
  cr_assert_eq(bad.status, 401, "%s", bad.body);
  cr_assert(strstr(bad.head, "Set-Cookie") == NULL);
  cr_assert_geq(count, 3, "only %d requests answered during %lu ms of logins", count, (unsigned long) login_ms);
  // About 3 loop passes of at most MG_AUTH_MAX_PENDING slices each; a whole hash is 100+ ms
  cr_assert_lt(worst, 50, "a request waited %lu ms for the hashing", (unsigned long) worst);
  site_stop();
}

Test(auth_async, logins_beyond_the_pending_limit_get_503_with_retry_after_logged_once) {
  site_start_real_cost("password1");
  enum { N = MG_AUTH_MAX_PENDING + 3 };
  static struct resp r[N];
  log_start();
  for (int i = 0; i < N; i++) req_send(&r[i], "POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}");
  for (int i = 0; i < N; i++) req_wait(&r[i], "a login");
  mg_log_set_fn(NULL, NULL);
  int ok = 0, busy = 0;
  for (int i = 0; i < N; i++) {
    if (r[i].status == 200) {
      ok++;
    } else {
      cr_assert_eq(r[i].status, 503, "%d: %s", r[i].status, r[i].body);
      cr_assert(strstr(r[i].head, "Retry-After: 1\r\n") != NULL, "%s", r[i].head);
      cr_assert(strstr(r[i].head, "Content-Type: application/json\r\n") != NULL, "%s", r[i].head);
      cr_assert(strstr(r[i].body, "{\"error\":\"") == r[i].body, "%s", r[i].body);
      busy++;
    }
  }
  cr_assert_eq(ok, MG_AUTH_MAX_PENDING, "%d answered 200", ok);
  cr_assert_eq(busy, N - MG_AUTH_MAX_PENDING);
  cr_assert_eq(log_count("503"), 1, "logged once a second at most: %s", log_text);
  // Room again once they are done
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}")->status, 200);
  site_stop();
}

static size_t jobs_running(void) {
  size_t n = 0;
  for (size_t i = 0; i < MG_AUTH_MAX_PENDING; i++) n += site.auth->jobs[i].kind != MG_AUTH_JOB_NONE;
  return n;
}

// A raw client from the loopback address ip (any of 127.0.0.0/8 is this host) that sends
// a login and can vanish with a reset (SO_LINGER 0)
static int raw_login_from(const char *ip, const char *body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(fd, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  cr_assert_eq(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
  cr_assert_eq(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0, "bind %s", ip);
  sin.sin_port = htons((uint16_t) port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
  char buf[512];
  int n = (int) mg_snprintf(buf, sizeof(buf),
                            "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" JSON "Content-Length: %d\r\n\r\n%s",
                            (int) strlen(body), body);
  cr_assert_eq(send(fd, buf, (size_t) n, 0), n);
  return fd;
}

static int raw_login(const char *body) {
  return raw_login_from("127.0.0.1", body);
}

// The status of the answer to a raw_login_from, the loop run meanwhile; closes fd
static int raw_status(int fd) {
  char buf[1024];
  size_t n = 0;
  uint64_t end = mg_millis() + 5000;
  buf[0] = '\0';
  while (mg_millis() < end && strstr(buf, "\r\n\r\n") == NULL) {
    mg_mgr_poll(&mgr, 5);
    ssize_t got = recv(fd, buf + n, sizeof(buf) - 1 - n, MSG_DONTWAIT);
    if (got > 0) n += (size_t) got;
    buf[n] = '\0';
  }
  close(fd);
  int status = 0;
  cr_assert(n >= 12 && sscanf(buf, "HTTP/1.1 %d", &status) == 1, "no answer: %.*s", (int) n, buf);
  return status;
}

static int login_from(const char *ip, const char *user, const char *pass) {
  char body[128];
  mg_snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pass);
  return raw_status(raw_login_from(ip, body));
}

static void reset(int fd) {
  struct linger lg = {1, 0};
  cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
  close(fd);
}

static void poll_until_running(size_t n) {
  uint64_t end = mg_millis() + 2000;
  while (jobs_running() != n && mg_millis() < end) mg_mgr_poll(&mgr, 1);
  cr_assert_eq(jobs_running(), n, "the logins are parked while they hash");
}

Test(auth_async, a_client_that_vanishes_mid_hash_frees_its_slot_at_once) {
  site_start_real_cost("password1");
  int a = raw_login("{\"user\":\"admin\",\"password\":\"password1\"}");
  int b = raw_login("{\"user\":\"nobody\",\"password\":\"password1\"}");
  poll_until_running(2);
  uint64_t t0 = mg_millis();
  reset(a);
  reset(b);
  while (jobs_running() > 0 && mg_millis() < t0 + 2000) mg_mgr_poll(&mgr, 1);
  uint64_t took = mg_millis() - t0;
  cr_assert_eq(jobs_running(), 0);
  cr_assert_lt(took, 30, "freed after %lu ms: the hash was not given up (a whole one is 100+ ms)", (unsigned long) took);
  cr_assert_eq(mgr.conns->next, NULL, "only the listener is left");
  // The next login has its slot
  cr_assert_eq(req("POST", "/api/auth/login", JSON, "{\"user\":\"admin\",\"password\":\"password1\"}")->status, 200);
  site_stop();
}

Test(auth_async, the_manager_freed_mid_hash_leaves_nothing_behind) {
  site_start_real_cost("password1");
  int a = raw_login("{\"user\":\"admin\",\"password\":\"password1\"}");
  poll_until_running(1);
  site_stop();  // The manager first, then the auth, as the firmware does (ASan: no leak, no use after free)
  close(a);
}

Test(auth_async, the_auth_freed_mid_hash_unhooks_its_timer) {
  site_start_real_cost("password1");
  int a = raw_login("{\"user\":\"admin\",\"password\":\"password1\"}");
  poll_until_running(1);
  mg_auth_free(site.auth);
  site.auth = auth_new();
  for (int i = 0; i < 5; i++) mg_mgr_poll(&mgr, 1);  // The old auth's slice does not run (ASan)
  site_stop();
  close(a);
}

Test(auth_async, two_setups_at_once_make_one_admin_and_the_other_gets_409) {
  site_start();
  struct resp r1, r2;
  req_send(&r1, "POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}");
  req_send(&r2, "POST", "/api/auth/setup", JSON, "{\"password\":\"password2\"}");
  req_wait(&r1, "setup 1");
  req_wait(&r2, "setup 2");
  cr_assert_eq(r1.status + r2.status, 200 + 409, "%d %d", r1.status, r2.status);
  cr_assert_eq(mg_auth_admins(site.auth), 1);
  const char *pass = r1.status == 200 ? "password1" : "password2";
  cr_assert(mg_auth_hash_ok(mg_auth_user_find(site.auth, "admin"), pass, 9), "the winner's password");
  site_stop();
}

Test(auth_async, the_same_user_added_twice_at_once_is_added_once) {
  site_start();
  char admin[128], h[256];
  cookie_of(req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}"), admin, sizeof(admin));
  struct resp r1, r2;
  with(h, sizeof(h), admin, JSON);
  req_send(&r1, "POST", "/api/users", h, "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"viewer\"}");
  req_send(&r2, "POST", "/api/users", h, "{\"user\":\"bob\",\"password\":\"password4\",\"level\":\"admin\"}");
  req_wait(&r1, "add 1");
  req_wait(&r2, "add 2");
  cr_assert_eq(r1.status + r2.status, 201 + 409, "%d %d", r1.status, r2.status);
  cr_assert_str_eq((r1.status == 409 ? &r1 : &r2)->body, "{\"error\":\"user exists\"}\n");
  r1 = *req("GET", "/api/users", admin, "");
  cr_assert(strstr(r1.body, "\"bob\"") != NULL && strstr(strstr(r1.body, "\"bob\"") + 1, "\"bob\"") == NULL, "%s", r1.body);
  site_stop();
}

// ---------------------------------------------------------------------------
// The throttle over loopback: failures count per address and per user name, and a
// good login clears only what it proves (its own name's failures)

Test(auth_throttle_http, a_viewers_good_logins_do_not_clear_guesses_at_the_admin) {
  site_start();
  cr_assert_not_null(mg_auth_user_add(site.auth, "admin", "password1", MG_DASH_ADMIN));
  cr_assert_not_null(mg_auth_user_add(site.auth, "bob", "password3", MG_DASH_VIEWER));
  // Three guesses at the admin, then the viewer's own password, and again: before, each
  // good login wiped the address's count, so guessing went on for ever without a 429
  int guesses = 0, status = 0;
  while (guesses < 18) {
    for (int i = 0; i < 3 && guesses < 18; i++) {
      status = login_from("127.0.0.1", "admin", "guess-guess");
      guesses++;
      if (status == 429) break;
      cr_assert_eq(status, 401, "guess %d", guesses);
    }
    if (status == 429) break;
    cr_assert_eq(login_from("127.0.0.1", "bob", "password3"), 200, "after %d guesses", guesses);
  }
  cr_assert_eq(status, 429, "18 guesses and no 429");
  cr_assert_eq(guesses, 6, "the 6th guess waits: five failures were counted, the viewer's logins cleared none");
  site_stop();
}

Test(auth_throttle_http, guesses_at_one_name_from_many_addresses_are_throttled_per_name) {
  site_start();
  cr_assert_not_null(mg_auth_user_add(site.auth, "admin", "password1", MG_DASH_ADMIN));
  cr_assert_not_null(mg_auth_user_add(site.auth, "bob", "password3", MG_DASH_VIEWER));
  static const char *from[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(from); i++) {
    cr_assert_eq(login_from(from[i], "admin", "guess-guess"), 401, "from %s", from[i]);
  }
  cr_assert_eq(login_from("127.0.0.7", "admin", "guess-guess"), 429, "a sixth address guessing the same name waits");
  cr_assert_eq(login_from("127.0.0.7", "admin", "password1"), 429, "even with the right password");
  cr_assert_eq(login_from("127.0.0.8", "bob", "password3"), 200, "another name is not held up");
  usleep(1100 * 1000);  // The name's wait (1 s after five failures) is over
  cr_assert_eq(login_from("127.0.0.9", "admin", "password1"), 200);
  // The good login proved the admin's password: the name's count is gone, so five
  // more guesses are free from fresh addresses; the guessers' own counts stay
  cr_assert_eq(login_from("127.0.0.10", "admin", "guess-guess"), 401, "the name's count was cleared");
  for (int i = 0; i < 4; i++) cr_assert_eq(login_from("127.0.0.2", "admin", "guess-guess"), 401, "address %d", i);
  cr_assert_eq(login_from("127.0.0.2", "bob", "password3"), 429, "127.0.0.2 has five failures of its own");
  site_stop();
}

Test(auth_throttle_http, a_client_that_leaves_before_its_hash_is_done_still_counts_as_an_attempt) {
  site_start_real_cost("password1");
  // Guessing and hanging up before the answer costs the guesser as much as hearing it
  for (int round = 0; round < 3; round++) {
    int fds[MG_AUTH_MAX_PENDING];
    for (int i = 0; i < MG_AUTH_MAX_PENDING; i++) fds[i] = raw_login("{\"user\":\"admin\",\"password\":\"guess-guess\"}");
    poll_until_running(MG_AUTH_MAX_PENDING);
    for (int i = 0; i < MG_AUTH_MAX_PENDING; i++) reset(fds[i]);
    uint64_t end = mg_millis() + 2000;
    while (jobs_running() > 0 && mg_millis() < end) mg_mgr_poll(&mgr, 1);
    cr_assert_eq(jobs_running(), 0);
  }
  cr_assert_geq(3 * MG_AUTH_MAX_PENDING, 5);
  cr_assert_eq(login_from("127.0.0.1", "admin", "password1"), 429, "six abandoned guesses were counted");
  site_stop();
}

// "Cookie: mk_session=...\r\n" of a new session of user, made directly
static const char *session_cookie(const char *user, char *buf, size_t len) {
  char tok[64];
  struct mg_auth_session *s = mg_auth_session_new(site.auth, user, mg_millis());
  cr_assert_not_null(s);
  struct mg_str t = token_of(s, tok, sizeof(tok));
  mg_snprintf(buf, len, "Cookie: mk_session=%.*s\r\n", (int) t.len, t.buf);
  return buf;
}

Test(auth_async, a_user_is_added_only_if_the_admin_who_asked_is_still_logged_in_when_the_hash_is_done) {
  site_start_real_cost("password1");
  char admin[128], h[256];
  session_cookie("admin", admin, sizeof(admin));
  struct resp add;
  req_send(&add, "POST", "/api/users", with(h, sizeof(h), admin, JSON),
           "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"admin\"}");
  poll_until_running(1);
  cr_assert_eq(req("POST", "/api/auth/logout", with(h, sizeof(h), admin, JSON), "")->status, 200);
  req_wait(&add, "the add");
  cr_assert_eq(add.status, 401, "%d %s", add.status, add.body);
  cr_assert(strstr(add.body, "login required") != NULL, "%s", add.body);
  cr_assert(strstr(add.body, "session ended") != NULL, "it says why: %s", add.body);
  cr_assert_null(mg_auth_user_find(site.auth, "bob"), "not added");

  // An admin made a viewer meanwhile (as a future endpoint may): 403
  session_cookie("admin", admin, sizeof(admin));
  req_send(&add, "POST", "/api/users", with(h, sizeof(h), admin, JSON),
           "{\"user\":\"bob\",\"password\":\"password3\",\"level\":\"admin\"}");
  poll_until_running(1);
  mg_auth_user_find(site.auth, "admin")->level = MG_DASH_VIEWER;
  req_wait(&add, "the add");
  cr_assert_eq(add.status, 403, "%d %s", add.status, add.body);
  cr_assert(strstr(add.body, "needs an admin") != NULL, "%s", add.body);
  cr_assert_null(mg_auth_user_find(site.auth, "bob"), "not added");
  site_stop();
}

Test(auth_http, setup_over_an_in_memory_viewer_named_admin_ends_that_viewers_sessions) {
  site_start();
  cr_assert_not_null(mg_auth_user_add(site.auth, "admin", "viewer-pass", MG_DASH_VIEWER));  // A maker's, no admin yet
  char viewer[128];
  session_cookie("admin", viewer, sizeof(viewer));
  cr_assert_str_eq(req("GET", "/api/auth", viewer, "")->body, "{\"setup\":true,\"user\":\"admin\",\"level\":\"viewer\"}\n");
  cr_assert_eq(req("POST", "/api/auth/setup", JSON, "{\"password\":\"password1\"}")->status, 200);
  cr_assert_str_eq(req("GET", "/api/auth", viewer, "")->body, "{\"setup\":false,\"user\":null,\"level\":null}\n",
                   "the viewer's session does not pass for the new admin's");
  site_stop();
}

// ---------------------------------------------------------------------------
// The Host a request names: a page that rebinds its own name to the device's address
// (DNS rebinding) reaches /api/ under that name, so only the device's names are served

static int status_with_host(const char *host, const char *method, const char *uri, const char *body) {
  req_host = host;
  int status = req(method, uri, *body != '\0' ? JSON : "", body)->status;
  req_host = "127.0.0.1";
  return status;
}

Test(auth_host, a_name_that_is_not_the_devices_gets_421_even_in_setup_mode) {
  site_start();
  log_start();
  uint64_t t0 = mg_millis();
  static const char *refused[] = {"evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil.example",
                                  "[::1].evil.example", "[::1", "1.2.3", "0x7f.0.0.1", "127.0.0.1:80x", "127.0.0.1:",
                                  "", "meerkat.local"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(refused); i++) {
    cr_assert_eq(status_with_host(refused[i], "POST", "/api/auth/setup", "{\"password\":\"attacker-pass\"}"), 421,
                 "Host: %s", refused[i]);
    cr_assert_eq(status_with_host(refused[i], "GET", "/api/auth", ""), 421, "Host: %s", refused[i]);
    cr_assert_eq(status_with_host(refused[i], "GET", "/api/other", ""), 421, "Host: %s", refused[i]);
  }
  mg_log_set_fn(NULL, NULL);
  uint64_t seconds = (mg_millis() - t0) / 1000 + 1;
  cr_assert_eq(mg_auth_admins(site.auth), 0, "no admin was set up");
  cr_assert_leq(log_count("421 for 127.0.0.1: Host "), seconds, "logged once a second at most: %s", log_text);
  cr_assert(strstr(log_text, "421 for 127.0.0.1: Host \"evil.example\" is none of this device's names") != NULL, "%s",
            log_text);
  req_host = "evil.example";
  struct resp *r = req("GET", "/api/auth", "", "");
  cr_assert(strstr(r->head, "Content-Type: application/json\r\n") != NULL, "%s", r->head);
  cr_assert_str_eq(r->body, "{\"error\":\"this device does not answer to the name evil.example: open it by its IP address "
                            "or its own name\"}\n");
  static const char *served[] = {"127.0.0.1", "127.0.0.1:8000", "10.1.2.3:80", "[::1]", "[::1]:8000",
                                 "[fe80::1]:80", "localhost", "LocalHost:8000", "localhost."};
  for (size_t i = 0; i < MG_ARRAY_SIZE(served); i++) {
    cr_assert_eq(status_with_host(served[i], "GET", "/api/auth", ""), 200, "Host: %s", served[i]);
  }
  cr_assert_eq(status_with_host(NULL, "GET", "/api/auth", ""), 200, "no Host at all (HTTP/1.0): nothing to rebind");
  cr_assert_eq(status_with_host("[::1]:8000", "POST", "/api/auth/setup", "{\"password\":\"password1\"}"), 200);
  site_stop();
}

Test(auth_host, the_devices_names_and_their_local_names_are_served_as_they_change) {
  site_start();
  static char name[33] = "greenhouse";  // As the firmware's settings.name: read at each request
  cr_assert(mg_auth_allow_host(site.auth, name));
  cr_assert(mg_auth_allow_host(site.auth, "device.example.com"));
  static const char *served[] = {"greenhouse", "greenhouse:8000", "GreenHouse.Local", "greenhouse.local:80",
                                 "greenhouse.local.", "device.example.com", "device.example.com.local:443"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(served); i++) {
    cr_assert_eq(status_with_host(served[i], "GET", "/api/auth", ""), 200, "Host: %s", served[i]);
  }
  static const char *refused[] = {"greenhouse.lan", "xgreenhouse", "greenhouse.localx", "greenhouse..local",
                                  "example.com", "local", ".local"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(refused); i++) {
    cr_assert_eq(status_with_host(refused[i], "GET", "/api/auth", ""), 421, "Host: %s", refused[i]);
  }
  strcpy(name, "barn");  // settings.name changed
  cr_assert_eq(status_with_host("barn.local", "GET", "/api/auth", ""), 200);
  cr_assert_eq(status_with_host("greenhouse.local", "GET", "/api/auth", ""), 421, "the old name is no longer the device's");
  name[0] = '\0';
  cr_assert_eq(status_with_host(".local", "GET", "/api/auth", ""), 421, "an empty name names nothing");
  for (int i = 2; i < MG_AUTH_MAX_HOSTS; i++) cr_assert(mg_auth_allow_host(site.auth, "more.example"));
  cr_assert_not(mg_auth_allow_host(site.auth, "one-too-many.example"), "at most MG_AUTH_MAX_HOSTS");
  site_stop();
}
