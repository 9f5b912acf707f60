// Wire formats of the built-in stack: parsers that check every length against the
// buffer before reading, and builders that fill headers and checksums in place.
#include "tcpip/tcpip_codec.h"

#if MG_ENABLE_TCPIP
static uint16_t codec_u16(const uint8_t *p) {
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t codec_u32(const uint8_t *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static void codec_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t) (v >> 8), p[1] = (uint8_t) v;
}

static void codec_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16), p[2] = (uint8_t) (v >> 8), p[3] = (uint8_t) v;
}

// Words are added in memory order: RFC 1071's sum is the same in either byte order
// as long as the result is stored back the same way (section 2.B)
uint64_t tcpip_csum_add(uint64_t sum, const void *buf, size_t len) {
  const uint8_t *p = (const uint8_t *) buf;
  uint32_t w32;
  uint16_t w16;
  for (; len >= 4; p += 4, len -= 4) {
    memcpy(&w32, p, 4);
    sum += w32;
  }
  if (len >= 2) {
    memcpy(&w16, p, 2);
    sum += w16;
    p += 2, len -= 2;
  }
  if (len == 1) {
    uint8_t last[2] = {p[0], 0};  // An odd byte is the high half of a last word
    memcpy(&w16, last, 2);
    sum += w16;
  }
  return sum;
}

uint16_t tcpip_csum_fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) ~sum;
}

uint64_t tcpip_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, size_t len) {
  uint8_t ph[12];
  memcpy(ph, &src, 4);
  memcpy(ph + 4, &dst, 4);
  ph[8] = 0, ph[9] = proto;
  codec_put_u16(ph + 10, (uint16_t) len);
  return tcpip_csum_add(0, ph, sizeof(ph));
}

static void codec_put_csum(uint8_t *at, uint64_t sum) {
  uint16_t csum = tcpip_csum_fold(sum);
  memcpy(at, &csum, 2);
}

bool tcpip_eth_parse(const uint8_t *buf, size_t len, struct tcpip_eth *eth) {
  if (len < TCPIP_ETH_HDR) return false;
  eth->dst = buf, eth->src = buf + 6;
  eth->type = codec_u16(buf + 12);
  eth->payload = buf + TCPIP_ETH_HDR, eth->len = len - TCPIP_ETH_HDR;
  return true;
}

void tcpip_eth_put(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type) {
  memcpy(buf, dst, 6);
  memcpy(buf + 6, src, 6);
  codec_put_u16(buf + 12, type);
}

enum tcpip_codec_result tcpip_arp_parse(const uint8_t *buf, size_t len, struct tcpip_arp *arp) {
  if (len < TCPIP_ARP_LEN || codec_u16(buf) != 1 || codec_u16(buf + 2) != TCPIP_ETH_IPV4 || buf[4] != 6 ||
      buf[5] != 4) {
    return TCPIP_CODEC_MALFORMED;
  }
  arp->op = codec_u16(buf + 6);
  if (arp->op != TCPIP_ARP_REQUEST && arp->op != TCPIP_ARP_REPLY) return TCPIP_CODEC_MALFORMED;
  memcpy(arp->sha, buf + 8, 6);
  memcpy(&arp->spa, buf + 14, 4);
  memcpy(arp->tha, buf + 18, 6);
  memcpy(&arp->tpa, buf + 24, 4);
  return TCPIP_CODEC_OK;
}

void tcpip_arp_put(uint8_t *buf, const struct tcpip_arp *arp) {
  codec_put_u16(buf, 1);
  codec_put_u16(buf + 2, TCPIP_ETH_IPV4);
  buf[4] = 6, buf[5] = 4;
  codec_put_u16(buf + 6, arp->op);
  memcpy(buf + 8, arp->sha, 6);
  memcpy(buf + 14, &arp->spa, 4);
  memcpy(buf + 18, arp->tha, 6);
  memcpy(buf + 24, &arp->tpa, 4);
}

// RFC 791 3.1. Frames may carry padding past the datagram (Ethernet's 60-byte
// minimum): the total length, not the frame, says where it ends. TTL is not checked
// on receipt (RFC 1122 3.2.1.7).
enum tcpip_codec_result tcpip_ip_parse(const uint8_t *buf, size_t len, struct tcpip_ip *ip) {
  if (len < TCPIP_IP_HDR || (buf[0] >> 4) != 4) return TCPIP_CODEC_MALFORMED;
  size_t ihl = (size_t) (buf[0] & 0x0f) * 4, total = codec_u16(buf + 2);
  if (ihl < TCPIP_IP_HDR || ihl > len || total < ihl || total > len) return TCPIP_CODEC_MALFORMED;
  if (tcpip_csum_fold(tcpip_csum_add(0, buf, ihl)) != 0) return TCPIP_CODEC_BAD_CSUM;
  uint16_t frag = codec_u16(buf + 6);
  ip->fragment = (frag & 0x2000) != 0 || (frag & 0x1fff) != 0;  // MF, or an offset
  ip->id = codec_u16(buf + 4);
  ip->ttl = buf[8], ip->proto = buf[9];
  memcpy(&ip->src, buf + 12, 4);
  memcpy(&ip->dst, buf + 16, 4);
  ip->payload = buf + ihl, ip->len = total - ihl;
  return TCPIP_CODEC_OK;
}

void tcpip_ip_put(uint8_t *buf, const struct tcpip_ip *ip, size_t len) {
  buf[0] = 0x45, buf[1] = 0;
  codec_put_u16(buf + 2, (uint16_t) (TCPIP_IP_HDR + len));
  codec_put_u16(buf + 4, ip->id);
  codec_put_u16(buf + 6, 0x4000);  // Don't fragment: we never do, and never reassemble
  buf[8] = ip->ttl, buf[9] = ip->proto;
  memset(buf + 10, 0, 2);
  memcpy(buf + 12, &ip->src, 4);
  memcpy(buf + 16, &ip->dst, 4);
  codec_put_csum(buf + 10, tcpip_csum_add(0, buf, TCPIP_IP_HDR));
}

enum tcpip_codec_result tcpip_icmp_parse(const uint8_t *buf, size_t len, struct tcpip_icmp *icmp) {
  if (len < TCPIP_ICMP_HDR) return TCPIP_CODEC_MALFORMED;
  if (tcpip_csum_fold(tcpip_csum_add(0, buf, len)) != 0) return TCPIP_CODEC_BAD_CSUM;
  icmp->type = buf[0], icmp->code = buf[1];
  memcpy(&icmp->id, buf + 4, 2);
  memcpy(&icmp->seq, buf + 6, 2);
  icmp->data = buf + TCPIP_ICMP_HDR, icmp->len = len - TCPIP_ICMP_HDR;
  return TCPIP_CODEC_OK;
}

size_t tcpip_icmp_put(uint8_t *buf, const struct tcpip_icmp *icmp) {
  memmove(buf + TCPIP_ICMP_HDR, icmp->data, icmp->len);
  buf[0] = icmp->type, buf[1] = icmp->code;
  memset(buf + 2, 0, 2);
  memcpy(buf + 4, &icmp->id, 2);
  memcpy(buf + 6, &icmp->seq, 2);
  codec_put_csum(buf + 2, tcpip_csum_add(0, buf, TCPIP_ICMP_HDR + icmp->len));
  return TCPIP_ICMP_HDR + icmp->len;
}

// RFC 768: the length field bounds the datagram within the IPv4 payload
enum tcpip_codec_result tcpip_udp_parse_vouched(const uint8_t *buf, size_t len, struct tcpip_udp *udp) {
  if (len < TCPIP_UDP_HDR) return TCPIP_CODEC_MALFORMED;
  size_t ulen = codec_u16(buf + 4);
  if (ulen < TCPIP_UDP_HDR || ulen > len) return TCPIP_CODEC_MALFORMED;
  memcpy(&udp->sport, buf, 2);
  memcpy(&udp->dport, buf + 2, 2);
  udp->data = buf + TCPIP_UDP_HDR, udp->len = ulen - TCPIP_UDP_HDR;
  return TCPIP_CODEC_OK;
}

enum tcpip_codec_result tcpip_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       struct tcpip_udp *udp) {
  enum tcpip_codec_result r = tcpip_udp_parse_vouched(buf, len, udp);
  if (r != TCPIP_CODEC_OK || (buf[6] == 0 && buf[7] == 0)) return r;  // 0: the sender computed none
  size_t ulen = TCPIP_UDP_HDR + udp->len;
  bool ok = tcpip_csum_fold(tcpip_csum_add(tcpip_csum_pseudo(src, dst, TCPIP_IP_UDP, ulen), buf, ulen)) == 0;
  return ok ? TCPIP_CODEC_OK : TCPIP_CODEC_BAD_CSUM;
}

size_t tcpip_udp_put(uint8_t *buf, const struct tcpip_udp *udp, uint32_t src, uint32_t dst) {
  size_t ulen = TCPIP_UDP_HDR + udp->len;
  memcpy(buf, &udp->sport, 2);
  memcpy(buf + 2, &udp->dport, 2);
  codec_put_u16(buf + 4, (uint16_t) ulen);
  memset(buf + 6, 0, 2);
  uint16_t csum = tcpip_csum_fold(tcpip_csum_add(tcpip_csum_pseudo(src, dst, TCPIP_IP_UDP, ulen), buf, ulen));
  if (csum == 0) csum = 0xffff;  // 0 on the wire says "no checksum"; both are zero in one's complement
  memcpy(buf + 6, &csum, 2);
  return ulen;
}

// Options between the fixed header and the data offset (RFC 9293 3.1): end, no-op,
// or kind, length (>= 2, within the header), value. MSS (kind 2) is 4 bytes long.
static bool codec_tcp_options(const uint8_t *opt, size_t len, uint16_t *mss) {
  for (size_t i = 0; i < len;) {
    uint8_t kind = opt[i];
    if (kind == 0) break;
    if (kind == 1) {
      i++;
      continue;
    }
    if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i) return false;
    if (kind == 2) {
      if (opt[i + 1] != 4) return false;
      *mss = codec_u16(opt + i + 2);
    }
    i += opt[i + 1];
  }
  return true;
}

enum tcpip_codec_result tcpip_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       struct tcpip_tcp *tcp) {
  if (len < TCPIP_TCP_HDR) return TCPIP_CODEC_MALFORMED;
  size_t doff = (size_t) (buf[12] >> 4) * 4;
  if (doff < TCPIP_TCP_HDR || doff > len) return TCPIP_CODEC_MALFORMED;
  if (tcpip_csum_fold(tcpip_csum_add(tcpip_csum_pseudo(src, dst, TCPIP_IP_TCP, len), buf, len)) != 0)
    return TCPIP_CODEC_BAD_CSUM;
  return tcpip_tcp_parse_vouched(buf, len, tcp);
}

enum tcpip_codec_result tcpip_tcp_parse_vouched(const uint8_t *buf, size_t len, struct tcpip_tcp *tcp) {
  if (len < TCPIP_TCP_HDR) return TCPIP_CODEC_MALFORMED;
  size_t doff = (size_t) (buf[12] >> 4) * 4;
  if (doff < TCPIP_TCP_HDR || doff > len) return TCPIP_CODEC_MALFORMED;
  uint16_t mss = 0;
  if (!codec_tcp_options(buf + TCPIP_TCP_HDR, doff - TCPIP_TCP_HDR, &mss)) return TCPIP_CODEC_MALFORMED;
  memset(tcp, 0, sizeof(*tcp));
  memcpy(&tcp->sport, buf, 2);
  memcpy(&tcp->dport, buf + 2, 2);
  tcp->seg.seq = codec_u32(buf + 4);
  tcp->seg.ack = codec_u32(buf + 8);
  tcp->seg.flags = buf[13] & 0x3f;  // ECE and CWR (RFC 3168) are not ours to act on
  tcp->seg.wnd = codec_u16(buf + 14);
  tcp->seg.mss = (tcp->seg.flags & TCP_SYN) ? mss : 0;  // Only a SYN may carry it (RFC 9293 3.7.1)
  tcp->seg.data = buf + doff, tcp->seg.len = len - doff;
  tcp->seg.data2 = NULL, tcp->seg.len2 = 0;
  return TCPIP_CODEC_OK;
}

size_t tcpip_tcp_put(uint8_t *buf, size_t size, const struct tcpip_tcp *tcp, uint32_t src, uint32_t dst) {
  const struct tcp_seg *s = &tcp->seg;
  size_t hdr = TCPIP_TCP_HDR + (s->mss != 0 && (s->flags & TCP_SYN) ? 4 : 0);
  if (size < hdr || s->len > size - hdr) return 0;
  if (s->len > 0) tcp_seg_copy(s, buf + hdr);  // The engine's data may wrap around its ring: two pieces
  memcpy(buf, &tcp->sport, 2);
  memcpy(buf + 2, &tcp->dport, 2);
  codec_put_u32(buf + 4, s->seq);
  codec_put_u32(buf + 8, s->ack);
  buf[12] = (uint8_t) ((hdr / 4) << 4), buf[13] = s->flags;
  codec_put_u16(buf + 14, s->wnd);
  memset(buf + 16, 0, 4);  // Checksum, urgent pointer
  if (hdr > TCPIP_TCP_HDR) {
    buf[20] = 2, buf[21] = 4;
    codec_put_u16(buf + 22, s->mss);
  }
  uint64_t pseudo = tcpip_csum_pseudo(src, dst, TCPIP_IP_TCP, hdr + s->len);
  if (tcp->csum_partial) {
    uint16_t sum = (uint16_t) ~tcpip_csum_fold(pseudo);  // What the driver's own sum then completes
    memcpy(buf + 16, &sum, 2);
  } else {
    codec_put_csum(buf + 16, tcpip_csum_add(pseudo, buf, hdr + s->len));
  }
  return hdr + s->len;
}
enum { CODEC_DHCP_FIXED = 236, CODEC_DHCP_OPTIONS = 240 };  // The BOOTP part, then the cookie
static const uint8_t codec_dhcp_cookie[4] = {99, 130, 83, 99};

// An option with an address or a number: len must be its size (RFC 2132), or, for
// lists of addresses (router, DNS), a multiple of it, of which the first is taken
static bool codec_dhcp_u32(const uint8_t *v, size_t len, bool list, uint32_t *out, bool as_address) {
  if (len != 4 && !(list && len > 4 && len % 4 == 0)) return false;
  if (as_address) memcpy(out, v, 4);
  else *out = codec_u32(v);
  return true;
}

static bool codec_dhcp_option(uint8_t code, const uint8_t *v, size_t len, struct tcpip_dhcp_msg *m) {
  switch (code) {
    case 53:
      if (len != 1) return false;
      m->type = v[0];
      return true;
    case 1: return codec_dhcp_u32(v, len, false, &m->mask, true);
    case 3: return codec_dhcp_u32(v, len, true, &m->router, true);
    case 6: return codec_dhcp_u32(v, len, true, &m->dns, true);
    case 50: return codec_dhcp_u32(v, len, false, &m->requested, true);
    case 54: return codec_dhcp_u32(v, len, false, &m->server_id, true);
    case 51: return codec_dhcp_u32(v, len, false, &m->lease_s, false);
    case 58: return codec_dhcp_u32(v, len, false, &m->t1_s, false);
    case 59: return codec_dhcp_u32(v, len, false, &m->t2_s, false);
    default: return true;  // Not ours to read
  }
}

enum tcpip_codec_result tcpip_dhcp_parse(const uint8_t *buf, size_t len, struct tcpip_dhcp_msg *m) {
  if (len < CODEC_DHCP_OPTIONS || (buf[0] != 1 && buf[0] != 2) || buf[1] != 1 || buf[2] != 6 ||
      memcmp(buf + CODEC_DHCP_FIXED, codec_dhcp_cookie, 4) != 0) {
    return TCPIP_CODEC_MALFORMED;
  }
  memset(m, 0, sizeof(*m));
  m->op = buf[0];
  m->xid = codec_u32(buf + 4);
  memcpy(&m->ciaddr, buf + 12, 4);
  memcpy(&m->yiaddr, buf + 16, 4);
  memcpy(m->chaddr, buf + 28, 6);
  for (size_t i = CODEC_DHCP_OPTIONS; i < len && buf[i] != 255;) {  // 255: end
    if (buf[i] == 0) {  // Pad
      i++;
      continue;
    }
    if (i + 1 >= len || buf[i + 1] > len - i - 2) return TCPIP_CODEC_MALFORMED;
    if (!codec_dhcp_option(buf[i], buf + i + 2, buf[i + 1], m)) return TCPIP_CODEC_MALFORMED;
    i += 2 + (size_t) buf[i + 1];
  }
  return m->type == 0 ? TCPIP_CODEC_MALFORMED : TCPIP_CODEC_OK;
}

static uint8_t *codec_dhcp_put_address(uint8_t *p, uint8_t code, uint32_t ip) {
  if (ip == 0) return p;
  p[0] = code, p[1] = 4;
  memcpy(p + 2, &ip, 4);
  return p + 6;
}

size_t tcpip_dhcp_put(uint8_t *buf, const struct tcpip_dhcp_msg *m) {
  static const uint8_t params[] = {55, 6, 1, 3, 6, 51, 58, 59};  // Mask, router, DNS, lease, T1, T2
  memset(buf, 0, TCPIP_DHCP_SIZE);
  buf[0] = 1, buf[1] = 1, buf[2] = 6;
  codec_put_u32(buf + 4, m->xid);
  memcpy(buf + 12, &m->ciaddr, 4);
  memcpy(buf + 28, m->chaddr, 6);
  memcpy(buf + CODEC_DHCP_FIXED, codec_dhcp_cookie, 4);
  uint8_t *p = buf + CODEC_DHCP_OPTIONS;
  p[0] = 53, p[1] = 1, p[2] = m->type;
  p = codec_dhcp_put_address(p + 3, 50, m->requested);
  p = codec_dhcp_put_address(p, 54, m->server_id);
  memcpy(p, params, sizeof(params));
  p[sizeof(params)] = 255;
  return TCPIP_DHCP_SIZE;
}
#endif  // MG_ENABLE_TCPIP
