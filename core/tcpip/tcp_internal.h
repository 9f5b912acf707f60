// What the TCP engine's files share and the stack never sees: sequence arithmetic,
// the rings, segment output, events, and the helpers of the timers.
#ifndef TCPIP_TCP_INTERNAL_H
#define TCPIP_TCP_INTERNAL_H

#include "tcpip/tcp.h"

// Sequence numbers compare modulo 2^32 (RFC 9293 3.4)
#define TCP_SEQ_LT(a, b) ((int32_t) ((uint32_t) (a) - (uint32_t) (b)) < 0)
#define TCP_SEQ_LEQ(a, b) ((int32_t) ((uint32_t) (a) - (uint32_t) (b)) <= 0)
#define TCP_SEQ_GT(a, b) TCP_SEQ_LT(b, a)
#define TCP_SEQ_GEQ(a, b) TCP_SEQ_LEQ(b, a)

#define TCP_MAX_WINDOW 65535U  // No window scaling
#define TCP_DEFAULT_MSS 536U   // The peer's when its SYN has no MSS option (RFC 9293 3.7.1)
#define TCP_RTO_AFTER_SYN_LOSS_MS 3000U  // RFC 6298 5.7
#define TCP_DELAYED_ACK_WORST_MS 200U    // The longest a peer may hold an ACK (RFC 8985's WCDelAckT)

// tcp.c
uint32_t tcp_send_seg_max(const struct tcp_conn *c);  // The most one new segment carries (seg_max, or the MSS)
uint32_t tcp_initial_window(uint32_t mss);        // cwnd at the start (RFC 5681 3.1)
bool tcp_syn_unacked(const struct tcp_conn *c);   // SYN_SENT or SYN_RCVD
bool tcp_may_send_data(const struct tcp_conn *c); // A state where queued data still goes out
// Ring copies: n bytes at logical position pos of a ring of size bytes
void tcp_ring_put(uint8_t *ring, uint32_t size, uint32_t pos, const uint8_t *src, uint32_t n);
void tcp_ring_get(const uint8_t *ring, uint32_t size, uint32_t pos, uint8_t *dst, uint32_t n);
void tcp_raise(struct tcp_conn *c, int ev);  // Noted now, raised by tcp_flush_events
void tcp_flush_events(struct tcp_conn *c);
// The connection is over: timers stopped, state CLOSED, TCP_EV_CLOSED raised at once.
// The caller must not touch c afterwards (the stack may have freed it).
void tcp_close_with(struct tcp_conn *c, const char *reason);

// tcp_out.c
// Send whatever the windows and the state allow (SYN, data, FIN; an ACK rides along),
// then an ACK still due now (c->ack_now); arms the retransmission or persist timer
void tcp_output(struct tcp_conn *c, uint64_t now);
// Send one data segment from seq: at most len bytes (one MSS, or more only for a driver that
// segments: tcp_out_next), within the peer's window (a window of zero lets one byte through:
// the probe), with the FIN if it reaches the end. For retransmissions and probes too; snd_nxt
// moves past it if it was behind. False: nothing went.
bool tcp_send_at(struct tcp_conn *c, uint32_t seq, uint32_t len, uint64_t now);
void tcp_send_ack(struct tcp_conn *c);                    // ACK now: seq snd_nxt, ack rcv_nxt
void tcp_send_ctl(struct tcp_conn *c, uint32_t seq, uint8_t flags);  // No data, no window math
void tcp_ack_soon(struct tcp_conn *c, bool now_due, uint64_t now);  // Delayed-ACK rules
bool tcp_unsent(const struct tcp_conn *c);  // Data or a FIN queued and not sent yet
uint16_t tcp_rcv_window(struct tcp_conn *c);  // The window to announce (moves rcv_adv, RFC 1122 4.2.3.3)
uint32_t tcp_rcv_window_gain(const struct tcp_conn *c);  // How far reading would move rcv_adv now

// tcp_timer.c
void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt_ms);  // RFC 6298 2.2 / 2.3
void tcp_arm_rtx(struct tcp_conn *c, uint64_t now);        // Restart with the current RTO
void tcp_arm_persist(struct tcp_conn *c, uint64_t now);    // The next probe, backed off
void tcp_arm_tail_probe(struct tcp_conn *c, uint64_t now); // RFC 8985 7.2, unless armed or not due
void tcp_enter_time_wait(struct tcp_conn *c, uint64_t now);
void tcp_touch_keepalive(struct tcp_conn *c, uint64_t now);  // Heard from the peer

#endif  // TCPIP_TCP_INTERNAL_H
