// Fuzz mg_url_decode and mg_path_normalize: decoded output is well-formed and
// a path that normalises never escapes the root, whatever its spelling.
#include "meerkat.h"

static bool has(const char *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(s + i, lit, k) == 0) return true;
  return false;
}

static bool ends_with(const char *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  return n >= k && memcmp(s + n - k, lit, k) == 0;
}

// Normalise a heap copy of exactly len bytes (no room for a NUL: ASan catches
// a write at path[len]) and check the result.
static void check_normalize(const char *src, size_t len) {
  char *p = (char *) malloc(len > 0 ? len : 1);
  if (p == NULL) return;
  if (len > 0) memcpy(p, src, len);
  if (mg_path_normalize(p, len)) {
    size_t n = 0;
    while (n < len && p[n] != '\0') n++;  // Result: NUL-terminated if shorter
    if (n == 0 || p[0] != '/') __builtin_trap();
    if (has(p, n, "/../") || ends_with(p, n, "/..")) __builtin_trap();
    if (has(p, n, "//") || has(p, n, "/./") || ends_with(p, n, "/.") || has(p, n, "\\"))
      __builtin_trap();
    // Normalising again changes nothing
    char *q = (char *) malloc(n);
    if (q != NULL) {
      memcpy(q, p, n);
      if (!mg_path_normalize(q, n) || memcmp(p, q, n) != 0) __builtin_trap();
      free(q);
    }
  }
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int is_form = data[0] & 1;
  size_t dst_len = data[0] >> 1;  // Small buffers exercise "too small"
  const char *src = (const char *) data + 1;
  size_t src_len = size - 1;

  char *dst = (char *) malloc(dst_len > 0 ? dst_len : 1);
  if (dst == NULL) return 0;
  int n = mg_url_decode(src, src_len, dst, dst_len, is_form);
  if (n < -1 || (n >= 0 && ((size_t) n > src_len || (size_t) n >= dst_len))) __builtin_trap();
  if (n >= 0 && dst[n] != '\0') __builtin_trap();
  if (n < 0 && dst_len > 0 && dst[0] != '\0') __builtin_trap();
  // A big enough buffer fails only on a bad escape, and then always
  char *big = (char *) malloc(src_len + 1);
  if (big != NULL) {
    int m = mg_url_decode(src, src_len, big, src_len + 1, is_form);
    if (n >= 0 && m != n) __builtin_trap();
    if (m >= 0 && n >= 0 && memcmp(big, dst, (size_t) n) != 0) __builtin_trap();
    if (m >= 0) check_normalize(big, (size_t) m);
    free(big);
  }
  free(dst);
  check_normalize(src, src_len);  // Raw bytes too
  return 0;
}
