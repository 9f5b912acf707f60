// The host "board" of the mock test build: time is the mock backend's fake clock,
// so timeouts in protocol tests pass without real waiting.
#include "meerkat.h"

uint64_t mg_millis(void) {
  return mg_mock_millis();
}
