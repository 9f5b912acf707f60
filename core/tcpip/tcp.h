// TCP (RFC 9293) for one connection, free of I/O: segments come in through tcp_input,
// leave through ops->emit, time passes through tcp_timer. The stack owns addresses.
#ifndef TCPIP_TCP_H
#define TCPIP_TCP_H

#include "mg_internal.h"

// TCP_STATE_: glibc's <netinet/tcp.h>, which the socket backend includes (and so does the
// amalgamation, dist/meerkat.c), has TCP_ESTABLISHED and the others
enum tcp_state {
  TCP_STATE_CLOSED,
  TCP_STATE_LISTEN,
  TCP_STATE_SYN_SENT,
  TCP_STATE_SYN_RCVD,
  TCP_STATE_ESTABLISHED,
  TCP_STATE_FIN_WAIT_1,
  TCP_STATE_FIN_WAIT_2,
  TCP_STATE_CLOSE_WAIT,
  TCP_STATE_CLOSING,
  TCP_STATE_LAST_ACK,
  TCP_STATE_TIME_WAIT
};

// Header flags, as on the wire
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20 };

// One segment: what the wire parser read (ports and checksum already checked by the
// stack), or what the engine asks the stack to send
struct tcp_seg {
  uint32_t seq, ack;
  uint16_t wnd;          // The window field as on the wire
  uint8_t flags;         // TCP_*
  uint16_t mss;          // MSS option; 0: absent (only on SYN)
  const uint8_t *data;   // Payload: len bytes in all, the first len - len2 of them here,
  size_t len;            //   then len2 at data2 (a piece that wrapped around the send ring;
  const uint8_t *data2;  //   the engine emits such segments, the stack never passes one in).
  size_t len2;           //   tcp_seg_copy gathers both.
};

// Copy seg's payload (len bytes) to dst
void tcp_seg_copy(const struct tcp_seg *seg, uint8_t *dst);

// What the engine tells the stack (ops->event)
enum {
  TCP_EV_CONNECTED,  // Handshake done (active or passive open)
  TCP_EV_READABLE,   // New in-order data, or the peer's FIN (tcp_eof)
  TCP_EV_WRITABLE,   // Room in the send buffer again
  TCP_EV_CLOSED,     // The connection is over: reset, timed out, or closed and done (TIME_WAIT over)
};

struct tcp_ops {
  // Send seg to the peer (the stack adds ports, IP and Ethernet). False: it could
  // not go now (no ARP entry yet, driver busy); the engine tries again from tcp_timer.
  bool (*emit)(void *ctx, const struct tcp_seg *seg);
  void (*event)(void *ctx, int ev, const char *reason);  // reason: for TCP_EV_CLOSED, else NULL
};

// The two ends of TCP_EV_CLOSED that are no error: known by address, so that a caller
// tells them apart without comparing strings
extern const char tcp_reason_closed[];  // Closed both ways in order
extern const char tcp_reason_reset[];   // The peer reset the connection

// Limits and timings; tcp_default_conf has RFC 6298's and RFC 9293's defaults
struct tcp_conf {
  uint16_t mss;              // Ours, announced on SYN (1460 on Ethernet)
  uint32_t rto_initial_ms;   // 1000 (RFC 6298 2.1)
  uint32_t rto_min_ms;       // 200 (Linux's; RFC 6298 says 1000, which hurts on a LAN)
  uint32_t rto_max_ms;       // 60000
  unsigned max_retries;      // Retransmissions of one segment before giving up (12)
  unsigned max_syn_retries;  // Of a SYN (6)
  uint32_t time_wait_ms;     // 2 MSL (a device uses less than 2 x 2 min: 4000 default)
  uint32_t keepalive_ms;     // Idle time before probes; 0: off (default 0, as sockets)
  uint32_t delayed_ack_ms;   // 40; 0: ACK every segment at once
  unsigned max_ooo;  // Out-of-order ranges kept (4, at most TCP_MAX_OOO); they live in the receive buffer
  uint32_t fin_wait_2_ms;    // A peer that never sends its FIN: FIN_WAIT_2 ends after this (60000)
  uint32_t tail_probe_min_ms;  // RFC 8985's tail loss probe after 2 SRTT, at least this (10); 0: none
};
extern const struct tcp_conf tcp_default_conf;

struct tcp_ooo {  // A range received ahead of rcv_nxt, already stored in the receive ring
  uint32_t seq;
  uint32_t len;
};

#ifndef TCP_MAX_OOO
#define TCP_MAX_OOO 4
#endif

// The connection (TCB). Buffers are the stack's: rx (window) and tx (unacknowledged + unsent)
struct tcp_conn {
  enum tcp_state state;
  const struct tcp_conf *conf;
  const struct tcp_ops *ops;
  void *ctx;
  // Send sequence space (RFC 9293 3.3.1). snd_nxt goes back to snd_una on a timeout
  // (go-back-N); snd_max is the highest ever sent, what an ACK may acknowledge
  uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
  uint32_t snd_wnd_max;  // Largest window the peer offered (sender SWS avoidance, RFC 1122 4.2.3.4)
  uint16_t peer_mss;
  // The most one emit may carry, set by the stack when its driver segments (TSO): the
  // engine then sends up to this many bytes at once, a whole number of MSS. 0: one MSS
  uint32_t seg_max;
  // Receive sequence space; rcv_adv: the right edge we advertised, which never moves left
  uint32_t irs, rcv_nxt, rcv_adv;
  uint32_t rcv_unacked;  // Bytes taken in since our last ACK (ACK every second full segment)
  // Congestion control (RFC 5681, RFC 6582's NewReno recovery)
  uint32_t cwnd, ssthresh;
  bool in_recovery;
  // Buffers: rings over memory the stack hands in; rx also holds out-of-order data
  uint8_t *rx_buf, *tx_buf;
  uint32_t rx_size, tx_size;
  uint32_t rx_head, rx_len;  // In-order bytes not yet read
  uint32_t tx_head, tx_len;  // From snd_una: sent-unacknowledged, then unsent
  struct tcp_ooo ooo[TCP_MAX_OOO];
  unsigned nooo;
  // Timers (absolute mg_millis values; 0: not running). time_wait_at also bounds FIN_WAIT_2
  uint64_t rtx_at, persist_at, keepalive_at, time_wait_at, ack_at, probe_at;
  uint32_t srtt, rttvar, rto;  // RFC 6298, milliseconds (srtt 0: no sample yet)
  uint32_t rtt_seq;            // The segment being timed (Karn: never a retransmitted one)
  uint64_t rtt_start;
  bool rtt_timing;             // rtt_seq / rtt_start hold a measurement
  unsigned retries, dupacks;
  bool probe_sent;             // A tail loss probe went and no ACK of new data came since
  unsigned ka_probes;          // Keep-alive probes unanswered
  uint32_t recover;            // RFC 6582's, for fast recovery
  uint32_t retransmits;        // Segments sent again, for the counters
  bool fin_queued;             // tcp_shutdown: FIN goes after the queued data
  bool fin_sent;               // Our FIN has gone out once (snd_max counts it)
  bool fin_received;
  bool ack_pending;            // Data or FIN arrived and is not acknowledged yet
  bool ack_now;                // ... and the ACK is due before this call returns
  unsigned persist_shift;      // Zero-window probes sent: the persist timer's back-off
  uint32_t ooo_drops;          // Out-of-order segments dropped: no range left to keep them
  uint8_t events;              // TCP_EV_* bits gathered during a call, raised as it ends
};

// Calls: ops->event may call tcp_read / tcp_write / tcp_shutdown / tcp_abort on c, but
// the stack frees c only after TCP_EV_CLOSED, or outside the engine's calls.

// Set c up over the stack's buffers (both sizes > 0); state CLOSED
void tcp_init(struct tcp_conn *c, const struct tcp_conf *conf, const struct tcp_ops *ops, void *ctx,
              uint8_t *rx_buf, uint32_t rx_size, uint8_t *tx_buf, uint32_t tx_size);
// Active open: SYN with iss; SYN_SENT
void tcp_connect(struct tcp_conn *c, uint32_t iss, uint64_t now);
// Passive open from a listener: the SYN that arrived; SYN-ACK with iss; SYN_RCVD
void tcp_accept(struct tcp_conn *c, const struct tcp_seg *syn, uint32_t iss, uint64_t now);
// A segment for this connection
void tcp_input(struct tcp_conn *c, const struct tcp_seg *seg, uint64_t now);
// The application reads in-order data (the window opens: a window update may go out)
size_t tcp_read(struct tcp_conn *c, void *buf, size_t len, uint64_t now);
// The application queues data; returns how much fit. Sends what the window allows.
size_t tcp_write(struct tcp_conn *c, const void *buf, size_t len, uint64_t now);
// No more data from us: FIN after what is queued
void tcp_shutdown(struct tcp_conn *c, uint64_t now);
// Tear down at once: RST to the peer (if synchronized), then CLOSED, no event
void tcp_abort(struct tcp_conn *c);
// Retransmission, zero-window probe, keep-alive, delayed ACK, TIME_WAIT
void tcp_timer(struct tcp_conn *c, uint64_t now);
// When tcp_timer next has work (0: none), so the stack knows how long it may sleep
uint64_t tcp_next_deadline(const struct tcp_conn *c);

uint32_t tcp_send_mss(const struct tcp_conn *c);  // The peer's MSS, within ours: one segment on the wire
size_t tcp_readable(const struct tcp_conn *c);  // In-order bytes to read
size_t tcp_writable(const struct tcp_conn *c);  // Room in the send buffer
bool tcp_eof(const struct tcp_conn *c);         // The peer's FIN reached us and everything before it was read

// A segment that reached no connection (RFC 9293 3.10.7.1): fills the RST that answers
// it; false when none is due (the segment was itself a RST)
bool tcp_reset_for(const struct tcp_seg *in, struct tcp_seg *rst);

// Initial sequence numbers (RFC 6528 in spirit): a clock-driven counter plus a random
// offset per connection, from mg_random
uint32_t tcp_new_iss(uint64_t now);
#endif  // TCPIP_TCP_H
