// One direction of the TAP driver's test impairments: frames held for reordering and the
// delay queue, fixed buffers and a clock passed in, so tests drive it (test_tcpip_tap_lane.c).
#include "meerkat.h"

#if MG_ENABLE_TCPIP && defined(__linux__)
#include <stdlib.h>
#include "drivers/tap_lane.h"

void tap_lane_init(struct tap_lane *l, uint32_t delay_ms, uint32_t hold_ms) {
  memset(l, 0, sizeof(*l));
  l->delay_ms = delay_ms, l->hold_ms = hold_ms;
}

bool tap_lane_has_room(const struct tap_lane *l) {
  return l->count + 1 + l->nheld <= TAP_LANE_SLOTS;
}

static bool tap_lane_enqueue(struct tap_lane *l, const void *frame, size_t len, uint64_t due) {
  if (l->count == TAP_LANE_SLOTS) {
    l->overflow++;
    return false;
  }
  struct tap_lane_frame *f = &l->queue[(l->head + l->count++) % TAP_LANE_SLOTS];
  f->due = due, f->len = (uint16_t) len;
  memcpy(f->data, frame, len);
  return true;
}

// Held frames go behind the frame just queued, or alone once they waited hold_ms
static void tap_lane_release_held(struct tap_lane *l, uint64_t now) {
  for (unsigned i = 0; i < l->nheld; i++) {
    if (tap_lane_enqueue(l, l->held[i].data, l->held[i].len, now + l->delay_ms)) l->reordered++;
  }
  l->nheld = 0;
}

bool tap_lane_push(struct tap_lane *l, const void *frame, size_t len, bool hold, uint64_t now) {
  if (hold && l->nheld < TAP_LANE_HELD) {
    struct tap_lane_frame *f = &l->held[l->nheld++];
    f->due = now + l->hold_ms, f->len = (uint16_t) len;
    memcpy(f->data, frame, len);
    return true;
  }
  bool queued = tap_lane_enqueue(l, frame, len, now + l->delay_ms);
  if (queued) tap_lane_release_held(l, now);  // A dropped frame is no "next frame" on the wire
  return queued;
}

size_t tap_lane_pop(struct tap_lane *l, uint64_t now, void *buf, size_t len) {
  if (l->nheld > 0 && l->held[0].due <= now) tap_lane_release_held(l, now);
  if (l->count == 0 || l->queue[l->head].due > now) return 0;
  struct tap_lane_frame *f = &l->queue[l->head];
  size_t n = f->len < len ? f->len : len;
  memcpy(buf, f->data, n);
  l->head = (l->head + 1) % TAP_LANE_SLOTS, l->count--;
  return n;
}

static uint64_t tap_lane_min(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

int tap_lane_wait_ms(const struct tap_lane *l, uint64_t now) {
  if (l->count == 0 && l->nheld == 0) return -1;
  uint64_t due = UINT64_MAX;
  if (l->count > 0) due = l->queue[l->head].due;
  if (l->nheld > 0) due = tap_lane_min(due, l->held[0].due);
  return due <= now ? 0 : (int) tap_lane_min(due - now, INT32_MAX);
}

uint32_t tap_lane_ppm(const char *percent) {
  double p = percent == NULL ? 0 : strtod(percent, NULL);
  return p > 0 ? (uint32_t) (p >= 100 ? 1000000 : p * 10000 + 0.5) : 0;
}

bool tap_lane_chance(uint64_t *state, uint32_t ppm) {
  if (ppm == 0) return false;
  uint64_t x = *state;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  *state = x;
  return (uint32_t) (((x * 0x2545f4914f6cdd1dULL) >> 32) % 1000000U) < ppm;
}
#endif
