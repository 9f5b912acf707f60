// Small algorithms with no better home: CRC-32, SHA-1, random bytes and
// strings, byte order, URL encoding, number parsing, UTC time. Base64 lives in base64.c.
#include "meerkat.h"
#include "port/port.h"

// CRC-32 as in IEEE 802.3 (reflected, polynomial 0xEDB88320), four bits per
// step: a 16-entry table is a fair trade between speed and flash on devices.
static const uint32_t util_crc32_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c};

uint32_t mg_crc32(uint32_t crc, const char *buf, size_t len) {
  crc = ~crc;  // Passing the previous result continues a running CRC
  for (size_t i = 0; i < len; i++) {
    crc ^= (unsigned char) buf[i];
    crc = (crc >> 4) ^ util_crc32_nibble[crc & 15];
    crc = (crc >> 4) ^ util_crc32_nibble[crc & 15];
  }
  return ~crc;
}

// SHA-1 (FIPS 180-4 section 6.1). count[] holds the message length in bits,
// low word first.
static uint32_t util_rol(uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

static uint32_t util_load_be32(const unsigned char *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void util_store_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char) (v >> 24), p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8), p[3] = (unsigned char) v;
}

static void util_sha1_block(uint32_t state[5], const unsigned char block[64]) {
  uint32_t w[16];  // The message schedule, kept as a rolling window of 16 words
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
  for (int t = 0; t < 16; t++) w[t] = util_load_be32(block + 4 * t);
  for (int t = 0; t < 80; t++) {
    if (t >= 16) {
      w[t & 15] = util_rol(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
    }
    uint32_t f, k;
    if (t < 20) f = (b & c) | (~b & d), k = 0x5a827999;
    else if (t < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
    else if (t < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
    else f = b ^ c ^ d, k = 0xca62c1d6;
    uint32_t tmp = util_rol(a, 5) + f + e + k + w[t & 15];
    e = d, d = c, c = util_rol(b, 30), b = a, a = tmp;
  }
  state[0] += a, state[1] += b, state[2] += c, state[3] += d, state[4] += e;
}

void mg_sha1_init(mg_sha1_ctx *ctx) {
  static const uint32_t initial[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  memcpy(ctx->state, initial, sizeof(initial));
  ctx->count[0] = ctx->count[1] = 0;
}

void mg_sha1_update(mg_sha1_ctx *ctx, const unsigned char *data, size_t len) {
  size_t used = (ctx->count[0] >> 3) & 63;
  uint64_t bits = ((uint64_t) ctx->count[1] << 32 | ctx->count[0]) + ((uint64_t) len << 3);
  ctx->count[0] = (uint32_t) bits, ctx->count[1] = (uint32_t) (bits >> 32);
  while (len > 0) {
    if (used == 0 && len >= 64) {  // Whole blocks straight from the input
      util_sha1_block(ctx->state, data);
      data += 64, len -= 64;
      continue;
    }
    size_t take = 64 - used < len ? 64 - used : len;
    memcpy(ctx->buffer + used, data, take);
    used += take, data += take, len -= take;
    if (used == 64) {
      util_sha1_block(ctx->state, ctx->buffer);
      used = 0;
    }
  }
}

void mg_sha1_final(unsigned char digest[20], mg_sha1_ctx *ctx) {
  static const unsigned char padding[64] = {0x80};
  unsigned char length[8];
  size_t used = (ctx->count[0] >> 3) & 63;
  util_store_be32(length, ctx->count[1]);
  util_store_be32(length + 4, ctx->count[0]);
  // 0x80, then zeros up to 56 mod 64, then the 64-bit length
  mg_sha1_update(ctx, padding, used < 56 ? 56 - used : 120 - used);
  mg_sha1_update(ctx, length, sizeof(length));
  for (int i = 0; i < 5; i++) util_store_be32(digest + 4 * i, ctx->state[i]);
  memset(ctx, 0, sizeof(*ctx));  // Leave no message state behind
}

// xorshift64* for hosts without an entropy source. Not for secrets: it is
// seeded from the clock and a stack address only.
static uint64_t util_prng_state;

static uint8_t util_prng_byte(void) {
  if (util_prng_state == 0) {
    int local;
    util_prng_state = (uint64_t) (uintptr_t) &local ^ mg_millis() << 20 ^ 0x9e3779b97f4a7c15;
    if (util_prng_state == 0) util_prng_state = 1;  // 0 is a fixed point
  }
  util_prng_state ^= util_prng_state >> 12;
  util_prng_state ^= util_prng_state << 25;
  util_prng_state ^= util_prng_state >> 27;
  return (uint8_t) ((util_prng_state * 0x2545f4914f6cdd1d) >> 56);
}

// Fills buf; returns true only when all of it came from the port's entropy
// source, false when the weak generator above filled it.
bool mg_random(void *buf, size_t len) {
  unsigned char *p = (unsigned char *) buf;
  if (mg_port_random(buf, len)) return true;
  for (size_t i = 0; i < len; i++) p[i] = util_prng_byte();
  return false;
}

// Rejection sampling keeps the 62 symbols equally likely: bytes >= 248
// (4 * 62) are discarded.
char *mg_random_str(char *buf, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char pool[32];
  size_t used = sizeof(pool);
  if (buf == NULL || len == 0) return buf;
  for (size_t i = 0; i + 1 < len;) {
    if (used == sizeof(pool)) {
      mg_random(pool, sizeof(pool));
      used = 0;
    }
    unsigned char r = pool[used++];
    if (r < 248) buf[i++] = alphabet[r % 62];
  }
  buf[len - 1] = '\0';
  return buf;
}

uint16_t mg_ntohs(uint16_t net) {
  unsigned char b[2];
  memcpy(b, &net, sizeof(b));
  return (uint16_t) (b[0] << 8 | b[1]);
}

uint32_t mg_ntohl(uint32_t net) {
  unsigned char b[4];
  memcpy(b, &net, sizeof(b));
  return util_load_be32(b);
}

uint64_t mg_ntohll(uint64_t net) {
  unsigned char b[8];
  memcpy(b, &net, sizeof(b));
  return (uint64_t) util_load_be32(b) << 32 | util_load_be32(b + 4);
}

size_t mg_url_encode(const char *s, size_t n, char *buf, size_t len) {
  static const char hex[] = "0123456789ABCDEF";  // RFC 3986 2.1: uppercase
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    bool plain = isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
    size_t need = plain ? 1 : 3;
    if (o + need >= len) {  // Keep room for the NUL
      if (len > 0) buf[0] = '\0';
      return 0;
    }
    if (plain) {
      buf[o++] = (char) c;
    } else {
      buf[o++] = '%';
      buf[o++] = hex[c >> 4];
      buf[o++] = hex[c & 15];
    }
  }
  if (o >= len) return 0;  // Only when len is 0
  buf[o] = '\0';
  return o;
}

static int util_digit(int c, int base) {
  int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
  return d < base ? d : -1;
}

bool mg_str_to_num(struct mg_str s, int base, void *val, size_t val_len) {
  size_t i = 0;
  uint64_t v = 0, max;
  if (val_len == 8) max = UINT64_MAX;
  else if (val_len == 4 || val_len == 2 || val_len == 1) max = ((uint64_t) 1 << (8 * val_len)) - 1;
  else return false;
  if (base == 0) {
    base = 10;
    if (s.len > 2 && s.buf[0] == '0' && (s.buf[1] == 'x' || s.buf[1] == 'X')) base = 16, i = 2;
    else if (s.len > 2 && s.buf[0] == '0' && (s.buf[1] == 'b' || s.buf[1] == 'B')) base = 2, i = 2;
  }
  if ((base != 2 && base != 10 && base != 16) || i >= s.len) return false;
  for (; i < s.len; i++) {
    int d = util_digit((unsigned char) s.buf[i], base);
    if (d < 0 || v > (max - (uint64_t) d) / (uint64_t) base) return false;
    v = v * (uint64_t) base + (uint64_t) d;
  }
  if (val_len == 8) {
    uint64_t x = v;
    memcpy(val, &x, 8);
  } else if (val_len == 4) {
    uint32_t x = (uint32_t) v;
    memcpy(val, &x, 4);
  } else if (val_len == 2) {
    uint16_t x = (uint16_t) v;
    memcpy(val, &x, 2);
  } else {
    uint8_t x = (uint8_t) v;
    memcpy(val, &x, 1);
  }
  return true;
}

// Days from 1970-01-01 to a proleptic Gregorian date, by counting in 400-year
// eras that start on March 1st (so the leap day is the last day of a year)
static int64_t util_days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

time_t mg_timegm(const struct tm *t) {
  // Out-of-range months and days carry over as in timegm (month 12 is next January)
  int64_t mon = t->tm_mon, year = (int64_t) t->tm_year + 1900 + mon / 12;
  mon %= 12;
  if (mon < 0) mon += 12, year--;
  int64_t days = util_days_from_civil(year, mon + 1, 1) + t->tm_mday - 1;
  return (time_t) (days * 86400 + (int64_t) t->tm_hour * 3600 + (int64_t) t->tm_min * 60 + t->tm_sec);
}

bool mg_path_is_sane(const struct mg_str path) {
  size_t start = 0;
  for (size_t i = 0; i <= path.len; i++) {
    if (i == path.len || path.buf[i] == '/' || path.buf[i] == '\\') {
      if (i - start == 2 && path.buf[start] == '.' && path.buf[start + 1] == '.') return false;
      start = i + 1;
    }
  }
  return true;
}
