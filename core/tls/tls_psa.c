// PSA crypto's start-up on the core: its random source, its clock on a board without a
// wall clock, its allocator; apart from the TLS configurations so OTA's check links it alone.
#include "tls/tls_internal.h"

#if MG_ENABLE_TLS
#include <mbedtls/platform.h>
#include <psa/crypto.h>

// PSA crypto's random source (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG): the same CSPRNG
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context, uint8_t *output,
                                             size_t output_size, size_t *output_length) {
  (void) context;
  if (!mg_port_random(output, output_size)) return PSA_ERROR_INSUFFICIENT_ENTROPY;
  *output_length = output_size;
  return PSA_SUCCESS;
}

#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
// MG_TLS_UPTIME_CLOCK (mg_mbedtls_config.h): a board without a wall clock
mbedtls_ms_time_t mbedtls_ms_time(void) {
  return (mbedtls_ms_time_t) mg_millis();
}

time_t mg_tls_uptime_s(time_t *t) {
  time_t now = (time_t) (mg_millis() / 1000);
  if (t != NULL) *t = now;
  return now;
}
#endif

static void *tls_psa_calloc(size_t count, size_t size) {
  return mg_calloc(count, size);
}

bool tls_global_init(void) {
  static bool done;
  if (done) return true;
  mbedtls_platform_set_calloc_free(tls_psa_calloc, mg_free);
  psa_status_t st = psa_crypto_init();
  if (st != PSA_SUCCESS) {
    MG_ERROR(("TLS: PSA crypto failed to start (%d)", (int) st));
    return false;
  }
  done = true;
  return true;
}
#endif
