// mg_wakeup on whichever backend the build links (sockets, or the mock in
// build/mock) and at whichever MG_IO_SIZE (build/io512 too): a message it accepts
// arrives whole and in order; one it could not deliver whole it refuses, with a log line.
#include <criterion/criterion.h>
#include "meerkat.h"

#define WAKE_MAX 1000  // What mg_net.h promises mg_wakeup takes

struct wakes {
  size_t lens[4];
  char fill[4];   // Each message is one character repeated
  bool whole[4];  // and nothing else: a cut or mixed message shows
  int n;
};

static void wake_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct wakes *w = (struct wakes *) c->fn_data;
  if (ev != MG_EV_WAKEUP || w->n >= 4) return;
  struct mg_str *s = (struct mg_str *) ev_data;
  w->lens[w->n] = s->len;
  w->fill[w->n] = s->buf[0];
  w->whole[w->n] = true;
  for (size_t i = 0; i < s->len; i++) w->whole[w->n] &= s->buf[i] == s->buf[0];
  w->n++;
}

static bool wake(struct mg_mgr *mgr, unsigned long id, size_t len, int fill) {
  static char buf[WAKE_MAX + 2];
  memset(buf, fill, len);
  return mg_wakeup(mgr, id, buf, len);
}

Test(wakeup, an_accepted_message_arrives_whole_whatever_the_buffer_sizes) {
  struct mg_mgr mgr;
  struct wakes w = {0};
  struct mg_iobuf log = {0};
  mg_mgr_init(&mgr);
  cr_assert(mg_wakeup_init(&mgr));
  struct mg_connection *c = mg_listen(&mgr, "tcp://127.0.0.1:0", wake_fn, &w);
  cr_assert_not_null(c);
  cr_assert(wake(&mgr, c->id, 600, 'a'), "more than MG_IO_SIZE / 2 in a 512-byte build");
  cr_assert(wake(&mgr, c->id, WAKE_MAX, 'b'));
  mg_log_set_fn(mg_pfn_iobuf, &log);
  cr_assert_not(wake(&mgr, c->id, WAKE_MAX + 1, 'x'), "over the documented limit");
  mg_log_set_fn(NULL, NULL);
  cr_assert(wake(&mgr, c->id, 1, 'c'), "the channel still works after a refusal");
  for (int i = 0; i < 50 && w.n < 3; i++) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(w.n, 3);
  const size_t lens[] = {600, WAKE_MAX, 1};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(w.lens[i], lens[i], "message %d: %lu bytes", i, (unsigned long) w.lens[i]);
    cr_assert(w.whole[i] && w.fill[i] == "abc"[i], "message %d arrived cut or mixed", i);
  }
  cr_assert(log.buf != NULL && strstr((char *) log.buf, "1001") != NULL, "log: %s",
            log.buf == NULL ? "(none)" : (char *) log.buf);
  mg_iobuf_free(&log);
  mg_mgr_free(&mgr);
}
