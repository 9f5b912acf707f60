// What the bare-metal program needs from its board beyond mg_board.h: bring-up and an exit.
#ifndef BOARD_H
#define BOARD_H

void board_init(void);                // The clock and the log UART
void board_exit(int status);          // End the run (QEMU: semihosting exit with status)
void board_dualtimer_handler(void);   // The clock's wrap (IRQ 10)

#endif  // BOARD_H
