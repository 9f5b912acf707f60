// Software timers driven by mg_mgr_poll(), and the millisecond clock.
#ifndef MG_TIMER_H
#define MG_TIMER_H

// Flags as in Mongoose 7.22. A one-shot timer is called once and then leaves its
// list; mg_timer_add's are freed then (and MG_TIMER_AUTODELETE ones), those of
// mg_timer_init stay the caller's memory. mg_timer_free unlinks a timer and never
// frees it: to drop a pending mg_timer_add timer, mg_timer_free then mg_free.
#define MG_TIMER_ONCE 0         // Call once
#define MG_TIMER_REPEAT 1       // Call every period
#define MG_TIMER_RUN_NOW 2      // Also call at the first poll, not only after one period
#define MG_TIMER_CALLED 4       // Set after the first call
#define MG_TIMER_AUTODELETE 8   // One-shot: mg_free() the timer after its call
#define MG_TIMER_MGR_OWNED 256  // Set by mg_timer_add: freed after a one-shot's call or by mg_mgr_free

struct mg_timer {
  uint64_t period_ms;
  uint64_t expire;           // Absolute mg_millis() of the next call; 0 = not yet armed
  unsigned flags;
  void (*fn)(void *);
  void *arg;
  struct mg_timer *next;
};

uint64_t mg_millis(void);  // Monotonic milliseconds

// Low-level, allocation-free API over a caller-owned list
void mg_timer_init(struct mg_timer **head, struct mg_timer *t, uint64_t period_ms,
                   unsigned flags, void (*fn)(void *), void *arg);
void mg_timer_free(struct mg_timer **head, struct mg_timer *t);  // Unlinks only
void mg_timer_poll(struct mg_timer **head, uint64_t now_ms);
// True when the period has elapsed since *expiration (updates it); for ad-hoc polling
bool mg_timer_expired(uint64_t *expiration, uint64_t period_ms, uint64_t now_ms);

#endif  // MG_TIMER_H
