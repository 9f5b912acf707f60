// Examples on the built-in stack (build/tap/examples): mg_mgr_init, wrapped at link time
// (-Wl,--wrap=mg_mgr_init), attaches an interface over a TAP described by MEERKAT_TAP,
// MEERKAT_IP (ADDR/PREFIX; none: DHCP), MEERKAT_GW, MEERKAT_MAC and MEERKAT_TAP_LOSS (a test-only
// percentage of frames the driver drops each way): examples run unchanged.
#include <stdlib.h>
#include "netif.h"

void __real_mg_mgr_init(struct mg_mgr *mgr);
void __wrap_mg_mgr_init(struct mg_mgr *mgr);

static struct netif tap_env_netif;

void __wrap_mg_mgr_init(struct mg_mgr *mgr) {
  static const char *const vars[][2] = {
      {"--tap", "MEERKAT_TAP"}, {"--ip", "MEERKAT_IP"}, {"--gw", "MEERKAT_GW"}, {"--mac", "MEERKAT_MAC"},
      {"--tap-loss", "MEERKAT_TAP_LOSS"}};
  __real_mg_mgr_init(mgr);
  netif_defaults(&tap_env_netif);
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *val = getenv(vars[i][1]);
    if (val != NULL && *val != '\0') netif_option(&tap_env_netif, vars[i][0], val);
  }
  if (!netif_start(&tap_env_netif, mgr)) exit(1);
}
