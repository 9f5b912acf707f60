// Mongoose 7 TLS compatibility, built against dist/ alone with Mongoose's switch
// -DMG_TLS=MG_TLS_MBED and mbedTLS 3.6: an HTTPS server and client in one manager,
// the certificates read from mg_fs_packed (a struct mg_mem_file table below) and mg_fs_posix.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

// ---------------------------------------------------------------------------
// The packed files a Mongoose program would get from its packer: the development
// certificates (tools/make-certs.sh), read once from $CERTS, NUL after each

static const char *certs_dir(void) {
  return getenv("CERTS") != NULL ? getenv("CERTS") : "build/certs";
}

static const char *packed_names[] = {"/certs/ca.pem", "/certs/server.key", "/certs/server.pem"};
static unsigned char packed_data[3][8192];
static struct mg_mem_file packed_files[4];  // The last stays {NULL, ...}: the table's end

// Fills the table and hands it to mg_fs_packed, as Mongoose 7.22 programs do
static void packed_load(void) {
  for (size_t i = 0; i < 3; i++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", certs_dir(), packed_names[i] + 7);
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s is missing: make certs", path);
    packed_files[i].path = packed_names[i];
    packed_files[i].data = packed_data[i];
    packed_files[i].size = fread(packed_data[i], 1, sizeof(packed_data[i]) - 1, fp);
    fclose(fp);
  }
  mg_mem_files = packed_files;
}

// ---------------------------------------------------------------------------
// An HTTPS server that starts TLS in MG_EV_ACCEPT, and a client in MG_EV_CONNECT

struct fetch {
  struct mg_tls_opts tls;
  int status;
  char body[64];
  char error[200];
  bool done;
};

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_ACCEPT) mg_tls_init(c, (struct mg_tls_opts *) c->fn_data);
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "secure %s", c->is_tls ? "yes" : "no");
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct fetch *f = (struct fetch *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_tls_init(c, &f->tls);
    mg_printf(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    f->status = mg_http_status(hm);
    snprintf(f->body, sizeof(f->body), "%.*s", (int) hm->body.len, hm->body.buf);
    f->done = true;
    c->is_draining = 1;
  } else if (ev == MG_EV_ERROR) {
    snprintf(f->error, sizeof(f->error), "%s", (char *) ev_data);
    f->done = true;
  }
}

static void fetch_over_https(struct mg_tls_opts *server, struct fetch *f) {
  struct mg_mgr mgr;
  char url[64];
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, "https://127.0.0.1:0", server_fn, server);
  cr_assert_not_null(l);
  snprintf(url, sizeof(url), "https://localhost:%u/", (unsigned) mg_ntohs(l->loc.port));
  cr_assert_not_null(mg_http_connect(&mgr, url, client_fn, f));
  for (int i = 0; i < 1000 && !f->done; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
}

Test(compat_tls, mg_tls_mbed_builds_tls_in) {
  cr_assert_eq(MG_TLS, MG_TLS_MBED);
  cr_assert_neq(MG_TLS_MBED, MG_TLS_NONE);
  cr_assert_eq(MG_ENABLE_TLS, 1);
}

Test(compat_tls, https_with_certificates_from_mg_fs_packed, .init = packed_load) {
  struct mg_tls_opts server = {0};
  struct fetch f = {0};
  server.cert = mg_file_read(&mg_fs_packed, "/certs/server.pem");
  server.key = mg_file_read(&mg_fs_packed, "/certs/server.key");
  f.tls.ca = mg_unpacked("/certs/ca.pem");  // The packed bytes themselves, no copy
  cr_assert(server.cert.buf != NULL && server.key.buf != NULL && f.tls.ca.buf != NULL);
  fetch_over_https(&server, &f);
  cr_assert_str_eq(f.error, "");
  cr_assert_eq(f.status, 200);
  cr_assert_str_eq(f.body, "secure yes");
  free((void *) server.cert.buf), free((void *) server.key.buf);
}

// A development certificate or key through mg_fs_posix, as Mongoose programs read them
static struct mg_str posix_read(const char *name) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", certs_dir(), name);
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  cr_assert_not_null(s.buf, "mg_file_read %s", path);
  return s;
}

// A server with this certificate and key from mg_fs_posix, fetched by a client given ca
static void fetch_from_posix_certs(const char *cert, const char *key, struct mg_str ca, struct fetch *f) {
  struct mg_tls_opts server = {0};
  server.cert = posix_read(cert);
  server.key = posix_read(key);
  f->tls.ca = ca;
  fetch_over_https(&server, f);
  free((void *) server.cert.buf), free((void *) server.key.buf);
}

Test(compat_tls, https_with_certificates_from_mg_fs_posix) {
  struct fetch f = {0};
  struct mg_str ca = posix_read("ca.pem");
  fetch_from_posix_certs("server.pem", "server.key", ca, &f);
  free((void *) ca.buf);
  cr_assert_str_eq(f.error, "");
  cr_assert_str_eq(f.body, "secure yes");
}

// The host name comes from the URL, as in Mongoose: a certificate for another name fails
Test(compat_tls, the_client_checks_the_url_host_name, .init = packed_load) {
  struct fetch f = {0};
  fetch_from_posix_certs("other-host.pem", "other-host.key", mg_unpacked("/certs/ca.pem"), &f);
  cr_assert(strstr(f.error, "host name mismatch") != NULL, "%s", f.error);
}
