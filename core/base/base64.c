// Base64 (RFC 4648: section 4, standard and padded; section 5, URL-safe and unpadded):
// encoders and strict decoders that reject bad characters, padding and pad bits.
#include "meerkat.h"

static const char base64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Value of one alphabet character, -1 for anything else (including '=')
static int base64_value(unsigned char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

// Both alphabets; the URL one (RFC 4648 section 5) goes without padding, as in JWTs
static size_t base64_encode(const char *alphabet, bool pad, const unsigned char *src, size_t n, char *dst,
                            size_t dstlen) {
  if (n > 0 && src == NULL) return 0;
  if (n / 3 >= SIZE_MAX / 4) return 0;  // Output length would overflow
  size_t out_len = pad ? (n + 2) / 3 * 4 : n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
  if (dst == NULL || dstlen <= out_len) {  // The text and its NUL, as in Mongoose 7.22
    if (dst != NULL && dstlen > 0) dst[0] = '\0';
    return 0;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    size_t left = n - i;
    uint32_t group = (uint32_t) src[i] << 16;
    if (left > 1) group |= (uint32_t) src[i + 1] << 8;
    if (left > 2) group |= (uint32_t) src[i + 2];
    dst[o++] = alphabet[(group >> 18) & 63];
    dst[o++] = alphabet[(group >> 12) & 63];
    if (left > 1 || pad) dst[o++] = left > 1 ? alphabet[(group >> 6) & 63] : '=';
    if (left > 2 || pad) dst[o++] = left > 2 ? alphabet[group & 63] : '=';
  }
  dst[out_len] = '\0';
  return out_len;
}

size_t mg_base64_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen) {
  return base64_encode(base64_std, true, src, n, dst, dstlen);
}

// The running encoding says where a byte goes: 0 characters of the group so far, the
// byte starts one (two characters, the second holding its last two bits); 2 or 3, it
// completes the character before and adds one or two more
size_t mg_base64_update(unsigned char b, char *buf, size_t len) {
  int prev = len % 4 == 0 ? 0 : base64_value((unsigned char) buf[len - 1], false);
  if (prev < 0) prev = 0;  // Not a running encoding: treat the bits as zero
  switch (len % 4) {
    case 0:
      buf[len++] = base64_std[b >> 2];
      buf[len++] = base64_std[(b & 3) << 4];
      break;
    case 2:
      buf[len - 1] = base64_std[prev | b >> 4];
      buf[len++] = base64_std[(b & 15) << 2];
      break;
    default:
      buf[len - 1] = base64_std[prev | b >> 6];
      buf[len++] = base64_std[b & 63];
      break;
  }
  return len;
}

size_t mg_base64_final(char *buf, size_t len) {
  while (len % 4 != 0) buf[len++] = '=';
  buf[len] = '\0';
  return len;
}

size_t mg_base64url_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen) {
  return base64_encode(base64_url, false, src, n, dst, dstlen);
}

// Standard: padded to whole groups of four. URL: unpadded, so the last group may
// hold 2 or 3 characters (never 1: that is not a whole byte)
static size_t base64_decode(bool url, const char *src, size_t n, char *dst, size_t dstlen) {
  if (dst != NULL && dstlen > 0) dst[0] = '\0';  // Result on every error path
  if (dst == NULL || (n > 0 && src == NULL) || (url ? n % 4 == 1 : n % 4 != 0)) return 0;
  size_t tail = url ? n % 4 : 0;  // Characters in a short last group
  if (!url && n > 0 && src[n - 1] == '=') tail = src[n - 2] == '=' ? 2 : 3;
  size_t groups = url ? (n + 3) / 4 : n / 4;
  size_t out_len = (tail == 0 ? groups : groups - 1) * 3 + (tail == 0 ? 0 : tail - 1);
  if (dstlen <= out_len) return 0;  // The bytes and a NUL, as in Mongoose 7.22
  size_t o = 0;
  for (size_t g = 0; g < groups; g++) {
    bool last = g + 1 == groups;
    size_t chars = last && tail != 0 ? tail : 4;  // Alphabet characters in this group
    uint32_t group = 0;
    for (size_t k = 0; k < 4; k++) {
      int v = k < chars ? base64_value((unsigned char) src[g * 4 + k], url) : 0;
      if (v < 0) goto bad;  // Includes '=' anywhere but the padding slots
      group = group << 6 | (uint32_t) v;
    }
    // Canonical encodings only: the bits the missing characters stand for must be zero
    if ((chars == 3 && (group & 0xff) != 0) || (chars == 2 && (group & 0xffff) != 0)) goto bad;
    dst[o++] = (char) (group >> 16);
    if (chars > 2) dst[o++] = (char) (group >> 8);
    if (chars > 3) dst[o++] = (char) group;
  }
  dst[out_len] = '\0';
  return out_len;
bad:
  if (dstlen > 0) dst[0] = '\0';
  return 0;
}

size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t dstlen) {
  return base64_decode(false, src, n, dst, dstlen);
}

size_t mg_base64url_decode(const char *src, size_t n, char *dst, size_t dstlen) {
  return base64_decode(true, src, n, dst, dstlen);
}
