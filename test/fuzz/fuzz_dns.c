// Fuzzes the DNS wire parsers on arbitrary packets (names at many offsets,
// records, whole responses and queries) and checks that a built query reads back
// unchanged, as a query (mDNS) and as an answerless response.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// A decoded name: NUL-terminated, at most 253 characters, no empty label
static void fuzz_dns_check_text(const char *name, size_t cap) {
  size_t n = strnlen(name, cap);
  if (n >= cap || n > 253) __builtin_trap();
  if (n > 0 && (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..") != NULL)) __builtin_trap();
}

static void fuzz_dns_check_name_at(const uint8_t *buf, size_t len, size_t ofs) {
  char name[256], small[16];
  struct mg_dns_rr rr;
  size_t span = mg_dns_parse_name(buf, len, ofs, name, sizeof(name));
  size_t walk = mg_dns_parse_name(buf, len, ofs, NULL, 0);
  if (span > 0) {
    if (span > len - ofs || span > 255 || walk != span) __builtin_trap();
    fuzz_dns_check_text(name, sizeof(name));
    // A smaller output buffer either holds the same name or fails cleanly
    size_t s2 = mg_dns_parse_name(buf, len, ofs, small, sizeof(small));
    if (strlen(name) < sizeof(small) ? (s2 != span || strcmp(small, name) != 0) : s2 != 0) __builtin_trap();
  } else if (walk > len - ofs && ofs < len) {
    __builtin_trap();
  }
  for (int q = 0; q < 2; q++) {
    size_t n = mg_dns_parse_rr(buf, len, ofs, q == 1, &rr);
    if (n == 0) continue;
    if (n > len - ofs || walk == 0 || rr.nlen != walk) __builtin_trap();
    if (n != (size_t) rr.nlen + (q == 1 ? 4 : 10) + rr.alen) __builtin_trap();
  }
}

// Independent statement of the query name rules, to compare against
static bool fuzz_dns_valid_name(const char *s, size_t n) {
  size_t label = 0;
  if (n > 0 && s[n - 1] == '.') n--;
  if (n == 0 || n > 253) return false;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\0') return false;
    if (s[i] == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (++label > 63) {
      return false;
    }
  }
  return label > 0;
}

static void fuzz_dns_check_query(const char *name, size_t n, bool ipv6) {
  uint8_t buf[300];
  struct mg_dns_message dm;
  size_t q = mg_dns_build_query(buf, sizeof(buf), 0x4242, mg_str_n(name, n), ipv6);
  if ((q > 0) != fuzz_dns_valid_name(name, n)) __builtin_trap();
  if (q == 0) return;
  size_t plain = n - (name[n - 1] == '.');
  if (q != 12 + plain + 2 + 4) __builtin_trap();
  // As sent: a query parses to its question and never resolves
  if (!mg_dns_parse(buf, q, &dm) || dm.is_response || dm.resolved || strcmp(dm.name, dm.qname) != 0) {
    __builtin_trap();
  }
  buf[2] |= 0x80;  // Turn it into an answerless response
  if (!mg_dns_parse(buf, q, &dm) || dm.resolved || dm.txnid != 0x4242) __builtin_trap();
  // Labels holding the separator read back differently; the builder has none
  if (strlen(dm.name) != plain || memcmp(dm.name, name, plain) != 0) __builtin_trap();
  if (strcmp(dm.qname, dm.name) != 0) __builtin_trap();  // No answers: the question's name
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_dns_message dm;
  // Copy so that ASan catches any read past size
  uint8_t *buf = (uint8_t *) malloc(size == 0 ? 1 : size);
  if (buf == NULL) return 0;
  if (size > 0) memcpy(buf, data, size);

  bool ok = mg_dns_parse(buf, size, &dm);
  fuzz_dns_check_text(dm.name, sizeof(dm.name));
  fuzz_dns_check_text(dm.qname, sizeof(dm.qname));
  if (!ok && (dm.resolved || dm.name[0] != '\0' || dm.qname[0] != '\0')) __builtin_trap();
  if (ok && (size < 12 || size > 512 || dm.is_response != ((buf[2] & 0x80) != 0))) __builtin_trap();
  if (dm.resolved && !dm.is_response) __builtin_trap();  // A query's answers are never taken
  if (dm.resolved) {
    // The address was copied from somewhere in the packet
    size_t alen = dm.addr.is_ip6 ? 16 : 4;
    bool found = false;
    for (size_t i = 12; i + alen <= size && !found; i++) found = memcmp(buf + i, dm.addr.addr.ip, alen) == 0;
    if (!found || dm.addr.port != 0) __builtin_trap();
  }

  // Names and records at the first offsets and at a few chosen by the data
  for (size_t ofs = 0; ofs < size && ofs < 48; ofs++) fuzz_dns_check_name_at(buf, size, ofs);
  for (size_t i = 0; i + 1 < size && i < 8; i += 2) {
    fuzz_dns_check_name_at(buf, size, ((size_t) buf[i] << 8 | buf[i + 1]) % size);
  }
  fuzz_dns_check_name_at(buf, size, size);  // Just past the end: must fail
  if (mg_dns_parse_name(buf, size, size, NULL, 0) != 0) __builtin_trap();

  // The input as a host name
  if (size > 0) fuzz_dns_check_query((const char *) buf, size, (buf[0] & 1) != 0);
  free(buf);
  return 0;
}
