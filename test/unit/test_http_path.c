// Request path normalisation, MIME types by extension, status reason phrases.
#include <ctype.h>
#include <criterion/criterion.h>
#include "meerkat.h"

// Normalise a copy of in; the buffer is exactly strlen(in) + 1 bytes, so ASan
// catches a write past the string.
static bool normalize(const char *in, char *out, size_t out_size) {
  size_t len = strlen(in);
  cr_assert_lt(len, out_size);
  char *buf = malloc(len + 1);
  memcpy(buf, in, len + 1);
  bool ok = mg_path_normalize(buf, len);
  snprintf(out, out_size, "%s", buf);
  free(buf);
  return ok;
}

Test(http_path, normalizes_good_paths) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"/", "/"},
      {"/index.html", "/index.html"},
      {"/a/b/c", "/a/b/c"},
      {"/a/./b//c", "/a/b/c"},
      {"//a///b", "/a/b"},
      {"/a/b/", "/a/b/"},
      {"/a/b//", "/a/b/"},
      {"/a/../b", "/b"},
      {"/a/b/..", "/a/"},
      {"/a/..", "/"},
      {"/a/.", "/a/"},
      {"/.", "/"},
      {"/./", "/"},
      {"//", "/"},
      {"/a/b/../../c", "/c"},
      {"/a/b/./../c/.", "/a/c/"},
      {"\\a\\b", "/a/b"},
      {"/a\\..\\b", "/b"},
      {"/...", "/..."},
      {"/..a/b..", "/..a/b.."},
      {"/.hidden", "/.hidden"},
      {"/a/.../b", "/a/.../b"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char out[64];
    cr_assert(normalize(cases[i].in, out, sizeof(out)), "accepts %s", cases[i].in);
    cr_assert_str_eq(out, cases[i].out, "normalizes %s", cases[i].in);
  }
}

Test(http_path, rejects_paths_that_climb_above_the_root) {
  static const char *bad[] = {
      "..",          "/..",         "/../x",    "/a/../../x", "\\..\\x",  "/..\\x",
      "/a/b/../../..", "//..//x",   "/./../x",  "/x/..//../y", "\\..",   "/a/../..",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char out[64];
    cr_assert_not(normalize(bad[i], out, sizeof(out)), "rejects %s", bad[i]);
  }
}

Test(http_path, rejects_relative_and_empty_paths) {
  char out[16], buf[4] = "";
  cr_assert_not(normalize("a/b", out, sizeof(out)));
  cr_assert_not(normalize(".", out, sizeof(out)));
  cr_assert_not(mg_path_normalize(buf, 0));
  cr_assert_not(mg_path_normalize(NULL, 0));
}

Test(http_path, rejects_a_nul_inside_the_path) {
  char with_nul[] = "/a\0/../../etc";
  cr_assert_not(mg_path_normalize(with_nul, sizeof(with_nul) - 1));
  char trailing_nul[] = {'/', 'a', '\0'};
  cr_assert_not(mg_path_normalize(trailing_nul, 3));
}

Test(http_path, never_writes_at_path_len) {
  // Unchanged length: no NUL is written at path[len], the guard byte stays
  char buf[] = {'/', 'a', '/', 'b', '#'};
  cr_assert(mg_path_normalize(buf, 4));
  cr_assert_eq(memcmp(buf, "/a/b#", 5), 0);
  // Shorter: the result is terminated inside the buffer
  char shorter[] = {'/', '/', 'a', '#'};
  cr_assert(mg_path_normalize(shorter, 3));
  cr_assert_str_eq(shorter, "/a");
  cr_assert_eq(shorter[3], '#');
}

Test(http_path, mime_type_by_extension) {
  static const struct {
    const char *path, *type;
  } cases[] = {
      {"/index.html", "text/html; charset=utf-8"},
      {"/INDEX.HTM", "text/html; charset=utf-8"},
      {"/app.js", "text/javascript; charset=utf-8"},
      {"/m.mjs", "text/javascript; charset=utf-8"},
      {"/s.css", "text/css; charset=utf-8"},
      {"/d.json", "application/json; charset=utf-8"},
      {"/site.webmanifest", "application/manifest+json"},
      {"/r.txt", "text/plain; charset=utf-8"},
      {"/a.svg", "image/svg+xml"},
      {"/a.PNG", "image/png"},
      {"/a.jpg", "image/jpeg"},
      {"/a.jpeg", "image/jpeg"},
      {"/favicon.ico", "image/x-icon"},
      {"/m.wasm", "application/wasm"},
      {"/f.woff2", "font/woff2"},
      {"/f.woff", "font/woff"},
      {"/a.tar.gz", "application/gzip"},
      {"/v.webm", "video/webm"},
      {"/x.unknown", "application/octet-stream"},
      {"/noext", "application/octet-stream"},
      {"/dir.html/file", "application/octet-stream"},
      {"/trailingdot.", "application/octet-stream"},
      {"", "application/octet-stream"},
      {"/a.htmlx", "application/octet-stream"},
      {"/a.ht", "application/octet-stream"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mg_str t = mg_http_mime_type(mg_str(cases[i].path), NULL);
    cr_assert(mg_str_eq(t, cases[i].type), "%s gives %.*s", cases[i].path, (int) t.len, t.buf);
  }
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str_n(NULL, 0), NULL), "application/octet-stream"));
}

// Every extension of the built-in table, as written, upper case and mixed case
Test(http_path, mime_type_for_every_table_extension_in_any_case) {
  static const struct {
    const char *ext, *type;
  } table[] = {
      {"avif", "image/avif"}, {"bin", "application/octet-stream"}, {"css", "text/css; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"}, {"gif", "image/gif"}, {"gz", "application/gzip"},
      {"htm", "text/html; charset=utf-8"}, {"html", "text/html; charset=utf-8"}, {"ico", "image/x-icon"},
      {"jpeg", "image/jpeg"}, {"jpg", "image/jpeg"}, {"js", "text/javascript; charset=utf-8"},
      {"json", "application/json; charset=utf-8"}, {"map", "application/json; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"}, {"mp3", "audio/mpeg"}, {"mp4", "video/mp4"},
      {"otf", "font/otf"}, {"pdf", "application/pdf"}, {"png", "image/png"},
      {"shtml", "text/html; charset=utf-8"}, {"svg", "image/svg+xml"}, {"ttf", "font/ttf"},
      {"txt", "text/plain; charset=utf-8"}, {"wasm", "application/wasm"}, {"webm", "video/webm"},
      {"webmanifest", "application/manifest+json"}, {"webp", "image/webp"}, {"woff", "font/woff"},
      {"woff2", "font/woff2"}, {"xml", "application/xml; charset=utf-8"}, {"zip", "application/zip"},
  };
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    char path[64], upper[64], mixed[64];
    mg_snprintf(path, sizeof(path), "/d.x/name.%s", table[i].ext);
    for (size_t j = 0; j <= strlen(path); j++) {
      upper[j] = (char) toupper((unsigned char) path[j]);
      mixed[j] = j % 2 ? upper[j] : path[j];
    }
    const char *paths[] = {path, upper, mixed};
    for (size_t k = 0; k < 3; k++) {
      struct mg_str t = mg_http_mime_type(mg_str(paths[k]), NULL);
      cr_assert(mg_str_eq(t, table[i].type), "%s gives %.*s", paths[k], (int) t.len, t.buf);
    }
  }
}

Test(http_path, mime_type_needs_a_whole_extension_of_the_last_segment) {
  static const char *const none[] = {
      "/a.webmanifestx",  // Longer than any extension in the table
      "/a.woff3", "/a.j", "/a.jsx", "/a.", "/.", "/a.css/readme", "/x.y.z/file", "/.htaccess", "README",
  };
  for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
    struct mg_str t = mg_http_mime_type(mg_str(none[i]), NULL);
    cr_assert(mg_str_eq(t, "application/octet-stream"), "%s gives %.*s", none[i], (int) t.len, t.buf);
  }
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.b.c/d.e.css"), NULL), "text/css; charset=utf-8"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str(".css"), NULL), "text/css; charset=utf-8"), "a name that is all extension");
  // A NUL inside the extension: not "js" (the slice is 4 bytes)
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str_n("/a.js\0x", 7), NULL), "application/octet-stream"));
}

Test(http_path, extra_mime_types_override_the_table) {
  const char *extra = "foo=application/x-foo, .html = text/x-custom ,md=text/markdown,bad,=x/y,e=";
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.foo"), extra), "application/x-foo"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.HTML"), extra), "text/x-custom"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/README.md"), extra), "text/markdown"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.css"), extra), "text/css; charset=utf-8"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.bad"), extra), "application/octet-stream"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.e"), extra), "application/octet-stream"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.fo"), extra), "application/octet-stream"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.foo"), ""), "application/octet-stream"));
  cr_assert(mg_str_eq(mg_http_mime_type(mg_str("/a.foo"), ",,foo=x/y,"), "x/y"), "empty items");
}

Test(http_path, status_text_knows_common_codes) {
  cr_assert_str_eq(mg_http_status_text(200), "OK");
  cr_assert_str_eq(mg_http_status_text(101), "Switching Protocols");
  cr_assert_str_eq(mg_http_status_text(204), "No Content");
  cr_assert_str_eq(mg_http_status_text(206), "Partial Content");
  cr_assert_str_eq(mg_http_status_text(301), "Moved Permanently");
  cr_assert_str_eq(mg_http_status_text(304), "Not Modified");
  cr_assert_str_eq(mg_http_status_text(308), "Permanent Redirect");
  cr_assert_str_eq(mg_http_status_text(400), "Bad Request");
  cr_assert_str_eq(mg_http_status_text(401), "Unauthorized");
  cr_assert_str_eq(mg_http_status_text(404), "Not Found");
  cr_assert_str_eq(mg_http_status_text(413), "Content Too Large");
  cr_assert_str_eq(mg_http_status_text(416), "Range Not Satisfiable");
  cr_assert_str_eq(mg_http_status_text(429), "Too Many Requests");
  cr_assert_str_eq(mg_http_status_text(431), "Request Header Fields Too Large");
  cr_assert_str_eq(mg_http_status_text(500), "Internal Server Error");
  cr_assert_str_eq(mg_http_status_text(505), "HTTP Version Not Supported");
}

Test(http_path, status_text_of_unknown_codes) {
  static const int unknown[] = {0, -1, 99, 199, 306, 418, 599, 1000, INT_MAX, INT_MIN};
  for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
    cr_assert_str_eq(mg_http_status_text(unknown[i]), "Unknown", "code %d", unknown[i]);
}
