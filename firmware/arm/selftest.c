// Bare-metal self-test for Cortex-M3: the core on the bare-metal port and the mock
// backend serves a packed page over HTTP (HTTPS in the TLS build) to a client in the
// same program, then says on the UART what came back and exits (under QEMU) with 0 if
// it was the page.
#include "meerkat.h"
#include "board.h"

extern struct mg_fs arm_fs;  // Packed from firmware/arm/www (build/arm/www_fs.c)

#if MG_ENABLE_TLS
// The development certificates, packed (build/arm/certs_fs.c): the server's and the CA
extern struct mg_fs arm_certs_fs;
#define SELF_LISTEN "https://0.0.0.0:443"
#define SELF_URL "https://127.0.0.1:443/"
#else
#define SELF_LISTEN "http://0.0.0.0:80"
#define SELF_URL "http://127.0.0.1:80/"
#endif

struct fetch {
  struct mg_tls_opts tls;  // The client's: the CA (TLS build)
  int status;
  size_t body_len;
  bool done;
};

// fn_data: the server's TLS options, or NULL over plain HTTP
static void serve(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT && c->fn_data != NULL) mg_tls_init(c, (struct mg_tls_opts *) c->fn_data);
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts = {.root_dir = "", .fs = &arm_fs};
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}

static void fetch(struct mg_connection *c, int ev, void *ev_data) {
  struct fetch *f = (struct fetch *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    if (c->is_tls) mg_tls_init(c, &f->tls);
    mg_printf(c, "GET /index.html HTTP/1.1\r\nHost: device\r\n\r\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    f->status = mg_http_status(hm);
    f->body_len = hm->body.len;
    f->done = true;
    c->is_draining = 1;
  } else if (ev == MG_EV_ERROR) {
    MG_ERROR(("%s", (char *) ev_data));
    f->done = true;
  }
}

int main(void) {
  struct mg_mgr mgr;
  struct mg_tls_opts server_tls;
  struct fetch f;
  memset(&server_tls, 0, sizeof(server_tls));
  memset(&f, 0, sizeof(f));
  board_init();
#if MG_ENABLE_TLS
  server_tls.cert = mg_file_read(&arm_certs_fs, "/server.pem");
  server_tls.key = mg_file_read(&arm_certs_fs, "/server.key");
  f.tls.ca = mg_file_read(&arm_certs_fs, "/ca.pem");
#endif
  mg_mgr_init(&mgr);
  uint64_t start = mg_millis(), end = start + 10000;
  bool up = mg_http_listen(&mgr, SELF_LISTEN, serve, MG_ENABLE_TLS ? &server_tls : NULL) != NULL &&
            mg_http_connect(&mgr, SELF_URL, fetch, &f) != NULL;
  while (up && !f.done && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  MG_INFO(("GET /index.html: status %d, %lu bytes%s in %lu ms", f.status, (unsigned long) f.body_len,
           MG_ENABLE_TLS ? " over TLS" : "", (unsigned long) (mg_millis() - start)));
  mg_mgr_free(&mgr);
  mg_free((void *) server_tls.cert.buf), mg_free((void *) server_tls.key.buf), mg_free((void *) f.tls.ca.buf);
  board_exit(f.status == 200 && f.body_len > 0 ? 0 : 1);
  return 0;
}
