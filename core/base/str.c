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
    if (ca != cb) return ca - cb;
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

bool mg_str_eq(struct mg_str a, const char *b) {
  return mg_strcmp(a, mg_str(b)) == 0;
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

// Greedy glob: on a mismatch, the most recent wildcard takes one more character
// and matching resumes after it. Captures record what each wildcard took.
bool mg_match(struct mg_str s, struct mg_str p, struct mg_str *caps) {
  size_t i = 0, j = 0, star_i = 0, star_j = 0, ncap = 0, star_ncap = 0;
  bool have_star = false;
  while (i < s.len || j < p.len) {
    if (j < p.len && i < s.len && (p.buf[j] == '?' || s.buf[i] == p.buf[j])) {
      if (caps != NULL && p.buf[j] == '?') caps[ncap++] = mg_str_n(s.buf + i, 1);
      i++, j++;
    } else if (j < p.len && (p.buf[j] == '*' || p.buf[j] == '#')) {
      if (caps != NULL) caps[ncap] = mg_str_n(s.buf == NULL ? NULL : s.buf + i, 0);
      star_ncap = ++ncap;
      star_i = i, star_j = j, have_star = true;
      j++;
    } else if (have_star && star_i < s.len && (p.buf[star_j] == '*' || s.buf[star_i] != '/')) {
      star_i++;
      i = star_i, j = star_j + 1, ncap = star_ncap;
      if (caps != NULL) caps[ncap - 1].len++;
    } else {
      return false;
    }
  }
  if (caps != NULL) caps[ncap] = mg_str_n("", 0);
  return true;
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
    if (v > (UINT64_MAX - (uint64_t) d) / (uint64_t) base) return false;
    v = v * (uint64_t) base + (uint64_t) d;
  }
  *out = v;
  return true;
}
