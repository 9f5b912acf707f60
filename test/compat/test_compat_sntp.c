// Mongoose 7.22 compatibility of the wall clock and the SNTP client (mg_now,
// mg_boot_timestamp_ms, mg_sntp_connect, MG_EV_SNTP_TIME, mg_sntp_parse), built
// against dist/mongoose.h and dist/meerkat.c alone, with a server on loopback.
#include <criterion/criterion.h>
#include "mongoose.h"
#include "../unit/sntp_peer.h"

Test(compat_sntp, prototypes_and_event_number_as_in_7_22) {
  struct mg_connection *(*connect)(struct mg_mgr *, const char *, mg_event_handler_t, void *) = mg_sntp_connect;
  void (*request)(struct mg_connection *) = mg_sntp_request;
  int64_t (*parse)(const unsigned char *, size_t) = mg_sntp_parse;
  uint64_t (*now)(void) = mg_now;
  uint64_t *boot = &mg_boot_timestamp_ms;
  cr_assert(connect != NULL && request != NULL && parse != NULL && now != NULL && boot != NULL);
  cr_assert_eq(MG_EV_SNTP_TIME, 18);
}

Test(compat_sntp, now_is_millis_until_synchronised) {
  cr_assert_eq(mg_boot_timestamp_ms, 0, "0 until the first successful SNTP sync");
  uint64_t a = mg_millis(), n = mg_now(), b = mg_millis();
  cr_assert(a <= n && n <= b, "identical to mg_millis() until an SNTP request completes");
}

Test(compat_sntp, parse_gives_epoch_milliseconds_or_minus_one) {
  unsigned char r[48] = {0x24, 2};  // LI 0, version 4, mode 4; stratum 2
  sntp_peer_put32(r + 40, (uint32_t) (SNTP_PEER_2025 + SNTP_PEER_UNIX_TO_NTP));
  sntp_peer_put32(r + 44, 0x80000000U);
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), (int64_t) SNTP_PEER_2025 * 1000 + 500);
  cr_assert_eq(mg_sntp_parse(r, 47), -1, "corrupt packet");
  r[0] = 0x23;
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "not a server reply");
  r[0] = 0x24, r[1] = 0;
  cr_assert_eq(mg_sntp_parse(r, sizeof(r)), -1, "kiss of death");
}

Test(compat_sntp, connect_delivers_the_time_and_sets_mg_now) {
  struct mg_mgr mgr;
  struct sntp_peer peer;
  struct sntp_seen seen = {0};
  char url[64];
  mg_mgr_init(&mgr);
  cr_assert(sntp_peer_start(&mgr, &peer, SNTP_PEER_ANSWER, url, sizeof(url)));
  cr_assert_not_null(mg_sntp_connect(&mgr, url, sntp_seen_fn, &seen));
  uint64_t give_up = mg_millis() + 10000;
  while (seen.times == 0 && mg_millis() < give_up) mg_mgr_poll(&mgr, 20);
  cr_assert_eq(seen.times, 1);
  cr_assert(seen.ms >= sntp_peer_answer_ms(&peer) && seen.ms < sntp_peer_answer_ms(&peer) + 10000);
  cr_assert_neq(mg_boot_timestamp_ms, 0, "updated on each successful response");
  cr_assert(mg_now() >= seen.ms, "mg_now() returns the wall-clock time");
  mg_mgr_free(&mgr);
}

// The documented polling usage: a fire-and-forget sync every second until the boot
// timestamp is set, with fn and fn_data NULL
Test(compat_sntp, fire_and_forget_sync_as_documented) {
  struct mg_mgr mgr;
  struct sntp_peer peer;
  char url[64];
  mg_mgr_init(&mgr);
  cr_assert(sntp_peer_start(&mgr, &peer, SNTP_PEER_ANSWER, url, sizeof(url)));
  uint64_t timer = 0, give_up = mg_millis() + 10000;
  while (mg_boot_timestamp_ms == 0 && mg_millis() < give_up) {
    uint64_t period = mg_boot_timestamp_ms == 0 ? 1000 : 3600 * 1000;
    if (mg_timer_expired(&timer, period, mg_millis())) mg_sntp_connect(&mgr, url, NULL, NULL);
    mg_mgr_poll(&mgr, 20);
  }
  cr_assert(mg_now() >= sntp_peer_answer_ms(&peer));
  mg_mgr_free(&mgr);
}
