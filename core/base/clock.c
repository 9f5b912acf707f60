// The wall clock: Unix milliseconds as the port's monotonic mg_millis() plus the
// boot timestamp that an SNTP answer (net/sntp.c) or the application sets.
#include "meerkat.h"

uint64_t mg_boot_timestamp_ms = 0;

uint64_t mg_now(void) {
  return mg_millis() + mg_boot_timestamp_ms;
}
