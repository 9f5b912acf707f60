// printf engine: conversions against the C library, truncation, %m/%M, sinks.
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <float.h>
#include <math.h>
#include "meerkat.h"
#include "mg_internal.h"  // mg_iobuf_printf: what connections print through

// Formats one value with both mg_snprintf and the C library and demands the
// same text and the same returned length.
#define EXPECT_LIBC(fmt, ...)                                                                  \
  do {                                                                                         \
    char want_[2048], got_[2048];                                                              \
    int wn_ = snprintf(want_, sizeof(want_), fmt, __VA_ARGS__);                                \
    size_t gn_ = mg_snprintf(got_, sizeof(got_), fmt, __VA_ARGS__);                            \
    cr_assert_str_eq(got_, want_, "format \"%s\": got \"%s\", want \"%s\"", fmt, got_, want_); \
    cr_assert_eq(gn_, (size_t) wn_, "format \"%s\": returned %zu, want %d", fmt, gn_, wn_);    \
  } while (0)

static const char *int_formats[] = {
    "%d",   "%i",    "%5d",   "%-5d", "%05d",  "%.3d", "%8.3d", "%-8.3d", "%08.3d", "%+d",
    "% d",  "%+05d", "%-+6d", "%.0d", "%3.0d", "%1d",  "%u",    "%x",     "%X",     "%08x",
    "%-8X", "%.5x",  "%5u",   "%.0x", "%.0u",  "<%d>", "%012d", "%-012d", "% 05d",  "%+.4d"};
static const int int_values[] = {0,     1,       -1,      7,       -7,    42,
                                 -42,   255,     256,     -256,    12345, -12345,
                                 65535, 1 << 30, INT_MAX, INT_MIN, 99999, 100000,
                                 -9999, 1000000, -100000, 0x7f,    0x80,  0xabcdef};

Test(printf, int_conversions_match_libc) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(int_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(int_values); j++)
      EXPECT_LIBC(int_formats[i], int_values[j]);
  }
}

static const char *short_formats[] = {"%hd",  "%hu",    "%hx",   "%6hd", "%hhd",   "%hhu",
                                      "%hhx", "%04hhx", "%-6hu", "%hX",  "%.3hhd", "%+hd"};
static const int short_values[] = {0,      1,       -1,      127,    128,   255,    256,
                                   -129,   32767,   32768,   65535,  65536, -32768, 70000,
                                   -70000, INT_MAX, INT_MIN, 0x1234, 0xff80};

Test(printf, h_and_hh_truncate_like_libc) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(short_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(short_values); j++) {
      EXPECT_LIBC(short_formats[i], short_values[j]);
    }
  }
}

static const char *long_formats[] = {"%ld",    "%lu",    "%lx",    "%lX",  "%20ld",
                                     "%-20lu", "%020lx", "%.15ld", "%+ld", "%li"};
static const long long_values[] = {0, 1, -1, LONG_MAX, LONG_MIN, 1234567890L, -987654321L};

static const char *llong_formats[] = {"%lld",    "%llu",    "%llx",  "%llX", "%25lld", "%-25llu",
                                      "%025llx", "%.20lld", "%+lld", "%lli", "% lld",  "%-+25lld"};
static const long long llong_values[] = {0,
                                         1,
                                         -1,
                                         LLONG_MAX,
                                         LLONG_MIN,
                                         LLONG_MIN + 1,
                                         1234567890123456789LL,
                                         -1000000000000LL,
                                         (long long) 0x8000000000000001ULL};

Test(printf, long_and_long_long_match_libc) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(long_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(long_values); j++)
      EXPECT_LIBC(long_formats[i], long_values[j]);
  }
  for (size_t i = 0; i < MG_ARRAY_SIZE(llong_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(llong_values); j++) {
      EXPECT_LIBC(llong_formats[i], llong_values[j]);
    }
  }
  EXPECT_LIBC("%llu", ULLONG_MAX);
  EXPECT_LIBC("%llx", ULLONG_MAX);
  EXPECT_LIBC("%llX", 0xdeadbeefcafef00dULL);
  EXPECT_LIBC("%30llu|", 1ULL << 63);
  // Either side of 2^32, where the digits change from 64-bit to 32-bit steps
  static const unsigned long long edges[] = {0xffffffffULL, 0x100000000ULL, 0x100000001ULL, 9999999999ULL,
                                             10000000000ULL, 0xffffffff00000000ULL, 0x1234567800000000ULL};
  for (size_t i = 0; i < MG_ARRAY_SIZE(edges); i++) {
    EXPECT_LIBC("%llu", edges[i]);
    EXPECT_LIBC("%llx", edges[i]);
    EXPECT_LIBC("%025llu|", edges[i]);
    EXPECT_LIBC("%.22llX", edges[i]);
  }
  EXPECT_LIBC("%lu", ULONG_MAX);
}

Test(printf, size_t_conversions_match_libc) {
  static const char *formats[] = {"%zu", "%zx", "%10zu", "%-10zu", "%020zu", "%zX"};
  static const size_t values[] = {0, 1, 255, SIZE_MAX, SIZE_MAX / 2, (size_t) 1 << 31};
  for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(values); j++) EXPECT_LIBC(formats[i], values[j]);
  }
  static const ptrdiff_t signed_values[] = {0, -1, -5, PTRDIFF_MAX, PTRDIFF_MIN, 12345};
  for (size_t j = 0; j < MG_ARRAY_SIZE(signed_values); j++) {
    EXPECT_LIBC("%zd", signed_values[j]);
    EXPECT_LIBC("%-22zd|", signed_values[j]);
  }
}

Test(printf, strings_and_chars_match_libc) {
  static const char *formats[] = {"%s",      "%10s", "%-10s", "%.3s",  "%10.3s",
                                  "%-10.3s", "%.0s", "[%1s]", "%.20s", "%5.1s"};
  static const char *values[] = {"", "a", "hello", "hello world, a longer string",
                                 "\xc3\xa9t\xc3\xa9"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(values); j++) EXPECT_LIBC(formats[i], values[j]);
  }
  static const char *char_formats[] = {"%c", "%3c", "%-3c", "[%c%c]"};
  static const int chars[] = {'a', 'Z', ' ', '~', '%', 0xe9};
  for (size_t i = 0; i < MG_ARRAY_SIZE(char_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(chars); j++) EXPECT_LIBC(char_formats[i], chars[j], 'x');
  }
}

Test(printf, null_string_prints_null_marker) {
  char buf[32];
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%s", (char *) NULL), 6);
  cr_assert_str_eq(buf, "(null)");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "[%8s]", (char *) NULL), 10);
  cr_assert_str_eq(buf, "[  (null)]");
}

Test(printf, precision_bounds_string_reads) {
  char raw[3] = {'a', 'b', 'c'};  // Not NUL-terminated: must not be read past 3
  char buf[16];
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%.*s|", 3, raw), 4);
  cr_assert_str_eq(buf, "abc|");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%.2s|", raw), 3);
  cr_assert_str_eq(buf, "ab|");
  EXPECT_LIBC("%.*s|", 3, "abcdef");
  EXPECT_LIBC("%.*s|", 0, "abcdef");
  EXPECT_LIBC("%.*s|", -1, "abcdef");  // Negative precision: as if absent
}

Test(printf, star_width_and_precision_match_libc) {
  EXPECT_LIBC("%*d|", 5, 42);
  EXPECT_LIBC("%*d|", -5, 42);  // Negative width: left-justified
  EXPECT_LIBC("%-*d|", 5, 42);
  EXPECT_LIBC("%.*d|", 4, 42);
  EXPECT_LIBC("%*.*d|", 8, 4, -42);
  EXPECT_LIBC("%*.*f|", 10, 2, 3.14159);
  EXPECT_LIBC("%.*f|", -1, 1.5);
  EXPECT_LIBC("%*s|%*s|", 6, "ab", -6, "cd");
  EXPECT_LIBC("%0*d|", 6, -42);
}

Test(printf, pointers_match_libc) {
  int local;
  EXPECT_LIBC("%p", (void *) &local);
  EXPECT_LIBC("%p", (void *) 0x1);
  EXPECT_LIBC("%p", (void *) 0xdeadbeef);
  EXPECT_LIBC("[%20p]", (void *) &local);
  EXPECT_LIBC("[%-20p]", (void *) 0xabc);
  char buf[16];
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%p", NULL), 3);  // Portable, unlike libc's "(nil)"
  cr_assert_str_eq(buf, "0x0");
}

static const char *float_formats[] = {
    "%g",      "%f",      "%e",       "%G",    "%E",      "%F",    "%.0f",  "%.1f",   "%.2f",
    "%.3f",    "%.10f",   "%.20f",    "%.0e",  "%.1e",    "%.3e",  "%.10e", "%.16e",  "%.0g",
    "%.1g",    "%.2g",    "%.3g",     "%.10g", "%.15g",   "%.17g", "%.20g", "%10.3f", "%-10.3f",
    "%010.3f", "%+f",     "% f",      "%+.3e", "%012.4e", "%-12g", "%012g", "%+g",    "%.40f",
    "%.60e",   "%30.20g", "%-+14.5e", "%.25g", "%08.2e"};
static const double float_values[] = {0.0,
                                      -0.0,
                                      1,
                                      -1,
                                      0.5,
                                      -0.5,
                                      1.5,
                                      2.5,
                                      0.125,
                                      0.375,
                                      2.675,
                                      1.005,
                                      0.1,
                                      0.2,
                                      0.3,
                                      1.0 / 3,
                                      2.0 / 3,
                                      3.14159265358979,
                                      9.5,
                                      99.5,
                                      999999.5,
                                      9.9999995,
                                      0.00001,
                                      0.0001,
                                      0.000123456,
                                      123456,
                                      1234567,
                                      12345678.9,
                                      1e15,
                                      1e16,
                                      1e17,
                                      1e21,
                                      1e22,
                                      1e23,
                                      1e100,
                                      DBL_MAX,
                                      DBL_MIN,
                                      4.9e-324,
                                      1e-300,
                                      -1e-300,
                                      123.456,
                                      -123.456,
                                      0.05,
                                      0.15,
                                      0.25,
                                      0.35,
                                      1e-7,
                                      5e-5,
                                      9007199254740992.0,
                                      9223372036854775808.0,
                                      0.999999,
                                      0.9999995,
                                      99999.95,
                                      1e-4 * 9.99999,
                                      -7.5e-10,
                                      6.02214076e23,
                                      1.602176634e-19,
                                      65535.0,
                                      4294967295.0,
                                      0.015625};

Test(printf, floats_match_libc_digit_for_digit) {
  for (size_t i = 0; i < MG_ARRAY_SIZE(float_formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(float_values); j++) {
      EXPECT_LIBC(float_formats[i], float_values[j]);
    }
  }
}

Test(printf, float_specials_match_libc) {
  static const char *formats[] = {"%f",  "%e",    "%g",   "%F",  "%E", "%G",
                                  "%8f", "%-8f|", "%08f", "%+f", "% g"};
  static const double values[] = {INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < MG_ARRAY_SIZE(formats); i++) {
    for (size_t j = 0; j < MG_ARRAY_SIZE(values); j++) EXPECT_LIBC(formats[i], values[j]);
  }
}

Test(printf, floats_pass_as_float_promotions) {
  float f = 0.1f;
  EXPECT_LIBC("%f %g %.10e", f, f, f);
  EXPECT_LIBC("%d %f %s %g %c", 1, 2.5, "x", 1e-9, 'q');
}

Test(printf, percent_and_unknown_conversions_print_verbatim) {
  char buf[64];
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "100%%"), 4);
  cr_assert_str_eq(buf, "100%");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%y %5q %-3.2k"), 13);
  cr_assert_str_eq(buf, "%y %5q %-3.2k");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "abc%"), 4);
  cr_assert_str_eq(buf, "abc%");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "x%08l"), 5);
  cr_assert_str_eq(buf, "x%08l");
  // An unknown conversion consumes no argument
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%y%d", 7), 3);
  cr_assert_str_eq(buf, "%y7");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), NULL), 0);
  cr_assert_str_eq(buf, "");
}

Test(printf, huge_width_counts_without_buffer) {
  cr_assert_eq(mg_snprintf(NULL, 0, "%1000d", 1), 1000);
  cr_assert_eq(mg_snprintf(NULL, 0, "%.500f", 1.0), 502);
  cr_assert_eq(mg_snprintf(NULL, 0, "%99999999999999999999d", 1), 1000000);  // Clamped
}

static size_t pair_printer(mg_pfn_t out, void *param, va_list *ap) {
  int n = va_arg(*ap, int);
  const char *s = va_arg(*ap, const char *);
  return mg_xprintf(out, param, "%d=%s", n, s);
}

static void check_truncation(const char *want, size_t size) {
  char buf[128];
  memset(buf, '#', sizeof(buf));
  struct mg_addr a = {{{10, 0, 0, 1}}, 0x5000, 0, false};  // port 80 in network order
  size_t n = mg_snprintf(size == 0 ? NULL : buf, size, "%s|%5d|%-4x|%.2f|%m|%M|%s", "str", -12,
                         0xab, 2.5, MG_ESC("q\"t"), mg_print_ip_port, &a, "end");
  size_t len = strlen(want), kept = size == 0 ? 0 : size - 1 < len ? size - 1 : len;
  cr_assert_eq(n, len, "size %zu: returned %zu", size, n);
  cr_assert_eq(memcmp(buf, want, kept), 0, "size %zu", size);
  if (size > 0) cr_assert_eq(buf[kept], '\0', "size %zu: not terminated", size);
  for (size_t i = size; i < sizeof(buf); i++)
    cr_assert_eq(buf[i], '#', "size %zu: wrote at %zu", size, i);
}

Test(printf, truncates_at_every_size_and_terminates) {
  const char *want = "str|  -12|ab  |2.50|\"q\\\"t\"|10.0.0.1:80|end";
  for (size_t size = 0; size <= strlen(want) + 2; size++) check_truncation(want, size);
}

Test(printf, M_callback_consumes_its_args_then_format_continues) {
  char buf[64];
  size_t n = mg_snprintf(buf, sizeof(buf), "[%M] %d %s", pair_printer, 7, "seven", 42, "tail");
  cr_assert_str_eq(buf, "[7=seven] 42 tail");
  cr_assert_eq(n, 17);
  n = mg_snprintf(buf, sizeof(buf), "%m,%m,%d", pair_printer, 1, "a", pair_printer, 2, "b", 3);
  cr_assert_str_eq(buf, "\"1=a\",\"2=b\",3");
  cr_assert_eq(n, 13);
  n = mg_snprintf(buf, 4, "%m", pair_printer, 12, "twelve");  // Truncated: full length reported
  cr_assert_str_eq(buf, "\"12");
  cr_assert_eq(n, 11);
}

Test(printf, esc_escapes_json_specials_and_keeps_utf8) {
  char buf[128];
  size_t n = mg_snprintf(buf, sizeof(buf), "%m",
                         MG_ESC("a\"b\\c/\n\r\t\b\f\x01\x1f\x7f\xc3\xa9\xe2\x82\xac"));
  const char *want = "\"a\\\"b\\\\c/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\xc3\xa9\xe2\x82\xac\"";
  cr_assert_str_eq(buf, want);
  cr_assert_eq(n, strlen(want));
  n = mg_snprintf(buf, sizeof(buf), "%M|%d", mg_print_esc, 3, "a\0b",
                  9);  // Explicit length: NUL escaped
  cr_assert_str_eq(buf, "a\\u0000b|9");
  cr_assert_eq(n, 10);
  n = mg_snprintf(buf, sizeof(buf), "%m%m", MG_ESC(""), MG_ESC(NULL));
  cr_assert_str_eq(buf, "\"\"\"\"");
  cr_assert_eq(n, 4);
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_esc, 2, "abcdef");
  cr_assert_str_eq(buf, "ab");
}

// An empty slice (say an empty URI query) is an explicit length of 0: it must
// print "" and never read the bytes behind it, which need not end in a NUL
Test(printf, esc_with_an_explicit_zero_length_prints_an_empty_string) {
  char buf[64];
  const char not_terminated[4] = {'a', 'b', 'c', 'd'};
  struct mg_str empty = mg_str_n(not_terminated, 0);
  size_t n = mg_snprintf(buf, sizeof(buf), "%m|%m", mg_print_esc, (int) empty.len, empty.buf, MG_ESC("x"));
  cr_assert_str_eq(buf, "\"\"|\"x\"");
  cr_assert_eq(n, 6);
  n = mg_snprintf(buf, sizeof(buf), "[%M]", mg_print_esc, 0, "abc");
  cr_assert_str_eq(buf, "[]");
  cr_assert_eq(n, 2);
  n = mg_snprintf(buf, sizeof(buf), "%m", MG_ESC("nul-terminated"));  // MG_ESC still means strlen
  cr_assert_str_eq(buf, "\"nul-terminated\"");
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_esc, -1, "neg");  // Any negative length: strlen
  cr_assert_str_eq(buf, "neg");
}

// What %M prints for len bytes of s, which must be valid UTF-8 and a JSON string body
static const char *esc_of(const char *s, int len, char *buf, size_t size) {
  size_t n = mg_snprintf(buf, size, "\"%M\"", mg_print_esc, len, s);
  cr_assert_lt(n, size);
  cr_assert(mg_utf8_valid(buf, n), "not UTF-8: %s", buf);
  int toklen = 0;
  cr_assert_eq(mg_json_get(mg_str_n(buf, n), "$", &toklen), 0, "not a JSON string: %s", buf);
  cr_assert_eq((size_t) toklen, n);
  return buf + 1;  // Without the quotes again
}

// RFC 3629 refuses these; each byte of them prints as U+FFFD, and what is valid
// around them (and after a truncated sequence) passes through unchanged
Test(printf, esc_replaces_each_invalid_utf8_byte_with_u_fffd) {
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"\xc0\xaf", "\\ufffd\\ufffd"},                          // Overlong '/' in 2 bytes
      {"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},               // and in 3
      {"\xf0\x80\x80\xaf", "\\ufffd\\ufffd\\ufffd\\ufffd"},    // and in 4
      {"\xc1\xbf", "\\ufffd\\ufffd"},                          // Overlong U+007F
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},               // U+D800, a surrogate in UTF-8
      {"\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd"},               // U+DFFF
      {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},    // U+110000
      {"\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},    // Lead byte past U+10FFFF
      {"\xff\xfe", "\\ufffd\\ufffd"},                          // Never in UTF-8
      {"\x80", "\\ufffd"},                                     // A lone continuation byte
      {"a\xe2\x82", "a\\ufffd\\ufffd"},                        // Truncated at the end
      {"\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd"},               // Truncated 4-byte sequence
      {"\xe2\x82x", "\\ufffd\\ufffdx"},                        // Cut short by ASCII
      {"\xe2\x82\xac\xff\xf0\x9f\x98\x80", "\xe2\x82\xac\\ufffd\xf0\x9f\x98\x80"},  // Valid on both sides
      {"\xc3\xa9\xef\xbf\xbf\xf4\x8f\xbf\xbf", "\xc3\xa9\xef\xbf\xbf\xf4\x8f\xbf\xbf"},  // Valid up to U+10FFFF
  };
  char buf[128];
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    const char *got = esc_of(cases[i].in, -1, buf, sizeof(buf));
    cr_assert_eq(strlen(got), strlen(cases[i].want) + 1, "case %zu: %s", i, got);
    cr_assert(strncmp(got, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: %s", i, got);
  }
  // An explicit length that cuts a sequence: the bytes past it are never read
  cr_assert_str_eq(esc_of("\xe2\x82\xac", 2, buf, sizeof(buf)), "\\ufffd\\ufffd\"");
  size_t n = mg_snprintf(buf, sizeof(buf), "%m", MG_ESC("\xff"));
  cr_assert_eq(n, 8, "the count includes the replacement: %s", buf);
}

static struct mg_addr addr6(const char *hex, uint16_t port) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  for (int i = 0; i < 16; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    a.addr.ip[i] = (uint8_t) v;
  }
  a.is_ip6 = true;
  a.port = mg_htons(port);
  return a;
}

Test(printf, ip_addresses_print_in_rfc5952_form) {
  static const struct {
    const char *hex, *want;
  } cases[] = {
      {"00000000000000000000000000000001", "::1"},
      {"00000000000000000000000000000000", "::"},
      {"20010db8000000000000000000000001", "2001:db8::1"},
      {"20010db8000000010000000000000001", "2001:db8:0:1::1"},       // Longest run wins
      {"20010db8000000000001000000000001", "2001:db8::1:0:0:1"},     // First of equal runs
      {"20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"},  // One zero: no ::
      {"20010DB8ABCDEF0100000000000000FF", "2001:db8:abcd:ef01::ff"},
      {"00010000000000000000000000000000", "1::"},
      {"fe800000000000000202b3fffe1e8329", "fe80::202:b3ff:fe1e:8329"},
      {"00000000000000000000ffffc0000280", "::ffff:192.0.2.128"},
      {"ffffffffffffffffffffffffffffffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      {"00000001000000000000000000000000", "0:1::"},
  };
  char buf[64];
  for (size_t i = 0; i < MG_ARRAY_SIZE(cases); i++) {
    struct mg_addr a = addr6(cases[i].hex, 8080);
    size_t n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
    cr_assert_str_eq(buf, cases[i].want);
    cr_assert_eq(n, strlen(cases[i].want));
    char want[80];
    snprintf(want, sizeof(want), "[%s]:8080", cases[i].want);
    n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip_port, &a);
    cr_assert_str_eq(buf, want);
    cr_assert_eq(n, strlen(want));
  }
  struct mg_addr v4 = {{{1, 2, 3, 4}}, 0, 0, false};
  v4.port = mg_htons(65535);
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%M %M %m", MG_IP(&v4), MG_IP_PORT(&v4), MG_IP(&v4)),
               31);
  cr_assert_str_eq(buf, "1.2.3.4 1.2.3.4:65535 \"1.2.3.4\"");
  struct mg_addr zero = {{{0, 0, 0, 0}}, 0, 0, false};
  mg_snprintf(buf, sizeof(buf), "%M", MG_IP_PORT(&zero));
  cr_assert_str_eq(buf, "0.0.0.0:0");
  struct mg_addr top = {{{255, 255, 255, 255}}, 0xffff, 0, false};
  mg_snprintf(buf, sizeof(buf), "%M", MG_IP_PORT(&top));
  cr_assert_str_eq(buf, "255.255.255.255:65535");
  mg_snprintf(buf, sizeof(buf), "%M", MG_IP((struct mg_addr *) NULL));
  cr_assert_str_eq(buf, "(null)");
}

Test(printf, mprintf_allocates_long_output) {
  char big[3000], want[4096];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  snprintf(want, sizeof(want), "%s-%d-%.3f-%lld", big, 123, 1.5, LLONG_MIN);
  char *s = mg_mprintf("%s-%d-%.3f-%lld", big, 123, 1.5, LLONG_MIN);
  cr_assert_not_null(s);
  cr_assert_str_eq(s, want);
  free(s);
  s = mg_mprintf("%m", MG_ESC("hi\n"));
  cr_assert_str_eq(s, "\"hi\\n\"");
  free(s);
  s = mg_mprintf("");
  cr_assert_not_null(s);
  cr_assert_str_eq(s, "");
  free(s);
}

struct counting_sink {
  size_t calls;
  char last;
};

static void count_chars(char ch, void *param) {
  struct counting_sink *c = (struct counting_sink *) param;
  c->calls++, c->last = ch;
}

Test(printf, xprintf_sends_every_char_to_the_sink) {
  struct counting_sink c = {0, 0};
  size_t n = mg_xprintf(count_chars, &c, "%s=%05d %m", "key", 42, MG_ESC("v"));
  cr_assert_eq(n, 13);
  cr_assert_eq(c.calls, 13);
  cr_assert_eq(c.last, '"');
}

// A sink of the caller's own, one character at a time
struct collecting_sink {
  char buf[256];
  size_t len;
};

static void collect_chars(char ch, void *param) {
  struct collecting_sink *c = (struct collecting_sink *) param;
  if (c->len + 1 < sizeof(c->buf)) c->buf[c->len++] = ch, c->buf[c->len] = '\0';
}

// Runs of plain text reach our sinks in one piece: every sink must still see the same text
Test(printf, escaped_text_is_the_same_through_every_sink) {
  static const char text[] = "plain \"q\" back\\slash\n\x01 caf\xc3\xa9 \xff end \xe2\x82";
  const char *want = "\"plain \\\"q\\\" back\\\\slash\\n\\u0001 caf\xc3\xa9 \\ufffd end \\ufffd\\ufffd\"";
  struct collecting_sink c = {"", 0};
  char buf[256];
  struct mg_iobuf io = {NULL, 0, 0, 16};
  size_t n = mg_xprintf(collect_chars, &c, "%m", MG_ESC(text));
  cr_assert_str_eq(c.buf, want);
  cr_assert_eq(n, strlen(want));
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%m", MG_ESC(text)), n);
  cr_assert_str_eq(buf, want);
  cr_assert_eq(mg_xprintf(mg_pfn_iobuf, &io, "%m", MG_ESC(text)), n);
  cr_assert_eq(io.len, n);
  cr_assert_arr_eq(io.buf, want, n);
  mg_iobuf_free(&io);
}

Test(printf, iobuf_sink_appends) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 16));
  cr_assert_eq(mg_xprintf(mg_pfn_iobuf, &io, "%s=%d;", "a", 1), 4);
  cr_assert_eq(mg_xprintf(mg_pfn_iobuf, &io, "%s=%d;", "bb", 22), 6);
  cr_assert_eq(io.len, 10);
  cr_assert_eq(memcmp(io.buf, "a=1;bb=22;", 10), 0);
  mg_iobuf_free(&io);
}

// The sinks take runs of text at once: a run that crosses the buffer's end grows it
// once, whole, and mg_pfn_iobuf keeps its NUL after the text
Test(printf, iobuf_sinks_grow_across_a_run) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 8, 8));
  const char *text = "a literal run longer than the buffer";
  cr_assert_eq(mg_xprintf(mg_pfn_iobuf, &io, "%s|%s|%d", text, text, 123456), 2 * strlen(text) + 8);
  cr_assert_eq(io.len, 2 * strlen(text) + 8);
  cr_assert_str_eq((char *) io.buf, "a literal run longer than the buffer|a literal run longer than the buffer|123456");
  mg_iobuf_free(&io);
  cr_assert(mg_iobuf_init(&io, 8, 8));
  cr_assert(mg_iobuf_printf(&io, "0123456%s%lu", "789abcdef", 42UL));
  cr_assert_eq(io.len, 18);
  cr_assert_eq(memcmp(io.buf, "0123456789abcdef42", 18), 0);
  mg_iobuf_free(&io);
}

Test(printf, stdout_sink_writes_to_stdout, .init = cr_redirect_stdout) {
  cr_assert_eq(mg_xprintf(mg_pfn_stdout, NULL, "hello %d\n", 5), 8);
  fflush(stdout);
  cr_assert_stdout_eq_str("hello 5\n");
}

static size_t forward_v(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

static char *forward_m(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = mg_vmprintf(fmt, &ap);
  va_end(ap);
  return s;
}

Test(printf, v_variants_take_a_va_list_pointer) {
  char buf[32];
  cr_assert_eq(forward_v(buf, sizeof(buf), "%d %M %s", 1, pair_printer, 2, "b", "c"), 7);
  cr_assert_str_eq(buf, "1 2=b c");
  char *s = forward_m("%d %M %s", 1, pair_printer, 2, "b", "c");
  cr_assert_str_eq(s, "1 2=b c");
  free(s);
}

// Deterministic pseudo-random bit patterns cover all exponents, subnormals included.
Test(printf, random_doubles_match_libc) {
  static const char *formats[] = {"%.17g", "%g", "%.3e", "%.9f", "%.1f", "%.12g", "%.0e", "%f"};
  uint64_t x = 0x243f6a8885a308d3;
  for (int i = 0; i < 3000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double d;
    memcpy(&d, &x, sizeof(d));
    if (isnan(d)) continue;  // The sign of a NaN prints differently across libcs
    EXPECT_LIBC(formats[i % MG_ARRAY_SIZE(formats)], d);
    double small = (double) (x >> 40) / 1000.0;  // Short decimals: many rounding ties
    EXPECT_LIBC(formats[(i + 3) % MG_ARRAY_SIZE(formats)], small);
  }
}
