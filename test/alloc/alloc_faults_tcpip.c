// Out of memory on the built-in TCP/IP stack: an HTTP exchange with the stack as the server
// and a TCP exchange with it as a client, against a peer scripted over the mock driver on
// the fake clock, with allocation N failing (N = 1, 2, ... until a run makes fewer). Each
// run is a child process: no crash, no leak (LeakSanitizer at its exit), the failure
// answered cleanly (RST, an error event, a 5xx or a closed connection), nothing left behind
// once the timers ran out, and the same exchanges served in full right after.
#include <sys/wait.h>
#include <unistd.h>
#include "alloc_runner.h"
#include "../tcpip/net.h"
#include "tcpip/tcpip_internal.h"

#define NAME "alloc-faults-tcpip"
#define PEER_CLIENT_PORT 40000  // The peer's port as a client of our server (+ the attempt)
#define PEER_SERVER_PORT 7000   // The peer's port as a server of our client

static struct net n;
static long s_n;  // The allocation that fails in this run
static int s_failures;
static const char *s_where = "start";

static int tcpip_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, NAME ": N=%ld %s: ", s_n, s_where);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  s_failures++;
  return FAILED;
}

// The scripted peer: one TCP connection with the stack, acknowledging in order what it sent
struct peer {
  uint16_t port, stack_port;  // Its own port; the stack's (known once a SYN was seen)
  uint32_t snd_nxt, rcv_nxt;
  bool synced, reset, fin;    // The stack's SYN seen; an RST from it; its FIN received
  char got[4096];             // What the stack sent, in order
  size_t len;
};

// Takes the segments the stack sent to the peer; true if rcv_nxt moved (an ACK is due)
static bool peer_take(struct peer *p) {
  uint32_t was = p->rcv_nxt;
  struct tcpip_tcp t;
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    if (!sent_tcp(i, &t) || mg_ntohs(t.dport) != p->port) continue;
    if (p->synced && mg_ntohs(t.sport) != p->stack_port) continue;
    if (t.seg.flags & TCP_RST) p->reset = true;
    if (t.seg.flags & TCP_RST) continue;
    if ((t.seg.flags & TCP_SYN) && !p->synced) {
      p->synced = true, p->stack_port = mg_ntohs(t.sport), p->rcv_nxt = t.seg.seq + 1;
      continue;
    }
    if (!p->synced || t.seg.seq != p->rcv_nxt || p->fin) continue;  // A retransmission or out of order
    size_t room = sizeof(p->got) - 1 - p->len, take = t.seg.len < room ? t.seg.len : room;
    memcpy(p->got + p->len, t.seg.data, take);
    p->len += take, p->got[p->len] = '\0';
    p->rcv_nxt += (uint32_t) t.seg.len;
    if (t.seg.flags & TCP_FIN) p->rcv_nxt++, p->fin = true;
  }
  mock_eth_clear_sent();
  return p->rcv_nxt != was;
}

static void peer_inject(struct peer *p, uint8_t flags, const char *data) {
  static uint8_t f[1600];
  mock_eth_inject(f, frame_tcp(f, p->port, p->stack_port, p->snd_nxt, p->rcv_nxt, flags, data));
  p->snd_nxt += (uint32_t) (data == NULL ? 0 : strlen(data)) + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
  net_poll(&n, 3);
}

// Sends a segment and acknowledges whatever the stack answers, until it is quiet
static void peer_send(struct peer *p, uint8_t flags, const char *data) {
  if (p->reset) return;
  peer_inject(p, flags, data);
  for (int i = 0; i < 8 && peer_take(p) && !p->reset; i++) peer_inject(p, TCP_ACK, NULL);
}

// The fake clock forward by ms in steps of 500 ms, the peer acknowledging as it goes
static void peer_wait(struct peer *p, uint64_t ms) {
  for (uint64_t t = 0; t < ms; t += 500) {
    mock_eth_advance(500);
    net_poll(&n, 2);
    if (peer_take(p) && !p->reset) peer_inject(p, TCP_ACK, NULL);
  }
}

static void http_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "hello from the stack\n");
  (void) ev_data;
}

// The peer as a client of our HTTP server on port 80: SYN, a request, the answer, FIN
static int exchange_server(uint16_t port) {
  struct peer p = {.port = port, .stack_port = 80, .snd_nxt = 1000};
  s_where = "server: SYN";
  peer_send(&p, TCP_SYN, NULL);
  if (p.reset) return ENDED;  // Refused: no memory for the connection
  if (!p.synced) return tcpip_fail("neither SYN-ACK nor RST");
  s_where = "server: request";
  peer_send(&p, TCP_ACK | TCP_PSH, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  peer_wait(&p, 1000);
  s_where = "server: FIN";
  peer_send(&p, TCP_ACK | TCP_FIN, NULL);
  peer_wait(&p, 2000);
  if (strncmp(p.got, "HTTP/1.1 200", 12) == 0 && strstr(p.got, "\r\n\r\nhello from the stack\n") != NULL) {
    return p.fin ? GOT : tcpip_fail("the answer came, our FIN did not");
  }
  if (strncmp(p.got, "HTTP/1.1 5", 10) == 0) return SOFT;
  if (p.reset || p.fin) return ENDED;
  return tcpip_fail("no answer, no FIN, no RST; got %zu bytes: %.80s", p.len, p.got);
}

// Our client to the peer's server: SYN, "ping", "pong", the peer's FIN, ours
static int exchange_client(void) {
  struct net_client s = {0};
  struct peer p = {.port = PEER_SERVER_PORT, .snd_nxt = 5000};
  s_where = "client: connect";
  struct mg_connection *c = mg_connect(&n.mgr, "tcp://10.0.0.9:7000", net_client_fn, &s);
  if (c == NULL) return SOFT;  // Refused at once
  net_poll(&n, 2);
  peer_take(&p);
  if (!p.synced) {
    net_poll(&n, 2);
    return s.errors > 0 ? SOFT : tcpip_fail("no SYN and no error");
  }
  p.snd_nxt = 5000;
  s_where = "client: SYN-ACK";
  peer_send(&p, TCP_SYN | TCP_ACK, NULL);
  s_where = "client: pong";
  peer_send(&p, TCP_ACK | TCP_PSH, "pong");
  s_where = "client: FIN";
  peer_send(&p, TCP_ACK | TCP_FIN, NULL);
  peer_wait(&p, 2000);
  if (s.closes != 1 && !p.reset) return tcpip_fail("the client did not close (connects %d errors %d)", s.connects, s.errors);
  if (s.connects == 1 && s.len == 4 && memcmp(s.got, "pong", 4) == 0 && strcmp(p.got, "ping") == 0 && p.fin) return GOT;
  return s.errors > 0 ? SOFT : ENDED;
}

// Every timer runs out (retransmissions give up, TIME_WAIT ends): nothing may be left
static void settle(void) {
  for (int i = 0; i < 20 * 60; i++) {
    mock_eth_advance(500);
    net_poll(&n, 1);
    mock_eth_clear_sent();
  }
  unsigned tcbs = ((struct tcpip_state *) n.ifp.stack)->ntcbs, conns = 0;
  for (struct mg_connection *c = n.mgr.conns; c != NULL; c = c->next) conns += !c->is_listening;
  if (tcbs != 0 || conns != 0) tcpip_fail("%u TCP blocks and %u connections left after 10 minutes", tcbs, conns);
}

// One run, in the child: the exchanges with allocation fail_at failing, then without
static int tcpip_run(int fd, long fail_at) {
  mg_log_set(getenv("ALLOC_FAULTS_LOG") != NULL ? MG_LL_ERROR : MG_LL_NONE);
  net_init_ready(&n);
  net_learn(&n, PEER_MAC, PEER_IP);
  if (mg_http_listen(&n.mgr, "http://0.0.0.0:80", http_fn, NULL) == NULL) tcpip_fail("no listener");
  long armed_at = mg_alloc_count();
  mg_alloc_fail_after(fail_at);
  static const char *outcome[] = {"served", "5xx or error event", "ended (RST or FIN)", "FAILED"};
  int server = exchange_server(PEER_CLIENT_PORT), client = exchange_client();
  printf("  N=%ld: server %s, client %s\n", fail_at, outcome[server], outcome[client]);
  long made = mg_alloc_count() - armed_at;
  mg_alloc_fail_after(0);
  s_where = "after the fault";
  settle();
  s_where = "served again";
  net_learn(&n, PEER_MAC, PEER_IP);  // Its ARP entry aged out meanwhile
  if (exchange_server(PEER_CLIENT_PORT + 1) != GOT) tcpip_fail("the next HTTP exchange was not served");
  if (exchange_client() != GOT) tcpip_fail("the next client exchange failed");
  settle();
  net_free(&n);
  if (write(fd, &made, sizeof(made)) != (ssize_t) sizeof(made)) return 1;
  return s_failures == 0 ? 0 : 1;
}

// Forks run N; the allocations it made under the fault, -1 when it failed
static long tcpip_once(long fail_at) {
  int fds[2], status = 0;
  long made = -1;
  s_n = fail_at;
  if (pipe(fds) != 0) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fds[0]);
    exit(tcpip_run(fds[1], fail_at));
  }
  close(fds[1]);
  bool exited = runner_wait_child(pid, &status);
  if (read(fds[0], &made, sizeof(made)) != (ssize_t) sizeof(made)) made = -1;
  close(fds[0]);
  s_where = "exit";
  if (!exited) tcpip_fail("the run did not end within 5 s");
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) tcpip_fail("the run ended with status 0x%x", status);
  else return made;
  return -1;
}

int main(void) {
  // ALLOC_FAULTS_ONLY=N: that one run (ALLOC_FAULTS_LOG=1 for the stack's log)
  const char *only = getenv("ALLOC_FAULTS_ONLY");
  long n_at = only != NULL ? atol(only) : 1, made = -1;
  for (; n_at <= 5000; n_at++) {
    made = tcpip_once(n_at);
    if (made < 0 && s_failures > 20) break;
    if (made >= 0 && n_at > made) break;  // This run made fewer than N: none failed
    if (only != NULL) break;
  }
  long tried = n_at - 1;
  printf(NAME ": %ld of %ld allocation sites tried, %d failures\n", tried, made < 0 ? tried : made, s_failures);
  return s_failures == 0 && made >= 0 && tried == made ? 0 : 1;
}
