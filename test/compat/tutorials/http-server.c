// The http-server tutorial as a Mongoose user writes it: serve a directory, with SSI
// for *.shtml pages, until Ctrl-C. Built against dist/mongoose.h alone.
// Usage: http-server [-l URL] [-d DIR] [-v LEVEL]
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_listen_on = "http://0.0.0.0:8000";
static const char *s_root_dir = ".";
static int s_signo;

static void signal_handler(int signo) {
  s_signo = signo;
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_root_dir;
    opts.ssi_pattern = "#.shtml";
    mg_http_serve_dir(c, hm, &opts);
    MG_INFO(("%.*s %.*s", (int) hm->method.len, hm->method.buf, (int) hm->uri.len, hm->uri.buf));
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-l") == 0) s_listen_on = argv[i + 1];
    if (strcmp(argv[i], "-d") == 0) s_root_dir = argv[i + 1];
    if (strcmp(argv[i], "-v") == 0) mg_log_set(atoi(argv[i + 1]));
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  if ((c = mg_http_listen(&mgr, s_listen_on, fn, NULL)) == NULL) {
    MG_ERROR(("Cannot listen on %s. Use http://ADDR:PORT or :PORT", s_listen_on));
    return EXIT_FAILURE;
  }
  printf("Mongoose version : v%s\n", MG_VERSION);
  char addr[64];  // The address it got: with port 0, the system picks the port
  mg_snprintf(addr, sizeof(addr), "%M", mg_print_ip_port, &c->loc);
  printf("Listening on     : http://%s\n", addr);
  printf("Web root         : [%s]\n", s_root_dir);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  printf("Exiting on signal %d\n", s_signo);
  return 0;
}
