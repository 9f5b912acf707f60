// Fuzz the built-in stack with arbitrary frames through the mock driver: an interface
// 10.0.0.2/24 (or a DHCP client, by a bit of the first byte) with UDP and TCP listeners
// that echo and a UDP and a TCP client. The input is frames,
// each behind a 2-byte length (the whole input as one frame when it has no such framing),
// with the fake clock moved by the byte after each, so ARP's retries and aging run too.
#include "../tcpip/mock_eth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_echo(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_READ) {
    mg_send(c, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
}

static void fuzz_feed(struct mg_mgr *mgr, const uint8_t *data, size_t size) {
  size_t i = 0;
  while (i + 2 <= size) {
    size_t len = (size_t) (data[i] << 8 | data[i + 1]);
    i += 2;
    if (len > size - i) len = size - i;
    mock_eth_inject(data + i, len);
    i += len;
    mg_mgr_poll(mgr, 0);
    if (i < size) mock_eth_advance((uint64_t) data[i++] * 10);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
  struct mg_mgr mgr;
  struct mg_tcpip_if ifp;
  mg_log_set(MG_LL_NONE);
  mock_eth_reset();
  mg_mgr_init(&mgr);
  memset(&ifp, 0, sizeof(ifp));
  memcpy(ifp.mac, mac, 6);
  ifp.ip = MG_IPV4(10, 0, 0, 2), ifp.mask = MG_IPV4(255, 255, 255, 0), ifp.gw = MG_IPV4(10, 0, 0, 1);
  ifp.enable_mac_check = size > 0 && (data[0] & 1);
  ifp.enable_dhcp_client = size > 0 && (data[0] & 2);
  ifp.driver = &mock_eth_driver;
  mg_tcpip_init(&mgr, &ifp);
  mg_listen(&mgr, "udp://0.0.0.0:7000", fuzz_echo, NULL);
  mg_connect(&mgr, "udp://10.0.0.9:5000", fuzz_echo, NULL);
  mg_listen(&mgr, "tcp://0.0.0.0:80", fuzz_echo, NULL);
  mg_connect(&mgr, "tcp://10.0.0.9:5001", fuzz_echo, NULL);
  mock_eth_inject(data, size > MOCK_ETH_FRAME ? MOCK_ETH_FRAME : size);  // Whole, as one frame
  mg_mgr_poll(&mgr, 0);
  fuzz_feed(&mgr, data, size);
  for (int i = 0; i < 4; i++) mg_mgr_poll(&mgr, 0);  // What a burst left
  mg_mgr_free(&mgr);
  mock_eth_clear_sent();
  return 0;
}
