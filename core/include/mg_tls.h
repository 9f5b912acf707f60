// TLS options and setup as Mongoose 7 declares them. Until a TLS backend is
// built in (MG_ENABLE_TLS), mg_tls_init fails the connection at run time.
#ifndef MG_TLS_H
#define MG_TLS_H

struct mg_tls_opts {
  struct mg_str ca;        // PEM or DER of the CA certificates to verify the peer with
  struct mg_str cert;      // Our certificate, PEM or DER
  struct mg_str key;       // Our private key, PEM or DER
  struct mg_str name;      // Host name to verify the peer's certificate against (SNI too)
  int skip_verification;   // Non-zero: do not verify the peer (tests only)
};

// Start TLS on c. Without TLS built in: MG_EV_ERROR "TLS is not built in
// (MG_ENABLE_TLS=0)" and c closes.
void mg_tls_init(struct mg_connection *c, const struct mg_tls_opts *opts);

#endif  // MG_TLS_H
