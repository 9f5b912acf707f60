// Out-of-memory runner for WebSocket and field sets: a server in a child process
// (a WebSocket echo, and two field sets behind mg_dash_handle with one persisted)
// fails its N-th allocation, for N = 1, 2, ... until N passes the number the script
// makes. The parent speaks WebSocket by hand over a blocking socket and accepts for
// each step the right answer, an HTTP 5xx, a WebSocket close or error, or a closed
// connection; never a malformed frame, a wrong echo, JSON that is not whole and
// right, or a settings file half-written or lost. Then the server must serve again
// and exit with nothing for ASan/LSan. The forking and the client socket are
// alloc_runner.c's. Built with -DMG_ENABLE_ALLOC_FAULTS=1.
#include <unistd.h>
#include "alloc_runner.h"

#define BIG_SIZE 3000  // An echo bigger than a small frame's 125 bytes, and than a read

// ---- The field sets (the child serves them; the parent builds the expected schema) ----

static bool s_on;
static int s_count = 3, s_mode;
static char s_name[16] = "lamp";
static const char *const s_modes[] = {"off", "auto", "manual", NULL};
static struct mg_dash_field s_settings_fields[] = {
    MG_DASH_BOOL("on", &s_on, .title = "On"),
    MG_DASH_INT("count", &s_count, 0, 100, .unit = "x"),
    MG_DASH_STRING("name", s_name, .min_len = 1),
    MG_DASH_ENUM("mode", &s_mode, s_modes, .title = "Mode"),
};
// The write callback refuses one name (409 over REST)
static const char *settings_check(struct mg_dash_set *set, const union mg_dash_value *next) {
  (void) set;
  return strcmp(next[2].s, "nobody") == 0 ? "that name is reserved" : NULL;
}
static struct mg_dash_set s_settings =
    MG_DASH_SET("settings", s_settings_fields, .title = "Settings", .persist = true, .on_write = settings_check);

static int s_ticks;
static char s_state[8] = "idle";
static struct mg_dash_field s_status_fields[] = {
    MG_DASH_INT_ANY("ticks", &s_ticks),
    MG_DASH_STRING("state", s_state),
};
static struct mg_dash_set s_status = MG_DASH_SET("status", s_status_fields, .readonly = true);

// The values settings may hold: the C defaults, the file's, the WebSocket write's, the REST write's
enum { V_DEFAULT, V_FILE, V_WS, V_REST, V_COUNT };
static const char *s_values[V_COUNT] = {
    "{\"on\":false,\"count\":3,\"name\":\"lamp\",\"mode\":\"off\"}",
    "{\"on\":true,\"count\":42,\"name\":\"porch\",\"mode\":\"manual\"}",
    "{\"on\":false,\"count\":7,\"name\":\"k\\\"itchen\",\"mode\":\"auto\"}",
    "{\"on\":true,\"count\":99,\"name\":\"garage\",\"mode\":\"off\"}",
};
static const char *s_status_values[2] = {"{\"ticks\":0,\"state\":\"idle\"}", "{\"ticks\":1,\"state\":\"busy\"}"};

static char s_dir[256], s_file_path[300], s_tmp_path[300];
static char s_schema[2048];  // GET /api/sets, as a fault-free dash prints it

// ---- The server (child) ----

static struct mg_dash s_dash;
static struct mg_timer *s_ticker;
static bool s_tick_wanted;

// The read-only set changes on a timer, once per GET /tick (so the allocations a run makes stay the same)
static void server_tick(void *arg) {
  (void) arg;
  if (!s_tick_wanted) return;
  s_tick_wanted = false;
  s_ticks++;
  mg_snprintf(s_state, sizeof(s_state), "busy");
  mg_dash_changed(&s_dash, &s_status);
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (mg_dash_handle(&s_dash, c, ev, ev_data, MG_DASH_ADMIN)) return;
  if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
    return;
  }
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (mg_str_eq(hm->uri, "/ws")) {
    mg_ws_upgrade(c, hm, NULL);
  } else if (mg_str_eq(hm->uri, "/tick")) {
    s_tick_wanted = s_ticker != NULL;
    mg_http_reply(c, s_ticker != NULL ? 200 : 503, "", "%s\n", s_ticker != NULL ? "ok" : "no timer");
  } else {
    mg_http_reply(c, 404, "", "not found\n");
  }
}

// Under the fault: the field sets (loading the persisted one) and the ticker
static bool server_setup(struct mg_mgr *mgr) {
  mg_dash_init(&s_dash, mgr, s_dir);
  if (!mg_dash_add(&s_dash, &s_settings) || !mg_dash_add(&s_dash, &s_status)) return false;
  s_ticker = mg_timer_add(mgr, 20, MG_TIMER_REPEAT, server_tick, NULL);  // NULL: /tick answers 503
  return true;
}

static void server_free(void) {
  mg_dash_free(&s_dash);
}

// ---- HTTP ----

struct response {
  int status;
  char body[4096];
  size_t body_len;
  char accept[64];  // Sec-WebSocket-Accept of a 101
  bool upgrade_ok;  // A 101 with Upgrade: websocket and Connection: Upgrade
};

// One response head (and its Content-Length body, unless a 101): GOT, ENDED or FAILED
static int http_read(struct client *cl, struct response *r) {
  uint64_t deadline = mg_millis() + 2000;
  struct mg_http_message hm;
  size_t n = 0;
  memset(r, 0, sizeof(*r));
  int rc = client_head(cl, &hm, &n, deadline);
  if (rc != GOT) return rc;
  r->status = mg_http_status(&hm);
  if (r->status == 101) {
    struct mg_str *acc = mg_http_get_header(&hm, "Sec-WebSocket-Accept");
    struct mg_str *up = mg_http_get_header(&hm, "Upgrade"), *conn = mg_http_get_header(&hm, "Connection");
    if (acc != NULL && acc->len < sizeof(r->accept)) memcpy(r->accept, acc->buf, acc->len);
    r->upgrade_ok = up != NULL && mg_strcasecmp(*up, mg_str("websocket")) == 0 && conn != NULL &&
                    mg_strcasecmp(*conn, mg_str("Upgrade")) == 0;
    client_consume(cl, n);
    return GOT;
  }
  return client_body(cl, &hm, n, r->body, sizeof(r->body) - 1, &r->body_len, deadline);  // Room for a NUL
}

// A whole JSON text and nothing else (RFC 8259, strictly)
static bool json_whole(const char *s, size_t len) {
  int n = 0;
  return mg_json_get(mg_str_n(s, len), "$", &n) == 0 && (size_t) n == len;
}

// A REST request on its own connection: GOT for want_status with want_body (NULL:
// any), SOFT for a 500 or 503; a JSON body must be whole either way
static int http_step(uint16_t port, const char *request, int want_status, const char *want_body,
                     struct response *r) {
  struct client cl;
  int rc = ENDED;
  if (client_open(&cl, port) && client_send(&cl, request, strlen(request))) rc = http_read(&cl, r);
  client_close(&cl);
  if (rc != GOT) return rc;
  bool json = r->body_len > 0 && r->body[0] == '{';
  if (json && (r->body[r->body_len - 1] != '\n' || !json_whole(r->body, r->body_len - 1)))
    return fail("status %d, the body is not whole JSON: %.*s", r->status, (int) r->body_len, r->body);
  if (r->status == 500 || r->status == 503) return SOFT;
  if (r->status != want_status) return fail("status %d, expected %d", r->status, want_status);
  if (want_body != NULL && (r->body_len != strlen(want_body) + 1 || memcmp(r->body, want_body, r->body_len - 1) != 0))
    return fail("wrong body: %.*s, expected %s", (int) strcspn(r->body, "\n"), r->body, want_body);
  return GOT;
}

// POST body to /api/sets/settings as one http_step
static int post_settings(uint16_t port, const char *body, int want_status, const char *want_body,
                         struct response *r) {
  char req[512];
  snprintf(req, sizeof(req),
           "POST /api/sets/settings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %lu\r\n\r\n%s",
           (unsigned long) strlen(body), body);
  return http_step(port, req, want_status, want_body, r);
}

// ---- WebSocket frames ----

struct frame {
  int op;
  bool fin;
  size_t len;
  unsigned char data[BIG_SIZE + 16];
};

// One masked frame (RFC 6455 5.3: a client masks everything it sends)
static bool ws_send(struct client *cl, int op, bool fin, const void *data, size_t len) {
  static uint32_t s_mask_seed = 0x12345678;
  unsigned char head[14], mask[4];
  size_t hl = 2;
  s_mask_seed = s_mask_seed * 1103515245u + 12345u;
  memcpy(mask, &s_mask_seed, 4);
  head[0] = (unsigned char) ((fin ? 0x80 : 0) | op);
  if (len < 126) {
    head[1] = (unsigned char) (0x80 | len);
  } else {
    head[1] = 0x80 | 126;
    head[2] = (unsigned char) (len >> 8), head[3] = (unsigned char) len;
    hl = 4;
  }
  memcpy(head + hl, mask, 4);
  hl += 4;
  unsigned char *buf = (unsigned char *) malloc(hl + len);
  if (buf == NULL) return false;
  memcpy(buf, head, hl);
  for (size_t i = 0; i < len; i++) buf[hl + i] = ((const unsigned char *) data)[i] ^ mask[i & 3];
  bool ok = client_send(cl, buf, hl + len);
  free(buf);
  return ok;
}

// One frame from the server, checked strictly: FIN (it never fragments), no reserved
// bits, no mask, a known opcode, a length in its shortest form. GOT, ENDED or FAILED.
static int ws_read(struct client *cl, struct frame *f, uint64_t deadline) {
  for (;;) {
    if (cl->len >= 2) {
      unsigned char *b = (unsigned char *) cl->buf;
      size_t hl = 2, len = b[1] & 0x7f;
      f->op = b[0] & 0x0f;
      f->fin = (b[0] & 0x80) != 0;
      if ((b[0] & 0x70) != 0 || (b[1] & 0x80) != 0) return fail("frame with reserved bits or a mask: %02x %02x", b[0], b[1]);
      if (!(f->op == 1 || f->op == 2 || f->op == 8 || f->op == 9 || f->op == 10)) return fail("frame opcode %d", f->op);
      if (!f->fin) return fail("a fragmented frame (opcode %d)", f->op);
      if ((f->op & 8) && len > 125) return fail("control frame of %lu bytes", (unsigned long) len);
      if (len == 127) return fail("a 64-bit length");
      if (len == 126 && cl->len >= 4) {
        len = (size_t) b[2] << 8 | b[3];
        hl = 4;
        if (len < 126) return fail("length %lu not in its shortest form", (unsigned long) len);
      }
      if (len > sizeof(f->data)) return fail("frame of %lu bytes", (unsigned long) len);
      if ((b[1] & 0x7f) != 126 || cl->len >= 4) {
        if (cl->len >= hl + len) {
          memcpy(f->data, b + hl, len);
          f->len = len;
          f->data[len] = '\0';
          client_consume(cl, hl + len);
          return GOT;
        }
      }
    }
    int rc = client_fill(cl, deadline);
    if (rc != GOT) return rc;
  }
}

// After a close frame from the server: the connection must end, with nothing more
static int ws_expect_end(struct client *cl, const struct frame *f) {
  if (f->len == 1) return fail("close frame with a one-byte payload");
  if (cl->len > 0) return fail("%lu bytes after a close frame", (unsigned long) cl->len);
  uint64_t deadline = mg_millis() + 2000;
  if (!ws_send(cl, WEBSOCKET_OP_CLOSE, true, f->data, f->len > 2 ? 2 : f->len)) return ENDED;
  int rc = client_fill(cl, deadline);
  if (rc == GOT) return fail("%lu bytes after a close frame", (unsigned long) cl->len);
  return rc == ENDED ? ENDED : FAILED;
}

// The upgrade on path: GOT (101, checked), ENDED (closed or a 5xx) or FAILED
static int ws_open(struct client *cl, uint16_t port, const char *path) {
  static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's example key and its answer
  static const char want[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  char req[256];
  struct response r;
  snprintf(req, sizeof(req),
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
           path, key);
  if (!client_open(cl, port) || !client_send(cl, req, strlen(req))) return ENDED;
  int rc = http_read(cl, &r);
  if (rc != GOT) return rc;
  if (r.status == 500 || r.status == 503) {
    if (!json_whole(r.body, r.body_len > 0 ? r.body_len - 1 : 0) && strcmp(path, "/api/ws") == 0)
      return fail("a %d whose body is not whole JSON", r.status);
    return ENDED;
  }
  if (r.status != 101) return fail("upgrade answered %d", r.status);
  if (!r.upgrade_ok || strcmp(r.accept, want) != 0) return fail("a 101 with wrong headers (accept '%s')", r.accept);
  return GOT;
}

// ---- The echo socket ----

// Sends what the fragments say and expects one echo of all of it (a ping between
// fragments is answered first)
static int echo_step(struct client *cl, int op, const char *data, size_t len, bool fragmented) {
  static struct frame f;
  uint64_t deadline = mg_millis() + 2000;
  bool sent = true;
  if (!fragmented) {
    sent = ws_send(cl, op, true, data, len);
  } else {
    size_t a = len / 3, b = 2 * len / 3;
    sent = ws_send(cl, op, false, data, a) && ws_send(cl, WEBSOCKET_OP_PING, true, "mid", 3) &&
           ws_send(cl, WEBSOCKET_OP_CONTINUE, false, data + a, b - a) &&
           ws_send(cl, WEBSOCKET_OP_CONTINUE, true, data + b, len - b);
  }
  (void) sent;  // A refused write: the server closed, which the read below sees
  for (int want_pong = fragmented;; want_pong = 0) {
    int rc = ws_read(cl, &f, deadline);
    if (rc != GOT) return rc;
    if (f.op == WEBSOCKET_OP_CLOSE) return ws_expect_end(cl, &f);
    if (want_pong) {
      if (f.op != WEBSOCKET_OP_PONG || f.len != 3 || memcmp(f.data, "mid", 3) != 0)
        return fail("expected a pong \"mid\", got opcode %d of %lu bytes", f.op, (unsigned long) f.len);
      continue;
    }
    if (f.op != op || f.len != len || memcmp(f.data, data, len) != 0)
      return fail("wrong echo: opcode %d of %lu bytes, expected %d of %lu", f.op, (unsigned long) f.len, op,
                  (unsigned long) len);
    return GOT;
  }
}

static int echo_script(uint16_t port) {
  static char big[BIG_SIZE];
  static unsigned char bin[300];
  struct client cl;
  static struct frame f;
  for (size_t i = 0; i < sizeof(big); i++) big[i] = (char) ('a' + i % 26);
  for (size_t i = 0; i < sizeof(bin); i++) bin[i] = (unsigned char) (i * 7);
  where("echo: upgrade");
  int rc = ws_open(&cl, port, "/ws");
  if (rc == GOT) {
    where("echo: short text");
    rc = echo_step(&cl, WEBSOCKET_OP_TEXT, "hello", 5, false);
  }
  if (rc == GOT) {
    where("echo: empty text");
    rc = echo_step(&cl, WEBSOCKET_OP_TEXT, "", 0, false);
  }
  if (rc == GOT) {
    where("echo: binary of 300 bytes");
    rc = echo_step(&cl, WEBSOCKET_OP_BINARY, (const char *) bin, sizeof(bin), false);
  }
  if (rc == GOT) {
    where("echo: text of %d bytes", BIG_SIZE);
    rc = echo_step(&cl, WEBSOCKET_OP_TEXT, big, sizeof(big), false);
  }
  if (rc == GOT) {
    where("echo: fragmented text with a ping inside");
    rc = echo_step(&cl, WEBSOCKET_OP_TEXT, big, 1000, true);
  }
  if (rc == GOT) {
    where("echo: ping");
    if (ws_send(&cl, WEBSOCKET_OP_PING, true, "are you there", 13)) {
      rc = ws_read(&cl, &f, mg_millis() + 2000);
      if (rc == GOT && f.op == WEBSOCKET_OP_CLOSE) rc = ws_expect_end(&cl, &f);
      else if (rc == GOT && (f.op != WEBSOCKET_OP_PONG || f.len != 13 || memcmp(f.data, "are you there", 13) != 0))
        rc = fail("expected the pong, got opcode %d of %lu bytes", f.op, (unsigned long) f.len);
    }
  }
  if (rc == GOT) {
    where("echo: close handshake");
    static const char bye[] = "\x03\xe8" "bye";  // 1000, normal closure
    ws_send(&cl, WEBSOCKET_OP_CLOSE, true, bye, 5);
    rc = ws_read(&cl, &f, mg_millis() + 2000);
    if (rc == GOT && f.op != WEBSOCKET_OP_CLOSE) rc = fail("expected a close frame, got opcode %d", f.op);
    if (rc == GOT && (f.len != 2 || memcmp(f.data, bye, 2) != 0)) rc = fail("the close frame does not echo 1000");
    if (rc == GOT) {
      rc = client_fill(&cl, mg_millis() + 2000);
      rc = rc == GOT ? fail("bytes after the close frame") : rc == ENDED ? GOT : rc;
    }
  }
  client_close(&cl);
  return rc;
}

// A client frame without a mask: the server must close with 1002 (RFC 6455 5.1)
static int echo_protocol_error(uint16_t port) {
  static struct frame f;
  struct client cl;
  where("echo: an unmasked frame");
  int rc = ws_open(&cl, port, "/ws");
  if (rc == GOT && client_send(&cl, "\x81\x02hi", 4)) {
    rc = ws_read(&cl, &f, mg_millis() + 2000);
    if (rc == GOT && (f.op != WEBSOCKET_OP_CLOSE || f.len < 2 || f.data[0] != 0x03 || f.data[1] != 0xea))
      rc = fail("expected a close frame with 1002, got opcode %d of %lu bytes", f.op, (unsigned long) f.len);
    if (rc == GOT) rc = ws_expect_end(&cl, &f);
  }
  client_close(&cl);
  return rc;
}

// ---- The field-set socket /api/ws ----

struct dash_sock {
  struct client cl;
  unsigned seen;       // Bit per V_*: settings pushes seen since the last reset
  unsigned allowed;    // Bit per V_*: what a settings push may hold now (older values are stale)
  int ticks_seen;      // Highest status ticks pushed, -1 for none
  char reply[512];     // The last message that was not a push
  bool has_reply;
};

// One message off /api/ws, sorted: a push (checked against what the set may hold) or a reply
static int dash_read(struct dash_sock *d, uint64_t deadline) {
  static struct frame f;
  int rc = ws_read(&d->cl, &f, deadline);
  if (rc != GOT) return rc;
  if (f.op == WEBSOCKET_OP_CLOSE) return ws_expect_end(&d->cl, &f);
  if (f.op != WEBSOCKET_OP_TEXT) return fail("opcode %d on /api/ws", f.op);
  const char *m = (const char *) f.data;
  if (!json_whole(m, f.len)) return fail("not whole JSON: %s", m);
  char want[256];
  if (strncmp(m, "{\"set\":", 7) == 0) {
    for (int i = 0; i < V_COUNT; i++) {
      snprintf(want, sizeof(want), "{\"set\":\"settings\",\"values\":%s}", s_values[i]);
      if (strcmp(m, want) == 0) {
        if (!(d->allowed & (1u << i))) return fail("a stale or unwritten push: %s", m);
        d->seen |= 1u << i;
        return GOT;
      }
    }
    for (int i = 0; i < 2; i++) {
      snprintf(want, sizeof(want), "{\"set\":\"status\",\"values\":%s}", s_status_values[i]);
      if (strcmp(m, want) == 0) {
        if (i < d->ticks_seen) return fail("a stale push: %s", m);
        d->ticks_seen = i;
        return GOT;
      }
    }
    return fail("unexpected push: %s", m);
  }
  if (f.len >= sizeof(d->reply)) return fail("a reply of %lu bytes", (unsigned long) f.len);
  memcpy(d->reply, m, f.len + 1);
  d->has_reply = true;
  return GOT;
}

// Reads until the reply (when want_reply) and the pushes asked for have come
static int dash_wait(struct dash_sock *d, bool want_reply, unsigned want_seen, int want_ticks) {
  uint64_t deadline = mg_millis() + 2000;
  while ((want_reply && !d->has_reply) || (d->seen & want_seen) != want_seen || d->ticks_seen < want_ticks) {
    int rc = dash_read(d, deadline);
    if (rc != GOT) return rc;
  }
  return GOT;
}

// A message sent and its reply: GOT for the right one, SOFT for an error that says
// the server ran out of memory (the WebSocket's 5xx), else ENDED or FAILED
static int dash_ask(struct dash_sock *d, const char *msg, const char *id, const char *want) {
  char soft[2][128];
  d->has_reply = false;
  if (!ws_send(&d->cl, WEBSOCKET_OP_TEXT, true, msg, strlen(msg))) return ENDED;
  int rc = dash_wait(d, true, 0, -1);
  if (rc != GOT) return rc;
  if (strcmp(d->reply, want) == 0) return GOT;
  snprintf(soft[0], sizeof(soft[0]), "{%s\"error\":\"out of memory\"}", id);
  snprintf(soft[1], sizeof(soft[1]), "{%s\"error\":\"the values changed but were not saved\"}", id);
  if (strcmp(d->reply, soft[0]) == 0 || strcmp(d->reply, soft[1]) == 0) return SOFT;
  return fail("reply %s, expected %s", d->reply, want);
}

// The first messages: both sets (in the script, settings as the file has them or, if
// loading ran out of memory, the defaults; fresh: after the script, any)
static int dash_snapshot(struct dash_sock *d, bool fresh) {
  uint64_t deadline = mg_millis() + 2000;
  int rc = GOT;
  d->seen = 0, d->ticks_seen = -1, d->has_reply = false;
  d->allowed = fresh ? ~0u : (1u << V_DEFAULT) | (1u << V_FILE);
  while (rc == GOT && (d->ticks_seen < 0 || d->seen == 0)) rc = dash_read(d, deadline);
  if (rc == GOT && d->has_reply) rc = fail("a reply before any question: %s", d->reply);
  return rc;
}

static int dash_close(struct dash_sock *d) {
  static const char bye[] = "\x03\xe8";  // 1000
  static struct frame f;
  uint64_t deadline = mg_millis() + 2000;
  int rc;
  ws_send(&d->cl, WEBSOCKET_OP_CLOSE, true, bye, 2);
  do {
    rc = ws_read(&d->cl, &f, deadline);
    if (rc == GOT && f.op == WEBSOCKET_OP_TEXT) {  // A late push may still come before the close
      if (!json_whole((const char *) f.data, f.len)) rc = fail("not whole JSON: %s", f.data);
      continue;
    }
    if (rc == GOT && f.op != WEBSOCKET_OP_CLOSE) rc = fail("expected a close frame, got opcode %d", f.op);
    if (rc == GOT && (f.len != 2 || memcmp(f.data, bye, 2) != 0)) rc = fail("the close frame does not echo 1000");
    if (rc == GOT) {
      rc = client_fill(&d->cl, deadline);
      return rc == GOT ? fail("bytes after the close frame") : rc == ENDED ? GOT : rc;
    }
  } while (rc == GOT);
  return rc;
}

static bool goes_on(int rc) {
  return rc == GOT || rc == SOFT;
}

static int dash_script(uint16_t port) {
  static struct dash_sock d;
  struct response r;
  char msg[256];
  where("/api/ws: upgrade");
  int rc = ws_open(&d.cl, port, "/api/ws");
  if (rc == GOT) {
    where("/api/ws: snapshot");
    rc = dash_snapshot(&d, false);
  }
  if (goes_on(rc)) {
    where("/api/ws: write with an id");
    d.seen = 0;
    d.allowed |= 1u << V_WS;
    snprintf(msg, sizeof(msg), "{\"id\":7,\"set\":\"settings\",\"values\":%s}", s_values[V_WS]);
    rc = dash_ask(&d, msg, "\"id\":7,", "{\"id\":7,\"ok\":true}");
    if (rc == GOT) rc = dash_wait(&d, false, 1u << V_WS, -1);  // Its push, to the writer too
    if (rc == GOT) d.allowed = 1u << V_WS;
  }
  if (goes_on(rc)) {
    where("/api/ws: push after a REST POST");
    d.seen = 0;
    d.allowed |= 1u << V_REST;
    if (post_settings(port, s_values[V_REST], 200, s_values[V_REST], &r) == GOT) rc = dash_wait(&d, false, 1u << V_REST, -1);
    if (rc == GOT && (d.seen & (1u << V_REST))) d.allowed = 1u << V_REST;
  }
  if (goes_on(rc)) {
    where("/api/ws: push of the read-only set after a timer");
    if (http_step(port, "GET /tick HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL, &r) == GOT) rc = dash_wait(&d, false, 0, 1);
  }
  if (goes_on(rc)) {
    where("/api/ws: invalid write");
    rc = dash_ask(&d, "{\"id\":\"w8\",\"set\":\"settings\",\"values\":{\"count\":1000,\"bogus\":1}}", "\"id\":\"w8\",",
                  "{\"id\":\"w8\",\"error\":\"invalid fields\",\"fields\":{\"count\":\"must be between 0 and 100\","
                  "\"bogus\":\"unknown field\"}}");
  }
  if (goes_on(rc)) {
    where("/api/ws: write refused by the callback");
    rc = dash_ask(&d, "{\"id\":11,\"set\":\"settings\",\"values\":{\"name\":\"nobody\"}}", "\"id\":11,",
                  "{\"id\":11,\"error\":\"that name is reserved\"}");
  }
  if (goes_on(rc)) {
    where("/api/ws: unknown set");
    rc = dash_ask(&d, "{\"id\":9,\"set\":\"nope\",\"values\":{}}", "\"id\":9,", "{\"id\":9,\"error\":\"no such set\"}");
  }
  if (goes_on(rc)) {
    where("/api/ws: bad JSON");
    rc = dash_ask(&d, "{\"id\":10,", "", "{\"error\":\"bad JSON: the text ends early at byte 9\"}");
  }
  if (goes_on(rc)) {
    where("/api/ws: close handshake");
    rc = dash_close(&d);
  }
  client_close(&d.cl);
  return rc;
}

// REST on its own: the schema, a read, an invalid write
static void rest_script(uint16_t port) {
  struct response r;
  where("GET /api/sets");
  http_step(port, "GET /api/sets HTTP/1.1\r\nHost: x\r\n\r\n", 200, s_schema, &r);
  where("GET /api/sets/settings");
  if (http_step(port, "GET /api/sets/settings HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL, &r) == GOT) {
    bool known = false;
    for (int i = 0; i < V_COUNT; i++) {
      known = known || (r.body_len == strlen(s_values[i]) + 1 && memcmp(r.body, s_values[i], r.body_len - 1) == 0);
    }
    if (!known) fail("values %.*s", (int) r.body_len, r.body);
  }
  where("POST /api/sets/settings with a bad field");
  post_settings(port, "{\"mode\":\"sideways\"}", 400,
                "{\"error\":\"invalid fields\",\"fields\":{\"mode\":\"must be one of off, auto, manual\"}}", &r);
  where("POST /api/sets/settings with bad JSON");
  post_settings(port, "{\"count\":", 400,
                "{\"error\":\"bad JSON: the text ends early at byte 9 in member \\\"count\\\"\"}", &r);
  where("POST /api/sets/settings refused by the callback");
  post_settings(port, "{\"name\":\"nobody\"}", 409, "{\"error\":\"that name is reserved\"}", &r);
}

// ---- One run ----

// The file also holds a member this build does not know: kept through saves (dropped
// only when the allocation keeping it fails, which is logged)
static const char s_unknown[] = "\"later\":[1,2]";

// The file's text for the values v (a JSON object), with or without the unknown member
static void file_text(char *buf, size_t len, const char *v, bool unknown) {
  snprintf(buf, len, "%.*s%s%s}\n", (int) strlen(v) - 1, v, unknown ? "," : "", unknown ? s_unknown : "");
}

// The settings file: absent never (it was written before the run), else whole and one of what was written
static void check_file(bool at_start) {
  char buf[512];
  where(at_start ? "the settings file after loading" : "the settings file after the run");
  FILE *fp = fopen(s_file_path, "rb");
  if (fp == NULL) {
    fail("missing");
    return;
  }
  size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  bool ok = false;
  for (int i = V_FILE; i < V_COUNT; i++) {
    char want[256], without[256];
    file_text(want, sizeof(want), s_values[i], true);
    file_text(without, sizeof(without), s_values[i], false);
    if (at_start && i != V_FILE) continue;
    ok = ok || strcmp(buf, want) == 0 || (!at_start && strcmp(buf, without) == 0);
  }
  if (!ok) fail("holds %.*s", (int) strcspn(buf, "\n"), buf);
  if (access(s_tmp_path, F_OK) == 0) fail("its temporary file is left behind");
}

static bool write_file(void) {
  char text[256];
  FILE *fp = fopen(s_file_path, "wb");
  if (fp == NULL) return false;
  file_text(text, sizeof(text), s_values[V_FILE], true);
  bool ok = fputs(text, fp) >= 0;
  return fclose(fp) == 0 && ok;
}

// After the script, with nothing failing: a fresh client of each kind is served
static void check_serves_again(uint16_t port) {
  static struct dash_sock d;
  static const char hello[] = "still there?";
  struct client cl;
  where("after the script: a fresh /ws");
  if (ws_open(&cl, port, "/ws") != GOT || echo_step(&cl, WEBSOCKET_OP_TEXT, hello, strlen(hello), false) != GOT)
    fail("no echo");
  client_close(&cl);
  where("after the script: a fresh /api/ws");
  if (ws_open(&d.cl, port, "/api/ws") != GOT || dash_snapshot(&d, true) != GOT || dash_close(&d) != GOT) fail("no snapshot");
  client_close(&d.cl);
}

// Before each run: the settings file as the server should load it, and no temporary
static bool prepare_file(void) {
  unlink(s_tmp_path);
  return write_file();
}

// The script, with the fault armed
static void script(uint16_t port) {
  check_file(true);
  echo_script(port);
  echo_protocol_error(port);
  dash_script(port);
  rest_script(port);
}

static void check_file_after(void) {
  check_file(false);
}

// The schema a dash with these sets prints when nothing fails
static bool setup(void) {
  const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  snprintf(s_dir, sizeof(s_dir), "%s/alloc-faults-ws-XXXXXX", base);
  if (mkdtemp(s_dir) == NULL) return false;
  snprintf(s_file_path, sizeof(s_file_path), "%s/settings.json", s_dir);
  snprintf(s_tmp_path, sizeof(s_tmp_path), "%s/settings.json.tmp", s_dir);
  struct mg_dash dash;
  struct mg_iobuf io = {NULL, 0, 0, 256};
  memset(&dash, 0, sizeof(dash));  // No manager, no data dir: only the declarations
  bool ok = mg_dash_add(&dash, &s_settings) && mg_dash_add(&dash, &s_status) &&
            mg_dash_schema_json(&dash, MG_DASH_ADMIN, &io) && io.len < sizeof(s_schema);
  if (ok) memcpy(s_schema, io.buf, io.len);
  mg_iobuf_free(&io);
  return ok;
}

int main(void) {
  static const struct runner runner = {.name = "alloc-faults-ws",
                                       .server_fn = server_fn,
                                       .server_setup = server_setup,
                                       .server_free = server_free,
                                       .prepare = prepare_file,
                                       .script = script,
                                       .serves_again = check_serves_again,
                                       .after = check_file_after};
  if (!setup()) {
    fprintf(stderr, "alloc-faults-ws: cannot set up under %s\n", s_dir);
    return 1;
  }
  int rc = runner_main(&runner);
  unlink(s_file_path);
  unlink(s_tmp_path);
  rmdir(s_dir);
  return rc;
}
