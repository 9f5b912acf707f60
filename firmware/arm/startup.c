// Cortex-M3 start-up: the vector table, a reset handler that sets up .data and .bss and calls
// main, and the fixed arena newlib's malloc grows into (the linker script's .heap).
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "board.h"

extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__, __stack_top, __heap_start,
    __heap_end;
int main(void);
void Reset_Handler(void);
void Fault_Handler(void);

void Fault_Handler(void) {
  for (;;) continue;  // A debugger finds us here
}

// The watchdog's warning (board_watchdog.c, where a program has one) comes as the NMI
void board_watchdog_nmi(void) __attribute__((weak, alias("Fault_Handler")));

// The 16 of the core, then the board's interrupts (AN385: 32): only the clock's wrap has a
// handler; the others stay disabled (board_mps2.c wakes from timer 0 and the LAN9118 with
// interrupts masked), so one taken anyway is a fault
#define STARTUP_FAULT2 Fault_Handler, Fault_Handler
#define STARTUP_FAULT8 STARTUP_FAULT2, STARTUP_FAULT2, STARTUP_FAULT2, STARTUP_FAULT2
__attribute__((section(".vectors"), used)) static const void *const startup_vectors[16 + 32] = {
    &__stack_top, Reset_Handler, board_watchdog_nmi, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
    STARTUP_FAULT8, STARTUP_FAULT2, board_dualtimer_handler, Fault_Handler,  // IRQ 0-11
    STARTUP_FAULT2, STARTUP_FAULT2, STARTUP_FAULT8, STARTUP_FAULT8,          // IRQ 12-31
};

// .data's initial values are in the image, after the code (the linker script): copied to
// data RAM, so that the image's .bin alone (an OTA payload) starts as the ELF does
void Reset_Handler(void) {
  const uint32_t *from = &__data_load__;
  for (uint32_t *p = &__data_start__; p < &__data_end__; p++) *p = *from++;
  for (uint32_t *p = &__bss_start__; p < &__bss_end__; p++) *p = 0;
  main();
  for (;;) continue;
}

static char *startup_brk = (char *) &__heap_start;  // The arena's top in use: it only grows

// newlib's malloc asks for memory here, and gets none beyond the arena: ENOMEM, and
// mg_calloc's callers see NULL
void *_sbrk(ptrdiff_t incr);
void *_sbrk(ptrdiff_t incr) {
  char *limit = (char *) &__heap_end;
  if (incr > limit - startup_brk || incr < (char *) &__heap_start - startup_brk) {
    errno = ENOMEM;
    return (void *) -1;
  }
  char *old = startup_brk;
  startup_brk += incr;
  return old;
}

size_t board_heap_size(void) {
  return (size_t) ((char *) &__heap_end - (char *) &__heap_start);
}

size_t board_heap_peak(void) {
  return (size_t) (startup_brk - (char *) &__heap_start);
}
