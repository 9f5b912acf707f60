// Field sets over HTTP: GET /api/sets, GET and POST /api/sets/NAME, the
// WebSocket /api/ws with its coalesced pushes, then the routes of dash_route.c (API.md).
#include "dash/dash_internal.h"
#include "ws/ws_frame.h"

// A WebSocket client of /api/ws: kept small, there may be many
static const char *http_json_headers = "Content-Type: application/json\r\nCache-Control: no-store\r\n";

static void dash_http_tick(void *arg);
static void dash_http_sync_sessions(struct mg_dash *dash);

// The tick sends coalesced pushes and retries what ran out of memory. Without it
// (out of memory itself) pushes go at once, and each later call tries to start it.
static bool dash_http_start_timer(struct mg_dash *dash) {
  uint64_t period = MG_DASH_PUSH_INTERVAL_MS / 2 > 0 ? MG_DASH_PUSH_INTERVAL_MS / 2 : 1;
  if (dash->timer == NULL) dash->timer = mg_timer_add(dash->mgr, period, MG_TIMER_REPEAT, dash_http_tick, dash);
  return dash->timer != NULL;
}

void mg_dash_init(struct mg_dash *dash, struct mg_mgr *mgr, const char *data_dir) {
  memset(dash, 0, sizeof(*dash));
  dash->mgr = mgr;
  dash->data_dir = data_dir;
  dash->fs = mg_dash_fs;
  dash_http_start_timer(dash);
}

void mg_dash_free(struct mg_dash *dash) {
  mg_dash_store_free(dash);
  mg_dash_history_free(dash);
  if (dash->timer != NULL) {
    mg_timer_free(&dash->mgr->timers, dash->timer);
    mg_free(dash->timer);
    dash->timer = NULL;
  }
  mg_dash_clients_free(dash);
  mg_dash_routes_free(dash);
}

// {"set":NAME,"values":{...} for level into out, open for more members
static bool dash_http_message_open(struct mg_dash_set *set, int level, struct mg_iobuf *out) {
  out->len = 0;
  return mg_iobuf_printf(out, "{\"set\":%m,\"values\":", MG_ESC(set->name)) && mg_dash_values_raw(set, level, out);
}

// {"set":NAME,"values":{...}} for level into out
static bool dash_http_message(struct mg_dash_set *set, int level, struct mg_iobuf *out) {
  return dash_http_message_open(set, level, out) && mg_iobuf_printf(out, "}");
}

static bool dash_http_can_send(struct mg_connection *c) {
  return !c->is_closing && !c->is_draining;
}

// One set being pushed: for each level, whether it may read the set and the set's message
// as one WebSocket frame, both worked out when a client of that level first needs them;
// each client then gets its level's frame in one copy
struct dash_push {
  struct mg_dash_set *set;
  struct mg_iobuf frame[MG_DASH_ADMIN + 1];  // The frame at frame[l].buf + at[l]
  size_t at[MG_DASH_ADMIN + 1];
  bool built[MG_DASH_ADMIN + 1], readable[MG_DASH_ADMIN + 1];
};
#define DASH_PUSH_BATCH 4  // Sets pushed together (on the stack: a few hundred bytes)

// {"set":NAME,"values":{...}} for level as a text frame: the header goes into the room
// left in front of the message once its length is known. false: out of memory
static bool dash_push_frame_build(struct dash_push *p, int level) {
  static const uint8_t room[WS_SERVER_HEAD_MAX];
  struct mg_iobuf *out = &p->frame[level];
  uint8_t head[WS_SERVER_HEAD_MAX];
  out->align = 256;
  if (mg_iobuf_add(out, 0, room, sizeof(room)) != sizeof(room) ||
      !mg_iobuf_printf(out, "{\"set\":%m,\"values\":", MG_ESC(p->set->name)) ||
      !mg_dash_values_raw(p->set, level, out) || !mg_iobuf_printf(out, "}")) {
    return false;
  }
  size_t hl = ws_frame_head(head, out->len - sizeof(room), WEBSOCKET_OP_TEXT, NULL);
  p->at[level] = sizeof(room) - hl;
  memcpy(out->buf + p->at[level], head, hl);
  return true;
}

// The set's frame for level (its len 0 when out of memory), or NULL when the level may not read the set
static const struct mg_iobuf *dash_push_frame(struct dash_push *p, int level) {
  if (!p->built[level]) {
    p->built[level] = true;
    p->readable[level] = mg_dash_readable(p->set, level);
    if (p->readable[level] && !dash_push_frame_build(p, level)) {
      MG_ERROR(("out of memory pushing %s", p->set->name));
      p->frame[level].len = 0;
    }
  }
  return p->readable[level] ? &p->frame[level] : NULL;
}

// Queues set's frame for cl, or marks it dirty (retried once it drains, or at the next tick)
static void dash_push_to(struct dash_push *p, struct mg_dash_client *cl, int level) {
  uint32_t bit = 1UL << p->set->index;
  const struct mg_iobuf *frame = dash_push_frame(p, level);
  if (frame == NULL) return;
  if (cl->c->send.len > MG_DASH_SEND_LIMIT || frame->len == 0) {
    cl->dirty |= bit;
  } else {
    mg_ws_send_frame(cl->c, frame->buf + p->at[level], frame->len - p->at[level]);
    cl->dirty &= ~bit;
  }
}

// Pushes n sets to every client. An idle client's frames go to its socket at once, in
// one write, through one spare buffer: not a buffer per client held to the end of the
// pass, nor a send() and a TCP segment per set.
static void dash_http_push(struct mg_dash *dash, struct dash_push *p, size_t n) {
  dash_http_sync_sessions(dash);
  for (size_t i = 0; i < n; i++) {
    if (p[i].set->on_read != NULL && dash->clients != NULL) p[i].set->on_read(p[i].set);
  }
  for (struct mg_dash_client *cl = dash->clients; cl != NULL; cl = cl->next) {
    int level = cl->level > MG_DASH_ADMIN ? MG_DASH_ADMIN : cl->level;
    if (!dash_http_can_send(cl->c)) continue;
    bool idle = cl->c->send.len == 0;
    for (size_t i = 0; i < n; i++) dash_push_to(&p[i], cl, level);
    if (idle) mg_io_send_now(cl->c);
  }
  uint64_t now = mg_millis();
  for (size_t i = 0; i < n; i++) {
    for (size_t l = 0; l < MG_ARRAY_SIZE(p[i].frame); l++) mg_iobuf_free(&p[i].frame[l]);
    p[i].set->pending = false;
    p[i].set->last_push = now;
  }
}

void mg_dash_push(struct mg_dash *dash, struct mg_dash_set *set) {
  struct dash_push p;
  memset(&p, 0, sizeof(p));
  p.set = set;
  dash_http_push(dash, &p, 1);
}

// After a quiet spell the tick is made due at once, so the push goes in the next loop
// pass with every set changed until then, in one write per client (a timer that changes
// two sets made two pushes, 80 ms each at 10,000 clients); later changes wait for the
// interval. Without a timer (out of memory) each change goes alone, at once.
void mg_dash_changed(struct mg_dash *dash, struct mg_dash_set *set) {
  set->pending = true;
  uint64_t now = mg_millis();
  mg_dash_store_changed(set, now);  // A persisted set: saved by the tick, or at mg_dash_free
  if (!dash_http_start_timer(dash)) mg_dash_push(dash, set);
  else if (now - set->last_push >= MG_DASH_PUSH_INTERVAL_MS) dash->timer->expire = now > 0 ? now : 1;
}

// A client that drained gets the latest values of the sets it missed
static void dash_http_catch_up(struct mg_dash *dash, struct mg_dash_client *cl) {
  struct mg_iobuf msg = {NULL, 0, 0, 256};
  for (struct mg_dash_set *s = dash->sets; s != NULL && cl->c->send.len <= MG_DASH_SEND_LIMIT; s = s->next) {
    if (!(cl->dirty & (1UL << s->index))) continue;
    if (!dash_http_message(s, cl->level, &msg)) break;  // Out of memory: stays dirty
    mg_ws_send(cl->c, msg.buf, msg.len, WEBSOCKET_OP_TEXT);
    cl->dirty &= ~(1UL << s->index);
  }
  mg_iobuf_free(&msg);
}

// A socket outlives the request that opened it: its level is its session's as it is now,
// and once the session has ended it is closed and neither sees nor changes anything more
static int dash_http_level_now(struct mg_dash *dash, struct mg_dash_client *cl) {
  if (dash->auth == NULL || cl->level == MG_DASH_NOBODY) return cl->level;  // No users, or closing already
  cl->level = (uint8_t) mg_auth_session_level(dash->auth, cl->session);
  if (cl->level == MG_DASH_NOBODY) {
    static const char bye[] = "\x03\xf0session ended";  // 1008: policy violation (RFC 6455 7.4.1)
    MG_INFO(("%lu WebSocket closed: its session ended", cl->c->id));
    mg_ws_send(cl->c, bye, sizeof(bye) - 1, WEBSOCKET_OP_CLOSE);
  }
  return cl->level;
}

static void dash_http_check_sessions(struct mg_dash *dash) {
  for (struct mg_dash_client *cl = dash->clients; cl != NULL; cl = cl->next) dash_http_level_now(dash, cl);
  dash->auth_changes = mg_auth_changes(dash->auth);
}

// A session ended or a user was removed since the clients were last checked (a logout, in
// this loop pass): check them before anything more goes to them, so their sockets close at once
static void dash_http_sync_sessions(struct mg_dash *dash) {
  if (dash->auth != NULL && mg_auth_changes(dash->auth) != dash->auth_changes) dash_http_check_sessions(dash);
}

static void dash_http_tick(void *arg) {
  struct mg_dash *dash = (struct mg_dash *) arg;
  uint64_t now = mg_millis();
  if (dash->auth != NULL && now - dash->sessions_checked >= 1000) {  // Expiry is no event: look for it
    dash->sessions_checked = now;
    dash_http_check_sessions(dash);
  }
  dash_http_sync_sessions(dash);
  mg_dash_store_tick(dash, now);
  mg_dash_history_tick(dash, now);
  struct dash_push batch[DASH_PUSH_BATCH];
  size_t n = 0;
  memset(batch, 0, sizeof(batch));
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    if (!s->pending || now - s->last_push < MG_DASH_PUSH_INTERVAL_MS) continue;
    batch[n++].set = s;
    if (n == DASH_PUSH_BATCH) {
      dash_http_push(dash, batch, n);
      memset(batch, 0, sizeof(batch));
      n = 0;
    }
  }
  if (n > 0) dash_http_push(dash, batch, n);
  for (struct mg_dash_client *cl = dash->clients; cl != NULL; cl = cl->next) {
    if (cl->dirty != 0 && dash_http_can_send(cl->c) && cl->c->send.len <= MG_DASH_SEND_LIMIT / 2) {
      dash_http_catch_up(dash, cl);
    }
  }
}

// ---------------------------------------------------------------------------
// REST

static void dash_http_error(struct mg_connection *c, int status, const char *message) {
  mg_http_reply(c, status, http_json_headers, "{\"error\":%m}\n", MG_ESC(message));
}

static void dash_http_reply_json(struct mg_connection *c, int status, bool ok, struct mg_iobuf *body) {
  if (!ok) {
    dash_http_error(c, 500, "out of memory");
  } else {
    mg_http_reply(c, status, http_json_headers, "%.*s\n", (int) body->len, body->buf == NULL ? "" : (char *) body->buf);
  }
}

static bool dash_http_is_get(struct mg_http_message *hm) {
  return mg_str_eq(hm->method, "GET") || mg_str_eq(hm->method, "HEAD");
}

static void dash_http_set(struct mg_dash *dash, struct mg_connection *c, struct mg_http_message *hm, struct mg_str name,
                          int level) {
  struct mg_dash_set *set = mg_dash_find(dash, name);
  struct mg_iobuf out = {NULL, 0, 0, 256};
  if (set == NULL) {
    dash_http_error(c, 404, "no such set");
  } else if (!mg_dash_readable(set, level)) {
    dash_http_error(c, 403, "forbidden");
  } else if (dash_http_is_get(hm)) {
    dash_http_reply_json(c, 200, mg_dash_values_json(set, level, &out), &out);
  } else if (!mg_str_eq(hm->method, "POST")) {
    mg_http_reply(c, 405, "Content-Type: application/json\r\nAllow: GET, HEAD, POST\r\n",
                  "{\"error\":\"method not allowed\"}\n");
  } else if (hm->body.len > MG_DASH_MAX_BODY) {
    dash_http_error(c, 413, "body too large");
  } else {
    int status = mg_dash_write(set, hm->body, level, &out);
    if (status == 200) {
      out.len = 0;
      dash_http_reply_json(c, 200, mg_dash_values_json(set, level, &out), &out);
    } else if (out.len == 0) {  // No memory for the reason: an empty object would look like an answer
      dash_http_error(c, 500, "out of memory");
    } else {
      mg_http_reply(c, status, http_json_headers, "{%.*s}\n", (int) out.len, (char *) out.buf);
    }
  }
  mg_iobuf_free(&out);
}

// ---------------------------------------------------------------------------
// WebSocket

// A set's first message to a client carries its history while the client's queue stays
// within MG_DASH_SEND_LIMIT (the newest samples that fit), so a connect costs a bounded amount
static bool dash_http_first_message(struct mg_dash_set *set, struct mg_dash_client *cl, struct mg_iobuf *out) {
  size_t queued = cl->c->send.len, limit = queued < MG_DASH_SEND_LIMIT ? MG_DASH_SEND_LIMIT - queued : 0;
  return dash_http_message_open(set, cl->level, out) &&
         mg_dash_history_json(set, cl->level, mg_millis(), limit > 0 ? limit - 1 : 0, out) &&  // 1: the '}'
         mg_iobuf_printf(out, "}");
}

static void dash_http_snapshot(struct mg_dash *dash, struct mg_dash_client *cl) {
  struct mg_iobuf msg = {NULL, 0, 0, 256};
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    if (!mg_dash_readable(s, cl->level)) continue;
    if (s->on_read != NULL) s->on_read(s);
    if (dash_http_first_message(s, cl, &msg)) {
      mg_ws_send(cl->c, msg.buf, msg.len, WEBSOCKET_OP_TEXT);
    } else {
      cl->dirty |= 1UL << s->index;  // Out of memory now: sent at a later tick
    }
  }
  mg_iobuf_free(&msg);
}

// A page of another site may open a WebSocket with the user's cookie (browsers do
// not apply the same-origin policy to it): when Origin is sent, its host must be ours
static bool dash_http_same_origin(struct mg_http_message *hm) {
  struct mg_str *origin = mg_http_get_header(hm, "Origin"), *host = mg_http_get_header(hm, "Host");
  if (origin == NULL) return true;  // Not a browser
  if (host == NULL) return false;
  struct mg_str o = *origin;
  const char *sep = "://";
  for (size_t i = 0; i + 3 <= o.len; i++) {
    if (memcmp(o.buf + i, sep, 3) == 0) {
      o = mg_str_n(o.buf + i + 3, o.len - i - 3);
      break;
    }
  }
  return mg_strcasecmp(o, *host) == 0;
}

static void dash_http_upgrade(struct mg_dash *dash, struct mg_connection *c, struct mg_http_message *hm, int level) {
  if (level < MG_DASH_VIEWER) {
    dash_http_error(c, 401, "login required");
    return;
  }
  if (!dash_http_same_origin(hm)) {
    dash_http_error(c, 403, "cross-origin WebSocket refused");
    return;
  }
  struct mg_dash_client *cl = (struct mg_dash_client *) mg_calloc(1, sizeof(*cl));
  if (cl == NULL || !mg_dash_clients_reserve(dash)) {
    mg_free(cl);
    dash_http_error(c, 503, "out of memory");
    return;
  }
  mg_ws_upgrade(c, hm, NULL);
  if (!c->is_websocket) {  // Not a valid upgrade request: it has answered
    mg_free(cl);
    return;
  }
  mg_ws_set_max_message(c, MG_DASH_WS_MAX_MESSAGE);
  dash_http_start_timer(dash);  // Retries of this client's snapshot need the tick
  cl->c = c;
  cl->level = (uint8_t) level;
  if (dash->auth != NULL) cl->session = mg_auth_session_id(dash->auth, hm);
  mg_dash_clients_add(dash, cl);
  dash_http_snapshot(dash, cl);
}

// A client's message {"id":7,"set":"leds","values":{...}}: answered on the socket.
// Fixed answers are printed straight into the frame, so that running out of memory
// can only close the socket, never send a reply with its error or "ok" missing.
static void dash_http_ws_write(struct mg_dash *dash, struct mg_dash_client *cl, struct mg_str data) {
  struct mg_connection *c = cl->c;
  int n = 0, level = dash_http_level_now(dash, cl);  // Judged by the session as it is now
  if (level == MG_DASH_NOBODY) return;  // Ended: the socket is closing, the write is refused
  if (data.len > MG_DASH_MAX_BODY) {
    mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:\"message of %lu bytes: at most %d\"}", MG_ESC("error"),
                 (unsigned long) data.len, MG_DASH_MAX_BODY);
    return;
  }
  if (mg_json_get(data, "$", &n) < 0) {
    char why[160], msg[sizeof(why) + 16];  // The longest message of mg_json_check fits
    mg_json_check(data, why, sizeof(why));
    mg_snprintf(msg, sizeof(msg), "bad JSON: %s", why);
    mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%m}", MG_ESC("error"), MG_ESC(msg));
    return;
  }
  struct mg_str id = mg_json_get_tok(data, "$.id"), name = mg_json_get_tok(data, "$.set");
  struct mg_str values = mg_json_get_tok(data, "$.values");
  if (id.len > 64) id.len = 0;  // Echoed only when short: a client's tag, not a payload
  struct mg_iobuf out = {NULL, 0, 0, 128};
  const char *fixed = NULL;  // A reply known in advance
  char set_name[40];
  struct mg_dash_set *set = NULL;
  if (name.len >= 2 && name.buf[0] == '"' && name.len < sizeof(set_name) &&
      mg_json_unescape_body(mg_str_n(name.buf + 1, name.len - 2), set_name, sizeof(set_name))) {
    set = mg_dash_find(dash, mg_str(set_name));
  }
  if (data.buf[0] != '{' || name.len == 0 || values.len == 0) {
    fixed = "\"error\":\"expected {\\\"set\\\":NAME,\\\"values\\\":{...}}\"";
  } else if (set == NULL || !mg_dash_readable(set, level)) {
    fixed = "\"error\":\"no such set\"";
  } else if (mg_dash_write(set, values, level, &out) == 200) {
    fixed = "\"ok\":true";
  } else if (out.len == 0) {  // No memory for the reason (mg_dash_write then says 500)
    fixed = "\"error\":\"out of memory\"";
  }
  struct mg_str reply = fixed != NULL ? mg_str(fixed) : mg_str_n((char *) out.buf, out.len);
  if (id.len > 0) {
    mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{\"id\":%.*s,%.*s}", (int) id.len, id.buf, (int) reply.len, reply.buf);
  } else {
    mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%.*s}", (int) reply.len, reply.buf);
  }
  mg_iobuf_free(&out);
}

bool mg_dash_handle(struct mg_dash *dash, struct mg_connection *c, int ev, void *ev_data, int level) {
  dash_http_sync_sessions(dash);  // Every event (MG_EV_POLL: every loop pass) sees a logout at once
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    struct mg_str caps[2];
    if (mg_str_eq(hm->uri, "/api/sets")) {
      struct mg_iobuf out = {NULL, 0, 0, 512};
      if (!dash_http_is_get(hm)) {
        mg_http_reply(c, 405, "Content-Type: application/json\r\nAllow: GET, HEAD\r\n",
                      "{\"error\":\"method not allowed\"}\n");
      } else {
        dash_http_reply_json(c, 200, mg_dash_schema_json(dash, level, &out), &out);
      }
      mg_iobuf_free(&out);
    } else if (mg_match(hm->uri, mg_str("/api/sets/*"), caps)) {
      dash_http_set(dash, c, hm, caps[0], level);
    } else if (mg_str_eq(hm->uri, "/api/ws")) {
      dash_http_upgrade(dash, c, hm, level);
    } else {
      return mg_dash_routes_handle(dash, c, hm, level);
    }
    return true;
  }
  if (!c->is_websocket) return false;
  if (ev == MG_EV_WS_MSG) {
    struct mg_dash_client *cl = mg_dash_clients_find(dash, c);
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if (cl == NULL) return false;
    if ((wm->flags & 15) == WEBSOCKET_OP_TEXT) dash_http_ws_write(dash, cl, wm->data);
    return true;
  }
  if (ev == MG_EV_CLOSE) mg_dash_clients_forget(dash, c);
  return false;
}
