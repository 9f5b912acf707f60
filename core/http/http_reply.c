// Writing HTTP responses: status line and headers with a Content-Length filled
// in after the body is formatted in place, and chunked transfer coding.
#include "mg_internal.h"
#include "http/http_internal.h"

#define HTTP_CL_WIDTH 10  // Room reserved for the Content-Length digits, then the blank line
#define HTTP_CL_FIELD "          \r\n\r\n"

// A message that cannot be queued whole is not queued at all: the connection
// closes with an error, and what it queued before still goes out
static void http_reply_oom(struct mg_connection *c, size_t start, const char *what) {
  c->send.len = start;
  mg_error(c, "out of memory queueing %s", what);
}

// Two digits of v (0-99) at p
static void http_reply_2digits(char *p, long long v) {
  p[0] = (char) ('0' + v / 10), p[1] = (char) ('0' + v % 10);
}

void mg_http_format_date(time_t t, char *buf, size_t len) {
  static const char days[] = "ThuFriSatSunMonTueWed";
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  long long secs = (long long) t, day = secs / 86400, rem = secs % 86400;
  if (rem < 0) rem += 86400, day--;
  // Civil date from a day count, counting years from 1 March 0000 so leap days come last
  long long z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153, mday = doy - (153 * mp + 2) / 5 + 1;
  long long mon = mp < 10 ? mp + 3 : mp - 9, year = yoe + era * 400 + (mon <= 2);
  const char *wday = days + 3 * (((day % 7) + 7) % 7);
  if (year < 0 || year > 9999) {  // Outside IMF-fixdate's four digits: as printf would
    mg_snprintf(buf, len, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", wday, (int) mday, months + 3 * (mon - 1),
                (int) year, (int) (rem / 3600), (int) (rem / 60 % 60), (int) (rem % 60));
    return;
  }
  // Every field has a fixed width: placed directly, no format string to walk per request
  char s[] = "Www, DD Mmm YYYY HH:MM:SS GMT";
  memcpy(s, wday, 3);
  http_reply_2digits(s + 5, mday);
  memcpy(s + 8, months + 3 * (mon - 1), 3);
  http_reply_2digits(s + 12, year / 100), http_reply_2digits(s + 14, year % 100);
  http_reply_2digits(s + 17, rem / 3600), http_reply_2digits(s + 20, rem / 60 % 60);
  http_reply_2digits(s + 23, rem % 60);
  if (len == 0) return;
  size_t n = sizeof(s) - 1 < len - 1 ? sizeof(s) - 1 : len - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
}

// Date, when there is a clock (RFC 9110 6.6.1): the port's, else, on a board, mg_now()
// once SNTP (or the application) has set mg_boot_timestamp_ms. Formatted once a second
static const char *http_date_line(void) {
  static char line[48];
  static time_t formatted;
  time_t now = 0;
  if (!MG_ENABLE_DATE) return "";
  if (!mg_port_wall_time(&now)) {
    if (mg_boot_timestamp_ms == 0) return "";
    now = (time_t) (mg_now() / 1000);
  }
  if (now != formatted) {
    memcpy(line, "Date: ", 6);
    mg_http_format_date(now, line + 6, sizeof(line) - 8);
    memcpy(line + strlen(line), "\r\n", 3);
    formatted = now;
  }
  return line;
}

// What the server decided about the connection (RFC 9112 9.3, 9.6): close after this
// reply, or keep-alive to an HTTP/1.0 client that asked. own_connection: the caller's
// headers say it already.
static const char *http_reply_connection(struct mg_connection *c, bool own_connection) {
  const struct http_state *st = mg_http_state(c);
  if (!c->is_accepted || own_connection) return "";
  if (st->close_after || c->is_draining) return "Connection: close\r\n";
  return st->is_http10 ? "Connection: keep-alive\r\n" : "";
}

// The status line and the lines every server reply carries: Date and Connection
void mg_http_put_reply_start(struct mg_iobuf_out *o, struct mg_connection *c, int status, bool own_connection) {
  mg_iobuf_out_put(o, "HTTP/1.1 ", 9);
  if (status < 0) mg_iobuf_out_put(o, "-", 1);
  mg_iobuf_out_ulong(o, status < 0 ? 0UL - (unsigned long) status : (unsigned long) status);
  mg_iobuf_out_put(o, " ", 1);
  mg_iobuf_out_str(o, mg_http_status_text(status));
  mg_iobuf_out_put(o, "\r\n", 2);
  if (c->is_accepted) mg_iobuf_out_str(o, http_date_line());
  mg_iobuf_out_str(o, http_reply_connection(c, own_connection));
}

const char *mg_http_reply_headers(struct mg_connection *c) {
  static char buf[80];
  const char *date = c->is_accepted ? http_date_line() : "", *conn = http_reply_connection(c, false);
  size_t n = strlen(date), m = strlen(conn);
  memcpy(buf, date, n);
  memcpy(buf + n, conn, m + 1);
  return buf;
}

// Does a header block already hold a Connection line?
static bool http_reply_has_connection(const char *headers) {
  static const char name[] = "connection:";
  const char *p = headers;
  while (p != NULL && *p != '\0') {
    if ((*p | 0x20) == 'c' && mg_ncasecmp(p, name, sizeof(name) - 1) == 0) return true;
    p = strchr(p, '\n');
    if (p != NULL) p++;
  }
  return false;
}

// A body with nothing to format (no '%'): its length is known before the head goes out
static void http_reply_literal(struct mg_iobuf_out *o, bool is_head, const char *body) {
  size_t len = body == NULL ? 0 : strlen(body);
  mg_iobuf_out_ulong(o, (unsigned long) len);
  mg_iobuf_out_put(o, "\r\n\r\n", 4);
  if (!is_head) mg_iobuf_out_put(o, body, len);
}

// The body is formatted once, in place after the head; its length then goes into
// a field reserved for it, and the body moves left over what the digits did not use
static bool http_reply_formatted(struct mg_iobuf_out *o, bool is_head, const char *fmt, va_list *ap) {
  struct mg_iobuf *io = o->io;
  mg_iobuf_out_put(o, HTTP_CL_FIELD, sizeof(HTTP_CL_FIELD) - 1);
  if (o->failed) return false;
  size_t field = io->len - 4 - HTTP_CL_WIDTH, body_start = io->len;
  if (!mg_iobuf_vprintf(io, fmt, ap)) return false;
  size_t body_len = io->len - body_start;
  char digits[24];
  size_t n = mg_snprintf(digits, sizeof(digits), "%lu", (unsigned long) body_len);
  memcpy(io->buf + field, digits, n);
  memmove(io->buf + field + n, io->buf + field + HTTP_CL_WIDTH, 4 + body_len);
  io->len -= HTTP_CL_WIDTH - n;
  if (is_head) io->len -= body_len;
  return true;
}

static void http_vreply(struct mg_connection *c, int status, const char *headers1, const char *headers2,
                        const char *fmt, va_list *ap) {
  size_t start = c->send.len;
  struct mg_iobuf_out o = {&c->send, false};
  bool own_conn = http_reply_has_connection(headers1) || http_reply_has_connection(headers2);
  mg_conn_take_spare(c, &c->send);  // A manager's spare buffer, not a new one per reply
  bool is_head = c->is_accepted && mg_http_state(c)->is_head;
  mg_http_put_reply_start(&o, c, status, own_conn);
  mg_iobuf_out_str(&o, headers1);
  mg_iobuf_out_str(&o, headers2);
  mg_iobuf_out_put(&o, "Content-Length: ", 16);
  if (fmt == NULL || strchr(fmt, '%') == NULL) http_reply_literal(&o, is_head, fmt);
  else if (!http_reply_formatted(&o, is_head, fmt, ap)) o.failed = true;
  if (o.failed) {
    http_reply_oom(c, start, "a reply");
    return;
  }
  mg_http_reply_done(c);  // The reply is whole: the next pipelined request may go
}

void mg_http_reply(struct mg_connection *c, int status, const char *headers, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  http_vreply(c, status, headers, NULL, fmt, &ap);
  va_end(ap);
}

void mg_http_reply2(struct mg_connection *c, int status, const char *headers1, const char *headers2,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  http_vreply(c, status, headers1, headers2, fmt, &ap);
  va_end(ap);
}

// Static files are read-only: GET and HEAD are served, OPTIONS says so (204),
// other RFC 9110 / RFC 5789 methods get 405 and unknown ones 501 (RFC 9110
// 15.6.2), so a DELETE is never told it succeeded. True if it answered.
bool mg_http_refuse_method(struct mg_connection *c, struct mg_http_message *hm, const char *extra) {
  static const char *const known[] = {"POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE"};
  static const char allow[] = "Allow: GET, HEAD, OPTIONS\r\n";
  if (mg_str_eq(hm->method, "GET") || mg_str_eq(hm->method, "HEAD")) return false;
  if (mg_str_eq(hm->method, "OPTIONS")) {
    // By hand: mg_http_reply adds a Content-Length, which a 204 must not carry (RFC 9110 8.6)
    mg_printf(c, "HTTP/1.1 204 No Content\r\n%s%s%s\r\n", mg_http_reply_headers(c), allow, extra == NULL ? "" : extra);
    mg_http_reply_done(c);
    return true;
  }
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
    if (mg_str_eq(hm->method, known[i])) {
      mg_http_reply2(c, 405, allow, extra, "Method not allowed\n");
      return true;
    }
  }
  mg_http_reply2(c, 501, allow, extra, "Method not implemented\n");
  return true;
}

// A closing connection takes no more chunks: after one was lost, the ones that
// follow would make a stream that looks whole and is not
void mg_http_write_chunk(struct mg_connection *c, const char *buf, size_t len) {
  if (c->is_closing) return;
  size_t start = c->send.len;
  if (!mg_iobuf_printf(&c->send, "%lx\r\n", (unsigned long) len) ||
      mg_iobuf_add(&c->send, c->send.len, buf, len) != len || mg_iobuf_add(&c->send, c->send.len, "\r\n", 2) != 2) {
    http_reply_oom(c, start, "a chunk");
  }
  if (len == 0) mg_http_reply_done(c);  // The last chunk ends the reply
}

void mg_http_printf_chunk(struct mg_connection *c, const char *fmt, ...) {
  // Format straight into the send buffer behind a fixed-width size line
  if (c->is_closing) return;
  size_t start = c->send.len;
  bool ok = mg_iobuf_printf(&c->send, "%08lx\r\n", 0UL);
  size_t body_start = c->send.len;
  if (ok) {
    va_list ap;
    va_start(ap, fmt);
    ok = mg_iobuf_vprintf(&c->send, fmt, &ap);
    va_end(ap);
  }
  if (ok) ok = mg_iobuf_add(&c->send, c->send.len, "\r\n", 2) == 2;
  if (!ok) {
    http_reply_oom(c, start, "a chunk");
    return;
  }
  char size[12];
  size_t len = c->send.len - 2 - body_start;
  mg_snprintf(size, sizeof(size), "%08lx", (unsigned long) len);
  memcpy(c->send.buf + start, size, 8);
  if (len == 0) mg_http_reply_done(c);  // The last chunk ends the reply
}
