// Fuzzes mg_print_esc with arbitrary bytes: what %m prints is valid UTF-8 and one
// JSON string, and reads back as the input with each invalid UTF-8 byte as U+FFFD.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// The input as the printed string should read back: invalid bytes as U+FFFD (3 bytes)
static size_t fuzz_esc_expected(const uint8_t *in, size_t n, char *want) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = mg_utf8_len(in + i, n - i);
    if (k == 0) {
      memcpy(want + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
    } else {
      memcpy(want + o, in + i, k);
      o += k;
      i += k;
    }
  }
  return o;
}

// The body of the printed string unescaped one character at a time, so that
// \u0000 (which mg_json_unescape refuses in a C string) comes back as a NUL too
static size_t fuzz_esc_read_back(const char *printed, size_t plen, char *got) {
  size_t o = 0;
  for (size_t i = 1; i + 1 < plen;) {  // Between the quotes
    size_t k = printed[i] != '\\' ? mg_utf8_len(printed + i, plen - 1 - i) : printed[i + 1] == 'u' ? 6 : 2;
    char one[5];
    if (mg_json_unescape_body(mg_str_n(printed + i, k), one, sizeof(one))) {
      memcpy(got + o, one, strlen(one));
      o += strlen(one);
    } else if (k == 6 && memcmp(printed + i, "\\u0000", 6) == 0) {
      got[o++] = '\0';
    } else {
      __builtin_trap();
    }
    i += k;
  }
  return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 65536) return 0;
  // Copied so that ASan catches any read past the explicit length
  char *in = (char *) malloc(size == 0 ? 1 : size);
  char *want = (char *) malloc(3 * size + 1);
  if (in != NULL && want != NULL) {
    if (size > 0) memcpy(in, data, size);
    char *printed = mg_mprintf("%m", mg_print_esc, (int) size, in);
    char *got = printed == NULL ? NULL : (char *) malloc(strlen(printed) + 1);
    if (got != NULL) {
      size_t plen = strlen(printed);
      int toklen = 0;
      if (!mg_utf8_valid(printed, plen)) __builtin_trap();
      if (mg_json_get(mg_str_n(printed, plen), "$", &toklen) != 0 || (size_t) toklen != plen) __builtin_trap();
      size_t wlen = fuzz_esc_expected(data, size, want), glen = fuzz_esc_read_back(printed, plen, got);
      if (glen != wlen || memcmp(got, want, wlen) != 0) __builtin_trap();
    }
    free(got);
    mg_free(printed);
  }
  free(want);
  free(in);
  return 0;
}
