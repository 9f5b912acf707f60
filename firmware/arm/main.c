// The device firmware on QEMU's mps2-an385: the host firmware's device, routes and packed
// dashboard (firmware/device.c, routes.c) and its OTA (firmware/ota.c, arm/boot_ram.c) on
// the built-in stack over the LAN9118. QEMU's user network gives the address by DHCP
// (10.0.2.15); users and settings live on the flash filesystem over RAM that a reset keeps
// (sessions do not: the clock they are timed by starts again). Built with MG_ENABLE_TLS
// (build/arm/tls/firmware.elf), HTTPS on 443 too, with the packed development certificate.
#include "board.h"
#include "ota.h"
#include "routes.h"
#include "ota/ota_flash.h"

#define MAIN_LISTEN "http://0.0.0.0:80"
#define MAIN_LISTEN_TLS "https://0.0.0.0:443"
#define MAIN_CONFIRM_S 5   // A new image on trial confirms itself after serving this long,
#define MAIN_WINDOW_S 60   // else it restarts after this, and the next boots decide
// The watchdog resets a board whose main loop has not come round for this long (the loop
// sleeps at most a second; the longest step, a PBKDF2 login, takes about 1.2 s on a 25 MHz
// M3); the boot stage gets longer, for hashing a whole slot at that speed
#define MAIN_WATCHDOG_MS 3000
#define MAIN_BOOT_WATCHDOG_MS 10000

// The flash filesystem's region (the linker script's FILES, outside the ELF, so a reset
// keeps it): two slots of the RAM flash, of which it uses the first (half of it holds
// files, the other half is for compaction). A real board gives it a few flash sectors
extern uint8_t __files_start__[], __files_size__[];
#define MAIN_FILES_SECTOR 4096u
static struct ota_flash s_files;

static struct mg_mgr s_mgr;
static struct device s_dev;
static struct https s_https;  // No certificate unless built with TLS: plain HTTP only
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
  board_watchdog_start(MAIN_BOOT_WATCHDOG_MS);  // Before the boot stage: an image it starts that hangs is reset too
  mg_log_set(MG_LL_INFO);
  if (!boot_start(&s_boot, FIRMWARE_VERSION)) {  // Or starts the image in another slot
    MG_ERROR(("cannot start: the OTA regions do not hold the boot record"));
    board_exit(1);
  }
  board_watchdog_start(MAIN_WATCHDOG_MS);
#ifdef FIRMWARE_TEST_HANG
  MG_ERROR(("test build (make ota-arm OTA_TEST=hang): hanging at start"));
  for (;;) continue;
#endif
  const char *data_dir = "";
  if (!ota_flash_ram_init(&s_files, __files_start__, (size_t) (uintptr_t) __files_size__, MAIN_FILES_SECTOR) ||
      !mg_fs_flash_init(&s_files, 0)) {
    data_dir = NULL;  // Logged: users and settings live in RAM until the next reset
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
  ota_init(&s_ota, &s_boot, &s_dev.dash, s_dev.version, MAIN_CONFIRM_S, MAIN_WINDOW_S);
  if (mg_http_listen(&s_mgr, MAIN_LISTEN, routes_handle, &s_routes) == NULL ||
      mg_timer_add(&s_mgr, 100, MG_TIMER_ONCE, main_announce, &s_ifp) == NULL) {
    MG_ERROR(("cannot listen on %s", MAIN_LISTEN));
    board_exit(1);
  }
#if MG_ENABLE_TLS
  main_listen_tls();
#endif
  while (!ota_restart_due(&s_ota)) {
    mg_mgr_poll(&s_mgr, s_ota.restart_at ? 20 : 1000);  // WFI when idle
    board_watchdog_feed();
  }
  MG_INFO(("restarting into the firmware the boot record now names"));
  ota_say_goodbye(&s_mgr);
  boot_restart(&s_boot);
  return 0;
}
