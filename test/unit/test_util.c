// CRC-32, SHA-1, random bytes and strings, byte order.
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include "meerkat.h"

// Bit-at-a-time CRC-32 straight from the definition, to check the table version.
static uint32_t crc32_reference(const unsigned char *p, size_t len) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < len; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

Test(util, crc32_matches_standard_check_values) {
  cr_assert_eq(mg_crc32(0, "123456789", 9), 0xcbf43926);
  cr_assert_eq(mg_crc32(0, "", 0), 0);
  cr_assert_eq(mg_crc32(0, NULL, 0), 0);
  cr_assert_eq(mg_crc32(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339);
  cr_assert_eq(mg_crc32(0, "a", 1), 0xe8b7be43);
}

Test(util, crc32_continues_across_chunks) {
  uint32_t crc = mg_crc32(0, "1234", 4);
  cr_assert_eq(mg_crc32(crc, "56789", 5), 0xcbf43926);
  cr_assert_eq(mg_crc32(mg_crc32(0, "", 0), "123456789", 9), 0xcbf43926);
}

Test(util, crc32_matches_bitwise_reference_for_all_byte_values) {
  unsigned char buf[512];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char) (i * 7 + (i >> 3));
  for (size_t len = 0; len <= sizeof(buf); len += 13) {
    cr_assert_eq(mg_crc32(0, (const char *) buf, len), crc32_reference(buf, len), "len %zu", len);
  }
}

// The sliced loop reads eight bytes a step: every start alignment and every
// remainder, and a run split anywhere, must give the bytewise result
Test(util, crc32_is_the_same_at_any_alignment_and_split) {
  static unsigned char buf[4096 + 16];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char) (i * 131 + (i >> 5) * 17);
  for (size_t off = 0; off < 16; off++) {
    for (size_t len = 0; len < 40; len++) {
      cr_assert_eq(mg_crc32(0, (const char *) buf + off, len), crc32_reference(buf + off, len), "%zu+%zu", off, len);
    }
    uint32_t whole = crc32_reference(buf + off, 4096);
    cr_assert_eq(mg_crc32(0, (const char *) buf + off, 4096), whole);
    for (size_t cut = 0; cut <= 4096; cut += 509) {
      uint32_t crc = mg_crc32(0, (const char *) buf + off, cut);
      cr_assert_eq(mg_crc32(crc, (const char *) buf + off + cut, 4096 - cut), whole, "cut %zu", cut);
    }
  }
}

static void sha1_hex(const void *data, size_t len, char out[41]) {
  mg_sha1_ctx ctx;
  unsigned char digest[20];
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, (const unsigned char *) data, len);
  mg_sha1_final(digest, &ctx);
  for (int i = 0; i < 20; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

Test(util, sha1_matches_fips_vectors) {
  char hex[41];
  sha1_hex("abc", 3, hex);
  cr_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
  sha1_hex("", 0, hex);
  cr_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  sha1_hex(NULL, 0, hex);
  cr_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha1_hex(two_blocks, strlen(two_blocks), hex);
  cr_assert_str_eq(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

Test(util, sha1_pads_correctly_around_block_boundaries) {
  static const struct {
    size_t n;
    const char *want;
  } cases[] = {
      {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
      {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
      {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
      {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
      {65, "11655326c708d70319be2610e8a57d9a5b959d3b"},
      {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
      {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
  };
  char a[128], hex[41];
  memset(a, 'a', sizeof(a));
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    sha1_hex(a, cases[i].n, hex);
    cr_assert_str_eq(hex, cases[i].want, "%zu bytes", cases[i].n);
  }
}

Test(util, sha1_million_a_in_uneven_chunks) {
  static const size_t chunks[] = {1, 63, 64, 65, 1000, 7, 4096, 128};
  static unsigned char a[4096];
  memset(a, 'a', sizeof(a));
  mg_sha1_ctx ctx;
  unsigned char digest[20];
  char hex[41];
  mg_sha1_init(&ctx);
  for (size_t done = 0, i = 0; done < 1000000; i++) {
    size_t n = chunks[i % MG_ARRAY_SIZE(chunks)];
    if (n > 1000000 - done) n = 1000000 - done;
    mg_sha1_update(&ctx, a, n);
    done += n;
  }
  mg_sha1_final(digest, &ctx);
  for (int i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  cr_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

Test(util, sha1_split_anywhere_gives_same_digest) {
  unsigned char msg[200], one[20], two[20];
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (unsigned char) (i * 31 + 5);
  mg_sha1_ctx ctx;
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, msg, sizeof(msg));
  mg_sha1_final(one, &ctx);
  for (size_t cut = 0; cut <= sizeof(msg); cut++) {
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, msg, cut);
    mg_sha1_update(&ctx, msg + cut, sizeof(msg) - cut);
    mg_sha1_final(two, &ctx);
    cr_assert_eq(memcmp(one, two, 20), 0, "cut at %zu", cut);
  }
}

Test(util, random_fills_from_os_entropy) {
  unsigned char a[32], b[32], zero[32] = {0};
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  cr_assert(mg_random(a, sizeof(a)));  // POSIX host: /dev/urandom is there
  cr_assert(mg_random(b, sizeof(b)));
  cr_assert_neq(memcmp(a, b, sizeof(a)), 0);
  cr_assert_neq(memcmp(a, zero, sizeof(a)), 0);
  cr_assert(mg_random(NULL, 0));
}

static bool is_alnum_only(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Test(util, random_str_gives_len_minus_one_alphanumerics) {
  char a[33], b[33];
  memset(a, '#', sizeof(a));
  cr_assert_eq(mg_random_str(a, sizeof(a)), a);
  cr_assert_eq(strlen(a), 32);
  cr_assert(is_alnum_only(a, 32));
  mg_random_str(b, sizeof(b));
  cr_assert_str_neq(a, b);
  char one[1] = {'#'};
  cr_assert_str_eq(mg_random_str(one, 1), "");
  char untouched[1] = {'#'};
  cr_assert_eq(mg_random_str(untouched, 0), untouched);
  cr_assert_eq(untouched[0], '#');
  cr_assert_null(mg_random_str(NULL, 10));
}

Test(util, random_str_uses_the_whole_alphabet) {
  static char s[20001];
  bool seen[256] = {false};
  mg_random_str(s, sizeof(s));
  cr_assert_eq(strlen(s), sizeof(s) - 1);
  cr_assert(is_alnum_only(s, sizeof(s) - 1));
  size_t distinct = 0;
  for (size_t i = 0; i + 1 < sizeof(s); i++) {
    if (!seen[(unsigned char) s[i]]) seen[(unsigned char) s[i]] = true, distinct++;
  }
  cr_assert_eq(distinct, 62);  // Missing one by chance: about 62 * (61/62)^20000
}

Test(util, ntoh_reads_network_order) {
  const unsigned char b2[2] = {0x12, 0x34}, b4[4] = {0x12, 0x34, 0x56, 0x78};
  uint16_t s;
  uint32_t l;
  memcpy(&s, b2, 2);
  memcpy(&l, b4, 4);
  cr_assert_eq(mg_ntohs(s), 0x1234);
  cr_assert_eq(mg_ntohl(l), 0x12345678);
  static const uint32_t values[] = {0, 1, 0x80, 0xff00, 0x1234, 0xdeadbeef, 0xffffffff};
  for (size_t i = 0; i < MG_ARRAY_SIZE(values); i++) {
    uint16_t v16 = (uint16_t) values[i];
    cr_assert_eq(mg_ntohl(values[i]), ntohl(values[i]));
    cr_assert_eq(mg_htonl(values[i]), htonl(values[i]));
    cr_assert_eq(mg_ntohs(v16), ntohs(v16));
    cr_assert_eq(mg_htons(v16), htons(v16));
    cr_assert_eq(mg_ntohl(mg_htonl(values[i])), values[i]);
  }
}
