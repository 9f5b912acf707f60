// A PSA transparent driver with one entry point: the public key of an x25519 key pair,
// computed by Everest's verified Curve25519 (shipped inside mbedTLS) instead of mbedTLS's
// generic Montgomery ladder. Compiled into libmbedcrypto; mbedTLS's generated dispatch
// calls it first and falls back to its own code for any other key.
#ifndef MG_X25519_DRIVER_H
#define MG_X25519_DRIVER_H

#if defined(MG_X25519_DRIVER)
#ifndef PSA_CRYPTO_ACCELERATOR_DRIVER_PRESENT
#define PSA_CRYPTO_ACCELERATOR_DRIVER_PRESENT
#endif
#include <psa/crypto.h>

// PSA_ERROR_NOT_SUPPORTED for anything but an x25519 key pair
psa_status_t mg_x25519_transparent_export_public_key(
    const psa_key_attributes_t *attributes, const uint8_t *key_buffer, size_t key_buffer_size,
    uint8_t *data, size_t data_size, size_t *data_length);

// How many public keys the driver made: lets a test see that the dispatch reaches it
extern unsigned long mg_x25519_driver_calls;
#endif

#endif  // MG_X25519_DRIVER_H
