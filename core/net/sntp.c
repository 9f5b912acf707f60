// The SNTP client (RFC 4330) over a UDP connection: one 48-byte request at a time,
// an answer taken only if it echoes that request, and the boot timestamp set from it.
#include "mg_internal.h"

#define SNTP_PACKET_LEN 48
#define SNTP_PORT 123
#define SNTP_DEFAULT_URL "udp://time.google.com:123"  // Mongoose 7.22's default
#define SNTP_NTP_TO_UNIX 2208988800LL                  // Seconds from 1900 to 1970
#define SNTP_ERA 4294967296LL                          // Seconds in an NTP era (2^32)

// What a reply is good for
enum sntp_verdict {
  SNTP_TIME,       // A time to take
  SNTP_MALFORMED,  // Not a server's reply to a client: short, another mode or version
  SNTP_KISS,       // Stratum 0: the server refuses us (RFC 4330 section 8)
  SNTP_UNSYNCED,   // Leap indicator 3 or a stratum above 15: the server has no time to give
  SNTP_NO_TIME,    // Transmit time zero or before 1970
};

struct sntp_reply {
  const uint8_t *origin;  // 8 bytes in the buffer: our request's transmit time, echoed
  int64_t receive_ms;     // Server's Unix ms when the request arrived; -1: not given
  int64_t transmit_ms;    // Server's Unix ms when the reply left; -1: not given
  char kiss[5];           // A kiss-of-death's code ("RATE", "DENY"), printable
};

// The client's per-connection state, in c->pstate
struct sntp_state {
  uint8_t origin[8];  // Transmit field of the request in flight
  uint64_t sent_at;   // mg_millis() when it went out
  bool waiting;       // A request is out and unanswered
};
typedef char sntp_state_fits_pstate[sizeof(struct sntp_state) <= sizeof(((struct mg_connection *) 0)->pstate) ? 1 : -1];

static struct sntp_state *sntp_state(struct mg_connection *c) {
  return (struct sntp_state *) (void *) &c->pstate;
}

static uint32_t sntp_be32(const uint8_t *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

// An NTP timestamp (seconds since 1900, 32-bit fraction) in Unix ms, -1 for zero
// ("not given") and for times before 1970. The seconds wrap in 2036: RFC 4330
// section 3 reads a clear top bit as era 1 (2036-2104), a set one as era 0 (1968-2036).
static int64_t sntp_unix_ms(const uint8_t *p) {
  uint32_t secs = sntp_be32(p), frac = sntp_be32(p + 4);
  if (secs == 0 && frac == 0) return -1;
  int64_t unix_secs = (int64_t) secs - SNTP_NTP_TO_UNIX + ((secs & 0x80000000U) ? 0 : SNTP_ERA);
  if (unix_secs < 0) return -1;
  return unix_secs * 1000 + (int64_t) (((uint64_t) frac * 1000) >> 32);
}

// A reply read with RFC 4330 section 5's checks, in the order that says most
static enum sntp_verdict sntp_read(const uint8_t *buf, size_t len, struct sntp_reply *r) {
  memset(r, 0, sizeof(*r));
  if (buf == NULL || len < SNTP_PACKET_LEN) return SNTP_MALFORMED;
  unsigned leap = buf[0] >> 6, version = (buf[0] >> 3) & 7, mode = buf[0] & 7, stratum = buf[1];
  if (mode != 4 || (version != 3 && version != 4)) return SNTP_MALFORMED;  // 5 is broadcast, not an answer
  r->origin = buf + 24;
  r->receive_ms = sntp_unix_ms(buf + 32);
  r->transmit_ms = sntp_unix_ms(buf + 40);
  if (stratum == 0) {
    for (int i = 0; i < 4; i++) r->kiss[i] = buf[12 + i] >= 0x20 && buf[12 + i] < 0x7f ? (char) buf[12 + i] : '?';
    return SNTP_KISS;
  }
  if (leap == 3 || stratum > 15) return SNTP_UNSYNCED;
  return r->transmit_ms < 0 ? SNTP_NO_TIME : SNTP_TIME;
}

int64_t mg_sntp_parse(const unsigned char *buf, size_t len) {
  struct sntp_reply r;
  return sntp_read(buf, len, &r) == SNTP_TIME ? r.transmit_ms : -1;
}

// The server's time at the reply's arrival: its transmit time plus half the round
// trip less the time the server held the request (RFC 4330 section 5's delay d)
static uint64_t sntp_arrival_ms(const struct sntp_reply *r, uint64_t sent_at, uint64_t now) {
  uint64_t round_trip = mg_ms_since(now, sent_at), held = 0;
  if (r->receive_ms >= 0 && r->receive_ms <= r->transmit_ms) held = (uint64_t) (r->transmit_ms - r->receive_ms);
  uint64_t delay = round_trip > held ? round_trip - held : 0;
  return (uint64_t) r->transmit_ms + delay / 2;
}

// LI 0, version 4, mode 3 (client), everything else zero but the transmit time
// (RFC 4330 section 5). That is random rather than our clock: it only has to come
// back in the origin field, and an off-path forger cannot guess it.
static void sntp_send(struct mg_connection *c) {
  struct sntp_state *st = sntp_state(c);
  uint8_t req[SNTP_PACKET_LEN];
  memset(req, 0, sizeof(req));
  req[0] = (0 << 6) | (4 << 3) | 3;
  mg_random(st->origin, sizeof(st->origin));
  memcpy(req + 40, st->origin, sizeof(st->origin));
  st->sent_at = mg_millis();
  st->waiting = true;
  mg_send(c, req, sizeof(req));
}

static void sntp_take_time(struct mg_connection *c, const struct sntp_reply *r) {
  uint64_t now = mg_millis(), epoch_ms = sntp_arrival_ms(r, sntp_state(c)->sent_at, now);
  if (epoch_ms < now) {  // A server in 1970: no boot timestamp to be had from it
    mg_error(c, "SNTP time %llu ms is before boot", (unsigned long long) epoch_ms);
    return;
  }
  mg_boot_timestamp_ms = epoch_ms - now;
  MG_DEBUG(("%lu SNTP time %llu ms, round trip %llu ms", c->id, (unsigned long long) epoch_ms,
            (unsigned long long) mg_ms_since(now, sntp_state(c)->sent_at)));
  c->is_closing = 1;  // First: the exchange is over, mg_sntp_request in the handler does nothing
  mg_call(c, MG_EV_SNTP_TIME, &epoch_ms);
}

// One datagram. Replies that do not echo the request in flight are ignored (RFC 4330
// section 5): they are strays or forgeries, and the real answer may still come.
static void sntp_on_datagram(struct mg_connection *c, const uint8_t *buf, size_t len) {
  struct sntp_state *st = sntp_state(c);
  struct sntp_reply r;
  enum sntp_verdict v = sntp_read(buf, len, &r);
  if (!st->waiting || v == SNTP_MALFORMED || memcmp(r.origin, st->origin, sizeof(st->origin)) != 0) {
    MG_DEBUG(("%lu SNTP datagram of %lu bytes ignored: %s", c->id, (unsigned long) len,
              !st->waiting ? "no request waiting" : v == SNTP_MALFORMED ? "not a server reply" : "not our request's"));
    return;
  }
  st->waiting = false;
  if (v == SNTP_KISS) mg_error(c, "SNTP kiss of death %s", r.kiss);  // Section 8: stop asking it
  else if (v == SNTP_UNSYNCED) mg_error(c, "SNTP server not synchronised");
  else if (v == SNTP_NO_TIME) mg_error(c, "SNTP reply without a usable time");
  else sntp_take_time(c, &r);
}

static void sntp_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct sntp_state *st = sntp_state(c);
  if (ev == MG_EV_OPEN && c->rem.port == 0) {
    c->rem.port = mg_htons(SNTP_PORT);  // The URL had none
  } else if (ev == MG_EV_CONNECT) {
    sntp_send(c);
  } else if (ev == MG_EV_READ) {
    sntp_on_datagram(c, c->recv.buf, c->recv.len);  // One read is one datagram
    c->recv.len = 0;
  } else if (ev == MG_EV_POLL && st->waiting && mg_ms_since(*(uint64_t *) ev_data, st->sent_at) >= MG_SNTP_TIMEOUT_MS) {
    mg_error(c, "SNTP timeout");
  }
}

struct mg_connection *mg_sntp_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  if (url == NULL) url = SNTP_DEFAULT_URL;
  if (strlen(url) < 6 || mg_strcasecmp(mg_str_n(url, 6), mg_str("udp://")) != 0) {
    MG_ERROR(("cannot use '%s' for SNTP: expected udp://HOST[:PORT]", url));
    return NULL;
  }
  return mg_connect_svc(mgr, url, fn, fn_data, sntp_handler, NULL);
}

void mg_sntp_request(struct mg_connection *c) {
  if (c == NULL || c->pfn != sntp_handler) {
    MG_ERROR(("not a connection of mg_sntp_connect: no SNTP request sent"));
  } else if (c->is_closing || c->is_resolving || c->is_connecting) {
    // Over, or not connected yet: the connection's own request goes on MG_EV_CONNECT
  } else if (sntp_state(c)->waiting) {
    MG_DEBUG(("%lu SNTP request not sent: the last one is still waiting for its answer", c->id));
  } else {
    sntp_send(c);
  }
}
