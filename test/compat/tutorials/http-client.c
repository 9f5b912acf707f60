// The http-client tutorial as a Mongoose user writes it: fetch a URL (GET, or POST
// with -d DATA), print the response body to stdout, give up after a timeout.
// Built against dist/mongoose.h alone. Usage: http-client [-d DATA] [-t MS] URL
// Exit status: 0 with a response (any status), 1 on an error (printed to stderr).
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_url = "http://localhost:8000";
static const char *s_post_data = NULL;
static uint64_t s_timeout_ms = 1500;

struct result {
  bool done;
  int status;  // The HTTP status, or -1 on an error
};

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  struct result *r = (struct result *) c->fn_data;
  if (ev == MG_EV_OPEN) {
    // The connection's deadline lives in its free data area, as the tutorial keeps it
    *(uint64_t *) c->data = mg_millis() + s_timeout_ms;
  } else if (ev == MG_EV_POLL) {
    if (mg_millis() > *(uint64_t *) c->data && (c->is_connecting || c->is_resolving)) {
      mg_error(c, "Connect timeout");
    }
  } else if (ev == MG_EV_CONNECT) {
    struct mg_str host = mg_url_host(s_url);
    size_t len = s_post_data ? strlen(s_post_data) : 0;
    mg_printf(c,
              "%s %s HTTP/1.0\r\n"
              "Host: %.*s\r\n"
              "Content-Type: octet-stream\r\n"
              "Content-Length: %d\r\n"
              "\r\n",
              s_post_data ? "POST" : "GET", mg_url_uri(s_url), (int) host.len, host.buf, (int) len);
    mg_send(c, s_post_data, len);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    fwrite(hm->body.buf, 1, hm->body.len, stdout);
    r->status = mg_http_status(hm);
    c->is_draining = 1;
    r->done = true;
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "http-client: %s\n", (char *) ev_data);
    r->status = -1;
    r->done = true;
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct result r = {false, 0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
      s_post_data = argv[++i];
    } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
      s_timeout_ms = (uint64_t) atoi(argv[++i]);
    } else {
      s_url = argv[i];
    }
  }
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  if (mg_http_connect(&mgr, s_url, fn, &r) == NULL) {
    fprintf(stderr, "http-client: cannot connect to %s\n", s_url);
    r.status = -1;
    r.done = true;
  }
  while (!r.done) mg_mgr_poll(&mgr, 50);
  mg_mgr_free(&mgr);
  fprintf(stderr, "http-client: status %d\n", r.status);
  return r.status < 0 ? 1 : 0;
}
