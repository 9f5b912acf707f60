// The json-rpc-over-websocket tutorial as a Mongoose user writes it: JSON-RPC 2.0
// frames over /websocket (sum, mul, rpc.list), and a notification pushed to every
// WebSocket client by a timer. Built against dist/mongoose.h alone.
// Usage: json-rpc-over-websocket [-l URL] [-d DIR] [-n NOTIFY_MS]
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_listen_on = "ws://0.0.0.0:8000";
static const char *s_web_root = ".";
static struct mg_rpc *s_rpc_head = NULL;
static int s_signo;

static void signal_handler(int signo) {
  s_signo = signo;
}

static void rpc_sum(struct mg_rpc_req *r) {
  double a = 0.0, b = 0.0;
  mg_json_get_num(r->frame, "$.params[0]", &a);
  mg_json_get_num(r->frame, "$.params[1]", &b);
  mg_rpc_ok(r, "%g", a + b);
}

static void rpc_mul(struct mg_rpc_req *r) {
  double a = 0.0, b = 0.0;
  if (!mg_json_get_num(r->frame, "$.params[0]", &a) || !mg_json_get_num(r->frame, "$.params[1]", &b)) {
    mg_rpc_err(r, -32602, "%m", MG_ESC("two numbers expected"));
    return;
  }
  mg_rpc_ok(r, "%g", a * b);
}

// Every WebSocket client gets the notification: a frame with no id
static void notify_fn(void *arg) {
  struct mg_mgr *mgr = (struct mg_mgr *) arg;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->data[0] != 'W') continue;  // Marked on upgrade
    mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%m,%m:[%d,%d,%d]}", MG_ESC("method"), MG_ESC("notification1"),
                 MG_ESC("params"), 1, 2, 3);
  }
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/websocket"), NULL)) {
      mg_ws_upgrade(c, hm, NULL);
      c->data[0] = 'W';
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_web_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    struct mg_iobuf io = {0, 0, 0, 512};
    struct mg_rpc_req r = {&s_rpc_head, 0, mg_pfn_iobuf, &io, 0, wm->data};
    mg_rpc_process(&r);
    if (io.buf) mg_ws_send(c, (char *) io.buf, io.len, WEBSOCKET_OP_TEXT);
    mg_iobuf_free(&io);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  uint64_t notify_ms = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-l") == 0) s_listen_on = argv[i + 1];
    if (strcmp(argv[i], "-d") == 0) s_web_root = argv[i + 1];
    if (strcmp(argv[i], "-n") == 0) notify_ms = (uint64_t) atoi(argv[i + 1]);
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  mg_rpc_add(&s_rpc_head, mg_str("sum"), rpc_sum, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("mul"), rpc_mul, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("rpc.list"), mg_rpc_list, &s_rpc_head);
  mg_timer_add(&mgr, notify_ms, MG_TIMER_REPEAT, notify_fn, &mgr);
  if ((c = mg_http_listen(&mgr, s_listen_on, fn, NULL)) == NULL) return EXIT_FAILURE;
  char addr[64];  // The address it got: with port 0, the system picks the port
  mg_snprintf(addr, sizeof(addr), "%M", mg_print_ip_port, &c->loc);
  printf("Starting WS listener on ws://%s/websocket\n", addr);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  mg_rpc_del(&s_rpc_head, NULL);  // Deallocate RPC handlers
  return 0;
}
