// SHA-256 (FIPS 180-4) in portable C, or with the x86 SHA extensions where the CPU has them;
// HMAC-SHA256 (RFC 2104), PBKDF2-HMAC-SHA256 (RFC 8018), a constant-time comparison; no allocation.
#include "mg_internal.h"

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define SHA256_ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))
// Schedule word i (i >= 16) in a rolling window of 16 (64 bytes of stack, not 256)
#define SHA256_W(w, i)                                                                       \
  (w[(i) & 15] += (SHA256_ROR(w[((i) - 15) & 15], 7) ^ SHA256_ROR(w[((i) - 15) & 15], 18) ^ \
                   (w[((i) - 15) & 15] >> 3)) +                                                \
                  w[((i) - 7) & 15] +                                                         \
                  (SHA256_ROR(w[((i) - 2) & 15], 17) ^ SHA256_ROR(w[((i) - 2) & 15], 19) ^    \
                   (w[((i) - 2) & 15] >> 10)))
// One round with the working variables named in their rotated order, so that the
// eight-way shuffle of FIPS 180-4 costs no moves: only d and h change
#define SHA256_ROUND(a, b, c, d, e, f, g, h, i, wi)                                                      \
  do {                                                                                                  \
    uint32_t t1_ = h + (SHA256_ROR(e, 6) ^ SHA256_ROR(e, 11) ^ SHA256_ROR(e, 25)) + (g ^ (e & (f ^ g))) + \
                   sha256_k[i] + (wi);                                                                  \
    d += t1_;                                                                                           \
    h = t1_ + (SHA256_ROR(a, 2) ^ SHA256_ROR(a, 13) ^ SHA256_ROR(a, 22)) + ((a & b) | (c & (a | b)));   \
  } while (0)

// Eight rounds from i; the schedule word is loaded (first 16 rounds) or derived
#define SHA256_EIGHT(i, W)                               \
  do {                                                   \
    SHA256_ROUND(a, b, c, d, e, f, g, h, (i) + 0, W((i) + 0)); \
    SHA256_ROUND(h, a, b, c, d, e, f, g, (i) + 1, W((i) + 1)); \
    SHA256_ROUND(g, h, a, b, c, d, e, f, (i) + 2, W((i) + 2)); \
    SHA256_ROUND(f, g, h, a, b, c, d, e, (i) + 3, W((i) + 3)); \
    SHA256_ROUND(e, f, g, h, a, b, c, d, (i) + 4, W((i) + 4)); \
    SHA256_ROUND(d, e, f, g, h, a, b, c, (i) + 5, W((i) + 5)); \
    SHA256_ROUND(c, d, e, f, g, h, a, b, (i) + 6, W((i) + 6)); \
    SHA256_ROUND(b, c, d, e, f, g, h, a, (i) + 7, W((i) + 7)); \
  } while (0)

// One 64-byte block into state. One copy of the eight rounds: a quarter of the
// code of full unrolling on a microcontroller's flash, for a few percent of speed.
static void sha256_compress(uint32_t state[8], const unsigned char *block) {
  uint32_t w[16], a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5],
                  g = state[6], h = state[7];
#define SHA256_WORD(i) ((i) < 16 ? (w[i] = MG_LOAD_BE32(block + 4 * (i))) : SHA256_W(w, i))
  for (int i = 0; i < 64; i += 8) SHA256_EIGHT(i, SHA256_WORD);
#undef SHA256_WORD
  state[0] += a, state[1] += b, state[2] += c, state[3] += d;
  state[4] += e, state[5] += f, state[6] += g, state[7] += h;
}

static void sha256_blocks_portable(uint32_t state[8], const unsigned char *data, size_t blocks) {
  for (; blocks > 0; blocks--, data += 64) sha256_compress(state, data);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

// Compiled for SHA-NI whatever the build's flags, and called only where cpuid says the CPU has it
#define SHA256_NI __attribute__((target("sha,sse4.1,ssse3")))

// Schedule words t..t+3 from the 16 before them, w0 the oldest four (FIPS 180-4 6.2.2 step 1):
// MSG1 adds sigma0 of W[t-15] to W[t-16], MSG2 adds sigma1 of W[t-2] once W[t-7] is in
SHA256_NI static inline __m128i sha256_ni_schedule(__m128i w0, __m128i w1, __m128i w2, __m128i w3) {
  __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(t, w3);
}

// Four rounds from round i. RNDS2 takes the state as ABEF and CDGH (A in the top lane) and
// returns the new ABEF, while the old ABEF is the new CDGH: so the two swap roles each call.
#define SHA256_NI_FOUR(abef, cdgh, w, i)                                                  \
  do {                                                                                     \
    __m128i wk_ = _mm_add_epi32((w), _mm_loadu_si128((const __m128i *) (sha256_k + (i)))); \
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                         \
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e));                \
  } while (0)

SHA256_NI static void sha256_blocks_shani(uint32_t state[8], const unsigned char *data, size_t blocks) {
  const __m128i big_endian = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) state), 0x1b);  // A in the top lane
  __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *) (state + 4)), 0x1b);
  __m128i abef = _mm_unpackhi_epi64(efgh, abcd), cdgh = _mm_unpacklo_epi64(efgh, abcd);
  for (; blocks > 0; blocks--, data += 64) {
    __m128i abef_in = abef, cdgh_in = cdgh, w[4];
    for (int i = 0; i < 4; i++) {
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (data + 16 * i)), big_endian);
      SHA256_NI_FOUR(abef, cdgh, w[i], 4 * i);
    }
    for (int i = 4; i < 16; i++) {
      __m128i next = sha256_ni_schedule(w[0], w[1], w[2], w[3]);
      w[0] = w[1], w[1] = w[2], w[2] = w[3], w[3] = next;
      SHA256_NI_FOUR(abef, cdgh, next, 4 * i);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  abcd = _mm_unpackhi_epi64(cdgh, abef);
  efgh = _mm_unpacklo_epi64(cdgh, abef);
  _mm_storeu_si128((__m128i *) state, _mm_shuffle_epi32(abcd, 0x1b));
  _mm_storeu_si128((__m128i *) (state + 4), _mm_shuffle_epi32(efgh, 0x1b));
}

static bool sha256_cpu_has_sha_ni(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & bit_SSSE3) == 0 || (c & bit_SSE4_1) == 0) return false;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA) != 0;
}

// The block function, chosen on first use. Whoever races to choose stores the same
// pointer, and atomically: so it needs no lock and no initialisation call.
typedef void (*sha256_blocks_fn)(uint32_t state[8], const unsigned char *data, size_t blocks);
static sha256_blocks_fn sha256_chosen;

static sha256_blocks_fn sha256_choose(void) {
  sha256_blocks_fn f = __atomic_load_n(&sha256_chosen, __ATOMIC_RELAXED);
  if (f == NULL) {
    f = sha256_cpu_has_sha_ni() ? sha256_blocks_shani : sha256_blocks_portable;
    __atomic_store_n(&sha256_chosen, f, __ATOMIC_RELAXED);
  }
  return f;
}

static void sha256_blocks(uint32_t state[8], const unsigned char *data, size_t blocks) {
  sha256_choose()(state, data, blocks);
}

void mg_sha256_force_portable(bool portable) {
  __atomic_store_n(&sha256_chosen, portable ? sha256_blocks_portable : NULL, __ATOMIC_RELAXED);
}

bool mg_sha256_accelerated(void) {
  return sha256_choose() == sha256_blocks_shani;
}
#else
static void sha256_blocks(uint32_t state[8], const unsigned char *data, size_t blocks) {
  sha256_blocks_portable(state, data, blocks);
}

void mg_sha256_force_portable(bool portable) {
  (void) portable;  // Portable is all there is
}

bool mg_sha256_accelerated(void) {
  return false;
}
#endif

void mg_sha256_init(mg_sha256_ctx *ctx) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(ctx->state, iv, sizeof(iv));
  ctx->bits = 0;
}

void mg_sha256_update(mg_sha256_ctx *ctx, const unsigned char *data, size_t len) {
  size_t have = (size_t) (ctx->bits / 8 % 64);  // Bytes waiting in ctx->buffer
  ctx->bits += (uint64_t) len * 8;
  if (have > 0) {
    size_t n = 64 - have < len ? 64 - have : len;
    memcpy(ctx->buffer + have, data, n);
    data += n, len -= n, have += n;
    if (have < 64) return;
    sha256_blocks(ctx->state, ctx->buffer, 1);
  }
  if (len >= 64) sha256_blocks(ctx->state, data, len / 64);  // Straight from the caller's memory
  data += len / 64 * 64, len %= 64;
  if (len > 0) memcpy(ctx->buffer, data, len);
}

void mg_sha256_final(unsigned char digest[32], mg_sha256_ctx *ctx) {
  uint64_t bits = ctx->bits;
  size_t have = (size_t) (bits / 8 % 64);
  ctx->buffer[have++] = 0x80;
  if (have > 56) {  // No room for the length: it goes in one more block
    memset(ctx->buffer + have, 0, 64 - have);
    sha256_blocks(ctx->state, ctx->buffer, 1);
    have = 0;
  }
  memset(ctx->buffer + have, 0, 56 - have);
  MG_STORE_BE64(ctx->buffer + 56, bits);
  sha256_blocks(ctx->state, ctx->buffer, 1);
  for (int i = 0; i < 8; i++) MG_STORE_BE32(digest + 4 * i, ctx->state[i]);
}

void mg_sha256(unsigned char digest[32], const void *data, size_t len) {
  mg_sha256_ctx ctx;
  mg_sha256_init(&ctx);
  mg_sha256_update(&ctx, (const unsigned char *) data, len);
  mg_sha256_final(digest, &ctx);
}

// The HMAC key's inner and outer states: SHA-256 after one block of key ^ ipad / opad
static void sha256_hmac_keys(mg_sha256_ctx *inner, mg_sha256_ctx *outer, const void *key, size_t keylen) {
  unsigned char k[64], pad[64];
  memset(k, 0, sizeof(k));
  if (keylen > 64) {
    mg_sha256(k, key, keylen);  // RFC 2104: a long key is hashed first
  } else if (keylen > 0) {
    memcpy(k, key, keylen);
  }
  for (int i = 0; i < 64; i++) pad[i] = (unsigned char) (k[i] ^ 0x36);
  mg_sha256_init(inner);
  mg_sha256_update(inner, pad, 64);
  for (int i = 0; i < 64; i++) pad[i] = (unsigned char) (k[i] ^ 0x5c);
  mg_sha256_init(outer);
  mg_sha256_update(outer, pad, 64);
}

static void sha256_hmac_finish(unsigned char mac[32], mg_sha256_ctx *inner, mg_sha256_ctx *outer) {
  unsigned char ih[32];
  mg_sha256_final(ih, inner);
  mg_sha256_update(outer, ih, 32);
  mg_sha256_final(mac, outer);
}

void mg_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen, const void *data, size_t len) {
  mg_sha256_ctx inner, outer;
  sha256_hmac_keys(&inner, &outer, key, keylen);
  mg_sha256_update(&inner, (const unsigned char *) data, len);
  sha256_hmac_finish(mac, &inner, &outer);
}

// Finishes a hash of 64 + 32 bytes whose first block state holds and whose last 32 are
// in block (already padded): one compression, the digest back into block[0..31]
static void sha256_short_final(const uint32_t state[8], unsigned char block[64]) {
  uint32_t s[8];
  memcpy(s, state, sizeof(s));
  sha256_blocks(s, block, 1);
  for (int i = 0; i < 8; i++) MG_STORE_BE32(block + 4 * i, s[i]);
}

// PBKDF2 (RFC 8018 section 5.2) in steps. Each block T_i starts from the inner key
// state after the salt (kept, so the salt need not outlive start) and block number i;
// each later iteration is HMAC of a 32-byte U from the key states: two compressions.
void mg_pbkdf2_start(struct mg_pbkdf2 *p, const void *password, size_t passlen, const void *salt, size_t saltlen,
                     uint32_t iterations, unsigned char *out, size_t dklen) {
  memset(p, 0, sizeof(*p));
  sha256_hmac_keys(&p->inner, &p->outer, password, passlen);
  p->salted = p->inner;
  mg_sha256_update(&p->salted, (const unsigned char *) salt, saltlen);
  p->iterations = iterations == 0 ? 1 : iterations;
  p->out = out;
  p->dklen = dklen;
}

// U1 of the next block into p->t, and p->u set up as the padded block that hashes it
static void sha256_pbkdf2_first(struct mg_pbkdf2 *p) {
  mg_sha256_ctx ctx = p->salted, octx = p->outer;
  unsigned char be[4];
  MG_STORE_BE32(be, p->block_no + 1);
  mg_sha256_update(&ctx, be, 4);
  sha256_hmac_finish(p->t, &ctx, &octx);
  // The padded block of a 96-byte message (64 of key pad, 32 of U): U, 0x80, zeros, 768 bits
  memset(p->u, 0, sizeof(p->u));
  memcpy(p->u, p->t, 32);
  p->u[32] = 0x80;
  p->u[62] = 0x03;
  p->done_iter = 1;
}

bool mg_pbkdf2_step(struct mg_pbkdf2 *p, uint32_t max_iterations) {
  while (p->done_bytes < p->dklen && max_iterations > 0) {
    if (p->done_iter == 0) {
      sha256_pbkdf2_first(p);
      max_iterations--;
    }
    uint32_t n = p->iterations - p->done_iter;
    if (n > max_iterations) n = max_iterations;
    for (uint32_t j = 0; j < n; j++) {
      sha256_short_final(p->inner.state, p->u);  // Inner hash of U, in place
      sha256_short_final(p->outer.state, p->u);  // Outer hash: the next U
      for (int i = 0; i < 32; i++) p->t[i] ^= p->u[i];
    }
    p->done_iter += n;
    max_iterations -= n;
    if (p->done_iter < p->iterations) break;
    size_t k = p->dklen - p->done_bytes < 32 ? p->dklen - p->done_bytes : 32;  // Block T_i done
    memcpy(p->out + p->done_bytes, p->t, k);
    p->done_bytes += k;
    p->block_no++;
    p->done_iter = 0;
  }
  return p->done_bytes >= p->dklen;
}

void mg_pbkdf2_finish(struct mg_pbkdf2 *p) {
  volatile unsigned char *b = (volatile unsigned char *) p;  // Key states are password equivalents
  for (size_t i = 0; i < sizeof(*p); i++) b[i] = 0;
}

void mg_pbkdf2_sha256(const void *password, size_t passlen, const void *salt, size_t saltlen, uint32_t iterations,
                      unsigned char *out, size_t dklen) {
  struct mg_pbkdf2 p;
  mg_pbkdf2_start(&p, password, passlen, salt, saltlen, iterations, out, dklen);
  while (!mg_pbkdf2_step(&p, UINT32_MAX)) continue;
  mg_pbkdf2_finish(&p);
}

bool mg_memeq(const void *a, const void *b, size_t len) {
  return mg_timingsafe_eq(a, b, len);
}

void mg_bzero(volatile unsigned char *buf, size_t len) {
  if (buf == NULL) return;
  for (size_t i = 0; i < len; i++) buf[i] = 0;  // volatile stores: not optimised away
}

bool mg_timingsafe_eq(const void *a, const void *b, size_t len) {
  const unsigned char *p = (const unsigned char *) a, *q = (const unsigned char *) b;
  volatile unsigned char diff = 0;  // volatile: no early exit on the first difference
  for (size_t i = 0; i < len; i++) diff |= (unsigned char) (p[i] ^ q[i]);
  return diff == 0;
}
