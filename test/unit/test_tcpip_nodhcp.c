// A stack built without its DHCP client (MG_ENABLE_TCPIP_DHCP=0, the smallest programs):
// the interface (tcpip_if.c) compiled into this test with that setting, on the mock driver.
#define MG_ENABLE_TCPIP_DHCP 0
#include "../../core/tcpip/tcpip_if.c"

#include <criterion/criterion.h>
#include "../tcpip/net.h"

Test(tcpip_nodhcp, init_refuses_enable_dhcp_client) {
  struct net n;
  net_init_dhcp(&n);
  cr_assert_null(n.ifp.stack, "no interface that would wait for an address forever");
  cr_assert_null(n.mgr.ifp);
  mg_mgr_free(&n.mgr);
}

Test(tcpip_nodhcp, static_address_comes_up_and_sends_no_dhcp) {
  struct net n;
  uint8_t f[64];
  net_init(&n, true);
  cr_assert_eq(n.mgr.ifp, &n.ifp);
  mock_eth_inject(f, frame_arp(f, ME_MAC, TCPIP_ARP_REPLY, GW_MAC, GW_IP, ME_MAC, ME_IP));
  net_poll(&n, 3);
  cr_assert_eq(n.ifp.state, MG_TCPIP_STATE_READY);
  for (size_t i = 0; i < mock_eth_sent_count(); i++) {
    struct tcpip_eth eth;
    struct tcpip_arp arp;
    cr_assert(sent_arp(i, &eth, &arp), "frame %zu is ARP, nothing else", i);
  }
  net_free(&n);
}
