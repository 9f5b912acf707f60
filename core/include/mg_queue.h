// A single-producer, single-consumer message queue over a caller's buffer, safe
// across two threads (or a thread and an interrupt) without a lock, as in Mongoose 7.22.
#ifndef MG_QUEUE_H
#define MG_QUEUE_H

// Each message is stored whole and contiguous behind a 4-byte length; the
// pointers that mg_queue_book and mg_queue_next give point past that length.
// Only the producer moves head and only the consumer moves tail.
struct mg_queue {
  char *buf;             // The caller's memory, valid for the queue's life
  size_t size;           // Its size in bytes
  volatile size_t tail;  // Where the consumer reads next
  volatile size_t head;  // Where the producer writes next
};

void mg_queue_init(struct mg_queue *q, char *buf, size_t size);
// Producer: room for a message of len bytes. Returns the bytes that fit at *buf
// (buf may be NULL); the booking succeeded when that is >= len. Nothing is
// committed until mg_queue_add. A queue of fewer than 8 bytes holds nothing.
size_t mg_queue_book(struct mg_queue *q, char **buf, size_t len);
// Producer: commits the message of len bytes just written where mg_queue_book
// pointed (the len it was booked for). Zero, or more than the room: nothing is committed.
void mg_queue_add(struct mg_queue *q, size_t len);
// Consumer: the oldest message's length, with *buf at its bytes; 0 if the queue is empty.
size_t mg_queue_next(struct mg_queue *q, char **buf);
// Consumer: removes the oldest message (the one mg_queue_next gave; len is its length).
void mg_queue_del(struct mg_queue *q, size_t len);
// Producer: one formatted message (mg_xprintf's format, without a NUL). Returns its
// length, or 0 if it is empty or does not fit.
size_t mg_queue_vprintf(struct mg_queue *q, const char *fmt, va_list *ap);
size_t mg_queue_printf(struct mg_queue *q, const char *fmt, ...);

#endif  // MG_QUEUE_H
