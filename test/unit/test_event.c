// The event layer's contracts over real sockets: protocol handlers are in place
// before the first event, a listener out of descriptors rests instead of spinning,
// and an HTTP client knows that a response to HEAD has no body.
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "meerkat.h"

// ---------------------------------------------------------------------------
static bool s_pfn_at_open;

static void note_open(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_OPEN) s_pfn_at_open = c->pfn != NULL;
  (void) ev_data;
}

Test(event, protocol_handler_is_set_before_open) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  s_pfn_at_open = false;
  struct mg_connection *lsn = mg_http_listen(&mgr, "http://127.0.0.1:0", note_open, NULL);
  cr_assert(lsn != NULL);
  cr_expect(s_pfn_at_open, "the listener's MG_EV_OPEN came before its protocol handler");
  s_pfn_at_open = false;
  char url[64];
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%d/", mg_ntohs(lsn->loc.port));
  cr_assert(mg_http_connect(&mgr, url, note_open, NULL) != NULL);
  cr_expect(s_pfn_at_open, "the client's MG_EV_OPEN came before its protocol handler");
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// HEAD: the server's head announces a body it does not send (RFC 9110 9.3.2)
struct head_client {
  int msgs;
  size_t body_len[2];
};

static void head_server(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev != MG_EV_HTTP_MSG) return;
  if (mg_str_eq(hm->method, "HEAD")) mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  else mg_http_reply(c, 200, NULL, "after head");
}

static void head_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct head_client *hc = (struct head_client *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    // Pipelined: the GET's response must not be taken for the HEAD's body
    mg_printf(c, "HEAD /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n");
  } else if (ev == MG_EV_HTTP_MSG && hc->msgs < 2) {
    hc->body_len[hc->msgs++] = ((struct mg_http_message *) ev_data)->body.len;
  }
}

Test(event, http_client_takes_no_body_after_head) {
  struct mg_mgr mgr;
  struct head_client hc = {0, {99, 99}};
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen(&mgr, "http://127.0.0.1:0", head_server, NULL);
  cr_assert(lsn != NULL);
  char url[64];
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%d/", mg_ntohs(lsn->loc.port));
  cr_assert(mg_http_connect(&mgr, url, head_client_fn, &hc) != NULL);
  uint64_t end = mg_millis() + 2000;
  while (hc.msgs < 2 && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(hc.msgs, 2, "responses seen: %d", hc.msgs);
  cr_expect_eq(hc.body_len[0], 0);
  cr_expect_eq(hc.body_len[1], strlen("after head"));
  mg_mgr_free(&mgr);
}

// ---------------------------------------------------------------------------
// Out of descriptors: the listener must rest, log once per rest, keep serving the
// connections it has, and accept the rest once descriptors are free again
#define EMFILE_CLIENTS 12

static int s_accept_logs, s_accepted;

static void count_log(char ch, void *param) {
  static char line[256];
  static size_t len;
  (void) param;
  if (ch != '\n') {
    if (len < sizeof(line) - 1) line[len++] = ch;
    return;
  }
  line[len] = '\0';
  if (strstr(line, "cannot accept") != NULL) s_accept_logs++;
  len = 0;
}

static void echo_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT) s_accepted++;
  if (ev == MG_EV_READ) {
    mg_send(c, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
  (void) ev_data;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int highest_fd(void) {
  int top = 0;
  for (int fd = 0; fd < 4096; fd++)
    if (fcntl(fd, F_GETFD) != -1) top = fd;
  return top;
}

static void emfile_clients(int port, int release_fd) {
  int fds[EMFILE_CLIENTS];
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < EMFILE_CLIENTS; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *) &sin, sizeof(sin)) != 0) _exit(2);
    if (write(fds[i], "x", 1) != 1) _exit(3);
  }
  char ch;
  if (read(release_fd, &ch, 1) < 0) _exit(4);  // Hold them until the parent is done
  _exit(0);
}

Test(event, listener_out_of_descriptors_rests_and_recovers) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_log_set_fn(count_log, NULL);
  struct mg_connection *lsn = mg_listen(&mgr, "tcp://127.0.0.1:0", echo_fn, NULL);
  cr_assert(lsn != NULL);
  int release[2];
  cr_assert(pipe(release) == 0);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    close(release[1]);  // Or its read would never see the parent's close
    emfile_clients(mg_ntohs(lsn->loc.port), release[0]);
  }
  close(release[0]);

  struct rlimit old, low;
  cr_assert(getrlimit(RLIMIT_NOFILE, &old) == 0);
  low = old;
  low.rlim_cur = (rlim_t) highest_fd() + 1 + 3;  // Room for three accepted connections
  cr_assert(setrlimit(RLIMIT_NOFILE, &low) == 0);
  double cpu0 = cpu_seconds();
  uint64_t end = mg_millis() + 1500;
  while (mg_millis() < end) mg_mgr_poll(&mgr, 50);
  double cpu = cpu_seconds() - cpu0;
  int accepted_while_low = s_accepted, logs = s_accept_logs;

  cr_assert(setrlimit(RLIMIT_NOFILE, &old) == 0);
  end = mg_millis() + 3000;
  while (s_accepted < EMFILE_CLIENTS && mg_millis() < end) mg_mgr_poll(&mgr, 50);
  close(release[1]);
  waitpid(pid, NULL, 0);
  mg_log_set_fn(NULL, NULL);
  mg_mgr_free(&mgr);

  cr_expect(accepted_while_low >= 1 && accepted_while_low < EMFILE_CLIENTS, "accepted while short: %d", accepted_while_low);
  cr_expect(cpu < 0.5, "the loop spun: %.2f s of CPU in 1.5 s", cpu);
  cr_expect(logs >= 1 && logs <= 4, "%d 'cannot accept' log lines in 1.5 s", logs);
  cr_expect_eq(s_accepted, EMFILE_CLIENTS, "accepted after recovery: %d", s_accepted);
}

// ---------------------------------------------------------------------------
// A server that answers and closes while the client is still sending: closing a
// socket with unread input sends a reset, and a reset makes the client's kernel
// drop the answer it has not read yet. The server must half-close and read on
// (RFC 9112 9.6), so the client gets the whole answer and then the end.
struct early_client {
  struct mg_iobuf got;
  size_t sent;
  bool closed;
};

static void early_server(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ && !c->is_draining) {  // Refuse at the first bytes, as a 413 does
    mg_printf(c, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig\n");
    c->is_draining = 1;
  }
  if (ev == MG_EV_READ) c->recv.len = 0;
  (void) ev_data;
}

static void early_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct early_client *ec = (struct early_client *) c->fn_data;
  static char chunk[64 * 1024];
  if (ev == MG_EV_CONNECT) memset(chunk, 'a', sizeof(chunk));
  if ((ev == MG_EV_CONNECT || ev == MG_EV_POLL) && c->send.len == 0 && ec->sent < 256 * 1024 * 1024) {
    mg_send(c, chunk, sizeof(chunk));  // A client streaming an upload, far more than the server reads
    ec->sent += sizeof(chunk);
  } else if (ev == MG_EV_READ) {
    mg_iobuf_add(&ec->got, ec->got.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  } else if (ev == MG_EV_CLOSE) {
    ec->closed = true;
  }
  (void) ev_data;
}

Test(event, a_server_closing_on_unread_input_still_delivers_its_answer) {
  struct mg_mgr mgr;
  struct early_client ec;
  memset(&ec, 0, sizeof(ec));
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_listen(&mgr, "tcp://127.0.0.1:0", early_server, NULL);
  cr_assert(lsn != NULL);
  char url[64];
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", mg_ntohs(lsn->loc.port));
  struct mg_connection *c = mg_connect(&mgr, url, early_client_fn, &ec);
  cr_assert(c != NULL);
  uint64_t end = mg_millis() + 3000;
  while (!ec.closed && mg_millis() < end) mg_mgr_poll(&mgr, 10);
  cr_assert(ec.closed, "the client never saw the end");
  cr_expect(ec.got.len >= 12 && memcmp(ec.got.buf, "HTTP/1.1 413", 12) == 0, "got %lu bytes: %.*s",
            (unsigned long) ec.got.len, (int) ec.got.len, (char *) ec.got.buf);
  mg_iobuf_free(&ec.got);
  mg_mgr_free(&mgr);
}
