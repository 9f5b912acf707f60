// What the files of the built-in stack share and nothing else sees: the interface's
// state behind ifp->stack, and the calls between Ethernet, ARP, IPv4, UDP, DHCP and the backend.
#ifndef TCPIP_INTERNAL_H
#define TCPIP_INTERNAL_H

#include "mg_internal.h"
#include "tcpip/tcpip_codec.h"

#if MG_ENABLE_TCPIP
enum {
  TCPIP_ARP_TTL_MS = 120000,   // A neighbour's address is asked again after this (RFC 1122 2.3.2.1)
  TCPIP_ARP_RETRY_MS = 1000,   // Between requests for an address that has not answered
  TCPIP_ARP_TRIES = 3,         // Requests before giving up (the frame held is dropped)
  TCPIP_TTL = 64,              // For what we send (RFC 1700's default)
  TCPIP_EPHEMERAL_LO = 49152,  // Local ports for mg_connect and port 0 (RFC 6335)
  // The frame buffers: Ethernet's, or more for a driver that segments (MG_TCPIP_FRAME_MAX)
  TCPIP_TX_FRAME = MG_TCPIP_FRAME_MAX > TCPIP_ETH_FRAME ? MG_TCPIP_FRAME_MAX : TCPIP_ETH_FRAME,
  TCPIP_RX_FRAME = TCPIP_TX_FRAME + 4,  // Room for a frame with its FCS
  TCPIP_WAKEUP_SLICE_MS = 50,  // A driver's wait is cut this short while mg_wakeup can post
};

enum tcpip_arp_state { TCPIP_ARP_FREE, TCPIP_ARP_RESOLVING, TCPIP_ARP_KNOWN };

struct tcpip_arp_entry {
  uint32_t ip;          // Network order
  uint8_t mac[6];
  uint8_t state;        // enum tcpip_arp_state
  uint8_t tries;        // Requests sent while resolving
  int8_t held;          // Index in held[] of the frame waiting for this address, -1: none
  uint64_t stamp;       // Resolving: the last request; known: when learned
};

struct tcpip_held_frame {  // A frame whose destination MAC is filled in once resolved
  uint16_t len;            // 0: the slot is free
  uint8_t frame[TCPIP_ETH_FRAME];
};

// A datagram being handed to its connection (tcpip_be.c): mg_be_recv copies it out
struct tcpip_dgram {
  struct mg_connection *c;
  const uint8_t *data;
  size_t len;
  uint32_t src;
  uint16_t sport;
  bool taken;
};

enum tcpip_dhcp_phase {  // RFC 2131 4.4's client states
  TCPIP_DHCP_INIT, TCPIP_DHCP_SELECTING, TCPIP_DHCP_REQUESTING, TCPIP_DHCP_BOUND, TCPIP_DHCP_RENEWING,
  TCPIP_DHCP_REBINDING
};

struct tcpip_dhcp {
  uint8_t phase;           // enum tcpip_dhcp_phase
  uint8_t tries;           // Messages sent in this phase
  bool silence_logged;     // "No server answers" said once
  uint32_t xid;
  uint32_t offered, server;       // Network order
  uint64_t next_at;               // Retransmission
  uint64_t t1_at, t2_at, end_at;  // Renew, rebind, lease over (0: an infinite lease)
  char dns_url[24];               // "udp://A.B.C.D:53", what mgr->dns4.url points to
};

enum tcpip_tcb_phase {
  TCPIP_TCB_BACKLOG,  // Passive open: the handshake, then waiting for mg_be_accept
  TCPIP_TCB_OPEN,     // The application's connection (c)
  TCPIP_TCB_ORPHAN,   // Closed by the application, finishing (FIN, TIME_WAIT): the stack's alone
};

// A TCP connection: the engine's state, then its receive and send buffers in the same block
struct tcpip_tcb {
  struct tcp_conn tcp;
  struct tcpip_tcb *next;
  struct mg_tcpip_if *ifp;
  struct mg_connection *c;       // While TCPIP_TCB_OPEN
  uint32_t rem_ip;               // Network order
  uint16_t rem_port, loc_port;   // Network order
  uint8_t phase;                 // enum tcpip_tcb_phase
  bool established;              // The handshake completed
  bool dead;                     // TCP_EV_CLOSED came: reason says why
  bool resolving;                // An active open waiting for its next hop's MAC, until arp_until
  const char *reason;
  uint64_t arp_until;
  uint32_t retransmits_counted, ooo_counted;  // What the interface's counters already hold
};

struct tcpip_state {
  uint8_t rx[TCPIP_RX_FRAME];
  struct tcpip_arp_entry arp[MG_TCPIP_ARP_SIZE];
  struct tcpip_held_frame held[MG_TCPIP_ARP_PENDING];
  struct tcpip_dgram dgram;
  uint64_t next_second;     // When driver->poll next gets s1
  uint32_t announced_ip;    // The address gratuitous ARP last announced (0: none)
  uint64_t conflict_logged; // When another host's claim on our address was last logged
  uint16_t ip_id;           // Identification of the next datagram
  uint16_t next_port;       // The next ephemeral port to try, host order
  bool link_up;
#if MG_ENABLE_TCPIP_DHCP
  struct tcpip_dhcp dhcp;   // The DHCP client's (tcpip_dhcp.c)
#endif
  struct tcpip_tcb *tcbs;   // TCP connections (tcpip_tcp.c)
  unsigned ntcbs;
  uint8_t tx_own[];         // TCPIP_TX_FRAME bytes to build frames in, unless ifp->tx holds one
};

static inline struct tcpip_state *tcpip_state(struct mg_tcpip_if *ifp) {
  return (struct tcpip_state *) ifp->stack;
}

// tcpip_if.c: frames in and out
uint8_t *tcpip_tx_buf(struct mg_tcpip_if *ifp);  // TCPIP_ETH_FRAME bytes at least to build a frame in
bool tcpip_tx(struct mg_tcpip_if *ifp, uint8_t *frame, size_t len);  // Pads to 60; false: counted tx_fail
// The largest TCP frame the driver segments itself (within the frame buffer); 0: none
size_t tcpip_tso_max(struct mg_tcpip_if *ifp);
bool tcpip_tx_tcp(struct mg_tcpip_if *ifp, uint8_t *frame, size_t len, uint16_t mss);  // Through tx_tcp
size_t tcpip_rx_burst(struct mg_tcpip_if *ifp, size_t max);          // Frames taken from the driver
void tcpip_poll(struct mg_tcpip_if *ifp, uint64_t now);                    // Link, timers
uint64_t tcpip_next_deadline(struct mg_tcpip_if *ifp);                     // 0: none
void tcpip_set_state(struct mg_tcpip_if *ifp, uint8_t state);

// tcpip_arp.c
void tcpip_arp_input(struct mg_tcpip_if *ifp, const uint8_t *payload, size_t len);
// Sends the IPv4 frame in tx (Ethernet header's destination left to fill) to next_hop,
// holding it while the address resolves
bool tcpip_arp_send(struct mg_tcpip_if *ifp, uint32_t next_hop, uint8_t *frame, size_t len);
void tcpip_arp_timer(struct mg_tcpip_if *ifp, uint64_t now);
uint64_t tcpip_arp_deadline(struct mg_tcpip_if *ifp);  // When the timer next has work; 0: none
void tcpip_arp_resolve(struct mg_tcpip_if *ifp, uint32_t ip);  // Ask for ip's MAC, holding no frame
void tcpip_arp_announce(struct mg_tcpip_if *ifp);  // Gratuitous ARP for ifp->ip
void tcpip_arp_flush(struct mg_tcpip_if *ifp);
const uint8_t *tcpip_arp_lookup(struct mg_tcpip_if *ifp, uint32_t ip);  // NULL: not known

// tcpip_ip.c
void tcpip_ip_input(struct mg_tcpip_if *ifp, const uint8_t *payload, size_t len);
// The IPv4 payload goes at tx + TCPIP_ETH_HDR + TCPIP_IP_HDR; this adds the headers and sends
bool tcpip_ip_send(struct mg_tcpip_if *ifp, uint32_t dst, uint8_t proto, size_t len);
// The same for a TCP segment whose checksum the driver completes and which it cuts into mss-byte
// pieces (tx_tcp): false, and nothing sent, unless the driver offers it and the next hop's MAC is
// known (a frame held for ARP goes out later through tx, complete)
bool tcpip_ip_send_tcp_offload(struct mg_tcpip_if *ifp, uint32_t dst, size_t len, uint16_t mss);
bool tcpip_ip_offload_ready(struct mg_tcpip_if *ifp, uint32_t dst);  // Asks ARP if need be
bool tcpip_ip_is_broadcast(struct mg_tcpip_if *ifp, uint32_t ip);
// UDP out: payload at tx + TCPIP_ETH_HDR + TCPIP_IP_HDR + TCPIP_UDP_HDR; ports network order
bool tcpip_udp_send(struct mg_tcpip_if *ifp, uint32_t dst, uint16_t sport, uint16_t dport, size_t len);
uint8_t *tcpip_udp_payload(struct mg_tcpip_if *ifp);

// tcpip_be.c: a datagram for the connections; false when no one listens on its port
bool tcpip_be_deliver_udp(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_udp *udp);

// tcpip_be.c: the TCP listener on port (network order); NULL: none
struct mg_connection *tcpip_be_tcp_listener(struct mg_tcpip_if *ifp, uint16_t port);

// tcpip_tcp.c: TCP connections between the wire and the backend seam
void tcpip_tcp_input(struct mg_tcpip_if *ifp, const struct tcpip_ip *ip, const struct tcpip_tcp *tcp);
// Active open for c (c->rem): ARP first, then SYN. NULL with *why when refused
struct tcpip_tcb *tcpip_tcp_connect(struct mg_tcpip_if *ifp, struct mg_connection *c, uint16_t loc_port,
                                    const char **why);
// The oldest established connection in port's backlog, now the application's c
struct tcpip_tcb *tcpip_tcp_accept(struct mg_tcpip_if *ifp, uint16_t port, struct mg_connection *c);
bool tcpip_tcp_backlog_ready(struct mg_tcpip_if *ifp, uint16_t port);
void tcpip_tcp_backlog_drop(struct mg_tcpip_if *ifp, uint16_t port);  // The listener closed
// The application closed c: a graceful close goes on alone, unread input resets (as sockets do)
void tcpip_tcp_detach(struct tcpip_tcb *tcb);
bool tcpip_tcp_port_used(struct mg_tcpip_if *ifp, uint16_t port);
void tcpip_tcp_poll(struct mg_tcpip_if *ifp, uint64_t now);  // Timers, ARP waits, counters, the dead freed
uint64_t tcpip_tcp_deadline(struct mg_tcpip_if *ifp);       // 0: none
void tcpip_tcp_free_all(struct mg_tcpip_if *ifp);

// tcpip_dhcp.c: the client, when ifp->enable_dhcp_client in a build with MG_ENABLE_TCPIP_DHCP.
// The constant keeps a build without it from referring to, and so linking, any of it.
static inline bool tcpip_dhcp_on(const struct mg_tcpip_if *ifp) {
  return MG_ENABLE_TCPIP_DHCP && ifp->enable_dhcp_client;
}
void tcpip_dhcp_free(struct mg_tcpip_if *ifp);  // mgr->dns4.url no longer points at it
void tcpip_dhcp_input(struct mg_tcpip_if *ifp, const struct tcpip_udp *udp);
void tcpip_dhcp_timer(struct mg_tcpip_if *ifp, uint64_t now);
void tcpip_dhcp_link(struct mg_tcpip_if *ifp, bool up);  // Down: the lease is given up
uint64_t tcpip_dhcp_deadline(struct mg_tcpip_if *ifp);  // When the timer next has work
#endif  // MG_ENABLE_TCPIP

#endif  // TCPIP_INTERNAL_H
