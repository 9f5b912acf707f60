// JSON (RFC 8259) read in place: one iterative pass validates a whole document and
// finds the value at a path; typed getters, unescaping and member iteration sit on it.
#include "meerkat.h"
#include <float.h>

// Path segments: ".name" or "[index]" after the leading "$"
enum { JSON_SEG_BAD, JSON_SEG_KEY, JSON_SEG_INDEX, JSON_SEG_END };

struct json_seg {
  int kind;
  struct mg_str name;  // JSON_SEG_KEY
  uint64_t index;      // JSON_SEG_INDEX
};

// Why a scan failed, for mg_json_check's message (the first fault found counts)
enum {
  JSON_OK,
  JSON_ERR_END,         // The text ends inside a value
  JSON_ERR_VALUE,       // No value starts here
  JSON_ERR_DEPTH,       // MG_JSON_MAX_DEPTH
  JSON_ERR_COMMA,       // Neither ',' nor the closing bracket after a value
  JSON_ERR_NAME,        // No quoted member name
  JSON_ERR_COLON,       // No ':' after a member name
  JSON_ERR_JUNK,        // More after the outermost value
  JSON_ERR_UNTERMINATED,
  JSON_ERR_CONTROL,     // An unescaped byte below 0x20 in a string
  JSON_ERR_UTF8,
  JSON_ERR_ESCAPE,
  JSON_ERR_SURROGATE,   // A \u escape of half a UTF-16 pair alone
};

// One pass over a document. The path descends by one container at a time: the
// containers open on the path are the outermost `matched` of the `depth` open ones,
// and `seg` is what a child of the innermost of them must match. With duplicate
// names the first member on the path is taken, so the search stops for good once
// the path's container closes or the value is found.
struct json_scan {
  const char *s;
  size_t len;
  const char *path;     // What follows seg in the path
  struct json_seg seg;  // What the next child on the path must match
  bool searching;       // The path can still be found
  bool on_path;         // The value about to be scanned lies on the path
  int depth, matched;
  uint64_t item;     // Index of the current element of the innermost container on the path
  size_t found;      // Offset of the value at the path, valid when found_len > 0
  size_t found_len;  // 0 while not found
  int found_depth;   // When the value found is a container: its depth, to take its end
  int err;           // JSON_ERR_*, and where: the first fault found
  size_t err_at;
  struct mg_str member;  // The outermost object's member being scanned (a raw name)
  char open[MG_JSON_MAX_DEPTH];  // '{' or '[' for each open container
};

static void json_fail(struct json_scan *js, int err, size_t at) {
  if (js->err != JSON_OK) return;
  js->err = err;
  js->err_at = at;
}

static bool json_is_digit(char c) {
  return c >= '0' && c <= '9';
}

static size_t json_ws(const struct json_scan *js, size_t p) {
  while (p < js->len && (js->s[p] == ' ' || js->s[p] == '\t' || js->s[p] == '\n' || js->s[p] == '\r')) p++;
  return p;
}

// Parses the path segment at *path; a name runs up to the next '.' or '['
static int json_seg_next(const char **path, struct json_seg *seg) {
  const char *p = *path;
  if (*p == '\0') return seg->kind = JSON_SEG_END;
  if (*p == '.') {
    size_t n = strcspn(p + 1, ".[");
    if (n == 0) return seg->kind = JSON_SEG_BAD;
    seg->name = mg_str_n(p + 1, n);
    *path = p + 1 + n;
    return seg->kind = JSON_SEG_KEY;
  }
  if (*p == '[') {
    size_t n = strspn(p + 1, "0123456789");
    if (p[1 + n] != ']' || !mg_str_to_u64(mg_str_n(p + 1, n), 10, &seg->index)) return seg->kind = JSON_SEG_BAD;
    *path = p + n + 2;
    return seg->kind = JSON_SEG_INDEX;
  }
  return seg->kind = JSON_SEG_BAD;
}

static size_t json_put_utf8(uint32_t cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char) cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char) (0xc0 | cp >> 6);
    out[1] = (char) (0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char) (0xe0 | cp >> 12);
    out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
    out[2] = (char) (0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char) (0xf0 | cp >> 18);
  out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
  out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
  out[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

// The four hex digits of a \u escape at s[i + 2], or -1
static long json_hex4(const char *s, size_t n, size_t i) {
  uint64_t v;
  if (i > n || n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' || !mg_str_to_u64(mg_str_n(s + i + 2, 4), 16, &v)) return -1;
  return (long) v;
}

// A \u escape (a surrogate pair takes two) at s[*i] as UTF-8 into out; its length, or 0.
// A lone surrogate has no UTF-8 form, so it is refused as malformed.
static size_t json_unescape_u(const char *s, size_t n, size_t *i, char *out) {
  long hi = json_hex4(s, n, *i), lo;
  if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff)) return 0;
  if (hi < 0xd800 || hi > 0xdbff) {
    *i += 6;
    return json_put_utf8((uint32_t) hi, out);
  }
  lo = json_hex4(s, n, *i + 6);
  if (lo < 0xdc00 || lo > 0xdfff) return 0;
  *i += 12;
  return json_put_utf8(0x10000 + (((uint32_t) hi - 0xd800) << 10) + ((uint32_t) lo - 0xdc00), out);
}

// One character of a string body at s[*i] (an escape, or a UTF-8 sequence) decoded
// into out (4 bytes); its length, or 0 if malformed. The closing quote is not a character.
static size_t json_char(const char *s, size_t n, size_t *i, char *out) {
  unsigned char c = (unsigned char) s[*i];
  if (c == '\\') {
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = *i + 1 < n && s[*i + 1] != '\0' ? strchr(from, s[*i + 1]) : NULL;
    if (e == NULL) return *i + 1 < n && s[*i + 1] == 'u' ? json_unescape_u(s, n, i, out) : 0;
    out[0] = to[e - from];
    *i += 2;
    return 1;
  }
  if (c < 0x20 || c == '"') return 0;
  size_t len = mg_utf8_len(s + *i, n - *i);
  if (len > 0) memcpy(out, s + *i, len);
  *i += len;
  return len;
}

// Why json_char refused the character at s[i]
static int json_char_fault(const char *s, size_t n, size_t i) {
  if ((unsigned char) s[i] < 0x20) return JSON_ERR_CONTROL;
  if (s[i] != '\\') return JSON_ERR_UTF8;
  return json_hex4(s, n, i) >= 0 ? JSON_ERR_SURROGATE : JSON_ERR_ESCAPE;
}

// Offset after the string starting at the quote at p, or 0
static size_t json_string_end(struct json_scan *js, size_t p) {
  char tmp[4];
  size_t start = p;
  if (p >= js->len || js->s[p] != '"') return 0;
  for (p++; p < js->len && js->s[p] != '"';) {
    if (json_char(js->s, js->len, &p, tmp) == 0) {
      json_fail(js, json_char_fault(js->s, js->len, p), p);
      return 0;
    }
  }
  if (p < js->len) return p + 1;
  json_fail(js, JSON_ERR_UNTERMINATED, start);
  return 0;
}

// Whether the string body raw, unescaped, is name
static bool json_name_eq(struct mg_str raw, struct mg_str name) {
  size_t i = 0, j = 0;
  char c[4];
  while (i < raw.len) {
    size_t n = json_char(raw.buf, raw.len, &i, c);
    if (n == 0 || name.len - j < n || memcmp(name.buf + j, c, n) != 0) return false;
    j += n;
  }
  return j == name.len;
}

// Offset after the number at p (RFC 8259 section 6 grammar), or 0
static size_t json_number_end(const struct json_scan *js, size_t p) {
  const char *s = js->s;
  size_t n = js->len;
  if (p < n && s[p] == '-') p++;
  if (p < n && s[p] == '0') {
    p++;
  } else if (p < n && s[p] >= '1' && s[p] <= '9') {
    while (p < n && json_is_digit(s[p])) p++;
  } else {
    return 0;
  }
  if (p < n && s[p] == '.') {
    if (++p >= n || !json_is_digit(s[p])) return 0;
    while (p < n && json_is_digit(s[p])) p++;
  }
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    p++;
    if (p < n && (s[p] == '+' || s[p] == '-')) p++;
    if (p >= n || !json_is_digit(s[p])) return 0;
    while (p < n && json_is_digit(s[p])) p++;
  }
  return p;
}

// Offset after the string, number or literal at p, or 0
static size_t json_scalar_end(struct json_scan *js, size_t p) {
  static const char *const literals[] = {"true", "false", "null"};
  if (p >= js->len) return 0;
  if (js->s[p] == '"') return json_string_end(js, p);
  if (js->s[p] == '-' || json_is_digit(js->s[p])) return json_number_end(js, p);
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(literals[i]);
    if (js->len - p >= n && memcmp(js->s + p, literals[i], n) == 0) return p + n;
  }
  return 0;
}

// A value on the path starts at p: it is the one sought, or the path goes into it
static void json_path_value(struct json_scan *js, size_t p, size_t end) {
  if (js->seg.kind == JSON_SEG_END) {
    js->found = p;
    if (end > p) js->found_len = end - p;
    else js->found_depth = js->depth + 1;  // A container: its length is taken when it closes
    js->searching = false;
  } else if (js->s[p] == '{' || js->s[p] == '[') {
    js->matched = js->depth + 1;
    js->item = 0;
  } else {
    js->searching = false;  // The path goes on into a scalar
  }
}

// Scans the value at p: a scalar whole, or a container's opening bracket.
// Returns the offset after that, or a negative MG_JSON_* code.
static long json_open_value(struct json_scan *js, size_t p) {
  size_t end = 0;
  if (p >= js->len) {
    json_fail(js, JSON_ERR_END, p);
    return MG_JSON_INVALID;
  }
  bool container = js->s[p] == '{' || js->s[p] == '[';
  if (!container && (end = json_scalar_end(js, p)) == 0) {
    json_fail(js, JSON_ERR_VALUE, p);  // Unless a string said better already
    return MG_JSON_INVALID;
  }
  if (container && js->depth >= MG_JSON_MAX_DEPTH) {
    json_fail(js, JSON_ERR_DEPTH, p);
    return MG_JSON_TOO_DEEP;
  }
  if (js->searching && js->on_path) json_path_value(js, p, end);
  if (!container) return (long) end;
  js->open[js->depth++] = js->s[p];
  return (long) p + 1;
}

// The innermost container closes with the bracket at p
static void json_close(struct json_scan *js, size_t p) {
  if (js->found_depth == js->depth) {
    js->found_len = p + 1 - js->found;
    js->found_depth = -1;
  }
  if (js->matched == js->depth) js->searching = false;  // The path's container ended without it
  js->depth--;
}

// Whether the child about to be scanned (an object member named by the string
// body key, or an array element) is the next step of the path
static void json_child(struct json_scan *js, struct mg_str key) {
  bool is_obj = js->open[js->depth - 1] == '{';
  js->on_path = false;
  if (!js->searching || js->matched != js->depth) return;
  if (is_obj ? js->seg.kind == JSON_SEG_KEY && json_name_eq(key, js->seg.name)
             : js->seg.kind == JSON_SEG_INDEX && js->seg.index == js->item) {
    js->on_path = true;
    if (json_seg_next(&js->path, &js->seg) == JSON_SEG_BAD) js->searching = false;
  }
  if (!is_obj) js->item++;
}

// An object member's name and ':' at p; the offset after them, or 0
static size_t json_member_name(struct json_scan *js, size_t p) {
  if (js->depth == 1) js->member = mg_str_n(NULL, 0);
  size_t end = json_string_end(js, p);
  if (end == 0) {
    json_fail(js, p < js->len ? JSON_ERR_NAME : JSON_ERR_END, p);
    return 0;
  }
  struct mg_str name = mg_str_n(js->s + p + 1, end - p - 2);
  if (js->depth == 1) js->member = name;
  json_child(js, name);
  end = json_ws(js, end);
  if (end < js->len && js->s[end] == ':') return end + 1;
  json_fail(js, end < js->len ? JSON_ERR_COLON : JSON_ERR_END, end);
  return 0;
}

// After a value (or an opening bracket, when opened): closes containers and takes
// the ',' and member name before the next value. 1 when a value follows at *pos,
// 0 when the outermost value has ended there, or a negative MG_JSON_* code.
static int json_after_value(struct json_scan *js, size_t *pos, bool opened) {
  size_t p = *pos;
  while (js->depth > 0) {
    bool is_obj = js->open[js->depth - 1] == '{';
    p = json_ws(js, p);
    if (p >= js->len) {
      json_fail(js, JSON_ERR_END, p);
      return MG_JSON_INVALID;
    }
    if (js->s[p] == (is_obj ? '}' : ']')) {
      json_close(js, p++);
      opened = false;
      continue;
    }
    if (!opened) {
      if (js->s[p] != ',') {
        json_fail(js, JSON_ERR_COMMA, p);
        return MG_JSON_INVALID;
      }
      p = json_ws(js, p + 1);
    }
    if (is_obj) {
      if ((p = json_member_name(js, p)) == 0) return MG_JSON_INVALID;
    } else {
      json_child(js, mg_str_n(NULL, 0));
    }
    *pos = p;
    return 1;
  }
  *pos = p;
  return 0;
}

// Scans one whole value starting at p (after any whitespace); the offset after
// it, or a negative MG_JSON_* code. No recursion: the stack is js->open.
static long json_value(struct json_scan *js, size_t p) {
  int more;
  do {
    p = json_ws(js, p);
    bool opened = p < js->len && (js->s[p] == '{' || js->s[p] == '[');
    long end = json_open_value(js, p);
    if (end < 0) return end;
    p = (size_t) end;
    more = json_after_value(js, &p, opened);
    if (more < 0) return more;
  } while (more == 1);
  return (long) p;
}

static void json_scan_init(struct json_scan *js, struct mg_str json, const char *path) {
  memset(js, 0, sizeof(*js));
  js->s = json.buf;
  js->len = json.buf == NULL ? 0 : json.len;
  js->found_depth = -1;
  js->on_path = true;
  js->path = path == NULL ? "" : path;
  js->searching = path != NULL && *js->path == '$';
  if (js->searching) {
    js->path++;
    js->searching = json_seg_next(&js->path, &js->seg) != JSON_SEG_BAD;
  }
}

int mg_json_get(struct mg_str json, const char *path, int *toklen) {
  struct json_scan js;
  if (toklen != NULL) *toklen = 0;
  if (json.len > INT_MAX) return MG_JSON_INVALID;  // Offsets are ints
  json_scan_init(&js, json, path);
  long end = json_value(&js, 0);
  if (end < 0) return (int) end;
  if (json_ws(&js, (size_t) end) != js.len) return MG_JSON_INVALID;  // Junk after the value
  if (js.found_len == 0) return MG_JSON_NOT_FOUND;
  if (toklen != NULL) *toklen = (int) js.found_len;
  return (int) js.found;
}

struct mg_str mg_json_get_tok(struct mg_str json, const char *path) {
  int len, ofs = mg_json_get(json, path, &len);
  return ofs < 0 ? mg_str_n(NULL, 0) : mg_str_n(json.buf + ofs, (size_t) len);
}

// Bytes of a member name an error message shows
enum { JSON_NAME_SHOWN = 40 };

// The fault a failed scan found, in words, all ASCII
static void json_fault_text(const struct json_scan *js, char *buf, size_t len) {
  const char *s = js->s + js->err_at;
  switch (js->err) {
    case JSON_ERR_SURROGATE: mg_snprintf(buf, len, "a lone surrogate %.6s (not a character)", s); break;
    case JSON_ERR_ESCAPE:
      if (js->err_at + 1 < js->len && s[1] > 0x20 && s[1] < 0x7f) mg_snprintf(buf, len, "an invalid escape \\%c", s[1]);
      else mg_snprintf(buf, len, "an invalid escape");
      break;
    case JSON_ERR_UTF8: mg_snprintf(buf, len, "invalid UTF-8 (byte 0x%02x)", (unsigned char) *s); break;
    case JSON_ERR_CONTROL: mg_snprintf(buf, len, "an unescaped control character (0x%02x)", (unsigned char) *s); break;
    case JSON_ERR_UNTERMINATED: mg_snprintf(buf, len, "an unterminated string"); break;
    case JSON_ERR_DEPTH: mg_snprintf(buf, len, "nested deeper than %d levels", MG_JSON_MAX_DEPTH); break;
    case JSON_ERR_COMMA:
      mg_snprintf(buf, len, "expected ',' or '%c'", js->open[js->depth - 1] == '{' ? '}' : ']');
      break;
    case JSON_ERR_NAME: mg_snprintf(buf, len, "expected a member name in quotes"); break;
    case JSON_ERR_COLON: mg_snprintf(buf, len, "expected ':'"); break;
    case JSON_ERR_JUNK: mg_snprintf(buf, len, "more after the value"); break;
    case JSON_ERR_VALUE: mg_snprintf(buf, len, "expected a value"); break;
    default: mg_snprintf(buf, len, "the text ends early"); break;
  }
}

bool mg_json_check(struct mg_str json, char *buf, size_t len) {
  struct json_scan js;
  char what[64];
  if (buf != NULL && len > 0) buf[0] = '\0';
  if (json.len > INT_MAX) {  // As mg_json_get, whose offsets are ints
    if (buf != NULL) mg_snprintf(buf, len, "longer than %d bytes", INT_MAX);
    return false;
  }
  json_scan_init(&js, json, NULL);
  long end = json_value(&js, 0);
  if (end >= 0 && json_ws(&js, (size_t) end) == js.len) return true;
  if (end >= 0) json_fail(&js, JSON_ERR_JUNK, json_ws(&js, (size_t) end));
  if (buf == NULL) return false;
  if (json_ws(&js, 0) == js.len) {
    mg_snprintf(buf, len, "empty");
    return false;
  }
  json_fault_text(&js, what, sizeof(what));
  bool in_member = js.member.buf != NULL && js.err != JSON_ERR_JUNK;
  size_t shown = in_member ? js.member.len : 0;  // A long name is cut, between UTF-8 sequences
  if (shown > JSON_NAME_SHOWN) shown = JSON_NAME_SHOWN;
  while (shown > 0 && shown < js.member.len && ((unsigned char) js.member.buf[shown] & 0xc0) == 0x80) shown--;
  mg_snprintf(buf, len, "%s at byte %lu%s%.*s%s", what, (unsigned long) js.err_at, in_member ? " in member \"" : "",
              (int) shown, in_member ? js.member.buf : "", !in_member ? "" : shown < js.member.len ? "...\"" : "\"");
  return false;
}

// Significant digits kept for strtod: beyond them a number moves by far less than an ulp
enum { JSON_DIGITS = 40, JSON_EXP_MAX = 1000000 };

static void json_exp_add(long *exp, long d) {
  *exp += d;
  if (*exp > JSON_EXP_MAX) *exp = JSON_EXP_MAX;
  if (*exp < -JSON_EXP_MAX) *exp = -JSON_EXP_MAX;
}

// The exponent of a valid number token whose 'e' is at t.buf[i], clamped
static long json_exponent(struct mg_str t, size_t i) {
  long e = 0;
  bool neg = t.buf[++i] == '-';
  if (t.buf[i] == '-' || t.buf[i] == '+') i++;
  for (; i < t.len; i++) e = e >= JSON_EXP_MAX ? JSON_EXP_MAX : e * 10 + (t.buf[i] - '0');
  return neg ? -e : e;
}

// A valid number token rewritten as "[-]DIGITSeEXP" for strtod: a bounded copy
// however long the token, and no decimal point, whose character is the locale's.
// False when it is beyond the range of a double.
static bool json_to_double(struct mg_str t, double *v) {
  char buf[JSON_DIGITS + 16];
  size_t i = 0, k = 0, sig = 0;
  long exp = 0;
  bool frac = false;
  if (t.buf[0] == '-') buf[k++] = t.buf[i++];
  for (; i < t.len && t.buf[i] != 'e' && t.buf[i] != 'E'; i++) {
    char c = t.buf[i];
    if (c == '.') {
      frac = true;
    } else if (sig == 0 && c == '0') {
      if (frac) json_exp_add(&exp, -1);  // Leading zeros only scale
    } else if (sig < JSON_DIGITS) {
      buf[k++] = c;
      sig++;
      if (frac) json_exp_add(&exp, -1);
    } else if (!frac) {
      json_exp_add(&exp, 1);  // An integer digit dropped
    }
  }
  if (i < t.len) json_exp_add(&exp, json_exponent(t, i));
  if (sig == 0) buf[k++] = '0';
  mg_snprintf(buf + k, sizeof(buf) - k, "e%ld", exp);
  double d = strtod(buf, NULL);
  if (d > DBL_MAX || d < -DBL_MAX) return false;
  *v = d;
  return true;
}

static bool json_is_number(struct mg_str t) {
  return t.buf != NULL && (t.buf[0] == '-' || json_is_digit(t.buf[0]));
}

bool mg_json_get_num(struct mg_str json, const char *path, double *v) {
  struct mg_str t = mg_json_get_tok(json, path);
  return json_is_number(t) && json_to_double(t, v);
}

bool mg_json_get_bool(struct mg_str json, const char *path, bool *v) {
  struct mg_str t = mg_json_get_tok(json, path);
  if (t.buf == NULL || (t.buf[0] != 't' && t.buf[0] != 'f')) return false;
  *v = t.buf[0] == 't';
  return true;
}

// A valid number token's value truncated toward zero, read in decimal: a double
// would round integers past 2^53. False beyond int64_t; *whole says nothing was cut.
static bool json_to_int64(struct mg_str t, int64_t *v, bool *whole) {
  bool neg = t.buf[0] == '-';
  size_t start = neg ? 1 : 0, end = start, digits = 0, frac = 0;
  long exp = 0;
  for (; end < t.len && t.buf[end] != 'e' && t.buf[end] != 'E'; end++) {
    if (t.buf[end] == '.') frac = end;
    else digits++;
  }
  if (end < t.len) json_exp_add(&exp, json_exponent(t, end));
  if (frac > 0) json_exp_add(&exp, -(long) (end - frac - 1));  // The value is DIGITS * 10^exp
  size_t keep = exp >= 0 ? digits : (size_t) -exp >= digits ? 0 : digits - (size_t) -exp;
  uint64_t u = 0, limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
  *whole = true;
  for (size_t i = start, n = 0; i < end; i++) {
    if (t.buf[i] == '.') continue;
    unsigned d = (unsigned) (t.buf[i] - '0');
    if (n++ >= keep) {
      if (d != 0) *whole = false;
    } else if (u > (limit - d) / 10) {
      return false;
    } else {
      u = u * 10 + d;
    }
  }
  for (long e = 0; u != 0 && e < exp; e++) {
    if (u > limit / 10) return false;
    u *= 10;
  }
  *v = !neg ? (int64_t) u : u == 0 ? 0 : -(int64_t) (u - 1) - 1;  // Reaches INT64_MIN without overflow
  return true;
}

long mg_json_get_long(struct mg_str json, const char *path, long dflt) {
  struct mg_str t = mg_json_get_tok(json, path);
  int64_t v;
  bool whole;  // Fractions truncate toward zero, as a C cast does
  if (!json_is_number(t) || !json_to_int64(t, &v, &whole) || v < LONG_MIN || v > LONG_MAX) return dflt;
  return (long) v;
}

bool mg_json_get_int64(struct mg_str json, const char *path, int64_t *v) {
  struct mg_str t = mg_json_get_tok(json, path);
  int64_t got;
  bool whole;
  if (!json_is_number(t) || !json_to_int64(t, &got, &whole) || !whole) return false;
  *v = got;
  return true;
}

// Unescapes the string body str into buf (NUL-terminated); *n gets the length
static bool json_unescape(struct mg_str str, char *buf, size_t len, size_t *n) {
  size_t i = 0, o = 0;
  char c[4];
  if (len > 0) buf[0] = '\0';
  while (i < str.len) {
    size_t k = json_char(str.buf, str.len, &i, c);
    if (k == 0 || len - o <= k) return false;  // Malformed, or no room for it and the NUL
    memcpy(buf + o, c, k);
    o += k;
  }
  if (o >= len) return false;
  buf[o] = '\0';
  *n = o;
  return true;
}

long mg_json_unescaped_len(struct mg_str str, bool *nul) {
  size_t i = 0, n = 0;
  char c[4];
  bool zero = false;
  while (i < str.len) {
    size_t k = json_char(str.buf, str.len, &i, c);
    if (k == 0) return -1;
    if (c[0] == '\0') zero = true;  // Only \u0000 gives a 0 byte: no UTF-8 sequence starts with one
    n += k;
  }
  if (nul != NULL) *nul = zero;
  return n > LONG_MAX ? -1 : (long) n;
}

bool mg_json_unescape_body(struct mg_str str, char *buf, size_t len) {
  size_t n;
  // A C string cannot hold \u0000: refuse rather than cut the string short
  if (!json_unescape(str, buf, len, &n) || memchr(buf, '\0', n) != NULL) {
    if (len > 0) buf[0] = '\0';
    return false;
  }
  return true;
}

size_t mg_json_unescape(struct mg_str json, const char *path, char *buf, size_t len) {
  struct mg_str t = mg_json_get_tok(json, path);
  if (len > 0) buf[0] = '\0';
  if (t.buf == NULL || t.buf[0] != '"' || !mg_json_unescape_body(mg_str_n(t.buf + 1, t.len - 2), buf, len)) {
    return 0;
  }
  return strlen(buf);  // No NUL inside: the body refuses \u0000
}

// The string at path unescaped into an allocated buffer, its length in *n
static char *json_get_string(struct mg_str json, const char *path, size_t *n) {
  struct mg_str t = mg_json_get_tok(json, path);
  char *s;
  if (t.buf == NULL || t.buf[0] != '"') return NULL;
  // Unescaping never lengthens: an escape of 2, 6 or 12 characters gives 1 to 4 bytes
  if ((s = (char *) mg_calloc(1, t.len - 1)) == NULL) return NULL;
  if (!json_unescape(mg_str_n(t.buf + 1, t.len - 2), s, t.len - 1, n)) {
    mg_free(s);
    return NULL;
  }
  return s;
}

char *mg_json_get_str(struct mg_str json, const char *path) {
  size_t n;
  char *s = json_get_string(json, path, &n);
  if (s != NULL && memchr(s, '\0', n) != NULL) {  // \u0000 would cut it short
    mg_free(s);
    s = NULL;
  }
  return s;
}

// Pairs of hex digits into bytes; the number of bytes, or false
static bool json_unhex(const char *s, size_t n, char *out, size_t *len) {
  uint64_t v = 0;
  if (n % 2 != 0) return false;
  for (size_t i = 0; i < n; i += 2) {
    if (!mg_str_to_u64(mg_str_n(s + i, 2), 16, &v)) return false;
    out[i / 2] = (char) v;
  }
  *len = n / 2;
  return true;
}

// The string at path, unescaped, then decoded from hex or base64 into an allocated,
// NUL-terminated buffer; its length in *len
static char *json_get_decoded(struct mg_str json, const char *path, int *len, bool hex) {
  size_t n, out = 0;
  char *s = json_get_string(json, path, &n), *d = NULL;
  if (len != NULL) *len = 0;
  if (s == NULL) return NULL;
  size_t cap = hex ? n / 2 + 1 : n / 4 * 3 + 1;
  if (n <= INT_MAX && (d = (char *) mg_calloc(1, cap)) != NULL) {
    bool ok = hex ? json_unhex(s, n, d, &out) : (out = mg_base64_decode(s, n, d, cap)) > 0 || n == 0;
    if (!ok) {
      mg_free(d);
      d = NULL;
    }
  }
  mg_free(s);
  if (d != NULL && len != NULL) *len = (int) out;
  return d;
}

char *mg_json_get_hex(struct mg_str json, const char *path, int *len) {
  return json_get_decoded(json, path, len, true);
}

char *mg_json_get_b64(struct mg_str json, const char *path, int *len) {
  return json_get_decoded(json, path, len, false);
}

// Each call scans one member; the whole container is validated when the walk starts
size_t mg_json_next(struct mg_str obj, size_t ofs, struct mg_str *key, struct mg_str *val) {
  struct json_scan js;
  struct mg_str k = mg_str_n(NULL, 0);
  json_scan_init(&js, obj, NULL);
  size_t p = json_ws(&js, 0);
  if (p >= js.len || (js.s[p] != '{' && js.s[p] != '[')) return 0;
  bool is_obj = js.s[p] == '{';
  if (ofs == 0) {
    if (mg_json_get(obj, "$", NULL) < 0) return 0;
    p = json_ws(&js, p + 1);
    if (p < js.len && js.s[p] == (is_obj ? '}' : ']')) return 0;
  } else {
    p = json_ws(&js, ofs);
    if (p >= js.len || js.s[p] != ',') return 0;  // The closing bracket, or junk
    p = json_ws(&js, p + 1);
  }
  if (is_obj) {
    size_t end = json_string_end(&js, p);
    if (end == 0) return 0;
    k = mg_str_n(js.s + p, end - p);
    p = json_ws(&js, end);
    if (p >= js.len || js.s[p] != ':') return 0;
    p = json_ws(&js, p + 1);
  }
  long end = json_value(&js, p);
  if (end < 0) return 0;
  if (key != NULL) *key = k;
  if (val != NULL) *val = mg_str_n(js.s + p, (size_t) end - p);
  return (size_t) end;
}
