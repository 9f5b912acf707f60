// The interface: mg_tcpip_init / mg_tcpip_free, frames from the driver in bounded
// bursts, MAC filtering, the link and address states, frames out through the driver.
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
static const uint8_t if_broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const char *const if_state_names[] = {"down", "up", "requesting", "address set", "ready"};

static bool if_mac_is_unicast(const uint8_t *mac) {
  static const uint8_t zero[6] = {0};
  return (mac[0] & 1) == 0 && memcmp(mac, zero, 6) != 0;
}

// A tx buffer of the application's is used only if a whole frame fits in it
static bool if_own_tx_needed(const struct mg_tcpip_if *ifp) {
  return ifp->tx.buf == NULL || ifp->tx.len < TCPIP_ETH_FRAME;
}

static size_t if_tx_size(const struct mg_tcpip_if *ifp) {
  return if_own_tx_needed(ifp) ? TCPIP_TX_FRAME : ifp->tx.len;
}

static bool if_check_config(const struct mg_tcpip_if *ifp) {
  if (ifp->driver == NULL || ifp->driver->tx == NULL || ifp->driver->rx == NULL) {
    MG_ERROR(("mg_tcpip_init: the interface has no driver (set ifp->driver with tx and rx)"));
    return false;
  }
  if (!if_mac_is_unicast(ifp->mac)) {
    MG_ERROR(("mg_tcpip_init: MAC %M is not a unicast address", mg_print_mac, ifp->mac));
    return false;
  }
  if (ifp->enable_dhcp_client && !MG_ENABLE_TCPIP_DHCP) {
    MG_ERROR(("mg_tcpip_init: enable_dhcp_client, but built without DHCP (MG_ENABLE_TCPIP_DHCP=0)"));
    return false;
  }
  if (!ifp->enable_dhcp_client && ifp->ip == 0) {
    MG_ERROR(("mg_tcpip_init: no address: set ifp->ip and ifp->mask, or enable_dhcp_client"));
  }
  if (ifp->enable_dhcp_server) MG_ERROR(("mg_tcpip_init: Meerkat has no DHCP server; enable_dhcp_server ignored"));
  if (ifp->tx.buf != NULL && ifp->tx.len < TCPIP_ETH_FRAME) {
    MG_ERROR(("mg_tcpip_init: ifp->tx of %lu bytes holds no whole frame (%d): using the stack's own",
              (unsigned long) ifp->tx.len, TCPIP_ETH_FRAME));
  }
  return true;
}

static struct tcpip_state *if_state_new(struct mg_tcpip_if *ifp) {
  size_t size = sizeof(struct tcpip_state) + (if_own_tx_needed(ifp) ? TCPIP_TX_FRAME : 0);
  struct tcpip_state *s = (struct tcpip_state *) mg_calloc(1, size);
  if (s == NULL) return NULL;
  for (size_t i = 0; i < MG_TCPIP_ARP_SIZE; i++) s->arp[i].held = -1;
  mg_random(&s->ip_id, sizeof(s->ip_id));
  mg_random(&s->next_port, sizeof(s->next_port));  // Ephemeral ports hard to guess (RFC 6056)
  return s;
}

void mg_tcpip_init(struct mg_mgr *mgr, struct mg_tcpip_if *ifp) {
  if (mgr == NULL || ifp == NULL || !if_check_config(ifp)) return;
  struct tcpip_state *s = if_state_new(ifp);
  if (s == NULL) {
    MG_ERROR(("mg_tcpip_init: out of memory for the stack's state (%lu bytes)", (unsigned long) sizeof(*s)));
    return;
  }
  ifp->stack = s;
  ifp->mgr = mgr;
  ifp->state = MG_TCPIP_STATE_DOWN;
  if (tcpip_dhcp_on(ifp)) ifp->ip = ifp->mask = ifp->gw = 0;  // Until a server gives them
  if (ifp->driver->init != NULL && !ifp->driver->init(ifp)) {
    MG_ERROR(("mg_tcpip_init: the driver did not start (MAC %M)", mg_print_mac, ifp->mac));
    mg_tcpip_free(ifp);
    return;
  }
  mgr->ifp = ifp;
  MG_INFO(("interface MAC %M, %s", mg_print_mac, ifp->mac, ifp->enable_dhcp_client ? "DHCP" : "static address"));
  tcpip_poll(ifp, mg_millis());
}

void mg_tcpip_free(struct mg_tcpip_if *ifp) {
  if (ifp == NULL || ifp->stack == NULL) return;
  if (MG_ENABLE_TCPIP_DHCP) tcpip_dhcp_free(ifp);
  tcpip_tcp_free_all(ifp);
  mg_free(ifp->stack);
  ifp->stack = NULL;
  ifp->state = MG_TCPIP_STATE_DOWN;
  if (ifp->mgr != NULL && ifp->mgr->ifp == ifp) ifp->mgr->ifp = NULL;
}

void tcpip_set_state(struct mg_tcpip_if *ifp, uint8_t state) {
  if (ifp->state == state) return;
  MG_DEBUG(("interface %s -> %s", if_state_names[ifp->state], if_state_names[state]));
  ifp->state = state;
}

uint8_t *tcpip_tx_buf(struct mg_tcpip_if *ifp) {
  return if_own_tx_needed(ifp) ? tcpip_state(ifp)->tx_own : (uint8_t *) ifp->tx.buf;
}

// Frames shorter than Ethernet's minimum go out padded with zeros, not with whatever
// the buffer held before (a MAC that pads by itself would not leak it, but one may not).
// Zeros add nothing to a checksum a driver completes over the frame's tail
static size_t if_padded(uint8_t *frame, size_t len) {
  if (len >= 60) return len;
  memset(frame + len, 0, 60 - len);
  return 60;
}

static bool if_counted(struct mg_tcpip_if *ifp, size_t sent, size_t len) {
  if (sent != len) {
    ifp->counters.tx_fail++;
    return false;
  }
  ifp->counters.tx_frames++;
  return true;
}

bool tcpip_tx(struct mg_tcpip_if *ifp, uint8_t *frame, size_t len) {
  len = if_padded(frame, len);
  return if_counted(ifp, ifp->driver->tx(frame, len, ifp), len);
}

size_t tcpip_tso_max(struct mg_tcpip_if *ifp) {
  if (!MG_ENABLE_TCPIP_OFFLOAD || ifp->driver->tx_tcp == NULL) return 0;
  return ifp->tso_max < if_tx_size(ifp) ? ifp->tso_max : if_tx_size(ifp);
}

bool tcpip_tx_tcp(struct mg_tcpip_if *ifp, uint8_t *frame, size_t len, uint16_t mss) {
  len = if_padded(frame, len);
  return if_counted(ifp, ifp->driver->tx_tcp(frame, len, mss, ifp), len);
}

// The FCS is the frame's CRC-32, least significant byte first (IEEE 802.3 3.2.9)
static bool if_fcs_ok(const uint8_t *frame, size_t len) {
  uint32_t crc = mg_crc32(0, (const char *) frame, len - 4);
  const uint8_t *fcs = frame + len - 4;
  return fcs[0] == (uint8_t) crc && fcs[1] == (uint8_t) (crc >> 8) && fcs[2] == (uint8_t) (crc >> 16) &&
         fcs[3] == (uint8_t) (crc >> 24);
}

static void if_frame_input(struct mg_tcpip_if *ifp, const uint8_t *frame, size_t len) {
  struct tcpip_eth eth;
  ifp->counters.rx_frames++;
  if (ifp->enable_crc32_check) {
    if (len < TCPIP_ETH_HDR + 4 || !if_fcs_ok(frame, len)) {
      ifp->counters.drop_csum++;
      return;
    }
    len -= 4;
  }
  if (!tcpip_eth_parse(frame, len, &eth)) {
    ifp->counters.drop_malformed++;
  } else if (ifp->enable_mac_check && memcmp(eth.dst, ifp->mac, 6) != 0 &&
             memcmp(eth.dst, if_broadcast_mac, 6) != 0) {
    ifp->counters.drop_other++;
  } else if (eth.type == TCPIP_ETH_ARP) {
    tcpip_arp_input(ifp, eth.payload, eth.len);
  } else if (eth.type == TCPIP_ETH_IPV4) {
    tcpip_ip_input(ifp, eth.payload, eth.len);
  } else {
    ifp->counters.drop_other++;
  }
}

size_t tcpip_rx_burst(struct mg_tcpip_if *ifp, size_t max) {
  struct tcpip_state *s = tcpip_state(ifp);
  size_t n = 0;
  while (n < max) {
    if (MG_ENABLE_TCPIP_OFFLOAD) ifp->rx_csum_vouched = false;  // Only what the driver says of this frame
    size_t len = ifp->driver->rx(s->rx, sizeof(s->rx), ifp);
    if (len == 0) break;
    n++;
    if_frame_input(ifp, s->rx, len < sizeof(s->rx) ? len : sizeof(s->rx));
  }
  return n;
}

static void if_link_change(struct mg_tcpip_if *ifp, bool up) {
  struct tcpip_state *s = tcpip_state(ifp);
  s->link_up = up;
  s->announced_ip = 0;  // A link that comes back hears the address again
  MG_INFO(("link %s", up ? "up" : "down"));
  tcpip_arp_flush(ifp);
  tcpip_set_state(ifp, up ? MG_TCPIP_STATE_UP : MG_TCPIP_STATE_DOWN);
  if (tcpip_dhcp_on(ifp)) tcpip_dhcp_link(ifp, up);
}

// The address was set (statically, by DHCP, or changed by the application): announce
// it, then find the gateway's MAC before calling the interface ready
static void if_address_check(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  if (ifp->ip == 0) {
    s->announced_ip = 0;
    if (ifp->state >= MG_TCPIP_STATE_IP) tcpip_set_state(ifp, MG_TCPIP_STATE_UP);
    return;
  }
  if (ifp->ip != s->announced_ip) {
    MG_INFO(("address %M, mask %M, gateway %M", mg_print_ip4, &ifp->ip, mg_print_ip4, &ifp->mask, mg_print_ip4,
             &ifp->gw));
    s->announced_ip = ifp->ip;
    tcpip_arp_announce(ifp);
    tcpip_set_state(ifp, MG_TCPIP_STATE_IP);
  }
  if (ifp->state == MG_TCPIP_STATE_IP) {
    if (ifp->gw == 0 || tcpip_arp_lookup(ifp, ifp->gw) != NULL) tcpip_set_state(ifp, MG_TCPIP_STATE_READY);
    else tcpip_arp_resolve(ifp, ifp->gw);
  }
}

void tcpip_poll(struct mg_tcpip_if *ifp, uint64_t now) {
  struct tcpip_state *s = tcpip_state(ifp);
  bool s1 = now >= s->next_second;
  if (s1) s->next_second = now + 1000;
  bool up = ifp->driver->poll == NULL || ifp->driver->poll(ifp, s1);
  if (up != s->link_up) if_link_change(ifp, up);
  tcpip_tcp_poll(ifp, now);  // With the link down too: retransmissions time out
  if (!up) return;
  if (tcpip_dhcp_on(ifp)) tcpip_dhcp_timer(ifp, now);
  if_address_check(ifp);
  tcpip_arp_timer(ifp, now);
}

static uint64_t if_earlier(uint64_t a, uint64_t b) {
  return a == 0 ? b : b == 0 || a < b ? a : b;
}

uint64_t tcpip_next_deadline(struct mg_tcpip_if *ifp) {
  struct tcpip_state *s = tcpip_state(ifp);
  uint64_t t = if_earlier(if_earlier(s->next_second, tcpip_arp_deadline(ifp)), tcpip_tcp_deadline(ifp));
  return tcpip_dhcp_on(ifp) ? if_earlier(t, tcpip_dhcp_deadline(ifp)) : t;
}
#endif  // MG_ENABLE_TCPIP
