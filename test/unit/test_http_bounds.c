// What a misbehaving HTTP peer can make the server hold, and for how long: input
// behind a pending reply, output for a pipeline it does not read, a reply it never
// reads, a reset while a reply is pending. The peers are plain OS sockets, so they
// can stop reading or reset at will; the server runs on the same loop.
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "meerkat.h"

struct server {
  bool never_reply;       // Requests wait forever
  size_t reply_len;       // Body bytes per reply (0: "ok")
  size_t max_recv;        // Largest c->recv.len of an accepted connection
  size_t max_send;        // Largest c->send.len of an accepted connection after a pass
  size_t written;         // Bytes the accepted connections wrote, all told
  int nmsgs, closed;
};

static char big_body[16 << 20];  // More than loopback's socket buffers take (tcp_wmem's 4 MiB)

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct server *s = (struct server *) c->fn_data;
  if (!c->is_accepted) return;
  if (c->recv.len > s->max_recv) s->max_recv = c->recv.len;
  if (ev == MG_EV_POLL && c->send.len > s->max_send) s->max_send = c->send.len;
  if (ev == MG_EV_CLOSE) s->closed++;
  if (ev == MG_EV_WRITE) s->written += (size_t) *(long *) ev_data;
  if (ev != MG_EV_HTTP_MSG) return;
  s->nmsgs++;
  if (s->never_reply) return;
  if (s->reply_len == 0) {
    mg_http_reply(c, 200, NULL, "ok");
  } else {  // By hand: the HTTP layer sees the reply is whole
    mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n\r\n", (unsigned long) s->reply_len);
    mg_send(c, big_body, s->reply_len);
  }
  (void) ev_data;
}

static int server_start(struct mg_mgr *mgr, const struct mg_http_limits *lim, struct server *s) {
  memset(big_body, 'x', sizeof(big_body));
  struct mg_connection *l = mg_http_listen_limits(mgr, "http://127.0.0.1:0", lim, server_fn, s);
  cr_assert_not_null(l);
  return mg_ntohs(l->loc.port);
}

static void poll_ms(struct mg_mgr *mgr, int ms) {
  uint64_t end = mg_millis() + (uint64_t) ms;
  while (mg_millis() < end) mg_mgr_poll(mgr, 5);
}

// A blocking connect, then non-blocking; the server's loop runs while it connects
static int peer_connect(struct mg_mgr *mgr, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), small = 8192;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));  // So the kernel holds little of what we do not read
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert(fd >= 0);
  cr_assert_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  poll_ms(mgr, 20);
  return fd;
}

// Sends all of buf, running the loop while the socket is full; false if it stayed full
static bool peer_send(struct mg_mgr *mgr, int fd, const char *buf, size_t len) {
  uint64_t end = mg_millis() + 3000;
  while (len > 0 && mg_millis() < end) {
    ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
    if (n > 0) buf += n, len -= (size_t) n;
    else mg_mgr_poll(mgr, 5);
  }
  return len == 0;
}

// Reads what is there while the loop runs, until want bytes or the peer closes
static size_t peer_read(struct mg_mgr *mgr, int fd, char *buf, size_t want, int max_ms) {
  size_t got = 0;
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  while (got < want && mg_millis() < end) {
    ssize_t n = recv(fd, buf + got, want - got, 0);
    if (n == 0) break;
    if (n > 0) got += (size_t) n;
    else mg_mgr_poll(mgr, 5);
  }
  return got;
}

static size_t count(const char *buf, size_t len, const char *s) {
  size_t n = 0, sl = strlen(s);
  for (size_t i = 0; i + sl <= len; i++) n += memcmp(buf + i, s, sl) == 0;
  return n;
}

static const char get[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";

Test(http_bounds, input_behind_a_pending_reply_stops_at_about_max_head_size) {
  static const struct mg_http_limits lim = {.max_head_size = 1024, .max_body_size = 4096};
  struct mg_mgr mgr;
  struct server s = {.never_reply = true};
  static char junk[256 * 1024];
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, &lim, &s));
  memset(junk, 'j', sizeof(junk));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  poll_ms(&mgr, 20);
  peer_send(&mgr, fd, junk, sizeof(junk));  // Stays partly in the kernel once the server stops reading
  poll_ms(&mgr, 200);
  cr_assert_eq(s.nmsgs, 1);
  // One read past the limit at most: a read fills what the buffer has free
  cr_assert(s.max_recv <= lim.max_head_size + MG_IO_SIZE, "held %lu bytes of unparsed input",
            (unsigned long) s.max_recv);
  close(fd);
  mg_mgr_free(&mgr);
}

Test(http_bounds, a_pipeline_is_answered_only_as_fast_as_the_peer_reads) {
  struct mg_mgr mgr;
  struct server s = {.reply_len = 16000};  // 6.4 MB in all: more than the sockets' buffers take
  enum { N = 400 };
  static char reqs[N * sizeof(get)], in[N * 16200];
  size_t len = 0;
  for (int i = 0; i < N; i++) memcpy(reqs + len, get, strlen(get)), len += strlen(get);
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, NULL, &s));
  cr_assert(peer_send(&mgr, fd, reqs, len));
  poll_ms(&mgr, 300);  // The peer reads nothing meanwhile
  cr_assert(s.max_send <= 64 * 1024, "queued %lu bytes for a peer that reads nothing", (unsigned long) s.max_send);
  size_t got = peer_read(&mgr, fd, in, sizeof(in), 10000);  // Now it reads: every answer comes, in order
  cr_assert_eq(count(in, got, "HTTP/1.1 200 OK"), N, "%lu bytes", (unsigned long) got);
  cr_assert_eq(s.nmsgs, N);
  close(fd);
  mg_mgr_free(&mgr);
}

// However fast a pipelining peer reads, one loop pass answers a handful of its requests,
// so the others' turn comes soon; and the rest follow without the loop sleeping
Test(http_bounds, a_pass_answers_a_few_pipelined_requests_and_the_next_comes_at_once) {
  struct mg_mgr mgr;
  struct server s = {.reply_len = 0};
  enum { N = 1000 };  // 27 KB of requests: more than the head's worth that may wait
  static char reqs[N * sizeof(get)], in[N * 200];
  size_t len = 0;
  for (int i = 0; i < N; i++) memcpy(reqs + len, get, strlen(get)), len += strlen(get);
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, NULL, &s));
  cr_assert(peer_send(&mgr, fd, reqs, len));
  int most = 0, passes = 0;
  size_t got = 0;
  while (s.nmsgs < N && passes < 1000) {
    int before = s.nmsgs;
    mg_mgr_poll(&mgr, 1000);  // Sleeping here would take a second per pass
    passes++;
    if (s.nmsgs - before > most) most = s.nmsgs - before;
    ssize_t n = recv(fd, in + got, sizeof(in) - got, MSG_DONTWAIT);
    if (n > 0) got += (size_t) n;
  }
  cr_assert_eq(s.nmsgs, N, "%d answered in %d passes", s.nmsgs, passes);
  cr_assert(most <= 16, "%d requests answered in one pass", most);
  cr_assert(passes < 300, "%d passes", passes);
  // A head's worth, and the read that crossed it: at most what the buffer had free, as much again
  cr_assert(s.max_recv <= 2 * 8192 + MG_IO_SIZE, "%lu bytes of requests waited", (unsigned long) s.max_recv);
  close(fd);
  mg_mgr_free(&mgr);
}

// A peer that reads as fast as loopback goes still gets a bounded share of each pass:
// the rest of a large reply waits for the next one, which comes at once
Test(http_bounds, a_pass_writes_a_bounded_share_of_a_large_reply_to_a_fast_reader) {
  struct mg_mgr mgr;
  struct server s = {.reply_len = 4 << 20};
  static char in[1 << 20];
  mg_mgr_init(&mgr);
  int port = server_start(&mgr, NULL, &s);
  int fd = socket(AF_INET, SOCK_STREAM, 0);  // Loopback's usual buffers, which grow as it reads
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
  poll_ms(&mgr, 20);
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  size_t got = 0, most = 0;
  int passes = 0;
  while (got < s.reply_len && passes < 5000) {
    ssize_t n;
    while ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) > 0) got += (size_t) n;
    size_t before = s.written;
    mg_mgr_poll(&mgr, 1000);  // Sleeping here would take a second per pass
    passes++;
    if (s.written - before > most) most = s.written - before;
  }
  cr_assert(got >= s.reply_len, "%lu of %lu bytes in %d passes", (unsigned long) got, (unsigned long) s.reply_len, passes);
  cr_assert(most <= 3 * MG_IO_FLUSH_MAX, "%lu bytes written in one pass", (unsigned long) most);
  close(fd);
  mg_mgr_free(&mgr);
}

Test(http_bounds, a_peer_that_reads_nothing_for_send_timeout_is_closed) {
  static const struct mg_http_limits lim = {.max_head_size = 8192, .max_body_size = 4096, .send_timeout_ms = 300};
  struct mg_mgr mgr;
  struct server s = {.reply_len = sizeof(big_body)};  // More than the sockets' buffers take
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, &lim, &s));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  uint64_t start = mg_millis();
  while (s.closed == 0 && mg_millis() - start < 3000) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(s.closed, 1, "a peer that reads nothing keeps its connection and its queued reply");
  cr_assert(mg_millis() - start >= 300, "closed after %lu ms, before the timeout", (unsigned long) (mg_millis() - start));
  close(fd);
  mg_mgr_free(&mgr);
}

Test(http_bounds, a_slow_reader_is_not_closed_while_it_keeps_reading) {
  static const struct mg_http_limits lim = {.max_head_size = 8192, .max_body_size = 4096, .send_timeout_ms = 300};
  struct mg_mgr mgr;
  struct server s = {.reply_len = sizeof(big_body)};
  static char in[64 * 1024];
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, &lim, &s));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  size_t total = 0;
  for (int i = 0; i < 15; i++) {  // 1.5 s, five times the timeout, reading a little every 100 ms
    poll_ms(&mgr, 100);
    ssize_t n = recv(fd, in, sizeof(in), 0);
    if (n > 0) total += (size_t) n;
  }
  cr_assert_eq(s.closed, 0, "closed although it read %lu bytes", (unsigned long) total);
  close(fd);
  mg_mgr_free(&mgr);
}

// A peer that half-closes (the server stops watching input), then resets: before,
// the reset was reported on every wait and never closed the connection (a spin)
Test(http_bounds, a_reset_while_a_reply_is_pending_closes_the_connection) {
  struct mg_mgr mgr;
  struct server s = {.never_reply = true};
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, NULL, &s));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  poll_ms(&mgr, 30);
  shutdown(fd, SHUT_WR);
  poll_ms(&mgr, 30);
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);  // RST
  int passes = 0;
  uint64_t start = mg_millis();
  while (mg_millis() - start < 300) mg_mgr_poll(&mgr, 50), passes++;
  cr_assert_eq(s.closed, 1, "the connection outlives its reset");
  cr_assert(passes < 100, "%d loop passes in 300 ms: the loop spins", passes);
  mg_mgr_free(&mgr);
}

// A stream (server-sent events, say) whose handler writes a piece now and then from its
// own MG_EV_POLL is a reply in progress, whatever reply_timeout_ms says
static void streaming_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct server *s = (struct server *) c->fn_data;
  uint64_t *next = (uint64_t *) c->data;
  if (!c->is_accepted) return;
  if (ev == MG_EV_CLOSE) s->closed++;
  if (ev == MG_EV_WRITE) s->written += (size_t) *(long *) ev_data;
  if (ev == MG_EV_HTTP_MSG) {
    s->nmsgs++;
    mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    *next = mg_millis() + 100;
  } else if (ev == MG_EV_POLL && *next != 0 && mg_millis() >= *next) {
    mg_http_printf_chunk(c, "tick\n");
    *next = mg_millis() + 100;
  }
  (void) ev_data;
}

Test(http_bounds, a_reply_that_keeps_coming_in_pieces_is_not_timed_out) {
  static const struct mg_http_limits lim = {.max_head_size = 8192, .max_body_size = 4096, .reply_timeout_ms = 500};
  struct mg_mgr mgr;
  struct server s = {0};
  static char in[4096];
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen_limits(&mgr, "http://127.0.0.1:0", &lim, streaming_fn, &s);
  cr_assert_not_null(l);
  int fd = peer_connect(&mgr, mg_ntohs(l->loc.port));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  size_t got = peer_read(&mgr, fd, in, sizeof(in), 1500);  // Three times the timeout
  cr_assert_eq(s.closed, 0, "a stream still coming was cut");
  cr_assert(count(in, got, "tick") >= 8, "%lu bytes", (unsigned long) got);
  close(fd);
  mg_mgr_free(&mgr);
}

Test(http_bounds, a_reply_the_handler_never_gives_is_a_503_after_reply_timeout) {
  static const struct mg_http_limits lim = {.max_head_size = 8192, .max_body_size = 4096, .reply_timeout_ms = 200};
  struct mg_mgr mgr;
  struct server s = {.never_reply = true};
  char in[512];
  mg_mgr_init(&mgr);
  int fd = peer_connect(&mgr, server_start(&mgr, &lim, &s));
  cr_assert(peer_send(&mgr, fd, get, strlen(get)));
  size_t got = peer_read(&mgr, fd, in, sizeof(in) - 1, 2000);
  in[got] = '\0';
  cr_assert(strncmp(in, "HTTP/1.1 503 ", 13) == 0, "got %s", in);
  close(fd);
  poll_ms(&mgr, 50);
  cr_assert_eq(s.closed, 1);
  mg_mgr_free(&mgr);
}
