// The HTTP protocol handler over loopback, one manager running a server and its
// clients: event order, body framing (Content-Length, chunked, to-close, streamed),
// limits, 100-continue, replies, keep-alive and closing, errors on both sides.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "meerkat.h"

#define MAX_EVENTS 128
#define MAX_MSGS 4

static void poll_until(struct mg_mgr *mgr, bool *cond, int max_ms) {
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  while (!*cond && mg_millis() < end) mg_mgr_poll(mgr, 10);
}

static void poll_for(struct mg_mgr *mgr, int ms) {
  bool never = false;
  poll_until(mgr, &never, ms);
}

static size_t io_count(const struct mg_iobuf *io, const char *s) {
  size_t n = 0, len = strlen(s);
  for (size_t i = 0; len > 0 && i + len <= io->len; i++)
    if (memcmp(io->buf + i, s, len) == 0) n++;
  return n;
}

static bool io_starts_with(const struct mg_iobuf *io, const char *s) {
  return io->len >= strlen(s) && memcmp(io->buf, s, strlen(s)) == 0;
}

static bool str_is(struct mg_str s, const void *buf, size_t len) {
  return s.len == len && (len == 0 || memcmp(s.buf, buf, len) == 0);
}

// Events as letters: H(DRS), C(HUNK), M(SG), E(RROR). Pattern "HC+M": '+' repeats the letter before it.
static bool seq_matches(const char *seq, const char *pat) {
  while (*pat != '\0') {
    if (*seq != *pat) return false;
    if (pat[1] == '+') {
      while (*seq == *pat) seq++;
      pat += 2;
    } else {
      seq++, pat++;
    }
  }
  return *seq == '\0';
}

static void seq_add(char *seq, int ev) {
  size_t n = strlen(seq);
  char ch = ev == MG_EV_HTTP_HDRS ? 'H' : ev == MG_EV_HTTP_CHUNK ? 'C' : ev == MG_EV_HTTP_MSG ? 'M' : 'E';
  if (n < MAX_EVENTS) seq[n] = ch, seq[n + 1] = '\0';
}

// Body bytes that are easy to check: "abcdef...zabc..."
static void fill_pattern(char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) buf[i] = (char) ('a' + i % 26);
}

// ---------------------------------------------------------------------------
// Server: records what the protocol handler raises and replies on MSG

struct server;
typedef void (*reply_fn)(struct mg_connection *c, struct mg_http_message *hm, struct server *s);

struct server {
  bool stream;                   // Take bodies as MG_EV_HTTP_CHUNK
  reply_fn reply;                // On MSG; NULL: "<uri> got <body bytes>"
  char seq[MAX_EVENTS + 1];      // H / C / M as they came
  size_t hdrs_body_len;          // hm->body.len seen in the last HDRS that had one
  struct mg_iobuf chunks;        // Every CHUNK piece, concatenated
  size_t msg_chunk_bytes;        // CHUNK bytes since the last HDRS
  struct mg_iobuf body;          // Body of the last MSG
  int nmsgs, accepted, closed;
  struct mg_connection *deferred;  // Reply to it on its next MG_EV_POLL
  size_t max_recv;               // Largest c->recv.len an accepted connection held after the handler
  size_t max_recv_size;          // Largest c->recv.size an accepted connection had then
  size_t max_chunk;              // Largest CHUNK piece
  int empty_chunks;              // CHUNKs with no bytes
};

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct server *s = (struct server *) c->fn_data;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_ACCEPT) s->accepted++;
  if ((ev == MG_EV_READ || ev == MG_EV_POLL) && c->is_accepted && c->recv.len > s->max_recv) s->max_recv = c->recv.len;
  if ((ev == MG_EV_READ || ev == MG_EV_POLL) && c->is_accepted && c->recv.size > s->max_recv_size)
    s->max_recv_size = c->recv.size;
  if (ev == MG_EV_CLOSE && c->is_accepted) s->closed++;
  if (ev == MG_EV_POLL && s->deferred == c) {
    s->deferred = NULL;
    mg_http_reply(c, 200, NULL, "deferred");
  }
  if (ev != MG_EV_HTTP_HDRS && ev != MG_EV_HTTP_CHUNK && ev != MG_EV_HTTP_MSG) return;
  seq_add(s->seq, ev);
  if (ev == MG_EV_HTTP_HDRS) {
    if (hm->body.len > 0) s->hdrs_body_len = hm->body.len;
    s->msg_chunk_bytes = 0;
    if (s->stream) mg_http_stream_body(c);
    if (mg_str_eq(hm->uri, "/deny")) {  // Refused from the head alone, before any body
      mg_http_reply(c, 401, NULL, "denied");
      c->is_draining = 1;
    }
  } else if (ev == MG_EV_HTTP_CHUNK) {
    mg_iobuf_add(&s->chunks, s->chunks.len, hm->chunk.buf, hm->chunk.len);
    s->msg_chunk_bytes += hm->chunk.len;
    if (hm->chunk.len > s->max_chunk) s->max_chunk = hm->chunk.len;
    if (hm->chunk.len == 0) s->empty_chunks++;
    if (mg_str_eq(hm->uri, "/stop") && !c->is_draining) {  // Refused after the first piece of body
      mg_http_reply(c, 400, NULL, "stopped");
      c->is_draining = 1;
    }
  } else {
    s->body.len = 0;
    mg_iobuf_add(&s->body, 0, hm->body.buf, hm->body.len);
    s->nmsgs++;
    if (s->reply != NULL) {
      s->reply(c, hm, s);
    } else {
      mg_http_reply(c, 200, NULL, "%.*s got %lu", (int) hm->uri.len, hm->uri.buf,
                    (unsigned long) (hm->body.len + s->msg_chunk_bytes));
    }
  }
}

static void server_free(struct server *s) {
  mg_iobuf_free(&s->chunks);
  mg_iobuf_free(&s->body);
}

// Listens on an ephemeral port; url gets "127.0.0.1:<port>" (no scheme)
static void server_start(struct mg_mgr *mgr, const struct mg_http_limits *lim, struct server *s, char *addr,
                         size_t len) {
  struct mg_connection *l = mg_http_listen_limits(mgr, "http://127.0.0.1:0", lim, server_fn, s);
  cr_assert_not_null(l);
  mg_snprintf(addr, len, "127.0.0.1:%d", mg_ntohs(l->loc.port));
}

// ---------------------------------------------------------------------------
// Raw client: sends crafted bytes (all at once or a piece per poll) and keeps
// everything it receives

struct raw {
  const char *req;
  size_t len;          // Bytes of req to send (0: strlen)
  size_t piece;        // Send this many per poll iteration; 0 sends all at once
  int interval_ms;     // Between pieces
  const char *until;   // done once the received bytes hold this
  size_t sent;
  uint64_t next_send;
  bool connected, done, closed;
  struct mg_iobuf got;
};

static void raw_send_some(struct mg_connection *c, struct raw *r) {
  size_t total = r->len ? r->len : strlen(r->req);
  if (r->sent >= total || mg_millis() < r->next_send) return;
  size_t n = r->piece == 0 || total - r->sent < r->piece ? total - r->sent : r->piece;
  mg_send(c, r->req + r->sent, n);
  r->sent += n;
  r->next_send = mg_millis() + (uint64_t) r->interval_ms;
}

static void raw_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct raw *r = (struct raw *) c->fn_data;
  if (ev == MG_EV_CONNECT) r->connected = true;
  if ((ev == MG_EV_CONNECT || ev == MG_EV_POLL) && r->connected && r->req != NULL) raw_send_some(c, r);
  if (ev == MG_EV_READ) {
    mg_iobuf_add(&r->got, r->got.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
    if (r->until != NULL && io_count(&r->got, r->until) > 0) r->done = true;
  }
  if (ev == MG_EV_CLOSE) r->closed = r->done = true;
  (void) ev_data;
}

static struct mg_connection *raw_start(struct mg_mgr *mgr, const char *addr, struct raw *r) {
  char url[64];
  mg_snprintf(url, sizeof(url), "tcp://%s", addr);
  struct mg_connection *c = mg_connect(mgr, url, raw_fn, r);
  cr_assert_not_null(c);
  return c;
}

// ---------------------------------------------------------------------------
// HTTP client: mg_http_connect, so responses go through the same handler

struct hclient {
  const char *req;               // Sent on connect
  const char *req2;              // Sent after the first MSG, on the same connection
  int want;                      // done after this many MSGs (0: 1)
  bool stream;                   // Take response bodies as CHUNKs
  char seq[MAX_EVENTS + 1];
  int nmsgs, status[MAX_MSGS];
  struct mg_iobuf body[MAX_MSGS];
  struct mg_iobuf chunks;
  char header[MAX_MSGS][32];     // Value of X-Test in each MSG
  char cl[MAX_MSGS][16];         // Value of Content-Length in each MSG
  char error[160];
  bool done, closed;
};

static void copy_header(struct mg_http_message *hm, const char *name, char *dst, size_t len) {
  struct mg_str *v = mg_http_get_header(hm, name);
  mg_snprintf(dst, len, "%.*s", v == NULL ? 0 : (int) v->len, v == NULL ? "" : v->buf);
}

static void hclient_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct hclient *h = (struct hclient *) c->fn_data;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_CONNECT) mg_printf(c, "%s", h->req);
  if (ev == MG_EV_ERROR) {
    seq_add(h->seq, ev);
    mg_snprintf(h->error, sizeof(h->error), "%s", (char *) ev_data);
  }
  if (ev == MG_EV_CLOSE) h->closed = h->done = true;
  if (ev == MG_EV_HTTP_HDRS) {
    seq_add(h->seq, ev);
    if (h->stream) mg_http_stream_body(c);
  }
  if (ev == MG_EV_HTTP_CHUNK) {
    seq_add(h->seq, ev);
    mg_iobuf_add(&h->chunks, h->chunks.len, hm->chunk.buf, hm->chunk.len);
  }
  if (ev == MG_EV_HTTP_MSG) {
    seq_add(h->seq, ev);
    if (h->nmsgs < MAX_MSGS) {
      int i = h->nmsgs;
      h->status[i] = mg_http_status(hm);
      mg_iobuf_add(&h->body[i], 0, hm->body.buf, hm->body.len);
      copy_header(hm, "X-Test", h->header[i], sizeof(h->header[i]));
      copy_header(hm, "Content-Length", h->cl[i], sizeof(h->cl[i]));
    }
    h->nmsgs++;
    if (h->nmsgs == 1 && h->req2 != NULL) mg_printf(c, "%s", h->req2);
    if (h->nmsgs >= (h->want ? h->want : 1)) h->done = true;
  }
}

static void hclient_start(struct mg_mgr *mgr, const char *addr, struct hclient *h) {
  char url[64];
  mg_snprintf(url, sizeof(url), "http://%s", addr);
  cr_assert_not_null(mg_http_connect(mgr, url, hclient_fn, h));
}

static void hclient_free(struct hclient *h) {
  for (int i = 0; i < MAX_MSGS; i++) mg_iobuf_free(&h->body[i]);
  mg_iobuf_free(&h->chunks);
}

// A plain server that answers the first request head with canned bytes
struct canned {
  const char *resp;
  bool close;  // Close once sent: the response ends at EOF
};

static void canned_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct canned *k = (struct canned *) c->fn_data;
  struct mg_iobuf io = c->recv;
  if (ev == MG_EV_READ && io_count(&io, "\r\n\r\n") > 0) {
    c->recv.len = 0;
    mg_send(c, k->resp, strlen(k->resp));
    if (k->close) c->is_draining = 1;
  }
  (void) ev_data;
}

static void canned_start(struct mg_mgr *mgr, struct canned *k, char *addr, size_t len) {
  struct mg_connection *l = mg_listen(mgr, "tcp://127.0.0.1:0", canned_fn, k);
  cr_assert_not_null(l);
  mg_snprintf(addr, len, "127.0.0.1:%d", mg_ntohs(l->loc.port));
}

// ---------------------------------------------------------------------------
// Request bodies: event order, buffered and streamed, whole and in small writes

#define BODY_LEN 100

// body encoded in chunks of 7 bytes (one with an extension), then trailers
static size_t encode_chunked(const char *body, size_t len, char *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < len; i += 7) {
    size_t k = len - i < 7 ? len - i : 7;
    n += mg_snprintf(out + n, cap - n, i == 14 ? "%lx;name=value\r\n%.*s\r\n" : "%lx\r\n%.*s\r\n",
                     (unsigned long) k, (int) k, body + i);
  }
  n += mg_snprintf(out + n, cap - n, "0\r\nX-Trailer: ignored\r\n\r\n");
  cr_assert_lt(n, cap);
  return n;
}

// POST a body (then a pipelined GET), check what the server handler saw
static void check_request_body(bool chunked, bool stream, size_t piece) {
  struct mg_mgr mgr;
  struct server s = {.stream = stream};
  struct raw r = {.piece = piece, .until = "/after got 0"};
  char addr[32], body[BODY_LEN], req[1024];
  fill_pattern(body, sizeof(body));
  size_t n;
  if (chunked) {
    n = mg_snprintf(req, sizeof(req), "POST /in HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    n += encode_chunked(body, sizeof(body), req + n, sizeof(req) - n);
  } else {
    n = mg_snprintf(req, sizeof(req), "POST /in HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%.*s", BODY_LEN, BODY_LEN,
                    body);
  }
  n += mg_snprintf(req + n, sizeof(req) - n, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n");
  r.req = req;
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 3000);
  cr_assert(r.done && !r.closed, "chunked %d stream %d piece %lu: got %.*s", chunked, stream, (unsigned long) piece,
            (int) r.got.len, r.got.buf);
  cr_assert_eq(io_count(&r.got, "/in got 100"), 1, "the reply counts the whole body");
  cr_assert_eq(s.hdrs_body_len, chunked ? 0 : BODY_LEN, "HDRS: body.len is the Content-Length (Mongoose), 0 when chunked");
  if (stream) {
    cr_assert(seq_matches(s.seq, "HC+MHM"), "events %s", s.seq);
    cr_assert_eq(s.chunks.len, BODY_LEN);
    cr_assert_arr_eq(s.chunks.buf, body, BODY_LEN, "chunks concatenate to the body");
    if (piece > 0) cr_assert_geq(strlen(s.seq), 2 + BODY_LEN / piece / 2, "small writes give many chunks: %s", s.seq);
  } else {
    cr_assert_str_eq(s.seq, "HMHM");
    cr_assert_eq(s.chunks.len, 0);
  }
  cr_assert_eq(s.nmsgs, 2);
  cr_assert_eq(s.body.len, 0, "the last MSG (GET /after) has no body");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// The body of the first MSG, for buffered bodies: checked by a reply function
static void reply_echo_body(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  mg_http_reply(c, 200, NULL, "[%.*s]", (int) hm->body.len, hm->body.buf);
  (void) s;
}

Test(http_conn, content_length_body_gives_hdrs_then_msg_with_the_whole_body) {
  check_request_body(false, false, 0);
  check_request_body(false, false, 3);
}

Test(http_conn, chunked_body_is_buffered_decoded_and_its_trailers_dropped) {
  check_request_body(true, false, 0);
  check_request_body(true, false, 1);
  check_request_body(true, false, 5);
}

Test(http_conn, streamed_content_length_body_comes_as_chunks_then_an_empty_msg) {
  check_request_body(false, true, 0);
  check_request_body(false, true, 3);
}

Test(http_conn, streamed_chunked_body_comes_decoded_as_chunks_then_an_empty_msg) {
  check_request_body(true, true, 0);
  check_request_body(true, true, 4);
}

// A bulk upload, all of it sent at once: once a read fills the buffer, reads (and so the
// CHUNKs) grow past MG_IO_SIZE, and the connection never holds more than its head and
// MG_HTTP_STREAM_ROOM (in whole MG_IO_SIZE blocks) however much waits in the kernel; no
// CHUNK is empty.
static void check_bulk_stream(bool chunked) {
  enum { LEN = 256 * 1024 };
  struct mg_mgr mgr;
  struct server s = {.stream = true};
  static char body[LEN], req[LEN + 256];
  char head[128], addr[32];
  fill_pattern(body, sizeof(body));
  size_t head_len = mg_snprintf(head, sizeof(head), "POST /bulk HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n",
                                chunked ? "Transfer-Encoding: chunked" : "Content-Length: 262144");
  size_t n = mg_snprintf(req, sizeof(req), "%s%s", head, chunked ? "40000\r\n" : "");
  memcpy(req + n, body, LEN);
  n += LEN;
  if (chunked) n += mg_snprintf(req + n, sizeof(req) - n, "\r\n0\r\n\r\n");
  struct raw r = {.req = req, .len = n, .until = "/bulk got 262144"};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 5000);
  cr_assert(r.done && !r.closed, "chunked %d: got %.*s", chunked, (int) r.got.len, r.got.buf);
  cr_assert(s.seq[0] == 'H' && s.seq[1] == 'C' && s.nmsgs == 1, "events %s", s.seq);  // seq keeps MAX_EVENTS
  cr_assert_eq(s.chunks.len, LEN);
  cr_assert_arr_eq(s.chunks.buf, body, LEN, "chunks concatenate to the body");
  cr_assert_gt(s.max_chunk, MG_IO_SIZE, "chunked %d: pieces stayed within MG_IO_SIZE (largest %lu)", chunked,
               (unsigned long) s.max_chunk);
  cr_assert_eq(s.empty_chunks, 0, "chunked %d: %d CHUNKs without bytes", chunked, s.empty_chunks);
  size_t bound = (head_len + MG_HTTP_STREAM_ROOM + MG_IO_SIZE - 1) / MG_IO_SIZE * MG_IO_SIZE;  // Whole blocks
  cr_assert_leq(s.max_recv_size, bound, "chunked %d: c->recv grew to %lu bytes", chunked, (unsigned long) s.max_recv_size);
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, streamed_bulk_body_is_read_in_big_steps_within_a_bound) {
  check_bulk_stream(false);
  check_bulk_stream(true);
}

Test(http_conn, msg_body_holds_exactly_the_decoded_bytes) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_echo_body};
  struct raw r = {.req = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "3\r\nabc\r\n0A\r\n0123456789\r\n0\r\nT: 1\r\nU: 2\r\n\r\n"
                         "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nwxyz",
                  .until = "[wxyz]"};
  char addr[32];
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 3000);
  cr_assert_eq(io_count(&r.got, "[abc0123456789]"), 1, "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_eq(io_count(&r.got, "[wxyz]"), 1);
  cr_assert_str_eq(s.seq, "HMHM");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, empty_bodies_give_msg_at_once_buffered_or_streamed) {
  for (int stream = 0; stream < 2; stream++) {
    struct mg_mgr mgr;
    struct server s = {.stream = stream};
    char addr[32];
    // Nothing follows either request: the MSG must not wait for more bytes
    struct raw cl = {.req = "POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", .until = "/cl got 0"},
               te = {.req = "POST /te HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .until = "/te got 0"};
    mg_mgr_init(&mgr);
    server_start(&mgr, NULL, &s, addr, sizeof(addr));
    raw_start(&mgr, addr, &cl);
    poll_until(&mgr, &cl.done, 3000);
    raw_start(&mgr, addr, &te);
    poll_until(&mgr, &te.done, 3000);
    cr_assert(cl.done && te.done && !cl.closed && !te.closed, "stream %d", stream);
    cr_assert_str_eq(s.seq, "HMHM", "stream %d", stream);
    server_free(&s);
    mg_iobuf_free(&cl.got);
    mg_iobuf_free(&te.got);
    mg_mgr_free(&mgr);
  }
}

// ---------------------------------------------------------------------------
// Limits

static const struct mg_http_limits small_limits = {256, 1024, 200, 0, 0, 0, 0, 0};

// A GET whose head is exactly len bytes
static void make_head(char *buf, size_t len) {
  static const char start[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Fill: ", end[] = "\r\n\r\n";
  size_t fill = len - (sizeof(start) - 1) - (sizeof(end) - 1);
  memcpy(buf, start, sizeof(start) - 1);
  memset(buf + sizeof(start) - 1, 'f', fill);
  memcpy(buf + len - 4, end, sizeof(end));
}

Test(http_conn, head_over_max_head_size_gets_431_and_close) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32], at_limit[300], over[300], partial[300];
  make_head(at_limit, 256);
  make_head(over, 257);
  memset(partial, 'p', 299);  // No end of head in sight, longer than the limit
  memcpy(partial, "GET /", 5);
  partial[299] = '\0';
  struct raw ok = {.req = at_limit, .until = "got 0"}, big = {.req = over}, endless = {.req = partial};
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &ok);
  raw_start(&mgr, addr, &big);
  raw_start(&mgr, addr, &endless);
  poll_until(&mgr, &ok.done, 3000);
  poll_until(&mgr, &big.closed, 3000);
  poll_until(&mgr, &endless.closed, 3000);
  cr_assert(io_starts_with(&ok.got, "HTTP/1.1 200 OK\r\n"), "a head of exactly max_head_size is served");
  cr_assert_not(ok.closed);
  cr_assert(big.closed && io_starts_with(&big.got, "HTTP/1.1 431 "), "got %.*s", (int) big.got.len, big.got.buf);
  cr_assert(endless.closed && io_starts_with(&endless.got, "HTTP/1.1 431 "), "an unfinished head past the limit");
  cr_assert_str_eq(s.seq, "HM", "rejected heads reach no handler");
  server_free(&s);
  mg_iobuf_free(&ok.got);
  mg_iobuf_free(&big.got);
  mg_iobuf_free(&endless.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, body_over_max_body_size_gets_413_before_it_is_sent) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32], at_limit[1200], body[1024];
  fill_pattern(body, sizeof(body));
  mg_snprintf(at_limit, sizeof(at_limit), "POST /ok HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n%.*s", 1024, body);
  // Only the head of the big one is sent: the answer must not wait for its body
  struct raw ok = {.req = at_limit, .until = "/ok got 1024"},
             big = {.req = "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n"}, big_chunked = {0};
  // Decoded, this one is one byte over the limit
  char chunked_req[1400];
  size_t n = mg_snprintf(chunked_req, sizeof(chunked_req), "POST /bigc HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  n += mg_snprintf(chunked_req + n, sizeof(chunked_req) - n, "200\r\n%.*s\r\n200\r\n%.*s\r\n1\r\nx\r\n0\r\n\r\n", 512,
                   body, 512, body);
  big_chunked.req = chunked_req;
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &ok);
  poll_until(&mgr, &ok.done, 3000);
  cr_assert(ok.done && !ok.closed, "a body of exactly max_body_size is buffered and served");
  cr_assert_eq(s.body.len, 1024);
  raw_start(&mgr, addr, &big);
  poll_until(&mgr, &big.closed, 3000);
  cr_assert(io_starts_with(&big.got, "HTTP/1.1 413 "), "got %.*s", (int) big.got.len, big.got.buf);
  raw_start(&mgr, addr, &big_chunked);
  poll_until(&mgr, &big_chunked.closed, 3000);
  cr_assert(io_starts_with(&big_chunked.got, "HTTP/1.1 413 "), "got %.*s", (int) big_chunked.got.len,
            big_chunked.got.buf);
  cr_assert_str_eq(s.seq, "HMHH", "HDRS, then no MSG for rejected bodies");
  cr_assert_eq(s.nmsgs, 1);
  server_free(&s);
  mg_iobuf_free(&ok.got);
  mg_iobuf_free(&big.got);
  mg_iobuf_free(&big_chunked.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, one_huge_chunk_gets_413_without_buffering_it_whole) {
  struct mg_mgr mgr;
  struct server s = {0};
  static char req[8192];
  char addr[32];
  // A 1 MiB chunk announced under a 1 KiB limit: 6000 bytes of it are plenty to refuse it
  size_t n = mg_snprintf(req, sizeof(req), "POST /huge HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n");
  memset(req + n, 'x', sizeof(req) - 1 - n);
  req[sizeof(req) - 1] = '\0';
  struct raw r = {.req = req};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.closed, 3000);
  cr_assert(r.closed && io_starts_with(&r.got, "HTTP/1.1 413 "), "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_str_eq(s.seq, "H");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// Chunk framing held in c->recv (size lines with extensions, trailers) counts against
// the limits: head + decoded body + pending framing stays within this
#define FRAMING_BOUND (256 + 1024 + 128)

// A chunked request whose framing is n filler bytes: in a size line's extension,
// in trailers, or in the extension of a complete chunk
static char *framing_request(const char *kind, size_t n) {
  char *req = calloc(1, n + 256);
  cr_assert_not_null(req);
  size_t len = mg_snprintf(req, 256, "POST /%s HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", kind);
  if (strcmp(kind, "trailers") == 0) {
    len += mg_snprintf(req + len, 256, "0\r\n");
    for (size_t i = 0; i + 17 <= n; i += 17) len += mg_snprintf(req + len, 32, "X-Trailer: %04x\r\n", (unsigned) (i & 0xffff));
  } else {
    len += mg_snprintf(req + len, 256, "1;");
    memset(req + len, 'a', n);
    len += n;
    if (strcmp(kind, "whole") == 0) mg_snprintf(req + len, 256, "\r\nx\r\n0\r\n\r\n");
  }
  return req;
}

static void expect_framing_refused(bool stream) {
  static const char *const kinds[] = {"extension", "trailers", "whole"};
  struct mg_mgr mgr;
  struct server s = {.stream = stream};
  char addr[32];
  mg_mgr_init(&mgr);
  mg_log_set(getenv("DBG") ? MG_LL_DEBUG : MG_LL_NONE);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    // Sent in pieces, like a slow attacker, and at once, like a fast one
    for (size_t piece = 0; piece <= 1000; piece += 1000) {
      char *req = framing_request(kinds[i], 20000);
      struct raw r = {.req = req, .piece = piece};
      uint64_t start = mg_millis();
      raw_start(&mgr, addr, &r);
      poll_until(&mgr, &r.closed, 3000);
      uint64_t took = mg_millis() - start;
      cr_assert(r.closed, "%s (piece %zu, stream %d): never answered", kinds[i], piece, stream);
      cr_assert(io_starts_with(&r.got, "HTTP/1.1 4"), "%s: got %.*s", kinds[i], (int) r.got.len, r.got.buf);
      cr_assert_lt(took, 1500, "%s: answered after %lu ms", kinds[i], (unsigned long) took);
      cr_assert_leq(s.max_recv, FRAMING_BOUND, "%s (piece %zu): c->recv held %zu bytes", kinds[i], piece, s.max_recv);
      mg_iobuf_free(&r.got);
      free(req);
    }
  }
  // Framing within the limits is fine: a body of exactly max_body_size with extensions and trailers
  char ok_req[2000], body[512];
  fill_pattern(body, sizeof(body));
  mg_snprintf(ok_req, sizeof(ok_req),
              "POST /ok HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n200;name=value\r\n%.*s\r\n"
              "200 ; x=\"y\"\r\n%.*s\r\n0;last\r\nX-Checksum: 1234\r\nX-More: abc\r\n\r\n",
              512, body, 512, body);
  struct raw ok = {.req = ok_req, .piece = 100, .until = "/ok got 1024"};
  raw_start(&mgr, addr, &ok);
  poll_until(&mgr, &ok.done, 3000);
  cr_assert(ok.done && !ok.closed, "got %.*s", (int) ok.got.len, ok.got.buf);
  mg_iobuf_free(&ok.got);
  server_free(&s);
  mg_mgr_free(&mgr);
}

Test(http_conn, long_chunk_extensions_and_trailers_are_refused_in_buffered_bodies) {
  expect_framing_refused(false);
}

Test(http_conn, long_chunk_extensions_and_trailers_are_refused_in_streamed_bodies) {
  expect_framing_refused(true);
}

Test(http_conn, streaming_takes_bodies_larger_than_max_body_size) {
  struct mg_mgr mgr;
  struct server s = {.stream = true};
  static char body[5000], req[6000], creq[6000];
  fill_pattern(body, sizeof(body));
  mg_snprintf(req, sizeof(req), "POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n%.*s", 5000, body);
  size_t n = mg_snprintf(creq, sizeof(creq), "POST /te HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 5; i++) n += mg_snprintf(creq + n, sizeof(creq) - n, "3e8\r\n%.*s\r\n", 1000, body + i * 1000);
  mg_snprintf(creq + n, sizeof(creq) - n, "0\r\n\r\n");
  struct raw cl = {.req = req, .piece = 700, .until = "/cl got 5000"}, te = {.req = creq, .until = "/te got 5000"};
  char addr[32];
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &cl);
  poll_until(&mgr, &cl.done, 3000);
  cr_assert(cl.done && !cl.closed, "got %.*s", (int) cl.got.len, cl.got.buf);
  cr_assert(seq_matches(s.seq, "HC+M"), "events %s", s.seq);
  cr_assert_eq(s.chunks.len, 5000);
  cr_assert_arr_eq(s.chunks.buf, body, 5000);
  s.chunks.len = 0, s.seq[0] = '\0';
  raw_start(&mgr, addr, &te);
  poll_until(&mgr, &te.done, 3000);
  cr_assert(te.done && !te.closed, "got %.*s", (int) te.got.len, te.got.buf);
  cr_assert(seq_matches(s.seq, "HC+M"), "events %s", s.seq);
  cr_assert_eq(s.chunks.len, 5000);
  cr_assert_arr_eq(s.chunks.buf, body, 5000);
  server_free(&s);
  mg_iobuf_free(&cl.got);
  mg_iobuf_free(&te.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, unfinished_head_gets_408_after_head_timeout_and_close) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  // One stalls; one drips bytes faster than the timeout but never finishes in time
  struct raw stall = {.req = "GET / HTTP/1.1\r\nHost: x\r\n"},
             drip = {.req = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", .piece = 1, .interval_ms = 20};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  uint64_t start = mg_millis();
  raw_start(&mgr, addr, &stall);
  raw_start(&mgr, addr, &drip);
  poll_until(&mgr, &stall.closed, 3000);
  uint64_t took = mg_millis() - start;
  poll_until(&mgr, &drip.closed, 3000);
  cr_assert(stall.closed && io_starts_with(&stall.got, "HTTP/1.1 408 "), "got %.*s", (int) stall.got.len,
            stall.got.buf);
  cr_assert(took >= 190 && took < 1500, "closed after %lu ms", (unsigned long) took);
  cr_assert(drip.closed && io_starts_with(&drip.got, "HTTP/1.1 408 "), "the head as a whole must arrive in time");
  cr_assert_str_eq(s.seq, "");
  server_free(&s);
  mg_iobuf_free(&stall.got);
  mg_iobuf_free(&drip.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, idle_keep_alive_connection_is_not_timed_out) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw r = {.req = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", .until = "/1 got 0"};
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  struct mg_connection *c = raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 3000);
  poll_for(&mgr, 2 * (int) small_limits.head_timeout_ms);
  cr_assert_not(r.closed, "no head is pending between requests");
  r.until = "/2 got 0", r.done = false;
  mg_printf(c, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  poll_until(&mgr, &r.done, 3000);
  cr_assert(r.done && !r.closed);
  cr_assert_eq(s.accepted, 1);
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Idle and body timeouts, connection cap

static const struct mg_http_limits timed_limits = {256, 1024, 5000, 200, 200, 0, 0, 0};

Test(http_conn, idle_connection_is_closed_after_idle_timeout_without_a_reply) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  // One is idle after its answer, one never sends anything
  struct raw served = {.req = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", .until = "/1 got 0"}, silent = {0};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, &timed_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &served);
  raw_start(&mgr, addr, &silent);
  poll_until(&mgr, &served.done, 3000);
  cr_assert(served.done && !served.closed);
  uint64_t start = mg_millis();
  size_t answer_len = served.got.len;
  poll_until(&mgr, &served.closed, 3000);
  uint64_t took = mg_millis() - start;
  poll_until(&mgr, &silent.closed, 3000);
  cr_assert(served.closed, "an idle keep-alive connection is closed");
  cr_assert(took >= 150 && took < 1500, "closed after %lu ms", (unsigned long) took);
  cr_assert_eq(served.got.len, answer_len, "no 408 for an idle close: %.*s", (int) served.got.len, served.got.buf);
  cr_assert(silent.closed, "a connection that never sends is idle too");
  cr_assert_eq(silent.got.len, 0);
  server_free(&s);
  mg_iobuf_free(&served.got);
  mg_iobuf_free(&silent.got);
  mg_mgr_free(&mgr);
}

static void reply_deferred(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  s->deferred = c;
  (void) hm;
}

Test(http_conn, idle_timeout_spares_connections_with_an_answer_still_going_out) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_deferred};
  char addr[32];
  struct raw r = {.req = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", .until = "deferred"};
  mg_mgr_init(&mgr);
  server_start(&mgr, &timed_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 3000);
  cr_assert(r.done && !r.closed, "got %.*s", (int) r.got.len, r.got.buf);
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, stalled_body_gets_408_after_body_timeout_but_a_slow_one_is_served) {
  struct mg_mgr mgr;
  struct server s = {0}, st = {.stream = true};
  char addr[32], saddr[32];
  // Stalled: Content-Length, chunked, streamed. Slow: 2 bytes every 60 ms, its body 300 ms in all
  struct raw cl = {.req = "POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"},
             te = {.req = "POST /te HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"},
             streamed = {.req = "POST /st HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"},
             slow = {.req = "POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
                    .piece = 2, .interval_ms = 60, .until = "/slow got 10"};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, &timed_limits, &s, addr, sizeof(addr));
  server_start(&mgr, &timed_limits, &st, saddr, sizeof(saddr));
  uint64_t start = mg_millis();
  raw_start(&mgr, addr, &cl);
  raw_start(&mgr, addr, &te);
  raw_start(&mgr, saddr, &streamed);
  raw_start(&mgr, addr, &slow);
  poll_until(&mgr, &cl.closed, 3000);
  uint64_t took = mg_millis() - start;
  poll_until(&mgr, &te.closed, 3000);
  poll_until(&mgr, &streamed.closed, 3000);
  cr_assert(cl.closed && io_starts_with(&cl.got, "HTTP/1.1 408 "), "got %.*s", (int) cl.got.len, cl.got.buf);
  cr_assert(took >= 150 && took < 1500, "closed after %lu ms", (unsigned long) took);
  cr_assert(te.closed && io_starts_with(&te.got, "HTTP/1.1 408 "), "got %.*s", (int) te.got.len, te.got.buf);
  cr_assert(streamed.closed && io_starts_with(&streamed.got, "HTTP/1.1 408 "), "got %.*s", (int) streamed.got.len,
            streamed.got.buf);
  poll_until(&mgr, &slow.done, 5000);
  cr_assert(slow.done && !slow.closed, "a body that keeps coming is not timed out: %.*s", (int) slow.got.len,
            slow.got.buf);
  server_free(&s);
  server_free(&st);
  mg_iobuf_free(&cl.got);
  mg_iobuf_free(&te.got);
  mg_iobuf_free(&streamed.got);
  mg_iobuf_free(&slow.got);
  mg_mgr_free(&mgr);
}

static const struct mg_http_limits capped_limits = {256, 1024, 5000, 0, 0, 2, 0, 0};

// Connections that are open but have not sent a request yet
static struct mg_connection *open_idle(struct mg_mgr *mgr, const char *addr, struct raw *r, struct server *s,
                                       int want_accepted) {
  struct mg_connection *c = raw_start(mgr, addr, r);
  uint64_t end = mg_millis() + 3000;
  while ((!r->connected || s->accepted < want_accepted) && mg_millis() < end) mg_mgr_poll(mgr, 10);
  cr_assert(r->connected && s->accepted >= want_accepted);
  return c;
}

Test(http_conn, connection_over_max_conns_gets_503_and_the_others_are_served) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32], addr2[32];
  struct raw a = {.until = "/a got 0"}, b = {.until = "/b got 0"}, over = {0}, over2 = {0};
  struct raw later = {.req = "GET /later HTTP/1.1\r\nHost: h\r\n\r\n", .until = "/later got 0"};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, &capped_limits, &s, addr, sizeof(addr));
  server_start(&mgr, &capped_limits, &s, addr2, sizeof(addr2));  // Same limits: the cap is shared
  struct mg_connection *ca = open_idle(&mgr, addr, &a, &s, 1), *cb = open_idle(&mgr, addr2, &b, &s, 2);
  raw_start(&mgr, addr, &over);
  raw_start(&mgr, addr2, &over2);
  poll_until(&mgr, &over.closed, 3000);
  poll_until(&mgr, &over2.closed, 3000);
  cr_assert(over.closed && io_starts_with(&over.got, "HTTP/1.1 503 "), "got %.*s", (int) over.got.len, over.got.buf);
  cr_assert_eq(io_count(&over.got, "Retry-After: 1\r\n"), 1);
  cr_assert_eq(io_count(&over.got, "Connection: close\r\n"), 1);
  cr_assert(over2.closed && io_starts_with(&over2.got, "HTTP/1.1 503 "), "the cap counts both listeners");
  // The two under the cap are still served
  mg_printf(ca, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  mg_printf(cb, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  poll_until(&mgr, &a.done, 3000);
  poll_until(&mgr, &b.done, 3000);
  cr_assert(a.done && !a.closed && b.done && !b.closed);
  // A place freed is a place for the next one
  ca->is_draining = 1;
  int closed = s.closed;
  uint64_t end = mg_millis() + 3000;
  while (s.closed == closed && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  raw_start(&mgr, addr, &later);
  poll_until(&mgr, &later.done, 3000);
  cr_assert(later.done && io_starts_with(&later.got, "HTTP/1.1 200 "), "got %.*s", (int) later.got.len,
            later.got.buf);
  server_free(&s);
  mg_iobuf_free(&a.got);
  mg_iobuf_free(&b.got);
  mg_iobuf_free(&over.got);
  mg_iobuf_free(&over2.got);
  mg_iobuf_free(&later.got);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Expect: 100-continue

Test(http_conn, expect_100_continue_gets_an_interim_response_before_the_final_one) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw r = {.req = "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
                  .until = "\r\n\r\n"},
             big = {.req = "PUT /big HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"},
             nobody = {.req = "GET /get HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n", .until = "/get got 0"};
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  struct mg_connection *c = raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.done, 3000);
  cr_assert(io_starts_with(&r.got, "HTTP/1.1 100 Continue\r\n\r\n"), "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_eq(r.got.len, 25, "nothing else before the body is sent");
  r.done = false, r.until = "/up got 5";
  mg_send(c, "hello", 5);
  poll_until(&mgr, &r.done, 3000);
  cr_assert(io_starts_with(&r.got, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
  cr_assert_eq(io_count(&r.got, "100 Continue"), 1);
  raw_start(&mgr, addr, &big);
  raw_start(&mgr, addr, &nobody);
  poll_until(&mgr, &big.closed, 3000);
  poll_until(&mgr, &nobody.done, 3000);
  cr_assert(io_starts_with(&big.got, "HTTP/1.1 413 "), "a body we will refuse is not invited");
  cr_assert(io_starts_with(&nobody.got, "HTTP/1.1 200 "), "no interim response without a body");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_iobuf_free(&big.got);
  mg_iobuf_free(&nobody.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, no_100_continue_when_the_handler_answers_from_the_head) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw r = {.req = "PUT /deny HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"};
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.closed, 3000);
  cr_assert(io_starts_with(&r.got, "HTTP/1.1 401 "), "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_eq(io_count(&r.got, "100 Continue"), 0);
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// A handler that answers and sets is_draining wants no more of the request: what is
// left of the body is dropped unread (no 413 for its size, no MSG), one answer, closed
static void expect_refused_body(const char *uri, bool stream, const char *status) {
  struct mg_mgr mgr;
  struct server s = {.stream = stream};
  char addr[32], req[4096];
  size_t n = (size_t) mg_snprintf(req, sizeof(req), "PUT %s HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n", uri);
  memset(req + n, 'x', sizeof(req) - n);
  struct raw r = {.req = req, .len = sizeof(req), .piece = 512, .interval_ms = 5};
  mg_mgr_init(&mgr);
  server_start(&mgr, &small_limits, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.closed, 3000);
  cr_assert(r.closed, "the connection closes after the answer");
  cr_assert(io_starts_with(&r.got, status), "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_eq(io_count(&r.got, "HTTP/1.1"), 1, "one answer only: %.*s", (int) r.got.len, r.got.buf);
  cr_assert(strchr(s.seq, 'M') == NULL, "no MSG for a refused request: %s", s.seq);
  cr_assert_leq(strlen(s.seq), 2, "at most the piece that was refused: %s", s.seq);
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

Test(http_conn, body_refused_from_the_head_is_dropped_unread_with_one_answer) {
  expect_refused_body("/deny", false, "HTTP/1.1 401 ");
}

Test(http_conn, streamed_body_refused_midway_is_dropped_with_one_answer) {
  expect_refused_body("/stop", true, "HTTP/1.1 400 ");
}

// ---------------------------------------------------------------------------
// mg_http_reply and chunked replies

// "/len/N": N pattern bytes, with an extra header
static void reply_sized(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  static char body[8192];
  int n = atoi(hm->uri.buf + 5);
  fill_pattern(body, sizeof(body));
  mg_http_reply(c, 200, "X-Test: passed\r\nCache-Control: no-store\r\n", "%.*s", n, body);
  (void) s;
}

// Parse one response at *ofs of got, check its Content-Length and body, step over it
static void expect_response(const struct mg_iobuf *got, size_t *ofs, size_t body_len, bool has_body) {
  struct mg_http_message hm;
  char body[8192], cl[16];
  fill_pattern(body, sizeof(body));
  int n = mg_http_parse((const char *) got->buf + *ofs, got->len - *ofs, &hm);
  cr_assert_gt(n, 0, "a response head at %lu", (unsigned long) *ofs);
  cr_assert_eq(mg_http_status(&hm), 200);
  copy_header(&hm, "Content-Length", cl, sizeof(cl));
  cr_assert_eq((size_t) atoi(cl), body_len, "Content-Length %s", cl);
  cr_assert_not_null(mg_http_get_header(&hm, "X-Test"), "extra headers are passed through");
  cr_assert_not_null(mg_http_get_header(&hm, "Cache-Control"));
  *ofs += (size_t) n;
  if (has_body) {
    cr_assert_geq(got->len - *ofs, body_len);
    cr_assert_arr_eq(got->buf + *ofs, body, body_len);
    *ofs += body_len;
  }
}

Test(http_conn, reply_content_length_is_the_formatted_body_length) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_sized};
  char addr[32];
  struct raw r = {.req = "GET /len/0 HTTP/1.1\r\nHost: h\r\n\r\nGET /len/13 HTTP/1.1\r\nHost: h\r\n\r\nGET /len/5000 HTTP/1.1\r\nHost: h\r\n\r\n"};
  struct hclient h = {.req = r.req, .want = 3};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  poll_for(&mgr, 200);  // The raw client is served alongside
  size_t ofs = 0;
  expect_response(&r.got, &ofs, 0, true);
  expect_response(&r.got, &ofs, 13, true);
  expect_response(&r.got, &ofs, 5000, true);
  cr_assert_eq(ofs, r.got.len, "nothing after the three responses");
  cr_assert_eq(h.nmsgs, 3);
  size_t lens[] = {0, 13, 5000};
  for (int i = 0; i < 3; i++) {
    char want[16];
    mg_snprintf(want, sizeof(want), "%lu", (unsigned long) lens[i]);
    cr_assert_eq(h.body[i].len, lens[i]);
    cr_assert_str_eq(h.cl[i], want, "blanks after the digits are not part of the value");
    cr_assert_str_eq(h.header[i], "passed");
  }
  server_free(&s);
  hclient_free(&h);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// "/lit/N": a body with no conversion in it (N is 0, 5 or 13), whose length is known
// before the head is written
static void reply_literal(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  int n = atoi(hm->uri.buf + 5);
  const char *body = n == 0 ? "" : n == 5 ? "abcde" : "abcdefghijklm";
  mg_http_reply(c, 200, "X-Test: passed\r\nCache-Control: no-store\r\n", body);
  (void) s;
}

// One raw client's requests answered by a server with this reply; r->got holds what came back
static void serve_raw(reply_fn reply, struct raw *r) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply};
  char addr[32];
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, r);
  poll_until(&mgr, &r->done, 3000);
  poll_for(&mgr, 50);
  server_free(&s);
  mg_mgr_free(&mgr);
}

Test(http_conn, literal_reply_body_has_its_length_and_none_to_head) {
  struct raw r = {.req = "GET /lit/0 HTTP/1.1\r\nHost: h\r\n\r\nGET /lit/13 HTTP/1.1\r\nHost: h\r\n\r\n"
                         "HEAD /lit/13 HTTP/1.1\r\nHost: h\r\n\r\nGET /lit/5 HTTP/1.1\r\nHost: h\r\n\r\n",
                  .until = "abcde"};
  serve_raw(reply_literal, &r);
  size_t ofs = 0;
  expect_response(&r.got, &ofs, 0, true);
  expect_response(&r.got, &ofs, 13, true);
  expect_response(&r.got, &ofs, 13, false);
  expect_response(&r.got, &ofs, 5, true);
  cr_assert_eq(ofs, r.got.len, "nothing after the four responses");
  mg_iobuf_free(&r.got);
}

Test(http_conn, head_request_gets_content_length_without_body_then_the_next_response) {
  struct raw r = {.req = "HEAD /len/13 HTTP/1.1\r\nHost: h\r\n\r\nGET /len/5 HTTP/1.1\r\nHost: h\r\n\r\n", .until = "abcde"};
  serve_raw(reply_sized, &r);
  size_t ofs = 0;
  expect_response(&r.got, &ofs, 13, false);
  cr_assert(r.got.len - ofs > 8 && memcmp(r.got.buf + ofs, "HTTP/1.1", 8) == 0, "the next response follows the head");
  expect_response(&r.got, &ofs, 5, true);
  cr_assert_eq(ofs, r.got.len);
  mg_iobuf_free(&r.got);
}

// A client remembers which of its requests were HEAD however many it sends ahead
// (a response to HEAD has no body whatever its Content-Length says)
Test(http_conn, client_pipelining_many_heads_reads_each_response_right) {
  static char reqs[4096];
  struct mg_mgr mgr;
  struct server s = {.reply = reply_sized};
  char addr[32];
  size_t n = 0;
  for (int i = 0; i < 12; i++) n += mg_snprintf(reqs + n, sizeof(reqs) - n, "HEAD /len/7 HTTP/1.1\r\nHost: h\r\n\r\n");
  mg_snprintf(reqs + n, sizeof(reqs) - n, "GET /len/5 HTTP/1.1\r\nHost: h\r\n\r\n");
  struct hclient h = {.req = reqs, .want = 13};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  cr_assert_eq(h.nmsgs, 13, "events %s, error %s", h.seq, h.error);
  cr_assert_not(h.closed, "closed: %s", h.error);
  server_free(&s);
  hclient_free(&h);
  mg_mgr_free(&mgr);
}

static char chunk_data[3000];

// "/write-end" ends with mg_http_write_chunk(c, "", 0), anything else with mg_http_printf_chunk(c, "")
static void reply_chunked(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  fill_pattern(chunk_data, sizeof(chunk_data));
  mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  mg_http_printf_chunk(c, "hello %d, ", 42);
  mg_http_write_chunk(c, chunk_data, sizeof(chunk_data));
  if (mg_str_eq(hm->uri, "/write-end")) {
    mg_http_write_chunk(c, "", 0);
  } else {
    mg_http_printf_chunk(c, "%s", "");
  }
  (void) s;
}

Test(http_conn, chunked_reply_reaches_the_client_as_one_decoded_body) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_chunked};
  char addr[32], want[3100];
  struct hclient h = {.req = "GET /printf-end HTTP/1.1\r\nHost: h\r\n\r\n", .req2 = "GET /write-end HTTP/1.1\r\nHost: h\r\n\r\n", .want = 2};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  size_t n = mg_snprintf(want, sizeof(want), "hello 42, ");
  memcpy(want + n, chunk_data, sizeof(chunk_data));
  n += sizeof(chunk_data);
  cr_assert_eq(h.nmsgs, 2, "events %s, error %s", h.seq, h.error);
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(h.status[i], 200);
    cr_assert_eq(h.body[i].len, n);
    cr_assert_arr_eq(h.body[i].buf, want, n);
  }
  server_free(&s);
  hclient_free(&h);
  mg_mgr_free(&mgr);
}

static void reply_write_chunks(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  mg_http_write_chunk(c, "one,", 4);
  mg_http_write_chunk(c, hm->uri.buf, hm->uri.len);
  mg_http_write_chunk(c, "", 0);
  (void) s;
}

Test(http_conn, write_chunk_with_zero_length_ends_the_body) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_write_chunks};
  char addr[32];
  struct hclient h = {.req = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", .req2 = "GET /bb HTTP/1.1\r\nHost: h\r\n\r\n", .want = 2};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  cr_assert_eq(h.nmsgs, 2, "events %s, error %s", h.seq, h.error);
  cr_assert(str_is(mg_str_n((char *) h.body[0].buf, h.body[0].len), "one,/a", 6));
  cr_assert(str_is(mg_str_n((char *) h.body[1].buf, h.body[1].len), "one,/bb", 7));
  server_free(&s);
  hclient_free(&h);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Client side: responses framed every way, and broken ones

static void run_canned(const char *resp, bool close, struct hclient *h) {
  struct mg_mgr mgr;
  struct canned k = {resp, close};
  char addr[32];
  if (h->req == NULL) h->req = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  canned_start(&mgr, &k, addr, sizeof(addr));
  hclient_start(&mgr, addr, h);
  poll_until(&mgr, &h->done, 3000);
  poll_for(&mgr, 30);  // Anything after the awaited message shows up too
  bool closed = h->closed;
  mg_mgr_free(&mgr);
  h->closed = closed;  // By the peer or an error, not by mg_mgr_free
}

static bool body_is(const struct mg_iobuf *io, const char *s) {
  return str_is(mg_str_n((const char *) io->buf, io->len), s, strlen(s));
}

Test(http_conn, client_reads_a_content_length_response) {
  struct hclient h = {0};
  run_canned("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", false, &h);
  cr_assert_str_eq(h.seq, "HM", "error %s", h.error);
  cr_assert_eq(h.status[0], 200);
  cr_assert(body_is(&h.body[0], "hello"));
  hclient_free(&h);
}

Test(http_conn, client_reads_a_chunked_response) {
  struct hclient h = {0};
  run_canned("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
             "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n",
             false, &h);
  cr_assert_str_eq(h.seq, "HM", "error %s", h.error);
  cr_assert_eq(h.status[0], 201);
  cr_assert(body_is(&h.body[0], "Wikipedia"));
  cr_assert_not(h.closed);
  hclient_free(&h);
}

Test(http_conn, client_reads_a_body_that_ends_when_the_server_closes) {
  struct hclient h = {.want = 9}, h11 = {.want = 9}, hs = {.want = 9, .stream = true};
  run_canned("HTTP/1.0 200 OK\r\n\r\nbody until close", true, &h);
  run_canned("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhttp/1.1 too", true, &h11);
  run_canned("HTTP/1.0 200 OK\r\n\r\nstreamed until close", true, &hs);
  cr_assert_str_eq(h.seq, "HM", "error %s", h.error);
  cr_assert(body_is(&h.body[0], "body until close"));
  cr_assert(h.closed);
  cr_assert_str_eq(h11.seq, "HM", "error %s", h11.error);
  cr_assert(body_is(&h11.body[0], "http/1.1 too"));
  cr_assert(seq_matches(hs.seq, "HC+M"), "events %s, error %s", hs.seq, hs.error);
  cr_assert(body_is(&hs.chunks, "streamed until close"));
  cr_assert_eq(hs.body[0].len, 0);
  hclient_free(&h);
  hclient_free(&h11);
  hclient_free(&hs);
}

// "/big": 100 KiB, more than the default max_body_size
static void reply_big(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  static char body[100 * 1024];
  fill_pattern(body, sizeof(body));
  mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n\r\n", (unsigned long) sizeof(body));
  mg_send(c, body, sizeof(body));
  (void) hm, (void) s;
}

Test(http_conn, client_streams_a_response_larger_than_max_body_size) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_big};
  struct hclient h = {.req = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n", .stream = true};
  static char want[100 * 1024];
  char addr[32];
  fill_pattern(want, sizeof(want));
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  cr_assert(seq_matches(h.seq, "HC+M"), "events %s, error %s", h.seq, h.error);
  cr_assert_eq(h.chunks.len, sizeof(want));
  cr_assert_arr_eq(h.chunks.buf, want, sizeof(want));
  cr_assert_eq(h.body[0].len, 0);
  server_free(&s);
  hclient_free(&h);
  mg_mgr_free(&mgr);
}

Test(http_conn, client_reads_204_and_304_without_a_body) {
  struct hclient h = {.want = 3};
  run_canned("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"
             "HTTP/1.1 204 No Content\r\n\r\n"
             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
             false, &h);
  cr_assert_str_eq(h.seq, "HMHMHM", "error %s", h.error);
  cr_assert_eq(h.status[0], 304);
  cr_assert_eq(h.body[0].len, 0, "Content-Length of a 304 describes the resource, not this message");
  cr_assert_eq(h.status[1], 204);
  cr_assert_eq(h.body[1].len, 0);
  cr_assert_eq(h.status[2], 200);
  cr_assert(body_is(&h.body[2], "ok"));
  hclient_free(&h);
}

Test(http_conn, client_reports_broken_responses_as_errors) {
  static const struct {
    const char *resp;
    bool close;
    const char *error;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", false, "bad HTTP response"},
      {"HTTP/1.1 2OO OK\r\n\r\n", false, "bad HTTP response"},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, "a request instead of a response"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false, "malformed response"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", false, "invalid body framing"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", false, "bad chunked encoding"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, "closed in the middle"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", true, "closed in the middle"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct hclient h = {0};
    run_canned(cases[i].resp, cases[i].close, &h);
    cr_assert(h.closed, "case %lu", (unsigned long) i);
    cr_assert(strstr(h.error, cases[i].error) != NULL, "case %lu: error '%s'", (unsigned long) i, h.error);
    cr_assert_eq(h.nmsgs, 0, "case %lu: events %s", (unsigned long) i, h.seq);
    hclient_free(&h);
  }
}

// ---------------------------------------------------------------------------
// Keep-alive and closing

Test(http_conn, two_requests_on_one_connection_are_both_answered) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct hclient h = {.req = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", .req2 = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz",
                      .want = 2};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  hclient_start(&mgr, addr, &h);
  poll_until(&mgr, &h.done, 3000);
  poll_for(&mgr, 50);
  cr_assert_eq(h.nmsgs, 2, "events %s", h.seq);
  cr_assert(body_is(&h.body[0], "/a got 0"));
  cr_assert(body_is(&h.body[1], "/b got 3"));
  cr_assert_not(h.closed, "HTTP/1.1 keeps the connection");
  cr_assert_eq(s.accepted, 1);
  cr_assert_eq(s.closed, 0);
  server_free(&s);
  hclient_free(&h);
  mg_mgr_free(&mgr);
}

Test(http_conn, connection_close_and_http10_close_after_the_reply) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw close11 = {.req = "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: h\r\n\r\n"},
             http10 = {.req = "GET /b HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n"},
             http10_ka = {.req = "GET /c HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", .until = "/c got 0"};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &close11);
  raw_start(&mgr, addr, &http10);
  raw_start(&mgr, addr, &http10_ka);
  poll_until(&mgr, &close11.closed, 3000);
  poll_until(&mgr, &http10.closed, 3000);
  poll_until(&mgr, &http10_ka.done, 3000);
  poll_for(&mgr, 100);
  cr_assert(close11.closed && io_count(&close11.got, "/a got 0") == 1);
  cr_assert_eq(io_count(&close11.got, "HTTP/1.1 "), 1, "requests after the closing one are not served");
  cr_assert(http10.closed && io_count(&http10.got, "/b got 0") == 1);
  cr_assert_eq(io_count(&http10.got, "HTTP/1.1 "), 1);
  cr_assert(http10_ka.done && !http10_ka.closed, "HTTP/1.0 with keep-alive stays open");
  cr_assert_eq(s.nmsgs, 3);
  server_free(&s);
  mg_iobuf_free(&close11.got);
  mg_iobuf_free(&http10.got);
  mg_iobuf_free(&http10_ka.got);
  mg_mgr_free(&mgr);
}

// RFC 9112 9.3 and RFC 9110 7.6.1: the Connection field is a list, may come on
// several lines, and the reply says what the server will do with the connection
Test(http_conn, connection_field_lists_are_honoured_and_the_decision_echoed) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw ka10 = {.req = "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", .until = "/k got 0"},
             list = {.req = "GET /l HTTP/1.1\r\nHost: h\r\nConnection: TE, close\r\nTE: trailers\r\n\r\n"
                            "GET /ignored HTTP/1.1\r\nHost: h\r\n\r\n"},
             lines = {.req = "GET /m HTTP/1.1\r\nHost: h\r\nConnection: TE\r\nConnection: close\r\n\r\n"
                             "GET /ignored HTTP/1.1\r\nHost: h\r\n\r\n"},
             plain10 = {.req = "GET /p HTTP/1.0\r\n\r\n"},
             plain11 = {.req = "GET /q HTTP/1.1\r\nHost: h\r\n\r\n", .until = "/q got 0"};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &ka10);
  raw_start(&mgr, addr, &list);
  raw_start(&mgr, addr, &lines);
  raw_start(&mgr, addr, &plain10);
  raw_start(&mgr, addr, &plain11);
  poll_until(&mgr, &ka10.done, 3000);
  poll_until(&mgr, &list.closed, 3000);
  poll_until(&mgr, &lines.closed, 3000);
  poll_until(&mgr, &plain10.closed, 3000);
  poll_until(&mgr, &plain11.done, 3000);
  poll_for(&mgr, 100);
  cr_assert(!ka10.closed && io_count(&ka10.got, "\r\nConnection: keep-alive\r\n") == 1, "got %.*s",
            (int) ka10.got.len, ka10.got.buf);
  cr_assert(list.closed && io_count(&list.got, "HTTP/1.1 ") == 1, "got %.*s", (int) list.got.len, list.got.buf);
  cr_assert_eq(io_count(&list.got, "\r\nConnection: close\r\n"), 1);
  cr_assert(lines.closed && io_count(&lines.got, "HTTP/1.1 ") == 1, "got %.*s", (int) lines.got.len, lines.got.buf);
  cr_assert_eq(io_count(&lines.got, "\r\nConnection: close\r\n"), 1);
  cr_assert(plain10.closed && io_count(&plain10.got, "\r\nConnection: close\r\n") == 1);
  cr_assert(!plain11.closed && io_count(&plain11.got, "Connection:") == 0, "persistence is the default in 1.1");
  server_free(&s);
  mg_iobuf_free(&ka10.got);
  mg_iobuf_free(&list.got);
  mg_iobuf_free(&lines.got);
  mg_iobuf_free(&plain10.got);
  mg_iobuf_free(&plain11.got);
  mg_mgr_free(&mgr);
}

// RFC 9110 10.1.1: no 100 Continue for HTTP/1.0; RFC 9112 6.1: Transfer-Encoding
// in an HTTP/1.0 request is faulty framing: answer and close
Test(http_conn, http10_gets_no_100_continue_and_its_chunked_requests_are_refused) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw cont = {.req = "PUT /up HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n"
                            "Content-Length: 5\r\n\r\n", .until = "\r\n\r\n"},
             te = {.req = "POST /te HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
                          "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.0\r\n\r\n"};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  struct mg_connection *c = raw_start(&mgr, addr, &cont);
  raw_start(&mgr, addr, &te);
  poll_for(&mgr, 200);
  cr_assert_eq(cont.got.len, 0, "got %.*s", (int) cont.got.len, cont.got.buf);
  mg_send(c, "hello", 5);
  poll_until(&mgr, &cont.done, 3000);
  cr_assert(io_starts_with(&cont.got, "HTTP/1.1 200 "), "got %.*s", (int) cont.got.len, cont.got.buf);
  poll_until(&mgr, &te.closed, 3000);
  cr_assert(te.closed && io_starts_with(&te.got, "HTTP/1.1 400 "), "got %.*s", (int) te.got.len, te.got.buf);
  cr_assert_eq(io_count(&te.got, "HTTP/1.1 "), 1, "the next request is not served");
  cr_assert_eq(io_count(&te.got, "\r\nConnection: close\r\n"), 1);
  cr_assert_eq(s.nmsgs, 1, "events %s", s.seq);
  server_free(&s);
  mg_iobuf_free(&cont.got);
  mg_iobuf_free(&te.got);
  mg_mgr_free(&mgr);
}

static void reply_later(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  s->deferred = c;
  (void) hm;
}

Test(http_conn, connection_close_waits_for_a_deferred_reply) {
  struct mg_mgr mgr;
  struct server s = {.reply = reply_later};
  char addr[32];
  struct raw r = {.req = "GET /later HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"};
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.closed, 2000);
  cr_assert(io_count(&r.got, "deferred") == 1, "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert(r.closed, "the server closes once the deferred reply is out");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Wrong direction

Test(http_conn, malformed_and_ambiguous_requests_get_400_or_431) {
  static const struct {
    const char *req, *status;
  } cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\nNo colon\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /\r\n\r\n", "HTTP/1.1 400 "},
      // Both framings (request smuggling) and conflicting lengths
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", "HTTP/1.1 400 "},
      // RFC 9110 15.6.6: a major version we do not speak
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", "HTTP/1.1 505 "},
      {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", "HTTP/1.1 505 "},
  };
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32], many[2048];
  size_t n = mg_snprintf(many, sizeof(many), "GET / HTTP/1.1\r\nHost: h\r\n");
  for (int i = 0; i <= MG_MAX_HTTP_HEADERS; i++) n += mg_snprintf(many + n, sizeof(many) - n, "H%d: v\r\n", i);
  mg_snprintf(many + n, sizeof(many) - n, "\r\n");
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
    bool last = i == sizeof(cases) / sizeof(cases[0]);
    struct raw r = {.req = last ? many : cases[i].req};
    const char *status = last ? "HTTP/1.1 431 " : cases[i].status;
    raw_start(&mgr, addr, &r);
    poll_until(&mgr, &r.closed, 3000);
    cr_assert(r.closed && io_starts_with(&r.got, status), "case %lu: got %.*s", (unsigned long) i, (int) r.got.len,
              r.got.buf);
    mg_iobuf_free(&r.got);
  }
  cr_assert_eq(s.nmsgs, 0, "events %s", s.seq);
  server_free(&s);
  mg_mgr_free(&mgr);
}

// RFC 9112 3.2: an HTTP/1.1 request names its host once, in Host or in an
// absolute-form target
Test(http_conn, host_is_required_once_in_http11_or_given_by_the_target) {
  static const struct {
    const char *req, *want;
  } cases[] = {
      {"GET /a HTTP/1.1\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 "},
      {"GET http://h/a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "/a got 0"},
      {"GET http://h/abs?x=1 HTTP/1.1\r\n\r\n", "/abs got 0"},
      {"GET http://h/abs HTTP/1.1\r\nHost: h\r\n\r\n", "/abs got 0"},
      {"GET /old HTTP/1.0\r\n\r\n", "/old got 0"},
  };
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  struct raw rs[sizeof(cases) / sizeof(cases[0])];
  memset(rs, 0, sizeof(rs));
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct raw *r = &rs[i];
    r->req = cases[i].req, r->until = cases[i].want;
    raw_start(&mgr, addr, r);
    poll_until(&mgr, &r->done, 3000);
    cr_assert(io_count(&r->got, cases[i].want) == 1, "case %lu: got %.*s", (unsigned long) i, (int) r->got.len,
              r->got.buf);
  }
  mg_mgr_free(&mgr);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) mg_iobuf_free(&rs[i].got);
  server_free(&s);
}

Test(http_conn, response_sent_to_a_server_gets_400) {
  struct mg_mgr mgr;
  struct server s = {0};
  char addr[32];
  struct raw r = {.req = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  raw_start(&mgr, addr, &r);
  poll_until(&mgr, &r.closed, 3000);
  cr_assert(r.closed && io_starts_with(&r.got, "HTTP/1.1 400 "), "got %.*s", (int) r.got.len, r.got.buf);
  cr_assert_str_eq(s.seq, "", "the handler never sees it");
  server_free(&s);
  mg_iobuf_free(&r.got);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// mg_http_serve_dir: the trailing-slash redirect

static char serve_root[64];

static void reply_serve_dir(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  struct mg_http_serve_opts opts = {.root_dir = serve_root};
  mg_http_serve_dir(c, hm, &opts);
  (void) s;
}

// The Location of the one response in got, NUL-terminated into loc
static int redirect_location(const struct mg_iobuf *got, char *loc, size_t len) {
  struct mg_http_message hm;
  cr_assert_gt(mg_http_parse((const char *) got->buf, got->len, &hm), 0, "got %.*s", (int) got->len, got->buf);
  copy_header(&hm, "Location", loc, len);
  return mg_http_status(&hm);
}

// A Location starting "//" (or "/\", which browsers read the same) names another host
Test(http_conn, directory_redirect_never_points_to_another_host) {
  static const char *const attacks[] = {
      "//evil.example/..", "//evil.example/.", "/\\evil.example/..", "///evil.example/%2e%2e",
      "/%2fevil.example/..", "/%5cevil.example/..", "//docs",
  };
  struct mg_mgr mgr;
  struct server s = {.reply = reply_serve_dir};
  char addr[32], req[128], loc[128], dir[96];
  mg_snprintf(serve_root, sizeof(serve_root), "/tmp/meerkat-serve-XXXXXX");
  cr_assert_not_null(mkdtemp(serve_root));
  mg_snprintf(dir, sizeof(dir), "%s/docs", serve_root);
  cr_assert_eq(mkdir(dir, 0700), 0);
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
    mg_snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", attacks[i]);
    struct raw r = {.req = req};
    raw_start(&mgr, addr, &r);
    poll_until(&mgr, &r.closed, 3000);
    int status = redirect_location(&r.got, loc, sizeof(loc));
    cr_assert(status == 301 || status == 404 || status == 400, "%s: status %d", attacks[i], status);
    if (status == 301) {
      cr_assert(loc[0] == '/' && loc[1] != '/' && loc[1] != '\\', "%s: Location %s", attacks[i], loc);
      cr_assert_eq(strstr(loc, "evil"), NULL, "%s: Location %s", attacks[i], loc);
    }
    mg_iobuf_free(&r.got);
  }
  // The redirect the slash exists for still works, query included
  struct raw ok = {.req = "GET /docs?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"};
  raw_start(&mgr, addr, &ok);
  poll_until(&mgr, &ok.closed, 3000);
  cr_assert_eq(redirect_location(&ok.got, loc, sizeof(loc)), 301);
  cr_assert_str_eq(loc, "/docs/?x=1");
  mg_iobuf_free(&ok.got);
  server_free(&s);
  mg_mgr_free(&mgr);
  rmdir(dir);
  rmdir(serve_root);
}

// ---------------------------------------------------------------------------
// mg_http_serve_dir over a packed table: the mime_types option outranks the
// type the packer chose

static const struct mg_packed_file packed_files[] = {
    {"/app.js", (const unsigned char *) "let a;\n", 7, 7, 0, "text/javascript; charset=utf-8", "\"p1\"", false, false},
    {"/data.json", (const unsigned char *) "{}\n", 3, 3, 0, "application/json; charset=utf-8", "\"p2\"", false, false},
};
static const struct mg_packed_table packed_table = {packed_files, 2};
static int packed_st(const char *path, size_t *size, time_t *mtime) {
  return mg_packed_stat(&packed_table, path, size, mtime);
}
static void *packed_op(const char *path, int flags) {
  return mg_packed_open(&packed_table, path, flags);
}
static const struct mg_packed_file *packed_entry(const char *path) {
  return mg_packed_find(&packed_table, path);
}
static struct mg_fs packed_fs = {packed_st, NULL, packed_op, mg_packed_close, mg_packed_read, NULL,
                                 mg_packed_seek, NULL, NULL, NULL, packed_entry, NULL};

static void reply_serve_packed(struct mg_connection *c, struct mg_http_message *hm, struct server *s) {
  struct mg_http_serve_opts opts = {.root_dir = "", .fs = &packed_fs, .mime_types = "js=application/x-test"};
  mg_http_serve_dir(c, hm, &opts);
  (void) s;
}

Test(http_conn, mime_types_option_outranks_the_packed_type) {
  static const char *const want[][2] = {{"/app.js", "application/x-test"},
                                        {"/data.json", "application/json; charset=utf-8"}};
  struct mg_mgr mgr;
  struct server s = {.reply = reply_serve_packed};
  char addr[32], req[128], type[128];
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  for (size_t i = 0; i < 2; i++) {
    mg_snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", want[i][0]);
    struct raw r = {.req = req};
    raw_start(&mgr, addr, &r);
    poll_until(&mgr, &r.closed, 3000);
    struct mg_http_message hm;
    cr_assert_gt(mg_http_parse((const char *) r.got.buf, r.got.len, &hm), 0);
    cr_assert_eq(mg_http_status(&hm), 200);
    copy_header(&hm, "Content-Type", type, sizeof(type));
    cr_assert_str_eq(type, want[i][1], "%s", want[i][0]);
    mg_iobuf_free(&r.got);
  }
  server_free(&s);
  mg_mgr_free(&mgr);
}

// A server with a clock sends Date (RFC 9110 6.6.1). A host has one; a board has none
// until SNTP (or the application) sets mg_boot_timestamp_ms, and then mg_now() is it.
// Each raw client lives as long as the manager: its connection stays open
static void get_with_date(struct mg_mgr *mgr, const char *addr, struct raw *r) {
  r->req = "GET /d HTTP/1.1\r\nHost: x\r\n\r\n", r->until = "/d got 0";
  raw_start(mgr, addr, r);
  poll_until(mgr, &r->done, 3000);
  cr_assert(io_starts_with(&r->got, "HTTP/1.1 200 OK\r\n"), "got %.*s", (int) r->got.len, r->got.buf);
}

Test(http_conn, date_comes_from_the_clock_and_on_a_board_from_sntp_once_it_answered) {
  struct mg_mgr mgr;
  struct server s = {0};
  struct raw before = {0}, after = {0};
  char addr[32];
  mg_mgr_init(&mgr);
  server_start(&mgr, NULL, &s, addr, sizeof(addr));
  get_with_date(&mgr, addr, &before);
  mg_boot_timestamp_ms = 784111777000ULL - mg_millis();  // Sun, 06 Nov 1994 08:49:37 GMT, now
  get_with_date(&mgr, addr, &after);
  mg_boot_timestamp_ms = 0;
#if MG_PORT_BAREMETAL
  cr_assert_eq(io_count(&before.got, "\r\nDate: "), 0, "no clock, no Date: %.*s", (int) before.got.len, before.got.buf);
  cr_assert_eq(io_count(&after.got, "\r\nDate: Sun, 06 Nov 1994 08:4"), 1, "mg_now()'s: %.*s", (int) after.got.len,
               after.got.buf);
#else
  cr_assert_eq(io_count(&before.got, "\r\nDate: "), 1, "the host's clock: %.*s", (int) before.got.len, before.got.buf);
  cr_assert_eq(io_count(&after.got, "\r\nDate: Sun, 06 Nov 1994"), 0, "the host's clock wins over SNTP's");
#endif
  mg_mgr_free(&mgr);
  mg_iobuf_free(&before.got);
  mg_iobuf_free(&after.got);
  server_free(&s);
}
