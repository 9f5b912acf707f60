// The TCP engine (core/tcpip/tcp*.c) against a scripted peer: segments in by hand, segments
// out captured, time only through `now`. From RFC 9293, 6298, 5681, 6582, 5961, 1122.
#include <criterion/criterion.h>
#include "tcpip/tcp_internal.h"

#define T_MAX_SEGS 256
#define T_SEG_DATA 8192

// What the engine sent and said
struct tp {
  struct tcp_conn c;
  struct tcp_conf conf;
  struct tcp_seg out[T_MAX_SEGS];
  uint8_t data[T_MAX_SEGS][T_SEG_DATA];
  int nout;
  int ev[64];
  const char *reason[64];
  int nev;
  bool refuse;  // emit says "not now"
  uint8_t rx[4096], tx[8192];
};

static bool t_emit(void *ctx, const struct tcp_seg *s) {
  struct tp *t = (struct tp *) ctx;
  if (t->refuse) return false;
  cr_assert_lt(t->nout, T_MAX_SEGS, "too many segments");
  cr_assert_leq(s->len, T_SEG_DATA);
  struct tcp_seg *o = &t->out[t->nout];
  *o = *s;
  tcp_seg_copy(s, t->data[t->nout]);
  o->data = t->data[t->nout], o->data2 = NULL, o->len2 = 0;
  t->nout++;
  return true;
}

static void t_event(void *ctx, int ev, const char *reason) {
  struct tp *t = (struct tp *) ctx;
  cr_assert_lt(t->nev, 64);
  t->ev[t->nev] = ev, t->reason[t->nev] = reason;
  t->nev++;
}

static const struct tcp_ops t_ops = {t_emit, t_event};

static struct tp *t_new(void) {
  struct tp *t = (struct tp *) calloc(1, sizeof(*t));
  cr_assert_not_null(t);
  t->conf = tcp_default_conf;
  t->conf.delayed_ack_ms = 0;  // Tests of delayed ACK turn it on
  t->conf.tail_probe_min_ms = 0;  // So do those of the tail loss probe
  tcp_init(&t->c, &t->conf, &t_ops, t, t->rx, sizeof(t->rx), t->tx, sizeof(t->tx));
  return t;
}

static void t_clear(struct tp *t) {
  t->nout = 0, t->nev = 0;
}

static struct tcp_seg *t_last(struct tp *t) {
  cr_assert_gt(t->nout, 0, "nothing was sent");
  return &t->out[t->nout - 1];
}

static bool t_has_event(const struct tp *t, int ev) {
  for (int i = 0; i < t->nev; i++)
    if (t->ev[i] == ev) return true;
  return false;
}

static struct tcp_seg t_seg(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const char *data) {
  struct tcp_seg s;
  memset(&s, 0, sizeof(s));
  s.seq = seq, s.ack = ack, s.flags = flags, s.wnd = wnd;
  if (data != NULL) s.data = (const uint8_t *) data, s.len = strlen(data);
  return s;
}

static void t_in(struct tp *t, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const char *data,
                 uint64_t now) {
  struct tcp_seg s = t_seg(seq, ack, flags, wnd, data);
  tcp_input(&t->c, &s, now);
}

// The application reads everything and finds exactly `want`
static void t_expect_read(struct tp *t, const char *want, uint64_t now) {
  char buf[64];
  size_t n = strlen(want);
  cr_assert_eq(tcp_read(&t->c, buf, sizeof(buf), now), n);
  cr_assert_arr_eq(buf, want, n);
}

#define ISS 1000U
#define IRS 5000U

// Active open with the peer's MSS (0: none), then the log is cleared
static void t_open_active(struct tp *t, uint32_t iss, uint32_t irs, uint16_t mss, uint64_t now) {
  tcp_connect(&t->c, iss, now);
  struct tcp_seg synack = t_seg(irs, iss + 1, TCP_SYN | TCP_ACK, 65535, NULL);
  synack.mss = mss;
  tcp_input(&t->c, &synack, now);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  t_clear(t);
}

static void t_open(struct tp *t) {
  t_open_active(t, ISS, IRS, 1460, 0);
}

// Open with a measured round trip of 100 ms: SRTT 100, RTTVAR 50, RTO 300 (RFC 6298 2.2)
static void t_open_rtt(struct tp *t) {
  tcp_connect(&t->c, ISS, 900);
  t_in(t, IRS, ISS + 1, TCP_SYN | TCP_ACK, 65535, NULL, 1000);
  cr_assert_eq(t->c.srtt, 100);
  cr_assert_eq(t->c.rttvar, 50);
  cr_assert_eq(t->c.rto, 300);
  t_clear(t);
}

// Peer-side sequence numbers once open
#define P_SEQ (IRS + 1)
#define P_ACK (ISS + 1)

// ---------------------------------------------------------------------------
// Opening

Test(tcp, active_open_sends_syn_with_mss_and_completes_on_syn_ack) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 100);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_SENT);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_SYN);
  cr_assert_eq(t->out[0].seq, ISS);
  cr_assert_eq(t->out[0].mss, 1460);
  cr_assert_eq(t->out[0].wnd, sizeof(t->rx));
  struct tcp_seg synack = t_seg(IRS, ISS + 1, TCP_SYN | TCP_ACK, 30000, NULL);
  synack.mss = 1200;
  tcp_input(&t->c, &synack, 150);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  cr_assert(t_has_event(t, TCP_EV_CONNECTED));
  cr_assert_eq(t_last(t)->flags, TCP_ACK);
  cr_assert_eq(t_last(t)->seq, ISS + 1);
  cr_assert_eq(t_last(t)->ack, IRS + 1);
  cr_assert_eq(t->c.peer_mss, 1200);
  cr_assert_eq(t->c.snd_wnd, 30000);
  cr_assert_eq(t->c.srtt, 50, "the SYN was timed: %u", t->c.srtt);
  cr_assert_eq(t->c.rtx_at, 0, "nothing in flight");
  free(t);
}

Test(tcp, passive_open_answers_syn_ack_and_completes_on_ack) {
  struct tp *t = t_new();
  struct tcp_seg syn = t_seg(IRS, 0, TCP_SYN, 20000, NULL);
  syn.mss = 1000;
  tcp_accept(&t->c, &syn, ISS, 0);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_RCVD);
  cr_assert_eq(t->out[0].flags, TCP_SYN | TCP_ACK);
  cr_assert_eq(t->out[0].seq, ISS);
  cr_assert_eq(t->out[0].ack, IRS + 1);
  cr_assert_eq(t->out[0].mss, 1460);
  cr_assert_eq(t->nev, 0);
  t_in(t, IRS + 1, ISS + 1, TCP_ACK, 20000, NULL, 10);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  cr_assert(t_has_event(t, TCP_EV_CONNECTED));
  cr_assert_eq(t->c.peer_mss, 1000);
  free(t);
}

Test(tcp, passive_open_with_a_bad_ack_answers_rst_and_stays) {
  struct tp *t = t_new();
  struct tcp_seg syn = t_seg(IRS, 0, TCP_SYN, 20000, NULL);
  tcp_accept(&t->c, &syn, ISS, 0);
  t_clear(t);
  t_in(t, IRS + 1, ISS + 77, TCP_ACK, 20000, NULL, 10);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_RCVD);
  cr_assert_eq(t_last(t)->flags, TCP_RST);
  cr_assert_eq(t_last(t)->seq, ISS + 77);
  free(t);
}

Test(tcp, a_repeated_syn_in_syn_rcvd_gets_the_syn_ack_again) {
  struct tp *t = t_new();
  struct tcp_seg syn = t_seg(IRS, 0, TCP_SYN, 20000, NULL);
  tcp_accept(&t->c, &syn, ISS, 0);
  t_clear(t);
  tcp_input(&t->c, &syn, 300);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_SYN | TCP_ACK);
  cr_assert_eq(t->out[0].seq, ISS);
  free(t);
}

Test(tcp, missing_mss_option_means_536) {
  struct tp *t = t_new();
  t_open_active(t, ISS, IRS, 0, 0);
  cr_assert_eq(t->c.peer_mss, 536);
  char buf[2000];
  memset(buf, 'x', sizeof(buf));
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_geq(t->nout, 2);
  for (int i = 0; i < t->nout; i++) cr_assert_leq(t->out[i].len, 536);
  cr_assert_eq(t->out[0].len, 536);
  free(t);
}

Test(tcp, simultaneous_open_goes_through_syn_rcvd) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  t_clear(t);
  struct tcp_seg syn = t_seg(IRS, 0, TCP_SYN, 8000, NULL);
  syn.mss = 1460;
  tcp_input(&t->c, &syn, 5);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_RCVD);
  cr_assert_eq(t->out[0].flags, TCP_SYN | TCP_ACK);
  cr_assert_eq(t->out[0].seq, ISS);
  cr_assert_eq(t->out[0].ack, IRS + 1);
  // The peer's SYN-ACK crosses ours
  t_in(t, IRS, ISS + 1, TCP_SYN | TCP_ACK, 8000, NULL, 10);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  cr_assert(t_has_event(t, TCP_EV_CONNECTED));
  cr_assert_eq(t_last(t)->flags, TCP_ACK);
  free(t);
}

Test(tcp, syn_sent_ignores_rst_that_does_not_ack_our_syn) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  t_in(t, 0, 0, TCP_RST, 0, NULL, 1);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_SENT);
  t_in(t, 0, ISS + 5, TCP_RST | TCP_ACK, 0, NULL, 1);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_SENT, "ack beyond our SYN");
  cr_assert_eq(t->nev, 0);
  t_in(t, 0, ISS + 1, TCP_RST | TCP_ACK, 0, NULL, 1);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_eq(t->ev[0], TCP_EV_CLOSED);
  cr_assert_str_eq(t->reason[0], "connection refused");
  free(t);
}

Test(tcp, syn_sent_answers_a_bad_ack_with_rst) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  t_clear(t);
  t_in(t, IRS, ISS, TCP_SYN | TCP_ACK, 1000, NULL, 1);
  cr_assert_eq(t->c.state, TCP_STATE_SYN_SENT);
  cr_assert_eq(t_last(t)->flags, TCP_RST);
  cr_assert_eq(t_last(t)->seq, ISS);
  free(t);
}

// ---------------------------------------------------------------------------
// Data both ways

Test(tcp, data_both_ways_with_acks) {
  struct tp *t = t_new();
  t_open(t);
  cr_assert_eq(tcp_write(&t->c, "hello", 5, 10), 5);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(t->out[0].len, 5);
  cr_assert(t->out[0].flags & TCP_PSH);
  cr_assert_arr_eq(t->out[0].data, "hello", 5);
  cr_assert_neq(t->c.rtx_at, 0);
  t_in(t, P_SEQ, P_ACK + 5, TCP_ACK, 65535, "world!", 20);
  cr_assert_eq(t->c.rtx_at, 0);
  cr_assert(t_has_event(t, TCP_EV_WRITABLE));
  cr_assert(t_has_event(t, TCP_EV_READABLE));
  cr_assert_eq(t_last(t)->ack, P_SEQ + 6);
  char buf[16];
  cr_assert_eq(tcp_readable(&t->c), 6);
  cr_assert_eq(tcp_read(&t->c, buf, sizeof(buf), 20), 6);
  cr_assert_arr_eq(buf, "world!", 6);
  cr_assert_eq(t->c.tx_len, 0);
  free(t);
}

Test(tcp, never_sends_beyond_the_peers_window) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  struct tcp_seg synack = t_seg(IRS, ISS + 1, TCP_SYN | TCP_ACK, 1000, NULL);
  synack.mss = 1460;
  tcp_input(&t->c, &synack, 0);
  t_clear(t);
  char buf[5000];
  memset(buf, 'a', sizeof(buf));
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, 1000);
  t_in(t, P_SEQ, P_ACK + 1000, TCP_ACK, 3000, NULL, 10);
  uint32_t sent = 0;
  for (int i = 1; i < t->nout; i++) sent += (uint32_t) t->out[i].len;
  // Two full segments; the 80 bytes left of the window wait (sender SWS avoidance)
  cr_assert_eq(sent, 2920, "window 3000 from the new snd_una: %u", sent);
  cr_assert_leq(t_last(t)->seq + t_last(t)->len, P_ACK + 1000 + 3000);
  free(t);
}

Test(tcp, send_ring_wraps_into_two_pieces) {
  struct tp *t = t_new();
  t_open(t);
  char buf[6000];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (char) ('a' + i % 26);
  t->c.cwnd = 65535;
  tcp_write(&t->c, buf, sizeof(buf), 0);
  t_in(t, P_SEQ, P_ACK + 6000, TCP_ACK, 65535, NULL, 10);
  t_clear(t);
  tcp_write(&t->c, buf, sizeof(buf), 20);  // 8192-byte ring, head at 6000: wraps
  uint32_t total = 0;
  for (int i = 0; i < t->nout; i++) {
    cr_assert_arr_eq(t->out[i].data, buf + total, t->out[i].len);
    total += (uint32_t) t->out[i].len;
  }
  cr_assert_eq(total, 6000);
  free(t);
}

Test(tcp, write_takes_only_the_room_left) {
  struct tp *t = t_new();
  t_open(t);
  static char big[10000];
  cr_assert_eq(tcp_write(&t->c, big, sizeof(big), 0), sizeof(t->tx));
  cr_assert_eq(tcp_writable(&t->c), 0);
  cr_assert_eq(tcp_write(&t->c, big, 1, 0), 0);
  free(t);
}

// ---------------------------------------------------------------------------
// The receive window

Test(tcp, our_window_is_the_free_room_and_updates_after_reads) {
  struct tp *t = t_new();
  t_open(t);
  static char chunk[1024];
  memset(chunk, 'z', sizeof(chunk) - 1);
  for (int i = 0; i < 3; i++) t_in(t, P_SEQ + (uint32_t) i * 1023, P_ACK, TCP_ACK, 65535, chunk, 1);
  cr_assert_eq(t_last(t)->wnd, 4096 - 3 * 1023);
  t_clear(t);
  char buf[4096];
  tcp_read(&t->c, buf, 100, 2);  // 100 more bytes of room: below a segment, no update
  cr_assert_eq(t->nout, 0, "silly window: no update for 100 bytes");
  tcp_read(&t->c, buf, 2000, 3);  // Now the window can grow by over half the buffer
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_ACK);
  cr_assert_eq(t->out[0].wnd, 4096 - (3 * 1023 - 2100));
  free(t);
}

Test(tcp, a_full_ring_announces_zero_and_answers_probes_with_ack) {
  struct tp *t = t_new();
  t_open(t);
  static char chunk[1025];
  memset(chunk, 'q', 1024);
  for (int i = 0; i < 4; i++) t_in(t, P_SEQ + (uint32_t) i * 1024, P_ACK, TCP_ACK, 65535, chunk, 1);
  cr_assert_eq(t_last(t)->wnd, 0);
  t_clear(t);
  t_in(t, P_SEQ + 4096, P_ACK, TCP_ACK, 65535, "p", 2);  // The peer's zero-window probe
  cr_assert_eq(tcp_readable(&t->c), 4096, "the probe byte is not taken");
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].ack, P_SEQ + 4096);
  cr_assert_eq(t->out[0].wnd, 0);
  free(t);
}

// ---------------------------------------------------------------------------
// Out of window, duplicates, out of order

Test(tcp, segment_outside_the_window_is_acked_and_dropped) {
  struct tp *t = t_new();
  t_open(t);
  t_in(t, P_SEQ + 100000, P_ACK, TCP_ACK, 65535, "far", 1);
  cr_assert_eq(tcp_readable(&t->c), 0);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_ACK);
  cr_assert_eq(t->out[0].ack, P_SEQ);
  t_in(t, P_SEQ - 10, P_ACK, TCP_ACK, 65535, "old", 2);
  cr_assert_eq(t->nout, 2);
  cr_assert_eq(tcp_readable(&t->c), 0);
  free(t);
}

Test(tcp, duplicate_and_overlapping_segments_deliver_once) {
  struct tp *t = t_new();
  t_open(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "abcd", 1);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "abcd", 2);      // Duplicate
  t_in(t, P_SEQ + 2, P_ACK, TCP_ACK, 65535, "cdef", 3);  // Overlaps
  cr_assert_eq(t_last(t)->ack, P_SEQ + 6);
  t_expect_read(t, "abcdef", 4);
  free(t);
}

Test(tcp, out_of_order_segments_wait_in_the_ring_and_join) {
  struct tp *t = t_new();
  t->conf.delayed_ack_ms = 40;  // Out-of-order and gap-filling segments are ACKed at once anyway
  t_open(t);
  t_in(t, P_SEQ + 8, P_ACK, TCP_ACK, 65535, "ijkl", 1);
  t_in(t, P_SEQ + 4, P_ACK, TCP_ACK, 65535, "efgh", 2);
  cr_assert_eq(tcp_readable(&t->c), 0);
  cr_assert_eq(t->c.nooo, 1, "adjacent ranges merge");
  cr_assert_eq(t->nout, 2, "each out-of-order segment is ACKed at once");
  cr_assert_eq(t->out[1].ack, P_SEQ, "duplicate ACKs");
  cr_assert_eq(t->out[1].wnd, 4096, "held out-of-order data does not shrink the window");
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "abcd", 3);
  cr_assert_eq(t->c.nooo, 0);
  cr_assert_eq(t_last(t)->ack, P_SEQ + 12, "the filled gap is ACKed at once");
  t_expect_read(t, "abcdefghijkl", 4);
  free(t);
}

Test(tcp, out_of_order_ranges_beyond_the_bound_are_dropped) {
  struct tp *t = t_new();
  t_open(t);
  for (uint32_t i = 0; i < TCP_MAX_OOO + 1; i++) t_in(t, P_SEQ + 10 + i * 10, P_ACK, TCP_ACK, 65535, "xx", 1);
  cr_assert_eq(t->c.nooo, TCP_MAX_OOO);
  cr_assert_eq(t->c.ooo_drops, 1);
  // One that fills the hole between two kept ranges still fits
  t_in(t, P_SEQ + 12, P_ACK, TCP_ACK, 65535, "yyyyyyyy", 2);
  cr_assert_eq(t->c.nooo, TCP_MAX_OOO - 1);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "0123456789", 3);
  cr_assert_eq(t->c.rcv_nxt, P_SEQ + 22);
  t_expect_read(t, "0123456789xxyyyyyyyyxx", 4);
  free(t);
}

Test(tcp, a_fin_out_of_order_waits_for_the_peer_to_send_it_again) {
  struct tp *t = t_new();
  t_open(t);
  t_in(t, P_SEQ + 3, P_ACK, TCP_ACK | TCP_FIN, 65535, "def", 1);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "abc", 2);
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  cr_assert_eq(tcp_readable(&t->c), 6);
  t_in(t, P_SEQ + 6, P_ACK, TCP_ACK | TCP_FIN, 65535, NULL, 3);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSE_WAIT);
  free(t);
}

Test(tcp, ranges_kept_beyond_a_fin_are_dropped_when_the_fin_is_taken) {
  struct tp *t = t_new();
  t_open(t);
  t_in(t, P_SEQ + 10, P_ACK, TCP_ACK, 65535, "beyond", 1);
  cr_assert_eq(t->c.nooo, 1);
  t_in(t, P_SEQ, P_ACK, TCP_ACK | TCP_FIN, 65535, "abc", 2);  // A FIN at P_SEQ + 3
  cr_assert_eq(t->c.state, TCP_STATE_CLOSE_WAIT);
  cr_assert_eq(t->c.nooo, 0);
  cr_assert_eq(t->c.rcv_nxt, P_SEQ + 4);
  free(t);
}

// ---------------------------------------------------------------------------
// Closing, and the state x segment table

static void t_to_state(struct tp *t, enum tcp_state st) {
  switch (st) {
    case TCP_STATE_SYN_SENT: tcp_connect(&t->c, ISS, 0); break;
    case TCP_STATE_SYN_RCVD: {
      struct tcp_seg syn = t_seg(IRS, 0, TCP_SYN, 65535, NULL);
      tcp_accept(&t->c, &syn, ISS, 0);
      break;
    }
    case TCP_STATE_ESTABLISHED: t_open(t); break;
    case TCP_STATE_FIN_WAIT_1: t_open(t), tcp_shutdown(&t->c, 0); break;
    case TCP_STATE_FIN_WAIT_2:
      t_to_state(t, TCP_STATE_FIN_WAIT_1);
      t_in(t, P_SEQ, P_ACK + 1, TCP_ACK, 65535, NULL, 0);
      break;
    case TCP_STATE_CLOSING:
      t_to_state(t, TCP_STATE_FIN_WAIT_1);
      t_in(t, P_SEQ, P_ACK, TCP_ACK | TCP_FIN, 65535, NULL, 0);
      break;
    case TCP_STATE_TIME_WAIT:
      t_to_state(t, TCP_STATE_FIN_WAIT_2);
      t_in(t, P_SEQ, P_ACK + 1, TCP_ACK | TCP_FIN, 65535, NULL, 0);
      break;
    case TCP_STATE_CLOSE_WAIT:
      t_open(t);
      t_in(t, P_SEQ, P_ACK, TCP_ACK | TCP_FIN, 65535, NULL, 0);
      break;
    case TCP_STATE_LAST_ACK: t_to_state(t, TCP_STATE_CLOSE_WAIT), tcp_shutdown(&t->c, 0); break;
    default: break;
  }
  cr_assert_eq(t->c.state, st, "reached %d, wanted %d", t->c.state, st);
  t_clear(t);
}

// The peer's next sequence number in each state (after its FIN, one more)
static uint32_t t_peer_seq(enum tcp_state st) {
  bool fin = st == TCP_STATE_CLOSING || st == TCP_STATE_TIME_WAIT || st == TCP_STATE_CLOSE_WAIT ||
             st == TCP_STATE_LAST_ACK;
  return st == TCP_STATE_SYN_RCVD ? IRS + 1 : P_SEQ + (fin ? 1 : 0);
}

// Our next sequence number, what the peer ACKs to acknowledge all (our FIN included)
static uint32_t t_our_end(enum tcp_state st) {
  bool fin = st == TCP_STATE_FIN_WAIT_1 || st == TCP_STATE_FIN_WAIT_2 || st == TCP_STATE_CLOSING ||
             st == TCP_STATE_TIME_WAIT || st == TCP_STATE_LAST_ACK;
  return P_ACK + (fin ? 1 : 0);
}

enum t_kind { K_RST, K_RST_INWIN, K_RST_OUT, K_SYN, K_FIN, K_ACK_ALL, K_DATA };
struct t_row {
  enum tcp_state from;
  enum t_kind kind;
  enum tcp_state to;
  int closed;         // 1: TCP_EV_CLOSED raised
  uint8_t answer;     // Flags of the last segment sent, 0: none
};

static const struct t_row t_table[] = {
    // RST: exact resets, in-window gets a challenge ACK, outside is ignored (RFC 5961 3.2)
    {TCP_STATE_SYN_RCVD, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_ESTABLISHED, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_FIN_WAIT_1, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_FIN_WAIT_2, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_CLOSE_WAIT, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_CLOSING, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_LAST_ACK, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_TIME_WAIT, K_RST, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_ESTABLISHED, K_RST_INWIN, TCP_STATE_ESTABLISHED, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_2, K_RST_INWIN, TCP_STATE_FIN_WAIT_2, 0, TCP_ACK},
    {TCP_STATE_LAST_ACK, K_RST_INWIN, TCP_STATE_LAST_ACK, 0, TCP_ACK},
    {TCP_STATE_ESTABLISHED, K_RST_OUT, TCP_STATE_ESTABLISHED, 0, 0},
    {TCP_STATE_TIME_WAIT, K_RST_OUT, TCP_STATE_TIME_WAIT, 0, 0},
    // SYN in a synchronized state: challenge ACK (RFC 5961 4.2)
    {TCP_STATE_ESTABLISHED, K_SYN, TCP_STATE_ESTABLISHED, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_1, K_SYN, TCP_STATE_FIN_WAIT_1, 0, TCP_ACK},
    {TCP_STATE_CLOSE_WAIT, K_SYN, TCP_STATE_CLOSE_WAIT, 0, TCP_ACK},
    {TCP_STATE_TIME_WAIT, K_SYN, TCP_STATE_TIME_WAIT, 0, TCP_ACK},
    // FIN (acknowledging nothing new)
    {TCP_STATE_ESTABLISHED, K_FIN, TCP_STATE_CLOSE_WAIT, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_1, K_FIN, TCP_STATE_CLOSING, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_2, K_FIN, TCP_STATE_TIME_WAIT, 0, TCP_ACK},
    {TCP_STATE_CLOSE_WAIT, K_FIN, TCP_STATE_CLOSE_WAIT, 0, TCP_ACK},  // A repeat: ACKed again
    {TCP_STATE_CLOSING, K_FIN, TCP_STATE_CLOSING, 0, TCP_ACK},
    {TCP_STATE_LAST_ACK, K_FIN, TCP_STATE_LAST_ACK, 0, TCP_ACK},
    {TCP_STATE_TIME_WAIT, K_FIN, TCP_STATE_TIME_WAIT, 0, TCP_ACK},
    // The ACK of everything we sent
    {TCP_STATE_SYN_RCVD, K_ACK_ALL, TCP_STATE_ESTABLISHED, 0, 0},
    {TCP_STATE_ESTABLISHED, K_ACK_ALL, TCP_STATE_ESTABLISHED, 0, 0},
    {TCP_STATE_FIN_WAIT_1, K_ACK_ALL, TCP_STATE_FIN_WAIT_2, 0, 0},
    {TCP_STATE_FIN_WAIT_2, K_ACK_ALL, TCP_STATE_FIN_WAIT_2, 0, 0},
    {TCP_STATE_CLOSE_WAIT, K_ACK_ALL, TCP_STATE_CLOSE_WAIT, 0, 0},
    {TCP_STATE_CLOSING, K_ACK_ALL, TCP_STATE_TIME_WAIT, 0, 0},
    {TCP_STATE_LAST_ACK, K_ACK_ALL, TCP_STATE_CLOSED, 1, 0},
    {TCP_STATE_TIME_WAIT, K_ACK_ALL, TCP_STATE_TIME_WAIT, 0, 0},
    // Data: taken while the peer has not sent its FIN
    {TCP_STATE_ESTABLISHED, K_DATA, TCP_STATE_ESTABLISHED, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_1, K_DATA, TCP_STATE_FIN_WAIT_1, 0, TCP_ACK},
    {TCP_STATE_FIN_WAIT_2, K_DATA, TCP_STATE_FIN_WAIT_2, 0, TCP_ACK},
    {TCP_STATE_CLOSE_WAIT, K_DATA, TCP_STATE_CLOSE_WAIT, 0, 0},  // Text after the FIN is ignored (3.10.7.4)
};

Test(tcp, state_by_segment_table) {
  for (size_t i = 0; i < sizeof(t_table) / sizeof(t_table[0]); i++) {
    const struct t_row *r = &t_table[i];
    struct tp *t = t_new();
    t_to_state(t, r->from);
    uint32_t seq = t_peer_seq(r->from), ack = t_our_end(r->from);
    bool fin_seen = r->from == TCP_STATE_CLOSE_WAIT || r->from == TCP_STATE_CLOSING ||
                    r->from == TCP_STATE_LAST_ACK || r->from == TCP_STATE_TIME_WAIT;
    switch (r->kind) {
      case K_RST: t_in(t, seq, 0, TCP_RST, 0, NULL, 5); break;
      case K_RST_INWIN: t_in(t, seq + 100, 0, TCP_RST, 0, NULL, 5); break;
      case K_RST_OUT: t_in(t, seq + 100000, 0, TCP_RST, 0, NULL, 5); break;
      case K_SYN: t_in(t, seq, 0, TCP_SYN, 1000, NULL, 5); break;
      case K_FIN: t_in(t, fin_seen ? seq - 1 : seq, P_ACK, TCP_ACK | TCP_FIN, 65535, NULL, 5); break;
      case K_ACK_ALL: t_in(t, seq, ack, TCP_ACK, 65535, NULL, 5); break;
      case K_DATA: t_in(t, fin_seen ? seq - 1 : seq, P_ACK, TCP_ACK, 65535, "data", 5); break;
    }
    cr_assert_eq(t->c.state, r->to, "row %zu: state %d, wanted %d", i, t->c.state, r->to);
    cr_assert_eq(t_has_event(t, TCP_EV_CLOSED), r->closed != 0, "row %zu: closed event", i);
    cr_assert(r->answer == 0 || t->nout > 0, "row %zu: nothing sent", i);
    if (r->answer == 0) {
      cr_assert_eq(t->nout, 0, "row %zu: sent %d segments", i, t->nout);
    } else {
      cr_assert_eq(t_last(t)->flags, r->answer, "row %zu: flags %#x", i, t_last(t)->flags);
    }
    free(t);
  }
}

Test(tcp, rst_reasons_say_reset_or_closed) {
  struct tp *t = t_new();
  t_to_state(t, TCP_STATE_ESTABLISHED);
  t_in(t, P_SEQ, 0, TCP_RST, 0, NULL, 1);
  cr_assert_str_eq(t->reason[0], "reset by peer");
  free(t);
}

Test(tcp, orderly_close_both_ways_ends_after_time_wait) {
  struct tp *t = t_new();
  t->conf.time_wait_ms = 4000;
  t_open(t);
  tcp_shutdown(&t->c, 100);
  cr_assert_eq(t->c.state, TCP_STATE_FIN_WAIT_1);
  cr_assert_eq(t->out[0].flags, TCP_FIN | TCP_ACK);
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(tcp_writable(&t->c), 0);
  t_in(t, P_SEQ, P_ACK + 1, TCP_ACK, 65535, NULL, 110);
  cr_assert_eq(t->c.state, TCP_STATE_FIN_WAIT_2);
  t_in(t, P_SEQ, P_ACK + 1, TCP_ACK | TCP_FIN, 65535, NULL, 120);
  cr_assert_eq(t->c.state, TCP_STATE_TIME_WAIT);
  cr_assert(tcp_eof(&t->c));
  cr_assert_eq(t_last(t)->ack, P_SEQ + 1);
  cr_assert_eq(tcp_next_deadline(&t->c), 4120);
  // A repeated FIN is ACKed and restarts the wait
  t_clear(t);
  t_in(t, P_SEQ, P_ACK + 1, TCP_ACK | TCP_FIN, 65535, NULL, 2000);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(tcp_next_deadline(&t->c), 6000);
  tcp_timer(&t->c, 5999);
  cr_assert_eq(t->c.state, TCP_STATE_TIME_WAIT);
  tcp_timer(&t->c, 6000);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_eq(t->ev[t->nev - 1], TCP_EV_CLOSED);
  cr_assert_str_eq(t->reason[t->nev - 1], "closed");
  free(t);
}

Test(tcp, passive_close_through_close_wait_and_last_ack) {
  struct tp *t = t_new();
  t_open(t);
  tcp_write(&t->c, "bye", 3, 0);
  t_in(t, P_SEQ, P_ACK, TCP_ACK | TCP_FIN, 65535, "end", 1);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSE_WAIT);
  cr_assert(t_has_event(t, TCP_EV_READABLE));
  cr_assert_not(tcp_eof(&t->c), "data before the FIN is unread");
  char buf[8];
  tcp_read(&t->c, buf, sizeof(buf), 2);
  cr_assert(tcp_eof(&t->c));
  t_clear(t);
  tcp_shutdown(&t->c, 3);
  cr_assert_eq(t->c.state, TCP_STATE_LAST_ACK);
  cr_assert_eq(t->nout, 1, "the FIN follows the data in flight at once");
  cr_assert_eq(t->out[0].flags, TCP_FIN | TCP_ACK);
  cr_assert_eq(t->out[0].seq, P_ACK + 3);
  t_in(t, P_SEQ + 4, P_ACK + 4, TCP_ACK, 65535, NULL, 4);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_str_eq(t->reason[t->nev - 1], "closed");
  free(t);
}

Test(tcp, fin_goes_after_queued_data) {
  struct tp *t = t_new();
  t_open(t);
  t->c.snd_wnd = 0;  // Hold the data back
  tcp_write(&t->c, "abc", 3, 0);
  tcp_shutdown(&t->c, 0);
  cr_assert_eq(t->nout, 0);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 1);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_ACK | TCP_PSH | TCP_FIN);
  cr_assert_eq(t->out[0].len, 3);
  free(t);
}

Test(tcp, shutdown_during_the_handshake_sends_fin_once_established) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  tcp_write(&t->c, "x", 1, 0);
  tcp_shutdown(&t->c, 0);
  t_clear(t);
  t_in(t, IRS, ISS + 1, TCP_SYN | TCP_ACK, 65535, NULL, 5);
  cr_assert_eq(t->c.state, TCP_STATE_FIN_WAIT_1);
  cr_assert_eq(t->out[0].flags & TCP_FIN, TCP_FIN);
  cr_assert_eq(t->out[0].len, 1);
  free(t);
}

Test(tcp, fin_wait_2_is_bounded) {
  struct tp *t = t_new();
  t->conf.fin_wait_2_ms = 30000;
  t_to_state(t, TCP_STATE_FIN_WAIT_2);
  cr_assert_eq(tcp_next_deadline(&t->c), 30000);
  tcp_timer(&t->c, 30000);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_str_eq(t->reason[0], "timed out in FIN_WAIT_2");
  free(t);
}

Test(tcp, abort_sends_rst_and_raises_nothing) {
  struct tp *t = t_new();
  t_open(t);
  tcp_abort(&t->c);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_eq(t->out[0].flags, TCP_RST);
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(t->nev, 0);
  cr_assert_eq(tcp_next_deadline(&t->c), 0);
  // A closed connection answers with a RST
  t_clear(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "late", 1);
  cr_assert_eq(t->out[0].flags, TCP_RST);
  cr_assert_eq(t->out[0].seq, P_ACK);
  free(t);
}

Test(tcp, reset_for_a_segment_that_reached_no_connection) {
  struct tcp_seg in = t_seg(700, 0, TCP_SYN, 1000, NULL), rst;
  cr_assert(tcp_reset_for(&in, &rst));
  cr_assert_eq(rst.flags, TCP_RST | TCP_ACK);
  cr_assert_eq(rst.seq, 0);
  cr_assert_eq(rst.ack, 701);
  in = t_seg(700, 0, TCP_FIN, 1000, "abc");
  cr_assert(tcp_reset_for(&in, &rst));
  cr_assert_eq(rst.ack, 704);
  in = t_seg(700, 1234, TCP_ACK, 1000, "abc");
  cr_assert(tcp_reset_for(&in, &rst));
  cr_assert_eq(rst.flags, TCP_RST);
  cr_assert_eq(rst.seq, 1234);
  in = t_seg(700, 1234, TCP_RST | TCP_ACK, 0, NULL);
  cr_assert_not(tcp_reset_for(&in, &rst), "never a RST for a RST");
}

// ---------------------------------------------------------------------------
// Retransmission (RFC 6298)

Test(tcp, syn_retransmits_with_backoff_then_gives_up) {
  struct tp *t = t_new();
  t->conf.max_syn_retries = 3;
  tcp_connect(&t->c, ISS, 0);
  uint64_t expect[] = {1000, 3000, 7000};  // 1 s, doubled each time
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(tcp_next_deadline(&t->c), expect[i], "try %d: %llu", i,
                 (unsigned long long) tcp_next_deadline(&t->c));
    tcp_timer(&t->c, expect[i] - 1);
    cr_assert_eq(t->nout, i + 1);
    tcp_timer(&t->c, expect[i]);
    cr_assert_eq(t->nout, i + 2);
    cr_assert_eq(t_last(t)->flags, TCP_SYN);
    cr_assert_eq(t_last(t)->seq, ISS);
  }
  cr_assert_eq(t->c.retransmits, 3);
  cr_assert_eq(tcp_next_deadline(&t->c), 15000);
  tcp_timer(&t->c, 15000);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_str_eq(t->reason[0], "timed out");
  free(t);
}

Test(tcp, a_lost_syn_gives_a_three_second_rto_once_open) {
  struct tp *t = t_new();
  tcp_connect(&t->c, ISS, 0);
  tcp_timer(&t->c, 1000);
  t_in(t, IRS, ISS + 1, TCP_SYN | TCP_ACK, 65535, NULL, 1100);
  cr_assert_eq(t->c.srtt, 0, "Karn: no sample from a retransmitted SYN");
  cr_assert_eq(t->c.rto, 3000);
  free(t);
}

// One sample of R sets SRTT R, RTTVAR R/2, RTO SRTT + 4 RTTVAR; then each timeout doubles
Test(tcp, data_rto_from_the_sample_backs_off_to_the_cap_and_gives_up) {
  struct tp *t = t_new();
  t->conf.rto_max_ms = 2000;
  t->conf.max_retries = 5;
  t_open_rtt(t);
  tcp_write(&t->c, "b", 1, 2000);
  uint64_t at = 2000, gaps[] = {300, 600, 1200, 2000, 2000};
  for (int i = 0; i < 5; i++) {
    at += gaps[i];
    cr_assert_eq(tcp_next_deadline(&t->c), at, "retry %d at %llu", i,
                 (unsigned long long) tcp_next_deadline(&t->c));
    tcp_timer(&t->c, at - 1);
    cr_assert_eq(t->nout, i + 1);
    tcp_timer(&t->c, at);
    cr_assert_eq(t->nout, i + 2);
    cr_assert_eq(t_last(t)->seq, P_ACK);
    cr_assert_eq(t_last(t)->len, 1);
  }
  cr_assert_eq(t->c.retransmits, 5);
  at += 2000;
  cr_assert_eq(tcp_next_deadline(&t->c), at);
  tcp_timer(&t->c, at);
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_str_eq(t->reason[0], "timed out");
  free(t);
}

Test(tcp, rto_updates_smoothly_and_respects_the_minimum) {
  struct tp *t = t_new();
  t_open(t);
  uint64_t now = 0;
  for (int i = 0; i < 20; i++) {
    tcp_write(&t->c, "x", 1, now);
    now += 10;
    t_in(t, P_SEQ, t->c.snd_nxt, TCP_ACK, 65535, NULL, now);
  }
  cr_assert_eq(t->c.rto, 200, "rto_min: %u", t->c.rto);
  cr_assert_leq(t->c.srtt, 12);
  free(t);
}

Test(tcp, karn_no_sample_from_a_retransmitted_segment) {
  struct tp *t = t_new();
  t_open_rtt(t);
  tcp_write(&t->c, "b", 1, 2000);
  tcp_timer(&t->c, 2300);  // Times out and goes again
  cr_assert_eq(t->c.rto, 600);
  t_in(t, P_SEQ, P_ACK + 1, TCP_ACK, 65535, NULL, 5000);  // A long "RTT" that must not count
  cr_assert_eq(t->c.srtt, 100);
  cr_assert_eq(t->c.rto, 600, "the backed-off RTO stays until a real sample");
  tcp_write(&t->c, "c", 1, 6000);
  t_in(t, P_SEQ, P_ACK + 2, TCP_ACK, 65535, NULL, 6100);
  cr_assert_lt(t->c.rto, 600);
  free(t);
}

Test(tcp, a_timeout_goes_back_and_restarts_slow_start) {
  struct tp *t = t_new();
  t_open(t);
  static char buf[4380];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 3, "initial window: 3 segments");
  t_clear(t);
  tcp_timer(&t->c, 1000);
  cr_assert_eq(t->nout, 1, "one segment after a timeout");
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(t->c.cwnd, 1460);
  cr_assert_eq(t->c.ssthresh, 2920);
  t_in(t, P_SEQ, P_ACK + 1460, TCP_ACK, 65535, NULL, 1100);
  cr_assert_eq(t->nout, 3, "cwnd 2 segments: the next two go again");
  cr_assert_eq(t->out[1].seq, P_ACK + 1460);
  cr_assert_eq(t->c.retransmits, 3);
  free(t);
}

Test(tcp, fast_retransmit_on_three_duplicates_then_newreno_recovery) {
  struct tp *t = t_new();
  t_open(t);
  t->c.cwnd = 10 * 1460;
  static char buf[8 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 6, "the 8 KiB ring holds 5 full segments and a part");
  int sent = t->nout;
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 10);  // Segment 1 lost: duplicates
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 11);
  cr_assert_eq(t->nout, sent);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 12);
  cr_assert_eq(t->nout, sent + 1, "third duplicate: retransmit at once");
  cr_assert_eq(t_last(t)->seq, P_ACK);
  cr_assert_eq(t->c.retransmits, 1);
  cr_assert(t->c.in_recovery);
  uint32_t flight = 8192;
  cr_assert_eq(t->c.ssthresh, flight / 2);
  cr_assert_eq(t->c.cwnd, flight / 2 + 3 * 1460);
  // A partial ACK (segment 3 lost too) sends the next hole at once
  t_in(t, P_SEQ, P_ACK + 2 * 1460, TCP_ACK, 65535, NULL, 20);
  cr_assert(t->c.in_recovery);
  cr_assert_eq(t->c.retransmits, 2);
  cr_assert_eq(t->out[sent + 1].seq, P_ACK + 2 * 1460);
  // The full ACK ends recovery with cwnd at most ssthresh
  t_in(t, P_SEQ, P_ACK + 8192, TCP_ACK, 65535, NULL, 30);
  cr_assert_not(t->c.in_recovery);
  cr_assert_leq(t->c.cwnd, flight / 2);
  cr_assert_eq(t->c.tx_len, 0);
  free(t);
}

// RFC 3042: a window of three segments gives only two duplicates when one is lost, so
// each of the first two lets one new segment out (cwnd + 2 SMSS at most), and the third comes
Test(tcp, limited_transmit_sends_new_data_on_the_first_two_duplicates) {
  struct tp *t = t_new();
  t_open(t);
  static char buf[5 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 3, "initial window: 3 segments");
  t_clear(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 10);  // Segment 1 lost
  cr_assert_eq(t->nout, 1, "first duplicate: one new segment");
  cr_assert_eq(t->out[0].seq, P_ACK + 3 * 1460);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 11);
  cr_assert_eq(t->nout, 2, "second duplicate: one more");
  cr_assert_eq(t->out[1].seq, P_ACK + 4 * 1460);
  cr_assert_eq(t->c.cwnd, 3 * 1460, "cwnd itself does not grow");
  cr_assert_eq(t->c.retransmits, 0);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 12);
  cr_assert_eq(t->nout, 3);
  cr_assert_eq(t_last(t)->seq, P_ACK, "third duplicate: fast retransmit");
  cr_assert(t->c.in_recovery);
  free(t);
}

Test(tcp, limited_transmit_stays_within_the_peers_window) {
  struct tp *t = t_new();
  t_open(t);
  static char buf[5 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  t_clear(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 3 * 1460, NULL, 10);  // A window update, not a duplicate
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 3 * 1460, NULL, 11);
  cr_assert_eq(t->c.dupacks, 1);
  cr_assert_eq(t->nout, 0, "the window is full: nothing new");
  free(t);
}

// RFC 6582 3.2 step 1: recover is the highest sequence number sent, so a loss of the very
// first segment sent after a recovery ended is a new loss, repaired by fast retransmit
Test(tcp, a_loss_right_after_a_recovery_is_fast_retransmitted) {
  struct tp *t = t_new();
  t_open(t);
  t->c.cwnd = 10 * 1460;
  static char buf[4 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  for (int i = 0; i < 3; i++) t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 10 + (uint64_t) i);
  cr_assert(t->c.in_recovery);
  t_in(t, P_SEQ, P_ACK + 4 * 1460, TCP_ACK, 65535, NULL, 20);  // Full ACK
  cr_assert_not(t->c.in_recovery);
  t->c.cwnd = 10 * 1460;
  tcp_write(&t->c, buf, sizeof(buf), 30);
  t_clear(t);
  for (int i = 0; i < 3; i++) t_in(t, P_SEQ, P_ACK + 4 * 1460, TCP_ACK, 65535, NULL, 40 + (uint64_t) i);
  cr_assert_eq(t->nout, 1, "third duplicate: retransmit at once");
  cr_assert_eq(t_last(t)->seq, P_ACK + 4 * 1460);
  cr_assert(t->c.in_recovery);
  free(t);
}

Test(tcp, duplicates_with_data_or_a_new_window_are_not_counted) {
  struct tp *t = t_new();
  t_open(t);
  static char buf[4000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "a", 1);
  t_in(t, P_SEQ + 1, P_ACK, TCP_ACK, 65535, "b", 2);
  t_in(t, P_SEQ + 2, P_ACK, TCP_ACK, 60000, NULL, 3);
  t_in(t, P_SEQ + 2, P_ACK, TCP_ACK, 50000, NULL, 4);
  cr_assert_eq(t->c.dupacks, 0);
  cr_assert_eq(t->c.retransmits, 0);
  free(t);
}

Test(tcp, congestion_avoidance_grows_about_one_segment_per_window) {
  struct tp *t = t_new();
  t_open(t);
  t->c.ssthresh = 2920;
  t->c.cwnd = 2920;
  static char buf[2920];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  t_in(t, P_SEQ, P_ACK + 1460, TCP_ACK, 65535, NULL, 1);
  cr_assert_eq(t->c.cwnd, 2920 + 1460 * 1460 / 2920, "RFC 5681 (3): SMSS * SMSS / cwnd per ACK");
  t_in(t, P_SEQ, P_ACK + 2920, TCP_ACK, 65535, NULL, 2);
  cr_assert_eq(t->c.cwnd, 3650 + 1460 * 1460 / 3650);
  free(t);
}

// RFC 8985 7: after 2 SRTT without an ACK, and before the RTO, one probe: the last segment
// again, or new data the peer's window takes; cwnd and the RTO stay as they were
Test(tcp, tail_probe_sends_the_last_segment_again_after_two_round_trips) {
  struct tp *t = t_new();
  t->conf.tail_probe_min_ms = 10;
  t_open_rtt(t);  // SRTT 100, RTO 300
  t->c.peer_mss = 1460, t->c.cwnd = 3 * 1460;
  static char buf[3 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 2000);
  cr_assert_eq(t->nout, 3);
  cr_assert_eq(tcp_next_deadline(&t->c), 2200, "2 SRTT");
  tcp_timer(&t->c, 2200);
  cr_assert_eq(t->nout, 4, "one probe");
  cr_assert_eq(t_last(t)->seq, P_ACK + 2 * 1460);
  cr_assert_eq(t_last(t)->len, 1460);
  cr_assert_eq(t->c.cwnd, 3 * 1460);
  cr_assert_eq(t->c.rto, 300);
  cr_assert_eq(tcp_next_deadline(&t->c), 2300, "then the RTO, no second probe");
  t_in(t, P_SEQ, P_ACK + sizeof(buf), TCP_ACK, 65535, NULL, 2210);  // The peer had it all
  cr_assert_eq(tcp_next_deadline(&t->c), 0);
  free(t);
}

Test(tcp, tail_probe_sends_new_data_when_the_peers_window_takes_it) {
  struct tp *t = t_new();
  t->conf.tail_probe_min_ms = 10;
  t_open_rtt(t);
  t->c.peer_mss = 1460, t->c.cwnd = 3 * 1460;
  static char buf[5 * 1460];
  tcp_write(&t->c, buf, sizeof(buf), 2000);
  cr_assert_eq(t->nout, 3, "cwnd: 3 segments");
  tcp_timer(&t->c, 2200);
  cr_assert_eq(t->nout, 4);
  cr_assert_eq(t_last(t)->seq, P_ACK + 3 * 1460, "the next new segment");
  cr_assert_eq(t->c.retransmits, 0);
  free(t);
}

Test(tcp, tail_probe_of_a_single_segment_allows_for_a_delayed_ack) {
  struct tp *t = t_new();
  t->conf.tail_probe_min_ms = 10;
  t_open_rtt(t);
  tcp_write(&t->c, "x", 1, 2000);
  cr_assert_eq(tcp_next_deadline(&t->c), 2300, "2 SRTT + 200 ms is past the RTO: none");
  free(t);
}

// ---------------------------------------------------------------------------
// Zero window, keep-alive, delayed ACK

Test(tcp, zero_window_probes_back_off_and_the_opening_resumes_sending) {
  struct tp *t = t_new();
  t_open_rtt(t);  // RTO 300
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 0, NULL, 2000);
  cr_assert_eq(t->c.snd_wnd, 0);
  tcp_write(&t->c, "hello", 5, 2000);
  cr_assert_eq(t->nout, 0, "nothing goes into a zero window");
  cr_assert_eq(tcp_next_deadline(&t->c), 2300);
  tcp_timer(&t->c, 2300);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, 1, "a one-byte probe");
  cr_assert_eq(t->out[0].seq, P_ACK);
  // The peer answers, still closed: the next probe waits twice as long, then 4x
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 0, NULL, 2310);
  cr_assert_eq(tcp_next_deadline(&t->c), 2900);
  tcp_timer(&t->c, 2900);
  cr_assert_eq(t->nout, 2);
  cr_assert_eq(t->out[1].seq, P_ACK);
  cr_assert_eq(tcp_next_deadline(&t->c), 4100);
  // It opens, having taken the probe byte
  t_in(t, P_SEQ, P_ACK + 1, TCP_ACK, 1000, NULL, 3000);
  cr_assert_eq(t->nout, 3);
  cr_assert_eq(t->out[2].seq, P_ACK + 1);
  cr_assert_eq(t->out[2].len, 4);
  cr_assert_eq(t->c.persist_at, 0);
  t_in(t, P_SEQ, P_ACK + 5, TCP_ACK, 1000, NULL, 3100);
  cr_assert_eq(tcp_next_deadline(&t->c), 0);
  free(t);
}

Test(tcp, a_peer_that_answers_probes_is_never_given_up) {
  struct tp *t = t_new();
  t->conf.max_retries = 3;
  t_open(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 0, NULL, 0);
  tcp_write(&t->c, "x", 1, 0);
  for (int i = 0; i < 10; i++) {
    uint64_t at = tcp_next_deadline(&t->c);
    tcp_timer(&t->c, at);
    t_in(t, P_SEQ, P_ACK, TCP_ACK, 0, NULL, at + 1);
  }
  cr_assert_eq(t->c.state, TCP_STATE_ESTABLISHED);
  // A silent one is
  for (int i = 0; i < 4 && t->c.state != TCP_STATE_CLOSED; i++) tcp_timer(&t->c, tcp_next_deadline(&t->c));
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  free(t);
}

Test(tcp, a_small_window_waits_for_more_then_the_persist_timer_sends_anyway) {
  struct tp *t = t_new();
  t_open(t);  // The peer offered 65535 once
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 100, NULL, 0);
  static char buf[3000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 0, "sender SWS avoidance: 100 bytes is not worth a segment");
  tcp_timer(&t->c, tcp_next_deadline(&t->c));
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, 100);
  free(t);
}

Test(tcp, keepalive_probes_an_idle_peer_and_gives_up) {
  struct tp *t = t_new();
  t->conf.keepalive_ms = 10000;
  t->conf.max_retries = 2;
  t_open_active(t, ISS, IRS, 1460, 500);
  cr_assert_eq(tcp_next_deadline(&t->c), 10500);
  tcp_timer(&t->c, 10500);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].seq, P_ACK - 1, "one below snd_una");
  cr_assert_eq(t->out[0].len, 0);
  cr_assert_eq(t->out[0].flags, TCP_ACK);
  // An answer puts it back to sleep for the idle time
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 10600);
  cr_assert_eq(tcp_next_deadline(&t->c), 20600);
  tcp_timer(&t->c, 20600);
  tcp_timer(&t->c, tcp_next_deadline(&t->c));
  cr_assert_eq(t->nout, 3);
  tcp_timer(&t->c, tcp_next_deadline(&t->c));
  cr_assert_eq(t->c.state, TCP_STATE_CLOSED);
  cr_assert_str_eq(t->reason[0], "keep-alive timed out");
  free(t);
}

Test(tcp, delayed_ack_waits_then_every_second_full_segment_at_once) {
  struct tp *t = t_new();
  t->conf.delayed_ack_ms = 40;
  t_open(t);
  static char seg[1461];
  memset(seg, 'd', 1460);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "small", 100);
  cr_assert_eq(t->nout, 0);
  cr_assert_eq(tcp_next_deadline(&t->c), 140);
  tcp_timer(&t->c, 139);
  cr_assert_eq(t->nout, 0);
  tcp_timer(&t->c, 140);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].ack, P_SEQ + 5);
  char buf[4096];
  tcp_read(&t->c, buf, sizeof(buf), 150);
  t_clear(t);
  t_in(t, P_SEQ + 5, P_ACK, TCP_ACK, 65535, seg, 200);
  cr_assert_eq(t->nout, 0);
  t_in(t, P_SEQ + 1465, P_ACK, TCP_ACK, 65535, seg, 201);
  cr_assert_eq(t->nout, 1, "second full segment: ACK now");
  cr_assert_eq(t->out[0].ack, P_SEQ + 2925);
  cr_assert_eq(tcp_next_deadline(&t->c), 0);
  free(t);
}

Test(tcp, data_we_send_carries_the_pending_ack) {
  struct tp *t = t_new();
  t->conf.delayed_ack_ms = 40;
  t_open(t);
  t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, "ping", 100);
  tcp_write(&t->c, "pong", 4, 101);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].ack, P_SEQ + 4);
  cr_assert_eq(t->c.ack_at, 0);
  free(t);
}

Test(tcp, a_refused_emit_is_tried_again_from_the_timer) {
  struct tp *t = t_new();
  t->refuse = true;
  tcp_connect(&t->c, ISS, 0);
  cr_assert_eq(t->nout, 0);
  cr_assert_eq(tcp_next_deadline(&t->c), 1000);
  t->refuse = false;
  tcp_timer(&t->c, 1000);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].flags, TCP_SYN);
  cr_assert_eq(t->c.retransmits, 0, "never sent before: no retransmission");
  free(t);
}

// ---------------------------------------------------------------------------
// Sequence numbers that wrap

Test(tcp, everything_works_across_sequence_wraparound) {
  struct tp *t = t_new();
  t_open_active(t, 0xfffffe00U, 0xffffff00U, 1460, 0);
  static char out[3000], in[1000];
  for (size_t i = 0; i < sizeof(out); i++) out[i] = (char) i;
  tcp_write(&t->c, out, sizeof(out), 0);
  uint32_t total = 0;
  for (int i = 0; i < t->nout; i++) {
    cr_assert_arr_eq(t->out[i].data, out + total, t->out[i].len);
    total += (uint32_t) t->out[i].len;
  }
  cr_assert_eq(total, 3000);
  cr_assert_lt(t->c.snd_nxt, 0x1000, "wrapped");
  t_in(t, 0xffffff01U, 0xfffffe01U + 3000, TCP_ACK, 65535, NULL, 10);
  cr_assert_eq(t->c.tx_len, 0);
  cr_assert_eq(t->c.snd_una, (uint32_t) (0xfffffe01U + 3000));
  // Receiving across the wrap, out of order first
  memset(in, 'w', sizeof(in) - 1);
  struct tcp_seg s2 = t_seg(0xffffff01U + 600, t->c.snd_nxt, TCP_ACK, 65535, in);
  s2.len = 399;
  tcp_input(&t->c, &s2, 11);
  struct tcp_seg s1 = t_seg(0xffffff01U, t->c.snd_nxt, TCP_ACK, 65535, in);
  s1.len = 600;
  tcp_input(&t->c, &s1, 12);
  cr_assert_eq(tcp_readable(&t->c), 999);
  cr_assert_eq(t->c.rcv_nxt, (uint32_t) (0xffffff01U + 999));
  free(t);
}

// ---------------------------------------------------------------------------
// Two engines over a deterministic lossy link: 5% of segments lost, delays of 5-14 ms
// so that segments overtake each other, 1 MiB each way, then an orderly close

#define L_SLOTS 1024
#define L_TOTAL (1024U * 1024U)

struct l_pkt {
  bool used;
  int to;
  uint64_t at, order;
  struct tcp_seg seg;
  uint8_t data[1460];
};

struct l_end {
  struct l_net *net;
  int id;
  struct tcp_conn c;
  uint32_t sent, got;
  bool shut, closed;
  const char *reason;
  uint8_t rx[16384], tx[16384];
};

struct l_net {
  struct l_pkt pkts[L_SLOTS];
  struct l_end end[2];
  uint32_t rng;
  uint64_t now, order;
  uint32_t delivered, lost, beyond_window;
};

static uint32_t l_rand(struct l_net *n) {  // xorshift32: the same run every time
  n->rng ^= n->rng << 13, n->rng ^= n->rng >> 17, n->rng ^= n->rng << 5;
  return n->rng;
}

static uint8_t l_byte(int id, uint32_t i) {  // Each direction's stream
  return (uint8_t) ((i * (id ? 31U : 7U)) ^ (i >> 9));
}

static bool l_emit(void *ctx, const struct tcp_seg *s) {
  struct l_end *e = (struct l_end *) ctx;
  struct l_net *n = e->net;
  const struct tcp_conn *c = &e->c;
  // The peer's window holds every byte we send, a one-byte zero-window probe aside
  bool probe = c->snd_wnd == 0 && s->len == 1;
  if (s->len > 0 && !probe && TCP_SEQ_GT(s->seq + (uint32_t) s->len, c->snd_una + c->snd_wnd))
    n->beyond_window++;
  if (l_rand(n) % 100 < 5) {
    n->lost++;
    return true;
  }
  for (int i = 0; i < L_SLOTS; i++) {
    struct l_pkt *p = &n->pkts[i];
    if (p->used) continue;
    cr_assert_leq(s->len, sizeof(p->data));
    p->used = true, p->to = 1 - e->id;
    p->at = n->now + 5 + l_rand(n) % 10;
    p->order = n->order++;
    p->seg = *s;
    tcp_seg_copy(s, p->data);
    p->seg.data = p->data, p->seg.data2 = NULL, p->seg.len2 = 0;
    return true;
  }
  n->lost++;  // The link's queue is full
  return true;
}

static void l_event(void *ctx, int ev, const char *reason) {
  struct l_end *e = (struct l_end *) ctx;
  if (ev == TCP_EV_CLOSED) e->closed = true, e->reason = reason;
}

static const struct tcp_ops l_ops = {l_emit, l_event};

static void l_app(struct l_end *e, uint64_t now) {
  uint8_t buf[4096];
  while (!e->closed && e->sent < L_TOTAL) {
    uint32_t n = L_TOTAL - e->sent < sizeof(buf) ? L_TOTAL - e->sent : (uint32_t) sizeof(buf);
    for (uint32_t i = 0; i < n; i++) buf[i] = l_byte(e->id, e->sent + i);
    size_t w = tcp_write(&e->c, buf, n, now);
    e->sent += (uint32_t) w;
    if (w < n) break;
  }
  if (!e->closed && e->sent == L_TOTAL && !e->shut) tcp_shutdown(&e->c, now), e->shut = true;
  size_t got;
  while (!e->closed && (got = tcp_read(&e->c, buf, sizeof(buf), now)) > 0) {
    for (size_t i = 0; i < got; i++)
      cr_assert_eq(buf[i], l_byte(1 - e->id, e->got + (uint32_t) i), "end %d byte %u+%zu of %zu, at %llu",
                   e->id, e->got, i, got, (unsigned long long) now);
    e->got += (uint32_t) got;
  }
}

// The earliest due packet (by time, then by the order sent), or NULL
static struct l_pkt *l_next(struct l_net *n, uint64_t until) {
  struct l_pkt *best = NULL;
  for (int i = 0; i < L_SLOTS; i++) {
    struct l_pkt *p = &n->pkts[i];
    if (!p->used || p->at > until) continue;
    if (best == NULL || p->at < best->at || (p->at == best->at && p->order < best->order)) best = p;
  }
  return best;
}

static uint64_t l_earliest(uint64_t a, uint64_t b) {
  return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

Test(tcp, one_mib_each_way_over_a_lossy_reordering_link_arrives_intact, .timeout = 60) {
  struct l_net *n = (struct l_net *) calloc(1, sizeof(*n));
  cr_assert_not_null(n);
  n->rng = 0x2545f491U;
  for (int i = 0; i < 2; i++) {
    struct l_end *e = &n->end[i];
    e->net = n, e->id = i;
    tcp_init(&e->c, &tcp_default_conf, &l_ops, e, e->rx, sizeof(e->rx), e->tx, sizeof(e->tx));
  }
  tcp_connect(&n->end[0].c, 0xfffff000U, 0);  // Both directions wrap early on
  bool accepted = false;
  uint64_t steps = 0;
  while (!(n->end[0].closed && n->end[1].closed) && n->now < 600000 && steps++ < 10000000) {
    struct l_pkt *p;
    while ((p = l_next(n, n->now)) != NULL) {
      static struct l_pkt in;  // Out of the slot: the answer may reuse it
      in = *p;
      in.seg.data = in.data;
      p->used = false;
      n->delivered++;
      struct l_end *to = &n->end[in.to];
      if (in.to == 1 && !accepted && (in.seg.flags & TCP_SYN)) {
        tcp_accept(&to->c, &in.seg, 0xffffff00U, n->now);
        accepted = true;
      } else if (!to->closed && (in.to == 0 || accepted)) {
        tcp_input(&to->c, &in.seg, n->now);
      }
    }
    for (int i = 0; i < 2; i++) {
      struct l_end *e = &n->end[i];
      uint64_t d = tcp_next_deadline(&e->c);
      if (!e->closed && d != 0 && d <= n->now) tcp_timer(&e->c, n->now);
      if (!e->closed && (e->c.state >= TCP_STATE_ESTABLISHED)) l_app(e, n->now);
    }
    uint64_t next = 0;
    for (int i = 0; i < L_SLOTS; i++)
      if (n->pkts[i].used) next = l_earliest(next, n->pkts[i].at);
    for (int i = 0; i < 2; i++)
      if (!n->end[i].closed) next = l_earliest(next, tcp_next_deadline(&n->end[i].c));
    n->now = next > n->now ? next : n->now + 1;
  }
  for (int i = 0; i < 2; i++) {
    struct l_end *e = &n->end[i];
    cr_assert(e->closed, "end %d still in state %d at %llu ms", i, e->c.state, (unsigned long long) n->now);
    cr_assert_str_eq(e->reason, "closed");
    cr_assert_eq(e->got, L_TOTAL, "end %d got %u", i, e->got);
  }
  cr_assert_eq(n->beyond_window, 0);
  uint32_t rtx = n->end[0].c.retransmits + n->end[1].c.retransmits;
  cr_log_info("lossy link: %u segments delivered, %u lost, %u retransmitted, %llu ms simulated", n->delivered,
              n->lost, rtx, (unsigned long long) n->now);
  fprintf(stderr,
          "lossy link: %u segments delivered, %u lost, %u retransmitted (%u + %u), %llu ms simulated\n",
          n->delivered, n->lost, rtx, n->end[0].c.retransmits, n->end[1].c.retransmits,
          (unsigned long long) n->now);
  cr_assert_lt(rtx, n->lost * 3, "retransmissions stay in proportion to losses");
  free(n);
}

// ---------------------------------------------------------------------------
// A driver that segments (TSO): seg_max lets one emit carry several MSS, never more
// than the windows allow, and what goes again after a loss is one MSS at a time

static void t_open_tso(struct tp *t, uint16_t peer_mss, uint16_t peer_wnd, uint32_t seg_max) {
  tcp_connect(&t->c, ISS, 0);
  struct tcp_seg synack = t_seg(IRS, ISS + 1, TCP_SYN | TCP_ACK, peer_wnd, NULL);
  synack.mss = peer_mss;
  tcp_input(&t->c, &synack, 0);
  t->c.seg_max = seg_max;
  t_clear(t);
}

Test(tcp, without_seg_max_no_segment_is_larger_than_the_mss) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 65535, 0);
  t->c.cwnd = 65535;
  static char buf[6000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 12);
  for (int i = 0; i < t->nout; i++) cr_assert_eq(t->out[i].len, 500);
  free(t);
}

// Only where a driver may segment: builds whose frames stay Ethernet's compile it out (this file runs in the tcpip flavours too, which have it)
#if MG_ENABLE_TCPIP_OFFLOAD
static uint32_t t_sent_bytes(const struct tp *t) {
  uint32_t n = 0;
  for (int i = 0; i < t->nout; i++) n += (uint32_t) t->out[i].len;
  return n;
}

Test(tcp, with_seg_max_new_data_goes_in_whole_mss_multiples) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 65535, 1800);  // 1800 is 3.6 MSS: 1500 at most
  t->c.cwnd = 65535;
  static char buf[6000];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (char) ('a' + i % 26);
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 4);
  for (int i = 0; i < t->nout; i++) {
    cr_assert_eq(t->out[i].len, 1500);
    cr_assert_eq(t->out[i].seq, P_ACK + 1500U * (uint32_t) i);
    cr_assert_arr_eq(t->out[i].data, buf + 1500 * i, 1500);
  }
  free(t);
}

Test(tcp, a_large_segment_stays_within_the_congestion_window) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 65535, 60000);
  cr_assert_eq(t->c.cwnd, 2000, "RFC 5681's initial window for an MSS of 500");
  static char buf[6000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, 2000);
  free(t);
}

Test(tcp, a_large_segment_stays_within_the_peers_window) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 1700, 1800);
  t->c.cwnd = 65535;
  static char buf[6000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 1, "200 bytes left of the window wait (sender SWS avoidance)");
  cr_assert_eq(t->out[0].len, 1500);
  t_in(t, P_SEQ, P_ACK + 1500, TCP_ACK, 2600, NULL, 10);
  cr_assert_eq(t_sent_bytes(t), 1500 + 1500 + 1100, "window 2600 from the new snd_una");
  cr_assert_leq(t_last(t)->seq + t_last(t)->len, P_ACK + 1500 + 2600);
  free(t);
}

Test(tcp, a_large_segment_is_bounded_by_the_send_buffer) {
  struct tp *t = t_new();
  t_open_tso(t, 1460, 65535, 60000);
  t->c.cwnd = 65535;
  static char buf[sizeof(t->tx) + 100];
  cr_assert_eq(tcp_write(&t->c, buf, sizeof(buf), 0), sizeof(t->tx));
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, sizeof(t->tx));
  free(t);
}

Test(tcp, after_a_timeout_a_large_segment_goes_again_as_one_mss) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 65535, 60000);
  static char buf[2000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 1);
  t_clear(t);
  tcp_timer(&t->c, 1000);
  cr_assert_eq(t->nout, 1, "one segment after a timeout");
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(t->out[0].len, 500);
  cr_assert_eq(t->c.retransmits, 1);
  t_in(t, P_SEQ, P_ACK + 500, TCP_ACK, 65535, NULL, 1100);
  cr_assert_eq(t->nout, 2, "cwnd 2 MSS: the next two in one segment");
  cr_assert_eq(t->out[1].seq, P_ACK + 500);
  cr_assert_eq(t->out[1].len, 1000);
  free(t);
}

Test(tcp, a_fast_retransmit_of_a_large_segment_sends_one_mss) {
  struct tp *t = t_new();
  t_open_tso(t, 500, 65535, 60000);
  t->c.cwnd = 20000;
  static char buf[8000];
  tcp_write(&t->c, buf, sizeof(buf), 0);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].len, 8000);
  t_clear(t);
  for (int i = 0; i < 3; i++) t_in(t, P_SEQ, P_ACK, TCP_ACK, 65535, NULL, 10);
  cr_assert_eq(t->nout, 1);
  cr_assert_eq(t->out[0].seq, P_ACK);
  cr_assert_eq(t->out[0].len, 500);
  free(t);
}
#endif  // MG_ENABLE_TCPIP_OFFLOAD
