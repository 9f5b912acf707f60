// Request variables: url decoding, query/form variables, header parameters,
// credentials.
#include <criterion/criterion.h>
#include "meerkat.h"

// ---- mg_url_decode

Test(url_decode, decodes_escapes_and_plus_in_form_mode) {
  static const struct {
    const char *in;
    int is_form;
    const char *out;
  } cases[] = {
      {"", 0, ""},
      {"abc", 0, "abc"},
      {"a%20b", 0, "a b"},
      {"%41%42%43", 0, "ABC"},
      {"%e2%82%ac", 0, "\xe2\x82\xac"},
      {"%E2%82%AC", 0, "\xe2\x82\xac"},
      {"a+b", 0, "a+b"},
      {"a+b", 1, "a b"},
      {"%2B+", 1, "+ "},
      {"%25", 0, "%"},
      {"%2525", 0, "%25"},
      {"/a%2F..", 0, "/a/.."},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char buf[32];
    memset(buf, 'X', sizeof(buf));
    int n = mg_url_decode(cases[i].in, strlen(cases[i].in), buf, sizeof(buf), cases[i].is_form);
    cr_assert_eq(n, (int) strlen(cases[i].out), "%s", cases[i].in);
    cr_assert_str_eq(buf, cases[i].out, "%s", cases[i].in);
  }
}

Test(url_decode, decodes_percent_00_to_a_counted_nul) {
  char buf[8];
  cr_assert_eq(mg_url_decode("a%00b", 5, buf, sizeof(buf), 0), 3);
  cr_assert_eq(memcmp(buf, "a\0b\0", 4), 0);
}

Test(url_decode, rejects_bad_or_truncated_escapes) {
  static const char *bad[] = {"%", "%4", "a%", "a%4", "%zz", "%4g", "%g4", "% 41", "%%41", "abc%2"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char buf[32] = "untouched";
    cr_assert_eq(mg_url_decode(bad[i], strlen(bad[i]), buf, sizeof(buf), 1), -1, "%s", bad[i]);
    cr_assert_str_eq(buf, "", "%s leaves dst empty", bad[i]);
  }
}

Test(url_decode, only_reads_src_len_bytes) {
  char buf[8];
  // The escape is cut by src_len even though the bytes follow in memory
  cr_assert_eq(mg_url_decode("ab%41", 4, buf, sizeof(buf), 0), -1);
  cr_assert_eq(mg_url_decode("ab%41", 2, buf, sizeof(buf), 0), 2);
  cr_assert_str_eq(buf, "ab");
}

Test(url_decode, fails_when_dst_is_too_small) {
  char buf[8];
  memset(buf, 'X', sizeof(buf));
  // 3 decoded bytes need 4 with the NUL
  cr_assert_eq(mg_url_decode("abc", 3, buf, 3, 0), -1);
  cr_assert_eq(buf[0], '\0');
  cr_assert_eq(buf[3], 'X', "nothing written past dst_len");
  cr_assert_eq(mg_url_decode("abc", 3, buf, 4, 0), 3);
  cr_assert_str_eq(buf, "abc");
  cr_assert_eq(mg_url_decode("%41", 3, buf, 2, 0), 1);
  cr_assert_str_eq(buf, "A");
  cr_assert_eq(mg_url_decode("", 0, buf, 1, 0), 0);
  cr_assert_str_eq(buf, "");
  cr_assert_eq(mg_url_decode("", 0, buf, 0, 0), -1);
  cr_assert_eq(mg_url_decode("a", 1, NULL, 0, 0), -1);
  cr_assert_eq(mg_url_decode(NULL, 0, buf, sizeof(buf), 0), 0);
}

// ---- mg_http_var / mg_http_get_var

Test(http_var, finds_whole_keys_only) {
  struct mg_str q = mg_str("xa=1&a=2&ab=3&a=4&empty=&flag&b=x%20y");
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("a")), "2"), "first exact match, not xa");
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("xa")), "1"));
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("ab")), "3"));
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("b")), "x%20y"), "raw, not decoded");
  struct mg_str empty = mg_http_var(q, mg_str("empty"));
  cr_assert(empty.buf != NULL && empty.len == 0, "present but empty");
  struct mg_str flag = mg_http_var(q, mg_str("flag"));
  cr_assert(flag.buf != NULL && flag.len == 0, "key without '=' is present");
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("A")), "2"), "case-insensitive, as in Mongoose");
  cr_assert_null(mg_http_var(q, mg_str("x")).buf, "prefix of a key");
  cr_assert_null(mg_http_var(q, mg_str("1")).buf, "values are not keys");
  cr_assert_null(mg_http_var(q, mg_str("")).buf);
  cr_assert_null(mg_http_var(mg_str(""), mg_str("a")).buf);
  cr_assert_null(mg_http_var(mg_str_n(NULL, 0), mg_str("a")).buf);
}

Test(http_var, skips_empty_pairs) {
  struct mg_str q = mg_str("&&a=1&&=2&b=3&");
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("a")), "1"));
  cr_assert(mg_str_eq(mg_http_var(q, mg_str("b")), "3"));
  cr_assert_null(mg_http_var(q, mg_str("c")).buf);
  cr_assert_null(mg_http_var(mg_str("&"), mg_str("a")).buf);
}

Test(http_var, value_may_contain_equals_signs) {
  cr_assert(mg_str_eq(mg_http_var(mg_str("t=a=b==&u=1"), mg_str("t")), "a=b=="));
}

Test(http_get_var, decodes_the_value) {
  struct mg_str q = mg_str("name=J%C3%B6rg+M&x=1&empty=&bad=%zz&a+b=c");
  char buf[16];
  cr_assert_eq(mg_http_get_var(&q, "name", buf, sizeof(buf)), 7);
  cr_assert_str_eq(buf, "J\xc3\xb6rg M");
  cr_assert_eq(mg_http_get_var(&q, "x", buf, sizeof(buf)), 1);
  cr_assert_str_eq(buf, "1");
  cr_assert_eq(mg_http_get_var(&q, "empty", buf, sizeof(buf)), 0);
  cr_assert_str_eq(buf, "");
  cr_assert_eq(mg_http_get_var(&q, "a+b", buf, sizeof(buf)), 1, "names are matched raw");
}

Test(http_get_var, returns_minus_4_if_absent_minus_3_if_undecodable) {
  struct mg_str q = mg_str("x=1&bad=%zz&cut=%4");
  char buf[16] = "untouched";
  cr_assert_eq(mg_http_get_var(&q, "y", buf, sizeof(buf)), MG_HTTP_VAR_ABSENT);
  cr_assert_eq(MG_HTTP_VAR_ABSENT, -4);
  cr_assert_str_eq(buf, "");
  strcpy(buf, "untouched");
  cr_assert_eq(mg_http_get_var(&q, "bad", buf, sizeof(buf)), MG_HTTP_VAR_UNDECODABLE);
  cr_assert_eq(MG_HTTP_VAR_UNDECODABLE, -3);
  cr_assert_str_eq(buf, "");
  cr_assert_eq(mg_http_get_var(&q, "cut", buf, sizeof(buf)), -3);
  cr_assert_eq(mg_http_get_var(&q, "bad", buf, 1), -3);
}

Test(http_get_var, returns_minus_1_for_a_bad_source_before_looking_at_dst) {
  struct mg_str q = mg_str("x=1"), empty = mg_str(""), none = mg_str_n(NULL, 3);
  char buf[4] = "abc";
  cr_assert_eq(MG_HTTP_VAR_BAD_SOURCE, -1);
  cr_assert_eq(mg_http_get_var(NULL, "x", buf, sizeof(buf)), -1);
  cr_assert_str_eq(buf, "", "a valid dst is always terminated");
  cr_assert_eq(mg_http_get_var(&empty, "x", buf, sizeof(buf)), -1);
  cr_assert_eq(mg_http_get_var(&none, "x", buf, sizeof(buf)), -1);
  cr_assert_eq(mg_http_get_var(&q, NULL, buf, sizeof(buf)), -1);
  cr_assert_eq(mg_http_get_var(&empty, "x", NULL, 0), -1, "the source is judged first");
  cr_assert_eq(mg_http_get_var(&q, "", buf, sizeof(buf)), -4, "an empty name is a name no pair has");
}

Test(http_get_var, returns_minus_2_for_a_bad_destination_minus_3_when_too_small) {
  struct mg_str q = mg_str("v=abcd&e=");
  char buf[8];
  memset(buf, 'X', sizeof(buf));
  cr_assert_eq(mg_http_get_var(&q, "v", buf, 4), MG_HTTP_VAR_UNDECODABLE, "no room for the NUL");
  cr_assert_str_eq(buf, "");
  cr_assert_eq(buf[4], 'X', "nothing written past dst_len");
  cr_assert_eq(mg_http_get_var(&q, "v", buf, 5), 4);
  cr_assert_str_eq(buf, "abcd");
  cr_assert_eq(MG_HTTP_VAR_BAD_DESTINATION, -2);
  memset(buf, 'X', sizeof(buf));
  cr_assert_eq(mg_http_get_var(&q, "v", buf, 0), -2);
  cr_assert_eq(buf[0], 'X', "a dst of no size is not written");
  cr_assert_eq(mg_http_get_var(&q, "v", NULL, 0), -2);
  cr_assert_eq(mg_http_get_var(&q, "none", NULL, 8), -2, "the destination is judged before the lookup");
  cr_assert_eq(mg_http_get_var(&q, "e", buf, 1), 0);
}

// ---- mg_http_get_header_var

Test(http_header_var, cookie_pairs) {
  struct mg_str h = mg_str("a=1; b=2;c=3 ;  d = 4 ; xsid=no; sid=yes; e=");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("a")), "1"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("b")), "2"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("c")), "3"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("d")), "4"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("sid")), "yes"), "not the xsid suffix");
  struct mg_str e = mg_http_get_header_var(h, mg_str("e"));
  cr_assert(e.buf != NULL && e.len == 0);
  cr_assert_null(mg_http_get_header_var(h, mg_str("A")).buf, "case-sensitive");
  cr_assert_null(mg_http_get_header_var(h, mg_str("s")).buf);
  cr_assert_null(mg_http_get_header_var(h, mg_str("1")).buf);
  cr_assert_null(mg_http_get_header_var(h, mg_str("")).buf);
  cr_assert_null(mg_http_get_header_var(mg_str(""), mg_str("a")).buf);
}

Test(http_header_var, quoted_values_give_the_inside_of_the_quotes) {
  struct mg_str h = mg_str("form-data; xname=\"no\"; name=\"field 1\"; filename=\"a;b.txt\"; q=\"x\\\"y\"");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("name")), "field 1"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("xname")), "no"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("filename")), "a;b.txt"), "';' inside quotes");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("q")), "x\\\"y"), "escapes kept raw");
  cr_assert_null(mg_http_get_header_var(h, mg_str("b.txt\"")).buf);
  struct mg_str fd = mg_http_get_header_var(h, mg_str("form-data"));
  cr_assert(fd.buf != NULL && fd.len == 0, "a bare token is present, empty");
  struct mg_str empty = mg_http_get_header_var(mg_str("name=\"\""), mg_str("name"));
  cr_assert(empty.buf != NULL && empty.len == 0);
}

Test(http_header_var, an_unterminated_quote_is_read_as_an_unquoted_value) {
  struct mg_str h = mg_str("a=1; name=\"abc; b=2");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("a")), "1"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("name")), "\"abc"), "opening quote included");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("b")), "2"), "a quote that never closes splits nothing");
  cr_assert(mg_str_eq(mg_http_get_header_var(mg_str("n=\"open"), mg_str("n")), "\"open"));
  cr_assert(mg_str_eq(mg_http_get_header_var(mg_str("n=\""), mg_str("n")), "\""));
  // A trailing backslash must not step past the end
  cr_assert(mg_str_eq(mg_http_get_header_var(mg_str("n=\"a\\"), mg_str("n")), "\"a\\"));
}

// ---- mg_http_creds

static void add_header(struct mg_http_message *hm, const char *name, const char *value) {
  size_t i = 0;
  while (hm->headers[i].name.len > 0) i++;
  hm->headers[i].name = mg_str(name);
  hm->headers[i].value = mg_str(value);
}

Test(http_creds, basic_gives_user_and_password) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "Authorization", "Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  char user[16], pass[16];
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "user");
  cr_assert_str_eq(pass, "pa:ss", "only the first ':' splits");
}

Test(http_creds, basic_scheme_is_case_insensitive_and_empty_parts_work) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "authorization", "bAsIc   Og==");  // ":"
  char user[8] = "x", pass[8] = "x";
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
}

Test(http_creds, bad_basic_gives_both_empty) {
  static const char *bad[] = {
      "Basic dXNlcjpwYXNz=",     // Bad length
      "Basic dXNlcjpw*XNz",      // Bad character
      "Basic dXNlcnBhc3M=",      // "userpass": no ':'
      "Basic dQ==cjpwYXNz",      // Padding in the middle
      "Basic dXNlcgo6cA==",      // "user\n:p": control character
      "Basic dXMAcjpw",          // "us\0r:p": NUL
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mg_http_message hm;
    memset(&hm, 0, sizeof(hm));
    add_header(&hm, "Authorization", bad[i]);
    hm.query = mg_str("access_token=fallback");
    char user[16] = "x", pass[16] = "x";
    mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
    cr_assert_str_eq(user, "", "%s", bad[i]);
    cr_assert_str_eq(pass, "", "%s: no fallback after a bad Basic", bad[i]);
  }
}

Test(http_creds, basic_that_does_not_fit_gives_both_empty) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "Authorization", "Basic dXNlcjpwYXNz");  // user:pass
  char user[8], pass[8];
  memset(user, 'X', sizeof(user)), memset(pass, 'X', sizeof(pass));
  mg_http_creds(&hm, user, 4, pass, sizeof(pass));  // "user" needs 5
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
  cr_assert_eq(user[4], 'X', "nothing written past userlen");
  mg_http_creds(&hm, user, 5, pass, 4);  // "pass" needs 5
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
  cr_assert_eq(pass[4], 'X', "nothing written past passlen");
  mg_http_creds(&hm, user, 5, pass, 5);
  cr_assert_str_eq(user, "user");
  cr_assert_str_eq(pass, "pass");
  mg_http_creds(&hm, NULL, 0, pass, 5);  // No room for user at all
  cr_assert_str_eq(pass, "");
}

Test(http_creds, bearer_gives_token_as_password) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "Authorization", "Bearer abc.def-ghi ");
  char user[8] = "x", pass[16];
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "abc.def-ghi");
  char small[4];
  memset(small, 'X', sizeof(small));
  mg_http_creds(&hm, user, sizeof(user), small, 3);
  cr_assert_str_eq(small, "", "a token that does not fit is not truncated");
  cr_assert_eq(small[3], 'X');
}

Test(http_creds, access_token_from_cookie_then_query) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  hm.query = mg_str("x=1&access_token=q%2Bt");
  add_header(&hm, "Cookie", "access_token=cookietoken");
  char user[8] = "x", pass[16];
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "cookietoken", "the cookie first, as Mongoose documents");

  char small[4];
  mg_http_creds(&hm, user, sizeof(user), small, sizeof(small));
  cr_assert_str_eq(small, "", "cookie too long: no fallback to the query");

  memset(&hm, 0, sizeof(hm));
  hm.query = mg_str("x=1&access_token=q%2Bt");
  add_header(&hm, "Cookie", "x_access_token=no");
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(pass, "q+t", "no token in the cookie: the query's, decoded");

  hm.query = mg_str("access_token=waytoolongforthis");
  mg_http_creds(&hm, user, sizeof(user), small, sizeof(small));
  cr_assert_str_eq(small, "", "query too long");
}

Test(http_creds, unknown_scheme_falls_back_to_the_cookie) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "Authorization", "Digest username=\"u\"");
  add_header(&hm, "Cookie", "session=1; access_token=\"ck\"");
  char user[8] = "x", pass[8] = "x";
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "ck");
  // "Basicx" is not the Basic scheme
  memset(&hm, 0, sizeof(hm));
  add_header(&hm, "Authorization", "BasicdXNlcjpwYXNz");
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
}

Test(http_creds, nothing_gives_empty_outputs) {
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  char user[8] = "x", pass[8] = "x";
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
  strcpy(user, "x"), strcpy(pass, "x");
  mg_http_creds(NULL, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "");
  mg_http_creds(&hm, NULL, 0, NULL, 0);  // Must not crash
}

Test(http_header_var, digest_params_are_comma_separated_after_the_scheme) {
  struct mg_str h = mg_str("Digest username=\"u\", realm=\"a, b\",nonce=n1 , qop=auth");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("username")), "u"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("realm")), "a, b"), "',' inside quotes");
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("nonce")), "n1"));
  cr_assert(mg_str_eq(mg_http_get_header_var(h, mg_str("qop")), "auth"));
  cr_assert_null(mg_http_get_header_var(h, mg_str("Digest username")).buf);
}

// ---- mg_http_host_name

static void host_is(const char *value, const char *want) {
  struct mg_str host = mg_str("unset");
  cr_assert(mg_http_host_name(mg_str(value), &host), "%s", value);
  cr_assert(mg_strcmp(host, mg_str(want)) == 0, "%s: %.*s", value, (int) host.len, host.buf);
}

Test(http_host_name, drops_the_port_and_one_trailing_dot) {
  host_is("device.local", "device.local");
  host_is("Device.Local:8000", "Device.Local");
  host_is("localhost.:80", "localhost");
  host_is("127.0.0.1:65535", "127.0.0.1");
  host_is("[::1]:8000", "[::1]");
  host_is("[fe80::1%25eth0]", "[fe80::1%25eth0]");
  host_is("a_b-c~d", "a_b-c~d");
}

// What a host may hold is what a URL built from it keeps as its host: no '/', '@',
// '?', '#' or spaces that would make another URL of it (a redirect's Location)
Test(http_host_name, refuses_malformed_values) {
  const char *bad[] = {"", ":80", "[::1", "[::1]x", "a:", "a:123456", "a:8o", "a/b", "x@evil", "a b",
                       "a?b", "a#b", "[::1/x]", "a\"b", "a:80:90"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mg_str host;
    cr_assert_not(mg_http_host_name(mg_str(bad[i]), &host), "%s", bad[i]);
  }
  struct mg_str host;
  cr_assert_not(mg_http_host_name(mg_str_n("a\0b", 3), &host), "a NUL byte");
}

// Content-Range of a resumed upload (RFC 9110 14.4): bytes FIRST-LAST/TOTAL
Test(content_range, parses_first_last_total) {
  uint64_t a = 9, b = 9, t = 9;
  cr_assert(mg_http_parse_content_range(mg_str("bytes 0-99/100"), &a, &b, &t));
  cr_assert(a == 0 && b == 99 && t == 100);
  cr_assert(mg_http_parse_content_range(mg_str("bytes 4096-33554431/33554432"), &a, &b, &t));
  cr_assert(a == 4096 && b == 33554431 && t == 33554432);
  cr_assert(mg_http_parse_content_range(mg_str("bytes 18446744073709551613-18446744073709551613/18446744073709551614"), &a, &b, &t));
  cr_assert(a == 18446744073709551613ULL && t == 18446744073709551614ULL);
}

Test(content_range, refuses_bad_and_boundary_input) {
  static const char *bad[] = {
      "", "bytes", "bytes ", "bytes 0-99", "bytes 0-99/", "bytes -99/100", "bytes 0-/100", "bytes 5-4/100",
      "bytes 0-100/100", "bytes 0-99/*", "bytes */100", "Bytes 0-99/100", "bytes  0-99/100", "bytes 0 -99/100",
      "bytes 0-99/100 ", "bytes +0-99/100", "bytes 0x0-99/100", "bits 0-99/100", "bytes 0-99/100,1-2/3",
      "bytes 18446744073709551616-18446744073709551616/18446744073709551617",  // 2^64: too large
      "bytes 0-99/100a", "bytes 0-9a/100", "bytes 00000000000000000000000-1/2",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    uint64_t a, b, t;
    cr_assert_not(mg_http_parse_content_range(mg_str(bad[i]), &a, &b, &t), "accepted \"%s\"", bad[i]);
  }
  uint64_t a, b, t;
  cr_assert_not(mg_http_parse_content_range(mg_str_n("bytes 0-9/10", 11), &a, &b, &t), "reads only len bytes");
}
