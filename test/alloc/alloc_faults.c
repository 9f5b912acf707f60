// Out-of-memory runner: an HTTP server in a child process fails its N-th
// allocation, for N = 1, 2, ... until N passes the number the script makes.
// The parent, a plain blocking-socket client, sends a fixed script and accepts
// for each request a complete and correct response, a 500/503, or a closed
// connection; never a wrong or truncated message that looks complete. After the
// script the server must serve again, and exit with nothing for ASan/LSan.
// Built with -DMG_ENABLE_ALLOC_FAULTS=1 (build/alloc/test/alloc/alloc_faults).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "meerkat.h"

#if !MG_ENABLE_ALLOC_FAULTS
#error "build with -DMG_ENABLE_ALLOC_FAULTS=1"
#endif

#define FILE_SIZE 6000  // Bigger than one I/O buffer, so the file streams in pieces
#define ECHO_SIZE 3000  // Also more than one buffer: the request and the answer grow theirs
#define MAX_TRIES 5000  // A bound on N, far above what the script makes

static char s_root[256];
static char s_file[FILE_SIZE];
static char s_echo[ECHO_SIZE];
static const char *s_api_body = "{\"answer\":42,\"quote\":\"a\\\"b\"}\n";

// ---- The server (child) ----

static volatile sig_atomic_t s_quit;
static long s_armed_at;  // mg_alloc_count() when the fault was armed

struct upload {  // In c->data while a chunked body streams in
  unsigned long size;
  uint32_t crc;
};

static void on_sigterm(int signo) {
  (void) signo;
  s_quit = 1;
}

static void server_upload_done(struct mg_connection *c, const struct upload *up) {
  // A head that could not be queued closes the connection: no chunks without it
  if (mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == 0) return;
  mg_http_printf_chunk(c, "size=%lu\n", up->size);
  mg_http_write_chunk(c, s_file, sizeof(s_file));  // Big: the send buffer must grow
  char crc[32];
  size_t n = mg_snprintf(crc, sizeof(crc), "crc=%08lx\n", (unsigned long) up->crc);
  mg_http_write_chunk(c, crc, n);
  mg_http_write_chunk(c, "", 0);
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct upload *up = (struct upload *) c->data;
  if (ev == MG_EV_HTTP_HDRS && mg_str_eq(hm->uri, "/upload")) {
    memset(up, 0, sizeof(*up));
    mg_http_stream_body(c);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    up->size += (unsigned long) hm->chunk.len;
    up->crc = mg_crc32(up->crc, hm->chunk.buf, hm->chunk.len);
  } else if (ev != MG_EV_HTTP_MSG) {
    return;
  } else if (mg_str_eq(hm->uri, "/upload")) {
    server_upload_done(c, up);
  } else if (mg_str_eq(hm->uri, "/api")) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%d,%m:%m}\n", MG_ESC("answer"), 42,
                  MG_ESC("quote"), MG_ESC("a\"b"));
  } else if (mg_str_eq(hm->uri, "/echo")) {
    mg_http_reply(c, 200, "", "%.*s", (int) hm->body.len, hm->body.buf);
  } else if (mg_str_eq(hm->uri, "/disarm")) {
    long made = mg_alloc_count() - s_armed_at;
    mg_alloc_fail_after(0);
    mg_http_reply(c, 200, "", "%ld\n", made);
  } else if (mg_str_eq(hm->uri, "/quit")) {
    mg_http_reply(c, 200, "", "bye\n");
    s_quit = 1;
  } else {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_root;
    mg_http_serve_dir(c, hm, &opts);
  }
}

// Listens, reports its port on fd, arms the fault and serves until /quit or SIGTERM
static int server_run(int fd, long fail_at) {
  struct mg_mgr mgr;
  signal(SIGTERM, on_sigterm);
  alarm(30);  // Never outlive a parent that died
  mg_log_set(getenv("ALLOC_FAULTS_LOG") != NULL ? MG_LL_ERROR : MG_LL_NONE);
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen(&mgr, "http://127.0.0.1:0", server_fn, NULL);
  uint16_t port = lsn == NULL ? 0 : mg_ntohs(lsn->loc.port);
  if (write(fd, &port, sizeof(port)) != (ssize_t) sizeof(port)) port = 0;
  close(fd);
  s_armed_at = mg_alloc_count();
  mg_alloc_fail_after(fail_at);
  while (port != 0 && !s_quit) mg_mgr_poll(&mgr, 100);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&mgr, 0);  // Let the last answer go out
  mg_mgr_free(&mgr);
  return port == 0 ? 1 : 0;
}

// ---- The client (parent) ----

enum { RESP_COMPLETE, RESP_CLOSED, RESP_TIMEOUT, RESP_MALFORMED };

struct response {
  int kind;
  int status;
  char body[FILE_SIZE + 256];
  size_t body_len;
};

struct client {
  int fd;
  char buf[4 * FILE_SIZE];  // Bytes read and not yet consumed
  size_t len;
};

static int s_failures;
static char s_where[128];  // What the script is doing, for failure messages

static void fail(long n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "alloc-faults: N=%ld %s: ", n, s_where);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  s_failures++;
}

static bool client_open(struct client *cl, uint16_t port) {
  struct sockaddr_in sin;
  struct timeval tv = {2, 0};
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cl->len = 0;
  cl->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (cl->fd < 0) return false;
  setsockopt(cl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return connect(cl->fd, (struct sockaddr *) &sin, sizeof(sin)) == 0;
}

static void client_close(struct client *cl) {
  if (cl->fd >= 0) close(cl->fd);
  cl->fd = -1;
}

// false if the server closed the connection (a refused write is not a failure)
static bool client_send(struct client *cl, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = send(cl->fd, buf, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    buf += n, len -= (size_t) n;
  }
  return true;
}

// Reads more bytes; returns RESP_COMPLETE when some came
static int client_fill(struct client *cl) {
  if (cl->len == sizeof(cl->buf)) return RESP_MALFORMED;
  ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len, 0);
  if (n > 0) {
    cl->len += (size_t) n;
    return RESP_COMPLETE;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return RESP_TIMEOUT;
  return RESP_CLOSED;  // EOF or reset: the message, if any, is incomplete
}

static void client_consume(struct client *cl, size_t n) {
  memmove(cl->buf, cl->buf + n, cl->len - n);
  cl->len -= n;
}

// Decodes a chunked body at the front of cl->buf into r; 0 incomplete, -1 malformed, else bytes used
static long client_dechunk(struct client *cl, size_t ofs, struct response *r) {
  r->body_len = 0;
  for (;;) {
    size_t data_ofs = 0, data_len = 0;
    long span = mg_http_parse_chunk(cl->buf + ofs, cl->len - ofs, &data_ofs, &data_len);
    if (span <= 0) return span < 0 ? -1 : 0;
    if (r->body_len + data_len > sizeof(r->body)) return -1;
    memcpy(r->body + r->body_len, cl->buf + ofs + data_ofs, data_len);
    r->body_len += data_len;
    ofs += (size_t) span;
    if (data_len == 0) return (long) ofs;
  }
}

// One response off the connection: complete by its framing, or why not
static void client_read(struct client *cl, struct response *r) {
  memset(r, 0, sizeof(*r));
  for (;;) {
    struct mg_http_message hm;
    int n = cl->len == 0 ? 0 : mg_http_parse(cl->buf, cl->len, &hm);
    if (n < 0) {
      r->kind = RESP_MALFORMED;
      return;
    }
    if (n > 0) {
      r->status = mg_http_status(&hm);
      struct mg_str *cl_hdr = mg_http_get_header(&hm, "Content-Length");
      struct mg_str *te = mg_http_get_header(&hm, "Transfer-Encoding");
      if (te != NULL && mg_str_eq(*te, "chunked")) {
        long used = client_dechunk(cl, (size_t) n, r);
        if (used < 0) {
          r->kind = RESP_MALFORMED;
          return;
        }
        if (used > 0) {
          client_consume(cl, (size_t) used);
          r->kind = RESP_COMPLETE;
          return;
        }
      } else if (cl_hdr != NULL) {
        unsigned long want = strtoul(cl_hdr->buf, NULL, 10);
        if (want > sizeof(r->body)) {
          r->kind = RESP_MALFORMED;
          return;
        }
        if (cl->len - (size_t) n >= want) {
          memcpy(r->body, cl->buf + n, want);
          r->body_len = want;
          client_consume(cl, (size_t) n + want);
          r->kind = RESP_COMPLETE;
          return;
        }
      } else {
        r->kind = RESP_MALFORMED;  // Every answer here is framed
        return;
      }
    }
    int rc = client_fill(cl);
    if (rc != RESP_COMPLETE) {
      r->kind = rc;
      return;
    }
  }
}

// Judges one response; false when the connection cannot be used further
static bool client_check(long n, struct response *r, const char *want, size_t want_len) {
  if (r->kind == RESP_CLOSED) return false;
  if (r->kind == RESP_TIMEOUT) {
    fail(n, "no answer within 2 s");
    return false;
  }
  if (r->kind == RESP_MALFORMED) {
    fail(n, "malformed or unframed response");
    return false;
  }
  if (r->status == 500 || r->status == 503) return true;
  if (r->status != 200) {
    fail(n, "status %d", r->status);
    return false;
  }
  if (r->body_len != want_len || memcmp(r->body, want, want_len) != 0) {
    fail(n, "wrong body: %lu bytes, expected %lu", (unsigned long) r->body_len, (unsigned long) want_len);
    return false;
  }
  return true;
}

struct step {
  const char *request;  // Its body (if any) is appended when body != NULL
  const char *body;
  size_t body_len;
  const char *want;  // Expected 200 body
  size_t want_len;
};

static char s_echo_req[128], s_upload_req[4096], s_upload_want[FILE_SIZE + 64];

// Sends the steps (all at once when pipelined) and checks each answer
static void client_group(long n, uint16_t port, const char *name, const struct step *steps, size_t count,
                         bool pipelined) {
  struct client cl;
  struct response r;
  snprintf(s_where, sizeof(s_where), "%s", name);
  if (!client_open(&cl, port)) {
    client_close(&cl);
    return;  // Refused or reset: a closed connection is an allowed answer
  }
  for (size_t i = 0; i < count; i++) {
    if (!pipelined || i == 0) {
      for (size_t j = i; j < (pipelined ? count : i + 1); j++) {
        if (!client_send(&cl, steps[j].request, strlen(steps[j].request)) ||
            (steps[j].body != NULL && !client_send(&cl, steps[j].body, steps[j].body_len))) {
          break;  // The server closed early; what it answered is still read below
        }
      }
    }
    snprintf(s_where, sizeof(s_where), "%s, answer %lu", name, (unsigned long) i + 1);
    client_read(&cl, &r);
    if (!client_check(n, &r, steps[i].want, steps[i].want_len)) break;
  }
  client_close(&cl);
}

static struct step step_get_file(void) {
  struct step s = {"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0, s_file, sizeof(s_file)};
  return s;
}

static struct step step_api(void) {
  struct step s = {"GET /api HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0, s_api_body, strlen(s_api_body)};
  return s;
}

static struct step step_echo(void) {
  struct step s = {s_echo_req, s_echo, sizeof(s_echo), s_echo, sizeof(s_echo)};
  return s;
}

static void client_script(long n, uint16_t port) {
  struct step one[1], three[3];
  one[0] = step_get_file();
  client_group(n, port, "GET of a file", one, 1, false);
  one[0] = step_echo();
  client_group(n, port, "POST with Content-Length", one, 1, false);
  struct step up = {s_upload_req, NULL, 0, s_upload_want, strlen(s_upload_want)};
  client_group(n, port, "chunked POST", &up, 1, false);
  three[0] = step_api(), three[1] = step_get_file(), three[2] = step_echo();
  client_group(n, port, "pipelined", three, 3, true);
  three[0] = step_api(), three[1] = step_echo(), three[2] = step_api();
  client_group(n, port, "keep-alive", three, 3, false);
}

// Asks for something small on a new connection; the answer body or NULL
static const char *client_ask(uint16_t port, const char *request, struct response *r) {
  struct client cl;
  const char *body = NULL;
  if (client_open(&cl, port) && client_send(&cl, request, strlen(request))) {
    client_read(&cl, r);
    if (r->kind == RESP_COMPLETE && r->status == 200 && r->body_len < sizeof(r->body)) {
      r->body[r->body_len] = '\0';
      body = r->body;
    }
  }
  client_close(&cl);
  return body;
}

// Waits for the child; false if it had to be killed
static bool wait_child(pid_t pid, int *status) {
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

// One run with the N-th allocation failing; returns the allocations the script made (-1 on error)
static long run_once(long n) {
  int fds[2];
  uint16_t port = 0;
  static struct response r;
  if (pipe(fds) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fds[0]);
    exit(server_run(fds[1], n));
  }
  close(fds[1]);
  struct pollfd pfd = {fds[0], POLLIN, 0};
  if (poll(&pfd, 1, 5000) != 1 || read(fds[0], &port, sizeof(port)) != (ssize_t) sizeof(port) || port == 0) {
    close(fds[0]);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(s_where, sizeof(s_where), "start");
    fail(n, "the server did not start");
    return -1;
  }
  close(fds[0]);
  client_script(n, port);
  // The fault may land in a /disarm request itself: only one allocation fails, so retry
  const char *made = NULL;
  for (int i = 0; i < 3 && made == NULL; i++) made = client_ask(port, "GET /disarm HTTP/1.1\r\nHost: h\r\n\r\n", &r);
  long count = made == NULL ? -1 : strtol(made, NULL, 10);
  snprintf(s_where, sizeof(s_where), "after the script");
  if (made == NULL) fail(n, "the server does not answer /disarm");
  if (client_ask(port, "GET /file.txt HTTP/1.1\r\nHost: h\r\n\r\n", &r) == NULL || r.body_len != sizeof(s_file) ||
      memcmp(r.body, s_file, sizeof(s_file)) != 0) {
    fail(n, "the server does not serve again");
  }
  client_ask(port, "GET /quit HTTP/1.1\r\nHost: h\r\n\r\n", &r);
  int status = 0;
  snprintf(s_where, sizeof(s_where), "exit");
  if (!wait_child(pid, &status)) fail(n, "the server did not exit on /quit");
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(n, "the server exited with status 0x%x", status);
  return count;
}

static bool setup_files(void) {
  const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  snprintf(s_root, sizeof(s_root), "%s/alloc-faults-XXXXXX", base);
  if (mkdtemp(s_root) == NULL) return false;
  for (size_t i = 0; i < sizeof(s_file); i++) s_file[i] = (char) ('a' + (i * 7 + i / 26) % 26);
  for (size_t i = 0; i < sizeof(s_echo); i++) s_echo[i] = (char) ('A' + i % 26);
  char path[300];
  snprintf(path, sizeof(path), "%s/file.txt", s_root);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL) return false;
  bool ok = fwrite(s_file, 1, sizeof(s_file), fp) == sizeof(s_file);
  ok = fclose(fp) == 0 && ok;
  snprintf(s_echo_req, sizeof(s_echo_req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %lu\r\n\r\n",
           (unsigned long) sizeof(s_echo));
  // Three chunks, then the last chunk with a trailer
  static char big[2500];
  memset(big, 'z', sizeof(big) - 1);
  const char *chunks[] = {"hello, ", big, "world"};
  size_t len = (size_t) snprintf(s_upload_req, sizeof(s_upload_req),
                                 "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  uint32_t crc = 0;
  unsigned long total = 0;
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(chunks[i]);
    len += (size_t) snprintf(s_upload_req + len, sizeof(s_upload_req) - len, "%lx\r\n%s\r\n", (unsigned long) n,
                             chunks[i]);
    crc = mg_crc32(crc, chunks[i], n);
    total += (unsigned long) n;
  }
  snprintf(s_upload_req + len, sizeof(s_upload_req) - len, "0\r\nX-Trailer: 1\r\n\r\n");
  snprintf(s_upload_want, sizeof(s_upload_want), "size=%lu\n%.*scrc=%08lx\n", total, FILE_SIZE, s_file,
           (unsigned long) crc);
  return ok;
}

static void cleanup_files(void) {
  char path[300];
  snprintf(path, sizeof(path), "%s/file.txt", s_root);
  unlink(path);
  rmdir(s_root);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  if (!setup_files()) {
    fprintf(stderr, "alloc-faults: cannot create the test files under %s\n", s_root);
    return 1;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long n = 1, count = -1;
  for (; n <= MAX_TRIES; n++) {
    count = run_once(n);
    if (count < 0 && s_failures > 20) break;  // Something is badly wrong: stop early
    if (count >= 0 && n > count) break;       // This run made fewer than n: none failed
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  cleanup_files();
  double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  long tried = n - 1;
  printf("alloc-faults: %ld of %ld allocation sites tried, %d failures (%.1f s)\n", tried,
         count < 0 ? tried : count, s_failures, secs);
  return s_failures == 0 && count >= 0 && tried == count ? 0 : 1;
}
