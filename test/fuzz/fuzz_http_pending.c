// Fuzz the HTTP server while replies are pending and the peer reads slowly or not
// at all: the handler answers some requests only a few loop passes later, and the
// peer takes the queued output only every few passes, or stops taking it. Checks
// the bounds that hold whatever the peer sends: unparsed input waits up to about a
// head's worth (then reading pauses), and a peer that does not read makes us queue
// no more than one request's answers.
#include "fuzz_http_accepted.h"
#include "http/http_internal.h"

#define FUZZ_MAX_STEP 64     // Largest read
#define FUZZ_MAX_REPLY 256   // Largest answer queued for one request (a 100 Continue included)

struct fuzz_late {  // In c->data: a reply owed, and in how many passes it is given
  int passes_left;
};

static void fuzz_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct fuzz_late *late = (struct fuzz_late *) c->data;
  if (ev == MG_EV_HTTP_HDRS) {
    if (hm->uri.len > 0 && hm->uri.buf[hm->uri.len - 1] == 's') mg_http_stream_body(c);
  } else if (ev == MG_EV_HTTP_MSG) {
    // A path ending in a digit is answered that many passes later
    char last = hm->uri.len > 0 ? hm->uri.buf[hm->uri.len - 1] : 0;
    if (last >= '1' && last <= '9') late->passes_left = last - '0';
    else mg_http_reply(c, 200, "", "%lu", (unsigned long) hm->body.len);
  } else if (ev == MG_EV_POLL && late->passes_left > 0 && --late->passes_left == 0) {
    mg_http_reply(c, 200, "", "late");
  }
}

static void fuzz_check_bound(const char *what, size_t len, size_t bound, struct mg_connection *c) {
  if (len <= bound) return;
  fprintf(stderr, "%s holds %lu bytes, over its bound of %lu (phase %d, is_resp %d)\n", what, (unsigned long) len,
          (unsigned long) bound, (int) mg_http_state(c)->phase, (int) c->is_resp);
  __builtin_trap();
}

// Waiting input (a reply owed, or answers not yet taken): a head's worth, plus what
// one read brought past it. Otherwise what the parser itself may hold, which
// fuzz_http_server checks phase by phase: here only its largest, a buffered body.
static size_t fuzz_recv_bound(struct mg_connection *c, const struct mg_http_limits *lim) {
  bool waiting = c->is_resp || c->send.len > 0;
  if (waiting && mg_http_state(c)->phase == HTTP_PHASE_HEAD) return lim->max_head_size + FUZZ_MAX_STEP;
  return lim->max_head_size + lim->max_body_size + 64 + FUZZ_MAX_STEP;
}

// The peer takes output every `every` passes (0: never); its reads are "writes" here
static void fuzz_peer_reads(struct mg_connection *c, unsigned pass, unsigned every) {
  if (every == 0 || pass % every != 0 || c->send.len == 0) return;
  long n = (long) c->send.len;
  c->send.len = 0;
  mg_call(c, MG_EV_WRITE, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mg_http_limits limits = {.max_head_size = 512, .max_body_size = 1024, .head_timeout_ms = 30000};
  if (size < 3) return 0;
  struct mg_mgr mgr;
  struct mg_connection *c = fuzz_http_accepted(&mgr, &limits, fuzz_handler);
  // Byte 0: the read size; byte 1: how often the peer reads (0: never); then the requests
  size_t step = (size_t) data[0] % FUZZ_MAX_STEP + 1, ofs = 2;
  unsigned every = data[1] % 5;
  for (unsigned pass = 1; pass < 4 * size && !c->is_closing && !c->is_draining; pass++) {
    if (ofs < size && !c->is_read_paused) {  // The event layer reads only while not paused
      size_t n = size - ofs < step ? size - ofs : step;
      if (mg_iobuf_add(&c->recv, c->recv.len, data + ofs, n) != n) break;
      long got = (long) n;
      mg_call(c, MG_EV_READ, &got);
      ofs += n;
    }
    uint64_t now = mg_millis();
    mg_call(c, MG_EV_POLL, &now);
    fuzz_check_bound("c->recv", c->recv.len, fuzz_recv_bound(c, &limits), c);
    // A new request is parsed only once the answers before it are taken
    fuzz_check_bound("c->send", c->send.len, 2 * FUZZ_MAX_REPLY, c);
    fuzz_peer_reads(c, pass, every);
    if (ofs >= size && c->recv.len == 0 && !c->is_resp && c->send.len == 0) break;
  }
  mg_mgr_free(&mgr);
  return 0;
}
