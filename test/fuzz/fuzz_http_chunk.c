// Fuzz the chunked-coding parser: walk the input chunk by chunk, checking that
// every span and data slice stays inside what was given.
#include "meerkat.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *) data;
  size_t pos = 0;
  while (pos < size) {
    size_t left = size - pos, ofs = SIZE_MAX, dlen = SIZE_MAX;
    long n = mg_http_parse_chunk(buf + pos, left, &ofs, &dlen);
    CHECK(n >= -1 && n <= (long) left);
    if (n == 0 && ofs != SIZE_MAX) CHECK(ofs <= left && dlen != SIZE_MAX);  // size line known
    if (n <= 0) break;
    size_t span = (size_t) n;
    CHECK(ofs >= 2 && ofs <= span && dlen <= span - ofs);
    CHECK(buf[pos + ofs - 1] == '\n');
    if (dlen > 0) {  // data then exactly one line end
      size_t tail = span - ofs - dlen;
      CHECK(tail == 1 || tail == 2);
      CHECK(buf[pos + span - 1] == '\n');
      CHECK(tail == 1 || buf[pos + span - 2] == '\r');
    } else {
      CHECK(buf[pos + span - 1] == '\n');
    }
    // The span alone parses the same; one byte less is incomplete.
    CHECK(mg_http_parse_chunk(buf + pos, span, NULL, NULL) == n);
    CHECK(mg_http_parse_chunk(buf + pos, span - 1, NULL, NULL) == 0);
    pos += span;
    if (dlen == 0) break;  // last chunk
  }
  return 0;
}
