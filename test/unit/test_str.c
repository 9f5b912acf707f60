// mg_str slices: comparison, splitting, glob matching, number parsing.
#include <criterion/criterion.h>
#include "meerkat.h"

Test(str, compares_case_sensitively_and_not) {
  cr_assert_eq(mg_strcmp(mg_str("abc"), mg_str("abc")), 0);
  cr_assert_lt(mg_strcmp(mg_str("ab"), mg_str("abc")), 0);
  cr_assert_gt(mg_strcmp(mg_str("abd"), mg_str("abc")), 0);
  cr_assert_eq(mg_strcasecmp(mg_str("Content-Length"), mg_str("content-length")), 0);
  cr_assert_neq(mg_strcasecmp(mg_str("a"), mg_str("b")), 0);
  cr_assert_eq(mg_strcmp(mg_str(NULL), mg_str("")), 0);
  cr_assert_eq(mg_ncasecmp("HeLLo", "hello world", 5), 0);
}

Test(str, span_splits_at_first_delimiter) {
  struct mg_str a, b, s = mg_str("key=value=x");
  cr_assert(mg_span(s, &a, &b, '='));
  cr_assert(mg_str_eq(a, "key"));
  cr_assert(mg_str_eq(b, "value=x"));
  cr_assert(mg_span(mg_str("nodelim"), &a, &b, '='));
  cr_assert(mg_str_eq(a, "nodelim"));
  cr_assert_eq(b.len, 0);
  cr_assert_not(mg_span(mg_str(""), &a, &b, '='));
}

Test(str, trim_strips_blanks) {
  cr_assert(mg_str_eq(mg_str_trim(mg_str(" \t a b \t")), "a b"));
  cr_assert_eq(mg_str_trim(mg_str("   ")).len, 0);
}

Test(str, match_globs_with_captures) {
  struct mg_str caps[4];
  cr_assert(mg_match(mg_str("/api/devices/42"), mg_str("/api/devices/*"), caps));
  cr_assert(mg_str_eq(caps[0], "42"));
  cr_assert_eq(caps[1].len, 0);
  cr_assert(mg_match(mg_str("/a/b/c"), mg_str("/*/*/*"), caps));
  cr_assert(mg_str_eq(caps[0], "a") && mg_str_eq(caps[1], "b") && mg_str_eq(caps[2], "c"));
  cr_assert_not(mg_match(mg_str("/a/b"), mg_str("/*"), NULL), "'*' stops at '/'");
  cr_assert(mg_match(mg_str("/a/b"), mg_str("/#"), caps), "'#' crosses '/'");
  cr_assert(mg_str_eq(caps[0], "a/b"));
  cr_assert(mg_match(mg_str("abc"), mg_str("a?c"), caps));
  cr_assert(mg_str_eq(caps[0], "b"));
  cr_assert(mg_match(mg_str("aXbXc"), mg_str("*b*c"), caps));
  cr_assert(mg_str_eq(caps[0], "aX") && mg_str_eq(caps[1], "X"));
  cr_assert_not(mg_match(mg_str("abc"), mg_str("ab"), NULL));
  cr_assert_not(mg_match(mg_str("ab"), mg_str("abc"), NULL));
  cr_assert(mg_match(mg_str(""), mg_str("*"), NULL));
  cr_assert(mg_match(mg_str(""), mg_str("#"), NULL));
  cr_assert_not(mg_match(mg_str(""), mg_str("?"), NULL));
}

Test(str, match_backtracks_into_earlier_wildcards) {
  struct mg_str caps[4];
  // The last '*' cannot cross the second '/', so the first wildcards must give way
  cr_assert(mg_match(mg_str("ab/cx"), mg_str("*?*x"), caps));
  cr_assert(mg_str_eq(caps[0], "ab") && mg_str_eq(caps[1], "/") && mg_str_eq(caps[2], "c"));
  cr_assert(mg_match(mg_str("a/b/c"), mg_str("#/*"), caps));
  cr_assert(mg_str_eq(caps[0], "a/b") && mg_str_eq(caps[1], "c"));
  cr_assert(mg_match(mg_str("x/*/y"), mg_str("x/*/y"), NULL), "a literal '*' in the string");
  cr_assert(mg_match(mg_str("a*b*c"), mg_str("a*c"), caps));
  cr_assert(mg_str_eq(caps[0], "*b*"));
  cr_assert_not(mg_match(mg_str("/api/f2/a/b"), mg_str("/api/f2/*"), NULL));
  cr_assert(mg_match(mg_str("/api/f2/a/b"), mg_str("/api/f2/#"), NULL));
}

Test(str, match_with_hash_is_linear_on_a_long_miss) {
  static char buf[200001];
  memset(buf, 'a', sizeof(buf) - 1);
  // Three '#' and a tail that never matches: quadratic or worse would take minutes
  cr_assert_not(mg_match(mg_str(buf), mg_str("#a#a#b"), NULL));
}

Test(str, to_u64_is_strict) {
  uint64_t v = 0;
  cr_assert(mg_str_to_u64(mg_str("18446744073709551615"), 10, &v));
  cr_assert_eq(v, UINT64_MAX);
  cr_assert_not(mg_str_to_u64(mg_str("18446744073709551616"), 10, &v));
  cr_assert_not(mg_str_to_u64(mg_str("18446744073709551620"), 10, &v));
  cr_assert_not(mg_str_to_u64(mg_str("99999999999999999999"), 10, &v));
  cr_assert(mg_str_to_u64(mg_str("18446744073709551614"), 10, &v) && v == UINT64_MAX - 1);
  cr_assert(mg_str_to_u64(mg_str("FFFFFFFFFFFFFFFF"), 16, &v) && v == UINT64_MAX);
  cr_assert(mg_str_to_u64(mg_str("0000FFFFFFFFFFFFFFFF"), 16, &v) && v == UINT64_MAX);
  cr_assert_not(mg_str_to_u64(mg_str("10000000000000000"), 16, &v));
  cr_assert_not(mg_str_to_u64(mg_str("1FFFFFFFFFFFFFFFF"), 16, &v));
  cr_assert(mg_str_to_u64(mg_str("fFfF"), 16, &v));
  cr_assert_eq(v, 0xffff);
  cr_assert_not(mg_str_to_u64(mg_str(""), 10, &v));
  cr_assert_not(mg_str_to_u64(mg_str("12a"), 10, &v));
  cr_assert_not(mg_str_to_u64(mg_str("-1"), 10, &v));
}

Test(str, strdup_terminates) {
  struct mg_str d = mg_strdup(mg_str_n("hello world", 5));
  cr_assert_str_eq(d.buf, "hello");
  free(d.buf);
}
