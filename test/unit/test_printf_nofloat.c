// mg_snprintf built with MG_ENABLE_PRINTF_FLOAT=0 (the smallest programs): printf.c
// compiled into this test with that setting. The double is taken and nothing printed.
#define MG_ENABLE_PRINTF_FLOAT 0
#include "../../core/base/printf.c"

#include <criterion/criterion.h>

Test(printf_nofloat, floats_print_nothing_and_the_arguments_after_them_stay_in_place) {
  char buf[64];
  size_t n = mg_snprintf(buf, sizeof(buf), "[%g|%.3f|%e|%d|%s|%llu]", 1.5, 2.25, 3e10, 42, "x", 1ULL << 40);
  cr_assert_str_eq(buf, "[|||42|x|1099511627776]");
  cr_assert_eq(n, strlen(buf));
}
