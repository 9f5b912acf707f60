// Mongoose 7.22's single-producer, single-consumer queue, built against
// dist/mongoose.h and dist/meerkat.c alone: the calls' contract on one thread, then
// a producer and a consumer thread passing many messages through a small buffer.
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include "mongoose.h"

static void queue_put(struct mg_queue *q, const char *s) {
  char *p;
  size_t n = strlen(s);
  cr_assert_geq(mg_queue_book(q, &p, n), n, "room for %s", s);
  memcpy(p, s, n);
  mg_queue_add(q, n);
}

// Where the message was, to see the ring go round
static char *queue_expect(struct mg_queue *q, const char *s) {
  char *p;
  size_t n = mg_queue_next(q, &p);
  cr_assert_eq(n, strlen(s), "length of %s", s);
  cr_assert(memcmp(p, s, n) == 0, "bytes of %s", s);
  mg_queue_del(q, n);
  return p;
}

Test(compat_queue, empty_queue_has_no_next) {
  char buf[64];
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  char *p = NULL;
  cr_assert_eq(mg_queue_next(&q, &p), 0);
  cr_assert(q.buf == buf && q.size == sizeof(buf) && q.head == 0 && q.tail == 0);
}

Test(compat_queue, messages_come_out_in_order_and_whole) {
  char buf[128];
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  queue_put(&q, "one");
  queue_put(&q, "two!");
  queue_put(&q, "three");
  char *p;
  cr_assert_eq(mg_queue_next(&q, &p), 3, "next does not remove");
  cr_assert_eq(mg_queue_next(&q, &p), 3);
  queue_expect(&q, "one");
  queue_expect(&q, "two!");
  queue_expect(&q, "three");
  cr_assert_eq(mg_queue_next(&q, &p), 0);
}

Test(compat_queue, book_says_how_much_fits_and_commits_nothing) {
  char buf[64];
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  char *p;
  size_t room = mg_queue_book(&q, &p, 10);
  cr_assert_geq(room, 10);
  cr_assert_lt(room, sizeof(buf), "the length prefix takes room too");
  cr_assert_eq(mg_queue_book(&q, NULL, 10), room, "buf may be NULL");
  cr_assert_lt(mg_queue_book(&q, &p, sizeof(buf)), sizeof(buf), "too big: less than len");
  cr_assert_eq(mg_queue_next(&q, &p), 0, "booking is not adding");
  // Fill it up: then a booking of one byte fails
  size_t big = mg_queue_book(&q, &p, room);
  memset(p, 'x', big);
  mg_queue_add(&q, big);
  cr_assert_lt(mg_queue_book(&q, &p, 1), 1, "full");
  cr_assert_eq(mg_queue_next(&q, &p), big);
  mg_queue_del(&q, big);
  cr_assert_geq(mg_queue_book(&q, &p, 1), 1, "room again");
}

Test(compat_queue, wraps_around_the_end_of_the_buffer) {
  char buf[100];  // Two messages of up to 24 bytes with their lengths, and slack
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  char msg[32], *last = NULL;
  int wraps = 0;
  for (int i = 0; i < 200; i++) {  // Messages of 1 to 21 bytes, two in flight
    mg_snprintf(msg, sizeof(msg), "%.*s%d", i % 18, "abcdefghijklmnopqr", i);
    queue_put(&q, msg);
    if (i > 0) {
      mg_snprintf(msg, sizeof(msg), "%.*s%d", (i - 1) % 18, "abcdefghijklmnopqr", i - 1);
      char *p = queue_expect(&q, msg);
      if (last != NULL && p < last) wraps++;
      last = p;
    }
  }
  cr_assert_gt(wraps, 20, "went round the buffer");
  char *p;
  cr_assert_eq(mg_queue_next(&q, &p), 4, "a199, the last one, is still there");
}

Test(compat_queue, printf_adds_one_message) {
  char buf[64];
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  cr_assert_eq(mg_queue_printf(&q, "%s=%d", "answer", 42), 9);
  cr_assert_eq(mg_queue_printf(&q, "%m", MG_ESC("q")), 3);
  queue_expect(&q, "answer=42");
  queue_expect(&q, "\"q\"");
  char big[100];
  memset(big, 'z', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  cr_assert_eq(mg_queue_printf(&q, "%s", big), 0, "does not fit: nothing added");
  char *p;
  cr_assert_eq(mg_queue_next(&q, &p), 0);
}

Test(compat_queue, a_tiny_buffer_holds_nothing) {
  char buf[4];
  struct mg_queue q;
  mg_queue_init(&q, buf, sizeof(buf));
  char *p;
  cr_assert_lt(mg_queue_book(&q, &p, 1), 1);
  mg_queue_add(&q, 1);
  cr_assert_eq(mg_queue_next(&q, &p), 0);
}

// Two threads: message i holds its number and then bytes that depend on it, with
// lengths 1..MAX_LEN that cycle out of step with the buffer, so they wrap anywhere
#define QUEUE_MSGS 200000
#define QUEUE_MAX_LEN 300
struct queue_run {
  struct mg_queue q;
  char buf[1024];
  int wraps;        // Times the consumer saw a message start before the last one
  int bad;          // The first bad message number + 1, or 0
};

static size_t queue_msg_len(uint32_t i) {
  return 4 + (i * 7919u) % (QUEUE_MAX_LEN - 4);
}

static void queue_msg_fill(char *p, uint32_t i, size_t n) {
  memcpy(p, &i, 4);
  for (size_t k = 4; k < n; k++) p[k] = (char) (i * 31u + k);
}

static void *queue_producer(void *arg) {
  struct queue_run *r = (struct queue_run *) arg;
  for (uint32_t i = 0; i < QUEUE_MSGS; i++) {
    size_t n = queue_msg_len(i);
    char *p;
    while (mg_queue_book(&r->q, &p, n) < n) {
      if (__atomic_load_n(&r->bad, __ATOMIC_RELAXED) != 0) return NULL;  // The consumer gave up
      sched_yield();
    }
    queue_msg_fill(p, i, n);
    mg_queue_add(&r->q, n);
  }
  return NULL;
}

static void *queue_consumer(void *arg) {
  struct queue_run *r = (struct queue_run *) arg;
  char want[QUEUE_MAX_LEN], *last = NULL;
  for (uint32_t i = 0; i < QUEUE_MSGS; i++) {
    char *p;
    size_t n;
    while ((n = mg_queue_next(&r->q, &p)) == 0) sched_yield();
    queue_msg_fill(want, i, queue_msg_len(i));
    if (n != queue_msg_len(i) || memcmp(p, want, n) != 0) {
      __atomic_store_n(&r->bad, (int) i + 1, __ATOMIC_RELAXED);
      return NULL;
    }
    if (last != NULL && p < last) r->wraps++;
    last = p;
    mg_queue_del(&r->q, n);
  }
  return NULL;
}

Test(compat_queue, producer_and_consumer_threads_without_a_lock, .timeout = 120) {
  static struct queue_run r;
  memset(&r, 0, sizeof(r));
  mg_queue_init(&r.q, r.buf, sizeof(r.buf));
  pthread_t prod, cons;
  cr_assert_eq(pthread_create(&cons, NULL, queue_consumer, &r), 0);
  cr_assert_eq(pthread_create(&prod, NULL, queue_producer, &r), 0);
  pthread_join(prod, NULL);
  pthread_join(cons, NULL);
  cr_assert_eq(r.bad, 0, "message %d arrived wrong", r.bad - 1);
  cr_assert_gt(r.wraps, 1000, "the buffer wrapped around many times");
  char *p;
  cr_assert_eq(mg_queue_next(&r.q, &p), 0, "all consumed");
}
