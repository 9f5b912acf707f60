// The timers tutorial as a Mongoose user writes it: a repeating timer that does the
// periodic work (here: counts and prints a heartbeat), one that runs at once and then
// repeats, and a one-shot timer that ends the program. Built against dist/mongoose.h alone.
// Usage: timers [PERIOD_MS [STOP_AFTER_MS]]
#include <stdlib.h>
#include "mongoose.h"

struct state {
  int ticks, now_ticks, once;
  bool stop;
};

static void heartbeat_fn(void *arg) {
  struct state *s = (struct state *) arg;
  printf("heartbeat %d\n", ++s->ticks);
}

static void run_now_fn(void *arg) {
  struct state *s = (struct state *) arg;
  s->now_ticks++;
}

static void stop_fn(void *arg) {
  struct state *s = (struct state *) arg;
  s->once++;
  s->stop = true;
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct state s = {0, 0, 0, false};
  uint64_t period = argc > 1 ? (uint64_t) atoi(argv[1]) : 300;
  uint64_t stop_after = argc > 2 ? (uint64_t) atoi(argv[2]) : 5000;
  mg_mgr_init(&mgr);
  mg_timer_add(&mgr, period, MG_TIMER_REPEAT, heartbeat_fn, &s);
  mg_timer_add(&mgr, period, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, run_now_fn, &s);
  mg_timer_add(&mgr, stop_after, MG_TIMER_ONCE, stop_fn, &s);
  // Poll more often than the shortest period: timers are checked on every poll
  while (!s.stop) mg_mgr_poll(&mgr, 10);
  // The one-shot timer has fired and left the list; the two repeating ones remain
  int listed = 0;
  for (struct mg_timer *t = mgr.timers; t != NULL; t = t->next) listed++;
  mg_mgr_free(&mgr);
  printf("ticks %d, run-now ticks %d, once %d, timers listed %d, after free %s\n", s.ticks, s.now_ticks, s.once,
         listed, mgr.timers == NULL ? "none" : "some");
  return 0;
}
