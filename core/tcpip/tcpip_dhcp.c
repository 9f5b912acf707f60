// DHCP client (RFC 2131): placeholder until the client lands.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
bool tcpip_dhcp_init(struct mg_tcpip_if *ifp) {
  (void) ifp;
  return true;
}
void tcpip_dhcp_free(struct mg_tcpip_if *ifp) {
  (void) ifp;
}
void tcpip_dhcp_input(struct mg_tcpip_if *ifp, const struct tcpip_udp *udp) {
  (void) ifp, (void) udp;
}
void tcpip_dhcp_timer(struct mg_tcpip_if *ifp, uint64_t now) {
  (void) ifp, (void) now;
}
void tcpip_dhcp_link(struct mg_tcpip_if *ifp, bool up) {
  (void) ifp, (void) up;
}
uint64_t tcpip_dhcp_deadline(struct mg_tcpip_if *ifp) {
  (void) ifp;
  return 0;
}
#endif
