// In-memory backend: TCP-like byte streams between connections of one manager,
// paired through listeners by port, and a fake clock that jumps ahead when idle.
// Protocol tests run on it without sockets; bare-metal builds link it as a stand-in.
// Its one datagram channel is mg_wakeup's, which keeps each message apart as UDP does.
#include "mg_internal.h"

#if MG_ENABLE_MOCK
#define MOCK_WINDOW (64 * 1024)  // Bytes a receiver holds before its sender must wait
#define MOCK_BACKLOG 16          // Connections waiting in a listener for accept

struct mock_sock {
  struct mock_sock *peer;         // The other end; NULL once it has gone
  unsigned char *rx;              // Bytes sent to us and not yet read
  size_t rx_len, rx_size;
  bool peer_gone;                 // The other end closed: EOF after rx is drained
  bool refused;                   // connect found no listener
  struct mg_addr addr;            // Listener: the bound address
  struct mock_sock *backlog[MOCK_BACKLOG];
  size_t nbacklog;
};

static uint64_t mock_now = 1000;  // Fake milliseconds; never 0, which timers read as "unset"
static uint16_t mock_next_port = 40000;
static const char *mock_err = "";

uint64_t mg_mock_millis(void) {
  return mock_now;
}

void mg_mock_advance(uint64_t ms) {
  mock_now += ms;
}

const char *mg_be_error(void) {
  return mock_err;
}

static struct mock_sock *mock_sock_of(struct mg_connection *c) {
  return (intptr_t) c->fd == -1 ? NULL : (struct mock_sock *) c->fd;
}

static struct mock_sock *mock_new(struct mg_connection *c) {
  struct mock_sock *s = (struct mock_sock *) mg_calloc(1, sizeof(*s));
  if (s == NULL) mock_err = "out of memory";
  if (c != NULL && s != NULL) c->fd = s;
  return s;
}

// Tell the other end we are gone, and drop what was never accepted
static void mock_release(struct mock_sock *s) {
  if (s->peer != NULL) s->peer->peer = NULL, s->peer->peer_gone = true;
  for (size_t i = 0; i < s->nbacklog; i++) mock_release(s->backlog[i]);
  mg_free(s->rx);
  mg_free(s);
}

bool mg_be_init(struct mg_mgr *mgr) {
  mgr->backend = NULL;  // All state hangs off the connections
  return true;
}

void mg_be_free(struct mg_mgr *mgr) {
  (void) mgr;
}

void mg_be_close(struct mg_connection *c) {
  struct mock_sock *s = mock_sock_of(c);
  if (s != NULL) mock_release(s);
  c->fd = (void *) (intptr_t) -1;
}

void mg_be_shutdown(struct mg_connection *c) {
  struct mock_sock *s = mock_sock_of(c);
  if (s != NULL && s->peer != NULL) s->peer->peer_gone = true;  // It reads our end; we still read its bytes
}

void mg_be_watch(struct mg_connection *c, unsigned interests) {
  (void) c, (void) interests;  // Readiness is computed from c->io_interest on each wait
}

bool mg_be_listen(struct mg_connection *c, const struct mg_addr *addr) {
  if (c->is_udp) {
    mock_err = "the mock backend has no UDP";
    return false;
  }
  for (struct mg_connection *o = c->mgr->conns; o != NULL; o = o->next) {
    if (o != c && o->is_listening && mock_sock_of(o) != NULL && addr->port != 0 &&
        mock_sock_of(o)->addr.port == addr->port) {
      mock_err = "address in use";
      return false;
    }
  }
  struct mock_sock *s = mock_new(c);
  if (s == NULL) return false;
  s->addr = *addr;
  if (s->addr.port == 0) s->addr.port = mg_htons(mock_next_port++);
  c->loc = s->addr;
  return true;
}

int mg_be_accept(struct mg_connection *lsn, struct mg_connection *nc) {
  struct mock_sock *l = mock_sock_of(lsn);
  if (l == NULL || l->nbacklog == 0) return MG_IO_WAIT;
  struct mock_sock *s = l->backlog[0];
  memmove(l->backlog, l->backlog + 1, (l->nbacklog - 1) * sizeof(l->backlog[0]));
  l->nbacklog--;
  nc->fd = s;
  nc->loc = lsn->loc;
  if (s->peer != NULL) nc->rem = s->peer->addr;
  return 1;
}

static struct mock_sock *mock_find_listener(struct mg_mgr *mgr, const struct mg_addr *to) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    struct mock_sock *l = mock_sock_of(c);
    if (c->is_listening && !c->is_udp && l != NULL && l->addr.port == to->port) return l;
  }
  return NULL;
}

// Like a non-blocking TCP connect: the outcome arrives as writability
int mg_be_connect(struct mg_connection *c) {
  if (c->is_udp) {
    mock_err = "the mock backend has no UDP";
    return MG_IO_ERR;
  }
  struct mock_sock *s = mock_new(c);
  if (s == NULL) return MG_IO_ERR;
  s->addr = c->rem;
  s->addr.port = mg_htons(mock_next_port++);  // Our side's address, as the peer sees it
  struct mock_sock *l = mock_find_listener(c->mgr, &c->rem);
  struct mock_sock *srv = l != NULL && l->nbacklog < MOCK_BACKLOG ? mock_new(NULL) : NULL;
  if (srv == NULL) {
    s->refused = true;
    return MG_IO_WAIT;
  }
  srv->addr = c->rem;
  srv->peer = s, s->peer = srv;
  l->backlog[l->nbacklog++] = srv;
  return MG_IO_WAIT;
}

int mg_be_connected(struct mg_connection *c) {
  struct mock_sock *s = mock_sock_of(c);
  if (s == NULL || s->refused) {
    mock_err = "connection refused";
    return MG_IO_ERR;
  }
  c->loc = s->addr;
  return 1;
}

static void mock_consume(struct mock_sock *s, size_t n) {
  memmove(s->rx, s->rx + n, s->rx_len - n);
  s->rx_len -= n;
}

// Datagrams wait in rx as a size_t length and the bytes. As the seam says, one
// longer than len is consumed and reported as more than len; an empty one as nothing
static long mock_recv_datagram(struct mock_sock *s, void *buf, size_t len) {
  size_t size;
  if (s->rx_len == 0) return MG_IO_WAIT;
  memcpy(&size, s->rx, sizeof(size));
  if (size <= len) memcpy(buf, s->rx + sizeof(size), size);
  mock_consume(s, sizeof(size) + size);
  return (long) size;
}

long mg_be_recv(struct mg_connection *c, void *buf, size_t len) {
  struct mock_sock *s = mock_sock_of(c);
  if (s == NULL) return MG_IO_RESET;
  if (c->is_udp) return mock_recv_datagram(s, buf, len);
  if (s->rx_len == 0) return s->peer_gone ? MG_IO_EOF : MG_IO_WAIT;
  size_t n = len < s->rx_len ? len : s->rx_len;
  memcpy(buf, s->rx, n);
  mock_consume(s, n);
  return (long) n;
}

// Room for n more bytes in rx
static bool mock_reserve(struct mock_sock *to, size_t n) {
  if (to->rx_len + n <= to->rx_size) return true;
  unsigned char *p = (unsigned char *) mg_realloc(to->rx, to->rx_len + n);
  if (p == NULL) {
    mock_err = "out of memory";
    return false;
  }
  to->rx = p, to->rx_size = to->rx_len + n;
  return true;
}

static bool mock_append(struct mock_sock *to, const void *buf, size_t n) {
  if (!mock_reserve(to, n)) return false;
  memcpy(to->rx + to->rx_len, buf, n);
  to->rx_len += n;
  return true;
}

long mg_be_send(struct mg_connection *c, const void *buf, size_t len) {
  struct mock_sock *s = mock_sock_of(c);
  if (s == NULL) return MG_IO_RESET;
  if (s->peer == NULL) return (long) len;  // Dropped, as by a peer closing with a lingering close
  size_t room = MOCK_WINDOW - s->peer->rx_len;
  size_t n = len < room ? len : room;
  if (n == 0) return MG_IO_WAIT;
  return mock_append(s->peer, buf, n) ? (long) n : MG_IO_ERR;
}

static void mock_readiness(struct mg_connection *c, bool *r, bool *w) {
  struct mock_sock *s = mock_sock_of(c);
  *r = *w = false;
  if (s == NULL) return;
  if (c->is_listening) {
    *r = s->nbacklog > 0;
  } else if (c->is_connecting) {
    *w = true;
  } else {
    *r = s->rx_len > 0 || s->peer_gone;
    *w = s->peer == NULL || s->peer->rx_len < MOCK_WINDOW;
  }
  *r = *r && (c->io_interest & MG_IO_R);
  *w = *w && (c->io_interest & MG_IO_W);
}

// Reports what is ready, like a level-triggered poller; when nothing is, the fake
// clock jumps by the whole wait, so timeouts in tests take no real time
void mg_be_wait(struct mg_mgr *mgr, int ms) {
  bool any = false;
  for (struct mg_connection *c = mgr->conns, *next; c != NULL; c = next) {
    bool r, w;
    next = c->next;
    mock_readiness(c, &r, &w);
    if (!r && !w) continue;
    any = true;
    mg_io_ready(c, r, w, false);
  }
  if (!any && ms > 0) mock_now += (uint64_t) ms;
}

// Not thread-safe: on the boards this backend serves there is one thread; call it
// from the loop, or with interrupts masked
bool mg_be_wakeup_init(struct mg_connection *pipe) {
  return mock_new(pipe) != NULL;
}

// One datagram (see mock_recv_datagram); the channel is full at MOCK_WINDOW, as a
// socket's buffer would be
bool mg_be_wakeup(struct mg_mgr *mgr, const void *buf, size_t len) {
  struct mock_sock *s = mgr->wakeup_pipe != NULL ? mock_sock_of(mgr->wakeup_pipe) : NULL;
  if (s == NULL || s->rx_len + sizeof(len) + len > MOCK_WINDOW) return false;
  return mock_reserve(s, sizeof(len) + len) && mock_append(s, &len, sizeof(len)) && mock_append(s, buf, len);
}
#endif  // MG_ENABLE_MOCK
