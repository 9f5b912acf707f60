// UTF-8 validation (RFC 3629), strict: no overlongs, no surrogates, nothing past
// U+10FFFF. JSON strings and WebSocket text share it.
#include "meerkat.h"

// The table of RFC 3629 section 4: each lead byte allows one range for the byte
// after it (which is where overlongs, surrogates and code points past U+10FFFF show)
size_t mg_utf8_len(const void *buf, size_t n) {
  const uint8_t *s = (const uint8_t *) buf;
  uint8_t c = s[0], lo = 0x80, hi = 0xbf;
  size_t len;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;  // Overlong below U+0800
    if (c == 0xed) hi = 0x9f;  // Surrogates U+D800..U+DFFF
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;  // Overlong below U+10000
    if (c == 0xf4) hi = 0x8f;  // Past U+10FFFF
  } else {
    return 0;  // 0x80..0xc1 (continuation, overlong 2-byte) and 0xf5..0xff
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
  }
  return len;
}

static bool utf8_ascii8(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return (w & 0x8080808080808080ULL) == 0;
}

bool mg_utf8_valid(const void *buf, size_t len) {
  const uint8_t *s = (const uint8_t *) buf;
  size_t i = 0;
  while (i < len) {
    while (i + 8 <= len && utf8_ascii8(s + i)) i += 8;  // ASCII runs, a word at a time
    if (i >= len) break;
    size_t n = mg_utf8_len(s + i, len - i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}
