// The board's watchdog: the CMSDK APB watchdog (AN385: 0x40008000, clocked at 25 MHz), so
// that a firmware that stops running its main loop (a hung image on trial, too) resets the
// board, and the boot stage counts the try. The counter runs down from the load value; at
// zero it raises its interrupt, wired to the NMI, and starts again; at zero a second time
// with the interrupt still raised it resets the board. Feeding clears the interrupt and
// reloads. The NMI says why on the console and waits for the reset.
#include "meerkat.h"
#include "board.h"

#define REG(addr) (*(volatile uint32_t *) (addr))
#define WDOG_LOAD REG(0x40008000u)
#define WDOG_CONTROL REG(0x40008008u)
#define WDOG_INTCLR REG(0x4000800cu)
#define WDOG_LOCK REG(0x40008c00u)
#define WDOG_CONTROL_INTEN (1u << 0)
#define WDOG_CONTROL_RESEN (1u << 1)
#define WDOG_UNLOCK 0x1ACCE551u  // Any other value locks its registers again
#define WDOG_TICKS_PER_MS 25000u

static uint32_t s_watchdog_ms;

void board_watchdog_start(uint32_t ms) {
  s_watchdog_ms = ms;
  WDOG_LOCK = WDOG_UNLOCK;
  WDOG_LOAD = ms * WDOG_TICKS_PER_MS;  // Loads the counter too
  WDOG_INTCLR = 1u;
  WDOG_CONTROL = WDOG_CONTROL_INTEN | WDOG_CONTROL_RESEN;
  WDOG_LOCK = 0;
}

void board_watchdog_feed(void) {
  WDOG_LOCK = WDOG_UNLOCK;
  WDOG_INTCLR = 1u;
  WDOG_LOCK = 0;
}

// Straight to the UART: the NMI may have stopped the program inside the logger
static void watchdog_say(const char *s) {
  while (*s != '\0') mg_board_putchar(*s++);
}

// The first expiry. Leaves the interrupt raised, so that the second resets the board;
// the line is a level, so returning would only enter again: it waits here
void board_watchdog_nmi(void);
void board_watchdog_nmi(void) {
  char ms[11], *p = ms + sizeof(ms) - 1;
  *p = '\0';
  uint32_t v = s_watchdog_ms;
  do *--p = (char) ('0' + v % 10);
  while ((v /= 10) > 0);
  watchdog_say("watchdog: the main loop stopped for ");
  watchdog_say(p);
  watchdog_say(" ms: resetting the board\n");
  for (;;) continue;
}
