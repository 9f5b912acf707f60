// Fuzz mg_http_next_multipart: walk every part of arbitrary bodies and check
// that slices stay inside the input, offsets strictly grow and each part ends
// where a delimiter starts.
#include "meerkat.h"

static void check_inside(struct mg_str s, const char *buf, size_t len) {
  if (s.len == 0) return;
  if (s.buf < buf || s.buf > buf + len || s.len > (size_t) (buf + len - s.buf)) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *) data;
  struct mg_str body = mg_str_n(buf, size);
  struct mg_http_part part;
  size_t ofs = 0, prev = 0, parts = 0;
  while ((ofs = mg_http_next_multipart(body, prev, &part)) > 0) {
    if (ofs <= prev || ofs > size) __builtin_trap();
    check_inside(part.name, buf, size);
    check_inside(part.filename, buf, size);
    check_inside(part.body, buf, size);
    // The part's data ends at the returned offset (or is empty just before it)
    if (part.body.len > 0 && part.body.buf + part.body.len != buf + ofs) __builtin_trap();
    // ... which is where the next delimiter starts
    if (size - ofs < 4 || memcmp(buf + ofs, "\r\n--", 4) != 0) __builtin_trap();
    // Skipping the part (NULL) walks the same way
    if (mg_http_next_multipart(body, prev, NULL) != ofs) __builtin_trap();
    prev = ofs;
    parts++;
  }
  // A failed call leaves the part empty
  if (part.name.len != 0 || part.filename.len != 0 || part.body.len != 0) __builtin_trap();
  (void) parts;
  return 0;
}
