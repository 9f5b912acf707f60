// Fuzz the HTTP server's connection state machine (http_conn.c) without sockets:
// the input is split into reads of varying size and fed to an accepted
// connection whose handler buffers some bodies, streams others and replies.
// Checks that buffered bodies and streamed pieces stay inside c->recv, and that
// after every read c->recv and c->send stay within what the limits allow.
#include "fuzz_http_accepted.h"
#include "http/http_internal.h"

// Framing a chunked body may hold beyond its decoded data: one chunk-size line
// with its extensions, or the trailer section, which together with the head must
// fit the head limit plus http_conn.c's 64-byte slack; and a chunk's closing CRLF.
#define FUZZ_CHUNK_FRAMING (64 + 2)
// The smallest complete request ("A / HTTP/1.1\n\n") and the largest answer
// the handler or a rejection queues for one request (a 100 Continue included)
#define FUZZ_MIN_REQUEST 14
#define FUZZ_MAX_REPLY 256
#define FUZZ_MAX_STEP 64  // Largest read

// The most c->recv may hold once a read has been processed, by parser phase.
// Bytes that complete a message are consumed in the same read, so what stays
// is an incomplete head, a buffered body still short of its end, or framing.
static size_t fuzz_recv_bound(struct mg_connection *c, const struct mg_http_limits *lim) {
  switch (mg_http_state(c)->phase) {
    case HTTP_PHASE_HEAD:  // Longer without its end: 431; requests held back stop reading past it
      return lim->max_head_size + FUZZ_MAX_STEP;
    case HTTP_PHASE_BODY:                             // Content-Length over the limit: 413
    case HTTP_PHASE_TO_CLOSE: return lim->max_head_size + lim->max_body_size;
    case HTTP_PHASE_CHUNKED:  // Decoded body in place after the head, then framing
      return lim->max_head_size + lim->max_body_size + FUZZ_CHUNK_FRAMING;
    case HTTP_PHASE_STREAM:  // Body bytes go to the handler as they come
    case HTTP_PHASE_STREAM_TO_CLOSE: return lim->max_head_size;
    case HTTP_PHASE_STREAM_CHUNKED: return lim->max_head_size + FUZZ_CHUNK_FRAMING;
    default: return 0;  // Rejected: input is discarded
  }
}

// The most c->send may hold after a read (it is emptied before each one): one
// answer per request that the bytes on hand could complete
static size_t fuzz_send_bound(size_t bytes_on_hand) {
  return FUZZ_MAX_REPLY * (1 + bytes_on_hand / FUZZ_MIN_REQUEST);
}

static void fuzz_check_inside(struct mg_connection *c, struct mg_str s) {
  if (s.len == 0) return;
  const char *lo = (const char *) c->recv.buf, *hi = lo + c->recv.len;
  if (s.buf < lo || s.buf + s.len > hi) __builtin_trap();
}

static void fuzz_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_HDRS) {
    fuzz_check_inside(c, hm->head);
    if (hm->uri.len > 0 && hm->uri.buf[hm->uri.len - 1] == 's') mg_http_stream_body(c);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    fuzz_check_inside(c, hm->chunk);
  } else if (ev == MG_EV_HTTP_MSG) {
    fuzz_check_inside(c, hm->message);
    mg_http_reply(c, 200, "", "%lu", (unsigned long) hm->body.len);
  }
}

// Says which bound broke, in which phase, so that a crash log explains itself
static void fuzz_check_bound(const char *what, size_t len, size_t bound, struct mg_connection *c) {
  if (len <= bound) return;
  fprintf(stderr, "%s holds %lu bytes, over its bound of %lu (phase %d)\n", what, (unsigned long) len,
          (unsigned long) bound, (int) mg_http_state(c)->phase);
  __builtin_trap();
}

// A peer that reads at once: what is queued goes out, and each write lets the
// next held-back request be answered, as in the event layer's write loop
static void fuzz_drain(struct mg_connection *c) {
  for (int i = 0; i < 1000 && c->send.len > 0 && !c->is_closing; i++) {
    long n = (long) c->send.len;
    c->send.len = 0;
    mg_call(c, MG_EV_WRITE, &n);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mg_http_limits limits = {512, 1024, 30000, 0, 0, 0, 0, 0};
  struct mg_mgr mgr;
  struct mg_connection *c = fuzz_http_accepted(&mgr, &limits, fuzz_handler);
  // The first byte picks the read size, so splits at every position get explored
  size_t step = size > 0 ? (size_t) data[0] % FUZZ_MAX_STEP + 1 : 1, ofs = size > 0 ? 1 : 0;
  for (unsigned pass = 0; ofs < size && !c->is_closing && !c->is_draining && pass < 4 * size; pass++) {
    size_t on_hand = c->recv.len;
    if (!c->is_read_paused) {  // The event layer reads only while not paused
      size_t n = size - ofs < step ? size - ofs : step;
      if (mg_iobuf_add(&c->recv, c->recv.len, data + ofs, n) != n) break;
      on_hand = c->recv.len;
      long got = (long) n;
      mg_call(c, MG_EV_READ, &got);
      ofs += n;
    }
    fuzz_check_bound("c->recv", c->recv.len, fuzz_recv_bound(c, &limits), c);
    fuzz_check_bound("c->send", c->send.len, fuzz_send_bound(on_hand), c);
    fuzz_drain(c);
    uint64_t now = mg_millis();
    mg_call(c, MG_EV_POLL, &now);  // The rest of the pass: held-back requests go on
    fuzz_drain(c);
  }
  mg_mgr_free(&mgr);
  return 0;
}
