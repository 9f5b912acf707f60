// Shared inside core/tls: the mbedTLS configurations that connections with the same
// options share (tls_config.c), and what the filter (tls_mbedtls.c) needs of them.
#ifndef TLS_INTERNAL_H
#define TLS_INTERNAL_H

#include "mg_internal.h"

#if MG_ENABLE_TLS
// mbedTLS's structures depend on its configuration: the library and this code must
// be built with the same one. The Makefile names ours; dist/ ships it beside meerkat.c
#ifndef MBEDTLS_CONFIG_FILE
#define MBEDTLS_CONFIG_FILE "mg_mbedtls_config.h"
#endif
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

// One parsed set of options: certificates, key and the ssl_config built from them.
// Connections hold a reference; servers keep their session-ticket keys here, so an
// idle configuration stays cached (a few of them) for tickets to resume.
struct tls_cfg {
  struct tls_cfg *next;
  unsigned char id[32];  // SHA-256 of the side, the flags and the options' bytes
  unsigned refs;         // Connections using it
  unsigned long last_used;
  bool is_server, has_ca;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca, cert;
  mbedtls_pk_context key;
#if defined(MBEDTLS_SSL_TICKET_C)
  mbedtls_ssl_ticket_context tickets;
#endif
};

// The configuration for these options, shared or new (with a reference taken);
// NULL with why set (certificates that do not parse, a server without a key, ...)
struct tls_cfg *tls_cfg_get(bool is_server, const struct mg_tls_opts *opts, char *why, size_t why_len);
void tls_cfg_release(struct tls_cfg *cfg);
// mbedTLS's random callback: the port layer's CSPRNG
int tls_random(void *ctx, unsigned char *buf, size_t len);
// Once per process: mbedTLS allocates through mg_calloc, PSA crypto is up. false if not
bool tls_global_init(void);

// The protocol in use on c ("TLSv1.3"), NULL if c has no TLS: for logs and tests
const char *mg_tls_version(struct mg_connection *c);

// Tests: the highest TLS version of configurations made from now on
// (MBEDTLS_SSL_VERSION_TLS1_2 forces 1.2; 0 allows 1.3)
extern int mg_tls_test_max_version;
// Tests: whether mbedTLS holds handshake state for c (what MG_TLS_MAX_HANDSHAKES bounds)
bool mg_tls_test_holds_handshake(struct mg_connection *c);
#endif

#endif  // TLS_INTERNAL_H
