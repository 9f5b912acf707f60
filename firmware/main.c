// Meerkat firmware, host build: serves the packed dashboard and the device API over
// HTTP and HTTPS.  firmware [-l URL]... [-d DATA_DIR] [-v LEVEL] [-H NAME]... [TLS options]
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include "routes.h"

static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void usage(const char *prog) {
  fprintf(stderr,
          "usage: %s [-l URL]... [-d DATA_DIR] [-v LEVEL] [-H NAME]... [-c CERT -k KEY] [-T DIR] [-R]\n"
          "  -l URL    listen, e.g. http://0.0.0.0:8000 or https://0.0.0.0:8443 (repeatable;\n"
          "            default http://0.0.0.0:8000)\n"
          "  -d DIR    data directory for settings, users and OTA slots (default ./data)\n"
          "  -v LEVEL  log level 0 (none) to 4 (verbose), default 2\n"
          "  -H NAME   a host name /api/ answers to, with NAME.local (repeatable); IP addresses,\n"
          "            localhost and the device's name (settings.name) always work\n"
          "HTTPS uses the first certificate found of: DATA_DIR/tls/cert.pem and key.pem (installed\n"
          "on the device), -c and -k, -T; without one https:// listeners do not start (logged)\n"
          "  -c CERT   certificate (PEM or DER, the chain after it), with -k KEY its private key\n"
          "  -T DIR    development certificate DIR/server.pem, DIR/server.key (tools/make-certs.sh;\n"
          "            `make run` passes build/certs): browsers trust it only with DIR/ca.pem\n"
          "  -R        redirect plain HTTP requests to the HTTPS listener (308)\n"
          "HSTS (Strict-Transport-Security) is sent over HTTPS unless the certificate is -T's\n",
          prog);
  exit(2);
}

// Starts each listener; an https:// one only with a certificate (read once, for all of
// them). Returns how many listen; each that does not is logged, and the others serve.
static int firmware_listen(struct mg_mgr *mgr, const char **urls, int nurls, struct routes *r,
                           const struct https_paths *tls_paths) {
  int listening = 0, loaded = -1;  // -1: no https:// URL seen yet
  for (int i = 0; i < nurls; i++) {
    bool tls = mg_url_is_ssl(urls[i]);
    if (tls && loaded < 0) {
      loaded = https_load(r->https, tls_paths);
      if (loaded) MG_INFO(("HTTPS with %s", r->https->source));
    }
    if (tls && !loaded) {
      MG_ERROR(("no HTTPS on %s: %s", urls[i], r->https->source));
      continue;
    }
    struct mg_connection *c = mg_http_listen(mgr, urls[i], routes_handle, r);
    if (c == NULL) continue;  // Logged; the other listeners keep serving
    listening++;
    if (tls && r->https->port == 0) r->https->port = mg_ntohs(c->loc.port);
    MG_INFO(("listening on %s://%M", tls ? "https" : "http", mg_print_ip_port, &c->loc));
  }
  if (r->https->redirect && r->https->port == 0) MG_ERROR(("-R: no HTTPS listener to redirect to, HTTP serves as it is"));
  return listening;
}

int main(int argc, char *argv[]) {
  const char *urls[8], *hosts[MG_AUTH_MAX_HOSTS - 1];  // One name is the device's
  struct https_paths tls_paths = {.data_dir = "./data"};
  struct https https = {.redirect = false};  // -R sets it; https_load the rest
  int nurls = 0, nhosts = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-R") == 0) {
      https.redirect = true;
      continue;
    }
    if (i + 1 >= argc) usage(argv[0]);
    if (strcmp(argv[i], "-l") == 0 && nurls < (int) MG_ARRAY_SIZE(urls)) urls[nurls++] = argv[++i];
    else if (strcmp(argv[i], "-H") == 0 && nhosts < (int) MG_ARRAY_SIZE(hosts)) hosts[nhosts++] = argv[++i];
    else if (strcmp(argv[i], "-d") == 0) tls_paths.data_dir = argv[++i];
    else if (strcmp(argv[i], "-v") == 0) mg_log_set(atoi(argv[++i]));
    else if (strcmp(argv[i], "-c") == 0) tls_paths.cert = argv[++i];
    else if (strcmp(argv[i], "-k") == 0) tls_paths.key = argv[++i];
    else if (strcmp(argv[i], "-T") == 0) tls_paths.dev_dir = argv[++i];
    else usage(argv[0]);
  }
  if ((tls_paths.cert == NULL) != (tls_paths.key == NULL)) {
    fprintf(stderr, "-c CERT and -k KEY go together\n");
    usage(argv[0]);
  }
  const char *data_dir = tls_paths.data_dir;
  if (nurls == 0) urls[nurls++] = "http://0.0.0.0:8000";
  if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
    MG_ERROR(("cannot create data directory %s: %s", data_dir, strerror(errno)));
    return 1;
  }

  struct mg_auth *auth = mg_auth_create(data_dir);  // Logs a missing or bad users file
  if (auth == NULL) {
    MG_ERROR(("out of memory"));
    return 1;
  }
  struct device dev;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  device_init(&dev, &mgr, data_dir);
  dev.dash.auth = auth;  // Open WebSockets close when their session ends
  mg_auth_allow_host(auth, dev.name);  // settings.name, read at each request: a rename takes effect at once
  for (int i = 0; i < nhosts; i++) mg_auth_allow_host(auth, hosts[i]);
  MG_INFO(("%s firmware %s (built %s), data in %s", dev.name, dev.version, dev.build_time, data_dir));
  struct routes routes = {&dev, &https};
  int listening = firmware_listen(&mgr, urls, nurls, &routes, &tls_paths);
  if (listening == 0) {
    MG_ERROR(("no listener could start, exiting"));
    device_free(&dev);
    mg_mgr_free(&mgr);
    mg_auth_free(auth);
    https_free(&https);
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  MG_INFO(("signal %d, shutting down", (int) s_signo));
  device_free(&dev);
  mg_mgr_free(&mgr);
  mg_auth_free(auth);
  https_free(&https);
  return 0;
}
