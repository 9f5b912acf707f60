// ARP (RFC 826, RFC 1122 2.3.2): a fixed cache with aging, requests with retries, replies,
// gratuitous announcements, and one frame per destination held while its address resolves.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
static const uint8_t arp_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct tcpip_arp_entry *arp_find(struct tcpip_state *s, uint32_t ip) {
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) {
    if (s->arp[i].state != TCPIP_ARP_FREE && s->arp[i].ip == ip) return &s->arp[i];
  }
  return NULL;
}

static void arp_release_held(struct tcpip_state *s, struct tcpip_arp_entry *e) {
  if (e->held >= 0) s->held[e->held].len = 0;
  e->held = -1;
}

static void arp_free(struct tcpip_state *s, struct tcpip_arp_entry *e) {
  arp_release_held(s, e);
  e->state = TCPIP_ARP_FREE;
}

// A free entry, else the one learned longest ago, else the oldest still resolving
// (its held frame is lost, counted): the cache never grows
static struct tcpip_arp_entry *arp_take_entry(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  struct tcpip_arp_entry *known = NULL, *resolving = NULL;
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) {
    struct tcpip_arp_entry *e = &s->arp[i];
    if (e->state == TCPIP_ARP_FREE) return e;
    struct tcpip_arp_entry **oldest = e->state == TCPIP_ARP_KNOWN ? &known : &resolving;
    if (*oldest == NULL || e->stamp < (*oldest)->stamp) *oldest = e;
  }
  struct tcpip_arp_entry *e = known != NULL ? known : resolving;
  if (e->held >= 0) ifp->counters.drop_no_mem++;
  arp_free(s, e);
  return e;
}

static void arp_learn(struct tcpip_arp_entry *e, uint32_t ip, const uint8_t *mac, uint64_t now) {
  e->ip = ip;
  memcpy(e->mac, mac, 6);
  e->state = TCPIP_ARP_KNOWN;
  e->stamp = now;
}

static void arp_send_packet(struct mg_tcpip_if *ifp, const uint8_t *eth_dst, const struct tcpip_arp *arp) {
  uint8_t *f = tcpip_tx_buf(ifp);
  tcpip_eth_put(f, eth_dst, ifp->mac, TCPIP_ETH_ARP);
  tcpip_arp_put(f + TCPIP_ETH_HDR, arp);
  tcpip_tx(ifp, f, TCPIP_ETH_HDR + TCPIP_ARP_LEN);
}

static void arp_request(struct mg_tcpip_if *ifp, uint32_t target) {
  struct tcpip_arp req;
  memset(&req, 0, sizeof(req));
  req.op = TCPIP_ARP_REQUEST;
  memcpy(req.sha, ifp->mac, 6);
  req.spa = ifp->ip, req.tpa = target;
  arp_send_packet(ifp, arp_broadcast, &req);
}

// RFC 5227 2.3's announcement: a request for our own address, from it
void tcpip_arp_announce(struct mg_tcpip_if *ifp) {
  arp_request(ifp, ifp->ip);
}

static struct tcpip_arp_entry *arp_new_entry(struct mg_tcpip_if *ifp, uint32_t ip) {
  struct tcpip_arp_entry *e = arp_take_entry(ifp);
  e->ip = ip;
  e->state = TCPIP_ARP_RESOLVING;
  e->tries = 0;
  return e;
}

static void arp_ask(struct mg_tcpip_if *ifp, struct tcpip_arp_entry *e, uint64_t now) {
  e->tries++;
  e->stamp = now;
  arp_request(ifp, e->ip);
}

void tcpip_arp_resolve(struct mg_tcpip_if *ifp, uint32_t ip) {
  if (arp_find(tcpip_state(ifp), ip) == NULL) arp_ask(ifp, arp_new_entry(ifp, ip), mg_millis());
}

const uint8_t *tcpip_arp_lookup(struct mg_tcpip_if *ifp, uint32_t ip) {
  struct tcpip_arp_entry *e = arp_find(tcpip_state(ifp), ip);
  return e != NULL && e->state == TCPIP_ARP_KNOWN ? e->mac : NULL;
}

// One frame per destination: a newer one replaces the one held (UDP's retry is newer,
// TCP retransmits anyway), and when every slot is taken the new frame is dropped
static bool arp_hold(struct mg_tcpip_if *ifp, struct tcpip_arp_entry *e, const uint8_t *frame, size_t len) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (e->held < 0) {
    for (int i = 0; i < MG_TCPIP_ARP_PENDING && e->held < 0; i++) {
      if (s->held[i].len == 0) e->held = (int8_t) i;
    }
    if (e->held < 0) {
      ifp->counters.drop_no_mem++;
      return false;
    }
  } else {
    ifp->counters.drop_no_mem++;  // The older frame goes
  }
  memcpy(s->held[e->held].frame, frame, len);
  s->held[e->held].len = (uint16_t) len;
  return true;
}

bool tcpip_arp_send(struct mg_tcpip_if *ifp, uint32_t next_hop, uint8_t *frame, size_t len) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (tcpip_ip_is_broadcast(ifp, next_hop)) {
    memcpy(frame, arp_broadcast, 6);
    return tcpip_tx(ifp, frame, len);
  }
  struct tcpip_arp_entry *e = arp_find(s, next_hop);
  if (e != NULL && e->state == TCPIP_ARP_KNOWN) {
    memcpy(frame, e->mac, 6);
    return tcpip_tx(ifp, frame, len);
  }
  if (e == NULL) e = arp_new_entry(ifp, next_hop);
  bool held = arp_hold(ifp, e, frame, len);  // Before the request: both use the transmit buffer
  if (e->tries == 0) arp_ask(ifp, e, mg_millis());
  return held;
}

// The address is known now: what waited for it goes
static void arp_resolved(struct mg_tcpip_if *ifp, struct tcpip_arp_entry *e) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (e->held < 0) return;
  struct tcpip_held_frame *h = &s->held[e->held];
  memcpy(h->frame, e->mac, 6);
  tcpip_tx(ifp, h->frame, h->len);
  arp_release_held(s, e);
}

static void arp_reply(struct mg_tcpip_if *ifp, const struct tcpip_arp *req) {
  struct tcpip_arp rep;
  rep.op = TCPIP_ARP_REPLY;
  memcpy(rep.sha, ifp->mac, 6);
  memcpy(rep.tha, req->sha, 6);
  rep.spa = ifp->ip, rep.tpa = req->spa;
  arp_send_packet(ifp, req->sha, &rep);
}

// Another host claims our address: say so, at most every 10 s (a peer can repeat it forever)
static void arp_conflict(struct mg_tcpip_if *ifp, const struct tcpip_arp *arp) {
  struct tcpip_state *s = tcpip_state(ifp);
  uint64_t now = mg_millis();
  ifp->counters.drop_other++;
  if (memcmp(arp->sha, ifp->mac, 6) == 0 || (s->conflict_logged != 0 && mg_ms_since(now, s->conflict_logged) < 10000))
    return;
  s->conflict_logged = now;
  MG_ERROR(("address %M is also used by %M", mg_print_ip4, &arp->spa, mg_print_mac, arp->sha));
}

// RFC 826's packet reception: update a known sender, add it when we are the target
void tcpip_arp_input(struct mg_tcpip_if *ifp, const uint8_t *payload, size_t len) {
  struct tcpip_state *s = tcpip_state(ifp);
  struct tcpip_arp arp;
  if (tcpip_arp_parse(payload, len, &arp) != TCPIP_CODEC_OK) {
    ifp->counters.drop_malformed++;
    return;
  }
  bool for_us = ifp->ip != 0 && arp.tpa == ifp->ip;
  if (ifp->ip != 0 && arp.spa == ifp->ip) {
    arp_conflict(ifp, &arp);
    return;
  }
  bool sender_ok = arp.spa != 0 && (arp.sha[0] & 1) == 0;  // Not a probe (RFC 5227), not a group MAC
  struct tcpip_arp_entry *e = sender_ok ? arp_find(s, arp.spa) : NULL;
  if (e == NULL && sender_ok && for_us) e = arp_take_entry(ifp);
  if (e != NULL) {
    arp_learn(e, arp.spa, arp.sha, mg_millis());
    arp_resolved(ifp, e);
  }
  if (for_us && arp.op == TCPIP_ARP_REQUEST) arp_reply(ifp, &arp);
  if (!for_us && e == NULL) ifp->counters.drop_other++;
}

static void arp_retry(struct mg_tcpip_if *ifp, struct tcpip_arp_entry *e, uint64_t now) {
  if (e->tries >= TCPIP_ARP_TRIES) {
    ifp->counters.arp_timeouts++;
    MG_DEBUG(("%M did not answer ARP", mg_print_ip4, &e->ip));
    arp_free(tcpip_state(ifp), e);
    return;
  }
  arp_ask(ifp, e, now);
}

void tcpip_arp_timer(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_state *s = tcpip_state(ifp);
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) {
    struct tcpip_arp_entry *e = &s->arp[i];
    if (e->state == TCPIP_ARP_RESOLVING && mg_ms_since(now, e->stamp) >= TCPIP_ARP_RETRY_MS) arp_retry(ifp, e, now);
    if (e->state == TCPIP_ARP_KNOWN && mg_ms_since(now, e->stamp) >= TCPIP_ARP_TTL_MS) arp_free(s, e);
  }
}

uint64_t tcpip_arp_deadline(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  uint64_t t = 0;
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) {
    const struct tcpip_arp_entry *e = &s->arp[i];
    if (e->state == TCPIP_ARP_FREE) continue;
    uint64_t due = e->stamp + (e->state == TCPIP_ARP_RESOLVING ? TCPIP_ARP_RETRY_MS : TCPIP_ARP_TTL_MS);
    if (t == 0 || due < t) t = due;
  }
  return t;
}

void tcpip_arp_flush(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) arp_free(s, &s->arp[i]);
}
#endif  // MG_ENABLE_TCPIP
