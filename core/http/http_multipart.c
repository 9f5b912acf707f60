// multipart/form-data bodies (RFC 7578 over RFC 2046 5.1.1): walks the parts
// one at a time, returning slices into the body; no allocation, no copies.
#include "meerkat.h"

// Longest boundary RFC 2046 allows
#define HTTP_MULTIPART_MAX_BOUNDARY 70

// bchars from RFC 2046 5.1.1 (a space is allowed, but not last)
static bool http_multipart_is_bchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

static bool http_multipart_has(struct mg_str s, size_t ofs, const char *lit, size_t n) {
  return ofs <= s.len && s.len - ofs >= n && memcmp(s.buf + ofs, lit, n) == 0;
}

// The body opens with "--boundary" [transport padding] CRLF; the boundary is
// whatever that line holds. Returns its length (the boundary starts at
// body.buf + 2), 0 if the first line is not a valid delimiter line.
static size_t http_multipart_boundary(struct mg_str body) {
  size_t n = 0;
  if (!http_multipart_has(body, 0, "--", 2)) return 0;
  while (2 + n < body.len && n <= HTTP_MULTIPART_MAX_BOUNDARY &&
         http_multipart_is_bchar((unsigned char) body.buf[2 + n]))
    n++;
  while (n > 0 && body.buf[2 + n - 1] == ' ') n--;  // Trailing spaces are padding
  if (n == 0 || n > HTTP_MULTIPART_MAX_BOUNDARY) return 0;
  return n;
}

// After "--boundary" at ofs: a delimiter line ends with optional blanks and
// CRLF; a close delimiter has "--". Returns the offset after the delimiter
// line's CRLF, or 0 (also for a close delimiter: no more parts) on anything else.
static size_t http_multipart_after_delimiter(struct mg_str body, size_t ofs) {
  if (http_multipart_has(body, ofs, "--", 2)) return 0;
  while (ofs < body.len && (body.buf[ofs] == ' ' || body.buf[ofs] == '\t')) ofs++;
  return http_multipart_has(body, ofs, "\r\n", 2) ? ofs + 2 : 0;
}

// Is body[ofs..] "\r\n--" boundary, followed by what a delimiter needs? A
// boundary-like string inside data that goes on with other characters is data.
static bool http_multipart_delimiter_at(struct mg_str body, size_t ofs, struct mg_str boundary) {
  if (!http_multipart_has(body, ofs, "\r\n--", 4)) return false;
  ofs += 4;
  if (!http_multipart_has(body, ofs, boundary.buf, boundary.len)) return false;
  ofs += boundary.len;
  if (http_multipart_has(body, ofs, "--", 2)) return true;
  return http_multipart_after_delimiter(body, ofs) != 0;
}

// Part headers, one "Name: value" CRLF line each, up to an empty line. Only
// Content-Disposition matters. Returns the offset of the part data, 0 if a
// line is truncated or malformed.
static size_t http_multipart_headers(struct mg_str body, size_t ofs, struct mg_http_part *part) {
  for (;;) {
    size_t eol = ofs;
    while (eol + 1 < body.len && !(body.buf[eol] == '\r' && body.buf[eol + 1] == '\n')) eol++;
    if (eol + 1 >= body.len) return 0;  // No CRLF: truncated
    if (eol == ofs) return eol + 2;     // Empty line ends the headers
    struct mg_str line = mg_str_n(body.buf + ofs, eol - ofs), name, value;
    mg_span(line, &name, &value, ':');
    if (name.len == line.len || name.len == 0) return 0;  // No ':' or no name
    if (mg_strcasecmp(mg_str_trim(name), mg_str("Content-Disposition")) == 0) {
      value = mg_str_trim(value);
      part->name = mg_http_get_header_var(value, mg_str("name"));
      part->filename = mg_http_get_header_var(value, mg_str("filename"));
    }
    ofs = eol + 2;
  }
}

size_t mg_http_next_multipart(struct mg_str body, size_t offset, struct mg_http_part *part) {
  struct mg_http_part scratch;
  struct mg_http_part *p = part != NULL ? part : &scratch;
  memset(p, 0, sizeof(*p));
  if (body.buf == NULL) return 0;
  size_t blen = http_multipart_boundary(body);
  if (blen == 0) return 0;
  struct mg_str boundary = mg_str_n(body.buf + 2, blen);

  // The first delimiter opens the body; later ones follow the previous part's CRLF
  size_t ofs;
  if (offset == 0) {
    ofs = 2 + blen;
  } else {
    if (!http_multipart_has(body, offset, "\r\n--", 4)) return 0;
    if (!http_multipart_has(body, offset + 4, boundary.buf, boundary.len)) return 0;
    ofs = offset + 4 + blen;
  }
  ofs = http_multipart_after_delimiter(body, ofs);
  if (ofs == 0) return 0;  // Close delimiter or malformed

  size_t data = http_multipart_headers(body, ofs, p);
  if (data == 0) goto fail;
  // Data runs up to the CRLF that opens the next delimiter line. A part may
  // have no data at all (RFC 2046: "[CRLF *OCTET]"), and then the CRLF after
  // its headers is that delimiter's CRLF: search from there.
  for (size_t end = data - 2; end < body.len; end++) {
    if (http_multipart_delimiter_at(body, end, boundary)) {
      p->body = mg_str_n(body.buf + data, end > data ? end - data : 0);
      return end;
    }
  }
fail:
  memset(p, 0, sizeof(*p));
  return 0;
}

#undef HTTP_MULTIPART_MAX_BOUNDARY
