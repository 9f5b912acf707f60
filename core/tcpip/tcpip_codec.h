// Wire formats of the built-in stack as pure functions over a buffer: Ethernet II,
// ARP (RFC 826), IPv4 (RFC 791), ICMP (RFC 792), UDP (RFC 768), the TCP header, RFC 1071's checksum.
#ifndef TCPIP_CODEC_H
#define TCPIP_CODEC_H

#include "tcpip/tcp.h"

#if MG_ENABLE_TCPIP
enum {
  TCPIP_ETH_HDR = 14,
  TCPIP_ETH_MTU = 1500,                           // The largest IPv4 packet a frame carries
  TCPIP_ETH_FRAME = TCPIP_ETH_HDR + TCPIP_ETH_MTU, // Without the FCS
  TCPIP_ETH_IPV4 = 0x0800,
  TCPIP_ETH_ARP = 0x0806,
  TCPIP_ARP_LEN = 28,  // Ethernet and IPv4 addresses
  TCPIP_ARP_REQUEST = 1,
  TCPIP_ARP_REPLY = 2,
  TCPIP_IP_HDR = 20,  // Without options: all we send
  TCPIP_IP_ICMP = 1,
  TCPIP_IP_TCP = 6,
  TCPIP_IP_UDP = 17,
  TCPIP_ICMP_HDR = 8,
  TCPIP_ICMP_ECHO_REPLY = 0,
  TCPIP_ICMP_ECHO_REQUEST = 8,
  TCPIP_UDP_HDR = 8,
  TCPIP_TCP_HDR = 20,
  TCPIP_TCP_HDR_MAX = 60,
};

// What a parser found; the stack counts each kind of drop apart
enum tcpip_codec_result { TCPIP_CODEC_OK, TCPIP_CODEC_MALFORMED, TCPIP_CODEC_BAD_CSUM };

// RFC 1071's sum, 32 bits at a time. Pieces are added in order, every one but the
// last of even length; tcpip_csum_fold gives the checksum as it goes on the wire
// (store it with memcpy). A received header whose sum folds to 0 is intact.
uint64_t tcpip_csum_add(uint64_t sum, const void *buf, size_t len);
uint16_t tcpip_csum_fold(uint64_t sum);
// The pseudo-header of UDP and TCP (RFC 768, RFC 9293 3.1); addresses in network order
uint64_t tcpip_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len);

struct tcpip_eth {
  const uint8_t *dst, *src;
  uint16_t type;
  const uint8_t *payload;  // Up to the end of the frame (padding included)
  size_t len;
};
bool tcpip_eth_parse(const uint8_t *buf, size_t len, struct tcpip_eth *eth);
void tcpip_eth_put(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type);

struct tcpip_arp {  // Only Ethernet hardware and IPv4 protocol addresses
  uint16_t op;      // TCPIP_ARP_REQUEST or TCPIP_ARP_REPLY
  uint8_t sha[6], tha[6];
  uint32_t spa, tpa;  // Network order
};
enum tcpip_codec_result tcpip_arp_parse(const uint8_t *buf, size_t len, struct tcpip_arp *arp);
void tcpip_arp_put(uint8_t *buf, const struct tcpip_arp *arp);  // TCPIP_ARP_LEN bytes

struct tcpip_ip {
  uint8_t proto, ttl;
  uint16_t id;
  uint32_t src, dst;       // Network order
  bool fragment;           // More fragments, or an offset: not a whole datagram
  const uint8_t *payload;  // After the options, up to the total length
  size_t len;
};
// Checks version, header length, total length against the buffer, header checksum
enum tcpip_codec_result tcpip_ip_parse(const uint8_t *buf, size_t len, struct tcpip_ip *ip);
// A 20-byte header for len bytes of payload, don't-fragment set, checksum filled
void tcpip_ip_put(uint8_t *buf, const struct tcpip_ip *ip, size_t len);

struct tcpip_icmp {
  uint8_t type, code;
  uint16_t id, seq;       // Echo's identifier and sequence number, network order
  const uint8_t *data;    // After the 8-byte header
  size_t len;
};
enum tcpip_codec_result tcpip_icmp_parse(const uint8_t *buf, size_t len, struct tcpip_icmp *icmp);
// An ICMP message of TCPIP_ICMP_HDR + icmp->len bytes, icmp->data copied (may overlap buf's tail)
size_t tcpip_icmp_put(uint8_t *buf, const struct tcpip_icmp *icmp);

struct tcpip_udp {
  uint16_t sport, dport;  // Network order
  const uint8_t *data;
  size_t len;
};
// buf: the IPv4 payload; a checksum of 0 means the sender computed none
enum tcpip_codec_result tcpip_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       struct tcpip_udp *udp);
// The same without the checksum, for a frame whose driver vouches for it (ifp->rx_csum_vouched)
enum tcpip_codec_result tcpip_udp_parse_vouched(const uint8_t *buf, size_t len, struct tcpip_udp *udp);
// Header and checksum in front of udp->len bytes already at buf + TCPIP_UDP_HDR
size_t tcpip_udp_put(uint8_t *buf, const struct tcpip_udp *udp, uint32_t src, uint32_t dst);

struct tcpip_tcp {
  uint16_t sport, dport;  // Network order
  struct tcp_seg seg;
  bool csum_partial;  // Put: the checksum field gets the pseudo-header's sum only, for a driver
                      // that completes it (virtio's NEEDS_CSUM). Parse: false
};
// buf: the IPv4 payload. The MSS option is read on SYN segments; other options are
// skipped, and any that runs past the header makes the segment malformed.
enum tcpip_codec_result tcpip_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       struct tcpip_tcp *tcp);
// The same without the checksum, for a frame whose driver vouches for it (ifp->rx_csum_vouched)
enum tcpip_codec_result tcpip_tcp_parse_vouched(const uint8_t *buf, size_t len, struct tcpip_tcp *tcp);
// Header (with the MSS option when seg.mss is set on a SYN), payload copied, checksum;
// returns the segment's size, 0 if it does not fit in size
size_t tcpip_tcp_put(uint8_t *buf, size_t size, const struct tcpip_tcp *tcp, uint32_t src, uint32_t dst);

// DHCP (RFC 2131, options of RFC 2132) over Ethernet: what a client sends and reads
enum {
  TCPIP_DHCP_DISCOVER = 1, TCPIP_DHCP_OFFER, TCPIP_DHCP_REQUEST, TCPIP_DHCP_DECLINE, TCPIP_DHCP_ACK,
  TCPIP_DHCP_NAK, TCPIP_DHCP_RELEASE,
  TCPIP_DHCP_SIZE = 300,  // What tcpip_dhcp_put writes: BOOTP's minimum, which some servers insist on
};
struct tcpip_dhcp_msg {
  uint8_t op, type;             // op: 1 request, 2 reply; type: TCPIP_DHCP_* (option 53)
  uint32_t xid;                 // Host order
  uint8_t chaddr[6];
  uint32_t ciaddr, yiaddr;      // The addresses below are network order, 0: absent
  uint32_t requested, server_id, mask, router, dns;  // Options 50, 54, 1, 3, 6 (their first address)
  uint32_t lease_s, t1_s, t2_s;  // Options 51, 58, 59, seconds (0: absent)
};
// A message for Ethernet with the magic cookie (a server's reply has op 2); options must not run past
// the buffer, and those read must have their sizes. sname and file are not read (option 52)
enum tcpip_codec_result tcpip_dhcp_parse(const uint8_t *buf, size_t len, struct tcpip_dhcp_msg *msg);
// A client's message (op 1) of TCPIP_DHCP_SIZE bytes: type, requested address and server
// identifier when set, the parameters we want
size_t tcpip_dhcp_put(uint8_t *buf, const struct tcpip_dhcp_msg *msg);
#endif  // MG_ENABLE_TCPIP

#endif  // TCPIP_CODEC_H
