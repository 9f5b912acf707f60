// TCP on the built-in stack through the event layer, against a peer scripted segment by
// segment over the mock driver: a server's HTTP exchange, a client, resets, the limits.
#include <criterion/criterion.h>
#include "../tcpip/net.h"
#include "tcpip/tcpip_internal.h"

static struct net n;

static void setup(void) {
  net_init_ready(&n);
}

static void teardown(void) {
  mg_alloc_fail_after(0);
  net_free(&n);
}

TestSuite(tcpip_tcp, .init = setup, .fini = teardown);

static void peer_send(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const char *data) {
  static uint8_t f[1600];
  mock_eth_inject(f, frame_tcp(f, sport, dport, seq, ack, flags, data));
  net_poll(&n, 3);
}

// The last TCP segment sent with all of flags; false if none
static bool last_tcp(uint8_t flags, struct tcpip_tcp *t) {
  bool found = false;
  struct tcpip_tcp x;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    if (sent_tcp(i, &x) && (x.seg.flags & flags) == flags) *t = x, found = true;
  }
  return found;
}

// What the stack sent as data so far, in order from seq (the segments captured)
static size_t sent_stream(uint32_t seq, char *buf, size_t size) {
  size_t len = 0;
  struct tcpip_tcp t;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    if (!sent_tcp(i, &t) || t.seg.len == 0 || t.seg.seq != seq + len || len + t.seg.len >= size) continue;
    memcpy(buf + len, t.seg.data, t.seg.len);
    len += t.seg.len;
  }
  buf[len] = '\0';
  return len;
}

static unsigned tcbs(void) {
  return ((struct tcpip_state *) n.ifp.stack)->ntcbs;
}

static void http_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "hello from the stack\n");
  (void) ev_data;
}

// The peer's side of a three-way handshake to port; returns our ISS
static uint32_t peer_connect(uint16_t sport, uint16_t dport, uint32_t seq) {
  struct tcpip_tcp t;
  mock_eth_clear_sent();
  peer_send(sport, dport, seq, 0, TCP_SYN, NULL);
  cr_assert(last_tcp(TCP_SYN | TCP_ACK, &t), "SYN-ACK");
  cr_assert(t.seg.ack == seq + 1 && t.seg.mss == 1460 && t.dport == mg_htons(sport));
  peer_send(sport, dport, seq + 1, t.seg.seq + 1, TCP_ACK, NULL);
  return t.seg.seq;
}

Test(tcpip_tcp, an_http_request_is_served_and_the_connection_closes_cleanly) {
  cr_assert_not_null(mg_http_listen(&n.mgr, "http://0.0.0.0:80", http_fn, NULL));
  net_learn(&n, PEER_MAC, PEER_IP);
  uint32_t iss = peer_connect(40000, 80, 1000);
  mock_eth_clear_sent();
  peer_send(40000, 80, 1001, iss + 1, TCP_ACK | TCP_PSH, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  char reply[2048];
  size_t len = sent_stream(iss + 1, reply, sizeof(reply));
  cr_assert(len > 0 && strncmp(reply, "HTTP/1.1 200", 12) == 0, "reply: %s", reply);
  cr_assert(strstr(reply, "hello from the stack\n") != NULL);
  struct tcpip_tcp t;
  cr_assert(last_tcp(TCP_ACK, &t) && t.seg.ack == 1001 + 27, "the request acknowledged");
  // The peer closes; the server closes too and is gone once its FIN is acknowledged
  mock_eth_clear_sent();
  uint32_t end = iss + 1 + (uint32_t) len;
  peer_send(40000, 80, 1028, end, TCP_ACK | TCP_FIN, NULL);
  cr_assert(last_tcp(TCP_FIN | TCP_ACK, &t), "our FIN");
  cr_assert(t.seg.seq == end && t.seg.ack == 1029);
  peer_send(40000, 80, 1029, end + 1, TCP_ACK, NULL);
  cr_assert_eq(tcbs(), 0);
  cr_assert_eq(n.ifp.counters.tcp_resets, 0);
}

// A client to the peer (whose MAC is known) up to its SYN, which is returned
static struct tcpip_tcp client_syn(struct net_client *s, const char *url) {
  struct tcpip_tcp t;
  net_learn(&n, PEER_MAC, PEER_IP);
  mg_connect(&n.mgr, url, net_client_fn, s);
  net_poll(&n, 2);
  cr_assert(last_tcp(TCP_SYN, &t), "SYN");
  return t;
}

Test(tcpip_tcp, a_client_resolves_connects_exchanges_and_closes) {
  struct net_client s = {0};
  struct mg_connection *c = mg_connect(&n.mgr, "tcp://10.0.0.9:7000", net_client_fn, &s);
  cr_assert_not_null(c);
  net_poll(&n, 2);
  cr_assert_eq(sent_arp_requests(PEER_IP), 1, "ARP first");
  struct tcpip_tcp t;
  cr_assert_not(last_tcp(TCP_SYN, &t));
  uint8_t f[64];
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, PEER_MAC, PEER_IP, ME_MAC, ME_IP));
  net_poll(&n, 2);
  cr_assert(last_tcp(TCP_SYN, &t) && !(t.seg.flags & TCP_ACK) && t.dport == mg_htons(7000));
  uint16_t port = mg_ntohs(t.sport);
  cr_assert(port >= 49152 && t.seg.mss == 1460);
  cr_assert_eq(s.connects, 0);
  uint32_t iss = t.seg.seq;
  mock_eth_clear_sent();
  peer_send(7000, port, 5000, iss + 1, TCP_SYN | TCP_ACK, NULL);
  cr_assert_eq(s.connects, 1);
  cr_assert(c->loc.addr.ip4 == ME_IP && c->loc.port == mg_htons(port));
  char data[64];
  cr_assert_eq(sent_stream(iss + 1, data, sizeof(data)), 4);
  cr_assert_str_eq(data, "ping");
  peer_send(7000, port, 5001, iss + 5, TCP_ACK | TCP_PSH, "pong");
  cr_assert(s.len == 4 && memcmp(s.got, "pong", 4) == 0);
  mock_eth_clear_sent();
  peer_send(7000, port, 5005, iss + 5, TCP_ACK | TCP_FIN, NULL);
  cr_assert_eq(s.closes, 1, "the peer's FIN ends the client");
  cr_assert(last_tcp(TCP_FIN | TCP_ACK, &t) && t.seg.seq == iss + 5 && t.seg.ack == 5006);
  peer_send(7000, port, 5006, iss + 6, TCP_ACK, NULL);
  cr_assert_eq(tcbs(), 0);
  cr_assert_eq(s.errors, 0);
}

Test(tcpip_tcp, a_refused_connect_is_an_error_with_the_reason) {
  struct net_client s = {0};
  struct tcpip_tcp t = client_syn(&s, "tcp://10.0.0.9:7001");
  peer_send(7001, mg_ntohs(t.sport), 0, t.seg.seq + 1, TCP_RST | TCP_ACK, NULL);
  cr_assert(s.errors == 1 && strstr(s.error, "refused") != NULL, "%s", s.error);
  cr_assert_eq(s.connects, 0);
  cr_assert_eq(tcbs(), 0);
}

Test(tcpip_tcp, a_connect_whose_next_hop_never_answers_arp_fails) {
  struct net_client s = {0};
  mg_connect(&n.mgr, "tcp://10.0.0.9:7001", net_client_fn, &s);
  for (int i = 0; i < 10 && s.errors == 0; i++) mg_mgr_poll(&n.mgr, 1000);
  cr_assert(s.errors == 1 && strstr(s.error, "ARP") != NULL, "%s", s.error);
}

Test(tcpip_tcp, a_syn_to_a_closed_port_is_reset_and_counted) {
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_clear_sent();
  peer_send(40000, 81, 777, 0, TCP_SYN, NULL);
  struct tcpip_tcp t;
  cr_assert(last_tcp(TCP_RST | TCP_ACK, &t), "RST");
  cr_assert(t.seg.seq == 0 && t.seg.ack == 778 && t.sport == mg_htons(81) && t.dport == mg_htons(40000));
  cr_assert_eq(n.ifp.counters.drop_no_port, 1);
  cr_assert_eq(n.ifp.counters.tcp_resets, 1);
  mock_eth_clear_sent();
  peer_send(40000, 81, 777, 0, TCP_RST, NULL);
  cr_assert_not(last_tcp(TCP_RST, &t), "a reset is never answered");
}

Test(tcpip_tcp, handshakes_beyond_the_backlog_are_dropped) {
  mg_listen(&n.mgr, "tcp://0.0.0.0:80", NULL, NULL);
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_clear_sent();
  for (uint16_t i = 0; i < MG_TCPIP_TCP_BACKLOG + 1; i++) peer_send((uint16_t) (41000 + i), 80, 1, 0, TCP_SYN, NULL);
  size_t synacks = 0;
  struct tcpip_tcp t;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) synacks += sent_tcp(i, &t) && t.seg.flags == (TCP_SYN | TCP_ACK);
  cr_assert_eq(synacks, MG_TCPIP_TCP_BACKLOG);
  cr_assert_eq(n.ifp.counters.drop_no_mem, 1);
  cr_assert_eq(tcbs(), MG_TCPIP_TCP_BACKLOG);
}

Test(tcpip_tcp, connections_beyond_the_limit_are_reset) {
  mg_listen(&n.mgr, "tcp://0.0.0.0:80", NULL, NULL);
  net_learn(&n, PEER_MAC, PEER_IP);
  for (uint16_t i = 0; i < MG_TCPIP_TCP_MAX; i++) peer_connect((uint16_t) (42000 + i), 80, 1);
  cr_assert_eq(tcbs(), MG_TCPIP_TCP_MAX);
  mock_eth_clear_sent();
  peer_send(43000, 80, 1, 0, TCP_SYN, NULL);
  struct tcpip_tcp t;
  cr_assert(last_tcp(TCP_RST | TCP_ACK, &t) && t.dport == mg_htons(43000) && t.seg.ack == 2);
  cr_assert_not(last_tcp(TCP_SYN, &t));
  cr_assert_eq(n.ifp.counters.drop_no_mem, 1);
  cr_assert_eq(tcbs(), MG_TCPIP_TCP_MAX);
}

Test(tcpip_tcp, no_memory_for_the_buffers_refuses_the_connection_cleanly) {
  mg_listen(&n.mgr, "tcp://0.0.0.0:80", NULL, NULL);
  net_learn(&n, PEER_MAC, PEER_IP);
  mock_eth_clear_sent();
  mg_alloc_fail_after(1);  // The connection's block is the first allocation a SYN makes
  peer_send(44000, 80, 1, 0, TCP_SYN, NULL);
  struct tcpip_tcp t;
  cr_assert(last_tcp(TCP_RST | TCP_ACK, &t) && t.seg.ack == 2);
  cr_assert_eq(tcbs(), 0);
  cr_assert_eq(n.ifp.counters.drop_no_mem, 1);
  peer_connect(44001, 80, 1);  // The next one is fine
  cr_assert_eq(tcbs(), 1);
}

Test(tcpip_tcp, a_reset_from_the_peer_closes_the_connection) {
  struct net_client s = {0};
  struct tcpip_tcp t = client_syn(&s, "tcp://10.0.0.9:7002");
  uint16_t port = mg_ntohs(t.sport);
  uint32_t iss = t.seg.seq;
  peer_send(7002, port, 9000, iss + 1, TCP_SYN | TCP_ACK, NULL);
  cr_assert_eq(s.connects, 1);
  peer_send(7002, port, 9001, 0, TCP_RST, NULL);
  cr_assert_eq(s.closes, 1);
  cr_assert_eq(s.errors, 0, "a reset closes without an error, as on sockets");
  cr_assert_eq(n.ifp.counters.tcp_resets, 1);
  cr_assert_eq(tcbs(), 0);
}

Test(tcpip_tcp, retransmissions_are_counted_and_the_wait_ends_at_the_timer) {
  struct net_client s = {0};
  struct tcpip_tcp t = client_syn(&s, "tcp://10.0.0.9:7003");
  uint64_t start = mock_eth_millis();
  mock_eth_clear_sent();
  mg_mgr_poll(&n.mgr, 5000);  // Sleeps until the SYN's timer (1 s), not 5 s
  cr_assert(mock_eth_millis() - start <= 1000, "slept %lu ms", (unsigned long) (mock_eth_millis() - start));
  net_poll(&n, 1);
  cr_assert(last_tcp(TCP_SYN, &t), "the SYN again");
  cr_assert_eq(n.ifp.counters.tcp_retransmits, 1);
}

// A request with "Connection: close": the server replies, shuts its side (FIN after the
// reply) and lingers; the peer's FIN ends it, and the connection waits in TIME_WAIT
static void serve_and_close(uint16_t sport) {
  uint32_t iss = peer_connect(sport, 80, 1000);
  mock_eth_clear_sent();
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  uint32_t fin = 1001 + (uint32_t) strlen(req);
  peer_send(sport, 80, 1001, iss + 1, TCP_ACK | TCP_PSH, req);
  char reply[2048];
  uint32_t len = (uint32_t) sent_stream(iss + 1, reply, sizeof(reply));
  cr_assert(strstr(reply, "hello from the stack\n") != NULL, "%s", reply);
  struct tcpip_tcp t;
  cr_assert(last_tcp(TCP_FIN | TCP_ACK, &t) && t.seg.seq == iss + 1 + len, "our FIN after the reply");
  mock_eth_clear_sent();
  peer_send(sport, 80, fin, iss + 2 + len, TCP_ACK | TCP_FIN, NULL);
  cr_assert(last_tcp(TCP_ACK, &t) && t.seg.ack == fin + 1, "the peer's FIN acknowledged");
}

Test(tcpip_tcp, a_server_that_closes_first_sends_its_fin_after_the_reply_then_waits_in_time_wait) {
  mg_http_listen(&n.mgr, "http://0.0.0.0:80", http_fn, NULL);
  net_learn(&n, PEER_MAC, PEER_IP);
  serve_and_close(45000);
  cr_assert_eq(tcbs(), 1, "TIME_WAIT");
  for (int i = 0; i < 10 && tcbs() > 0; i++) mg_mgr_poll(&n.mgr, 1000);
  cr_assert_eq(tcbs(), 0, "TIME_WAIT over");
  cr_assert_eq(n.ifp.counters.tcp_resets, 0);
}

Test(tcpip_tcp, at_the_limit_a_connection_in_time_wait_makes_room) {
  mg_http_listen(&n.mgr, "http://0.0.0.0:80", http_fn, NULL);
  net_learn(&n, PEER_MAC, PEER_IP);
  for (uint16_t i = 0; i < MG_TCPIP_TCP_MAX; i++) serve_and_close((uint16_t) (46000 + i));
  cr_assert_eq(tcbs(), MG_TCPIP_TCP_MAX);
  peer_connect(47000, 80, 1);
  cr_assert_eq(tcbs(), MG_TCPIP_TCP_MAX);
  cr_assert_eq(n.ifp.counters.drop_no_mem, 0);
}

// ---------------------------------------------------------------------------
// A driver that checksums and segments TCP itself (tx_tcp, tso_max): the stack hands it
// several MSS at once, within the windows; the pieces it cuts make the same stream

static uint8_t tso_tx[8000];  // ifp->tx: frames larger than Ethernet's in the tcpip build
static char big_body[20000];

static void big_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "%s", big_body);
  (void) ev_data;
}

static void reinit(size_t tso_max) {
  net_free(&n);
  mock_eth_reset();
  mock_eth_set_tso(tso_max);
  mg_mgr_init(&n.mgr);
  memset(&n.ifp, 0, sizeof(n.ifp));
  memcpy(n.ifp.mac, ME_MAC, 6);
  n.ifp.ip = ME_IP, n.ifp.mask = NET_MASK, n.ifp.gw = GW_IP;
  n.ifp.tx = mg_str_n((char *) tso_tx, sizeof(tso_tx));
  n.ifp.driver = &mock_eth_driver;
  mg_tcpip_init(&n.mgr, &n.ifp);
  net_learn(&n, PEER_MAC, PEER_IP);
  memset(big_body, 'b', sizeof(big_body) - 1);
  cr_assert_not_null(mg_http_listen(&n.mgr, "http://0.0.0.0:80", big_fn, NULL));
}

// The peer asks for the big body; what went before its first ACK is returned
static size_t big_request(uint32_t iss, char *buf, size_t size) {
  mock_eth_clear_sent();
  peer_send(40000, 80, 1001, iss + 1, TCP_ACK | TCP_PSH, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  return sent_stream(iss + 1, buf, size);
}

static size_t largest_sent_payload(void) {
  size_t max = 0;
  struct tcpip_tcp t;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    if (sent_tcp(i, &t) && t.seg.len > max) max = t.seg.len;
  }
  return max;
}

Test(tcpip_tcp, a_driver_that_segments_gets_several_mss_at_once_within_the_initial_window) {
  reinit(65549);
  uint32_t iss = peer_connect(40000, 80, 1000);
  static char got[sizeof(big_body) + 200];
  size_t len = big_request(iss, got, sizeof(got));
  cr_assert_eq(len, 4380, "RFC 5681's initial window for an MSS of 1460: %zu", len);
  cr_assert(strncmp(got, "HTTP/1.1 200", 12) == 0);
  cr_assert_gt(mock_eth_tso_largest(), 1514, "no frame larger than Ethernet's went to the driver");
  cr_assert_leq(mock_eth_tso_largest(), sizeof(tso_tx), "bounded by the frame buffer");
  cr_assert_eq(mock_eth_tso_mss(), 1460);
  cr_assert_leq(largest_sent_payload(), 1460, "the pieces on the wire are one MSS at most");
  // The peer acknowledges it all: cwnd grows, the rest follows, the stream intact
  peer_send(40000, 80, 1028, iss + 1 + 4380, TCP_ACK, NULL);
  for (int i = 0; i < 20; i++) {
    len = sent_stream(iss + 1, got, sizeof(got));
    peer_send(40000, 80, 1028, iss + 1 + (uint32_t) len, TCP_ACK, NULL);
  }
  len = sent_stream(iss + 1, got, sizeof(got));
  const char *body = strstr(got, "\r\n\r\n");
  cr_assert_not_null(body);
  cr_assert_eq(strlen(body + 4), sizeof(big_body) - 1, "the whole body: %zu", strlen(body + 4));
  cr_assert_eq(strspn(body + 4, "b"), sizeof(big_body) - 1);
  cr_assert_eq(n.ifp.counters.tcp_retransmits, 0);
}

Test(tcpip_tcp, a_driver_that_segments_is_bounded_by_a_small_tso_max) {
  reinit(3000);  // 3000 - 54 bytes of headers: one segment of 2 MSS at most
  uint32_t iss = peer_connect(40000, 80, 1000);
  static char got[sizeof(big_body) + 200];
  cr_assert_eq(big_request(iss, got, sizeof(got)), 4380);
  cr_assert_eq(mock_eth_tso_largest(), 54 + 2920);
}

Test(tcpip_tcp, without_the_capability_no_frame_is_larger_than_ethernets) {
  reinit(0);
  uint32_t iss = peer_connect(40000, 80, 1000);
  static char got[sizeof(big_body) + 200];
  cr_assert_eq(big_request(iss, got, sizeof(got)), 4380);
  cr_assert_eq(mock_eth_tso_frames(), 0);
  cr_assert_eq(largest_sent_payload(), 1460);
}

Test(tcpip_tcp, a_bad_checksum_is_dropped_unless_the_driver_vouches_for_the_frame) {
  cr_assert_not_null(mg_http_listen(&n.mgr, "http://0.0.0.0:80", http_fn, NULL));
  net_learn(&n, PEER_MAC, PEER_IP);
  static uint8_t f[1600];
  size_t len = frame_tcp(f, 40000, 80, 1000, 0, TCP_SYN, NULL);
  f[TCPIP_ETH_HDR + TCPIP_IP_HDR + 16] ^= 0x55;  // As a local sender leaves it: not filled in
  mock_eth_clear_sent();
  mock_eth_inject(f, len);
  net_poll(&n, 3);
  struct tcpip_tcp t;
  cr_assert_not(last_tcp(TCP_SYN | TCP_ACK, &t), "a bad checksum answered");
  cr_assert_eq(n.ifp.counters.drop_csum, 1);
  mock_eth_vouch(true);
  mock_eth_inject(f, len);
  net_poll(&n, 3);
  cr_assert(last_tcp(TCP_SYN | TCP_ACK, &t), "the vouched-for SYN answered");
  cr_assert_eq(n.ifp.counters.drop_csum, 1);
}
