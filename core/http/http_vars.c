// Request variables: percent-decoding, query/form variables, header parameters
// (Cookie, Content-Disposition), the host a Host names and the credentials a request carries.
#include "meerkat.h"

static int http_vars_hex(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decode src into dst, writing only what fits (leaving room for the NUL).
// Returns the decoded length, or -1 on a bad escape or if dst (or int) is too
// small. dst is "" on error.
int mg_url_decode(const char *src, size_t src_len, char *dst, size_t dst_len, int is_form) {
  size_t n = 0;
  if (dst == NULL || dst_len == 0) dst_len = 0;
  if (src == NULL) src_len = 0;
  for (size_t i = 0; i < src_len; i++, n++) {
    unsigned char c = (unsigned char) src[i];
    if (c == '%') {
      if (src_len - i < 3) goto bad_escape;
      int hi = http_vars_hex((unsigned char) src[i + 1]), lo = http_vars_hex((unsigned char) src[i + 2]);
      if (hi < 0 || lo < 0) goto bad_escape;
      c = (unsigned char) (hi << 4 | lo);
      i += 2;
    } else if (c == '+' && is_form != 0) {
      c = ' ';
    }
    if (n + 1 < dst_len) dst[n] = (char) c;
  }
  if (n >= dst_len || n > INT_MAX) {
    if (dst_len > 0) dst[0] = '\0';
    return -1;
  }
  dst[n] = '\0';
  return (int) n;
bad_escape:
  if (dst_len > 0) dst[0] = '\0';
  return -1;
}

// Find name (case-insensitive, as Mongoose does) in "k1=v1&k2=v2". A pair without
// '=' counts as present with an empty value. Found: the raw value (inside buf);
// absent: {NULL, 0}.
struct mg_str mg_http_var(struct mg_str buf, struct mg_str name) {
  struct mg_str pair, rest = buf, key, value, absent = MG_NULL_STR;
  if (buf.buf == NULL || name.buf == NULL || name.len == 0) return absent;
  while (mg_span(rest, &pair, &rest, '&')) {
    if (pair.len == 0) continue;  // "&&": mg_span would leave key unset
    mg_span(pair, &key, &value, '=');
    if (mg_strcasecmp(key, name) == 0) return value;
  }
  return absent;
}

// Mongoose 7.22's codes: the source first, then the destination, then the lookup
int mg_http_get_var(const struct mg_str *buf, const char *name, char *dst, size_t dst_len) {
  bool dst_ok = dst != NULL && dst_len > 0;
  if (dst_ok) dst[0] = '\0';
  if (buf == NULL || buf->buf == NULL || buf->len == 0 || name == NULL) return MG_HTTP_VAR_BAD_SOURCE;
  if (!dst_ok) return MG_HTTP_VAR_BAD_DESTINATION;
  struct mg_str value = mg_http_var(*buf, mg_str(name));
  if (value.buf == NULL) return MG_HTTP_VAR_ABSENT;
  int n = mg_url_decode(value.buf, value.len, dst, dst_len, 1);
  return n < 0 ? MG_HTTP_VAR_UNDECODABLE : n;
}

// Parameters are separated by ';' (Cookie, Content-Disposition) or ',' (the
// auth-params of "Digest a=1, b=\"x\""); a value may be a quoted-string, whose
// content (escapes left as they are) is returned. Separators inside quotes do not
// split. A quote that is never closed is no quoted-string: the value is read as
// an unquoted one, opening quote included (as Mongoose 7.22 returns it).
static bool http_vars_is_sep(char c) {
  return c == ';' || c == ',';
}

// The quote closing the quoted-string that opens at s[open], or 0 if none does
static size_t http_vars_closing_quote(struct mg_str s, size_t open) {
  size_t i = open + 1;
  while (i < s.len && s.buf[i] != '"') i += s.buf[i] == '\\' ? 2 : 1;
  return i < s.len ? i : 0;
}

struct mg_str mg_http_get_header_var(struct mg_str header, struct mg_str var) {
  struct mg_str absent = MG_NULL_STR;
  if (header.buf == NULL || var.buf == NULL || var.len == 0) return absent;
  size_t i = 0;
  while (i < header.len) {
    // Key: up to '=' or ';', blanks trimmed
    size_t key_start = i;
    while (i < header.len && header.buf[i] != '=' && !http_vars_is_sep(header.buf[i])) i++;
    struct mg_str key = mg_str_trim(mg_str_n(header.buf + key_start, i - key_start));
    // "Digest username=...": the auth scheme before the first parameter is not part of its name
    for (size_t k = key.len; k > 0; k--) {
      if (key.buf[k - 1] == ' ' || key.buf[k - 1] == '\t') {
        key = mg_str_n(key.buf + k, key.len - k);
        break;
      }
    }
    struct mg_str value = mg_str_n(header.buf + i, 0);
    if (i < header.len && header.buf[i] == '=') {
      i++;
      while (i < header.len && (header.buf[i] == ' ' || header.buf[i] == '\t')) i++;
      size_t close = i < header.len && header.buf[i] == '"' ? http_vars_closing_quote(header, i) : 0;
      if (close > 0) {
        value = mg_str_n(header.buf + i + 1, close - i - 1);
        i = close + 1;
        while (i < header.len && !http_vars_is_sep(header.buf[i])) i++;  // Junk after the quote is ignored
      } else {
        size_t start = i;
        while (i < header.len && !http_vars_is_sep(header.buf[i])) i++;
        value = mg_str_trim(mg_str_n(header.buf + start, i - start));
      }
    }
    if (mg_strcmp(key, var) == 0) return value;
    i++;  // Skip the separator
  }
  return absent;
}

// RFC 3986 unreserved characters and '%' (of pct-encoded, a zone ID's "%25"); ':' in an IPv6 literal
static bool http_vars_host_char(char c, bool literal) {
  return isalnum((unsigned char) c) || (c != '\0' && strchr("-._~%", c) != NULL) || (literal && c == ':');
}

bool mg_http_host_name(struct mg_str v, struct mg_str *host) {
  bool literal = v.len > 0 && v.buf[0] == '[';
  size_t end = literal ? 1 : 0;
  while (end < v.len && http_vars_host_char(v.buf[end], literal)) end++;
  if (literal) {
    if (end == v.len || v.buf[end] != ']') return false;
    end++;
  }
  if (end < v.len) {  // ":" and a port of 1..5 digits
    if (v.buf[end] != ':' || v.len - end - 1 < 1 || v.len - end - 1 > 5) return false;
    for (size_t i = end + 1; i < v.len; i++) {
      if (!isdigit((unsigned char) v.buf[i])) return false;
    }
  }
  *host = mg_str_n(v.buf, end);
  if (host->len > 1 && host->buf[host->len - 1] == '.') host->len--;  // "localhost." is localhost
  return host->len > (literal ? 2 : 0);
}

// Copy a slice as a C string; false (dst "") if it does not fit.
static bool http_vars_copy(struct mg_str s, char *dst, size_t dst_len) {
  if (dst == NULL || dst_len == 0) return s.len == 0;
  if (s.len >= dst_len) {
    dst[0] = '\0';
    return false;
  }
  if (s.len > 0) memcpy(dst, s.buf, s.len);
  dst[s.len] = '\0';
  return true;
}

// "Basic base64(user:pass)" (RFC 7617). The decoded bytes are streamed into
// user and pass one base64 group at a time, so no scratch buffer limits them.
// Malformed base64, a missing ':', a control character or a value that does
// not fit gives false: a truncated credential is never reported.
static bool http_vars_basic(struct mg_str b64, char *user, size_t userlen, char *pass,
                            size_t passlen) {
  size_t nu = 0, np = 0;
  bool in_pass = false;
  if (userlen == 0 || passlen == 0 || b64.len % 4 != 0) return false;
  for (size_t i = 0; i < b64.len; i += 4) {
    char group[4];
    bool last = i + 4 == b64.len;
    // Padding may only end the whole input, not a group in the middle
    if (!last && (b64.buf[i + 2] == '=' || b64.buf[i + 3] == '=')) return false;
    size_t n = mg_base64_decode(b64.buf + i, 4, group, sizeof(group));
    if (n == 0) return false;
    for (size_t k = 0; k < n; k++) {
      unsigned char c = (unsigned char) group[k];
      if (c < 0x20 || c == 0x7f) return false;
      if (c == ':' && !in_pass) {
        in_pass = true;
      } else if (!in_pass) {
        if (nu + 1 >= userlen) return false;
        user[nu++] = (char) c;
      } else {
        if (np + 1 >= passlen) return false;
        pass[np++] = (char) c;
      }
    }
  }
  if (!in_pass) return false;
  user[nu] = '\0';
  pass[np] = '\0';
  return true;
}

// Authorization "Scheme credentials": true and the credentials if the scheme
// (case-insensitive, RFC 9110 11.1) is the one asked for.
static bool http_vars_auth_scheme(struct mg_str auth, const char *scheme, struct mg_str *creds) {
  size_t n = strlen(scheme);
  if (auth.len <= n || mg_ncasecmp(auth.buf, scheme, n) != 0 || auth.buf[n] != ' ') return false;
  *creds = mg_str_trim(mg_str_n(auth.buf + n, auth.len - n));
  return true;
}

void mg_http_creds(struct mg_http_message *hm, char *user, size_t userlen, char *pass,
                   size_t passlen) {
  if (user == NULL) userlen = 0;
  if (pass == NULL) passlen = 0;
  if (userlen > 0) user[0] = '\0';
  if (passlen > 0) pass[0] = '\0';
  if (hm == NULL) return;
  // Mongoose's documented order: Authorization, the access_token cookie, the query
  struct mg_str *auth = mg_http_get_header(hm, "Authorization"), creds;
  struct mg_str *cookie = mg_http_get_header(hm, "Cookie"), cookie_token = MG_NULL_STR;
  if (cookie != NULL) cookie_token = mg_http_get_header_var(*cookie, mg_str("access_token"));
  if (auth != NULL && http_vars_auth_scheme(*auth, "Basic", &creds)) {
    if (!http_vars_basic(creds, user, userlen, pass, passlen)) {
      if (userlen > 0) user[0] = '\0';
      if (passlen > 0) pass[0] = '\0';
    }
  } else if (auth != NULL && http_vars_auth_scheme(*auth, "Bearer", &creds)) {
    http_vars_copy(creds, pass, passlen);
  } else if (cookie_token.buf != NULL) {
    http_vars_copy(cookie_token, pass, passlen);
  } else if (mg_http_var(hm->query, mg_str("access_token")).buf != NULL) {
    mg_http_get_var(&hm->query, "access_token", pass, passlen);  // pass is "" on error
  }
}

// A decimal number of 1 to 20 digits that fits 64 bits, at s[*i]; *i moves past it
static bool http_vars_u64(struct mg_str s, size_t *i, uint64_t *out) {
  uint64_t v = 0;
  size_t start = *i;
  for (; *i < s.len && s.buf[*i] >= '0' && s.buf[*i] <= '9'; (*i)++) {
    unsigned d = (unsigned) (s.buf[*i] - '0');
    if (*i - start >= 20 || v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return *i > start;
}

bool mg_http_parse_content_range(struct mg_str v, uint64_t *first, uint64_t *last, uint64_t *total) {
  static const char unit[] = "bytes ";
  size_t i = sizeof(unit) - 1;
  uint64_t a, b, t;
  if (v.len < i || memcmp(v.buf, unit, i) != 0) return false;
  if (!http_vars_u64(v, &i, &a) || i >= v.len || v.buf[i++] != '-') return false;
  if (!http_vars_u64(v, &i, &b) || i >= v.len || v.buf[i++] != '/') return false;
  if (!http_vars_u64(v, &i, &t) || i != v.len || a > b || b >= t) return false;
  *first = a;
  *last = b;
  *total = t;
  return true;
}
