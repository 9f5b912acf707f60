// Examples on the built-in stack (build/tap/examples): mg_mgr_init, wrapped at link time
// (-Wl,--wrap=mg_mgr_init), attaches an interface over a TAP described by MEERKAT_TAP,
// MEERKAT_IP (ADDR/PREFIX; none: DHCP), MEERKAT_GW and MEERKAT_MAC: examples run unchanged
// (MEERKAT_TAP_LOSS, _REORDER, _DELAY_MS: the driver's test knobs, it reads them itself).
#include <stdlib.h>
#include "netif.h"

void __real_mg_mgr_init(struct mg_mgr *mgr);
void __wrap_mg_mgr_init(struct mg_mgr *mgr);

static struct netif tap_env_netif;

// At exit, what the stack counted (the examples have no `net` field set): tests read it
static void tap_env_counters(void) {
  const struct mg_tcpip_counters *c = &tap_env_netif.ifp.counters;
  fprintf(stderr, "tcpip counters: rx_frames %u tx_frames %u tcp_retransmits %u tcp_resets %u drop_no_mem %u\n",
          c->rx_frames, c->tx_frames, c->tcp_retransmits, c->tcp_resets, c->drop_no_mem);
  const struct mg_tcpip_driver_tap_data *t = &tap_env_netif.tap;  // The TAP driver's test knobs at work
  fprintf(stderr, "tap knobs: dropped %u reordered %u overflow %u\n", t->knob_dropped, t->knob_reordered, t->knob_overflow);
}

void __wrap_mg_mgr_init(struct mg_mgr *mgr) {
  static const char *const vars[][2] = {
      {"--tap", "MEERKAT_TAP"}, {"--ip", "MEERKAT_IP"}, {"--gw", "MEERKAT_GW"}, {"--mac", "MEERKAT_MAC"}};
  __real_mg_mgr_init(mgr);
  netif_defaults(&tap_env_netif);
  for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
    const char *val = getenv(vars[i][1]);
    if (val != NULL && *val != '\0') netif_option(&tap_env_netif, vars[i][0], val);
  }
  if (!netif_start(&tap_env_netif, mgr)) exit(1);
  atexit(tap_env_counters);
}
