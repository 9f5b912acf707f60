// The device's platform on QEMU's mps2-an385 (device_port.h): the board's name and its
// heap, a fixed arena (the linker script) that newlib-nano's malloc carves.
#include <malloc.h>
#include "board.h"
#include "device_port.h"

void device_host_name(char *buf, size_t len) {
  mg_snprintf(buf, len, "mps2");
}

// What the arena has not handed out yet, and what malloc holds free inside what it has
int64_t device_free_memory(void) {
  struct mallinfo mi = mallinfo();
  return (int64_t) (board_heap_size() - board_heap_peak()) + (int64_t) mi.fordblks;
}

int64_t device_memory_peak(void) {
  return (int64_t) board_heap_peak();
}
