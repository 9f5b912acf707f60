// mbedTLS for the board firmware (MBEDTLS_USER_CONFIG_FILE, read after core/tls's
// configuration): what an HTTPS server with an ECDSA P-256 certificate does not use goes.
#ifndef FIRMWARE_ARM_MBEDTLS_BOARD_H
#define FIRMWARE_ARM_MBEDTLS_BOARD_H

// A server only: the firmware opens no TLS connection of its own
#undef MBEDTLS_SSL_CLI_C
// No RSA: the board's certificate and key are ECDSA P-256, and it asks for no client certificate
#undef MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#undef MBEDTLS_RSA_C
#undef MBEDTLS_PKCS1_V15
#undef MBEDTLS_PKCS1_V21
#undef MBEDTLS_X509_RSASSA_PSS_SUPPORT
// Key exchange on X25519 and P-256, which every current client offers; SHA-384 and
// SHA-512 with them, so TLS_AES_256_GCM_SHA384 goes and AES-128-GCM and ChaCha20 stay
// (ChaCha20 is the faster one on a core without AES instructions)
#undef MBEDTLS_ECP_DP_SECP384R1_ENABLED
#undef MBEDTLS_SHA384_C
#undef MBEDTLS_SHA512_C
#undef MBEDTLS_SHA224_C
#undef MBEDTLS_AESNI_C
#undef MBEDTLS_PK_WRITE_C
// Records the board sends carry at most 4 KiB (it may cut them as it likes): 12 KiB less
// per connection. Its handshake flight must fit: an ECDSA chain of two or three
// certificates does. What it receives stays 16 KiB, as a client may send full records.
#define MBEDTLS_SSL_OUT_CONTENT_LEN 4096

#endif
