// Server-side includes: the directive parser over a buffer, under every cut of
// its input, and the resolver that keeps includes under the root.
#include <criterion/criterion.h>
#include "meerkat.h"
#include "http/http_internal.h"

static int parse(const char *s, struct mg_ssi_include *inc) {
  return mg_ssi_parse(s, strlen(s), inc);
}

Test(http_ssi, parses_file_and_virtual_with_either_quote_and_blanks) {
  struct mg_ssi_include inc;
  const char *s = "<!--#include file=\"a/b.html\" -->rest";
  cr_assert_eq(parse(s, &inc), 32);
  cr_assert_eq(inc.kind, MG_SSI_FILE);
  cr_assert(mg_str_eq(inc.name, "a/b.html"));
  cr_assert_eq(parse("<!--#include\tvirtual = 'v.txt'\r\n-->", &inc), 35);
  cr_assert_eq(inc.kind, MG_SSI_VIRTUAL);
  cr_assert(mg_str_eq(inc.name, "v.txt"));
  cr_assert_eq(parse("<!--#include file=\"x\"-->", &inc), 24, "no blank before -->");
}

Test(http_ssi, refuses_what_is_not_an_include) {
  struct mg_ssi_include inc;
  static const char *const bad[] = {
      "<!--#echo var=\"x\" -->",          "<!-- #include file=\"x\" -->", "<!--#includefile=\"x\" -->",
      "<!--#include file=x -->",          "<!--#include file=\"\" -->",   "<!--#include file=\"x' -->",
      "<!--#include file=\"x\" y -->",    "<!--#include exec=\"x\" -->",  "<p>",
      "<!--#include file=\"a-->b\" -->",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) cr_assert_eq(parse(bad[i], &inc), -1, "%s", bad[i]);
}

Test(http_ssi, every_beginning_of_a_directive_asks_for_more) {
  struct mg_ssi_include inc;
  const char *s = "<!--#include virtual=\"/x.html\" -->";
  size_t n = strlen(s);
  for (size_t len = 0; len < n; len++) cr_assert_eq(mg_ssi_parse(s, len, &inc), 0, "cut at %zu", len);
  cr_assert_eq(mg_ssi_parse(s, n, &inc), (int) n);
}

Test(http_ssi, a_directive_longer_than_the_limit_is_text) {
  struct mg_ssi_include inc;
  char s[MG_SSI_DIRECTIVE_MAX + 64];
  memset(s, 'a', sizeof(s));
  memcpy(s, "<!--#include file=\"", 19);
  cr_assert_eq(mg_ssi_parse(s, MG_SSI_DIRECTIVE_MAX - 1, &inc), 0);
  cr_assert_eq(mg_ssi_parse(s, MG_SSI_DIRECTIVE_MAX, &inc), -1);
  memcpy(s + sizeof(s) - 5, "\" -->", 5);
  cr_assert_eq(mg_ssi_parse(s, sizeof(s), &inc), -1);
}

static const char *resolve(const char *cur, int kind, const char *name) {
  static char out[MG_PATH_MAX];
  struct mg_ssi_include inc = {kind, mg_str(name)};
  return mg_ssi_resolve(cur, &inc, out, sizeof(out)) ? out : NULL;
}

Test(http_ssi, file_is_beside_the_including_file_and_virtual_under_the_root) {
  cr_assert_str_eq(resolve("/a/b/page.shtml", MG_SSI_FILE, "c.html"), "/a/b/c.html");
  cr_assert_str_eq(resolve("/a/b/page.shtml", MG_SSI_FILE, "./d//e.html"), "/a/b/d/e.html");
  cr_assert_str_eq(resolve("/page.shtml", MG_SSI_FILE, "c.html"), "/c.html");
  cr_assert_str_eq(resolve("/a/b/page.shtml", MG_SSI_VIRTUAL, "/c.html"), "/c.html");
  cr_assert_str_eq(resolve("/a/b/page.shtml", MG_SSI_VIRTUAL, "c.html"), "/c.html");
  cr_assert_str_eq(resolve("/a/page.shtml", MG_SSI_FILE, "x\\y.html"), "/a/x/y.html");
  cr_assert_str_eq(resolve("/a/page.shtml", MG_SSI_FILE, "..x/y..z"), "/a/..x/y..z", "dots inside names are names");
}

Test(http_ssi, no_spelling_of_dot_dot_and_no_absolute_file) {
  static const char *const names[] = {"..", "../x", "a/../x", "a/..", "..\\x", "a\\..\\x", "./..", "/../x", "//../x"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    cr_assert_null(resolve("/a/b/p.shtml", MG_SSI_FILE, names[i]), "file=%s", names[i]);
    cr_assert_null(resolve("/a/b/p.shtml", MG_SSI_VIRTUAL, names[i]), "virtual=%s", names[i]);
  }
  cr_assert_null(resolve("/a/p.shtml", MG_SSI_FILE, "/etc/passwd"));
  cr_assert_null(resolve("/a/p.shtml", MG_SSI_FILE, "\\etc\\passwd"));
  struct mg_ssi_include nul = {MG_SSI_FILE, mg_str_n("a\0b", 3)};
  char out[64];
  cr_assert_not(mg_ssi_resolve("/p", &nul, out, sizeof(out)));
  struct mg_ssi_include ok = {MG_SSI_FILE, mg_str("name.html")};
  cr_assert_not(mg_ssi_resolve("/p", &ok, out, 8), "does not fit");
}
