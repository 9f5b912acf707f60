// mg_aton: strict IPv4 dotted quads, RFC 4291 IPv6 text forms, brackets and
// numeric scopes; failures leave the address untouched.
#include <criterion/criterion.h>
#include "meerkat.h"

struct aton_case {
  const char *text;
  bool is_ip6;
  uint8_t scope;
  uint8_t ip[16];
};

static const struct aton_case good_addrs[] = {
    {"0.0.0.0", false, 0, {0, 0, 0, 0}},
    {"127.0.0.1", false, 0, {127, 0, 0, 1}},
    {"localhost", false, 0, {127, 0, 0, 1}},  // As Mongoose does
    {"LocalHost", false, 0, {127, 0, 0, 1}},
    {"255.255.255.255", false, 0, {255, 255, 255, 255}},
    {"1.22.203.0", false, 0, {1, 22, 203, 0}},
    {"::", true, 0, {0}},
    {"[::]", true, 0, {0}},
    {"::1", true, 0, {[15] = 1}},
    {"[::1]", true, 0, {[15] = 1}},
    {"1::", true, 0, {0, 1}},
    {"2001:db8::ff00:42:8329", true, 0,
     {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29}},
    {"2001:0DB8:0000:0000:0000:FF00:0042:8329", true, 0,
     {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0x00, 0x42, 0x83, 0x29}},
    {"1:2:3:4:5:6:7:8", true, 0, {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
    {"1:2:3:4:5:6:7::", true, 0, {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0}},
    {"::2:3:4:5:6:7:8", true, 0, {0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}},
    {"1:2::7:8", true, 0, {0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 8}},
    {"::ffff:1.2.3.4", true, 0, {[10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4}},
    {"::1.2.3.4", true, 0, {[12] = 1, [13] = 2, [14] = 3, [15] = 4}},
    {"1:2:3:4:5:6:10.0.0.1", true, 0, {0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 10, 0, 0, 1}},
    {"fe80::1%2", true, 2, {0xfe, 0x80, [15] = 1}},
    {"[fe80::1%255]", true, 255, {0xfe, 0x80, [15] = 1}},
    {"::%0", true, 0, {0}},
};

Test(addr, aton_parses_ipv4_and_ipv6_text) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(good_addrs); i++) {
    const struct aton_case *c = &good_addrs[i];
    struct mg_addr a;
    memset(&a, 0xa5, sizeof(a));
    cr_assert(mg_aton(mg_str(c->text), &a), "rejected %s", c->text);
    cr_assert_eq(a.is_ip6, c->is_ip6, "%s: family", c->text);
    cr_assert_eq(a.scope_id, c->scope, "%s: scope", c->text);
    cr_assert_eq(a.port, 0, "%s: port", c->text);
    cr_assert_arr_eq(a.addr.ip, c->ip, c->is_ip6 ? 16 : 4, "%s: bytes", c->text);
    if (!c->is_ip6) {
      for (size_t j = 4; j < 16; j++) cr_assert_eq(a.addr.ip[j], 0, "%s: tail byte %zu", c->text, j);
    }
  }
}

static const char *const bad_addrs[] = {
    "",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.256",
    "1.2.3.1000",
    "1..2.3",
    ".1.2.3",
    "1.2.3.",
    "+1.2.3.4",
    "1.+2.3.4",
    "-1.2.3.4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "01.2.3.4",
    "1.2.3.04",
    "0x1.2.3.4",
    "1.2.3.4%1",
    "[1.2.3.4]",
    "localhos",
    "localhost.",
    "[localhost]",
    "localhost%1",
    "example.com",
    ":",
    ":::",
    "1:::2",
    "::1::",
    "1::2::3",
    ":1::",
    "1:",
    "::1:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "12345::",
    "g::",
    "::ffff:1.2.3",
    "::ffff:1.2.3.4:5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1.2.3.4::",
    "::ffff:01.2.3.4",
    "[::1",
    "::1]",
    "[]",
    "[",
    "[[::1]]",
    "::1%",
    "::1%256",
    "::1%1000",
    "::1%eth0",
    "::1%-1",
    "[::1]%1",
    "::1%1%2",
};

Test(addr, aton_refuses_malformed_text_and_leaves_addr_untouched) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad_addrs); i++) {
    struct mg_addr a, before;
    memset(&a, 0xa5, sizeof(a));
    before = a;
    cr_assert_not(mg_aton(mg_str(bad_addrs[i]), &a), "accepted '%s'", bad_addrs[i]);
    cr_assert_eq(memcmp(&a, &before, sizeof(a)), 0, "%s: addr changed", bad_addrs[i]);
  }
}

Test(addr, aton_respects_the_slice_length) {
  struct mg_addr a;
  cr_assert(mg_aton(mg_str_n("10.0.0.12", 8), &a));  // "10.0.0.1"
  cr_assert_eq(a.addr.ip[3], 1);
  cr_assert_not(mg_aton(mg_str_n("1.2.3.4", 6), &a));  // "1.2.3."
  cr_assert_not(mg_aton(mg_str_n("1.2\0.3.4", 8), &a));
  cr_assert_not(mg_aton(mg_str_n(NULL, 0), &a));
  cr_assert(mg_aton(mg_str("::1"), NULL));  // Validation only
}
