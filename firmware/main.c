// Meerkat firmware, host build: serves the packed dashboard and the device API over
// HTTP and HTTPS, and boots the firmware slot its OTA record says (boot.c).
//   firmware [-l URL]... [-d DATA_DIR] [-v LEVEL] [-H NAME]... [TLS options] [OTA options]
// firmware-tap, the same on the built-in TCP/IP stack, also takes netif.h's options.
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netif.h"
#include "ota.h"
#include "routes.h"

static volatile sig_atomic_t s_signo;

// The trial's watchdog: an image on trial restarts itself when its window passes without
// a confirm (ota.c), unless it hangs; then SIGALRM, TRIAL_WATCHDOG_GRACE_S later, ends
// it, and the next start (systemd's, a supervisor's) counts the try. Armed after the boot
// choice, whatever it chose: an alarm outlives the exec of a restart.
#define TRIAL_WATCHDOG_GRACE_S 5
static char s_watchdog_says[160];

static void on_watchdog(int signo) {
  (void) signo;
  ssize_t n = write(2, s_watchdog_says, strlen(s_watchdog_says));
  (void) n;
  _exit(1);
}

static void trial_watchdog_arm(const struct boot *boot, unsigned window_s) {
  unsigned after_s = window_s + TRIAL_WATCHDOG_GRACE_S;
  mg_snprintf(s_watchdog_says, sizeof(s_watchdog_says),
              "watchdog: slot %d, on trial, neither confirmed nor restarted itself within %u s: exiting, "
              "so that the next start counts the try\n", boot->running, after_s);
  signal(SIGALRM, on_watchdog);
  alarm(boot->trial ? after_s : 0);
}

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
          "HSTS (Strict-Transport-Security) is sent over HTTPS unless the certificate is -T's\n"
          "OTA: firmware slots live in DATA_DIR/ota; a new image runs on trial and confirms itself\n"
          "  -C SECS   after serving this long (default 5); without that within\n"
          "  -W SECS   this long (default 60) it restarts, and after 3 such boots the previous\n"
          "            firmware runs again; one that hangs is ended (SIGALRM) 5 s later\n"
#if MG_ENABLE_TCPIP
          NETIF_USAGE
#endif
          ,
          prog);
  exit(2);
}

// Starts each listener; an https:// one only with a certificate (read once, for all of
// them). Returns how many listen; each that does not is logged, and the others serve.
// listeners[i] is urls[i]'s connection, or NULL.
static int firmware_listen(struct mg_mgr *mgr, const char **urls, int nurls, struct routes *r,
                           const struct https_paths *tls_paths, struct mg_connection **listeners) {
  int listening = 0, loaded = -1;  // -1: no https:// URL seen yet
  for (int i = 0; i < nurls; i++) {
    bool tls = mg_url_is_ssl(urls[i]);
    listeners[i] = NULL;
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
    listeners[i] = c;
    listening++;
    if (tls && r->https->port == 0) r->https->port = mg_ntohs(c->loc.port);
    MG_INFO(("listening on %s://%M", tls ? "https" : "http", mg_print_ip_port, &c->loc));
  }
  if (r->https->redirect && r->https->port == 0) MG_ERROR(("-R: no HTTPS listener to redirect to, HTTP serves as it is"));
  return listening;
}

// argv for the restart into another slot: each -l URL with the port its listener got,
// so that ":0" (any port) comes back on the same one
static void firmware_restart_argv(int argc, char **argv, struct mg_connection **listeners, int nurls,
                                  char urls[][80], char **out) {
  int n = 0;
  for (int i = 0; i < argc; i++) {
    out[i] = argv[i];
    if (strcmp(argv[i], "-l") != 0 || i + 1 >= argc || n >= nurls) continue;
    out[i + 1] = argv[i + 1];
    const char *scheme_end = strstr(argv[i + 1], "://");
    if (listeners[n] != NULL && scheme_end != NULL) {
      mg_snprintf(urls[n], 80, "%.*s://%M", (int) (scheme_end - argv[i + 1]), argv[i + 1], mg_print_ip_port,
                  &listeners[n]->loc);
      out[i + 1] = urls[n];
    }
    n++;
    i++;
  }
  out[argc] = NULL;
}

int main(int argc, char *argv[]) {
  const char *urls[8], *hosts[MG_AUTH_MAX_HOSTS - 1];  // One name is the device's
  struct https_paths tls_paths = {.data_dir = "./data"};
  struct https https = {.redirect = false};  // -R sets it; https_load the rest
  int nurls = 0, nhosts = 0;
  unsigned confirm_s = 5, window_s = 60;
#if MG_ENABLE_TCPIP
  struct netif netif;
  netif_defaults(&netif);
#endif
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
    else if (strcmp(argv[i], "-C") == 0) confirm_s = (unsigned) atoi(argv[++i]);
    else if (strcmp(argv[i], "-W") == 0) window_s = (unsigned) atoi(argv[++i]);
#if MG_ENABLE_TCPIP
    else if (netif_option(&netif, argv[i], argv[i + 1])) i++;
#endif
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
  struct boot boot;
  if (!boot_start(&boot, data_dir, FIRMWARE_VERSION, argv)) return 1;  // Or runs another slot
  trial_watchdog_arm(&boot, window_s);
#ifdef FIRMWARE_TEST_CRASH
  MG_ERROR(("test build (make ota OTA_TEST=crash): crashing at start"));
  abort();
#endif
#ifdef FIRMWARE_TEST_HANG
  MG_ERROR(("test build (make ota OTA_TEST=hang): hanging at start"));
  for (;;) pause();
#endif

  struct mg_auth *auth = mg_auth_create(data_dir);  // Logs a missing or bad users file
  if (auth == NULL) {
    MG_ERROR(("out of memory"));
    boot_free(&boot);
    return 1;
  }
  struct device dev;
  struct mg_mgr mgr;
  struct ota ota;
  mg_mgr_init(&mgr);
#if MG_ENABLE_TCPIP
  if (!netif_start(&netif, &mgr)) {
    mg_mgr_free(&mgr);
    mg_auth_free(auth);
    boot_free(&boot);
    return 1;
  }
#endif
  device_init(&dev, &mgr, data_dir);
#if MG_ENABLE_TCPIP
  netif_dash_add(&netif.ifp, &dev.dash);  // A dashboard without it still serves
#endif
  dev.dash.auth = auth;  // Open WebSockets close when their session ends
  mg_auth_allow_host(auth, dev.name);  // settings.name, read at each request: a rename takes effect at once
  for (int i = 0; i < nhosts; i++) mg_auth_allow_host(auth, hosts[i]);
  MG_INFO(("%s firmware %s (built %s), data in %s", dev.name, dev.version, dev.build_time, data_dir));
  ota_init(&ota, &boot, &dev.dash, dev.version, confirm_s, window_s);
  struct routes routes = {&dev, &https, &ota};
  struct mg_connection *listeners[MG_ARRAY_SIZE(urls)];
  int listening = firmware_listen(&mgr, urls, nurls, &routes, &tls_paths, listeners);
  if (listening == 0) MG_ERROR(("no listener could start, exiting"));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  sigset_t stop_signals;  // Blocked across a restart's exec (below): a stop then is not lost
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
  bool restart = false;
  bool on_trial = boot.trial;
  while (listening > 0 && s_signo == 0 && !(restart = ota_restart_due(&ota))) {
    mg_mgr_poll(&mgr, ota.restart_at ? 20 : 1000);
    if (on_trial && !boot.trial) on_trial = false, alarm(0);  // Confirmed: the watchdog stands down
  }
  char *next_argv[argc + 1], next_urls[MG_ARRAY_SIZE(urls)][80];
  if (restart) {
    MG_INFO(("restarting into the firmware the boot record now names"));
    ota_say_goodbye(&mgr);
    firmware_restart_argv(argc, argv, listeners, nurls, next_urls, next_argv);
    // A stop asked for until now wins; one that comes later stays pending through the
    // exec, and the next program takes it once its handlers are in place
    sigprocmask(SIG_BLOCK, &stop_signals, NULL);
    restart = s_signo == 0;
  }
  if (s_signo != 0) {
    MG_INFO(("signal %d, shutting down", (int) s_signo));
  }
  if (restart) mg_auth_sessions_save(auth);  // Whoever was logged in stays so
  ota_free(&ota);
  device_free(&dev);
  mg_mgr_free(&mgr);
#if MG_ENABLE_TCPIP
  netif_stop(&netif);
#endif
  mg_auth_free(auth);
  https_free(&https);
  if (restart) boot_restart(&boot, next_argv);  // Returns only if nothing could start
  boot_free(&boot);
  return listening > 0 && !restart ? 0 : 1;
}
