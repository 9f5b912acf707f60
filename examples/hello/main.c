// Hello world: an HTTP server answering every request with 13 bytes.
// The HTTPS listener shows how a second listener fails alone, with a log line.
#include <signal.h>
#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static void on_signal(int signo) {
  s_signo = signo;
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "Hello, world!");
  (void) ev_data;
}

int main(int argc, char *argv[]) {
  const char *http_url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  const char *https_url = argc > 2 ? argv[2] : "https://0.0.0.0:8443";
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen(&mgr, http_url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  mg_http_listen(&mgr, https_url, handle, NULL);  // Logs why it cannot, until TLS exists
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
