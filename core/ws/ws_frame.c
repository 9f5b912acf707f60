// WebSocket frames over a plain buffer: the header parser, masking, strict UTF-8,
// close payloads, and messages joined from fragments in place (RFC 6455 section 5).
#include "mg_internal.h"
#include "ws/ws_frame.h"

size_t ws_frame_head(uint8_t *h, size_t len, int op, const uint8_t *mask) {
  size_t n = 2;
  h[0] = (uint8_t) (0x80 | (op & 0x0f));
  if (len < 126) {
    h[1] = (uint8_t) len;
  } else if (len <= 0xffff) {
    h[1] = 126;
    MG_STORE_BE16(h + 2, len);
    n = 4;
  } else {
    h[1] = 127;
    uint64_t len64 = len;
    MG_STORE_BE32(h + 2, (uint32_t) (len64 >> 32));
    MG_STORE_BE32(h + 6, (uint32_t) len64);
    n = 10;
  }
  if (mask != NULL) {
    h[1] |= 0x80;
    memcpy(h + n, mask, 4);
    n += 4;
  }
  return n;
}

static long ws_frame_fail(struct ws_frame *f, uint16_t code, const char *reason) {
  f->close_code = code;
  f->reason = reason;
  return WS_FRAME_ERROR;
}

static bool ws_opcode_known(uint8_t op) {
  return op <= WEBSOCKET_OP_BINARY || (op >= WEBSOCKET_OP_CLOSE && op <= WEBSOCKET_OP_PONG);
}

// Every fault the header alone shows is reported as soon as it is in, so a peer cannot
// make us wait (or buffer) for the payload of a frame that will be refused anyway.
// Lengths must be in their shortest form (RFC 6455 5.2 "the minimal number of bytes
// MUST be used"): one frame has one encoding, as with the HTTP parser's strictness.
long ws_frame_parse(const uint8_t *buf, size_t len, bool want_masked, uint64_t max_payload, struct ws_frame *f) {
  memset(f, 0, sizeof(*f));
  if (len < 2) return WS_FRAME_INCOMPLETE;
  f->fin = (buf[0] & 0x80) != 0;
  f->opcode = buf[0] & 0x0f;
  f->masked = (buf[1] & 0x80) != 0;
  bool control = (f->opcode & 8) != 0;
  uint64_t n = buf[1] & 0x7f;
  if (buf[0] & 0x70) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "reserved bits set");
  if (!ws_opcode_known(f->opcode)) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "unknown opcode");
  if (control && !f->fin) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "fragmented control frame");
  if (control && n > 125) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "control frame payload over 125 bytes");
  if (f->masked != want_masked)
    return ws_frame_fail(f, WS_CLOSE_PROTOCOL, want_masked ? "unmasked frame from a client" : "masked frame from a server");
  size_t h = 2;
  if (n == 126) {
    if (len < 4) return WS_FRAME_INCOMPLETE;
    n = MG_LOAD_BE16(buf + 2);
    h = 4;
    if (n < 126) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "length not in its shortest form");
  } else if (n == 127) {
    if (len < 10) return WS_FRAME_INCOMPLETE;
    n = MG_LOAD_BE64(buf + 2);
    h = 10;
    if (n >> 63) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "length with its top bit set");
    if (n <= 0xffff) return ws_frame_fail(f, WS_CLOSE_PROTOCOL, "length not in its shortest form");
  }
  if (!control && (n > max_payload || n > (uint64_t) LONG_MAX - 14))
    return ws_frame_fail(f, WS_CLOSE_TOO_BIG, "message too big");
  if (f->masked) {
    if (len < h + 4) return WS_FRAME_INCOMPLETE;
    memcpy(f->mask, buf + h, 4);
    h += 4;
  }
  f->head_len = h;
  f->payload_len = n;
  if (len - h < n) return WS_FRAME_INCOMPLETE;
  return (long) (h + (size_t) n);
}

// Eight bytes at a time: a 64 KiB message is unmasked in a few microseconds
void ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4], size_t phase) {
  uint8_t k[8];
  for (size_t j = 0; j < 8; j++) k[j] = mask[(j + phase) & 3];
  uint64_t kw, w;
  memcpy(&kw, k, 8);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    memcpy(&w, buf + i, 8);
    w ^= kw;
    memcpy(buf + i, &w, 8);
  }
  for (; i < len; i++) buf[i] ^= k[i & 7];
}

// Codes an endpoint may send (RFC 6455 7.4.1 and 7.4.2, plus 1012-1014 from the IANA
// registry); 1005 and 1006 are for reporting only, and never travel in a frame
static bool ws_close_code_ok(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

uint16_t ws_close_payload_check(const uint8_t *p, size_t len, const char **reason) {
  if (len == 0) return 0;
  if (len == 1) {
    *reason = "close frame with a one-byte payload";
    return WS_CLOSE_PROTOCOL;
  }
  if (!ws_close_code_ok(MG_LOAD_BE16(p))) {
    *reason = "invalid close code";
    return WS_CLOSE_PROTOCOL;
  }
  if (!mg_utf8_valid(p + 2, len - 2)) {
    *reason = "invalid UTF-8 in a close reason";
    return WS_CLOSE_BAD_DATA;
  }
  return 0;
}

static uint16_t ws_read_fail(const char **reason, const char *why, uint16_t code) {
  *reason = why;
  return code;
}

// One data frame, payload unmasked at p. A whole message in one frame is delivered where
// it lies (no copy); fragments are moved down to join those before them.
static uint16_t ws_read_data(struct ws_reader *r, uint8_t *buf, const struct ws_frame *f, uint8_t *p,
                             ws_deliver_fn deliver, void *arg, bool *go_on, const char **reason) {
  size_t plen = (size_t) f->payload_len;
  if (f->opcode == WEBSOCKET_OP_CONTINUE && r->msg_op == 0)
    return ws_read_fail(reason, "continuation frame without a message to continue", WS_CLOSE_PROTOCOL);
  if (f->opcode != WEBSOCKET_OP_CONTINUE && r->msg_op != 0)
    return ws_read_fail(reason, "new message inside a fragmented one", WS_CLOSE_PROTOCOL);
  if (r->msg_op == 0 && f->fin) {
    if (f->opcode == WEBSOCKET_OP_TEXT && !mg_utf8_valid(p, plen))
      return ws_read_fail(reason, "invalid UTF-8 in a text message", WS_CLOSE_BAD_DATA);
    *go_on = deliver(arg, f->opcode, p, plen);
    return 0;
  }
  if (r->msg_op == 0) r->msg_op = f->opcode;
  memmove(buf + r->msg_len, p, plen);
  r->msg_len += plen;
  if (!f->fin) return 0;
  uint8_t op = r->msg_op;
  size_t mlen = r->msg_len;
  r->msg_op = 0;
  r->msg_len = 0;
  if (op == WEBSOCKET_OP_TEXT && !mg_utf8_valid(buf, mlen))
    return ws_read_fail(reason, "invalid UTF-8 in a text message", WS_CLOSE_BAD_DATA);
  *go_on = deliver(arg, op, buf, mlen);
  return 0;
}

uint16_t ws_read_frames(struct ws_reader *r, uint8_t *buf, size_t len, size_t *rd, ws_deliver_fn deliver,
                        void *arg, const char **reason) {
  size_t pos = r->msg_len;
  uint16_t code = 0;
  bool go_on = true;
  while (pos < len && go_on && code == 0) {
    struct ws_frame f;
    uint64_t room = r->max_message > r->msg_len ? r->max_message - r->msg_len : 0;
    long n = ws_frame_parse(buf + pos, len - pos, !r->is_client, room, &f);
    if (n == WS_FRAME_ERROR) {
      *reason = f.reason;
      code = f.close_code;
      break;
    }
    if (n == WS_FRAME_INCOMPLETE) break;
    uint8_t *p = buf + pos + f.head_len;
    size_t plen = (size_t) f.payload_len;
    if (f.masked) ws_mask(p, plen, f.mask, 0);
    pos += (size_t) n;
    if (f.opcode & 8) {  // Control frames may come between fragments: handled at once
      if (f.opcode == WEBSOCKET_OP_CLOSE) code = ws_close_payload_check(p, plen, reason);
      if (code == 0) go_on = deliver(arg, f.opcode, p, plen);
    } else {
      code = ws_read_data(r, buf, &f, p, deliver, arg, &go_on, reason);
    }
  }
  *rd = pos;
  return code;
}
