// A small SNTP server for tests: a UDP listener on 127.0.0.1 and an ephemeral port in
// the test's own manager, answering the way a test asks (RFC 4330 section 5 written
// out by hand, independent of core/net/sntp.c). Public API only: the unit tests and
// the compat tests (dist/mongoose.h) both include it.
#ifndef SNTP_PEER_H
#define SNTP_PEER_H

#define SNTP_PEER_UNIX_TO_NTP 2208988800UL  // Seconds from 1900 to 1970
#define SNTP_PEER_2025 1735689600UL         // 2025-01-01T00:00:00Z, Unix seconds

enum sntp_peer_mode {
  SNTP_PEER_ANSWER,           // One good answer
  SNTP_PEER_SILENT,           // Never answers
  SNTP_PEER_FORGED_FIRST,     // An answer with another origin (2024), then the good one
  SNTP_PEER_KISS,             // A kiss-of-death (stratum 0, "RATE") echoing the origin
  SNTP_PEER_FORGED_KISS_FIRST, // A kiss-of-death with another origin, then the good answer
  SNTP_PEER_SLOW              // The good answer, delay_ms after the request came
};

struct sntp_peer {
  struct mg_connection *lsn;
  enum sntp_peer_mode mode;
  uint32_t unix_secs;        // What the good answer says (transmit and receive time)
  uint32_t frac;             // Fraction of a second of its transmit time, 2^-32 units
  uint32_t rx_frac;          // And of its receive time: the server held the request for the difference
  unsigned delay_ms;         // SNTP_PEER_SLOW: how long the answer waits
  unsigned leap;             // Leap indicator of the answers (3: "clock not synchronised")
  unsigned char held[48];    // SNTP_PEER_SLOW: the request it waits on
  uint64_t held_at;          // mg_millis() when that came; 0: none
  int requests;              // Datagrams received
  unsigned char last[64];    // The last of them
  size_t last_len;
};

static inline void sntp_peer_put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char) (v >> 24), p[1] = (unsigned char) (v >> 16);
  p[2] = (unsigned char) (v >> 8), p[3] = (unsigned char) v;
}

// A mode-4 reply to req; stratum 0 makes it a kiss-of-death, forged a wrong origin
static inline void sntp_peer_reply(struct mg_connection *c, const struct sntp_peer *p, const unsigned char *req,
                                   unsigned char stratum, bool forged, uint32_t unix_secs) {
  unsigned char r[48];
  uint32_t ntp = (uint32_t) (unix_secs + SNTP_PEER_UNIX_TO_NTP);
  memset(r, 0, sizeof(r));
  r[0] = (unsigned char) ((p->leap & 3) << 6 | 4 << 3 | 4);  // LI, version 4, mode 4 (server)
  r[1] = stratum;
  r[2] = 6, r[3] = 0xec;           // Poll 64 s, precision about 1 us
  memcpy(r + 12, stratum == 0 ? "RATE" : "LOCL", 4);
  sntp_peer_put32(r + 16, ntp - 10);      // Reference time
  memcpy(r + 24, req + 40, 8);            // Origin: the request's transmit time
  if (forged) r[31] ^= 0x5a;
  sntp_peer_put32(r + 32, ntp);           // Receive time
  sntp_peer_put32(r + 36, p->rx_frac);
  sntp_peer_put32(r + 40, ntp);           // Transmit time
  sntp_peer_put32(r + 44, p->frac);
  if (stratum == 0) memset(r + 32, 0, 16);  // RFC 4330 section 8: a KoD carries no time
  mg_send(c, r, sizeof(r));
}

static inline void sntp_peer_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct sntp_peer *p = (struct sntp_peer *) c->fn_data;
  (void) ev_data;
  if (ev == MG_EV_POLL && p->held_at != 0 && mg_millis() - p->held_at >= p->delay_ms) {
    p->held_at = 0;
    sntp_peer_reply(c, p, p->held, 2, false, p->unix_secs);  // To c->rem: the last sender
  }
  if (ev != MG_EV_READ) return;
  p->requests++;
  p->last_len = c->recv.len < sizeof(p->last) ? c->recv.len : sizeof(p->last);
  memcpy(p->last, c->recv.buf, p->last_len);
  if (c->recv.len >= 48 && p->mode == SNTP_PEER_SLOW) {
    memcpy(p->held, c->recv.buf, sizeof(p->held));
    p->held_at = mg_millis();
  } else if (c->recv.len >= 48 && p->mode != SNTP_PEER_SILENT) {
    const unsigned char *req = c->recv.buf;
    if (p->mode == SNTP_PEER_FORGED_FIRST) sntp_peer_reply(c, p, req, 2, true, p->unix_secs - 86400 * 365);
    if (p->mode == SNTP_PEER_FORGED_KISS_FIRST) sntp_peer_reply(c, p, req, 0, true, 0);
    if (p->mode == SNTP_PEER_KISS) sntp_peer_reply(c, p, req, 0, false, 0);
    else sntp_peer_reply(c, p, req, 2, false, p->unix_secs);
  }
  c->recv.len = 0;
}

// Listens on 127.0.0.1, an ephemeral port; its URL into url
static inline bool sntp_peer_start(struct mg_mgr *mgr, struct sntp_peer *p, enum sntp_peer_mode mode, char *url,
                                   size_t len) {
  memset(p, 0, sizeof(*p));
  p->mode = mode;
  p->unix_secs = SNTP_PEER_2025;
  p->frac = p->rx_frac = 0x80000000U;  // Half a second, and no time spent on the request
  p->delay_ms = 400;
  p->lsn = mg_listen(mgr, "udp://127.0.0.1:0", sntp_peer_fn, p);
  if (p->lsn == NULL) return false;
  mg_snprintf(url, len, "udp://127.0.0.1:%u", (unsigned) mg_ntohs(p->lsn->loc.port));
  return true;
}

// Unix milliseconds of the good answer's transmit time
static inline uint64_t sntp_peer_answer_ms(const struct sntp_peer *p) {
  return (uint64_t) p->unix_secs * 1000 + (uint64_t) (((uint64_t) p->frac * 1000) >> 32);
}

// What a client of mg_sntp_connect saw (its fn_data)
struct sntp_seen {
  int times;             // MG_EV_SNTP_TIME events
  uint64_t ms;           // The last one's time
  uint64_t now_then;     // mg_now() inside that handler
  uint64_t millis_then;  // mg_millis() there
  int errors;
  char error[160];       // The last MG_EV_ERROR's text
  bool closed;
};

static inline void sntp_seen_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct sntp_seen *s = (struct sntp_seen *) c->fn_data;
  if (ev == MG_EV_SNTP_TIME) {
    s->times++;
    s->ms = *(uint64_t *) ev_data;  // 7.22: "a uint64_t containing the epoch in milliseconds"
    s->now_then = mg_now();
    s->millis_then = mg_millis();
  } else if (ev == MG_EV_ERROR) {
    s->errors++;
    mg_snprintf(s->error, sizeof(s->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    s->closed = true;
  }
}

#endif  // SNTP_PEER_H
