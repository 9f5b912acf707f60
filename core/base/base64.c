// Base64 (RFC 4648 section 4, standard alphabet, padded): encoding and a
// strict decoder that rejects bad characters, bad padding and non-zero pad bits.
#include "meerkat.h"

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of one alphabet character, -1 for anything else (including '=')
static int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t mg_base64_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen) {
  if (n > 0 && src == NULL) return 0;
  if (n / 3 >= SIZE_MAX / 4) return 0;  // Output length would overflow
  size_t out_len = (n + 2) / 3 * 4;
  if (dst == NULL || dstlen < out_len) {
    if (dst != NULL && dstlen > 0) dst[0] = '\0';
    return 0;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    size_t left = n - i;
    uint32_t group = (uint32_t) src[i] << 16;
    if (left > 1) group |= (uint32_t) src[i + 1] << 8;
    if (left > 2) group |= (uint32_t) src[i + 2];
    dst[o++] = base64_alphabet[(group >> 18) & 63];
    dst[o++] = base64_alphabet[(group >> 12) & 63];
    dst[o++] = left > 1 ? base64_alphabet[(group >> 6) & 63] : '=';
    dst[o++] = left > 2 ? base64_alphabet[group & 63] : '=';
  }
  if (dstlen > out_len) dst[out_len] = '\0';
  return out_len;
}

size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t dstlen) {
  if (dst != NULL && dstlen > 0) dst[0] = '\0';  // Result on every error path
  if (dst == NULL || (n > 0 && src == NULL) || n % 4 != 0) return 0;
  size_t pad = 0;
  if (n > 0 && src[n - 1] == '=') pad++;
  if (pad == 1 && src[n - 2] == '=') pad++;
  size_t out_len = n / 4 * 3 - pad;
  if (dstlen < out_len) return 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    bool last = i + 4 == n;
    size_t chars = last ? 4 - pad : 4;  // Alphabet characters in this group
    uint32_t group = 0;
    for (size_t k = 0; k < 4; k++) {
      int v = k < chars ? base64_value((unsigned char) src[i + k]) : 0;
      if (v < 0) goto bad;  // Includes '=' anywhere but the padding slots
      group = group << 6 | (uint32_t) v;
    }
    // Canonical encodings only: the bits the padding stands for must be zero
    if ((pad == 1 && last && (group & 0xff) != 0) || (pad == 2 && last && (group & 0xffff) != 0))
      goto bad;
    dst[o++] = (char) (group >> 16);
    if (chars > 2) dst[o++] = (char) (group >> 8);
    if (chars > 3) dst[o++] = (char) group;
  }
  if (dstlen > out_len) dst[out_len] = '\0';
  return out_len;
bad:
  if (dstlen > 0) dst[0] = '\0';
  return 0;
}
