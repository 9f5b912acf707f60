// The POSIX port: the clock, random bytes, and the resolver's configuration read
// from a temporary resolv.conf and hosts file (comments, IPv6, case, aliases).
#include <criterion/criterion.h>
#include <unistd.h>
#include "meerkat.h"
#include "port/port.h"

static char port_tmp[64];

// Writes text to a fresh temporary file; its path stays in port_tmp
static const char *port_file(const char *text) {
  mg_snprintf(port_tmp, sizeof(port_tmp), "/tmp/meerkat_port_XXXXXX");
  int fd = mkstemp(port_tmp);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
  close(fd);
  return port_tmp;
}

static void port_cleanup(void) {
  if (port_tmp[0] != '\0') unlink(port_tmp);
  port_tmp[0] = '\0';
  mg_port_resolv_conf_path = "/etc/resolv.conf";
  mg_port_hosts_path = "/etc/hosts";
}

TestSuite(port, .fini = port_cleanup);

Test(port, millis_is_monotonic_and_ticks) {
  uint64_t a = mg_millis(), prev = a;
  for (int i = 0; i < 1000; i++) {
    uint64_t now = mg_millis();
    cr_assert_geq(now, prev);
    prev = now;
  }
  usleep(20000);
  uint64_t b = mg_millis();
  cr_assert(b - a >= 19 && b - a < 1000, "20 ms sleep measured as %lu ms", (unsigned long) (b - a));
}

Test(port, random_bytes_come_from_the_os_and_differ) {
  uint8_t a[32], b[32], zero[32] = {0}, big[1000];
  cr_assert(mg_port_random(a, sizeof(a)));
  cr_assert(mg_port_random(b, sizeof(b)));
  cr_assert_neq(memcmp(a, zero, sizeof(a)), 0);
  cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
  cr_assert(mg_port_random(big, sizeof(big)));
  cr_assert(mg_port_random(big, 0));
  cr_assert(mg_random(a, sizeof(a)), "mg_random uses the port's source");
}

Test(port, nameserver_is_the_first_usable_line_of_resolv_conf) {
  char buf[64];
  mg_port_resolv_conf_path = port_file("# generated\n"
                                       "; also a comment\n"
                                       "search example.com\n"
                                       "nameserver fe80::1%eth0\n"
                                       "nameserver\t192.0.2.53   # the office one\n"
                                       "nameserver 192.0.2.54\n");
  cr_assert_eq(mg_port_nameserver(buf, sizeof(buf)), strlen("udp://192.0.2.53:53"));
  cr_assert_str_eq(buf, "udp://192.0.2.53:53");
}

Test(port, nameserver_ipv6_is_bracketed) {
  char buf[64];
  mg_port_resolv_conf_path = port_file("nameserver 2001:db8::53\n");
  cr_assert_gt(mg_port_nameserver(buf, sizeof(buf)), 0);
  cr_assert_str_eq(buf, "udp://[2001:db8::53]:53");
}

Test(port, no_nameserver_is_zero) {
  char buf[64];
  mg_port_resolv_conf_path = port_file("search example.com\n#nameserver 1.2.3.4\n");
  cr_assert_eq(mg_port_nameserver(buf, sizeof(buf)), 0);
  mg_port_resolv_conf_path = "/nonexistent/resolv.conf";
  cr_assert_eq(mg_port_nameserver(buf, sizeof(buf)), 0);
  mg_port_resolv_conf_path = port_file("nameserver 192.0.2.53\n");
  cr_assert_eq(mg_port_nameserver(buf, 10), 0, "a cut address is worse than none");
}

static const char port_hosts[] =
    "# static table\n"
    "127.0.0.1\tlocalhost\n"
    "192.0.2.10  printer.lan printer   # office\n"
    "# 192.0.2.99 commented.lan\n"
    "\n"
    "   192.0.2.11 Camera.LAN cam\n"
    "2001:db8::10 printer.lan printer6\n"
    "not-an-ip bogus.lan\n"
    "192.0.2.12 long.lan # "
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx "
    "after-long.lan\n"
    "192.0.2.13 last.lan";  // No final newline

static bool port_lookup(const char *name, bool ipv6, const char *want) {
  struct mg_addr a, w;
  memset(&a, 0xff, sizeof(a));
  if (!mg_port_hosts_lookup(mg_str(name), ipv6, &a)) return false;
  cr_assert(mg_aton(mg_str(want), &w));
  cr_assert_eq(a.is_ip6, w.is_ip6, "%s", name);
  cr_assert_arr_eq(a.addr.ip, w.addr.ip, w.is_ip6 ? 16 : 4, "%s", name);
  cr_assert_eq(a.port, 0);
  return true;
}

Test(port, hosts_lookup_reads_names_aliases_and_families) {
  mg_port_hosts_path = port_file(port_hosts);
  cr_assert(port_lookup("printer.lan", false, "192.0.2.10"));
  cr_assert(port_lookup("printer", false, "192.0.2.10"), "an alias");
  cr_assert(port_lookup("PRINTER.Lan", false, "192.0.2.10"), "names are case-insensitive");
  cr_assert(port_lookup("printer.lan.", false, "192.0.2.10"), "fully qualified form");
  cr_assert(port_lookup("camera.lan", false, "192.0.2.11"));
  cr_assert(port_lookup("cam", false, "192.0.2.11"));
  cr_assert(port_lookup("printer.lan", true, "2001:db8::10"), "IPv6 asked, IPv6 line");
  cr_assert(port_lookup("printer6", true, "2001:db8::10"));
  cr_assert_not(port_lookup("printer6", false, "0.0.0.0"), "only an IPv6 address listed");
  cr_assert_not(port_lookup("camera.lan", true, "::"), "only an IPv4 address listed");
  cr_assert(port_lookup("last.lan", false, "192.0.2.13"));
}

Test(port, hosts_lookup_skips_comments_junk_and_long_lines) {
  mg_port_hosts_path = port_file(port_hosts);
  cr_assert_not(port_lookup("commented.lan", false, "0.0.0.0"));
  cr_assert_not(port_lookup("office", false, "0.0.0.0"), "a word in a comment is no alias");
  cr_assert_not(port_lookup("bogus.lan", false, "0.0.0.0"));
  cr_assert_not(port_lookup("after-long.lan", false, "0.0.0.0"));
  cr_assert_not(port_lookup("long.lan", false, "0.0.0.0"), "a line too long is skipped whole");
  cr_assert_not(port_lookup("print", false, "0.0.0.0"), "no prefix matches");
  cr_assert_not(port_lookup("", false, "0.0.0.0"));
  mg_port_hosts_path = "/nonexistent/hosts";
  cr_assert_not(port_lookup("printer.lan", false, "0.0.0.0"));
}
