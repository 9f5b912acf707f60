// A REST API written against the Mongoose API alone (it builds unchanged with
// Mongoose): routes matched with mg_match, form variables, JSON replies.
//   GET  /api/stats        {"requests":N}
//   GET  /api/items/ID     one item: "*" matches one path segment
//   GET  /api/files/PATH   "#" matches the rest, slashes and all
//   POST /api/sum          form body a=1&b=2 -> {"sum":3}; 400 if a number or the sum
//                          is not a whole number that a long holds
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include "mongoose.h"

static volatile sig_atomic_t s_signo;
static unsigned long s_requests;

static void on_signal(int signo) {
  s_signo = signo;
}

// A form variable that is a whole decimal number. strtol alone would read "12abc"
// as 12 and clamp a number too large for a long to LONG_MAX without a word.
enum number_status { NUMBER_OK, NUMBER_MISSING, NUMBER_TOO_LARGE };

static enum number_status form_number(struct mg_str *body, const char *name, long *out) {
  char buf[32], *end;
  if (mg_http_get_var(body, name, buf, sizeof(buf)) <= 0) return NUMBER_MISSING;
  errno = 0;
  *out = strtol(buf, &end, 10);
  if (end == buf || *end != '\0') return NUMBER_MISSING;
  return errno == ERANGE ? NUMBER_TOO_LARGE : NUMBER_OK;
}

// a + b, unless it overflows a long (undefined behaviour in C, checked before adding)
static bool sum_fits(long a, long b, long *sum) {
  if ((b > 0 && a > LONG_MAX - b) || (b < 0 && a < LONG_MIN - b)) return false;
  *sum = a + b;
  return true;
}

static void reply_sum(struct mg_connection *c, struct mg_str *body, const char *json) {
  long a = 0, b = 0, sum = 0;
  enum number_status sa = form_number(body, "a", &a), sb = form_number(body, "b", &b);
  if (sa == NUMBER_MISSING || sb == NUMBER_MISSING) {
    mg_http_reply(c, 400, json, "{%m:%m}\n", MG_ESC("error"), MG_ESC("need a and b, whole decimal numbers"));
  } else if (sa == NUMBER_TOO_LARGE || sb == NUMBER_TOO_LARGE || !sum_fits(a, b, &sum)) {
    mg_http_reply(c, 400, json, "{%m:\"out of range: a, b and their sum must lie within %ld..%ld\"}\n",
                  MG_ESC("error"), LONG_MIN, LONG_MAX);
  } else {
    mg_http_reply(c, 200, json, "{%m:%ld}\n", MG_ESC("sum"), sum);
  }
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
    reply_sum(c, &hm->body, json);
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
