// SHA-384 (FIPS 180-4 6.5: SHA-512's compression, its own initial value, 48 bytes out),
// with Mongoose 7.22's context and names.
#include "mg_internal.h"

static uint64_t sha384_rotr(uint64_t x, unsigned n) {
  return (x >> n) | (x << (64 - n));
}

// FIPS 180-4 4.2.3: the first 64 bits of the fractional parts of the cube roots of
// the first 80 primes
static const uint64_t sha384_k[80] = {
      0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
      0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
      0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
      0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
      0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
      0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
      0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
      0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
      0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
      0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
      0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
      0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
      0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
      0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
      0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
      0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
      0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
      0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
      0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
      0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL};

// FIPS 180-4 6.4.2: eighty rounds over a message schedule of 80 words
static void sha384_block(uint64_t st[8], const uint8_t block[128]) {
  uint64_t w[80], v[8];
  for (int i = 0; i < 16; i++) w[i] = MG_LOAD_BE64(block + 8 * i);
  for (int i = 16; i < 80; i++) {
    uint64_t s0 = sha384_rotr(w[i - 15], 1) ^ sha384_rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = sha384_rotr(w[i - 2], 19) ^ sha384_rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  memcpy(v, st, sizeof(v));
  for (int i = 0; i < 80; i++) {
    uint64_t e = v[4], a = v[0];
    uint64_t t1 = v[7] + (sha384_rotr(e, 14) ^ sha384_rotr(e, 18) ^ sha384_rotr(e, 41)) +
                  ((e & v[5]) ^ (~e & v[6])) + sha384_k[i] + w[i];
    uint64_t t2 = (sha384_rotr(a, 28) ^ sha384_rotr(a, 34) ^ sha384_rotr(a, 39)) +
                  ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
    memmove(v + 1, v, 7 * sizeof(v[0]));
    v[4] += t1, v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++) st[i] += v[i];
}

// FIPS 180-4 5.3.4: the first 64 bits of the fractional parts of the square roots
// of the ninth to sixteenth primes
void mg_sha384_init(mg_sha384_ctx *ctx) {
  static const uint64_t h[8] = {0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL, 0x152fecd8f70e5939ULL, 0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL, 0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL};
  memcpy(ctx->state, h, sizeof(h));
  ctx->bitlen[0] = ctx->bitlen[1] = 0;  // The 128-bit message length: [0] high, [1] low
  ctx->datalen = 0;                     // Bytes waiting in buffer[]
}

void mg_sha384_update(mg_sha384_ctx *ctx, const uint8_t *data, size_t len) {
  while (len > 0) {
    size_t take = 128 - ctx->datalen < len ? 128 - ctx->datalen : len;
    memcpy(ctx->buffer + ctx->datalen, data, take);
    ctx->datalen += (uint32_t) take, data += take, len -= take;
    uint64_t low = ctx->bitlen[1] + ((uint64_t) take << 3);
    if (low < ctx->bitlen[1]) ctx->bitlen[0]++;
    ctx->bitlen[1] = low;
    if (ctx->datalen == 128) sha384_block(ctx->state, ctx->buffer), ctx->datalen = 0;
  }
}

// FIPS 180-4 5.1.2: a 1 bit, zeros to 112 bytes mod 128, the 128-bit length
void mg_sha384_final(uint8_t digest[48], mg_sha384_ctx *ctx) {
  uint8_t len_be[16];
  MG_STORE_BE64(len_be, ctx->bitlen[0]);
  MG_STORE_BE64(len_be + 8, ctx->bitlen[1]);
  static const uint8_t pad[128] = {0x80};
  mg_sha384_update(ctx, pad, ctx->datalen < 112 ? 112 - ctx->datalen : 240 - ctx->datalen);
  mg_sha384_update(ctx, len_be, sizeof(len_be));
  for (int i = 0; i < 6; i++) MG_STORE_BE64(digest + 8 * i, ctx->state[i]);
  mg_bzero((volatile unsigned char *) ctx, sizeof(*ctx));
}

void mg_sha384(uint8_t dst[48], uint8_t *data, size_t datasz) {
  mg_sha384_ctx ctx;
  mg_sha384_init(&ctx);
  mg_sha384_update(&ctx, data, datasz);
  mg_sha384_final(dst, &ctx);
}
