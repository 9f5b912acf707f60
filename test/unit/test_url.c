// mg_url_parse and its accessors: slices, default and explicit ports, IPv6
// literals, userinfo, and the malformed inputs that must be refused.
#include <criterion/criterion.h>
#include "meerkat.h"

struct url_case {
  const char *url;
  const char *scheme, *user, *pass, *host, *uri;
  unsigned short port;
  bool has_port;
};

static const struct url_case good_urls[] = {
    {"http://example.com", "http", "", "", "example.com", "", 80, false},
    {"http://example.com/", "http", "", "", "example.com", "/", 80, false},
    {"https://example.com:8443/a/b?x=1#frag", "https", "", "", "example.com", "/a/b?x=1#frag", 8443, true},
    {"ws://h/ws", "ws", "", "", "h", "/ws", 80, false},
    {"wss://h", "wss", "", "", "h", "", 443, false},
    {"mqtt://broker", "mqtt", "", "", "broker", "", 1883, false},
    {"mqtts://broker", "mqtts", "", "", "broker", "", 8883, false},
    {"HTTPS://Example.COM", "HTTPS", "", "", "Example.COM", "", 443, false},
    {"udp://8.8.8.8:53", "udp", "", "", "8.8.8.8", "", 53, true},
    {"tcp://0.0.0.0:1234", "tcp", "", "", "0.0.0.0", "", 1234, true},
    {"tcp://host", "tcp", "", "", "host", "", 0, false},
    {"tcp://127.0.0.1:0", "tcp", "", "", "127.0.0.1", "", 0, true},
    {"http://h:65535", "http", "", "", "h", "", 65535, true},
    {"http://h:00080", "http", "", "", "h", "", 80, true},
    {"http://user:pass@host:81/p", "http", "user", "pass", "host", "/p", 81, true},
    {"http://user@host", "http", "user", "", "host", "", 80, false},
    {"http://:secret@host", "http", "", "secret", "host", "", 80, false},
    {"http://u:p:q@host", "http", "u", "p:q", "host", "", 80, false},
    {"http://@host", "http", "", "", "host", "", 80, false},
    {"http://[::1]", "http", "", "", "::1", "", 80, false},
    {"http://[::1]:8080/x", "http", "", "", "::1", "/x", 8080, true},
    {"udp://[fe80::1%2]:5353", "udp", "", "", "fe80::1%2", "", 5353, true},
    {"http://[::ffff:1.2.3.4]/", "http", "", "", "::ffff:1.2.3.4", "/", 80, false},
    {"http://u:p@[2001:db8::1]:1/", "http", "u", "p", "2001:db8::1", "/", 1, true},
    {"http://host?q=1", "http", "", "", "host", "?q=1", 80, false},
    {"http://host#top", "http", "", "", "host", "#top", 80, false},
    {"http://host/a@b:c", "http", "", "", "host", "/a@b:c", 80, false},
    {"http://host/r?to=http://other/", "http", "", "", "host", "/r?to=http://other/", 80, false},
    {"svn+ssh://h", "svn+ssh", "", "", "h", "", 0, false},
    {"x-my.proto://h", "x-my.proto", "", "", "h", "", 0, false},
    {"example.com", "", "", "", "example.com", "", 0, false},
    {"example.com:8080/path", "", "", "", "example.com", "/path", 8080, true},
    {"localhost/x?y", "", "", "", "localhost", "/x?y", 0, false},
    {"[::1]:53", "", "", "", "::1", "", 53, true},
    {"h/with//double", "", "", "", "h", "/with//double", 0, false},
    // Port only (mg_listen: any address), and network-path references, as Mongoose takes them
    {"http://:80", "http", "", "", "", "", 80, true},
    {":8000", "", "", "", "", "", 8000, true},
    {"//host/path", "", "", "", "host", "/path", 0, false},
    {"//u@h:1", "", "u", "", "h", "", 1, true},
};

static void url_check(const struct url_case *c, const struct mg_url *u) {
  cr_assert(mg_str_eq(u->scheme, c->scheme), "%s: scheme '%.*s'", c->url, (int) u->scheme.len, u->scheme.buf);
  cr_assert(mg_str_eq(u->user, c->user), "%s: user '%.*s'", c->url, (int) u->user.len, u->user.buf);
  cr_assert(mg_str_eq(u->pass, c->pass), "%s: pass '%.*s'", c->url, (int) u->pass.len, u->pass.buf);
  cr_assert(mg_str_eq(u->host, c->host), "%s: host '%.*s'", c->url, (int) u->host.len, u->host.buf);
  cr_assert(mg_str_eq(u->uri, c->uri), "%s: uri '%.*s'", c->url, (int) u->uri.len, u->uri.buf);
  cr_assert_eq(u->port, c->port, "%s: port %u", c->url, u->port);
  cr_assert_eq(u->has_port, c->has_port, "%s: has_port", c->url);
}

Test(url, parses_good_urls_into_slices) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(good_urls); i++) {
    struct mg_url u;
    cr_assert(mg_url_parse(mg_str(good_urls[i].url), &u), "rejected %s", good_urls[i].url);
    url_check(&good_urls[i], &u);
  }
}

Test(url, slices_point_into_the_input) {
  const char *s = "http://u:p@h:1/x";
  struct mg_url u;
  cr_assert(mg_url_parse(mg_str(s), &u));
  cr_assert_eq(u.scheme.buf, s);
  cr_assert_eq(u.user.buf, s + 7);
  cr_assert_eq(u.pass.buf, s + 9);
  cr_assert_eq(u.host.buf, s + 11);
  cr_assert_eq(u.uri.buf, s + 14);
}

Test(url, respects_the_slice_length_not_the_nul) {
  struct mg_url u;
  cr_assert(mg_url_parse(mg_str_n("http://host:80/path", 16), &u));  // "http://host:80/p"
  cr_assert(mg_str_eq(u.host, "host"));
  cr_assert(mg_str_eq(u.uri, "/p"));
  cr_assert(mg_url_parse(mg_str_n("http://host:8080", 13), &u));  // "http://host:8"
  cr_assert_eq(u.port, 8);
  cr_assert_not(mg_url_parse(mg_str_n("http://host:8080", 12), &u));  // "http://host:"
}

static const char *const bad_urls[] = {
    "",
    "http://",
    "http:///path",
    "http://?q",
    "://host",
    "1http://host",
    "ht_tp://host",
    "+x://host",
    "http://host:",
    "http://host:0x50",
    "http://host:abc",
    "http://host:65536",
    "http://host:100000",
    "http://host:-1",
    "http://host:+80",
    "http://host: 80",
    "http://host:80:81",
    "http://[::1",
    "http://[::1]x",
    "http://[::1]80",
    "http://[::1]x:80",
    "http://[::1]:",
    "http://[]",
    "http://[1.2.3.4]",
    "http://[::1%]",
    "http://[::g]",
    "http://::1/",
    "http://ho[st",
    "http://ho]st",
    "http://a@b@host",
    "http://us[er@host",
    "http://ho\\st/",
    "http://ho st/",
    "http://host/pa th",
    "http://host/\r\nX: y",
    "http://host/\x7f",
    "http://host\t",
    " http://host",
    "host:",
    "http:",
    "mailto:x",
    "//",
    "///path",
    ":",
    "//:",
    "/just/a/path",
};

Test(url, refuses_malformed_urls_and_zeroes_the_result) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad_urls); i++) {
    struct mg_url u;
    memset(&u, 0xa5, sizeof(u));
    cr_assert_not(mg_url_parse(mg_str(bad_urls[i]), &u), "accepted '%s'", bad_urls[i]);
    cr_assert_eq(u.host.len, 0, "%s", bad_urls[i]);
    cr_assert_eq(u.port, 0, "%s", bad_urls[i]);
    cr_assert_eq(u.has_port, false, "%s", bad_urls[i]);
  }
}

Test(url, refuses_embedded_nul_and_null_input) {
  struct mg_url u;
  cr_assert_not(mg_url_parse(mg_str_n("http://ho\0st", 12), &u));
  cr_assert_not(mg_url_parse(mg_str_n(NULL, 0), &u));
  cr_assert_not(mg_url_parse(mg_str_n(NULL, 5), &u));
  cr_assert(mg_url_parse(mg_str("http://h"), NULL));  // Validation only
}

Test(url, port_accessor_gives_explicit_then_default_then_zero) {
  cr_assert_eq(mg_url_port("http://h"), 80);
  cr_assert_eq(mg_url_port("https://h"), 443);
  cr_assert_eq(mg_url_port("ws://h"), 80);
  cr_assert_eq(mg_url_port("wss://h"), 443);
  cr_assert_eq(mg_url_port("mqtt://h"), 1883);
  cr_assert_eq(mg_url_port("mqtts://h"), 8883);
  cr_assert_eq(mg_url_port("Http://h"), 80);
  cr_assert_eq(mg_url_port("udp://h"), 0);
  cr_assert_eq(mg_url_port("tcp://h"), 0);
  cr_assert_eq(mg_url_port("https://h:1"), 1);
  cr_assert_eq(mg_url_port("h:22"), 22);
  cr_assert_eq(mg_url_port("http://h:99999"), 0);
  cr_assert_eq(mg_url_port(NULL), 0);
}

Test(url, is_ssl_knows_the_secure_schemes) {
  const char *secure[] = {"https://h", "wss://h", "mqtts://h", "ssl://h", "tls://h", "tcps://h", "HTTPS://h", "Wss://h"};
  const char *plain[] = {"http://h", "ws://h", "mqtt://h", "tcp://h", "udp://h", "h", "httpss://h",
                         "http://https/", "https://", NULL};
  for (size_t i = 0; i < MG_ARRAY_SIZE(secure); i++) cr_assert(mg_url_is_ssl(secure[i]), "%s", secure[i]);
  for (size_t i = 0; i < MG_ARRAY_SIZE(plain); i++) cr_assert_not(mg_url_is_ssl(plain[i]), "%s", plain[i]);
}

Test(url, host_user_pass_accessors_slice_the_string) {
  const char *s = "mqtt://alice:s3cret@[::1]:1884/t";
  cr_assert(mg_str_eq(mg_url_host(s), "[::1]"), "brackets kept, as in Mongoose");
  cr_assert(mg_str_eq(mg_url_user(s), "alice"));
  cr_assert(mg_str_eq(mg_url_pass(s), "s3cret"));
  cr_assert_eq(mg_url_host(s).buf, s + 20);
  cr_assert_eq(mg_url_user("http://h").len, 0);
  cr_assert_eq(mg_url_pass("http://u@h").len, 0);
  cr_assert_eq(mg_url_host("http://h:bad").len, 0);
  cr_assert_eq(mg_url_user("http://u:p@h:bad").len, 0);
  cr_assert_eq(mg_url_host(NULL).len, 0);
}

Test(url, uri_accessor_points_into_the_string_or_gives_slash) {
  const char *s = "http://h:1/a/b?c=d";
  cr_assert_eq(mg_url_uri(s), s + 10);
  cr_assert_str_eq(mg_url_uri("http://h"), "/");
  cr_assert_str_eq(mg_url_uri("http://h:80"), "/");
  cr_assert_str_eq(mg_url_uri("http://h/"), "/");
  cr_assert_str_eq(mg_url_uri("http://h?x"), "?x");
  cr_assert_str_eq(mg_url_uri("h/p"), "/p");
  cr_assert_str_eq(mg_url_uri("http://h:bad/p"), "/");
  cr_assert_str_eq(mg_url_uri(NULL), "/");
}
