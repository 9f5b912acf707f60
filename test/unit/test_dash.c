// Field sets (core/dash): validation of each type and limit, all-or-nothing writes,
// the write callback, schema and values JSON, persistence, coalesced pushes.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dash/auth_internal.h"
#include "dash/dash_internal.h"

// ---- a set with one field of each kind
static bool s_b;
static int s_i, s_e, s_ro;
static double s_d;
static char s_s[9];
static const char *s_colours[] = {"red", "green", "blue", NULL};
static struct mg_dash_field s_fields[] = {
    MG_DASH_BOOL("b", &s_b),
    MG_DASH_INT("i", &s_i, 1, 10, .unit = "s", .title = "Interval"),
    MG_DASH_DOUBLE("d", &s_d, -1.5, 2.5),
    MG_DASH_STRING("s", s_s, .min_len = 1),
    MG_DASH_ENUM("e", &s_e, s_colours),
    MG_DASH_INT_ANY("ro", &s_ro, .readonly = true),
};
static struct mg_dash_set s_set;
static int s_reads, s_writes;
static const char *s_refusal;
static union mg_dash_value s_seen[6];
static char s_seen_s[16];  // s_seen[3].s points into the write's stage, gone after it

static void on_read(struct mg_dash_set *set) {
  (void) set;
  s_reads++;
  s_ro = 40 + s_reads;
}

static const char *on_write(struct mg_dash_set *set, const union mg_dash_value *next) {
  (void) set;
  s_writes++;
  memcpy(s_seen, next, sizeof(s_seen));
  mg_snprintf(s_seen_s, sizeof(s_seen_s), "%s", next[3].s);
  return s_refusal;
}

static struct mg_mgr s_mgr;
static struct mg_dash s_dash;
static int s_ws_level = MG_DASH_ADMIN;  // The level of the WebSocket clients that connect next

static void defaults(void) {
  s_b = false, s_i = 5, s_d = 0.5, s_e = 0, s_ro = 7;
  s_ws_level = MG_DASH_ADMIN;
  strcpy(s_s, "abc");
  s_reads = s_writes = 0;
  s_refusal = NULL;
}

static void setup(void) {
  defaults();
  struct mg_dash_set set = MG_DASH_SET("kinds", s_fields, .title = "Kinds", .on_read = on_read, .on_write = on_write);
  s_set = set;
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&s_mgr);
  mg_dash_init(&s_dash, &s_mgr, NULL);
  cr_assert(mg_dash_add(&s_dash, &s_set));
}

static void teardown(void) {
  mg_dash_free(&s_dash);
  mg_mgr_free(&s_mgr);
}

// The schema the dashboard serves at level, in out
static struct mg_str schema_at(int level, struct mg_iobuf *out) {
  cr_assert(mg_dash_schema_json(&s_dash, level, out));
  return mg_str_n((char *) out->buf, out->len);
}

// Writes body to set at level: the status, and the error members (without braces) in err
static int write_to(struct mg_dash_set *set, const char *body, int level, char *err, size_t len) {
  struct mg_iobuf out = {NULL, 0, 0, 64};
  int status = mg_dash_write(set, mg_str(body), level, &out);
  mg_snprintf(err, len, "{%.*s}", (int) out.len, out.buf == NULL ? "" : (char *) out.buf);
  mg_iobuf_free(&out);
  return status;
}

static int write_as(const char *body, int level, char *err, size_t len) {
  return write_to(&s_set, body, level, err, len);
}

// The reason given for field name, from a 400 answer
static void expect_reason(const char *body, const char *name, const char *reason) {
  char err[512], path[64], *got;
  cr_assert_eq(write_as(body, MG_DASH_ADMIN, err, sizeof(err)), 400, "%s", body);
  cr_assert_str_eq((got = mg_json_get_str(mg_str(err), "$.error")), "invalid fields");
  mg_free(got);
  mg_snprintf(path, sizeof(path), "$.fields.%s", name);
  got = mg_json_get_str(mg_str(err), path);
  cr_assert_not_null(got, "%s: no reason for %s in %s", body, name, err);
  cr_assert_str_eq(got, reason, "%s", body);
  mg_free(got);
}

// The string at path in json is want
static void expect_str(struct mg_str json, const char *path, const char *want) {
  char *got = mg_json_get_str(json, path);
  cr_assert_not_null(got, "%s: nothing at %s in %.*s", want, path, (int) json.len, json.buf);
  cr_assert_str_eq(got, want, "%s", path);
  mg_free(got);
}

TestSuite(dash, .init = setup, .fini = teardown);

Test(dash, bool_refuses_numbers_and_strings) {
  expect_reason("{\"b\":1}", "b", "must be true or false");
  expect_reason("{\"b\":\"true\"}", "b", "must be true or false");
  expect_reason("{\"b\":null}", "b", "must be true or false");
  cr_assert_eq(write_as("{\"b\":true}", MG_DASH_ADMIN, (char[256]){0}, 256), 200);
  cr_assert(s_b);
}

Test(dash, int_limits_and_integers_only) {
  expect_reason("{\"i\":11}", "i", "must be between 1 and 10");
  expect_reason("{\"i\":0}", "i", "must be between 1 and 10");
  expect_reason("{\"i\":1.5}", "i", "must be an integer");
  expect_reason("{\"i\":\"5\"}", "i", "must be an integer");
  expect_reason("{\"i\":1e300}", "i", "must be an integer");
  expect_reason("{\"i\":true}", "i", "must be an integer");
  char err[256];
  cr_assert_eq(write_as("{\"i\":10}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_i, 10);
  cr_assert_eq(write_as("{\"i\":1}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_i, 1);
}

Test(dash, double_limits) {
  expect_reason("{\"d\":2.51}", "d", "must be between -1.5 and 2.5");
  expect_reason("{\"d\":-1.6}", "d", "must be between -1.5 and 2.5");
  expect_reason("{\"d\":\"1\"}", "d", "must be a number");
  char err[256];
  cr_assert_eq(write_as("{\"d\":-1.5}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_float_eq(s_d, -1.5, 1e-12);
  cr_assert_eq(write_as("{\"d\":2}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_float_eq(s_d, 2.0, 1e-12);
}

Test(dash, string_length_and_type) {
  expect_reason("{\"s\":\"123456789\"}", "s", "must be at most 8 bytes of UTF-8 (this is 9)");
  expect_reason("{\"s\":\"\"}", "s", "must be 1 to 8 bytes of UTF-8");
  expect_reason("{\"s\":5}", "s", "must be a string");
  expect_reason("{\"s\":\"a\\u0000b\"}", "s", "must not contain NUL (\\u0000)");
  // The limit counts bytes: three characters of 3 bytes each are one too many
  expect_reason("{\"s\":\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\"}", "s", "must be at most 8 bytes of UTF-8 (this is 9)");
  expect_reason("{\"s\":\"\\u20ac\\u20ac\\u20ac\"}", "s", "must be at most 8 bytes of UTF-8 (this is 9)");
  cr_assert_str_eq(s_s, "abc");
  char err[256];
  cr_assert_eq(write_as("{\"s\":\"12345678\"}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_str_eq(s_s, "12345678");
  cr_assert_eq(write_as("{\"s\":\"a\\\"b\"}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_str_eq(s_s, "a\"b");
}

Test(dash, enum_values_only) {
  expect_reason("{\"e\":\"purple\"}", "e", "must be one of red, green, blue");
  expect_reason("{\"e\":1}", "e", "must be one of red, green, blue");
  char err[256];
  cr_assert_eq(write_as("{\"e\":\"blue\"}", MG_DASH_ADMIN, err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_e, 2);
}

Test(dash, read_only_and_unknown_fields_are_errors) {
  expect_reason("{\"ro\":1}", "ro", "read-only");
  expect_reason("{\"nope\":1}", "nope", "unknown field");
  cr_assert_eq(s_ro, 7);
}

Test(dash, a_write_is_all_or_nothing_and_reports_every_bad_field) {
  char err[512];
  cr_assert_eq(write_as("{\"b\":true,\"i\":99,\"s\":\"xyz\",\"x\":0,\"d\":9}", MG_DASH_ADMIN, err, sizeof(err)), 400);
  cr_assert(!s_b);
  cr_assert_str_eq(s_s, "abc");
  cr_assert_eq(s_writes, 0, "the callback never sees an invalid write");
  int n = 0;
  cr_assert_geq(mg_json_get(mg_str(err), "$.fields.i", &n), 0, "%s", err);
  cr_assert_geq(mg_json_get(mg_str(err), "$.fields.x", &n), 0, "%s", err);
  cr_assert_geq(mg_json_get(mg_str(err), "$.fields.d", &n), 0, "%s", err);
  cr_assert_lt(mg_json_get(mg_str(err), "$.fields.b", &n), 0, "%s", err);
  // Good values together all land
  cr_assert_eq(write_as("{\"b\":true,\"i\":3,\"s\":\"xyz\",\"e\":\"green\"}", MG_DASH_ADMIN, err, sizeof(err)), 200,
               "%s", err);
  cr_assert(s_b);
  cr_assert_eq(s_i, 3);
  cr_assert_str_eq(s_s, "xyz");
  cr_assert_eq(s_e, 1);
}

Test(dash, bad_json_non_objects_and_viewers) {
  char err[256];
  cr_assert_eq(write_as("{\"b\":tru", MG_DASH_ADMIN, err, sizeof(err)), 400);
  cr_assert_str_eq(err, "{\"error\":\"bad JSON: expected a value at byte 5 in member \\\"b\\\"\"}");
  // A lone surrogate has no UTF-8 form: the document is refused, saying so
  cr_assert_eq(write_as("{\"s\":\"x\\ud800\"}", MG_DASH_ADMIN, err, sizeof(err)), 400);
  cr_assert_str_eq(err, "{\"error\":\"bad JSON: a lone surrogate \\\\ud800 (not a character) at byte 7 in member \\\"s\\\"\"}");
  cr_assert_str_eq(s_s, "abc");
  cr_assert_eq(write_as("[true]", MG_DASH_ADMIN, err, sizeof(err)), 400);
  cr_assert_eq(write_as("{\"b\":true}", MG_DASH_VIEWER, err, sizeof(err)), 403);
  cr_assert_str_eq(err, "{\"error\":\"forbidden\"}");
  cr_assert_eq(write_as("{\"b\":true}", MG_DASH_NOBODY, err, sizeof(err)), 403);
  cr_assert(!s_b);
}

Test(dash, the_write_callback_sees_the_new_values_and_may_refuse) {
  char err[256];
  s_refusal = "the pump is running";
  cr_assert_eq(write_as("{\"i\":7,\"b\":true}", MG_DASH_ADMIN, err, sizeof(err)), 409);
  cr_assert_str_eq(err, "{\"error\":\"the pump is running\"}");
  cr_assert_eq(s_writes, 1);
  cr_assert_eq(s_seen[1].i, 7, "new value staged");
  cr_assert(s_seen[0].b);
  cr_assert_str_eq(s_seen_s, "abc", "unchanged fields hold their current value");
  cr_assert_eq(s_i, 5, "a refused write changes nothing");
  cr_assert(!s_b);
  s_refusal = NULL;
  cr_assert_eq(write_as("{\"i\":7}", MG_DASH_ADMIN, err, sizeof(err)), 200);
  cr_assert_eq(s_i, 7);
}

Test(dash, values_json_reads_back_and_calls_on_read) {
  struct mg_iobuf out = {NULL, 0, 0, 64};
  strcpy(s_s, "q\"x");
  cr_assert(mg_dash_values_json(&s_set, MG_DASH_VIEWER, &out));
  struct mg_str json = mg_str_n((char *) out.buf, out.len);
  cr_assert_eq(s_reads, 1);
  bool b = true;
  double v = 0;
  cr_assert(mg_json_get_bool(json, "$.b", &b));
  cr_assert(!b);
  cr_assert_eq(mg_json_get_long(json, "$.i", -1), 5);
  cr_assert(mg_json_get_num(json, "$.d", &v));
  cr_assert_float_eq(v, 0.5, 1e-12);
  expect_str(json, "$.s", "q\"x");
  expect_str(json, "$.e", "red");
  cr_assert_eq(mg_json_get_long(json, "$.ro", -1), 41, "refreshed by on_read");
  mg_iobuf_free(&out);
}

Test(dash, schema_json_describes_types_limits_and_access) {
  struct mg_iobuf out = {NULL, 0, 0, 64};
  struct mg_str json = schema_at(MG_DASH_VIEWER, &out);
  expect_str(json, "$.sets[0].name", "kinds");
  expect_str(json, "$.sets[0].title", "Kinds");
  bool persist = true, writable = false;
  cr_assert(mg_json_get_bool(json, "$.sets[0].persist", &persist));
  cr_assert(!persist);
  expect_str(json, "$.sets[0].fields[0].type", "bool");
  expect_str(json, "$.sets[0].fields[1].type", "int");
  expect_str(json, "$.sets[0].fields[1].title", "Interval");
  expect_str(json, "$.sets[0].fields[1].unit", "s");
  cr_assert_eq(mg_json_get_long(json, "$.sets[0].fields[1].min", 0), 1);
  cr_assert_eq(mg_json_get_long(json, "$.sets[0].fields[1].max", 0), 10);
  double v = 0;
  cr_assert(mg_json_get_num(json, "$.sets[0].fields[2].min", &v));
  cr_assert_float_eq(v, -1.5, 1e-12);
  cr_assert_eq(mg_json_get_long(json, "$.sets[0].fields[3].max_len", 0), 8);
  expect_str(json, "$.sets[0].fields[4].values[2]", "blue");
  cr_assert(mg_json_get_bool(json, "$.sets[0].fields[0].writable", &writable));
  cr_assert(writable);
  cr_assert(mg_json_get_bool(json, "$.sets[0].fields[5].writable", &writable));
  cr_assert(!writable);
  expect_str(json, "$.sets[0].fields[0].read", "viewer");
  expect_str(json, "$.sets[0].fields[0].write", "admin");
  int n = 0;
  cr_assert_lt(mg_json_get(json, "$.sets[0].fields[0].min", &n), 0, "a bool has no limits");
  mg_iobuf_free(&out);
}

static int s_secret;
static struct mg_dash_field s_secret_fields[] = {MG_DASH_INT_ANY("key", &s_secret, .read = MG_DASH_ADMIN)};

Test(dash, sets_a_level_may_not_read_are_left_out) {
  static struct mg_dash_set secret = MG_DASH_SET("secret", s_secret_fields);  // Outlives s_dash (teardown frees it)
  cr_assert(mg_dash_add(&s_dash, &secret));
  struct mg_iobuf out = {NULL, 0, 0, 64};
  cr_assert(mg_dash_schema_json(&s_dash, MG_DASH_VIEWER, &out));
  int n = 0;
  cr_assert_lt(mg_json_get(mg_str_n((char *) out.buf, out.len), "$.sets[1]", &n), 0);
  out.len = 0;
  cr_assert(mg_dash_schema_json(&s_dash, MG_DASH_ADMIN, &out));
  char *p = mg_json_get_str(mg_str_n((char *) out.buf, out.len), "$.sets[1].name");
  cr_assert_str_eq(p, "secret");
  mg_free(p);
  mg_iobuf_free(&out);
}

Test(dash, bad_declarations_are_refused) {
  struct mg_dash_set dup = MG_DASH_SET("kinds", s_fields);
  cr_assert(!mg_dash_add(&s_dash, &dup), "duplicate name");
  struct mg_dash_set bad = MG_DASH_SET("Bad Name", s_fields);
  cr_assert(!mg_dash_add(&s_dash, &bad));
  static struct mg_dash_field inverted[] = {MG_DASH_INT("x", &s_i, 5, 1)};
  struct mg_dash_set inv = MG_DASH_SET("inv", inverted);
  cr_assert(!mg_dash_add(&s_dash, &inv));
}

// ---- 64-bit integer fields: bytes free on a host with 18.6 GB, counters past 2^31
static int64_t s_free, s_big, s_any;
static int s_small;
static struct mg_dash_field s_wide_fields[] = {
    MG_DASH_INT64_ANY("free", &s_free, .unit = "B", .readonly = true),
    MG_DASH_INT64("big", &s_big, -((int64_t) 1 << 62), (int64_t) 1 << 62),
    MG_DASH_INT64_ANY("any", &s_any),
    MG_DASH_INT("small", &s_small, 0, 100),
};
static int64_t s_wide_seen;

static const char *wide_on_write(struct mg_dash_set *set, const union mg_dash_value *next) {
  (void) set;
  s_wide_seen = next[1].i64;
  return NULL;
}

static struct mg_dash_set s_wide = MG_DASH_SET("wide", s_wide_fields, .on_write = wide_on_write);

static void wide_setup(void) {
  s_free = 18600000000LL, s_big = (int64_t) 1 << 62, s_any = 0, s_small = 5, s_wide_seen = 0;
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&s_mgr);
  mg_dash_init(&s_dash, &s_mgr, NULL);
  cr_assert(mg_dash_add(&s_dash, &s_wide));
}

static int wide_write(const char *body, char *err, size_t len) {
  return write_to(&s_wide, body, MG_DASH_ADMIN, err, len);
}

static void wide_refused(const char *body, const char *name, const char *reason) {
  char err[512], path[64];
  cr_assert_eq(wide_write(body, err, sizeof(err)), 400, "%s: %s", body, err);
  mg_snprintf(path, sizeof(path), "$.fields.%s", name);
  expect_str(mg_str(err), path, reason);
}

// The values of the wide set as JSON, in out
static struct mg_str wide_values(struct mg_iobuf *out) {
  cr_assert(mg_dash_values_json(&s_wide, MG_DASH_VIEWER, out));
  return mg_str_n((char *) out->buf, out->len);
}

TestSuite(dash_int64, .init = wide_setup, .fini = teardown);

// Within 2^53 - 1 (JavaScript's Number.MAX_SAFE_INTEGER) a number, beyond it a string
Test(dash_int64, values_are_exact_numbers_within_2_53_and_strings_beyond) {
  struct mg_iobuf out = {NULL, 0, 0, 64};
  struct mg_str json = wide_values(&out);
  cr_assert(strstr((char *) out.buf, "\"free\":18600000000,") != NULL, "%.*s", (int) json.len, json.buf);
  expect_str(json, "$.big", "4611686018427387904");
  out.len = 0;
  s_free = ((int64_t) 1 << 53) - 1, s_big = -(((int64_t) 1 << 53) - 1), s_any = INT64_MIN;
  json = wide_values(&out);
  cr_assert(strstr((char *) out.buf, "\"free\":9007199254740991,\"big\":-9007199254740991,") != NULL, "%.*s",
            (int) json.len, json.buf);
  expect_str(json, "$.any", "-9223372036854775808");
  out.len = 0;
  s_free = (int64_t) 1 << 53, s_big = -((int64_t) 1 << 53);
  json = wide_values(&out);
  expect_str(json, "$.free", "9007199254740992");
  expect_str(json, "$.big", "-9007199254740992");
  mg_iobuf_free(&out);
}

Test(dash_int64, the_schema_marks_64_bit_fields_and_their_limits_exactly) {
  struct mg_iobuf out = {NULL, 0, 0, 64};
  struct mg_str json = schema_at(MG_DASH_VIEWER, &out);
  expect_str(json, "$.sets[0].fields[0].type", "int");
  cr_assert_eq(mg_json_get_long(json, "$.sets[0].fields[0].bits", 0), 64, "%.*s", (int) json.len, json.buf);
  int n = 0;
  cr_assert_lt(mg_json_get(json, "$.sets[0].fields[0].min", &n), 0, "unlimited");
  expect_str(json, "$.sets[0].fields[1].min", "-4611686018427387904");
  expect_str(json, "$.sets[0].fields[1].max", "4611686018427387904");
  cr_assert_lt(mg_json_get(json, "$.sets[0].fields[3].bits", &n), 0, "an int field's schema is as it was");
  cr_assert_eq(mg_json_get_long(json, "$.sets[0].fields[3].max", 0), 100);
  mg_iobuf_free(&out);
}

Test(dash_int64, writes_take_numbers_and_strings_exactly) {
  char err[256];
  cr_assert_eq(wide_write("{\"big\":4611686018427387903}", err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_big, 4611686018427387903LL, "a number beyond 2^53 read without a double");
  cr_assert_eq(s_wide_seen, 4611686018427387903LL, "on_write sees next[i].i64");
  cr_assert_eq(wide_write("{\"big\":\"-4611686018427387903\",\"any\":\"9223372036854775807\"}", err, sizeof(err)),
               200, "%s", err);
  cr_assert_eq(s_big, -4611686018427387903LL);
  cr_assert_eq(s_any, INT64_MAX);
  cr_assert_eq(wide_write("{\"any\":-9223372036854775808}", err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_any, INT64_MIN);
  cr_assert_eq(wide_write("{\"any\":1.86e10}", err, sizeof(err)), 200, "%s", err);
  cr_assert_eq(s_any, 18600000000LL);
}

Test(dash_int64, values_read_back_and_written_again_stay_the_same) {
  s_big = ((int64_t) 1 << 62) - 1, s_any = ((int64_t) 1 << 53) + 1;
  struct mg_iobuf out = {NULL, 0, 0, 64};
  struct mg_str json = wide_values(&out);
  // A client sends back what it read (the read-only field left out)
  char body[256];
  mg_snprintf(body, sizeof(body), "{\"big\":%.*s,\"any\":%.*s}", (int) mg_json_get_tok(json, "$.big").len,
              mg_json_get_tok(json, "$.big").buf, (int) mg_json_get_tok(json, "$.any").len,
              mg_json_get_tok(json, "$.any").buf);
  s_big = s_any = 0;
  char err[256];
  cr_assert_eq(wide_write(body, err, sizeof(err)), 200, "%s: %s", body, err);
  cr_assert_eq(s_big, ((int64_t) 1 << 62) - 1);
  cr_assert_eq(s_any, ((int64_t) 1 << 53) + 1);
  mg_iobuf_free(&out);
}

Test(dash_int64, values_out_of_range_or_not_whole_are_refused) {
  wide_refused("{\"big\":4611686018427387905}", "big",
               "must be between -4611686018427387904 and 4611686018427387904");
  wide_refused("{\"big\":\"-4611686018427387905\"}", "big",
               "must be between -4611686018427387904 and 4611686018427387904");
  const char *not_int64[] = {"9223372036854775808", "\"9223372036854775808\"", "-9223372036854775809", "1e19",
                             "1.5", "\"1.5\"", "\"\"", "\"12a\"", "\" 12\"", "\"+12\"", "\"0x10\"", "true",
                             "null", "[1]"};
  for (size_t i = 0; i < sizeof(not_int64) / sizeof(not_int64[0]); i++) {
    char body[64];
    mg_snprintf(body, sizeof(body), "{\"any\":%s}", not_int64[i]);
    wide_refused(body, "any", "must be an integer from -9223372036854775808 to 9223372036854775807");
  }
  wide_refused("{\"free\":1}", "free", "read-only");
  wide_refused("{\"small\":\"5\"}", "small", "must be an integer");
  wide_refused("{\"small\":4294967297}", "small", "must be an integer");
  cr_assert_eq(s_big, (int64_t) 1 << 62, "nothing changed");
  cr_assert_eq(s_any, 0);
}

Test(dash_int64, inverted_limits_are_refused) {
  static int64_t x;
  static struct mg_dash_field inverted[] = {MG_DASH_INT64("x", &x, (int64_t) 1 << 40, 1)};
  struct mg_dash_set inv = MG_DASH_SET("inv", inverted);
  cr_assert(!mg_dash_add(&s_dash, &inv));
  static struct mg_dash_field wide_limits[] = {MG_DASH_INT64("x", &x, INT64_MIN, INT64_MAX)};
  static struct mg_dash_set ok = MG_DASH_SET("ok", wide_limits);  // Outlives s_dash (teardown frees it)
  cr_assert(mg_dash_add(&s_dash, &ok), "the widest limits do not pass through a double");
}

// ---- Levels: each gets exactly its rights on a set that mixes them
static bool s_pump_on;
static int s_pump_speed = 50, s_pump_limit = 80, s_pump_hours = 3;
static struct mg_dash_field s_pump_fields[] = {
    MG_DASH_BOOL("on", &s_pump_on, .write = MG_DASH_OPERATOR),
    MG_DASH_INT("speed", &s_pump_speed, 0, 100, .write = MG_DASH_OPERATOR),
    MG_DASH_INT("limit", &s_pump_limit, 0, 100),  // Default: an admin's to change
    MG_DASH_INT_ANY("hours", &s_pump_hours, .read = MG_DASH_OPERATOR, .write = MG_DASH_ADMIN),
};
static struct mg_dash_set s_pump = MG_DASH_SET("pump", s_pump_fields);  // Outlives s_dash (teardown frees it)

static int pump_write(const char *body, int level, char *err, size_t len) {
  return write_to(&s_pump, body, level, err, len);
}

static void pump_add(void) {
  s_pump_on = false, s_pump_speed = 50, s_pump_limit = 80, s_pump_hours = 3;
  cr_assert(mg_dash_add(&s_dash, &s_pump));
}

Test(dash, an_operator_writes_operator_fields_and_nothing_that_needs_an_admin) {
  char err[256];
  pump_add();
  cr_assert_eq(pump_write("{\"on\":true}", MG_DASH_VIEWER, err, sizeof(err)), 403);
  cr_assert_str_eq(err, "{\"error\":\"forbidden\"}");
  cr_assert_eq(pump_write("{\"on\":true,\"speed\":70}", MG_DASH_OPERATOR, err, sizeof(err)), 200, "%s", err);
  cr_assert(s_pump_on);
  cr_assert_eq(s_pump_speed, 70);
  cr_assert_eq(pump_write("{\"limit\":90}", MG_DASH_OPERATOR, err, sizeof(err)), 403);
  cr_assert_eq(pump_write("{\"speed\":10,\"limit\":90}", MG_DASH_OPERATOR, err, sizeof(err)), 403, "all or nothing");
  cr_assert_eq(s_pump_speed, 70);
  cr_assert_eq(s_pump_limit, 80);
  cr_assert_eq(pump_write("{\"speed\":10,\"limit\":90}", MG_DASH_ADMIN, err, sizeof(err)), 200);
  cr_assert_eq(s_pump_limit, 90);
}

Test(dash, the_schema_and_values_name_the_operator_level_and_hide_what_a_level_may_not_read) {
  pump_add();
  struct mg_iobuf out = {NULL, 0, 0, 64};
  struct mg_str json = schema_at(MG_DASH_OPERATOR, &out);
  expect_str(json, "$.sets[1].name", "pump");
  expect_str(json, "$.sets[1].fields[0].write", "operator");
  expect_str(json, "$.sets[1].fields[0].read", "viewer");
  expect_str(json, "$.sets[1].fields[2].write", "admin");
  expect_str(json, "$.sets[1].fields[3].read", "operator");
  out.len = 0;
  cr_assert(mg_dash_schema_json(&s_dash, MG_DASH_VIEWER, &out));
  json = mg_str_n((char *) out.buf, out.len);
  int n = 0;
  cr_assert_lt(mg_json_get(json, "$.sets[1].fields[3]", &n), 0, "a viewer does not see the operator's field");
  out.len = 0;
  cr_assert(mg_dash_values_json(&s_pump, MG_DASH_VIEWER, &out));
  cr_assert_lt(mg_json_get(mg_str_n((char *) out.buf, out.len), "$.hours", &n), 0);
  out.len = 0;
  cr_assert(mg_dash_values_json(&s_pump, MG_DASH_OPERATOR, &out));
  cr_assert_eq(mg_json_get_long(mg_str_n((char *) out.buf, out.len), "$.hours", -1), 3);
  mg_iobuf_free(&out);
}

Test(dash, a_field_level_that_is_no_level_is_refused) {
  static struct mg_dash_field high[] = {MG_DASH_BOOL("x", &s_pump_on, .write = MG_DASH_ADMIN + 1)};
  static struct mg_dash_field low[] = {MG_DASH_BOOL("x", &s_pump_on, .read = -1)};
  struct mg_dash_set a = MG_DASH_SET("high", high), b = MG_DASH_SET("low", low);
  cr_assert(!mg_dash_add(&s_dash, &a), "a write level nobody has");
  cr_assert(!mg_dash_add(&s_dash, &b));
}

// Log lines, captured for what a maker would read
static char s_log[2048];
static size_t s_log_len;
static void log_capture(char ch, void *param) {
  (void) param;
  if (s_log_len + 1 < sizeof(s_log)) s_log[s_log_len++] = ch, s_log[s_log_len] = '\0';
}

Test(dash, names_that_are_no_safe_file_name_or_a_file_of_the_core_are_refused) {
  static struct mg_dash_field one[] = {MG_DASH_INT("x", &s_i, 1, 10)};
  static const char *unsafe[] = {"../x", "a/b", "a.b", ".", "", "x\\y", "a b", "abcdefghijklmnopqrstuvwxyz0123456"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(unsafe); i++) {
    struct mg_dash_set set = MG_DASH_SET(unsafe[i], one, .persist = true);
    cr_assert(!mg_dash_add(&s_dash, &set), "%s", unsafe[i]);
  }
  // A persisted set named users would read and overwrite <data dir>/users.json, the users file
  s_log_len = 0;
  mg_log_set_fn(log_capture, NULL);
  struct mg_dash_set users = MG_DASH_SET("users", one, .persist = true);
  bool added = mg_dash_add(&s_dash, &users);
  mg_log_set_fn(NULL, NULL);
  cr_assert(!added, "a persisted set named users");
  cr_assert(strstr(s_log, "field set users not added") != NULL && strstr(s_log, "users.json") != NULL, "%s", s_log);
  static struct mg_dash_set live = MG_DASH_SET("users", one);  // Added: it must outlive s_dash
  cr_assert(mg_dash_add(&s_dash, &live), "without a file the name takes nothing from the core");
}

// ---- persistence
static char s_dir[64];
static int s_interval;
static char s_name[17];
static int s_unit;
static const char *s_units[] = {"celsius", "fahrenheit", NULL};
static struct mg_dash_field s_settings_fields[] = {
    MG_DASH_STRING("name", s_name, .min_len = 1),
    MG_DASH_INT("interval", &s_interval, 1, 3600),
    MG_DASH_ENUM("unit", &s_unit, s_units),
};

static void settings_defaults(void) {
  strcpy(s_name, "default");
  s_interval = 10;
  s_unit = 0;
}

// A fresh dash with the settings set added (loading its file)
static void start_settings(struct mg_mgr *mgr, struct mg_dash *dash, struct mg_dash_set *set) {
  struct mg_dash_set s = MG_DASH_SET("settings", s_settings_fields, .persist = true);
  *set = s;
  settings_defaults();
  mg_mgr_init(mgr);
  mg_dash_init(dash, mgr, s_dir);
  cr_assert(mg_dash_add(dash, set));
}

static void stop_settings(struct mg_mgr *mgr, struct mg_dash *dash) {
  mg_dash_free(dash);
  mg_mgr_free(mgr);
}

static void write_file(const char *name, const char *text) {
  char path[128];
  mg_snprintf(path, sizeof(path), "%s/%s", s_dir, name);
  FILE *fp = fopen(path, "w");
  cr_assert_not_null(fp);
  fputs(text, fp);
  fclose(fp);
}


static void make_dir(void) {
  strcpy(s_dir, "/tmp/test_dash.XXXXXX");
  cr_assert_not_null(mkdtemp(s_dir));
}

static void remove_dir(void) {
  char path[128];
  for (const char *const *name = (const char *const[]){"settings.json", "settings.json.bad", NULL}; *name; name++) {
    mg_snprintf(path, sizeof(path), "%s/%s", s_dir, *name);
    remove(path);
  }
  cr_assert_eq(rmdir(s_dir), 0, "nothing else left behind in %s", s_dir);
}

static bool file_exists(const char *name) {
  char path[128];
  mg_snprintf(path, sizeof(path), "%s/%s", s_dir, name);
  return access(path, F_OK) == 0;
}

static struct mg_str read_file(const char *name) {
  char path[128];
  mg_snprintf(path, sizeof(path), "%s/%s", s_dir, name);
  return mg_file_read(&mg_fs_posix, path);
}

// The schema of the one set the dash holds, at admin level
static struct mg_str schema_of(struct mg_dash *dash, struct mg_iobuf *out) {
  cr_assert(mg_dash_schema_json(dash, MG_DASH_ADMIN, out));
  return mg_str_n((char *) out->buf, out->len);
}

TestSuite(dash_store, .init = make_dir, .fini = remove_dir);

Test(dash_store, a_write_is_saved_and_loaded_at_the_next_start) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_settings(&mgr, &dash, &set);
  cr_assert_str_eq(s_name, "default", "no file: the defaults stand");
  struct mg_iobuf err = {NULL, 0, 0, 64};
  cr_assert_eq(mg_dash_write(&set, mg_str("{\"name\":\"pump \\u00e9\",\"interval\":60,\"unit\":\"fahrenheit\"}"),
                             MG_DASH_ADMIN, &err), 200);
  mg_iobuf_free(&err);
  stop_settings(&mgr, &dash);
  char tmp[128];
  mg_snprintf(tmp, sizeof(tmp), "%s/settings.json.tmp", s_dir);
  cr_assert_eq(access(tmp, F_OK), -1, "no temporary file left behind");

  start_settings(&mgr, &dash, &set);
  cr_assert_str_eq(s_name, "pump \xc3\xa9");
  cr_assert_eq(s_interval, 60);
  cr_assert_eq(s_unit, 1);
  stop_settings(&mgr, &dash);
}

Test(dash_store, a_64_bit_value_is_saved_and_loaded_exactly) {
  static int64_t count;
  static struct mg_dash_field fields[] = {MG_DASH_INT64_ANY("count", &count)};
  for (int run = 0; run < 2; run++) {
    struct mg_mgr mgr;
    struct mg_dash dash;
    struct mg_dash_set set = MG_DASH_SET("settings", fields, .persist = true);
    count = 0;
    mg_mgr_init(&mgr);
    mg_dash_init(&dash, &mgr, s_dir);
    cr_assert(mg_dash_add(&dash, &set));
    if (run == 0) {
      struct mg_iobuf err = {NULL, 0, 0, 64};
      cr_assert_eq(mg_dash_write(&set, mg_str("{\"count\":\"4611686018427387905\"}"), MG_DASH_ADMIN, &err), 200);
      mg_iobuf_free(&err);
    } else {
      cr_assert_eq(count, 4611686018427387905LL, "2^62 + 1, which a double would round");
    }
    stop_settings(&mgr, &dash);
  }
}

Test(dash_store, a_corrupt_file_gives_defaults_is_kept_as_bad_and_flagged) {
  const char *corrupt = "{\"name\":\"x\",\"interval\":";
  write_file("settings.json", corrupt);
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  struct mg_iobuf schema = {NULL, 0, 0, 256};
  start_settings(&mgr, &dash, &set);
  cr_assert_str_eq(s_name, "default");
  cr_assert_eq(s_interval, 10);
  struct mg_str json = schema_of(&dash, &schema);
  expect_str(json, "$.sets[0].corrupt.reason", "not JSON");
  expect_str(json, "$.sets[0].corrupt.kept", "settings.json.bad");
  mg_iobuf_free(&schema);
  stop_settings(&mgr, &dash);
  struct mg_str data = read_file("settings.json");
  cr_assert_not_null(data.buf);
  cr_assert_eq(mg_json_get_long(data, "$.interval", -1), 10, "replaced by the defaults: %s", data.buf);
  mg_free(data.buf);
  struct mg_str bad = read_file("settings.json.bad");
  cr_assert_not_null(bad.buf, "the corrupt file is kept beside");
  cr_assert(mg_str_eq(bad, corrupt), "kept byte for byte: %.*s", (int) bad.len, bad.buf);
  mg_free(bad.buf);

  // The next start finds a good file: no flag (the .bad file stays for the user)
  start_settings(&mgr, &dash, &set);
  int n = 0;
  cr_assert_lt(mg_json_get(schema_of(&dash, &schema), "$.sets[0].corrupt", &n), 0, "%s", schema.buf);
  mg_iobuf_free(&schema);
  stop_settings(&mgr, &dash);
  cr_assert(file_exists("settings.json.bad"));
}

// Starts on the file as it is, writes body (which must land) and stops
static void write_once(const char *body) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  struct mg_iobuf err = {NULL, 0, 0, 64};
  start_settings(&mgr, &dash, &set);
  cr_assert_eq(mg_dash_write(&set, mg_str(body), MG_DASH_ADMIN, &err), 200, "%s", body);
  mg_iobuf_free(&err);
  stop_settings(&mgr, &dash);
}

Test(dash_store, fields_this_build_does_not_know_are_kept_through_saves) {
  write_file("settings.json", "{\"name\":\"kept\",\"future\":{\"a\":[1, 2]},\"interval\":20,\"later\":\"\xc3\xa9\"}");
  for (int interval = 30; interval <= 31; interval++) {  // A write, then a restart and another
    char body[32];
    mg_snprintf(body, sizeof(body), "{\"interval\":%d}", interval);
    write_once(body);
    cr_assert_str_eq(s_name, "kept", "the file was loaded");
    struct mg_str data = read_file("settings.json");
    cr_assert_not_null(data.buf);
    cr_assert_eq(mg_json_get_long(data, "$.interval", -1), interval, "%s", data.buf);
    expect_str(data, "$.name", "kept");
    cr_assert_eq(mg_json_get_long(data, "$.future.a[1]", -1), 2, "%s", data.buf);
    expect_str(data, "$.later", "\xc3\xa9");
    mg_free(data.buf);
  }
  cr_assert(!file_exists("settings.json.bad"), "a good file is no corrupt one");
}

// Up to MG_DASH_UNKNOWN_MAX bytes of them, in file order; a member past that is dropped
Test(dash_store, unknown_fields_are_kept_up_to_their_bound) {
  static char text[3 * MG_DASH_UNKNOWN_MAX];
  mg_snprintf(text, sizeof(text), "{\"small\":1,\"huge\":\"%0*d\",\"tail\":true,\"interval\":7}", MG_DASH_UNKNOWN_MAX, 0);
  write_file("settings.json", text);
  write_once("{\"name\":\"x\"}");
  cr_assert_eq(s_interval, 7, "the file was loaded");
  struct mg_str data = read_file("settings.json");
  int n = 0;
  cr_assert_eq(mg_json_get_long(data, "$.small", -1), 1, "%s", data.buf);
  cr_assert_lt(mg_json_get(data, "$.huge", &n), 0, "past the bound: dropped");
  bool tail = false;
  cr_assert(mg_json_get_bool(data, "$.tail", &tail) && tail, "what fits after it is kept: %s", data.buf);
  cr_assert_eq(mg_json_get_long(data, "$.interval", -1), 7);
  mg_free(data.buf);
}

Test(dash_store, out_of_range_values_in_the_file_fall_back_to_defaults) {
  write_file("settings.json", "{\"name\":\"kept\",\"interval\":99999,\"unit\":\"kelvin\",\"extra\":1}");
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_settings(&mgr, &dash, &set);
  cr_assert_str_eq(s_name, "kept", "good values are kept");
  cr_assert_eq(s_interval, 10);
  cr_assert_eq(s_unit, 0);
  stop_settings(&mgr, &dash);
  struct mg_str data = read_file("settings.json");
  cr_assert_eq(mg_json_get_long(data, "$.interval", -1), 10, "%s", data.buf);
  cr_assert_eq(mg_json_get_long(data, "$.extra", -1), 1, "an unknown field is kept: %s", data.buf);
  mg_free(data.buf);
}

Test(dash_store, a_file_of_another_type_or_empty_is_corrupt) {
  const char *bad[] = {"", "[1,2]", "\"x\"", "{\"name\":\"a\"} trailing", "\xff\xfe"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
    write_file("settings.json", bad[i]);
    struct mg_mgr mgr;
    struct mg_dash dash;
    struct mg_dash_set set;
    start_settings(&mgr, &dash, &set);
    cr_assert_str_eq(s_name, "default", "%s", bad[i]);
    stop_settings(&mgr, &dash);
    cr_assert(file_exists("settings.json.bad"), "%s is kept beside", bad[i]);
  }
}

// ---- changes made in C to a persisted set (mg_dash_changed), saved a while later

// The interval in settings.json; -1 when there is no file
static long file_interval(void) {
  struct mg_str data = read_file("settings.json");
  long interval = data.buf == NULL ? -1 : mg_json_get_long(data, "$.interval", -2);
  mg_free(data.buf);
  return interval;
}

// A fresh dash over the data directory, and its C code sets interval to value
static void start_and_change(struct mg_mgr *mgr, struct mg_dash *dash, struct mg_dash_set *set, int value) {
  start_settings(mgr, dash, set);
  s_interval = value;
  mg_dash_changed(dash, set);
}

// A fresh dash over the same data directory loads interval as value
static void expect_loaded_at_restart(int value) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_settings(&mgr, &dash, &set);
  cr_assert_eq(s_interval, value, "the saved value is loaded at the next start");
  stop_settings(&mgr, &dash);
}

Test(dash_store, a_change_from_c_is_saved_once_its_interval_has_passed_and_loaded_at_the_next_start) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  write_once("{\"interval\":100}");  // The value on file, as a REST write left it
  uint64_t first = mg_millis();
  start_and_change(&mgr, &dash, &set, 31);
  for (int i = 32; i <= 40; i++) {  // A burst, as a timer might make
    s_interval = i;
    mg_dash_changed(&dash, &set);
  }
  mg_dash_store_tick(&dash, first + MG_DASH_SAVE_INTERVAL_MS - 1);
  cr_assert_eq(file_interval(), 100, "not saved before the interval has passed");
  mg_dash_store_tick(&dash, mg_millis() + MG_DASH_SAVE_INTERVAL_MS);
  cr_assert_eq(file_interval(), 40, "the burst saved once, with its last value");
  stop_settings(&mgr, &dash);
  expect_loaded_at_restart(40);
}

// A value changed every 100 ms for 10 s (on the store's clock): a write per interval at
// most, not a hundred, the last value on file once the last interval has passed, and
// nothing more without a change
Test(dash_store, a_set_changed_every_100_ms_is_written_at_most_once_per_interval) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_settings(&mgr, &dash, &set);
  uint64_t t0 = mg_millis();
  long on_file = file_interval();
  int writes = 0;
  for (int i = 0; i < 100; i++) {
    uint64_t now = t0 + (uint64_t) i * 100;
    s_interval = 1 + i;
    mg_dash_store_changed(&set, now);
    mg_dash_store_tick(&dash, now);
    if (file_interval() != on_file) writes++, on_file = file_interval();
  }
  mg_dash_store_tick(&dash, t0 + 100 * 100 + MG_DASH_SAVE_INTERVAL_MS);
  if (file_interval() != on_file) writes++;
  cr_assert_eq(file_interval(), 100, "the last value is saved");
  cr_assert_geq(writes, 1);
  cr_assert_leq(writes, 1 + 10000 / MG_DASH_SAVE_INTERVAL_MS, "%d writes for 100 changes", writes);
  write_file("settings.json", "{\"interval\":7}");  // A save from now on would overwrite it
  mg_dash_store_tick(&dash, t0 + 100 * 100 + 10 * MG_DASH_SAVE_INTERVAL_MS);
  stop_settings(&mgr, &dash);
  cr_assert_eq(file_interval(), 7, "nothing more is saved without a change");
}

// The dashboard's own timer does the saving: the wait is made due at once (a private
// field) rather than waited for in real time
Test(dash_store, the_dashboards_timer_saves_a_change_once_it_is_due) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_and_change(&mgr, &dash, &set, 40);
  cr_assert_neq(set.save_at, 0, "the change waits for its interval");
  set.save_at = mg_millis();
  for (int i = 0; i < 100 && file_interval() != 40; i++) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(file_interval(), 40);
  cr_assert_eq(set.save_at, 0, "nothing waits any more");
  stop_settings(&mgr, &dash);
}

Test(dash_store, a_change_from_c_is_saved_at_mg_dash_free) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set;
  start_and_change(&mgr, &dash, &set, 40);
  stop_settings(&mgr, &dash);  // A clean stop right after the change
  cr_assert_eq(file_interval(), 40);
  expect_loaded_at_restart(40);
}

Test(dash_store, a_set_that_is_not_persisted_is_never_saved) {
  struct mg_mgr mgr;
  struct mg_dash dash;
  struct mg_dash_set set = MG_DASH_SET("settings", s_settings_fields);
  settings_defaults();
  mg_mgr_init(&mgr);
  mg_dash_init(&dash, &mgr, s_dir);
  cr_assert(mg_dash_add(&dash, &set));
  s_interval = 40;
  mg_dash_changed(&dash, &set);
  mg_dash_store_tick(&dash, mg_millis() + MG_DASH_SAVE_INTERVAL_MS);
  stop_settings(&mgr, &dash);
  cr_assert(!file_exists("settings.json"));
}

// ---- pushes over a real WebSocket on loopback
struct ws_client {
  int messages;          // {"set":"kinds",...} messages after the snapshot
  int snapshot;          // Messages before the first change
  bool open;
  int close_code;        // Of the server's close frame
  char last[512];
  char reply[256];       // Last message with an "id"
  char log[1024];        // The messages after the snapshot, each followed by '|'
};

static char s_hist_first[MG_DASH_SEND_LIMIT + 1];  // The first message a client got for set "hist"

static void hist_record(struct mg_str msg) {
  char *name = mg_json_get_str(msg, "$.set");
  if (s_hist_first[0] == '\0' && name != NULL && strcmp(name, "hist") == 0 && msg.len < sizeof(s_hist_first)) {
    memcpy(s_hist_first, msg.buf, msg.len);
  }
  mg_free(name);
}

static int s_server_writes;  // MG_EV_WRITE on the server's sockets
static int s_server_holding;  // Server sockets seen at MG_EV_POLL with output still queued

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_WRITE) s_server_writes++;
  if (ev == MG_EV_POLL && c->is_websocket && c->send.len > 0) s_server_holding++;
  mg_dash_handle(&s_dash, c, ev, ev_data, s_ws_level);
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct ws_client *wc = (struct ws_client *) c->fn_data;
  if (ev == MG_EV_WS_OPEN) wc->open = true;
  if (ev == MG_EV_WS_CTL) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if ((wm->flags & 15) == WEBSOCKET_OP_CLOSE && wm->data.len >= 2) wc->close_code = MG_LOAD_BE16(wm->data.buf);
  }
  if (ev != MG_EV_WS_MSG) return;
  struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
  int n = 0;
  if (mg_json_get(wm->data, "$.id", &n) >= 0 || mg_json_get(wm->data, "$.error", &n) >= 0) {
    mg_snprintf(wc->reply, sizeof(wc->reply), "%.*s", (int) wm->data.len, wm->data.buf);
    return;
  }
  hist_record(wm->data);
  size_t used = strlen(wc->log);  // Cleared once the snapshot is in
  mg_snprintf(wc->log + used, sizeof(wc->log) - used, "%.*s|", (int) wm->data.len, wm->data.buf);
  wc->messages++;
  mg_snprintf(wc->last, sizeof(wc->last), "%.*s", (int) wm->data.len, wm->data.buf);
}

static void poll_for(int ms) {
  uint64_t end = mg_millis() + (uint64_t) ms;
  while (mg_millis() < end) mg_mgr_poll(&s_mgr, 5);
}

// Let the push timer run without any I/O (the connections are not polled)
static void dash_timer_wait(void) {
  usleep(MG_DASH_PUSH_INTERVAL_MS * 1000);
  mg_timer_poll(&s_mgr.timers, mg_millis());
}

static struct mg_connection *connect_ws_sets(struct ws_client *wc, int sets);
static struct mg_connection *connect_ws(struct ws_client *wc) {
  return connect_ws_sets(wc, 1);
}

// A client of the dash, once it has the snapshot: one message per readable set
static struct mg_connection *connect_ws_sets(struct ws_client *wc, int sets) {
  struct mg_connection *lsn = mg_http_listen(&s_mgr, "http://127.0.0.1:0", server_fn, NULL);
  cr_assert_not_null(lsn);
  char url[64];
  mg_snprintf(url, sizeof(url), "ws://127.0.0.1:%d/api/ws", mg_ntohs(lsn->loc.port));
  struct mg_connection *c = mg_ws_connect(&s_mgr, url, client_fn, wc, NULL);
  cr_assert_not_null(c);
  for (int i = 0; i < 200 && wc->messages < sets; i++) mg_mgr_poll(&s_mgr, 5);
  cr_assert_eq(wc->messages, sets, "the snapshot: one message per readable set");
  wc->messages = 0;
  wc->log[0] = '\0';
  return c;
}

Test(dash, pushes_are_coalesced_to_the_latest_values) {
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  connect_ws(&wc);
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);  // A quiet spell: the next change goes at once
  for (int i = 1; i <= 10; i++) {
    s_i = i;
    mg_dash_changed(&s_dash, &s_set);
  }
  poll_for(20);
  cr_assert_eq(wc.messages, 1, "changes before the next loop pass go at once, together");
  cr_assert_eq(mg_json_get_long(mg_str(wc.last), "$.values.i", -1), 10);
  for (int i = 11; i <= 15; i++) {
    s_i = i;
    mg_dash_changed(&s_dash, &s_set);
  }
  poll_for(20);
  cr_assert_eq(wc.messages, 1, "changes within the interval are held back");
  poll_for(MG_DASH_PUSH_INTERVAL_MS * 2);
  cr_assert_eq(wc.messages, 2, "then one message with the latest values");
  cr_assert_eq(mg_json_get_long(mg_str(wc.last), "$.values.i", -1), 15, "%s", wc.last);
  poll_for(MG_DASH_PUSH_INTERVAL_MS * 2);
  cr_assert_eq(wc.messages, 2, "nothing more without a change");
}

Test(dash, a_websocket_write_is_validated_answered_with_its_id_and_pushed) {
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  struct mg_connection *c = connect_ws(&wc);
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":7,\"set\":\"kinds\",\"values\":{\"i\":99}}");
  poll_for(100);
  cr_assert_eq(mg_json_get_long(mg_str(wc.reply), "$.id", -1), 7, "%s", wc.reply);
  char *reason = mg_json_get_str(mg_str(wc.reply), "$.fields.i");
  cr_assert_str_eq(reason, "must be between 1 and 10");
  mg_free(reason);
  cr_assert_eq(s_i, 5);
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":\"a\",\"set\":\"kinds\",\"values\":{\"i\":9}}");
  poll_for(MG_DASH_PUSH_INTERVAL_MS * 2);
  cr_assert_str_eq(wc.reply, "{\"id\":\"a\",\"ok\":true}");
  cr_assert_eq(s_i, 9);
  cr_assert_eq(mg_json_get_long(mg_str(wc.last), "$.values.i", -1), 9, "the writer gets the push too");
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{nope");
  poll_for(50);
  cr_assert_str_eq(wc.reply, "{\"error\":\"bad JSON: expected a member name in quotes at byte 1\"}");
}

// The server's side of the WebSocket (the accepted, upgraded connection)
static struct mg_connection *server_side(void) {
  for (struct mg_connection *c = s_mgr.conns; c != NULL; c = c->next) {
    if (c->is_websocket && !c->is_client) return c;
  }
  return NULL;
}

// A push to idle clients goes to their sockets at once, one after the other, so the
// same spare buffer carries it to each: none holds its message until the end of the
// loop pass (10,000 clients held 20 MB of buffers that way, and the last got it 100 ms late)
Test(dash, a_push_to_idle_clients_is_written_at_once_and_holds_no_buffer) {
  enum { N = 20 };  // More than the manager's spare buffers (MG_IO_SPARES)
  static struct ws_client wc[N];
  memset(wc, 0, sizeof(wc));
  for (int i = 0; i < N; i++) connect_ws(&wc[i]);
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);  // A quiet spell: the next change goes at once
  s_i = 3;
  s_server_holding = 0;
  mg_dash_changed(&s_dash, &s_set);  // Pushed at the next pass's timers, before its MG_EV_POLLs
  poll_for(50);
  cr_assert_eq(s_server_holding, 0, "%d server sockets held the push into the pass", s_server_holding);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(wc[i].messages, 1, "client %d: %d messages", i, wc[i].messages);
    cr_assert_eq(mg_json_get_long(mg_str(wc[i].last), "$.values.i", -1), 3, "client %d: %s", i, wc[i].last);
  }
}

// Clients are found by their connection (an index that grows, and closes that move
// entries up): with many opened and some closed in no particular order, each write
// is still answered on its own socket, and the dash counts only those left
Test(dash, each_of_many_clients_is_found_by_its_connection_after_others_close) {
  enum { N = 63 };  // The index grows from 16 slots to 128, which it then half fills: collisions
  static struct ws_client wc[N];
  struct mg_connection *cs[N];
  memset(wc, 0, sizeof(wc));
  for (int i = 0; i < N; i++) cs[i] = connect_ws(&wc[i]);
  cr_assert_eq(s_dash.nclients, N);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 1 || i % 7 == 0) cs[i]->is_closing = 1;
  }
  poll_for(100);
  int left = 0;
  for (int i = 0; i < N; i++) {
    if (i % 3 == 1 || i % 7 == 0) continue;
    left++;
    mg_ws_printf(cs[i], WEBSOCKET_OP_TEXT, "{\"id\":%d,\"set\":\"kinds\",\"values\":{\"i\":4}}", i);
  }
  cr_assert_eq(s_dash.nclients, (size_t) left, "%lu clients counted, %d left", (unsigned long) s_dash.nclients, left);
  poll_for(100);
  for (int i = 0; i < N; i++) {
    if (i % 3 == 1 || i % 7 == 0) continue;
    cr_assert_eq(mg_json_get_long(mg_str(wc[i].reply), "$.id", -1), i, "client %d: %s", i, wc[i].reply);
  }
}

// Sets that change within one push interval reach each client in one write at the next
// tick, not one write (one send() and its TCP segment) per set: at 10,000 clients the
// firmware's two once-a-second sets took 80 ms each
Test(dash, sets_pushed_at_one_tick_go_to_a_client_in_one_write) {
  static int other;
  static struct mg_dash_field other_fields[] = {MG_DASH_INT_ANY("v", &other)};
  static struct mg_dash_set other_set;
  struct mg_dash_set set = MG_DASH_SET("other", other_fields);
  other_set = set;
  cr_assert(mg_dash_add(&s_dash, &other_set));
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  connect_ws_sets(&wc, 2);
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);
  s_server_writes = wc.messages = 0;
  s_i = 2, other = 7;  // After a quiet spell, as a timer changes two sets: at once
  mg_dash_changed(&s_dash, &s_set);
  mg_dash_changed(&s_dash, &other_set);
  poll_for(20);
  cr_assert_eq(wc.messages, 2, "%d messages", wc.messages);
  cr_assert_eq(s_server_writes, 1, "%d writes for two sets at once", s_server_writes);
  s_server_writes = wc.messages = 0;
  s_i = 3, other = 8;  // Within the interval: held for the tick
  mg_dash_changed(&s_dash, &s_set);
  mg_dash_changed(&s_dash, &other_set);
  poll_for(MG_DASH_PUSH_INTERVAL_MS * 2);
  cr_assert_eq(wc.messages, 2, "%d messages", wc.messages);
  cr_assert_eq(s_server_writes, 1, "%d writes for two sets at the tick", s_server_writes);
}

// One push, many clients of each level: each gets, byte for byte, the message of its own
// level (the fields it may read), and none gets a set it may not read
Test(dash, a_push_gives_each_level_its_own_values_and_no_set_it_may_not_read) {
  static int v, o, a, secret;
  static struct mg_dash_field level_fields[] = {
      MG_DASH_INT_ANY("v", &v),
      MG_DASH_INT_ANY("o", &o, .read = MG_DASH_OPERATOR),
      MG_DASH_INT_ANY("a", &a, .read = MG_DASH_ADMIN),
  };
  static struct mg_dash_field secret_fields[] = {MG_DASH_INT_ANY("x", &secret, .read = MG_DASH_ADMIN)};
  static struct mg_dash_set levels_set, secret_set;
  struct mg_dash_set l = MG_DASH_SET("levels", level_fields), sec = MG_DASH_SET("secret", secret_fields);
  levels_set = l, secret_set = sec;
  cr_assert(mg_dash_add(&s_dash, &levels_set));
  cr_assert(mg_dash_add(&s_dash, &secret_set));
  enum { PER_LEVEL = 4 };
  static const int levels[] = {MG_DASH_VIEWER, MG_DASH_OPERATOR, MG_DASH_ADMIN};
  static const char *const want[] = {
      "{\"set\":\"levels\",\"values\":{\"v\":1}}|",
      "{\"set\":\"levels\",\"values\":{\"v\":1,\"o\":2}}|",
      "{\"set\":\"levels\",\"values\":{\"v\":1,\"o\":2,\"a\":3}}|{\"set\":\"secret\",\"values\":{\"x\":4}}|",
  };
  static struct ws_client wc[3 * PER_LEVEL];
  memset(wc, 0, sizeof(wc));
  for (int i = 0; i < 3 * PER_LEVEL; i++) {  // Levels interleaved in the list of clients
    s_ws_level = levels[i % 3];
    connect_ws_sets(&wc[i], i % 3 == 2 ? 3 : 2);  // kinds and levels; an admin reads secret too
  }
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);
  v = 1, o = 2, a = 3, secret = 4;
  mg_dash_changed(&s_dash, &levels_set);
  mg_dash_changed(&s_dash, &secret_set);
  poll_for(50);
  for (int i = 0; i < 3 * PER_LEVEL; i++) {
    cr_assert_str_eq(wc[i].log, want[i % 3], "client %d of level %d: %s", i, levels[i % 3], wc[i].log);
  }
}

Test(dash, a_client_that_does_not_drain_gets_only_the_latest_values_later) {
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  connect_ws(&wc);
  struct mg_connection *srv = server_side();
  cr_assert_not_null(srv);
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);
  // As if the peer had stopped reading: the send buffer is over the limit (not polled, so it stays)
  size_t backlog = MG_DASH_SEND_LIMIT + 1;
  cr_assert_eq(mg_iobuf_add(&srv->send, srv->send.len, NULL, backlog), backlog);
  size_t held = srv->send.len;
  for (int i = 1; i <= 5; i++) {
    s_i = i;
    mg_dash_changed(&s_dash, &s_set);
    dash_timer_wait();
  }
  cr_assert_eq(srv->send.len, held, "nothing queued for a client over the limit");
  mg_iobuf_del(&srv->send, srv->send.len - backlog, backlog);  // It drained
  poll_for(MG_DASH_PUSH_INTERVAL_MS * 2);
  cr_assert_eq(wc.messages, 1, "one message once drained");
  cr_assert_eq(mg_json_get_long(mg_str(wc.last), "$.values.i", -1), 5, "%s", wc.last);
}

// ---- a short history of chart fields, sent to a new client with its first message
static double s_temp;
static int s_count, s_hidden;
static struct mg_dash_field s_hist_fields[] = {
    MG_DASH_DOUBLE_ANY("temp", &s_temp, .history = true),
    MG_DASH_INT_ANY("count", &s_count),
    MG_DASH_INT_ANY("hidden", &s_hidden, .history = true, .read = MG_DASH_ADMIN),
};
static struct mg_dash_set s_hist;

static void hist_add(void) {
  struct mg_dash_set set = MG_DASH_SET("hist", s_hist_fields);
  s_hist = set;
  cr_assert(mg_dash_add(&s_dash, &s_hist));
}

// n samples one interval apart, the last of them now (returned): temp k and hidden -k at the k-th
static uint64_t hist_sample(int n) {
  uint64_t now = mg_millis(), t0 = now - (uint64_t) (n - 1) * MG_DASH_HISTORY_INTERVAL_MS;
  for (int k = 0; k < n; k++) {
    s_temp = k, s_hidden = -k;
    mg_dash_history_tick(&s_dash, t0 + (uint64_t) k * MG_DASH_HISTORY_INTERVAL_MS);
  }
  return now;
}

// The history as a client would get it at now, within limit, wrapped as {"x":0,"history":...}
static struct mg_str hist_json(struct mg_iobuf *out, int level, uint64_t now, size_t limit) {
  out->len = 0;
  cr_assert(mg_iobuf_printf(out, "{\"x\":0"));
  cr_assert(mg_dash_history_json(&s_hist, level, now, limit, out));
  cr_assert(out->len <= limit, "%lu bytes past the limit of %lu", (unsigned long) out->len, (unsigned long) limit);
  cr_assert(mg_iobuf_printf(out, "}"));
  return mg_str_n((char *) out->buf, out->len);
}

static long hist_at(struct mg_str json, const char *array, int i) {
  char path[64];
  mg_snprintf(path, sizeof(path), "$.history.%s[%d]", array, i);
  double v = -1e9;
  cr_assert(mg_json_get_num(json, path, &v), "no %s in %.*s", path, (int) json.len > 300 ? 300 : (int) json.len, json.buf);
  return (long) v;
}

static bool hist_has(struct mg_str json, const char *path) {
  int n = 0;
  return mg_json_get(json, path, &n) >= 0;
}

// Samples in the history: the length of its age_ms
static int hist_len(struct mg_str json) {
  int n = 0;
  char path[48];
  for (;; n++) {
    mg_snprintf(path, sizeof(path), "$.history.age_ms[%d]", n);
    if (!hist_has(json, path)) return n;
  }
}

Test(dash, a_field_with_history_keeps_its_last_samples_in_a_ring) {
  enum { N = MG_DASH_HISTORY, T = MG_DASH_HISTORY_INTERVAL_MS };
  hist_add();
  uint64_t now = hist_sample(N + 10);
  struct mg_iobuf out = {NULL, 0, 0, 256};
  struct mg_str json = hist_json(&out, MG_DASH_ADMIN, now, MG_DASH_SEND_LIMIT);
  cr_assert_eq(hist_len(json), N, "at most N samples");
  cr_assert_eq(hist_at(json, "values.temp", 0), 10, "the oldest are overwritten");
  cr_assert_eq(hist_at(json, "values.temp", N - 1), N + 9);
  cr_assert_eq(hist_at(json, "values.hidden", N - 1), -(N + 9));
  cr_assert_eq(hist_at(json, "age_ms", 0), (long) (N - 1) * T, "ages in ms, oldest first");
  cr_assert_eq(hist_at(json, "age_ms", N - 1), 0);
  cr_assert_not(hist_has(json, "$.history.values.count"), "a field without .history keeps none");
  s_temp = 999;
  mg_dash_history_tick(&s_dash, now + T - 1);
  json = hist_json(&out, MG_DASH_ADMIN, now + T, MG_DASH_SEND_LIMIT);
  cr_assert_eq(hist_at(json, "values.temp", N - 1), N + 9, "no sample within the interval");
  mg_dash_history_tick(&s_dash, now + T);
  json = hist_json(&out, MG_DASH_ADMIN, now + T, MG_DASH_SEND_LIMIT);
  cr_assert_eq(hist_at(json, "values.temp", N - 1), 999, "a sample once it has passed");
  cr_assert_eq(hist_at(json, "values.temp", 0), 11);
  out.len = 0;
  cr_assert(mg_dash_schema_json(&s_dash, MG_DASH_ADMIN, &out));
  json = mg_str_n((char *) out.buf, out.len);
  bool on = false;
  cr_assert(mg_json_get_bool(json, "$.sets[1].fields[0].history", &on) && on, "the schema names the fields with history");
  cr_assert_not(hist_has(json, "$.sets[1].fields[1].history"));
  mg_iobuf_free(&out);
}

Test(dash, a_client_gets_the_newest_samples_that_fit_and_only_fields_it_may_read) {
  enum { N = MG_DASH_HISTORY };
  hist_add();
  uint64_t now = hist_sample(N);
  struct mg_iobuf out = {NULL, 0, 0, 256};
  struct mg_str json = hist_json(&out, MG_DASH_VIEWER, now, MG_DASH_SEND_LIMIT);
  cr_assert(hist_has(json, "$.history.values.temp"));
  cr_assert_not(hist_has(json, "$.history.values.hidden"), "a field above the level is left out");
  json = hist_json(&out, MG_DASH_ADMIN, now, 200);
  int n = hist_len(json);
  cr_assert(n > 1 && n < N, "%d samples in 200 bytes: %.*s", n, (int) json.len, json.buf);
  cr_assert_eq(hist_at(json, "values.temp", n - 1), N - 1, "the newest are kept");
  cr_assert_eq(hist_at(json, "age_ms", n - 1), 0);
  json = hist_json(&out, MG_DASH_ADMIN, now, 20);
  cr_assert_not(hist_has(json, "$.history"), "nothing when not one sample fits");
  static char s_str[8];
  static struct mg_dash_field bad[] = {MG_DASH_STRING("s", s_str, .history = true)};
  static struct mg_dash_set bad_set = MG_DASH_SET("bad", bad);
  cr_assert_not(mg_dash_add(&s_dash, &bad_set), "history needs a number");
  mg_iobuf_free(&out);
}

Test(dash, a_new_websocket_client_gets_the_history_with_its_first_message) {
  enum { N = MG_DASH_HISTORY };
  hist_add();
  hist_sample(N + 10);
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  connect_ws_sets(&wc, 2);
  struct mg_str first = mg_str(s_hist_first);
  cr_assert(first.len > 0 && first.len <= MG_DASH_SEND_LIMIT);
  cr_assert_eq(mg_json_get_long(first, "$.values.temp", -1), N + 9, "%.200s", s_hist_first);
  // A tick of the real clock may have added a sample while it connected: the ring is full either way
  cr_assert_eq(hist_len(first), N);
  cr_assert(hist_at(first, "values.temp", 0) >= 10);
  cr_assert_eq(hist_at(first, "values.temp", N - 1), N + 9);
  poll_for(MG_DASH_PUSH_INTERVAL_MS + 20);
  s_count = 5;
  mg_dash_changed(&s_dash, &s_hist);
  poll_for(50);
  cr_assert_eq(mg_json_get_long(mg_str(wc.last), "$.values.count", -1), 5, "%s", wc.last);
  cr_assert(strstr(wc.last, "history") == NULL, "pushes carry the values only: %s", wc.last);
}

// ---- WebSockets behind sessions: a server routed as the firmware's (firmware/routes.c)
static struct mg_auth *s_auth;
static int s_port;

static void auth_server_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_MSG) {
    mg_dash_handle(&s_dash, c, ev, ev_data, MG_DASH_NOBODY);
    return;
  }
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (mg_auth_handle(s_auth, c, hm)) return;
  int level = mg_auth_gate(s_auth, c, hm, MG_DASH_VIEWER);
  if (level == MG_DASH_NOBODY || mg_dash_handle(&s_dash, c, ev, hm, level)) return;
  mg_http_reply(c, 404, "", "{}\n");
}

static void auth_setup(void) {
  setup();
  s_auth = mg_auth_create(NULL);  // Users in memory
  cr_assert_not_null(s_auth);
  s_auth->iterations = 1000;
  cr_assert_not_null(mg_auth_user_add(s_auth, "admin", "password1", MG_DASH_ADMIN));
  s_dash.auth = s_auth;
  struct mg_connection *lsn = mg_http_listen(&s_mgr, "http://127.0.0.1:0", auth_server_fn, NULL);
  cr_assert_not_null(lsn);
  s_port = mg_ntohs(lsn->loc.port);
}

static void auth_teardown(void) {
  teardown();
  mg_auth_free(s_auth);
}

// "mk_session=TOKEN" of a new session of user
static void new_session(const char *user, char *cookie, size_t len) {
  struct mg_auth_session *s = mg_auth_session_new(s_auth, user, mg_millis());
  cr_assert_not_null(s);
  char tok[64];
  mg_base64url_encode(s->token, sizeof(s->token), tok, sizeof(tok));
  mg_snprintf(cookie, len, "mk_session=%s", tok);
}

// A client with the session cookie names, once it has the snapshot: one message per readable set
static struct mg_connection *connect_ws_as_n(struct ws_client *wc, const char *cookie, int sets) {
  char url[64];
  mg_snprintf(url, sizeof(url), "ws://127.0.0.1:%d/api/ws", s_port);
  struct mg_connection *c = mg_ws_connect(&s_mgr, url, client_fn, wc, "Cookie: %s\r\n", cookie);
  cr_assert_not_null(c);
  for (int i = 0; i < 200 && wc->messages < sets; i++) mg_mgr_poll(&s_mgr, 5);
  cr_assert_eq(wc->messages, sets, "the snapshot");
  wc->messages = 0;
  return c;
}

static struct mg_connection *connect_ws_as(struct ws_client *wc, const char *cookie) {
  return connect_ws_as_n(wc, cookie, 1);
}

struct http_answer {
  int status;
  bool done;
  char head[512], body[256];
};

static void http_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct http_answer *a = (struct http_answer *) c->fn_data;
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    a->status = mg_http_status(hm);
    mg_snprintf(a->head, sizeof(a->head), "%.*s", (int) hm->head.len, hm->head.buf);
    mg_snprintf(a->body, sizeof(a->body), "%.*s", (int) hm->body.len, hm->body.buf);
    a->done = true;
    c->is_draining = 1;
  }
  if (ev == MG_EV_CLOSE) a->done = true;
}

// Sends a request with the cookie (and the CSRF header); the answer arrives in *a
static void http_send(struct http_answer *a, const char *method, const char *uri, const char *cookie) {
  char url[64];
  memset(a, 0, sizeof(*a));
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%d", s_port);
  struct mg_connection *c = mg_http_connect(&s_mgr, url, http_client_fn, a);
  cr_assert_not_null(c);
  mg_printf(c, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nX-Requested-With: meerkat\r\n"
               "Content-Length: 0\r\n\r\n", method, uri, cookie);
}

static void http_wait(struct http_answer *a) {
  uint64_t end = mg_millis() + 5000;
  while (!a->done && mg_millis() < end) mg_mgr_poll(&s_mgr, 5);
  cr_assert(a->done, "no answer");
}

// The server's close frame, if it comes within a few loop passes that do not sleep: it was
// sent by the request just answered, not by a timer (the next session check is up to 1 s away)
static int close_code_soon(struct ws_client *wc) {
  for (int i = 0; i < 10 && wc->close_code == 0; i++) mg_mgr_poll(&s_mgr, 0);
  return wc->close_code;
}

TestSuite(dash_auth, .init = auth_setup, .fini = auth_teardown);

Test(dash_auth, logout_closes_the_sessions_sockets_at_once_and_leaves_the_others) {
  char mine[64], other[64];
  new_session("admin", mine, sizeof(mine));
  new_session("admin", other, sizeof(other));
  struct ws_client a, b;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  connect_ws_as(&a, mine);
  struct mg_connection *bc = connect_ws_as(&b, other);
  struct http_answer out;
  http_send(&out, "POST", "/api/auth/logout", mine);
  http_wait(&out);
  cr_assert_eq(out.status, 200);
  // Before, the socket stayed open until the once-a-second check: up to 1 s of pushes and writes
  cr_assert_eq(close_code_soon(&a), 1008, "closed at the logout, not at a timer");
  cr_assert_eq(b.close_code, 0, "another session's socket stays open");
  mg_ws_printf(bc, WEBSOCKET_OP_TEXT, "{\"id\":1,\"set\":\"kinds\",\"values\":{\"i\":9}}");
  poll_for(50);
  cr_assert_str_eq(b.reply, "{\"id\":1,\"ok\":true}");
}

Test(dash_auth, a_write_is_checked_against_the_session_as_it_is_when_it_arrives) {
  char cookie[64];
  new_session("admin", cookie, sizeof(cookie));
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  struct mg_connection *c = connect_ws_as(&wc, cookie);
  // The admin is made a viewer (as a future endpoint may): the next write is a viewer's
  mg_auth_user_find(s_auth, "admin")->level = MG_DASH_VIEWER;
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":1,\"set\":\"kinds\",\"values\":{\"i\":9}}");
  poll_for(50);
  cr_assert_str_eq(wc.reply, "{\"id\":1,\"error\":\"forbidden\"}");
  cr_assert_eq(s_i, 5);
  mg_auth_user_find(s_auth, "admin")->level = MG_DASH_ADMIN;
  // The session ends with the write already on its way: it does not land
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":2,\"set\":\"kinds\",\"values\":{\"i\":8}}");
  mg_auth_sessions_end_user(s_auth, "admin");
  poll_for(100);
  cr_assert_eq(s_i, 5, "a write after the session ended is refused");
  cr_assert(strstr(wc.reply, "\"id\":2") == NULL, "no answer but the close: %s", wc.reply);
  cr_assert_eq(wc.close_code, 1008);
}

Test(dash_auth, an_operators_websocket_writes_operator_fields_only) {
  cr_assert_not_null(mg_auth_user_add(s_auth, "olive", "password2", MG_DASH_OPERATOR));
  pump_add();
  char cookie[64];
  new_session("olive", cookie, sizeof(cookie));
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  struct mg_connection *c = connect_ws_as_n(&wc, cookie, 2);  // kinds and pump
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":1,\"set\":\"pump\",\"values\":{\"on\":true}}");
  poll_for(50);
  cr_assert_str_eq(wc.reply, "{\"id\":1,\"ok\":true}");
  cr_assert(s_pump_on);
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":2,\"set\":\"pump\",\"values\":{\"limit\":1}}");
  poll_for(50);
  cr_assert_str_eq(wc.reply, "{\"id\":2,\"error\":\"forbidden\"}");
  cr_assert_eq(s_pump_limit, 80);
  mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":3,\"set\":\"kinds\",\"values\":{\"b\":true}}");
  poll_for(50);
  cr_assert_str_eq(wc.reply, "{\"id\":3,\"error\":\"forbidden\"}", "the kinds set is an admin's to write");
}

Test(dash_auth, removing_a_user_closes_its_sockets_at_once) {
  cr_assert_not_null(mg_auth_user_add(s_auth, "bob", "password3", MG_DASH_VIEWER));
  char admin[64], bob[64];
  new_session("admin", admin, sizeof(admin));
  new_session("bob", bob, sizeof(bob));
  struct ws_client wc;
  memset(&wc, 0, sizeof(wc));
  connect_ws_as(&wc, bob);
  struct http_answer del;
  http_send(&del, "DELETE", "/api/users/bob", admin);
  http_wait(&del);
  cr_assert_eq(del.status, 200);
  cr_assert_eq(close_code_soon(&wc), 1008, "closed at the removal, not at a timer");
}

// ---- Routes of one's own (mg_dash_route): method, pattern and level, enforced
static struct {
  int calls;
  char user[40], cap[40];
  int level;
  void *fn_data;
} s_route;

static void route_record(struct mg_connection *c, struct mg_dash_req *req) {
  s_route.calls++;
  mg_snprintf(s_route.user, sizeof(s_route.user), "%s", req->user);
  mg_snprintf(s_route.cap, sizeof(s_route.cap), "%.*s", (int) req->caps[0].len, req->caps[0].buf);
  s_route.level = req->level;
  s_route.fn_data = req->fn_data;
  mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"method\":\"%.*s\"}\n", (int) req->hm->method.len,
                req->hm->method.buf);
}

static int s_pump_token;  // Its address is the routes' fn_data

static void routes_add(void) {
  memset(&s_route, 0, sizeof(s_route));
  cr_assert(mg_dash_route(&s_dash, "POST", "/api/pump/boost", 0, route_record, &s_pump_token));
  cr_assert(mg_dash_route(&s_dash, "GET", "/api/pump/boost", 0, route_record, &s_pump_token));
  cr_assert(mg_dash_route(&s_dash, "PUT", "/api/pumps/*/limit", MG_DASH_ADMIN, route_record, NULL));
  cr_assert(mg_dash_route(&s_dash, "POST", "/api/pump/ping", MG_DASH_VIEWER, route_record, NULL));
  cr_assert_not_null(mg_auth_user_add(s_auth, "olive", "password2", MG_DASH_OPERATOR));
  cr_assert_not_null(mg_auth_user_add(s_auth, "bob", "password3", MG_DASH_VIEWER));
}

static struct http_answer *ask(const char *method, const char *uri, const char *user) {
  static struct http_answer a;
  char cookie[64] = "none=1";
  if (user != NULL) new_session(user, cookie, sizeof(cookie));
  http_send(&a, method, uri, cookie);
  http_wait(&a);
  return &a;
}

Test(dash_auth, a_route_that_changes_state_needs_an_operator_unless_it_says_otherwise) {
  routes_add();
  struct http_answer *a = ask("POST", "/api/pump/boost", "bob");
  cr_assert_eq(a->status, 403, "a viewer may not boost");
  cr_assert_str_eq(a->body, "{\"error\":\"forbidden: this needs an operator\"}\n");
  cr_assert_eq(s_route.calls, 0, "the handler never ran");
  a = ask("POST", "/api/pump/boost", "olive");
  cr_assert_eq(a->status, 200, "%s", a->body);
  cr_assert_str_eq(a->body, "{\"method\":\"POST\"}\n");
  cr_assert_eq(s_route.calls, 1);
  cr_assert_eq(ask("POST", "/api/pump/boost", "admin")->status, 200);
  cr_assert_eq(ask("GET", "/api/pump/boost", "bob")->status, 200, "reading needs a viewer");
  cr_assert_eq(ask("POST", "/api/pump/ping", "bob")->status, 200, "a POST route may say a viewer is enough");
  cr_assert_eq(ask("POST", "/api/pump/boost", NULL)->status, 401, "no session: the gate answers");
  cr_assert_eq(s_route.calls, 4);
}

Test(dash_auth, a_route_may_need_an_admin_and_its_handler_sees_user_level_captures_and_data) {
  routes_add();
  struct http_answer *a = ask("PUT", "/api/pumps/p7/limit", "olive");
  cr_assert_eq(a->status, 403);
  cr_assert_str_eq(a->body, "{\"error\":\"forbidden: this needs an admin\"}\n");
  cr_assert_eq(ask("PUT", "/api/pumps/p7/limit", "admin")->status, 200);
  cr_assert_str_eq(s_route.user, "admin");
  cr_assert_eq(s_route.level, MG_DASH_ADMIN);
  cr_assert_str_eq(s_route.cap, "p7");
  cr_assert_null(s_route.fn_data);
  cr_assert_eq(ask("POST", "/api/pump/boost", "olive")->status, 200);
  cr_assert_str_eq(s_route.user, "olive");
  cr_assert_eq(s_route.level, MG_DASH_OPERATOR);
  cr_assert_eq(s_route.fn_data, &s_pump_token);
}

Test(dash_auth, a_wrong_method_gets_405_with_allow_and_an_unknown_path_is_left_to_the_caller) {
  routes_add();
  struct http_answer *a = ask("DELETE", "/api/pump/boost", "admin");
  cr_assert_eq(a->status, 405);
  cr_assert(strstr(a->head, "\r\nAllow: POST, GET, HEAD\r\n") != NULL, "%s", a->head);
  cr_assert_str_eq(a->body, "{\"error\":\"method not allowed\"}\n");
  a = ask("GET", "/api/pumps/p1/limit", "bob");
  cr_assert_eq(a->status, 405, "the method is checked before the level");
  cr_assert(strstr(a->head, "\r\nAllow: PUT\r\n") != NULL, "%s", a->head);
  a = ask("HEAD", "/api/pump/boost", "bob");
  cr_assert_eq(a->status, 200, "a GET route answers HEAD");
  cr_assert_eq(ask("POST", "/api/pump/nope", "admin")->status, 404, "not taken: the caller's 404");
  cr_assert_eq(ask("PUT", "/api/pumps/a/b/limit", "admin")->status, 404, "'*' stops at a slash");
  cr_assert_eq(s_route.calls, 1);
}

Test(dash, bad_routes_are_refused_with_a_log_line) {
  mg_log_set(MG_LL_ERROR);
  mg_log_set_fn(log_capture, NULL);
  s_log_len = 0;
  cr_assert(mg_dash_route(&s_dash, "POST", "/api/x/*", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "POST", "/api/x/*", MG_DASH_ADMIN, route_record, NULL), "exists");
  cr_assert(mg_dash_route(&s_dash, "PATCH", "/api/x/*", 0, route_record, NULL), "another method: a route of its own");
  cr_assert_not(mg_dash_route(&s_dash, "post", "/api/y", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "", "/api/y", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, NULL, "/api/y", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "GET", "api/y", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "GET", NULL, 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "GET", "/api/*/*/*/*/*", 0, route_record, NULL), "too many wildcards");
  cr_assert(mg_dash_route(&s_dash, "GET", "/api/*/*/*/#", 0, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "GET", "/api/y", MG_DASH_ADMIN + 1, route_record, NULL));
  cr_assert_not(mg_dash_route(&s_dash, "GET", "/api/y", 0, NULL, NULL));
  mg_log_set_fn(NULL, NULL);
  cr_assert(strstr(s_log, "route POST /api/x/* refused: a route of that method and pattern exists") != NULL, "%s", s_log);
  cr_assert(strstr(s_log, "route GET api/y refused: a pattern starts with /") != NULL, "%s", s_log);
}
