// The host "board" of the mock test build (bare-metal port, mock backend): time is
// the mock backend's fake clock, so timeouts in protocol tests take no real time.
#include <stdio.h>
#include "meerkat.h"

uint64_t mg_board_millis(void) {
  return mg_mock_millis();
}

bool mock_board_has_no_rng;  // Tests: a board without a hardware RNG

bool mg_board_random(void *buf, size_t len) {
  if (mock_board_has_no_rng) return false;
  FILE *fp = fopen("/dev/urandom", "rb");
  size_t n = fp == NULL ? 0 : fread(buf, 1, len, fp);
  if (fp != NULL) fclose(fp);
  return n == len;
}

void mg_board_putchar(char ch) {
  fputc(ch, stderr);
}
