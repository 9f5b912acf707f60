// multipart/form-data: walking parts, part headers, malformed and truncated bodies.
#include <criterion/criterion.h>
#include "meerkat.h"

// Count the parts of body; fill parts[] (up to max) and check offsets grow.
static size_t walk(const char *body, size_t len, struct mg_http_part *parts, size_t max) {
  struct mg_str b = mg_str_n(body, len);
  size_t ofs = 0, n = 0, prev = 0;
  struct mg_http_part p;
  while ((ofs = mg_http_next_multipart(b, ofs, &p)) > 0) {
    cr_assert_gt(ofs, prev, "offsets strictly increase");
    cr_assert_leq(ofs, len);
    prev = ofs;
    if (n < max) parts[n] = p;
    n++;
  }
  return n;
}

#define THREE_PARTS                                                      \
  "--XyZ\r\n"                                                            \
  "Content-Disposition: form-data; name=\"field\"\r\n"                   \
  "\r\n"                                                                 \
  "value 1\r\n"                                                          \
  "--XyZ\r\n"                                                            \
  "content-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n" \
  "Content-Type: text/plain\r\n"                                         \
  "\r\n"                                                                 \
  "line1\r\nline2\r\n\r\n"                                               \
  "--XyZ\r\n"                                                            \
  "Content-Disposition: form-data; name=\"empty\"\r\n"                   \
  "\r\n"                                                                 \
  "\r\n"                                                                 \
  "--XyZ--\r\n"

Test(http_multipart, walks_three_parts) {
  struct mg_http_part parts[4];
  cr_assert_eq(walk(THREE_PARTS, strlen(THREE_PARTS), parts, 4), 3);
  cr_assert(mg_str_eq(parts[0].name, "field"));
  cr_assert_eq(parts[0].filename.len, 0);
  cr_assert(mg_str_eq(parts[0].body, "value 1"));
  cr_assert(mg_str_eq(parts[1].name, "file"), "header name is case-insensitive");
  cr_assert(mg_str_eq(parts[1].filename, "a.txt"));
  cr_assert(mg_str_eq(parts[1].body, "line1\r\nline2\r\n"), "CRLFs inside data are kept");
  cr_assert(mg_str_eq(parts[2].name, "empty"));
  cr_assert_eq(parts[2].body.len, 0);
}

Test(http_multipart, slices_point_into_the_body) {
  const char *body = THREE_PARTS;
  struct mg_http_part parts[3];
  cr_assert_eq(walk(body, strlen(body), parts, 3), 3);
  for (int i = 0; i < 3; i++) {
    cr_assert(parts[i].body.buf >= body && parts[i].body.buf + parts[i].body.len <= body + strlen(body));
    cr_assert(parts[i].name.buf >= body && parts[i].name.buf + parts[i].name.len <= body + strlen(body));
  }
}

Test(http_multipart, one_part_and_null_part_pointer) {
  const char *body =
      "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n--b--";
  struct mg_http_part parts[2];
  cr_assert_eq(walk(body, strlen(body), parts, 2), 1);
  cr_assert(mg_str_eq(parts[0].body, "v"));
  // part may be NULL: the same offsets come back
  struct mg_str b = mg_str(body);
  size_t ofs = mg_http_next_multipart(b, 0, NULL);
  cr_assert_eq(ofs, (size_t) (strstr(body, "\r\n--b--") - body));
  cr_assert_eq(mg_http_next_multipart(b, ofs, NULL), 0);
}

Test(http_multipart, zero_parts) {
  struct mg_http_part p;
  memset(&p, 'X', sizeof(p));
  cr_assert_eq(mg_http_next_multipart(mg_str("--b--\r\n"), 0, &p), 0);
  cr_assert_eq(p.body.len, 0, "part is cleared");
  cr_assert_null(p.name.buf);
  cr_assert_eq(mg_http_next_multipart(mg_str("--b--"), 0, &p), 0);
  cr_assert_eq(mg_http_next_multipart(mg_str(""), 0, &p), 0);
  cr_assert_eq(mg_http_next_multipart(mg_str_n(NULL, 0), 0, &p), 0);
}

Test(http_multipart, part_without_headers_or_data) {
  // RFC 2046: headers may be empty and "[CRLF *OCTET]" may be absent
  const char *body = "--b\r\n\r\n--b\r\nX: y\r\n\r\n--b--";
  struct mg_http_part parts[3];
  cr_assert_eq(walk(body, strlen(body), parts, 3), 2);
  cr_assert_eq(parts[0].body.len, 0);
  cr_assert_eq(parts[0].name.len, 0);
  cr_assert_eq(parts[1].body.len, 0);
}

Test(http_multipart, boundary_text_inside_data_is_data) {
  // "--b" without the leading CRLF, and "\r\n--b" followed by more bchars,
  // are not delimiters
  const char *body =
      "--b\r\n\r\n"
      "x--b\r\n--bc\r\n--b-x\r\n-b"
      "\r\n--b--\r\n";
  struct mg_http_part parts[2];
  cr_assert_eq(walk(body, strlen(body), parts, 2), 1);
  cr_assert(mg_str_eq(parts[0].body, "x--b\r\n--bc\r\n--b-x\r\n-b"));
}

Test(http_multipart, transport_padding_after_boundaries) {
  const char *body = "--b \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b  \r\n\r\n2\r\n--b--";
  struct mg_http_part parts[3];
  cr_assert_eq(walk(body, strlen(body), parts, 3), 2);
  cr_assert(mg_str_eq(parts[0].name, "a"), "unquoted parameter value");
  cr_assert(mg_str_eq(parts[0].body, "1"));
  cr_assert(mg_str_eq(parts[1].body, "2"));
}

Test(http_multipart, missing_final_boundary_drops_the_last_part) {
  const char *body = "--b\r\n\r\none\r\n--b\r\n\r\ntwo";
  struct mg_http_part parts[2];
  cr_assert_eq(walk(body, strlen(body), parts, 2), 1);
  cr_assert(mg_str_eq(parts[0].body, "one"));
  const char *cut_delim = "--b\r\n\r\none\r\n--b";
  cr_assert_eq(walk(cut_delim, strlen(cut_delim), parts, 2), 0, "delimiter without -- or CRLF");
}

Test(http_multipart, truncated_anywhere_never_reads_past_len) {
  // Every prefix of a valid body: parts only while their end delimiter is
  // complete, never beyond. A heap copy of exactly the prefix lets ASan see
  // any read past it.
  const char *full = THREE_PARTS;
  size_t full_len = strlen(full);
  for (size_t len = 0; len <= full_len; len++) {
    char *copy = malloc(len + 1);
    memcpy(copy, full, len);
    struct mg_http_part parts[4];
    size_t n = walk(copy, len, parts, 4);
    size_t expect = 0;
    const char *d = full;
    // A part counts once "\r\n--XyZ" and its CRLF or "--" fit in the prefix
    while ((d = strstr(d + 1, "\r\n--XyZ")) != NULL)
      if ((size_t) (d - full) + 9 <= len) expect++;
    cr_assert_eq(n, expect, "prefix of %zu bytes", len);
    free(copy);
  }
}

Test(http_multipart, malformed_bodies_give_no_parts) {
  static const char *bad[] = {
      "b\r\n\r\nx\r\n--b--",                    // No leading "--"
      "--\r\n\r\nx\r\n--\r\n",                  // Empty boundary
      "--b\n\nx\n--b--",                        // Bare LF
      "--b\"x\r\n\r\nx\r\n--b\"x--",            // Quote is not a bchar
      "--b\r\nno colon here\r\n\r\nx\r\n--b--", // Header without ':'
      "--b\r\n: v\r\n\r\nx\r\n--b--",           // Header without a name
      "--b\r\nX: y\r\n",                        // Truncated in headers
      "--b\r\nX: y",                            // Truncated mid-header
      "--b\r\nX: y\r\n\r\nda",                  // Truncated in data
      " --b\r\n\r\nx\r\n--b--",                 // Preamble is not supported
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mg_http_part p;
    cr_assert_eq(mg_http_next_multipart(mg_str(bad[i]), 0, &p), 0, "case %zu", i);
  }
}

Test(http_multipart, boundary_length_limit_is_70) {
  char boundary[72], body[300];
  memset(boundary, 'q', 71);
  boundary[70] = '\0';
  snprintf(body, sizeof(body), "--%s\r\n\r\ndata\r\n--%s--\r\n", boundary, boundary);
  struct mg_http_part parts[1];
  cr_assert_eq(walk(body, strlen(body), parts, 1), 1, "70 characters are allowed");
  cr_assert(mg_str_eq(parts[0].body, "data"));
  boundary[70] = 'q', boundary[71] = '\0';
  snprintf(body, sizeof(body), "--%s\r\n\r\ndata\r\n--%s--\r\n", boundary, boundary);
  cr_assert_eq(walk(body, strlen(body), parts, 1), 0, "71 are not");
}

Test(http_multipart, bad_offsets_give_0) {
  struct mg_str b = mg_str(THREE_PARTS);
  cr_assert_eq(mg_http_next_multipart(b, 1, NULL), 0, "not at a delimiter");
  cr_assert_eq(mg_http_next_multipart(b, b.len, NULL), 0);
  cr_assert_eq(mg_http_next_multipart(b, b.len + 1, NULL), 0);
  cr_assert_eq(mg_http_next_multipart(b, SIZE_MAX, NULL), 0);
  cr_assert_eq(mg_http_next_multipart(b, SIZE_MAX - 2, NULL), 0);
}

Test(http_multipart, filename_without_name_and_tricky_parameters) {
  const char *body =
      "--b\r\nContent-Disposition: form-data; xname=\"no\"; filename=\"f;g.bin\"\r\n\r\nz\r\n--b--";
  struct mg_http_part parts[1];
  cr_assert_eq(walk(body, strlen(body), parts, 1), 1);
  cr_assert_eq(parts[0].name.len, 0, "xname is not name");
  cr_assert(mg_str_eq(parts[0].filename, "f;g.bin"));
}
