// Logging: the level filter, the "time level file:line:func" prefix, %M in log
// lines, a pluggable sink, and hex dumps.
#include <criterion/criterion.h>
#include "meerkat.h"

static struct mg_iobuf s_out;

static void capture(void) {
  mg_iobuf_free(&s_out);
  mg_log_set_fn(mg_pfn_iobuf, &s_out);
}

static char *captured(void) {
  mg_iobuf_add(&s_out, s_out.len, "", 1);  // NUL-terminate
  return (char *) s_out.buf;
}

static void restore(void) {
  mg_log_set_fn(NULL, NULL);
  mg_log_set(MG_LL_INFO);
  mg_iobuf_free(&s_out);
}

Test(log, lines_carry_level_place_and_message, .fini = restore) {
  capture();
  mg_log_set(MG_LL_INFO);
  struct mg_addr a = {.addr.ip = {10, 0, 0, 7}, .port = mg_htons(8080)};
  MG_INFO(("listening on %M, %d left", mg_print_ip_port, &a, 3));
  char *line = captured();
  cr_assert(strstr(line, " INFO  test_log.c:") != NULL, "%s", line);
  cr_assert(strstr(line, "lines_carry_level_place_and_message") != NULL, "function name: %s", line);
  cr_assert(strstr(line, "listening on 10.0.0.7:8080, 3 left\n") != NULL, "%s", line);
}

Test(log, level_filters_what_is_printed, .fini = restore) {
  capture();
  mg_log_set(MG_LL_ERROR);
  MG_INFO(("hidden"));
  MG_DEBUG(("hidden"));
  MG_ERROR(("shown"));
  char *out = captured();
  cr_assert_null(strstr(out, "hidden"));
  cr_assert_not_null(strstr(out, "ERROR"));
  cr_assert_not_null(strstr(out, "shown"));
  mg_log_set(MG_LL_NONE);
  s_out.len = 0;
  MG_ERROR(("nothing at all"));
  cr_assert_eq(s_out.len, 0);
}

Test(log, arguments_are_not_evaluated_when_filtered, .fini = restore) {
  int calls = 0;
  mg_log_set(MG_LL_ERROR);
  MG_DEBUG(("%d", ++calls));
  cr_assert_eq(calls, 0);
}

Test(log, hexdump_shows_offsets_bytes_and_text, .fini = restore) {
  capture();
  mg_hexdump("Hello, meerkat!\x01\x02", 17);
  char *out = captured();
  cr_assert_not_null(strstr(out, "0000  48 65 6c 6c 6f"), "%s", out);
  cr_assert_not_null(strstr(out, "Hello, meerkat!."), "%s", out);
  cr_assert_not_null(strstr(out, "0010  02"), "%s", out);
}
