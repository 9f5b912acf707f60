// TLS handshakes per second against a server, with OpenSSL as the client (`make bench`):
// CONNS connections in parallel, each a fresh TCP connection, a handshake, one GET
// and its reply (so a TLS 1.3 server has sent its ticket and finished its side), then
// close_notify and close; again and again for SECONDS.
//   tls_handshakes [-v 1.2|1.3] [-r] [-c CONNS] [-s SECONDS] [-p PATH] HOST PORT
// -r resumes: each handshake offers the newest session ticket the server gave.
// Prints one line: "handshakes=N seconds=S per_s=R resumed=K failed=F client_cpu=P%
// version=V cipher=C". The client verifies nothing: its cost is not what is measured.
#define _GNU_SOURCE  // strcasestr
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HS_MAX_CONNS 256

enum hs_state { HS_CONNECTING, HS_HANDSHAKE, HS_REQUEST, HS_REPLY };

struct hs_slot {
  int fd;
  SSL *ssl;
  enum hs_state state;
  short events;     // What the slot waits for: POLLIN or POLLOUT
  bool resumed;     // The handshake resumed a session
  size_t got;       // Reply bytes so far
  char reply[2048];
};

static struct {
  SSL_CTX *ctx;
  struct sockaddr_in addr;
  const char *path;
  bool resume;
  SSL_SESSION *session;  // The newest ticket, offered by the next handshake with -r
  unsigned long done, resumed, failed;
  char version[16], cipher[64];
} hs;

static double hs_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double hs_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void hs_usage(void) {
  fprintf(stderr, "usage: tls_handshakes [-v 1.2|1.3] [-r] [-c CONNS] [-s SECONDS] [-p PATH] HOST PORT\n");
  exit(2);
}

// OpenSSL hands the client each ticket as the server sends it (TLS 1.3: after the handshake)
static int hs_on_session(SSL *ssl, SSL_SESSION *sess) {
  (void) ssl;
  if (hs.session != NULL) SSL_SESSION_free(hs.session);
  hs.session = sess;
  return 1;  // We keep the reference
}

static void hs_close(struct hs_slot *s, bool ok) {
  if (s->ssl != NULL) {
    if (ok) SSL_shutdown(s->ssl);  // close_notify, not waiting for the server's
    SSL_free(s->ssl);
  }
  if (s->fd >= 0) close(s->fd);
  s->ssl = NULL, s->fd = -1;
  if (ok) hs.done++, hs.resumed += s->resumed;
  else hs.failed++;
}

static bool hs_open(struct hs_slot *s) {
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (s->fd < 0) return false;
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
  s->ssl = NULL, s->got = 0, s->resumed = false;
  s->state = HS_CONNECTING, s->events = POLLOUT;
  if (connect(s->fd, (struct sockaddr *) &hs.addr, sizeof(hs.addr)) == 0 || errno == EINPROGRESS) return true;
  hs_close(s, false);
  return false;
}

static bool hs_start_tls(struct hs_slot *s) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  if ((s->ssl = SSL_new(hs.ctx)) == NULL || !SSL_set_fd(s->ssl, s->fd)) return false;
  if (hs.resume && hs.session != NULL && !SSL_set_session(s->ssl, hs.session)) return false;
  s->state = HS_HANDSHAKE;
  return true;
}

// 1: the step is done; 0: it waits (s->events says for what); -1: it failed
static int hs_ssl_result(struct hs_slot *s, int rc) {
  if (rc > 0) return 1;
  int e = SSL_get_error(s->ssl, rc);
  if (e == SSL_ERROR_WANT_READ) s->events = POLLIN;
  else if (e == SSL_ERROR_WANT_WRITE) s->events = POLLOUT;
  else return -1;
  return 0;
}

// The reply is whole once its head and Content-Length bytes of body are in
static bool hs_reply_whole(struct hs_slot *s) {
  s->reply[s->got] = '\0';
  const char *end = strstr(s->reply, "\r\n\r\n");
  if (end == NULL) return false;
  const char *cl = strcasestr(s->reply, "\r\ncontent-length:");
  size_t body = cl != NULL && cl < end ? (size_t) strtoul(cl + 17, NULL, 10) : 0;
  return s->got >= (size_t) (end + 4 - s->reply) + body;
}

static void hs_note_first(struct hs_slot *s) {
  if (hs.version[0] != '\0') return;
  snprintf(hs.version, sizeof(hs.version), "%s", SSL_get_version(s->ssl));
  snprintf(hs.cipher, sizeof(hs.cipher), "%s", SSL_get_cipher_name(s->ssl));
}

enum hs_outcome { HS_WAIT, HS_DONE, HS_FAIL };

static enum hs_outcome hs_read_reply(struct hs_slot *s) {
  for (;;) {
    if (s->got + 1 >= sizeof(s->reply)) return HS_FAIL;
    int n = SSL_read(s->ssl, s->reply + s->got, (int) (sizeof(s->reply) - 1 - s->got));
    if (n <= 0) return hs_ssl_result(s, n) == 0 ? HS_WAIT : HS_FAIL;
    s->got += (size_t) n;
    if (hs_reply_whole(s)) return HS_DONE;
  }
}

// Moves the slot as far as it goes without waiting
static enum hs_outcome hs_step(struct hs_slot *s) {
  char req[512];
  int rc, n;
  switch (s->state) {
    case HS_CONNECTING:
      if (!hs_start_tls(s)) return HS_FAIL;
      // fall through
    case HS_HANDSHAKE:
      if ((rc = hs_ssl_result(s, SSL_connect(s->ssl))) <= 0) return rc == 0 ? HS_WAIT : HS_FAIL;
      s->resumed = SSL_session_reused(s->ssl) == 1;
      hs_note_first(s);
      s->state = HS_REQUEST;
      // fall through
    case HS_REQUEST:
      n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", hs.path);
      if ((rc = hs_ssl_result(s, SSL_write(s->ssl, req, n))) <= 0) return rc == 0 ? HS_WAIT : HS_FAIL;
      s->state = HS_REPLY, s->events = POLLIN;
      // fall through
    case HS_REPLY:
      return hs_read_reply(s);
  }
  return HS_FAIL;
}

static SSL_CTX *hs_make_ctx(const char *version) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) return NULL;
  int v = strcmp(version, "1.2") == 0 ? TLS1_2_VERSION : TLS1_3_VERSION;
  SSL_CTX_set_min_proto_version(ctx, v);
  SSL_CTX_set_max_proto_version(ctx, v);
  // x25519 for the key exchange; TLS 1.2 also needs P-256 listed for an ECDSA P-256 certificate
  SSL_CTX_set1_groups_list(ctx, "X25519:P-256");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, hs_on_session);
  return ctx;
}

static void hs_parse_args(int argc, char *argv[], const char **version, int *conns, double *secs) {
  int opt;
  while ((opt = getopt(argc, argv, "v:rc:s:p:")) != -1) {
    if (opt == 'v') *version = optarg;
    else if (opt == 'r') hs.resume = true;
    else if (opt == 'c') *conns = atoi(optarg);
    else if (opt == 's') *secs = atof(optarg);
    else if (opt == 'p') hs.path = optarg;
    else hs_usage();
  }
  if (optind + 2 != argc || *conns < 1 || *conns > HS_MAX_CONNS || !(*secs > 0)) hs_usage();
  if (strcmp(*version, "1.2") != 0 && strcmp(*version, "1.3") != 0) hs_usage();
  hs.addr.sin_family = AF_INET;
  hs.addr.sin_port = htons((uint16_t) atoi(argv[optind + 1]));
  if (inet_pton(AF_INET, argv[optind], &hs.addr.sin_addr) != 1) {
    fprintf(stderr, "tls_handshakes: %s is no IPv4 address\n", argv[optind]);
    exit(2);
  }
}

// Runs every slot until the deadline, then lets those in flight finish (not counted)
static void hs_run(struct hs_slot *slots, int conns, double deadline) {
  struct pollfd pfd[HS_MAX_CONNS];
  for (int i = 0; i < conns; i++) hs_open(&slots[i]);
  while (hs_now() < deadline) {
    for (int i = 0; i < conns; i++) {
      pfd[i].fd = -1;  // poll() skips a slot that could not open
      if (slots[i].fd < 0 && !hs_open(&slots[i])) continue;
      pfd[i].fd = slots[i].fd, pfd[i].events = slots[i].events, pfd[i].revents = 0;
    }
    if (poll(pfd, (nfds_t) conns, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < conns; i++) {
      struct hs_slot *s = &slots[i];
      if (s->fd < 0 || pfd[i].fd != s->fd || pfd[i].revents == 0) continue;
      enum hs_outcome o = hs_step(s);
      if (o != HS_WAIT) hs_close(s, o == HS_DONE);
    }
  }
}

int main(int argc, char *argv[]) {
  static struct hs_slot slots[HS_MAX_CONNS];
  const char *version = "1.3";
  int conns = 16;
  double secs = 5;
  hs.path = "/";
  hs_parse_args(argc, argv, &version, &conns, &secs);
  if ((hs.ctx = hs_make_ctx(version)) == NULL) {
    ERR_print_errors_fp(stderr);
    return 1;
  }
  double t0 = hs_now(), cpu0 = hs_cpu_seconds();
  hs_run(slots, conns, t0 + secs);
  double elapsed = hs_now() - t0, cpu = hs_cpu_seconds() - cpu0;
  unsigned long done = hs.done, resumed = hs.resumed, failed = hs.failed;
  for (int i = 0; i < conns; i++) {
    if (slots[i].fd >= 0) hs_close(&slots[i], false);
  }
  printf("handshakes=%lu seconds=%.2f per_s=%.0f resumed=%lu failed=%lu client_cpu=%.0f%% version=%s cipher=%s\n", done,
         elapsed, (double) done / elapsed, resumed, failed, 100 * cpu / elapsed, hs.version[0] ? hs.version : "-",
         hs.cipher[0] ? hs.cipher : "-");
  if (hs.session != NULL) SSL_SESSION_free(hs.session);
  SSL_CTX_free(hs.ctx);
  return done > 0 && failed == 0 ? 0 : 1;
}
