// Mongoose 7 compatibility of URLs, listening addresses, DNS parsing and UDP,
// built against dist/mongoose.h and dist/meerkat.c alone, with loopback peers.
#include <criterion/criterion.h>
#include "mongoose.h"

static bool net_str_is(struct mg_str s, const char *want) {
  return s.len == strlen(want) && memcmp(s.buf, want, s.len) == 0;
}

// ---- URLs ----

Test(compat_net, url_accessors_as_documented) {
  cr_assert(net_str_is(mg_url_host("https://my.example.org:1234"), "my.example.org"));
  cr_assert(net_str_is(mg_url_host("tcp://[::1]"), "[::1]"), "IPv6 hosts keep their brackets");
  cr_assert(net_str_is(mg_url_host("http://[::1]:8080/x"), "[::1]"));
  cr_assert_eq(mg_url_port("http://[::1]:8080/x"), 8080);
  cr_assert_eq(mg_url_port("https://myhost.com"), 443);
  cr_assert_eq(mg_url_port("127.0.0.1:567"), 567);
  cr_assert(mg_url_is_ssl("https://example.org"));
  cr_assert_not(mg_url_is_ssl("http://example.org"));
  cr_assert(net_str_is(mg_url_user("https://user:pass@my.example.org"), "user"));
  cr_assert(net_str_is(mg_url_pass("https://user:pass@my.example.org"), "pass"));
  cr_assert_str_eq(mg_url_uri("http://host:80/a/b?c"), "/a/b?c");
  cr_assert_str_eq(mg_url_uri("http://host"), "/");
}

Test(compat_net, url_is_ssl_is_a_bool_and_knows_tcps) {
  bool (*is_ssl)(const char *) = mg_url_is_ssl;  // 7.22's prototype
  cr_assert(is_ssl("tcps://127.0.0.1:8443"));
  cr_assert(is_ssl("mqtts://broker:8883"));
  cr_assert_not(is_ssl("tcp://127.0.0.1:8443"));
}

Test(compat_net, url_without_scheme_or_host) {
  cr_assert(net_str_is(mg_url_host("//host"), "host"));
  cr_assert(net_str_is(mg_url_host("//host:99/p"), "host"));
  cr_assert_eq(mg_url_port("//host:99/p"), 99);
  cr_assert_eq(mg_url_port(":1234"), 1234);
  cr_assert_eq(mg_url_host(":1234").len, 0);
  cr_assert_eq(mg_url_port("http://:8000"), 8000);
  cr_assert_eq(mg_url_host("http://:8000").len, 0);
}

Test(compat_net, aton_knows_localhost) {
  struct mg_addr a;
  memset(&a, 0xff, sizeof(a));
  cr_assert(mg_aton(mg_str("localhost"), &a));
  cr_assert_not(a.is_ip6);
  cr_assert_eq(a.addr.ip4, mg_htonl(0x7f000001));
  memset(&a, 0, sizeof(a));
  cr_assert(mg_aton(mg_str("LocalHost"), &a), "host names are case-insensitive");
  cr_assert_eq(a.addr.ip4, mg_htonl(0x7f000001));
}

// ---- Listening: an HTTP server on a URL, and a client of it in the same manager ----

struct net_http {
  int status;  // Of the client's response, 0 until one arrives
  bool closed;
};

static void net_server(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    (void) ev_data;
    mg_http_reply(c, 200, "", "hello");
  }
}

static void net_client(struct mg_connection *c, int ev, void *ev_data) {
  struct net_http *h = (struct net_http *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_printf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    h->status = mg_http_status(hm);
    c->is_closing = 1;
  } else if (ev == MG_EV_CLOSE) {
    h->closed = true;
  }
}

// Listens on url (port 0 for any free one), asks it for "/" at 127.0.0.1 and returns
// the listener's local address through *loc
static int net_get_via(const char *url, struct mg_addr *loc) {
  struct mg_mgr mgr;
  struct net_http h = {0, false};
  char to[64];
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, url, net_server, NULL);
  cr_assert_not_null(l, "cannot listen on %s", url);
  *loc = l->loc;
  mg_snprintf(to, sizeof(to), "http://127.0.0.1:%hu", mg_ntohs(l->loc.port));
  cr_assert_not_null(mg_http_connect(&mgr, to, net_client, &h));
  for (int i = 0; i < 200 && !h.closed; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  return h.status;
}

Test(compat_net, listen_on_port_only_means_all_addresses) {
  static const char *const urls[] = {":0", "http://:0"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    struct mg_addr loc;
    cr_assert_eq(net_get_via(urls[i], &loc), 200, "%s", urls[i]);
    cr_assert_not(loc.is_ip6);
    cr_assert_eq(loc.addr.ip4, 0, "%s listens on 0.0.0.0", urls[i]);
    cr_assert_neq(loc.port, 0);
  }
}

Test(compat_net, listen_on_localhost_in_any_case) {
  struct mg_addr loc;
  cr_assert_eq(net_get_via("http://LOCALHOST:0", &loc), 200);
  cr_assert_eq(loc.addr.ip4, mg_htonl(0x7f000001));
}

// ---- DNS ----

// Response to "www.example.com" A: a CNAME to "example.net", then the A record of
// "example.net" whose owner name is a pointer to the CNAME's data
static const uint8_t net_cname_response[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 13,
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
    0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
};

Test(compat_net, dns_message_name_is_the_answers) {
  struct mg_dns_message dm;
  cr_assert(mg_dns_parse(net_cname_response, sizeof(net_cname_response), &dm));
  cr_assert_eq(dm.txnid, 0x1234);
  cr_assert(dm.resolved);
  cr_assert_eq(dm.addr.addr.ip4, mg_htonl(0x0a000007));
  cr_assert_str_eq(dm.name, "example.net");
}

// net_cname_response with the A record's owner (at 58) a pointer to offset to
static bool net_parse_with_owner_at(uint8_t to, struct mg_dns_message *dm) {
  uint8_t pkt[sizeof(net_cname_response)];
  memcpy(pkt, net_cname_response, sizeof(pkt));
  pkt[59] = to;
  return mg_dns_parse(pkt, sizeof(pkt), dm);
}

Test(compat_net, dns_self_pointer_is_an_empty_name_not_a_failure) {
  struct mg_dns_message dm;
  cr_assert(net_parse_with_owner_at(58, &dm), "7.22 survives a self-pointer");
  cr_assert(dm.resolved);
  cr_assert_eq(dm.addr.addr.ip4, mg_htonl(0x0a000007));
  cr_assert_str_eq(dm.name, "");
}

Test(compat_net, dns_pointer_chains_reach_the_final_name) {
  struct mg_dns_message dm;
  // A chain: the owner points at the CNAME's owner (58 -> 33), itself a pointer
  // to the question's name (33 -> 12), an earlier name
  cr_assert(net_parse_with_owner_at(33, &dm));
  cr_assert(dm.resolved);
  cr_assert_str_eq(dm.name, "www.example.com");
  // A pointer into the middle of an earlier name: "com" of the question
  cr_assert(net_parse_with_owner_at(24, &dm));
  cr_assert_str_eq(dm.name, "com");
}

// An mDNS query (id 0, no flags) for "meerkat.local" A, QU bit set, no answers
static const uint8_t net_mdns_query[] = {
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
    7, 'm', 'e', 'e', 'r', 'k', 'a', 't', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0x80, 1,
};

Test(compat_net, dns_query_parses_to_its_question_name) {
  struct mg_dns_message dm;
  memset(&dm, 0x55, sizeof(dm));
  cr_assert(mg_dns_parse(net_mdns_query, sizeof(net_mdns_query), &dm));
  cr_assert_eq(dm.txnid, 0);
  cr_assert_not(dm.resolved);
  cr_assert_str_eq(dm.name, "meerkat.local");
}

Test(compat_net, dns_messages_over_512_bytes_are_refused) {
  uint8_t pkt[513];
  struct mg_dns_message dm;
  memset(pkt, 0, sizeof(pkt));  // Trailing bytes no section claims
  memcpy(pkt, net_cname_response, sizeof(net_cname_response));
  cr_assert(mg_dns_parse(pkt, 512, &dm));
  cr_assert_not(mg_dns_parse(pkt, 513, &dm));
}

// ---- DNS lookup failures reach MG_EV_ERROR with 7.22's words ----

static void net_error_handler(struct mg_connection *c, int ev, void *ev_data) {
  char *error = (char *) c->fn_data;
  if (ev == MG_EV_ERROR && error[0] == '\0') mg_snprintf(error, 100, "%s", (char *) ev_data);
}

// Connects to a name that needs a nameserver, with mgr.dns4.url = ns, and returns
// the error the connection got
static void net_lookup_error(const char *ns, int dnstimeout, char *error) {
  struct mg_mgr mgr;
  error[0] = '\0';
  mg_mgr_init(&mgr);
  mgr.dns4.url = ns;
  mgr.dnstimeout = dnstimeout;
  mg_connect(&mgr, "tcp://lookup.meerkat.test:80", net_error_handler, error);
  for (int i = 0; i < 500 && error[0] == '\0'; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
}

Test(compat_net, dns_no_answer_in_time_is_dns_timeout) {
  char error[100], ns[64];
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);  // A nameserver that never answers: a UDP listener that reads nothing
  struct mg_connection *silent = mg_listen(&mgr, "udp://127.0.0.1:0", NULL, NULL);
  cr_assert_not_null(silent);
  mg_snprintf(ns, sizeof(ns), "udp://127.0.0.1:%hu", mg_ntohs(silent->loc.port));
  net_lookup_error(ns, 50, error);
  mg_mgr_free(&mgr);
  cr_assert_str_eq(error, "DNS timeout");
}

Test(compat_net, dns_without_a_nameserver_is_resolver) {
  char error[100];
  net_lookup_error("", 50, error);
  cr_assert_str_eq(error, "resolver");
}

Test(compat_net, dns_unusable_nameserver_url_is_dns_error) {
  static const char *const urls[] = {"udp://ns.invalid:53", "tcp://127.0.0.1:53", "nonsense:://"};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    char error[100];
    net_lookup_error(urls[i], 50, error);
    cr_assert_str_eq(error, "DNS error", "%s", urls[i]);
  }
}

// ---- UDP: MG_EV_WRITE after a datagram goes out ----

struct net_udp {
  int writes;        // MG_EV_WRITE seen by the client
  long written;      // Bytes they reported
  size_t received;   // Bytes the listener read
};

static void net_udp_server(struct mg_connection *c, int ev, void *ev_data) {
  struct net_udp *u = (struct net_udp *) c->fn_data;
  (void) ev_data;
  if (ev == MG_EV_READ) {
    u->received += c->recv.len;
    c->recv.len = 0;
  }
}

static void net_udp_client(struct mg_connection *c, int ev, void *ev_data) {
  struct net_udp *u = (struct net_udp *) c->fn_data;
  if (ev == MG_EV_WRITE) {
    u->writes++;
    u->written += *(long *) ev_data;
  }
}

Test(compat_net, udp_send_raises_write) {
  struct mg_mgr mgr;
  struct net_udp u = {0, 0, 0};
  char to[64];
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "udp://127.0.0.1:0", net_udp_server, &u);
  cr_assert_not_null(l);
  mg_snprintf(to, sizeof(to), "udp://127.0.0.1:%hu", mg_ntohs(l->loc.port));
  struct mg_connection *c = mg_connect(&mgr, to, net_udp_client, &u);
  cr_assert_not_null(c);
  cr_assert(mg_send(c, "datagram", 8));
  for (int i = 0; i < 100 && (u.writes == 0 || u.received == 0); i++) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(u.received, 8, "the listener got the datagram");
  cr_assert_eq(u.writes, 1, "one MG_EV_WRITE for one datagram");
  cr_assert_eq(u.written, 8);
  cr_assert_eq(c->send.len, 0);
  mg_mgr_free(&mgr);
}

// ---- mg_wakeup's edges ----

Test(compat_net, wakeup_refuses_id_0_and_an_uninitialised_manager) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  cr_assert_not(mg_wakeup(&mgr, 1, "x", 1), "no mg_wakeup_init yet");
  cr_assert(mg_wakeup_init(&mgr));
  cr_assert_not(mg_wakeup(&mgr, 0, "x", 1), "no connection has id 0");
  cr_assert(mg_wakeup(&mgr, 1, "x", 1));
  mg_mgr_free(&mgr);
}
