// Timers: a singly linked list polled once per mg_mgr_poll(). Periods are kept
// relative to the schedule, not to when a call happened, so repeats do not drift.
#include "meerkat.h"

void mg_timer_init(struct mg_timer **head, struct mg_timer *t, uint64_t period_ms,
                   unsigned flags, void (*fn)(void *), void *arg) {
  t->period_ms = period_ms, t->expire = 0, t->flags = flags;
  t->fn = fn, t->arg = arg;
  t->next = *head;
  *head = t;
}

// A poll in progress. Callbacks may free any timer, so the walk never holds a
// pointer across a callback that mg_timer_free does not know about: it moves a
// walk's cursor off the timer it unlinks, and clears `running` if that one goes.
// Walks stack up when a callback polls another list (or mgr) in turn.
struct timer_walk {
  struct mg_timer *running;   // Timer whose callback is running; NULL once freed
  struct mg_timer *next;      // Next timer to visit
  struct timer_walk *outer;   // The walk whose callback started this one
};
static struct timer_walk *timer_walks;  // Innermost walk; the core is single-threaded

void mg_timer_free(struct mg_timer **head, struct mg_timer *t) {
  if (t == NULL) return;
  for (struct timer_walk *w = timer_walks; w != NULL; w = w->outer) {
    if (w->next == t) w->next = t->next;
    if (w->running == t) w->running = NULL;
  }
  while (*head != NULL && *head != t) head = &(*head)->next;
  if (*head == t) *head = t->next;
}

bool mg_timer_expired(uint64_t *expiration, uint64_t period_ms, uint64_t now_ms) {
  if (now_ms + period_ms < *expiration) *expiration = 0;  // Clock went back: restart
  if (*expiration == 0) *expiration = now_ms + period_ms;
  if (*expiration > now_ms) return false;
  // Catch up at most one period so a long stall does not cause a burst of calls
  *expiration = now_ms - *expiration > period_ms ? now_ms + period_ms : *expiration + period_ms;
  return true;
}

// A one-shot that has run leaves its list (Mongoose 7.22); the core frees the ones it
// allocated (mg_timer_add's, or any marked MG_TIMER_AUTODELETE), the rest are their owner's
static void timer_retire(struct mg_timer **head, struct mg_timer *t) {
  mg_timer_free(head, t);
  if (t->flags & (MG_TIMER_AUTODELETE | MG_TIMER_MGR_OWNED)) mg_free(t);
}

void mg_timer_poll(struct mg_timer **head, uint64_t now_ms) {
  struct timer_walk w = {NULL, *head, timer_walks};
  timer_walks = &w;
  // Timers added by a callback go to the head, behind the cursor: they wait for the next poll
  while (w.next != NULL) {
    struct mg_timer *t = w.next;
    w.next = t->next;
    bool run_now = t->expire == 0 && (t->flags & MG_TIMER_RUN_NOW);
    if (!mg_timer_expired(&t->expire, t->period_ms, now_ms) && !run_now) continue;
    w.running = t;
    t->flags |= MG_TIMER_CALLED;
    t->fn(t->arg);
    // Unless the callback unlinked it (and then it is the callback's to free)
    if (w.running != NULL && !(t->flags & MG_TIMER_REPEAT)) timer_retire(head, t);
    w.running = NULL;
  }
  timer_walks = w.outer;
}
