// What the device's logic (device.c) asks of the platform it runs on: a host
// (device_host.c) or a board (firmware/arm/device_board.c).
#ifndef FIRMWARE_DEVICE_PORT_H
#define FIRMWARE_DEVICE_PORT_H
#include "meerkat.h"

// The default name's second part (meerkat-NAME): a NUL-terminated name that fits len
void device_host_name(char *buf, size_t len);
int64_t device_free_memory(void);  // Bytes free for the firmware to allocate, 0 if unknown
// The most memory the firmware has held: a host's peak resident set, a board's heap
// high-water mark; 0 if unknown
int64_t device_memory_peak(void);

#endif
