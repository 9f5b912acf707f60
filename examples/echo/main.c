// TCP echo server: whatever a client sends comes straight back.
#include <signal.h>
#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static void on_signal(int signo) {
  s_signo = signo;
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) {
    mg_send(c, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
  (void) ev_data;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://0.0.0.0:1234";
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_listen(&mgr, url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("echo server on tcp://%M", mg_print_ip_port, &c->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
