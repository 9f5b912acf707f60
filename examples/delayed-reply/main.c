// Replies sent later, from a timer, written against the Mongoose API alone: the
// handler marks the connection, a repeating timer answers those that are due.
// Works for HTTP/1.0 and pipelined HTTP/1.1 requests alike (c->is_resp).
//   GET /api/slow?ms=N     answers {"waited":N} after N milliseconds (at most 5000)
//   anything else          answers at once
#include <signal.h>
#include <stdlib.h>
#include "mongoose.h"

struct pending {  // In c->data while a reply is owed
  uint64_t due;
  unsigned long ms;
};

static volatile sig_atomic_t s_signo;
static struct mg_mgr s_mgr;

static void on_signal(int signo) {
  s_signo = signo;
}

static void answer_due(void *arg) {
  uint64_t now = mg_millis();
  (void) arg;
  for (struct mg_connection *c = s_mgr.conns; c != NULL; c = c->next) {
    struct pending *p = (struct pending *) c->data;
    if (p->due == 0 || p->due > now) continue;
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%lu}\n", MG_ESC("waited"), p->ms);
    p->due = 0;
  }
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (mg_match(hm->uri, mg_str("/api/slow"), NULL)) {
    struct pending *p = (struct pending *) c->data;
    char ms[16] = "";
    mg_http_get_var(&hm->query, "ms", ms, sizeof(ms));
    p->ms = strtoul(ms, NULL, 10);
    if (p->ms > 5000) p->ms = 5000;
    p->due = mg_millis() + p->ms;
  } else {
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "now\n");
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  mg_mgr_init(&s_mgr);
  struct mg_connection *c = mg_http_listen(&s_mgr, url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  mg_timer_add(&s_mgr, 10, MG_TIMER_REPEAT, answer_due, NULL);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&s_mgr, 1000);
  mg_mgr_free(&s_mgr);
  return 0;
}
