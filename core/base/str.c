// String slices: construction, comparison, splitting and glob matching.
#include "meerkat.h"

struct mg_str mg_str(const char *s) {
  struct mg_str str = {(char *) s, s == NULL ? 0 : strlen(s)};
  return str;
}

struct mg_str mg_str_n(const char *s, size_t n) {
  struct mg_str str = {(char *) s, n};
  return str;
}

static int str_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

int mg_ncasecmp(const char *a, const char *b, size_t len) {
  int diff = 0;
  for (size_t i = 0; i < len && diff == 0; i++) {
    diff = str_lower((unsigned char) a[i]) - str_lower((unsigned char) b[i]);
    if (a[i] == '\0') break;
  }
  return diff;
}

int mg_casecmp(const char *a, const char *b) {
  return mg_ncasecmp(a, b, (size_t) -1);
}

static int str_compare(struct mg_str a, struct mg_str b, bool fold) {
  size_t i = 0;
  for (; i < a.len && i < b.len; i++) {
    int ca = (unsigned char) a.buf[i], cb = (unsigned char) b.buf[i];
    if (fold) ca = str_lower(ca), cb = str_lower(cb);
    if (ca != cb) return ca < cb ? -1 : 1;  // Mongoose 7.22: -1, 0 or 1
  }
  if (i < a.len) return 1;
  if (i < b.len) return -1;
  return 0;
}

int mg_strcmp(const struct mg_str a, const struct mg_str b) {
  return str_compare(a, b, false);
}

int mg_strcasecmp(const struct mg_str a, const struct mg_str b) {
  return str_compare(a, b, true);
}

// Lengths first: most slices compared in the request path differ in length
bool mg_str_eq(struct mg_str a, const char *b) {
  size_t n = b == NULL ? 0 : strlen(b);
  return a.len == n && (n == 0 || memcmp(a.buf, b, n) == 0);
}

struct mg_str mg_strdup(const struct mg_str s) {
  struct mg_str r = MG_NULL_STR;
  char *p = (char *) mg_calloc(1, s.len + 1);
  if (p != NULL) {
    if (s.len > 0) memcpy(p, s.buf, s.len);
    p[s.len] = '\0';
    r.buf = p, r.len = s.len;
  }
  return r;
}

struct mg_str mg_str_trim(struct mg_str s) {
  while (s.len > 0 && (s.buf[0] == ' ' || s.buf[0] == '\t')) s.buf++, s.len--;
  while (s.len > 0 && (s.buf[s.len - 1] == ' ' || s.buf[s.len - 1] == '\t')) s.len--;
  return s;
}

bool mg_span(struct mg_str s, struct mg_str *a, struct mg_str *b, char delim) {
  if (s.len == 0 || s.buf == NULL) return false;
  size_t i = 0;
  while (i < s.len && s.buf[i] != delim) i++;
  if (a != NULL) *a = mg_str_n(s.buf, i);
  if (b != NULL) *b = i < s.len ? mg_str_n(s.buf + i + 1, s.len - i - 1) : mg_str_n(s.buf + s.len, 0);
  return true;
}

// Glob matching by backtracking, shortest wildcard first. A '#' that cannot
// match from position i cannot match from any later one either (it may absorb
// anything), so its failure ends the search: "/api/#" stays linear in the string.
enum { STR_MATCH_OK, STR_MATCH_FAIL, STR_MATCH_NEVER };

static int str_match_from(struct mg_str s, size_t i, struct mg_str p, size_t j, struct mg_str *caps,
                          size_t ncap) {
  while (j < p.len) {
    char c = p.buf[j];
    if (c == '#' || c == '*') {
      for (size_t k = i;; k++) {
        int r = str_match_from(s, k, p, j + 1, caps, ncap + 1);
        if (r == STR_MATCH_OK) {
          if (caps != NULL) caps[ncap] = mg_str_n(s.buf == NULL ? NULL : s.buf + i, k - i);
          return r;
        }
        // NEVER from k holds for every later k too: only a '#' may pass it on
        if (r == STR_MATCH_NEVER) return c == '#' ? r : STR_MATCH_FAIL;
        if (k == s.len || (c == '*' && s.buf[k] == '/')) break;
      }
      return c == '#' ? STR_MATCH_NEVER : STR_MATCH_FAIL;
    }
    if (i >= s.len || (c != '?' && c != s.buf[i])) return STR_MATCH_FAIL;
    if (c == '?' && caps != NULL) caps[ncap] = mg_str_n(s.buf + i, 1);
    if (c == '?') ncap++;
    i++, j++;
  }
  if (i != s.len) return STR_MATCH_FAIL;
  if (caps != NULL) caps[ncap] = mg_str_n("", 0);
  return STR_MATCH_OK;
}

bool mg_match(struct mg_str s, struct mg_str p, struct mg_str *caps) {
  return str_match_from(s, 0, p, 0, caps, 0) == STR_MATCH_OK;
}

bool mg_str_to_u64(struct mg_str s, int base, uint64_t *out) {
  uint64_t v = 0;
  if (s.len == 0 || (base != 10 && base != 16)) return false;
  for (size_t i = 0; i < s.len; i++) {
    int c = (unsigned char) s.buf[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    // v * base + d <= UINT64_MAX without dividing (a library call on 32-bit CPUs):
    // UINT64_MAX is 10 * (UINT64_MAX / 10) + 5 and 16 * (UINT64_MAX / 16) + 15
    uint64_t most = base == 10 ? UINT64_MAX / 10 : UINT64_MAX / 16;
    if (v > most || (v == most && d > (base == 10 ? 5 : 15))) return false;
    v = v * (uint64_t) base + (uint64_t) d;
  }
  *out = v;
  return true;
}
