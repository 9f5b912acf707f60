// WebSocket: the frame parser over tables (opcodes, length encodings, masks, reserved
// bits, oversize), strict UTF-8, close payloads, messages joined from fragments under
// every split of the input, then a server and clients over loopback in one manager.
#define _GNU_SOURCE  // memmem
#include <criterion/criterion.h>
#include <string.h>
#include "mg_internal.h"  // mg_ws_send_frame
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

Test(ws_frame, a_header_built_by_hand_is_the_one_in_its_shortest_form) {
  static const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 1 << 20};
  uint8_t want[16], got[16];
  for (size_t i = 0; i < MG_ARRAY_SIZE(lens); i++) {
    for (int masked = 0; masked < 2; masked++) {
      size_t n = frame_build(want, 0x81, NULL, lens[i], masked ? MASK : NULL, ENC_MIN);
      cr_assert_eq(ws_frame_head(got, lens[i], WEBSOCKET_OP_TEXT, masked ? MASK : NULL), n, "len %zu", lens[i]);
      cr_assert(memcmp(got, want, n) == 0, "len %zu masked %d", lens[i], masked);
      cr_assert(masked || n <= WS_SERVER_HEAD_MAX);
    }
  }
}

// A frame built once and queued on many connections (the dashboard's pushes) is, byte
// for byte, what mg_ws_send would have queued on each
Test(ws_frame, a_frame_built_once_queues_what_mg_ws_send_would) {
  static const size_t lens[] = {0, 125, 126, 65535, 65536};
  static uint8_t payload[65536], frame[WS_SERVER_HEAD_MAX + 65536];
  for (size_t i = 0; i < sizeof(payload); i++) payload[i] = (uint8_t) (i * 7);
  for (size_t i = 0; i < MG_ARRAY_SIZE(lens); i++) {
    struct mg_connection a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    cr_assert(mg_send(&b, "before", 6));  // Appended after what is queued
    cr_assert(mg_send(&a, "before", 6));
    cr_assert_eq(mg_ws_send(&a, payload, lens[i], WEBSOCKET_OP_TEXT), a.send.len - 6);
    size_t hl = ws_frame_head(frame, lens[i], WEBSOCKET_OP_TEXT, NULL);
    memcpy(frame + hl, payload, lens[i]);
    cr_assert(mg_ws_send_frame(&b, frame, hl + lens[i]), "len %zu", lens[i]);
    cr_assert_eq(b.send.len, a.send.len, "len %zu", lens[i]);
    cr_assert(memcmp(b.send.buf, a.send.buf, a.send.len) == 0, "len %zu", lens[i]);
    mg_iobuf_free(&a.send);
    mg_iobuf_free(&b.send);
  }
}

// A client masks each frame with a key of its own (RFC 6455 5.3): a shared frame is not for it
Test(ws_frame, a_frame_built_once_is_refused_on_a_client_connection) {
  struct mg_connection c;
  uint8_t frame[WS_SERVER_HEAD_MAX + 2];
  memset(&c, 0, sizeof(c));
  c.is_client = 1;
  size_t hl = ws_frame_head(frame, 2, WEBSOCKET_OP_TEXT, NULL);
  memcpy(frame + hl, "hi", 2);
  cr_assert_not(mg_ws_send_frame(&c, frame, hl + 2));
  cr_assert_eq(c.send.len, 0);
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
    cr_assert_eq(mg_utf8_valid((const uint8_t *) cases[i].s, strlen(cases[i].s)), cases[i].ok, "case %zu", i);
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

// ---------------------------------------------------------------------------
// Over loopback: a server, clients through mg_ws_connect, and raw TCP clients that
// send frames built by hand and read what the server sends back

static void poll_until(struct mg_mgr *mgr, bool *cond, int max_ms) {
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  while (!*cond && mg_millis() < end) mg_mgr_poll(mgr, 5);
}

static void poll_for(struct mg_mgr *mgr, int ms) {
  bool never = false;
  poll_until(mgr, &never, ms);
}

// One side's view of a WebSocket: what it received, counted
struct side {
  bool echo;               // Send every message back with its opcode
  bool defer_plain;        // Server: answer plain HTTP requests on the next MG_EV_POLL
  bool in_hdrs;            // Server: upgrade from MG_EV_HTTP_HDRS instead of MG_EV_HTTP_MSG
  const char *extra;       // Server: header lines for the 101
  int opens, msgs, ctls, pings, pongs, closes, errors, closed;
  uint8_t last_flags;
  uint16_t close_code;     // From the last close frame received (0: none or empty)
  char last[128];          // Last message (or control payload), NUL-terminated when it fits
  size_t last_len;
  char error[200];
  char header[64];         // Server: the X-Test header of the upgrade request; client: of the 101
  struct mg_connection *c;
  size_t max_recv;         // Server: the largest receive buffer its connection had
  bool done;
};

static void side_record(struct side *s, int ev, void *ev_data) {
  struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
  if (ev == MG_EV_WS_MSG || ev == MG_EV_WS_CTL) {
    s->last_flags = wm->flags;
    s->last_len = wm->data.len;
    size_t n = wm->data.len < sizeof(s->last) - 1 ? wm->data.len : sizeof(s->last) - 1;
    memcpy(s->last, wm->data.buf, n);
    s->last[n] = '\0';
  }
  if (ev == MG_EV_WS_MSG) s->msgs++;
  if (ev == MG_EV_WS_CTL) {
    s->ctls++;
    int op = wm->flags & 15;
    if (op == WEBSOCKET_OP_PING) s->pings++;
    if (op == WEBSOCKET_OP_PONG) s->pongs++;
    if (op == WEBSOCKET_OP_CLOSE) {
      s->closes++;
      s->close_code = wm->data.len >= 2 ? MG_LOAD_BE16(wm->data.buf) : 0;
    }
  }
  if (ev == MG_EV_ERROR) {
    s->errors++;
    mg_snprintf(s->error, sizeof(s->error), "%s", (char *) ev_data);
  }
  if (ev == MG_EV_CLOSE) s->closed++, s->done = true;
}

static void copy_header(struct mg_http_message *hm, const char *name, char *dst, size_t len) {
  struct mg_str *v = mg_http_get_header(hm, name);
  mg_snprintf(dst, len, "%.*s", v == NULL ? 0 : (int) v->len, v == NULL ? "" : v->buf);
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct side *s = (struct side *) c->fn_data;
  if (c->is_accepted && c->recv.size > s->max_recv) s->max_recv = c->recv.size;
  if (ev == (s->in_hdrs ? MG_EV_HTTP_HDRS : MG_EV_HTTP_MSG)) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_str_eq(hm->uri, "/ws")) {
      copy_header(hm, "X-Test", s->header, sizeof(s->header));
      mg_ws_upgrade(c, hm, s->extra);
    } else if (s->defer_plain) {
      s->c = c;
    } else {
      mg_http_reply(c, 200, NULL, "plain HTTP");
    }
  }
  if (ev == MG_EV_POLL && s->defer_plain && s->c == c && !c->is_websocket) {
    s->c = NULL;
    mg_http_reply(c, 200, NULL, "plain HTTP, later");
  }
  if (ev == MG_EV_WS_OPEN) {
    s->opens++;
    s->c = c;
    cr_assert(c->is_websocket);
  }
  if (c->is_accepted && c->is_websocket) side_record(s, ev, ev_data);
  if (ev == MG_EV_WS_MSG && s->echo) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
  }
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct side *s = (struct side *) c->fn_data;
  if (ev == MG_EV_WS_OPEN) {
    s->opens++;
    copy_header((struct mg_http_message *) ev_data, "X-Test", s->header, sizeof(s->header));
  }
  side_record(s, ev, ev_data);
  if (ev == MG_EV_WS_MSG && s->echo) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
  }
}

static unsigned short server_start(struct mg_mgr *mgr, struct side *s, const struct mg_http_limits *lim) {
  mg_mgr_init(mgr);
  struct mg_connection *l = mg_http_listen_limits(mgr, "http://127.0.0.1:0", lim, server_fn, s);
  cr_assert_not_null(l);
  return mg_ntohs(l->loc.port);
}

static struct mg_connection *client_start(struct mg_mgr *mgr, unsigned short port, struct side *s, const char *path) {
  char url[64];
  mg_snprintf(url, sizeof(url), "ws://127.0.0.1:%u%s", (unsigned) port, path);
  struct mg_connection *c = mg_ws_connect(mgr, url, client_fn, s, "X-Test: %s\r\n", "from client");
  cr_assert_not_null(c);
  s->c = c;
  return c;
}

Test(ws_conn, upgrade_echo_and_headers_both_ways) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  srv.echo = true;
  srv.extra = "X-Test: from server\r\n";
  unsigned short port = server_start(&mgr, &srv, NULL);
  struct mg_connection *c = client_start(&mgr, port, &cli, "/ws");
  bool opened = false;
  for (int i = 0; i < 400 && !opened; i++) mg_mgr_poll(&mgr, 5), opened = cli.opens > 0;
  cr_assert(opened && srv.opens == 1, "both sides open");
  cr_assert(c->is_websocket);
  cr_assert_str_eq(srv.header, "from client");
  cr_assert_str_eq(cli.header, "from server");
  mg_ws_send(c, "hello", 5, WEBSOCKET_OP_TEXT);
  bool got = false;
  for (int i = 0; i < 400 && !got; i++) mg_mgr_poll(&mgr, 5), got = cli.msgs > 0;
  cr_assert(got);
  cr_assert_str_eq(cli.last, "hello");
  cr_assert_eq(cli.last_flags & 15, WEBSOCKET_OP_TEXT);
  cr_assert_str_eq(srv.last, "hello");
  // Binary through mg_ws_printf, and a 64 KiB message through mg_ws_send
  mg_ws_printf(c, WEBSOCKET_OP_BINARY, "%s-%d", "bin", 42);
  for (int i = 0; i < 400 && cli.msgs < 2; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_str_eq(cli.last, "bin-42");
  cr_assert_eq(cli.last_flags & 15, WEBSOCKET_OP_BINARY);
  static char big[65536];
  for (size_t i = 0; i < sizeof(big); i++) big[i] = (char) ('a' + i % 26);
  cr_assert_eq(mg_ws_send(c, big, sizeof(big), WEBSOCKET_OP_TEXT), sizeof(big) + 14);
  for (int i = 0; i < 1000 && cli.msgs < 3; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli.msgs, 3);
  cr_assert_eq(cli.last_len, sizeof(big));
  mg_mgr_free(&mgr);
}

Test(ws_conn, ping_answered_with_pong_and_close_code_echoed) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  unsigned short port = server_start(&mgr, &srv, NULL);
  struct mg_connection *c = client_start(&mgr, port, &cli, "/ws");
  for (int i = 0; i < 400 && cli.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  static const char long_ping[126] = {0};
  cr_assert_eq(mg_ws_send(c, long_ping, sizeof(long_ping), WEBSOCKET_OP_PING), 0, "over 125 bytes: refused");
  mg_ws_send(c, "are you there", 13, WEBSOCKET_OP_PING);
  for (int i = 0; i < 400 && cli.pongs == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli.pongs, 1);
  cr_assert_str_eq(cli.last, "are you there");
  cr_assert_eq(srv.pings, 1, "the server's handler sees the ping too");
  // The client starts the close handshake; the server answers with the same code
  uint8_t close[] = {0x0f, 0xa0, 'b', 'y', 'e'};  // 4000
  cr_assert_gt(mg_ws_send(c, close, sizeof(close), WEBSOCKET_OP_CLOSE), 0);
  cr_assert_eq(mg_ws_send(c, "late", 4, WEBSOCKET_OP_TEXT), 0, "nothing after a close frame");
  poll_until(&mgr, &cli.done, 2000);
  cr_assert(cli.done && cli.closed == 1);
  cr_assert_eq(srv.close_code, 4000);
  cr_assert_eq(cli.close_code, 4000);
  cr_assert_eq(srv.msgs, 0, "the late text was never sent");
  poll_until(&mgr, &srv.done, 2000);
  cr_assert(srv.done);
  mg_mgr_free(&mgr);
}

Test(ws_conn, server_starts_the_close_and_the_client_echoes_it) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  unsigned short port = server_start(&mgr, &srv, NULL);
  client_start(&mgr, port, &cli, "/ws");
  for (int i = 0; i < 400 && srv.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  mg_ws_send(srv.c, "\x03\xe9going away", 12, WEBSOCKET_OP_CLOSE);  // 1001
  poll_until(&mgr, &srv.done, 2000);
  cr_assert(srv.done);
  cr_assert_eq(cli.close_code, 1001);
  cr_assert_str_eq(cli.last + 2, "going away");
  cr_assert_eq(srv.close_code, 1001, "the client echoed the code");
  poll_until(&mgr, &cli.done, 2000);
  mg_mgr_free(&mgr);
}

Test(ws_conn, a_frame_built_once_is_refused_after_the_close_was_sent) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  uint8_t frame[WS_SERVER_HEAD_MAX + 5];
  size_t n = ws_frame_head(frame, 5, WEBSOCKET_OP_TEXT, NULL);
  memcpy(frame + n, "hello", 5);
  n += 5;
  unsigned short port = server_start(&mgr, &srv, NULL);
  client_start(&mgr, port, &cli, "/ws");
  for (int i = 0; i < 400 && srv.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert(mg_ws_send_frame(srv.c, frame, n));
  poll_for(&mgr, 50);
  cr_assert_eq(cli.msgs, 1);
  cr_assert_str_eq(cli.last, "hello");
  mg_ws_send(srv.c, "\x03\xe8", 2, WEBSOCKET_OP_CLOSE);
  size_t queued = srv.c->send.len;
  cr_assert_not(mg_ws_send_frame(srv.c, frame, n), "nothing may follow a close frame");
  cr_assert_eq(srv.c->send.len, queued);
  poll_until(&mgr, &cli.done, 2000);
  cr_assert_eq(cli.msgs, 1);
  cr_assert_eq(cli.close_code, 1000);
  mg_mgr_free(&mgr);
}

// A timer runs after the pass has read the clock: here it also takes a millisecond,
// so the close it sends is stamped later than the `now` the same pass hands to
// MG_EV_POLL (a session ending in the dashboard's tick does exactly this)
static void close_late_timer(void *arg) {
  struct side *srv = (struct side *) arg;
  uint64_t start = mg_millis();
#if MG_ENABLE_MOCK
  mg_mock_advance(2);
#endif
  while (mg_millis() < start + 2) (void) 0;
  mg_ws_send(srv->c, "\x03\xe8", 2, WEBSOCKET_OP_CLOSE);  // 1000
}

Test(ws_conn, a_close_sent_late_in_a_pass_waits_for_the_answer) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  unsigned short port = server_start(&mgr, &srv, NULL);
  client_start(&mgr, port, &cli, "/ws");
  for (int i = 0; i < 400 && srv.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  mg_timer_add(&mgr, 0, 0, close_late_timer, &srv);
  poll_until(&mgr, &cli.done, 2000);
  cr_assert_eq(cli.close_code, 1000, "the client got the close frame (not a connection cut before it left)");
  poll_until(&mgr, &srv.done, 2000);
  cr_assert_eq(srv.close_code, 1000, "and the server got the answer it waited for");
  mg_mgr_free(&mgr);
}

Test(ws_conn, http_idle_and_body_timeouts_no_longer_apply) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  srv.echo = true;
  struct mg_http_limits lim = {8192, 65536, 100, 100, 100, 0, 0, 0};
  unsigned short port = server_start(&mgr, &srv, &lim);
  struct mg_connection *c = client_start(&mgr, port, &cli, "/ws");
  for (int i = 0; i < 400 && cli.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  poll_for(&mgr, 600);
  cr_assert_eq(srv.closed + cli.closed, 0, "an idle WebSocket stays open");
  mg_ws_send(c, "still here", 10, WEBSOCKET_OP_TEXT);
  for (int i = 0; i < 400 && cli.msgs == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_str_eq(cli.last, "still here");
  mg_mgr_free(&mgr);
}

Test(ws_conn, plain_http_on_the_same_listener_still_works) {
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  unsigned short port = server_start(&mgr, &srv, NULL);
  client_start(&mgr, port, &cli, "/not-ws");  // Answered 200, not 101
  poll_until(&mgr, &cli.done, 2000);
  cr_assert_eq(cli.opens, 0);
  cr_assert_eq(cli.errors, 1);
  cr_assert(strstr(cli.error, "WebSocket handshake refused: HTTP 200") != NULL, "%s", cli.error);
  mg_mgr_free(&mgr);
}

// ---- raw TCP clients

struct raw {
  struct mg_iobuf out;    // Sent on connect
  struct mg_iobuf later;  // Sent once the 101 has come
  struct mg_iobuf in;     // Everything received
  bool done;
};

static void raw_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct raw *r = (struct raw *) c->fn_data;
  if (ev == MG_EV_CONNECT) mg_send(c, r->out.buf, r->out.len);
  if (ev == MG_EV_READ) {
    mg_iobuf_add(&r->in, r->in.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
    if (r->later.len > 0 && memmem(r->in.buf, r->in.len, " 101 ", 5) != NULL) {
      mg_send(c, r->later.buf, r->later.len);
      mg_iobuf_free(&r->later);
    }
  }
  if (ev == MG_EV_CLOSE) r->done = true;
  (void) ev_data;
}

static const char UPGRADE[] =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

static void raw_add(struct raw *r, const void *buf, size_t len) {
  mg_iobuf_add(&r->out, r->out.len, buf, len);
}

static void raw_frame(struct raw *r, uint8_t b0, const void *payload, size_t len, const uint8_t *mask) {
  uint8_t *f = (uint8_t *) malloc(len + 14);
  cr_assert_not_null(f);
  raw_add(r, f, frame_build(f, b0, payload, len, mask, ENC_MIN));
  free(f);
}

// Connects, sends r->out at once, runs until the server closes
static void raw_run(struct mg_mgr *mgr, unsigned short port, struct raw *r) {
  char url[64];
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", (unsigned) port);
  cr_assert_not_null(mg_connect(mgr, url, raw_fn, r));
  poll_until(mgr, &r->done, 3000);
  cr_assert(r->done, "the server closed the connection");
}

// The frames after the 101 head in what the server sent, as "op:len" and close codes
static void raw_frames(struct raw *r, char *log, size_t len) {
  const char *end = memmem(r->in.buf, r->in.len, "\r\n\r\n", 4);
  cr_assert_not_null(end);
  size_t pos = (size_t) (end + 4 - (char *) r->in.buf);
  log[0] = '\0';
  while (pos < r->in.len) {
    struct ws_frame f;
    long n = ws_frame_parse(r->in.buf + pos, r->in.len - pos, false, 1 << 20, &f);
    cr_assert_gt(n, 0, "a whole, unmasked frame from the server");
    size_t l = strlen(log);
    const uint8_t *p = r->in.buf + pos + f.head_len;
    if (f.opcode == WEBSOCKET_OP_CLOSE && f.payload_len >= 2) {
      mg_snprintf(log + l, len - l, "close %u %.*s|", MG_LOAD_BE16(p), (int) f.payload_len - 2, p + 2);
    } else {
      mg_snprintf(log + l, len - l, "%d:%.*s|", f.opcode, (int) f.payload_len, p);
    }
    pos += (size_t) n;
  }
}

static void raw_expect(struct raw *r, unsigned short port, struct mg_mgr *mgr, const char *want) {
  char log[512];
  raw_run(mgr, port, r);
  cr_assert(r->in.len > 12 && memcmp(r->in.buf, "HTTP/1.1 101 ", 13) == 0);
  cr_assert_not_null(memmem(r->in.buf, r->in.len, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", 51),
                     "RFC 6455 1.3's example key and answer");
  raw_frames(r, log, sizeof(log));
  cr_assert_str_eq(log, want);
  mg_iobuf_free(&r->in);
  mg_iobuf_free(&r->out);
}

Test(ws_conn, frames_sent_with_the_request_are_read_and_fragments_joined) {
  struct mg_mgr mgr;
  struct side srv = {0};
  srv.echo = true;
  unsigned short port = server_start(&mgr, &srv, NULL);
  struct raw r = {0};
  raw_add(&r, UPGRADE, strlen(UPGRADE));
  raw_frame(&r, 0x01, "frag", 4, MASK);  // In the same write as the request
  raw_frame(&r, 0x89, "ping!", 5, MASK);
  raw_frame(&r, 0x00, "men", 3, MASK);
  raw_frame(&r, 0x80, "ts", 2, MASK);
  raw_frame(&r, 0x88, "\x03\xe8", 2, MASK);
  raw_expect(&r, port, &mgr, "10:ping!|1:fragments|close 1000 |");
  cr_assert_eq(srv.msgs, 1);
  cr_assert_eq(srv.pings, 1);
  mg_mgr_free(&mgr);
}

// The upgrade waits behind a deferred reply with more than a head's worth of input, so
// HTTP has paused reading; the WebSocket it hands the connection to must read again
Test(ws_conn, an_upgrade_behind_a_deferred_reply_reads_the_frames_that_follow) {
  static const struct mg_http_limits lim = {.max_head_size = 256, .max_body_size = 1024};
  static const char SLOW[] = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
  struct mg_mgr mgr;
  struct side srv = {0};
  srv.echo = srv.defer_plain = true;
  unsigned short port = server_start(&mgr, &srv, &lim);
  struct raw r = {0};
  raw_add(&r, SLOW, strlen(SLOW));
  raw_add(&r, UPGRADE, strlen(UPGRADE));
  static char pad[120];
  memset(pad, 'p', sizeof(pad));
  raw_frame(&r, 0x81, pad, sizeof(pad), MASK);  // In the first write: past max_head_size with the requests
  raw_frame(&r, 0x81, "second", 6, MASK);
  r.later = r.out, r.out = (struct mg_iobuf) {0};  // Swap: what follows goes out after the 101
  raw_frame(&r, 0x81, "after the 101", 13, MASK);
  raw_frame(&r, 0x88, "\x03\xe8", 2, MASK);
  struct mg_iobuf first = r.later;
  r.later = r.out, r.out = first;
  char url[64];
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", (unsigned) port);
  cr_assert_not_null(mg_connect(&mgr, url, raw_fn, &r));
  poll_until(&mgr, &r.done, 3000);
  cr_assert(r.done, "the WebSocket never read the frames sent after the 101");
  cr_assert_not_null(memmem(r.in.buf, r.in.len, "after the 101", 13));
  mg_iobuf_free(&r.in);
  mg_iobuf_free(&r.out);
  mg_iobuf_free(&r.later);
  mg_mgr_free(&mgr);
}

struct bad_case {
  const char *name;
  uint8_t b0;
  const char *payload;
  size_t len;
  bool masked;
  const char *want;
};

Test(ws_conn, protocol_errors_close_with_their_code_and_reason) {
  static const struct bad_case cases[] = {
      {"unmasked", 0x81, "x", 1, false, "close 1002 unmasked frame from a client|"},
      {"reserved bits", 0xc1, "x", 1, true, "close 1002 reserved bits set|"},
      {"unknown opcode", 0x83, "x", 1, true, "close 1002 unknown opcode|"},
      {"fragmented ping", 0x09, "x", 1, true, "close 1002 fragmented control frame|"},
      {"bare continuation", 0x80, "x", 1, true, "close 1002 continuation frame without a message to continue|"},
      {"bad UTF-8", 0x81, "\xed\xa0\x80", 3, true, "close 1007 invalid UTF-8 in a text message|"},
      {"bad close code", 0x88, "\x03\xed", 2, true, "close 1002 invalid close code|"},
      {"bad close reason", 0x88, "\x03\xe8\xff", 3, true, "close 1007 invalid UTF-8 in a close reason|"},
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    struct mg_mgr mgr;
    struct side srv = {0};
    srv.echo = true;
    unsigned short port = server_start(&mgr, &srv, NULL);
    struct raw r = {0};
    raw_add(&r, UPGRADE, strlen(UPGRADE));
    raw_frame(&r, 0x81, "before", 6, MASK);
    raw_frame(&r, cases[i].b0, cases[i].payload, cases[i].len, cases[i].masked ? MASK : NULL);
    raw_frame(&r, 0x81, "after", 5, MASK);  // Never read
    char want[160];
    mg_snprintf(want, sizeof(want), "1:before|%s", cases[i].want);
    raw_expect(&r, port, &mgr, want);
    cr_assert_eq(srv.msgs, 1, "%s", cases[i].name);
    mg_mgr_free(&mgr);
  }
}

// The largest message follows the receive buffer (MG_MAX_RECV_SIZE, as in Mongoose):
// one announced larger is refused from its header alone, before any of it is held, and
// fragments that add up to more are refused at the one that crosses the limit. A peer
// makes a connection hold at most MG_MAX_RECV_SIZE: a whole limit's worth of fragments
// still leaves room for a control frame between them.
Test(ws_conn, message_over_the_limit_closes_1009_and_recv_stays_bounded) {
  cr_assert_leq(MG_WS_MAX_MESSAGE + 14 + 131, MG_MAX_RECV_SIZE);
  struct mg_mgr mgr;
  struct side srv = {0};
  srv.echo = true;
  unsigned short port = server_start(&mgr, &srv, NULL);
  struct raw r = {0};
  uint8_t head[14];
  raw_add(&r, UPGRADE, strlen(UPGRADE));
  raw_add(&r, head, frame_build(head, 0x82, NULL, MG_WS_MAX_MESSAGE + 1, MASK, ENC_MIN));
  raw_expect(&r, port, &mgr, "close 1009 message too big|");
  cr_assert_eq(srv.msgs, 0);
  cr_assert_lt(srv.max_recv, 4096, "nothing of the payload was held: %lu", (unsigned long) srv.max_recv);
  mg_mgr_free(&mgr);

  memset(&srv, 0, sizeof(srv));
  srv.echo = true;
  port = server_start(&mgr, &srv, NULL);
  memset(&r, 0, sizeof(r));
  char *payload = (char *) calloc(1, MG_WS_MAX_MESSAGE);
  cr_assert_not_null(payload);
  raw_add(&r, UPGRADE, strlen(UPGRADE));
  raw_frame(&r, 0x02, payload, MG_WS_MAX_MESSAGE, MASK);
  raw_frame(&r, 0x89, "still here", 10, MASK);
  raw_frame(&r, 0x80, payload, 1, MASK);
  free(payload);
  raw_expect(&r, port, &mgr, "10:still here|close 1009 message too big|");
  cr_assert_eq(srv.msgs, 0);
  cr_assert_leq(srv.max_recv, MG_MAX_RECV_SIZE, "held %lu", (unsigned long) srv.max_recv);
  cr_assert_gt(srv.max_recv, MG_WS_MAX_MESSAGE, "the fragments were held whole");
  mg_mgr_free(&mgr);
}

Test(ws_conn, bad_upgrade_requests_get_400_or_426) {
  static const struct {
    const char *req;
    const char *status;
  } cases[] = {
      {"POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 400 "},
      {"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400 "},
      {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400 "},
      {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "HTTP/1.1 400 "},
      {"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
       "HTTP/1.1 426 "},
  };
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    struct mg_mgr mgr;
    struct side srv = {0};
    unsigned short port = server_start(&mgr, &srv, NULL);
    struct raw r = {0};
    raw_add(&r, cases[i].req, strlen(cases[i].req));
    static const char next[] = "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";  // Still HTTP
    raw_add(&r, next, strlen(next));
    raw_run(&mgr, port, &r);
    cr_assert(r.in.len > 13 && memcmp(r.in.buf, cases[i].status, 13) == 0, "case %zu", i);
    if (i == 4) cr_assert_not_null(memmem(r.in.buf, r.in.len, "Sec-WebSocket-Version: 13\r\n", 27));
    cr_assert_not_null(memmem(r.in.buf, r.in.len, "plain HTTP", 10), "case %zu: the next request is served", i);
    cr_assert_eq(srv.opens, 0);
    mg_iobuf_free(&r.in);
    mg_iobuf_free(&r.out);
    mg_mgr_free(&mgr);
  }
}

// ---- a raw server, to see what the client sends and how it takes bad answers

struct rawsrv {
  const char *accept;  // Sec-WebSocket-Accept to answer with; NULL: the right one
  struct mg_iobuf extra;  // Frames sent after the 101
  struct mg_iobuf in;  // What the client sent after its request
  bool upgraded;
  size_t more_after_close;  // Bytes sent once the client's close frame is in
  size_t written;           // Bytes the server's side wrote (MG_EV_WRITE)
};

static void rawsrv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct rawsrv *s = (struct rawsrv *) c->fn_data;
  if (ev == MG_EV_WRITE) s->written += (size_t) *(long *) ev_data;
  if (ev != MG_EV_READ) return;
  if (!s->upgraded) {
    struct mg_http_message hm;
    int n = mg_http_parse((char *) c->recv.buf, c->recv.len, &hm);
    if (n <= 0) return;
    struct mg_str *k = mg_http_get_header(&hm, "Sec-WebSocket-Key");
    cr_assert_not_null(k);
    char b64[64], key[20];
    cr_assert_eq(mg_base64_decode(k->buf, k->len, key, sizeof(key)), 16);
    mg_sha1_ctx ctx;
    unsigned char d[20];
    mg_sha1_init(&ctx);
    mg_sha1_update(&ctx, (unsigned char *) k->buf, k->len);
    mg_sha1_update(&ctx, (unsigned char *) "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
    mg_sha1_final(d, &ctx);
    mg_base64_encode(d, 20, b64, sizeof(b64));
    mg_printf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n\r\n", s->accept ? s->accept : b64);
    mg_send(c, s->extra.buf, s->extra.len);
    mg_iobuf_del(&c->recv, 0, (size_t) n);
    s->upgraded = true;
  }
  mg_iobuf_add(&s->in, s->in.len, c->recv.buf, c->recv.len);
  c->recv.len = 0;
  if (s->more_after_close > 0 && s->in.len >= 8) {  // The close frame (it is 8 bytes at least)
    mg_send(c, NULL, 0);
    mg_iobuf_add(&c->send, c->send.len, NULL, s->more_after_close);
    s->more_after_close = 0;
  }
  (void) ev_data;
}

static unsigned short rawsrv_start(struct mg_mgr *mgr, struct rawsrv *s) {
  mg_mgr_init(mgr);
  struct mg_connection *l = mg_listen(mgr, "tcp://127.0.0.1:0", rawsrv_fn, s);
  cr_assert_not_null(l);
  return mg_ntohs(l->loc.port);
}

Test(ws_client, wrong_accept_is_an_error) {
  struct mg_mgr mgr;
  struct rawsrv s = {0};
  s.accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  struct side cli = {0};
  client_start(&mgr, rawsrv_start(&mgr, &s), &cli, "/");
  poll_until(&mgr, &cli.done, 2000);
  cr_assert_eq(cli.opens, 0);
  cr_assert_str_eq(cli.error, "WebSocket handshake: wrong Sec-WebSocket-Accept");
  mg_iobuf_free(&s.in);
  mg_mgr_free(&mgr);
}

Test(ws_client, masks_every_frame_with_a_fresh_key_and_refuses_masked_frames) {
  struct mg_mgr mgr;
  struct rawsrv s = {0};
  struct side cli = {0};
  uint8_t f[64];
  size_t n = frame_build(f, 0x81, "unmasked ok", 11, NULL, ENC_MIN);
  n += frame_build(f + n, 0x81, "masked", 6, MASK, ENC_MIN);
  mg_iobuf_add(&s.extra, 0, f, n);
  struct mg_connection *c = client_start(&mgr, rawsrv_start(&mgr, &s), &cli, "/");
  for (int i = 0; i < 400 && cli.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  poll_until(&mgr, &cli.done, 2000);
  for (int i = 0; i < 100 && s.in.len < 6; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli.msgs, 1);
  cr_assert_str_eq(cli.last, "unmasked ok");
  // What the client sent: its close frame with 1002, masked
  struct ws_frame fr;
  cr_assert_gt(ws_frame_parse(s.in.buf, s.in.len, true, 1000, &fr), 0);
  cr_assert_eq(fr.opcode, WEBSOCKET_OP_CLOSE);
  uint8_t *p = s.in.buf + fr.head_len;
  ws_mask(p, (size_t) fr.payload_len, fr.mask, 0);
  cr_assert_eq(MG_LOAD_BE16(p), 1002);
  (void) c;
  mg_iobuf_free(&s.in);
  mg_iobuf_free(&s.extra);
  mg_mgr_free(&mgr);
}

// RFC 6455 7.1.1: the client lets the server close the TCP connection first. Closing
// at once, with the rest of a large message still arriving, resets the connection, and
// the reset can destroy the close frame before the server reads it (node's ws then
// reports 1006 instead of 1009)
Test(ws_client, after_closing_1009_mid_message_it_reads_on_until_the_server_closes) {
  struct mg_mgr mgr;
  struct rawsrv s = {0};
  struct side cli = {0};
  uint8_t f[16];
  size_t n = frame_build(f, 0x82, NULL, (size_t) MG_WS_MAX_MESSAGE + 1, NULL, ENC_64);
  mg_iobuf_add(&s.extra, 0, f, n);
  s.more_after_close = 256 * 1024;  // The message goes on after the client gave up on it
  client_start(&mgr, rawsrv_start(&mgr, &s), &cli, "/");
  poll_until(&mgr, &cli.done, MG_LINGER_MS / 2);
  cr_assert(cli.done, "closed once the server closed, before MG_LINGER_MS ran out");
  poll_for(&mgr, 100);
  struct ws_frame fr;
  cr_assert_gt(ws_frame_parse(s.in.buf, s.in.len, true, 1000, &fr), 0, "the client's close frame arrived");
  cr_assert_eq(fr.opcode, WEBSOCKET_OP_CLOSE);
  uint8_t *p = s.in.buf + fr.head_len;
  ws_mask(p, (size_t) fr.payload_len, fr.mask, 0);
  cr_assert_eq(MG_LOAD_BE16(p), 1009);
  cr_assert_geq(s.written, 256 * 1024, "no reset: the server got to send the rest (%zu bytes written)", s.written);
  mg_iobuf_free(&s.in);
  mg_iobuf_free(&s.extra);
  mg_mgr_free(&mgr);
}

Test(ws_client, two_frames_have_different_masks) {
  struct mg_mgr mgr;
  struct rawsrv s = {0};
  struct side cli = {0};
  struct mg_connection *c = client_start(&mgr, rawsrv_start(&mgr, &s), &cli, "/");
  for (int i = 0; i < 400 && cli.opens == 0; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(cli.opens, 1);
  mg_ws_send(c, "same", 4, WEBSOCKET_OP_TEXT);
  mg_ws_send(c, "same", 4, WEBSOCKET_OP_TEXT);
  for (int i = 0; i < 400 && s.in.len < 20; i++) mg_mgr_poll(&mgr, 5);
  struct ws_frame a, b;
  cr_assert_eq(ws_frame_parse(s.in.buf, s.in.len, true, 100, &a), 10);
  cr_assert_eq(ws_frame_parse(s.in.buf + 10, s.in.len - 10, true, 100, &b), 10);
  cr_assert(memcmp(a.mask, b.mask, 4) != 0);
  ws_mask(s.in.buf + 6, 4, a.mask, 0);
  cr_assert(memcmp(s.in.buf + 6, "same", 4) == 0);
  mg_iobuf_free(&s.in);
  mg_mgr_free(&mgr);
}

#if MG_ENABLE_MOCK
static void deaf_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct side *s = (struct side *) c->fn_data;
  if (ev == MG_EV_WS_OPEN) c->is_read_paused = 1, s->opens++;  // Reads nothing from now on
  if (ev == MG_EV_CLOSE) s->closed++;
  (void) ev_data;
}

// On the mock backend only: the fake clock makes the 30 s wait instant
Test(ws_conn, a_peer_that_reads_nothing_for_the_send_timeout_is_closed) {
  static char blob[60000];
  struct mg_mgr mgr;
  struct side srv = {0}, cli = {0};
  char url[64];
  mg_snprintf(url, sizeof(url), "ws://127.0.0.1:%u/ws", (unsigned) server_start(&mgr, &srv, NULL));
  cr_assert_not_null(mg_ws_connect(&mgr, url, deaf_client_fn, &cli, NULL));
  for (int i = 0; i < 400 && (srv.opens == 0 || cli.opens == 0); i++) mg_mgr_poll(&mgr, 5);
  for (int i = 0; i < 40; i++) mg_ws_send(srv.c, blob, sizeof(blob), WEBSOCKET_OP_BINARY);  // 2.4 MB, more than the window
  uint64_t start = mg_millis();
  while (srv.closed == 0 && mg_millis() - start < MG_WS_SEND_TIMEOUT_MS + 5000) mg_mgr_poll(&mgr, 100);
  cr_assert_eq(srv.closed, 1, "the server keeps a WebSocket whose peer reads nothing");
  cr_assert_geq(mg_millis() - start, MG_WS_SEND_TIMEOUT_MS);
  mg_mgr_free(&mgr);
}
#endif

static void silent_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) c->recv.len = 0;  // Reads the upgrade request, never answers
  (void) ev_data;
}

// On the mock backend the fake clock makes the wait instant; on sockets it is real
Test(ws_client, a_server_that_never_answers_the_upgrade_times_out, .timeout = 30) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "tcp://127.0.0.1:0", silent_fn, NULL);
  cr_assert_not_null(l);
  struct side cli = {0};
  uint64_t start = mg_millis();
  client_start(&mgr, mg_ntohs(l->loc.port), &cli, "/");
  poll_until(&mgr, &cli.done, MG_WS_HANDSHAKE_TIMEOUT_MS + 3000);
  cr_assert_eq(cli.opens, 0);
  cr_assert_eq(cli.errors, 1, "the client gives up with an error");
  cr_assert(strstr(cli.error, "no answer to the upgrade") != NULL, "%s", cli.error);
  cr_assert_geq(mg_millis() - start, MG_WS_HANDSHAKE_TIMEOUT_MS);
  mg_mgr_free(&mgr);
}

Test(ws_client, wss_fails_clearly_without_tls) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct side cli = {0};
#if !MG_ENABLE_TLS
  cr_assert_null(mg_ws_connect(&mgr, "wss://127.0.0.1:1/", client_fn, &cli, NULL));
#endif
  cr_assert_null(mg_ws_connect(&mgr, "mqtt://127.0.0.1:1/", client_fn, &cli, NULL));
  mg_mgr_free(&mgr);
}

Test(ws_conn, upgrade_from_the_head_alone_with_frames_behind_it) {
  struct mg_mgr mgr;
  struct side srv = {0};
  srv.echo = true;
  srv.in_hdrs = true;
  unsigned short port = server_start(&mgr, &srv, NULL);
  struct raw r = {0};
  raw_add(&r, UPGRADE, strlen(UPGRADE));
  raw_frame(&r, 0x81, "early", 5, MASK);
  raw_frame(&r, 0x88, "", 0, MASK);
  raw_expect(&r, port, &mgr, "1:early|8:|");
  cr_assert_eq(srv.opens, 1);
  mg_mgr_free(&mgr);
}
