// Fuzz the stack's wire parsers (core/tcpip/tcpip_codec.c) with the same bytes read as
// each layer: every slice stays in the input, and what parses builds back to itself.
#include "tcpip/tcpip_codec.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_inside(const uint8_t *p, size_t len, const uint8_t *data, size_t size) {
  CHECK(p >= data && len <= size && p + len <= data + size);
}

// What a driver vouches for parses as the checked parser would, checksum aside, and its
// partial checksum, completed, makes a segment the checked parser takes
static void fuzz_tcp_vouched(const uint8_t *data, size_t size, uint32_t src, uint32_t dst) {
  static uint8_t again[70000];
  struct tcpip_tcp t, u;
  if (tcpip_tcp_parse_vouched(data, size, &t) != TCPIP_CODEC_OK) return;
  fuzz_inside(t.seg.data, t.seg.len, data, size);
  t.csum_partial = true;
  size_t n = tcpip_tcp_put(again, sizeof(again), &t, src, dst);
  CHECK(n > 0);
  uint16_t done = tcpip_csum_fold(tcpip_csum_add(0, again, n));
  memcpy(again + 16, &done, 2);
  CHECK(tcpip_tcp_parse(again, n, src, dst, &u) == TCPIP_CODEC_OK && u.seg.len == t.seg.len);
}

static void fuzz_tcp(const uint8_t *data, size_t size, uint32_t src, uint32_t dst) {
  static uint8_t again[70000];
  struct tcpip_tcp t, u;
  fuzz_tcp_vouched(data, size, src, dst);
  if (tcpip_tcp_parse(data, size, src, dst, &t) != TCPIP_CODEC_OK) return;
  fuzz_inside(t.seg.data, t.seg.len, data, size);
  CHECK(t.seg.mss == 0 || (t.seg.flags & TCP_SYN));
  size_t n = tcpip_tcp_put(again, sizeof(again), &t, src, dst);  // Options other than MSS go
  CHECK(n > 0 && tcpip_tcp_parse(again, n, src, dst, &u) == TCPIP_CODEC_OK);
  CHECK(u.sport == t.sport && u.dport == t.dport && u.seg.seq == t.seg.seq && u.seg.ack == t.seg.ack);
  CHECK(u.seg.flags == t.seg.flags && u.seg.wnd == t.seg.wnd && u.seg.mss == t.seg.mss && u.seg.len == t.seg.len);
  CHECK(t.seg.len == 0 || memcmp(u.seg.data, t.seg.data, t.seg.len) == 0);
}

// DHCP messages: what parses builds back to a client message that parses the same way
static void fuzz_dhcp(const uint8_t *data, size_t size) {
  static uint8_t again[TCPIP_DHCP_SIZE];
  struct tcpip_dhcp_msg m, n;
  if (tcpip_dhcp_parse(data, size, &m) != TCPIP_CODEC_OK) return;
  CHECK(m.type != 0 && (m.op == 1 || m.op == 2));
  CHECK(tcpip_dhcp_put(again, &m) == TCPIP_DHCP_SIZE);
  CHECK(tcpip_dhcp_parse(again, sizeof(again), &n) == TCPIP_CODEC_OK);
  CHECK(n.type == m.type && n.xid == m.xid && n.requested == m.requested && n.server_id == m.server_id);
}

static void fuzz_udp(const uint8_t *data, size_t size, uint32_t src, uint32_t dst) {
  static uint8_t again[70000];
  struct tcpip_udp u, v;
  if (tcpip_udp_parse_vouched(data, size, &v) == TCPIP_CODEC_OK) fuzz_inside(v.data, v.len, data, size);
  if (tcpip_udp_parse(data, size, src, dst, &u) != TCPIP_CODEC_OK) return;
  fuzz_inside(u.data, u.len, data, size);
  fuzz_dhcp(u.data, u.len);
  memcpy(again + TCPIP_UDP_HDR, u.data, u.len);
  size_t n = tcpip_udp_put(again, &u, src, dst);
  CHECK(tcpip_udp_parse(again, n, src, dst, &v) == TCPIP_CODEC_OK && v.len == u.len && v.dport == u.dport);
}

static void fuzz_ip(const uint8_t *data, size_t size) {
  struct tcpip_ip ip;
  enum tcpip_codec_result r = tcpip_ip_parse(data, size, &ip);
  if (r != TCPIP_CODEC_OK) return;
  fuzz_inside(ip.payload, ip.len, data, size);
  if (ip.proto == TCPIP_IP_TCP) fuzz_tcp(ip.payload, ip.len, ip.src, ip.dst);
  if (ip.proto == TCPIP_IP_UDP) fuzz_udp(ip.payload, ip.len, ip.src, ip.dst);
  struct tcpip_icmp icmp;
  if (ip.proto == TCPIP_IP_ICMP && tcpip_icmp_parse(ip.payload, ip.len, &icmp) == TCPIP_CODEC_OK)
    fuzz_inside(icmp.data, icmp.len, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  if (tcpip_eth_parse(data, size, &eth)) {
    fuzz_inside(eth.payload, eth.len, data, size);
    if (tcpip_arp_parse(eth.payload, eth.len, &arp) == TCPIP_CODEC_OK) CHECK(arp.op == 1 || arp.op == 2);
    fuzz_ip(eth.payload, eth.len);
  }
  fuzz_ip(data, size);
  fuzz_dhcp(data, size);
  // The transport parsers straight on the input too, with the checksum that makes it pass
  // reachable: the pseudo-header's addresses from its first 8 bytes
  if (size >= 8) {
    uint32_t src, dst;
    memcpy(&src, data, 4);
    memcpy(&dst, data + 4, 4);
    fuzz_tcp(data + 8, size - 8, src, dst);
    fuzz_udp(data + 8, size - 8, src, dst);
  }
  return 0;
}
