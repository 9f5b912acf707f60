// The websocket-server tutorial as a Mongoose user writes it: /websocket upgrades and
// echoes every message back; other paths serve files from a directory (the page with
// the JavaScript client). Built against dist/mongoose.h alone.
// Usage: websocket-server [-l URL] [-d DIR]
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_listen_on = "ws://0.0.0.0:8000";
static const char *s_web_root = ".";
static int s_signo;

static void signal_handler(int signo) {
  s_signo = signo;
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/websocket"), NULL)) {
      mg_ws_upgrade(c, hm, NULL);  // Upgrade HTTP to WebSocket
    } else if (mg_match(hm->uri, mg_str("/rest"), NULL)) {
      mg_http_reply(c, 200, "", "{\"result\": %d}\n", 123);
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_web_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  } else if (ev == MG_EV_WS_MSG) {
    // Echo the message back, with the opcode it came with
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-l") == 0) s_listen_on = argv[i + 1];
    if (strcmp(argv[i], "-d") == 0) s_web_root = argv[i + 1];
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  if ((c = mg_http_listen(&mgr, s_listen_on, fn, NULL)) == NULL) return EXIT_FAILURE;
  char addr[64];  // The address it got: with port 0, the system picks the port
  mg_snprintf(addr, sizeof(addr), "%M", mg_print_ip_port, &c->loc);
  printf("Starting WS listener on ws://%s/websocket\n", addr);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
