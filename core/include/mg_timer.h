// Software timers driven by mg_mgr_poll(), and the millisecond clock.
#ifndef MG_TIMER_H
#define MG_TIMER_H

#define MG_TIMER_ONCE 0     // Call once, then free the timer
#define MG_TIMER_REPEAT 1   // Call every period
#define MG_TIMER_RUN_NOW 2  // Also call at the first poll, not only after one period
#define MG_TIMER_AUTODELETE 4  // Free the timer after its last call (mg_timer_add sets it)

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
void mg_timer_free(struct mg_timer **head, struct mg_timer *t);
void mg_timer_poll(struct mg_timer **head, uint64_t now_ms);
// True when the period has elapsed since *expiration (updates it); for ad-hoc polling
bool mg_timer_expired(uint64_t *expiration, uint64_t period_ms, uint64_t now_ms);

#endif  // MG_TIMER_H
