// DHCP client (RFC 2131 4.4): discover, request, bound, renewing at T1, rebinding at
// T2, lease over; retransmissions with back-off, and a server that never answers is said once.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP && MG_ENABLE_TCPIP_DHCP
enum {
  DHCP_CLIENT_PORT = 68,
  DHCP_SERVER_PORT = 67,
  DHCP_BACKOFF_MIN_MS = 4000,   // 4 s, doubling up to 64 s, +-1 s (RFC 2131 4.1)
  DHCP_BACKOFF_MAX_MS = 64000,
  DHCP_REQUEST_TRIES = 4,       // REQUESTs in REQUESTING before starting over
  DHCP_SILENCE_TRIES = 4,       // DISCOVERs unanswered before the log line
  DHCP_RENEW_MIN_MS = 60000,    // Retransmission in RENEWING and REBINDING, at least (4.4.5)
};

static struct tcpip_dhcp *dhcp_of(struct mg_tcpip_if *ifp) {
  return &tcpip_state(ifp)->dhcp;
}

static uint64_t dhcp_backoff(unsigned tries) {
  uint64_t ms = tries >= 4 ? DHCP_BACKOFF_MAX_MS : (uint64_t) DHCP_BACKOFF_MIN_MS << tries;
  uint16_t r;
  mg_random(&r, sizeof(r));
  return ms - 1000 + r % 2001;
}

// Broadcast while we have no lease to speak from; unicast to the server when renewing
static void dhcp_send(struct mg_tcpip_if *ifp, uint8_t type, bool unicast) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  struct tcpip_dhcp_msg m;
  memset(&m, 0, sizeof(m));
  m.type = type, m.xid = d->xid;
  memcpy(m.chaddr, ifp->mac, 6);
  bool bound = d->phase >= TCPIP_DHCP_BOUND;
  m.ciaddr = bound ? ifp->ip : 0;  // RENEWING and REBINDING speak from the address (4.3.2)
  if (!bound && type == TCPIP_DHCP_REQUEST) m.requested = d->offered, m.server_id = d->server;
  size_t n = tcpip_dhcp_put(tcpip_udp_payload(ifp), &m);
  tcpip_udp_send(ifp, unicast ? d->server : 0xffffffff, mg_htons(DHCP_CLIENT_PORT), mg_htons(DHCP_SERVER_PORT), n);
  d->tries++;
}

static void dhcp_discover(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  if (d->phase != TCPIP_DHCP_SELECTING) {
    d->phase = TCPIP_DHCP_SELECTING, d->tries = 0;
    mg_random(&d->xid, sizeof(d->xid));
    tcpip_set_state(ifp, MG_TCPIP_STATE_UP);
  }
  if (d->tries == DHCP_SILENCE_TRIES && !d->silence_logged) {
    MG_ERROR(("DHCP: no server answers; asking again every %d s", DHCP_BACKOFF_MAX_MS / 1000));
    d->silence_logged = true;
  }
  d->next_at = now + dhcp_backoff(d->tries);
  dhcp_send(ifp, TCPIP_DHCP_DISCOVER, false);
}

// The address, mask, gateway and DNS server go; connections bound to it fail on their own
static void dhcp_drop_lease(struct mg_tcpip_if *ifp, const char *why) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  if (ifp->ip != 0) MG_ERROR(("DHCP: %s: address %M given up", why, mg_print_ip4, &ifp->ip));
  ifp->ip = ifp->mask = ifp->gw = 0;
  d->phase = TCPIP_DHCP_INIT;
  d->t1_at = d->t2_at = d->end_at = 0;
}

static void dhcp_set_dns(struct mg_tcpip_if *ifp, uint32_t dns) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  struct mg_mgr *mgr = ifp->mgr;
  if (dns == 0 || (mgr->dns4.url != NULL && mgr->dns4.url != d->dns_url)) return;  // The application's own stays
  mg_snprintf(d->dns_url, sizeof(d->dns_url), "udp://%M:53", mg_print_ip4, &dns);
  mgr->dns4.url = d->dns_url;
}

static uint64_t dhcp_at(uint64_t now, uint32_t seconds) {
  return now + (uint64_t) seconds * 1000;
}

// T1 and T2 default to half and seven eighths of the lease (4.4.5); 0xffffffff is forever
static void dhcp_bind(struct mg_tcpip_if *ifp, const struct tcpip_dhcp_msg *m, uint64_t now) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  uint32_t lease = m->lease_s != 0 ? m->lease_s : 3600;
  bool renewed = d->phase != TCPIP_DHCP_REQUESTING && ifp->ip == m->yiaddr;
  ifp->ip = m->yiaddr;
  ifp->mask = m->mask != 0 ? m->mask : MG_IPV4(255, 255, 255, 0);
  ifp->gw = m->router;
  if (m->server_id != 0) d->server = m->server_id;
  dhcp_set_dns(ifp, m->dns);
  d->phase = TCPIP_DHCP_BOUND, d->tries = 0, d->silence_logged = false;
  if (lease == 0xffffffff) {
    d->t1_at = d->t2_at = d->end_at = 0;
  } else {
    d->t1_at = dhcp_at(now, m->t1_s != 0 ? m->t1_s : lease / 2);
    d->t2_at = dhcp_at(now, m->t2_s != 0 ? m->t2_s : lease / 8 * 7);
    d->end_at = dhcp_at(now, lease);
  }
  if (!renewed) MG_INFO(("DHCP: %M for %lu s from %M", mg_print_ip4, &ifp->ip, (unsigned long) lease, mg_print_ip4, &d->server));
}

static void dhcp_on_offer(struct mg_tcpip_if *ifp, const struct tcpip_dhcp_msg *m, uint64_t now) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  if (m->yiaddr == 0 || m->server_id == 0) return;
  d->offered = m->yiaddr, d->server = m->server_id;
  d->phase = TCPIP_DHCP_REQUESTING, d->tries = 0;
  d->next_at = now + dhcp_backoff(0);
  tcpip_set_state(ifp, MG_TCPIP_STATE_REQ);
  dhcp_send(ifp, TCPIP_DHCP_REQUEST, false);
}

void tcpip_dhcp_input(struct mg_tcpip_if *ifp, const struct tcpip_udp *udp) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  struct tcpip_dhcp_msg m;
  uint64_t now = mg_millis();
  if (tcpip_dhcp_parse(udp->data, udp->len, &m) != TCPIP_CODEC_OK) {
    ifp->counters.drop_malformed++;
    return;
  }
  if (m.op != 2 || m.xid != d->xid || memcmp(m.chaddr, ifp->mac, 6) != 0) {
    ifp->counters.drop_other++;  // Another client's exchange, or an old one of ours
    return;
  }
  bool waiting_ack = d->phase == TCPIP_DHCP_REQUESTING || d->phase == TCPIP_DHCP_RENEWING ||
                     d->phase == TCPIP_DHCP_REBINDING;
  if (d->phase == TCPIP_DHCP_SELECTING && m.type == TCPIP_DHCP_OFFER) {
    dhcp_on_offer(ifp, &m, now);
  } else if (waiting_ack && m.type == TCPIP_DHCP_ACK && m.yiaddr != 0) {
    dhcp_bind(ifp, &m, now);
  } else if (waiting_ack && m.type == TCPIP_DHCP_NAK) {
    dhcp_drop_lease(ifp, "the server refused the address");
  } else {
    ifp->counters.drop_other++;
  }
}

// RENEWING and REBINDING ask again after half the time left to until, at least a minute
static void dhcp_retry_before(struct mg_tcpip_if *ifp, uint64_t until, uint64_t now, bool unicast) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  uint64_t left = until > now ? until - now : 0;
  uint64_t wait = left / 2 > DHCP_RENEW_MIN_MS ? left / 2 : DHCP_RENEW_MIN_MS;
  d->next_at = now + (wait < left ? wait : left);
  dhcp_send(ifp, TCPIP_DHCP_REQUEST, unicast);
}

static void dhcp_bound_timer(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  if (d->end_at == 0) return;  // Forever
  if (now >= d->end_at) {
    dhcp_drop_lease(ifp, "the lease ran out");
  } else if (now >= d->t2_at && d->phase != TCPIP_DHCP_REBINDING) {
    d->phase = TCPIP_DHCP_REBINDING, d->tries = 0;
    dhcp_retry_before(ifp, d->end_at, now, false);
  } else if (now >= d->t1_at && d->phase == TCPIP_DHCP_BOUND) {
    d->phase = TCPIP_DHCP_RENEWING, d->tries = 0;
    mg_random(&d->xid, sizeof(d->xid));
    dhcp_retry_before(ifp, d->t2_at, now, true);
  } else if (d->phase != TCPIP_DHCP_BOUND && now >= d->next_at) {
    bool renewing = d->phase == TCPIP_DHCP_RENEWING;
    dhcp_retry_before(ifp, renewing ? d->t2_at : d->end_at, now, renewing);
  }
}

void tcpip_dhcp_timer(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  if (d->phase == TCPIP_DHCP_INIT) {
    dhcp_discover(ifp, now);
  } else if (d->phase == TCPIP_DHCP_SELECTING && now >= d->next_at) {
    dhcp_discover(ifp, now);
  } else if (d->phase == TCPIP_DHCP_REQUESTING && now >= d->next_at) {
    if (d->tries >= DHCP_REQUEST_TRIES) {
      d->phase = TCPIP_DHCP_INIT;  // The server went quiet: start over
      dhcp_discover(ifp, now);
    } else {
      d->next_at = now + dhcp_backoff(d->tries);
      dhcp_send(ifp, TCPIP_DHCP_REQUEST, false);
    }
  } else if (d->phase >= TCPIP_DHCP_BOUND) {
    dhcp_bound_timer(ifp, now);
  }
}

static uint64_t dhcp_earlier(uint64_t a, uint64_t b) {
  return a == 0 || (b != 0 && b < a) ? b : a;
}

uint64_t tcpip_dhcp_deadline(struct mg_tcpip_if *ifp) {
  struct tcpip_dhcp *d = dhcp_of(ifp);
  switch (d->phase) {
    case TCPIP_DHCP_INIT: return 1;  // Now
    case TCPIP_DHCP_BOUND: return d->t1_at;
    case TCPIP_DHCP_RENEWING: return dhcp_earlier(d->next_at, d->t2_at);
    case TCPIP_DHCP_REBINDING: return dhcp_earlier(d->next_at, d->end_at);
    default: return d->next_at;
  }
}

void tcpip_dhcp_link(struct mg_tcpip_if *ifp, bool up) {
  if (!up) dhcp_drop_lease(ifp, "link down");
  dhcp_of(ifp)->phase = TCPIP_DHCP_INIT;
}

void tcpip_dhcp_free(struct mg_tcpip_if *ifp) {
  struct mg_mgr *mgr = ifp->mgr;
  if (mgr != NULL && mgr->dns4.url == dhcp_of(ifp)->dns_url) mgr->dns4.url = NULL;
}
#endif  // MG_ENABLE_TCPIP && MG_ENABLE_TCPIP_DHCP
