// The smallest programs build with MG_ENABLE_IPV6=0 (Mongoose's switch): IPv6 text is
// neither parsed nor pretty-printed. addr.c and printf.c compiled into this test with it.
#define MG_ENABLE_IPV6 0
#include "../../core/net/addr.c"
#include "../../core/base/printf.c"

#include <criterion/criterion.h>

Test(ipv6_off, ipv6_addresses_are_refused_and_ipv4_still_parses) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert_not(mg_aton(mg_str("::1"), &a));
  cr_assert_not(mg_aton(mg_str("[::1]"), &a));
  cr_assert_not(mg_aton(mg_str("fe80::1%1"), &a));
  cr_assert(mg_aton(mg_str("10.0.2.15"), &a));
  cr_assert_not(a.is_ip6);
  cr_assert_eq(a.addr.ip[0], 10);
  cr_assert_eq(a.addr.ip[3], 15);
}

Test(ipv6_off, ipv6_bytes_print_as_eight_plain_groups) {
  uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  char buf[64];
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip6, ip);
  cr_assert_str_eq(buf, "2001:db8:0:0:0:0:0:1");
}
