// The streaming OTA updater over the RAM backend: an image in any split, every way an
// image is refused (each with its status and reason, the slot's other bytes untouched),
// program units larger than a byte, and an upload recovered from the slot after a cut.
#include <criterion/criterion.h>
#include <psa/crypto.h>
#include <stdlib.h>
#include <string.h>
#include "ota/ota_update.h"

#define SECTOR 256
#define SLOT (64 * SECTOR)
#define PAYLOAD 5000

static uint8_t s_mem[2 * SLOT];
static struct ota_flash s_flash;
static uint8_t s_pub[OTA_PUBKEY_SIZE], s_other_pub[OTA_PUBKEY_SIZE];
static psa_key_id_t s_key, s_other_key;
static struct ota_update_cfg s_cfg;
static uint8_t s_img[MG_OTA_HEADER_SIZE + PAYLOAD + MG_OTA_SIG_SIZE];
static size_t s_writes_unaligned;  // Writes the unit-checking backend saw off its unit

static psa_key_id_t make_key(uint8_t pub[OTA_PUBKEY_SIZE]) {
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
  psa_key_id_t id = 0;
  size_t n = 0;
  cr_assert_eq(psa_generate_key(&attr, &id), PSA_SUCCESS);
  cr_assert_eq(psa_export_public_key(id, pub, OTA_PUBKEY_SIZE, &n), PSA_SUCCESS);
  cr_assert_eq(n, OTA_PUBKEY_SIZE);
  return id;
}

// An image of PAYLOAD bytes for board "test", version v, signed with key
static void make_image(uint8_t *img, const char *version, const char *board, psa_key_id_t key) {
  struct mg_ota_header h = {.format = MG_OTA_FORMAT_VERSION, .build_time = 1700000000, .payload_size = PAYLOAD};
  uint8_t *payload = img + MG_OTA_HEADER_SIZE, digest[32];
  for (size_t i = 0; i < PAYLOAD; i++) payload[i] = (uint8_t) (i * 7 + i / 256);
  payload[PAYLOAD - 3] = payload[PAYLOAD - 2] = payload[PAYLOAD - 1] = 0xFF;  // Erased-looking tail
  cr_assert(mg_ota_version_parse(version, strlen(version), &h.version));
  snprintf(h.board, sizeof(h.board), "%s", board);
  mg_sha256(h.sha256, payload, PAYLOAD);
  cr_assert(mg_ota_header_write(&h, img));
  mg_ota_signed_digest(img, digest);
  size_t n = 0;
  cr_assert_eq(psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, img + MG_OTA_HEADER_SIZE + PAYLOAD,
                             MG_OTA_SIG_SIZE, &n),
               PSA_SUCCESS);
}

static bool (*s_ram_write)(struct ota_flash *, int, size_t, const void *, size_t);
static bool unit_checking_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  if (off % f->write_size != 0 || len % f->write_size != 0) s_writes_unaligned++;
  return s_ram_write(f, slot, off, buf, len);
}

static void setup(void) {
  memset(s_mem, 0xFF, sizeof(s_mem));
  cr_assert(ota_flash_ram_init(&s_flash, s_mem, sizeof(s_mem), SECTOR));
  cr_assert_eq(psa_crypto_init(), PSA_SUCCESS);
  s_key = make_key(s_pub);
  s_other_key = make_key(s_other_pub);
  struct ota_update_cfg cfg = {&s_flash, "test", {1, 2, 3}, ota_verify_p256, s_pub};
  s_cfg = cfg;
  make_image(s_img, "1.3.0", "test", s_key);
  s_writes_unaligned = 0;
}

static void teardown(void) {
  psa_destroy_key(s_key);
  psa_destroy_key(s_other_key);
}

TestSuite(ota_update, .init = setup, .fini = teardown);

// Feeds img in pieces of step bytes (0: all at once), then ends
static bool upload(struct ota_update *u, const uint8_t *img, size_t len, size_t step) {
  if (!ota_update_begin(u, &s_cfg, 1, (uint32_t) len, false)) return false;
  for (size_t at = 0; at < len;) {
    size_t n = step == 0 || len - at < step ? len - at : step;
    if (!ota_update_write(u, img + at, n)) return false;
    at += n;
  }
  return ota_update_end(u);
}

static bool slot_empty(int slot) {
  for (size_t i = 0; i < SLOT; i++) {
    if (s_mem[(size_t) slot * SLOT + i] != 0xFF) return false;
  }
  return true;
}

Test(ota_update, whole_image_lands_verified_in_the_slot) {
  struct ota_update u;
  cr_assert(upload(&u, s_img, sizeof(s_img), 0), "%s", u.error);
  cr_assert_eq(u.state, OTA_UPDATE_VERIFIED);
  cr_assert_arr_eq(s_mem + SLOT, s_img, sizeof(s_img));
  cr_assert(slot_empty(0), "the other slot is untouched");
  struct mg_ota_header h;
  char why[100];
  cr_assert(ota_slot_verify(&s_cfg, 1, &h, why, sizeof(why)), "%s", why);
  cr_assert_eq(h.version.minor, 3);
}

Test(ota_update, every_piece_size_gives_the_same_slot) {
  static const size_t steps[] = {1, 2, 3, 7, 63, 64, 65, 127, 128, 129, 191, 192, 1000, 4096};
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    memset(s_mem, 0xFF, sizeof(s_mem));
    struct ota_update u;
    cr_assert(upload(&u, s_img, sizeof(s_img), steps[i]), "step %zu: %s", steps[i], u.error);
    cr_assert_arr_eq(s_mem + SLOT, s_img, sizeof(s_img), "step %zu", steps[i]);
  }
}

Test(ota_update, a_32_byte_program_unit_gets_whole_units_only) {
  s_ram_write = s_flash.write;
  s_flash.write = unit_checking_write;
  s_flash.write_size = 32;
  static const size_t steps[] = {1, 5, 31, 32, 33, 100, 0};
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    memset(s_mem, 0xFF, sizeof(s_mem));
    struct ota_update u;
    cr_assert(upload(&u, s_img, sizeof(s_img), steps[i]), "step %zu: %s", steps[i], u.error);
    cr_assert_arr_eq(s_mem + SLOT, s_img, sizeof(s_img), "step %zu", steps[i]);
  }
  cr_assert_eq(s_writes_unaligned, 0);
}

// Begins and writes the whole of img; returns the updater for its state and reason
static struct ota_update refused(const uint8_t *img, size_t len, int status, const char *reason) {
  struct ota_update u;
  cr_assert_not(upload(&u, img, len, 777), "an upload that should have been refused was accepted");
  cr_assert_eq(u.state, OTA_UPDATE_FAILED);
  cr_assert_eq(u.status, status, "status %d, want %d (%s)", u.status, status, u.error);
  cr_assert(strstr(u.error, reason) != NULL, "reason \"%s\" lacks \"%s\"", u.error, reason);
  return u;
}

Test(ota_update, wrong_magic_is_refused_before_the_slot_is_touched) {
  memcpy(s_mem + SLOT, "old firmware", 12);  // Whatever the slot held stays
  s_img[0] = 'X';
  refused(s_img, sizeof(s_img), 400, "not an OTA image");
  cr_assert_arr_eq(s_mem + SLOT, "old firmware", 12);
}

Test(ota_update, wrong_board_older_version_and_oversize_are_refused_at_the_header) {
  make_image(s_img, "1.3.0", "other-board", s_key);
  refused(s_img, sizeof(s_img), 422, "for board \"other-board\"");
  make_image(s_img, "1.2.2", "test", s_key);
  refused(s_img, sizeof(s_img), 422, "older than the running 1.2.3");
  cr_assert(slot_empty(1));
  struct ota_update u;
  cr_assert(ota_update_begin(&u, &s_cfg, 1, sizeof(s_img), true));  // An admin's downgrade
  cr_assert(ota_update_write(&u, s_img, sizeof(s_img)));
  cr_assert(ota_update_end(&u), "%s", u.error);
  make_image(s_img, "1.2.3", "test", s_key);  // The same version is not older
  cr_assert(upload(&u, s_img, sizeof(s_img), 0), "%s", u.error);
  cr_assert_not(ota_update_begin(&u, &s_cfg, 1, SLOT + 1, false));
  cr_assert_eq(u.status, 413);
}

Test(ota_update, header_announcing_more_than_the_slot_is_413) {
  struct ota_flash small;
  cr_assert(ota_flash_ram_init(&small, s_mem, 2 * 8 * SECTOR, SECTOR));  // 2 KiB slots
  s_cfg.flash = &small;
  refused(s_img, sizeof(s_img), 413, "does not fit");
}

Test(ota_update, size_that_disagrees_with_the_header_is_refused) {
  struct ota_update u;
  cr_assert(ota_update_begin(&u, &s_cfg, 1, sizeof(s_img) + 10, false));
  cr_assert_not(ota_update_write(&u, s_img, sizeof(s_img)));
  cr_assert_eq(u.status, 400);
  cr_assert(strstr(u.error, "header announces") != NULL, "%s", u.error);
}

Test(ota_update, flipped_payload_byte_fails_the_hash) {
  s_img[MG_OTA_HEADER_SIZE + 4000] ^= 1;
  refused(s_img, sizeof(s_img), 400, "SHA-256 does not match");
}

Test(ota_update, image_signed_by_another_key_fails_the_signature) {
  make_image(s_img, "1.3.0", "test", s_other_key);
  refused(s_img, sizeof(s_img), 400, "signature does not verify");
  struct mg_ota_header h;
  char why[100];
  cr_assert_not(ota_slot_verify(&s_cfg, 1, &h, why, sizeof(why)), "the slot holds no valid image");
  cr_assert(strstr(why, "signature") != NULL, "%s", why);
}

// A check that could not run (out of memory, a device key PSA refuses) blames the device, not the image
Test(ota_update, signature_that_cannot_be_checked_is_500_not_the_images_fault) {
  static uint8_t not_a_point[OTA_PUBKEY_SIZE];  // All zero: no P-256 point
  s_cfg.verify_arg = not_a_point;
  refused(s_img, sizeof(s_img), 500, "cannot check the signature");
  struct mg_ota_header h;
  char why[128];
  cr_assert_not(ota_slot_verify(&s_cfg, 1, &h, why, sizeof(why)));
  cr_assert(strstr(why, "cannot check the signature") != NULL, "%s", why);
}

Test(ota_update, truncated_and_overlong_uploads_are_refused) {
  refused(s_img, sizeof(s_img) - 1, 400, "announces");
  struct ota_update u;
  cr_assert(ota_update_begin(&u, &s_cfg, 1, 0, false));  // Size unknown (chunked): the header tells
  cr_assert(ota_update_write(&u, s_img, 1000));
  cr_assert_not(ota_update_end(&u));
  cr_assert(strstr(u.error, "truncated: 1000 of 5192") != NULL, "%s", u.error);
  cr_assert(ota_update_begin(&u, &s_cfg, 1, 0, false));
  cr_assert(ota_update_write(&u, s_img, sizeof(s_img)));
  cr_assert_not(ota_update_write(&u, "x", 1));
  cr_assert(strstr(u.error, "longer than") != NULL, "%s", u.error);
  cr_assert(ota_update_begin(&u, &s_cfg, 1, 0, false));
  cr_assert(ota_update_write(&u, s_img, 100));
  cr_assert_not(ota_update_end(&u));
  cr_assert(strstr(u.error, "truncated: 100 of 128") != NULL, "%s", u.error);
}

Test(ota_update, no_signature_check_means_no_image) {
  s_cfg.verify = NULL;
  struct ota_update u;
  cr_assert_not(ota_update_begin(&u, &s_cfg, 1, sizeof(s_img), false));
  cr_assert(strstr(u.error, "no signature check") != NULL, "%s", u.error);
}

// A cut at every offset, for both program units: what recover finds in the slot goes on
// to the same verified image
static void cut_and_recover(size_t unit) {
  s_ram_write = s_flash.write;
  s_flash.write = unit_checking_write;
  s_flash.write_size = unit;
  for (size_t cut = 0; cut <= sizeof(s_img); cut += cut < 300 ? 1 : 97) {
    memset(s_mem, 0xFF, sizeof(s_mem));
    struct ota_update u;
    cr_assert(ota_update_begin(&u, &s_cfg, 1, sizeof(s_img), false));
    cr_assert(ota_update_write(&u, s_img, cut));
    struct ota_update v;  // The process ended: only the slot remains
    bool found = ota_update_recover(&v, &s_cfg, 1);
    if (cut < MG_OTA_HEADER_SIZE) {
      cr_assert_not(found, "cut %zu: no header yet, nothing to go on with", cut);
      cr_assert_eq(v.state, OTA_UPDATE_IDLE);
      continue;
    }
    cr_assert(found, "cut %zu", cut);
    cr_assert_leq(v.received, cut, "cut %zu: recovered %u is past what was sent", cut, v.received);
    cr_assert_geq(v.received + unit + 3, cut, "cut %zu: recovered only %u", cut, v.received);
    cr_assert(ota_update_write(&v, s_img + v.received, sizeof(s_img) - v.received), "cut %zu: %s", cut, v.error);
    cr_assert(ota_update_end(&v), "cut %zu: %s", cut, v.error);
    cr_assert_arr_eq(s_mem + SLOT, s_img, sizeof(s_img), "cut %zu", cut);
  }
  cr_assert_eq(s_writes_unaligned, 0, "going on after a cut writes whole units too");
}

Test(ota_update, cut_at_any_offset_recovers_and_goes_on) {
  cut_and_recover(1);
}

Test(ota_update, cut_with_a_32_byte_unit_recovers_at_a_unit) {
  cut_and_recover(32);
}

Test(ota_update, recover_finds_nothing_in_an_erased_or_foreign_slot) {
  struct ota_update u;
  cr_assert_not(ota_update_recover(&u, &s_cfg, 1));
  memcpy(s_mem + SLOT, "#!/bin/sh\n", 10);
  cr_assert_not(ota_update_recover(&u, &s_cfg, 1));
  make_image(s_img, "1.3.0", "other-board", s_key);
  memcpy(s_mem + SLOT, s_img, sizeof(s_img));
  cr_assert_not(ota_update_recover(&u, &s_cfg, 1), "an image for another board is not ours to go on with");
}
