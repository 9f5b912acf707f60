// Out-of-memory runner for TLS: an HTTPS server and its client in one process
// (mg_tls_init on both sides), with one allocation failing per run, mbedTLS's included.
//
// mbedTLS allocates through mg_calloc, about 17,000 times for a handshake of each side
// and two requests, almost all of them bignums inside elliptic-curve arithmetic: failing
// each in turn would take a quarter of an hour. So a first run records the call site of
// every allocation (the innermost SITE_DEPTH return addresses), and then each distinct
// site fails once, at its first occurrence, in a child process of its own: the runner
// picks the allocation with mg_alloc_fail_when. In each run the client fetches a small
// reply and a 20 KB echo over TLS 1.3, then a small reply over TLS 1.2, and must get
// the right answers, a 5xx, or a closed connection, within 2 s; never a wrong answer
// or a hang. Then, with nothing failing, the same exchange must succeed on the same
// manager, and the child must exit with nothing for ASan/LSan.
// Certificates: $CERTS or build/certs (tools/make-certs.sh).
#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alloc_runner.h"
#include "tls/tls_internal.h"

#define NAME "alloc-faults-tls"
#define SITE_DEPTH 4     // Return addresses that make a site: deep enough to tell TLS steps apart
#define MAX_SITES 4096
#define ECHO_SIZE 20000  // More than one 16 KiB record in, and five 4 KiB records out
#define EXCHANGE_MS 2000

enum { RUN_OK = 0, RUN_WRONG = 1, RUN_NOT_REACHED = 3 };  // A child's exit status

static struct mg_tls_opts s_server_opts, s_client_opts;

// LeakSanitizer's list of leaks to ignore: one of mbedTLS 3.6.6's own. When a TLS 1.3
// handshake runs out of memory between its two cipher contexts,
// mbedtls_ssl_tls13_compute_application_transform frees the transform with mbedtls_free
// instead of mbedtls_ssl_transform_free, and the first context is lost. A transform
// that we leaked would still be reported, by its own allocation.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:chachapoly_ctx_alloc\nleak:gcm_ctx_alloc\n";
}
static char s_echo[ECHO_SIZE];

// ---- Sites: where an allocation comes from ----

static uint64_t s_sites[MAX_SITES];  // First occurrences, in order (the recording run)
static size_t s_nsites;
static bool s_recording;
static uint64_t s_target;  // The site that fails in this run
static bool s_fired;

// FNV-1a over the innermost return addresses: the allocator's own frames (and ASan's
// backtrace, this function, site_fail_when, mg_calloc: the same in every run) and then
// SITE_DEPTH of its callers
__attribute__((noinline)) static uint64_t site_of_caller(void) {
  void *frames[SITE_DEPTH + 5];
  int n = backtrace(frames, SITE_DEPTH + 5);
  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < n; i++) {
    h ^= (uint64_t) (uintptr_t) frames[i];
    h *= 1099511628211ULL;
  }
  return h;
}

// mg_alloc_fail_when's question: recording, note a new site; else fail the target once
static bool site_fail_when(void) {
  if (s_fired) return false;
  uint64_t site = site_of_caller();
  if (!s_recording) return s_fired = site == s_target;
  for (size_t i = 0; i < s_nsites; i++) {
    if (s_sites[i] == site) return false;
  }
  if (s_nsites < MAX_SITES) s_sites[s_nsites++] = site;
  return false;
}

// ---- The server ----

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_ACCEPT) mg_tls_init(c, &s_server_opts);
  if (ev != MG_EV_HTTP_MSG) return;
  if (mg_str_eq(hm->uri, "/echo")) mg_http_reply(c, 200, "", "%.*s", (int) hm->body.len, hm->body.buf);
  else mg_http_reply(c, 200, "", "hello, %s\n", mg_tls_version(c));
}

// ---- The client: its requests, one after the other on one connection ----

struct exchange {
  int version;       // mg_tls_test_max_version for the client: 0 (TLS 1.3) or 1.2
  int asked, answered;
  bool soft, closed;
  char wrong[160];   // Set when an answer was wrong
};

static const char *exchange_hello(const struct exchange *x) {
  return x->version == MBEDTLS_SSL_VERSION_TLS1_2 ? "hello, TLSv1.2\n" : "hello, TLSv1.3\n";
}

// The next request: GET / and POST /echo over TLS 1.3, GET / alone over 1.2
static void exchange_ask(struct mg_connection *c, struct exchange *x) {
  int requests = x->version == MBEDTLS_SSL_VERSION_TLS1_2 ? 1 : 2;
  if (x->asked == requests) {
    c->is_draining = 1;
  } else if (x->asked++ == 0) {
    mg_printf(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  } else {
    mg_printf(c, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", ECHO_SIZE);
    mg_send(c, s_echo, sizeof(s_echo));
  }
}

static void exchange_check(struct mg_connection *c, struct exchange *x, struct mg_http_message *hm) {
  int status = mg_http_status(hm);
  bool echo = x->answered++ == 1;
  if (status >= 500) {
    x->soft = true;  // The server ran out of memory and said so
    c->is_draining = 1;
  } else if (status != 200) {
    mg_snprintf(x->wrong, sizeof(x->wrong), "answer %d: status %d", x->answered, status);
  } else if (echo ? (hm->body.len != ECHO_SIZE || memcmp(hm->body.buf, s_echo, ECHO_SIZE) != 0)
                  : !mg_str_eq(hm->body, exchange_hello(x))) {
    mg_snprintf(x->wrong, sizeof(x->wrong), "answer %d: a wrong body of %lu bytes", x->answered,
                (unsigned long) hm->body.len);
  } else {
    exchange_ask(c, x);
  }
  if (x->wrong[0] != '\0') c->is_closing = 1;
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct exchange *x = (struct exchange *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_tls_test_max_version = x->version;
    mg_tls_init(c, &s_client_opts);
    mg_tls_test_max_version = 0;
    exchange_ask(c, x);  // Queued before the handshake, as Mongoose programs do
  } else if (ev == MG_EV_HTTP_MSG) {
    exchange_check(c, x, (struct mg_http_message *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    x->closed = true;
  }
}

// One client connection to completion: true unless an answer was wrong or it hung.
// whole: every answer must have come
static bool exchange_run(struct mg_mgr *mgr, uint16_t port, int version, bool whole) {
  struct exchange x;
  char url[64];
  memset(&x, 0, sizeof(x));
  x.version = version;
  mg_snprintf(url, sizeof(url), "https://localhost:%u/", (unsigned) port);
  if (mg_http_connect(mgr, url, client_fn, &x) == NULL) x.closed = true;  // Out of memory: allowed
  uint64_t deadline = mg_millis() + EXCHANGE_MS;
  while (!x.closed && mg_millis() < deadline) mg_mgr_poll(mgr, 10);
  const char *tls = version == MBEDTLS_SSL_VERSION_TLS1_2 ? "TLS 1.2" : "TLS 1.3";
  int want = version == MBEDTLS_SSL_VERSION_TLS1_2 ? 1 : 2;
  if (x.wrong[0] != '\0') fprintf(stderr, "%s: %s: %s\n", NAME, tls, x.wrong);
  else if (!x.closed) fprintf(stderr, "%s: %s: no end after %d ms (%d answers)\n", NAME, tls, EXCHANGE_MS, x.answered);
  else if (whole && (x.answered < want || x.soft)) fprintf(stderr, "%s: %s: %d of %d answers\n", NAME, tls, x.answered, want);
  else return true;
  return false;
}

static bool exchange_both(struct mg_mgr *mgr, uint16_t port, bool whole) {
  bool ok = exchange_run(mgr, port, 0, whole);
  return exchange_run(mgr, port, MBEDTLS_SSL_VERSION_TLS1_2, whole) && ok;
}

// ---- One child: the exchange with fail_when choosing, then without ----

static int child_run(void) {
  struct mg_mgr mgr;
  alarm(30);  // Never outlive a parent that died
  mg_log_set(getenv("ALLOC_FAULTS_LOG") != NULL ? MG_LL_ERROR : MG_LL_NONE);
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen(&mgr, "https://127.0.0.1:0", server_fn, NULL);
  uint16_t port = lsn == NULL ? 0 : mg_ntohs(lsn->loc.port);
  mg_alloc_fail_when(site_fail_when);
  bool ok = port != 0 && exchange_both(&mgr, port, s_recording);
  mg_alloc_fail_when(NULL);
  if (ok && !s_recording && !exchange_both(&mgr, port, true)) {
    fprintf(stderr, "%s: the server does not serve again\n", NAME);
    ok = false;
  }
  mg_mgr_free(&mgr);
  return !ok ? RUN_WRONG : !s_recording && !s_fired ? RUN_NOT_REACHED : RUN_OK;
}

// ---- The parent ----

// The recording run: every site, in the order of first occurrence, through a pipe
static bool record_sites(void) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    s_recording = true;
    int rc = child_run();
    size_t len = s_nsites * sizeof(s_sites[0]);
    exit(rc == RUN_OK && write(fds[1], s_sites, len) == (ssize_t) len ? 0 : 1);
  }
  close(fds[1]);
  size_t got = 0;
  ssize_t n;
  while ((n = read(fds[0], (char *) s_sites + got, sizeof(s_sites) - got)) > 0) got += (size_t) n;
  close(fds[0]);
  int status = 0;
  bool exited = pid > 0 && runner_wait_child(pid, &status);
  s_nsites = got / sizeof(s_sites[0]);
  return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0 && s_nsites > 0;
}

// Site i fails in a child; returns its exit status (RUN_*), or -1 after a crash or hang
static int fault_run(size_t i) {
  s_target = s_sites[i];
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) exit(child_run());
  int status = 0;
  if (pid < 0 || !runner_wait_child(pid, &status)) {
    fprintf(stderr, "%s: site %lu: the child did not exit\n", NAME, (unsigned long) i + 1);
    return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fprintf(stderr, "%s: site %lu: the child died of signal %d\n", NAME, (unsigned long) i + 1, WTERMSIG(status));
  return -1;
}

static struct mg_str cert_read(const char *name) {
  char path[512];
  const char *dir = getenv("CERTS") != NULL ? getenv("CERTS") : "build/certs";
  mg_snprintf(path, sizeof(path), "%s/%s", dir, name);
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  if (s.buf == NULL) fprintf(stderr, "%s: cannot read %s (make certs, or set CERTS)\n", NAME, path);
  return s;
}

int main(void) {
  uint64_t start = mg_millis();
  size_t tried = 0, reached = 0, failures = 0;
  signal(SIGPIPE, SIG_IGN);
  s_server_opts.cert = cert_read("server.pem"), s_server_opts.key = cert_read("server.key");
  s_client_opts.ca = cert_read("ca.pem");
  if (s_server_opts.cert.buf == NULL || s_server_opts.key.buf == NULL || s_client_opts.ca.buf == NULL) return 1;
  for (size_t i = 0; i < sizeof(s_echo); i++) s_echo[i] = (char) ('a' + i % 26);
  if (!record_sites()) {
    fprintf(stderr, "%s: the exchange fails with nothing failing\n", NAME);
    return 1;
  }
  // ALLOC_FAULTS_ONLY=I: only site I (1-based), to look at a failure (ALLOC_FAULTS_LOG=1 for logs)
  const char *only = getenv("ALLOC_FAULTS_ONLY");
  for (size_t i = only != NULL ? (size_t) atol(only) - 1 : 0; i < s_nsites; i++) {
    int rc = fault_run(i);
    tried++;
    if (rc == RUN_OK) reached++;
    if (rc != RUN_OK && rc != RUN_NOT_REACHED) {
      if (rc > 0) fprintf(stderr, "%s: site %lu: the child exited with %d\n", NAME, (unsigned long) i + 1, rc);
      failures++;
    }
    if (only != NULL || failures > 20) break;
  }
  printf("%s: %lu of %lu allocation sites tried (%lu reached), %lu failures (%.1f s)\n", NAME, (unsigned long) tried,
         (unsigned long) s_nsites, (unsigned long) reached, (unsigned long) failures,
         (double) (mg_millis() - start) / 1000.0);
  return failures == 0 && (only != NULL || tried == s_nsites) ? 0 : 1;
}
