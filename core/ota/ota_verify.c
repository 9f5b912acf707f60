// The signature check of OTA images: ECDSA P-256 over a SHA-256 digest, through mbedTLS's
// PSA API (the TLS build's), against a public key given as a SEC1 uncompressed point.
#include "ota/ota_update.h"
#include "tls/tls_internal.h"  // tls_global_init: PSA started once, on the core's allocator

#if MG_ENABLE_TLS
#include <psa/crypto.h>

enum ota_verify_result ota_verify_p256(const uint8_t digest[32], const uint8_t sig[MG_OTA_SIG_SIZE], void *pubkey) {
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_key_id_t key = 0;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
  psa_status_t st = tls_global_init() ? PSA_SUCCESS : PSA_ERROR_GENERIC_ERROR;
  if (st == PSA_SUCCESS) st = psa_import_key(&attr, (const uint8_t *) pubkey, OTA_PUBKEY_SIZE, &key);
  if (st != PSA_SUCCESS) {
    MG_ERROR(("OTA public key cannot be used (PSA status %d): %s", (int) st,
              st == PSA_ERROR_INSUFFICIENT_MEMORY ? "out of memory" : "is it a P-256 point?"));
    return OTA_VERIFY_CANNOT;
  }
  st = psa_verify_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, sig, MG_OTA_SIG_SIZE);
  psa_destroy_key(key);
  if (st == PSA_ERROR_INSUFFICIENT_MEMORY) {
    MG_ERROR(("OTA signature check ran out of memory"));
    return OTA_VERIFY_CANNOT;
  }
  return st == PSA_SUCCESS ? OTA_VERIFY_OK : OTA_VERIFY_BAD;
}
#endif
