// A Mongoose-style TLS program, written from the description of Mongoose's TLS
// tutorial, that builds from dist/ unchanged (cc -DMG_TLS=MG_TLS_MBED ... meerkat.c):
//   tls_tutorial server HTTP_URL HTTPS_URL CERT.pem KEY.pem   serves both; HTTPS starts in MG_EV_ACCEPT
//   tls_tutorial client URL CA.pem                            fetches URL, prints the body
#include <signal.h>
#include "mongoose.h"

static volatile sig_atomic_t s_signo;
static struct mg_str s_cert, s_key, s_ca;
static const char *s_url;
static int s_status;
static bool s_done;

// One handler for both listeners: the HTTPS one carries a non-NULL fn_data
static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT && c->fn_data != NULL) {
    struct mg_tls_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.cert = s_cert;
    opts.key = s_key;
    mg_tls_init(c, &opts);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "Hello over %s: %.*s\n", c->is_tls ? "TLS" : "plain TCP",
                  (int) hm->uri.len, hm->uri.buf);
  }
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_CONNECT) {
    struct mg_str host = mg_url_host(s_url);
    if (mg_url_is_ssl(s_url)) {
      struct mg_tls_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.ca = s_ca;
      opts.name = host;
      mg_tls_init(c, &opts);
    }
    mg_printf(c, "GET %s HTTP/1.0\r\nHost: %.*s\r\n\r\n", mg_url_uri(s_url), (int) host.len, host.buf);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    printf("%.*s", (int) hm->body.len, hm->body.buf);
    s_status = mg_http_status(hm);
    c->is_draining = 1;
    s_done = true;
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "tls_tutorial: %s\n", (char *) ev_data);
    s_done = true;
  }
}

static void on_signal(int signo) {
  s_signo = signo;
}

static int serve(const char *http_url, const char *https_url) {
  struct mg_mgr mgr;
  struct mg_connection *plain, *secure;
  mg_mgr_init(&mgr);
  plain = mg_http_listen(&mgr, http_url, server_fn, NULL);
  secure = mg_http_listen(&mgr, https_url, server_fn, (void *) 1);
  if (plain == NULL || secure == NULL) {
    mg_mgr_free(&mgr);
    return 1;
  }
  MG_INFO(("listening on http://%M and https://%M", mg_print_ip_port, &plain->loc, mg_print_ip_port, &secure->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}

static int fetch(void) {
  struct mg_mgr mgr;
  uint64_t deadline;
  mg_mgr_init(&mgr);
  if (mg_http_connect(&mgr, s_url, client_fn, NULL) == NULL) return 1;
  deadline = mg_millis() + 10000;
  while (!s_done && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  mg_mgr_free(&mgr);
  return s_status == 200 ? 0 : 1;
}

int main(int argc, char *argv[]) {
  mg_log_set(MG_LL_INFO);
  if (argc == 6 && strcmp(argv[1], "server") == 0) {
    s_cert = mg_file_read(&mg_fs_posix, argv[4]);
    s_key = mg_file_read(&mg_fs_posix, argv[5]);
    int rc = serve(argv[2], argv[3]);
    free((void *) s_cert.buf);
    free((void *) s_key.buf);
    return rc;
  }
  if (argc == 4 && strcmp(argv[1], "client") == 0) {
    s_url = argv[2];
    s_ca = mg_file_read(&mg_fs_posix, argv[3]);
    int rc = fetch();
    free((void *) s_ca.buf);
    return rc;
  }
  fprintf(stderr, "usage: %s server HTTP_URL HTTPS_URL CERT KEY | client URL CA\n", argv[0]);
  return 2;
}
