// Mongoose 7 compatibility of the JSON API, built as a Mongoose user builds: against
// dist/mongoose.h and dist/meerkat.c alone. Each case is a call the documentation shows.
#include <criterion/criterion.h>
#include "mongoose.h"

static const char *json = "{\"a\": 1, \"b\": [2, false, \"x\"], \"c\": {\"d\": \"h\\u00e9\"}, \"e\": \"AQID\", \"f\": \"0aff\"}";

Test(compat_json, mg_json_get_returns_offset_and_length) {
  struct mg_str s = mg_str(json);
  int n, ofs = mg_json_get(s, "$.b", &n);
  cr_assert_gt(ofs, 0);
  cr_assert_eq(n, (int) strlen("[2, false, \"x\"]"));
  cr_assert_eq(strncmp(s.buf + ofs, "[2, false, \"x\"]", (size_t) n), 0);
  cr_assert_eq(mg_json_get(s, "$.b[2]", &n), ofs + 11);
  cr_assert_eq(mg_json_get(s, "$.nope", &n), MG_JSON_NOT_FOUND);
  cr_assert_eq(mg_json_get(mg_str("{\"a\":"), "$.a", &n), MG_JSON_INVALID);
  cr_assert_eq(mg_json_get(mg_str("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["), "$", &n), MG_JSON_TOO_DEEP);
  cr_assert(MG_JSON_TOO_DEEP < 0 && MG_JSON_INVALID < 0 && MG_JSON_NOT_FOUND < 0);
}

Test(compat_json, typed_getters) {
  struct mg_str s = mg_str(json);
  double d = 0;
  bool b = true;
  cr_assert(mg_json_get_num(s, "$.a", &d));
  cr_assert_eq(d, 1.0);
  cr_assert(mg_json_get_bool(s, "$.b[1]", &b));
  cr_assert_eq(b, false);
  cr_assert_eq(mg_json_get_long(s, "$.b[0]", -1), 2);
  cr_assert_eq(mg_json_get_long(s, "$.zz", -1), -1);
  struct mg_str tok = mg_json_get_tok(s, "$.c");
  cr_assert_eq(tok.len, strlen("{\"d\": \"h\\u00e9\"}"));
  char *str = mg_json_get_str(s, "$.c.d");
  cr_assert_str_eq(str, "h\xc3\xa9");
  free(str);  // Mongoose documents free(); mg_calloc is calloc here
  int len = 0;
  char *bin = mg_json_get_b64(s, "$.e", &len);
  cr_assert_eq(len, 3);
  cr_assert(bin[0] == 1 && bin[1] == 2 && bin[2] == 3);
  free(bin);
  bin = mg_json_get_hex(s, "$.f", &len);
  cr_assert_eq(len, 2);
  cr_assert(bin[0] == 0x0a && (unsigned char) bin[1] == 0xff);
  free(bin);
}

Test(compat_json, mg_json_next_walks_objects_and_arrays) {
  struct mg_str key, val, obj = mg_str("{\"a\":[true,1], \"b\": 42}");
  size_t ofs = 0;
  char out[64] = "";
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    size_t n = strlen(out);
    mg_snprintf(out + n, sizeof(out) - n, "%.*s->%.*s;", (int) key.len, key.buf, (int) val.len, val.buf);
  }
  cr_assert_str_eq(out, "\"a\"->[true,1];\"b\"->42;");
  struct mg_str arr = mg_json_get_tok(obj, "$.a");
  int count = 0;
  for (ofs = 0; (ofs = mg_json_next(arr, ofs, NULL, &val)) > 0;) count++;
  cr_assert_eq(count, 2);
}

Test(compat_json, printing_with_m_and_reading_back) {
  char buf[100];
  mg_snprintf(buf, sizeof(buf), "{%m:%m,%m:%d}", MG_ESC("name"), MG_ESC("a \"q\"\n"), MG_ESC("n"), 5);
  char *s = mg_json_get_str(mg_str(buf), "$.name");
  cr_assert_str_eq(s, "a \"q\"\n");
  free(s);
  cr_assert_eq(mg_json_get_long(mg_str(buf), "$.n", 0), 5);
}

Test(compat_json, mg_json_unescape_takes_a_path_and_returns_the_length) {
  struct mg_str s = mg_str("{\"name\": \"a\\nb\\u00e9\", \"n\": 5, \"empty\": \"\"}");
  char buf[16];
  cr_assert_eq(mg_json_unescape(s, "$.name", buf, sizeof(buf)), 5);
  cr_assert_str_eq(buf, "a\nb\xc3\xa9");
  cr_assert_eq(mg_json_unescape(s, "$.name", buf, 6), 5, "exactly fits with the NUL");
  cr_assert_eq(mg_json_unescape(s, "$.name", buf, 5), 0, "too small");
  cr_assert_eq(mg_json_unescape(s, "$.n", buf, sizeof(buf)), 0, "not a string");
  cr_assert_eq(mg_json_unescape(s, "$.nope", buf, sizeof(buf)), 0, "not found");
  cr_assert_eq(mg_json_unescape(s, "$.empty", buf, sizeof(buf)), 0, "an empty string is 0 too");
  cr_assert_str_eq(buf, "");
}
