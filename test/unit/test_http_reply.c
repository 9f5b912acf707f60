// Replies' fixed parts: the IMF-fixdate of Date and Last-Modified (RFC 9110 5.6.7),
// checked against the C library's gmtime and strftime.
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <time.h>
#include "mg_internal.h"
#include "http/http_internal.h"

static void expect_libc_date(time_t t) {
  char want[64], got[64];
  struct tm tm;
  cr_assert_not_null(gmtime_r(&t, &tm));
  strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  mg_http_format_date(t, got, sizeof(got));
  cr_assert_str_eq(got, want, "time %lld", (long long) t);
}

Test(http_reply, date_matches_gmtime_at_the_edges) {
  static const long long times[] = {
      0,           1,           59,          60,          3599,       86399,      86400,
      951782400,   951868799,   951868800,   978307199,   1709164800, 1709251199, 2147483647,
      2147483648,  4102444799,  4102444800,  -1,          -86400,     -86401,     -2208988800,
      253402300799,  // 9999-12-31 23:59:59, the last four-digit year
  };
  for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) expect_libc_date((time_t) times[i]);
}

Test(http_reply, date_matches_gmtime_over_four_centuries) {
  // Every 97,213 s (not a multiple of a day, an hour or a minute) from 1800 to 2200
  for (long long t = -5364662400LL; t < 7258118400LL; t += 97213) expect_libc_date((time_t) t);
}

Test(http_reply, date_truncates_to_the_buffer) {
  char buf[8];
  mg_http_format_date(0, buf, sizeof(buf));
  cr_assert_str_eq(buf, "Thu, 01");
  mg_http_format_date(0, buf, 1);
  cr_assert_str_eq(buf, "");
}

Test(http_reply, date_outside_four_digit_years_is_printed_as_printf_would) {
  char buf[64];
  mg_http_format_date((time_t) 253402300800LL, buf, sizeof(buf));  // 10000-01-01
  cr_assert_str_eq(buf, "Sat, 01 Jan 10000 00:00:00 GMT");
}
