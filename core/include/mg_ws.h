// WebSocket (RFC 6455) over an HTTP connection: upgrade, connect, frames, messages.
#ifndef MG_WS_H
#define MG_WS_H

// Largest message taken in, all fragments together: a bigger one is refused with close
// code 1009. As in Mongoose, what the receive buffer holds (MG_MAX_RECV_SIZE), less
// MG_WS_FRAMING_ROOM for the header of the frame that follows and a control frame
// between fragments. A small device sets less (-DMG_WS_MAX_MESSAGE=65536): each
// connection then holds at most that much and a frame beyond it.
#define MG_WS_FRAMING_ROOM 256
#ifndef MG_WS_MAX_MESSAGE
#define MG_WS_MAX_MESSAGE (MG_MAX_RECV_SIZE - MG_WS_FRAMING_ROOM)
#endif
// After sending a close frame, how long the peer has to answer with its own
#ifndef MG_WS_CLOSE_TIMEOUT_MS
#define MG_WS_CLOSE_TIMEOUT_MS 5000
#endif
// A peer that takes no byte of queued output for this long is closed
#ifndef MG_WS_SEND_TIMEOUT_MS
#define MG_WS_SEND_TIMEOUT_MS 30000
#endif
// A client's connect and upgrade must have their 101 within this long
#ifndef MG_WS_HANDSHAKE_TIMEOUT_MS
#define MG_WS_HANDSHAKE_TIMEOUT_MS 10000
#endif

#define WEBSOCKET_OP_CONTINUE 0
#define WEBSOCKET_OP_TEXT 1
#define WEBSOCKET_OP_BINARY 2
#define WEBSOCKET_OP_CLOSE 8
#define WEBSOCKET_OP_PING 9
#define WEBSOCKET_OP_PONG 10

// A whole message (fragments joined, text checked to be UTF-8) for MG_EV_WS_MSG, or a
// control frame for MG_EV_WS_CTL (a ping is answered before it is delivered, a close
// frame too). flags is 0x80 | opcode: the opcode is flags & 15.
struct mg_ws_message {
  struct mg_str data;
  uint8_t flags;
};

// Server side: answer the upgrade request hm with 101; fmt (may be NULL) adds header lines
void mg_ws_upgrade(struct mg_connection *, struct mg_http_message *hm, const char *fmt, ...);
// Client side: ws:// URL; fmt (may be NULL) adds header lines to the upgrade request
struct mg_connection *mg_ws_connect(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data,
                                    const char *fmt, ...);
// One frame with opcode op; a client masks it with a fresh random key. Returns the bytes
// queued (0 on failure, or after a close frame was sent: nothing may follow it).
// op WEBSOCKET_OP_CLOSE starts the close handshake (payload: 2-byte code, reason).
size_t mg_ws_send(struct mg_connection *, const void *buf, size_t len, int op);
size_t mg_ws_printf(struct mg_connection *, int op, const char *fmt, ...);
size_t mg_ws_vprintf(struct mg_connection *, int op, const char *fmt, va_list *ap);
// Turn the last len bytes of c->send into one frame with opcode op. Returns the new
// c->send.len (Mongoose's "new size of the output buffer"), 0 on failure.
size_t mg_ws_wrap(struct mg_connection *, size_t len, int op);
// Meerkat's: a smaller largest message for this WebSocket connection than MG_WS_MAX_MESSAGE
// (a larger one, or a connection not upgraded, changes nothing), e.g. right after
// mg_ws_upgrade for an endpoint that takes short messages only: bytes a peer can make it hold
void mg_ws_set_max_message(struct mg_connection *, size_t max);

#endif  // MG_WS_H
