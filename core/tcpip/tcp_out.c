// TCP segments going out: SYN, data within the peer's window and the congestion window,
// FIN, ACKs with the window we announce, and which timer watches what is in flight.
#include "tcpip/tcp_internal.h"

static uint32_t tcp_out_min(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}

// The right edge moves only by a segment or half the buffer at a time, never left
// (receiver SWS avoidance, RFC 1122 4.2.3.3)
static uint32_t tcp_out_right_edge(const struct tcp_conn *c) {
  uint32_t room = tcp_out_min(c->rx_size - c->rx_len, TCP_MAX_WINDOW);
  return c->rcv_nxt + room;
}

uint32_t tcp_rcv_window_gain(const struct tcp_conn *c) {
  uint32_t right = tcp_out_right_edge(c);
  uint32_t step = tcp_out_min(c->rx_size / 2, c->conf->mss);
  if (step == 0) step = 1;
  uint32_t gain = TCP_SEQ_GT(right, c->rcv_adv) ? right - c->rcv_adv : 0;
  return gain >= step ? gain : 0;
}

uint16_t tcp_rcv_window(struct tcp_conn *c) {
  if (c->state == TCP_STATE_SYN_SENT) return (uint16_t) tcp_out_min(c->rx_size, TCP_MAX_WINDOW);
  if (tcp_rcv_window_gain(c) > 0) c->rcv_adv = tcp_out_right_edge(c);
  return (uint16_t) (c->rcv_adv - c->rcv_nxt);
}

static void tcp_out_acked(struct tcp_conn *c) {
  c->ack_pending = c->ack_now = false;
  c->ack_at = 0;
  c->rcv_unacked = 0;
}

// One segment. n bytes of data from seq (the send ring holds the bytes from snd_una on)
static bool tcp_out_emit(struct tcp_conn *c, uint32_t seq, uint32_t n, uint8_t flags, uint64_t now) {
  struct tcp_seg s;
  memset(&s, 0, sizeof(s));
  s.seq = seq;
  s.flags = flags;
  if (c->state != TCP_STATE_SYN_SENT) s.flags |= TCP_ACK, s.ack = c->rcv_nxt;
  s.wnd = tcp_rcv_window(c);
  if (flags & TCP_SYN) s.mss = c->conf->mss;
  if (n > 0) {
    uint32_t pos = (c->tx_head + (seq - c->snd_una)) % c->tx_size;
    uint32_t first = tcp_out_min(n, c->tx_size - pos);
    s.data = c->tx_buf + pos, s.len = n;
    if (first < n) s.data2 = c->tx_buf, s.len2 = n - first;
  }
  if (!c->ops->emit(c->ctx, &s)) return false;
  if (s.flags & TCP_ACK) tcp_out_acked(c);
  uint32_t end = seq + n + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
  if (TCP_SEQ_LT(seq, c->snd_max)) {
    c->retransmits++;
    c->rtt_timing = false;  // Karn: an ACK could be for either copy
  } else if (!c->rtt_timing) {
    c->rtt_timing = true, c->rtt_seq = end, c->rtt_start = now;
  }
  if (TCP_SEQ_GT(end, c->snd_max)) c->snd_max = end;
  if (flags & TCP_FIN) c->fin_sent = true;
  return true;
}

void tcp_send_ctl(struct tcp_conn *c, uint32_t seq, uint8_t flags) {
  struct tcp_seg s;
  memset(&s, 0, sizeof(s));
  s.seq = seq;
  s.flags = flags;
  if (flags & TCP_ACK) s.ack = c->rcv_nxt, s.wnd = tcp_rcv_window(c);
  if (c->ops->emit(c->ctx, &s) && (flags & TCP_ACK)) tcp_out_acked(c);
}

// A lost ACK needs no retry of ours: the peer's retransmission asks again. Its sequence
// number is snd_max, not snd_nxt: after a timeout snd_nxt went back to data the peer may
// hold already, and a peer whose rcv_nxt is past it would drop the ACK unread
void tcp_send_ack(struct tcp_conn *c) {
  tcp_send_ctl(c, c->snd_max, TCP_ACK);
}

void tcp_ack_soon(struct tcp_conn *c, bool now_due, uint64_t now) {
  c->ack_pending = true;
  // RFC 1122 4.2.3.2: at least every second full-sized segment is ACKed at once
  if (now_due || c->conf->delayed_ack_ms == 0 || c->rcv_unacked >= 2U * c->conf->mss) {
    c->ack_now = true;
  } else if (c->ack_at == 0) {
    c->ack_at = now + c->conf->delayed_ack_ms;
  }
}

bool tcp_unsent(const struct tcp_conn *c) {
  if (!tcp_may_send_data(c)) return false;
  uint32_t off = c->snd_nxt - c->snd_una;
  return off < c->tx_len || (c->fin_queued && off == c->tx_len);
}

bool tcp_send_at(struct tcp_conn *c, uint32_t seq, uint32_t len, uint64_t now) {
  uint32_t off = seq - c->snd_una;
  if (!tcp_may_send_data(c) || off > c->tx_len) return false;
  uint32_t n = tcp_out_min(len, c->tx_len - off);
  uint32_t right = c->snd_una + c->snd_wnd;
  uint32_t room = c->snd_wnd == 0 ? 1 : TCP_SEQ_GT(right, seq) ? right - seq : 0;
  n = tcp_out_min(n, room);
  bool fin = c->fin_queued && off + n == c->tx_len;
  if (n == 0 && !fin) return false;
  uint8_t flags = (uint8_t) ((fin ? TCP_FIN : 0) | (n > 0 && off + n == c->tx_len ? TCP_PSH : 0));
  if (!tcp_out_emit(c, seq, n, flags, now)) return false;
  uint32_t end = seq + n + (fin ? 1 : 0);
  if (TCP_SEQ_GT(end, c->snd_nxt)) c->snd_nxt = end;
  return true;
}

// The next new segment at snd_nxt, if the windows and sender SWS avoidance (RFC 1122
// 4.2.3.4) allow it: a full segment, all that is queued, or half the largest window
// the peer offered. No Nagle: the event layer hands over whole writes already. A driver
// that segments takes several MSS in one (seg_max): the windows bound it all the same.
static bool tcp_out_next(struct tcp_conn *c, uint64_t now) {
  uint32_t off = c->snd_nxt - c->snd_una;
  if (!tcp_unsent(c)) return false;
  uint32_t pending = c->tx_len - off, mss = tcp_send_mss(c), max = tcp_send_seg_max(c);
  uint32_t wnd = tcp_out_min(c->snd_wnd, c->cwnd);
  uint32_t n = tcp_out_min(tcp_out_min(pending, wnd > off ? wnd - off : 0), max);
  bool fin = c->fin_queued && n == pending;
  if (n == 0 && !fin) return false;
  if (n < mss && n < pending && n < c->snd_wnd_max / 2) return false;
  return tcp_send_at(c, c->snd_nxt, n, now) && !fin;
}

static void tcp_out_arm(struct tcp_conn *c, uint64_t now) {
  bool syn_waiting = tcp_syn_unacked(c) && c->snd_nxt == c->iss;  // Its emit failed
  if (c->snd_max != c->snd_una || syn_waiting) {
    if (c->rtx_at == 0 && c->persist_at == 0) tcp_arm_rtx(c, now);
    if (!syn_waiting) tcp_arm_tail_probe(c, now);
  } else {
    c->rtx_at = c->probe_at = 0;
    // Zero window, a window too small to be worth it, or an emit that failed: the
    // persist timer probes or sends anyway (RFC 1122 4.2.2.17, 4.2.3.4's override)
    if (tcp_unsent(c) && c->persist_at == 0) tcp_arm_persist(c, now);
  }
}

void tcp_output(struct tcp_conn *c, uint64_t now) {
  if (tcp_syn_unacked(c)) {
    uint8_t flags = c->state == TCP_STATE_SYN_RCVD ? TCP_SYN | TCP_ACK : TCP_SYN;
    if (c->snd_nxt == c->iss && tcp_out_emit(c, c->iss, 0, flags, now)) c->snd_nxt = c->iss + 1;
  } else {
    while (tcp_out_next(c, now)) {
    }
  }
  if (c->state == TCP_STATE_CLOSED || c->state == TCP_STATE_LISTEN) return;
  if (c->ack_now && c->ack_pending) tcp_send_ack(c);
  tcp_out_arm(c, now);
}
