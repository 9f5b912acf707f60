// The backend seam (mg_be_*) on the built-in stack: UDP connections and listeners with
// the socket backend's datagram semantics, the wait that runs the stack, mg_wakeup's channel.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
#ifndef MG_TCPIP_WAKEUP_QUEUE
#define MG_TCPIP_WAKEUP_QUEUE 4096  // Bytes of mg_wakeup messages waiting for the loop
#endif

// Handles in c->fd: connections hold no state of their own beyond c->loc and c->rem
static char be_udp_handle, be_wakeup_handle;
static const char *be_err = "";

struct be_wakeup {  // mgr->backend, made by mg_be_wakeup_init
  struct mg_queue q;
  char buf[MG_TCPIP_WAKEUP_QUEUE];
};

const char *mg_be_error(void) {
  return be_err;
}

static bool be_fail(const char *why) {
  be_err = why;
  return false;
}

static long be_io_err(const char *why) {
  be_err = why;
  return MG_IO_ERR;
}

bool mg_be_init(struct mg_mgr *mgr) {
  mgr->backend = NULL;  // The stack's state is the interface's (mg_tcpip_init)
  return true;
}

void mg_be_free(struct mg_mgr *mgr) {
  mg_tcpip_free(mgr->ifp);
  mg_free(mgr->backend);
  mgr->backend = NULL;
}

void mg_be_close(struct mg_connection *c) {
  c->fd = (void *) (intptr_t) -1;
}

void mg_be_shutdown(struct mg_connection *c) {
  (void) c;  // TCP: tcp_shutdown, once the engine is wired
}

void mg_be_watch(struct mg_connection *c, unsigned interests) {
  (void) c, (void) interests;  // Readiness is worked out from c->io_interest on each wait
}

static bool be_port_taken(struct mg_mgr *mgr, uint16_t port) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->fd == &be_udp_handle && c->loc.port == port) return true;
  }
  return false;
}

// An unused port from the ephemeral range, network order; 0 when all are taken
static uint16_t be_ephemeral_port(struct mg_mgr *mgr) {
  struct tcpip_state *s = tcpip_state(mgr->ifp);
  for (unsigned i = 0; i < 65536 - TCPIP_EPHEMERAL_LO; i++) {
    uint16_t port = (uint16_t) (TCPIP_EPHEMERAL_LO + s->next_port++ % (65536 - TCPIP_EPHEMERAL_LO));
    if (!be_port_taken(mgr, mg_htons(port))) return mg_htons(port);
  }
  return 0;
}

static bool be_usable(struct mg_connection *c, const struct mg_addr *addr) {
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (ifp == NULL || ifp->stack == NULL) return be_fail("no interface: call mg_tcpip_init first");
  if (addr->is_ip6) return be_fail("the built-in stack has no IPv6");
  if (!c->is_udp) return be_fail("TCP on the built-in stack comes with its engine (issue 23)");
  return true;
}

bool mg_be_listen(struct mg_connection *c, const struct mg_addr *addr) {
  if (!be_usable(c, addr)) return false;
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (addr->addr.ip4 != 0 && addr->addr.ip4 != ifp->ip) return be_fail("not this interface's address");
  uint16_t port = addr->port != 0 ? addr->port : be_ephemeral_port(c->mgr);
  if (port == 0) return be_fail("no free port");
  if (be_port_taken(c->mgr, port)) return be_fail("address in use");
  c->fd = &be_udp_handle;
  c->loc = *addr;
  c->loc.port = port;
  return true;
}

int mg_be_accept(struct mg_connection *lsn, struct mg_connection *nc) {
  (void) lsn, (void) nc;  // TCP listeners: tcp_accept, once the engine is wired
  return MG_IO_WAIT;
}

// UDP is connected at once, as a socket's connect() is: ARP runs with the first datagram
int mg_be_connect(struct mg_connection *c) {
  if (!be_usable(c, &c->rem)) return MG_IO_ERR;
  uint16_t port = be_ephemeral_port(c->mgr);
  if (port == 0) return be_io_err("no free port");
  c->fd = &be_udp_handle;
  memset(&c->loc, 0, sizeof(c->loc));
  c->loc.addr.ip4 = c->mgr->ifp->ip;
  c->loc.port = port;
  return 1;
}

int mg_be_connected(struct mg_connection *c) {
  (void) c;  // TCP: the engine's TCP_EV_CONNECTED, once wired
  return 1;
}

static long be_wakeup_recv(struct mg_mgr *mgr, void *buf, size_t len) {
  struct be_wakeup *w = (struct be_wakeup *) mgr->backend;
  char *msg;
  size_t n = w == NULL ? 0 : mg_queue_next(&w->q, &msg);
  if (n == 0) return MG_IO_WAIT;
  if (n <= len) memcpy(buf, msg, n);
  mg_queue_del(&w->q, n);
  return (long) n;
}

// The datagram tcpip_be_deliver_udp is handing to c, once; one longer than len is
// consumed and reported by its size, as the seam says
long mg_be_recv(struct mg_connection *c, void *buf, size_t len) {
  if (c->fd == &be_wakeup_handle) return be_wakeup_recv(c->mgr, buf, len);
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (c->fd != &be_udp_handle || ifp == NULL || ifp->stack == NULL) return MG_IO_RESET;
  struct tcpip_dgram *d = &tcpip_state(ifp)->dgram;
  if (d->c != c || d->taken) return MG_IO_WAIT;
  d->taken = true;
  if (d->len <= len) memcpy(buf, d->data, d->len);
  if (c->is_listening) {
    memset(&c->rem, 0, sizeof(c->rem));
    c->rem.addr.ip4 = d->src;
    c->rem.port = d->sport;
  }
  return d->len > 0 ? (long) d->len : MG_IO_WAIT;  // An empty datagram is not an end
}

// One datagram to c->rem (a listener's: the last sender). It is sent, or held while
// the next hop's address resolves; lost frames are the counters' to tell.
long mg_be_send(struct mg_connection *c, const void *buf, size_t len) {
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (c->fd != &be_udp_handle || ifp == NULL || ifp->stack == NULL) return MG_IO_RESET;
  if (!tcpip_state(ifp)->link_up) return be_io_err("link down");
  if (ifp->ip == 0) return be_io_err("no IPv4 address yet");
  if (len > TCPIP_ETH_MTU - TCPIP_IP_HDR - TCPIP_UDP_HDR)
    return be_io_err("datagram larger than 1472 bytes: the built-in stack does not fragment");
  memcpy(tcpip_udp_payload(ifp), buf, len);
  if (!tcpip_udp_send(ifp, c->rem.addr.ip4, c->loc.port, c->rem.port, len))
    return be_io_err("no route, no room to hold it, or the driver refused it");
  return (long) len;
}

// The connection a datagram is for: a connected UDP client exactly (its peer's address
// and port), else a listener on the port bound to any address or to the destination
static struct mg_connection *be_udp_find(struct mg_mgr *mgr, const struct tcpip_ip *ip, const struct tcpip_udp *udp) {
  struct mg_connection *lsn = NULL;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->fd != &be_udp_handle || c->loc.port != udp->dport || c->is_closing) continue;
    if (c->is_listening && (c->loc.addr.ip4 == 0 || c->loc.addr.ip4 == ip->dst ||
                            tcpip_ip_is_broadcast(mgr->ifp, ip->dst))) {
      lsn = c;
    } else if (!c->is_listening && c->rem.addr.ip4 == ip->src && c->rem.port == udp->sport) {
      return c;
    }
  }
  return lsn;
}

// The event layer reads the datagram now, through mg_be_recv, straight from the frame:
// no copy is held. A connection that is not reading (back-pressure) loses it, as a
// full socket buffer would, and the loss is counted.
bool tcpip_be_deliver_udp(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_udp *udp) {
  struct tcpip_dgram *d = &tcpip_state(ifp)->dgram;
  struct mg_connection *c = be_udp_find(ifp->mgr, ip, udp);
  if (c == NULL) return false;
  d->c = c, d->data = udp->data, d->len = udp->len, d->src = ip->src, d->sport = udp->sport, d->taken = false;
  if (c->io_interest & MG_IO_R) mg_io_ready(c, true, false, false);
  if (!d->taken) ifp->counters.drop_no_mem++;
  d->c = NULL;
  return true;
}

// Level-triggered readiness that no frame announces: mg_wakeup's messages, and
// writability for whoever asks (a UDP send never waits)
static bool be_report(struct mg_mgr *mgr) {
  bool any = false;
  struct be_wakeup *w = (struct be_wakeup *) mgr->backend;
  char *msg;
  struct mg_connection *pipe = mgr->wakeup_pipe;
  for (int i = 0; i < 16 && w != NULL && pipe != NULL && (pipe->io_interest & MG_IO_R) && !pipe->is_closing &&
                  mg_queue_next(&w->q, &msg) > 0;
       i++) {
    mg_io_ready(pipe, true, false, false);
    any = true;
  }
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->fd == &be_udp_handle && (c->io_interest & MG_IO_W) && !c->is_closing) {
      mg_io_ready(c, false, true, false);
      any = true;
    }
  }
  // TCP: readable while tcp_readable or tcp_eof, writable while tcp_writable, once wired
  return any;
}

// How long the driver may sleep: to the stack's next timer, and in short slices
// while mg_wakeup may post (a driver's wait cannot hear it)
static int be_sleep_ms(struct mg_mgr *mgr, int ms, uint64_t now) {
  uint64_t deadline = tcpip_next_deadline(mgr->ifp);
  if (deadline != 0 && deadline < now + (uint64_t) ms) ms = deadline > now ? (int) (deadline - now) : 0;
  if (mgr->wakeup_pipe != NULL && ms > TCPIP_WAKEUP_SLICE_MS) ms = TCPIP_WAKEUP_SLICE_MS;
  return ms;
}

// Frames first (at most MG_TCPIP_RX_BURST in the whole call), then the stack's timers,
// which see what the frames taught (the gateway's MAC makes the interface ready);
// sleep in the driver's wait only when nothing happened, else return for the loop
void mg_be_wait(struct mg_mgr *mgr, int ms) {
  struct mg_tcpip_if *ifp = mgr->ifp;
  if (ifp == NULL || ifp->stack == NULL) {
    be_report(mgr);
    return;
  }
  size_t n = tcpip_rx_burst(ifp, MG_TCPIP_RX_BURST);
  uint64_t now = mg_millis();
  tcpip_poll(ifp, now);
  bool ready = be_report(mgr);
  if (n > 0 || ready || ms <= 0 || ifp->driver->wait == NULL) return;
  int sleep_ms = be_sleep_ms(mgr, ms, now);
  if (sleep_ms <= 0) return;
  ifp->driver->wait(ifp, sleep_ms);
  tcpip_rx_burst(ifp, MG_TCPIP_RX_BURST);
  tcpip_poll(ifp, mg_millis());
  be_report(mgr);
}

// mg_wakeup's channel is a lock-free single-producer queue (base/queue.c): one other
// thread, or an interrupt handler, may post; several posting threads need a lock of
// their own around mg_wakeup. The loop hears it within TCPIP_WAKEUP_SLICE_MS.
bool mg_be_wakeup_init(struct mg_connection *pipe) {
  struct mg_mgr *mgr = pipe->mgr;
  if (mgr->backend == NULL) {
    struct be_wakeup *w = (struct be_wakeup *) mg_calloc(1, sizeof(*w));
    if (w == NULL) return be_fail("out of memory");
    mg_queue_init(&w->q, w->buf, sizeof(w->buf));
    mgr->backend = w;
  }
  pipe->fd = &be_wakeup_handle;
  return true;
}

bool mg_be_wakeup(struct mg_mgr *mgr, const void *buf, size_t len) {
  struct be_wakeup *w = (struct be_wakeup *) mgr->backend;
  char *slot;
  if (w == NULL || mgr->wakeup_pipe == NULL || mg_queue_book(&w->q, &slot, len) < len) return false;
  memcpy(slot, buf, len);
  mg_queue_add(&w->q, len);
  return true;
}
#endif  // MG_ENABLE_TCPIP
