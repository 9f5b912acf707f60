// HTTPS for the firmware: the certificate (DATA_DIR/tls, -c/-k, or the development one
// of -T), TLS on the connections of https:// listeners, the redirect of -R and HSTS.
#ifndef FIRMWARE_HTTPS_H
#define FIRMWARE_HTTPS_H
#include "meerkat.h"

struct https {
  struct mg_tls_opts tls;  // cert and key, read by https_load (NULL while none)
  char source[300];        // Where they came from, or why there are none, for the log
  bool real;               // Not the development certificate: responses carry HSTS
  bool redirect;           // -R: plain HTTP requests get 308 to the HTTPS listener
  uint16_t port;           // The first HTTPS listener's port (host order), 0 while none
};

// Where https_load looks, first to last: DATA_DIR/tls/cert.pem and key.pem (a certificate
// installed on the device), then cert and key (-c, -k), then dev_dir/server.pem and
// server.key (-T, the development one). NULL: not given.
struct https_paths {
  const char *data_dir, *cert, *key, *dev_dir;
  struct mg_fs *fs;  // Where they are read from; NULL: mg_fs_posix
};

// Reads and checks the certificate and key; false with h->source saying why (logged by
// the caller for each https:// listener it then does not start)
bool https_load(struct https *h, const struct https_paths *paths);
void https_free(struct https *h);

// MG_EV_ACCEPT: TLS on a connection of an https:// listener
void https_accept(struct https *h, struct mg_connection *c);
// MG_EV_HTTP_MSG: with -R and an HTTPS listener, answers a plain HTTP request with 308
// to the same host and target over HTTPS (400 for a Host no URL can be built from); true if it did
bool https_redirect(struct https *h, struct mg_connection *c, struct mg_http_message *hm);
// Extra header lines for a response on c: HSTS over HTTPS with a real certificate, else ""
const char *https_headers(const struct https *h, const struct mg_connection *c);

#endif
