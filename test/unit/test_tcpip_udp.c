// UDP on the built-in stack through the event layer: mg_listen / mg_connect "udp://",
// MG_EV_READ with one whole datagram, replies to the sender, ports, refusals, mg_wakeup.
#include <criterion/criterion.h>
#include "../tcpip/net.h"

static struct net n;

static void setup(void) {
  net_init_ready(&n);
}

static void teardown(void) {
  net_free(&n);
}

TestSuite(tcpip_udp, .init = setup, .fini = teardown);

struct seen {
  int reads, connects, errors, wakeups;
  char data[1600];
  size_t len;
  struct mg_addr rem;
  bool echo;  // Send back what arrived
  char error[160];
};

static void udp_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct seen *s = (struct seen *) c->fn_data;
  if (ev == MG_EV_READ) {
    s->reads++;
    s->len = c->recv.len < sizeof(s->data) ? c->recv.len : sizeof(s->data);
    memcpy(s->data, c->recv.buf, s->len);
    s->rem = c->rem;
    if (s->echo) mg_send(c, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  } else if (ev == MG_EV_CONNECT) {
    s->connects++;
  } else if (ev == MG_EV_ERROR) {
    s->errors++;
    mg_snprintf(s->error, sizeof(s->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_WAKEUP) {
    s->wakeups++;
    struct mg_str *m = (struct mg_str *) ev_data;
    memcpy(s->data, m->buf, m->len);
    s->len = m->len;
  }
}

// The single UDP datagram among the frames sent, checked down to its checksum
static bool sent_udp(struct tcpip_eth *eth, struct tcpip_ip *ip, struct tcpip_udp *udp) {
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    if (sent_ip(i, eth, ip) && ip->proto == TCPIP_IP_UDP)
      return tcpip_udp_parse(ip->payload, ip->len, ip->src, ip->dst, udp) == TCPIP_CODEC_OK;
  }
  return false;
}

Test(tcpip_udp, a_listener_reads_a_datagram_whole_and_answers_its_sender) {
  uint8_t f[256];
  struct seen s = {0};
  s.echo = true;
  struct mg_connection *c = mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  cr_assert_not_null(c);
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_clear_sent();
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "hello udp", 9));
  net_poll(&n, 1);
  cr_assert_eq(s.reads, 1);
  cr_assert(s.len == 9 && memcmp(s.data, "hello udp", 9) == 0);
  cr_assert(s.rem.addr.ip4 == PEER_IP && s.rem.port == mg_htons(5000) && !s.rem.is_ip6);
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  struct tcpip_udp udp;
  cr_assert(sent_udp(&eth, &ip, &udp), "the echo went out with a good checksum");
  cr_assert(memcmp(eth.dst, PEER_MAC, 6) == 0 && ip.src == ME_IP && ip.dst == PEER_IP);
  cr_assert(udp.sport == mg_htons(7000) && udp.dport == mg_htons(5000));
  cr_assert(udp.len == 9 && memcmp(udp.data, "hello udp", 9) == 0);
}

Test(tcpip_udp, each_datagram_is_its_own_read) {
  uint8_t f[256];
  struct seen s = {0};
  mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "first", 5));
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5001, ME_IP, 7000, "second!", 7));
  net_poll(&n, 1);
  cr_assert_eq(s.reads, 2);
  cr_assert(s.len == 7 && memcmp(s.data, "second!", 7) == 0 && s.rem.port == mg_htons(5001));
}

Test(tcpip_udp, a_largest_datagram_arrives_whole) {
  static uint8_t f[1600], data[1472];
  struct seen s = {0};
  for (size_t i = 0; i < sizeof(data); i++) data[i] = (uint8_t) (i * 13);
  mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, data, sizeof(data)));
  net_poll(&n, 1);
  cr_assert(s.reads == 1 && s.len == sizeof(data) && memcmp(s.data, data, sizeof(data)) == 0);
}

Test(tcpip_udp, a_datagram_for_no_port_is_dropped_and_counted) {
  uint8_t f[256];
  struct seen s = {0};
  mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7001, "x", 1));
  net_poll(&n, 1);
  cr_assert_eq(s.reads, 0);
  cr_assert_eq(n.ifp.counters.drop_no_port, 1);
}

Test(tcpip_udp, a_broadcast_reaches_a_listener_on_any_address) {
  uint8_t f[256];
  struct seen s = {0};
  mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  mock_eth_inject(f, frame_udp(f, PEER_MAC, BCAST_MAC, PEER_IP, 5000, MG_IPV4(255, 255, 255, 255), 7000, "all", 3));
  mock_eth_inject(f, frame_udp(f, PEER_MAC, BCAST_MAC, PEER_IP, 5000, MG_IPV4(10, 0, 0, 255), 7000, "net", 3));
  net_poll(&n, 1);
  cr_assert_eq(s.reads, 2);
}

Test(tcpip_udp, a_client_resolves_its_peer_then_sends_and_reads_only_from_it) {
  uint8_t f[256];
  struct seen s = {0};
  struct mg_connection *c = mg_connect(&n.mgr, "udp://10.0.0.9:5000", udp_fn, &s);
  cr_assert_not_null(c);
  net_poll(&n, 1);
  cr_assert_eq(s.connects, 1, "UDP connects at once, as a socket does");
  cr_assert(c->loc.addr.ip4 == ME_IP && mg_ntohs(c->loc.port) >= 49152);
  mg_send(c, "query", 5);
  cr_assert_eq(sent_arp_requests(PEER_IP), 1);
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  struct tcpip_udp udp;
  cr_assert_not(sent_udp(&eth, &ip, &udp), "held until the peer's MAC is known");
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, PEER_MAC, PEER_IP, ME_MAC, ME_IP));
  net_poll(&n, 1);
  cr_assert(sent_udp(&eth, &ip, &udp));
  cr_assert(udp.sport == c->loc.port && udp.dport == mg_htons(5000) && udp.len == 5);
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, mg_ntohs(c->loc.port), "answer", 6));
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5999, ME_IP, mg_ntohs(c->loc.port), "stray", 5));
  net_poll(&n, 1);
  cr_assert(s.reads == 1 && s.len == 6 && memcmp(s.data, "answer", 6) == 0);
  cr_assert_eq(n.ifp.counters.drop_no_port, 1, "another port of the peer is not ours");
}

Test(tcpip_udp, clients_get_different_ephemeral_ports) {
  struct seen s = {0};
  struct mg_connection *a = mg_connect(&n.mgr, "udp://10.0.0.9:5000", udp_fn, &s);
  struct mg_connection *b = mg_connect(&n.mgr, "udp://10.0.0.9:5000", udp_fn, &s);
  struct mg_connection *l = mg_listen(&n.mgr, "udp://0.0.0.0:0", udp_fn, &s);
  cr_assert(a && b && l);
  cr_assert(a->loc.port != b->loc.port && l->loc.port != a->loc.port && l->loc.port != b->loc.port);
  cr_assert(mg_ntohs(l->loc.port) >= 49152);
}

Test(tcpip_udp, listening_where_this_stack_cannot_is_refused) {
  struct seen s = {0};
  struct mg_iobuf log = {0};
  mg_log_set_fn(mg_pfn_iobuf, &log);
  cr_assert_not_null(mg_listen(&n.mgr, "udp://10.0.0.2:7000", udp_fn, &s), "our own address");
  cr_assert_null(mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s), "in use");
  cr_assert_null(mg_listen(&n.mgr, "udp://10.0.0.3:7001", udp_fn, &s));
  cr_assert_null(mg_listen(&n.mgr, "udp://[::]:7002", udp_fn, &s));
  cr_assert_not_null(mg_listen(&n.mgr, "tcp://0.0.0.0:7000", udp_fn, &s), "TCP's ports are apart from UDP's");
  cr_assert_null(mg_listen(&n.mgr, "tcp://0.0.0.0:7000", udp_fn, &s), "in use");
  mg_log_set_fn(NULL, NULL);
  const char *text = log.buf == NULL ? "" : (const char *) log.buf;
  cr_assert(strstr(text, "address in use") && strstr(text, "not this interface's address") &&
            strstr(text, "no IPv6"), "%s", text);
  mg_iobuf_free(&log);
}

Test(tcpip_udp, a_datagram_too_large_for_a_frame_is_refused_with_a_log_line) {
  static char big[1473];
  struct seen s = {0};
  struct mg_iobuf log = {0};
  net_learn(&n, PEER_MAC, PEER_IP);
  struct mg_connection *c = mg_connect(&n.mgr, "udp://10.0.0.9:5000", udp_fn, &s);
  net_poll(&n, 1);
  mock_eth_clear_sent();
  mg_log_set_fn(mg_pfn_iobuf, &log);
  mg_send(c, big, sizeof(big));
  mg_log_set_fn(NULL, NULL);
  cr_assert_eq(mock_eth_sent_count(), 0);
  cr_assert(log.buf != NULL && strstr((char *) log.buf, "does not fragment"));
  mg_send(c, big, sizeof(big) - 1);
  cr_assert_eq(mock_eth_sent_count(), 1, "1472 bytes fit");
  mg_iobuf_free(&log);
}

Test(tcpip_udp, a_connection_that_is_not_reading_loses_the_datagram_counted) {
  uint8_t f[256];
  struct seen s = {0};
  struct mg_connection *c = mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  c->is_read_paused = 1;
  net_poll(&n, 1);  // The event layer stops asking to read
  mock_eth_inject(f, frame_udp(f, PEER_MAC, ME_MAC, PEER_IP, 5000, ME_IP, 7000, "x", 1));
  net_poll(&n, 1);
  cr_assert_eq(s.reads, 0);
  cr_assert_eq(n.ifp.counters.drop_no_mem, 1);
}

Test(tcpip_udp, sending_without_a_link_fails_with_the_reason) {
  struct seen s = {0};
  struct mg_iobuf log = {0};
  struct mg_connection *c = mg_connect(&n.mgr, "udp://10.0.0.9:5000", udp_fn, &s);
  net_poll(&n, 1);
  mock_eth_set_link(false);
  mock_eth_advance(1000);
  net_poll(&n, 1);
  mock_eth_clear_sent();
  mg_log_set_fn(mg_pfn_iobuf, &log);
  mg_send(c, "x", 1);
  mg_log_set_fn(NULL, NULL);
  cr_assert_eq(mock_eth_sent_count(), 0);
  cr_assert(log.buf != NULL && strstr((char *) log.buf, "link down"));
  mg_iobuf_free(&log);
}

Test(tcpip_udp, names_resolve_through_the_dns_server_over_the_stack) {
  uint8_t f[512];
  struct seen s = {0};
  n.mgr.dns4.url = "udp://10.0.0.1:53";
  struct mg_connection *c = mg_connect(&n.mgr, "udp://device.lan:5000", udp_fn, &s);
  net_poll(&n, 1);
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  struct tcpip_udp udp;
  cr_assert(sent_udp(&eth, &ip, &udp), "the query went out");
  cr_assert(ip.dst == GW_IP && udp.dport == mg_htons(53) && memcmp(eth.dst, GW_MAC, 6) == 0);
  // The answer: the query with QR set, one A record 10.0.0.9 pointing at the question's name
  uint8_t ans[300];
  memcpy(ans, udp.data, udp.len);
  size_t len = udp.len;
  ans[2] |= 0x80, ans[7] = 1;
  const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 9};
  memcpy(ans + len, rr, sizeof(rr));
  len += sizeof(rr);
  mock_eth_inject(f, frame_udp(f, GW_MAC, ME_MAC, GW_IP, 53, ME_IP, mg_ntohs(udp.sport), ans, len));
  net_poll(&n, 2);
  cr_assert_eq(s.connects, 1);
  cr_assert(c->rem.addr.ip4 == PEER_IP && c->rem.port == mg_htons(5000));
}

Test(tcpip_udp, mg_wakeup_reaches_its_connection) {
  struct seen s = {0};
  cr_assert(mg_wakeup_init(&n.mgr));
  struct mg_connection *c = mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  cr_assert(mg_wakeup(&n.mgr, c->id, "wake", 4));
  cr_assert(mg_wakeup(&n.mgr, c->id, "again", 5));
  net_poll(&n, 2);
  cr_assert_eq(s.wakeups, 2);
  cr_assert(s.len == 5 && memcmp(s.data, "again", 5) == 0);
}

Test(tcpip_udp, a_sleeping_loop_hears_mg_wakeup_within_a_slice) {
  struct seen s = {0};
  cr_assert(mg_wakeup_init(&n.mgr));
  struct mg_connection *c = mg_listen(&n.mgr, "udp://0.0.0.0:7000", udp_fn, &s);
  net_poll(&n, 1);
  uint64_t t0 = mock_eth_millis();
  mg_mgr_poll(&n.mgr, 5000);
  cr_assert(mock_eth_millis() - t0 <= 50, "slept %lu ms", (unsigned long) (mock_eth_millis() - t0));
  cr_assert(mg_wakeup(&n.mgr, c->id, "w", 1));
  mg_mgr_poll(&n.mgr, 5000);
  cr_assert_eq(s.wakeups, 1);
}
