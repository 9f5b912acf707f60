// Hello world: an HTTP server answering a GET with 13 bytes and a POST with its own
// body, over HTTPS too when given a certificate and key, with one handler.
// Usage: hello [HTTP_URL [HTTPS_URL CERT.pem KEY.pem]]
#include <signal.h>
#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static void on_signal(int signo) {
  s_signo = signo;
}

// The HTTPS listener carries its TLS options in fn_data, so its connections start TLS
static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT && c->fn_data != NULL) mg_tls_init(c, (struct mg_tls_opts *) c->fn_data);
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_strcasecmp(hm->method, mg_str("POST")) == 0) {  // An echo, for uploads (bytes, not text)
      mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %lu\r\n\r\n",
                (unsigned long) hm->body.len);
      mg_send(c, hm->body.buf, hm->body.len);
    } else {
      mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "Hello, world!");
    }
  }
}

int main(int argc, char *argv[]) {
  const char *http_url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_http_limits limits = mg_http_default_limits;
  struct mg_tls_opts tls = {0};
  struct mg_mgr mgr;
  limits.max_body_size = 4 << 20;  // Uploads of a few MiB come back whole
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen_limits(&mgr, http_url, &limits, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  if (argc > 2) {
    tls.cert = mg_file_read(&mg_fs_posix, argc > 3 ? argv[3] : "");
    tls.key = mg_file_read(&mg_fs_posix, argc > 4 ? argv[4] : "");
    if (tls.cert.buf == NULL || tls.key.buf == NULL) {
      MG_ERROR(("no HTTPS: it needs a certificate and key (hello HTTP_URL HTTPS_URL CERT.pem KEY.pem)"));
    } else if ((c = mg_http_listen_limits(&mgr, argv[2], &limits, handle, &tls)) != NULL) {
      MG_INFO(("listening on https://%M", mg_print_ip_port, &c->loc));
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  mg_free(tls.cert.buf);
  mg_free(tls.key.buf);
  return 0;
}
