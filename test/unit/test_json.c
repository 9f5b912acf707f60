// JSON: good and malformed documents, depth limits, paths, typed getters,
// unescaping, member iteration, and printing with %m that reads back the same.
#include <criterion/criterion.h>
#include <float.h>
#include "meerkat.h"

static int get(const char *json, const char *path, int *len) {
  return mg_json_get(mg_str(json), path, len);
}

// Documents RFC 8259 allows; each must validate as a whole ("$")
static const char *good[] = {
    "0", "-0", "1", "-1", "12345678901234567890", "1.5", "-1.5e10", "1E+2", "1e-2", "0.0", "0e0",
    "1.0E-0", "true", "false", "null", "\"\"", "\"a\"", " \t\r\n1 \t\r\n", "[]", "{}", "[ ]", "{ }",
    "[1,2,3]", "[[],[[]],{}]", "{\"a\":1}", "{\"a\":{\"b\":[1,{\"c\":null}]}}", " { \"a\" : [ 1 , 2 ] } ",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"\\u0000\"",
    "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"", "\"\x7f\"", "{\"\":\"\"}", "{\"a\":1,\"a\":2}",
    "[true,false,null]", "1e400", "-1e-400",
};

// Documents RFC 8259 refuses (and lone surrogates, which have no UTF-8 form)
static const char *bad[] = {
    "", " ", "[", "]", "{", "}", "[1,]", "[,1]", "[1,,2]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\":}",
    "{\"a\" 1}", "{a:1}", "{'a':1}", "{\"a\":1 \"b\":2}", "[1 2]", "01", "-01", "00", "1.", ".5", "-",
    "+1", "1e", "1e+", "1E-", "-.5", "1.e5", "0x10", "NaN", "Infinity", "-Infinity", "tru", "truex",
    "nul", "nulls", "True", "FALSE", "\"", "\"abc", "\"\\\"", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
    "\"\\U0041\"", "\"\\'\"", "\"a\tb\"", "\"a\nb\"", "\"\x01\"", "\"\x1f\"", "\"\\ud800\"",
    "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"\\ude00\\ud83d\"", "1 2", "[] []", "{}x",
    "[1]]", "[1}", "{\"a\":1]", "\"\xff\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
    "\"\xf4\x90\x80\x80\"", "\"\xc3\"", "\"\xe2\x82\"", "\"\x80\"", "[\"a\" , ]", "\xef\xbb\xbf{}",
    "/* */1", "1//", "[1,2", "{\"a\":[1,2}", "--1", "1.5.5", "1e5e5", "- 1",
};

Test(json, accepts_every_good_document) {
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    int len = -1, ofs = get(good[i], "$", &len);
    cr_assert_geq(ofs, 0, "good[%zu] %s: %d", i, good[i], ofs);
    cr_assert_gt(len, 0, "good[%zu]", i);
    cr_assert_leq((size_t) (ofs + len), strlen(good[i]));
  }
}

Test(json, refuses_every_malformed_document) {
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int len = 77, ofs = get(bad[i], "$", &len);
    cr_assert_eq(ofs, MG_JSON_INVALID, "bad[%zu] %s: %d", i, bad[i], ofs);
    cr_assert_eq(len, 0);
    cr_assert_eq(mg_json_get_tok(mg_str(bad[i]), "$").buf, NULL);
  }
}

Test(json, refuses_a_document_with_an_error_after_the_value_found) {
  cr_assert_eq(get("{\"a\":1,\"b\":[1,]}", "$.a", NULL), MG_JSON_INVALID);
  cr_assert_eq(get("{\"a\":1,\"b\":2} x", "$.a", NULL), MG_JSON_INVALID);
  cr_assert_eq(get("[1,2,3", "$[0]", NULL), MG_JSON_INVALID);
}

Test(json, refuses_bytes_past_the_slice_without_reading_them) {
  // "12" with len 1 is the document "1": the '2' beyond must not be part of it
  int len;
  cr_assert_eq(mg_json_get(mg_str_n("12", 1), "$", &len), 0);
  cr_assert_eq(len, 1);
  cr_assert_eq(mg_json_get(mg_str_n("\"ab\"", 3), "$", &len), MG_JSON_INVALID);
  cr_assert_eq(mg_json_get(mg_str_n(NULL, 0), "$", &len), MG_JSON_INVALID);
}

static char *nested(size_t n, char open, char close, const char *inner) {
  size_t m = strlen(inner);
  char *s = malloc(2 * n + m + 1);
  cr_assert_not_null(s);
  memset(s, open, n);
  memcpy(s + n, inner, m);
  memset(s + n + m, close, n);
  s[2 * n + m] = '\0';
  return s;
}

Test(json, nests_up_to_the_limit_and_refuses_one_more) {
  char *at = nested(MG_JSON_MAX_DEPTH, '[', ']', "1"), *over = nested(MG_JSON_MAX_DEPTH + 1, '[', ']', "1");
  int len;
  cr_assert_eq(get(at, "$", &len), 0);
  cr_assert_eq((size_t) len, strlen(at));
  cr_assert_eq(get(over, "$", &len), MG_JSON_TOO_DEEP);
  free(at);
  free(over);
  // Objects count the same as arrays
  char path[4 * MG_JSON_MAX_DEPTH + 2] = "$";
  char doc[8 * MG_JSON_MAX_DEPTH + 8] = "";
  for (int i = 0; i < MG_JSON_MAX_DEPTH; i++) {
    strcat(doc, "{\"a\":");
    strcat(path, ".a");
  }
  strcat(doc, "7");
  for (int i = 0; i < MG_JSON_MAX_DEPTH; i++) strcat(doc, "}");
  cr_assert_eq(mg_json_get_long(mg_str(doc), path, 0), 7);
}

Test(json, survives_a_hundred_thousand_open_brackets) {
  char *deep = nested(100000, '[', ']', "");
  cr_assert_eq(get(deep, "$", NULL), MG_JSON_TOO_DEEP);
  deep[100000] = '\0';  // Unterminated as well
  cr_assert_eq(get(deep, "$", NULL), MG_JSON_TOO_DEEP);
  memset(deep, '{', 100000);
  cr_assert_eq(get(deep, "$", NULL), MG_JSON_INVALID, "'{' must be followed by a key");
  free(deep);
}

static const char *doc =
    "{\"a\": {\"b\": [10, 20, {\"c\": \"x\"}]}, \"list\": [1, [2, 3], {\"k\": true}],"
    " \"s\": \"str\", \"e\": {}, \"z\": [], \"n\": null, \"a.b\": 5, \"q\\\"k\": 6, \"\\u0041\": 7}";

static void check_tok(const char *path, const char *want) {
  struct mg_str t = mg_json_get_tok(mg_str(doc), path);
  cr_assert_not_null(t.buf, "%s not found", path);
  cr_assert(t.len == strlen(want) && memcmp(t.buf, want, t.len) == 0, "%s: got %.*s", path, (int) t.len, t.buf);
}

Test(json, finds_values_by_path) {
  check_tok("$", doc);
  check_tok("$.a", "{\"b\": [10, 20, {\"c\": \"x\"}]}");
  check_tok("$.a.b", "[10, 20, {\"c\": \"x\"}]");
  check_tok("$.a.b[0]", "10");
  check_tok("$.a.b[1]", "20");
  check_tok("$.a.b[2]", "{\"c\": \"x\"}");
  check_tok("$.a.b[2].c", "\"x\"");
  check_tok("$.list[1][1]", "3");
  check_tok("$.list[2].k", "true");
  check_tok("$.s", "\"str\"");
  check_tok("$.e", "{}");
  check_tok("$.z", "[]");
  check_tok("$.n", "null");
  check_tok("$.q\"k", "6");  // Names compare unescaped
  check_tok("$.A", "7");
  int len;
  cr_assert_eq(get("[5, [6]]", "$[0]", &len), 1);
  cr_assert_eq(len, 1);
  cr_assert_eq(get("[5, [6]]", "$[1][0]", &len), 5);
  cr_assert_eq(get("  \"x\"  ", "$", &len), 2);
  cr_assert_eq(len, 3);
}

Test(json, reports_absent_paths_and_bad_path_syntax_as_not_found) {
  const char *absent[] = {"$.x", "$.a.c", "$.a.b[3]", "$.a.b[-1]", "$[0]", "$.s.x", "$.s[0]", "$.z[0]",
                          "$.e.a", "$.a.b[0].c", "$.list[99999999999999999999]", "$.a.b.0", "a", "",
                          "$.", "$..a", "$[", "$[1", "$[x]", "$[]", "$a", "$.a[0", "$.a.b[1]x"};
  for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
    int len = 9;
    cr_assert_eq(get(doc, absent[i], &len), MG_JSON_NOT_FOUND, "%s", absent[i]) ;
    cr_assert_eq(len, 0);
  }
  cr_assert_eq(get(doc, "$.a.b[3]", NULL), MG_JSON_NOT_FOUND);
  cr_assert_eq(get("[1]", NULL, NULL), MG_JSON_NOT_FOUND);
}

Test(json, takes_the_first_of_duplicate_names) {
  cr_assert_eq(mg_json_get_long(mg_str("{\"a\":1,\"a\":2}"), "$.a", 0), 1);
  cr_assert_eq(mg_json_get_long(mg_str("{\"a\":{\"b\":1},\"a\":{\"b\":2}}"), "$.a.b", 0), 1);
}

Test(json, reads_numbers) {
  struct {
    const char *json;
    double want;
  } v[] = {
      {"0", 0},          {"-0", 0},           {"1", 1},
      {"-1.5", -1.5},    {"1e3", 1000},       {"1E-3", 0.001},
      {"123.456e-2", 1.23456},                {"0.000001", 1e-6},
      {"12345678901234567890", 12345678901234567890.0},
      {"1.7976931348623157e308", DBL_MAX},    {"4.9e-324", 4.9e-324},
      {"1e-400", 0},     {"0.1", 0.1},        {"2.2250738585072014e-308", 2.2250738585072014e-308},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    double d = -99;
    cr_assert(mg_json_get_num(mg_str(v[i].json), "$", &d), "%s", v[i].json);
    cr_assert_eq(d, v[i].want, "%s: %.17g", v[i].json, d);
  }
  // More digits than are kept (40): within an ulp of glibc's correctly rounded strtod
  const char *lng[] = {
      "1234567890123456789012345678901234567890123456789012345678901234567890",
      "-0.00000000000000000000000000000000000000000000000000012345678901234567890123456789012345",
      "100000000000000000000000000000000000000000000000000000000000e-60",
      "3.14159265358979323846264338327950288419716939937510582097494459e0",
      "1e00000000000000000000000000000001",
  };
  for (size_t i = 0; i < sizeof(lng) / sizeof(lng[0]); i++) {
    double d = 0, want = strtod(lng[i], NULL);
    cr_assert(mg_json_get_num(mg_str(lng[i]), "$", &d), "%s", lng[i]);
    double rel = (d - want) / want;  // An ulp is 2^-52 of the value
    cr_assert(rel < 2.3e-16 && rel > -2.3e-16, "%s: %.17g", lng[i], d);
  }
  double d = 42;
  cr_assert(!mg_json_get_num(mg_str("1e400"), "$", &d), "beyond the double range");
  cr_assert(!mg_json_get_num(mg_str("-1e99999999999999999999"), "$", &d));
  cr_assert(!mg_json_get_num(mg_str("\"1\""), "$", &d));
  cr_assert(!mg_json_get_num(mg_str("true"), "$", &d));
  cr_assert(!mg_json_get_num(mg_str("[1]"), "$", &d));
  cr_assert(!mg_json_get_num(mg_str("1."), "$", &d));
  cr_assert_eq(d, 42, "untouched on failure");
  cr_assert(mg_json_get_num(mg_str("{\"a\":[0,-2.5]}"), "$.a[1]", &d));
  cr_assert_eq(d, -2.5);
}

Test(json, reads_longs_exactly_and_falls_back_to_the_default) {
  cr_assert_eq(mg_json_get_long(mg_str("42"), "$", -1), 42);
  cr_assert_eq(mg_json_get_long(mg_str("-42"), "$", -1), -42);
  cr_assert_eq(mg_json_get_long(mg_str("1.9"), "$", -1), 1);
  cr_assert_eq(mg_json_get_long(mg_str("-1.9"), "$", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("1e3"), "$", -1), 1000);
  char buf[64];
  mg_snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
  cr_assert_eq(mg_json_get_long(mg_str(buf), "$", -1), LONG_MAX);
  mg_snprintf(buf, sizeof(buf), "%ld", LONG_MIN);
  cr_assert_eq(mg_json_get_long(mg_str(buf), "$", -1), LONG_MIN);
  mg_snprintf(buf, sizeof(buf), "%lu", (unsigned long) LONG_MAX + 1);
  cr_assert_eq(mg_json_get_long(mg_str(buf), "$", -1), -1, "one over LONG_MAX");
  cr_assert_eq(mg_json_get_long(mg_str("-99999999999999999999999"), "$", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("1e300"), "$", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("\"5\""), "$", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("null"), "$", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("{\"a\":5}"), "$.b", -1), -1);
  cr_assert_eq(mg_json_get_long(mg_str("{\"a\":5,}"), "$.a", -1), -1, "invalid document");
}

// Beyond 2^53 a double rounds: 1234567890123456789.0 would come back as ...768
Test(json, reads_longs_in_any_notation_without_a_double) {
  cr_assert_eq(mg_json_get_long(mg_str("1234567890123456789.0"), "$", -1), 1234567890123456789L);
  cr_assert_eq(mg_json_get_long(mg_str("12345678901234567.89e2"), "$", -1), 1234567890123456789L);
  cr_assert_eq(mg_json_get_long(mg_str("-9007199254740993.7"), "$", -1), -9007199254740993L);
  cr_assert_eq(mg_json_get_long(mg_str("0.5e1"), "$", -1), 5);
  cr_assert_eq(mg_json_get_long(mg_str("123e-2"), "$", -1), 1);
  cr_assert_eq(mg_json_get_long(mg_str("1e-400"), "$", -1), 0);
  cr_assert_eq(mg_json_get_long(mg_str("0e99999999999"), "$", -1), 0);
}

Test(json, reads_whole_int64s_exactly) {
  struct {
    const char *json;
    int64_t want;
  } v[] = {
      {"0", 0},
      {"-0", 0},
      {"42", 42},
      {"4.2e1", 42},
      {"42.000", 42},
      {"4200e-2", 42},
      {"18600000000", 18600000000LL},
      {"9007199254740993", 9007199254740993LL},  // 2^53 + 1: no double holds it
      {"4611686018427387904", 4611686018427387904LL},
      {"4611686018427387905", 4611686018427387905LL},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"9.223372036854775807e18", INT64_MAX},
      {"1.5e18", 1500000000000000000LL},
      {"0.0000000000000000000000000000000000000000000000000000000001e58", 1},
      {"0e99999999999", 0},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    int64_t got = -99;
    cr_assert(mg_json_get_int64(mg_str(v[i].json), "$", &got), "%s", v[i].json);
    cr_assert_eq(got, v[i].want, "%s: %lld", v[i].json, (long long) got);
  }
  const char *refused[] = {"9223372036854775808", "-9223372036854775809", "1e19", "99999999999999999999999",
                           "1.5", "-0.5", "1e-1", "1e400", "\"5\"", "true", "null", "[1]", "{\"a\":1,}"};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    int64_t got = 7;
    cr_assert(!mg_json_get_int64(mg_str(refused[i]), "$", &got), "%s", refused[i]);
    cr_assert_eq(got, 7, "%s: untouched on failure", refused[i]);
  }
  int64_t got = 0;
  cr_assert(mg_json_get_int64(mg_str("{\"a\":[1,-4611686018427387905]}"), "$.a[1]", &got));
  cr_assert_eq(got, -4611686018427387905LL);
}

Test(json, reads_booleans) {
  bool b = false;
  cr_assert(mg_json_get_bool(mg_str("[true]"), "$[0]", &b));
  cr_assert(b);
  cr_assert(mg_json_get_bool(mg_str("{\"x\":false}"), "$.x", &b));
  cr_assert(!b);
  b = true;
  cr_assert(!mg_json_get_bool(mg_str("1"), "$", &b));
  cr_assert(!mg_json_get_bool(mg_str("\"true\""), "$", &b));
  cr_assert(!mg_json_get_bool(mg_str("null"), "$", &b));
  cr_assert(b, "untouched on failure");
}

Test(json, reads_strings_unescaped) {
  char *s = mg_json_get_str(mg_str("{\"a\":\"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"}"), "$.a");
  cr_assert_not_null(s);
  cr_assert_str_eq(s, "x\"y\\z/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  mg_free(s);
  s = mg_json_get_str(mg_str("[\"\"]"), "$[0]");
  cr_assert_not_null(s);
  cr_assert_str_eq(s, "");
  mg_free(s);
  s = mg_json_get_str(mg_str("\"h\xc3\xa9\""), "$");
  cr_assert_str_eq(s, "h\xc3\xa9");
  mg_free(s);
  cr_assert_null(mg_json_get_str(mg_str("1"), "$"));
  cr_assert_null(mg_json_get_str(mg_str("{\"a\":[\"x\"]}"), "$.a"));
  cr_assert_null(mg_json_get_str(mg_str("{\"a\":\"x\"}"), "$.b"));
  cr_assert_null(mg_json_get_str(mg_str("\"a\\u0000b\""), "$"), "an embedded NUL would truncate");
}

Test(json, reads_a_long_string) {
  size_t n = 100000;
  char *json = malloc(n + 3);
  cr_assert_not_null(json);
  json[0] = '"';
  for (size_t i = 0; i < n; i++) json[i + 1] = (char) ('a' + i % 26);
  json[n + 1] = '"';
  json[n + 2] = '\0';
  char *s = mg_json_get_str(mg_str(json), "$");
  cr_assert_not_null(s);
  cr_assert_eq(strlen(s), n);
  cr_assert_eq(memcmp(s, json + 1, n), 0);
  mg_free(s);
  free(json);
}

Test(json, unescapes_into_a_caller_buffer) {
  char buf[8];
  cr_assert(mg_json_unescape_body(mg_str("a\\nb"), buf, sizeof(buf)));
  cr_assert_str_eq(buf, "a\nb");
  cr_assert(mg_json_unescape_body(mg_str("1234567"), buf, sizeof(buf)), "exactly fits with the NUL");
  cr_assert_str_eq(buf, "1234567");
  cr_assert(!mg_json_unescape_body(mg_str("12345678"), buf, sizeof(buf)), "no room for the NUL");
  cr_assert(!mg_json_unescape_body(mg_str("\\ud83d\\ude00\\ud83d\\ude00"), buf, sizeof(buf)), "8 bytes + NUL");
  cr_assert(mg_json_unescape_body(mg_str("\\ud83d\\ude00abc"), buf, sizeof(buf)));
  cr_assert_str_eq(buf, "\xf0\x9f\x98\x80" "abc");
  cr_assert(mg_json_unescape_body(mg_str(""), buf, sizeof(buf)));
  cr_assert_str_eq(buf, "");
  cr_assert(mg_json_unescape_body(mg_str("\\u07ff\\u0800"), buf, sizeof(buf)));
  cr_assert_str_eq(buf, "\xdf\xbf\xe0\xa0\x80");
  cr_assert(mg_json_unescape_body(mg_str("\\uDBFF\\uDFFF"), buf, sizeof(buf)));
  cr_assert_str_eq(buf, "\xf4\x8f\xbf\xbf");
  const char *refused[] = {"\\ud800",       "\\udc00",  "\\ud800\\ud800", "\\ud800a", "\\x",  "\\",
                           "\\u00",         "\\u00zz",  "\"",             "\t",       "\x01", "\\u0000",
                           "\xff",          "\xc3",     "\\ud83d\\u0041", "\\uDFFF\\uDBFF"};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    cr_assert(!mg_json_unescape_body(mg_str(refused[i]), buf, sizeof(buf)), "%s", refused[i]);
  }
  cr_assert(!mg_json_unescape_body(mg_str("a"), buf, 0));
  cr_assert(!mg_json_unescape_body(mg_str("a"), buf, 1));
}

// What mg_json_check says about json; "" when it is valid
static const char *why(const char *json) {
  static char buf[160];
  bool ok = mg_json_check(mg_str(json), buf, sizeof(buf));
  cr_assert_eq(ok, buf[0] == '\0', "%s: %s", json, buf);
  cr_assert_eq(ok, mg_json_get(mg_str(json), "$", NULL) >= 0, "agrees with mg_json_get: %s", json);
  return buf;
}

Test(json, check_says_what_is_wrong_where_and_in_which_member) {
  static const struct {
    const char *json, *why;
  } cases[] = {
      {"{\"password\":\"ab\\ud800\"}", "a lone surrogate \\ud800 (not a character) at byte 15 in member \"password\""},
      {"{\"a\":1,\"b\":\"\\udc00\\ud800\"}", "a lone surrogate \\udc00 (not a character) at byte 12 in member \"b\""},
      {"\"\\ud83dx\"", "a lone surrogate \\ud83d (not a character) at byte 1"},
      {"{\"s\":\"\\x\"}", "an invalid escape \\x at byte 6 in member \"s\""},
      {"{\"s\":\"a\xff\"}", "invalid UTF-8 (byte 0xff) at byte 7 in member \"s\""},
      {"{\"s\":\"a\nb\"}", "an unescaped control character (0x0a) at byte 7 in member \"s\""},
      {"{\"s\":\"abc", "an unterminated string at byte 5 in member \"s\""},
      {"{\"count\":", "the text ends early at byte 9 in member \"count\""},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7 in member \"a\""},
      {"[1 2]", "expected ',' or ']' at byte 3"},
      {"{\"a\":tru}", "expected a value at byte 5 in member \"a\""},
      {"{a:1}", "expected a member name in quotes at byte 1"},
      {"{\"a\" 1}", "expected ':' at byte 5 in member \"a\""},
      {"{} x", "more after the value at byte 3"},
      {"", "empty"},
      {"  ", "empty"},
      {"{\"k\\u00e9\":[[\"\\ud800\"]]}", "a lone surrogate \\ud800 (not a character) at byte 14 in member \"k\\u00e9\""},
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    cr_assert_str_eq(why(cases[i].json), cases[i].why, "%s", cases[i].json);
  }
  char deep[2 * MG_JSON_MAX_DEPTH + 8];
  memset(deep, '[', MG_JSON_MAX_DEPTH + 1);
  deep[MG_JSON_MAX_DEPTH + 1] = '\0';
  cr_assert(strstr(why(deep), "nested deeper than") != NULL, "%s", why(deep));
  for (size_t i = 0; i < MG_ARRAY_SIZE(good); i++) cr_assert_str_eq(why(good[i]), "", "%s", good[i]);
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) cr_assert_str_neq(why(bad[i]), "", "%s", bad[i]);
  char small[8];
  cr_assert(!mg_json_check(mg_str("[1,"), small, sizeof(small)), "a short buffer still says invalid");
  cr_assert_eq(strlen(small), sizeof(small) - 1);
  cr_assert(!mg_json_check(mg_str("[1,"), NULL, 0));
}

Test(json, unescaped_len_counts_bytes_and_tells_a_nul) {
  bool nul = true;
  cr_assert_eq(mg_json_unescaped_len(mg_str("abc"), &nul), 3);
  cr_assert(!nul);
  cr_assert_eq(mg_json_unescaped_len(mg_str("\xe2\x82\xac\\u20ac\\ud83d\\ude00\\n"), &nul), 3 + 3 + 4 + 1);
  cr_assert_eq(mg_json_unescaped_len(mg_str(""), &nul), 0);
  cr_assert_eq(mg_json_unescaped_len(mg_str("a\\u0000b"), &nul), 3);
  cr_assert(nul);
  cr_assert_eq(mg_json_unescaped_len(mg_str("\\ud800"), &nul), -1, "a lone surrogate is no string");
  cr_assert_eq(mg_json_unescaped_len(mg_str("\\x"), &nul), -1);
  cr_assert_eq(mg_json_unescaped_len(mg_str("\xff"), &nul), -1);
}

Test(json, reads_hex_and_base64) {
  int len = -1;
  char *p = mg_json_get_hex(mg_str("{\"h\":\"00a1FF\"}"), "$.h", &len);
  cr_assert_not_null(p);
  cr_assert_eq(len, 3);
  cr_assert(p[0] == 0 && (unsigned char) p[1] == 0xa1 && (unsigned char) p[2] == 0xff && p[3] == 0);
  mg_free(p);
  p = mg_json_get_hex(mg_str("\"\""), "$", &len);
  cr_assert_not_null(p);
  cr_assert_eq(len, 0);
  mg_free(p);
  cr_assert_null(mg_json_get_hex(mg_str("\"abc\""), "$", &len), "odd length");
  cr_assert_null(mg_json_get_hex(mg_str("\"zz\""), "$", &len));
  cr_assert_null(mg_json_get_hex(mg_str("12"), "$", &len));
  p = mg_json_get_b64(mg_str("[\"Zm9vYmE=\"]"), "$[0]", &len);
  cr_assert_not_null(p);
  cr_assert_eq(len, 5);
  cr_assert_str_eq(p, "fooba");
  mg_free(p);
  p = mg_json_get_b64(mg_str("\"YS9i\\/w==\""), "$", &len);  // "\/" is an escaped '/'
  cr_assert_not_null(p);
  cr_assert_eq(len, 4);
  cr_assert(memcmp(p, "a/b\xff", 4) == 0);
  mg_free(p);
  p = mg_json_get_b64(mg_str("\"\""), "$", &len);
  cr_assert_not_null(p);
  cr_assert_eq(len, 0);
  mg_free(p);
  cr_assert_null(mg_json_get_b64(mg_str("\"Zm9v!\""), "$", &len));
  cr_assert_null(mg_json_get_b64(mg_str("\"Zm9\""), "$", &len));
  cr_assert_null(mg_json_get_b64(mg_str("null"), "$", &len));
  cr_assert_null(mg_json_get_b64(mg_str("\"Zm9v\""), "$.x", NULL));
}

// Collects "key=val;" for every member mg_json_next gives
static void walk(const char *json, char *out, size_t outlen) {
  struct mg_str key, val, obj = mg_str(json);
  size_t ofs = 0, n = 0;
  out[0] = '\0';
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    cr_assert_leq(ofs, obj.len);
    cr_assert(val.buf >= obj.buf && val.buf + val.len <= obj.buf + obj.len);
    n += mg_snprintf(out + n, outlen - n, "%.*s=%.*s;", (int) key.len, key.buf == NULL ? "" : key.buf, (int) val.len,
                     val.buf);
  }
}

Test(json, iterates_objects_arrays_and_nested_values) {
  char out[256];
  walk("{\"a\":[true,1], \"b\" : 42 ,\"c\":{\"d\":\"e\"},\"\":null}", out, sizeof(out));
  cr_assert_str_eq(out, "\"a\"=[true,1];\"b\"=42;\"c\"={\"d\":\"e\"};\"\"=null;");
  walk(" [ 1 , \"two\", [3], {\"four\":4}, [] ] ", out, sizeof(out));
  cr_assert_str_eq(out, "=1;=\"two\";=[3];={\"four\":4};=[];");
  walk("{}", out, sizeof(out));
  cr_assert_str_eq(out, "");
  walk("[]", out, sizeof(out));
  cr_assert_str_eq(out, "");
  walk("{\"a\":1,}", out, sizeof(out));
  cr_assert_str_eq(out, "", "an invalid object yields nothing");
  walk("[1,2", out, sizeof(out));
  cr_assert_str_eq(out, "");
  walk("42", out, sizeof(out));
  cr_assert_str_eq(out, "", "not a container");
  walk("", out, sizeof(out));
  cr_assert_str_eq(out, "");
  // Array elements have no key; NULL key and val pointers are allowed
  struct mg_str key = mg_str("junk"), val;
  size_t ofs = mg_json_next(mg_str("[7]"), 0, &key, &val);
  cr_assert_gt(ofs, 0);
  cr_assert(key.buf == NULL && key.len == 0);
  cr_assert_eq(mg_json_next(mg_str("[7]"), ofs, NULL, NULL), 0);
  size_t count = 0;
  for (ofs = 0; (ofs = mg_json_next(mg_str("{\"x\":1,\"y\":2}"), ofs, NULL, NULL)) > 0;) count++;
  cr_assert_eq(count, 2);
  // A nested value found by path is iterated the same way
  struct mg_str list = mg_json_get_tok(mg_str(doc), "$.list");
  count = 0;
  for (ofs = 0; (ofs = mg_json_next(list, ofs, &key, &val)) > 0;) count++;
  cr_assert_eq(count, 3);
  // An offset past the end, or pointing into junk, ends the walk
  cr_assert_eq(mg_json_next(mg_str("[1,2]"), 99, &key, &val), 0);
  cr_assert_eq(mg_json_next(mg_str("[1,2]"), 1, &key, &val), 0);
  cr_assert_eq(mg_json_next(mg_str("[1,2]"), 2, &key, &val), 4, "the offset after the first element");
}

// Strings printed with %m read back byte for byte through mg_json_get_str
Test(json, printed_strings_round_trip) {
  char all[256];
  for (int i = 1; i < 128; i++) all[i - 1] = (char) i;  // Every ASCII character but NUL
  all[127] = '\0';
  const char *samples[] = {"", "plain", "q\"uote", "back\\slash", "a/b", "\b\f\n\r\t", "\x01\x1f\x7f",
                           "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", all};
  for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    char *json = mg_mprintf("{%m:[%m]}", MG_ESC("k\"ey"), MG_ESC(samples[i]));
    cr_assert_not_null(json);
    cr_assert_geq(mg_json_get(mg_str(json), "$", NULL), 0, "%s", json);
    char *back = mg_json_get_str(mg_str(json), "$.k\"ey[0]");
    cr_assert_not_null(back, "%s", json);
    cr_assert_str_eq(back, samples[i]);
    mg_free(back);
    mg_free(json);
  }
}
