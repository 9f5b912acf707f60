// Fuzz the HTTP server's connection state machine (http_conn.c) without sockets:
// the input is split into reads of varying size and fed to an accepted
// connection whose handler buffers some bodies, streams others and replies.
// Checks that buffered bodies and streamed pieces stay inside c->recv.
#include "mg_internal.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mg_http_limits limits = {512, 1024, 30000, 0, 0, 0};
  struct mg_mgr mgr;
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen_limits(&mgr, "http://127.0.0.1:0", &limits, fuzz_handler, NULL);
  struct mg_connection *c = mg_conn_alloc(&mgr);
  if (lsn == NULL || c == NULL) __builtin_trap();
  c->pfn = lsn->pfn, c->pfn_data = lsn->pfn_data, c->fn = fuzz_handler;
  c->is_accepted = 1;
  // The first byte picks the read size, so splits at every position get explored
  size_t step = size > 0 ? (size_t) data[0] % 64 + 1 : 1, ofs = size > 0 ? 1 : 0;
  while (ofs < size && !c->is_closing && !c->is_draining) {
    size_t n = size - ofs < step ? size - ofs : step;
    if (mg_iobuf_add(&c->recv, c->recv.len, data + ofs, n) != n) break;
    long got = (long) n;
    mg_call(c, MG_EV_READ, &got);
    c->send.len = 0;  // As if it went out
    ofs += n;
  }
  mg_mgr_free(&mgr);
  return 0;
}
