// Mongoose 7 WebSocket compatibility, built against dist/mongoose.h and dist/meerkat.c
// alone: the server of Mongoose's websocket-server example and a client of its
// websocket-client example in one manager, using only the documented API.
#include <criterion/criterion.h>
#include <string.h>
#include "mongoose.h"

struct app {
  int server_opens, client_opens, server_msgs, client_msgs, pongs, ctl_close;
  char got[64];
  int got_op;
  size_t send_ret, wrap_ret, wrap_send_len, printf_ret;
  bool done;
};

// As Mongoose's examples do: upgrade on /websocket, echo every message, plain HTTP elsewhere
static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct app *a = (struct app *) c->fn_data;
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/websocket"), NULL)) {
      mg_ws_upgrade(c, hm, NULL);
    } else {
      mg_http_reply(c, 200, "", "ok\n");
    }
  } else if (ev == MG_EV_WS_OPEN) {
    a->server_opens++;
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    a->server_msgs++;
    mg_ws_send(c, wm->data.buf, wm->data.len, WEBSOCKET_OP_TEXT);
  }
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct app *a = (struct app *) c->fn_data;
  if (ev == MG_EV_WS_OPEN) {
    a->client_opens++;
    a->send_ret = mg_ws_send(c, "hello", 5, WEBSOCKET_OP_TEXT);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    a->client_msgs++;
    mg_snprintf(a->got, sizeof(a->got), "%.*s", (int) wm->data.len, wm->data.buf);
    a->got_op = wm->flags & 15;
    if (a->client_msgs == 1) {
      // Protocols over WebSocket build a frame in c->send, then wrap it
      size_t n = mg_printf(c, "%s=%d", "wrapped", 7);
      a->wrap_ret = mg_ws_wrap(c, n, WEBSOCKET_OP_TEXT);
      a->wrap_send_len = c->send.len;
    } else if (a->client_msgs == 2) {
      a->printf_ret = mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%d}", MG_ESC("n"), 3);
    } else {
      mg_ws_send(c, "", 0, WEBSOCKET_OP_PING);
    }
  } else if (ev == MG_EV_WS_CTL) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if ((wm->flags & 15) == WEBSOCKET_OP_PONG) {
      a->pongs++;
      mg_ws_send(c, "", 0, WEBSOCKET_OP_CLOSE);
    }
    if ((wm->flags & 15) == WEBSOCKET_OP_CLOSE) a->ctl_close++;
  } else if (ev == MG_EV_CLOSE) {
    a->done = true;
  }
}

// The examples' server in a fresh manager; url gets its ws:// address
static void start_server(struct mg_mgr *mgr, struct app *a, char *url, size_t len) {
  memset(a, 0, sizeof(*a));
  mg_mgr_init(mgr);
  mg_log_set(MG_LL_ERROR);
  struct mg_connection *l = mg_http_listen(mgr, "http://127.0.0.1:0", server_fn, a);
  cr_assert_not_null(l);
  mg_snprintf(url, len, "ws://127.0.0.1:%d/websocket", mg_ntohs(l->loc.port));
}

Test(compat_ws, server_and_client_as_in_mongoose_examples) {
  struct mg_mgr mgr;
  struct app a;
  char url[64];
  start_server(&mgr, &a, url, sizeof(url));
  struct mg_connection *c = mg_ws_connect(&mgr, url, client_fn, &a, "%s", "Origin: http://compat\r\n");
  cr_assert_not_null(c);
  for (int i = 0; i < 500 && !a.done; i++) mg_mgr_poll(&mgr, 10);
  cr_assert(a.done, "the client finished its script and closed");
  cr_assert_eq(a.server_opens, 1);
  cr_assert_eq(a.client_opens, 1);
  cr_assert_eq(a.server_msgs, 3);
  cr_assert_eq(a.client_msgs, 3);
  cr_assert_str_eq(a.got, "{\"n\":3}");
  cr_assert_eq(a.got_op, WEBSOCKET_OP_TEXT);
  cr_assert_eq(a.pongs, 1);
  cr_assert_eq(a.ctl_close, 1, "the server answered the close");
  // Return values as 7.22 documents them
  cr_assert_eq(a.send_ret, 2 + 4 + 5, "mg_ws_send: the bytes queued, header and mask included");
  cr_assert_eq(a.printf_ret, 2 + 4 + 7, "mg_ws_printf: the same");
  cr_assert_gt(a.wrap_ret, 0);
  cr_assert_eq(a.wrap_ret, a.wrap_send_len, "mg_ws_wrap: the new size of c->send");
  mg_mgr_free(&mgr);
}

// Mongoose takes messages up to what the receive buffer holds (MG_MAX_RECV_SIZE)
struct big {
  size_t got_len;
  bool same, done;
};

static void big_client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct big *b = (struct big *) c->fn_data;
  static char msg[70000];
  if (ev == MG_EV_WS_OPEN) {
    for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (char) ('a' + i % 26);
    mg_ws_send(c, msg, sizeof(msg), WEBSOCKET_OP_TEXT);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    b->got_len = wm->data.len;
    b->same = wm->data.len == sizeof(msg) && memcmp(wm->data.buf, msg, sizeof(msg)) == 0;
    mg_ws_send(c, "", 0, WEBSOCKET_OP_CLOSE);
  } else if (ev == MG_EV_CLOSE) {
    b->done = true;
  }
}

Test(compat_ws, a_70000_byte_message_is_echoed) {
  struct mg_mgr mgr;
  struct app a;
  struct big b;
  char url[64];
  memset(&b, 0, sizeof(b));
  start_server(&mgr, &a, url, sizeof(url));
  cr_assert_not_null(mg_ws_connect(&mgr, url, big_client_fn, &b, NULL));
  for (int i = 0; i < 500 && !b.done; i++) mg_mgr_poll(&mgr, 10);
  cr_assert(b.done);
  cr_assert_eq(a.server_msgs, 1, "the server took it (no close 1009)");
  cr_assert_eq(b.got_len, 70000);
  cr_assert(b.same, "and it came back unchanged");
  mg_mgr_free(&mgr);
}

Test(compat_ws, wrap_returns_the_new_size_of_the_send_buffer) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_ERROR);
  struct mg_connection *c = mg_ws_connect(&mgr, "ws://127.0.0.1:1/", NULL, NULL, NULL);
  cr_assert_not_null(c);
  size_t before = c->send.len;  // The upgrade request, not sent yet
  cr_assert_gt(before, 0);
  size_t n = mg_printf(c, "%s", "abc");
  size_t r = mg_ws_wrap(c, n, WEBSOCKET_OP_TEXT);
  cr_assert_eq(c->send.len, before + 2 + 4 + 3, "a masked client frame");
  cr_assert_eq(r, c->send.len, "7.22: the new size of the output buffer");
  mg_mgr_free(&mgr);
}
