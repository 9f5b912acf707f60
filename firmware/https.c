// HTTPS for the firmware: the certificate (DATA_DIR/tls, -c/-k, or the development one
// of -T), TLS on the connections of https:// listeners, the redirect of -R and HSTS.
#include "https.h"

// A year, no includeSubDomains: the device's name may be a subdomain of names it does not own
#define HTTPS_HSTS "Strict-Transport-Security: max-age=31536000\r\n"

static bool https_exists(struct mg_fs *fs, const char *path) {
  return fs->st(path, NULL, NULL) != 0;
}

// Which pair to read, first to last (struct https_paths); false when none is configured.
// A pair half there in DATA_DIR/tls is that pair: a broken installed certificate is
// reported, never silently replaced by another.
static bool https_pick(struct https *h, const struct https_paths *p, struct mg_fs *fs, char *cert, char *key,
                       size_t len) {  // cert and key: len bytes each
  mg_snprintf(cert, len, "%s/tls/cert.pem", p->data_dir);
  mg_snprintf(key, len, "%s/tls/key.pem", p->data_dir);
  h->real = true;
  if (https_exists(fs, cert) || https_exists(fs, key)) return true;
  if (p->cert != NULL) {
    mg_snprintf(cert, len, "%s", p->cert);
    mg_snprintf(key, len, "%s", p->key);
    return true;
  }
  if (p->dev_dir == NULL) {
    mg_snprintf(h->source, sizeof(h->source), "no certificate: put cert.pem and key.pem in %s/tls, or pass -c CERT -k KEY",
                p->data_dir);
    return false;
  }
  mg_snprintf(cert, len, "%s/server.pem", p->dev_dir);
  mg_snprintf(key, len, "%s/server.key", p->dev_dir);
  h->real = false;
  return true;
}

bool https_load(struct https *h, const struct https_paths *p) {
  struct mg_fs *fs = p->fs != NULL ? p->fs : &mg_fs_posix;
  char cert[256], key[sizeof(cert)], why[160];
  if (!https_pick(h, p, fs, cert, key, sizeof(cert))) return false;
  h->tls.cert = mg_file_read(fs, cert);
  h->tls.key = mg_file_read(fs, key);
  if (h->tls.cert.buf == NULL || h->tls.key.buf == NULL) {
    mg_snprintf(h->source, sizeof(h->source), "cannot read %s (absent or unreadable)", h->tls.cert.buf == NULL ? cert : key);
  } else if (!mg_tls_check(&h->tls, true, why, sizeof(why))) {
    mg_snprintf(h->source, sizeof(h->source), "certificate %s, key %s: %s", cert, key, why);
  } else {
    if (h->real) mg_snprintf(h->source, sizeof(h->source), "the certificate %s", cert);
    else mg_snprintf(h->source, sizeof(h->source), "the development certificate %s (no HSTS; browsers trust it once "
                     "%s/ca.pem is installed as a CA)", cert, p->dev_dir);
    return true;
  }
  https_free(h);
  return false;
}

void https_free(struct https *h) {
  volatile char *secret = (volatile char *) h->tls.key.buf;  // A private key: not left in freed memory
  for (size_t i = 0; secret != NULL && i < h->tls.key.len; i++) secret[i] = 0;
  mg_free(h->tls.key.buf);
  mg_free(h->tls.cert.buf);
  h->tls.key = h->tls.cert = mg_str_n(NULL, 0);
}

void https_accept(struct https *h, struct mg_connection *c) {
  if (c->is_tls) mg_tls_init(c, &h->tls);  // Accepted from an https:// listener
}

bool https_redirect(struct https *h, struct mg_connection *c, struct mg_http_message *hm) {
  if (!h->redirect || h->port == 0 || c->is_tls) return false;
  struct mg_str *value = mg_http_get_header(hm, "Host"), host;
  if (value == NULL || !mg_http_host_name(*value, &host)) {
    mg_http_reply(c, 400, "Content-Type: text/plain\r\n",
                  "This device redirects to HTTPS: the request needs a Host header with its name or address\n");
    return true;
  }
  char port[8] = "";
  if (h->port != 443) mg_snprintf(port, sizeof(port), ":%u", (unsigned) h->port);
  // Written whole here, as the target may be as long as a request head may be: no
  // buffer for a Location header. 308, not 301: the method and body stay (RFC 9110
  // 15.4.9), a login's POST is not turned into a GET. No body, so HEAD is the same.
  mg_printf(c, "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://%.*s%s%.*s%s%.*s\r\nContent-Length: 0\r\n\r\n",
            (int) host.len, host.buf, port, (int) hm->uri.len, hm->uri.buf, hm->query.len > 0 ? "?" : "",
            (int) hm->query.len, hm->query.buf);
  return true;
}

const char *https_headers(const struct https *h, const struct mg_connection *c) {
  return c->is_tls && h->real ? HTTPS_HSTS : "";
}
