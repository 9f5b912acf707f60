// URL parsing: splits "scheme://user:pass@host:port/uri" into slices of the
// caller's string (RFC 3986 authority rules, strict ports), plus accessors.
#include "meerkat.h"

static bool url_is_alpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool url_is_digit(int c) {
  return c >= '0' && c <= '9';
}

static bool url_is_hex(int c) {
  return url_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool url_ends_authority(char c) {
  return c == '/' || c == '?' || c == '#';
}

// RFC 3986 unreserved, sub-delims and '%' (pct-encoded is not decoded here).
// Bytes >= 0x80 pass so that UTF-8 host names reach the resolver untouched.
static bool url_is_name_char(int c) {
  return url_is_alpha(c) || url_is_digit(c) || c >= 0x80 ||
         (c != 0 && strchr("-._~%!$&'()*+,;=", c) != NULL);
}

// Spaces, control characters and DEL are never part of a URL: rejecting them
// here stops header injection through a URL that ends up in a request line.
static bool url_has_control_chars(struct mg_str s) {
  for (size_t i = 0; i < s.len; i++) {
    unsigned char c = (unsigned char) s.buf[i];
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

static bool url_all_name_chars(struct mg_str s, bool allow_colon) {
  for (size_t i = 0; i < s.len; i++) {
    int c = (unsigned char) s.buf[i];
    if (!url_is_name_char(c) && !(allow_colon && c == ':')) return false;
  }
  return true;
}

static bool url_valid_scheme(struct mg_str s) {
  if (s.len == 0 || !url_is_alpha((unsigned char) s.buf[0])) return false;
  for (size_t i = 1; i < s.len; i++) {
    int c = (unsigned char) s.buf[i];
    if (!url_is_alpha(c) && !url_is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// Inside "[...]": an IPv6 address (hex, ':', '.' for an IPv4 tail), then an
// optional non-empty "%zone". mg_aton does the real address check later.
static bool url_valid_ip_literal(struct mg_str s) {
  size_t i = 0;
  bool has_colon = false;
  for (; i < s.len && s.buf[i] != '%'; i++) {
    int c = (unsigned char) s.buf[i];
    if (c == ':') has_colon = true;
    else if (!url_is_hex(c) && c != '.') return false;
  }
  if (!has_colon) return false;
  if (i < s.len) {
    struct mg_str zone = mg_str_n(s.buf + i + 1, s.len - i - 1);
    if (zone.len == 0 || !url_all_name_chars(zone, false)) return false;
  }
  return true;
}

// Port 0 is accepted: mg_listen() uses it to ask for any free port.
static bool url_parse_port(struct mg_str s, unsigned short *port) {
  unsigned long v = 0;
  if (s.len == 0 || s.len > 5) return false;
  for (size_t i = 0; i < s.len; i++) {
    if (!url_is_digit((unsigned char) s.buf[i])) return false;
    v = v * 10 + (unsigned long) (s.buf[i] - '0');
  }
  if (v > 65535) return false;
  *port = (unsigned short) v;
  return true;
}

static unsigned short url_default_port(struct mg_str scheme) {
  static const struct {
    const char *name;
    unsigned short port;
  } defaults[] = {{"http", 80},    {"https", 443}, {"ws", 80},
                  {"wss", 443},    {"mqtt", 1883}, {"mqtts", 8883}};
  for (size_t i = 0; i < MG_ARRAY_SIZE(defaults); i++) {
    if (mg_strcasecmp(scheme, mg_str(defaults[i].name)) == 0) return defaults[i].port;
  }
  return 0;
}

// host[:port], [ip6][:port] or :port, where hostport is the authority minus
// userinfo. An empty host needs a port: ":8000" is "any address, port 8000".
static bool url_parse_hostport(struct mg_str hp, struct mg_url *u) {
  struct mg_str rest;
  if (hp.len > 0 && hp.buf[0] == '[') {
    size_t end = 1;
    while (end < hp.len && hp.buf[end] != ']') end++;
    if (end >= hp.len) return false;  // Unterminated '['
    u->host = mg_str_n(hp.buf + 1, end - 1);
    if (!url_valid_ip_literal(u->host)) return false;
    rest = mg_str_n(hp.buf + end + 1, hp.len - end - 1);
  } else {
    size_t colon = 0;
    while (colon < hp.len && hp.buf[colon] != ':') colon++;
    u->host = mg_str_n(hp.buf, colon);
    if (colon == hp.len && colon == 0) return false;  // No host and no port
    if (!url_all_name_chars(u->host, false)) return false;
    rest = mg_str_n(hp.buf + colon, hp.len - colon);
  }
  if (rest.len == 0) return true;
  if (rest.buf[0] != ':') return false;  // Junk after "]"
  u->has_port = true;
  return url_parse_port(mg_str_n(rest.buf + 1, rest.len - 1), &u->port);
}

// [user[:pass]@]hostport. '@' is not a userinfo or host character, so "a@b@c"
// is refused rather than guessed at: parsers that disagree on it are a classic
// source of host confusion.
static bool url_parse_authority(struct mg_str auth, struct mg_url *u) {
  size_t at = 0;
  while (at < auth.len && auth.buf[at] != '@') at++;
  if (at < auth.len) {
    struct mg_str userinfo = mg_str_n(auth.buf, at);
    if (!url_all_name_chars(userinfo, true)) return false;
    if (!mg_span(userinfo, &u->user, &u->pass, ':')) u->user = u->pass = userinfo;  // Empty
    auth = mg_str_n(auth.buf + at + 1, auth.len - at - 1);
  }
  return url_parse_hostport(auth, u);
}

bool mg_url_parse(struct mg_str url, struct mg_url *out) {
  struct mg_url u;
  size_t i = 0, start = 0;
  memset(&u, 0, sizeof(u));
  if (out != NULL) memset(out, 0, sizeof(*out));
  if (url.buf == NULL || url.len == 0 || url_has_control_chars(url)) return false;

  // A scheme is whatever precedes the first "://" that comes before any of "/?#";
  // "//host" is a network-path reference (RFC 3986 4.2): an authority, no scheme
  while (i < url.len && !url_ends_authority(url.buf[i])) i++;
  if (i > 0 && i + 1 < url.len && url.buf[i - 1] == ':' && url.buf[i] == '/' &&
      url.buf[i + 1] == '/') {
    u.scheme = mg_str_n(url.buf, i - 1);
    if (!url_valid_scheme(u.scheme)) return false;
    start = i + 2;
  } else if (i == 0 && url.len >= 2 && url.buf[0] == '/' && url.buf[1] == '/') {
    u.scheme = mg_str_n(url.buf, 0);
    start = 2;
  } else {
    u.scheme = mg_str_n(url.buf, 0);
  }

  // The authority ends at the first "/?#"; the uri is everything from there
  i = start;
  while (i < url.len && !url_ends_authority(url.buf[i])) i++;
  u.uri = mg_str_n(url.buf + i, url.len - i);
  if (!url_parse_authority(mg_str_n(url.buf + start, i - start), &u)) return false;
  if (!u.has_port) u.port = url_default_port(u.scheme);
  if (out != NULL) *out = u;
  return true;
}

static struct mg_url url_parse_cstr(const char *url) {
  struct mg_url u;
  mg_url_parse(mg_str(url), &u);  // Zeroed on failure: empty slices, port 0
  return u;
}

unsigned short mg_url_port(const char *url) {
  return url_parse_cstr(url).port;
}

bool mg_url_scheme_is_tls(struct mg_str scheme) {
  static const char *const secure[] = {"https", "wss", "mqtts", "ssl", "tls", "tcps"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(secure); i++) {
    if (mg_strcasecmp(scheme, mg_str(secure[i])) == 0) return true;
  }
  return false;
}

bool mg_url_is_ssl(const char *url) {
  return mg_url_scheme_is_tls(url_parse_cstr(url).scheme);
}

// An IPv6 literal keeps its brackets, as Mongoose documents ("tcp://[::1]" gives
// "[::1]"), so that host and port can be joined again; struct mg_url has it bare
struct mg_str mg_url_host(const char *url) {
  struct mg_str h = url_parse_cstr(url).host;
  if (h.len > 0 && h.buf > url && h.buf[-1] == '[') h = mg_str_n(h.buf - 1, h.len + 2);
  return h;
}

struct mg_str mg_url_user(const char *url) {
  return url_parse_cstr(url).user;
}

struct mg_str mg_url_pass(const char *url) {
  return url_parse_cstr(url).pass;
}

// The uri slice always runs to the end of the string, so it can be returned as
// a C string. Malformed URLs and URLs without a path give "/".
const char *mg_url_uri(const char *url) {
  struct mg_str uri = url_parse_cstr(url).uri;
  return uri.len == 0 ? "/" : uri.buf;
}
