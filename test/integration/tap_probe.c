// The TAP driver alone, with the kernel as the peer (tap.test.mjs runs it in a network
// namespace): answers ARP requests for IP by hand through driver->tx, so the kernel's
// neighbour table learns our MAC. Prints one line per event for the test to check.
// Usage: tap_probe TAP IP [SECONDS]; ends on SIGTERM or after SECONDS (default 20).
#include <signal.h>
#include <unistd.h>
#include "meerkat.h"

static const uint8_t probe_mac[6] = {0x02, 0x6d, 0x6b, 0x00, 0x00, 0x01};  // Locally administered
static volatile sig_atomic_t probe_stop;

static void probe_on_signal(int sig) {
  (void) sig;
  probe_stop = 1;
}

static uint16_t probe_get16(const uint8_t *p) {
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static void probe_print_ip(const char *label, const uint8_t *ip) {
  printf("%s %u.%u.%u.%u", label, ip[0], ip[1], ip[2], ip[3]);
}

// RFC 826 over Ethernet: 14 bytes of Ethernet header, then 28 of ARP for IPv4
static size_t probe_arp_reply(uint8_t *out, const uint8_t *req) {
  const uint8_t *arp = req + 14;
  memcpy(out, req + 6, 6);                    // To the asker
  memcpy(out + 6, probe_mac, 6);              // From us
  out[12] = 0x08, out[13] = 0x06;             // ARP
  memcpy(out + 14, arp, 6);                   // Hardware Ethernet, protocol IPv4, lengths 6 and 4
  out[20] = 0, out[21] = 2;                   // Reply
  memcpy(out + 22, probe_mac, 6);             // Sender: our MAC
  memcpy(out + 28, arp + 24, 4);              // ... and the address asked for
  memcpy(out + 32, arp + 8, 10);              // Target: the asker's MAC and IP
  return 42;
}

// One received frame: report it; answer an ARP request for our address
static void probe_frame(struct mg_tcpip_if *ifp, const uint8_t *f, size_t n, const uint8_t *our_ip) {
  uint16_t type = n >= 14 ? probe_get16(f + 12) : 0;
  printf("rx %u bytes ethertype 0x%04x", (unsigned) n, type);
  if (type == 0x0806 && n >= 42 && probe_get16(f + 14) == 1 && probe_get16(f + 16) == 0x0800) {
    printf(" arp op %u", probe_get16(f + 20));
    probe_print_ip(" sender", f + 28);
    probe_print_ip(" target", f + 38);
    if (probe_get16(f + 20) == 1 && memcmp(f + 38, our_ip, 4) == 0) {
      uint8_t reply[60];
      memset(reply, 0, sizeof(reply));  // Padded to Ethernet's 60-byte minimum
      probe_arp_reply(reply, f);
      size_t sent = ifp->driver->tx(reply, sizeof(reply), ifp);
      printf("\narp reply sent %u bytes", (unsigned) sent);
    }
  }
  printf("\n");
}

static bool probe_parse_ip(const char *s, uint8_t *ip) {
  unsigned a, b, c, d;
  char extra;
  if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) != 4 || a > 255 || b > 255 || c > 255 || d > 255) return false;
  ip[0] = (uint8_t) a, ip[1] = (uint8_t) b, ip[2] = (uint8_t) c, ip[3] = (uint8_t) d;
  return true;
}

int main(int argc, char **argv) {
  struct mg_tcpip_driver_tap_data tap = {.name = argc > 1 ? argv[1] : NULL, .fd = -1};
  struct mg_tcpip_if ifp;
  uint8_t our_ip[4], frame[1600];
  unsigned long wakes = 0, frames = 0;
  if (argc < 3 || !probe_parse_ip(argv[2], our_ip)) {
    fprintf(stderr, "usage: %s TAP IP [SECONDS]\n", argv[0]);
    return 2;
  }
  uint64_t deadline = mg_millis() + 1000u * (uint64_t) (argc > 3 ? atoi(argv[3]) : 20), next_s1 = 0;
  memset(&ifp, 0, sizeof(ifp));
  memcpy(ifp.mac, probe_mac, sizeof(probe_mac));
  ifp.driver = &mg_tcpip_driver_tap, ifp.driver_data = &tap;
  signal(SIGTERM, probe_on_signal), signal(SIGINT, probe_on_signal);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!ifp.driver->init(&ifp)) return 1;
  printf("attached %s\n", tap.name);
  bool link = false;
  while (!probe_stop && mg_millis() < deadline) {
    bool s1 = mg_millis() >= next_s1;
    if (s1) next_s1 = mg_millis() + 1000;
    if (ifp.driver->poll(&ifp, s1) != link) printf("link %s\n", (link = !link) ? "up" : "down");
    size_t n;
    while ((n = ifp.driver->rx(frame, sizeof(frame), &ifp)) > 0) probe_frame(&ifp, frame, n, our_ip), frames++;
    ifp.driver->wait(&ifp, 100);
    wakes++;
  }
  // The test bounds wakes: a wait that did not block would make millions
  printf("done wakes %lu frames %lu rx_errors %u\n", wakes, frames, (unsigned) ifp.counters.rx_errors);
  close(tap.fd);
  return 0;
}
