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

Test(timer, once_fires_once_then_leaves_the_list) {
  struct mg_timer *head = NULL, once, other;
  int a = 0, b = 0;
  mg_timer_init(&head, &other, 1000, MG_TIMER_REPEAT, bump, &b);
  mg_timer_init(&head, &once, 20, MG_TIMER_ONCE, bump, &a);
  mg_timer_poll(&head, 1);
  cr_assert_eq(once.flags & MG_TIMER_CALLED, 0);
  mg_timer_poll(&head, 30);
  mg_timer_poll(&head, 60);
  mg_timer_poll(&head, 5000);
  cr_assert_eq(a, 1);
  cr_assert(once.flags & MG_TIMER_CALLED);
  cr_assert_eq(head, &other, "as in Mongoose 7.22, a spent one-shot is unlinked (not freed: it is ours)");
  cr_assert_null(other.next);
  mg_timer_free(&head, &once);  // Harmless: no longer listed
  cr_assert_eq(head, &other);
}

Test(timer, autodelete_one_shot_is_freed_after_its_call) {
  struct mg_timer *head = NULL;
  int a = 0;
  struct mg_timer *t = (struct mg_timer *) mg_calloc(1, sizeof(*t));
  cr_assert_not_null(t);
  mg_timer_init(&head, t, 20, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, bump, &a);
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 30);
  cr_assert_eq(a, 1);
  cr_assert_null(head, "unlinked and freed (ASan reports a leak otherwise)");
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

// Callbacks that change the list they are called from. The timers are heap
// allocated and a callback unlinks then frees its victims, as a Mongoose
// program does, so under ASan a use after free or a double free inside
// mg_timer_poll fails the test, and a timer nobody freed shows as a leak.
struct timer_ctx {
  struct mg_timer **head;
  struct mg_timer *victim[3];  // Timers the callback frees, NULL ends the list
  struct mg_mgr *mgr;          // For add_during_callback
  int calls;
  int added;
};

static void timer_free_victims(void *arg) {
  struct timer_ctx *ctx = (struct timer_ctx *) arg;
  ctx->calls++;
  for (int i = 0; i < 3 && ctx->victim[i] != NULL; i++) {
    mg_timer_free(ctx->head, ctx->victim[i]);
    mg_free(ctx->victim[i]);
  }
  ctx->victim[0] = ctx->victim[1] = ctx->victim[2] = NULL;  // Once only
}

static struct mg_timer *heap_timer(struct mg_timer **head, uint64_t ms, unsigned flags, void (*fn)(void *),
                                   void *arg) {
  struct mg_timer *t = (struct mg_timer *) mg_calloc(1, sizeof(*t));
  cr_assert_not_null(t);
  mg_timer_init(head, t, ms, flags, fn, arg);
  return t;
}

static size_t list_len(struct mg_timer *head) {
  size_t n = 0;
  for (; head != NULL; head = head->next) n++;
  return n;
}

static void free_list(struct mg_timer **head) {
  while (*head != NULL) {
    struct mg_timer *t = *head;
    mg_timer_free(head, t);
    mg_free(t);
  }
}

Test(timer, a_one_shot_callback_may_free_itself) {
  struct mg_timer *head = NULL;
  int n = 0;
  struct timer_ctx ctx = {&head, {NULL, NULL, NULL}, NULL, 0, 0};
  heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);
  ctx.victim[0] = heap_timer(&head, 10, MG_TIMER_ONCE, timer_free_victims, &ctx);
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 11);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_eq(n, 1, "the timer after it still ran");
  cr_assert_eq(list_len(head), 1);
  free_list(&head);
}

Test(timer, a_repeating_callback_may_free_itself) {
  struct mg_timer *head = NULL;
  int n = 0;
  struct timer_ctx ctx = {&head, {NULL, NULL, NULL}, NULL, 0, 0};
  heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);
  ctx.victim[0] = heap_timer(&head, 10, MG_TIMER_REPEAT, timer_free_victims, &ctx);
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 11);
  mg_timer_poll(&head, 21);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_eq(n, 2);
  cr_assert_eq(list_len(head), 1);
  free_list(&head);
}

Test(timer, a_callback_may_free_the_next_timer) {
  struct mg_timer *head = NULL;
  int n = 0;
  struct timer_ctx ctx = {&head, {NULL, NULL, NULL}, NULL, 0, 0};
  heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);                            // Third
  ctx.victim[0] = heap_timer(&head, 10, MG_TIMER_ONCE, bump, &n);              // Second
  heap_timer(&head, 10, MG_TIMER_REPEAT, timer_free_victims, &ctx);            // First
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 11);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_eq(n, 1, "the freed timer did not run, the one after it did");
  cr_assert_eq(list_len(head), 2);
  free_list(&head);
}

Test(timer, a_callback_may_free_the_previous_timer) {
  struct mg_timer *head = NULL;
  int n = 0;
  struct timer_ctx ctx = {&head, {NULL, NULL, NULL}, NULL, 0, 0};
  struct mg_timer *second = heap_timer(&head, 10, MG_TIMER_ONCE, timer_free_victims, &ctx);
  ctx.victim[0] = heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);  // First
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 11);
  cr_assert_eq(n, 1);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_null(head, "the victim is gone, and the spent one-shot left the list");
  mg_free(second);  // mg_timer_init's timers are the caller's to free
}

Test(timer, a_callback_may_free_every_timer) {
  struct mg_timer *head = NULL;
  int n = 0;
  struct timer_ctx ctx = {&head, {NULL, NULL, NULL}, NULL, 0, 0};
  ctx.victim[2] = heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);
  ctx.victim[1] = heap_timer(&head, 10, MG_TIMER_ONCE, timer_free_victims, &ctx);  // Frees itself too
  ctx.victim[0] = heap_timer(&head, 10, MG_TIMER_REPEAT, bump, &n);
  mg_timer_poll(&head, 1);
  mg_timer_poll(&head, 11);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_eq(n, 1, "only the first ran before the list was emptied");
  cr_assert_null(head);
}

static void timer_add_one(void *arg) {
  struct timer_ctx *ctx = (struct timer_ctx *) arg;
  ctx->calls++;
  cr_assert_not_null(mg_timer_add(ctx->mgr, 10, MG_TIMER_ONCE, bump, &ctx->added));
}

Test(timer, a_callback_may_add_timers) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct timer_ctx ctx = {&mgr.timers, {NULL, NULL, NULL}, &mgr, 0, 0};
  struct mg_timer *t = mg_timer_add(&mgr, 10, MG_TIMER_ONCE | MG_TIMER_RUN_NOW, timer_add_one, &ctx);
  cr_assert_not_null(t);
  mg_timer_poll(&mgr.timers, 1);  // Fires and adds one; the spent one-shot is freed
  cr_assert_eq(ctx.calls, 1);
  cr_assert_eq(list_len(mgr.timers), 1);
  mg_timer_poll(&mgr.timers, 2);
  mg_timer_poll(&mgr.timers, 12);
  cr_assert_eq(ctx.added, 1);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_null(mgr.timers, "both one-shots ran and were freed (ASan would report a leak otherwise)");
  mg_mgr_free(&mgr);
}

static void timer_free_self_in_mgr(void *arg) {
  struct timer_ctx *ctx = (struct timer_ctx *) arg;
  ctx->calls++;
  mg_timer_free(&ctx->mgr->timers, ctx->victim[0]);
  mg_free(ctx->victim[0]);
}

Test(timer, a_one_shot_from_mg_timer_add_may_free_itself) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct timer_ctx ctx = {&mgr.timers, {NULL, NULL, NULL}, &mgr, 0, 0};
  ctx.victim[0] = mg_timer_add(&mgr, 0, MG_TIMER_ONCE | MG_TIMER_RUN_NOW, timer_free_self_in_mgr, &ctx);
  cr_assert_not_null(ctx.victim[0]);
  mg_mgr_poll(&mgr, 0);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_null(mgr.timers);
  mg_mgr_free(&mgr);
}

Test(timer, mgr_free_frees_its_own_timers_but_not_the_applications) {
  struct mg_mgr mgr;
  struct mg_timer mine;
  int n = 0;
  mg_mgr_init(&mgr);
  mg_timer_init(&mgr.timers, &mine, 10, MG_TIMER_REPEAT, bump, &n);  // On the stack
  cr_assert_not_null(mg_timer_add(&mgr, 0, MG_TIMER_ONCE | MG_TIMER_RUN_NOW, bump, &n));
  cr_assert_not_null(mg_timer_add(&mgr, 1000, MG_TIMER_REPEAT, bump, &n));
  cr_assert_not_null(mg_timer_add(&mgr, 100000, MG_TIMER_ONCE, bump, &n));  // Never due
  mg_mgr_poll(&mgr, 0);
  cr_assert(n >= 1);
  cr_assert_eq(list_len(mgr.timers), 3, "the spent one-shot left, freed");
  mg_mgr_free(&mgr);  // Must not free `mine` (ASan: bad free) and must free the rest (leak)
  cr_assert_null(mgr.timers);
}

Test(timer, a_spent_one_shot_does_not_keep_the_loop_busy) {
  struct mg_mgr mgr;
  int n = 0;
  mg_mgr_init(&mgr);
  cr_assert_not_null(mg_timer_add(&mgr, 1, MG_TIMER_ONCE, bump, &n));
  uint64_t start = mg_millis();
  while (n == 0 && mg_millis() - start < 1000) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(n, 1);
  start = mg_millis();
  mg_mgr_poll(&mgr, 50);
  cr_assert_geq(mg_millis() - start, 40, "the poll waited instead of spinning on the spent timer");
  mg_mgr_free(&mgr);
}
