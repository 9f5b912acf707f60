// WebSocket frames and messages over a plain buffer (RFC 6455 section 5), shared by
// the connection code (ws.c), its unit tests and the fuzz harness: no connection, no allocation.
#ifndef WS_FRAME_H
#define WS_FRAME_H

// Close codes (RFC 6455 section 7.4.1)
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_BAD_DATA 1007
#define WS_CLOSE_TOO_BIG 1009

#define WS_FRAME_INCOMPLETE 0
#define WS_FRAME_ERROR (-1)

struct ws_frame {
  size_t head_len;       // Header bytes (2 to 14); set once the header is complete
  uint64_t payload_len;  // As announced by the header
  uint8_t opcode;        // WEBSOCKET_OP_*
  bool fin;
  bool masked;
  uint8_t mask[4];       // The masking key when masked
  uint16_t close_code;   // WS_FRAME_ERROR: the code to close with
  const char *reason;    // WS_FRAME_ERROR: why, for the close frame and the log
};

// One frame at the front of buf. Returns its length (header + payload, > 0) when the
// whole frame is in buf, WS_FRAME_INCOMPLETE, or WS_FRAME_ERROR (f->close_code and
// f->reason say why) as soon as the header shows a fault: reserved bits, unknown
// opcode, a fragmented or oversized control frame, a mask where none belongs or none
// where one must be (want_masked: we are the server), a length that is not in its
// shortest form or has the top bit set (1002), or a data payload over max_payload (1009).
long ws_frame_parse(const uint8_t *buf, size_t len, bool want_masked, uint64_t max_payload, struct ws_frame *f);

// The longest header of a server's frame (no mask): room to leave in front of a payload
#define WS_SERVER_HEAD_MAX 10

// A frame's header (FIN set, opcode op) for a payload of len bytes in its shortest form,
// with the mask when not NULL (a client's), into h (14 bytes at most). Returns its length.
size_t ws_frame_head(uint8_t *h, size_t len, int op, const uint8_t *mask);

// XOR len bytes with the mask, which starts at key offset phase (0 for a whole payload)
void ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4], size_t phase);

// A close frame's payload: empty, or a code that may be sent on the wire and a UTF-8
// reason. Returns 0 if valid, else the close code to answer with (1002 or 1007).
uint16_t ws_close_payload_check(const uint8_t *p, size_t len, const char **reason);

// Messages from a stream of frames, fragments joined in place: the payloads of the
// fragments so far are kept, unmasked, at the front of the buffer (msg_len bytes),
// and the frames still to read follow them.
struct ws_reader {
  bool is_client;         // Frames must come unmasked (a server masks nothing)
  uint8_t msg_op;         // Opcode of the fragmented message in progress, 0 if none
  size_t max_message;     // Largest message, all fragments together
  size_t msg_len;         // Its bytes so far, at the front of the buffer
};

// Called with each complete message (op TEXT or BINARY) and control frame (op CLOSE,
// PING, PONG), payload unmasked in the buffer. Returns false to stop reading.
typedef bool (*ws_deliver_fn)(void *arg, int op, uint8_t *data, size_t len);

// Reads the frames in buf[r->msg_len .. len). Returns 0 when it stopped (a frame not
// complete yet, or deliver said stop) or the close code of a protocol error, with
// *reason set. *rd is then where unread input starts: the caller drops
// buf[r->msg_len .. *rd) (payloads and headers read) and keeps the rest.
uint16_t ws_read_frames(struct ws_reader *r, uint8_t *buf, size_t len, size_t *rd, ws_deliver_fn deliver,
                        void *arg, const char **reason);

#endif  // WS_FRAME_H
