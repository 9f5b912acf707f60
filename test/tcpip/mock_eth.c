// The mock Ethernet driver and the host "board" of the tcpip test build: frames in
// and out through fixed slots, a fake clock, and seeded random bytes so runs repeat.
#include "mock_eth.h"
#include "tcpip/tcpip_codec.h"
#include <stdio.h>
#include <stdlib.h>

// The stack broke the driver's contract: the test crashes, saying which
#define MOCK_ETH_CHECK(cond, what)                  \
  do {                                              \
    if (!(cond)) {                                  \
      fprintf(stderr, "mock_eth: %s\n", what);      \
      abort();                                      \
    }                                               \
  } while (0)

struct mock_eth_ring {
  uint8_t frame[MOCK_ETH_SLOTS][MOCK_ETH_FRAME];
  size_t len[MOCK_ETH_SLOTS];
  size_t head, count;  // Oldest at head
};

static struct mock_eth_ring mock_eth_in, mock_eth_out;
static bool mock_eth_link_up = true, mock_eth_refusing;
static unsigned mock_eth_rx_n;
static uint64_t mock_eth_now = 1000;  // Never 0, which timers read as "unset"
static uint64_t mock_eth_seed = 0x9e3779b97f4a7c15ULL;
static size_t mock_eth_tso_max, mock_eth_tso_n, mock_eth_tso_big;
static uint16_t mock_eth_tso_seg;
static bool mock_eth_vouching;

static void mock_eth_push(struct mock_eth_ring *r, const void *frame, size_t len) {
  size_t at = (r->head + r->count) % MOCK_ETH_SLOTS;
  if (r->count == MOCK_ETH_SLOTS) {  // Keep the newest
    at = r->head;
    r->head = (r->head + 1) % MOCK_ETH_SLOTS;
    r->count--;
  }
  memcpy(r->frame[at], frame, len);
  r->len[at] = len;
  r->count++;
}

void mock_eth_reset(void) {
  mock_eth_in.count = mock_eth_out.count = 0;
  mock_eth_link_up = true, mock_eth_refusing = false;
  mock_eth_rx_n = 0;
  mock_eth_tso_max = mock_eth_tso_n = mock_eth_tso_big = 0, mock_eth_tso_seg = 0;
  mock_eth_vouching = false;
}

void mock_eth_set_tso(size_t max) {
  mock_eth_tso_max = max;
}

void mock_eth_vouch(bool vouch) {
  mock_eth_vouching = vouch;
}

size_t mock_eth_tso_frames(void) {
  return mock_eth_tso_n;
}

size_t mock_eth_tso_largest(void) {
  return mock_eth_tso_big;
}

uint16_t mock_eth_tso_mss(void) {
  return mock_eth_tso_seg;
}

bool mock_eth_inject(const void *frame, size_t len) {
  if (mock_eth_in.count == MOCK_ETH_SLOTS || len > MOCK_ETH_FRAME) return false;
  mock_eth_push(&mock_eth_in, frame, len);
  return true;
}

size_t mock_eth_pending(void) {
  return mock_eth_in.count;
}

size_t mock_eth_sent_count(void) {
  return mock_eth_out.count;
}

const uint8_t *mock_eth_sent(size_t i, size_t *len) {
  if (i >= mock_eth_out.count) return NULL;
  size_t at = (mock_eth_out.head + i) % MOCK_ETH_SLOTS;
  *len = mock_eth_out.len[at];
  return mock_eth_out.frame[at];
}

void mock_eth_clear_sent(void) {
  mock_eth_out.count = 0;
}

void mock_eth_set_link(bool up) {
  mock_eth_link_up = up;
}

void mock_eth_refuse_tx(bool refuse) {
  mock_eth_refusing = refuse;
}

unsigned mock_eth_rx_calls(void) {
  return mock_eth_rx_n;
}

uint64_t mock_eth_millis(void) {
  return mock_eth_now;
}

void mock_eth_advance(uint64_t ms) {
  mock_eth_now += ms;
}

static bool mock_eth_init(struct mg_tcpip_if *ifp) {
  ifp->tso_max = mock_eth_tso_max;
  return true;
}

static size_t mock_eth_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  (void) ifp;
  if (mock_eth_refusing || len > MOCK_ETH_FRAME) return 0;
  mock_eth_push(&mock_eth_out, buf, len);
  return len;
}

// One piece of a large segment, as a kernel cuts it: headers copied, sequence number, lengths,
// identification and checksums made right, FIN and PSH on the last piece only
static void mock_eth_tso_piece(const uint8_t *f, const struct tcpip_ip *ip, const struct tcpip_tcp *big,
                               size_t off, size_t n, uint16_t id) {
  static uint8_t out[MOCK_ETH_FRAME];
  struct tcpip_tcp t = *big;
  t.seg.seq = big->seg.seq + (uint32_t) off;
  t.seg.data = big->seg.data + off, t.seg.len = n;
  if (off + n < big->seg.len) t.seg.flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
  size_t tcp_len = tcpip_tcp_put(out + TCPIP_ETH_HDR + TCPIP_IP_HDR, sizeof(out) - 34, &t, ip->src, ip->dst);
  MOCK_ETH_CHECK(tcp_len > 0, "a piece larger than a frame");
  struct tcpip_ip hdr = *ip;
  hdr.id = id;
  tcpip_ip_put(out + TCPIP_ETH_HDR, &hdr, tcp_len);
  memcpy(out, f, TCPIP_ETH_HDR);
  mock_eth_push(&mock_eth_out, out, TCPIP_ETH_HDR + TCPIP_IP_HDR + tcp_len);
}

static size_t mock_eth_tx_tcp(const void *buf, size_t len, uint16_t mss, struct mg_tcpip_if *ifp) {
  (void) ifp;
  if (mock_eth_refusing) return 0;
  MOCK_ETH_CHECK(len <= mock_eth_tso_max, "tx_tcp given more than tso_max");
  const uint8_t *f = (const uint8_t *) buf;
  struct tcpip_eth eth;
  struct tcpip_ip ip;
  struct tcpip_tcp tcp;
  MOCK_ETH_CHECK(tcpip_eth_parse(f, len, &eth) && tcpip_ip_parse(eth.payload, eth.len, &ip) == TCPIP_CODEC_OK,
                 "tx_tcp given no IPv4 frame");
  MOCK_ETH_CHECK(ip.proto == TCPIP_IP_TCP && tcpip_tcp_parse_vouched(ip.payload, ip.len, &tcp) == TCPIP_CODEC_OK,
                 "tx_tcp given no TCP segment");
  // The field holds the pseudo-header's sum: the whole segment's sum over it is then complete
  uint16_t partial, want = (uint16_t) ~tcpip_csum_fold(tcpip_csum_pseudo(ip.src, ip.dst, TCPIP_IP_TCP, ip.len));
  memcpy(&partial, ip.payload + 16, 2);
  MOCK_ETH_CHECK(partial == want,
                 "the checksum field holds no pseudo-header sum");
  mock_eth_tso_n++, mock_eth_tso_seg = mss;
  if (len > mock_eth_tso_big) mock_eth_tso_big = len;
  size_t off = 0;
  do {
    size_t n = tcp.seg.len - off < mss ? tcp.seg.len - off : mss;
    mock_eth_tso_piece(f, &ip, &tcp, off, n, (uint16_t) (ip.id + off / mss));
    off += n;
  } while (off < tcp.seg.len);
  return len;
}

static size_t mock_eth_rx(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  ifp->rx_csum_vouched = mock_eth_vouching;
  mock_eth_rx_n++;
  if (mock_eth_in.count == 0) return 0;
  size_t n = mock_eth_in.len[mock_eth_in.head];
  if (n > len) n = len;  // A real MAC drops or cuts what does not fit; cut, so the stack sees it
  memcpy(buf, mock_eth_in.frame[mock_eth_in.head], n);
  mock_eth_in.head = (mock_eth_in.head + 1) % MOCK_ETH_SLOTS;
  mock_eth_in.count--;
  return n;
}

static bool mock_eth_poll(struct mg_tcpip_if *ifp, bool s1) {
  (void) ifp, (void) s1;
  return mock_eth_link_up;
}

static void mock_eth_wait(struct mg_tcpip_if *ifp, int ms) {
  (void) ifp;
  if (mock_eth_in.count == 0 && ms > 0) mock_eth_now += (uint64_t) ms;
}

struct mg_tcpip_driver mock_eth_driver = {mock_eth_init, mock_eth_tx, mock_eth_rx, mock_eth_poll, mock_eth_wait,
                                          mock_eth_tx_tcp};

// The board (mg_board.h)
uint64_t mg_board_millis(void) {
  return mock_eth_now;
}

bool mg_board_random(void *buf, size_t len) {  // xorshift64*: the same bytes every run
  uint8_t *p = (uint8_t *) buf;
  for (size_t i = 0; i < len; i++) {
    mock_eth_seed ^= mock_eth_seed >> 12, mock_eth_seed ^= mock_eth_seed << 25, mock_eth_seed ^= mock_eth_seed >> 27;
    p[i] = (uint8_t) ((mock_eth_seed * 0x2545f4914f6cdd1dULL) >> 56);
  }
  return true;
}

void mg_board_putchar(char ch) {
  fputc(ch, stderr);
}
