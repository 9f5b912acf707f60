// mbedTLS configurations shared by the connections that pass the same mg_tls_opts:
// certificates and keys are parsed once, so a connection costs only its ssl_context.
#include "tls/tls_internal.h"

#if MG_ENABLE_TLS
#include <mbedtls/platform.h>
#include <psa/crypto.h>

#ifndef MG_TLS_IDLE_CONFIGS
#define MG_TLS_IDLE_CONFIGS 4  // Unused configurations kept, so session tickets still resume
#endif
#define TLS_TICKET_LIFETIME_S 86400

int mg_tls_test_max_version;

static struct tls_cfg *tls_cfgs;
static unsigned long tls_cfg_uses;

// X25519 first: fastest, and what browsers and curl offer first
static const uint16_t tls_cfg_groups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                          MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE};

int tls_random(void *ctx, unsigned char *buf, size_t len) {
  (void) ctx;
  return mg_port_random(buf, len) ? 0 : MBEDTLS_ERR_SSL_NO_RNG;
}

static void tls_cfg_free(struct tls_cfg *cfg) {
  mbedtls_ssl_config_free(&cfg->conf);
  mbedtls_x509_crt_free(&cfg->ca);
  mbedtls_x509_crt_free(&cfg->cert);
  mbedtls_pk_free(&cfg->key);
#if defined(MBEDTLS_SSL_TICKET_C)
  mbedtls_ssl_ticket_free(&cfg->tickets);
#endif
  mg_free(cfg);
}

// mbedTLS tells PEM from DER by a terminating NUL that is part of the length;
// the options' slices need not have one, so PEM is parsed from a copy
static bool tls_cfg_is_pem(struct mg_str s) {
  static const char tag[] = "-----BEGIN ";
  for (size_t i = 0; i + sizeof(tag) - 1 <= s.len; i++) {
    if (memcmp(s.buf + i, tag, sizeof(tag) - 1) == 0) return true;
  }
  return false;
}

static int tls_cfg_parse_crt(mbedtls_x509_crt *crt, struct mg_str s) {
  if (!tls_cfg_is_pem(s)) return mbedtls_x509_crt_parse_der(crt, (const unsigned char *) s.buf, s.len);
  struct mg_str z = mg_strdup(s);
  if (z.buf == NULL) return MBEDTLS_ERR_X509_ALLOC_FAILED;
  int rc = mbedtls_x509_crt_parse(crt, (const unsigned char *) z.buf, z.len + 1);
  mg_free(z.buf);
  return rc;
}

static int tls_cfg_parse_key(mbedtls_pk_context *key, struct mg_str s) {
  struct mg_str z = tls_cfg_is_pem(s) ? mg_strdup(s) : s;
  if (z.buf == NULL) return MBEDTLS_ERR_PK_ALLOC_FAILED;
  size_t len = z.buf == s.buf ? s.len : z.len + 1;
  int rc = mbedtls_pk_parse_key(key, (const unsigned char *) z.buf, len, NULL, 0, tls_random, NULL);
  if (z.buf != s.buf) {
    mbedtls_platform_zeroize(z.buf, z.len);  // A private key
    mg_free(z.buf);
  }
  return rc;
}

static bool tls_cfg_fail(char *why, size_t len, const char *what, int rc) {
  mg_snprintf(why, len, "%s (mbedTLS -0x%04x)", what, (unsigned) -rc);
  return false;
}

static bool tls_cfg_load_own(struct tls_cfg *cfg, const struct mg_tls_opts *o, char *why, size_t len) {
  int rc;
  if (o->cert.len == 0 || o->key.len == 0) {
    if (!cfg->is_server) return true;  // A client without a certificate of its own
    mg_snprintf(why, len, "a TLS server needs mg_tls_opts.cert and .key");
    return false;
  }
  if ((rc = tls_cfg_parse_crt(&cfg->cert, o->cert)) != 0)
    return tls_cfg_fail(why, len, "mg_tls_opts.cert is no PEM or DER X.509 certificate", rc);
  if ((rc = tls_cfg_parse_key(&cfg->key, o->key)) != 0)
    return tls_cfg_fail(why, len, "mg_tls_opts.key is no PEM or DER private key", rc);
  if ((rc = mbedtls_pk_check_pair(&cfg->cert.pk, &cfg->key, tls_random, NULL)) != 0)
    return tls_cfg_fail(why, len, "mg_tls_opts.key does not belong to mg_tls_opts.cert", rc);
  if ((rc = mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->cert, &cfg->key)) != 0)
    return tls_cfg_fail(why, len, "cannot use the certificate", rc);
  return true;
}

// Who is verified: a client verifies the server unless told not to; a server asks
// for client certificates only when given a CA to check them with
static bool tls_cfg_load_ca(struct tls_cfg *cfg, const struct mg_tls_opts *o, char *why, size_t len) {
  int rc, mode;
  if (o->ca.len > 0 && (rc = tls_cfg_parse_crt(&cfg->ca, o->ca)) != 0)
    return tls_cfg_fail(why, len, "mg_tls_opts.ca holds no PEM or DER X.509 certificate", rc);
  cfg->has_ca = o->ca.len > 0;
  if (cfg->has_ca) mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
  if (cfg->is_server) mode = cfg->has_ca ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE;
  else mode = o->skip_verification ? MBEDTLS_SSL_VERIFY_NONE : MBEDTLS_SSL_VERIFY_REQUIRED;
  mbedtls_ssl_conf_authmode(&cfg->conf, mode);
  return true;
}

// Servers: resumption from tickets (TLS 1.2 and 1.3), and records of at most 4 KiB
// on the way out, so that the output buffer shrinks to that after the handshake
// (MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH); input stays at 16 KiB, as peers may send that
static bool tls_cfg_server(struct tls_cfg *cfg, char *why, size_t len) {
  int rc;
#if defined(MBEDTLS_SSL_TICKET_C)
  rc = mbedtls_ssl_ticket_setup(&cfg->tickets, tls_random, NULL, MBEDTLS_CIPHER_AES_256_GCM, TLS_TICKET_LIFETIME_S);
  if (rc != 0) return tls_cfg_fail(why, len, "cannot make session ticket keys", rc);
  mbedtls_ssl_conf_session_tickets_cb(&cfg->conf, mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse, &cfg->tickets);
#endif
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
  rc = mbedtls_ssl_conf_max_frag_len(&cfg->conf, MBEDTLS_SSL_MAX_FRAG_LEN_4096);
  if (rc != 0) return tls_cfg_fail(why, len, "cannot set the record size", rc);
#endif
  return true;
}

static bool tls_cfg_setup(struct tls_cfg *cfg, const struct mg_tls_opts *o, char *why, size_t len) {
  int endpoint = cfg->is_server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
  int rc = mbedtls_ssl_config_defaults(&cfg->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return tls_cfg_fail(why, len, "cannot set up TLS", rc);
  mbedtls_ssl_conf_rng(&cfg->conf, tls_random, NULL);
  mbedtls_ssl_conf_groups(&cfg->conf, tls_cfg_groups);
  mbedtls_ssl_conf_min_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_2);
  if (mg_tls_test_max_version != 0)
    mbedtls_ssl_conf_max_tls_version(&cfg->conf, (mbedtls_ssl_protocol_version) mg_tls_test_max_version);
  if (!tls_cfg_load_ca(cfg, o, why, len) || !tls_cfg_load_own(cfg, o, why, len)) return false;
  return !cfg->is_server || tls_cfg_server(cfg, why, len);
}

static void tls_cfg_hash_str(mg_sha256_ctx *h, struct mg_str s) {
  uint64_t n = s.len;
  mg_sha256_update(h, (const unsigned char *) &n, sizeof(n));
  if (s.len > 0) mg_sha256_update(h, (const unsigned char *) s.buf, s.len);
}

// Keyed by content, not by address: a buffer reused for other bytes is another key
static void tls_cfg_id(bool is_server, const struct mg_tls_opts *o, unsigned char id[32]) {
  mg_sha256_ctx h;
  int flags[3] = {is_server, o->skip_verification != 0, mg_tls_test_max_version};
  mg_sha256_init(&h);
  mg_sha256_update(&h, (const unsigned char *) flags, sizeof(flags));
  tls_cfg_hash_str(&h, o->ca);
  tls_cfg_hash_str(&h, o->cert);
  tls_cfg_hash_str(&h, o->key);
  mg_sha256_final(id, &h);
}

// Beyond MG_TLS_IDLE_CONFIGS unused ones, the least recently used goes
static void tls_cfg_trim(void) {
  for (;;) {
    struct tls_cfg **lru = NULL;
    unsigned idle = 0;
    for (struct tls_cfg **p = &tls_cfgs; *p != NULL; p = &(*p)->next) {
      if ((*p)->refs > 0) continue;
      idle++;
      if (lru == NULL || (*p)->last_used < (*lru)->last_used) lru = p;
    }
    if (idle <= MG_TLS_IDLE_CONFIGS) return;
    struct tls_cfg *gone = *lru;
    *lru = gone->next;
    tls_cfg_free(gone);
  }
}

struct tls_cfg *tls_cfg_get(bool is_server, const struct mg_tls_opts *opts, char *why, size_t why_len) {
  unsigned char id[32];
  tls_cfg_id(is_server, opts, id);
  for (struct tls_cfg *cfg = tls_cfgs; cfg != NULL; cfg = cfg->next) {
    if (memcmp(cfg->id, id, sizeof(id)) != 0) continue;
    cfg->refs++, cfg->last_used = ++tls_cfg_uses;
    return cfg;
  }
  struct tls_cfg *cfg = (struct tls_cfg *) mg_calloc(1, sizeof(*cfg));
  if (cfg == NULL) {
    mg_snprintf(why, why_len, "out of memory");
    return NULL;
  }
  mbedtls_ssl_config_init(&cfg->conf);
  mbedtls_x509_crt_init(&cfg->ca);
  mbedtls_x509_crt_init(&cfg->cert);
  mbedtls_pk_init(&cfg->key);
#if defined(MBEDTLS_SSL_TICKET_C)
  mbedtls_ssl_ticket_init(&cfg->tickets);
#endif
  cfg->is_server = is_server;
  if (!tls_cfg_setup(cfg, opts, why, why_len)) {
    tls_cfg_free(cfg);
    return NULL;
  }
  memcpy(cfg->id, id, sizeof(id));
  cfg->refs = 1, cfg->last_used = ++tls_cfg_uses;
  cfg->next = tls_cfgs, tls_cfgs = cfg;
  tls_cfg_trim();
  return cfg;
}

void tls_cfg_release(struct tls_cfg *cfg) {
  if (cfg == NULL || cfg->refs == 0) return;
  if (--cfg->refs == 0) tls_cfg_trim();
}

bool mg_tls_check(const struct mg_tls_opts *opts, bool is_server, char *why, size_t why_len) {
  if (!tls_global_init()) {
    mg_snprintf(why, why_len, "PSA crypto failed to start");
    return false;
  }
  struct tls_cfg *cfg = tls_cfg_get(is_server, opts, why, why_len);
  tls_cfg_release(cfg);  // Kept among the idle ones: the first connection parses nothing
  return cfg != NULL;
}
#endif  // MG_ENABLE_TLS
