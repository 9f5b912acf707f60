// The single-producer, single-consumer message queue: messages behind a 4-byte
// length in a ring, each contiguous, with a marker where the producer went back to 0.
#include "meerkat.h"

// The producer publishes head (release) after the bytes it covers, and the consumer
// publishes tail (release) after it is done with the bytes it frees; each reads the
// other's index with acquire, so no bytes are read before they are written, or
// overwritten before they are read. On a Cortex-M these are plain loads and stores
// of one word with a barrier.
#if defined(__GNUC__) || defined(__clang__)
#define QUEUE_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define QUEUE_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#else
#define QUEUE_LOAD(p) (*(p))  // volatile: enough on a single core without reordering
#define QUEUE_STORE(p, v) (*(p) = (v))
#endif

#define QUEUE_HDR 4                    // The length before each message
#define QUEUE_WRAP 0xffffffffu         // A length that says: go on at offset 0
#define QUEUE_MAX (QUEUE_WRAP - 1)     // The longest message

// Every message ends at least QUEUE_HDR bytes before the end of the buffer, so
// head always has room for a length or the wrap marker. head never catches up
// with tail from behind (equal means empty), hence the one byte kept free.
static size_t queue_room(struct mg_queue *q, size_t head, size_t tail) {
  if (head >= tail) return q->size - head >= 2 * QUEUE_HDR ? q->size - head - 2 * QUEUE_HDR : 0;
  return tail - head > QUEUE_HDR + 1 ? tail - head - QUEUE_HDR - 1 : 0;
}

static uint32_t queue_len_at(struct mg_queue *q, size_t ofs) {
  uint32_t n;
  memcpy(&n, q->buf + ofs, sizeof(n));  // Any alignment
  return n;
}

static void queue_set_len_at(struct mg_queue *q, size_t ofs, uint32_t n) {
  memcpy(q->buf + ofs, &n, sizeof(n));
}

void mg_queue_init(struct mg_queue *q, char *buf, size_t size) {
  q->buf = buf, q->size = size;
  q->head = q->tail = 0;
}

size_t mg_queue_book(struct mg_queue *q, char **buf, size_t len) {
  if (q->size < 2 * QUEUE_HDR) return 0;
  size_t head = q->head, tail = QUEUE_LOAD(&q->tail);
  size_t room = queue_room(q, head, tail);
  // Too little room before the end: go back to 0, unless tail is there (the
  // queue would look empty). A marker written and never followed costs nothing.
  if (room < len && head >= tail && tail > 0) {
    queue_set_len_at(q, head, QUEUE_WRAP);
    QUEUE_STORE(&q->head, 0);
    head = 0;
    room = queue_room(q, head, tail);
  }
  if (room > QUEUE_MAX) room = QUEUE_MAX;
  if (buf != NULL) *buf = q->buf + head + QUEUE_HDR;
  return room;
}

void mg_queue_add(struct mg_queue *q, size_t len) {
  size_t head = q->head;
  if (len == 0 || q->size < 2 * QUEUE_HDR || len > queue_room(q, head, QUEUE_LOAD(&q->tail)) || len > QUEUE_MAX)
    return;  // Not what mg_queue_book made room for
  queue_set_len_at(q, head, (uint32_t) len);
  QUEUE_STORE(&q->head, head + QUEUE_HDR + len);
}

size_t mg_queue_next(struct mg_queue *q, char **buf) {
  size_t tail = q->tail;
  for (;;) {
    if (tail == QUEUE_LOAD(&q->head)) return 0;
    uint32_t n = queue_len_at(q, tail);
    if (n != QUEUE_WRAP) {
      if (buf != NULL) *buf = q->buf + tail + QUEUE_HDR;
      return n;
    }
    QUEUE_STORE(&q->tail, 0);  // The producer went on at 0
    tail = 0;
  }
}

void mg_queue_del(struct mg_queue *q, size_t len) {
  size_t n = mg_queue_next(q, NULL);  // The stored length: a wrong len cannot corrupt the ring
  (void) len;
  if (n > 0) QUEUE_STORE(&q->tail, q->tail + QUEUE_HDR + n);
}

size_t mg_queue_vprintf(struct mg_queue *q, const char *fmt, va_list *ap) {
  va_list copy;
  va_copy(copy, *ap);
  size_t len = mg_vsnprintf(NULL, 0, fmt, &copy);
  va_end(copy);
  char *p;
  if (len == 0 || len == SIZE_MAX || mg_queue_book(q, &p, len + 1) < len + 1) return 0;  // With the NUL
  mg_vsnprintf(p, len + 1, fmt, ap);
  mg_queue_add(q, len);
  return len;
}

size_t mg_queue_printf(struct mg_queue *q, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t len = mg_queue_vprintf(q, fmt, &ap);
  va_end(ap);
  return len;
}
