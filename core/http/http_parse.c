// HTTP/1.1 message syntax (RFC 9112) as pure functions over a buffer: request and
// status lines, header fields, body framing (6.3) and the chunked coding (7.1).
#include "mg_internal.h"
#include "http/http_internal.h"

// Character classes, one table lookup per byte on the hot paths.
enum {
  HTTP_PARSE_TOKEN = 1,   // tchar (RFC 9110 5.6.2): methods, field names
  HTTP_PARSE_TEXT = 2,    // HT, SP, VCHAR, obs-text: field values, reason phrase, chunk-ext
  HTTP_PARSE_TARGET = 4,  // VCHAR, obs-text: request-target (no SP, no controls)
};

static const unsigned char http_parse_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,  // 0x00
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 0x10
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,  // 0x20
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,  // 0x30
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // 0x40
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,  // 0x50
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,  // 0x60
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,  // 0x70
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0x80
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0x90
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xA0
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xB0
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xC0
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xD0
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xE0
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,  // 0xF0
};

static bool http_parse_is(char c, int cls) {
  return (http_parse_class[(unsigned char) c] & cls) != 0;
}

// Skip 8 bytes at a time while none is a control below `lo` (0x20 or 0x21) or
// DEL: values, targets and whole heads are mostly such runs. On a word w,
// (w - lo * ones) & ~w & highs flags bytes below lo (lo <= 0x80); the same on
// w ^ DELs flags DEL. Borrows only flag bytes above a truly flagged one, so the
// lowest flag is exact: on little-endian GCC/clang targets we stop right at it,
// elsewhere at the start of the word and let the caller go byte by byte.
static const char *http_parse_skip_plain(const char *p, const char *end, unsigned lo) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  const uint64_t dels = ones * 0x7f, lows = ones * lo;
  while (end - p >= 8) {
    uint64_t w, x, flags;
    memcpy(&w, p, sizeof(w));  // unaligned load, one instruction on common targets
    x = w ^ dels;
    flags = (((w - lows) & ~w) | ((x - ones) & ~x)) & highs;
    if (flags != 0) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      p += __builtin_ctzll(flags) / 8;
#endif
      break;
    }
    p += 8;
  }
  return p;
}

// The helpers below share one convention: 1 done (*pp advanced), 0 the buffer
// ends first, negative (MG_HTTP_ERR_*) the bytes so far can never be valid.
// Reporting errors as soon as they are visible lets callers drop junk early.

// At a CR or LF: step over the line end. A bare LF is accepted (RFC 9112 2.2),
// a CR not followed by LF is not.
static int http_parse_eol(const char **pp, const char *end) {
  const char *p = *pp;
  if (*p == '\r') {
    if (++p == end) return 0;
    if (*p != '\n') return MG_HTTP_ERR_MALFORMED;
  }
  *pp = p + 1;
  return 1;
}

// Scan a run of class cls; done only if a line end follows, which is consumed.
static int http_parse_rest_of_line(const char **pp, const char *end, int cls, const char **stop) {
  const char *p = cls == 0 ? *pp : http_parse_skip_plain(*pp, end, 0x20);
  while (p < end && http_parse_is(*p, cls)) p++;
  if (p == end) return 0;
  if (*p != '\r' && *p != '\n') return MG_HTTP_ERR_MALFORMED;
  *stop = p;
  int r = http_parse_eol(&p, end);
  if (r > 0) *pp = p;
  return r;
}

// "HTTP/" DIGIT "." DIGIT, checked byte by byte so that any prefix is incomplete.
static int http_parse_version(const char **pp, const char *end, struct mg_str *proto) {
  static const char pattern[] = "HTTP/#.#";
  const char *p = *pp;
  for (size_t i = 0; i < sizeof(pattern) - 1; i++, p++) {
    if (p == end) return 0;
    bool ok = pattern[i] == '#' ? (*p >= '0' && *p <= '9') : *p == pattern[i];
    if (!ok) return MG_HTTP_ERR_MALFORMED;
  }
  *proto = mg_str_n(*pp, sizeof(pattern) - 1);
  *pp = p;
  return 1;
}

// Absolute-form (RFC 9112 3.2.2, what proxies' clients send): the length of
// "http[s]://authority" before the path, 0 for other forms, -1 without a host
// (RFC 9110 4.2.1). The authority itself is read back from hm->uri's left side.
static int http_parse_authority(const char *t, size_t len) {
  size_t scheme = len >= 7 && mg_ncasecmp(t, "http://", 7) == 0     ? 7
                  : len >= 8 && mg_ncasecmp(t, "https://", 8) == 0 ? 8
                                                                   : 0;
  size_t end = scheme;
  if (scheme == 0) return 0;
  while (end < len && t[end] != '/' && t[end] != '?') end++;
  if (end == scheme || end > 0x7fff) return -1;
  return (int) end;
}

// method SP request-target SP HTTP-version CRLF (RFC 9112 3). Single spaces only:
// lenient word splitting is what request smuggling feeds on.
static int http_parse_request_line(const char **pp, const char *end, struct mg_http_message *hm) {
  const char *p = *pp, *start = p;
  while (p < end && http_parse_is(*p, HTTP_PARSE_TOKEN)) p++;
  if (p == end) return 0;
  if (*p != ' ' || p == start) return MG_HTTP_ERR_MALFORMED;
  hm->method = mg_str_n(start, (size_t) (p - start));

  start = ++p;
  p = http_parse_skip_plain(p, end, 0x21);
  while (p < end && http_parse_is(*p, HTTP_PARSE_TARGET)) p++;
  if (p == end) return 0;
  if (*p != ' ' || p == start) return MG_HTTP_ERR_MALFORMED;
  size_t target_len = (size_t) (p - start);
  int skip = http_parse_authority(start, target_len);
  if (skip < 0) return MG_HTTP_ERR_MALFORMED;
  start += skip, target_len -= (size_t) skip;
  const char *qmark = (const char *) memchr(start, '?', target_len);
  if (skip > 0 && (target_len == 0 || start[0] == '?')) {  // "http://host" or "http://host?q": the path is "/"
    hm->uri = mg_str("/");
    hm->query = qmark == NULL ? mg_str_n(p, 0) : mg_str_n(qmark + 1, (size_t) (p - qmark - 1));
  } else if (qmark == NULL) {
    hm->uri = mg_str_n(start, target_len);
    hm->query = mg_str_n(p, 0);
  } else {
    hm->uri = mg_str_n(start, (size_t) (qmark - start));
    hm->query = mg_str_n(qmark + 1, (size_t) (p - qmark - 1));
  }

  p++;
  int r = http_parse_version(&p, end, &hm->proto);
  if (r <= 0) return r;
  const char *stop;
  r = http_parse_rest_of_line(&p, end, 0, &stop);  // nothing may follow the version
  if (r > 0) *pp = p;
  return r;
}

// HTTP-version SP 3DIGIT SP [reason-phrase] CRLF (RFC 9112 4). The SP before an
// empty reason is optional: plenty of servers leave it out. The three parts go
// where Mongoose puts them: version in method, code in uri, reason in proto.
static int http_parse_status_line(const char **pp, const char *end, struct mg_http_message *hm) {
  const char *p = *pp;
  int r = http_parse_version(&p, end, &hm->method);
  if (r <= 0) return r;
  if (p == end) return 0;
  if (*p++ != ' ') return MG_HTTP_ERR_MALFORMED;
  for (int i = 0; i < 3; i++, p++) {
    if (p == end) return 0;
    if (*p < '0' || *p > '9') return MG_HTTP_ERR_MALFORMED;
  }
  hm->uri = mg_str_n(p - 3, 3);
  if (p == end) return 0;
  if (*p == ' ') p++;
  else if (*p != '\r' && *p != '\n') return MG_HTTP_ERR_MALFORMED;
  const char *reason = p, *stop;
  r = http_parse_rest_of_line(&p, end, HTTP_PARSE_TEXT, &stop);
  if (r <= 0) return r;
  hm->proto = mg_str_n(reason, (size_t) (stop - reason));
  hm->query = mg_str_n(stop, 0);
  *pp = p;
  return 1;
}

// A request method is a token, which has no '/': only a status line starts "HTTP/"
bool mg_http_is_response(const struct mg_http_message *hm) {
  return hm != NULL && hm->method.len >= 5 && memcmp(hm->method.buf, "HTTP/", 5) == 0;
}

// field-name ":" OWS field-value OWS CRLF (RFC 9112 5). No space before the colon
// (5.1); the value may hold HT, SP, VCHAR and obs-text, and is stored trimmed.
static int http_parse_field_line(const char **pp, const char *end, struct mg_http_header *h) {
  const char *p = *pp, *start = p;
  while (p < end && http_parse_is(*p, HTTP_PARSE_TOKEN)) p++;
  if (p == end) return 0;
  if (*p != ':' || p == start) return MG_HTTP_ERR_MALFORMED;
  h->name = mg_str_n(start, (size_t) (p - start));
  p++;
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  const char *value = p, *stop;
  int r = http_parse_rest_of_line(&p, end, HTTP_PARSE_TEXT, &stop);
  if (r <= 0) return r;
  while (stop > value && (stop[-1] == ' ' || stop[-1] == '\t')) stop--;
  h->value = mg_str_n(value, (size_t) (stop - value));
  *pp = p;
  return 1;
}

// Field lines up to and including the empty line. hdrs == NULL only validates
// (chunked trailers). A line starting with SP/HT is obsolete line folding, or
// whitespace after the start line: both rejected (RFC 9112 2.2, 5.2).
static int http_parse_fields(const char **pp, const char *end, struct mg_http_header *hdrs,
                             size_t max, size_t *n) {
  struct mg_http_header scratch;
  const char *p = *pp;
  int r;
  for (;;) {
    if (p == end) return 0;
    if (*p == '\r' || *p == '\n') {
      r = http_parse_eol(&p, end);
      if (r > 0) *pp = p;
      return r;
    }
    if (*p == ' ' || *p == '\t') return MG_HTTP_ERR_MALFORMED;
    if (hdrs != NULL && *n >= max) return MG_HTTP_ERR_TOO_MANY_HEADERS;
    r = http_parse_field_line(&p, end, hdrs == NULL ? &scratch : &hdrs[*n]);
    if (r <= 0) return r;
    (*n)++;
  }
}

static int http_parse_head(const char *buf, size_t len, struct mg_http_message *hm, size_t *n) {
  // The result is an int: a head that cannot fit one is never complete.
  const char *p = buf, *end = buf + (len > INT_MAX ? INT_MAX : len);
  int r;
  // Empty lines before the start line are skipped (RFC 9112 2.2) but counted.
  while (p < end && (*p == '\r' || *p == '\n')) {
    if ((r = http_parse_eol(&p, end)) <= 0) return r;
  }
  if (end - p >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    r = http_parse_status_line(&p, end, hm);
  } else {
    r = http_parse_request_line(&p, end, hm);  // "HTTP/" prefixes stay incomplete here
  }
  if (r <= 0) return r;
  r = http_parse_fields(&p, end, hm->headers, MG_MAX_HTTP_HEADERS, n);
  if (r <= 0) return r;
  return (int) (p - buf);
}

// Finds the end of the head without splitting it into fields: skips leading empty
// lines, then looks for an empty line, rejecting bytes no head may contain
// (controls other than HT/CR/LF, DEL, CR without LF). Whenever mg_http_parse
// succeeds this returns the same length.
int mg_http_get_request_len(const unsigned char *buf, size_t len) {
  size_t n = len > INT_MAX ? INT_MAX : len, i = 0;
  if (buf == NULL) return 0;
  for (; i < n && (buf[i] == '\r' || buf[i] == '\n'); i++) {
    if (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n') return -1;
    if (buf[i] == '\r' && i + 1 < n) i++;
  }
  while (i < n) {
    i = (size_t) (http_parse_skip_plain((const char *) buf + i, (const char *) buf + n, 0x20) -
                  (const char *) buf);
    if (i == n) break;
    unsigned char c = buf[i];
    if ((c >= 0x20 && c != 0x7f) || c == '\t') {
      // plain byte (the word skip stops early on tabs and tails)
    } else if (c == '\r') {
      if (i + 1 < n && buf[i + 1] != '\n') return -1;
    } else if (c != '\n') {
      return -1;
    } else if (i + 1 < n && buf[i + 1] == '\n') {
      return (int) (i + 2);
    } else if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
      return (int) (i + 3);
    }
    i++;
  }
  return len > INT_MAX ? -1 : 0;
}

bool mg_http_name_is(struct mg_str name, const char *lower, size_t n) {
  return name.len == n && mg_ncasecmp(name.buf, lower, n) == 0;
}

// Transfer-Encoding codings across all its field lines, in order (RFC 9112 6.1).
struct http_parse_te {
  bool seen, last_is_chunked;
  int chunked_count;
};

static void http_parse_te_add(struct http_parse_te *te, struct mg_str value) {
  struct mg_str item, rest = value;
  te->seen = true;
  while (mg_span(rest, &item, &rest, ',')) {
    item = mg_str_trim(item);
    if (item.len == 0) continue;  // empty list elements do not count (RFC 9110 5.6.1)
    te->last_is_chunked = mg_http_name_is(item, "chunked", 7);
    if (te->last_is_chunked) te->chunked_count++;
  }
}

// Content-Length: 1*DIGIT, possibly repeated as a list or in several field lines;
// every copy must carry the same value (RFC 9110 8.6). False if not.
static bool http_parse_cl_add(struct mg_str value, bool *seen, uint64_t *cl) {
  struct mg_str item, rest = value;
  uint64_t v;
  if (value.len == 0) return false;
  while (mg_span(rest, &item, &rest, ',')) {
    if (!mg_str_to_u64(mg_str_trim(item), 10, &v)) return false;
    if (*seen && v != *cl) return false;
    *seen = true, *cl = v;
  }
  // "5," leaves an empty element that mg_span never hands back
  return value.buf[value.len - 1] != ',';
}

// The framing fields of a message: its Transfer-Encoding codings and its one
// Content-Length. False if a Content-Length is malformed or two disagree.
static bool http_parse_framing(const struct mg_http_message *hm, struct http_parse_te *te, bool *has_cl,
                               uint64_t *cl) {
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    const struct mg_http_header *h = &hm->headers[i];
    if (mg_http_name_is(h->name, "transfer-encoding", 17)) {
      http_parse_te_add(te, h->value);
    } else if (mg_http_name_is(h->name, "content-length", 14)) {
      if (!http_parse_cl_add(h->value, has_cl, cl)) return false;
    }
  }
  return true;
}

// RFC 9112 6.3, in its order: bodiless responses, then TE and CL conflicts, then
// chunked, then Content-Length, then the default for requests and responses.
enum mg_http_body_kind mg_http_body_kind(const struct mg_http_message *hm, bool is_response,
                                         bool is_response_to_head, uint64_t *content_length) {
  struct http_parse_te te = {false, false, 0};
  bool has_cl = false;
  uint64_t cl = 0;
  if (hm == NULL) return MG_HTTP_BODY_INVALID;
  if (is_response) {
    int status = mg_http_status(hm);
    if (is_response_to_head || (status >= 100 && status < 200) || status == 204 || status == 304) {
      return MG_HTTP_BODY_NONE;
    }
  }
  if (!http_parse_framing(hm, &te, &has_cl, &cl)) return MG_HTTP_BODY_INVALID;
  if (te.seen && has_cl) return MG_HTTP_BODY_INVALID;  // the smuggling classic
  if (te.seen) {
    if (te.last_is_chunked && te.chunked_count == 1) return MG_HTTP_BODY_CHUNKED;
    // A request without chunked last has no knowable length; chunked applied twice is invalid.
    if (!is_response || te.chunked_count > 1) return MG_HTTP_BODY_INVALID;
    return MG_HTTP_BODY_TO_CLOSE;
  }
  if (has_cl) {
    if (content_length != NULL) *content_length = cl;
    return MG_HTTP_BODY_LENGTH;
  }
  return is_response ? MG_HTTP_BODY_TO_CLOSE : MG_HTTP_BODY_NONE;
}

// The body as Mongoose reports it, after a head of head_len bytes: a valid
// Content-Length (which may exceed what is buffered: message and body can extend
// past the input; one too big for size_t is clamped, which still reads as "too
// large" to any limit), "until close" (body.len SIZE_MAX, message the head alone)
// for a response that has neither a length nor the chunked coding, else 0. A
// malformed or twice different Content-Length fails the parse: whoever frames
// messages with this parser, a server or a proxy, must not be open to smuggling.
static int http_parse_body(const char *buf, size_t head_len, struct mg_http_message *hm) {
  uint64_t cl = 0, room = SIZE_MAX - head_len;
  enum mg_http_body_kind kind = mg_http_body_kind(hm, mg_http_is_response(hm), false, &cl);
  if (kind == MG_HTTP_BODY_INVALID) {  // Rare: is a Content-Length the reason?
    struct http_parse_te te = {false, false, 0};
    bool has_cl = false;
    if (!http_parse_framing(hm, &te, &has_cl, &cl)) return MG_HTTP_ERR_MALFORMED;
  }
  hm->head = mg_str_n(buf, head_len);
  hm->body = mg_str_n(buf + head_len, 0);
  if (kind == MG_HTTP_BODY_LENGTH) hm->body.len = cl > room ? (size_t) room : (size_t) cl;
  hm->message = mg_str_n(buf, head_len + hm->body.len);
  if (kind == MG_HTTP_BODY_TO_CLOSE) hm->body.len = SIZE_MAX;
  return (int) head_len;
}

// hm->head starts at buf (including any skipped empty lines) so that head.len,
// the return value and message.len - body.len (but for an "until close" body) all
// count the same bytes. On 0 or an error, only the unused header slots are
// guaranteed to be zero. Empty slices point into buf rather than being NULL:
// consumers may hand them to memcpy and friends, where a NULL pointer is
// undefined even with length 0.
int mg_http_parse(const char *buf, size_t len, struct mg_http_message *hm) {
  struct mg_http_message scratch;
  struct mg_str empty = mg_str_n(buf, 0);
  size_t n = 0;
  int r = 0;
  if (hm == NULL) hm = &scratch;
  hm->method = hm->uri = hm->query = hm->proto = empty;
  hm->body = hm->head = hm->chunk = hm->message = empty;
  if (buf != NULL) r = http_parse_head(buf, len, hm, &n);
  if (r == 0 && len > INT_MAX) r = MG_HTTP_ERR_MALFORMED;
  memset(&hm->headers[n], 0, (MG_MAX_HTTP_HEADERS - n) * sizeof(hm->headers[0]));
  if (r > 0) r = http_parse_body(buf, (size_t) r, hm);
  return r;
}

static int http_parse_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk = 1*"0" [ chunk-ext ]
// CRLF trailer-section CRLF. Extensions are skipped (still no controls) and
// trailers validated like header lines. The whole span must fit the long we
// return, which bounds a chunk to LONG_MAX minus its framing (2^31 - small on
// 32-bit longs): larger sizes are malformed rather than silently wrapped.
// *data_ofs / *data_len are set as soon as the size line is complete, even when
// 0 is returned, so a caller can stream a chunk larger than its buffer.
static long http_parse_chunk_in(const char *buf, const char *end, size_t *data_ofs,
                               size_t *data_len) {
  const char *p = buf, *blanks;
  uint64_t size = 0;
  int d, r;
  for (; p < end && (d = http_parse_hex_digit(*p)) >= 0; p++) {
    if (size > ((uint64_t) LONG_MAX >> 4)) return -1;
    size = size * 16 + (uint64_t) d;
  }
  if (p == end) return 0;
  if (p == buf) return -1;
  for (blanks = p; p < end && (*p == ' ' || *p == '\t');) p++;
  if (p == end) return 0;
  if (*p == ';') {
    for (p++; p < end && http_parse_is(*p, HTTP_PARSE_TEXT);) p++;
    if (p == end) return 0;
  } else if (p != blanks) {
    return -1;  // blanks are only allowed before a ';' (BWS)
  }
  if (*p != '\r' && *p != '\n') return -1;
  if ((r = http_parse_eol(&p, end)) <= 0) return r < 0 ? -1 : 0;

  size_t ofs = (size_t) (p - buf);
  if (ofs > LONG_MAX - 2 || size > (uint64_t) (LONG_MAX - 2 - ofs)) return -1;
  if (data_ofs != NULL) *data_ofs = ofs;
  if (data_len != NULL) *data_len = (size_t) size;
  if (size > 0) {
    if ((uint64_t) (end - p) <= size) return 0;  // data plus at least one byte after it
    p += size;
    if (*p != '\r' && *p != '\n') return -1;
    r = http_parse_eol(&p, end);
  } else {
    size_t ntrailers = 0;
    r = http_parse_fields(&p, end, NULL, 0, &ntrailers);
  }
  return r <= 0 ? (r < 0 ? -1 : 0) : (long) (p - buf);
}

long mg_http_parse_chunk(const char *buf, size_t len, size_t *data_ofs, size_t *data_len) {
  if (buf == NULL) return 0;
  long r = http_parse_chunk_in(buf, buf + (len > LONG_MAX ? LONG_MAX : len), data_ofs, data_len);
  return r == 0 && len > LONG_MAX ? -1 : r;  // a span that cannot fit a long never completes
}

struct mg_str *mg_http_get_header(struct mg_http_message *hm, const char *name) {
  if (hm == NULL || name == NULL) return NULL;
  size_t n = strlen(name);
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    if (mg_http_name_is(hm->headers[i].name, name, n)) return &hm->headers[i].value;
  }
  return NULL;
}

int mg_http_status(const struct mg_http_message *hm) {
  int status = 0;
  if (hm == NULL || hm->uri.buf == NULL || hm->uri.len != 3) return 0;
  for (size_t i = 0; i < 3; i++) {
    char c = hm->uri.buf[i];
    if (c < '0' || c > '9') return 0;
    status = status * 10 + (c - '0');
  }
  return status;
}
