// TLS options and setup as Mongoose 7 declares them. With MG_ENABLE_TLS (mbedTLS 3.6:
// TLS 1.3 and 1.2) mg_tls_init starts TLS on a connection; without it, it fails it.
#ifndef MG_TLS_H
#define MG_TLS_H

struct mg_tls_opts {
  struct mg_str ca;        // PEM or DER of the CA certificates to verify the peer with
  struct mg_str cert;      // Our certificate, PEM or DER
  struct mg_str key;       // Our private key, PEM or DER
  struct mg_str name;      // Host name to verify the peer's certificate against (SNI too)
  int skip_verification;   // Non-zero: do not verify the peer (tests only)
};

// Start TLS on c: call it from MG_EV_ACCEPT (server) or MG_EV_CONNECT (client), as in
// Mongoose; MG_EV_TLS_HS follows when the handshake is done, and plaintext flows
// through c->recv / c->send as before. The options' bytes are read here and need not
// outlive the call; connections given the same bytes share one parsed configuration.
// - A client verifies the server unless skip_verification: against ca (no ca: the
//   handshake fails, saying so; Mongoose would skip the check) and against name, or
//   else the host of the URL it connected to.
// - A server needs cert and key; given ca, it also requires client certificates.
// - Failures (unknown CA, host name mismatch, expired certificate, no common version
//   or cipher, garbage) are MG_EV_ERROR with the reason, then the connection closes.
//   A handshake not done in MG_TLS_HANDSHAKE_TIMEOUT_MS is closed the same way.
// - An https://, wss:// (tls://, ssl://, mqtts://) connection whose handler does not
//   call this is failed with MG_EV_ERROR rather than carry plaintext.
// Without TLS built in: MG_EV_ERROR "TLS is not built in (MG_ENABLE_TLS=0)" and c closes.
void mg_tls_init(struct mg_connection *c, const struct mg_tls_opts *opts);

// Checks opts as mg_tls_init would take them, with no connection: certificates and key
// that parse, the key of the certificate, a server given both. A program calls it at
// start, to refuse a bad certificate with a line its user can act on rather than fail
// each connection. false with why set; true keeps the parsed configuration for the first
// connection. Without TLS built in: false, "TLS is not built in (MG_ENABLE_TLS=0)".
bool mg_tls_check(const struct mg_tls_opts *opts, bool is_server, char *why, size_t why_len);

#endif  // MG_TLS_H
