// The LAN9118 driver alone on QEMU's mps2-an385 (lan9118.test.mjs runs it with -nic user):
// init, link from the PHY, an ARP request for the user network's gateway out through tx
// and its reply in through rx, built and checked by hand. Exits 0 if the reply came.
#include "meerkat.h"
#include "board.h"

static const uint8_t probe_mac[6] = {0x02, 0x6d, 0x6b, 0x00, 0x00, 0x02};
static const uint8_t probe_ip[4] = {10, 0, 2, 15}, gateway_ip[4] = {10, 0, 2, 2};  // QEMU's user network

// RFC 826: who has gateway_ip? Tell probe_ip. Padded to Ethernet's 60-byte minimum.
static size_t probe_arp_request(uint8_t *f) {
  static const uint8_t head[] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
  memset(f, 0, 60);
  memset(f, 0xff, 6);
  memcpy(f + 6, probe_mac, 6);
  memcpy(f + 12, head, sizeof(head));
  memcpy(f + 22, probe_mac, 6);
  memcpy(f + 28, probe_ip, 4);
  memcpy(f + 38, gateway_ip, 4);
  return 60;
}

static bool probe_is_arp_reply(const uint8_t *f, size_t n) {
  return n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2 && memcmp(f + 28, gateway_ip, 4) == 0 &&
         memcmp(f + 38, probe_ip, 4) == 0 && memcmp(f, probe_mac, 6) == 0;
}

static bool probe_link(struct mg_tcpip_if *ifp, uint64_t until) {
  while (mg_millis() < until) {
    if (ifp->driver->poll(ifp, true)) return true;
    ifp->driver->wait(ifp, 100);
  }
  return false;
}

static bool probe_arp(struct mg_tcpip_if *ifp, uint64_t until) {
  uint8_t frame[1518];
  size_t sent = ifp->driver->tx(frame, probe_arp_request(frame), ifp);
  MG_INFO(("arp request sent: %u bytes", (unsigned) sent));
  while (sent > 0 && mg_millis() < until) {
    size_t n = ifp->driver->rx(frame, sizeof(frame), ifp);
    if (n > 0) MG_INFO(("rx %u bytes ethertype 0x%02x%02x", (unsigned) n, frame[12], frame[13]));
    if (probe_is_arp_reply(frame, n)) {
      MG_INFO(("arp reply: 10.0.2.2 is at %M", mg_print_mac, frame + 22));
      return true;
    }
    if (n == 0) ifp->driver->wait(ifp, 50);
  }
  return false;
}

int main(void) {
  struct mg_tcpip_if ifp;
  board_init();
  memset(&ifp, 0, sizeof(ifp));
  memcpy(ifp.mac, probe_mac, sizeof(probe_mac));
  ifp.driver = &mg_tcpip_driver_lan9118;
  bool ok = ifp.driver->init(&ifp);
  ok = ok && probe_link(&ifp, mg_millis() + 5000);
  if (ok) MG_INFO(("link up"));
  ok = ok && probe_arp(&ifp, mg_millis() + 3000);
  MG_INFO(("lan9118 probe: %s, rx_errors %u", ok ? "PASS" : "FAIL", (unsigned) ifp.counters.rx_errors));
  board_exit(ok ? 0 : 1);
  return 0;
}
