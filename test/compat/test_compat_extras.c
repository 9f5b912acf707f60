// Mongoose 7.22 names a program meets outside the protocol modules: MD5, SHA-384,
// the IP access list, the extra %M printers and sinks, DNS record type names, the
// readiness bits of a connection and the TLS backend numbers. Built against
// dist/mongoose.h and dist/meerkat.c alone; the vectors are RFC 1321's and FIPS 180-4's.
#include <criterion/criterion.h>
#include "mongoose.h"

static void hex(const unsigned char *d, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) mg_snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static const char *md5_hex(const char *s, size_t chunk) {
  static char out[33];
  unsigned char d[16];
  mg_md5_ctx ctx;
  mg_md5_init(&ctx);
  for (size_t i = 0, n = strlen(s); i < n; i += chunk) {
    mg_md5_update(&ctx, (const unsigned char *) s + i, n - i < chunk ? n - i : chunk);
  }
  mg_md5_final(&ctx, d);
  hex(d, sizeof(d), out);
  return out;
}

// RFC 1321, appendix A.5, fed whole and one byte at a time
Test(compat_extras, md5_rfc1321_test_suite) {
  static const char *v[][2] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    cr_assert_str_eq(md5_hex(v[i][0], 1000), v[i][1], "%s", v[i][0]);
    cr_assert_str_eq(md5_hex(v[i][0], 1), v[i][1], "%s bytewise", v[i][0]);
  }
}

Test(compat_extras, md5_ctx_has_mongoose_fields) {
  mg_md5_ctx ctx;
  cr_assert_eq(sizeof(ctx.buf), 16);
  cr_assert_eq(sizeof(ctx.bits), 8);
  cr_assert_eq(sizeof(ctx.in), 64);
}

static const char *sha384_hex(const uint8_t *p, size_t n, size_t chunk) {
  static char out[97];
  uint8_t d[48];
  mg_sha384_ctx ctx;
  mg_sha384_init(&ctx);
  for (size_t i = 0; i < n; i += chunk) mg_sha384_update(&ctx, p + i, n - i < chunk ? n - i : chunk);
  mg_sha384_final(d, &ctx);
  hex(d, sizeof(d), out);
  return out;
}

// FIPS 180-4 examples (one block, two blocks, a million 'a') and the empty message
Test(compat_extras, sha384_fips180_vectors) {
  const char *two = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  cr_assert_str_eq(sha384_hex((const uint8_t *) "abc", 3, 64),
                   "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  cr_assert_str_eq(sha384_hex((const uint8_t *) two, strlen(two), 1),
                   "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039");
  cr_assert_str_eq(sha384_hex((const uint8_t *) "", 0, 1),
                   "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
  static uint8_t million[1000000];
  memset(million, 'a', sizeof(million));
  cr_assert_str_eq(sha384_hex(million, sizeof(million), 777),
                   "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985");
  uint8_t d[48];
  char out[97];
  mg_sha384(d, (uint8_t *) "abc", 3);
  hex(d, sizeof(d), out);
  cr_assert_str_eq(out, "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
}

static int acl(const char *list, const char *ip) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert(mg_aton(mg_str(ip), &a), "%s", ip);
  return mg_check_ip_acl(mg_str(list), &a);
}

// "+" allows and "-" denies a subnet; the last entry that matches wins; an empty list
// allows everyone; 1 allowed, 0 denied, -1 a malformed list
Test(compat_extras, check_ip_acl_documented_syntax) {
  cr_assert_eq(acl("", "1.2.3.4"), 1);
  cr_assert_eq(acl("-0.0.0.0/0,+192.168/16", "192.168.7.1"), 1);
  cr_assert_eq(acl("-0.0.0.0/0,+192.168/16", "192.169.0.1"), 0);
  cr_assert_eq(acl("+192.168.0.0/16,-192.168.1.2", "192.168.1.2"), 0);
  cr_assert_eq(acl("+192.168.0.0/16,-192.168.1.2", "192.168.1.3"), 1);
  cr_assert_eq(acl("-10.0.0.0/8", "10.255.255.255"), 0);
  cr_assert_eq(acl("+10.0.0.0/8", "11.0.0.0"), 0, "a list that does not match denies");
  cr_assert_eq(acl("+1.2.3.4/32", "1.2.3.4"), 1);
  cr_assert_eq(acl("+0.0.0.0/0", "255.255.255.255"), 1);
}

Test(compat_extras, check_ip_acl_rejects_malformed_lists) {
  static const char *bad[] = {"1.2.3.4",        "*1.2.3.4",  "+",          "+1.2.3.4/33", "+1.2.3.4/",
                              "+1.2.3.256",     "+1..2",     "+1.2.3.4.5", "+1.2.3.4,",   ",+1.2.3.4",
                              "+1.2.3.4/8x",    "+a.b.c.d",  "+1.2.3.4 ",  "+1.2.3.4/-1", "+1.2.3.4/08x",
                              "-1.2.3.4,+1.2.x", "+1.2.3.4//8", "+::1/", "+[::1]", "+localhost"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cr_assert_eq(acl(bad[i], "1.2.3.4"), -1, "%s", bad[i]);
  }
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert_eq(mg_check_ip_acl(mg_str_n("+1.2.3.4\0", 9), &a), -1, "a NUL inside the list");
  cr_assert_eq(mg_check_ip_acl(mg_str_n(NULL, 0), &a), 1, "no list allows");
}

Test(compat_extras, check_ip_acl_ipv6) {
  cr_assert_eq(acl("-0.0.0.0/0,+2001:db8::/32", "2001:db8::1"), 1);
  cr_assert_eq(acl("-0.0.0.0/0,+2001:db8::/32", "2001:db9::1"), 0);
  cr_assert_eq(acl("+0.0.0.0/0", "::1"), 0, "an IPv4 subnet never holds an IPv6 address");
  cr_assert_eq(acl("+2001:db8::/129", "::1"), -1);
}

static size_t print_to(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

// HTML-escapes like mg_print_esc JSON-escapes: the same MG_ESC arguments
Test(compat_extras, print_html_esc) {
  char buf[100];
  cr_assert_eq(print_to(buf, sizeof(buf), "%M", mg_print_html_esc, -1, "<a href=\"x\">&'</a>"), 48);
  cr_assert_str_eq(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  cr_assert_eq(print_to(buf, sizeof(buf), "%M", mg_print_html_esc, 3, "<b>xyz"), 9);
  cr_assert_str_eq(buf, "&lt;b&gt;");
  print_to(buf, sizeof(buf), "%M", mg_print_html_esc, -1, "plain");
  cr_assert_str_eq(buf, "plain");
}

// An EUI-64 as eight colon-separated hex bytes, most significant first
Test(compat_extras, print_ieee64) {
  char buf[40];
  uint64_t eui = 0x0011223344556677ULL;
  cr_assert_eq(print_to(buf, sizeof(buf), "%M", mg_print_ieee64, eui), 23);
  cr_assert_str_eq(buf, "00:11:22:33:44:55:66:77");
}

// A layer-2 address after its type: Ethernet's is a MAC
Test(compat_extras, print_l2addr_ethernet) {
  char buf[40];
  uint8_t mac[6] = {0x02, 0xab, 0xcd, 0x00, 0x01, 0xff};
  cr_assert_eq(print_to(buf, sizeof(buf), "%M", mg_print_l2addr, 0, mac), 17);
  cr_assert_str_eq(buf, "02:ab:cd:00:01:ff");
}

// The fixed-size iobuf sink: never grows the buffer, keeps what fits
Test(compat_extras, pfn_iobuf_noresize_keeps_what_fits) {
  unsigned char mem[8];
  struct mg_iobuf io = {mem, sizeof(mem), 0, 0};
  size_t n = mg_xprintf(mg_pfn_iobuf_noresize, &io, "%s", "hello world");
  cr_assert_eq(n, 11, "the length it would have written");
  cr_assert_eq(io.buf, mem, "not reallocated");
  cr_assert_eq(io.size, 8);
  cr_assert_eq(io.len, 8);
  cr_assert(memcmp(mem, "hello wo", 8) == 0);
  unsigned char big[16];
  struct mg_iobuf io2 = {big, sizeof(big), 0, 0};
  mg_xprintf(mg_pfn_iobuf_noresize, &io2, "%d", 42);
  cr_assert_eq(io2.len, 2);
  cr_assert(memcmp(big, "42", 2) == 0);
}

Test(compat_extras, dns_record_type_names) {
  cr_assert_eq(MG_DNS_RTYPE_A, 1);
  cr_assert_eq(MG_DNS_RTYPE_PTR, 12);
  cr_assert_eq(MG_DNS_RTYPE_TXT, 16);
  cr_assert_eq(MG_DNS_RTYPE_AAAA, 28);
  cr_assert_eq(MG_DNS_RTYPE_SRV, 33);
}

// Mongoose 7.22's numbers, so that "#if MG_TLS == MG_TLS_MBED" reads the same
Test(compat_extras, tls_backend_numbers) {
  cr_assert_eq(MG_TLS_NONE, 0);
  cr_assert_eq(MG_TLS_MBED, 1);
  cr_assert_eq(MG_TLS_OPENSSL, 2);
  cr_assert_eq(MG_TLS_BUILTIN, 3);
  cr_assert_eq(MG_TLS_CUSTOM, 4);
  cr_assert_eq(MG_TLS_WOLFSSL, 5);
#if MG_TLS != MG_TLS_NONE
  cr_assert_fail("this file is built without TLS");
#endif
}

// A connection's readiness bits exist and are clear on a fresh listener
Test(compat_extras, connection_readiness_bits) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_listen(&mgr, "tcp://127.0.0.1:0", NULL, NULL);
  cr_assert_not_null(c);
  cr_assert_eq(c->is_readable, 0);
  cr_assert_eq(c->is_writable, 0);
  mg_mgr_free(&mgr);
}

struct readiness {
  int read_events, readable_on_read;
  bool done;
};

static void readiness_server(struct mg_connection *c, int ev, void *ev_data) {
  struct readiness *r = (struct readiness *) c->fn_data;
  if (ev == MG_EV_READ) {
    r->read_events++;
    if (c->is_readable) r->readable_on_read++;
    r->done = true;
  }
  (void) ev_data;
}

// MG_EV_READ comes from a wait that found the socket readable; the bit says so
Test(compat_extras, is_readable_set_while_reading) {
  struct mg_mgr mgr;
  struct readiness r = {0, 0, false};
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "tcp://127.0.0.1:0", readiness_server, &r);
  cr_assert_not_null(l);
  char url[64];
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", mg_ntohs(l->loc.port));
  struct mg_connection *c = mg_connect(&mgr, url, NULL, NULL);
  cr_assert_not_null(c);
  mg_send(c, "x", 1);
  for (int i = 0; i < 200 && !r.done; i++) mg_mgr_poll(&mgr, 10);
  cr_assert(r.done);
  cr_assert_eq(r.readable_on_read, r.read_events);
  for (struct mg_connection *x = mgr.conns; x != NULL; x = x->next) {
    cr_assert_eq(x->is_readable, 0, "cleared after the pass");
  }
  mg_mgr_free(&mgr);
}
