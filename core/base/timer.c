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

void mg_timer_free(struct mg_timer **head, struct mg_timer *t) {
  while (*head != NULL && *head != t) head = &(*head)->next;
  if (*head == t) *head = t->next;
  if (t != NULL && (t->flags & MG_TIMER_AUTODELETE)) mg_free(t);
}

bool mg_timer_expired(uint64_t *expiration, uint64_t period_ms, uint64_t now_ms) {
  if (now_ms + period_ms < *expiration) *expiration = 0;  // Clock went back: restart
  if (*expiration == 0) *expiration = now_ms + period_ms;
  if (*expiration > now_ms) return false;
  // Catch up at most one period so a long stall does not cause a burst of calls
  *expiration = now_ms - *expiration > period_ms ? now_ms + period_ms : *expiration + period_ms;
  return true;
}

void mg_timer_poll(struct mg_timer **head, uint64_t now_ms) {
  struct mg_timer *t, *next;
  for (t = *head; t != NULL; t = next) {
    bool once = !(t->flags & MG_TIMER_REPEAT);
    bool first = t->expire == 0;
    bool run_now = first && (t->flags & MG_TIMER_RUN_NOW);
    if (!mg_timer_expired(&t->expire, t->period_ms, now_ms) && !run_now) {
      next = t->next;
      continue;
    }
    next = t->next;
    t->fn(t->arg);
    if (once) mg_timer_free(head, t);
  }
}
