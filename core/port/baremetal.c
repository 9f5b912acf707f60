// The bare-metal port: time, random bytes and the log sink come from the board
// (mg_board.h); there is no resolver configuration, so set mgr->dns4.url.
#include "port/port.h"

#if MG_PORT_BAREMETAL
uint64_t mg_millis(void) {
  return mg_board_millis();
}

bool mg_port_random(void *buf, size_t len) {
  return mg_board_random(buf, len);
}

// Boards have no calendar clock until an application sets one (SNTP, an RTC): no Date
bool mg_port_wall_time(time_t *t) {
  (void) t;
  return false;
}

void mg_port_putchar(char ch) {
  mg_board_putchar(ch);
}

size_t mg_port_nameserver(char *buf, size_t len) {
  (void) buf;
  (void) len;
  return 0;
}

bool mg_port_hosts_lookup(struct mg_str name, bool ipv6, struct mg_addr *out) {
  (void) name;
  (void) ipv6;
  (void) out;
  return false;
}
#endif  // MG_PORT_BAREMETAL
