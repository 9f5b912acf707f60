// The http-restful-server tutorial as a Mongoose user writes it: JSON endpoints under
// /api/, everything else from a directory. Built against dist/mongoose.h alone.
// Usage: http-restful-server [-l URL] [-d DIR]
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_listen_on = "http://0.0.0.0:8000";
static const char *s_root_dir = ".";
static int s_signo;
static int s_requests;

static void signal_handler(int signo) {
  s_signo = signo;
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct mg_str caps[3];  // One per wildcard, and one more that mg_match empties
  double a = 0, b = 0;
  s_requests++;
  if (mg_match(hm->uri, mg_str("/api/hello"), NULL)) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%d}\n", MG_ESC("status"), 1);
  } else if (mg_match(hm->uri, mg_str("/api/sum"), NULL)) {
    // The body is a JSON array of two numbers: [1, 2]
    if (mg_json_get_num(hm->body, "$[0]", &a) && mg_json_get_num(hm->body, "$[1]", &b)) {
      mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%g}\n", MG_ESC("result"), a + b);
    } else {
      mg_http_reply(c, 400, "", "%s\n", "expected [number, number]");
    }
  } else if (mg_match(hm->uri, mg_str("/api/stats"), NULL)) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%d,%m:%lu}\n", MG_ESC("requests"), s_requests,
                  MG_ESC("uptime_ms"), (unsigned long) mg_millis());
  } else if (mg_match(hm->uri, mg_str("/api/echo/*/*"), caps)) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%m,%m:%m}\n", MG_ESC("a"),
                  mg_print_esc, (int) caps[0].len, caps[0].buf, MG_ESC("b"), mg_print_esc, (int) caps[1].len, caps[1].buf);
  } else if (mg_match(hm->uri, mg_str("/api/#"), NULL)) {
    mg_http_reply(c, 404, "Content-Type: application/json\r\n", "{%m:%m}\n", MG_ESC("error"), MG_ESC("no such endpoint"));
  } else {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_root_dir;
    mg_http_serve_dir(c, hm, &opts);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-l") == 0) s_listen_on = argv[i + 1];
    if (strcmp(argv[i], "-d") == 0) s_root_dir = argv[i + 1];
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  if ((c = mg_http_listen(&mgr, s_listen_on, fn, NULL)) == NULL) return EXIT_FAILURE;
  char addr[64];  // The address it got: with port 0, the system picks the port
  mg_snprintf(addr, sizeof(addr), "%M", mg_print_ip_port, &c->loc);
  printf("Listening on http://%s\n", addr);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
