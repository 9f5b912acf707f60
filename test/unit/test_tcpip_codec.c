// The stack's wire formats (core/tcpip/tcpip_codec.c) on good, bad and boundary input:
// every truncation, header lengths out of range, bad checksums, options past the header.
#include <criterion/criterion.h>
#include "tcpip/tcpip_codec.h"

#define SRC MG_IPV4(10, 0, 0, 1)
#define DST MG_IPV4(10, 0, 0, 2)

// RFC 1071 the slow way: 16-bit big-endian words, end-around carry
static uint16_t ref_csum(const uint8_t *p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i < len; i += 2) sum += (uint32_t) (p[i] << 8) + (i + 1 < len ? p[i + 1] : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) ~sum;
}

static uint16_t be16(uint16_t stored) {  // A checksum as tcpip_csum_fold gives it, read big-endian
  uint8_t b[2];
  memcpy(b, &stored, 2);
  return (uint16_t) (b[0] << 8 | b[1]);
}

Test(tcpip_codec, checksum_is_rfc_1071s_for_every_length_and_split) {
  const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};  // RFC 1071 3: sum ddf2
  cr_assert_eq(be16(tcpip_csum_fold(tcpip_csum_add(0, rfc, sizeof(rfc)))), (uint16_t) ~0xddf2);
  uint8_t buf[301];
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (uint8_t) (i * 7 + 0x5a);
  for (size_t len = 0; len <= sizeof(buf); len++) {
    cr_assert_eq(be16(tcpip_csum_fold(tcpip_csum_add(0, buf, len))), ref_csum(buf, len), "length %zu", len);
    size_t half = (len / 2) & ~(size_t) 1;  // Pieces of even length, then the rest
    uint64_t s = tcpip_csum_add(tcpip_csum_add(0, buf, half), buf + half, len - half);
    cr_assert_eq(be16(tcpip_csum_fold(s)), ref_csum(buf, len), "split at %zu of %zu", half, len);
  }
}

Test(tcpip_codec, checksum_of_all_ones_data_folds_every_carry) {
  uint8_t ones[4096];
  memset(ones, 0xff, sizeof(ones));
  cr_assert_eq(be16(tcpip_csum_fold(tcpip_csum_add(0, ones, sizeof(ones)))), ref_csum(ones, sizeof(ones)));
}

Test(tcpip_codec, ethernet_needs_a_whole_header) {
  uint8_t f[TCPIP_ETH_HDR] = {0};
  const uint8_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {7, 8, 9, 10, 11, 12};
  struct tcpip_eth e;
  tcpip_eth_put(f, a, b, TCPIP_ETH_ARP);
  for (size_t len = 0; len < sizeof(f); len++) cr_assert_not(tcpip_eth_parse(f, len, &e), "%zu bytes", len);
  cr_assert(tcpip_eth_parse(f, sizeof(f), &e));
  cr_assert(e.type == TCPIP_ETH_ARP && memcmp(e.dst, a, 6) == 0 && memcmp(e.src, b, 6) == 0 && e.len == 0);
}

static void arp_sample(uint8_t *buf) {
  struct tcpip_arp a = {TCPIP_ARP_REQUEST, {1, 2, 3, 4, 5, 6}, {0}, SRC, DST};
  tcpip_arp_put(buf, &a);
}

Test(tcpip_codec, arp_round_trip_and_every_truncation_refused) {
  uint8_t buf[TCPIP_ARP_LEN];
  struct tcpip_arp a;
  arp_sample(buf);
  for (size_t len = 0; len < sizeof(buf); len++) cr_assert_eq(tcpip_arp_parse(buf, len, &a), TCPIP_CODEC_MALFORMED);
  cr_assert_eq(tcpip_arp_parse(buf, sizeof(buf), &a), TCPIP_CODEC_OK);
  cr_assert(a.op == TCPIP_ARP_REQUEST && a.spa == SRC && a.tpa == DST && a.sha[5] == 6);
}

Test(tcpip_codec, arp_of_other_hardware_protocol_sizes_or_operation_refused) {
  const size_t at[] = {1, 2, 4, 5, 7};  // htype, ptype, hlen, plen, op
  struct tcpip_arp a;
  for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
    uint8_t buf[TCPIP_ARP_LEN];
    arp_sample(buf);
    buf[at[i]] ^= 0x10;
    cr_assert_eq(tcpip_arp_parse(buf, sizeof(buf), &a), TCPIP_CODEC_MALFORMED, "byte %zu", at[i]);
  }
}

// An IPv4 datagram of proto with plen payload bytes (pattern), header options of optlen
static size_t ip_sample(uint8_t *buf, uint8_t proto, size_t plen, size_t optlen) {
  struct tcpip_ip ip = {proto, 64, 0x1234, SRC, DST, false, NULL, 0};
  tcpip_ip_put(buf, &ip, plen);
  if (optlen > 0) {  // Options (NOPs) between header and payload, header length and checksum redone
    memset(buf + TCPIP_IP_HDR, 1, optlen);
    buf[0] = (uint8_t) (0x40 | ((TCPIP_IP_HDR + optlen) / 4));
    uint16_t total = (uint16_t) (TCPIP_IP_HDR + optlen + plen);
    buf[2] = (uint8_t) (total >> 8), buf[3] = (uint8_t) total;
    buf[10] = buf[11] = 0;
    uint16_t c = tcpip_csum_fold(tcpip_csum_add(0, buf, TCPIP_IP_HDR + optlen));
    memcpy(buf + 10, &c, 2);
  }
  for (size_t i = 0; i < plen; i++) buf[TCPIP_IP_HDR + optlen + i] = (uint8_t) i;
  return TCPIP_IP_HDR + optlen + plen;
}

static void ip_fix_csum(uint8_t *buf) {
  size_t ihl = (size_t) (buf[0] & 15) * 4;
  buf[10] = buf[11] = 0;
  uint16_t c = tcpip_csum_fold(tcpip_csum_add(0, buf, ihl < 60 ? ihl : 60));
  memcpy(buf + 10, &c, 2);
}

Test(tcpip_codec, ipv4_round_trip_with_and_without_options) {
  uint8_t buf[128];
  struct tcpip_ip ip;
  for (size_t opt = 0; opt <= 40; opt += 8) {
    size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, opt);
    cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_OK, "options %zu", opt);
    cr_assert(ip.proto == TCPIP_IP_UDP && ip.ttl == 64 && ip.id == 0x1234 && ip.src == SRC && ip.dst == DST);
    cr_assert(ip.len == 30 && ip.payload == buf + TCPIP_IP_HDR + opt && !ip.fragment);
  }
}

Test(tcpip_codec, ipv4_truncated_at_every_byte_is_malformed) {
  uint8_t buf[128];
  struct tcpip_ip ip;
  size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, 8);
  for (size_t len = 0; len < n; len++) cr_assert_eq(tcpip_ip_parse(buf, len, &ip), TCPIP_CODEC_MALFORMED, "%zu", len);
}

Test(tcpip_codec, ipv4_padding_after_the_datagram_is_not_payload) {
  uint8_t buf[128] = {0};
  struct tcpip_ip ip;
  size_t n = ip_sample(buf, TCPIP_IP_UDP, 6, 0);  // 26 bytes, padded to Ethernet's 46
  cr_assert_eq(tcpip_ip_parse(buf, n + 20, &ip), TCPIP_CODEC_OK);
  cr_assert_eq(ip.len, 6);
}

Test(tcpip_codec, ipv4_bad_version_header_or_total_length_is_malformed) {
  uint8_t buf[128];
  struct tcpip_ip ip;
  size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, 0);
  for (unsigned ihl = 0; ihl < 5; ihl++) {
    buf[0] = (uint8_t) (0x40 | ihl);
    ip_fix_csum(buf);
    cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_MALFORMED, "IHL %u", ihl);
  }
  n = ip_sample(buf, TCPIP_IP_UDP, 30, 0);
  buf[0] = 0x65;  // IPv6's version, IHL 5
  ip_fix_csum(buf);
  cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_MALFORMED);
  n = ip_sample(buf, TCPIP_IP_UDP, 2, 0);
  buf[0] = 0x46;  // Header of 24 bytes in a 22-byte buffer
  ip_fix_csum(buf);
  cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_MALFORMED);
  const uint16_t totals[] = {0, 19, TCPIP_IP_HDR + 31, 0xffff};  // Below the header, past the frame
  for (size_t i = 0; i < 4; i++) {
    n = ip_sample(buf, TCPIP_IP_UDP, 30, 0);
    buf[2] = (uint8_t) (totals[i] >> 8), buf[3] = (uint8_t) totals[i];
    ip_fix_csum(buf);
    cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_MALFORMED, "total %u", totals[i]);
  }
}

Test(tcpip_codec, ipv4_header_checksum_checked_over_the_options_too) {
  uint8_t buf[128];
  struct tcpip_ip ip;
  for (size_t at = 0; at < TCPIP_IP_HDR + 8; at++) {
    if (at == 0 || at == 2 || at == 3) continue;  // Those make it malformed first
    size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, 8);
    buf[at] ^= 0x01;
    cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_BAD_CSUM, "byte %zu flipped", at);
  }
}

Test(tcpip_codec, ipv4_fragments_recognised_by_more_fragments_or_offset) {
  const uint16_t frag[] = {0x2000, 0x0001, 0x1fff, 0x2010};
  uint8_t buf[128];
  struct tcpip_ip ip;
  for (size_t i = 0; i < 4; i++) {
    size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, 0);
    buf[6] = (uint8_t) (frag[i] >> 8), buf[7] = (uint8_t) frag[i];
    ip_fix_csum(buf);
    cr_assert_eq(tcpip_ip_parse(buf, n, &ip), TCPIP_CODEC_OK);
    cr_assert(ip.fragment, "flags/offset %04x", frag[i]);
  }
  size_t n = ip_sample(buf, TCPIP_IP_UDP, 30, 0);  // Don't fragment alone is whole
  cr_assert(tcpip_ip_parse(buf, n, &ip) == TCPIP_CODEC_OK && !ip.fragment);
}

Test(tcpip_codec, icmp_echo_round_trip_checksum_and_truncation) {
  uint8_t buf[64];
  const uint8_t data[5] = {'h', 'e', 'l', 'l', 'o'};
  struct tcpip_icmp in, out = {TCPIP_ICMP_ECHO_REQUEST, 0, mg_htons(7), mg_htons(9), data, 5};
  size_t n = tcpip_icmp_put(buf, &out);
  cr_assert_eq(n, 13);
  cr_assert_eq(tcpip_icmp_parse(buf, n, &in), TCPIP_CODEC_OK);
  cr_assert(in.type == 8 && in.id == mg_htons(7) && in.seq == mg_htons(9) && in.len == 5 && memcmp(in.data, "hello", 5) == 0);
  for (size_t len = 0; len < TCPIP_ICMP_HDR; len++) cr_assert_eq(tcpip_icmp_parse(buf, len, &in), TCPIP_CODEC_MALFORMED);
  for (size_t len = TCPIP_ICMP_HDR; len < n; len++) cr_assert_eq(tcpip_icmp_parse(buf, len, &in), TCPIP_CODEC_BAD_CSUM);
  buf[12] ^= 0x20;
  cr_assert_eq(tcpip_icmp_parse(buf, n, &in), TCPIP_CODEC_BAD_CSUM);
}

static size_t udp_sample(uint8_t *buf, size_t len) {
  struct tcpip_udp u = {mg_htons(1000), mg_htons(53), NULL, len};
  for (size_t i = 0; i < len; i++) buf[TCPIP_UDP_HDR + i] = (uint8_t) (i + 1);
  return tcpip_udp_put(buf, &u, SRC, DST);
}

Test(tcpip_codec, udp_round_trip_and_every_truncation) {
  uint8_t buf[64];
  struct tcpip_udp u;
  size_t n = udp_sample(buf, 11);
  cr_assert_eq(tcpip_udp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_OK);
  cr_assert(u.sport == mg_htons(1000) && u.dport == mg_htons(53) && u.len == 11 && u.data[10] == 11);
  for (size_t len = 0; len < n; len++) cr_assert_eq(tcpip_udp_parse(buf, len, SRC, DST, &u), TCPIP_CODEC_MALFORMED);
}

Test(tcpip_codec, udp_length_field_bounds_the_datagram) {
  uint8_t buf[64];
  struct tcpip_udp u;
  size_t n = udp_sample(buf, 11);
  buf[6] = buf[7] = 0;  // No checksum, so the length alone decides
  const uint16_t lens[] = {0, 7, (uint16_t) (n + 1), 0xffff};
  for (size_t i = 0; i < 4; i++) {
    buf[4] = (uint8_t) (lens[i] >> 8), buf[5] = (uint8_t) lens[i];
    cr_assert_eq(tcpip_udp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_MALFORMED, "length %u", lens[i]);
  }
  buf[4] = 0, buf[5] = 8;  // Shorter than the IPv4 payload: the rest is not data
  cr_assert(tcpip_udp_parse(buf, n, SRC, DST, &u) == TCPIP_CODEC_OK && u.len == 0);
}

Test(tcpip_codec, udp_checksum_covers_the_pseudo_header_and_zero_means_none) {
  uint8_t buf[64];
  struct tcpip_udp u;
  size_t n = udp_sample(buf, 11);
  cr_assert_eq(tcpip_udp_parse(buf, n, SRC, MG_IPV4(10, 0, 0, 3), &u), TCPIP_CODEC_BAD_CSUM, "another destination");
  buf[n - 1] ^= 1;
  cr_assert_eq(tcpip_udp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_BAD_CSUM);
  buf[6] = buf[7] = 0;
  cr_assert_eq(tcpip_udp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_OK);
}

Test(tcpip_codec, udp_checksum_of_zero_goes_out_as_all_ones) {
  // A payload word equal to the checksum of the datagram without it makes the sum all
  // ones, so the checksum computes to 0
  uint8_t buf[64];
  struct tcpip_udp u = {mg_htons(1000), mg_htons(53), NULL, 2};
  memset(buf + TCPIP_UDP_HDR, 0, 2);
  tcpip_udp_put(buf, &u, SRC, DST);
  memcpy(buf + TCPIP_UDP_HDR, buf + 6, 2);
  tcpip_udp_put(buf, &u, SRC, DST);
  cr_assert(buf[6] == 0xff && buf[7] == 0xff, "checksum %02x%02x", buf[6], buf[7]);
  cr_assert_eq(tcpip_udp_parse(buf, 10, SRC, DST, &u), TCPIP_CODEC_OK);
}

static size_t tcp_sample(uint8_t *buf, size_t size, uint8_t flags, uint16_t mss, size_t len) {
  static const uint8_t data[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
  struct tcpip_tcp t;
  memset(&t, 0, sizeof(t));
  t.sport = mg_htons(80), t.dport = mg_htons(40000);
  t.seg.seq = 0x01020304, t.seg.ack = 0xa0b0c0d0, t.seg.wnd = 8192, t.seg.flags = flags, t.seg.mss = mss;
  t.seg.data = data, t.seg.len = len;
  return tcpip_tcp_put(buf, size, &t, SRC, DST);
}

// Header of doff words with opt written after the fixed part, checksum redone
static size_t tcp_with_options(uint8_t *buf, const uint8_t *opt, size_t optlen, size_t doff_words) {
  tcp_sample(buf, 128, TCP_SYN, 0, 0);
  memcpy(buf + TCPIP_TCP_HDR, opt, optlen);
  size_t n = TCPIP_TCP_HDR + optlen;
  buf[12] = (uint8_t) (doff_words << 4);
  buf[16] = buf[17] = 0;
  uint16_t c = tcpip_csum_fold(tcpip_csum_add(tcpip_csum_pseudo(SRC, DST, TCPIP_IP_TCP, n), buf, n));
  memcpy(buf + 16, &c, 2);
  return n;
}

Test(tcpip_codec, tcp_round_trip_with_mss_on_syn) {
  uint8_t buf[128];
  struct tcpip_tcp t;
  size_t n = tcp_sample(buf, sizeof(buf), TCP_SYN | TCP_ACK, 1460, 5);
  cr_assert_eq(n, 29);
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &t), TCPIP_CODEC_OK);
  cr_assert(t.sport == mg_htons(80) && t.dport == mg_htons(40000));
  cr_assert(t.seg.seq == 0x01020304 && t.seg.ack == 0xa0b0c0d0 && t.seg.wnd == 8192);
  cr_assert(t.seg.flags == (TCP_SYN | TCP_ACK) && t.seg.mss == 1460 && t.seg.len == 5);
  cr_assert(memcmp(t.seg.data, "01234", 5) == 0);
  cr_assert_eq(tcp_sample(buf, 28, TCP_SYN, 1460, 5), 0, "does not fit");
}

Test(tcpip_codec, tcp_mss_only_read_on_syn) {
  uint8_t buf[128];
  struct tcpip_tcp t;
  const uint8_t opt[] = {2, 4, 0x05, 0xb4};
  size_t n = tcp_with_options(buf, opt, 4, 6);
  buf[13] = TCP_ACK;
  buf[16] = buf[17] = 0;
  uint16_t c = tcpip_csum_fold(tcpip_csum_add(tcpip_csum_pseudo(SRC, DST, TCPIP_IP_TCP, n), buf, n));
  memcpy(buf + 16, &c, 2);
  cr_assert(tcpip_tcp_parse(buf, n, SRC, DST, &t) == TCPIP_CODEC_OK && t.seg.mss == 0);
}

Test(tcpip_codec, tcp_truncated_at_every_byte_or_bad_data_offset_refused) {
  uint8_t buf[128];
  struct tcpip_tcp t;
  size_t n = tcp_sample(buf, sizeof(buf), TCP_SYN, 1460, 0);
  for (size_t len = 0; len < TCPIP_TCP_HDR; len++)
    cr_assert_eq(tcpip_tcp_parse(buf, len, SRC, DST, &t), TCPIP_CODEC_MALFORMED, "%zu", len);
  for (size_t len = TCPIP_TCP_HDR; len < n; len++)  // The header says 24: less is malformed
    cr_assert_eq(tcpip_tcp_parse(buf, len, SRC, DST, &t), TCPIP_CODEC_MALFORMED, "%zu", len);
  for (unsigned doff = 0; doff < 5; doff++) {
    n = tcp_sample(buf, sizeof(buf), TCP_ACK, 0, 10);
    buf[12] = (uint8_t) (doff << 4);
    cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &t), TCPIP_CODEC_MALFORMED, "data offset %u", doff);
  }
  n = tcp_sample(buf, sizeof(buf), TCP_ACK, 0, 10);  // 30 bytes; an offset of 32
  buf[12] = 8 << 4;
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &t), TCPIP_CODEC_MALFORMED);
}

Test(tcpip_codec, tcp_options_running_past_the_header_refused) {
  const struct {
    uint8_t opt[8];
    size_t len, words;
    bool ok;
  } cases[] = {
      {{1, 1, 1, 0}, 4, 6, true},             // NOPs, end
      {{2, 4, 5, 0xb4}, 4, 6, true},          // MSS
      {{1, 1, 2, 4}, 4, 6, false},            // MSS whose value is past the header
      {{1, 1, 1, 8}, 4, 6, false},            // A kind with no length byte
      {{8, 0, 1, 1}, 4, 6, false},            // Length 0 would never advance
      {{8, 1, 1, 1}, 4, 6, false},            // Length 1 is shorter than itself
      {{8, 10, 0, 0, 0, 0, 0, 0}, 8, 7, false},  // Longer than what is left
      {{2, 3, 5, 0}, 4, 6, false},            // MSS of the wrong size
      {{8, 4, 1, 1, 2, 4, 4, 0}, 8, 7, true},  // Unknown option skipped, then MSS
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t buf[128];
    struct tcpip_tcp t;
    size_t n = tcp_with_options(buf, cases[i].opt, cases[i].len, cases[i].words);
    enum tcpip_codec_result r = tcpip_tcp_parse(buf, n, SRC, DST, &t);
    cr_assert_eq(r, cases[i].ok ? TCPIP_CODEC_OK : TCPIP_CODEC_MALFORMED, "case %zu", i);
  }
}

Test(tcpip_codec, tcp_checksum_covers_pseudo_header_header_and_data) {
  uint8_t buf[128];
  struct tcpip_tcp t;
  size_t n = tcp_sample(buf, sizeof(buf), TCP_ACK | TCP_PSH, 0, 33);  // Odd length
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &t), TCPIP_CODEC_OK);
  cr_assert_eq(tcpip_tcp_parse(buf, n, DST, SRC, &t), TCPIP_CODEC_OK, "the sum does not depend on order");
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, MG_IPV4(1, 2, 3, 4), &t), TCPIP_CODEC_BAD_CSUM);
  for (size_t at = 0; at < n; at += 7) {
    buf[at] ^= 0x40;
    enum tcpip_codec_result r = tcpip_tcp_parse(buf, n, SRC, DST, &t);
    cr_assert(r != TCPIP_CODEC_OK, "byte %zu flipped", at);
    buf[at] ^= 0x40;
  }
}

// Checksums a driver completes (virtio's NEEDS_CSUM): the put leaves the pseudo-header's sum
// in the field, the vouched parsers read frames whose checksum is unfilled, never a malformed one

Test(tcpip_codec, a_partial_tcp_checksum_is_the_pseudo_header_sum_the_segments_sum_completes) {
  static const uint8_t data[100] = "partial";
  uint8_t buf[160];
  struct tcpip_tcp t, u;
  memset(&t, 0, sizeof(t));
  t.sport = mg_htons(80), t.dport = mg_htons(40000), t.seg.flags = TCP_ACK | TCP_PSH;
  t.seg.seq = 7, t.seg.data = data, t.seg.len = sizeof(data), t.csum_partial = true;
  size_t n = tcpip_tcp_put(buf, sizeof(buf), &t, SRC, DST);
  cr_assert_eq(n, TCPIP_TCP_HDR + sizeof(data));
  uint16_t field, pseudo = (uint16_t) ~tcpip_csum_fold(tcpip_csum_pseudo(SRC, DST, TCPIP_IP_TCP, n));
  memcpy(&field, buf + 16, 2);
  cr_assert_eq(field, pseudo);
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_BAD_CSUM, "not complete yet");
  uint16_t done = tcpip_csum_fold(tcpip_csum_add(0, buf, n));  // What the driver writes there
  memcpy(buf + 16, &done, 2);
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_OK);
  cr_assert(u.seg.len == sizeof(data) && memcmp(u.seg.data, data, sizeof(data)) == 0);
}

Test(tcpip_codec, vouched_tcp_parse_skips_the_checksum_but_not_the_header_checks) {
  uint8_t buf[128];
  struct tcpip_tcp t;
  size_t n = tcp_sample(buf, sizeof(buf), TCP_SYN | TCP_ACK, 1460, 5);
  buf[16] ^= 0xff;
  cr_assert_eq(tcpip_tcp_parse(buf, n, SRC, DST, &t), TCPIP_CODEC_BAD_CSUM);
  cr_assert_eq(tcpip_tcp_parse_vouched(buf, n, &t), TCPIP_CODEC_OK);
  cr_assert(t.seg.mss == 1460 && t.seg.len == 5 && t.seg.seq == 0x01020304 && !t.csum_partial);
  for (size_t len = 0; len < TCPIP_TCP_HDR + 4; len++) {
    cr_assert_eq(tcpip_tcp_parse_vouched(buf, len, &t), TCPIP_CODEC_MALFORMED, "%zu", len);
  }
  buf[12] = 4 << 4;  // A data offset below the header's size
  cr_assert_eq(tcpip_tcp_parse_vouched(buf, n, &t), TCPIP_CODEC_MALFORMED);
}

Test(tcpip_codec, vouched_udp_parse_skips_the_checksum_but_not_the_length_checks) {
  uint8_t buf[64];
  struct tcpip_udp u;
  size_t n = udp_sample(buf, 11);
  buf[6] ^= 0xff;
  cr_assert_eq(tcpip_udp_parse(buf, n, SRC, DST, &u), TCPIP_CODEC_BAD_CSUM);
  cr_assert_eq(tcpip_udp_parse_vouched(buf, n, &u), TCPIP_CODEC_OK);
  cr_assert(u.len == 11 && u.data[10] == 11);
  for (size_t len = 0; len < n; len++) cr_assert_eq(tcpip_udp_parse_vouched(buf, len, &u), TCPIP_CODEC_MALFORMED);
}
