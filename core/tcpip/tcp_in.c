// TCP segments coming in (RFC 9293 3.10.7): acceptability, RST and SYN checks (RFC 5961),
// ACKs with congestion control and NewReno recovery, data and out-of-order ranges, FIN.
#include "tcpip/tcp_internal.h"

static uint32_t tcp_in_min(uint32_t a, uint32_t b) {
  return a < b ? a : b;
}

static uint32_t tcp_in_seglen(const struct tcp_seg *s) {
  return (uint32_t) s->len + ((s->flags & TCP_SYN) ? 1 : 0) + ((s->flags & TCP_FIN) ? 1 : 0);
}

static bool tcp_in_rcv_window_has(const struct tcp_conn *c, uint32_t x) {
  return TCP_SEQ_LEQ(c->rcv_nxt, x) && TCP_SEQ_LT(x, c->rcv_adv);
}

// RFC 9293 3.10.7.4's table of segment length against receive window
static bool tcp_in_acceptable(const struct tcp_conn *c, const struct tcp_seg *s) {
  uint32_t len = tcp_in_seglen(s);
  if (c->rcv_adv == c->rcv_nxt) return len == 0 && s->seq == c->rcv_nxt;
  if (len == 0) return tcp_in_rcv_window_has(c, s->seq);
  return tcp_in_rcv_window_has(c, s->seq) || tcp_in_rcv_window_has(c, s->seq + len - 1);
}

// Our SYN is acknowledged: the connection is up
static void tcp_in_established(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  c->snd_una = c->iss + 1;
  if (TCP_SEQ_LT(c->snd_nxt, c->snd_una)) c->snd_nxt = c->snd_una;
  if (c->rtt_timing && TCP_SEQ_GEQ(s->ack, c->rtt_seq)) {
    tcp_rtt_sample(c, now - c->rtt_start);
  } else if (c->retries > 0 && c->srtt == 0) {
    c->rto = TCP_RTO_AFTER_SYN_LOSS_MS;  // Lost SYNs say the initial RTO was too short
    if (c->rto > c->conf->rto_max_ms) c->rto = c->conf->rto_max_ms;
  }
  c->rtt_timing = false;
  c->retries = 0;
  c->rtx_at = 0;
  c->snd_wnd = c->snd_wnd_max = s->wnd;
  c->snd_wl1 = s->seq, c->snd_wl2 = s->ack;
  c->cwnd = tcp_initial_window(tcp_send_mss(c));
  c->state = c->fin_queued ? TCP_STATE_FIN_WAIT_1 : TCP_STATE_ESTABLISHED;
  tcp_touch_keepalive(c, now);
  tcp_raise(c, TCP_EV_CONNECTED);
}

static bool tcp_in_syn_sent(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  bool has_ack = (s->flags & TCP_ACK) != 0;
  bool ack_ok = has_ack && TCP_SEQ_GT(s->ack, c->iss) && TCP_SEQ_LEQ(s->ack, c->snd_max);
  if (has_ack && !ack_ok) {
    if (!(s->flags & TCP_RST)) tcp_send_ctl(c, s->ack, TCP_RST);
    return true;
  }
  if (s->flags & TCP_RST) {  // Only one that acknowledges our SYN counts
    if (!ack_ok) return true;
    tcp_close_with(c, "connection refused");
    return false;
  }
  if (!(s->flags & TCP_SYN)) return true;
  c->irs = s->seq;  // Data on a SYN is not taken: the peer sends it again
  c->rcv_nxt = s->seq + 1;
  c->rcv_adv = c->rcv_nxt + tcp_in_min(c->rx_size, TCP_MAX_WINDOW);  // What our SYN announced
  c->peer_mss = s->mss > 0 ? s->mss : TCP_DEFAULT_MSS;
  if (ack_ok) {
    tcp_in_established(c, s, now);
    tcp_ack_soon(c, true, now);
  } else {  // Simultaneous open: our SYN goes again, with the ACK
    c->state = TCP_STATE_SYN_RCVD;
    c->snd_wnd = c->snd_wnd_max = s->wnd;
    c->snd_wl1 = s->seq;
    c->snd_nxt = c->iss;
  }
  return true;
}

// In SYN_RCVD, the peer's SYN again: our SYN-ACK was lost, or (simultaneous open) it is
// the peer's SYN-ACK
static void tcp_in_syn_again(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  if ((s->flags & TCP_ACK) && s->ack == c->iss + 1) {
    tcp_in_established(c, s, now);
    tcp_ack_soon(c, true, now);
  } else {
    c->snd_nxt = c->iss;
  }
}

// RFC 5961 3.2: only a RST at exactly rcv_nxt resets; one elsewhere in the window
// gets a challenge ACK, which a real peer answers with an exact RST
static bool tcp_in_rst(struct tcp_conn *c, const struct tcp_seg *s) {
  if (s->seq != c->rcv_nxt) {
    tcp_send_ack(c);
    return true;
  }
  bool closing =
      c->state == TCP_STATE_CLOSING || c->state == TCP_STATE_LAST_ACK || c->state == TCP_STATE_TIME_WAIT;
  tcp_close_with(c, closing ? tcp_reason_closed : tcp_reason_reset);
  return false;
}

// NewReno (RFC 6582 3.2): a full ACK ends recovery, a partial one sends the next hole;
// otherwise slow start below ssthresh, congestion avoidance above (RFC 5681 3.1)
static void tcp_in_grow_cwnd(struct tcp_conn *c, uint32_t acked, uint64_t now) {
  uint32_t mss = tcp_send_mss(c);
  if (c->in_recovery && TCP_SEQ_GEQ(c->snd_una, c->recover)) {
    uint32_t flight = c->snd_max - c->snd_una;
    c->cwnd = tcp_in_min(c->ssthresh, (flight > mss ? flight : mss) + mss);
    c->in_recovery = false;
    c->dupacks = 0;
  } else if (c->in_recovery) {
    tcp_send_at(c, c->snd_una, mss, now);
    c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
    if (acked >= mss) c->cwnd += mss;
    if (c->cwnd < mss) c->cwnd = mss;
  } else {
    c->dupacks = 0;
    if (c->cwnd < c->ssthresh) {
      c->cwnd += tcp_in_min(acked, mss);
    } else {
      uint32_t step = mss * mss / c->cwnd;
      c->cwnd += step > 0 ? step : 1;
    }
  }
  if (c->cwnd > 2 * TCP_MAX_WINDOW) c->cwnd = 2 * TCP_MAX_WINDOW;  // No use beyond the window
}

static void tcp_in_new_ack(struct tcp_conn *c, uint32_t ack, uint64_t now) {
  uint32_t acked = ack - c->snd_una;
  if (c->rtt_timing && TCP_SEQ_GEQ(ack, c->rtt_seq)) {
    tcp_rtt_sample(c, now - c->rtt_start);
    c->rtt_timing = false;
  }
  uint32_t data = tcp_in_min(acked, c->tx_len);  // Beyond the data: our FIN
  c->tx_head = (c->tx_head + data) % c->tx_size;
  c->tx_len -= data;
  if (data > 0) tcp_raise(c, TCP_EV_WRITABLE);
  c->snd_una = ack;
  if (TCP_SEQ_LT(c->snd_nxt, ack)) c->snd_nxt = ack;
  c->retries = 0;
  c->probe_at = 0, c->probe_sent = false;  // Armed again from this ACK (tcp_output)
  tcp_in_grow_cwnd(c, acked, now);
  // RFC 6298 5.2, 5.3: stop when all is acknowledged, else restart
  if (c->snd_una == c->snd_max) {
    c->rtx_at = 0;
  } else if (c->persist_at == 0) {
    tcp_arm_rtx(c, now);
  }
}

// RFC 3042: the first two duplicates each let one new segment out, up to cwnd + 2 SMSS,
// so that a window too small to bring three duplicates after a loss still brings them
static void tcp_in_limited_transmit(struct tcp_conn *c, uint64_t now) {
  uint32_t mss = tcp_send_mss(c);
  uint32_t flight = c->snd_nxt - c->snd_una;
  if (c->snd_nxt != c->snd_max || !tcp_unsent(c)) return;  // Only data never sent
  if (flight >= c->snd_wnd || flight + mss > c->cwnd + 2 * mss) return;  // A zero window: probes
  tcp_send_at(c, c->snd_nxt, mss, now);
}

// RFC 5681 3.2 and RFC 6582 3.2: the third duplicate resends the oldest segment and
// starts recovery, unless the loss is one recovery (or a timeout) already answered:
// recover holds snd_max then, so an ACK that reached it is past what was answered
static void tcp_in_dup_ack(struct tcp_conn *c, uint64_t now) {
  uint32_t mss = tcp_send_mss(c);
  c->dupacks++;
  if (c->in_recovery) {
    c->cwnd += mss;  // Each duplicate is a segment that left the network
    return;
  }
  if (c->dupacks < 3) tcp_in_limited_transmit(c, now);
  if (c->dupacks != 3 || !TCP_SEQ_GEQ(c->snd_una, c->recover)) return;
  uint32_t flight = c->snd_max - c->snd_una;
  c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
  c->recover = c->snd_max;
  c->in_recovery = true;
  tcp_send_at(c, c->snd_una, mss, now);
  c->cwnd = c->ssthresh + 3 * mss;
}

static void tcp_in_window_update(struct tcp_conn *c, const struct tcp_seg *s) {
  if (TCP_SEQ_LT(s->ack, c->snd_una)) return;
  bool newer = TCP_SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && TCP_SEQ_LEQ(c->snd_wl2, s->ack));
  if (!newer) return;
  bool opened = c->snd_wnd == 0 && s->wnd > 0;
  c->snd_wnd = s->wnd;
  c->snd_wl1 = s->seq, c->snd_wl2 = s->ack;
  if (s->wnd > c->snd_wnd_max) c->snd_wnd_max = s->wnd;
  if (opened) {  // Probing is over
    c->persist_at = 0;
    c->persist_shift = 0;
    c->retries = 0;
  }
}

// False: the segment goes no further (an ACK for what we never sent, or far too old)
static bool tcp_in_ack(struct tcp_conn *c, const struct tcp_seg *s, bool may_be_dup, uint64_t now) {
  if (TCP_SEQ_GT(s->ack, c->snd_max) || TCP_SEQ_LT(s->ack, c->snd_una - c->snd_wnd_max)) {
    tcp_send_ack(c);  // RFC 9293 3.10.7.4, RFC 5961 5.2
    return false;
  }
  if (c->persist_at != 0) c->retries = 0;  // The peer answers our probes
  bool dup = may_be_dup && s->ack == c->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
             s->wnd == c->snd_wnd && c->snd_max != c->snd_una;
  if (TCP_SEQ_GT(s->ack, c->snd_una)) {
    tcp_in_new_ack(c, s->ack, now);
  } else if (dup) {
    tcp_in_dup_ack(c, now);
  }
  tcp_in_window_update(c, s);
  return true;
}

// False: the connection closed (LAST_ACK done)
static bool tcp_in_fin_acked(struct tcp_conn *c, uint64_t now) {
  if (!c->fin_sent || c->snd_una != c->snd_max) return true;
  if (c->state == TCP_STATE_FIN_WAIT_1) {
    c->state = TCP_STATE_FIN_WAIT_2;
    c->keepalive_at = 0;
    if (c->conf->fin_wait_2_ms > 0) c->time_wait_at = now + c->conf->fin_wait_2_ms;
  } else if (c->state == TCP_STATE_CLOSING) {
    tcp_enter_time_wait(c, now);
  } else if (c->state == TCP_STATE_LAST_ACK) {
    tcp_close_with(c, tcp_reason_closed);
    return false;
  }
  return true;
}

// Insert [seq, seq + len) into the sorted, disjoint, non-touching out-of-order ranges;
// false (and nothing changes) when that would need more ranges than allowed
static bool tcp_in_ooo_add(struct tcp_conn *c, uint32_t seq, uint32_t len) {
  struct tcp_ooo out[TCP_MAX_OOO + 1];
  unsigned n = 0, max = tcp_in_min(c->conf->max_ooo, TCP_MAX_OOO);
  struct tcp_ooo add = {seq, len};
  bool placed = false;
  for (unsigned i = 0; i < c->nooo; i++) {
    uint32_t rs = c->ooo[i].seq, re = rs + c->ooo[i].len, end = add.seq + add.len;
    if (TCP_SEQ_LT(re, add.seq)) {
      out[n++] = c->ooo[i];
    } else if (TCP_SEQ_GT(rs, end)) {
      if (!placed) out[n++] = add;
      placed = true;
      out[n++] = c->ooo[i];
    } else {  // Overlapping or touching: one range
      if (TCP_SEQ_LT(rs, add.seq)) add.seq = rs;
      add.len = (TCP_SEQ_GT(re, end) ? re : end) - add.seq;
    }
  }
  if (!placed) out[n++] = add;
  if (n > max) return false;
  memcpy(c->ooo, out, n * sizeof(out[0]));
  c->nooo = n;
  return true;
}

// rcv_nxt moved: ranges it reached become in-order data; true if any did
static bool tcp_in_ooo_join(struct tcp_conn *c) {
  bool joined = false;
  while (c->nooo > 0 && TCP_SEQ_LEQ(c->ooo[0].seq, c->rcv_nxt)) {
    uint32_t end = c->ooo[0].seq + c->ooo[0].len;
    if (TCP_SEQ_GT(end, c->rcv_nxt)) {
      c->rx_len += end - c->rcv_nxt;
      c->rcv_nxt = end;
    }
    c->nooo--;
    memmove(c->ooo, c->ooo + 1, c->nooo * sizeof(c->ooo[0]));
    joined = true;
  }
  return joined;
}

// Data into the receive ring: in order, or ahead of rcv_nxt as an out-of-order range
// (stored where it will belong, so joining copies nothing). Returns whether the
// segment's FIN is next in sequence now.
static bool tcp_in_data(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  uint32_t seq = s->seq, len = (uint32_t) s->len;
  const uint8_t *p = s->data;
  bool fin = (s->flags & TCP_FIN) != 0;
  if (len == 0 && !fin) return false;
  if (TCP_SEQ_LT(seq, c->rcv_nxt)) {  // Starts with what we have: trim it
    uint32_t old = c->rcv_nxt - seq;
    if (old > len) {
      tcp_ack_soon(c, true, now);
      return false;
    }
    p += old, len -= old, seq = c->rcv_nxt;
  }
  uint32_t wnd = c->rcv_adv - c->rcv_nxt, off = seq - c->rcv_nxt;
  if (off + len > wnd) {  // What lies beyond the window is dropped, the FIN with it
    len = off < wnd ? wnd - off : 0;
    fin = false;
  }
  if (fin && off + len >= wnd) fin = false;
  if (len > 0) tcp_ring_put(c->rx_buf, c->rx_size, c->rx_head + c->rx_len + off, p, len);
  if (len > 0 && off == 0) {
    bool had_gap = c->nooo > 0;
    c->rx_len += len;
    c->rcv_nxt += len;
    c->rcv_unacked += len;
    tcp_in_ooo_join(c);
    tcp_raise(c, TCP_EV_READABLE);
    tcp_ack_soon(c, had_gap, now);          // RFC 5681 4.2: a filled gap is ACKed at once
    return fin && c->rcv_nxt == seq + len;  // Data kept beyond a FIN would be a lie
  }
  if (len > 0 && !tcp_in_ooo_add(c, seq, len)) c->ooo_drops++;
  // Out of order, old, or beyond the window: the (duplicate) ACK tells the peer what we miss
  if (len > 0 || off > 0 || !fin) {
    tcp_ack_soon(c, true, now);
    return false;
  }
  return true;
}

static void tcp_in_fin(struct tcp_conn *c, uint64_t now) {
  c->rcv_nxt++;
  c->fin_received = true;
  c->nooo = 0;  // Nothing follows a FIN: ranges kept beyond it were a lie
  tcp_raise(c, TCP_EV_READABLE);
  tcp_ack_soon(c, true, now);
  if (c->state == TCP_STATE_ESTABLISHED) {
    c->state = TCP_STATE_CLOSE_WAIT;
  } else if (c->state == TCP_STATE_FIN_WAIT_1) {
    c->state = TCP_STATE_CLOSING;  // Our FIN is not acknowledged yet, or we would be in FIN_WAIT_2
  } else if (c->state == TCP_STATE_FIN_WAIT_2) {
    tcp_enter_time_wait(c, now);
  }
}

static bool tcp_in_unacceptable(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  if (s->flags & TCP_RST) return true;
  if (c->state == TCP_STATE_TIME_WAIT && (s->flags & TCP_FIN)) tcp_enter_time_wait(c, now);  // 2 MSL again
  tcp_send_ack(c);
  return true;
}

// Every state from SYN_RCVD on (RFC 9293 3.10.7.4). False: the connection closed.
static bool tcp_in_synchronized(struct tcp_conn *c, const struct tcp_seg *s, uint64_t now) {
  struct tcp_seg bare;
  bool may_be_dup = true;
  if (c->state == TCP_STATE_SYN_RCVD && (s->flags & TCP_SYN) && !(s->flags & TCP_RST) && s->seq == c->irs) {
    tcp_in_syn_again(c, s, now);
    return true;
  }
  // A zero window takes no data but still takes the ACK on a probe, and answers it
  if (c->rcv_adv == c->rcv_nxt && s->seq == c->rcv_nxt && tcp_in_seglen(s) > 0 &&
      !(s->flags & (TCP_SYN | TCP_RST))) {
    bare = *s;
    bare.len = 0, bare.data = NULL, bare.flags &= (uint8_t) ~TCP_FIN;
    s = &bare;
    may_be_dup = false;
    tcp_ack_soon(c, true, now);
  }
  if (!tcp_in_acceptable(c, s)) return tcp_in_unacceptable(c, s, now);
  if (s->flags & TCP_RST) return tcp_in_rst(c, s);
  if (s->flags & TCP_SYN) {
    tcp_send_ack(c);  // RFC 5961 4.2: a challenge ACK, whatever the sequence number
    return true;
  }
  if (!(s->flags & TCP_ACK)) return true;
  tcp_touch_keepalive(c, now);
  if (c->state == TCP_STATE_SYN_RCVD) {
    if (s->ack != c->iss + 1) {
      tcp_send_ctl(c, s->ack, TCP_RST);
      return true;
    }
    tcp_in_established(c, s, now);
  }
  if (!tcp_in_ack(c, s, may_be_dup, now)) return true;
  if (!tcp_in_fin_acked(c, now)) return false;
  bool takes_data = c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_FIN_WAIT_1 ||
                    c->state == TCP_STATE_FIN_WAIT_2;
  if (takes_data && tcp_in_data(c, s, now)) tcp_in_fin(c, now);
  return true;
}

void tcp_input(struct tcp_conn *c, const struct tcp_seg *seg, uint64_t now) {
  bool alive = true;
  if (c->state == TCP_STATE_CLOSED || c->state == TCP_STATE_LISTEN) {
    struct tcp_seg rst;
    if (tcp_reset_for(seg, &rst)) c->ops->emit(c->ctx, &rst);
    return;
  }
  alive = c->state == TCP_STATE_SYN_SENT ? tcp_in_syn_sent(c, seg, now) : tcp_in_synchronized(c, seg, now);
  if (!alive) return;
  tcp_output(c, now);
  tcp_flush_events(c);
}
