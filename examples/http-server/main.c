// Static file server: serves a directory, plus two upload endpoints that show
// the two ways to take a request body (buffered whole, or streamed). An https:// URL
// serves over TLS with the certificate and key of -c and -k.
//   http-server [-d ROOT] [-l URL]... [-c CERT.pem -k KEY.pem] [-L] [-4 PAGE404] [-i IMMUTABLE_GLOBS] [-H MAX_HEAD]
//               [-B MAX_BODY] [-T HEAD_TIMEOUT_MS] [-I IDLE_TIMEOUT_MS] [-W BODY_TIMEOUT_MS] [-C MAX_CONNS] [-v LEVEL]
//   POST /api/echo     buffered: replies with the body it got
//   POST /api/upload   streamed: replies {"size":N,"crc32":"%08x"} of any size of body
#include <signal.h>
#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static struct mg_http_serve_opts s_opts;
static struct mg_tls_opts s_tls;  // -c and -k, for the https:// listeners

struct upload {  // Lives in c->data while a body streams in
  uint64_t size;
  uint32_t crc;
};

static void on_signal(int signo) {
  s_signo = signo;
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct upload *up = (struct upload *) c->data;
  if (ev == MG_EV_ACCEPT && c->is_tls) mg_tls_init(c, &s_tls);  // From an https:// listener
  if (ev == MG_EV_HTTP_HDRS && mg_str_eq(hm->uri, "/api/upload")) {
    memset(up, 0, sizeof(*up));
    mg_http_stream_body(c);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    up->size += hm->chunk.len;
    up->crc = mg_crc32(up->crc, hm->chunk.buf, hm->chunk.len);
  } else if (ev == MG_EV_HTTP_MSG && mg_str_eq(hm->uri, "/api/upload")) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"size\":%llu,\"crc32\":\"%08lx\"}\n",
                  (unsigned long long) up->size, (unsigned long) up->crc);
  } else if (ev == MG_EV_HTTP_MSG && mg_str_eq(hm->uri, "/api/echo")) {
    mg_http_reply(c, 200, "Content-Type: application/octet-stream\r\n", "%.*s", (int) hm->body.len, hm->body.buf);
  } else if (ev == MG_EV_HTTP_MSG) {
    mg_http_serve_dir(c, hm, &s_opts);
  }
}

static void usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [-d ROOT] [-l URL]... [-c CERT.pem -k KEY.pem] [-L] [-4 PAGE404] [-i IMMUTABLE_GLOBS] "
          "[-H MAX_HEAD] [-B MAX_BODY] [-T HEAD_TIMEOUT_MS] [-I IDLE_TIMEOUT_MS] [-W BODY_TIMEOUT_MS] "
          "[-C MAX_CONNS] [-v LEVEL]\n",
          prog);
  exit(2);
}

static struct mg_str read_pem(const char *path) {
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  if (s.buf == NULL) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  return s;
}

int main(int argc, char *argv[]) {
  static struct mg_http_limits limits;
  const char *urls[8];
  int nurls = 0;
  limits = mg_http_default_limits;
  s_opts.root_dir = ".";
  s_opts.dir_listing_off = true;  // Listed only with -L
  for (int i = 1; i < argc; i++) {
    const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(opt, "-L") == 0) {
      s_opts.dir_listing_off = false;
      continue;
    }
    if (val == NULL) usage(argv[0]);
    i++;
    if (strcmp(opt, "-d") == 0) s_opts.root_dir = val;
    else if (strcmp(opt, "-l") == 0 && nurls < 8) urls[nurls++] = val;
    else if (strcmp(opt, "-c") == 0) s_tls.cert = read_pem(val);
    else if (strcmp(opt, "-k") == 0) s_tls.key = read_pem(val);
    else if (strcmp(opt, "-4") == 0) s_opts.page404 = val;
    else if (strcmp(opt, "-i") == 0) s_opts.immutable = val;
    else if (strcmp(opt, "-H") == 0) limits.max_head_size = (size_t) atol(val);
    else if (strcmp(opt, "-B") == 0) limits.max_body_size = (size_t) atol(val);
    else if (strcmp(opt, "-T") == 0) limits.head_timeout_ms = (uint32_t) atol(val);
    else if (strcmp(opt, "-I") == 0) limits.idle_timeout_ms = (uint32_t) atol(val);
    else if (strcmp(opt, "-W") == 0) limits.body_timeout_ms = (uint32_t) atol(val);
    else if (strcmp(opt, "-C") == 0) limits.max_conns = (size_t) atol(val);
    else if (strcmp(opt, "-v") == 0) mg_log_set(atoi(val));
    else usage(argv[0]);
  }
  if (nurls == 0) urls[nurls++] = "http://0.0.0.0:8000";
  for (int i = 0; i < nurls; i++) {
    if (mg_url_is_ssl(urls[i]) && (s_tls.cert.buf == NULL || s_tls.key.buf == NULL)) {
      fprintf(stderr, "%s: %s needs a certificate and key: -c CERT.pem -k KEY.pem\n", argv[0], urls[i]);
      return 2;
    }
  }

  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  for (int i = 0; i < nurls; i++) {
    struct mg_connection *c = mg_http_listen_limits(&mgr, urls[i], &limits, handle, NULL);
    if (c == NULL) {
      mg_mgr_free(&mgr);
      return 1;
    }
    MG_INFO(("serving %s on %s://%M", s_opts.root_dir, c->is_tls ? "https" : "http", mg_print_ip_port, &c->loc));
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  MG_INFO(("signal %d, exiting", (int) s_signo));
  mg_mgr_free(&mgr);
  mg_free(s_tls.cert.buf);
  mg_free(s_tls.key.buf);
  return 0;
}
