// Bare-metal self-test for Cortex-M3: the core on the bare-metal port and the mock
// backend serves a packed page over HTTP to a client in the same program, then says
// on the UART what came back and exits (under QEMU) with 0 if it was the page.
#include "meerkat.h"
#include "board.h"

extern struct mg_fs arm_fs;  // Packed from firmware/arm/www (build/arm/www_fs.c)

struct fetch {
  int status;
  size_t body_len;
  bool done;
};

static void serve(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts = {.root_dir = "", .fs = &arm_fs};
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}

static void fetch(struct mg_connection *c, int ev, void *ev_data) {
  struct fetch *f = (struct fetch *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_printf(c, "GET /index.html HTTP/1.1\r\nHost: device\r\n\r\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    f->status = mg_http_status(hm);
    f->body_len = hm->body.len;
    f->done = true;
    c->is_draining = 1;
  } else if (ev == MG_EV_ERROR) {
    f->done = true;
  }
}

int main(void) {
  struct mg_mgr mgr;
  struct fetch f = {0, 0, false};
  board_init();
  mg_mgr_init(&mgr);
  bool up = mg_http_listen(&mgr, "http://0.0.0.0:80", serve, NULL) != NULL &&
            mg_http_connect(&mgr, "http://127.0.0.1:80/", fetch, &f) != NULL;
  uint64_t end = mg_millis() + 5000;
  while (up && !f.done && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  MG_INFO(("GET /index.html: status %d, %lu bytes", f.status, (unsigned long) f.body_len));
  mg_mgr_free(&mgr);
  board_exit(f.status == 200 && f.body_len > 0 ? 0 : 1);
  return 0;
}
