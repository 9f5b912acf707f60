// WebSocket connections (RFC 6455): the server's upgrade, the client's handshake, the
// protocol handler (messages, ping and pong, the close handshake) and outgoing frames.
#include "mg_internal.h"
#include "http/http_internal.h"
#include "ws/ws_frame.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_HANDSHAKE_MAX 8192  // Largest 101 response head a client waits for

struct ws_state {
  struct ws_reader rd;
  uint64_t since;          // mg_millis(): client, when it connected; then when we sent our close
  uint64_t write_since;    // mg_millis(): queued output last moved, or there was none
  uint8_t key[16];         // Client: the Sec-WebSocket-Key it sent, to check the answer
  unsigned close_sent : 1;  // Nothing more may be sent (RFC 6455 5.5.1)
  unsigned done : 1;        // Closed or failed: input is dropped until the connection goes
};

typedef char ws_state_fits_pstate[sizeof(struct ws_state) <= sizeof(((struct mg_connection *) 0)->pstate) ? 1 : -1];
// A message must fit in the receive buffer whole, with room after it for the next
// frame's header (14 bytes) or a whole control frame (131): with less, a full buffer
// would wait for bytes it cannot take
typedef char ws_message_fits_recv[MG_WS_MAX_MESSAGE + 14 + 131 <= MG_MAX_RECV_SIZE ? 1 : -1];

static struct ws_state *ws_state(struct mg_connection *c) {
  return (struct ws_state *) (void *) &c->pstate;
}

static void ws_handler(struct mg_connection *c, int ev, void *ev_data);

// ---------------------------------------------------------------------------
// Frames going out

// After our close frame nothing more may go out; a close frame starts the handshake
static bool ws_may_send(struct mg_connection *c, int op) {
  if (c->pfn != ws_handler) return true;  // Not ours (a raw connection framing by hand)
  struct ws_state *ws = ws_state(c);
  if (ws->close_sent) {
    MG_DEBUG(("%lu WebSocket frame (op %d) dropped: close already sent", c->id, op));
    return false;
  }
  if ((op & 0x0f) == WEBSOCKET_OP_CLOSE) {
    ws->close_sent = 1;
    ws->since = mg_millis();
  }
  return true;
}

// Frame the last len bytes of c->send: a header goes in front, a client masks them.
// Returns the new c->send.len, as Mongoose documents (0 on failure).
size_t mg_ws_wrap(struct mg_connection *c, size_t len, int op) {
  uint8_t head[14], mask[4];
  if (len > c->send.len) len = c->send.len;
  size_t at = c->send.len - len;
  if (!ws_may_send(c, op)) {
    c->send.len = at;  // Unframed bytes would corrupt the stream
    return 0;
  }
  if (c->is_client) mg_random(mask, sizeof(mask));
  size_t hl = ws_frame_head(head, len, op, c->is_client ? mask : NULL);
  mg_conn_take_spare(c, &c->send);
  if (mg_iobuf_add(&c->send, at, head, hl) != hl) {
    mg_error(c, "out of memory framing %lu bytes", (unsigned long) len);
    return 0;
  }
  if (c->is_client) ws_mask(c->send.buf + at + hl, len, mask, 0);
  return c->send.len;
}

size_t mg_ws_send(struct mg_connection *c, const void *buf, size_t len, int op) {
  uint8_t head[14], mask[4];
  if ((op & 8) && len > 125) {  // The peer would close with 1002 (RFC 6455 5.5)
    MG_ERROR(("%lu WebSocket control frame of %lu bytes refused: 125 at most", c->id, (unsigned long) len));
    return 0;
  }
  if (!ws_may_send(c, op)) return 0;
  if (c->is_client) mg_random(mask, sizeof(mask));  // A fresh mask per frame (RFC 6455 5.3)
  size_t hl = ws_frame_head(head, len, op, c->is_client ? mask : NULL);
  size_t at = c->send.len + hl;
  if (!mg_send(c, head, hl) || !mg_send(c, buf, len)) return 0;
  if (c->is_client) ws_mask(c->send.buf + at, len, mask, 0);
  return hl + len;
}

bool mg_ws_send_frame(struct mg_connection *c, const void *frame, size_t len) {
  if (c->is_client || len < 2) return false;  // A client masks each frame with a key of its own (RFC 6455 5.3)
  if (!ws_may_send(c, ((const uint8_t *) frame)[0] & 0x0f)) return false;
  return mg_send(c, frame, len);
}

size_t mg_ws_vprintf(struct mg_connection *c, int op, const char *fmt, va_list *ap) {
  size_t old = c->send.len;
  mg_vprintf(c, fmt, ap);
  if (c->is_closing && c->send.len == old) return 0;  // Out of memory
  return mg_ws_wrap(c, c->send.len - old, op) == 0 ? 0 : c->send.len - old;  // The frame's bytes
}

size_t mg_ws_printf(struct mg_connection *c, int op, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_ws_vprintf(c, op, fmt, &ap);
  va_end(ap);
  return n;
}

static void ws_send_close(struct mg_connection *c, uint16_t code, const char *reason) {
  uint8_t p[125];
  size_t n = 0;
  if (code != 0) {
    MG_STORE_BE16(p, code);
    n = 2;
    size_t rl = reason == NULL ? 0 : strlen(reason);
    if (rl > sizeof(p) - 2) rl = sizeof(p) - 2;
    if (rl > 0) memcpy(p + 2, reason, rl);
    n += rl;
  }
  mg_ws_send(c, p, n, WEBSOCKET_OP_CLOSE);
}

// ---------------------------------------------------------------------------
// Frames coming in

// A protocol error: say why in a close frame and in the log, then close
static void ws_fail(struct mg_connection *c, uint16_t code, const char *reason) {
  struct ws_state *ws = ws_state(c);
  MG_INFO(("%lu WebSocket from %M: %s, closing with %u", c->id, mg_print_ip_port, &c->rem, reason, code));
  ws_send_close(c, code, reason);
  ws->done = 1;
  c->recv.len = 0;
  c->is_draining = 1;
}

// The peer's close frame: answer it (echoing its code) unless we started, then close
static void ws_on_close_frame(struct mg_connection *c, const uint8_t *p, size_t len) {
  struct ws_state *ws = ws_state(c);
  if (!ws->close_sent) ws_send_close(c, len >= 2 ? MG_LOAD_BE16(p) : 0, NULL);
  ws->done = 1;
  c->is_draining = 1;
}

static bool ws_deliver(void *arg, int op, uint8_t *data, size_t len) {
  struct mg_connection *c = (struct mg_connection *) arg;
  struct ws_state *ws = ws_state(c);
  struct mg_ws_message wm;
  wm.data = mg_str_n((char *) data, len);
  wm.flags = (uint8_t) (0x80 | op);
  if (op == WEBSOCKET_OP_PING && !ws->close_sent) mg_ws_send(c, data, len, WEBSOCKET_OP_PONG);
  if (op == WEBSOCKET_OP_CLOSE) ws_on_close_frame(c, data, len);
  mg_call(c, (op & 8) ? MG_EV_WS_CTL : MG_EV_WS_MSG, &wm);
  return !c->is_closing && !ws->done && c->pfn == ws_handler;
}

static void ws_process(struct mg_connection *c) {
  struct ws_state *ws = ws_state(c);
  if (ws->done) c->recv.len = 0;
  if (c->recv.len == 0) return;
  size_t rd = 0;
  const char *reason = NULL;
  uint16_t code = ws_read_frames(&ws->rd, c->recv.buf, c->recv.len, &rd, ws_deliver, c, &reason);
  if (ws->done) {
    c->recv.len = 0;
    return;
  }
  mg_iobuf_del(&c->recv, ws->rd.msg_len, rd - ws->rd.msg_len);
  if (code != 0) ws_fail(c, code, reason);
}

// ---------------------------------------------------------------------------
// Handshake

static void ws_accept_key(const char *key, size_t len, char *out, size_t outlen) {
  mg_sha1_ctx ctx;
  unsigned char digest[20];
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, (const unsigned char *) key, len);
  mg_sha1_update(&ctx, (const unsigned char *) WS_GUID, sizeof(WS_GUID) - 1);
  mg_sha1_final(digest, &ctx);
  mg_base64_encode(digest, sizeof(digest), out, outlen);
}

// Does a header, on any of its lines, list this token? (comma-separated, any case)
static bool ws_header_has(const struct mg_http_message *hm, const char *name, const char *token) {
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    struct mg_str item, rest = hm->headers[i].value;
    if (mg_strcasecmp(hm->headers[i].name, mg_str(name)) != 0) continue;
    while (mg_span(rest, &item, &rest, ',')) {
      if (mg_strcasecmp(mg_str_trim(item), mg_str(token)) == 0) return true;
    }
  }
  return false;
}

void mg_ws_set_max_message(struct mg_connection *c, size_t max) {
  if (c->is_websocket && max < ws_state(c)->rd.max_message) ws_state(c)->rd.max_message = max;
}

// The connection speaks WebSocket from here on: its state replaces HTTP's
static void ws_open(struct mg_connection *c) {
  struct ws_state *ws = ws_state(c);
  uint8_t key[16];
  memcpy(key, ws->key, sizeof(key));
  memset(&c->pstate, 0, sizeof(c->pstate));
  memcpy(ws->key, key, sizeof(key));
  ws->rd.is_client = c->is_client;
  ws->rd.max_message = MG_WS_MAX_MESSAGE;
  c->is_websocket = 1;
  mg_http_reply_done(c);  // The 101 was the reply HTTP owed
  c->pfn = ws_handler;
  c->pfn_data = NULL;
}

// The caller's extra header lines (fmt may be NULL), then the blank line
static void ws_end_head(struct mg_connection *c, const char *fmt, va_list *ap) {
  if (fmt != NULL) mg_vprintf(c, fmt, ap);
  mg_printf(c, "\r\n");
}

// Why the request cannot be upgraded (RFC 6455 4.2.1), or NULL
static const char *ws_upgrade_refusal(struct mg_http_message *hm, int *status) {
  char key[20];
  struct mg_str *k = mg_http_get_header(hm, "Sec-WebSocket-Key");
  struct mg_str *v = mg_http_get_header(hm, "Sec-WebSocket-Version");
  *status = 400;
  if (!mg_str_eq(hm->method, "GET")) return "WebSocket upgrade needs a GET request";
  if (!mg_str_eq(hm->proto, "HTTP/1.1")) return "WebSocket upgrade needs HTTP/1.1";
  if (!ws_header_has(hm, "Upgrade", "websocket")) return "expected Upgrade: websocket";
  if (!ws_header_has(hm, "Connection", "upgrade")) return "expected Connection: Upgrade";
  if (v == NULL) return "missing Sec-WebSocket-Version";
  if (!mg_str_eq(*v, "13")) {
    *status = 426;
    return "unsupported Sec-WebSocket-Version, this server speaks 13";
  }
  if (k == NULL || k->len != 24 || mg_base64_decode(k->buf, k->len, key, sizeof(key)) != 16)
    return "Sec-WebSocket-Key must be 16 bytes in base64";
  return NULL;
}

void mg_ws_upgrade(struct mg_connection *c, struct mg_http_message *hm, const char *fmt, ...) {
  int status = 400;
  const char *why = ws_upgrade_refusal(hm, &status);
  if (why != NULL) {
    MG_INFO(("%lu %d for %M: %s", c->id, status, mg_print_ip_port, &c->rem, why));
    mg_http_reply(c, status, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL, "%s\n", why);
    return;
  }
  struct mg_str *key = mg_http_get_header(hm, "Sec-WebSocket-Key");
  char accept[32];
  ws_accept_key(key->buf, key->len, accept, sizeof(accept));
  mg_printf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: %s\r\n", accept);
  va_list ap;
  va_start(ap, fmt);
  ws_end_head(c, fmt, &ap);
  va_end(ap);
  if (c->is_closing) return;  // Out of memory for the answer
  ws_open(c);
  mg_call(c, MG_EV_WS_OPEN, hm);
}

// Client: the server's answer to our upgrade request, then frames
static void ws_client_handshake(struct mg_connection *c) {
  struct mg_http_message hm;
  int n = mg_http_parse((const char *) c->recv.buf, c->recv.len, &hm);
  if (n == 0) {
    if (c->recv.len > WS_HANDSHAKE_MAX) mg_error(c, "WebSocket handshake: response head over %d bytes", WS_HANDSHAKE_MAX);
    return;
  }
  if (n < 0 || !mg_http_is_response(&hm)) {
    mg_error(c, "WebSocket handshake: malformed HTTP response");
    return;
  }
  int status = mg_http_status(&hm);
  if (status != 101) {
    mg_error(c, "WebSocket handshake refused: HTTP %d %.*s", status, (int) hm.proto.len, hm.proto.buf);
    return;
  }
  char b64[32], accept[32];
  struct mg_str *got = mg_http_get_header(&hm, "Sec-WebSocket-Accept");
  mg_base64_encode(ws_state(c)->key, sizeof(ws_state(c)->key), b64, sizeof(b64));
  ws_accept_key(b64, strlen(b64), accept, sizeof(accept));
  if (!ws_header_has(&hm, "Upgrade", "websocket") || !ws_header_has(&hm, "Connection", "upgrade")) {
    mg_error(c, "WebSocket handshake: 101 without Upgrade: websocket and Connection: Upgrade");
    return;
  }
  if (got == NULL || !mg_str_eq(*got, accept)) {
    mg_error(c, "WebSocket handshake: wrong Sec-WebSocket-Accept");
    return;
  }
  ws_open(c);
  mg_call(c, MG_EV_WS_OPEN, &hm);
  mg_iobuf_del(&c->recv, 0, (size_t) n);
}

struct mg_connection *mg_ws_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data,
                                    const char *fmt, ...) {
  struct mg_url u;
  if (url == NULL || !mg_url_parse(mg_str(url), &u) || u.host.len == 0) {
    MG_ERROR(("cannot connect to '%s': malformed URL", url == NULL ? "(null)" : url));
    return NULL;
  }
  bool tls = mg_str_eq(u.scheme, "wss") || mg_str_eq(u.scheme, "https");
  if (!tls && !mg_str_eq(u.scheme, "ws") && !mg_str_eq(u.scheme, "http")) {
    MG_ERROR(("cannot connect to %s: expected a ws:// or wss:// URL", url));
    return NULL;
  }
  if (tls && !MG_ENABLE_TLS) {
    MG_ERROR(("cannot connect to %s: this build has no TLS (MG_ENABLE_TLS=0), so no wss://", url));
    return NULL;
  }
  struct mg_connection *c = mg_connect_svc(mgr, url, fn, fn_data, ws_handler, NULL);
  if (c == NULL) return NULL;
  struct ws_state *ws = ws_state(c);
  char key[32];
  mg_random(ws->key, sizeof(ws->key));
  ws->since = mg_millis();
  mg_base64_encode(ws->key, sizeof(ws->key), key, sizeof(key));
  bool v6 = memchr(u.host.buf, ':', u.host.len) != NULL;
  char port[8] = "";
  if (u.has_port) mg_snprintf(port, sizeof(port), ":%u", (unsigned) u.port);
  mg_printf(c,
            "GET %s HTTP/1.1\r\nHost: %s%.*s%s%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n",
            mg_url_uri(url), v6 ? "[" : "", (int) u.host.len, u.host.buf, v6 ? "]" : "", port, key);
  va_list ap;
  va_start(ap, fmt);
  ws_end_head(c, fmt, &ap);
  va_end(ap);
  return c;
}

// ---------------------------------------------------------------------------
// The protocol handler

// A peer that takes none of our output for MG_WS_SEND_TIMEOUT_MS has stopped
// reading: what it made us queue is released (no close frame could reach it)
static void ws_check_send_stall(struct mg_connection *c, uint64_t now) {
  struct ws_state *ws = ws_state(c);
  if (c->send.len == 0 || ws->write_since == 0) ws->write_since = now;
  if (mg_ms_since(now, ws->write_since) <= MG_WS_SEND_TIMEOUT_MS) return;
  MG_INFO(("%lu closing WebSocket %M: peer read nothing of %lu queued bytes for %d ms", c->id, mg_print_ip_port,
           &c->rem, (unsigned long) c->send.len, MG_WS_SEND_TIMEOUT_MS));
  ws->done = 1;
  c->is_closing = 1;
}

static void ws_on_poll(struct mg_connection *c, uint64_t now) {
  struct ws_state *ws = ws_state(c);
  if (!c->is_websocket && c->is_eof && !c->is_closing) {
    mg_error(c, "connection closed during the WebSocket handshake");
  } else if (!c->is_websocket && !c->is_closing && mg_ms_since(now, ws->since) > MG_WS_HANDSHAKE_TIMEOUT_MS) {
    mg_error(c, "WebSocket handshake: no answer to the upgrade in %d ms", MG_WS_HANDSHAKE_TIMEOUT_MS);
  } else if (c->is_websocket && ws->close_sent && !ws->done && mg_ms_since(now, ws->since) > MG_WS_CLOSE_TIMEOUT_MS) {
    MG_INFO(("%lu WebSocket peer %M did not answer our close in %d ms", c->id, mg_print_ip_port, &c->rem,
             MG_WS_CLOSE_TIMEOUT_MS));
    ws->done = 1;
    c->is_closing = 1;
  } else if (c->is_websocket && !c->is_closing) {
    ws_check_send_stall(c, now);
  }
}

static void ws_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) {
    if (!c->is_websocket) ws_client_handshake(c);
    if (c->is_websocket && !c->is_closing) ws_process(c);
  } else if (ev == MG_EV_WRITE) {
    ws_state(c)->write_since = mg_millis();
  } else if (ev == MG_EV_POLL) {
    ws_on_poll(c, *(uint64_t *) ev_data);
  }
}
