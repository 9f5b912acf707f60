// WebSocket: the frame parser over tables (opcodes, length encodings, masks, reserved
// bits, oversize), strict UTF-8, close payloads, messages joined from fragments under
// every split of the input, then a server and clients over loopback in one manager.
#include <criterion/criterion.h>
#include <string.h>
#include "meerkat.h"
#include "ws/ws_frame.h"

// ---------------------------------------------------------------------------
// Building frames by hand, in any length encoding

enum { ENC_MIN = 0, ENC_7 = 7, ENC_16 = 16, ENC_64 = 64 };

// b0: FIN, RSV and opcode bits as sent. Returns the frame length (the header's alone
// when payload is NULL).
static size_t frame_build(uint8_t *out, uint8_t b0, const void *payload, size_t len, const uint8_t *mask, int enc) {
  size_t n = 2;
  out[0] = b0;
  if (enc == ENC_MIN) enc = len < 126 ? ENC_7 : len <= 0xffff ? ENC_16 : ENC_64;
  if (enc == ENC_7) {
    out[1] = (uint8_t) len;
  } else if (enc == ENC_16) {
    out[1] = 126;
    out[2] = (uint8_t) (len >> 8), out[3] = (uint8_t) len;
    n = 4;
  } else {
    out[1] = 127;
    uint64_t l = len;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t) (l >> (56 - 8 * i));
    n = 10;
  }
  if (mask != NULL) {
    out[1] |= 0x80;
    memcpy(out + n, mask, 4);
    n += 4;
  }
  if (len > 0 && payload != NULL) memcpy(out + n, payload, len);
  if (payload == NULL) return n;  // Header only
  if (mask != NULL) ws_mask(out + n, len, mask, 0);
  return n + len;
}

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

// ---------------------------------------------------------------------------
// The parser

Test(ws_frame, every_known_opcode_parses_and_unknown_ones_close_1002) {
  uint8_t buf[32];
  for (int op = 0; op < 16; op++) {
    size_t n = frame_build(buf, (uint8_t) (0x80 | op), "hi", 2, MASK, ENC_MIN);
    struct ws_frame f;
    long r = ws_frame_parse(buf, n, true, 1000, &f);
    bool known = op <= 2 || (op >= 8 && op <= 10);
    if (known) {
      cr_assert_eq(r, (long) n, "op %d", op);
      cr_assert(f.opcode == op && f.fin && f.masked && f.head_len == 6 && f.payload_len == 2);
      cr_assert(memcmp(f.mask, MASK, 4) == 0);
    } else {
      cr_assert_eq(r, WS_FRAME_ERROR, "op %d", op);
      cr_assert_eq(f.close_code, WS_CLOSE_PROTOCOL);
      cr_assert_str_eq(f.reason, "unknown opcode");
    }
  }
}

Test(ws_frame, payload_lengths_in_their_shortest_encoding) {
  static const size_t lens[] = {0, 125, 126, 65535, 65536};
  static const size_t heads[] = {2, 2, 4, 4, 10};
  static uint8_t buf[70000], payload[65536];
  for (size_t i = 0; i < MG_ARRAY_SIZE(lens); i++) {
    for (int masked = 0; masked < 2; masked++) {
      size_t n = frame_build(buf, 0x82, payload, lens[i], masked ? MASK : NULL, ENC_MIN);
      struct ws_frame f;
      long r = ws_frame_parse(buf, n, masked, 1 << 20, &f);
      cr_assert_eq(r, (long) n, "len %zu masked %d", lens[i], masked);
      cr_assert_eq(f.head_len, heads[i] + (masked ? 4 : 0));
      cr_assert_eq(f.payload_len, lens[i]);
      // One byte short is incomplete, whether the header or the payload is cut
      size_t head = f.head_len;
      cr_assert_eq(ws_frame_parse(buf, n - 1, masked, 1 << 20, &f), WS_FRAME_INCOMPLETE);
      cr_assert_eq(ws_frame_parse(buf, head - 1, masked, 1 << 20, &f), WS_FRAME_INCOMPLETE);
    }
  }
}

// Decision: lengths not in their shortest form are refused (RFC 6455 5.2: "the minimal
// number of bytes MUST be used to encode the length"), as is a 64-bit length with its top bit set.
Test(ws_frame, lengths_not_in_shortest_form_close_1002) {
  static const struct {
    size_t len;
    int enc;
  } cases[] = {{0, ENC_16}, {125, ENC_16}, {0, ENC_64}, {125, ENC_64}, {126, ENC_64}, {65535, ENC_64}};
  static uint8_t buf[70000], payload[65536];
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    size_t n = frame_build(buf, 0x82, payload, cases[i].len, MASK, cases[i].enc);
    struct ws_frame f;
    cr_assert_eq(ws_frame_parse(buf, n, true, 1 << 20, &f), WS_FRAME_ERROR, "case %zu", i);
    cr_assert_eq(f.close_code, WS_CLOSE_PROTOCOL);
    // Known from the header alone: the payload need not be there yet
    cr_assert_eq(ws_frame_parse(buf, cases[i].enc == ENC_16 ? 4 : 10, true, 1 << 20, &f), WS_FRAME_ERROR);
  }
  uint8_t top[14] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 1, 0, 0};
  struct ws_frame f;
  cr_assert_eq(ws_frame_parse(top, sizeof(top), true, UINT64_MAX, &f), WS_FRAME_ERROR);
  cr_assert_eq(f.close_code, WS_CLOSE_PROTOCOL);
}

Test(ws_frame, masks_must_match_the_side) {
  uint8_t buf[32];
  struct ws_frame f;
  size_t n = frame_build(buf, 0x81, "abc", 3, NULL, ENC_MIN);
  cr_assert_eq(ws_frame_parse(buf, n, true, 100, &f), WS_FRAME_ERROR, "server gets an unmasked frame");
  cr_assert(f.close_code == WS_CLOSE_PROTOCOL && strstr(f.reason, "unmasked") != NULL);
  cr_assert_eq(ws_frame_parse(buf, n, false, 100, &f), (long) n);
  n = frame_build(buf, 0x81, "abc", 3, MASK, ENC_MIN);
  cr_assert_eq(ws_frame_parse(buf, n, false, 100, &f), WS_FRAME_ERROR, "client gets a masked frame");
  cr_assert(f.close_code == WS_CLOSE_PROTOCOL && strstr(f.reason, "masked") != NULL);
  // Only the two header bytes are needed to know
  cr_assert_eq(ws_frame_parse(buf, 2, false, 100, &f), WS_FRAME_ERROR);
  // The payload is masked with the key, cycling
  cr_assert_eq(ws_frame_parse(buf, n, true, 100, &f), (long) n);
  uint8_t p[3];
  memcpy(p, buf + f.head_len, 3);
  cr_assert(p[0] == ('a' ^ MASK[0]) && p[1] == ('b' ^ MASK[1]) && p[2] == ('c' ^ MASK[2]));
}

Test(ws_frame, reserved_bits_close_1002) {
  static const uint8_t bits[] = {0x40, 0x20, 0x10, 0x70};
  uint8_t buf[16];
  for (size_t i = 0; i < MG_ARRAY_SIZE(bits); i++) {
    frame_build(buf, (uint8_t) (0x81 | bits[i]), "x", 1, MASK, ENC_MIN);
    struct ws_frame f;
    cr_assert_eq(ws_frame_parse(buf, 2, true, 100, &f), WS_FRAME_ERROR);
    cr_assert(f.close_code == WS_CLOSE_PROTOCOL && strcmp(f.reason, "reserved bits set") == 0);
  }
}

Test(ws_frame, control_frames_must_be_whole_and_short) {
  static uint8_t buf[300], payload[200];
  struct ws_frame f;
  static const uint8_t ctl[] = {WEBSOCKET_OP_CLOSE, WEBSOCKET_OP_PING, WEBSOCKET_OP_PONG};
  for (size_t i = 0; i < 3; i++) {
    size_t n = frame_build(buf, ctl[i], payload, 0, MASK, ENC_MIN);  // FIN clear
    cr_assert_eq(ws_frame_parse(buf, n, true, 100, &f), WS_FRAME_ERROR);
    cr_assert_str_eq(f.reason, "fragmented control frame");
    n = frame_build(buf, (uint8_t) (0x80 | ctl[i]), payload, 125, MASK, ENC_MIN);
    cr_assert_eq(ws_frame_parse(buf, n, true, 0, &f), (long) n, "125 bytes is the most, whatever the message limit");
    n = frame_build(buf, (uint8_t) (0x80 | ctl[i]), payload, 126, MASK, ENC_MIN);
    cr_assert_eq(ws_frame_parse(buf, 2, true, 1000, &f), WS_FRAME_ERROR);
    cr_assert(f.close_code == WS_CLOSE_PROTOCOL && strstr(f.reason, "125") != NULL);
  }
}

Test(ws_frame, data_over_the_limit_closes_1009_from_the_header_alone) {
  uint8_t buf[16];
  struct ws_frame f;
  frame_build(buf, 0x82, NULL, 65536, MASK, ENC_MIN);  // Header only
  cr_assert_eq(ws_frame_parse(buf, 10, true, 65535, &f), WS_FRAME_ERROR);
  cr_assert_eq(f.close_code, WS_CLOSE_TOO_BIG);
  cr_assert_eq(ws_frame_parse(buf, 14, true, 65536, &f), WS_FRAME_INCOMPLETE);
  cr_assert_eq(f.payload_len, 65536);
  frame_build(buf, 0x81, NULL, 101, MASK, ENC_MIN);
  cr_assert_eq(ws_frame_parse(buf, 2, true, 100, &f), WS_FRAME_ERROR);
  cr_assert_eq(f.close_code, WS_CLOSE_TOO_BIG);
}

Test(ws_frame, mask_works_at_any_phase_and_length) {
  uint8_t a[37], b[37];
  for (size_t i = 0; i < sizeof(a); i++) a[i] = b[i] = (uint8_t) (i * 7);
  ws_mask(a, sizeof(a), MASK, 0);
  for (size_t i = 0; i < sizeof(a); i++) cr_assert_eq(a[i], b[i] ^ MASK[i & 3]);
  ws_mask(a, 5, MASK, 0);      // Undo in two pieces: the second starts at key offset 5
  ws_mask(a + 5, 32, MASK, 5);
  cr_assert(memcmp(a, b, sizeof(a)) == 0);
}

// ---------------------------------------------------------------------------
// UTF-8 and close payloads

Test(ws_utf8, strict_validation) {
  static const struct {
    const char *s;
    bool ok;
  } cases[] = {
      {"", true},
      {"plain ASCII text, longer than eight bytes", true},
      {"\xc2\x80", true},                      // U+0080
      {"\xdf\xbf", true},                      // U+07FF
      {"\xe0\xa0\x80", true},                  // U+0800
      {"\xed\x9f\xbf", true},                  // U+D7FF
      {"\xee\x80\x80", true},                  // U+E000
      {"\xef\xbf\xbf", true},                  // U+FFFF
      {"\xf0\x90\x80\x80", true},              // U+10000
      {"\xf4\x8f\xbf\xbf", true},              // U+10FFFF
      {"k\xc3\xa4se \xe2\x82\xac \xf0\x9f\x90\xb1", true},
      {"\x80", false},                         // Lone continuation
      {"\xc0\x80", false},                     // Overlong NUL
      {"\xc1\xbf", false},                     // Overlong
      {"\xe0\x9f\xbf", false},                 // Overlong U+07FF
      {"\xf0\x8f\xbf\xbf", false},             // Overlong U+FFFF
      {"\xed\xa0\x80", false},                 // U+D800 surrogate
      {"\xed\xbf\xbf", false},                 // U+DFFF surrogate
      {"\xf4\x90\x80\x80", false},             // U+110000
      {"\xf5\x80\x80\x80", false},
      {"\xfe", false},
      {"\xff", false},
      {"\xc2", false},                         // Cut short
      {"\xe2\x82", false},
      {"\xf0\x9f\x90", false},
      {"\xe2\x28\xa1", false},                 // Bad continuation
      {"abcdefgh\xe2\x82", false},             // Cut after an ASCII run
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    cr_assert_eq(ws_utf8_valid((const uint8_t *) cases[i].s, strlen(cases[i].s)), cases[i].ok, "case %zu", i);
  }
}

Test(ws_utf8, close_payloads) {
  static const struct {
    const char *p;
    size_t len;
    uint16_t want;
  } cases[] = {
      {"", 0, 0},
      {"\x03", 1, WS_CLOSE_PROTOCOL},
      {"\x03\xe8", 2, 0},                  // 1000
      {"\x03\xe8ok", 4, 0},
      {"\x03\xe8\xff", 3, WS_CLOSE_BAD_DATA},
      {"\x03\xe7", 2, WS_CLOSE_PROTOCOL},  // 999
      {"\x03\xec", 2, WS_CLOSE_PROTOCOL},  // 1004
      {"\x03\xed", 2, WS_CLOSE_PROTOCOL},  // 1005
      {"\x03\xee", 2, WS_CLOSE_PROTOCOL},  // 1006
      {"\x03\xef", 2, 0},                  // 1007
      {"\x03\xf6", 2, 0},                  // 1014
      {"\x03\xf7", 2, WS_CLOSE_PROTOCOL},  // 1015
      {"\x0b\xb7", 2, WS_CLOSE_PROTOCOL},  // 2999
      {"\x0b\xb8", 2, 0},                  // 3000
      {"\x13\x87", 2, 0},                  // 4999
      {"\x13\x88", 2, WS_CLOSE_PROTOCOL},  // 5000
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    const char *reason = NULL;
    cr_assert_eq(ws_close_payload_check((const uint8_t *) cases[i].p, cases[i].len, &reason), cases[i].want,
                 "case %zu", i);
    if (cases[i].want != 0) cr_assert_not_null(reason);
  }
}

// ---------------------------------------------------------------------------
// Messages from fragments, with the buffer handled as the connection handles c->recv

struct got {
  char log[4096];  // "op:len:data|" for each delivery
  int stop_after;  // Deliveries before returning false (0: never)
  int count;
};

static bool got_deliver(void *arg, int op, uint8_t *data, size_t len) {
  struct got *g = (struct got *) arg;
  size_t n = strlen(g->log);
  mg_snprintf(g->log + n, sizeof(g->log) - n, "%d:%lu:%.*s|", op, (unsigned long) len, (int) (len > 40 ? 40 : len),
              (char *) data);
  g->count++;
  return g->stop_after == 0 || g->count < g->stop_after;
}

// Feeds input in the pieces given (lengths summing to len), as reads; returns the close code
static uint16_t feed(struct ws_reader *r, const uint8_t *in, const size_t *pieces, size_t npieces, struct got *g,
                     const char **reason) {
  struct mg_iobuf io = {NULL, 0, 0, 64};
  size_t off = 0;
  uint16_t code = 0;
  for (size_t i = 0; i < npieces && code == 0; i++) {
    mg_iobuf_add(&io, io.len, in + off, pieces[i]);
    off += pieces[i];
    size_t rd = 0;
    if (io.len == 0) continue;
    code = ws_read_frames(r, io.buf, io.len, &rd, got_deliver, g, reason);
    cr_assert(rd >= r->msg_len && rd <= io.len);
    mg_iobuf_del(&io, r->msg_len, rd - r->msg_len);
  }
  mg_iobuf_free(&io);
  return code;
}

static uint16_t feed_all(bool client, size_t max, const uint8_t *in, size_t len, struct got *g, const char **reason) {
  struct ws_reader r = {client, 0, max, 0};
  size_t piece = len;
  return feed(&r, in, &piece, 1, g, reason);
}

// A sequence of frames: fragmented text with a ping between fragments, "€" split
// across two of them, then binary, a pong, a one-frame text and a close
static size_t sequence(uint8_t *buf) {
  size_t n = 0;
  n += frame_build(buf + n, 0x01, "ab\xe2", 3, MASK, ENC_MIN);     // Text, not FIN
  n += frame_build(buf + n, 0x89, "p1", 2, MASK, ENC_MIN);         // Ping between fragments
  n += frame_build(buf + n, 0x00, "\x82\xac", 2, MASK, ENC_MIN);   // Continuation
  n += frame_build(buf + n, 0x80, "cd", 2, MASK, ENC_MIN);         // Last fragment
  n += frame_build(buf + n, 0x82, "\x00\x01", 2, MASK, ENC_MIN);   // Binary
  n += frame_build(buf + n, 0x8a, "", 0, MASK, ENC_MIN);           // Pong
  n += frame_build(buf + n, 0x02, "xy", 2, MASK, ENC_MIN);         // Binary in two fragments
  n += frame_build(buf + n, 0x80, "z", 1, MASK, ENC_MIN);
  n += frame_build(buf + n, 0x81, "done", 4, MASK, ENC_MIN);
  n += frame_build(buf + n, 0x88, "\x03\xe8" "bye", 5, MASK, ENC_MIN);
  return n;
}

// (the binary payload "\0\1" prints as nothing: %.*s stops at its NUL)
static const char SEQUENCE_LOG[] = "9:2:p1|1:7:ab\xe2\x82\xac" "cd|2:2:|10:0:|2:3:xyz|1:4:done|8:5:\x03\xe8" "bye|";

Test(ws_reader, fragments_joined_with_control_frames_between_them) {
  uint8_t buf[256];
  size_t n = sequence(buf);
  struct got g = {{0}, 0, 0};
  const char *reason = NULL;
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), 0);
  cr_assert_str_eq(g.log, SEQUENCE_LOG);
  cr_assert_eq(g.count, 7);
}

Test(ws_reader, every_split_into_two_reads_gives_the_same_messages) {
  uint8_t buf[256];
  size_t n = sequence(buf);
  struct got whole = {{0}, 0, 0};
  const char *reason = NULL;
  uint8_t copy[256];
  memcpy(copy, buf, n);
  feed_all(false, 1000, copy, n, &whole, &reason);
  for (size_t cut = 0; cut <= n; cut++) {
    struct ws_reader r = {false, 0, 1000, 0};
    size_t pieces[2] = {cut, n - cut};
    struct got g = {{0}, 0, 0};
    memcpy(copy, buf, n);
    cr_assert_eq(feed(&r, copy, pieces, 2, &g, &reason), 0, "cut %zu", cut);
    cr_assert_eq(g.count, whole.count, "cut %zu", cut);
    cr_assert(memcmp(g.log, whole.log, sizeof(g.log)) == 0, "cut %zu: %s", cut, g.log);
    cr_assert(r.msg_len == 0 && r.msg_op == 0);
  }
}

Test(ws_reader, byte_at_a_time) {
  uint8_t buf[256];
  size_t n = sequence(buf), ones[256];
  for (size_t i = 0; i < n; i++) ones[i] = 1;
  struct ws_reader r = {false, 0, 1000, 0};
  struct got g = {{0}, 0, 0};
  const char *reason = NULL;
  cr_assert_eq(feed(&r, buf, ones, n, &g, &reason), 0);
  cr_assert_str_eq(g.log, SEQUENCE_LOG);
}

Test(ws_reader, bad_utf8_split_across_fragments_closes_1007) {
  uint8_t buf[64];
  size_t n = 0;
  n += frame_build(buf + n, 0x01, "ok\xe2", 3, MASK, ENC_MIN);
  n += frame_build(buf + n, 0x80, "\x82", 1, MASK, ENC_MIN);  // "€" cut short
  struct got g = {{0}, 0, 0};
  const char *reason = NULL;
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_BAD_DATA);
  cr_assert_eq(g.count, 0);
  cr_assert_str_eq(reason, "invalid UTF-8 in a text message");
  n = frame_build(buf, 0x81, "\xc0\xaf", 2, MASK, ENC_MIN);  // One frame, overlong
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_BAD_DATA);
  n = frame_build(buf, 0x82, "\xc0\xaf", 2, MASK, ENC_MIN);  // Binary may hold anything
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), 0);
  cr_assert_eq(g.count, 1);
}

Test(ws_reader, fragment_order_errors_close_1002) {
  uint8_t buf[64];
  struct got g = {{0}, 0, 0};
  const char *reason = NULL;
  size_t n = frame_build(buf, 0x80, "x", 1, MASK, ENC_MIN);  // Continuation with nothing to continue
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_PROTOCOL);
  cr_assert_str_eq(reason, "continuation frame without a message to continue");
  n = frame_build(buf, 0x01, "x", 1, MASK, ENC_MIN);
  n += frame_build(buf + n, 0x81, "y", 1, MASK, ENC_MIN);  // A new message inside
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_PROTOCOL);
  cr_assert_str_eq(reason, "new message inside a fragmented one");
  n = frame_build(buf, 0x88, "\x03", 1, MASK, ENC_MIN);  // Bad close payload
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_PROTOCOL);
  n = frame_build(buf, 0x88, "\x03\xe8\xff", 3, MASK, ENC_MIN);
  cr_assert_eq(feed_all(false, 1000, buf, n, &g, &reason), WS_CLOSE_BAD_DATA);
  cr_assert_eq(g.count, 0);
}

Test(ws_reader, fragments_over_the_message_limit_close_1009) {
  static uint8_t buf[512], payload[100];
  size_t n = frame_build(buf, 0x02, payload, 60, MASK, ENC_MIN);
  n += frame_build(buf + n, 0x89, payload, 100, MASK, ENC_MIN);  // A ping does not count
  size_t ok = n + frame_build(buf + n, 0x80, payload, 40, MASK, ENC_MIN);
  struct got g = {{0}, 0, 0};
  const char *reason = NULL;
  cr_assert_eq(feed_all(false, 100, buf, ok, &g, &reason), 0);
  cr_assert_eq(g.count, 2, "the ping and the 100-byte message");
  n += frame_build(buf + n, 0x80, payload, 41, MASK, ENC_MIN);
  g.count = 0;
  cr_assert_eq(feed_all(false, 100, buf, n, &g, &reason), WS_CLOSE_TOO_BIG);
  cr_assert_eq(g.count, 1, "only the ping");
}

Test(ws_reader, stops_when_deliver_says_so) {
  uint8_t buf[256];
  size_t n = sequence(buf);
  struct ws_reader r = {false, 0, 1000, 0};
  struct got g = {{0}, 2, 0};
  const char *reason = NULL;
  size_t rd = 0;
  cr_assert_eq(ws_read_frames(&r, buf, n, &rd, got_deliver, &g, &reason), 0);
  cr_assert_eq(g.count, 2);
  cr_assert(rd > 0 && rd < n);
}
