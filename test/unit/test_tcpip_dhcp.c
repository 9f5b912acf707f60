// DHCP (RFC 2131) on the built-in stack: the message parser on bad and boundary input,
// and the client through discover, request, renewal, rebinding, expiry, refusal and silence.
#include <criterion/criterion.h>
#include "../tcpip/net.h"

#define SERVER_IP GW_IP
#define DNS_IP MG_IPV4(10, 0, 0, 53)

static struct net n;

static void setup(void) {
  net_init_dhcp(&n);
  net_poll(&n, 1);
}

static void teardown(void) {
  net_free(&n);
}

TestSuite(tcpip_dhcp, .init = setup, .fini = teardown);

static uint8_t *put_option_ip(uint8_t *p, uint8_t code, uint32_t ip) {
  p[0] = code, p[1] = 4;
  memcpy(p + 2, &ip, 4);
  return p + 6;
}

// A server's reply: BOOTP part, cookie, type, server id, mask, router, DNS, lease
static size_t dhcp_reply(uint8_t *buf, uint8_t type, uint32_t xid, uint32_t yiaddr, uint32_t lease_s) {
  memset(buf, 0, 300);
  buf[0] = 2, buf[1] = 1, buf[2] = 6;
  buf[4] = (uint8_t) (xid >> 24), buf[5] = (uint8_t) (xid >> 16), buf[6] = (uint8_t) (xid >> 8), buf[7] = (uint8_t) xid;
  memcpy(buf + 16, &yiaddr, 4);
  memcpy(buf + 28, ME_MAC, 6);
  buf[236] = 99, buf[237] = 130, buf[238] = 83, buf[239] = 99;
  uint8_t *p = buf + 240;
  p[0] = 53, p[1] = 1, p[2] = type;
  p = put_option_ip(p + 3, 54, SERVER_IP);
  p = put_option_ip(p, 1, NET_MASK);
  p = put_option_ip(p, 3, GW_IP);
  p = put_option_ip(p, 6, DNS_IP);
  p[0] = 51, p[1] = 4, p[2] = (uint8_t) (lease_s >> 24), p[3] = (uint8_t) (lease_s >> 16);
  p[4] = (uint8_t) (lease_s >> 8), p[5] = (uint8_t) lease_s;
  p[6] = 255;
  return (size_t) (p + 7 - buf);
}

// The client's messages among the frames sent, oldest first
struct sent_dhcp {
  struct tcpip_dhcp_msg m;
  uint32_t ip_src, ip_dst;
  bool eth_broadcast;
};

static size_t sent_dhcp(struct sent_dhcp *out, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < mock_eth_sent_count() && count < max; i++) {
    struct tcpip_eth eth;
    struct tcpip_ip ip;
    struct tcpip_udp udp;
    if (!sent_ip(i, &eth, &ip) || ip.proto != TCPIP_IP_UDP) continue;
    cr_assert_eq(tcpip_udp_parse(ip.payload, ip.len, ip.src, ip.dst, &udp), TCPIP_CODEC_OK);
    if (udp.dport != mg_htons(67) || udp.sport != mg_htons(68)) continue;
    cr_assert_eq(tcpip_dhcp_parse(udp.data, udp.len, &out[count].m), TCPIP_CODEC_OK);
    out[count].ip_src = ip.src, out[count].ip_dst = ip.dst;
    out[count].eth_broadcast = memcmp(eth.dst, BCAST_MAC, 6) == 0;
    count++;
  }
  return count;
}

static void server_says(uint8_t type, uint32_t xid, uint32_t yiaddr, uint32_t lease_s) {
  uint8_t msg[300], f[400];
  size_t len = dhcp_reply(msg, type, xid, yiaddr, lease_s);
  mock_eth_inject(f, frame_udp(f, GW_MAC, BCAST_MAC, SERVER_IP, 67, 0xffffffff, 68, msg, len));
  net_poll(&n, 2);
}

// Discover, offer, request, ack: the client holds ME_IP for lease_s; returns the xid
static uint32_t lease(uint32_t lease_s) {
  struct sent_dhcp s[4];
  cr_assert_eq(sent_dhcp(s, 4), 1);
  uint32_t xid = s[0].m.xid;
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_OFFER, xid, ME_IP, lease_s);
  cr_assert_eq(sent_dhcp(s, 4), 1);
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_ACK, xid, ME_IP, lease_s);
  cr_assert_eq(n.ifp.ip, ME_IP);
  uint8_t f[64];  // The gateway answers the stack's ARP request
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, GW_MAC, GW_IP, ME_MAC, ME_IP));
  net_poll(&n, 1);
  mock_eth_clear_sent();
  return xid;
}

Test(tcpip_dhcp, parser_reads_a_reply_and_refuses_every_truncation) {
  uint8_t msg[300];
  struct tcpip_dhcp_msg m;
  size_t len = dhcp_reply(msg, TCPIP_DHCP_ACK, 0x01020304, ME_IP, 3600);
  cr_assert_eq(tcpip_dhcp_parse(msg, len, &m), TCPIP_CODEC_OK);
  cr_assert(m.op == 2 && m.type == TCPIP_DHCP_ACK && m.xid == 0x01020304 && m.yiaddr == ME_IP);
  cr_assert(m.server_id == SERVER_IP && m.mask == NET_MASK && m.router == GW_IP && m.dns == DNS_IP);
  cr_assert(m.lease_s == 3600 && memcmp(m.chaddr, ME_MAC, 6) == 0);
  for (size_t cut = 0; cut < len - 1; cut++) {  // Without the end option it still parses, once all is there
    enum tcpip_codec_result r = tcpip_dhcp_parse(msg, cut, &m);
    cr_assert(r == TCPIP_CODEC_MALFORMED || (cut >= 243 && r == TCPIP_CODEC_OK), "cut at %zu", cut);
    if (r == TCPIP_CODEC_OK) cr_assert_eq(m.type, TCPIP_DHCP_ACK);
  }
}

Test(tcpip_dhcp, parser_refuses_wrong_sizes_cookie_hardware_and_a_missing_type) {
  uint8_t msg[300];
  struct tcpip_dhcp_msg m;
  const size_t at[] = {1, 2, 236, 239};  // htype, hlen, the cookie's ends
  for (size_t i = 0; i < 4; i++) {
    size_t len = dhcp_reply(msg, TCPIP_DHCP_ACK, 1, ME_IP, 60);
    msg[at[i]] ^= 0x40;
    cr_assert_eq(tcpip_dhcp_parse(msg, len, &m), TCPIP_CODEC_MALFORMED, "byte %zu", at[i]);
  }
  size_t len = dhcp_reply(msg, TCPIP_DHCP_ACK, 1, ME_IP, 60);
  msg[241] = 2;  // Type option of 2 bytes
  cr_assert_eq(tcpip_dhcp_parse(msg, len, &m), TCPIP_CODEC_MALFORMED);
  len = dhcp_reply(msg, TCPIP_DHCP_ACK, 1, ME_IP, 60);
  msg[244] = 3;  // Server identifier of 3 bytes
  cr_assert_eq(tcpip_dhcp_parse(msg, len, &m), TCPIP_CODEC_MALFORMED);
  len = dhcp_reply(msg, TCPIP_DHCP_ACK, 1, ME_IP, 60);
  msg[240] = 12;  // The type option becomes a host name: no type at all
  cr_assert_eq(tcpip_dhcp_parse(msg, len, &m), TCPIP_CODEC_MALFORMED);
  len = dhcp_reply(msg, TCPIP_DHCP_ACK, 1, ME_IP, 60);
  msg[len - 1] = 12, msg[len] = 200;  // An option running past the message
  cr_assert_eq(tcpip_dhcp_parse(msg, len + 1, &m), TCPIP_CODEC_MALFORMED);
}

Test(tcpip_dhcp, discover_offer_request_ack_configures_the_interface) {
  struct sent_dhcp s[4];
  cr_assert_eq(n.ifp.ip, 0);
  cr_assert_eq(sent_dhcp(s, 4), 1);
  cr_assert(s[0].m.type == TCPIP_DHCP_DISCOVER && s[0].m.op == 1 && memcmp(s[0].m.chaddr, ME_MAC, 6) == 0);
  cr_assert(s[0].ip_src == 0 && s[0].ip_dst == 0xffffffff && s[0].eth_broadcast);
  uint32_t xid = s[0].m.xid;
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_OFFER, xid, ME_IP, 3600);
  cr_assert_eq(sent_dhcp(s, 4), 1);
  cr_assert(s[0].m.type == TCPIP_DHCP_REQUEST && s[0].m.xid == xid && s[0].eth_broadcast);
  cr_assert(s[0].m.requested == ME_IP && s[0].m.server_id == SERVER_IP && s[0].m.ciaddr == 0);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_REQ);
  cr_assert_eq(n.ifp.ip, 0, "an offer is no lease");
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_ACK, xid, ME_IP, 3600);
  cr_assert(n.ifp.ip == ME_IP && n.ifp.mask == NET_MASK && n.ifp.gw == GW_IP);
  cr_assert_str_eq(n.mgr.dns4.url, "udp://10.0.0.53:53");
  cr_assert_eq(sent_arp_requests(ME_IP), 1, "the new address announced");
  cr_assert_geq(n.ifp.state, MG_TCPIP_STATE_IP);
}

Test(tcpip_dhcp, replies_of_another_exchange_are_ignored) {
  struct sent_dhcp s[4];
  sent_dhcp(s, 4);
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_OFFER, s[0].m.xid + 1, ME_IP, 3600);
  cr_assert_eq(sent_dhcp(s, 4), 0);
  cr_assert_eq(n.ifp.counters.drop_other, 1);
}

Test(tcpip_dhcp, the_application_dns_server_is_kept) {
  n.mgr.dns4.url = "udp://1.1.1.1:53";
  lease(3600);
  cr_assert_str_eq(n.mgr.dns4.url, "udp://1.1.1.1:53");
}

Test(tcpip_dhcp, renews_at_t1_by_unicast_and_keeps_the_address) {
  lease(1000);
  mock_eth_advance(499000);
  net_poll(&n, 1);
  struct sent_dhcp s[4];
  cr_assert_eq(sent_dhcp(s, 4), 0, "not before T1 (500 s)");
  mock_eth_advance(1000);
  net_poll(&n, 1);
  cr_assert_eq(sent_arp_requests(SERVER_IP), 1, "the server's MAC, to reach it directly");
  uint8_t f[64];
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, GW_MAC, SERVER_IP, ME_MAC, ME_IP));
  net_poll(&n, 1);
  cr_assert_eq(sent_dhcp(s, 4), 1);
  cr_assert(s[0].m.type == TCPIP_DHCP_REQUEST && s[0].m.ciaddr == ME_IP && s[0].m.requested == 0);
  cr_assert(s[0].ip_src == ME_IP && s[0].ip_dst == SERVER_IP && !s[0].eth_broadcast);
  server_says(TCPIP_DHCP_ACK, s[0].m.xid, ME_IP, 1000);
  mock_eth_clear_sent();
  mock_eth_advance(900000);  // Past the first lease's end: the renewed one holds
  for (int i = 0; i < 5; i++) net_poll(&n, 1);
  cr_assert_eq(n.ifp.ip, ME_IP);
}

Test(tcpip_dhcp, rebinds_by_broadcast_at_t2_and_gives_the_address_up_at_the_end) {
  lease(1000);
  struct sent_dhcp s[8];
  for (int t = 60; t <= 840; t += 60) {  // RENEWING from 500 s, unanswered
    mock_eth_advance(60000);
    net_poll(&n, 1);
  }
  mock_eth_clear_sent();
  mock_eth_advance(35000);
  net_poll(&n, 1);
  cr_assert_eq(sent_dhcp(s, 8), 1, "REBINDING at T2 (875 s)");
  cr_assert(s[0].m.type == TCPIP_DHCP_REQUEST && s[0].ip_dst == 0xffffffff && s[0].m.ciaddr == ME_IP);
  mock_eth_advance(125000);
  net_poll(&n, 2);
  cr_assert_eq(n.ifp.ip, 0, "the lease ran out");
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_UP);
  mock_eth_clear_sent();
  net_poll(&n, 1);
  mg_mgr_poll(&n.mgr, 0);
  mock_eth_advance(10000);
  net_poll(&n, 1);
  cr_assert_geq(sent_dhcp(s, 8), 1);
  cr_assert_eq(s[0].m.type, TCPIP_DHCP_DISCOVER, "and starts over");
}

Test(tcpip_dhcp, a_refusal_starts_over) {
  struct sent_dhcp s[4];
  sent_dhcp(s, 4);
  uint32_t xid = s[0].m.xid;
  server_says(TCPIP_DHCP_OFFER, xid, ME_IP, 3600);
  mock_eth_clear_sent();
  server_says(TCPIP_DHCP_NAK, xid, 0, 0);
  cr_assert_eq(n.ifp.ip, 0);
  cr_assert_eq(sent_dhcp(s, 4), 1);
  cr_assert_eq(s[0].m.type, TCPIP_DHCP_DISCOVER);
}

Test(tcpip_dhcp, silence_is_met_with_backoff_and_one_log_line) {
  struct mg_iobuf log = {0};
  struct sent_dhcp s[16];
  uint64_t last = mock_eth_millis(), gaps[8];
  size_t seen = 1;
  mg_log_set_fn(mg_pfn_iobuf, &log);
  for (int i = 0; i < 400 && seen < 9; i++) {
    mock_eth_advance(1000);
    net_poll(&n, 1);
    size_t now_seen = sent_dhcp(s, 16);
    if (now_seen > seen) {
      gaps[seen - 1] = mock_eth_millis() - last;
      last = mock_eth_millis();
      seen = now_seen;
    }
  }
  mg_log_set_fn(NULL, NULL);
  cr_assert_eq(seen, 9);
  const uint64_t expect[] = {4000, 8000, 16000, 32000, 64000, 64000, 64000, 64000};
  for (size_t i = 0; i < 8; i++) {
    cr_assert(gaps[i] + 1000 >= expect[i] && gaps[i] <= expect[i] + 2000, "gap %zu: %lu ms", i,
              (unsigned long) gaps[i]);
  }
  const char *text = (const char *) log.buf;
  cr_assert(text != NULL && strstr(text, "no server answers") != NULL);
  cr_assert_null(strstr(strstr(text, "no server answers") + 1, "no server answers"), "said once");
  mg_iobuf_free(&log);
}

Test(tcpip_dhcp, link_down_gives_the_lease_up_and_link_up_asks_again) {
  lease(3600);
  mock_eth_set_link(false);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.ip, 0);
  mock_eth_set_link(true);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  struct sent_dhcp s[4];
  cr_assert_eq(sent_dhcp(s, 4), 1);
  cr_assert_eq(s[0].m.type, TCPIP_DHCP_DISCOVER);
}
