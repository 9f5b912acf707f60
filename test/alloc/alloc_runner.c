// The out-of-memory runners' shared part: forks a server that fails its N-th allocation,
// runs the program's client script against it, and owns the client socket and the reports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alloc_runner.h"

#define RUNNER_MAX_TRIES 5000  // A bound on N, far above what a script makes

static const struct runner *s_runner;
static volatile sig_atomic_t s_quit;  // In the child: /quit or SIGTERM came
static long s_armed_at;               // In the child: mg_alloc_count() when the fault was armed
static long s_n;                      // The allocation that fails in this run
static int s_failures;
static bool s_quiet;       // While the runner asks something whose answer it judges itself
static char s_where[128];  // What the script is doing, for failure messages

int fail(const char *fmt, ...) {
  va_list ap;
  if (s_quiet) return FAILED;
  va_start(ap, fmt);
  fprintf(stderr, "%s: N=%ld %s: ", s_runner->name, s_n, s_where);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  s_failures++;
  return FAILED;
}

void where(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s_where, sizeof(s_where), fmt, ap);
  va_end(ap);
}

// ---- The server (child) ----

static void runner_on_sigterm(int signo) {
  (void) signo;
  s_quit = 1;
}

// /disarm and /quit are the runner's, the rest the program's
static void runner_server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_MSG && mg_str_eq(hm->uri, "/disarm")) {
    long made = mg_alloc_count() - s_armed_at;
    mg_alloc_fail_after(0);
    mg_http_reply(c, 200, "", "%ld\n", made);
  } else if (ev == MG_EV_HTTP_MSG && mg_str_eq(hm->uri, "/quit")) {
    mg_http_reply(c, 200, "", "bye\n");
    s_quit = 1;
  } else {
    s_runner->server_fn(c, ev, ev_data);
  }
}

// Listens, arms the fault, lets the program set up, reports the port on fd and serves
// until /quit or SIGTERM
static int runner_server(int fd, long fail_at) {
  struct mg_mgr mgr;
  signal(SIGTERM, runner_on_sigterm);
  alarm(30);  // Never outlive a parent that died
  mg_log_set(getenv("ALLOC_FAULTS_LOG") != NULL ? MG_LL_ERROR : MG_LL_NONE);
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen(&mgr, "http://127.0.0.1:0", runner_server_fn, NULL);
  uint16_t port = lsn == NULL ? 0 : mg_ntohs(lsn->loc.port);
  s_armed_at = mg_alloc_count();
  mg_alloc_fail_after(fail_at);
  if (s_runner->server_setup != NULL && !s_runner->server_setup(&mgr)) port = 0;
  if (write(fd, &port, sizeof(port)) != (ssize_t) sizeof(port)) port = 0;
  close(fd);
  while (port != 0 && !s_quit) mg_mgr_poll(&mgr, 50);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&mgr, 0);  // Let the last answer go out
  if (s_runner->server_free != NULL) s_runner->server_free();
  mg_mgr_free(&mgr);
  return port == 0 ? 1 : 0;
}

// ---- The client (parent) ----

bool client_open(struct client *cl, uint16_t port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cl->len = 0;
  cl->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (cl->fd < 0) return false;
  struct timeval tv = {2, 0};
  int one = 1;
  setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  setsockopt(cl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // Small frames go at once
  return connect(cl->fd, (struct sockaddr *) &sin, sizeof(sin)) == 0;
}

void client_close(struct client *cl) {
  if (cl->fd >= 0) close(cl->fd);
  cl->fd = -1;
}

bool client_send(struct client *cl, const void *data, size_t len) {
  const char *p = (const char *) data;
  while (len > 0) {
    ssize_t n = send(cl->fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    p += n;
    len -= (size_t) n;
  }
  return true;
}

int client_fill(struct client *cl, uint64_t deadline) {
  if (cl->len == sizeof(cl->buf)) return fail("more than %lu bytes unconsumed", (unsigned long) sizeof(cl->buf));
  uint64_t now = mg_millis();
  struct pollfd pfd = {cl->fd, POLLIN, 0};
  if (now >= deadline || poll(&pfd, 1, (int) (deadline - now)) != 1) return fail("no answer within 2 s");
  ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, 0);
  if (n <= 0) return ENDED;  // A message cut short is read as the end of the connection
  cl->len += (size_t) n;
  return GOT;
}

void client_consume(struct client *cl, size_t n) {
  memmove(cl->buf, cl->buf + n, cl->len - n);
  cl->len -= n;
}

int client_head(struct client *cl, struct mg_http_message *hm, size_t *head_len, uint64_t deadline) {
  for (;;) {
    int n = cl->len == 0 ? 0 : mg_http_parse(cl->buf, cl->len, hm);
    if (n < 0) return fail("malformed HTTP response");
    if (n > 0) {
      *head_len = (size_t) n;
      return GOT;
    }
    int rc = client_fill(cl, deadline);
    if (rc != GOT) return rc;
  }
}

int client_body(struct client *cl, struct mg_http_message *hm, size_t head_len, char *body, size_t size,
                size_t *body_len, uint64_t deadline) {
  struct mg_str *clen = mg_http_get_header(hm, "Content-Length");
  int rc = GOT;
  if (clen == NULL) return fail("a %d without Content-Length", mg_http_status(hm));
  unsigned long want = strtoul(clen->buf, NULL, 10);
  if (want > size) return fail("a %d with a %lu-byte body", mg_http_status(hm), want);
  while (rc == GOT && cl->len < head_len + want) rc = client_fill(cl, deadline);
  if (rc != GOT) return rc;
  memcpy(body, cl->buf + head_len, want);
  *body_len = want;
  client_consume(cl, head_len + want);
  return GOT;
}

// Asks for something small on a new connection: the body of a 200 (NUL-terminated) or
// NULL. Quiet: the caller judges.
static const char *runner_ask(uint16_t port, const char *request) {
  static struct client cl;
  static char body[64];
  struct mg_http_message hm;
  size_t n = 0, len = 0;
  const char *answer = NULL;
  uint64_t deadline = mg_millis() + 2000;
  s_quiet = true;
  if (client_open(&cl, port) && client_send(&cl, request, strlen(request)) &&
      client_head(&cl, &hm, &n, deadline) == GOT && mg_http_status(&hm) == 200 &&
      client_body(&cl, &hm, n, body, sizeof(body) - 1, &len, deadline) == GOT) {
    body[len] = '\0';
    answer = body;
  }
  s_quiet = false;
  client_close(&cl);
  return answer;
}

// ---- The runs ----

bool runner_wait_child(pid_t pid, int *status) {
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

// One run with the N-th allocation failing; returns the allocations the server made (-1 on error)
static long runner_once(long n) {
  int fds[2];
  uint16_t port = 0;
  s_n = n;
  if ((s_runner->prepare != NULL && !s_runner->prepare()) || pipe(fds) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fds[0]);
    exit(runner_server(fds[1], n));
  }
  close(fds[1]);
  struct pollfd pfd = {fds[0], POLLIN, 0};
  if (poll(&pfd, 1, 5000) != 1 || read(fds[0], &port, sizeof(port)) != (ssize_t) sizeof(port) || port == 0) {
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    where("start");
    fail("the server did not start");
    return -1;
  }
  close(fds[0]);
  s_runner->script(port);
  // The fault may land in a /disarm request itself: only one allocation fails, so retry
  const char *made = NULL;
  for (int i = 0; i < 3 && made == NULL; i++) made = runner_ask(port, "GET /disarm HTTP/1.1\r\nHost: h\r\n\r\n");
  long count = made == NULL ? -1 : strtol(made, NULL, 10);
  where("after the script");
  if (made == NULL) fail("the server does not answer /disarm");
  s_runner->serves_again(port);
  runner_ask(port, "GET /quit HTTP/1.1\r\nHost: h\r\n\r\n");
  int status = 0;
  where("exit");
  if (!runner_wait_child(pid, &status)) fail("the server did not exit on /quit");
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the server exited with status 0x%x", status);
  if (s_runner->after != NULL) s_runner->after();
  return count;
}

int runner_main(const struct runner *r) {
  uint64_t start = mg_millis();
  s_runner = r;
  signal(SIGPIPE, SIG_IGN);
  // ALLOC_FAULTS_ONLY=N: that one run, to look at a failure (with ALLOC_FAULTS_LOG=1 for the server's log)
  const char *only = getenv("ALLOC_FAULTS_ONLY");
  long n = only != NULL ? atol(only) : 1, count = -1;
  for (; n <= RUNNER_MAX_TRIES; n++) {
    count = runner_once(n);
    if (count < 0 && s_failures > 20) break;  // Something is badly wrong: stop early
    if (count >= 0 && n > count) break;       // This run made fewer than n: none failed
    if (only != NULL) break;
  }
  double secs = (double) (mg_millis() - start) / 1000.0;
  long tried = n - 1;
  printf("%s: %ld of %ld allocation sites tried, %d failures (%.1f s)\n", r->name, tried,
         count < 0 ? tried : count, s_failures, secs);
  return s_failures == 0 && count >= 0 && tried == count ? 0 : 1;
}
