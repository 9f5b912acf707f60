// Serves one packer output (prefix "app") over HTTP, for test/e2e/packed-webapp:
// a real npm web app packed into a C table and served as the firmware serves its own.
//   packed_server URL    logs "listening on http://IP:PORT", stops on SIGTERM
#include <signal.h>
#include "meerkat.h"

extern struct mg_fs app_fs;
static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts = {.root_dir = "", .fs = &app_fs};
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen(&mgr, argc > 1 ? argv[1] : "http://127.0.0.1:0", handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
