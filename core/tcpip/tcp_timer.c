// TCP's clocks for one connection: the retransmission timeout (RFC 6298) and the loss
// response it triggers (RFC 5681), zero-window probes, keep-alive, delayed ACK, TIME_WAIT.
#include "tcpip/tcp_internal.h"

#define TCP_RTT_CAP_MS 0xffffffU  // Keeps the arithmetic below in 32 bits

static uint32_t tcp_timer_clamp(const struct tcp_conn *c, uint32_t rto) {
  if (rto < c->conf->rto_min_ms) rto = c->conf->rto_min_ms;
  if (rto > c->conf->rto_max_ms) rto = c->conf->rto_max_ms;
  return rto;
}

void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt_ms) {
  uint32_t r = rtt_ms > TCP_RTT_CAP_MS ? TCP_RTT_CAP_MS : (uint32_t) rtt_ms;
  if (r == 0) r = 1;  // The clock's granularity: 0 would read as "no sample yet"
  if (c->srtt == 0) {
    c->srtt = r, c->rttvar = r / 2;  // RFC 6298 2.2
  } else {
    uint32_t delta = c->srtt > r ? c->srtt - r : r - c->srtt;  // 2.3, beta 1/4, alpha 1/8
    c->rttvar = (3 * c->rttvar + delta) / 4;
    c->srtt = (7 * c->srtt + r) / 8;
    if (c->srtt == 0) c->srtt = 1;
  }
  uint32_t k_rttvar = 4 * c->rttvar;
  c->rto = tcp_timer_clamp(c, c->srtt + (k_rttvar > 0 ? k_rttvar : 1));
}

void tcp_arm_rtx(struct tcp_conn *c, uint64_t now) {
  c->rtx_at = now + c->rto;
}

// The end of a flight can be lost, or the peer's ACKs held back, with nothing after it to
// bring duplicates: after 2 SRTT without an ACK one segment asks for one, long before the
// RTO. Not in recovery, nor after a timeout until new data is acknowledged, once per ACK.
void tcp_arm_tail_probe(struct tcp_conn *c, uint64_t now) {
  uint32_t min = c->conf->tail_probe_min_ms;
  if (c->probe_at != 0 || c->probe_sent || min == 0 || c->srtt == 0 || c->rtx_at == 0) return;
  if (c->in_recovery || c->retries > 0 || c->snd_nxt != c->snd_max) return;
  uint64_t pto = 2 * (uint64_t) c->srtt;
  if (pto < min) pto = min;
  if (c->snd_max - c->snd_una <= tcp_send_mss(c)) pto += TCP_DELAYED_ACK_WORST_MS;  // Its ACK may wait
  if (now + pto < c->rtx_at) c->probe_at = now + pto;
}

// RFC 8985 7.3: new data if the peer's window takes it, else the last segment again;
// cwnd and the RTO stay as they were, and the ACK it brings tells the rest
static void tcp_timer_tail_probe(struct tcp_conn *c, uint64_t now) {
  uint32_t mss = tcp_send_mss(c);
  c->probe_at = 0;
  if (c->snd_max == c->snd_una || c->in_recovery || c->snd_wnd == 0) return;
  c->probe_sent = true;
  if (tcp_unsent(c) && tcp_send_at(c, c->snd_nxt, mss, now)) return;
  uint32_t last = c->tx_len > mss ? c->tx_len - mss : 0;  // All the data is in flight
  tcp_send_at(c, c->snd_una + last, mss, now);
}

void tcp_arm_persist(struct tcp_conn *c, uint64_t now) {
  unsigned shift = c->persist_shift < 16 ? c->persist_shift : 16;
  uint64_t interval = (uint64_t) c->rto << shift;
  c->persist_at = now + (interval < c->conf->rto_max_ms ? interval : c->conf->rto_max_ms);
}

void tcp_enter_time_wait(struct tcp_conn *c, uint64_t now) {
  c->state = TCP_STATE_TIME_WAIT;
  c->rtx_at = c->persist_at = c->keepalive_at = 0;
  c->time_wait_at = now + (c->conf->time_wait_ms > 0 ? c->conf->time_wait_ms : 1);
}

void tcp_touch_keepalive(struct tcp_conn *c, uint64_t now) {
  c->ka_probes = 0;
  bool open = c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_CLOSE_WAIT;
  c->keepalive_at = open && c->conf->keepalive_ms > 0 ? now + c->conf->keepalive_ms : 0;
}

// Zero window: one byte beyond it, again and again, backed off; a peer that answers
// is never given up on (RFC 1122 4.2.2.17), one that stays silent is. A window that
// is open but too small for sender SWS avoidance: send what fits anyway.
static bool tcp_timer_persist(struct tcp_conn *c, uint64_t now) {
  c->persist_at = 0;
  if (c->snd_wnd > 0) {
    tcp_send_at(c, c->snd_nxt, tcp_send_mss(c), now);
    tcp_output(c, now);
    return true;
  }
  if (c->retries >= c->conf->max_retries) {
    tcp_close_with(c, "timed out");
    return false;
  }
  c->retries++;
  tcp_send_at(c, c->snd_una, 1, now);
  if (c->persist_shift < 16) c->persist_shift++;
  tcp_arm_persist(c, now);
  return true;
}

// RFC 6298 5.4-5.6 and RFC 5681 3.1: back off, resend the oldest, restart slow start
// from one segment; snd_nxt goes back so the rest follows as ACKs open the window
static bool tcp_timer_rtx(struct tcp_conn *c, uint64_t now) {
  c->rtx_at = c->probe_at = 0;
  if (c->snd_max == c->snd_una) {  // Nothing in flight: an emit (SYN) failed, try again
    tcp_output(c, now);
    return true;
  }
  if (c->snd_wnd == 0 && !tcp_syn_unacked(c)) return tcp_timer_persist(c, now);
  unsigned limit = tcp_syn_unacked(c) ? c->conf->max_syn_retries : c->conf->max_retries;
  if (c->retries >= limit) {
    tcp_close_with(c, "timed out");
    return false;
  }
  c->retries++;
  c->rto = tcp_timer_clamp(c, c->rto > c->conf->rto_max_ms / 2 ? c->conf->rto_max_ms : c->rto * 2);
  uint32_t mss = tcp_send_mss(c), flight = c->snd_max - c->snd_una;
  c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
  c->cwnd = mss;
  c->recover = c->snd_max;  // RFC 6582 4: no fast retransmit for what was sent before
  c->in_recovery = false;
  c->dupacks = 0;
  c->snd_nxt = c->snd_una;
  tcp_output(c, now);
  if (c->rtx_at == 0) tcp_arm_rtx(c, now);
  return true;
}

// RFC 1122 4.2.3.6: an empty segment one below snd_una makes a live peer ACK. Unanswered
// probes repeat at the retransmission timeout, backed off, max_retries times.
static bool tcp_timer_keepalive(struct tcp_conn *c, uint64_t now) {
  if (c->snd_max != c->snd_una || tcp_unsent(c)) {  // Retransmission or persist watches
    c->keepalive_at = now + c->conf->keepalive_ms;
    return true;
  }
  if (c->ka_probes >= c->conf->max_retries) {
    tcp_close_with(c, "keep-alive timed out");
    return false;
  }
  tcp_send_ctl(c, c->snd_una - 1, TCP_ACK);
  unsigned shift = c->ka_probes < 16 ? c->ka_probes : 16;
  uint64_t interval = (uint64_t) c->rto << shift;
  c->keepalive_at = now + (interval < c->conf->rto_max_ms ? interval : c->conf->rto_max_ms);
  c->ka_probes++;
  return true;
}

static bool tcp_timer_due(uint64_t at, uint64_t now) {
  return at != 0 && now >= at;
}

void tcp_timer(struct tcp_conn *c, uint64_t now) {
  if (c->state == TCP_STATE_CLOSED || c->state == TCP_STATE_LISTEN) return;
  if (tcp_timer_due(c->time_wait_at, now)) {
    tcp_close_with(c, c->state == TCP_STATE_FIN_WAIT_2 ? "timed out in FIN_WAIT_2" : tcp_reason_closed);
    return;
  }
  if (tcp_timer_due(c->rtx_at, now) && !tcp_timer_rtx(c, now)) return;
  if (tcp_timer_due(c->probe_at, now)) tcp_timer_tail_probe(c, now);
  if (tcp_timer_due(c->persist_at, now) && !tcp_timer_persist(c, now)) return;
  if (tcp_timer_due(c->keepalive_at, now) && !tcp_timer_keepalive(c, now)) return;
  if (tcp_timer_due(c->ack_at, now)) {
    c->ack_at = 0;
    if (c->ack_pending) tcp_send_ack(c);
  }
  tcp_flush_events(c);
}

static uint64_t tcp_timer_earliest(uint64_t a, uint64_t b) {
  return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

uint64_t tcp_next_deadline(const struct tcp_conn *c) {
  uint64_t t = tcp_timer_earliest(c->rtx_at, c->persist_at);
  t = tcp_timer_earliest(t, c->keepalive_at);
  t = tcp_timer_earliest(t, c->time_wait_at);
  t = tcp_timer_earliest(t, c->probe_at);
  return tcp_timer_earliest(t, c->ack_at);
}
