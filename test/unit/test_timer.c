// Timers on a caller-owned list with a fake clock: periods, RUN_NOW, ONCE,
// schedule kept without drift, catch-up after a stall, and removal.
#include <criterion/criterion.h>
#include "meerkat.h"

static void bump(void *arg) {
  (*(int *) arg)++;
}

Test(timer, repeat_fires_once_per_period_without_drift) {
  struct mg_timer *head = NULL, t;
  int n = 0;
  mg_timer_init(&head, &t, 100, MG_TIMER_REPEAT, bump, &n);
  mg_timer_poll(&head, 1000);  // Arms: due at 1100
  cr_assert_eq(n, 0);
  mg_timer_poll(&head, 1099);
  cr_assert_eq(n, 0);
  mg_timer_poll(&head, 1105);  // Late by 5 ms: next is still due at 1200
  cr_assert_eq(n, 1);
  mg_timer_poll(&head, 1199);
  cr_assert_eq(n, 1);
  mg_timer_poll(&head, 1200);
  cr_assert_eq(n, 2);
}

Test(timer, a_long_stall_gives_one_call_not_a_burst) {
  struct mg_timer *head = NULL, t;
  int n = 0;
  mg_timer_init(&head, &t, 10, MG_TIMER_REPEAT, bump, &n);
  mg_timer_poll(&head, 0 + 1);
  mg_timer_poll(&head, 5000);
  mg_timer_poll(&head, 5001);
  cr_assert_eq(n, 1);
  mg_timer_poll(&head, 5011);
  cr_assert_eq(n, 2);
}

Test(timer, run_now_fires_at_the_first_poll_then_periodically) {
  struct mg_timer *head = NULL, t;
  int n = 0;
  mg_timer_init(&head, &t, 50, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, bump, &n);
  mg_timer_poll(&head, 10);
  cr_assert_eq(n, 1);
  mg_timer_poll(&head, 59);
  cr_assert_eq(n, 1);
  mg_timer_poll(&head, 60);
  cr_assert_eq(n, 2);
}

Test(timer, once_fires_once_and_leaves_the_list) {
  struct mg_timer *head = NULL, once, other;
  int a = 0, b = 0;
  mg_timer_init(&head, &other, 1000, MG_TIMER_REPEAT, bump, &b);
  mg_timer_init(&head, &once, 20, MG_TIMER_ONCE, bump, &a);
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 30);
  mg_timer_poll(&head, 60);
  cr_assert_eq(a, 1);
  cr_assert_eq(head, &other, "the once timer unlinked itself, the other stays");
  cr_assert_null(other.next);
}

Test(timer, free_unlinks_from_anywhere) {
  struct mg_timer *head = NULL, t1, t2, t3;
  int n = 0;
  mg_timer_init(&head, &t1, 10, 0, bump, &n);
  mg_timer_init(&head, &t2, 10, 0, bump, &n);
  mg_timer_init(&head, &t3, 10, 0, bump, &n);
  mg_timer_free(&head, &t2);
  cr_assert_eq(head, &t3);
  cr_assert_eq(t3.next, &t1);
  mg_timer_free(&head, &t3);
  mg_timer_free(&head, &t1);
  cr_assert_null(head);
}

Test(timer, expired_helper_for_ad_hoc_polling) {
  uint64_t exp = 0;
  cr_assert_not(mg_timer_expired(&exp, 100, 1000));
  cr_assert_not(mg_timer_expired(&exp, 100, 1099));
  cr_assert(mg_timer_expired(&exp, 100, 1100));
  cr_assert_not(mg_timer_expired(&exp, 100, 1150));
  cr_assert(mg_timer_expired(&exp, 100, 1200));
  // The clock going backwards restarts the period instead of waiting forever
  cr_assert_not(mg_timer_expired(&exp, 100, 10));
  cr_assert(mg_timer_expired(&exp, 100, 110));
}
