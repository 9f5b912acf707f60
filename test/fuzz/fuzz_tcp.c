// Fuzz the TCP engine: the first byte picks the open (active or passive), ring sizes and
// options; the rest is a script of segments from the peer (sequence and ACK numbers near
// the connection's own), time passing, reads, writes and closes. After every step the
// connection's invariants hold, and nothing it sends goes beyond the peer's window.
#include "tcpip/tcp_internal.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_tcp {
  struct tcp_conn c;
  struct tcp_conf conf;
  uint8_t *rx, *tx;
  bool closed;
  uint64_t now;
};

static const uint32_t fuzz_tcp_sizes[] = {64, 300, 1024, 4096};

static bool fuzz_tcp_emit(void *ctx, const struct tcp_seg *s) {
  struct fuzz_tcp *f = (struct fuzz_tcp *) ctx;
  const struct tcp_conn *c = &f->c;
  CHECK(!f->closed);
  CHECK(s->len2 <= s->len);
  if (s->len > 0) {
    uint8_t copy[4096];
    CHECK(s->len <= sizeof(copy) && s->len <= tcp_send_mss(c));
    const uint8_t *end = c->tx_buf + c->tx_size;
    CHECK(s->data >= c->tx_buf && s->data + (s->len - s->len2) <= end);
    CHECK(s->len2 == 0 || s->data2 == c->tx_buf);
    tcp_seg_copy(s, copy);
    bool probe = c->snd_wnd == 0 && s->len == 1;
    CHECK(probe || TCP_SEQ_LEQ(s->seq + (uint32_t) s->len, c->snd_una + c->snd_wnd));
    CHECK(TCP_SEQ_GEQ(s->seq, c->snd_una));
  }
  return true;
}

static void fuzz_tcp_event(void *ctx, int ev, const char *reason) {
  struct fuzz_tcp *f = (struct fuzz_tcp *) ctx;
  CHECK(ev >= TCP_EV_CONNECTED && ev <= TCP_EV_CLOSED);
  CHECK((ev == TCP_EV_CLOSED) == (reason != NULL));
  if (ev == TCP_EV_CLOSED) f->closed = true;
  if (ev == TCP_EV_READABLE) {  // A handler that reads at once, as the stack's does
    uint8_t buf[100];
    tcp_read(&f->c, buf, sizeof(buf), f->now);
  }
}

static const struct tcp_ops fuzz_tcp_ops = {fuzz_tcp_emit, fuzz_tcp_event};

static void fuzz_tcp_invariants(const struct tcp_conn *c) {
  CHECK(TCP_SEQ_LEQ(c->snd_una, c->snd_nxt) && TCP_SEQ_LEQ(c->snd_nxt, c->snd_max));
  CHECK(c->rx_len <= c->rx_size && c->tx_len <= c->tx_size);
  CHECK(c->rx_head < c->rx_size && c->tx_head < c->tx_size);
  CHECK(c->snd_max - c->snd_una <= c->tx_len + 2);  // Data, SYN and FIN in flight
  if (c->state == TCP_STATE_CLOSED || c->state == TCP_STATE_SYN_SENT) return;
  uint32_t wnd = c->rcv_adv - c->rcv_nxt;
  CHECK(wnd <= c->rx_size - c->rx_len);  // Never a promise the ring cannot keep
  CHECK(c->nooo <= TCP_MAX_OOO);
  for (unsigned i = 0; i < c->nooo; i++) {
    CHECK(TCP_SEQ_GT(c->ooo[i].seq, c->rcv_nxt) && c->ooo[i].len > 0);
    CHECK(TCP_SEQ_LEQ(c->ooo[i].seq + c->ooo[i].len, c->rcv_adv));
    if (i > 0) CHECK(TCP_SEQ_GT(c->ooo[i].seq, c->ooo[i - 1].seq + c->ooo[i - 1].len));
  }
}

static uint16_t fuzz_tcp_u16(const uint8_t **p, const uint8_t *end) {
  uint16_t v = 0;
  for (int i = 0; i < 2 && *p < end; i++) v = (uint16_t) (v << 8 | *(*p)++);
  return v;
}

static uint8_t fuzz_tcp_u8(const uint8_t **p, const uint8_t *end) {
  return *p < end ? *(*p)++ : 0;
}

// A segment near the connection's numbers: flags, seq and ack deltas, window, payload
static void fuzz_tcp_segment(struct fuzz_tcp *f, const uint8_t **p, const uint8_t *end, struct tcp_seg *s) {
  memset(s, 0, sizeof(*s));
  s->flags = fuzz_tcp_u8(p, end) & 0x3f;
  s->seq = f->c.rcv_nxt + (uint32_t) (int32_t) (int16_t) fuzz_tcp_u16(p, end);
  s->ack = f->c.snd_una + (uint32_t) (int32_t) (int16_t) fuzz_tcp_u16(p, end);
  s->wnd = fuzz_tcp_u16(p, end);
  if (s->flags & TCP_SYN) s->mss = (uint16_t) (s->wnd & 0x7ff);
  size_t len = fuzz_tcp_u8(p, end);
  if (len > (size_t) (end - *p)) len = (size_t) (end - *p);
  s->data = *p, s->len = len;
  *p += len;
}

static void fuzz_tcp_step(struct fuzz_tcp *f, const uint8_t **p, const uint8_t *end) {
  uint8_t op = fuzz_tcp_u8(p, end), buf[4096];
  struct tcp_seg s;
  switch (op % 8) {
    case 0:
    case 1:
    case 2:
      fuzz_tcp_segment(f, p, end, &s);
      tcp_input(&f->c, &s, f->now);
      break;
    case 3:
      f->now += fuzz_tcp_u16(p, end);
      tcp_timer(&f->c, f->now);
      break;
    case 4: {
      uint64_t d = tcp_next_deadline(&f->c);
      if (d > f->now) f->now = d;
      tcp_timer(&f->c, f->now);
      break;
    }
    case 5: {
      size_t n = fuzz_tcp_u16(p, end) % sizeof(buf);
      memset(buf, 'w', n);
      CHECK(tcp_write(&f->c, buf, n, f->now) <= n);
      break;
    }
    case 6: {
      size_t n = fuzz_tcp_u16(p, end) % sizeof(buf);
      CHECK(tcp_read(&f->c, buf, n, f->now) <= n);
      break;
    }
    default:
      if (fuzz_tcp_u8(p, end) == 0xab) {
        tcp_abort(&f->c);
        f->closed = true;
      } else {
        tcp_shutdown(&f->c, f->now);
      }
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *p = data + 1, *end = data + size;
  uint8_t setup = data[0];
  static struct fuzz_tcp f;
  memset(&f, 0, sizeof(f));
  f.conf = tcp_default_conf;
  f.conf.delayed_ack_ms = (setup & 0x20) ? 40 : 0;
  f.conf.mss = (setup & 0x40) ? 100 : 1460;
  f.conf.keepalive_ms = (setup & 0x80) ? 5000 : 0;
  f.conf.max_retries = 4;
  f.conf.max_syn_retries = 2;
  uint32_t rx_size = fuzz_tcp_sizes[(setup >> 1) & 3], tx_size = fuzz_tcp_sizes[(setup >> 3) & 3];
  f.rx = (uint8_t *) malloc(rx_size);
  f.tx = (uint8_t *) malloc(tx_size);
  CHECK(f.rx != NULL && f.tx != NULL);
  tcp_init(&f.c, &f.conf, &fuzz_tcp_ops, &f, f.rx, rx_size, f.tx, tx_size);
  f.now = 1000;
  if (setup & 1) {
    struct tcp_seg syn;
    fuzz_tcp_segment(&f, &p, end, &syn);
    syn.flags = TCP_SYN;
    tcp_accept(&f.c, &syn, 0xfffffff0U, f.now);
  } else {
    tcp_connect(&f.c, 0xfffffff0U, f.now);
  }
  fuzz_tcp_invariants(&f.c);
  while (p < end && !f.closed) {
    fuzz_tcp_step(&f, &p, end);
    if (!f.closed) fuzz_tcp_invariants(&f.c);
  }
  free(f.rx);
  free(f.tx);
  return 0;
}
