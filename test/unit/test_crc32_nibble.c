// mg_crc32 built with MG_CRC32_SLICES=0 (the 64-byte nibble table of the smallest
// programs): util.c compiled into this test with that setting, against a bitwise CRC-32.
#define MG_CRC32_SLICES 0
#include "../../core/base/util.c"

#include <criterion/criterion.h>

static uint32_t crc32_bitwise(uint32_t crc, const unsigned char *p, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (crc & 1 ? 0xedb88320u : 0);
  }
  return ~crc;
}

Test(crc32_nibble, check_value_of_the_standard) {
  cr_assert_eq(mg_crc32(0, "123456789", 9), 0xcbf43926u);  // IEEE 802.3's check value
  cr_assert_eq(mg_crc32(0, "", 0), 0);
}

Test(crc32_nibble, every_length_and_split_matches_the_bitwise_crc) {
  unsigned char buf[300];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char) (i * 151 + 7);
  for (size_t len = 0; len <= sizeof(buf); len++) {
    uint32_t want = crc32_bitwise(0, buf, len);
    cr_assert_eq(mg_crc32(0, (const char *) buf, len), want, "length %zu", len);
    size_t cut = len / 3;
    uint32_t part = mg_crc32(0, (const char *) buf, cut);
    cr_assert_eq(mg_crc32(part, (const char *) buf + cut, len - cut), want, "length %zu cut at %zu", len, cut);
  }
}
