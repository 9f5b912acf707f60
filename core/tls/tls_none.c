// The TLS slot when no TLS backend is built in: mg_tls_init fails the connection
// with an error the application sees, instead of a link error or plaintext.
#include "mg_internal.h"

#if !MG_ENABLE_TLS
void mg_tls_init(struct mg_connection *c, const struct mg_tls_opts *opts) {
  (void) opts;
  mg_error(c, "TLS is not built in (MG_ENABLE_TLS=0)");
}
#endif
