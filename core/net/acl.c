// mg_check_ip_acl: an address against a list of allowed and denied subnets,
// "+IP[/BITS],-IP[/BITS],..." where the last entry that matches decides.
#include "mg_internal.h"

struct acl_entry {
  bool allow;
  struct mg_addr net;
  unsigned bits;
};

// "a", "a.b", "a.b.c" or "a.b.c.d", each 0..255 without a sign: a short one is the
// leading bytes of a subnet ("192.168/16"), and its default prefix covers just them
static bool acl_parse_ip4(struct mg_str s, struct mg_addr *a, unsigned *given_bits) {
  size_t parts = 0, i = 0;
  memset(a, 0, sizeof(*a));
  while (parts < 4) {
    unsigned v = 0, digits = 0;
    while (i < s.len && s.buf[i] >= '0' && s.buf[i] <= '9' && digits < 4) {
      v = v * 10 + (unsigned) (s.buf[i++] - '0'), digits++;
    }
    if (digits == 0 || digits > 3 || v > 255) return false;
    a->addr.ip[parts++] = (uint8_t) v;
    if (i == s.len) break;
    if (s.buf[i++] != '.' || i == s.len) return false;
  }
  *given_bits = (unsigned) parts * 8;
  return i == s.len;
}

// IPv6 in the text mg_aton reads, limited to hex digits, ':' and '.', so that names,
// brackets and scope ids are not taken for subnets
static bool acl_parse_ip6(struct mg_str s, struct mg_addr *a) {
  for (size_t i = 0; i < s.len; i++) {
    char ch = s.buf[i];
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.';
    if (!ok) return false;
  }
  return mg_aton(s, a) && a->is_ip6;
}

// A prefix length: 1 to 3 decimal digits, at most max
static bool acl_parse_bits(struct mg_str s, unsigned max, unsigned *bits) {
  unsigned v = 0;
  if (s.len == 0 || s.len > 3) return false;
  for (size_t i = 0; i < s.len; i++) {
    if (s.buf[i] < '0' || s.buf[i] > '9') return false;
    v = v * 10 + (unsigned) (s.buf[i] - '0');
  }
  *bits = v;
  return v <= max;
}

static bool acl_parse_entry(struct mg_str s, struct acl_entry *e) {
  if (s.len < 2 || (s.buf[0] != '+' && s.buf[0] != '-')) return false;
  e->allow = s.buf[0] == '+';
  struct mg_str body = mg_str_n(s.buf + 1, s.len - 1), ip = body, bits = mg_str_n(NULL, 0);
  const char *slash = memchr(body.buf, '/', body.len);
  bool has_bits = slash != NULL;
  if (has_bits) {
    ip = mg_str_n(body.buf, (size_t) (slash - body.buf));
    bits = mg_str_n(slash + 1, body.len - ip.len - 1);
  }
  unsigned max = 32, given = 32;
  if (memchr(ip.buf, ':', ip.len) != NULL) {
    if (!acl_parse_ip6(ip, &e->net)) return false;
    max = given = 128;
  } else if (!acl_parse_ip4(ip, &e->net, &given)) {
    return false;
  }
  if (!has_bits) return e->bits = given, true;
  return acl_parse_bits(bits, max, &e->bits);
}

// The first bits bits of a and b agree
static bool acl_prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, whole) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = (uint8_t) (0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; IPv4 subnets hold it
static bool acl_matches(const struct acl_entry *e, const struct mg_addr *remote) {
  static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  const uint8_t *ip = remote->addr.ip;
  bool remote_ip6 = remote->is_ip6;
  if (remote_ip6 && !e->net.is_ip6 && memcmp(ip, v4_mapped, 12) == 0) ip += 12, remote_ip6 = false;
  if (remote_ip6 != e->net.is_ip6) return false;
  return acl_prefix_eq(ip, e->net.addr.ip, e->bits);
}

// 1 allowed, 0 denied, -1 a malformed list (checked whole, whatever matched). No
// list allows all; a list that no entry of matches denies
int mg_check_ip_acl(struct mg_str acl, struct mg_addr *remote_ip) {
  if (acl.len == 0) return 1;
  if (acl.buf == NULL || remote_ip == NULL) return -1;
  int verdict = 0;
  struct mg_str rest = acl, item;
  while (rest.len > 0) {
    const char *comma = memchr(rest.buf, ',', rest.len);
    size_t n = comma == NULL ? rest.len : (size_t) (comma - rest.buf);
    item = mg_str_n(rest.buf, n);
    if (comma != NULL && n + 1 == rest.len) return -1;  // A trailing comma
    rest = comma == NULL ? mg_str_n(NULL, 0) : mg_str_n(comma + 1, rest.len - n - 1);
    struct acl_entry e;
    if (!acl_parse_entry(item, &e)) return -1;
    if (acl_matches(&e, remote_ip)) verdict = e.allow ? 1 : 0;
  }
  return verdict;
}
