// Streaming an OTA image into the slot that is not running: the header checked as soon
// as it arrives, the payload hashed and written as it comes, SHA-256 and signature at the end.
#ifndef OTA_UPDATE_H
#define OTA_UPDATE_H
#include "ota/ota_flash.h"
#include "ota/ota_image.h"

// What a signature check found. CANNOT is the device's trouble (out of memory, a public
// key the crypto refuses; the check logs which), never a verdict on the image.
enum ota_verify_result { OTA_VERIFY_OK, OTA_VERIFY_BAD, OTA_VERIFY_CANNOT };

// What the device is, which the image must suit
struct ota_update_cfg {
  struct ota_flash *flash;         // Its slots receive images
  const char *board;               // The image's board must be this
  struct mg_ota_version running;   // An older image needs force
  // Checks sig over digest with the device's public key; NULL: no image is accepted
  enum ota_verify_result (*verify)(const uint8_t digest[32], const uint8_t sig[MG_OTA_SIG_SIZE], void *arg);
  void *verify_arg;
};

enum ota_update_state {
  OTA_UPDATE_IDLE,       // Nothing begun, or the last one was abandoned
  OTA_UPDATE_RECEIVING,  // Bytes go on arriving; may be resumed at u->received
  OTA_UPDATE_VERIFIED,   // The whole image is in the slot, hash and signature hold
  OTA_UPDATE_FAILED,     // u->error says why; the slot holds nothing valid
};

#define OTA_UPDATE_WRITE_MAX 64  // Largest program unit (write_size) a backend may have

struct ota_update {
  const struct ota_update_cfg *cfg;
  enum ota_update_state state;
  int slot;
  bool force;                            // An older version may come in
  uint32_t total;                        // Image size: announced, then the header's
  uint32_t received;                     // Image bytes taken so far (written or staged)
  uint8_t head[MG_OTA_HEADER_SIZE];      // The header, gathered as it arrives
  struct mg_ota_header hdr;              // Parsed once head is whole
  mg_sha256_ctx sha;                     // Of the payload so far
  uint8_t sig[MG_OTA_SIG_SIZE];          // Gathered as it arrives
  uint8_t stage[OTA_UPDATE_WRITE_MAX];   // The tail short of a whole program unit
  size_t staged;
  bool checking;                         // ota_slot_verify's: failures are not logged
  int status;                            // On failure: 400, 413, 422 or 500 (what HTTP would say)
  char error[128];                       // On failure: a reason a person can act on
};

// Starts an image of total bytes (0: not known yet, the header tells) into slot; the
// slot is erased once the header has been checked. False (u->error) if total cannot be
// an image or no signature check is configured.
bool ota_update_begin(struct ota_update *u, const struct ota_update_cfg *cfg, int slot, uint32_t total, bool force);
// The next bytes of the image; false once anything is wrong (u->error, state FAILED)
bool ota_update_write(struct ota_update *u, const void *buf, size_t len);
// All bytes are in: flushes, checks size, payload SHA-256 and signature. True: state
// VERIFIED. (What the slot holds is checked again, whole, before it is started.)
bool ota_update_end(struct ota_update *u);
// A begun upload whose process ended (a restart, a crash): rebuilds u from what the slot
// holds (header, then every byte up to the last programmed unit), so it can go on
// from u->received. False (state IDLE) if the slot holds no upload's header.
bool ota_update_recover(struct ota_update *u, const struct ota_update_cfg *cfg, int slot);
// Reads the image in slot and checks it whole (header, size, hash, signature) for cfg's
// board; fills h. The same checks as an upload, so a slot is valid exactly when an
// upload into it would have ended VERIFIED (any version). why: the reason when false.
bool ota_slot_verify(const struct ota_update_cfg *cfg, int slot, struct mg_ota_header *h, char *why, size_t why_len);

// cfg->verify for images signed with ECDSA P-256 (packer sign): pubkey is the SEC1
// uncompressed point, OTA_PUBKEY_SIZE bytes (packer pubkey writes it as C). Defined in
// TLS builds (ota_verify.c over mbedTLS); a board without TLS compiles that file alone
// with mbedTLS's crypto (the Makefile's board firmware)
#define OTA_PUBKEY_SIZE 65
enum ota_verify_result ota_verify_p256(const uint8_t digest[32], const uint8_t sig[MG_OTA_SIG_SIZE], void *pubkey);

#endif  // OTA_UPDATE_H
