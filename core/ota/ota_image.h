// The OTA image format: a fixed 128-byte little-endian header, the payload, then a
// 64-byte ECDSA P-256 signature. Pure encode/parse over buffers, shared by core and packer.
#ifndef OTA_IMAGE_H
#define OTA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Wire layout (all integers little-endian; no struct is ever copied to or from the wire):
//   0   4  magic "MKOT"
//   4   2  format version (MG_OTA_FORMAT_VERSION)
//   6   2  header size (MG_OTA_HEADER_SIZE), so a reader can tell a later, larger header
//   8   2  firmware version major, 10  2 minor, 12  2 patch, 14  2 zero
//   16  8  build time, Unix seconds
//   24  8  payload size in bytes
//   32 32  SHA-256 of the payload
//   64 32  target board name, NUL-terminated, NUL-padded (at most 31 characters)
//   96 32  zero, reserved for later format versions
// The signature follows the payload: ECDSA P-256 over SHA-256 of the 128 header bytes,
// stored raw as r || s (32 bytes each, big-endian), the fixed-size form a slot reader can
// locate without parsing DER. The header holds the payload's SHA-256, so signing it signs
// the payload too, and a device hashes the payload once, not twice.
#define MG_OTA_MAGIC "MKOT"
#define MG_OTA_FORMAT_VERSION 1
#define MG_OTA_HEADER_SIZE 128
#define MG_OTA_SIG_SIZE 64
#define MG_OTA_BOARD_SIZE 32
// Largest payload: the whole image (header + payload + signature) fits in 32 bits, so
// a 32-bit device can hold every offset in a size_t
#define MG_OTA_MAX_PAYLOAD (0xffffffffUL - MG_OTA_HEADER_SIZE - MG_OTA_SIG_SIZE)

// major.minor.patch as numbers, so that 1.10.0 sorts after 1.9.0 (a string would not)
struct mg_ota_version {
  uint16_t major, minor, patch;
};

struct mg_ota_header {
  uint16_t format;                    // MG_OTA_FORMAT_VERSION
  struct mg_ota_version version;      // Firmware version
  uint64_t build_time;                // Unix seconds
  uint32_t payload_size;              // At most MG_OTA_MAX_PAYLOAD
  uint8_t sha256[32];                 // Of the payload
  char board[MG_OTA_BOARD_SIZE];      // NUL-terminated target board name
};

// Checks the first MG_OTA_HEADER_SIZE bytes of buf. On failure returns false and writes
// a reason a person can act on to why (may be NULL); out is then unspecified.
bool mg_ota_header_parse(const void *buf, size_t len, struct mg_ota_header *out, char *why, size_t why_len);
// Writes h as MG_OTA_HEADER_SIZE bytes; false (nothing written) if h could not parse back
bool mg_ota_header_write(const struct mg_ota_header *h, uint8_t buf[MG_OTA_HEADER_SIZE]);
// Header, payload and signature: the exact image size a header announces
uint32_t mg_ota_image_size(const struct mg_ota_header *h);
// What the signature signs: SHA-256 of the header's bytes
void mg_ota_signed_digest(const uint8_t header[MG_OTA_HEADER_SIZE], uint8_t digest[32]);

// "1.2.3" (each part 0..65535, digits only) into v; false on anything else
bool mg_ota_version_parse(const char *s, size_t len, struct mg_ota_version *v);
// <0 if a is older than b, 0 if the same, >0 if newer
int mg_ota_version_cmp(const struct mg_ota_version *a, const struct mg_ota_version *b);

#endif
