// Fuzz the WebSocket frame parser and the reader that joins fragments in place: the
// first byte picks the side and how the rest is split into reads; every slice stays in
// the buffer, the parser agrees with itself on prefixes, and both splits deliver the same.
// A header built for a length and opcode taken from the input parses back to them.
#include <limits.h>
#include "meerkat.h"
#include "ws/ws_frame.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ws_log {
  uint32_t sum;   // Order-sensitive digest of what was delivered
  size_t count;
  const uint8_t *lo, *hi;  // The buffer: every delivery must lie inside it
};

static bool fuzz_ws_deliver(void *arg, int op, uint8_t *p, size_t len) {
  struct fuzz_ws_log *g = (struct fuzz_ws_log *) arg;
  CHECK(op == WEBSOCKET_OP_TEXT || op == WEBSOCKET_OP_BINARY || op >= WEBSOCKET_OP_CLOSE);
  CHECK(p >= g->lo && p + len <= g->hi);
  if (op == WEBSOCKET_OP_TEXT) CHECK(mg_utf8_valid(p, len));
  if (op & 8) CHECK(len <= 125);
  g->sum = mg_crc32(g->sum, (const char *) p, len) ^ (uint32_t) op * 2654435761U;
  g->count++;
  return true;
}

// Feeds in in two reads cut at cut, dropping consumed bytes as the connection does
static uint16_t fuzz_ws_feed(bool client, size_t max, const uint8_t *in, size_t len, size_t cut,
                             struct fuzz_ws_log *g) {
  struct ws_reader r = {client, 0, max, 0};
  uint8_t *buf = (uint8_t *) malloc(len + 1);
  size_t have = 0, off = 0;
  uint16_t code = 0;
  const char *reason = NULL;
  size_t pieces[2] = {cut, len - cut};
  for (int i = 0; i < 2 && code == 0; i++) {
    memcpy(buf + have, in + off, pieces[i]);
    have += pieces[i];
    off += pieces[i];
    if (have == 0) continue;
    size_t rd = 0;
    g->lo = buf, g->hi = buf + have;
    code = ws_read_frames(&r, buf, have, &rd, fuzz_ws_deliver, g, &reason);
    CHECK(rd >= r.msg_len && rd <= have && r.msg_len <= max);
    if (code != 0) CHECK(reason != NULL && (code == 1002 || code == 1007 || code == 1009));
    memmove(buf + r.msg_len, buf + rd, have - rd);
    have -= rd - r.msg_len;
  }
  free(buf);
  return code;
}

// ws_frame_head for the length in the first 8 bytes (a data frame, or a control frame
// of at most 125 bytes), masked or not: the parser reads back what it wrote
static void fuzz_ws_head_round_trip(const uint8_t *in, size_t len) {
  static const uint8_t mask[4] = {1, 2, 3, 4};
  uint64_t want = 0;
  for (size_t i = 0; i < 8 && i < len; i++) want = want << 8 | in[i];
  want >>= 1;  // A length's top bit must be clear (RFC 6455 5.2)
  if ((size_t) want != want || want > (uint64_t) LONG_MAX - 14) return;  // Past what the parser returns
  bool control = len > 8 && (in[8] & 1), masked = len > 8 && (in[8] & 2);
  int op = control ? WEBSOCKET_OP_PING : WEBSOCKET_OP_BINARY;
  if (control) want %= 126;
  uint8_t head[14];
  size_t hl = ws_frame_head(head, (size_t) want, op, masked ? mask : NULL);
  struct ws_frame f;
  long n = ws_frame_parse(head, hl, masked, UINT64_MAX, &f);
  CHECK(hl >= 2 && hl <= (masked ? 14u : (size_t) WS_SERVER_HEAD_MAX));
  CHECK(n == (want == 0 ? (long) hl : WS_FRAME_INCOMPLETE));
  CHECK(f.head_len == hl && f.payload_len == want && f.opcode == op && f.fin && f.masked == masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_ws_head_round_trip(data, size);
  if (size < 2) return 0;
  bool client = data[0] & 1;
  size_t max = (data[0] & 2) ? 200 : MG_WS_MAX_MESSAGE;
  const uint8_t *in = data + 2;
  size_t len = size - 2, cut = len == 0 ? 0 : data[1] % (len + 1);

  // The parser alone: a complete frame lies within the input and parses the same
  // from exactly its own bytes; one byte fewer is incomplete
  struct ws_frame f, g;
  long n = ws_frame_parse(in, len, !client, max, &f);
  CHECK(n >= WS_FRAME_ERROR && n <= (long) len);
  if (n > 0) {
    CHECK(f.head_len >= 2 && f.head_len <= 14 && f.head_len + f.payload_len == (size_t) n);
    CHECK(ws_frame_parse(in, (size_t) n, !client, max, &g) == n && g.payload_len == f.payload_len);
    CHECK(ws_frame_parse(in, (size_t) n - 1, !client, max, &g) == WS_FRAME_INCOMPLETE);
  } else if (n == WS_FRAME_ERROR) {
    CHECK(f.reason != NULL && (f.close_code == 1002 || f.close_code == 1009));
  }

  // The reader: a split into two reads changes nothing that was delivered
  struct fuzz_ws_log whole = {0, 0, NULL, NULL}, split = {0, 0, NULL, NULL};
  uint16_t c1 = fuzz_ws_feed(client, max, in, len, len, &whole);
  uint16_t c2 = fuzz_ws_feed(client, max, in, len, cut, &split);
  CHECK(c1 == c2 && whole.count == split.count && whole.sum == split.sum);
  return 0;
}
