// The firmware's `net` field set (firmware/netif.c) over the mock driver: the stack's
// counters as the dashboard reads them, pushed once a second only when they moved.
#include <criterion/criterion.h>
#include "../tcpip/net.h"
#include "../../firmware/netif.c"

static struct net n;
static struct mg_dash dash;

static void setup(void) {
  net_init_ready(&n);
  mg_dash_init(&dash, &n.mgr, NULL);
  cr_assert(netif_dash_add(&n.ifp, &dash));
}

static void teardown(void) {
  mg_dash_free(&dash);
  net_free(&n);
}

TestSuite(tcpip_netset, .init = setup, .fini = teardown);

static void ping(void) {
  uint8_t f[128];
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "hello"));
  net_poll(&n, 2);
}

// The set's values as the REST API serves them
static char *net_values(void) {
  static char json[1024];
  struct mg_dash_set *set = mg_dash_find(&dash, mg_str("net"));
  struct mg_iobuf out = {0};
  cr_assert_not_null(set);
  cr_assert(mg_dash_values_json(set, MG_DASH_VIEWER, &out));
  mg_snprintf(json, sizeof(json), "%.*s", (int) out.len, (char *) out.buf);
  mg_iobuf_free(&out);
  return json;
}

static long net_field(const char *json, const char *name) {
  char path[64];
  mg_snprintf(path, sizeof(path), "$.%s", name);
  return mg_json_get_long(mg_str(json), path, -1);
}

Test(tcpip_netset, read_only_and_every_counter) {
  struct mg_dash_set *set = mg_dash_find(&dash, mg_str("net"));
  cr_assert_not_null(set);
  cr_assert(set->readonly);
  const char *json = net_values();
  const char *names[] = {"rx_frames",  "tx_frames", "drop_csum",       "drop_malformed", "drop_frag",  "drop_no_port",
                         "drop_no_mem", "drop_other", "tx_fail", "tcp_retransmits", "tcp_resets", "arp_timeouts"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(names); i++) cr_assert_geq(net_field(json, names[i]), 0, "%s in %s", names[i], json);
}

Test(tcpip_netset, frames_in_and_out_as_counted) {
  ping();
  const char *json = net_values();
  cr_assert_geq(n.ifp.counters.rx_frames, 2);  // The gateway's ARP reply and the ping
  cr_assert_geq(n.ifp.counters.tx_frames, 1);  // The echo reply
  cr_assert_eq(net_field(json, "rx_frames"), (long) n.ifp.counters.rx_frames, "%s", json);
  cr_assert_eq(net_field(json, "tx_frames"), (long) n.ifp.counters.tx_frames, "%s", json);
}

Test(tcpip_netset, drops_by_reason) {
  uint8_t f[128];
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "hello");
  f[len - 1] ^= 0xff;  // The ICMP checksum no longer holds
  mock_eth_inject(f, len);
  net_poll(&n, 2);
  const char *json = net_values();
  cr_assert_eq(net_field(json, "drop_csum"), 1, "%s", json);
  cr_assert_eq(net_field(json, "tx_frames"), (long) n.ifp.counters.tx_frames, "%s", json);
}

// The clock moved in steps of a second and polled, so every timer due has run
static void net_wait(uint64_t ms) {
  for (uint64_t t = 0; t < ms; t += 500) {
    mock_eth_advance(500);
    net_poll(&n, 2);
  }
}

Test(tcpip_netset, pushed_once_a_second_when_moved) {
  struct mg_dash_set *set = mg_dash_find(&dash, mg_str("net"));
  ping();
  net_wait(1500);
  cr_assert_eq(set->pending, false);
  cr_assert_neq(set->last_push, 0, "moved counters are pushed within a second");
  net_wait(5000);  // The stack's own frames after the ping (ARP) settle
  struct mg_tcpip_counters before = n.ifp.counters;
  uint64_t pushed = set->last_push;
  net_wait(3000);
  cr_assert_eq(memcmp(&before, &n.ifp.counters, sizeof(before)), 0, "an idle link");
  cr_assert_eq(set->last_push, pushed, "counters that did not move are not pushed again");
  ping();
  net_wait(1500);
  cr_assert_gt(set->last_push, pushed);
}
