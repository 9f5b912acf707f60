// OTA image header: a written header parses back; every malformed header is refused
// with its own reason; version text and order.
#include <criterion/criterion.h>
#include <string.h>
#include "ota/ota_image.h"

static struct mg_ota_header ota_test_header(void) {
  struct mg_ota_header h;
  memset(&h, 0, sizeof(h));
  h.format = MG_OTA_FORMAT_VERSION;
  h.version.major = 1, h.version.minor = 2, h.version.patch = 3;
  h.build_time = 0x0102030405060708ULL;
  h.payload_size = 4096;
  for (int i = 0; i < 32; i++) h.sha256[i] = (uint8_t) i;
  strcpy(h.board, "host");
  return h;
}

static void ota_test_wire(uint8_t buf[MG_OTA_HEADER_SIZE]) {
  struct mg_ota_header h = ota_test_header();
  cr_assert(mg_ota_header_write(&h, buf));
}

// Parses buf and expects it refused with a reason containing want
static void ota_test_refused(const uint8_t *buf, size_t len, const char *want) {
  struct mg_ota_header h;
  char why[128] = "";
  cr_assert_not(mg_ota_header_parse(buf, len, &h, why, sizeof(why)), "accepted, expected: %s", want);
  cr_assert(strstr(why, want) != NULL, "reason \"%s\" lacks \"%s\"", why, want);
}

Test(ota_image, written_header_parses_back_field_for_field) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  struct mg_ota_header in = ota_test_header(), out;
  char why[128] = "";
  cr_assert(mg_ota_header_write(&in, buf));
  cr_assert(mg_ota_header_parse(buf, sizeof(buf), &out, why, sizeof(why)), "%s", why);
  cr_assert_eq(out.format, 1);
  cr_assert_eq(out.version.major, 1);
  cr_assert_eq(out.version.minor, 2);
  cr_assert_eq(out.version.patch, 3);
  cr_assert_eq(out.build_time, 0x0102030405060708ULL);
  cr_assert_eq(out.payload_size, 4096);
  cr_assert_arr_eq(out.sha256, in.sha256, 32);
  cr_assert_str_eq(out.board, "host");
  cr_assert_eq(mg_ota_image_size(&out), 128 + 4096 + 64);
}

Test(ota_image, wire_layout_is_little_endian_at_fixed_offsets) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  ota_test_wire(buf);
  cr_assert_arr_eq(buf, "MKOT", 4);
  cr_assert_eq(buf[4], 1);
  cr_assert_eq(buf[5], 0);
  cr_assert_eq(buf[6], 128);
  cr_assert_eq(buf[8], 1);
  cr_assert_eq(buf[10], 2);
  cr_assert_eq(buf[12], 3);
  cr_assert_eq(buf[16], 0x08);
  cr_assert_eq(buf[23], 0x01);
  cr_assert_eq(buf[24], 0x00);
  cr_assert_eq(buf[25], 0x10);  // 4096
  cr_assert_eq(buf[32], 0);
  cr_assert_eq(buf[63], 31);
  cr_assert_arr_eq(buf + 64, "host\0", 5);
  for (int i = 96; i < 128; i++) cr_assert_eq(buf[i], 0);
}

Test(ota_image, truncated_header_is_refused_at_every_length) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  ota_test_wire(buf);
  for (size_t len = 0; len < sizeof(buf); len++) ota_test_refused(buf, len, "truncated");
}

// One changed byte of a good header, and the reason it must be refused with
Test(ota_image, each_bad_field_is_refused_with_its_own_reason) {
  static const struct {
    size_t offset;
    uint8_t value;
    const char *reason;
  } cases[] = {
      {0, 0x7f, "not an OTA image (wrong magic"},
      {4, 2, "format version 2 is not supported"},
      {4, 0, "format version 0 is not supported"},
      {6, 127, "header size 127 does not match"},
      {64, '\0', "board name is empty"},
      {65, '\n', "board name has a character that is not printable"},
      {70, 'x', "board name is followed by bytes other than NUL"},  // After "host\0"
      {127, 1, "reserved header bytes are not zero"},
      {14, 1, "reserved header bytes are not zero"},  // Beside the version
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t buf[MG_OTA_HEADER_SIZE];
    ota_test_wire(buf);
    buf[cases[i].offset] = cases[i].value;
    ota_test_refused(buf, sizeof(buf), cases[i].reason);
  }
}

Test(ota_image, board_name_without_nul_is_refused) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  ota_test_wire(buf);
  memset(buf + 64, 'a', 32);
  ota_test_refused(buf, sizeof(buf), "board name is not NUL-terminated");
}

Test(ota_image, board_name_of_31_characters_is_the_longest_accepted) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  struct mg_ota_header h = ota_test_header(), out;
  memset(h.board, 'b', 31);
  h.board[31] = '\0';
  cr_assert(mg_ota_header_write(&h, buf));
  cr_assert(mg_ota_header_parse(buf, sizeof(buf), &out, NULL, 0));
  cr_assert_eq(strlen(out.board), 31);
}

Test(ota_image, payload_sizes_zero_and_overflowing_are_refused) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  ota_test_wire(buf);
  memset(buf + 24, 0, 8);
  ota_test_refused(buf, sizeof(buf), "payload is empty");
  memset(buf + 24, 0xff, 8);
  ota_test_refused(buf, sizeof(buf), "too large");
  memset(buf + 24, 0, 8);
  buf[28] = 1;  // 2^32: fits no 32-bit offset
  ota_test_refused(buf, sizeof(buf), "too large");
}

Test(ota_image, largest_payload_is_accepted_and_one_more_is_not) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  struct mg_ota_header h = ota_test_header(), out;
  h.payload_size = MG_OTA_MAX_PAYLOAD;
  cr_assert(mg_ota_header_write(&h, buf));
  cr_assert(mg_ota_header_parse(buf, sizeof(buf), &out, NULL, 0));
  cr_assert_eq(mg_ota_image_size(&out), 0xffffffffUL);
  uint32_t over = MG_OTA_MAX_PAYLOAD + 1;
  for (int i = 0; i < 4; i++) buf[24 + i] = (uint8_t) (over >> (8 * i));
  ota_test_refused(buf, sizeof(buf), "too large");
}

Test(ota_image, longer_buffer_parses_only_the_header) {
  uint8_t buf[MG_OTA_HEADER_SIZE + 10];
  memset(buf, 0xee, sizeof(buf));
  ota_test_wire(buf);
  cr_assert(mg_ota_header_parse(buf, sizeof(buf), &(struct mg_ota_header){0}, NULL, 0));
}

Test(ota_image, reason_is_cut_to_the_callers_buffer) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  char why[8];
  memset(why, 'z', sizeof(why));
  ota_test_wire(buf);
  buf[0] = 0;
  cr_assert_not(mg_ota_header_parse(buf, sizeof(buf), &(struct mg_ota_header){0}, why, sizeof(why)));
  cr_assert_eq(strlen(why), 7);
}

Test(ota_image, write_refuses_a_header_that_would_not_parse) {
  uint8_t buf[MG_OTA_HEADER_SIZE];
  struct mg_ota_header h = ota_test_header();
  h.board[0] = '\0';
  cr_assert_not(mg_ota_header_write(&h, buf));
  h = ota_test_header();
  h.payload_size = 0;
  cr_assert_not(mg_ota_header_write(&h, buf));
}

Test(ota_image, version_text_parses_three_numbers_only) {
  struct mg_ota_version v;
  cr_assert(mg_ota_version_parse("1.2.3", 5, &v));
  cr_assert(v.major == 1 && v.minor == 2 && v.patch == 3);
  cr_assert(mg_ota_version_parse("65535.0.65535", 13, &v));
  cr_assert_eq(v.major, 65535);
  const char *bad[] = {"", "1", "1.2", "1.2.3.4", "1..3", ".1.2", "1.2.", "a.b.c", "1.2.3x", "65536.0.0", "-1.2.3",
                       "1.2.+3", " 1.2.3", "99999999999999999999.0.0"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    cr_assert_not(mg_ota_version_parse(bad[i], strlen(bad[i]), &v), "accepted \"%s\"", bad[i]);
  cr_assert_not(mg_ota_version_parse("1.2.34", 5, &v) == false);  // Length bounds the text
  cr_assert_eq(v.patch, 3);
}

Test(ota_image, versions_order_numerically_by_major_minor_patch) {
  struct mg_ota_version a = {1, 9, 0}, b = {1, 10, 0}, c = {2, 0, 0}, d = {1, 9, 1}, a2 = {1, 9, 0};
  cr_assert_lt(mg_ota_version_cmp(&a, &b), 0);
  cr_assert_gt(mg_ota_version_cmp(&b, &a), 0);
  cr_assert_lt(mg_ota_version_cmp(&b, &c), 0);
  cr_assert_lt(mg_ota_version_cmp(&a, &d), 0);
  cr_assert_eq(mg_ota_version_cmp(&a, &a2), 0);
}
