// What the bare-metal program needs from its board beyond mg_board.h: bring-up, the heap's arena, an exit.
#ifndef BOARD_H
#define BOARD_H
#include <stddef.h>
#include <stdint.h>

void board_init(void);                // The clock and the log UART
void board_exit(int status);          // End the run (QEMU: semihosting exit with status)
void board_dualtimer_handler(void);   // The clock's wrap (IRQ 10)
size_t board_heap_size(void);         // The heap's fixed arena (the linker script's HEAP_SIZE)
size_t board_heap_peak(void);         // Its high-water mark: malloc never gives memory back to it
uint64_t board_ticks(void);           // 25 MHz counts since board_init (not with interrupts masked)
extern uint32_t board_wake_times;     // The counter at each sleep's end, mixed (an entropy source)
void board_quiesce(void);             // Interrupts masked, every one disabled, timers stopped: for a jump
void board_reset(void);               // A system reset (SCB AIRCR SYSRESETREQ); does not return
void board_watchdog_start(uint32_t ms); // Resets the board unless fed every ms, at most 171,798 (board_watchdog.c)
void board_watchdog_feed(void);

#endif  // BOARD_H
