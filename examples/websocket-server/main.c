// WebSocket echo server: every message comes back with its opcode (text or binary);
// GET / serves a page that talks to it from a browser. An https:// URL serves WSS with
// the certificate and key of -c and -k.
//   websocket-server [-l URL] [-c CERT.pem -k KEY.pem] [-v LEVEL]     (default http://0.0.0.0:8000)
#include <signal.h>
#include "meerkat.h"

static volatile sig_atomic_t s_signo;
static struct mg_tls_opts s_tls;  // -c and -k, for an https:// listener
static void on_signal(int signo) {
  s_signo = signo;
}

static const char s_page[] =
    "<!DOCTYPE html><title>WebSocket echo</title><pre id=log></pre><script>\n"
    "const ws = new WebSocket(location.href.replace(/^http/, 'ws') + 'ws'), log = document.getElementById('log');\n"
    "ws.onopen = () => ws.send('hello from ' + navigator.userAgent);\n"
    "ws.onmessage = (e) => { log.textContent += 'echo: ' + e.data + '\\n'; };\n"
    "ws.onclose = (e) => { log.textContent += 'closed ' + e.code + '\\n'; };\n"
    "</script>\n";

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT && c->is_tls) mg_tls_init(c, &s_tls);  // From an https:// listener
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_http_get_header(hm, "Upgrade") != NULL) {
      mg_ws_upgrade(c, hm, NULL);  // Any path; a bad handshake gets 400 or 426
    } else if (mg_str_eq(hm->uri, "/")) {
      mg_http_reply(c, 200, "Content-Type: text/html; charset=utf-8\r\n", "%s", s_page);
    } else {
      mg_http_reply(c, 404, NULL, "Not found\n");
    }
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    mg_ws_send(c, wm->data.buf, wm->data.len, wm->flags & 15);
  }
}

int main(int argc, char *argv[]) {
  const char *url = "http://0.0.0.0:8000";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
      url = argv[++i];
    } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
      s_tls.cert = mg_file_read(&mg_fs_posix, argv[++i]);
    } else if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
      s_tls.key = mg_file_read(&mg_fs_posix, argv[++i]);
    } else if (strcmp(argv[i], "-v") == 0 && i + 1 < argc) {
      mg_log_set(atoi(argv[++i]));
    } else {
      fprintf(stderr, "usage: %s [-l URL] [-c CERT.pem -k KEY.pem] [-v LEVEL]\n", argv[0]);
      return 2;
    }
  }
  if (strncmp(url, "https://", 8) == 0 && (s_tls.cert.buf == NULL || s_tls.key.buf == NULL)) {
    fprintf(stderr, "%s: %s needs a readable certificate and key: -c CERT.pem -k KEY.pem\n", argv[0], url);
    return 2;
  }
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen(&mgr, url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("WebSocket echo server listening on %s://%M (%s://%M/ws)", c->is_tls ? "https" : "http", mg_print_ip_port,
           &c->loc, c->is_tls ? "wss" : "ws", mg_print_ip_port, &c->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  mg_free(s_tls.cert.buf);
  mg_free(s_tls.key.buf);
  return 0;
}
