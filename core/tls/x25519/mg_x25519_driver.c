// See mg_x25519_driver.h. RFC 7748: a private key is 32 bytes, little-endian, clamped on
// use (Everest clamps); the public key is the scalar times the base point u = 9.
#include "mg_x25519_driver.h"

#include <string.h>

#if !defined(__SIZEOF_INT128__)
#define KRML_VERIFIED_UINT128  // 32-bit targets: as Everest's own Hacl_Curve25519_joined.c does
#endif
#include <Hacl_Curve25519.h>
#include <mbedtls/platform_util.h>

#define X25519_KEY_SIZE 32

unsigned long mg_x25519_driver_calls;

psa_status_t mg_x25519_transparent_export_public_key(
    const psa_key_attributes_t *attributes, const uint8_t *key_buffer, size_t key_buffer_size,
    uint8_t *data, size_t data_size, size_t *data_length) {
  uint8_t secret[X25519_KEY_SIZE], base_point[X25519_KEY_SIZE] = {9};
  if (psa_get_key_type(attributes) != PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY) ||
      psa_get_key_bits(attributes) != 255 || key_buffer_size != X25519_KEY_SIZE) {
    return PSA_ERROR_NOT_SUPPORTED;  // mbedTLS's own code answers, errors included
  }
  if (data_size < X25519_KEY_SIZE) return PSA_ERROR_BUFFER_TOO_SMALL;
  memcpy(secret, key_buffer, sizeof(secret));  // Everest's signature takes no const
  Hacl_Curve25519_crypto_scalarmult(data, secret, base_point);
  mbedtls_platform_zeroize(secret, sizeof(secret));
  *data_length = X25519_KEY_SIZE;
  mg_x25519_driver_calls++;
  return PSA_SUCCESS;
}
