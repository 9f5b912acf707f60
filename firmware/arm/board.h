// What the bare-metal program needs from its board beyond mg_board.h: bring-up and an exit.
#ifndef BOARD_H
#define BOARD_H

void board_init(void);         // Clock tick and log UART
void board_exit(int status);   // End the run (QEMU: semihosting exit with status)
void SysTick_Handler(void);    // The millisecond tick (vector 15)

#endif  // BOARD_H
