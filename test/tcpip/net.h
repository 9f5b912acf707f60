// Test helpers for the built-in stack: a manager with an interface on the mock driver,
// and frames from peers built with the wire builders (tested on their own in test_tcpip_codec).
#ifndef TEST_TCPIP_NET_H
#define TEST_TCPIP_NET_H

#include "mock_eth.h"
#include "tcpip/tcpip_codec.h"

#define ME_MAC ((const uint8_t[6]) {2, 0, 0, 0, 0, 1})
#define PEER_MAC ((const uint8_t[6]) {2, 0, 0, 0, 0, 9})
#define GW_MAC ((const uint8_t[6]) {2, 0, 0, 0, 0, 0x0a})
#define BCAST_MAC ((const uint8_t[6]) {0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
#define ME_IP MG_IPV4(10, 0, 0, 2)
#define PEER_IP MG_IPV4(10, 0, 0, 9)
#define GW_IP MG_IPV4(10, 0, 0, 1)
#define FAR_IP MG_IPV4(8, 8, 8, 8)
#define NET_MASK MG_IPV4(255, 255, 255, 0)

struct net {
  struct mg_mgr mgr;
  struct mg_tcpip_if ifp;
};

static inline void net_init(struct net *n, bool with_gw) {
  mock_eth_reset();
  mg_mgr_init(&n->mgr);
  memset(&n->ifp, 0, sizeof(n->ifp));
  memcpy(n->ifp.mac, ME_MAC, 6);
  n->ifp.ip = ME_IP, n->ifp.mask = NET_MASK, n->ifp.gw = with_gw ? GW_IP : 0;
  n->ifp.driver = &mock_eth_driver;
  mg_tcpip_init(&n->mgr, &n->ifp);
}

// The interface asking DHCP for its address instead
static inline void net_init_dhcp(struct net *n) {
  mock_eth_reset();
  mg_mgr_init(&n->mgr);
  memset(&n->ifp, 0, sizeof(n->ifp));
  memcpy(n->ifp.mac, ME_MAC, 6);
  n->ifp.enable_dhcp_client = true;
  n->ifp.driver = &mock_eth_driver;
  mg_tcpip_init(&n->mgr, &n->ifp);
}

static inline void net_free(struct net *n) {
  mg_mgr_free(&n->mgr);
  mg_tcpip_free(&n->ifp);
}

static inline void net_poll(struct net *n, int times) {
  for (int i = 0; i < times; i++) mg_mgr_poll(&n->mgr, 0);
}

static inline size_t frame_arp(uint8_t *f, const uint8_t *eth_dst, uint16_t op, const uint8_t *sha, uint32_t spa,
                        const uint8_t *tha, uint32_t tpa) {
  struct tcpip_arp a;
  a.op = op;
  memcpy(a.sha, sha, 6);
  memcpy(a.tha, tha, 6);
  a.spa = spa, a.tpa = tpa;
  tcpip_eth_put(f, eth_dst, sha, TCPIP_ETH_ARP);
  tcpip_arp_put(f + TCPIP_ETH_HDR, &a);
  return TCPIP_ETH_HDR + TCPIP_ARP_LEN;
}

// An interface that knows its gateway's MAC (READY), with nothing sent recorded
static inline void net_init_ready(struct net *n) {
  uint8_t f[64];
  net_init(n, true);
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, GW_MAC, GW_IP, ME_MAC, ME_IP));
  net_poll(n, 1);
  mock_eth_clear_sent();
}

// The peer (or gateway) tells us its address, so that answers need no ARP
static inline void net_learn(struct net *n, const uint8_t *mac, uint32_t ip) {
  uint8_t f[64];
  static const uint8_t zero[6] = {0};
  mock_eth_inject(f, frame_arp(f, BCAST_MAC, TCPIP_ARP_REQUEST, mac, ip, zero, ME_IP));
  net_poll(n, 1);
}

// Ethernet and IPv4 headers around plen bytes already at f + 34
static inline size_t frame_ip(uint8_t *f, const uint8_t *src_mac, const uint8_t *dst_mac, uint32_t src, uint32_t dst,
                       uint8_t proto, size_t plen) {
  struct tcpip_ip ip = {proto, 64, 77, src, dst, false, NULL, 0};
  tcpip_eth_put(f, dst_mac, src_mac, TCPIP_ETH_IPV4);
  tcpip_ip_put(f + TCPIP_ETH_HDR, &ip, plen);
  return TCPIP_ETH_HDR + TCPIP_IP_HDR + plen;
}

static inline size_t frame_ping(uint8_t *f, const uint8_t *src_mac, uint32_t src, uint32_t dst, const char *data) {
  struct tcpip_icmp m = {TCPIP_ICMP_ECHO_REQUEST, 0, mg_htons(0x4242), mg_htons(7), (const uint8_t *) data,
                         strlen(data)};
  size_t n = tcpip_icmp_put(f + TCPIP_ETH_HDR + TCPIP_IP_HDR, &m);
  return frame_ip(f, src_mac, ME_MAC, src, dst, TCPIP_IP_ICMP, n);
}

static inline size_t frame_udp(uint8_t *f, const uint8_t *src_mac, const uint8_t *dst_mac, uint32_t src, uint16_t sport,
                        uint32_t dst, uint16_t dport, const void *data, size_t len) {
  uint8_t *u = f + TCPIP_ETH_HDR + TCPIP_IP_HDR;
  struct tcpip_udp udp = {mg_htons(sport), mg_htons(dport), NULL, len};
  memcpy(u + TCPIP_UDP_HDR, data, len);
  size_t n = tcpip_udp_put(u, &udp, src, dst);
  return frame_ip(f, src_mac, dst_mac, src, dst, TCPIP_IP_UDP, n);
}

// The i-th frame the stack sent, parsed down to IPv4 (false if it is not IPv4)
static inline bool sent_ip(size_t i, struct tcpip_eth *eth, struct tcpip_ip *ip) {
  size_t len;
  const uint8_t *f = mock_eth_sent(i, &len);
  return f != NULL && tcpip_eth_parse(f, len, eth) && eth->type == TCPIP_ETH_IPV4 &&
         tcpip_ip_parse(eth->payload, eth->len, ip) == TCPIP_CODEC_OK;
}

static inline bool sent_arp(size_t i, struct tcpip_eth *eth, struct tcpip_arp *arp) {
  size_t len;
  const uint8_t *f = mock_eth_sent(i, &len);
  return f != NULL && tcpip_eth_parse(f, len, eth) && eth->type == TCPIP_ETH_ARP &&
         tcpip_arp_parse(eth->payload, eth->len, arp) == TCPIP_CODEC_OK;
}

// ARP requests for ip among the frames sent
static inline size_t sent_arp_requests(uint32_t ip) {
  size_t count = 0;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    struct tcpip_eth eth;
    struct tcpip_arp arp;
    if (sent_arp(i, &eth, &arp) && arp.op == TCPIP_ARP_REQUEST && arp.tpa == ip) count++;
  }
  return count;
}

// A TCP segment from the peer to us (a SYN carries MSS 1460; data: a string or NULL)
static inline size_t frame_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                               const char *data) {
  struct tcpip_tcp t;
  memset(&t, 0, sizeof(t));
  t.sport = mg_htons(sport), t.dport = mg_htons(dport);
  t.seg.seq = seq, t.seg.ack = ack, t.seg.flags = flags, t.seg.wnd = 65535;
  if (flags & TCP_SYN) t.seg.mss = 1460;
  if (data != NULL) t.seg.data = (const uint8_t *) data, t.seg.len = strlen(data);
  size_t len = tcpip_tcp_put(f + TCPIP_ETH_HDR + TCPIP_IP_HDR, 1500, &t, PEER_IP, ME_IP);
  return frame_ip(f, PEER_MAC, ME_MAC, PEER_IP, ME_IP, TCPIP_IP_TCP, len);
}

// The i-th frame sent, if it is TCP with a good checksum
static inline bool sent_tcp(size_t i, struct tcpip_tcp *t) {
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  return sent_ip(i, &eth, &ip) && ip.proto == TCPIP_IP_TCP &&
         tcpip_tcp_parse(ip.payload, ip.len, ip.src, ip.dst, t) == TCPIP_CODEC_OK;
}

// A TCP client's events: it sends "ping" once connected and keeps what it reads
struct net_client {
  int connects, errors, closes;
  char got[256];
  size_t len;
  char error[160];
};

static inline void net_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct net_client *s = (struct net_client *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    s->connects++;
    mg_send(c, "ping", 4);
  } else if (ev == MG_EV_READ) {
    size_t take = c->recv.len < sizeof(s->got) - s->len ? c->recv.len : sizeof(s->got) - s->len;
    memcpy(s->got + s->len, c->recv.buf, take);
    s->len += take;
    c->recv.len = 0;
  } else if (ev == MG_EV_ERROR) {
    s->errors++;
    mg_snprintf(s->error, sizeof(s->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    s->closes++;
  }
}

static inline uint32_t drops(const struct mg_tcpip_if *ifp) {
  const struct mg_tcpip_counters *c = &ifp->counters;
  return c->drop_csum + c->drop_malformed + c->drop_frag + c->drop_no_port + c->drop_no_mem + c->drop_other;
}

#endif  // TEST_TCPIP_NET_H
