// Fuzzes mg_url_parse and mg_aton: slices must lie inside the input, ports must
// match their text, and an accepted address must print back to what was parsed.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_url_check_slice(struct mg_str s, const char *base, size_t size) {
  if (s.len == 0) return;
  if (s.buf < base || s.buf + s.len > base + size) __builtin_trap();
}

static void fuzz_url_check_url(const char *in, size_t size) {
  struct mg_url u;
  bool ok = mg_url_parse(mg_str_n(in, size), &u);
  if (!ok) {
    if (u.host.len != 0 || u.port != 0 || u.has_port) __builtin_trap();
    return;
  }
  fuzz_url_check_slice(u.scheme, in, size);
  fuzz_url_check_slice(u.user, in, size);
  fuzz_url_check_slice(u.pass, in, size);
  fuzz_url_check_slice(u.host, in, size);
  fuzz_url_check_slice(u.uri, in, size);
  if (u.host.len == 0 && !u.has_port) __builtin_trap();  // Only ":port" has no host
  for (size_t i = 0; i < size; i++) {
    if ((unsigned char) in[i] <= 0x20 || in[i] == 0x7f) __builtin_trap();
  }
  // The uri is the tail of the input and starts with one of "/?#"
  if (u.uri.len > 0 && (u.uri.buf + u.uri.len != in + size || strchr("/?#", u.uri.buf[0]) == NULL)) {
    __builtin_trap();
  }
  // An explicit port is the decimal text right before the uri
  const char *end = u.uri.len > 0 ? u.uri.buf : in + size;
  if (u.has_port) {
    const char *p = end;
    unsigned long v = 0, scale = 1;
    while (p > in && p[-1] >= '0' && p[-1] <= '9') v += scale * (unsigned long) (p[-1] - '0'), scale *= 10, p--;
    if (p == end || p == in || p[-1] != ':' || v != u.port) __builtin_trap();
  } else if (u.host.buf + u.host.len != end && u.host.buf + u.host.len + 1 != end) {
    __builtin_trap();  // Without a port the host (or its ']') ends the authority
  }
  // The C-string accessors agree with the slice parser
  if (memchr(in, 0, size) == NULL) {
    char copy[512];
    if (size < sizeof(copy)) {
      memcpy(copy, in, size);
      copy[size] = '\0';
      if (mg_url_port(copy) != u.port) __builtin_trap();
      // mg_url_host keeps an IPv6 literal's brackets
      bool bracketed = u.host.len > 0 && u.host.buf > in && u.host.buf[-1] == '[';
      if (mg_url_host(copy).len != u.host.len + (bracketed ? 2 : 0)) __builtin_trap();
      const char *uri = mg_url_uri(copy);
      if (u.uri.len > 0 ? uri != copy + (u.uri.buf - in) : strcmp(uri, "/") != 0) __builtin_trap();
    }
  }
}

static void fuzz_url_check_aton(const char *in, size_t size) {
  struct mg_addr a, b;
  char text[64];
  memset(&a, 0x5a, sizeof(a));
  b = a;
  if (!mg_aton(mg_str_n(in, size), &a)) {
    if (memcmp(&a, &b, sizeof(a)) != 0) __builtin_trap();  // Untouched on failure
    return;
  }
  if (a.port != 0) __builtin_trap();
  if (mg_strcasecmp(mg_str_n(in, size), mg_str("localhost")) == 0) {
    if (a.is_ip6 || a.addr.ip[0] != 127 || a.addr.ip[3] != 1) __builtin_trap();
  } else if (!a.is_ip6) {
    // Strict IPv4 text is canonical: it prints back byte for byte
    int n = snprintf(text, sizeof(text), "%u.%u.%u.%u", a.addr.ip[0], a.addr.ip[1], a.addr.ip[2], a.addr.ip[3]);
    if (n < 0 || (size_t) n != size || memcmp(text, in, size) != 0) __builtin_trap();
    for (int i = 4; i < 16; i++) {
      if (a.addr.ip[i] != 0) __builtin_trap();
    }
  } else {
    // The full eight-group form parses back to the same bytes
    int n = snprintf(text, sizeof(text), "[%x:%x:%x:%x:%x:%x:%x:%x%%%u]",
                     a.addr.ip[0] << 8 | a.addr.ip[1], a.addr.ip[2] << 8 | a.addr.ip[3], a.addr.ip[4] << 8 | a.addr.ip[5],
                     a.addr.ip[6] << 8 | a.addr.ip[7], a.addr.ip[8] << 8 | a.addr.ip[9], a.addr.ip[10] << 8 | a.addr.ip[11],
                     a.addr.ip[12] << 8 | a.addr.ip[13], a.addr.ip[14] << 8 | a.addr.ip[15], a.scope_id);
    if (n < 0 || !mg_aton(mg_str_n(text, (size_t) n), &b)) __builtin_trap();
    if (memcmp(a.addr.ip, b.addr.ip, 16) != 0 || !b.is_ip6 || b.scope_id != a.scope_id) __builtin_trap();
    if (memchr(in, ':', size) == NULL) __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Copy so that ASan catches any read past size
  char *in = (char *) malloc(size == 0 ? 1 : size);
  if (in == NULL) return 0;
  if (size > 0) memcpy(in, data, size);
  fuzz_url_check_url(in, size);
  fuzz_url_check_aton(in, size);
  free(in);
  return 0;
}
