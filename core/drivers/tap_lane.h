// One direction of the TAP driver's test impairments (MEERKAT_TAP_REORDER, MEERKAT_TAP_DELAY_MS):
// frames held back or delayed in fixed buffers, on a clock the caller passes in. Host only.
#ifndef TAP_LANE_H
#define TAP_LANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Plain Ethernet frames (the knobs turn the TAP's offloads off): larger ones pass at once.
// 64 delayed frames carry a 64 KiB send window; 2 held frames each way are "a few"
enum { TAP_LANE_FRAME = 1518, TAP_LANE_SLOTS = 64, TAP_LANE_HELD = 2 };

struct tap_lane_frame {
  uint64_t due;  // Delay queue: when it goes out; held: when it goes into the queue regardless
  uint16_t len;
  uint8_t data[TAP_LANE_FRAME];
};

struct tap_lane {
  uint32_t delay_ms;  // Every frame waits that long
  uint32_t hold_ms;   // A held frame waits for the next frame at most that long
  struct tap_lane_frame queue[TAP_LANE_SLOTS];  // FIFO: one delay for all keeps it sorted by due
  unsigned head, count;
  struct tap_lane_frame held[TAP_LANE_HELD];  // Reordered: out after the next frame
  unsigned nheld;
  uint32_t reordered;  // Frames held and sent after a later one
  uint32_t overflow;   // Frames dropped: the delay queue was full
};

void tap_lane_init(struct tap_lane *l, uint32_t delay_ms, uint32_t hold_ms);
// Room for one more frame with every held one behind it: rx reads only then, so the kernel's
// queue, not a drop, takes the excess of that direction
bool tap_lane_has_room(const struct tap_lane *l);
// A frame in: held (hold, and a held slot free) or queued, the held ones right behind it.
// false: dropped, the queue full (counted in overflow)
bool tap_lane_push(struct tap_lane *l, const void *frame, size_t len, bool hold, uint64_t now);
// The next frame due by now into buf (a shorter buf cuts it): its length, 0: none due
size_t tap_lane_pop(struct tap_lane *l, uint64_t now, void *buf, size_t len);
// Milliseconds until a frame is due (0: one is), -1: the lane is empty
int tap_lane_wait_ms(const struct tap_lane *l, uint64_t now);

// The knobs' shares: "PERCENT" (e.g. "1", "0.5"; NULL, junk or <= 0: 0) in frames per million
uint32_t tap_lane_ppm(const char *percent);
// One seeded draw (xorshift64*, *state never 0): true for ppm of a million frames
bool tap_lane_chance(uint64_t *state, uint32_t ppm);

#endif  // TAP_LANE_H
