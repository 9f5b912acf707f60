// The backend seam (mg_be_*) on the built-in stack: TCP connections over tcpip_tcp.c, UDP
// with the socket backend's datagram semantics, the wait that runs the stack, mg_wakeup's channel.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
#ifndef MG_TCPIP_WAKEUP_QUEUE
#define MG_TCPIP_WAKEUP_QUEUE 4096  // Bytes of mg_wakeup messages waiting for the loop
#endif

// Handles in c->fd: a TCP connection's is its struct tcpip_tcb; listeners and UDP
// connections hold no state of their own beyond c->loc and c->rem
static char be_udp_handle, be_wakeup_handle, be_listen_handle;
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

static bool be_is_handle(const struct mg_connection *c) {
  return c->fd == &be_udp_handle || c->fd == &be_wakeup_handle || c->fd == &be_listen_handle;
}

static struct tcpip_tcb *be_tcb(const struct mg_connection *c) {
  bool none = c->fd == (void *) (intptr_t) -1 || c->is_udp || be_is_handle(c);
  return none ? NULL : (struct tcpip_tcb *) c->fd;
}

void mg_be_close(struct mg_connection *c) {
  struct tcpip_tcb *tcb = be_tcb(c);
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (tcb != NULL) tcpip_tcp_detach(tcb);
  if (c->fd == &be_listen_handle && ifp != NULL && ifp->stack != NULL) tcpip_tcp_backlog_drop(ifp, c->loc.port);
  c->fd = (void *) (intptr_t) -1;
}

void mg_be_shutdown(struct mg_connection *c) {
  struct tcpip_tcb *tcb = be_tcb(c);
  if (tcb != NULL) tcp_shutdown(&tcb->tcp, mg_millis());
}

void mg_be_watch(struct mg_connection *c, unsigned interests) {
  (void) c, (void) interests;  // Readiness is worked out from c->io_interest on each wait
}

// UDP and TCP ports are apart; a TCP port is taken by a listener or any connection on it
static bool be_port_taken(struct mg_mgr *mgr, uint16_t port, bool udp) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->fd == (udp ? &be_udp_handle : &be_listen_handle) && c->loc.port == port) return true;
  }
  return !udp && tcpip_tcp_port_used(mgr->ifp, port);
}

// An unused port from the ephemeral range, network order; 0 when all are taken
static uint16_t be_ephemeral_port(struct mg_mgr *mgr, bool udp) {
  struct tcpip_state *s = tcpip_state(mgr->ifp);
  for (unsigned i = 0; i < 65536 - TCPIP_EPHEMERAL_LO; i++) {
    uint16_t port = (uint16_t) (TCPIP_EPHEMERAL_LO + s->next_port++ % (65536 - TCPIP_EPHEMERAL_LO));
    if (!be_port_taken(mgr, mg_htons(port), udp)) return mg_htons(port);
  }
  return 0;
}

static bool be_usable(struct mg_connection *c, const struct mg_addr *addr) {
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (ifp == NULL || ifp->stack == NULL) return be_fail("no interface: call mg_tcpip_init first");
  if (addr->is_ip6) return be_fail("the built-in stack has no IPv6");
  return true;
}

bool mg_be_listen(struct mg_connection *c, const struct mg_addr *addr) {
  if (!be_usable(c, addr)) return false;
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (addr->addr.ip4 != 0 && addr->addr.ip4 != ifp->ip) return be_fail("not this interface's address");
  uint16_t port = addr->port != 0 ? addr->port : be_ephemeral_port(c->mgr, c->is_udp);
  if (port == 0) return be_fail("no free port");
  if (be_port_taken(c->mgr, port, c->is_udp)) return be_fail("address in use");
  c->fd = c->is_udp ? &be_udp_handle : &be_listen_handle;
  c->loc = *addr;
  c->loc.port = port;
  return true;
}

struct mg_connection *tcpip_be_tcp_listener(struct mg_tcpip_if *ifp, uint16_t port) {
  for (struct mg_connection *c = ifp->mgr->conns; c != NULL; c = c->next) {
    if (c->fd == &be_listen_handle && c->loc.port == port && !c->is_closing) return c;
  }
  return NULL;
}

static void be_set_loc(struct mg_connection *c, uint16_t port) {
  memset(&c->loc, 0, sizeof(c->loc));
  c->loc.addr.ip4 = c->mgr->ifp->ip;
  c->loc.port = port;
}

// Handshakes finish in the stack; the listener takes connections already established
int mg_be_accept(struct mg_connection *lsn, struct mg_connection *nc) {
  struct mg_tcpip_if *ifp = lsn->mgr->ifp;
  if (ifp == NULL || ifp->stack == NULL || lsn->fd != &be_listen_handle) return MG_IO_WAIT;
  struct tcpip_tcb *tcb = tcpip_tcp_accept(ifp, lsn->loc.port, nc);
  if (tcb == NULL) return MG_IO_WAIT;
  nc->fd = tcb;
  be_set_loc(nc, tcb->loc_port);
  memset(&nc->rem, 0, sizeof(nc->rem));
  nc->rem.addr.ip4 = tcb->rem_ip;
  nc->rem.port = tcb->rem_port;
  return 1;
}

// UDP is connected at once, as a socket's connect() is: ARP runs with the first
// datagram. TCP resolves its next hop, then opens; writability reports the outcome
int mg_be_connect(struct mg_connection *c) {
  if (!be_usable(c, &c->rem)) return MG_IO_ERR;
  if (!c->is_udp && c->mgr->ifp->ip == 0) return be_io_err("no IPv4 address yet");
  uint16_t port = be_ephemeral_port(c->mgr, c->is_udp);
  if (port == 0) return be_io_err("no free port");
  be_set_loc(c, port);
  if (c->is_udp) {
    c->fd = &be_udp_handle;
    return 1;
  }
  const char *why = "";
  struct tcpip_tcb *tcb = tcpip_tcp_connect(c->mgr->ifp, c, port, &why);
  if (tcb == NULL) return be_io_err(why);
  c->fd = tcb;
  return MG_IO_WAIT;
}

int mg_be_connected(struct mg_connection *c) {
  struct tcpip_tcb *tcb = be_tcb(c);
  if (tcb == NULL || tcb->established) return 1;
  be_err = tcb->reason != NULL ? tcb->reason : "not connected";
  return MG_IO_ERR;
}

// The end of a connection the engine closed: a reset, or an error with its reason
static long be_tcp_ended(struct tcpip_tcb *tcb) {
  if (tcb->reason == NULL || tcb->reason == tcp_reason_closed) return MG_IO_EOF;
  if (tcb->reason == tcp_reason_reset) return MG_IO_RESET;
  return be_io_err(tcb->reason);
}

static long be_tcp_recv(struct tcpip_tcb *tcb, void *buf, size_t len) {
  size_t n = tcp_read(&tcb->tcp, buf, len, mg_millis());
  if (n > 0) return (long) n;
  if (tcp_eof(&tcb->tcp)) return MG_IO_EOF;
  return tcb->dead ? be_tcp_ended(tcb) : MG_IO_WAIT;
}

static long be_tcp_send(struct tcpip_tcb *tcb, const void *buf, size_t len) {
  if (tcb->dead) {
    long rc = be_tcp_ended(tcb);
    return rc == MG_IO_EOF ? MG_IO_RESET : rc;  // Nothing can reach the peer now
  }
  if (len == 0) return MG_IO_WAIT;
  return (long) tcp_write(&tcb->tcp, buf, len, mg_millis());
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
  struct tcpip_tcb *tcb = be_tcb(c);
  if (tcb != NULL) return be_tcp_recv(tcb, buf, len);
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
  struct tcpip_tcb *tcb = be_tcb(c);
  if (tcb != NULL) return be_tcp_send(tcb, buf, len);
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

// TCP readiness from the engine's state, level-triggered as sockets' is: a listener with
// an established connection waiting, a connect's outcome, input or its end, room to write
static bool be_report_tcp(struct mg_connection *c) {
  struct mg_tcpip_if *ifp = c->mgr->ifp;
  if (c->fd == &be_listen_handle) {
    bool ready = (c->io_interest & MG_IO_R) && tcpip_tcp_backlog_ready(ifp, c->loc.port);
    if (ready) mg_io_ready(c, true, false, false);
    return ready;
  }
  struct tcpip_tcb *tcb = be_tcb(c);
  if (tcb == NULL) return false;
  if (c->is_connecting) {
    bool done = tcb->established || tcb->dead;
    if (done) mg_io_ready(c, false, true, false);
    return done;
  }
  bool r = (c->io_interest & MG_IO_R) && (tcp_readable(&tcb->tcp) > 0 || tcp_eof(&tcb->tcp) || tcb->dead);
  bool w = (c->io_interest & MG_IO_W) && (tcp_writable(&tcb->tcp) > 0 || tcb->dead);
  bool hangup = tcb->dead && !r;
  if (r || w || hangup) mg_io_ready(c, r, w, hangup);
  return r || w || hangup;
}

// Level-triggered readiness that no frame announces: mg_wakeup's messages, TCP's,
// and writability for whoever asks (a UDP send never waits)
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
    if (c->is_closing) continue;
    if (c->fd == &be_udp_handle && (c->io_interest & MG_IO_W)) {
      mg_io_ready(c, false, true, false);
      any = true;
    } else if (!c->is_udp && mgr->ifp != NULL && mgr->ifp->stack != NULL && be_report_tcp(c)) {
      any = true;
    }
  }
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
