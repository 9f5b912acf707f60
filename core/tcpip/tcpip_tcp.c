// TCP connections of the built-in stack: each engine (tcp.h) with its buffers, segments
// to and from the wire, listeners' backlogs, the connection limit, timers and counters.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
enum { TCP_ARP_WAIT_MS = TCPIP_ARP_TRIES * TCPIP_ARP_RETRY_MS + 500 };  // An active open's ARP gives up

static uint8_t *tcp_rx_mem(struct tcpip_tcb *tcb) {
  return (uint8_t *) (tcb + 1);
}

// A segment the engine asks for: ports, IPv4 and Ethernet around it
static bool tcp_emit(void *ctx, const struct tcp_seg *seg) {
  struct tcpip_tcb *tcb = (struct tcpip_tcb *) ctx;
  struct mg_tcpip_if *ifp = tcb->ifp;
  if (ifp->ip == 0 || !tcpip_state(ifp)->link_up) return false;
  struct tcpip_tcp t;
  t.sport = tcb->loc_port, t.dport = tcb->rem_port, t.seg = *seg;
  // Data to a known next hop goes to a driver that segments, whole; the rest as plain frames.
  // A segment larger than a frame to a next hop no longer known waits for the retransmission
  t.csum_partial = MG_ENABLE_TCPIP_OFFLOAD && seg->len > 0 && tcpip_ip_offload_ready(ifp, tcb->rem_ip);
  size_t room = t.csum_partial ? tcpip_tso_max(ifp) - TCPIP_ETH_HDR : TCPIP_ETH_MTU;
  uint8_t *at = tcpip_tx_buf(ifp) + TCPIP_ETH_HDR + TCPIP_IP_HDR;
  size_t n = tcpip_tcp_put(at, room - TCPIP_IP_HDR, &t, ifp->ip, tcb->rem_ip);
  if (n == 0) return false;
  bool sent = t.csum_partial  // A reset for no connection (tcp_refuse) carries no data: never this way
                  ? tcpip_ip_send_tcp_offload(ifp, tcb->rem_ip, n, (uint16_t) tcp_send_mss(&tcb->tcp))
                  : tcpip_ip_send(ifp, tcb->rem_ip, TCPIP_IP_TCP, n);
  if (!sent) return false;
  if (seg->flags & TCP_RST) ifp->counters.tcp_resets++;
  return true;
}

// Input after the application closed: read and forgotten (FIN_WAIT states)
static void tcp_drain(struct tcpip_tcb *tcb) {
  uint8_t scratch[256];
  while (tcp_read(&tcb->tcp, scratch, sizeof(scratch), mg_millis()) > 0) (void) 0;
}

// The readiness the backend reports is worked out from the engine's state on each
// wait (tcpip_be.c); only what no state shows is noted here. Nothing is freed here
static void tcp_event(void *ctx, int ev, const char *reason) {
  struct tcpip_tcb *tcb = (struct tcpip_tcb *) ctx;
  if (ev == TCP_EV_CONNECTED) tcb->established = true;
  if (ev == TCP_EV_READABLE && tcb->phase == TCPIP_TCB_ORPHAN) tcp_drain(tcb);
  if (ev == TCP_EV_CLOSED) tcb->dead = true, tcb->reason = reason;
}

static const struct tcp_ops tcp_ops = {tcp_emit, tcp_event};

static void tcp_unlink(struct mg_tcpip_if *ifp, struct tcpip_tcb *tcb) {
  struct tcpip_state *s = tcpip_state(ifp);
  for (struct tcpip_tcb **p = &s->tcbs; *p != NULL; p = &(*p)->next) {
    if (*p == tcb) {
      *p = tcb->next;
      s->ntcbs--;
      return;
    }
  }
}

// The engine's counts into the interface's, so that they survive the connection
static void tcp_account(struct tcpip_tcb *tcb) {
  struct mg_tcpip_counters *k = &tcb->ifp->counters;
  k->tcp_retransmits += tcb->tcp.retransmits - tcb->retransmits_counted;
  k->drop_no_mem += tcb->tcp.ooo_drops - tcb->ooo_counted;
  tcb->retransmits_counted = tcb->tcp.retransmits;
  tcb->ooo_counted = tcb->tcp.ooo_drops;
}

static void tcp_free(struct tcpip_tcb *tcb) {
  tcp_account(tcb);
  tcp_unlink(tcb->ifp, tcb);
  if (tcb->c != NULL) tcb->c->fd = (void *) (intptr_t) -1;
  mg_free(tcb);
}

// At the limit, a connection in TIME_WAIT the application is done with makes room: its
// only purpose is catching a stray old segment (RFC 9293 3.6.1), worth less than a newcomer
static bool tcp_make_room(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (s->ntcbs < MG_TCPIP_TCP_MAX) return true;
  for (struct tcpip_tcb *t = s->tcbs; t != NULL; t = t->next) {
    if (t->phase == TCPIP_TCB_ORPHAN && (t->dead || t->tcp.state == TCP_STATE_TIME_WAIT)) {
      tcp_free(t);
      return true;
    }
  }
  return false;
}

// A connection with its buffers in one block; NULL with *why at the limit or out of memory
static struct tcpip_tcb *tcp_new(struct mg_tcpip_if *ifp, uint32_t rem_ip, uint16_t rem_port, uint16_t loc_port,
                                 const char **why) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (!tcp_make_room(ifp)) {
    *why = "too many TCP connections (MG_TCPIP_TCP_MAX)";
    return NULL;
  }
  struct tcpip_tcb *tcb = (struct tcpip_tcb *) mg_calloc(1, sizeof(*tcb) + MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX);
  if (tcb == NULL) {
    *why = "out of memory for a TCP connection's buffers";
    return NULL;
  }
  uint8_t *rx = tcp_rx_mem(tcb);
  tcp_init(&tcb->tcp, NULL, &tcp_ops, tcb, rx, MG_TCPIP_TCP_RX, rx + MG_TCPIP_TCP_RX, MG_TCPIP_TCP_TX);
  size_t tso = tcpip_tso_max(ifp), headers = TCPIP_ETH_HDR + TCPIP_IP_HDR + TCPIP_TCP_HDR;
  if (MG_ENABLE_TCPIP_OFFLOAD && tso > headers) tcb->tcp.seg_max = (uint32_t) (tso - headers);  // Data segments carry no options
  tcb->ifp = ifp;
  tcb->rem_ip = rem_ip, tcb->rem_port = rem_port, tcb->loc_port = loc_port;
  tcb->next = s->tcbs;
  s->tcbs = tcb;
  s->ntcbs++;
  return tcb;
}

static struct tcpip_tcb *tcp_find(struct mg_tcpip_if *ifp, uint32_t rem_ip, uint16_t rem_port, uint16_t loc_port) {
  for (struct tcpip_tcb *t = tcpip_state(ifp)->tcbs; t != NULL; t = t->next) {
    if (!t->dead && t->rem_ip == rem_ip && t->rem_port == rem_port && t->loc_port == loc_port) return t;
  }
  return NULL;
}

// RFC 9293 3.10.7.1: a segment for no connection gets a reset (unless it is one)
static void tcp_refuse(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_tcp *in) {
  struct tcpip_tcb fake;
  memset(&fake, 0, sizeof(fake));
  fake.ifp = ifp, fake.rem_ip = ip->src, fake.rem_port = in->sport, fake.loc_port = in->dport;
  struct tcp_seg rst;
  if (tcp_reset_for(&in->seg, &rst)) tcp_emit(&fake, &rst);
}

static unsigned tcp_backlog_count(struct mg_tcpip_if *ifp, uint16_t port) {
  unsigned n = 0;
  for (struct tcpip_tcb *t = tcpip_state(ifp)->tcbs; t != NULL; t = t->next) {
    n += t->phase == TCPIP_TCB_BACKLOG && t->loc_port == port;
  }
  return n;
}

// A SYN for a listener. A full backlog drops it (the peer's SYN comes again, as with a
// kernel's full queue); the connection limit or memory refuses it with a reset
static void tcp_listen_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_tcp *in) {
  const char *why = NULL;
  if (tcp_backlog_count(ifp, in->dport) >= MG_TCPIP_TCP_BACKLOG) {
    ifp->counters.drop_no_mem++;
    return;
  }
  struct tcpip_tcb *tcb = tcp_new(ifp, ip->src, in->sport, in->dport, &why);
  if (tcb == NULL) {
    MG_DEBUG(("SYN from %M refused: %s", mg_print_ip4, &ip->src, why));
    ifp->counters.drop_no_mem++;
    tcp_refuse(ifp, ip, in);
    return;
  }
  tcb->phase = TCPIP_TCB_BACKLOG;
  uint64_t now = mg_millis();
  tcp_accept(&tcb->tcp, &in->seg, tcp_new_iss(now), now);
}

void tcpip_tcp_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_tcp *tcp) {
  struct tcpip_tcb *tcb = tcp_find(ifp, ip->src, tcp->sport, tcp->dport);
  uint8_t flags = tcp->seg.flags;
  if (tcb != NULL) {
    if (flags & TCP_RST) ifp->counters.tcp_resets++;
    tcp_input(&tcb->tcp, &tcp->seg, mg_millis());
    return;
  }
  bool syn = (flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN;
  if (syn && tcpip_be_tcp_listener(ifp, tcp->dport) != NULL) {
    tcp_listen_input(ifp, ip, tcp);
    return;
  }
  ifp->counters.drop_no_port++;
  tcp_refuse(ifp, ip, tcp);
}

static void tcp_start(struct tcpip_tcb *tcb, uint64_t now) {
  tcb->resolving = false;
  tcp_connect(&tcb->tcp, tcp_new_iss(now), now);
}

struct tcpip_tcb *tcpip_tcp_connect(struct mg_tcpip_if *ifp, struct mg_connection *c, uint16_t loc_port,
                                    const char **why) {
  uint32_t dst = c->rem.addr.ip4;
  uint32_t hop = ((dst ^ ifp->ip) & ifp->mask) == 0 ? dst : ifp->gw;
  if (hop == 0) {
    *why = "no route: the address is off the link and there is no gateway";
    return NULL;
  }
  struct tcpip_tcb *tcb = tcp_new(ifp, dst, c->rem.port, loc_port, why);
  if (tcb == NULL) return NULL;
  tcb->phase = TCPIP_TCB_OPEN;
  tcb->c = c;
  uint64_t now = mg_millis();
  if (tcpip_arp_lookup(ifp, hop) != NULL) {
    tcp_start(tcb, now);
  } else {
    tcb->resolving = true;
    tcb->arp_until = now + TCP_ARP_WAIT_MS;
    tcpip_arp_resolve(ifp, hop);
  }
  return tcb;
}

static struct tcpip_tcb *tcp_backlog_first(struct mg_tcpip_if *ifp, uint16_t port) {
  struct tcpip_tcb *first = NULL;  // The list is newest first: the last match waited longest
  for (struct tcpip_tcb *t = tcpip_state(ifp)->tcbs; t != NULL; t = t->next) {
    if (t->phase == TCPIP_TCB_BACKLOG && t->loc_port == port && t->established && !t->dead) first = t;
  }
  return first;
}

bool tcpip_tcp_backlog_ready(struct mg_tcpip_if *ifp, uint16_t port) {
  return tcp_backlog_first(ifp, port) != NULL;
}

struct tcpip_tcb *tcpip_tcp_accept(struct mg_tcpip_if *ifp, uint16_t port, struct mg_connection *c) {
  struct tcpip_tcb *tcb = tcp_backlog_first(ifp, port);
  if (tcb == NULL) return NULL;
  tcb->phase = TCPIP_TCB_OPEN;
  tcb->c = c;
  return tcb;
}

void tcpip_tcp_backlog_drop(struct mg_tcpip_if *ifp, uint16_t port) {
  struct tcpip_tcb *t = tcpip_state(ifp)->tcbs, *next;
  for (; t != NULL; t = next) {
    next = t->next;
    if (t->phase != TCPIP_TCB_BACKLOG || t->loc_port != port) continue;
    tcp_abort(&t->tcp);
    tcp_free(t);
  }
}

// Unread input, or a handshake not done: a reset, as a socket's close() does then
void tcpip_tcp_detach(struct tcpip_tcb *tcb) {
  tcb->c = NULL;
  tcb->phase = TCPIP_TCB_ORPHAN;
  if (tcb->dead) {
    tcp_free(tcb);
  } else if (tcb->resolving || !tcb->established || tcp_readable(&tcb->tcp) > 0) {
    tcp_abort(&tcb->tcp);
    tcp_free(tcb);
  } else {
    tcp_shutdown(&tcb->tcp, mg_millis());
  }
}

bool tcpip_tcp_port_used(struct mg_tcpip_if *ifp, uint16_t port) {
  for (struct tcpip_tcb *t = tcpip_state(ifp)->tcbs; t != NULL; t = t->next) {
    if (t->loc_port == port) return true;
  }
  return false;
}

static void tcp_arp_wait(struct tcpip_tcb *tcb, uint64_t now) {
  struct mg_tcpip_if *ifp = tcb->ifp;
  uint32_t hop = ((tcb->rem_ip ^ ifp->ip) & ifp->mask) == 0 ? tcb->rem_ip : ifp->gw;
  if (tcpip_arp_lookup(ifp, hop) != NULL) {
    tcp_start(tcb, now);
  } else if (now >= tcb->arp_until) {
    tcb->resolving = false;
    tcb->dead = true;
    tcb->reason = "no ARP reply from the next hop";
  }
}

void tcpip_tcp_poll(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_tcb *t = tcpip_state(ifp)->tcbs, *next;
  for (; t != NULL; t = next) {
    next = t->next;
    if (t->resolving) tcp_arp_wait(t, now);
    uint64_t due = tcp_next_deadline(&t->tcp);
    if (!t->dead && due != 0 && now >= due) tcp_timer(&t->tcp, now);
    tcp_account(t);
    if (t->dead && t->phase != TCPIP_TCB_OPEN) tcp_free(t);
  }
}

uint64_t tcpip_tcp_deadline(struct mg_tcpip_if *ifp) {
  uint64_t t = 0;
  for (struct tcpip_tcb *tcb = tcpip_state(ifp)->tcbs; tcb != NULL; tcb = tcb->next) {
    uint64_t due = tcb->resolving ? tcb->arp_until : tcb->dead ? 0 : tcp_next_deadline(&tcb->tcp);
    if (due != 0 && (t == 0 || due < t)) t = due;
  }
  return t;
}

void tcpip_tcp_free_all(struct mg_tcpip_if *ifp) {
  while (tcpip_state(ifp)->tcbs != NULL) tcp_free(tcpip_state(ifp)->tcbs);
}
#endif  // MG_ENABLE_TCPIP
