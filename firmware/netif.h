// The firmware on the built-in stack (build/firmware/firmware-tap): one interface over a
// Linux TAP, configured from the command line. Only in builds with MG_ENABLE_TCPIP.
#ifndef FIRMWARE_NETIF_H
#define FIRMWARE_NETIF_H

#include "meerkat.h"

#if MG_ENABLE_TCPIP
struct netif {
  struct mg_tcpip_if ifp;
  struct mg_tcpip_driver_tap_data tap;
  bool mac_set;
};

#define NETIF_USAGE                                                                   \
  "Built-in TCP/IP stack over a TAP (this build):\n"                                  \
  "  --tap NAME          the TAP to attach to or create (default tap0)\n"             \
  "  --ip ADDR/PREFIX    a static address, e.g. 10.9.0.2/24 (default: DHCP)\n"        \
  "  --gw ADDR           the default gateway with --ip\n"                             \
  "  --mac XX:XX:XX:XX:XX:XX  the interface's MAC (default 02:6d:6b and 3 random bytes)\n" \
  "  --tap-loss PERCENT  test only: drop this share of frames each way (default 0)\n"

void netif_defaults(struct netif *n);
// Takes an option and its value (--tap, --ip, --gw, --mac, --tap-loss): true. A bad value is said on
// stderr and ends the program (exit 2), as a bad option does
bool netif_option(struct netif *n, const char *opt, const char *val);
// Attach n to mgr; false (logged) when the TAP or the stack cannot start
bool netif_start(struct netif *n, struct mg_mgr *mgr);
void netif_stop(struct netif *n);  // After mg_mgr_free: the TAP's descriptor
#endif

#endif  // FIRMWARE_NETIF_H
