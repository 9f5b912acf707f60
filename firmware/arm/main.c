// The device firmware on QEMU's mps2-an385: the host firmware's device, routes and packed
// dashboard (firmware/device.c, routes.c) on the built-in stack over the LAN9118.
// QEMU's user network gives the address by DHCP (10.0.2.15); users, settings and sessions
// live on the flash filesystem over RAM that a reset keeps. Built with MG_ENABLE_TLS
// (build/arm/tls/firmware.elf), HTTPS on 443 too, with the packed development certificate.
#include "board.h"
#include "routes.h"
#include "ota/ota_flash.h"

#define MAIN_LISTEN "http://0.0.0.0:80"
#define MAIN_LISTEN_TLS "https://0.0.0.0:443"

// The flash filesystem's region: two slots of the RAM flash, of which it uses the first
// (16 KiB of files in one half, the other for compaction)
#define MAIN_DATA_SECTOR 4096u
static uint8_t s_data_ram[2 * 32768] __attribute__((section(".noinit"), aligned(4)));
static struct ota_flash s_data_flash;

static struct mg_mgr s_mgr;
static struct device s_dev;
static struct https s_https;  // No certificate unless built with TLS: plain HTTP only
static struct routes s_routes = {&s_dev, &s_https, NULL};  // No OTA yet
static struct mg_tcpip_if s_ifp = {.mac = {0x02, 0x6d, 0x6b, 0x00, 0x00, 0x01},
                                   .enable_dhcp_client = true,
                                   .driver = &mg_tcpip_driver_lan9118};

// Once the interface is ready, the line a person (and the test) waits for; until then it
// looks again in 100 ms (a one-shot each time: an idle device wakes for nothing after)
static void main_announce(void *arg) {
  struct mg_tcpip_if *ifp = (struct mg_tcpip_if *) arg;
  if (ifp->state != MG_TCPIP_STATE_READY) {
    if (mg_timer_add(ifp->mgr, 100, MG_TIMER_ONCE, main_announce, ifp) == NULL) MG_ERROR(("out of memory"));
    return;
  }
  MG_INFO(("ready: dashboard on http://%M/%s, heap arena %lu bytes", mg_print_ip4, &ifp->ip,
           s_https.port != 0 ? " and https:// (443)" : "", (unsigned long) board_heap_size()));
}

#if MG_ENABLE_TLS
extern struct mg_fs arm_certs_fs;  // build/arm/certs_fs.c: the development certificate, packed

// HTTPS beside HTTP, as the host firmware's -T gives it: the development certificate
// (so no HSTS, https.c), no redirect, so that plain HTTP keeps serving. A real device
// reads its own certificate from its flash filesystem (DATA_DIR/tls) instead.
static void main_listen_tls(void) {
  struct https_paths paths = {.data_dir = "", .dev_dir = "", .fs = &arm_certs_fs};
  if (!https_load(&s_https, &paths)) {
    MG_ERROR(("no HTTPS: %s", s_https.source));
  } else if (mg_http_listen(&s_mgr, MAIN_LISTEN_TLS, routes_handle, &s_routes) == NULL) {
    MG_ERROR(("cannot listen on %s", MAIN_LISTEN_TLS));
  } else {
    s_https.port = 443;
    MG_INFO(("HTTPS on 443 with %s", s_https.source));
  }
}
#endif

int main(void) {
  board_init();
  mg_log_set(MG_LL_INFO);
  // Users, settings and sessions on the flash filesystem, in RAM that a reset keeps
  // (.noinit): a real board gives it a few sectors of its flash instead
  const char *data_dir = "";
  if (!ota_flash_ram_init(&s_data_flash, s_data_ram, sizeof(s_data_ram), MAIN_DATA_SECTOR) ||
      !mg_fs_flash_init(&s_data_flash, 0)) {
    data_dir = NULL;  // Logged: they live in RAM until the next reset
  }
  mg_dash_fs = data_dir == NULL ? NULL : &mg_fs_flash;
  struct mg_auth *auth = mg_auth_create(data_dir);
  mg_mgr_init(&s_mgr);
  mg_tcpip_init(&s_mgr, &s_ifp);
  if (auth == NULL || s_mgr.ifp != &s_ifp) {
    MG_ERROR(("cannot start: %s", auth == NULL ? "out of memory" : "no network interface"));
    board_exit(1);
  }
  device_init(&s_dev, &s_mgr, data_dir);
  s_dev.dash.auth = auth;
  mg_auth_allow_host(auth, s_dev.name);
  MG_INFO(("%s firmware %s (built %s) on mps2-an385, %d PBKDF2 iterations", s_dev.name, s_dev.version,
           s_dev.build_time, MG_AUTH_PBKDF2_ITERATIONS));
  if (mg_http_listen(&s_mgr, MAIN_LISTEN, routes_handle, &s_routes) == NULL ||
      mg_timer_add(&s_mgr, 100, MG_TIMER_ONCE, main_announce, &s_ifp) == NULL) {
    MG_ERROR(("cannot listen on %s", MAIN_LISTEN));
    board_exit(1);
  }
#if MG_ENABLE_TLS
  main_listen_tls();
#endif
  for (;;) mg_mgr_poll(&s_mgr, 1000);  // Sleeps in the LAN9118's wait (WFI) when idle
  return 0;
}
