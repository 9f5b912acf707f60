// The mock Ethernet driver and the host "board" of the tcpip test build: frames in
// and out through fixed slots, a fake clock, and seeded random bytes so runs repeat.
#include "mock_eth.h"

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
  (void) ifp;
  return true;
}

static size_t mock_eth_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  (void) ifp;
  if (mock_eth_refusing || len > MOCK_ETH_FRAME) return 0;
  mock_eth_push(&mock_eth_out, buf, len);
  return len;
}

static size_t mock_eth_rx(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  (void) ifp;
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

struct mg_tcpip_driver mock_eth_driver = {mock_eth_init, mock_eth_tx, mock_eth_rx, mock_eth_poll, mock_eth_wait};

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
