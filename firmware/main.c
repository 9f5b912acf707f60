// Meerkat firmware, host build: serves the packed dashboard and the device API.
//   firmware [-l URL]... [-d DATA_DIR] [-v LEVEL] [-H NAME]...
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
          "usage: %s [-l URL]... [-d DATA_DIR] [-v LEVEL] [-H NAME]...\n"
          "  -l URL    listen, e.g. http://0.0.0.0:8000 (repeatable; default that one)\n"
          "  -d DIR    data directory for settings, users and OTA slots (default ./data)\n"
          "  -v LEVEL  log level 0 (none) to 4 (verbose), default 2\n"
          "  -H NAME   a host name /api/ answers to, with NAME.local (repeatable); IP addresses,\n"
          "            localhost and the device's name (settings.name) always work\n",
          prog);
  exit(2);
}

int main(int argc, char *argv[]) {
  const char *urls[8], *hosts[MG_AUTH_MAX_HOSTS - 1], *data_dir = "./data";  // One name is the device's
  int nurls = 0, nhosts = 0;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage(argv[0]);
    if (strcmp(argv[i], "-l") == 0 && nurls < (int) MG_ARRAY_SIZE(urls)) urls[nurls++] = argv[++i];
    else if (strcmp(argv[i], "-H") == 0 && nhosts < (int) MG_ARRAY_SIZE(hosts)) hosts[nhosts++] = argv[++i];
    else if (strcmp(argv[i], "-d") == 0) data_dir = argv[++i];
    else if (strcmp(argv[i], "-v") == 0) mg_log_set(atoi(argv[++i]));
    else usage(argv[0]);
  }
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
  int listening = 0;
  for (int i = 0; i < nurls; i++) {
    struct mg_connection *c = mg_http_listen(&mgr, urls[i], routes_handle, &dev);
    if (c == NULL) continue;  // Logged; the other listeners keep serving
    listening++;
    MG_INFO(("listening on %s://%M", mg_url_is_ssl(urls[i]) ? "https" : "http", mg_print_ip_port, &c->loc));
  }
  if (listening == 0) {
    MG_ERROR(("no listener could start, exiting"));
    device_free(&dev);
    mg_mgr_free(&mgr);
    mg_auth_free(auth);
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  MG_INFO(("signal %d, shutting down", (int) s_signo));
  device_free(&dev);
  mg_mgr_free(&mgr);
  mg_auth_free(auth);
  return 0;
}
