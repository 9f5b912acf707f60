// Static files over any mg_fs: path mapping under a root that cannot be
// escaped, conditional requests (RFC 9110 13), single byte ranges,
// directory indexes and listings, and streaming of files too big to queue
// (pages with server-side includes: http_ssi.c).
#include "mg_internal.h"
#include "http/http_internal.h"

#define SERVE_INLINE_MAX (16 * 1024)  // Files up to this size are queued in one go
#define SERVE_PIECE (16 * 1024)       // Larger ones are topped up this much at a time
#define SERVE_INDEX_ROOM sizeof("/" MG_HTTP_INDEX)  // Kept free in path buffers for the index

// RFC 9110 5.6.7 IMF-fixdate, computed without gmtime() (not on every device)

// Does an entity-tag list name this ETag? Weak comparison (If-None-Match) ignores
// a W/ prefix; strong comparison (If-Match) never matches a weak tag (RFC 9110 8.8.3.2)
static bool serve_etag_listed(struct mg_str list, const char *etag, bool strong) {
  struct mg_str tag, rest = list, want = mg_str(etag);
  while (mg_span(rest, &tag, &rest, ',')) {
    tag = mg_str_trim(tag);
    if (mg_str_eq(tag, "*")) return true;
    if (tag.len >= 2 && tag.buf[0] == 'W' && tag.buf[1] == '/') {
      if (strong) continue;
      tag.buf += 2, tag.len -= 2;
    }
    if (mg_strcmp(tag, want) == 0) return true;
  }
  return false;
}

// Exactly n digits at *p
static bool serve_digits(const char **p, const char *end, int n, int *v) {
  for (*v = 0; n > 0; n--, (*p)++) {
    if (*p >= end || !isdigit((unsigned char) **p)) return false;
    *v = *v * 10 + (**p - '0');
  }
  return true;
}

static bool serve_char(const char **p, const char *end, char ch) {
  if (*p >= end || **p != ch) return false;
  (*p)++;
  return true;
}

static bool serve_month(const char **p, const char *end, int *mon) {
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (*mon = 0; end - *p >= 3 && *mon < 12; (*mon)++) {
    if (memcmp(*p, months + *mon * 3, 3) == 0) {
      *p += 3;
      return true;
    }
  }
  return false;
}

static bool serve_clock(const char **p, const char *end, struct tm *tm) {
  return serve_digits(p, end, 2, &tm->tm_hour) && serve_char(p, end, ':') && serve_digits(p, end, 2, &tm->tm_min) &&
         serve_char(p, end, ':') && serve_digits(p, end, 2, &tm->tm_sec);
}

// An HTTP-date: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and, as RFC 9110 5.6.7
// asks of recipients, RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
// "Sun Nov  6 08:49:37 1994". False for anything else: the condition is then ignored.
static bool serve_parse_date(struct mg_str s, time_t *t) {
  const char *p = s.buf, *end = s.buf + s.len;
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  while (p < end && isalpha((unsigned char) *p)) p++;  // The day name, which the date implies
  bool comma = serve_char(&p, end, ',');
  if (!serve_char(&p, end, ' ')) return false;
  if (comma) {
    bool rfc850 = p + 2 < end && p[2] == '-';
    char sep = rfc850 ? '-' : ' ';
    if (!serve_digits(&p, end, 2, &tm.tm_mday) || !serve_char(&p, end, sep) || !serve_month(&p, end, &tm.tm_mon) ||
        !serve_char(&p, end, sep) || !serve_digits(&p, end, rfc850 ? 2 : 4, &tm.tm_year) || !serve_char(&p, end, ' ') ||
        !serve_clock(&p, end, &tm) || end - p != 4 || memcmp(p, " GMT", 4) != 0) {
      return false;
    }
    if (rfc850) tm.tm_year += tm.tm_year < 70 ? 2000 : 1900;  // Two-digit years: 1970-2069
  } else {
    bool one_digit_day = p + 4 < end && p[4] == ' ';
    if (!serve_month(&p, end, &tm.tm_mon) || !serve_char(&p, end, ' ') ||
        (one_digit_day && !serve_char(&p, end, ' ')) || !serve_digits(&p, end, one_digit_day ? 1 : 2, &tm.tm_mday) ||
        !serve_char(&p, end, ' ') || !serve_clock(&p, end, &tm) || !serve_char(&p, end, ' ') ||
        !serve_digits(&p, end, 4, &tm.tm_year) || p != end) {
      return false;
    }
  }
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) return false;
  *t = (time_t) mg_timegm((unsigned) tm.tm_year, (unsigned) tm.tm_mon + 1, (unsigned) tm.tm_mday,
                          (unsigned) tm.tm_hour, (unsigned) tm.tm_min, (unsigned) tm.tm_sec);
  return true;
}

// The request's conditional and range fields (the first line of each), found in one
// pass over its head rather than a search per field
struct serve_fields {
  struct mg_str *if_match, *if_none_match, *if_modified_since, *if_unmodified_since, *if_range, *range;
};

static struct mg_str **serve_field_slot(struct serve_fields *f, struct mg_str name) {
  if (mg_http_name_is(name, "range", 5)) return &f->range;
  if (name.len < 8 || mg_ncasecmp(name.buf, "if-", 3) != 0) return NULL;  // The rest all start so
  if (mg_http_name_is(name, "if-match", 8)) return &f->if_match;
  if (mg_http_name_is(name, "if-none-match", 13)) return &f->if_none_match;
  if (mg_http_name_is(name, "if-modified-since", 17)) return &f->if_modified_since;
  if (mg_http_name_is(name, "if-unmodified-since", 19)) return &f->if_unmodified_since;
  if (mg_http_name_is(name, "if-range", 8)) return &f->if_range;
  return NULL;
}

static void serve_find_fields(struct mg_http_message *hm, struct serve_fields *f) {
  memset(f, 0, sizeof(*f));
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    struct mg_str **slot = serve_field_slot(f, hm->headers[i].name);
    if (slot != NULL && *slot == NULL) *slot = &hm->headers[i].value;
  }
}

// RFC 9110 13.2.2: If-Match, else If-Unmodified-Since (412 when false), then
// If-None-Match, else If-Modified-Since (304 for GET and HEAD). 0: go on.
static int serve_preconditions(struct mg_http_message *hm, const struct serve_fields *f, const char *etag,
                               time_t mtime) {
  bool get_or_head = mg_str_eq(hm->method, "GET") || mg_str_eq(hm->method, "HEAD");
  time_t t = 0;
  if (f->if_match != NULL) {
    if (!serve_etag_listed(*f->if_match, etag, true)) return 412;
  } else if (f->if_unmodified_since != NULL && mtime != 0 && serve_parse_date(*f->if_unmodified_since, &t) &&
             mtime > t) {
    return 412;
  }
  if (f->if_none_match != NULL) {
    if (serve_etag_listed(*f->if_none_match, etag, false)) return get_or_head ? 304 : 412;
  } else if (f->if_modified_since != NULL && get_or_head && mtime != 0 &&
             serve_parse_date(*f->if_modified_since, &t) && mtime <= t) {
    return 304;
  }
  return 0;
}

// If-Range (RFC 9110 13.1.5): the range applies only while the validator is
// current: an ETag by strong comparison, or a date equal to Last-Modified
static bool serve_if_range_holds(const struct mg_str *ir, const char *etag, time_t mtime) {
  time_t t = 0;
  if (ir == NULL) return true;
  if (ir->len > 0 && (ir->buf[0] == '"' || ir->buf[0] == 'W')) {
    return ir->buf[0] == '"' && mg_strcmp(*ir, mg_str(etag)) == 0;
  }
  return mtime != 0 && serve_parse_date(*ir, &t) && t == mtime;
}

// Range: bytes=a-b | a- | -n. 1 = satisfiable range, 0 = serve whole, -1 = 416
static int serve_parse_range(struct mg_str *hdr, uint64_t size, uint64_t *from, uint64_t *to) {
  if (hdr == NULL) return 0;
  struct mg_str v = mg_str_trim(*hdr), a, b;
  if (v.len < 6 || mg_ncasecmp(v.buf, "bytes=", 6) != 0) return 0;
  v.buf += 6, v.len -= 6;
  for (size_t i = 0; i < v.len; i++)
    if (v.buf[i] == ',') return 0;  // Several ranges: allowed to answer with the whole file
  mg_span(mg_str_trim(v), &a, &b, '-');
  uint64_t x = 0, y = 0;
  if (a.len == 0) {  // Suffix: the last y bytes
    if (!mg_str_to_u64(b, 10, &y)) return 0;
    if (y == 0 || size == 0) return -1;
    *from = y >= size ? 0 : size - y, *to = size - 1;
    return 1;
  }
  if (!mg_str_to_u64(a, 10, &x)) return 0;
  if (b.len == 0) y = size == 0 ? 0 : size - 1;
  else if (!mg_str_to_u64(b, 10, &y) || y < x) return 0;
  if (x >= size) return -1;
  *from = x, *to = y >= size ? size - 1 : y;
  return 1;
}

// A response body comes from an open file (out.serve.fs set) or, for bytes that are
// already in memory such as a packed gzip entry, straight from file (fs NULL)
void mg_http_serve_abort(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  if (st->out.serve.file != NULL && st->out.serve.fs != NULL) st->out.serve.fs->cl(st->out.serve.file);
  st->out.serve.file = NULL, st->out.serve.fs = NULL, st->out.serve.left = 0;
  mg_http_reply_done(c);
}

static size_t serve_read(struct http_state *st, void *buf, size_t len) {
  if (st->out.serve.fs != NULL) return st->out.serve.fs->rd(st->out.serve.file, buf, len);
  memcpy(buf, st->out.serve.file, len);
  st->out.serve.file = (char *) st->out.serve.file + len;
  return len;
}

// Append up to max bytes of the body to c->send
static void serve_pump(struct mg_connection *c, size_t max) {
  struct http_state *st = mg_http_state(c);
  size_t want = st->out.serve.left < max ? (size_t) st->out.serve.left : max;
  if (want > 0 && mg_iobuf_resize(&c->send, c->send.len + want)) {
    size_t n = serve_read(st, c->send.buf + c->send.len, want);
    c->send.len += n;
    st->out.serve.left -= n;
    if (n == 0) {
      mg_error(c, "read error while sending a file");  // The length is promised: must close
      st->out.serve.left = 0;
    }
  } else if (want > 0) {
    mg_error(c, "out of memory sending a file");
    st->out.serve.left = 0;
  }
  if (st->out.serve.left == 0) mg_http_serve_abort(c);
}

void mg_http_serve_continue(struct mg_connection *c) {
  if (mg_http_state(c)->out.serve.file != NULL && c->send.len < SERVE_PIECE) serve_pump(c, SERVE_PIECE);
}

static void serve_file_status(struct mg_connection *c, struct mg_http_message *hm, const char *path,
                              const struct mg_http_serve_opts *opts, int status);

// An error answer in plain text, which a person may read
static void serve_error(struct mg_connection *c, const struct mg_http_serve_opts *opts, int status, const char *msg) {
  mg_http_reply2(c, status, "Content-Type: text/plain; charset=utf-8\r\n", opts->extra_headers, "%s", msg);
}

static void serve_not_found(struct mg_connection *c, struct mg_http_message *hm,
                            const struct mg_http_serve_opts *opts) {
  struct mg_fs *fs = opts->fs == NULL ? &mg_fs_posix : opts->fs;
  int flags = opts->page404 == NULL ? 0 : fs->st(opts->page404, NULL, NULL);
  if (flags != 0 && !(flags & MG_FS_DIR)) {
    serve_file_status(c, hm, opts->page404, opts, 404);
  } else {
    serve_error(c, opts, 404, "Not found\n");
  }
}

// The weight of one Accept-Encoding entry's parameters: 1000 without q, 0 for a
// zero or malformed q-value (RFC 9110 12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")])
static int serve_qvalue(struct mg_str params) {
  struct mg_str param, rest = params, name, value;
  while (mg_span(rest, &param, &rest, ';')) {
    mg_span(mg_str_trim(param), &name, &value, '=');
    if (mg_strcasecmp(mg_str_trim(name), mg_str("q")) != 0) continue;
    value = mg_str_trim(value);
    int q = 0, scale = 1000;
    for (size_t i = 0; i < value.len; i++) {
      char ch = value.buf[i];
      if (i == 1 && ch == '.') continue;
      if (!isdigit((unsigned char) ch) || i == 1 || i > 4) return 0;  // i == 1: not the dot
      if (i == 0) q = (ch - '0') * 1000;
      else q += (ch - '0') * (scale /= 10);
    }
    return value.len == 0 || q > 1000 ? 0 : q;
  }
  return 1000;
}

// Does the client take gzip? RFC 9110 12.5.3: codings are case-insensitive, an
// entry naming gzip (or x-gzip) outweighs "*", and q=0 means "not acceptable"
static bool serve_accepts_gzip(struct mg_http_message *hm) {
  struct mg_str *ae = mg_http_get_header(hm, "Accept-Encoding"), item, rest, coding, params;
  int gzip_q = -1, any_q = -1;
  if (ae == NULL) return false;
  for (rest = *ae; mg_span(rest, &item, &rest, ',');) {
    mg_span(mg_str_trim(item), &coding, &params, ';');
    coding = mg_str_trim(coding);
    if (mg_strcasecmp(coding, mg_str("gzip")) == 0 || mg_strcasecmp(coding, mg_str("x-gzip")) == 0) {
      gzip_q = serve_qvalue(params);
    } else if (mg_str_eq(coding, "*")) {
      any_q = serve_qvalue(params);
    }
  }
  return gzip_q >= 0 ? gzip_q > 0 : any_q > 0;
}

// Names the build content-hashed ("app-3f2a9c1b.js") never change: cache them for
// a year. Only the build knows which those are (a name can merely look hashed), so
// they come marked: by the packer, or by the immutable option for the request path.
// HTML pages name those assets, so they are revalidated every time.
static const char *serve_cache_control(struct mg_http_message *hm, const char *path, const struct mg_packed_file *pf,
                                       const struct mg_http_serve_opts *opts) {
  const char *dot = strrchr(path, '.');
  struct mg_str glob, rest = mg_str(opts->immutable == NULL ? "" : opts->immutable);
  bool immutable = pf != NULL && pf->is_immutable;
  if (dot != NULL && (mg_casecmp(dot, ".html") == 0 || mg_casecmp(dot, ".htm") == 0))
    return "Cache-Control: no-cache\r\n";
  while (!immutable && pf == NULL && mg_span(rest, &glob, &rest, ',')) {
    immutable = glob.len > 0 && mg_match(hm->uri, glob, NULL);
  }
  return immutable ? "Cache-Control: public, max-age=31536000, immutable\r\n" : "";
}

// Lowercase hex digits of v at buf (room for 16), returns how many
static size_t serve_hex(char *buf, unsigned long v) {
  char tmp[16];
  size_t n = 0;
  do tmp[n++] = "0123456789abcdef"[v & 15];
  while ((v >>= 4) > 0);
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

// The strong validator: the packer's (one entity, two encodings: their ETags must
// differ, so the gzip one ends in -gz), else "MTIME.SIZE" in hex
static void serve_etag(char *etag, size_t len, const struct mg_packed_file *pf, bool send_gzip, time_t mtime,
                       size_t size) {
  size_t n = 0;
  if (pf != NULL && pf->etag != NULL) {
    size_t tag = strlen(pf->etag), keep = tag > 0 ? tag - 1 : 0;  // All but its closing quote
    if (keep > len - 5) keep = len - 5;                             // Room for -gz" and the NUL
    memcpy(etag, pf->etag, keep);
    n = keep;
    if (send_gzip) memcpy(etag + n, "-gz", 3), n += 3;
  } else {  // 2 * 16 hex digits, a dot and two quotes fit the 80 bytes the caller has
    etag[n++] = '"';
    n += serve_hex(etag + n, (unsigned long) mtime);
    etag[n++] = '.';
    n += serve_hex(etag + n, (unsigned long) size);
  }
  etag[n++] = '"';
  etag[n] = '\0';
}

// "Last-Modified: ...\r\n", or "" for a file without an mtime (packed files, unless
// the packer kept it). The same file is asked for again and again: the last is kept.
static const char *serve_last_modified(time_t mtime) {
  static char line[64];
  static time_t formatted;
  if (mtime == 0) return "";
  if (mtime != formatted || line[0] == '\0') {
    memcpy(line, "Last-Modified: ", 15);
    mg_http_format_date(mtime, line + 15, sizeof(line) - 17);
    memcpy(line + strlen(line), "\r\n", 3);
    formatted = mtime;
  }
  return line;
}

// A representation that exists in two encodings says so (Vary), and which this is
static const char *serve_encoding_lines(const struct mg_packed_file *pf, bool send_gzip, bool gz_sibling) {
  if (gz_sibling || send_gzip) return "Vary: Accept-Encoding\r\nContent-Encoding: gzip\r\n";
  return pf != NULL && pf->is_gzip ? "Vary: Accept-Encoding\r\n" : "";
}

// What serve_entity has decided, for the head it writes
struct serve_head {
  int status;
  struct mg_str mime;
  uint64_t len;
  const char *etag, *last_modified, *cache, *encoding, *range, *extra;
};

// The head appended piece by piece; false if memory ran out (nothing of it is left queued)
static bool serve_put_head(struct mg_connection *c, const struct serve_head *h) {
  size_t start = c->send.len;
  struct mg_iobuf_out o = {&c->send, false};
  mg_conn_take_spare(c, &c->send);
  mg_http_put_reply_start(&o, c, h->status, false);
  mg_iobuf_out_put(&o, "Content-Type: ", 14);
  mg_iobuf_out_put(&o, h->mime.buf, h->mime.len);
  mg_iobuf_out_put(&o, "\r\nContent-Length: ", 18);
  mg_iobuf_out_ulong(&o, (unsigned long) h->len);
  mg_iobuf_out_put(&o, "\r\nEtag: ", 8);
  mg_iobuf_out_str(&o, h->etag);
  mg_iobuf_out_put(&o, "\r\n", 2);
  mg_iobuf_out_str(&o, h->last_modified);
  mg_iobuf_out_str(&o, h->cache);
  mg_iobuf_out_str(&o, h->encoding);
  mg_iobuf_out_put(&o, "Accept-Ranges: bytes\r\n", 22);
  mg_iobuf_out_str(&o, h->range);
  mg_iobuf_out_str(&o, h->extra);
  mg_iobuf_out_put(&o, "\r\n", 2);
  if (!o.failed) return true;
  c->send.len = start;
  mg_error(c, "out of memory queueing a file's head");
  return false;
}

// Serve path, whose fs->st() answer the caller already has (one stat per request).
// gz_sibling: the answer is for path + ".gz", sent as path with Content-Encoding: gzip.
static void serve_entity(struct mg_connection *c, struct mg_http_message *hm, const char *path,
                         const struct mg_http_serve_opts *opts, int status, int flags, size_t size, time_t mtime,
                         bool gz_sibling) {
  struct mg_fs *fs = opts->fs == NULL ? &mg_fs_posix : opts->fs;
  struct http_state *st = mg_http_state(c);
  if (flags == 0 || (flags & MG_FS_DIR)) {
    if (status == 404) serve_error(c, opts, 404, "Not found\n");
    else serve_not_found(c, hm, opts);
    return;
  }
  const struct mg_packed_file *pf = fs->packed == NULL ? NULL : fs->packed(path);
  bool send_gzip = pf != NULL && pf->is_gzip && serve_accepts_gzip(hm);
  char etag[80], range_hdr[96] = "";
  struct serve_fields fields;
  serve_find_fields(hm, &fields);
  serve_etag(etag, sizeof(etag), pf, send_gzip, mtime, size);
  const char *date = serve_last_modified(mtime), *enc_hdr = serve_encoding_lines(pf, send_gzip, gz_sibling);
  const char *extra = opts->extra_headers == NULL ? "" : opts->extra_headers;
  const char *cache = status == 200 ? serve_cache_control(hm, path, pf, opts) : "";
  int pre = status == 200 ? serve_preconditions(hm, &fields, etag, mtime) : 0;
  if (pre == 412) {
    mg_http_reply(c, 412, extra, "");
    return;
  }
  if (pre == 304) {  // No Content-Length: it would describe the 200's body (RFC 9110 8.6)
    mg_printf(c, "HTTP/1.1 304 Not Modified\r\n%sEtag: %s\r\n%s%s%s%s\r\n", mg_http_reply_headers(c), etag, date, cache,
              enc_hdr, extra);
    mg_http_reply_done(c);
    return;
  }
  uint64_t from = 0, to = size == 0 ? 0 : size - 1, len = size;
  // Ranges address the identity bytes; a gzip response is always whole (RFC 9110 allows ignoring Range)
  bool ranged = status == 200 && !send_gzip && !gz_sibling && serve_if_range_holds(fields.if_range, etag, mtime);
  int r = ranged ? serve_parse_range(fields.range, size, &from, &to) : 0;
  if (r < 0) {
    mg_snprintf(range_hdr, sizeof(range_hdr), "Content-Range: bytes */%lu\r\n", (unsigned long) size);
    mg_http_reply2(c, 416, range_hdr, opts->extra_headers, "");  // No body: a 416 is read by programs, not people
    return;
  }
  char gz_path[MG_PATH_MAX];
  if (gz_sibling) mg_snprintf(gz_path, sizeof(gz_path), "%s.gz", path);
  void *fd = send_gzip ? (void *) pf->data : fs->op(gz_sibling ? gz_path : path, MG_FS_READ);
  if (fd == NULL) {
    serve_error(c, opts, 500, "Cannot open file\n");
    return;
  }
  if (send_gzip) len = pf->size;
  if (r > 0) {
    status = 206, len = to - from + 1;
    mg_snprintf(range_hdr, sizeof(range_hdr), "Content-Range: bytes %lu-%lu/%lu\r\n", (unsigned long) from,
                (unsigned long) to, (unsigned long) size);
    if (from > 0 && fs->sk(fd, (size_t) from) != (size_t) from) {
      fs->cl(fd);
      serve_error(c, opts, 500, "Cannot seek file\n");
      return;
    }
  }
  // The options' types outrank the one the packer chose; the built-in table does not
  struct mg_str mime = mg_http_mime_type(mg_str(path), opts->mime_types);
  if (pf != NULL && pf->mime != NULL &&
      (opts->mime_types == NULL || mg_strcmp(mime, mg_http_mime_type(mg_str(path), NULL)) == 0)) {
    mime = mg_str(pf->mime);
  }
  size_t start = c->send.len;
  struct serve_head head = {status, mime, len, etag, date, cache, enc_hdr, range_hdr, extra};
  if (!serve_put_head(c, &head) || mg_http_name_is(hm->method, "head", 4) || len == 0) {
    if (!send_gzip) fs->cl(fd);
    mg_http_reply_done(c);
    return;
  }
  st->out.serve.file = fd, st->out.serve.fs = send_gzip ? NULL : fs, st->out.serve.left = len;
  bool was_closing = c->is_closing;
  serve_pump(c, len <= SERVE_INLINE_MAX ? (size_t) len : SERVE_PIECE);
  if (c->is_closing && !was_closing) c->send.len = start;  // No head goes out without its first piece
}

static void serve_file_status(struct mg_connection *c, struct mg_http_message *hm, const char *path,
                              const struct mg_http_serve_opts *opts, int status) {
  struct mg_fs *fs = opts->fs == NULL ? &mg_fs_posix : opts->fs;
  size_t size = 0;
  time_t mtime = 0;
  int flags = fs->st(path, &size, &mtime);
  serve_entity(c, hm, path, opts, status, flags, size, mtime, false);
}

void mg_http_serve_file(struct mg_connection *c, struct mg_http_message *hm, const char *path,
                        const struct mg_http_serve_opts *opts) {
  if (mg_http_refuse_method(c, hm, opts->extra_headers)) return;
  serve_file_status(c, hm, path, opts, 200);
}

static void serve_html_escape(struct mg_iobuf_out *o, const char *s) {
  for (; *s != '\0'; s++) {
    switch (*s) {
      case '<': mg_xprintf(mg_pfn_iobuf_checked, o, "&lt;"); break;
      case '>': mg_xprintf(mg_pfn_iobuf_checked, o, "&gt;"); break;
      case '&': mg_xprintf(mg_pfn_iobuf_checked, o, "&amp;"); break;
      case '"': mg_xprintf(mg_pfn_iobuf_checked, o, "&quot;"); break;
      default: mg_pfn_iobuf_checked(*s, o); break;
    }
  }
}

struct serve_listing {
  struct mg_iobuf out;
  struct mg_iobuf_out sink;  // Into out; remembers a failed append
  struct mg_fs *fs;
  const char *dir;
};

static void serve_list_entry(const char *name, void *arg) {
  struct serve_listing *l = (struct serve_listing *) arg;
  char path[MG_PATH_MAX + 256];
  size_t size = 0;
  mg_snprintf(path, sizeof(path), "%s/%s", l->dir, name);
  int flags = l->fs->st(path, &size, NULL);
  mg_xprintf(mg_pfn_iobuf_checked, &l->sink, "<tr><td><a href=\"");
  for (const char *p = name; *p != '\0'; p++) {  // Percent-encode what is not safe in a URL
    unsigned char ch = (unsigned char) *p;
    if (isalnum(ch) || strchr("-._~", ch) != NULL) mg_pfn_iobuf_checked((char) ch, &l->sink);
    else mg_xprintf(mg_pfn_iobuf_checked, &l->sink, "%%%02X", ch);
  }
  mg_xprintf(mg_pfn_iobuf_checked, &l->sink, "%s\">", (flags & MG_FS_DIR) ? "/" : "");
  serve_html_escape(&l->sink, name);
  mg_xprintf(mg_pfn_iobuf_checked, &l->sink, "%s</a></td><td>%lu</td></tr>\n", (flags & MG_FS_DIR) ? "/" : "",
             (unsigned long) size);
}

static void serve_listing(struct mg_connection *c, struct mg_http_message *hm, struct mg_fs *fs,
                          const char *dir, const struct mg_http_serve_opts *opts) {
  struct serve_listing l = {{NULL, 0, 0, 256}, {NULL, false}, fs, dir};
  l.sink.io = &l.out;
  char uri[MG_PATH_MAX];
  mg_snprintf(uri, sizeof(uri), "%.*s", (int) hm->uri.len, hm->uri.buf);
  mg_xprintf(mg_pfn_iobuf_checked, &l.sink, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Index of ");
  serve_html_escape(&l.sink, uri);
  mg_xprintf(mg_pfn_iobuf_checked, &l.sink, "</title></head><body><h1>Index of ");
  serve_html_escape(&l.sink, uri);
  mg_xprintf(mg_pfn_iobuf_checked, &l.sink, "</h1><table><tr><td><a href=\"../\">../</a></td><td></td></tr>\n");
  fs->ls(dir, serve_list_entry, &l);
  mg_xprintf(mg_pfn_iobuf_checked, &l.sink, "</table></body></html>\n");
  if (l.sink.failed) {  // A listing with holes would pass for the whole directory
    mg_iobuf_free(&l.out);
    mg_error(c, "out of memory listing a directory");
    return;
  }
  mg_http_reply2(c, 200, "Content-Type: text/html; charset=utf-8\r\n", opts->extra_headers, "%.*s", (int) l.out.len, l.out.buf == NULL ? "" : (char *) l.out.buf);
  mg_iobuf_free(&l.out);
}

// 301 to the directory with its slash. The Location is built from the normalized
// path, never from the URI as sent: "//evil.example/.." names our root, but as a
// Location it is scheme-relative and takes the browser to another host. The
// normalized path has one leading '/', no empty segments and no backslash; bytes
// outside RFC 3986 pchar (controls, backslash, '?', '#', '%') are percent-encoded.
static void serve_redirect_dir(struct mg_connection *c, struct mg_http_message *hm, const char *dir) {
  static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/";
  size_t len = strlen(dir);
  mg_printf(c, "HTTP/1.1 301 Moved Permanently\r\n%sLocation: ", mg_http_reply_headers(c));
  for (size_t i = 0; i < len;) {
    size_t run = strspn(dir + i, safe);  // Plain bytes go out as a run
    mg_send(c, dir + i, run);
    i += run;
    if (i < len) mg_printf(c, "%%%02X", (unsigned char) dir[i++]);
  }
  mg_printf(c, "%s%s%.*s\r\nContent-Length: 0\r\n\r\n", len > 0 && dir[len - 1] == '/' ? "" : "/",
            hm->query.len > 0 ? "?" : "", (int) hm->query.len, hm->query.buf);
  mg_http_reply_done(c);
}

// root_dir is "DIR" or "DIR,/prefix=DIR2,/other=DIR3" (Mongoose's form): the
// first entry without '=' is the default root, a prefix matches whole segments of
// the normalized path and is stripped from it ("" is a root too: paths as they
// are, for packed filesystems). False if no root applies; else *root and *strip.
static bool serve_pick_root(const char *root_dir, const char *upath, struct mg_str *root, size_t *strip) {
  struct mg_str rest = mg_str(root_dir == NULL ? "." : root_dir), entry, prefix, dir;
  size_t ulen = strlen(upath);
  bool has_default = memchr(rest.buf, ',', rest.len) == NULL && memchr(rest.buf, '=', rest.len) == NULL;
  *root = rest;  // The common case: one plain root, possibly ""
  *strip = 0;
  if (has_default) return true;
  while (mg_span(rest, &entry, &rest, ',')) {
    if (entry.len == 0) continue;  // ",,": mg_span would leave prefix unset
    if (memchr(entry.buf, '=', entry.len) == NULL) {
      if (!has_default) *root = entry;
      has_default = true;
      continue;
    }
    mg_span(entry, &prefix, &dir, '=');
    while (prefix.len > 1 && prefix.buf[prefix.len - 1] == '/') prefix.len--;
    if (prefix.len > 0 && prefix.len <= ulen && memcmp(upath, prefix.buf, prefix.len) == 0 &&
        (upath[prefix.len] == '/' || upath[prefix.len] == '\0')) {
      *strip = prefix.len;
      *root = dir;
      return true;
    }
  }
  return has_default;
}

// The client takes gzip and path + ".gz" is a file (packed filesystems hold their
// own gzip copies): fills the sibling's size and mtime
static bool serve_gz_sibling(struct mg_fs *fs, struct mg_http_message *hm, const char *path, size_t *size,
                             time_t *mtime) {
  char gz[MG_PATH_MAX];
  if (fs->packed != NULL || !serve_accepts_gzip(hm)) return false;
  if (mg_snprintf(gz, sizeof(gz), "%s.gz", path) >= sizeof(gz)) return false;
  int flags = fs->st(gz, size, mtime);
  return flags != 0 && !(flags & MG_FS_DIR);
}

void mg_http_serve_dir(struct mg_connection *c, struct mg_http_message *hm, const struct mg_http_serve_opts *opts) {
  if (mg_http_refuse_method(c, hm, opts->extra_headers)) return;
  struct mg_fs *fs = opts->fs == NULL ? &mg_fs_posix : opts->fs;
  char upath[MG_PATH_MAX], path[MG_PATH_MAX];
  size_t strip = 0;
  if (hm->uri.len + SERVE_INDEX_ROOM > sizeof(upath)) {  // RFC 9110 15.5.15; the limit is MG_PATH_MAX
    mg_http_reply(c, 414, opts->extra_headers, "Path too long\n");
    return;
  }
  // Decode and normalize first: prefixes and roots are matched on the clean path only
  int n = hm->uri.len == 0 || hm->uri.buf[0] != '/' || hm->uri.len + SERVE_INDEX_ROOM > sizeof(upath)
              ? -1
              : mg_url_decode(hm->uri.buf, hm->uri.len, upath, sizeof(upath) - SERVE_INDEX_ROOM, 0);
  if (n <= 0 || !mg_path_normalize(upath, (size_t) n)) {
    MG_INFO(("%lu refused path %.*s", c->id, (int) hm->uri.len, hm->uri.buf));
    serve_error(c, opts, 400, "Invalid path\n");
    return;
  }
  struct mg_str root;
  if (!serve_pick_root(opts->root_dir, upath, &root, &strip)) {
    serve_not_found(c, hm, opts);
    return;
  }
  size_t rlen = root.len;
  while (rlen > 1 && root.buf[rlen - 1] == '/') rlen--;
  size_t tail = strlen(upath + strip), plen = rlen + tail, size = 0;
  if (plen >= sizeof(path) - SERVE_INDEX_ROOM) {
    serve_error(c, opts, 414, "Path too long\n");
    return;
  }
  memcpy(path, root.buf, rlen);  // The root, then the request's path under it
  memcpy(path + rlen, upath + strip, tail + 1);
  time_t mtime = 0;
  int flags = fs->st(path, &size, &mtime);
  if (flags & MG_FS_DIR) {
    if (hm->uri.buf[hm->uri.len - 1] != '/') {  // Relative links in the index need the slash
      serve_redirect_dir(c, hm, upath);
      return;
    }
    mg_snprintf(path + plen, sizeof(path) - plen, "%s" MG_HTTP_INDEX, plen > 0 && path[plen - 1] == '/' ? "" : "/");
    flags = fs->st(path, &size, &mtime);
    if (flags == 0 && MG_ENABLE_DIRLIST && !opts->dir_listing_off) {
      path[plen] = '\0';
      serve_listing(c, hm, fs, path, opts);
      return;
    }
  }
  if (MG_ENABLE_SSI && opts->ssi_pattern != NULL && flags != 0 && !(flags & MG_FS_DIR) &&
      mg_match(mg_str(path), mg_str(opts->ssi_pattern), NULL)) {
    mg_http_ssi_serve(c, fs, mg_str_n(path, rlen), path + rlen, opts->extra_headers);
    return;
  }
  size_t gz_size = 0;
  time_t gz_mtime = 0;
  if (!(flags & MG_FS_DIR) && serve_gz_sibling(fs, hm, path, &gz_size, &gz_mtime)) {
    serve_entity(c, hm, path, opts, 200, MG_FS_READ, gz_size, gz_mtime, true);
    return;
  }
  serve_entity(c, hm, path, opts, 200, flags, size, mtime, false);
}
