// The TLS slot when no TLS backend is built in: mg_tls_init fails the connection
// with an error the application sees, instead of a link error or plaintext.
#include "mg_internal.h"

#if !MG_ENABLE_TLS
void mg_tls_init(struct mg_connection *c, const struct mg_tls_opts *opts) {
  (void) opts;
  mg_error(c, "TLS is not built in (MG_ENABLE_TLS=0)");
}

bool mg_tls_check(const struct mg_tls_opts *opts, bool is_server, char *why, size_t why_len) {
  (void) opts, (void) is_server;
  mg_snprintf(why, why_len, "TLS is not built in (MG_ENABLE_TLS=0)");
  return false;
}
#endif
