// TCP for one connection (RFC 9293), the application's side: opening, reading and
// writing the rings, closing, and the answers for segments that reach no connection.
#include "tcpip/tcp_internal.h"

const struct tcp_conf tcp_default_conf = {
    .mss = 1460,
    .rto_initial_ms = 1000,
    .rto_min_ms = 200,
    .rto_max_ms = 60000,
    .max_retries = 12,
    .max_syn_retries = 6,
    .time_wait_ms = 4000,
    .keepalive_ms = 0,
    .delayed_ack_ms = 40,
    .max_ooo = TCP_MAX_OOO,
    .fin_wait_2_ms = 60000,
    .tail_probe_min_ms = 10,
};

void tcp_seg_copy(const struct tcp_seg *seg, uint8_t *dst) {
  size_t first = seg->len - seg->len2;
  if (first > 0) memcpy(dst, seg->data, first);
  if (seg->len2 > 0) memcpy(dst + first, seg->data2, seg->len2);
}

uint32_t tcp_send_mss(const struct tcp_conn *c) {
  uint32_t mss = c->peer_mss < c->conf->mss ? c->peer_mss : c->conf->mss;
  return mss > 0 ? mss : 1;
}

uint32_t tcp_send_seg_max(const struct tcp_conn *c) {
  uint32_t mss = tcp_send_mss(c);
  if (!MG_ENABLE_TCPIP_OFFLOAD) return mss;  // No driver segments: not a byte of it in the build
  return c->seg_max > mss ? c->seg_max - c->seg_max % mss : mss;  // Whole MSS: no runt in the middle
}

// RFC 5681 3.1's initial window
uint32_t tcp_initial_window(uint32_t mss) {
  return mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
}

bool tcp_syn_unacked(const struct tcp_conn *c) {
  return c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_SYN_RCVD;
}

bool tcp_may_send_data(const struct tcp_conn *c) {
  return c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_CLOSE_WAIT ||
         c->state == TCP_STATE_FIN_WAIT_1 || c->state == TCP_STATE_CLOSING || c->state == TCP_STATE_LAST_ACK;
}

void tcp_ring_put(uint8_t *ring, uint32_t size, uint32_t pos, const uint8_t *src, uint32_t n) {
  pos %= size;
  uint32_t first = size - pos < n ? size - pos : n;
  memcpy(ring + pos, src, first);
  if (n > first) memcpy(ring, src + first, n - first);
}

void tcp_ring_get(const uint8_t *ring, uint32_t size, uint32_t pos, uint8_t *dst, uint32_t n) {
  pos %= size;
  uint32_t first = size - pos < n ? size - pos : n;
  memcpy(dst, ring + pos, first);
  if (n > first) memcpy(dst + first, ring, n - first);
}

void tcp_raise(struct tcp_conn *c, int ev) {
  c->events |= (uint8_t) (1U << ev);
}

// In this order: a handler that aborts (state CLOSED) hears nothing more
void tcp_flush_events(struct tcp_conn *c) {
  static const int order[] = {TCP_EV_CONNECTED, TCP_EV_READABLE, TCP_EV_WRITABLE};
  for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && c->state != TCP_STATE_CLOSED; i++) {
    uint8_t bit = (uint8_t) (1U << order[i]);
    if (!(c->events & bit)) continue;
    c->events &= (uint8_t) ~bit;
    if (c->ops->event != NULL) c->ops->event(c->ctx, order[i], NULL);
  }
}

static void tcp_stop(struct tcp_conn *c) {
  c->state = TCP_STATE_CLOSED;
  c->rtx_at = c->persist_at = c->keepalive_at = c->time_wait_at = c->ack_at = c->probe_at = 0;
  c->events = 0;
  c->ack_pending = false;
}

const char tcp_reason_closed[] = "closed";
const char tcp_reason_reset[] = "reset by peer";

void tcp_close_with(struct tcp_conn *c, const char *reason) {
  tcp_stop(c);
  if (c->ops->event != NULL) c->ops->event(c->ctx, TCP_EV_CLOSED, reason);
}

void tcp_init(struct tcp_conn *c, const struct tcp_conf *conf, const struct tcp_ops *ops, void *ctx,
              uint8_t *rx_buf, uint32_t rx_size, uint8_t *tx_buf, uint32_t tx_size) {
  memset(c, 0, sizeof(*c));
  c->state = TCP_STATE_CLOSED;
  c->conf = conf != NULL ? conf : &tcp_default_conf;
  c->ops = ops;
  c->ctx = ctx;
  c->rx_buf = rx_buf, c->rx_size = rx_size;
  c->tx_buf = tx_buf, c->tx_size = tx_size;
  c->rto = c->conf->rto_initial_ms;
  c->peer_mss = TCP_DEFAULT_MSS;
}

// The send side from iss, before the first segment goes
static void tcp_start_send(struct tcp_conn *c, uint32_t iss) {
  c->iss = c->snd_una = c->snd_nxt = c->snd_max = iss;
  c->recover = iss;
  c->cwnd = tcp_initial_window(tcp_send_mss(c));  // Set again once the peer's MSS is known
  c->ssthresh = 0xffffffffU;  // "Arbitrarily high" until the first loss
}

void tcp_connect(struct tcp_conn *c, uint32_t iss, uint64_t now) {
  tcp_start_send(c, iss);
  c->state = TCP_STATE_SYN_SENT;
  tcp_output(c, now);
}

void tcp_accept(struct tcp_conn *c, const struct tcp_seg *syn, uint32_t iss, uint64_t now) {
  tcp_start_send(c, iss);
  c->irs = syn->seq;
  c->rcv_nxt = c->rcv_adv = syn->seq + 1;
  c->peer_mss = syn->mss > 0 ? syn->mss : TCP_DEFAULT_MSS;
  c->snd_wnd = c->snd_wnd_max = syn->wnd;
  c->snd_wl1 = syn->seq;
  c->state = TCP_STATE_SYN_RCVD;
  tcp_output(c, now);
}

size_t tcp_readable(const struct tcp_conn *c) {
  return c->rx_len;
}

size_t tcp_writable(const struct tcp_conn *c) {
  bool open = c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_SYN_RCVD ||
              c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_CLOSE_WAIT;
  return open && !c->fin_queued ? c->tx_size - c->tx_len : 0;
}

bool tcp_eof(const struct tcp_conn *c) {
  return c->fin_received && c->rx_len == 0;
}

size_t tcp_read(struct tcp_conn *c, void *buf, size_t len, uint64_t now) {
  uint32_t n = len < c->rx_len ? (uint32_t) len : c->rx_len;
  if (n == 0) return 0;
  tcp_ring_get(c->rx_buf, c->rx_size, c->rx_head, (uint8_t *) buf, n);
  c->rx_head = (c->rx_head + n) % c->rx_size;
  c->rx_len -= n;
  // A window update once the window can grow by a segment or half the buffer (RFC
  // 1122 4.2.3.3); the FIN states expect no more data, so no update is worth sending
  bool open = c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_FIN_WAIT_1 ||
              c->state == TCP_STATE_FIN_WAIT_2;
  if (open && tcp_rcv_window_gain(c) > 0) {
    c->ack_pending = true;
    tcp_output(c, now);
    if (c->ack_pending) tcp_send_ack(c);
  }
  tcp_flush_events(c);
  return n;
}

size_t tcp_write(struct tcp_conn *c, const void *buf, size_t len, uint64_t now) {
  size_t room = tcp_writable(c);
  uint32_t n = (uint32_t) (len < room ? len : room);
  if (n == 0) return 0;
  tcp_ring_put(c->tx_buf, c->tx_size, c->tx_head + c->tx_len, (const uint8_t *) buf, n);
  c->tx_len += n;
  tcp_output(c, now);
  tcp_flush_events(c);
  return n;
}

void tcp_shutdown(struct tcp_conn *c, uint64_t now) {
  if (c->fin_queued) return;
  switch (c->state) {
    case TCP_STATE_ESTABLISHED: c->state = TCP_STATE_FIN_WAIT_1; break;
    case TCP_STATE_CLOSE_WAIT: c->state = TCP_STATE_LAST_ACK; break;
    case TCP_STATE_SYN_SENT:
    case TCP_STATE_SYN_RCVD: break;  // The FIN waits for the handshake (RFC 9293 3.10.4)
    case TCP_STATE_LISTEN: tcp_stop(c); return;
    default: return;           // Closing already, or closed
  }
  c->fin_queued = true;
  tcp_output(c, now);
  tcp_flush_events(c);
}

void tcp_abort(struct tcp_conn *c) {
  bool synchronized = c->state != TCP_STATE_CLOSED && c->state != TCP_STATE_LISTEN &&
                      c->state != TCP_STATE_SYN_SENT && c->state != TCP_STATE_TIME_WAIT;
  if (synchronized) tcp_send_ctl(c, c->snd_max, TCP_RST);  // snd_max: see tcp_send_ack
  tcp_stop(c);
}

bool tcp_reset_for(const struct tcp_seg *in, struct tcp_seg *rst) {
  if (in->flags & TCP_RST) return false;
  memset(rst, 0, sizeof(*rst));
  if (in->flags & TCP_ACK) {
    rst->seq = in->ack;
    rst->flags = TCP_RST;
  } else {
    uint32_t len = (uint32_t) in->len + ((in->flags & TCP_SYN) ? 1 : 0) + ((in->flags & TCP_FIN) ? 1 : 0);
    rst->ack = in->seq + len;
    rst->flags = TCP_RST | TCP_ACK;
  }
  return true;
}

// RFC 6528's clock ticks every 4 us; a random offset per connection stands in for its
// keyed hash of the addresses (which only buys monotonic numbers per address pair)
uint32_t tcp_new_iss(uint64_t now) {
  uint32_t r = 0;
  if (!mg_random(&r, sizeof(r))) r = (uint32_t) (uintptr_t) &r;
  return (uint32_t) (now * 250U) + r;
}
