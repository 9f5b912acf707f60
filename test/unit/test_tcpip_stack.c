// The built-in stack below the sockets seam on the mock driver and its fake clock:
// ARP (RFC 826) with retries and aging, IPv4 checks, ICMP echo, drops counted, bursts bounded.
#include <criterion/criterion.h>
#include "../tcpip/net.h"

static struct net n;

static void setup(void) {
  net_init(&n, true);
}

static void teardown(void) {
  net_free(&n);
}

TestSuite(tcpip_stack, .init = setup, .fini = teardown);

// The peer's MAC is in the cache, and what was sent so far is forgotten
static void peer_known(void) {
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_clear_sent();
}

// Our gateway answers, and what was sent so far is forgotten
static void gateway_answers(void) {
  uint8_t f[64];
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, GW_MAC, GW_IP, ME_MAC, ME_IP));
  net_poll(&n, 1);
  mock_eth_clear_sent();
}

Test(tcpip_stack, init_announces_the_address_then_resolves_the_gateway) {
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  cr_assert_eq(n.mgr.ifp, &n.ifp);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_IP);
  cr_assert(sent_arp(0, &eth, &arp), "gratuitous ARP first");
  cr_assert(arp.op == TCPIP_ARP_REQUEST && arp.spa == ME_IP && arp.tpa == ME_IP);
  cr_assert(memcmp(eth.dst, BCAST_MAC, 6) == 0 && memcmp(arp.sha, ME_MAC, 6) == 0);
  cr_assert(sent_arp(1, &eth, &arp) && arp.op == TCPIP_ARP_REQUEST && arp.tpa == GW_IP && arp.spa == ME_IP);
  gateway_answers();
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_READY);
}

Test(tcpip_stack, arp_request_for_us_is_answered_and_teaches_us_the_sender) {
  uint8_t f[128];
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  struct tcpip_ip ip;
  mock_eth_clear_sent();
  net_learn(&n, PEER_MAC, PEER_IP);
  cr_assert_eq(mock_eth_sent_count(), 1);
  cr_assert(sent_arp(0, &eth, &arp) && arp.op == TCPIP_ARP_REPLY);
  cr_assert(memcmp(eth.dst, PEER_MAC, 6) == 0 && memcmp(eth.src, ME_MAC, 6) == 0);
  cr_assert(memcmp(arp.sha, ME_MAC, 6) == 0 && arp.spa == ME_IP && memcmp(arp.tha, PEER_MAC, 6) == 0 &&
            arp.tpa == PEER_IP);
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1, "the echo reply goes at once: no ARP request");
  cr_assert(sent_ip(0, &eth, &ip) && memcmp(eth.dst, PEER_MAC, 6) == 0);
}

Test(tcpip_stack, arp_for_another_address_is_not_answered) {
  uint8_t f[64];
  static const uint8_t zero[6] = {0};
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_arp(f, BCAST_MAC, TCPIP_ARP_REQUEST, PEER_MAC, PEER_IP, zero, MG_IPV4(10, 0, 0, 77)));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 0);
  cr_assert_eq(n.ifp.counters.drop_other, 1);
}

Test(tcpip_stack, echo_request_is_answered_with_its_identifier_sequence_and_data) {
  uint8_t f[256];
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  struct tcpip_icmp icmp;
  gateway_answers();
  peer_known();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "abcdefghijklmnopqrstuvwxyz0123456789!"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1);
  cr_assert(sent_ip(0, &eth, &ip));
  cr_assert(ip.proto == TCPIP_IP_ICMP && ip.src == ME_IP && ip.dst == PEER_IP && ip.ttl == 64 && !ip.fragment);
  cr_assert_eq(tcpip_icmp_parse(ip.payload, ip.len, &icmp), TCPIP_CODEC_OK, "checksum");
  cr_assert(icmp.type == TCPIP_ICMP_ECHO_REPLY && icmp.code == 0);
  cr_assert(icmp.id == mg_htons(0x4242) && icmp.seq == mg_htons(7));
  cr_assert(icmp.len == 37 && memcmp(icmp.data, "abcdefghijklmnopqrstuvwxyz0123456789!", 37) == 0);
}

Test(tcpip_stack, echo_to_a_broadcast_address_is_not_answered) {
  uint8_t f[256];
  peer_known();
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, MG_IPV4(10, 0, 0, 255), "x");
  memcpy(f, BCAST_MAC, 6);
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 0);
}

Test(tcpip_stack, reply_to_an_unknown_peer_waits_for_its_arp_reply) {
  uint8_t f[256];
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  struct tcpip_ip ip;
  gateway_answers();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "held"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1, "only the ARP request goes");
  cr_assert(sent_arp(0, &eth, &arp) && arp.op == TCPIP_ARP_REQUEST && arp.tpa == PEER_IP);
  cr_assert(memcmp(eth.dst, BCAST_MAC, 6) == 0);
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, PEER_MAC, PEER_IP, ME_MAC, ME_IP));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 2);
  cr_assert(sent_ip(1, &eth, &ip) && ip.proto == TCPIP_IP_ICMP && memcmp(eth.dst, PEER_MAC, 6) == 0);
  cr_assert_eq(n.ifp.counters.arp_timeouts, 0);
}

Test(tcpip_stack, unanswered_arp_is_asked_three_times_a_second_apart_then_given_up) {
  uint8_t f[256];
  gateway_answers();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "lost"));
  net_poll(&n, 1);
  cr_assert_eq(sent_arp_requests(PEER_IP), 1);
  mock_eth_advance(999);
  net_poll(&n, 1);
  cr_assert_eq(sent_arp_requests(PEER_IP), 1, "not before a second");
  for (int i = 0; i < 10; i++) {
    mock_eth_advance(1000);
    net_poll(&n, 1);
  }
  cr_assert_eq(sent_arp_requests(PEER_IP), 3);
  cr_assert_eq(n.ifp.counters.arp_timeouts, 1);
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    struct tcpip_eth eth;
    struct tcpip_ip ip;
    cr_assert_not(sent_ip(i, &eth, &ip), "the held echo reply never went");
  }
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, PEER_MAC, PEER_IP, ME_MAC, ME_IP));
  mock_eth_clear_sent();
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 0, "a late reply finds nothing held");
}

Test(tcpip_stack, the_gateway_is_asked_again_until_it_answers) {
  cr_assert_eq(sent_arp_requests(GW_IP), 1);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  cr_assert_eq(sent_arp_requests(GW_IP), 2);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_IP);
  gateway_answers();
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_READY);
}

// After ms more, a ping from the peer: the ARP requests its answer needed
static size_t arp_requests_for_a_ping_after(uint64_t ms) {
  uint8_t f[256];
  mock_eth_advance(ms);
  net_poll(&n, 1);
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x"));
  net_poll(&n, 1);
  return sent_arp_requests(PEER_IP);
}

Test(tcpip_stack, a_learned_address_ages_out_and_is_asked_again) {
  gateway_answers();
  net_learn(&n, PEER_MAC, PEER_IP);
  cr_assert_eq(arp_requests_for_a_ping_after(119000), 0, "still fresh at 119 s");
  cr_assert_eq(arp_requests_for_a_ping_after(1000), 1, "forgotten at 120 s");
}

Test(tcpip_stack, the_cache_keeps_its_size_and_forgets_the_oldest) {
  uint8_t f[256];
  gateway_answers();
  for (int i = 0; i < 3 * MG_TCPIP_ARP_SIZE; i++) {
    uint8_t mac[6] = {2, 0, 0, 0, 1, (uint8_t) i};
    mock_eth_advance(10);
    net_learn(&n, mac, MG_IPV4(10, 0, 0, 100 + i));
  }
  mock_eth_clear_sent();
  int last = 3 * MG_TCPIP_ARP_SIZE - 1;
  uint8_t mac_last[6] = {2, 0, 0, 0, 1, (uint8_t) last};
  mock_eth_inject(f, frame_ping(f, mac_last, MG_IPV4(10, 0, 0, 100 + last), ME_IP, "x"));
  mock_eth_inject(f, frame_ping(f, mac_last, MG_IPV4(10, 0, 0, 100), ME_IP, "x"));
  net_poll(&n, 1);
  cr_assert_eq(sent_arp_requests(MG_IPV4(10, 0, 0, 100 + last)), 0, "the newest is kept");
  cr_assert_eq(sent_arp_requests(MG_IPV4(10, 0, 0, 100)), 1, "the oldest went");
}

Test(tcpip_stack, frames_held_for_resolution_are_bounded_and_the_excess_counted) {
  uint8_t f[256];
  gateway_answers();
  for (int i = 0; i < MG_TCPIP_ARP_PENDING + 3; i++) {
    uint8_t mac[6] = {2, 0, 0, 0, 2, (uint8_t) i};
    mock_eth_inject(f, frame_ping(f, mac, MG_IPV4(10, 0, 0, 50 + i), ME_IP, "x"));
  }
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.drop_no_mem, 3);
  mock_eth_clear_sent();
  for (int i = 0; i < MG_TCPIP_ARP_PENDING + 3; i++) {  // Every address answers: the held ones go
    uint8_t mac[6] = {2, 0, 0, 0, 2, (uint8_t) i};
    mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, mac, MG_IPV4(10, 0, 0, 50 + i), ME_MAC, ME_IP));
  }
  net_poll(&n, 1);
  size_t replies = 0;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    struct tcpip_eth eth;
    struct tcpip_ip ip;
    replies += sent_ip(i, &eth, &ip);
  }
  cr_assert_eq(replies, MG_TCPIP_ARP_PENDING);
}

Test(tcpip_stack, off_link_destinations_go_through_the_gateway) {
  uint8_t f[256];
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  gateway_answers();
  mock_eth_inject(f, frame_ping(f, GW_MAC, FAR_IP, ME_IP, "far"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1);
  cr_assert(sent_ip(0, &eth, &ip) && ip.dst == FAR_IP && memcmp(eth.dst, GW_MAC, 6) == 0);
}

Test(tcpip_stack, off_link_without_a_gateway_is_not_sent) {
  uint8_t f[256];
  net_free(&n);
  net_init(&n, false);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_READY, "no gateway to wait for");
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_ping(f, GW_MAC, FAR_IP, ME_IP, "far"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 0);
}

Test(tcpip_stack, bad_checksums_are_dropped_and_counted) {
  uint8_t f[256];
  peer_known();
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "ping");
  f[TCPIP_ETH_HDR + 8] ^= 1;  // TTL: the IPv4 header checksum no longer holds
  mock_eth_inject(f, len);
  len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "ping");
  f[len - 1] ^= 1;  // ICMP data
  mock_eth_inject(f, len);
  len = frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "udp", 3);
  f[len - 1] ^= 1;
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.drop_csum, 3);
  cr_assert_eq(mock_eth_sent_count(), 0);
}

Test(tcpip_stack, frames_cut_at_every_byte_are_dropped_as_malformed) {
  uint8_t f[256];
  peer_known();
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "truncate me");
  for (size_t cut = 0; cut < len; cut++) {
    mock_eth_inject(f, cut);
    net_poll(&n, 1);
  }
  cr_assert_eq(mock_eth_sent_count(), 0);
  cr_assert_eq(n.ifp.counters.drop_malformed, len - 1, "the empty frame is no frame: the driver says 0");
  cr_assert_eq(drops(&n.ifp), len - 1);
  uint32_t before = n.ifp.counters.drop_malformed;
  len = frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "udp", 3);
  f[TCPIP_ETH_HDR + TCPIP_IP_HDR + 5] = 200;  // UDP length past the datagram
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.drop_malformed, before + 1);
}

Test(tcpip_stack, fragments_are_dropped_and_counted) {
  uint8_t f[256];
  size_t len = frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "frag", 4);
  uint8_t *ip = f + TCPIP_ETH_HDR;
  ip[6] = 0x20, ip[10] = ip[11] = 0;  // More fragments
  uint16_t c = tcpip_csum_fold(tcpip_csum_add(0, ip, TCPIP_IP_HDR));
  memcpy(ip + 10, &c, 2);
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.drop_frag, 1);
}

Test(tcpip_stack, datagrams_for_other_addresses_types_or_protocols_are_dropped) {
  uint8_t f[256];
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, MG_IPV4(10, 0, 0, 3), "not ours"));
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x");
  f[12] = 0x86, f[13] = 0xdd;  // IPv6's EtherType
  mock_eth_inject(f, len);
  mock_eth_inject(f, frame_ip(f, PEER_MAC, ME_MAC, PEER_IP, ME_IP, 47, 0));  // GRE
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.drop_other, 3);
  cr_assert_eq(mock_eth_sent_count(), 0);
}

Test(tcpip_stack, mac_filter_when_asked_keeps_our_own_and_broadcast) {
  uint8_t f[256];
  static const uint8_t zero[6] = {0};
  const uint8_t other[6] = {2, 0, 0, 0, 0, 0x33};
  n.ifp.enable_mac_check = true;
  net_learn(&n, PEER_MAC, PEER_IP);  // Broadcast: accepted
  mock_eth_clear_sent();
  size_t len = frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x");
  memcpy(f, other, 6);
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 0);
  cr_assert_eq(n.ifp.counters.drop_other, 1);
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x"));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1, "our own MAC passes");
  n.ifp.enable_mac_check = false;
  mock_eth_inject(f, frame_arp(f, other, TCPIP_ARP_REQUEST, PEER_MAC, PEER_IP, zero, ME_IP));
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 2, "without the filter the MAC is the driver's business");
}

static size_t with_fcs(uint8_t *f, size_t len) {
  uint32_t crc = mg_crc32(0, (const char *) f, len);
  for (int i = 0; i < 4; i++) f[len + (size_t) i] = (uint8_t) (crc >> (8 * i));
  return len + 4;
}

Test(tcpip_stack, fcs_checked_and_stripped_when_asked) {
  uint8_t f[256];
  n.ifp.enable_crc32_check = true;
  static const uint8_t zero[6] = {0};
  mock_eth_clear_sent();
  size_t len = with_fcs(f, frame_arp(f, BCAST_MAC, TCPIP_ARP_REQUEST, PEER_MAC, PEER_IP, zero, ME_IP));
  mock_eth_inject(f, len);
  f[20] ^= 1;
  mock_eth_inject(f, len);
  net_poll(&n, 1);
  cr_assert_eq(mock_eth_sent_count(), 1, "the good one is answered");
  cr_assert_eq(n.ifp.counters.drop_csum, 1);
}

Test(tcpip_stack, a_flood_is_taken_a_bounded_burst_per_pass) {
  uint8_t f[256];
  net_learn(&n, PEER_MAC, PEER_IP);
  uint32_t before = n.ifp.counters.rx_frames;
  for (int i = 0; i < 100; i++) cr_assert(mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "flood")));
  mg_mgr_poll(&n.mgr, 1000);
  cr_assert_eq(n.ifp.counters.rx_frames - before, MG_TCPIP_RX_BURST);
  cr_assert_eq(mock_eth_pending(), 100 - MG_TCPIP_RX_BURST);
  for (int i = 0; i < 100 && mock_eth_pending() > 0; i++) mg_mgr_poll(&n.mgr, 1000);
  cr_assert_eq(n.ifp.counters.rx_frames - before, 100);
}

Test(tcpip_stack, a_pass_with_nothing_to_do_sleeps_in_the_drivers_wait_up_to_the_next_timer) {
  gateway_answers();
  uint64_t t0 = mock_eth_millis();
  mg_mgr_poll(&n.mgr, 200);
  cr_assert_eq(mock_eth_millis() - t0, 200, "the mock's wait moves the fake clock");
  net_poll(&n, 1);
  t0 = mock_eth_millis();
  mg_mgr_poll(&n.mgr, 5000);
  cr_assert(mock_eth_millis() - t0 <= 1000, "the link is polled each second: %lu ms",
            (unsigned long) (mock_eth_millis() - t0));
}

Test(tcpip_stack, link_down_and_up_again_announces_the_address_again) {
  mock_eth_set_link(false);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_DOWN);
  mock_eth_clear_sent();
  mock_eth_set_link(true);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  cr_assert(sent_arp(0, &eth, &arp) && arp.spa == ME_IP && arp.tpa == ME_IP, "gratuitous ARP");
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_IP);
}

Test(tcpip_stack, a_changed_address_is_announced) {
  gateway_answers();
  n.ifp.ip = MG_IPV4(10, 0, 0, 22);
  net_poll(&n, 1);
  struct tcpip_eth eth;
  struct tcpip_arp arp;
  cr_assert(sent_arp(0, &eth, &arp) && arp.spa == MG_IPV4(10, 0, 0, 22) && arp.tpa == MG_IPV4(10, 0, 0, 22));
}

Test(tcpip_stack, datagrams_carry_ttl_64_and_fresh_identifiers) {
  uint8_t f[256];
  struct tcpip_eth eth;
  struct tcpip_ip a, b;
  peer_known();
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "1"));
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "2"));
  net_poll(&n, 1);
  cr_assert(sent_ip(0, &eth, &a) && sent_ip(1, &eth, &b));
  cr_assert(a.ttl == 64 && b.ttl == 64 && a.id != b.id);
}

Test(tcpip_stack, a_driver_that_refuses_a_frame_is_counted) {
  uint8_t f[256];
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_refuse_tx(true);
  mock_eth_inject(f, frame_ping(f, PEER_MAC, PEER_IP, ME_IP, "x"));
  net_poll(&n, 1);
  cr_assert_eq(n.ifp.counters.tx_fail, 1);
}

Test(tcpip_stack, short_frames_go_out_padded_with_zeros) {
  size_t len;
  const uint8_t *f = mock_eth_sent(0, &len);  // The gratuitous ARP: 42 bytes
  cr_assert_eq(len, 60);
  for (size_t i = TCPIP_ETH_HDR + TCPIP_ARP_LEN; i < len; i++) cr_assert_eq(f[i], 0);
}

Test(tcpip_stack, a_bad_configuration_is_refused_with_a_log_line) {
  struct mg_mgr mgr;
  struct mg_tcpip_if ifp;
  struct mg_iobuf log = {0};
  mg_mgr_init(&mgr);
  memset(&ifp, 0, sizeof(ifp));
  ifp.driver = &mock_eth_driver;
  ifp.mac[0] = 1;  // A group address
  mg_log_set_fn(mg_pfn_iobuf, &log);
  mg_tcpip_init(&mgr, &ifp);
  mg_log_set_fn(NULL, NULL);
  cr_assert_null(mgr.ifp);
  cr_assert(log.buf != NULL && strstr((char *) log.buf, "not a unicast") != NULL);
  mg_iobuf_free(&log);
  mg_mgr_free(&mgr);
}
