// WebSocket client: connects, sends each MESSAGE as text, prints one line per event;
// -e sends every message back, -n N closes (1000) after N messages. Exits 0 once the
// close handshake is done, 1 on an error, a timeout or a connection lost without it.
// A wss:// server is verified against the CA of --ca and the URL's host name.
//   websocket-client [-e] [-n N] [-t TIMEOUT_MS] [--ca CA.pem] [-v LEVEL] URL [MESSAGE...]
#include "meerkat.h"

struct session {
  char **msgs;
  int nmsgs, received, close_after;
  bool echo, closed_cleanly, done;
  struct mg_tls_opts tls;  // --ca, for a wss:// URL
};

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  struct session *s = (struct session *) c->fn_data;
  struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
  if (ev == MG_EV_CONNECT && c->is_tls) mg_tls_init(c, &s->tls);
  if (ev == MG_EV_WS_OPEN) {
    printf("open\n");
    for (int i = 0; i < s->nmsgs; i++) mg_ws_send(c, s->msgs[i], strlen(s->msgs[i]), WEBSOCKET_OP_TEXT);
  } else if (ev == MG_EV_WS_MSG) {
    int op = wm->flags & 15;
    if (op == WEBSOCKET_OP_TEXT && wm->data.len <= 200) {
      printf("text %lu %.*s\n", (unsigned long) wm->data.len, (int) wm->data.len, wm->data.buf);
    } else {
      printf("%s %lu\n", op == WEBSOCKET_OP_TEXT ? "text" : "binary", (unsigned long) wm->data.len);
    }
    if (s->echo) mg_ws_send(c, wm->data.buf, wm->data.len, op);
    if (++s->received == s->close_after) mg_ws_send(c, "\x03\xe8" "done", 6, WEBSOCKET_OP_CLOSE);
  } else if (ev == MG_EV_WS_CTL) {
    int op = wm->flags & 15;
    if (op == WEBSOCKET_OP_CLOSE) {
      unsigned code = wm->data.len >= 2 ? (unsigned) MG_LOAD_BE16(wm->data.buf) : 0;
      int rl = wm->data.len > 2 ? (int) wm->data.len - 2 : 0;
      printf("close %u %.*s\n", code, rl, rl > 0 ? wm->data.buf + 2 : "");
      s->closed_cleanly = true;
    } else {
      printf("%s %lu\n", op == WEBSOCKET_OP_PING ? "ping" : "pong", (unsigned long) wm->data.len);
    }
  } else if (ev == MG_EV_ERROR) {
    printf("error %s\n", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    printf("closed\n");
    s->done = true;
  }
}

int main(int argc, char *argv[]) {
  struct session s;
  long timeout_ms = 10000;
  const char *url = NULL, *ca_file = NULL;
  int i = 1;
  memset(&s, 0, sizeof(s));
  mg_log_set(MG_LL_ERROR);
  setvbuf(stdout, NULL, _IOLBF, 0);  // One line per event, as it happens
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-e") == 0) s.echo = true;
    else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) s.close_after = atoi(argv[++i]);
    else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) timeout_ms = atol(argv[++i]);
    else if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) mg_log_set(atoi(argv[++i]));
    else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) ca_file = argv[++i];
    else break;
  }
  if (ca_file != NULL && (s.tls.ca = mg_file_read(&mg_fs_posix, ca_file)).buf == NULL) {
    fprintf(stderr, "%s: cannot read the CA certificate %s\n", argv[0], ca_file);
    return 2;
  }
  if (i < argc) url = argv[i++];
  if (url == NULL) {
    fprintf(stderr, "usage: %s [-e] [-n N] [-t TIMEOUT_MS] [--ca CA.pem] [-v LEVEL] URL [MESSAGE...]\n", argv[0]);
    return 2;
  }
  s.msgs = argv + i;
  s.nmsgs = argc - i;
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  if (mg_ws_connect(&mgr, url, handle, &s, NULL) == NULL) {
    mg_mgr_free(&mgr);
    return 1;
  }
  uint64_t deadline = mg_millis() + (uint64_t) timeout_ms;
  while (!s.done && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  mg_mgr_free(&mgr);
  mg_free(s.tls.ca.buf);
  if (!s.done) fprintf(stderr, "websocket-client: timed out after %ld ms\n", timeout_ms);
  return s.done && s.closed_cleanly ? 0 : 1;
}
