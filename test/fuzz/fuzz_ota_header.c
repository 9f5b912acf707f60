// Fuzzes mg_ota_header_parse and mg_ota_version_parse: an accepted header writes back
// to the very bytes it came from, a refused one always says why, and sizes never wrap.
#include <stdio.h>
#include "meerkat.h"
#include "ota/ota_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ota_check_header(const uint8_t *in, size_t size) {
  struct mg_ota_header h;
  char why[96];
  memset(why, 'x', sizeof(why));
  if (!mg_ota_header_parse(in, size, &h, why, sizeof(why))) {
    if (memchr(why, 0, sizeof(why)) == NULL || why[0] == '\0') __builtin_trap();
    return;
  }
  size_t board_len = strlen(h.board);  // Traps under ASan if not terminated in the struct
  if (board_len == 0 || board_len >= MG_OTA_BOARD_SIZE) __builtin_trap();
  if (h.payload_size == 0 || h.payload_size > MG_OTA_MAX_PAYLOAD) __builtin_trap();
  if (mg_ota_image_size(&h) != (uint64_t) h.payload_size + MG_OTA_HEADER_SIZE + MG_OTA_SIG_SIZE) __builtin_trap();
  // The encoding is one-to-one: what parsed writes back byte for byte
  uint8_t out[MG_OTA_HEADER_SIZE];
  if (!mg_ota_header_write(&h, out) || memcmp(out, in, sizeof(out)) != 0) __builtin_trap();
}

static void fuzz_ota_check_version(const char *in, size_t size) {
  struct mg_ota_version v, w;
  if (!mg_ota_version_parse(in, size, &v)) return;
  char text[24];
  int n = snprintf(text, sizeof(text), "%u.%u.%u", v.major, v.minor, v.patch);
  if (n <= 0 || !mg_ota_version_parse(text, (size_t) n, &w) || mg_ota_version_cmp(&v, &w) != 0) __builtin_trap();
  if ((size_t) n > size) __builtin_trap();  // Only leading zeros make the text longer than its print
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Copy so that ASan catches any read past size
  uint8_t *in = (uint8_t *) malloc(size == 0 ? 1 : size);
  if (in == NULL) return 0;
  if (size > 0) memcpy(in, data, size);
  fuzz_ota_check_header(in, size);
  fuzz_ota_check_version((const char *) in, size);
  free(in);
  return 0;
}
