// A filter for tests in the slot TLS will use: it cuts every read and write at a
// random point and now and then says "would block" while bytes wait, so protocol
// code meets every split and delay a slow network can produce.
#include "mg_internal.h"

static uint32_t chaos_state = 0x9e3779b9;

static uint32_t chaos_next(void) {  // xorshift32: reproducible, no seeding needed
  chaos_state ^= chaos_state << 13;
  chaos_state ^= chaos_state >> 17;
  chaos_state ^= chaos_state << 5;
  return chaos_state;
}

// Half of the pieces are tiny (1..16 bytes), the rest anywhere up to len
static size_t chaos_piece(size_t len) {
  size_t cap = chaos_next() % 2 == 0 ? 16 : len;
  if (cap > len) cap = len;
  return 1 + chaos_next() % cap;
}

static long chaos_recv(struct mg_connection *c, void *buf, size_t len) {
  if (chaos_next() % 4 == 0) return MG_IO_WAIT;  // Level-triggered readiness comes back
  return mg_be_recv(c, buf, chaos_piece(len));
}

static long chaos_send(struct mg_connection *c, const void *buf, size_t len) {
  if (chaos_next() % 4 == 0) return MG_IO_WAIT;
  return mg_be_send(c, buf, chaos_piece(len));
}

const struct mg_filter mg_chaos_filter = {"chaos", chaos_recv, chaos_send, NULL, NULL, NULL, NULL, NULL, NULL};
