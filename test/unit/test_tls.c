// TLS in the filter slot: a server and clients in one manager over loopback (or the
// mock backend): echo over TLS 1.3 and 1.2, records cut at every byte beneath TLS,
// the errors a person sees, garbage and stalled handshakes, input mbedTLS holds.
// Certificates come from tools/make-certs.sh (build/certs, or $CERTS).
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "tls/tls_internal.h"
#if MG_ENABLE_TLS
#include <psa/crypto.h>
#endif

#if MG_ENABLE_TLS
#if MG_ENABLE_SOCKET && defined(__GLIBC__)
#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

// ---------------------------------------------------------------------------
// Certificates

static struct mg_str cert_load(const char *name) {
  const char *dir = getenv("CERTS") != NULL ? getenv("CERTS") : "build/certs";
  char path[512];
  mg_snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *fp = fopen(path, "rb");
  cr_assert_not_null(fp, "%s is missing: make certs", path);
  static char bufs[16][8192];
  static int next;
  char *buf = bufs[next++ % 16];
  size_t n = fread(buf, 1, sizeof(bufs[0]), fp);
  fclose(fp);
  return mg_str_n(buf, n);  // Not NUL-terminated as far as mg_tls_init knows
}

// ---------------------------------------------------------------------------
// Beneath TLS: one byte per read and write, and "would block" every other call of a
// connection in each direction, so every record arrives and leaves in pieces of one
// byte. (One count for all calls could make one connection's writes always land on
// "would block" when its reads and another's calls keep the parity: a livelock no
// kernel produces.)

static unsigned split_calls[2][64];  // [read or write][connection id % 64]

static long split_recv(struct mg_connection *c, void *buf, size_t len) {
  (void) len;
  return ++split_calls[0][c->id % 64] % 2 ? MG_IO_WAIT : mg_be_recv(c, buf, 1);
}

static long split_send(struct mg_connection *c, const void *buf, size_t len) {
  (void) len;
  return ++split_calls[1][c->id % 64] % 2 ? MG_IO_WAIT : mg_be_send(c, buf, 1);
}

static const struct mg_filter split_filter = {"split", split_recv, split_send, NULL, NULL, NULL, NULL, NULL, NULL};

// Beneath TLS: counts the reads that brought ciphertext
static unsigned counted_reads;

static long counting_recv(struct mg_connection *c, void *buf, size_t len) {
  long n = mg_be_recv(c, buf, len);
  if (n > 0) counted_reads++;
  return n;
}

static const struct mg_filter counting_filter = {"counting", counting_recv, mg_be_send, NULL, NULL, NULL, NULL, NULL, NULL};

// ---------------------------------------------------------------------------
// Peers

struct peer {
  struct mg_tls_opts opts;
  bool split;              // Put split_filter beneath TLS
  bool count;              // Server: put counting_filter beneath TLS
  bool burst;              // Client: all its pieces at once, each its own record
  bool echo;               // Server: send back what arrives
  bool pause_after_read;   // Server: stop reading after the first read
  int max_version;         // Client: mg_tls_test_max_version for its configuration
  int hs, errors, closes, reads;
  char error[200];
  const char *version;
  unsigned char got[70000];
  size_t got_len;
  const unsigned char *out;  // Client: what to send once TLS is up, in pieces of `piece`
  size_t out_len, out_sent, piece;
  struct mg_connection *c;
};

static void peer_record(struct peer *p, struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_TLS_HS) {
    p->hs++;
    p->version = mg_tls_version(c);
    cr_assert_eq(c->is_tls_hs, 0);
  } else if (ev == MG_EV_READ) {
    p->reads++;
    cr_assert_geq(p->hs, 1, "plaintext only after the handshake");
    size_t n = c->recv.len < sizeof(p->got) - p->got_len ? c->recv.len : sizeof(p->got) - p->got_len;
    memcpy(p->got + p->got_len, c->recv.buf, n);
    p->got_len += n;
  } else if (ev == MG_EV_ERROR) {
    p->errors++;
    mg_snprintf(p->error, sizeof(p->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    p->closes++;
  }
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct peer *p = (struct peer *) c->fn_data;
  if (c->is_listening) return;
  if (ev == MG_EV_ACCEPT) {
    p->c = c;
    if (p->split) c->filter = &split_filter;
    if (p->count) c->filter = &counting_filter;
    mg_tls_init(c, &p->opts);
    cr_assert(c->is_tls && (c->is_tls_hs || c->is_closing));
  }
  peer_record(p, c, ev, ev_data);
  if (ev == MG_EV_READ) {
    if (p->echo) mg_send(c, c->recv.buf, c->recv.len);
    if (p->pause_after_read) c->is_read_paused = 1;
    c->recv.len = 0;
  }
}

// Sends the next piece of its output on every poll, so c->send grows while mbedTLS
// may hold a record half sent
static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct peer *p = (struct peer *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    if (p->split) c->filter = &split_filter;
    mg_tls_test_max_version = p->max_version;
    mg_tls_init(c, &p->opts);
    mg_tls_test_max_version = 0;
  }
  peer_record(p, c, ev, ev_data);
  if (ev == MG_EV_READ) c->recv.len = 0;
  while (ev == MG_EV_TLS_HS && p->burst && p->out_sent < p->out_len) {
    mg_send(c, p->out + p->out_sent, p->piece);
    mg_io_send_now(c);  // A record of its own, written now
    p->out_sent += p->piece;
  }
  if ((ev == MG_EV_TLS_HS || ev == MG_EV_POLL) && p->hs > 0 && p->out_sent < p->out_len) {
    size_t n = p->piece == 0 || p->out_len - p->out_sent < p->piece ? p->out_len - p->out_sent : p->piece;
    mg_send(c, p->out + p->out_sent, n);
    p->out_sent += n;
  }
}

static void poll_while(struct mg_mgr *mgr, bool (*busy)(void *), void *arg, int max_ms) {
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  while (busy(arg) && mg_millis() < end) mg_mgr_poll(mgr, 5);
}

static bool no_error_yet(void *arg) {
  return ((struct peer *) arg)->errors == 0;
}

static unsigned short listen_tls(struct mg_mgr *mgr, struct peer *srv, const char *cert, const char *key) {
  srv->opts.cert = cert_load(cert);
  srv->opts.key = cert_load(key);
  struct mg_connection *l = mg_listen(mgr, "tls://127.0.0.1:0", server_fn, srv);
  cr_assert_not_null(l);
  return mg_ntohs(l->loc.port);
}

static struct mg_connection *connect_tls(struct mg_mgr *mgr, unsigned short port, struct peer *cli) {
  char url[64];
  mg_snprintf(url, sizeof(url), "tls://127.0.0.1:%u", (unsigned) port);
  struct mg_connection *c = mg_connect(mgr, url, client_fn, cli);
  cr_assert_not_null(c);
  cli->c = c;
  return c;
}

static unsigned char pattern[65536];

static void pattern_fill(void) {
  for (size_t i = 0; i < sizeof(pattern); i++) pattern[i] = (unsigned char) (i * 7 + i / 251);
}

static bool echo_incomplete(void *arg) {
  struct peer *cli = (struct peer *) arg;
  return cli->got_len < cli->out_len && cli->errors == 0;
}

// The client sends len bytes in pieces; the server echoes; both see one handshake
static void echo_run(struct peer *srv, struct peer *cli, size_t len, size_t piece, int max_ms) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  pattern_fill();
  srv->echo = true;
  cli->opts.ca = cert_load("ca.pem");
  cli->out = pattern, cli->out_len = len, cli->piece = piece;
  connect_tls(&mgr, listen_tls(&mgr, srv, "server.pem", "server.key"), cli);
  poll_while(&mgr, echo_incomplete, cli, max_ms);
  cr_assert_eq(cli->errors, 0, "client: %s", cli->error);
  cr_assert_eq(srv->errors, 0, "server: %s", srv->error);
  cr_assert_eq(cli->got_len, len, "echoed %zu of %zu", cli->got_len, len);
  cr_assert(memcmp(cli->got, pattern, len) == 0, "the echo differs from what was sent");
  cr_assert(srv->hs == 1 && cli->hs == 1);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Working connections

Test(tls, echo_over_tls13) {
  static struct peer srv, cli;
  echo_run(&srv, &cli, 60000, 0, 5000);
  cr_assert_str_eq(cli.version, "TLSv1.3");
  cr_assert_str_eq(srv.version, "TLSv1.3");
}

// RFC 7748, 6.1: Alice's key pair. PSA hands the public key to our Everest driver
// (core/tls/x25519), which must give what the RFC gives
extern unsigned long mg_x25519_driver_calls;

static void hex_to(const char *hex, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

Test(tls, x25519_public_keys_come_from_the_everest_driver_as_rfc7748_says) {
  uint8_t priv[32], want[32], got[32];
  hex_to("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", priv, 32);
  hex_to("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want, 32);
  cr_assert_eq(psa_crypto_init(), PSA_SUCCESS);
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
  psa_set_key_bits(&attr, 255);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
  mbedtls_svc_key_id_t key;
  cr_assert_eq(psa_import_key(&attr, priv, sizeof(priv), &key), PSA_SUCCESS);
  unsigned long calls = mg_x25519_driver_calls;
  size_t len = 0;
  cr_assert_eq(psa_export_public_key(key, got, sizeof(got), &len), PSA_SUCCESS);
  cr_assert_eq(mg_x25519_driver_calls, calls + 1, "the public key did not come from the driver");
  cr_assert_eq(len, 32);
  cr_assert(memcmp(got, want, 32) == 0, "the public key differs from RFC 7748's");
  cr_assert_eq(psa_export_public_key(key, got, 31, &len), PSA_ERROR_BUFFER_TOO_SMALL);
  psa_destroy_key(key);
}

Test(tls, a_tls13_handshake_makes_its_key_share_with_the_driver) {
  static struct peer srv, cli;
  unsigned long calls = mg_x25519_driver_calls;
  echo_run(&srv, &cli, 100, 0, 5000);
  cr_assert_str_eq(srv.version, "TLSv1.3");
  cr_assert_eq(mg_x25519_driver_calls, calls + 2, "server and client: one key share each");
}

Test(tls, echo_over_tls12_when_the_client_caps_the_version) {
  static struct peer srv, cli;
  cli.max_version = MBEDTLS_SSL_VERSION_TLS1_2;
  echo_run(&srv, &cli, 60000, 0, 5000);
  cr_assert_str_eq(cli.version, "TLSv1.2");
  cr_assert_str_eq(srv.version, "TLSv1.2");
}

// Every record, the handshake's too, crosses in one-byte pieces with "would block"
// between them, while the client keeps queueing: a record mbedTLS holds half sent is
// retried with exactly its own bytes though c->send has grown
// mbedTLS asks for a record's header, then for its body; the filter reads ahead, so a
// small record costs one read, not two
Test(tls, a_small_record_takes_one_read) {
  static struct peer srv, cli;
  srv.count = true;
  echo_run(&srv, &cli, 2000, 100, 5000);
  unsigned after_hs = counted_reads;
  cr_assert_leq(after_hs, (unsigned) srv.reads + 4, "%u reads for %d records (and the handshake's)", after_hs,
                srv.reads);
}

// Records read ahead together reach the handler without the kernel saying readable again
Test(tls, records_read_ahead_together_all_arrive) {
  static struct peer srv, cli;
  srv.count = true, cli.burst = true;
  echo_run(&srv, &cli, 30 * 50, 50, 5000);
  cr_assert_lt(counted_reads, 30, "%u reads for 30 records", counted_reads);
}

Test(tls, records_cut_at_every_byte_both_ways) {
  static struct peer srv, cli;
  srv.split = cli.split = true;
  echo_run(&srv, &cli, 3000, 100, 20000);
}

Test(tls, records_cut_at_every_byte_over_tls12) {
  static struct peer srv, cli;
  srv.split = cli.split = true;
  cli.max_version = MBEDTLS_SSL_VERSION_TLS1_2;
  echo_run(&srv, &cli, 1000, 37, 20000);
  cr_assert_str_eq(cli.version, "TLSv1.2");
}

Test(tls, rsa_server_certificate) {
  static struct peer srv, cli;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  pattern_fill();
  srv.echo = true;
  cli.opts.ca = cert_load("ca.pem");
  cli.out = pattern, cli.out_len = 1000;
  connect_tls(&mgr, listen_tls(&mgr, &srv, "server-rsa.pem", "server-rsa.key"), &cli);
  poll_while(&mgr, echo_incomplete, &cli, 5000);
  cr_assert_eq(cli.got_len, 1000, "client: %s", cli.error);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Certificates from an mg_fs, as Mongoose 7 programs load them:
// `opts.cert = mg_file_read(&mg_fs_posix, "cert.pem")`. mbedTLS tells PEM from DER by
// a NUL counted in the length; mg_tls_init must not depend on one being there.

// A short echo with the options the test gave both peers
static void echo_with_opts(struct peer *srv, struct peer *cli) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  srv->echo = true;
  cli->out = (const unsigned char *) "ping", cli->out_len = 4;
  struct mg_connection *l = mg_listen(&mgr, "tls://127.0.0.1:0", server_fn, srv);
  cr_assert_not_null(l);
  connect_tls(&mgr, mg_ntohs(l->loc.port), cli);
  poll_while(&mgr, echo_incomplete, cli, 5000);
  cr_assert_eq(cli->errors, 0, "client: %s", cli->error);
  cr_assert_eq(srv->errors, 0, "server: %s", srv->error);
  cr_assert(cli->got_len == 4 && memcmp(cli->got, "ping", 4) == 0, "echoed %zu bytes", cli->got_len);
  mg_mgr_free(&mgr);
}

static struct mg_str cert_read(struct mg_fs *fs, const char *dir, const char *name) {
  char path[512];
  mg_snprintf(path, sizeof(path), "%s/%s", dir, name);
  struct mg_str s = mg_file_read(fs, path);
  cr_assert_not_null(s.buf, "mg_file_read %s", path);
  return s;
}

#if MG_ENABLE_POSIX_FS
// The CA's length counts its NUL, as programs written for Mongoose's mbedTLS code pass it
Test(tls, certificates_from_mg_file_read_on_the_posix_fs) {
  static struct peer srv, cli;
  const char *dir = getenv("CERTS") != NULL ? getenv("CERTS") : "build/certs";
  srv.opts.cert = cert_read(&mg_fs_posix, dir, "server.pem");
  srv.opts.key = cert_read(&mg_fs_posix, dir, "server.key");
  struct mg_str ca = cert_read(&mg_fs_posix, dir, "ca.pem");
  cli.opts.ca = mg_str_n(ca.buf, ca.len + 1);
  echo_with_opts(&srv, &cli);
  mg_free((void *) srv.opts.cert.buf), mg_free((void *) srv.opts.key.buf), mg_free((void *) ca.buf);
}
#endif

// A packed filesystem as the packer makes it, over a table whose files are followed
// by other bytes, never a NUL (the packer's long files are rows of bytes, no literal)
static struct mg_packed_file packed_certs[3];
static const struct mg_packed_table packed_certs_table = {packed_certs, 3};

static int packed_certs_st(const char *path, size_t *size, time_t *mtime) {
  return mg_packed_stat(&packed_certs_table, path, size, mtime);
}
static void *packed_certs_op(const char *path, int flags) {
  return mg_packed_open(&packed_certs_table, path, flags);
}
static struct mg_fs packed_certs_fs = {.st = packed_certs_st, .op = packed_certs_op, .cl = mg_packed_close,
                                       .rd = mg_packed_read, .sk = mg_packed_seek};

static void packed_certs_add(size_t i, const char *path, const char *file) {
  static char store[3][8192 + 16];
  struct mg_str s = cert_load(file);
  memcpy(store[i], s.buf, s.len);
  memset(store[i] + s.len, '-', 16);  // No NUL after the file
  packed_certs[i] = (struct mg_packed_file) {path, (const unsigned char *) store[i], s.len, s.len, 0, "text/plain",
                                             "\"x\"", false, false};
}

Test(tls, certificates_from_a_packed_filesystem_with_no_nul_after_them) {
  static struct peer srv, cli;
  packed_certs_add(0, "/certs/ca.pem", "ca.pem");  // Sorted by path, as the table must be
  packed_certs_add(1, "/certs/server.key", "server.key");
  packed_certs_add(2, "/certs/server.pem", "server.pem");
  srv.opts.cert = cert_read(&packed_certs_fs, "/certs", "server.pem");
  srv.opts.key = cert_read(&packed_certs_fs, "/certs", "server.key");
  // The table's own bytes, as a program may pass them without a copy
  const struct mg_packed_file *ca = mg_packed_find(&packed_certs_table, "/certs/ca.pem");
  cr_assert_not_null(ca);
  cli.opts.ca = mg_str_n((const char *) ca->data, ca->size);
  echo_with_opts(&srv, &cli);
  mg_free((void *) srv.opts.cert.buf), mg_free((void *) srv.opts.key.buf);
}

// ---------------------------------------------------------------------------
// Errors a person can act on

// The client's error after a handshake against a server with this certificate
static void client_error(const char *cert, const char *key, const char *ca, const char *name, int max_version,
                         char *err, size_t len, struct peer *srv) {
  struct mg_mgr mgr;
  static struct peer cli;
  memset(&cli, 0, sizeof(cli));
  mg_mgr_init(&mgr);
  cli.opts.ca = cert_load(ca);
  if (name != NULL) cli.opts.name = mg_str(name);
  cli.max_version = max_version;
  connect_tls(&mgr, listen_tls(&mgr, srv, cert, key), &cli);
  poll_while(&mgr, no_error_yet, &cli, 5000);
  for (int i = 0; i < 20; i++) mg_mgr_poll(&mgr, 5);  // The server hears the alert
  cr_assert_eq(cli.hs, 0);
  cr_assert_eq(cli.closes, 1);
  mg_snprintf(err, len, "%s", cli.error);
  mg_mgr_free(&mgr);
}

#if MG_ENABLE_MOCK
// A board whose mg_board_random fails (QEMU's mps2-an385 has no TRNG): TLS refuses to
// start and says why, instead of a bare mbedTLS code or a key said not to match
extern bool mock_board_has_no_rng;

Test(tls, a_board_without_random_bytes_is_named) {
  static struct peer srv, cli;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  cli.opts.ca = cert_load("ca.pem");
  mock_board_has_no_rng = true;
  connect_tls(&mgr, listen_tls(&mgr, &srv, "server.pem", "server.key"), &cli);
  poll_while(&mgr, no_error_yet, &cli, 5000);
  mock_board_has_no_rng = false;
  cr_assert(strstr(cli.error, "TLS: no random bytes (mg_port_random failed") != NULL, "client: %s", cli.error);
  mg_mgr_free(&mgr);
}
#endif

// Over TLS 1.3 the client's alert comes before it has handshake keys, in plaintext
Test(tls, unknown_ca_is_named_on_both_sides) {
  static struct peer srv;
  char err[200];
  client_error("server.pem", "server.key", "other-ca.pem", NULL, 0, err, sizeof(err), &srv);
  cr_assert(strstr(err, "unknown CA") != NULL, "%s", err);
  cr_assert(strstr(srv.error, "does not trust our certificate (unknown CA)") != NULL, "server: %s", srv.error);
}

Test(tls, unknown_ca_is_named_on_both_sides_over_tls12) {
  static struct peer srv;
  char err[200];
  client_error("server.pem", "server.key", "other-ca.pem", NULL, MBEDTLS_SSL_VERSION_TLS1_2, err, sizeof(err), &srv);
  cr_assert(strstr(err, "unknown CA") != NULL, "%s", err);
  cr_assert(strstr(srv.error, "does not trust our certificate (unknown CA)") != NULL, "server: %s", srv.error);
}

Test(tls, wrong_host_name_in_opts) {
  static struct peer srv;
  char err[200];
  client_error("server.pem", "server.key", "ca.pem", "wrong.example", 0, err, sizeof(err), &srv);
  cr_assert(strstr(err, "host name mismatch") != NULL && strstr(err, "wrong.example") != NULL, "%s", err);
}

// Without opts.name the host of the URL is checked: 127.0.0.1 is not other.example
Test(tls, wrong_host_name_from_the_url) {
  static struct peer srv;
  char err[200];
  client_error("other-host.pem", "other-host.key", "ca.pem", NULL, 0, err, sizeof(err), &srv);
  cr_assert(strstr(err, "host name mismatch") != NULL && strstr(err, "127.0.0.1") != NULL, "%s", err);
}

Test(tls, expired_certificate) {
  static struct peer srv;
  char err[200];
  client_error("expired.pem", "expired.key", "ca.pem", NULL, 0, err, sizeof(err), &srv);
  cr_assert(strstr(err, "certificate expired") != NULL, "%s", err);
}

Test(tls, a_client_without_a_ca_says_to_set_one) {
  static struct peer srv;
  struct mg_mgr mgr;
  static struct peer cli;
  mg_mgr_init(&mgr);
  connect_tls(&mgr, listen_tls(&mgr, &srv, "server.pem", "server.key"), &cli);
  poll_while(&mgr, no_error_yet, &cli, 5000);
  cr_assert(strstr(cli.error, "set mg_tls_opts.ca") != NULL, "%s", cli.error);
  mg_mgr_free(&mgr);
}

Test(tls, skip_verification_accepts_any_certificate) {
  static struct peer srv, cli;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  cli.opts.skip_verification = 1;
  connect_tls(&mgr, listen_tls(&mgr, &srv, "untrusted.pem", "untrusted.key"), &cli);
  for (int i = 0; i < 400 && cli.hs == 0 && cli.errors == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli.hs, 1, "%s", cli.error);
  mg_mgr_free(&mgr);
}

Test(tls, a_server_given_a_ca_requires_client_certificates) {
  static struct peer srv, cli, cli2;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  srv.opts.ca = cert_load("ca.pem");
  unsigned short port = listen_tls(&mgr, &srv, "server.pem", "server.key");
  cli.opts.ca = cert_load("ca.pem");
  connect_tls(&mgr, port, &cli);
  poll_while(&mgr, no_error_yet, &srv, 5000);
  cr_assert(strstr(srv.error, "no certificate") != NULL, "server: %s", srv.error);
  cli2.opts.ca = cert_load("ca.pem");
  cli2.opts.cert = cert_load("client.pem"), cli2.opts.key = cert_load("client.key");
  connect_tls(&mgr, port, &cli2);
  for (int i = 0; i < 400 && cli2.hs == 0 && cli2.errors == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli2.hs, 1, "%s", cli2.error);
  mg_mgr_free(&mgr);
}

Test(tls, a_key_that_does_not_match_the_certificate) {
  static struct peer srv;
  struct mg_mgr mgr;
  static struct peer cli;
  mg_mgr_init(&mgr);
  srv.opts.cert = cert_load("server.pem"), srv.opts.key = cert_load("client.key");
  struct mg_connection *l = mg_listen(&mgr, "tls://127.0.0.1:0", server_fn, &srv);
  cli.opts.ca = cert_load("ca.pem");
  connect_tls(&mgr, mg_ntohs(l->loc.port), &cli);
  poll_while(&mgr, no_error_yet, &srv, 5000);
  cr_assert(strstr(srv.error, "does not belong to mg_tls_opts.cert") != NULL, "%s", srv.error);
  mg_mgr_free(&mgr);
}

// What a program checks at start, before it listens: the reasons mg_tls_init would
// give a first connection, with no connection
Test(tls, mg_tls_check_names_a_bad_certificate_or_key_before_any_connection) {
  struct mg_tls_opts o = {.cert = cert_load("server.pem"), .key = cert_load("server.key")};
  char why[160] = "";
  cr_assert(mg_tls_check(&o, true, why, sizeof(why)), "%s", why);
  o.key = cert_load("client.key");
  cr_assert_not(mg_tls_check(&o, true, why, sizeof(why)));
  cr_assert(strstr(why, "mg_tls_opts.key does not belong to mg_tls_opts.cert") != NULL, "%s", why);
  o.cert = mg_str("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
  cr_assert_not(mg_tls_check(&o, true, why, sizeof(why)));
  cr_assert(strstr(why, "mg_tls_opts.cert is no PEM or DER X.509 certificate") != NULL, "%s", why);
  struct mg_tls_opts none = {0};
  cr_assert_not(mg_tls_check(&none, true, why, sizeof(why)));
  cr_assert(strstr(why, "needs mg_tls_opts.cert and .key") != NULL, "%s", why);
  cr_assert(mg_tls_check(&none, false, why, sizeof(why)), "a client needs no certificate of its own: %s", why);
  struct mg_tls_opts junk_ca = {.ca = mg_str("junk")};
  cr_assert_not(mg_tls_check(&junk_ca, false, why, sizeof(why)));
  cr_assert(strstr(why, "mg_tls_opts.ca holds no PEM or DER X.509 certificate") != NULL, "%s", why);
}

// A TLS URL whose handler forgets mg_tls_init: no plaintext goes out
static void forgetful_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct peer *p = (struct peer *) c->fn_data;
  if (ev == MG_EV_CONNECT) mg_send(c, "secret", 6);
  peer_record(p, c, ev, ev_data);
}

static void sink_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) *(size_t *) c->fn_data += c->recv.len, c->recv.len = 0;
  (void) ev_data;
}

Test(tls, a_tls_url_without_mg_tls_init_sends_no_plaintext) {
  static struct peer cli;
  size_t received = 0;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "tcp://127.0.0.1:0", sink_fn, &received);
  char url[64];
  mg_snprintf(url, sizeof(url), "tls://127.0.0.1:%u", (unsigned) mg_ntohs(l->loc.port));
  mg_connect(&mgr, url, forgetful_fn, &cli);
  poll_while(&mgr, no_error_yet, &cli, 5000);
  cr_assert(strstr(cli.error, "did not call mg_tls_init in MG_EV_CONNECT") != NULL, "%s", cli.error);
  for (int i = 0; i < 20; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(received, 0);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// HTTPS and WSS clients, Mongoose style: the request is queued before the handshake
// (mg_ws_connect queues its upgrade at once) and goes out encrypted after it

struct web {
  struct mg_tls_opts opts;  // Server: certificate and key
  struct mg_tls_opts copts; // Client: the CA
  int status, ws_opens, ws_msgs, errors;
  char body[64], error[200];
};

static void web_server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct web *w = (struct web *) c->fn_data;
  if (ev == MG_EV_ACCEPT) mg_tls_init(c, &w->opts);
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_str_eq(hm->uri, "/ws")) mg_ws_upgrade(c, hm, NULL);
    else mg_http_reply(c, 200, NULL, "secure %s", c->is_tls ? "yes" : "no");
  }
  if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, WEBSOCKET_OP_TEXT);
  }
}

static void web_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct web *w = (struct web *) c->fn_data;
  if (ev == MG_EV_CONNECT && c->is_tls) mg_tls_init(c, &w->copts);
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    w->status = mg_http_status(hm);
    mg_snprintf(w->body, sizeof(w->body), "%.*s", (int) hm->body.len, hm->body.buf);
    c->is_draining = 1;
  }
  if (ev == MG_EV_WS_OPEN) w->ws_opens++, mg_ws_send(c, "over wss", 8, WEBSOCKET_OP_TEXT);
  if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_snprintf(w->body, sizeof(w->body), "%.*s", (int) wm->data.len, wm->data.buf);
    w->ws_msgs++;
  }
  if (ev == MG_EV_ERROR) w->errors++, mg_snprintf(w->error, sizeof(w->error), "%s", (char *) ev_data);
}

static unsigned short web_listen(struct mg_mgr *mgr, struct web *w) {
  w->opts.cert = cert_load("server.pem"), w->opts.key = cert_load("server.key");
  w->copts.ca = cert_load("ca.pem");
  struct mg_connection *l = mg_http_listen(mgr, "https://127.0.0.1:0", web_server_fn, w);
  cr_assert_not_null(l);
  return mg_ntohs(l->loc.port);
}

Test(tls, https_client_queues_its_request_before_the_handshake) {
  static struct web w;
  struct mg_mgr mgr;
  char url[64];
  mg_mgr_init(&mgr);
  mg_snprintf(url, sizeof(url), "https://127.0.0.1:%u/", (unsigned) web_listen(&mgr, &w));
  struct mg_connection *c = mg_http_connect(&mgr, url, web_client_fn, &w);
  cr_assert_not_null(c);
  cr_assert(c->is_tls, "an https:// URL marks the connection for TLS");
  mg_printf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 400 && w.status == 0 && w.errors == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(w.status, 200, "%s", w.error);
  cr_assert_str_eq(w.body, "secure yes", "the server's connection is marked TLS from its https:// listener");
  mg_mgr_free(&mgr);
}

Test(tls, wss_client_upgrades_and_echoes) {
  static struct web w;
  struct mg_mgr mgr;
  char url[64];
  mg_mgr_init(&mgr);
  mg_snprintf(url, sizeof(url), "wss://127.0.0.1:%u/ws", (unsigned) web_listen(&mgr, &w));
  cr_assert_not_null(mg_ws_connect(&mgr, url, web_client_fn, &w, NULL));
  for (int i = 0; i < 400 && w.ws_msgs == 0 && w.errors == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(w.ws_opens, 1, "%s", w.error);
  cr_assert_str_eq(w.body, "over wss");
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Bad peers: garbage and silence; others are still served

struct raw {
  const char *data;
  int closes;
  size_t len;  // Of data; 0: a string
};

static void raw_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct raw *r = (struct raw *) c->fn_data;
  if (ev == MG_EV_CONNECT && r->data != NULL) mg_send(c, r->data, r->len > 0 ? r->len : strlen(r->data));
  if (ev == MG_EV_CLOSE) r->closes++;
  (void) ev_data;
}

static bool raw_open(void *arg) {
  return ((struct raw *) arg)->closes == 0;
}

// A manager with an echoing TLS server; raw_url gets its address for peers without TLS
static unsigned short echo_server_start(struct mg_mgr *mgr, struct peer *srv, char *raw_url, size_t len) {
  mg_mgr_init(mgr);
  pattern_fill();
  srv->echo = true;
  unsigned short port = listen_tls(mgr, srv, "server.pem", "server.key");
  mg_snprintf(raw_url, len, "tcp://127.0.0.1:%u", (unsigned) port);
  return port;
}

Test(tls, garbage_is_closed_with_a_log_line_and_others_are_served) {
  static struct peer srv, cli;
  static struct raw junk = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 0, 0};
  struct mg_mgr mgr;
  char url[64];
  unsigned short port = echo_server_start(&mgr, &srv, url, sizeof(url));
  mg_connect(&mgr, url, raw_fn, &junk);
  cli.opts.ca = cert_load("ca.pem");
  cli.out = pattern, cli.out_len = 5000;
  connect_tls(&mgr, port, &cli);
  poll_while(&mgr, raw_open, &junk, 5000);
  poll_while(&mgr, echo_incomplete, &cli, 5000);
  cr_assert_eq(junk.closes, 1, "the server closed the one that sent garbage");
  cr_assert(strstr(srv.error, "does not speak TLS") != NULL, "%s", srv.error);
  cr_assert_eq(cli.got_len, 5000, "the TLS client was served: %s", cli.error);
  mg_mgr_free(&mgr);
}

Test(tls, a_stalled_handshake_times_out, .timeout = 30) {
  static struct peer srv;
  static struct raw silent = {NULL, 0, 0};
  struct mg_mgr mgr;
  char url[64];
  echo_server_start(&mgr, &srv, url, sizeof(url));
  mg_connect(&mgr, url, raw_fn, &silent);
  uint64_t start = mg_millis();
  poll_while(&mgr, no_error_yet, &srv, MG_TLS_HANDSHAKE_TIMEOUT_MS + 5000);
  cr_assert(strstr(srv.error, "timed out") != NULL, "%s", srv.error);
  cr_assert_geq(mg_millis() - start, MG_TLS_HANDSHAKE_TIMEOUT_MS);
  poll_while(&mgr, raw_open, &silent, 2000);
  cr_assert_eq(silent.closes, 1);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Input mbedTLS holds: a 16 KiB record read into a 2 KiB buffer leaves plaintext
// inside mbedTLS and nothing in the socket. The server stops reading after the first
// piece; once it reads again the rest arrives though the client sends nothing more.

static bool fewer_than_one_read(void *arg) {
  return ((struct peer *) arg)->reads == 0;
}

Test(tls, plaintext_held_in_mbedtls_arrives_without_new_readiness) {
  static struct peer srv, cli;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  pattern_fill();
  srv.pause_after_read = true;
  cli.opts.ca = cert_load("ca.pem");
  cli.out = pattern, cli.out_len = 16000;  // One record
  connect_tls(&mgr, listen_tls(&mgr, &srv, "server.pem", "server.key"), &cli);
  poll_while(&mgr, fewer_than_one_read, &srv, 5000);
  for (int i = 0; i < 50; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_lt(srv.got_len, 16000, "the first read took part of the record");
  cr_assert_eq(cli.out_sent, 16000);
  srv.pause_after_read = false;
  srv.c->is_read_paused = 0;
  for (int i = 0; i < 50 && srv.got_len < 16000; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(srv.got_len, 16000);
  cr_assert(memcmp(srv.got, pattern, 16000) == 0);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// The handshake bound: at most MG_TLS_MAX_HANDSHAKES server connections hold mbedTLS
// handshake state, checked after every loop pass; the others wait for a slot holding
// none, and read nothing meanwhile

// The start of a ClientHello record that announces 272 bytes and brings 6 (no NUL in it)
static const char half_hello[] = "\x16\x03\x01\x01\x10\x01\x01\x01\x0c\x03\x03";

static int states_held(struct mg_mgr *mgr) {
  int n = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) n += c->is_accepted && mg_tls_test_holds_handshake(c);
  return n;
}

static int s_most_held;  // The most server connections seen holding handshake state after a pass

static void poll_bounded(struct mg_mgr *mgr, int ms) {
  mg_mgr_poll(mgr, ms);
  int held = states_held(mgr);
  if (held > s_most_held) s_most_held = held;
  cr_assert_leq(held, MG_TLS_MAX_HANDSHAKES, "%d server connections hold handshake state (bound %d)", held,
                MG_TLS_MAX_HANDSHAKES);
}

static void poll_bounded_while(struct mg_mgr *mgr, bool (*busy)(void *), void *arg, int max_ms) {
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  while (busy(arg) && mg_millis() < end) poll_bounded(mgr, 5);
}

static size_t count_accepted(struct mg_mgr *mgr) {
  size_t n = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) n += c->is_accepted;
  return n;
}

// n peers that connect and stall, silent or after what their .data says; returns once
// the server has accepted them all
static void stalled_peers_connect(struct mg_mgr *mgr, const char *url, struct raw *peers, size_t n) {
  size_t before = count_accepted(mgr);
  for (size_t i = 0; i < n; i++) cr_assert_not_null(mg_connect(mgr, url, raw_fn, &peers[i]));
  for (int i = 0; i < 400 && count_accepted(mgr) < before + n; i++) poll_bounded(mgr, 5);
  cr_assert_eq(count_accepted(mgr), before + n);
  for (int i = 0; i < 10; i++) poll_bounded(mgr, 5);  // Their bytes have arrived
}

static void half_hello_every_other(struct raw *peers, size_t n) {
  for (size_t i = 0; i < n; i++) peers[i].data = i % 2 ? half_hello : NULL;
}

#define BURST (3 * MG_TLS_MAX_HANDSHAKES)

struct getter {
  int status, errors;
  char error[200];
};

static struct mg_tls_opts s_getter_opts;

static void getter_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct getter *g = (struct getter *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_tls_init(c, &s_getter_opts);
    mg_printf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  if (ev == MG_EV_HTTP_MSG) g->status = mg_http_status((struct mg_http_message *) ev_data), c->is_draining = 1;
  if (ev == MG_EV_ERROR) g->errors++, mg_snprintf(g->error, sizeof(g->error), "%s", (char *) ev_data);
}

static bool getters_busy(void *arg) {
  struct getter *g = (struct getter *) arg;
  for (int i = 0; i < BURST; i++) {
    if (g[i].status == 0 && g[i].errors == 0) return true;
  }
  return false;
}

// Closing the oldest handshake for each new one past the bound failed most of a burst;
// letting the count go past the bound held memory for every peer. Now they queue.
Test(tls, more_live_clients_than_the_bound_are_all_served_within_it) {
  static struct web w;
  static struct getter g[BURST];
  struct mg_mgr mgr;
  char url[64];
  mg_mgr_init(&mgr);
  mg_snprintf(url, sizeof(url), "https://127.0.0.1:%u/", (unsigned) web_listen(&mgr, &w));
  s_getter_opts = w.copts;
  // All TLS 1.3: each client holds a PSA key from its hello to the server's, more than
  // the 32 a fixed PSA key store has (MBEDTLS_PSA_KEY_STORE_DYNAMIC lifts that)
  for (int i = 0; i < BURST; i++) cr_assert_not_null(mg_http_connect(&mgr, url, getter_fn, &g[i]));
  s_most_held = 0;
  poll_bounded_while(&mgr, getters_busy, g, 30000);
  for (int i = 0; i < BURST; i++) cr_assert_eq(g[i].status, 200, "client %d of %d: %s", i, BURST, g[i].error);
  cr_assert_eq(s_most_held, MG_TLS_MAX_HANDSHAKES, "the burst filled the bound (%d)", s_most_held);
  mg_mgr_free(&mgr);
}

// A ClientHello record as our client sends it, caught by a plain TCP listener
static unsigned char s_hello[4096];
static size_t s_hello_len;

static void hello_catcher_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ && s_hello_len + c->recv.len <= sizeof(s_hello)) {
    memcpy(s_hello + s_hello_len, c->recv.buf, c->recv.len);
    s_hello_len += c->recv.len;
    c->recv.len = 0;
  }
  (void) ev_data;
}

static bool hello_incomplete(void *arg) {
  (void) arg;
  return s_hello_len < 5 || s_hello_len < 5 + ((size_t) s_hello[3] << 8 | s_hello[4]);
}

static void client_hello_catch(void) {
  static struct peer cli;
  struct mg_mgr mgr;
  char url[64];
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "tcp://127.0.0.1:0", hello_catcher_fn, NULL);
  cr_assert_not_null(l);
  cli.opts.ca = cert_load("ca.pem");
  mg_snprintf(url, sizeof(url), "tls://127.0.0.1:%u", (unsigned) mg_ntohs(l->loc.port));
  cr_assert_not_null(mg_connect(&mgr, url, client_fn, &cli));
  s_hello_len = 0;
  poll_while(&mgr, hello_incomplete, NULL, 5000);
  cr_assert(!hello_incomplete(NULL) && s_hello[0] == 0x16, "caught %zu bytes of a ClientHello", s_hello_len);
  s_hello_len = 5 + ((size_t) s_hello[3] << 8 | s_hello[4]);
  mg_mgr_free(&mgr);
}

// Peers that send nothing, or part of a ClientHello, and stall take no slot: none holds
// handshake state, and a live client that comes after them is served at once, with no
// stalled handshake closed to make room (before: they filled the slots and it waited)
Test(tls, peers_without_a_whole_hello_hold_no_handshake_state_and_a_live_client_is_served) {
  static struct peer srv, cli;
  static struct raw stalled[2 * MG_TLS_MAX_HANDSHAKES];
  struct mg_mgr mgr;
  char url[64];
  unsigned short port = echo_server_start(&mgr, &srv, url, sizeof(url));
  half_hello_every_other(stalled, MG_ARRAY_SIZE(stalled));
  stalled_peers_connect(&mgr, url, stalled, MG_ARRAY_SIZE(stalled));
  cr_assert_eq(states_held(&mgr), 0, "none of them holds handshake state");
  cli.opts.ca = cert_load("ca.pem");
  cli.out = pattern, cli.out_len = 100;
  connect_tls(&mgr, port, &cli);
  poll_bounded_while(&mgr, echo_incomplete, &cli, 5000);
  cr_assert_eq(cli.got_len, 100, "the live client was served: %s", cli.error);
  int closed = 0;
  for (size_t i = 0; i < MG_ARRAY_SIZE(stalled); i++) closed += stalled[i].closes;
  cr_assert_eq(closed, 0, "no stalled handshake had to make room");
  mg_mgr_free(&mgr);
}

// Peers that send a whole ClientHello and stall fill the bound and wait beyond it; a
// live client that comes after them is served once the oldest have stalled
// MG_TLS_HANDSHAKE_STALL_MS and make room
Test(tls, peers_stalled_after_a_whole_hello_fill_the_bound_and_a_live_client_gets_through) {
  static struct peer srv, cli;
  static struct raw stalled[2 * MG_TLS_MAX_HANDSHAKES];
  struct mg_mgr mgr;
  char url[64];
  client_hello_catch();
  unsigned short port = echo_server_start(&mgr, &srv, url, sizeof(url));
  uint64_t start = mg_millis();
  for (size_t i = 0; i < MG_ARRAY_SIZE(stalled); i++) stalled[i].data = (char *) s_hello, stalled[i].len = s_hello_len;
  stalled_peers_connect(&mgr, url, stalled, MG_ARRAY_SIZE(stalled));
  cr_assert_eq(states_held(&mgr), MG_TLS_MAX_HANDSHAKES, "the first of them hold the slots");
  cli.opts.ca = cert_load("ca.pem");
  cli.out = pattern, cli.out_len = 100;
  connect_tls(&mgr, port, &cli);
  poll_bounded_while(&mgr, echo_incomplete, &cli, 3 * MG_TLS_HANDSHAKE_STALL_MS + 3000);
  cr_assert_eq(cli.got_len, 100, "the live client was served: %s", cli.error);
  cr_assert_geq(mg_millis() - start, MG_TLS_HANDSHAKE_STALL_MS, "no handshake made room before it stalled");
  int closed = 0;
  for (size_t i = 0; i < MG_ARRAY_SIZE(stalled); i++) closed += stalled[i].closes;
  cr_assert_geq(closed, 1, "a stalled handshake made room");
  mg_mgr_free(&mgr);
}

static bool fewer_than_two_errors(void *arg) {
  return ((struct peer *) arg)->errors < 2;
}

// A peer that never completes its ClientHello is closed MG_TLS_HANDSHAKE_TIMEOUT_MS after
// its accept with an error that says so, having held no handshake state
Test(tls, a_peer_that_never_completes_its_hello_times_out_with_an_error) {
  static struct peer srv;
  static struct raw silent = {NULL, 0, 0}, half = {half_hello, 0, 0};
  struct mg_mgr mgr;
  char url[64];
  echo_server_start(&mgr, &srv, url, sizeof(url));
  uint64_t start = mg_millis();
  stalled_peers_connect(&mgr, url, &silent, 1);
  stalled_peers_connect(&mgr, url, &half, 1);
  cr_assert_eq(states_held(&mgr), 0);
  poll_bounded_while(&mgr, fewer_than_two_errors, &srv, MG_TLS_HANDSHAKE_TIMEOUT_MS + 5000);
  cr_assert_eq(srv.errors, 2, "%s", srv.error);
  cr_assert(strstr(srv.error, "timed out after") != NULL && strstr(srv.error, "no whole ClientHello") != NULL, "%s",
            srv.error);
  cr_assert_geq(mg_millis() - start, MG_TLS_HANDSHAKE_TIMEOUT_MS);
  poll_bounded_while(&mgr, raw_open, &half, 2000);
  cr_assert_eq(silent.closes + half.closes, 2, "both were closed");
  mg_mgr_free(&mgr);
}

// Connections waiting for a slot read nothing, and their input (half a ClientHello, or
// none) must not wake the loop: over a quiet interval it sleeps. On the mock backend
// the fake clock moves only while the loop sleeps, so a spin never reaches the end
Test(tls, connections_waiting_for_a_slot_do_not_make_the_loop_spin) {
  static struct peer srv;
  static struct raw stalled[2 * MG_TLS_MAX_HANDSHAKES];
  struct mg_mgr mgr;
  char url[64];
  echo_server_start(&mgr, &srv, url, sizeof(url));
  half_hello_every_other(stalled, MG_ARRAY_SIZE(stalled));
  stalled_peers_connect(&mgr, url, stalled, MG_ARRAY_SIZE(stalled));
  int passes = 0;
  uint64_t start = mg_millis();
  while (mg_millis() - start < 500 && passes < 1000) poll_bounded(&mgr, 50), passes++;
  cr_assert(passes < 50, "%d loop passes in 500 ms: the loop spins", passes);
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Memory: real sockets only

#if MG_ENABLE_SOCKET
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define IDLE_CONNS 100

static bool all_up(void *arg) {
  struct peer *s = (struct peer *) arg;
  return s->hs < IDLE_CONNS;
}

// The server's heap per idle TLS connection after the handshake (measured with
// mallinfo2; the clients live in a child process, so only server memory counts)
Test(tls, an_idle_connection_costs_at_most_24_kib) {
  static struct peer srv, warm;
  struct mg_mgr mgr;
  mallopt(M_ARENA_MAX, 1);  // mallinfo2 counts one arena: make it the only one
  mg_mgr_init(&mgr);
  unsigned short port = listen_tls(&mgr, &srv, "server.pem", "server.key");
  warm.opts.ca = cert_load("ca.pem");  // One first connection: the shared configuration is made
  connect_tls(&mgr, port, &warm);
  for (int i = 0; i < 400 && srv.hs == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(srv.hs, 1);
  for (int i = 0; i < 20; i++) mg_mgr_poll(&mgr, 1);
  size_t before = mallinfo2().uordblks;
  srv.hs = 0;
  uint64_t start = mg_millis();
  pid_t pid = fork();
  if (pid == 0) {  // One handshake after the other: a handshake's time, without the burst bound
    struct mg_mgr cm;
    static struct peer clis[IDLE_CONNS];
    mg_mgr_init(&cm);
    for (int i = 0; i < IDLE_CONNS; i++) {
      clis[i].opts.ca = warm.opts.ca, connect_tls(&cm, port, &clis[i]);
      for (int j = 0; j < 1000 && clis[i].hs == 0; j++) mg_mgr_poll(&cm, 5);
    }
    for (;;) mg_mgr_poll(&cm, 100);
  }
  poll_while(&mgr, all_up, &srv, 20000);
  fprintf(stderr, "TLS: %d TLS 1.3 handshakes one after the other in %lu ms (client and server on this machine)\n",
          IDLE_CONNS, (unsigned long) (mg_millis() - start));
  for (int i = 0; i < 50; i++) mg_mgr_poll(&mgr, 2);
  size_t after = mallinfo2().uordblks;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  cr_assert_eq(srv.hs, IDLE_CONNS);
  cr_assert_eq(srv.closes, 0, "every connection is still open");
  double per_conn = (double) (after - before) / IDLE_CONNS;
  fprintf(stderr, "TLS: %.0f bytes of server heap per idle TLS connection (%d connections)\n", per_conn, IDLE_CONNS);
  cr_assert_leq(per_conn, 24 * 1024.0);
  mg_mgr_free(&mgr);
}

#define STALLED_CONNS 200

// The server's heap while 200 peers stall their handshakes (half of them after half a
// ClientHello), before any has waited MG_TLS_HANDSHAKE_STALL_MS: handshake state for the
// bound's worth, a waiting connection each for the rest (peers in a child process)
Test(tls, stalled_handshakes_hold_heap_for_the_bound_only) {
  static struct peer srv;
  struct mg_mgr mgr;
  char url[64];
  mallopt(M_ARENA_MAX, 1);
  unsigned short port = echo_server_start(&mgr, &srv, url, sizeof(url));
  static struct peer warm;  // One first handshake: the shared configuration is made
  warm.opts.ca = cert_load("ca.pem");
  connect_tls(&mgr, port, &warm);
  for (int i = 0; i < 400 && srv.hs == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(srv.hs, 1);
  warm.c->is_closing = 1;
  for (int i = 0; i < 20; i++) mg_mgr_poll(&mgr, 1);
  size_t before = mallinfo2().uordblks, peak = before;
  pid_t pid = fork();
  if (pid == 0) {
    struct mg_mgr cm;
    static struct raw peers[STALLED_CONNS];
    mg_mgr_init(&cm);
    for (int i = 0; i < STALLED_CONNS; i++) {
      peers[i].data = i % 2 ? half_hello : NULL;
      mg_connect(&cm, url, raw_fn, &peers[i]);
    }
    for (;;) mg_mgr_poll(&cm, 100);
  }
  uint64_t start = mg_millis();
  while (mg_millis() - start < MG_TLS_HANDSHAKE_STALL_MS - 100) {  // None may be closed as stalled yet
    mg_mgr_poll(&mgr, 5);
    size_t now = mallinfo2().uordblks;
    if (now > peak) peak = now;
  }
  size_t accepted = count_accepted(&mgr), held = (size_t) states_held(&mgr);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  fprintf(stderr, "TLS: %lu bytes of server heap at most with %lu stalled handshakes (%lu holding state)\n",
          (unsigned long) (peak - before), (unsigned long) accepted, (unsigned long) held);
  cr_assert_eq(accepted, STALLED_CONNS);
  cr_assert_leq(held, MG_TLS_MAX_HANDSHAKES);
  cr_assert_leq(peak - before, MG_TLS_MAX_HANDSHAKES * 48 * 1024 + STALLED_CONNS * 1024);
  mg_mgr_free(&mgr);
}
#endif
#endif
#endif  // MG_ENABLE_TLS
