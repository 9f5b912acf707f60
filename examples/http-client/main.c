// Fetch a URL and print the body: exits 0 on a 2xx answer, 1 otherwise, 2 on bad usage.
// An https:// URL is checked against the CA certificates of --ca and the URL's host name.
//   http-client [--ca FILE] [-n NAMESERVER_URL] [-t TIMEOUT_MS] [-X METHOD] [-v LEVEL] URL
#include "meerkat.h"

struct fetch {
  const char *url, *method;
  struct mg_str ca;  // PEM or DER from --ca; empty: the TLS handshake fails, saying to set one
  bool done;
  int status;  // HTTP status, or -1 on a connection error
};

// The server's certificate must chain to --ca and name the URL's host ("[::1]" is ::1)
static void start_tls(struct mg_connection *c, struct fetch *f) {
  struct mg_tls_opts opts = {.ca = f->ca, .name = mg_url_host(f->url)};
  if (opts.name.len >= 2 && opts.name.buf[0] == '[') opts.name.buf++, opts.name.len -= 2;
  mg_tls_init(c, &opts);
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  struct fetch *f = (struct fetch *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    if (c->is_tls) start_tls(c, f);
    struct mg_url u;
    mg_url_parse(mg_str(f->url), &u);
    bool v6 = memchr(u.host.buf, ':', u.host.len) != NULL;
    char port[8] = "";
    if (u.has_port) mg_snprintf(port, sizeof(port), ":%u", (unsigned) u.port);
    mg_printf(c, "%s %s HTTP/1.1\r\nHost: %s%.*s%s%s\r\nConnection: close\r\nUser-Agent: meerkat\r\n\r\n",
              f->method, mg_url_uri(f->url), v6 ? "[" : "", (int) u.host.len, u.host.buf, v6 ? "]" : "", port);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    fwrite(hm->body.buf, 1, hm->body.len, stdout);
    f->status = mg_http_status(hm);
    f->done = true;
    c->is_draining = 1;
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "http-client: %s\n", (char *) ev_data);
    f->status = -1;
    f->done = true;
  } else if (ev == MG_EV_CLOSE && !f->done) {
    fprintf(stderr, "http-client: connection closed before a response\n");
    f->status = -1;
    f->done = true;
  }
}

int main(int argc, char *argv[]) {
  struct fetch f = {NULL, "GET", MG_NULL_STR, false, 0};
  const char *ca_file = NULL;
  long timeout_ms = 10000;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_ERROR);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) ca_file = argv[++i];
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) mgr.dns4.url = argv[++i];
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) timeout_ms = atol(argv[++i]);
    else if (strcmp(argv[i], "-X") == 0 && i + 1 < argc) f.method = argv[++i];
    else if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) mg_log_set(atoi(argv[++i]));
    else f.url = argv[i];
  }
  if (f.url == NULL) {
    fprintf(stderr, "usage: %s [--ca FILE] [-n NAMESERVER_URL] [-t TIMEOUT_MS] [-X METHOD] [-v LEVEL] URL\n", argv[0]);
    return 2;
  }
  if (ca_file != NULL && (f.ca = mg_file_read(&mg_fs_posix, ca_file)).buf == NULL) {
    fprintf(stderr, "http-client: cannot read the CA file %s\n", ca_file);
    mg_mgr_free(&mgr);
    return 2;
  }
  if (mg_http_connect(&mgr, f.url, handle, &f) == NULL) {
    fprintf(stderr, "http-client: bad URL %s\n", f.url);
    mg_mgr_free(&mgr);
    mg_free(f.ca.buf);
    return 1;
  }
  uint64_t deadline = mg_millis() + (uint64_t) timeout_ms;
  while (!f.done && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  mg_mgr_free(&mgr);
  mg_free(f.ca.buf);
  if (!f.done) fprintf(stderr, "http-client: timed out after %ld ms\n", timeout_ms);
  else if (f.status >= 300) fprintf(stderr, "http-client: HTTP status %d\n", f.status);
  return f.done && f.status >= 200 && f.status < 300 ? 0 : 1;
}
