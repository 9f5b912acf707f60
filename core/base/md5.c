// MD5 (RFC 1321) for Mongoose programs that still hash with it (Digest auth, ETags,
// legacy checksums); nothing in the core trusts it for security.
#include "mg_internal.h"

static uint32_t md5_rotl(uint32_t x, unsigned n) {
  return (x << n) | (x >> (32 - n));
}

static uint32_t md5_load_le32(const unsigned char *p) {
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

// RFC 1321 3.4: four rounds of sixteen steps; T[i] = floor(2^32 * |sin(i + 1)|)
static void md5_block(uint32_t st[4], const unsigned char block[64]) {
  static const uint32_t t[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
      0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
      0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
      0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
      0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
      0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
      0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
  static const unsigned char shift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
  uint32_t x[16], a = st[0], b = st[1], c = st[2], d = st[3];
  for (int i = 0; i < 16; i++) x[i] = md5_load_le32(block + 4 * i);
  for (int i = 0; i < 64; i++) {
    int round = i / 16;
    uint32_t f;
    int k;
    if (round == 0) f = (b & c) | (~b & d), k = i;
    else if (round == 1) f = (b & d) | (c & ~d), k = (5 * i + 1) % 16;
    else if (round == 2) f = b ^ c ^ d, k = (3 * i + 5) % 16;
    else f = c ^ (b | ~d), k = (7 * i) % 16;
    uint32_t next = b + md5_rotl(a + f + x[k] + t[i], shift[round][i % 4]);
    a = d, d = c, c = b, b = next;
  }
  st[0] += a, st[1] += b, st[2] += c, st[3] += d;
}

void mg_md5_init(mg_md5_ctx *ctx) {
  ctx->buf[0] = 0x67452301, ctx->buf[1] = 0xefcdab89;
  ctx->buf[2] = 0x98badcfe, ctx->buf[3] = 0x10325476;
  ctx->bits[0] = ctx->bits[1] = 0;
}

// bits[] is the 64-bit message length in bits (low word first); the bytes not yet
// hashed are the first (bits / 8) % 64 of in[]
void mg_md5_update(mg_md5_ctx *ctx, const unsigned char *data, size_t len) {
  size_t have = (ctx->bits[0] >> 3) & 63;
  uint64_t bits = ((uint64_t) ctx->bits[1] << 32 | ctx->bits[0]) + ((uint64_t) len << 3);
  ctx->bits[0] = (uint32_t) bits, ctx->bits[1] = (uint32_t) (bits >> 32);
  while (len > 0) {
    size_t take = 64 - have < len ? 64 - have : len;
    memcpy(ctx->in + have, data, take);
    have += take, data += take, len -= take;
    if (have == 64) md5_block(ctx->buf, ctx->in), have = 0;
  }
}

// RFC 1321 3.1-3.2: a 1 bit, zeros to 56 bytes mod 64, the bit length little-endian
void mg_md5_final(mg_md5_ctx *ctx, unsigned char digest[16]) {
  unsigned char len_le[8];
  for (int i = 0; i < 8; i++) len_le[i] = (unsigned char) (ctx->bits[i / 4] >> (8 * (i % 4)));
  static const unsigned char pad[64] = {0x80};
  size_t have = (ctx->bits[0] >> 3) & 63;
  mg_md5_update(ctx, pad, have < 56 ? 56 - have : 120 - have);
  mg_md5_update(ctx, len_le, 8);
  for (int i = 0; i < 16; i++) digest[i] = (unsigned char) (ctx->buf[i / 4] >> (8 * (i % 4)));
  mg_bzero((volatile unsigned char *) ctx, sizeof(*ctx));
}
