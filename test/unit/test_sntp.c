// SNTP: the reply parser over bad and boundary packets (modes, versions, leap
// indicator, stratum, zero and pre-1970 times, NTP eras), and the client against a
// server on loopback that answers, forges, kisses or stays silent; the wall clock.
#include <criterion/criterion.h>
#include "meerkat.h"
#include "sntp_peer.h"

// ---- The parser ----

// A server reply: LI 0, version 4, mode 4, stratum 2, transmit time ntp_secs.frac
static void sntp_reply(unsigned char *r, uint32_t ntp_secs, uint32_t frac) {
  memset(r, 0, 48);
  r[0] = 0x24, r[1] = 2;
  sntp_peer_put32(r + 32, ntp_secs);
  sntp_peer_put32(r + 40, ntp_secs);
  sntp_peer_put32(r + 44, frac);
}

static const uint32_t ntp_2025 = (uint32_t) (SNTP_PEER_2025 + SNTP_PEER_UNIX_TO_NTP);

Test(sntp_parse, reads_the_transmit_time_in_unix_milliseconds) {
  unsigned char r[48];
  sntp_reply(r, ntp_2025, 0x80000000U);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) SNTP_PEER_2025 * 1000 + 500);
  sntp_reply(r, ntp_2025, 0xffffffffU);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) SNTP_PEER_2025 * 1000 + 999, "fractions round down");
  sntp_reply(r, ntp_2025, 0);
  memset(r + 32, 0, 8);  // No receive time: the transmit time is what counts
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) SNTP_PEER_2025 * 1000);
}

Test(sntp_parse, refuses_short_and_empty_input) {
  unsigned char r[48];
  sntp_reply(r, ntp_2025, 0);
  cr_assert_eq(mg_sntp_parse(r, 47), -1);
  cr_assert_eq(mg_sntp_parse(r, 0), -1);
  cr_assert_eq(mg_sntp_parse(NULL, 0), -1);
  cr_assert_eq(mg_sntp_parse(NULL, 48), -1);
}

Test(sntp_parse, takes_extension_fields_and_a_mac_after_the_header) {
  unsigned char r[68];
  memset(r, 0xab, sizeof(r));
  sntp_reply(r, ntp_2025, 0);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) SNTP_PEER_2025 * 1000);
}

Test(sntp_parse, takes_only_server_mode) {
  unsigned char r[48];
  for (unsigned mode = 0; mode < 8; mode++) {
    sntp_reply(r, ntp_2025, 0);
    r[0] = (unsigned char) ((r[0] & ~7U) | mode);
    if (mode == 4) cr_assert_neq(mg_sntp_parse(r, sizeof(r)), -1);
    else cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "mode %u (5 is broadcast, not an answer)", mode);
  }
}

Test(sntp_parse, takes_versions_3_and_4) {
  unsigned char r[48];
  for (unsigned v = 0; v < 8; v++) {
    sntp_reply(r, ntp_2025, 0);
    r[0] = (unsigned char) ((r[0] & ~0x38U) | v << 3);
    if (v == 3 || v == 4) cr_assert_neq(mg_sntp_parse(r, sizeof(r)), -1, "version %u", v);
    else cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "version %u", v);
  }
}

Test(sntp_parse, refuses_an_unsynchronised_server) {
  unsigned char r[48];
  for (unsigned li = 0; li < 4; li++) {
    sntp_reply(r, ntp_2025, 0);
    r[0] = (unsigned char) ((r[0] & 0x3f) | li << 6);
    if (li == 3) cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "leap indicator 3: clock not synchronised");
    else cr_assert_neq(mg_sntp_parse(r, sizeof(r)), -1, "leap indicator %u: a leap second warning only", li);
  }
}

Test(sntp_parse, refuses_kiss_of_death_and_strata_above_15) {
  unsigned char r[48];
  sntp_reply(r, ntp_2025, 0);
  r[1] = 0;
  memcpy(r + 12, "RATE", 4);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "stratum 0 is a kiss-of-death, whatever the times say");
  r[1] = 1;
  cr_assert_neq(mg_sntp_parse(r, sizeof(r)), -1);
  r[1] = 15;
  cr_assert_neq(mg_sntp_parse(r, sizeof(r)), -1);
  r[1] = 16;
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "stratum 16 is unsynchronised (RFC 5905)");
  r[1] = 255;
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1);
}

Test(sntp_parse, refuses_a_zero_transmit_time) {
  unsigned char r[48];
  sntp_reply(r, 0, 0);
  sntp_peer_put32(r + 32, ntp_2025);  // A receive time does not make up for it
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1);
}

Test(sntp_parse, reads_both_ntp_eras) {
  unsigned char r[48];
  // Era 0 ends at 2036-02-07T06:28:15Z, Unix 2085978495
  sntp_reply(r, 0xffffffffU, 0);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) 2085978495 * 1000);
  // Seconds 0 with a fraction is era 1's first second, not "no time"
  sntp_reply(r, 0, 0x40000000U);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) 2085978496 * 1000 + 250);
  // Era 1 reaches 2104 while the top bit is clear (RFC 4330 section 3)
  sntp_reply(r, 0x7fffffffU, 0);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), ((int64_t) 0x17fffffffLL - 2208988800LL) * 1000);
  // 1970-01-01 itself, and the second before it (era 0 from 1968: refused)
  sntp_reply(r, (uint32_t) SNTP_PEER_UNIX_TO_NTP, 0);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), 0);
  sntp_reply(r, (uint32_t) SNTP_PEER_UNIX_TO_NTP - 1, 0xffffffffU);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1);
  sntp_reply(r, 0x80000000U, 0);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1);
}

// ---- The client, against a server on loopback ----

// One exchange: a manager, the server in the given mode, and a client of it
struct sntp_run {
  struct mg_mgr mgr;
  struct sntp_peer peer;
  struct sntp_seen seen;
  char url[64];
  uint64_t start;  // mg_millis() before mg_sntp_connect
};

static void sntp_run_init(struct sntp_run *r, enum sntp_peer_mode mode) {
  memset(r, 0, sizeof(*r));
  mg_mgr_init(&r->mgr);
  cr_assert(sntp_peer_start(&r->mgr, &r->peer, mode, r->url, sizeof(r->url)));
}

// Connects, then polls until the client has closed by itself
static void sntp_run_exchange(struct sntp_run *r) {
  r->start = mg_millis();
  cr_assert_not_null(mg_sntp_connect(&r->mgr, r->url, sntp_seen_fn, &r->seen));
  uint64_t give_up = mg_millis() + 10000;
  while (!r->seen.closed && mg_millis() < give_up) mg_mgr_poll(&r->mgr, 20);
  cr_assert(r->seen.closed, "the SNTP connection ends by itself");
}

Test(sntp_client, sets_the_clock_from_the_answer_and_closes) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_ANSWER);
  cr_assert_eq(mg_boot_timestamp_ms, 0);
  sntp_run_exchange(&r);
  cr_assert_eq(r.peer.requests, 1);
  cr_assert_eq(r.peer.last_len, 48);
  cr_assert_eq(r.peer.last[0], 0x23, "LI 0, version 4, mode 3 (client)");
  cr_assert_eq(r.seen.times, 1);
  cr_assert_eq(r.seen.errors, 0, "%s", r.seen.error);
  uint64_t want = sntp_peer_answer_ms(&r.peer), waited = r.seen.millis_then - r.start;
  // The server's time plus half the round trip, which took no longer than the wait
  cr_assert(r.seen.ms >= want && r.seen.ms <= want + waited, "%llu not in %llu + [0, %llu]",
            (unsigned long long) r.seen.ms, (unsigned long long) want, (unsigned long long) waited);
  cr_assert_neq(mg_boot_timestamp_ms, 0);
  cr_assert(r.seen.now_then >= r.seen.ms && r.seen.now_then - r.seen.ms <= waited, "mg_now() is set before the event");
  cr_assert(mg_now() >= r.seen.ms);
  mg_mgr_free(&r.mgr);
}

// RFC 4330 section 5: the time at arrival is the server's transmit time plus half of
// the round trip less the time the server held the request. The answer leaves 400 ms
// after the request, 250 ms of which the server says it held it: at least 75 ms on top.
Test(sntp_client, adds_half_the_network_round_trip) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_SLOW);
  r.peer.rx_frac = 0x40000000U;  // Received at .250, sent at .500
  sntp_run_exchange(&r);
  cr_assert_eq(r.seen.times, 1, "%s", r.seen.error);
  uint64_t want = sntp_peer_answer_ms(&r.peer), waited = r.seen.millis_then - r.start;
  cr_assert(waited >= 400);
  cr_assert(r.seen.ms >= want + (400 - 250) / 2 && r.seen.ms <= want + (waited - 250) / 2,
            "%llu not in %llu + [75, %llu]", (unsigned long long) r.seen.ms, (unsigned long long) want,
            (unsigned long long) (waited - 250) / 2);
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, ignores_an_answer_that_does_not_echo_the_request) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_FORGED_FIRST);
  sntp_run_exchange(&r);
  cr_assert_eq(r.seen.times, 1, "only the answer with our origin counts");
  cr_assert(r.seen.ms >= sntp_peer_answer_ms(&r.peer), "the forged answer (a year earlier) was not taken");
  cr_assert(mg_now() >= sntp_peer_answer_ms(&r.peer));
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, ignores_a_kiss_of_death_that_does_not_echo_the_request) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_FORGED_KISS_FIRST);
  sntp_run_exchange(&r);
  cr_assert_eq(r.seen.errors, 0, "an off-path kiss cannot end the exchange: %s", r.seen.error);
  cr_assert_eq(r.seen.times, 1);
  cr_assert(r.seen.ms >= sntp_peer_answer_ms(&r.peer));
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, stops_on_a_kiss_of_death_and_keeps_the_clock) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_KISS);
  sntp_run_exchange(&r);
  cr_assert_eq(r.seen.times, 0);
  cr_assert_eq(r.seen.errors, 1);
  cr_assert_str_eq(r.seen.error, "SNTP kiss of death RATE");
  cr_assert_eq(mg_boot_timestamp_ms, 0);
  cr_assert_eq(r.peer.requests, 1, "RFC 4330 section 8: no more requests to a server that said so");
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, stops_when_the_server_is_not_synchronised) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_ANSWER);
  r.peer.leap = 3;
  sntp_run_exchange(&r);
  cr_assert_eq(r.seen.times, 0);
  cr_assert_str_eq(r.seen.error, "SNTP server not synchronised");
  cr_assert_eq(mg_boot_timestamp_ms, 0);
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, sends_one_request_at_a_time_then_times_out) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_SILENT);
  struct mg_connection *c = mg_sntp_connect(&r.mgr, r.url, sntp_seen_fn, &r.seen);
  cr_assert_not_null(c);
  for (int i = 0; i < 5 && r.peer.requests == 0; i++) mg_mgr_poll(&r.mgr, 20);
  cr_assert_eq(r.peer.requests, 1);
  mg_sntp_request(c);
  mg_sntp_request(c);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&r.mgr, 5);
  cr_assert_eq(r.peer.requests, 1, "a request waiting for its answer is not repeated");
  uint64_t give_up = mg_millis() + 10000;
  while (!r.seen.closed && mg_millis() < give_up) mg_mgr_poll(&r.mgr, 20);
  cr_assert_eq(r.seen.errors, 1);
  cr_assert_str_eq(r.seen.error, "SNTP timeout");
  cr_assert_eq(r.seen.times, 0);
  cr_assert_eq(mg_boot_timestamp_ms, 0);
  mg_mgr_free(&r.mgr);
}

Test(sntp_client, works_without_a_handler) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_ANSWER);
  cr_assert_not_null(mg_sntp_connect(&r.mgr, r.url, NULL, NULL));
  uint64_t give_up = mg_millis() + 10000;
  while (mg_boot_timestamp_ms == 0 && mg_millis() < give_up) mg_mgr_poll(&r.mgr, 20);
  cr_assert(mg_now() >= sntp_peer_answer_ms(&r.peer));
  for (int i = 0; i < 3; i++) mg_mgr_poll(&r.mgr, 0);
  cr_assert_eq(r.mgr.conns, r.peer.lsn, "the client closed; only the server is left");
  cr_assert_null(r.peer.lsn->next);
  mg_mgr_free(&r.mgr);
}

// A nameserver on loopback that notes the question and never answers
static void sntp_dns_fn(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev != MG_EV_READ) return;
  mg_iobuf_add((struct mg_iobuf *) c->fn_data, 0, c->recv.buf, c->recv.len);
  c->recv.len = 0;
}

Test(sntp_client, defaults_to_time_google_com_port_123) {
  struct mg_mgr mgr;
  struct mg_iobuf query = {0};
  char dns_url[64];
  mg_mgr_init(&mgr);
  struct mg_connection *dns = mg_listen(&mgr, "udp://127.0.0.1:0", sntp_dns_fn, &query);
  cr_assert_not_null(dns);
  mg_snprintf(dns_url, sizeof(dns_url), "udp://127.0.0.1:%u", (unsigned) mg_ntohs(dns->loc.port));
  mgr.dns4.url = dns_url;
  struct mg_connection *c = mg_sntp_connect(&mgr, NULL, NULL, NULL);
  cr_assert_not_null(c);
  cr_assert_eq(c->rem.port, mg_htons(123));
  for (int i = 0; i < 20 && query.len == 0; i++) mg_mgr_poll(&mgr, 20);
  static const char name[] = "\4time\6google\3com";
  cr_assert(query.len > 12 + sizeof(name) && memcmp(query.buf + 12, name, sizeof(name)) == 0,
            "the resolver was asked for time.google.com");
  mg_mgr_free(&mgr);
  mg_iobuf_free(&query);
}

Test(sntp_client, port_123_unless_the_url_says_otherwise) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_sntp_connect(&mgr, "udp://127.0.0.1", NULL, NULL);
  cr_assert_not_null(c);
  cr_assert_eq(c->rem.port, mg_htons(123));
  c = mg_sntp_connect(&mgr, "udp://127.0.0.1:1234", NULL, NULL);
  cr_assert_not_null(c);
  cr_assert_eq(c->rem.port, mg_htons(1234));
  mg_mgr_free(&mgr);
}

Test(sntp_client, refuses_urls_that_are_not_udp) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  cr_assert_null(mg_sntp_connect(&mgr, "tcp://127.0.0.1:123", NULL, NULL));
  cr_assert_null(mg_sntp_connect(&mgr, "http://127.0.0.1:123", NULL, NULL));
  cr_assert_null(mg_sntp_connect(&mgr, "127.0.0.1:123", NULL, NULL));
  cr_assert_null(mgr.conns, "nothing was left open");
  mg_mgr_free(&mgr);
}

Test(sntp_client, request_on_another_kind_of_connection_sends_nothing) {
  struct sntp_run r;
  sntp_run_init(&r, SNTP_PEER_ANSWER);
  struct mg_connection *c = mg_connect(&r.mgr, r.url, NULL, NULL);
  cr_assert_not_null(c);
  mg_sntp_request(c);
  mg_sntp_request(NULL);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&r.mgr, 5);
  cr_assert_eq(r.peer.requests, 0);
  mg_mgr_free(&r.mgr);
}

// ---- The wall clock ----

Test(sntp_clock, now_is_uptime_until_set_then_offset_by_the_boot_timestamp) {
  cr_assert_eq(mg_boot_timestamp_ms, 0);
  uint64_t a = mg_millis(), n = mg_now(), b = mg_millis();
  cr_assert(a <= n && n <= b);
  mg_boot_timestamp_ms = (uint64_t) SNTP_PEER_2025 * 1000;
  a = mg_millis(), n = mg_now(), b = mg_millis();
  cr_assert(a + mg_boot_timestamp_ms <= n && n <= b + mg_boot_timestamp_ms);
}
