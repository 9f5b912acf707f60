// Numeric address parsing: strict IPv4 dotted quads and RFC 4291 section 2.2
// IPv6 text (with "::", an IPv4 tail, optional [ ] and a numeric %scope), and "localhost".
#include "meerkat.h"

static int addr_hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly four decimal parts 0..255. Leading zeros are refused ("010" means 8
// to inet_aton() and 10 to others), as are signs, spaces and empty parts.
static bool addr_parse_ip4(struct mg_str s, uint8_t ip[4]) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    unsigned value = 0;
    size_t digits = 0;
    if (part > 0) {
      if (i >= s.len || s.buf[i] != '.') return false;
      i++;
    }
    while (i < s.len && s.buf[i] >= '0' && s.buf[i] <= '9' && digits < 4) {
      value = value * 10 + (unsigned) (s.buf[i] - '0');
      digits++, i++;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (digits > 1 && s.buf[i - digits] == '0') return false;
    ip[part] = (uint8_t) value;
  }
  return i == s.len;
}

// Groups of 1..4 hex digits; "::" at most once and standing for at least one
// zero group; a dotted IPv4 tail may replace the last two groups.
static bool addr_parse_ip6(struct mg_str s, uint8_t ip[16]) {
  size_t i = 0, n = 0, gap = (size_t) -1;  // n: bytes filled, gap: where "::" was
  if (!MG_ENABLE_IPV6) return false;  // A constant: the compiler drops the rest
  if (s.len >= 2 && s.buf[0] == ':' && s.buf[1] == ':') gap = 0, i = 2;
  while (i < s.len) {
    size_t j = i;
    unsigned value = 0;
    while (j < s.len && j - i < 5 && addr_hex_value((unsigned char) s.buf[j]) >= 0) j++;
    if (j < s.len && s.buf[j] == '.') {  // IPv4 tail: the rest of the string
      if (n + 4 > 16 || !addr_parse_ip4(mg_str_n(s.buf + i, s.len - i), ip + n)) return false;
      n += 4, i = s.len;
      break;
    }
    if (j == i || j - i > 4 || n + 2 > 16) return false;
    for (; i < j; i++) value = value * 16 + (unsigned) addr_hex_value((unsigned char) s.buf[i]);
    ip[n++] = (uint8_t) (value >> 8);
    ip[n++] = (uint8_t) (value & 0xff);
    if (i == s.len) break;
    if (s.buf[i++] != ':' || i == s.len) return false;  // Junk, or a lone trailing ':'
    if (s.buf[i] == ':') {
      if (gap != (size_t) -1) return false;  // Second "::"
      gap = n, i++;
    }
  }
  if (gap == (size_t) -1) return n == 16;
  if (n > 14) return false;
  // Slide what followed "::" to the end and zero the hole
  memmove(ip + 16 - (n - gap), ip + gap, n - gap);
  memset(ip + gap, 0, 16 - n);
  return true;
}

static bool addr_parse_scope(struct mg_str s, uint8_t *scope) {
  unsigned value = 0;
  if (s.len == 0 || s.len > 3) return false;
  for (size_t i = 0; i < s.len; i++) {
    if (s.buf[i] < '0' || s.buf[i] > '9') return false;
    value = value * 10 + (unsigned) (s.buf[i] - '0');
  }
  if (value > 255) return false;
  *scope = (uint8_t) value;
  return true;
}

// On success *addr is overwritten whole: ip, is_ip6, scope_id, and port = 0 (the
// caller sets the port afterwards). On failure *addr is left untouched.
// "localhost" (any case) is 127.0.0.1, as in Mongoose: RFC 6761 6.3 lets it be
// resolved locally, and it must never reach a nameserver.
bool mg_aton(struct mg_str str, struct mg_addr *addr) {
  struct mg_addr a;
  struct mg_str s = str;
  bool bracketed = false;
  size_t pct = 0;
  memset(&a, 0, sizeof(a));
  if (s.buf == NULL || s.len == 0) return false;
  if (s.buf[0] == '[') {
    if (s.len < 2 || s.buf[s.len - 1] != ']') return false;
    s = mg_str_n(s.buf + 1, s.len - 2);
    bracketed = true;
  }
  while (pct < s.len && s.buf[pct] != '%') pct++;
  if (!bracketed && mg_strcasecmp(s, mg_str("localhost")) == 0) {
    a.addr.ip[0] = 127, a.addr.ip[3] = 1;
  } else if (!bracketed && pct == s.len && addr_parse_ip4(s, a.addr.ip)) {
    a.is_ip6 = false;
  } else {
    if (pct < s.len && !addr_parse_scope(mg_str_n(s.buf + pct + 1, s.len - pct - 1), &a.scope_id)) {
      return false;
    }
    if (!addr_parse_ip6(mg_str_n(s.buf, pct), a.addr.ip)) return false;
    a.is_ip6 = true;
  }
  if (addr != NULL) *addr = a;
  return true;
}
