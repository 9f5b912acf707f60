// Fuzzes the SNTP reply parser on arbitrary datagrams and checks its answer
// against the header fields it must have looked at.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Unix seconds of an NTP timestamp's seconds field, eras as RFC 4330 section 3 says
static int64_t fuzz_sntp_unix_secs(const uint8_t *p) {
  uint32_t secs = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
  return (int64_t) secs - 2208988800LL + ((secs >> 31) ? 0 : 4294967296LL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Copy so that ASan catches any read past size
  uint8_t *buf = (uint8_t *) malloc(size == 0 ? 1 : size);
  if (buf == NULL) return 0;
  if (size > 0) memcpy(buf, data, size);
  int64_t ms = mg_sntp_parse(buf, size);
  if (ms < -1) __builtin_trap();
  if (ms >= 0) {
    unsigned version = (buf[0] >> 3) & 7;
    if (size < 48 || (buf[0] & 7) != 4 || (version != 3 && version != 4)) __builtin_trap();
    if ((buf[0] >> 6) == 3 || buf[1] == 0 || buf[1] > 15) __builtin_trap();
    // The transmit time's whole seconds, and at most 999 ms more
    if (ms / 1000 != fuzz_sntp_unix_secs(buf + 40)) __builtin_trap();
  }
  if (mg_sntp_parse(buf, size) != ms) __builtin_trap();  // Pure: same input, same answer
  free(buf);
  return 0;
}
