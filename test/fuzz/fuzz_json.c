// Fuzzes the JSON reader: an input is "PATH\0DOCUMENT" (or a document alone). Every
// result must lie inside the input, agree with the whole document's verdict, and be
// valid JSON itself; iterated members too; strings must print back with %m.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_json_check_tok(struct mg_str doc, int ofs, int len) {
  if (ofs < 0) {
    if (len != 0) __builtin_trap();
    return;
  }
  if (len <= 0 || (size_t) ofs + (size_t) len > doc.len) __builtin_trap();
  // The value found is a whole JSON value by itself
  int sub_len, sub = mg_json_get(mg_str_n(doc.buf + ofs, (size_t) len), "$", &sub_len);
  if (sub != 0 || sub_len != len) __builtin_trap();
}

static void fuzz_json_check_next(struct mg_str tok) {
  struct mg_str key, val;
  size_t ofs = 0, prev = 0, count = 0;
  bool is_obj = tok.len > 0 && tok.buf[0] == '{';
  while ((ofs = mg_json_next(tok, ofs, &key, &val)) > 0) {
    if (ofs <= prev || ofs > tok.len || ++count > tok.len) __builtin_trap();
    if (val.buf < tok.buf || val.buf + val.len != tok.buf + ofs) __builtin_trap();
    int n, v = mg_json_get(val, "$", &n);
    if (v != 0 || (size_t) n != val.len) __builtin_trap();
    if (is_obj != (key.buf != NULL)) __builtin_trap();
    if (is_obj && (key.len < 2 || key.buf[0] != '"' || mg_json_get(key, "$", NULL) != 0)) __builtin_trap();
    prev = ofs;
  }
}

// A string read back, printed with %m and read again, is the same bytes
static void fuzz_json_check_string(struct mg_str doc) {
  char *s = mg_json_get_str(doc, "$");
  if (s == NULL) return;
  char *printed = mg_mprintf("[%m]", MG_ESC(s));
  if (printed != NULL) {
    char *back = mg_json_get_str(mg_str(printed), "$[0]");
    if (back == NULL || strcmp(back, s) != 0) __builtin_trap();
    mg_free(back);
    mg_free(printed);
  }
  mg_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = (const uint8_t *) memchr(data, 0, size < 64 ? size : 64);
  char path[65] = "$.a[1].b";
  size_t skip = 0;
  if (nul != NULL) {
    skip = (size_t) (nul - data) + 1;
    memcpy(path, data, skip);  // With its NUL
  }
  // Copy so that ASan catches any read past the document
  size_t n = size - skip;
  char *in = (char *) malloc(n == 0 ? 1 : n);
  if (in == NULL) return 0;
  if (n > 0) memcpy(in, data + skip, n);
  struct mg_str doc = mg_str_n(in, n);

  int len, whole = mg_json_get(doc, "$", &len);
  fuzz_json_check_tok(doc, whole, len);
  if (whole >= 0 && (size_t) len != n && mg_json_get(mg_str_n(in + whole, (size_t) len), "$", NULL) != 0) __builtin_trap();
  int at = mg_json_get(doc, path, &len);
  fuzz_json_check_tok(doc, at, len);
  // A broken document is broken whatever the path; a valid one only lacks some paths
  if (whole < 0 && at != whole) __builtin_trap();
  if (whole >= 0 && at < 0 && at != MG_JSON_NOT_FOUND) __builtin_trap();
  if (whole >= 0) fuzz_json_check_next(mg_str_n(in + whole, n - (size_t) whole));
  fuzz_json_check_string(doc);

  double d;
  bool b;
  int blen;
  (void) mg_json_get_num(doc, path, &d);
  (void) mg_json_get_bool(doc, path, &b);
  (void) mg_json_get_long(doc, path, 0);
  mg_free(mg_json_get_hex(doc, path, &blen));
  mg_free(mg_json_get_b64(doc, path, &blen));
  char buf[32];
  if (mg_json_unescape_body(doc, buf, sizeof(buf)) && memchr(buf, 0, sizeof(buf)) == NULL) __builtin_trap();
  // The unescaped length agrees with unescaping: where it fits, and why not where not
  bool has_nul = false;
  long ulen = mg_json_unescaped_len(doc, &has_nul);
  bool fits = mg_json_unescape_body(doc, buf, sizeof(buf));
  if (fits != (ulen >= 0 && !has_nul && (size_t) ulen < sizeof(buf))) __builtin_trap();
  if (fits && strlen(buf) != (size_t) ulen) __builtin_trap();
  // The string at path, into a buffer (7.22's mg_json_unescape), agrees with mg_json_get_str
  size_t got = mg_json_unescape(doc, path, buf, sizeof(buf));
  char *str = mg_json_get_str(doc, path);
  if (got > 0 && (str == NULL || strcmp(str, buf) != 0 || strlen(buf) != got)) __builtin_trap();
  if (got == 0 && buf[0] != '\0') __builtin_trap();
  if (got == 0 && str != NULL && str[0] != '\0' && strlen(str) + 1 <= sizeof(buf)) __builtin_trap();
  mg_free(str);
  // mg_json_check agrees with mg_json_get, and says why in valid UTF-8 when the document is bad
  char why[160];  // Room for the longest message: never cut
  if (mg_json_check(doc, why, sizeof(why)) != (whole >= 0)) __builtin_trap();
  if (whole < 0 && (why[0] == '\0' || strlen(why) + 1 >= sizeof(why) || !mg_utf8_valid(why, strlen(why)))) __builtin_trap();
  free(in);
  return 0;
}
