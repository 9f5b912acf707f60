// The board for QEMU's mps2-an385 (Cortex-M3, 25 MHz): the millisecond clock, sleep until
// an interrupt, the UART log and the semihosting exit (entropy: board_entropy.c). What mg_board.h asks for.
#include "meerkat.h"
#include "board.h"

#define CPU_HZ 25000000u
#define REG(addr) (*(volatile uint32_t *) (addr))
#define UART0_DATA REG(0x40004000u)
#define UART0_STATE REG(0x40004004u)
#define UART0_CTRL REG(0x40004008u)
#define UART0_BAUDDIV REG(0x40004010u)

// The clock: timer 1 of the CMSDK dual timer (an SP804; AN385: 0x40002000, IRQ 10), 32 bits
// free-running down from 2^32 - 1 at 25 MHz, widened to 64 by counting its wraps (one every
// 171.8 s) in the interrupt. A counter keeps QEMU's host-driven time; counting SysTick
// interrupts drifts there (0.4-1.7% slow: a late tick is never made up).
#define DUAL1_LOAD REG(0x40002000u)
#define DUAL1_VALUE REG(0x40002004u)
#define DUAL1_CTRL REG(0x40002008u)
#define DUAL1_INTCLR REG(0x4000200cu)
#define DUAL_CTRL_32BIT (1u << 1)
#define DUAL_CTRL_INTEN (1u << 5)
#define DUAL_CTRL_ENABLE (1u << 7)  // Periodic mode (bit 6) off: free-running, wraps to 2^32 - 1
#define IRQ_DUALTIMER 10u

// The wake-up: CMSDK APB timer 0 (0x40000000, IRQ 8) counts a sleep down once
#define TIMER0_CTRL REG(0x40000000u)
#define TIMER0_VALUE REG(0x40000004u)
#define TIMER0_RELOAD REG(0x40000008u)
#define TIMER0_INTCLEAR REG(0x4000000cu)
#define TIMER_CTRL_ENABLE (1u << 0)
#define TIMER_CTRL_IRQEN (1u << 3)
#define IRQ_TIMER0 8u
#define IRQ_ETHERNET 13u  // The LAN9118's IRQ pin (lan9118.c raises it when a frame waits)

#define NVIC_ISER REG(0xE000E100u)
#define NVIC_ICER REG(0xE000E180u)
#define NVIC_ICPR REG(0xE000E280u)

#define TICKS_PER_MS (CPU_HZ / 1000u)
static volatile uint32_t board_wraps;    // Timer 1's wraps: the clock's upper 32 bits
static volatile uint64_t board_wrap_ms;  // The same in whole milliseconds,
static volatile uint32_t board_wrap_rem; // and the ticks past them (< TICKS_PER_MS)
uint32_t board_wake_times;               // The counter at each sleep's end, mixed: entropy (board_entropy.c)

// Milliseconds are kept per wrap so that reading them needs only 32-bit divisions: a
// 64-bit one would link libgcc's __udivmoddi4 (0.7 KB) into every program on this board
void board_dualtimer_handler(void) {
  board_wraps++;
  board_wrap_rem += (uint32_t) (0x100000000ull % TICKS_PER_MS);
  board_wrap_ms += (uint32_t) (0x100000000ull / TICKS_PER_MS) + board_wrap_rem / TICKS_PER_MS;
  board_wrap_rem %= TICKS_PER_MS;
  DUAL1_INTCLR = 1u;
}

static void board_clock_start(void) {
  DUAL1_CTRL = 0;
  DUAL1_LOAD = 0xffffffffu;
  DUAL1_INTCLR = 1u;
  DUAL1_CTRL = DUAL_CTRL_32BIT | DUAL_CTRL_INTEN | DUAL_CTRL_ENABLE;
  NVIC_ISER = 1u << IRQ_DUALTIMER;
}

void board_init(void) {
  UART0_BAUDDIV = CPU_HZ / 115200u;
  UART0_CTRL = 1u;  // Transmitter on
  board_clock_start();
}

// 25 MHz ticks since board_init. Not from an interrupt handler or with interrupts masked:
// a wrap then waits for its handler, and the count would go back 171.8 s
uint64_t board_ticks(void) {
  uint32_t hi, lo;
  do {  // A wrap between the two reads changes the upper half: read again
    hi = board_wraps;
    lo = DUAL1_VALUE;
  } while (hi != board_wraps);
  return (uint64_t) hi << 32 | (0xffffffffu - lo);
}

uint64_t mg_board_millis(void) {
  uint32_t hi, rem, elapsed;
  uint64_t ms;
  do {  // As board_ticks: a wrap between the reads means reading again
    hi = board_wraps;
    ms = board_wrap_ms;
    rem = board_wrap_rem;
    elapsed = 0xffffffffu - DUAL1_VALUE;
  } while (hi != board_wraps);
  return ms + elapsed / TICKS_PER_MS + (elapsed % TICKS_PER_MS + rem) / TICKS_PER_MS;
}

// With interrupts masked, WFI still wakes on an enabled interrupt that becomes pending, and
// the handler does not run: timer 0 and the LAN9118 line are enabled only around the WFI,
// and cleared before interrupts are unmasked, so neither needs a handler and a frame that
// came between the driver's check and this WFI still wakes it (its line is a level)
void mg_board_sleep(int ms) {
  const uint32_t irqs = 1u << IRQ_TIMER0 | 1u << IRQ_ETHERNET;
  uint32_t max_ms = 0xffffffffu / TICKS_PER_MS;
  if (ms <= 0) return;
  __asm__ volatile("cpsid i" ::: "memory");
  uint32_t ticks = ((uint32_t) ms < max_ms ? (uint32_t) ms : max_ms) * TICKS_PER_MS;
  TIMER0_CTRL = 0;
  TIMER0_VALUE = ticks;
  TIMER0_RELOAD = ticks;  // Never 0, which stops the timer (it runs once here: stopped after the WFI)
  TIMER0_INTCLEAR = 1u;
  TIMER0_CTRL = TIMER_CTRL_ENABLE | TIMER_CTRL_IRQEN;
  NVIC_ICPR = irqs;
  NVIC_ISER = irqs;
  __asm__ volatile("dsb\n\twfi" ::: "memory");
  NVIC_ICER = irqs;
  TIMER0_CTRL = 0;
  TIMER0_INTCLEAR = 1u;
  NVIC_ICPR = irqs;
  board_wake_times = board_wake_times * 31u + DUAL1_VALUE;
  __asm__ volatile("cpsie i\n\tisb" ::: "memory");  // The dual timer's wrap, if it came, runs now
}

void mg_board_putchar(char ch) {
  if (ch == '\n') mg_board_putchar('\r');
  while (UART0_STATE & 1u) continue;  // Transmit buffer full
  UART0_DATA = (uint32_t) (unsigned char) ch;
}

// Before the boot stage starts another image: nothing of this one may interrupt it
void board_quiesce(void) {
  __asm__ volatile("cpsid i" ::: "memory");
  NVIC_ICER = 0xffffffffu;
  NVIC_ICPR = 0xffffffffu;
  DUAL1_CTRL = 0;
  DUAL1_INTCLR = 1u;
  TIMER0_CTRL = 0;
  TIMER0_INTCLEAR = 1u;
}

void board_reset(void) {
  __asm__ volatile("dsb" ::: "memory");
  REG(0xE000ED0Cu) = 0x05FA0004u;  // AIRCR: VECTKEY, SYSRESETREQ
  __asm__ volatile("dsb" ::: "memory");
  for (;;) continue;
}

// ARM semihosting SYS_EXIT: QEMU (-semihosting) ends with the status; a board
// without a debugger attached would stop here instead
void board_exit(int status) {
  register uint32_t r0 __asm__("r0") = 0x18u;  // SYS_EXIT
  register uint32_t r1 __asm__("r1") = status == 0 ? 0x20026u : 0x20024u;  // ApplicationExit : RunTimeErrorUnknown
  __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) __asm__ volatile("wfi");
}
