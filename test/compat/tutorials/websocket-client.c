// The websocket-client tutorial as a Mongoose user writes it: connect, send "hello",
// print the echo and stop. Built against dist/mongoose.h alone.
// Usage: websocket-client [URL [MESSAGE]]; exit status 1 when no echo came.
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_url = "ws://localhost:8000/websocket";
static const char *s_message = "hello";

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ERROR) {
    MG_ERROR(("%p %s", c->fd, (char *) ev_data));
  } else if (ev == MG_EV_WS_OPEN) {
    mg_ws_send(c, s_message, strlen(s_message), WEBSOCKET_OP_TEXT);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    printf("GOT ECHO REPLY: [%.*s]\n", (int) wm->data.len, wm->data.buf);
    *(int *) c->fn_data = 1;  // Got the echo
  }
  if (ev == MG_EV_ERROR || ev == MG_EV_CLOSE || ev == MG_EV_WS_MSG) {
    if (*(int *) c->fn_data == 0) *(int *) c->fn_data = -1;  // Done, with no echo
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  int done = 0;
  if (argc > 1) s_url = argv[1];
  if (argc > 2) s_message = argv[2];
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_ERROR);
  c = mg_ws_connect(&mgr, s_url, fn, &done, NULL);
  while (c && done == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return done == 1 ? 0 : 1;
}
