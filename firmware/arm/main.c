// The device firmware on QEMU's mps2-an385: the host firmware's device, routes and packed
// dashboard (firmware/device.c, routes.c) and its OTA (firmware/ota.c, arm/boot_ram.c) on
// the built-in stack over the LAN9118. QEMU's user network gives the address by DHCP
// (10.0.2.15); users and settings live in RAM.
#include "board.h"
#include "ota.h"
#include "routes.h"

#define MAIN_LISTEN "http://0.0.0.0:80"
#define MAIN_CONFIRM_S 5   // A new image on trial confirms itself after serving this long,
#define MAIN_WINDOW_S 60   // else it restarts after this, and the next boots decide

static struct mg_mgr s_mgr;
static struct device s_dev;
static struct https s_https;  // No certificate: this image serves plain HTTP only
static struct boot s_boot;
static struct ota s_ota;
static struct routes s_routes = {&s_dev, &s_https, &s_ota};
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
  MG_INFO(("ready: dashboard on http://%M/, heap arena %lu bytes", mg_print_ip4, &ifp->ip,
           (unsigned long) board_heap_size()));
}

int main(void) {
  board_init();
  mg_log_set(MG_LL_INFO);
  if (!boot_start(&s_boot, FIRMWARE_VERSION)) {  // Or starts the image in another slot
    MG_ERROR(("cannot start: the OTA regions do not hold the boot record"));
    board_exit(1);
  }
  // The flash filesystem (core/fs) mounts here, and its directory replaces NULL below
  // (users and settings kept across resets); until then they live in RAM
  const char *data_dir = NULL;
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
  ota_init(&s_ota, &s_boot, &s_dev.dash, s_dev.version, MAIN_CONFIRM_S, MAIN_WINDOW_S);
  if (mg_http_listen(&s_mgr, MAIN_LISTEN, routes_handle, &s_routes) == NULL ||
      mg_timer_add(&s_mgr, 100, MG_TIMER_ONCE, main_announce, &s_ifp) == NULL) {
    MG_ERROR(("cannot listen on %s", MAIN_LISTEN));
    board_exit(1);
  }
  while (!ota_restart_due(&s_ota)) mg_mgr_poll(&s_mgr, s_ota.restart_at ? 20 : 1000);  // WFI when idle
  MG_INFO(("restarting into the firmware the boot record now names"));
  ota_say_goodbye(&s_mgr);
  boot_restart(&s_boot);
  return 0;
}
