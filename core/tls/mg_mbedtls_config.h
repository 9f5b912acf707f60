// mbedTLS 3.6 configuration for Meerkat (MBEDTLS_CONFIG_FILE): TLS 1.3 and 1.2 with
// ECDHE and AEAD suites only, ECDSA and RSA certificates, session tickets; no files,
// sockets or clocks of mbedTLS's own: bytes move through the core's filter slot.
#ifndef MG_MBEDTLS_CONFIG_H
#define MG_MBEDTLS_CONFIG_H

// Platform: the heap through the core's allocator, random bytes from the port layer
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY             // mbedtls_platform_set_calloc_free: mg_calloc
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG     // mbedtls_psa_external_get_random: mg_port_random
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_HAVE_ASM
#define MBEDTLS_HAVE_TIME                   // Ticket lifetimes
#if defined(MG_TLS_UPTIME_CLOCK) && MG_TLS_UPTIME_CLOCK
// A board with no wall clock (the Cortex-M build): mbedTLS's clocks count the uptime
// (mg_millis(), tls_config.c), enough for ticket lifetimes; a certificate's validity
// period cannot be checked without the date, so it is not
#include <time.h>
time_t mg_tls_uptime_s(time_t *t);
#define MBEDTLS_PLATFORM_TIME_MACRO mg_tls_uptime_s
#define MBEDTLS_PLATFORM_MS_TIME_ALT
#else
#define MBEDTLS_HAVE_TIME_DATE              // Certificate validity periods
#endif

// Protocol
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED  // Resumption from a ticket
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES      // Peers learn why a handshake failed
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE   // TLS 1.3 in 3.6 requires it
// Record buffers: 16 KiB in each direction during the handshake (a certificate
// chain must fit); afterwards the output buffer shrinks to the fragment length the
// configuration sets (mbedtls_ssl_conf_max_frag_len), the input one stays at 16 KiB
// because peers may send full-size records
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH

// Symmetric crypto: AEAD only
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C                     // AES-NI on x86-64 hosts; nothing elsewhere
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_MD_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC       // A TLS 1.3 client holds a key per handshake: no fixed 32

// Public keys: ECDHE on x25519, P-256, P-384; ECDSA and RSA (PKCS#1 v1.5 and PSS)
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
// x25519 from Project Everest's verified code (HACL*, Apache 2.0): the shared secret of a
// handshake's key exchange in a tenth of the time of mbedTLS's generic ladder (TLS 1.3's
// key generation goes through PSA and stays on the ladder)
#define MBEDTLS_ECDH_VARIANT_EVEREST_ENABLED
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C

// Certificates: X.509 from PEM or DER in memory
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT

#endif  // MG_MBEDTLS_CONFIG_H
