// The TAP driver's reorder and delay knobs (core/drivers/tap_lane.c) on a clock the test
// turns by hand: order, delay, the bounds on held and queued frames, the seeded draws.
#include <criterion/criterion.h>
#include "meerkat.h"
#include "drivers/tap_lane.h"

static struct tap_lane lane;

static void push_byte(uint8_t b, bool hold, uint64_t now) {
  cr_assert(tap_lane_push(&lane, &b, 1, hold, now), "frame %u queued", b);
}

// The next due frame's one byte, -1: none due
static int pop_byte(uint64_t now) {
  uint8_t b;
  return tap_lane_pop(&lane, now, &b, 1) == 1 ? b : -1;
}

Test(tcpip_tap_lane, without_hold_or_delay_a_frame_leaves_at_once_unchanged) {
  uint8_t frame[TAP_LANE_FRAME], got[TAP_LANE_FRAME];
  for (size_t i = 0; i < sizeof(frame); i++) frame[i] = (uint8_t) (i * 7);
  tap_lane_init(&lane, 0, 10);
  cr_assert_eq(tap_lane_wait_ms(&lane, 100), -1);
  cr_assert(tap_lane_push(&lane, frame, sizeof(frame), false, 100));
  cr_assert_eq(tap_lane_wait_ms(&lane, 100), 0);
  cr_assert_eq(tap_lane_pop(&lane, 100, got, sizeof(got)), sizeof(frame));
  cr_assert_arr_eq(got, frame, sizeof(frame));
  cr_assert_eq(tap_lane_pop(&lane, 100, got, sizeof(got)), 0);
}

Test(tcpip_tap_lane, a_delayed_frame_is_due_delay_ms_later_and_order_is_kept) {
  tap_lane_init(&lane, 5, 5);
  push_byte(1, false, 100);
  push_byte(2, false, 102);
  cr_assert_eq(tap_lane_wait_ms(&lane, 100), 5);
  cr_assert_eq(pop_byte(104), -1, "not before its 5 ms");
  cr_assert_eq(pop_byte(105), 1);
  cr_assert_eq(tap_lane_wait_ms(&lane, 105), 2);
  cr_assert_eq(pop_byte(106), -1);
  cr_assert_eq(pop_byte(107), 2);
  cr_assert_eq(tap_lane_wait_ms(&lane, 107), -1);
}

Test(tcpip_tap_lane, a_held_frame_leaves_after_the_next_one) {
  tap_lane_init(&lane, 0, 10);
  push_byte(1, true, 100);
  cr_assert_eq(pop_byte(100), -1, "held");
  push_byte(2, false, 101);
  cr_assert_eq(pop_byte(101), 2);
  cr_assert_eq(pop_byte(101), 1);
  cr_assert_eq(lane.reordered, 1);
}

Test(tcpip_tap_lane, a_held_frame_with_no_next_one_leaves_after_the_bound) {
  tap_lane_init(&lane, 0, 10);
  push_byte(1, true, 100);
  cr_assert_eq(tap_lane_wait_ms(&lane, 100), 10, "the wait covers the held frame");
  cr_assert_eq(pop_byte(109), -1);
  cr_assert_eq(pop_byte(110), 1);
  cr_assert_eq(tap_lane_wait_ms(&lane, 110), -1);
}

Test(tcpip_tap_lane, held_and_delayed_the_held_frame_follows_the_next_with_the_delay) {
  tap_lane_init(&lane, 5, 5);
  push_byte(1, true, 100);
  push_byte(2, false, 103);
  cr_assert_eq(pop_byte(107), -1);
  cr_assert_eq(pop_byte(108), 2);
  cr_assert_eq(pop_byte(108), 1);
}

Test(tcpip_tap_lane, at_most_a_few_frames_are_held_the_rest_pass_in_order) {
  tap_lane_init(&lane, 0, 10);
  for (uint8_t i = 0; i < TAP_LANE_HELD; i++) push_byte(i, true, 100);
  push_byte(TAP_LANE_HELD, true, 100);  // No held slot left: queued, the held ones behind it
  cr_assert_eq(pop_byte(100), TAP_LANE_HELD);
  for (int i = 0; i < TAP_LANE_HELD; i++) cr_assert_eq(pop_byte(100), i);
  cr_assert_eq(lane.reordered, TAP_LANE_HELD);
}

Test(tcpip_tap_lane, a_full_queue_drops_and_counts_and_says_it_has_no_room) {
  tap_lane_init(&lane, 5, 5);
  for (int i = 0; i < TAP_LANE_SLOTS - 1; i++) push_byte((uint8_t) i, false, 100);
  cr_assert(tap_lane_has_room(&lane));
  push_byte(0xaa, true, 100);
  cr_assert_not(tap_lane_has_room(&lane), "the held frame needs its slot too");
  push_byte(0xbb, false, 100);
  cr_assert_eq(lane.reordered, 0, "the held frame found no slot");
  cr_assert_not(tap_lane_push(&lane, "x", 1, false, 100));
  cr_assert_eq(lane.overflow, 2, "the held frame and the last one");
  for (int i = 0; i < TAP_LANE_SLOTS - 1; i++) cr_assert_eq(pop_byte(105), i);
  cr_assert_eq(pop_byte(105), 0xbb);
  cr_assert_eq(pop_byte(105), -1, "bounded: nothing more was kept");
}

Test(tcpip_tap_lane, a_short_buffer_gets_the_frame_cut) {
  uint8_t got[2] = {0, 0};
  tap_lane_init(&lane, 0, 10);
  cr_assert(tap_lane_push(&lane, "abc", 3, false, 1));
  cr_assert_eq(tap_lane_pop(&lane, 1, got, 2), 2);
  cr_assert_eq(memcmp(got, "ab", 2), 0);
  cr_assert_eq(tap_lane_wait_ms(&lane, 1), -1);
}

Test(tcpip_tap_lane, percent_reads_as_parts_per_million) {
  cr_assert_eq(tap_lane_ppm(NULL), 0);
  cr_assert_eq(tap_lane_ppm("junk"), 0);
  cr_assert_eq(tap_lane_ppm("-1"), 0);
  cr_assert_eq(tap_lane_ppm("0"), 0);
  cr_assert_eq(tap_lane_ppm("nan"), 0);
  cr_assert_eq(tap_lane_ppm("2"), 20000);
  cr_assert_eq(tap_lane_ppm("0.5"), 5000);
  cr_assert_eq(tap_lane_ppm("100"), 1000000);
  cr_assert_eq(tap_lane_ppm("1e9"), 1000000);
}

Test(tcpip_tap_lane, seeded_draws_hit_their_share_and_repeat_for_the_seed) {
  uint64_t a = 23, b = 23;
  unsigned hits = 0;
  for (int i = 0; i < 100000; i++) {
    bool x = tap_lane_chance(&a, 20000);
    cr_assert_eq(x, tap_lane_chance(&b, 20000), "the same seed, the same draws");
    hits += x;
  }
  cr_assert(hits > 1500 && hits < 2500, "2%% of 100000: %u", hits);  // A fixed seed: not flaky
  cr_assert_not(tap_lane_chance(&a, 0));
  cr_assert(tap_lane_chance(&a, 1000000));
}
