// A dashboard device: the firmware's device (its field sets, GET /api/info, users and
// sessions, the packed dashboard: firmware/device.c, routes.c) with a pump (pump.c) and
// the pump's page (web/). Plain HTTP; firmware/main.c shows HTTPS.
//   dashboard-device [-l http://0.0.0.0:8000] [-d DATA_DIR] [-v LEVEL]
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include "pump.h"
#include "routes.h"

static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void usage(const char *prog) {
  fprintf(stderr, "usage: %s [-l http://ADDRESS:PORT] [-d DATA_DIR] [-v LEVEL]\n", prog);
  exit(2);
}

int main(int argc, char *argv[]) {
  const char *url = "http://0.0.0.0:8000", *data_dir = "./data";
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage(argv[0]);
    if (strcmp(argv[i], "-l") == 0 && !mg_url_is_ssl(argv[i + 1])) url = argv[i + 1];
    else if (strcmp(argv[i], "-d") == 0) data_dir = argv[i + 1];
    else if (strcmp(argv[i], "-v") == 0) mg_log_set(atoi(argv[i + 1]));
    else usage(argv[0]);
  }
  if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
    MG_ERROR(("cannot create data directory %s: %s", data_dir, strerror(errno)));
    return 1;
  }
  struct mg_auth *auth = mg_auth_create(data_dir);  // users.json; the first visit sets the admin's password
  if (auth == NULL) return 1;
  struct mg_mgr mgr;
  struct device dev;
  struct https https = {.redirect = false};  // No certificate: plain HTTP only
  mg_mgr_init(&mgr);
  device_init(&dev, &mgr, data_dir);  // The sets device, leds, sensors, settings
  dev.dash.auth = auth;
  mg_auth_allow_host(auth, dev.name);
  struct routes routes = {&dev, &https, NULL};  // No OTA in this example
  struct mg_connection *c = NULL;
  if (pump_init(&dev.dash)) c = mg_http_listen(&mgr, url, routes_handle, &routes);
  if (c != NULL) {
    MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  }
  pump_free();        // Ends a boost: the speed saved is the one from before it
  device_free(&dev);  // Saves the sets' changes that wait
  mg_mgr_free(&mgr);
  mg_auth_free(auth);
  return c != NULL ? 0 : 1;
}
