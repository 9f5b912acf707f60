// mg_check_ip_acl's list grammar at its edges (core/net/acl.c)
#include <criterion/criterion.h>
#include "meerkat.h"

static int check(const char *list, const char *ip) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert(mg_aton(mg_str(ip), &a), "%s", ip);
  return mg_check_ip_acl(mg_str(list), &a);
}

Test(acl, prefix_lengths_cut_inside_a_byte) {
  cr_assert_eq(check("+10.0.0.0/9", "10.127.0.1"), 1);
  cr_assert_eq(check("+10.0.0.0/9", "10.128.0.1"), 0);
  cr_assert_eq(check("+10.128.0.0/9", "10.255.1.1"), 1);
  cr_assert_eq(check("+1.2.3.5/31", "1.2.3.4"), 1, "host bits of the entry do not count");
}

Test(acl, short_addresses_cover_their_bytes) {
  cr_assert_eq(check("+192.168", "192.168.200.1"), 1);
  cr_assert_eq(check("+10", "10.9.9.9"), 1);
  cr_assert_eq(check("+10", "11.0.0.0"), 0);
  cr_assert_eq(check("+10/0", "99.0.0.0"), 1);
}

Test(acl, ipv4_mapped_peer_matches_ipv4_subnets) {
  cr_assert_eq(check("-0.0.0.0/0,+127.0.0.1", "::ffff:127.0.0.1"), 1);
  cr_assert_eq(check("+::ffff:0:0/96", "::ffff:127.0.0.1"), 1);
  cr_assert_eq(check("+::/0", "1.2.3.4"), 0, "an IPv6 subnet never holds an IPv4 peer");
}

Test(acl, whole_list_is_checked_after_a_match) {
  cr_assert_eq(check("+1.2.3.4,+1.2.3.4/40", "1.2.3.4"), -1);
  cr_assert_eq(check("+1.2.3.4,,+5.6.7.8", "1.2.3.4"), -1);
}

Test(acl, bounds_of_numbers) {
  cr_assert_eq(check("+1.2.3.4/32", "1.2.3.4"), 1);
  cr_assert_eq(check("+1.2.3.4/0032", "1.2.3.4"), -1, "at most three digits");
  cr_assert_eq(check("+0255.1.1.1", "1.2.3.4"), -1);
  cr_assert_eq(check("+2001:db8::/128", "2001:db8::"), 1);
  cr_assert_eq(check("+2001:db8::/129", "2001:db8::"), -1);
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert_eq(mg_check_ip_acl(mg_str("+1.2.3.4"), NULL), -1);
}
