// The firmware's interface on the built-in stack: a TAP with a static address or DHCP,
// from --tap, --ip, --gw, --mac, and its counters as the field set `net`. Compiled to
// nothing in the socket builds.
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

bool netif_option(struct netif *n, const char *opt, const char *val) {
  if (strcmp(opt, "--tap") == 0) n->tap.name = val;
  else if (strcmp(opt, "--ip") == 0) netif_parse_ip(n, val);
  else if (strcmp(opt, "--gw") == 0) n->ifp.gw = netif_ip4(opt, val, strlen(val));
  else if (strcmp(opt, "--mac") == 0) netif_parse_mac(n, val);
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

// net: the stack's counters, read-only. The dashboard's fields are int64 (JSON numbers);
// the counters are uint32 and wrap, which int64 holds as they are
static struct mg_tcpip_if *s_net_ifp;
static struct mg_tcpip_counters s_net_seen;  // What the last push showed
static int64_t s_net[12];
static struct mg_dash_field s_net_fields[] = {
    MG_DASH_INT64_ANY("rx_frames", &s_net[0], .title = "Frames in"),
    MG_DASH_INT64_ANY("tx_frames", &s_net[1], .title = "Frames out"),
    MG_DASH_INT64_ANY("drop_csum", &s_net[2], .title = "Dropped: bad checksum"),
    MG_DASH_INT64_ANY("drop_malformed", &s_net[3], .title = "Dropped: malformed"),
    MG_DASH_INT64_ANY("drop_frag", &s_net[4], .title = "Dropped: fragments"),
    MG_DASH_INT64_ANY("drop_no_port", &s_net[5], .title = "Dropped: no port"),
    MG_DASH_INT64_ANY("drop_no_mem", &s_net[6], .title = "Dropped: no memory"),
    MG_DASH_INT64_ANY("drop_other", &s_net[7], .title = "Dropped: not for us"),
    MG_DASH_INT64_ANY("tx_fail", &s_net[8], .title = "Send failures"),
    MG_DASH_INT64_ANY("tcp_retransmits", &s_net[9], .title = "TCP retransmits"),
    MG_DASH_INT64_ANY("tcp_resets", &s_net[10], .title = "TCP resets"),
    MG_DASH_INT64_ANY("arp_timeouts", &s_net[11], .title = "ARP timeouts"),
};

static void netif_net_read(struct mg_dash_set *set) {
  (void) set;
  const struct mg_tcpip_counters *c = &s_net_ifp->counters;
  const uint32_t now[] = {c->rx_frames,    c->tx_frames, c->drop_csum,       c->drop_malformed,
                          c->drop_frag,    c->drop_no_port, c->drop_no_mem, c->drop_other,
                          c->tx_fail,      c->tcp_retransmits, c->tcp_resets, c->arp_timeouts};
  for (size_t i = 0; i < MG_ARRAY_SIZE(s_net); i++) s_net[i] = now[i];
}
static struct mg_dash_set s_net_set =
    MG_DASH_SET("net", s_net_fields, .title = "Network", .readonly = true, .on_read = netif_net_read);

// Once a second: pushed to the dashboard when a counter moved (an idle link pushes nothing)
static void netif_net_tick(void *arg) {
  struct mg_dash *dash = (struct mg_dash *) arg;
  if (memcmp(&s_net_seen, &s_net_ifp->counters, sizeof(s_net_seen)) == 0) return;
  s_net_seen = s_net_ifp->counters;
  mg_dash_changed(dash, &s_net_set);
}

bool netif_dash_add(struct mg_tcpip_if *ifp, struct mg_dash *dash) {
  s_net_ifp = ifp;
  memset(&s_net_seen, 0, sizeof(s_net_seen));
  if (!mg_dash_add(dash, &s_net_set)) return false;
  if (mg_timer_add(dash->mgr, 1000, MG_TIMER_REPEAT, netif_net_tick, dash) != NULL) return true;
  MG_ERROR(("out of memory: the net set is not pushed"));
  return false;
}
#endif
