// What a board supplies to the bare-metal port (MG_PORT_BAREMETAL=1): a clock,
// an entropy source and a character output. The rest of the core needs no OS.
#ifndef MG_BOARD_H
#define MG_BOARD_H

#if MG_PORT_BAREMETAL
// Milliseconds since boot from a free-running timer (SysTick, a hardware counter).
// Must never go backwards; wrapping is not handled, so count in 64 bits.
uint64_t mg_board_millis(void);

// Fill buf with len bytes from a hardware RNG (TRNG peripheral).
// Return false if it has none or it failed: the core then uses a weak PRNG.
bool mg_board_random(void *buf, size_t len);

// Write one character of log output, e.g. to a UART.
// Called for every character of a line, '\n' last; may block until sent.
void mg_board_putchar(char ch);

// Sleep until an interrupt comes or ms pass (returning early is fine), e.g. with WFI and a
// one-shot timer. Only for a driver that sleeps in its wait hook (lan9118.c on Arm).
void mg_board_sleep(int ms);
#endif

#endif  // MG_BOARD_H
