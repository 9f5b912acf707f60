// The smallest HTTP server on the built-in stack for Cortex-M (`make bench` prints its
// linked text against the 38 KB goal): the LAN9118 driver, a static address, one listener
// answering every request with mg_http_reply. Built for QEMU's mps2-an385 (the Makefile's
// ARM_MIN_FLAGS): -mcpu=cortex-m3 -mthumb -Os, newlib-nano, --gc-sections, -flto,
// MG_PORT_BAREMETAL=1 MG_ENABLE_TCPIP=1 MG_ENABLE_POSIX_FS=0, and what it does not use
// left out: MG_ENABLE_TCPIP_DHCP=0, MG_CRC32_SLICES=0 (the FCS is not checked),
// MG_ENABLE_PRINTF_FLOAT=0, MG_ENABLE_IPV6=0 (as Mongoose's default). Logging stays on. test/integration/lan9118.test.mjs runs it
// in QEMU and curls it through a forwarded port.
#include "meerkat.h"
#include "board.h"

// A board's TRNG is read here: a few register reads on real silicon. QEMU's board has
// none, and this program keeps no secret, so false sends the core to its own PRNG (TCP's
// initial sequence numbers); the dashboard firmware links board_entropy.c's pool instead
bool mg_board_random(void *buf, size_t len) {
  (void) buf, (void) len;
  return false;
}

static void min_serve(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) mg_http_reply(c, 200, "", "hello\n");
  (void) ev_data;
}

int main(void) {
  static struct mg_mgr mgr;
  static struct mg_tcpip_if ifp = {.mac = {0x02, 0x6d, 0x6b, 0x00, 0x00, 0x03},
                                   .driver = &mg_tcpip_driver_lan9118};
  board_init();
  ifp.ip = mg_htonl(MG_U32(10, 0, 2, 15)), ifp.mask = mg_htonl(MG_U32(255, 255, 255, 0));
  mg_mgr_init(&mgr);
  mg_tcpip_init(&mgr, &ifp);
  mg_http_listen(&mgr, "http://0.0.0.0:80", min_serve, NULL);
  for (;;) mg_mgr_poll(&mgr, 100);
  return 0;
}
