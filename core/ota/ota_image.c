// The OTA image header on the wire: encode, parse and check it from a buffer, and
// firmware version text and order. Pure functions: no I/O, no allocation.
#include "meerkat.h"
#include "ota/ota_image.h"

enum {
  OTA_IMAGE_OFF_MAGIC = 0,
  OTA_IMAGE_OFF_FORMAT = 4,
  OTA_IMAGE_OFF_HDR_SIZE = 6,
  OTA_IMAGE_OFF_VERSION = 8,
  OTA_IMAGE_OFF_VERSION_PAD = 14,
  OTA_IMAGE_OFF_BUILD_TIME = 16,
  OTA_IMAGE_OFF_PAYLOAD_SIZE = 24,
  OTA_IMAGE_OFF_SHA256 = 32,
  OTA_IMAGE_OFF_BOARD = 64,
  OTA_IMAGE_OFF_RESERVED = 96,
};

static uint64_t ota_image_get_le(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  while (n-- > 0) v = (v << 8) | p[n];
  return v;
}

static void ota_image_put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++, v >>= 8) p[i] = (uint8_t) v;
}

static bool ota_image_all_zero(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

static bool ota_image_refuse(char *why, size_t why_len, const char *reason) {
  if (why != NULL && why_len > 0) mg_snprintf(why, why_len, "%s", reason);
  return false;
}

// The name is printable ASCII, 1 to 31 characters, then NUL padding to the field's end
static const char *ota_image_check_board(const uint8_t *p) {
  const uint8_t *nul = (const uint8_t *) memchr(p, 0, MG_OTA_BOARD_SIZE);
  if (nul == NULL) return "board name is not NUL-terminated within its 32 bytes";
  if (nul == p) return "board name is empty";
  for (const uint8_t *c = p; c < nul; c++) {
    if (*c < 0x21 || *c > 0x7e) return "board name has a character that is not printable ASCII";
  }
  if (!ota_image_all_zero(nul, MG_OTA_BOARD_SIZE - (size_t) (nul - p)))
    return "board name is followed by bytes other than NUL padding";
  return NULL;
}

// Checks what the header says about sizes and versions; NULL if all is well
static const char *ota_image_check_fields(const uint8_t *p, char *tmp, size_t tmp_len) {
  uint64_t format = ota_image_get_le(p + OTA_IMAGE_OFF_FORMAT, 2);
  uint64_t hdr_size = ota_image_get_le(p + OTA_IMAGE_OFF_HDR_SIZE, 2);
  uint64_t payload = ota_image_get_le(p + OTA_IMAGE_OFF_PAYLOAD_SIZE, 8);
  if (format != MG_OTA_FORMAT_VERSION) {
    mg_snprintf(tmp, tmp_len, "image format version %u is not supported (this device reads version %d)",
                (unsigned) format, MG_OTA_FORMAT_VERSION);
    return tmp;
  }
  if (hdr_size != MG_OTA_HEADER_SIZE) {
    mg_snprintf(tmp, tmp_len, "header size %u does not match format version %d's %d bytes", (unsigned) hdr_size,
                MG_OTA_FORMAT_VERSION, MG_OTA_HEADER_SIZE);
    return tmp;
  }
  if (payload == 0) return "payload is empty";
  if (payload > MG_OTA_MAX_PAYLOAD) return "payload size is too large (the image must fit in 4 GiB)";
  if (!ota_image_all_zero(p + OTA_IMAGE_OFF_VERSION_PAD, 2) ||
      !ota_image_all_zero(p + OTA_IMAGE_OFF_RESERVED, MG_OTA_HEADER_SIZE - OTA_IMAGE_OFF_RESERVED))
    return "reserved header bytes are not zero (an image from a later packer?)";
  return ota_image_check_board(p + OTA_IMAGE_OFF_BOARD);
}

bool mg_ota_header_parse(const void *buf, size_t len, struct mg_ota_header *out, char *why, size_t why_len) {
  const uint8_t *p = (const uint8_t *) buf;
  char tmp[100];
  if (len < MG_OTA_HEADER_SIZE) {
    mg_snprintf(tmp, sizeof(tmp), "image is truncated: %u of the header's %d bytes", (unsigned) len,
                MG_OTA_HEADER_SIZE);
    return ota_image_refuse(why, why_len, tmp);
  }
  if (memcmp(p + OTA_IMAGE_OFF_MAGIC, MG_OTA_MAGIC, 4) != 0)
    return ota_image_refuse(why, why_len, "not an OTA image (wrong magic; build one with `packer sign`)");
  const char *bad = ota_image_check_fields(p, tmp, sizeof(tmp));
  if (bad != NULL) return ota_image_refuse(why, why_len, bad);
  out->format = (uint16_t) ota_image_get_le(p + OTA_IMAGE_OFF_FORMAT, 2);
  out->version.major = (uint16_t) ota_image_get_le(p + OTA_IMAGE_OFF_VERSION, 2);
  out->version.minor = (uint16_t) ota_image_get_le(p + OTA_IMAGE_OFF_VERSION + 2, 2);
  out->version.patch = (uint16_t) ota_image_get_le(p + OTA_IMAGE_OFF_VERSION + 4, 2);
  out->build_time = ota_image_get_le(p + OTA_IMAGE_OFF_BUILD_TIME, 8);
  out->payload_size = (uint32_t) ota_image_get_le(p + OTA_IMAGE_OFF_PAYLOAD_SIZE, 8);
  memcpy(out->sha256, p + OTA_IMAGE_OFF_SHA256, 32);
  memcpy(out->board, p + OTA_IMAGE_OFF_BOARD, MG_OTA_BOARD_SIZE);
  if (why != NULL && why_len > 0) why[0] = '\0';
  return true;
}

bool mg_ota_header_write(const struct mg_ota_header *h, uint8_t buf[MG_OTA_HEADER_SIZE]) {
  uint8_t p[MG_OTA_HEADER_SIZE];
  memset(p, 0, sizeof(p));
  memcpy(p + OTA_IMAGE_OFF_MAGIC, MG_OTA_MAGIC, 4);
  ota_image_put_le(p + OTA_IMAGE_OFF_FORMAT, MG_OTA_FORMAT_VERSION, 2);
  ota_image_put_le(p + OTA_IMAGE_OFF_HDR_SIZE, MG_OTA_HEADER_SIZE, 2);
  ota_image_put_le(p + OTA_IMAGE_OFF_VERSION, h->version.major, 2);
  ota_image_put_le(p + OTA_IMAGE_OFF_VERSION + 2, h->version.minor, 2);
  ota_image_put_le(p + OTA_IMAGE_OFF_VERSION + 4, h->version.patch, 2);
  ota_image_put_le(p + OTA_IMAGE_OFF_BUILD_TIME, h->build_time, 8);
  ota_image_put_le(p + OTA_IMAGE_OFF_PAYLOAD_SIZE, h->payload_size, 8);
  memcpy(p + OTA_IMAGE_OFF_SHA256, h->sha256, 32);
  const char *nul = (const char *) memchr(h->board, 0, MG_OTA_BOARD_SIZE);
  if (nul != NULL) memcpy(p + OTA_IMAGE_OFF_BOARD, h->board, (size_t) (nul - h->board));
  else memset(p + OTA_IMAGE_OFF_BOARD, 0xff, MG_OTA_BOARD_SIZE);  // Refused below
  struct mg_ota_header check;
  if (!mg_ota_header_parse(p, sizeof(p), &check, NULL, 0)) return false;
  memcpy(buf, p, sizeof(p));
  return true;
}

uint32_t mg_ota_image_size(const struct mg_ota_header *h) {
  return (uint32_t) (MG_OTA_HEADER_SIZE + h->payload_size + MG_OTA_SIG_SIZE);
}

void mg_ota_signed_digest(const uint8_t header[MG_OTA_HEADER_SIZE], uint8_t digest[32]) {
  mg_sha256(digest, header, MG_OTA_HEADER_SIZE);
}

// One part of a version: 1 to 5 decimal digits, at most 65535
static bool ota_image_version_part(const char **s, const char *end, uint16_t *out) {
  uint32_t v = 0;
  const char *start = *s;
  while (*s < end && **s >= '0' && **s <= '9' && *s - start < 5) v = v * 10 + (uint32_t) (*(*s)++ - '0');
  if (*s == start || v > 0xffff || (*s < end && **s >= '0' && **s <= '9')) return false;
  *out = (uint16_t) v;
  return true;
}

bool mg_ota_version_parse(const char *s, size_t len, struct mg_ota_version *v) {
  const char *end = s + len;
  struct mg_ota_version r;
  if (!ota_image_version_part(&s, end, &r.major) || s >= end || *s++ != '.') return false;
  if (!ota_image_version_part(&s, end, &r.minor) || s >= end || *s++ != '.') return false;
  if (!ota_image_version_part(&s, end, &r.patch) || s != end) return false;
  *v = r;
  return true;
}

int mg_ota_version_cmp(const struct mg_ota_version *a, const struct mg_ota_version *b) {
  if (a->major != b->major) return a->major < b->major ? -1 : 1;
  if (a->minor != b->minor) return a->minor < b->minor ? -1 : 1;
  if (a->patch != b->patch) return a->patch < b->patch ? -1 : 1;
  return 0;
}
