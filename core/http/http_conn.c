// The HTTP/1.1 protocol handler shared by server and client connections: frames
// messages out of c->recv, raises HDRS / CHUNK / MSG, enforces limits and the
// head timeout, and handles keep-alive, pipelining and request bodies.
#include "mg_internal.h"
#include "http/http_internal.h"

// Milliseconds from a stamp (the low 32 bits of mg_millis()) to now; 0 if the stamp
// is newer, as stamps taken later in a pass than its now are
static uint32_t http_waited(uint64_t now, uint32_t since) {
  uint32_t d = (uint32_t) now - since;
  return d > UINT32_MAX / 2 ? 0 : d;
}

// No connection cap by default: the right number is the device's RAM over what a
// connection costs, which only the application knows, and a cap that is too low
// turns users away (benchmarks hold 1000 at once). Allocation failures on accept
// are handled either way.
struct mg_http_limits mg_http_default_limits = {8192, 64 * 1024, 30000, 60000, 30000, 0, 30000, 60000};

// The state lives inside the connection: fail the build, not the memory, when it outgrows it
typedef char http_state_fits_pstate[sizeof(struct http_state) <= sizeof(((struct mg_connection *) 0)->pstate) ? 1 : -1];

struct http_state *mg_http_state(struct mg_connection *c) {
  return (struct http_state *) (void *) &c->pstate;
}

static const struct mg_http_limits *http_limits(struct mg_connection *c) {
  return c->pfn_data != NULL && c->is_accepted ? (const struct mg_http_limits *) c->pfn_data
                                               : &mg_http_default_limits;
}

// Largest body buffered whole: the server's limit, but never more than the
// receive buffer can hold (which is all a client's response may take)
static size_t http_body_cap(struct mg_connection *c) {
  size_t room = MG_MAX_RECV_SIZE - mg_http_state(c)->head_len, limit = http_limits(c)->max_body_size;
  return limit < room && c->is_accepted ? limit : room;
}

void mg_http_stream_body(struct mg_connection *c) {
  mg_http_state(c)->stream = 1;
}

// A request we will not serve: answer, stop parsing, close once the answer is out.
// Returns false, the "no progress" of the parsing steps that call it
static bool http_reject(struct mg_connection *c, int status, const char *why) {
  struct http_state *st = mg_http_state(c);
  MG_INFO(("%lu %d for %M: %s", c->id, status, mg_print_ip_port, &c->rem, why));
  if (c->is_accepted) {
    st->is_head = 0;
    st->close_after = 1;  // The reply says so
    mg_http_reply(c, status, NULL, "%s\n", why);
  } else {
    mg_error(c, "bad HTTP response: %s", why);
  }
  st->phase = HTTP_PHASE_REJECTED;
  c->recv.len = 0;
  c->is_draining = 1;
  return false;
}

// Chunk framing waiting in c->recv (a size line with its extensions, or the
// trailers) counts as header bytes: together with the head it must fit
// max_head_size, plus this much for the size line and CRLFs of a head that used
// all of it. So head + decoded body + pending framing stays within
// max_head_size + max_body_size + HTTP_FRAMING_SLACK, however the bytes arrive.
#define HTTP_FRAMING_SLACK 64
static size_t http_framing_cap(struct mg_connection *c) {
  return http_limits(c)->max_head_size - mg_http_state(c)->head_len + HTTP_FRAMING_SLACK;
}

// Checks framing bytes at the front of the unparsed input; true if within the cap.
// line_len: the size line so far (0 when its end is not in yet: then all of avail is
// the line); is_last: the last chunk, so what follows the line is trailers.
static bool http_framing_fits(struct mg_connection *c, long span, size_t avail, size_t line_len, bool is_last) {
  size_t cap = http_framing_cap(c), trailers = 0;
  if (line_len == 0) line_len = avail;
  if (is_last) trailers = span > 0 ? (size_t) span - line_len : avail - line_len;
  if (line_len > cap) {
    http_reject(c, 413, "chunk size line too long");
    return false;
  }
  if (line_len + trailers > cap) {  // Both wait in c->recv together
    http_reject(c, 431, "chunk trailers too large");
    return false;
  }
  return true;
}

// What the handler needs from a head's field lines, found in one pass over them
struct http_fields {
  size_t hosts;            // Host lines (RFC 9112 3.2)
  bool close, keep_alive;  // Options listed by Connection, on any of its lines (RFC 9110 7.6.1)
};

static void http_connection_options(struct mg_str value, struct http_fields *f) {
  struct mg_str item, rest = value;
  while (mg_span(rest, &item, &rest, ',')) {
    item = mg_str_trim(item);
    if (mg_http_name_is(item, "close", 5)) f->close = true;
    if (mg_http_name_is(item, "keep-alive", 10)) f->keep_alive = true;
  }
}

static void http_scan_fields(const struct mg_http_message *hm, struct http_fields *f) {
  memset(f, 0, sizeof(*f));
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    const struct mg_http_header *h = &hm->headers[i];
    if (mg_http_name_is(h->name, "host", 4)) f->hosts++;
    else if (mg_http_name_is(h->name, "connection", 10)) http_connection_options(h->value, f);
  }
}

// RFC 9112 2.3: HTTP/1.x of any minor version is answered as 1.1; other majors get 505
static bool http_is_version_1(const struct mg_http_message *hm) {
  return hm->proto.len == 8 && hm->proto.buf[5] == '1';
}

static bool http_is_10(const struct mg_http_message *hm) {
  return mg_str_eq(mg_http_is_response(hm) ? hm->method : hm->proto, "HTTP/1.0");
}

// RFC 9112 3.2: one Host line; none only when an absolute-form target names the
// host (the parser then left the scheme and authority out of uri)
static bool http_host_ok(const struct mg_http_message *hm, const struct http_fields *f) {
  bool absolute = hm->uri.buf != hm->method.buf + hm->method.len + 1;
  return f->hosts == 1 || (f->hosts == 0 && absolute);
}

// Does this message let the connection carry another one? (RFC 9112 9.3)
static bool http_keep_alive(const struct mg_http_message *hm, const struct http_fields *f) {
  if (f->close) return false;
  return !http_is_10(hm) || f->keep_alive;
}

// The message in c->recv is done: drop it, and decide about the connection
static void http_message_done(struct mg_connection *c, size_t consumed) {
  struct http_state *st = mg_http_state(c);
  mg_iobuf_del(&c->recv, 0, consumed);
  st->phase = HTTP_PHASE_HEAD;
  st->body_len = st->head_len = 0;
  st->body_left = 0;
  st->stream = st->chunk_tail = 0;
  st->idle_since = (uint32_t) mg_millis();
  if (st->close_after) {
    // Stop reading; close once the reply has gone: the event layer waits for
    // is_resp to clear (a reply sent later, from a timer) and c->send to drain
    st->phase = HTTP_PHASE_REJECTED;
    c->recv.len = 0;
    c->is_draining = 1;
  }
}

// Re-parse the head kept at the front of c->recv (its slices move when recv grows)
static void http_reparse(struct mg_connection *c, struct mg_http_message *hm) {
  mg_http_parse((const char *) c->recv.buf, mg_http_state(c)->head_len, hm);
  hm->body = mg_str_n((char *) c->recv.buf + mg_http_state(c)->head_len, 0);
  hm->message = mg_str_n(hm->head.buf, hm->head.len);
}

// Did the handler queue, from c->send[from], a whole response without our reply
// helpers (mg_printf of a head with Content-Length and its body)? Those helpers
// clear is_resp themselves; this catches hand-written replies.
static bool http_sent_whole_response(struct mg_connection *c, size_t from) {
  struct mg_http_message r;
  uint64_t cl = 0;
  if (c->send.len <= from) return false;
  int n = mg_http_parse((const char *) c->send.buf + from, c->send.len - from, &r);
  if (n <= 0 || mg_http_status(&r) == 0) return false;
  enum mg_http_body_kind kind = mg_http_body_kind(&r, true, mg_http_state(c)->is_head, &cl);
  if (kind == MG_HTTP_BODY_NONE) return true;
  return kind == MG_HTTP_BODY_LENGTH && c->send.len - from - (size_t) n >= cl;
}

// The handler upgraded the connection (mg_ws_upgrade): the request leaves c->recv, and
// c->pstate and the bytes after the request now belong to the new protocol handler,
// which reads them at once as if just received. HTTP's timeouts no longer apply.
static void http_handed_over(struct mg_connection *c, size_t consumed) {
  c->is_read_paused = 0;  // HTTP's pause (input behind a reply) is not the new protocol's
  mg_iobuf_del(&c->recv, 0, consumed);
  long n = (long) c->recv.len;
  if (n > 0 && c->pfn != NULL && !c->is_closing) c->pfn(c, MG_EV_READ, &n);
}

// A server owes a reply from here on (Mongoose's is_resp): until it is queued whole,
// pipelined requests wait (their bytes bounded by http_pause_input), an HTTP/1.0
// connection stays open for it, and reply_timeout_ms runs while the handler is silent
static void http_reply_owed(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  c->is_resp = 1;
  st->reply_begun = 0;
  st->reply_since = (uint32_t) mg_millis();
}

void mg_http_reply_done(struct mg_connection *c) {
  c->is_resp = 0;
}

// parsed: the head as http_on_head parsed it, reused while recv has not moved
// (the common GET needs one parse, not two); NULL to parse it again
static void http_deliver_msg(struct mg_connection *c, const struct mg_http_message *parsed, size_t body_len,
                             size_t consumed) {
  struct mg_http_message hm;
  if (parsed != NULL && parsed->head.buf == (char *) c->recv.buf) {
    hm = *parsed;
    hm.body = mg_str_n(hm.head.buf + hm.head.len, 0);
  } else {
    http_reparse(c, &hm);
  }
  hm.body.len = body_len;
  hm.message.len = hm.head.len + body_len;
  size_t queued = c->send.len;
  if (c->is_accepted) {
    http_reply_owed(c);
    mg_http_state(c)->pass_msgs++;
  }
  mg_call(c, MG_EV_HTTP_MSG, &hm);
  if (c->is_websocket) {
    http_handed_over(c, consumed);
    return;
  }
  if (c->is_accepted && c->is_resp && c->send.len > queued) {
    mg_http_state(c)->reply_begun = 1;
    if (mg_http_state(c)->out.serve.file == NULL && http_sent_whole_response(c, queued)) mg_http_reply_done(c);
  }
  http_message_done(c, consumed);
}

// Returns false if the handler refused the body (answered and set is_draining): the
// rest is dropped unread and the connection closes once the answer is out
static bool http_deliver_chunk(struct mg_connection *c, size_t ofs, size_t len) {
  struct mg_http_message hm;
  http_reparse(c, &hm);
  hm.chunk = mg_str_n((char *) c->recv.buf + ofs, len);
  mg_call(c, MG_EV_HTTP_CHUNK, &hm);
  if (!c->is_draining) return true;
  mg_http_state(c)->phase = HTTP_PHASE_REJECTED;
  c->recv.len = 0;
  return false;
}

static bool http_expects_continue(struct mg_http_message *hm) {
  struct mg_str *e = mg_http_get_header(hm, "Expect");
  return e != NULL && mg_strcasecmp(*e, mg_str("100-continue")) == 0;
}

// A client notes its requests as they leave, since a response to HEAD has no body
// whatever its head says (RFC 9110 9.3.2): a FIFO of "was HEAD" bits, one per request
// not yet answered. Heads are found where output starts or a noted head's
// Content-Length body ends; a chunked request body ends the scan of that batch.
// More requests in flight than there are bits would leave a HEAD's response read as
// if it had a body: the connection fails instead, saying why.
static void http_note_requests(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  while (st->out.sent.scanned < c->send.len) {
    struct mg_http_message hm;
    const char *p = (const char *) c->send.buf + st->out.sent.scanned;
    int n = mg_http_parse(p, c->send.len - st->out.sent.scanned, &hm);
    if (n <= 0 || mg_http_is_response(&hm)) {
      st->out.sent.scanned = (uint32_t) c->send.len;  // Not a request head: body bytes
      break;
    }
    if (st->out.sent.count >= HTTP_MAX_IN_FLIGHT) {
      mg_error(c, "more than %d requests sent ahead of their responses", HTTP_MAX_IN_FLIGHT);
      return;
    }
    if (mg_strcasecmp(hm.method, mg_str("HEAD")) == 0) st->out.sent.heads |= (uint64_t) 1 << st->out.sent.count;
    st->out.sent.count++;
    size_t skip = (size_t) n + hm.body.len, left = c->send.len - st->out.sent.scanned;
    st->out.sent.scanned = skip < left ? (uint32_t) (st->out.sent.scanned + skip) : (uint32_t) c->send.len;
  }
}

static bool http_sent_head_first(const struct http_state *st) {
  return st->out.sent.count > 0 && (st->out.sent.heads & 1U);
}

static void http_sent_pop(struct http_state *st) {
  if (st->out.sent.count == 0) return;
  st->out.sent.heads >>= 1;
  st->out.sent.count--;
}

static void http_handler(struct mg_connection *c, int ev, void *ev_data);

// The handler took the connection over in MG_EV_HTTP_HDRS (c->pfn = NULL, as
// Mongoose's upload examples do) and reads the body from c->recv itself. Unless
// it already removed the head, remove it, so what it reads is the body alone.
// head_len: the head's length, passed in since an upgrade has reused c->pstate.
static void http_taken_over(struct mg_connection *c, size_t recv_len_before, size_t head_len) {
  struct http_state *st = mg_http_state(c);
  if (c->is_websocket) {  // Upgraded from the head alone
    http_handed_over(c, c->recv.len == recv_len_before ? head_len : 0);
    return;
  }
  c->is_read_paused = 0;  // The handler reads the body itself now
  if (c->recv.len == recv_len_before && c->recv.len >= head_len) mg_iobuf_del(&c->recv, 0, head_len);
  st->phase = HTTP_PHASE_HEAD;
  st->head_len = st->body_len = 0;
  st->body_left = 0;
}

// A new head at the front of c->recv. Returns false to wait for more bytes.
static bool http_on_head(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  const struct mg_http_limits *lim = http_limits(c);
  struct mg_http_message hm;
  int n = mg_http_parse((const char *) c->recv.buf, c->recv.len, &hm);
  if (n == MG_HTTP_ERR_TOO_MANY_HEADERS) return http_reject(c, 431, "too many headers");
  if (n < 0) return http_reject(c, 400, c->is_accepted ? "malformed request" : "malformed response");
  if (n == 0 || (size_t) n > lim->max_head_size) {
    if (c->recv.len > lim->max_head_size || (size_t) n > lim->max_head_size)
      http_reject(c, 431, "request head too large");
    return false;
  }
  bool is_response = !c->is_accepted;
  if (is_response != mg_http_is_response(&hm)) {  // A response sent to a server, or vice versa
    return http_reject(c, 400, is_response ? "a request instead of a response" : "not a request");
  }
  if (!is_response && !http_is_version_1(&hm)) return http_reject(c, 505, "HTTP version not supported");
  uint64_t cl = 0;
  if (is_response) st->is_head = http_sent_head_first(st);
  enum mg_http_body_kind kind = mg_http_body_kind(&hm, is_response, is_response && st->is_head, &cl);
  if (kind == MG_HTTP_BODY_INVALID) return http_reject(c, 400, "invalid body framing");
  struct http_fields fields;
  http_scan_fields(&hm, &fields);
  bool is_10 = http_is_10(&hm);
  if (!is_response && !is_10 && !http_host_ok(&hm, &fields)) return http_reject(c, 400, "missing or repeated Host");
  // RFC 9112 6.1: an HTTP/1.0 peer cannot have meant it, so the framing is faulty
  if (!is_response && is_10 && mg_http_get_header(&hm, "Transfer-Encoding") != NULL)
    return http_reject(c, 400, "Transfer-Encoding in an HTTP/1.0 request");
  st->head_len = (uint32_t) n;
  st->head_pending = 0;
  st->body_since = (uint32_t) mg_millis();  // The body's wait starts
  int code = is_response ? mg_http_status(&hm) : 0;
  if (code >= 100 && code < 200 && code != 101) {  // Interim (100 Continue): the real answer follows
    mg_iobuf_del(&c->recv, 0, (size_t) n);
    st->head_len = 0;
    return true;
  }
  if (is_response) http_sent_pop(st);
  st->stream = 0;
  if (!is_response) {
    st->is_head = mg_http_name_is(hm.method, "head", 4);
    st->close_after = !http_keep_alive(&hm, &fields);
    st->is_http10 = is_10;
  } else {
    st->close_after = kind == MG_HTTP_BODY_TO_CLOSE || !http_keep_alive(&hm, &fields);
  }
  // As in Mongoose, body.len is the Content-Length (bytes not received yet included:
  // only hm->head may be read here), SIZE_MAX for a response body that ends at the
  // close, 0 for other framings
  hm.body.len = kind == MG_HTTP_BODY_LENGTH && cl <= SIZE_MAX - hm.head.len ? (size_t) cl : 0;
  hm.message.len = hm.head.len + hm.body.len;
  if (kind == MG_HTTP_BODY_TO_CLOSE) hm.body.len = SIZE_MAX;
  size_t queued = c->send.len, recv_len = c->recv.len;
  mg_call(c, MG_EV_HTTP_HDRS, &hm);
  if (c->pfn != http_handler) {
    http_taken_over(c, recv_len, (size_t) n);
    return false;
  }
  if (c->is_closing || st->phase == HTTP_PHASE_REJECTED) return false;
  bool answered = c->send.len > queued;  // The handler replied from the head alone
  if (answered && c->is_draining) {
    // ... and wants no body (a refusal): the rest is dropped unread, whatever its size,
    // and the connection closes once the answer is out
    st->phase = HTTP_PHASE_REJECTED;
    c->recv.len = 0;
    return false;
  }

  bool fits = kind == MG_HTTP_BODY_LENGTH ? cl <= http_body_cap(c) : true;
  if (!st->stream && !fits) return http_reject(c, 413, "request body too large");
  // RFC 9110 10.1.1: never to an HTTP/1.0 client
  if (!is_response && !answered && !st->is_http10 && http_expects_continue(&hm) && kind != MG_HTTP_BODY_NONE)
    mg_printf(c, "HTTP/1.1 100 Continue\r\n\r\n");
  st->body_left = cl;
  st->body_len = 0;
  switch (kind) {
    case MG_HTTP_BODY_LENGTH: st->phase = st->stream ? HTTP_PHASE_STREAM : HTTP_PHASE_BODY; break;
    case MG_HTTP_BODY_CHUNKED: st->phase = st->stream ? HTTP_PHASE_STREAM_CHUNKED : HTTP_PHASE_CHUNKED; break;
    case MG_HTTP_BODY_TO_CLOSE: st->phase = st->stream ? HTTP_PHASE_STREAM_TO_CLOSE : HTTP_PHASE_TO_CLOSE; break;
    default: http_deliver_msg(c, &hm, 0, st->head_len); return true;
  }
  if (st->phase == HTTP_PHASE_BODY && c->recv.len - st->head_len >= cl)  // Body came with the head
    http_deliver_msg(c, &hm, (size_t) cl, st->head_len + (size_t) cl);
  return true;
}

// Chunked body, buffered: decode in place so the body ends up contiguous after the head
static bool http_on_chunked(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  size_t pos = st->head_len + st->body_len, data_ofs = 0, data_len = 0;
  long span = mg_http_parse_chunk((const char *) c->recv.buf + pos, c->recv.len - pos, &data_ofs, &data_len);
  if (span < 0) return http_reject(c, 400, "bad chunked encoding");
  if (!http_framing_fits(c, span, c->recv.len - pos, data_ofs, data_ofs > 0 && data_len == 0)) return false;
  if (span == 0) {
    if (st->body_len + data_len > http_body_cap(c)) http_reject(c, 413, "request body too large");
    return false;
  }
  if (data_len == 0) {  // Last chunk: trailers are dropped
    mg_iobuf_del(&c->recv, pos, (size_t) span);
    http_deliver_msg(c, NULL, st->body_len, st->head_len + st->body_len);
    return true;
  }
  if (st->body_len + data_len > http_body_cap(c)) return http_reject(c, 413, "request body too large");
  memmove(c->recv.buf + pos, c->recv.buf + pos + data_ofs, data_len);
  mg_iobuf_del(&c->recv, pos + data_len, (size_t) span - data_len);
  st->body_len += data_len;
  return true;
}

// Chunked body, streamed: chunk data goes to the handler as it arrives, so a
// single chunk may be larger than the receive buffer
static bool http_on_stream_chunked(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  size_t pos = st->head_len, avail = c->recv.len - pos, data_ofs = 0, data_len = 0;
  const char *p = (const char *) c->recv.buf + pos;
  if (st->body_left > 0) {  // Inside a chunk's data
    size_t n = avail < st->body_left ? avail : (size_t) st->body_left;
    if (n == 0) return false;  // Nothing new (a loop pass's MG_EV_POLL): no empty CHUNK
    if (!http_deliver_chunk(c, pos, n)) return false;
    mg_iobuf_del(&c->recv, pos, n);
    st->body_left -= n;
    st->chunk_tail = st->body_left == 0;
    return n > 0;
  }
  if (st->chunk_tail) {  // The line end after a chunk's data
    size_t eol = avail > 0 && p[0] == '\n' ? 1 : avail > 1 && p[0] == '\r' && p[1] == '\n' ? 2 : 0;
    if (eol == 0 && (avail > 1 || (avail == 1 && p[0] != '\r'))) return http_reject(c, 400, "bad chunked encoding");
    mg_iobuf_del(&c->recv, pos, eol);
    st->chunk_tail = eol == 0;
    return eol > 0;
  }
  long span = mg_http_parse_chunk(p, avail, &data_ofs, &data_len);
  if (span < 0) return http_reject(c, 400, "bad chunked encoding");
  if (!http_framing_fits(c, span, avail, data_ofs, data_ofs > 0 && data_len == 0)) return false;
  if (span == 0 && data_ofs > 0 && data_len > 0) {  // Size line complete, data still coming
    mg_iobuf_del(&c->recv, pos, data_ofs);
    st->body_left = data_len;
    return true;
  }
  if (span == 0) return false;  // http_framing_fits bounds what waits
  if (data_len > 0 && !http_deliver_chunk(c, pos + data_ofs, data_len)) return false;
  mg_iobuf_del(&c->recv, pos, (size_t) span);
  if (data_len == 0) http_deliver_msg(c, NULL, 0, st->head_len);  // Last chunk
  return true;
}

// Identity body streamed to the handler as it arrives
static bool http_on_stream(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  size_t avail = c->recv.len - st->head_len;
  size_t n = st->phase == HTTP_PHASE_STREAM_TO_CLOSE || avail < st->body_left ? avail : (size_t) st->body_left;
  if (n > 0) {
    if (!http_deliver_chunk(c, st->head_len, n)) return false;
    mg_iobuf_del(&c->recv, st->head_len, n);
    if (st->phase == HTTP_PHASE_STREAM) st->body_left -= n;
  }
  if (st->phase == HTTP_PHASE_STREAM && st->body_left == 0) {
    http_deliver_msg(c, NULL, 0, st->head_len);
    return true;
  }
  return false;
}

static bool http_is_stream_phase(uint8_t phase) {
  return phase == HTTP_PHASE_STREAM || phase == HTTP_PHASE_STREAM_CHUNKED || phase == HTTP_PHASE_STREAM_TO_CLOSE;
}

// A read that filled the receive buffer in a streamed body: the peer has more, so the
// next reads get MG_HTTP_STREAM_ROOM past the head. Bulk bodies then cost a few large
// reads and chunks instead of one per MG_IO_SIZE; a trickle never grows the buffer, and
// the event layer frees it once the message is done. Without the memory the reads stay small.
static void http_stream_room(struct mg_connection *c, bool read_filled) {
  struct http_state *st = mg_http_state(c);
  size_t want = st->head_len + MG_HTTP_STREAM_ROOM;
  if (!read_filled || !http_is_stream_phase(st->phase) || c->recv.size >= want || want > MG_MAX_RECV_SIZE) return;
  mg_iobuf_resize(&c->recv, want);
}

// A server holds the next pipelined request back while a reply is owed, until the
// answers before it have left c->send (for the kernel), so a peer that reads nothing
// makes us queue one reply; and after HTTP_PASS_MSGS requests in a loop pass (twice
// that with its read), however fast its peer reads, so every other connection's turn
// comes soon. The rest wait for the next pass, which then does not sleep first.
#define HTTP_PASS_MSGS 8
static bool http_held_back(struct mg_connection *c) {
  return c->is_accepted && (c->is_resp || c->send.len > 0 || mg_http_state(c)->pass_msgs >= HTTP_PASS_MSGS);
}

static bool http_may_parse(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  if (c->is_closing || c->is_resp || c->recv.len == 0 || c->pfn != http_handler) return false;
  if (st->phase != HTTP_PHASE_HEAD || !http_held_back(c)) return true;
  if (st->pass_msgs >= HTTP_PASS_MSGS) c->mgr->no_wait = true;
  return false;
}

// While the next request is held back, input waits in c->recv: up to a head's worth
// (the read that crosses it may bring as much again: the buffer grows by doubling),
// then the connection stops reading, and TCP's window holds the peer back. Reading
// resumes with parsing.
static void http_pause_input(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);  // In a body, the parser's own limits bound what waits
  c->is_read_paused = st->phase == HTTP_PHASE_HEAD && http_held_back(c) && c->recv.len >= http_limits(c)->max_head_size;
}

// Frame as many messages as c->recv holds
static void http_process(struct mg_connection *c) {
  struct http_state *st = mg_http_state(c);
  bool progress = true;
  while (progress && http_may_parse(c)) {
    switch (st->phase) {
      case HTTP_PHASE_HEAD:
        if (!st->head_pending) {
          st->head_pending = 1;
          st->head_since = (uint32_t) mg_millis();
        }
        progress = http_on_head(c);
        break;
      case HTTP_PHASE_BODY:
        progress = c->recv.len >= st->head_len + st->body_left;
        if (progress) http_deliver_msg(c, NULL, (size_t) st->body_left, st->head_len + (size_t) st->body_left);
        break;
      case HTTP_PHASE_CHUNKED: progress = http_on_chunked(c); break;
      case HTTP_PHASE_STREAM_CHUNKED: progress = http_on_stream_chunked(c); break;
      case HTTP_PHASE_STREAM:
      case HTTP_PHASE_STREAM_TO_CLOSE: progress = http_on_stream(c); break;
      case HTTP_PHASE_TO_CLOSE:
        progress = false;
        if (c->recv.len - st->head_len > http_body_cap(c)) http_reject(c, 413, "response body too large");
        break;
      default: c->recv.len = 0, progress = false; break;  // Rejected: discard
    }
  }
  if (c->pfn != http_handler) return;  // Handed over: c->pstate is no longer ours
  if (st->phase == HTTP_PHASE_HEAD && c->recv.len == 0) st->head_pending = 0;  // Between requests
  http_pause_input(c);
}

static bool http_is_body_phase(uint8_t phase) {
  return phase == HTTP_PHASE_BODY || phase == HTTP_PHASE_CHUNKED || phase == HTTP_PHASE_STREAM ||
         phase == HTTP_PHASE_STREAM_CHUNKED;
}

static bool http_timed_out(uint64_t now, uint32_t since, uint32_t limit_ms) {
  return limit_ms > 0 && http_waited(now, since) > limit_ms;
}

// The peer has taken no byte of what is queued for send_timeout_ms: it stopped
// reading, and what it made us queue is released
static bool http_check_send_stall(struct mg_connection *c, uint64_t now) {
  struct http_state *st = mg_http_state(c);
  uint32_t limit = http_limits(c)->send_timeout_ms;
  if (c->send.len == 0) st->write_since = (uint32_t) now;
  if (!http_timed_out(now, st->write_since, limit)) return false;
  MG_INFO(("%lu closing %M: peer read nothing of %lu queued bytes for %lu ms", c->id, mg_print_ip_port, &c->rem,
           (unsigned long) c->send.len, (unsigned long) limit));
  c->is_closing = 1;
  return true;
}

// The handler owes a reply and has queued nothing for reply_timeout_ms: the client
// hears so (503) if none of the reply went out, else the connection just closes
static void http_check_reply(struct mg_connection *c, uint64_t now) {
  struct http_state *st = mg_http_state(c);
  uint32_t limit = http_limits(c)->reply_timeout_ms;
  if (c->send.len > 0 || st->out.serve.file != NULL) {
    st->reply_begun = 1;
    st->reply_since = (uint32_t) now;
  }
  if (!http_timed_out(now, st->reply_since, limit)) return;
  MG_ERROR(("%lu no reply from the handler for %lu ms to %M: %s", c->id, (unsigned long) limit, mg_print_ip_port,
            &c->rem, st->reply_begun ? "closing" : "answering 503"));
  if (st->reply_begun) {
    c->is_closing = 1;
    return;
  }
  mg_http_reply_done(c);
  http_reject(c, 503, "no reply in time");
}

// Server side: a head that takes too long, a body that stops, a connection idle for
// too long, a peer that stops reading, a reply that does not come. Each has its own clock.
static void http_check_timeouts(struct mg_connection *c, uint64_t now) {
  struct http_state *st = mg_http_state(c);
  const struct mg_http_limits *lim = http_limits(c);
  bool idle = st->phase == HTTP_PHASE_HEAD && !st->head_pending && !c->is_resp && c->send.len == 0 &&
              c->recv.len == 0;
  if (!idle) st->idle_since = (uint32_t) now;
  if (http_check_send_stall(c, now)) return;
  if (c->is_resp) {
    http_check_reply(c, now);
  } else if (st->phase == HTTP_PHASE_HEAD && st->head_pending) {
    if (http_timed_out(now, st->head_since, lim->head_timeout_ms)) {
      MG_INFO(("%lu closing %M: request head not complete after %lu ms", c->id, mg_print_ip_port, &c->rem,
               (unsigned long) lim->head_timeout_ms));
      http_reject(c, 408, "request head timeout");
    }
  } else if (idle && http_timed_out(now, st->idle_since, lim->idle_timeout_ms)) {
    // RFC 9112 9.5: a server may close an idle connection; no response is owed
    MG_DEBUG(("%lu closing %M: idle for %lu ms", c->id, mg_print_ip_port, &c->rem,
              (unsigned long) lim->idle_timeout_ms));
    st->phase = HTTP_PHASE_REJECTED;
    c->is_draining = 1;
  } else if (http_is_body_phase(st->phase) && http_timed_out(now, st->body_since, lim->body_timeout_ms)) {
    MG_INFO(("%lu closing %M: no request body byte for %lu ms", c->id, mg_print_ip_port, &c->rem,
             (unsigned long) lim->body_timeout_ms));
    http_reject(c, 408, "request body timeout");
  }
}

static void http_on_poll(struct mg_connection *c, uint64_t now) {
  struct http_state *st = mg_http_state(c);
  st->pass_msgs = 0;
  if (http_may_parse(c)) http_process(c);  // Pipelined requests held back by a reply
  if (c->is_accepted && c->pfn == http_handler) http_check_timeouts(c, now);
  if (c->pfn != http_handler) return;
  http_pause_input(c);
  if (c->is_eof && !c->is_accepted) {
    // Body delimited by the connection closing
    if (st->phase == HTTP_PHASE_TO_CLOSE) {
      http_deliver_msg(c, NULL, c->recv.len - st->head_len, c->recv.len);
    } else if (st->phase == HTTP_PHASE_STREAM_TO_CLOSE) {
      http_deliver_msg(c, NULL, 0, c->recv.len);
    } else if (st->phase != HTTP_PHASE_HEAD || c->recv.len > 0) {
      if (st->phase != HTTP_PHASE_REJECTED) mg_error(c, "connection closed in the middle of a response");
    }
  }
}

// Over the listener's max_conns? Its connections are the accepted ones that carry
// its handler and limits (so listeners sharing one limits struct share the cap);
// those already closing have given their place back.
static bool http_over_cap(struct mg_connection *c) {
  size_t cap = http_limits(c)->max_conns, n = 0;
  if (cap == 0) return false;
  for (struct mg_connection *t = c->mgr->conns; t != NULL; t = t->next) {
    if (t->is_accepted && !t->is_closing && t->pfn == http_handler && t->pfn_data == c->pfn_data) n++;
  }
  return n > cap;  // n counts c itself
}

static void http_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT && http_over_cap(c)) {
    MG_INFO(("%lu 503 for %M: over max_conns (%lu)", c->id, mg_print_ip_port, &c->rem,
             (unsigned long) http_limits(c)->max_conns));
    mg_http_state(c)->close_after = 1;
    mg_http_reply(c, 503, "Retry-After: 1\r\n", "Too many connections, try again\n");
    mg_http_state(c)->phase = HTTP_PHASE_REJECTED;
    c->is_draining = 1;
  } else if (ev == MG_EV_OPEN) {
    mg_http_state(c)->idle_since = mg_http_state(c)->write_since = (uint32_t) mg_millis();
  } else if (ev == MG_EV_READ) {
    bool filled = c->recv.len == c->recv.size;
    if (http_is_body_phase(mg_http_state(c)->phase)) mg_http_state(c)->body_since = (uint32_t) mg_millis();
    http_process(c);
    if (c->pfn == http_handler) http_stream_room(c, filled);  // Once the chunks are out: less to copy
  } else if (ev == MG_EV_OUTPUT_INTERNAL) {
    if (!c->is_accepted) http_note_requests(c);
  } else if (ev == MG_EV_WRITE) {
    struct http_state *st = mg_http_state(c);
    long n = *(long *) ev_data;
    if (c->is_accepted) {
      st->write_since = (uint32_t) mg_millis();
      if (c->is_resp) {  // The owed reply is coming
        st->reply_begun = 1;
        st->reply_since = st->write_since;
      }
    } else {
      st->out.sent.scanned = (uint64_t) n < st->out.sent.scanned ? st->out.sent.scanned - (uint32_t) n : 0;
    }
    if (c->is_accepted) mg_http_serve_continue(c);
    if (http_may_parse(c)) http_process(c);  // Pipelined requests waited for the answers before them
  } else if (ev == MG_EV_POLL) {
    if (c->is_accepted) mg_http_serve_continue(c);  // out.serve is a server's, out.sent a client's
    http_on_poll(c, *(uint64_t *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    if (c->is_accepted) mg_http_serve_abort(c);
  }
}

struct mg_connection *mg_http_listen_limits(struct mg_mgr *mgr, const char *url,
                                            const struct mg_http_limits *limits,
                                            mg_event_handler_t fn, void *fn_data) {
  return mg_listen_svc(mgr, url, fn, fn_data, http_handler, (void *) limits);
}

struct mg_connection *mg_http_listen(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  return mg_http_listen_limits(mgr, url, NULL, fn, fn_data);
}

struct mg_connection *mg_http_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  return mg_connect_svc(mgr, url, fn, fn_data, http_handler, NULL);
}
