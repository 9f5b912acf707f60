// The dashboard layer on the flash filesystem over the RAM backend, as on a board: a
// persisted set, the users file and the session handover survive a reboot (free, mount
// again over the same RAM, init again), and a damaged record is ignored with a log line.
#include <criterion/criterion.h>
#include <string.h>
#include "dash/auth_internal.h"
#include "fs/fs_flash.h"

#define SECTOR 4096
static uint8_t s_mem[2 * 4 * SECTOR];  // Slot 0 of 4 sectors: halves of 8 KiB
static struct ota_flash s_flash;
static int s_speed;
static bool s_on;
static struct mg_dash_field s_fields[] = {
    MG_DASH_INT("speed", &s_speed, 0, 100),
    MG_DASH_BOOL("on", &s_on),
};
static struct mg_dash_set s_set = MG_DASH_SET("pump", s_fields, .persist = true);
static struct mg_mgr s_mgr;
static struct mg_dash s_dash;

static char s_log[4096];
static size_t s_log_len;
static void log_capture(char ch, void *param) {
  (void) param;
  if (s_log_len + 1 < sizeof(s_log)) s_log[s_log_len++] = ch, s_log[s_log_len] = '\0';
}

static void boot(void) {
  cr_assert(mg_fs_flash_init(&s_flash, 0));
  s_speed = 50, s_on = false;
  mg_mgr_init(&s_mgr);
  mg_dash_init(&s_dash, &s_mgr, "");  // Files are /pump.json, /users.json, /sessions.handover
  cr_assert_eq(s_dash.fs, &mg_fs_flash);
  cr_assert(mg_dash_add(&s_dash, &s_set));
}

static void shutdown(void) {
  mg_dash_free(&s_dash);
  mg_mgr_free(&s_mgr);
}

static void setup(void) {
  memset(s_mem, 0xFF, sizeof(s_mem));
  cr_assert(ota_flash_ram_init(&s_flash, s_mem, sizeof(s_mem), SECTOR));
  mg_dash_fs = &mg_fs_flash;
}

static void teardown(void) {
  mg_log_set_fn(NULL, NULL);
  mg_fs_flash_init(NULL, 0);
  mg_dash_fs = &mg_fs_posix;
}

TestSuite(dash_flash, .init = setup, .fini = teardown);

static int write_set(const char *json) {
  struct mg_iobuf err = {NULL, 0, 0, 64};
  int status = mg_dash_write(&s_set, mg_str(json), MG_DASH_ADMIN, &err);
  mg_iobuf_free(&err);
  return status;
}

Test(dash_flash, a_persisted_set_survives_a_reboot) {
  boot();
  cr_assert_eq(write_set("{\"speed\":70,\"on\":true}"), 200);
  shutdown();
  boot();
  cr_assert_eq(s_speed, 70);
  cr_assert(s_on);
  cr_assert_eq(write_set("{\"speed\":80}"), 200);
  shutdown();
  boot();
  cr_assert_eq(s_speed, 80);
  shutdown();
}

Test(dash_flash, a_damaged_record_is_ignored_with_a_log_line_and_the_one_before_stands) {
  boot();
  cr_assert_eq(write_set("{\"speed\":70}"), 200);
  size_t at = fs_flash_state.end;
  cr_assert_eq(write_set("{\"speed\":90}"), 200);
  shutdown();
  s_mem[at + FS_FLASH_REC_HEAD + 3] ^= 0x20;  // In the second record's data
  s_log_len = 0;
  mg_log_set_fn(log_capture, NULL);
  boot();
  mg_log_set_fn(NULL, NULL);
  cr_assert(strstr(s_log, "the record of /pump.json") != NULL && strstr(s_log, "fails its CRC") != NULL, "%s", s_log);
  cr_assert_eq(s_speed, 70);
  shutdown();
}

Test(dash_flash, a_corrupt_set_file_is_set_aside_as_bad_on_flash) {
  cr_assert(mg_fs_flash_init(&s_flash, 0));
  cr_assert(mg_fs_write_atomic(&mg_fs_flash, "/pump.json", "{not json", 9, 0));
  boot();
  cr_assert_not_null(s_set.corrupt);
  cr_assert(s_set.corrupt_kept);
  struct mg_str bad = mg_file_read(&mg_fs_flash, "/pump.json.bad");
  cr_assert_eq(bad.len, 9);
  mg_free((void *) bad.buf);
  shutdown();
}

Test(dash_flash, users_and_handed_over_sessions_survive_a_reboot) {
  cr_assert(mg_fs_flash_init(&s_flash, 0));
  struct mg_auth *auth = mg_auth_create("");
  cr_assert_not_null(auth);
  cr_assert_str_eq(auth->path, "/users.json");
  auth->iterations = 10;
  cr_assert_not_null(mg_auth_user_add(auth, "admin", "secret", MG_DASH_ADMIN));
  cr_assert(mg_auth_users_save(auth));
  cr_assert_not_null(mg_auth_session_new(auth, "admin", mg_millis()));
  cr_assert(mg_auth_sessions_save(auth));
  mg_auth_free(auth);

  cr_assert(mg_fs_flash_init(&s_flash, 0));  // Reboot
  auth = mg_auth_create("");
  cr_assert_not(auth->broken);
  struct mg_auth_user *u = mg_auth_user_find(auth, "admin");
  cr_assert_not_null(u);
  cr_assert(mg_auth_hash_ok(u, "secret", 6));
  cr_assert_eq(mg_fs_flash.st("/sessions.handover", NULL, NULL), 0, "taken once, then removed");
  mg_auth_free(auth);
}

Test(dash_flash, without_a_filesystem_users_and_sets_stay_in_memory) {
  mg_dash_fs = NULL;
  struct mg_auth *auth = mg_auth_create("/data");
  cr_assert_str_eq(auth->path, "");
  cr_assert(mg_auth_users_save(auth));
  mg_auth_free(auth);
  mg_mgr_init(&s_mgr);
  mg_dash_init(&s_dash, &s_mgr, "/data");
  cr_assert(mg_dash_add(&s_dash, &s_set));
  cr_assert_eq(write_set("{\"speed\":10}"), 200);
  shutdown();
}
