// URL helpers over "scheme://user:pass@host:port/uri" strings. Pure functions:
// they return slices into the given string and never allocate.
#ifndef MG_URL_H
#define MG_URL_H

struct mg_url {
  struct mg_str scheme, user, pass, host, uri;  // host: no [] for IPv6, empty for ":port"
  unsigned short port;                          // Explicit port, else the scheme's default, else 0
  bool has_port;
};

// Returns false on malformed input: bad port, unterminated '[', no host and no port,
// control characters. "//host/p" has no scheme; ":8000" and "http://:8000" have an
// empty host (mg_listen: any address; mg_connect refuses it).
bool mg_url_parse(struct mg_str url, struct mg_url *out);

// Convenience accessors (seed API); malformed URLs give empty slices / port 0
unsigned short mg_url_port(const char *url);
bool mg_url_is_ssl(const char *url);  // https, wss, mqtts, ssl, tls, tcps
bool mg_url_scheme_is_tls(struct mg_str scheme);  // The same test on a parsed scheme
struct mg_str mg_url_host(const char *url);  // "[::1]" keeps its brackets, as in Mongoose
struct mg_str mg_url_user(const char *url);
struct mg_str mg_url_pass(const char *url);
const char *mg_url_uri(const char *url);  // "/" when the URL has no path

#endif  // MG_URL_H
