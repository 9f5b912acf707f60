// The firmware's interface on the built-in stack: a TAP with a static address or DHCP,
// from --tap, --ip, --gw, --mac. Compiled to nothing in the socket builds.
#include "netif.h"

#if MG_ENABLE_TCPIP
#include <unistd.h>

void netif_defaults(struct netif *n) {
  memset(n, 0, sizeof(*n));
  n->tap.name = "tap0";
  n->tap.fd = -1;
  n->ifp.enable_dhcp_client = true;
}

static void netif_bad(const char *opt, const char *val, const char *want) {
  fprintf(stderr, "%s %s: expected %s\n", opt, val, want);
  exit(2);
}

static uint32_t netif_ip4(const char *opt, const char *val, size_t len) {
  struct mg_addr a;
  if (!mg_aton(mg_str_n(val, len), &a) || a.is_ip6) netif_bad(opt, val, "an IPv4 address");
  return a.addr.ip4;
}

// "10.9.0.2/24": the address and its mask, network order
static void netif_parse_ip(struct netif *n, const char *val) {
  const char *slash = strchr(val, '/');
  int prefix = slash == NULL ? -1 : atoi(slash + 1);
  if (slash == NULL || prefix < 1 || prefix > 32) netif_bad("--ip", val, "ADDR/PREFIX, e.g. 10.9.0.2/24");
  n->ifp.ip = netif_ip4("--ip", val, (size_t) (slash - val));
  n->ifp.mask = mg_htonl(prefix == 32 ? 0xffffffffU : ~(0xffffffffU >> prefix));
  n->ifp.enable_dhcp_client = false;
}

static void netif_parse_mac(struct netif *n, const char *val) {
  unsigned b[6];
  char end;
  if (sscanf(val, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
    netif_bad("--mac", val, "six hex bytes, e.g. 02:6d:6b:00:00:01");
  for (int i = 0; i < 6; i++) n->ifp.mac[i] = (uint8_t) b[i];
  n->mac_set = true;
}

// Test loss in the TAP driver, a whole percent of frames each way (benchmarks without netem)
static void netif_parse_loss(struct netif *n, const char *val) {
  char *end;
  unsigned long pct = strtoul(val, &end, 10);
  if (*val < '0' || *val > '9' || *end != '\0' || pct > 100) netif_bad("--tap-loss", val, "a percentage, 0 to 100");
  n->tap.test_loss_percent = (unsigned) pct;
}

bool netif_option(struct netif *n, const char *opt, const char *val) {
  if (strcmp(opt, "--tap") == 0) n->tap.name = val;
  else if (strcmp(opt, "--ip") == 0) netif_parse_ip(n, val);
  else if (strcmp(opt, "--gw") == 0) n->ifp.gw = netif_ip4(opt, val, strlen(val));
  else if (strcmp(opt, "--mac") == 0) netif_parse_mac(n, val);
  else if (strcmp(opt, "--tap-loss") == 0) netif_parse_loss(n, val);
  else return false;
  return true;
}

bool netif_start(struct netif *n, struct mg_mgr *mgr) {
  if (!n->mac_set) {  // Locally administered, the rest random: several devices on one link differ
    n->ifp.mac[0] = 0x02, n->ifp.mac[1] = 0x6d, n->ifp.mac[2] = 0x6b;
    mg_random(n->ifp.mac + 3, 3);
  }
  n->ifp.driver = &mg_tcpip_driver_tap;
  n->ifp.driver_data = &n->tap;
  mg_tcpip_init(mgr, &n->ifp);
  if (mgr->ifp != &n->ifp) {
    MG_ERROR(("the interface on TAP %s did not start", n->tap.name));
    return false;
  }
  return true;
}
void netif_stop(struct netif *n) {
  if (n->tap.fd >= 0) close(n->tap.fd);
  n->tap.fd = -1;
}
#endif
