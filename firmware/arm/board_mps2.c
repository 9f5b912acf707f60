// The board for QEMU's mps2-an385 (Cortex-M3, 25 MHz): SysTick counts milliseconds,
// CMSDK UART0 carries the log, semihosting ends a run. What mg_board.h asks for.
#include "meerkat.h"
#include "board.h"

#define CPU_HZ 25000000u
#define REG(addr) (*(volatile uint32_t *) (addr))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define UART0_DATA REG(0x40004000u)
#define UART0_STATE REG(0x40004004u)
#define UART0_CTRL REG(0x40004008u)
#define UART0_BAUDDIV REG(0x40004010u)

static volatile uint64_t board_ticks;  // Milliseconds, advanced by the SysTick interrupt

void SysTick_Handler(void) {
  board_ticks++;
}

void board_init(void) {
  UART0_BAUDDIV = CPU_HZ / 115200u;
  UART0_CTRL = 1u;  // Transmitter on
  SYST_RVR = CPU_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7u;  // Processor clock, interrupt, enable
}

uint64_t mg_board_millis(void) {
  uint64_t a, b;
  do {  // 64 bits are two loads on a Cortex-M3: retry if the interrupt came between them
    a = board_ticks;
    b = board_ticks;
  } while (a != b);
  return a;
}

#if MG_ENABLE_TLS
// QEMU's mps2-an385 has no TRNG, and TLS will not start without random bytes. For this
// emulated self-test only (a handshake with itself, no secret at stake): xorshift64
// stirred with the SysTick counter. Predictable, so NOT for a real board, whose TRNG
// goes here
bool mg_board_random(void *buf, size_t len) {
  static uint64_t state = 0x9e3779b97f4a7c15u;
  unsigned char *p = (unsigned char *) buf;
  for (size_t i = 0; i < len; i++) {
    state ^= SYST_CVR, state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    p[i] = (unsigned char) (state >> 32);
  }
  return true;
}
#else
bool mg_board_random(void *buf, size_t len) {
  (void) buf, (void) len;
  return false;  // No TRNG on this board: the core falls back to its PRNG
}
#endif

void mg_board_putchar(char ch) {
  if (ch == '\n') mg_board_putchar('\r');
  while (UART0_STATE & 1u) continue;  // Transmit buffer full
  UART0_DATA = (uint32_t) (unsigned char) ch;
}

// ARM semihosting SYS_EXIT: QEMU (-semihosting) ends with the status; a board
// without a debugger attached would stop here instead
void board_exit(int status) {
  register uint32_t r0 __asm__("r0") = 0x18u;  // SYS_EXIT
  register uint32_t r1 __asm__("r1") = status == 0 ? 0x20026u : 0x20024u;  // ApplicationExit : RunTimeErrorUnknown
  __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) __asm__ volatile("wfi");
}
