// A REST API written against the Mongoose API alone (it builds unchanged with
// Mongoose): routes matched with mg_match, form variables, JSON replies.
//   GET  /api/stats        {"requests":N}
//   GET  /api/items/ID     one item: "*" matches one path segment
//   GET  /api/files/PATH   "#" matches the rest, slashes and all
//   POST /api/sum          form body a=1&b=2 -> {"sum":3}
#include <signal.h>
#include <stdlib.h>
#include "mongoose.h"

static volatile sig_atomic_t s_signo;
static unsigned long s_requests;

static void on_signal(int signo) {
  s_signo = signo;
}

static long form_number(struct mg_str *body, const char *name, bool *ok) {
  char buf[32];
  if (mg_http_get_var(body, name, buf, sizeof(buf)) <= 0) *ok = false;
  return strtol(buf, NULL, 10);
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  const char *json = "Content-Type: application/json\r\n";
  struct mg_str caps[2];
  s_requests++;
  if (mg_match(hm->uri, mg_str("/api/stats"), NULL)) {
    mg_http_reply(c, 200, json, "{%m:%lu}\n", MG_ESC("requests"), s_requests);
  } else if (mg_match(hm->uri, mg_str("/api/items/*"), caps)) {
    mg_http_reply(c, 200, json, "{%m:%m}\n", MG_ESC("item"), mg_print_esc, (int) caps[0].len, caps[0].buf);
  } else if (mg_match(hm->uri, mg_str("/api/files/#"), caps)) {
    mg_http_reply(c, 200, json, "{%m:%m}\n", MG_ESC("path"), mg_print_esc, (int) caps[0].len, caps[0].buf);
  } else if (mg_match(hm->uri, mg_str("/api/sum"), NULL) && mg_strcmp(hm->method, mg_str("POST")) == 0) {
    bool ok = true;
    long a = form_number(&hm->body, "a", &ok), b = form_number(&hm->body, "b", &ok);
    if (ok) mg_http_reply(c, 200, json, "{%m:%ld}\n", MG_ESC("sum"), a + b);
    else mg_http_reply(c, 400, json, "{%m:%m}\n", MG_ESC("error"), MG_ESC("need a and b"));
  } else {
    mg_http_reply(c, 404, json, "{%m:%m}\n", MG_ESC("error"), MG_ESC("not found"));
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen(&mgr, url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
