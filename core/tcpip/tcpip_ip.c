// IPv4 in and out (RFC 791, RFC 1122 3.2): checks, our address or broadcast only,
// fragments dropped, routing on-link or through the gateway; ICMP echo (RFC 792), UDP (RFC 768), TCP to tcpip_tcp.c.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
enum { IP_DHCP_CLIENT_PORT = 68, IP_PAYLOAD_AT = TCPIP_ETH_HDR + TCPIP_IP_HDR };

bool tcpip_ip_is_broadcast(struct mg_tcpip_if *ifp, uint32_t ip) {
  return ip == 0xffffffff || (ifp->mask != 0 && ifp->ip != 0 && ip == (ifp->ip | ~ifp->mask));
}

static bool ip_on_link(struct mg_tcpip_if *ifp, uint32_t dst) {
  return tcpip_ip_is_broadcast(ifp, dst) || ((dst ^ ifp->ip) & ifp->mask) == 0;
}

static uint32_t ip_next_hop(struct mg_tcpip_if *ifp, uint32_t dst) {
  return ip_on_link(ifp, dst) ? dst : ifp->gw;  // 0: off-link with no gateway
}

// IPv4 and Ethernet headers in front of len bytes of payload, the destination MAC left to fill
static uint8_t *ip_put_headers(struct mg_tcpip_if *ifp, uint32_t dst, uint8_t proto, size_t len) {
  uint8_t *f = tcpip_tx_buf(ifp);
  struct tcpip_ip ip = {proto, TCPIP_TTL, tcpip_state(ifp)->ip_id++, ifp->ip, dst, false, NULL, 0};
  tcpip_ip_put(f + TCPIP_ETH_HDR, &ip, len);
  static const uint8_t unknown[6] = {0};
  tcpip_eth_put(f, unknown, ifp->mac, TCPIP_ETH_IPV4);
  return f;
}

bool tcpip_ip_send(struct mg_tcpip_if *ifp, uint32_t dst, uint8_t proto, size_t len) {
  uint32_t next_hop = ip_next_hop(ifp, dst);
  if (next_hop == 0) return false;
  uint8_t *f = ip_put_headers(ifp, dst, proto, len);
  return tcpip_arp_send(ifp, next_hop, f, IP_PAYLOAD_AT + len);
}

// An entry that aged out is asked for again at once: a segment larger than a frame waits for it
bool tcpip_ip_offload_ready(struct mg_tcpip_if *ifp, uint32_t dst) {
  if (!MG_ENABLE_TCPIP_OFFLOAD) return false;
  uint32_t next_hop = ip_next_hop(ifp, dst);
  if (tcpip_tso_max(ifp) == 0 || next_hop == 0 || tcpip_ip_is_broadcast(ifp, next_hop)) return false;
  if (tcpip_arp_lookup(ifp, next_hop) != NULL) return true;
  tcpip_arp_resolve(ifp, next_hop);
  return false;
}

bool tcpip_ip_send_tcp_offload(struct mg_tcpip_if *ifp, uint32_t dst, size_t len, uint16_t mss) {
  if (!tcpip_ip_offload_ready(ifp, dst)) return false;
  uint8_t *f = ip_put_headers(ifp, dst, TCPIP_IP_TCP, len);
  memcpy(f, tcpip_arp_lookup(ifp, ip_next_hop(ifp, dst)), 6);
  return tcpip_tx_tcp(ifp, f, IP_PAYLOAD_AT + len, mss);
}

uint8_t *tcpip_udp_payload(struct mg_tcpip_if *ifp) {
  return tcpip_tx_buf(ifp) + IP_PAYLOAD_AT + TCPIP_UDP_HDR;
}

bool tcpip_udp_send(struct mg_tcpip_if *ifp, uint32_t dst, uint16_t sport, uint16_t dport, size_t len) {
  struct tcpip_udp udp = {sport, dport, NULL, len};
  size_t n = tcpip_udp_put(tcpip_tx_buf(ifp) + IP_PAYLOAD_AT, &udp, ifp->ip, dst);
  return tcpip_ip_send(ifp, dst, TCPIP_IP_UDP, n);
}

// Counts a parser's refusal; true when the packet is good
static bool ip_counted(struct mg_tcpip_if *ifp, enum tcpip_codec_result r) {
  if (r == TCPIP_CODEC_MALFORMED) ifp->counters.drop_malformed++;
  if (r == TCPIP_CODEC_BAD_CSUM) ifp->counters.drop_csum++;
  return r == TCPIP_CODEC_OK;
}

// Echo requests to our own address only: answering broadcast pings is optional
// (RFC 1122 3.2.2.6) and makes the device an amplifier. The reply is the request's
// size, which fitted in a frame, so it fits in one too.
static void ip_icmp_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip) {
  struct tcpip_icmp icmp = {0};  // Set by the parse; gcc -flto, having inlined it, thinks it may not be
  if (!ip_counted(ifp, tcpip_icmp_parse(ip->payload, ip->len, &icmp))) return;
  if (icmp.type != TCPIP_ICMP_ECHO_REQUEST || ip->dst != ifp->ip) {
    ifp->counters.drop_other++;
    return;
  }
  icmp.type = TCPIP_ICMP_ECHO_REPLY, icmp.code = 0;
  size_t n = tcpip_icmp_put(tcpip_tx_buf(ifp) + IP_PAYLOAD_AT, &icmp);
  tcpip_ip_send(ifp, ip->src, TCPIP_IP_ICMP, n);
}

// A driver that vouches for the frame's checksum (a TAP's kernel may leave it unfilled)
static enum tcpip_codec_result ip_udp_parse(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, struct tcpip_udp *udp) {
  if (MG_ENABLE_TCPIP_OFFLOAD && ifp->rx_csum_vouched) return tcpip_udp_parse_vouched(ip->payload, ip->len, udp);
  return tcpip_udp_parse(ip->payload, ip->len, ip->src, ip->dst, udp);
}

static enum tcpip_codec_result ip_tcp_parse(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, struct tcpip_tcp *tcp) {
  if (MG_ENABLE_TCPIP_OFFLOAD && ifp->rx_csum_vouched) return tcpip_tcp_parse_vouched(ip->payload, ip->len, tcp);
  return tcpip_tcp_parse(ip->payload, ip->len, ip->src, ip->dst, tcp);
}

static void ip_udp_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip) {
  struct tcpip_udp udp = {0};  // As icmp above
  if (!ip_counted(ifp, ip_udp_parse(ifp, ip, &udp))) return;
  if (udp.dport == mg_htons(IP_DHCP_CLIENT_PORT) && tcpip_dhcp_on(ifp)) {
    tcpip_dhcp_input(ifp, &udp);
  } else if (ifp->ip == 0) {
    ifp->counters.drop_other++;  // Without an address only DHCP may arrive
  } else if (!tcpip_be_deliver_udp(ifp, ip, &udp)) {
    ifp->counters.drop_no_port++;
  }
}

// TCP to our address only (never broadcast): to its connection, a listener, or a reset
static void ip_tcp_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip) {
  struct tcpip_tcp tcp;
  if (!ip_counted(ifp, ip_tcp_parse(ifp, ip, &tcp))) return;
  if (ip->dst != ifp->ip) {
    ifp->counters.drop_other++;
    return;
  }
  tcpip_tcp_input(ifp, ip, &tcp);
}

// Ours: our address, a broadcast, or, while DHCP has not given us one, anything
// (a server may unicast its offer to the address it offers)
static bool ip_for_us(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip) {
  return (ifp->ip != 0 && ip->dst == ifp->ip) || tcpip_ip_is_broadcast(ifp, ip->dst) ||
         (ifp->ip == 0 && tcpip_dhcp_on(ifp));
}

void tcpip_ip_input(struct mg_tcpip_if *ifp, const uint8_t *payload, size_t len) {
  struct tcpip_ip ip;
  if (!ip_counted(ifp, tcpip_ip_parse(payload, len, &ip))) return;
  if (!ip_for_us(ifp, &ip)) {
    ifp->counters.drop_other++;
  } else if (ip.fragment) {
    ifp->counters.drop_frag++;  // Not reassembled: we announce an MSS that needs none
  } else if (ip.proto == TCPIP_IP_ICMP) {
    ip_icmp_input(ifp, &ip);
  } else if (ip.proto == TCPIP_IP_UDP) {
    ip_udp_input(ifp, &ip);
  } else if (ip.proto == TCPIP_IP_TCP) {
    ip_tcp_input(ifp, &ip);
  } else {
    ifp->counters.drop_other++;
  }
}
#endif  // MG_ENABLE_TCPIP
