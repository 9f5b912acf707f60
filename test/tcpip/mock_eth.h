// The mock Ethernet driver of the tcpip test build: frames injected as if received,
// frames sent captured for the test to read, link and refusals on demand, a fake clock.
#ifndef MOCK_ETH_H
#define MOCK_ETH_H

#include "meerkat.h"

#define MOCK_ETH_SLOTS 128  // Frames held each way; more injected are refused
#define MOCK_ETH_FRAME 1518 // With an FCS

extern struct mg_tcpip_driver mock_eth_driver;

void mock_eth_reset(void);                          // Empty both ways, link up, clock kept
bool mock_eth_inject(const void *frame, size_t len); // As if received; false when full
size_t mock_eth_pending(void);                      // Injected frames not read by the stack yet
size_t mock_eth_sent_count(void);                   // Frames the stack sent (the last MOCK_ETH_SLOTS kept)
const uint8_t *mock_eth_sent(size_t i, size_t *len); // The i-th of them, oldest first
void mock_eth_clear_sent(void);
void mock_eth_set_link(bool up);
void mock_eth_refuse_tx(bool refuse);  // tx takes nothing while set
unsigned mock_eth_rx_calls(void);      // Times the stack asked for a frame

// Offloads, off unless asked (mock_eth_reset turns them off; set before mg_tcpip_init): the
// driver then offers tx_tcp for frames of up to max bytes, completing their checksums and
// cutting them into mss-byte segments as a kernel behind a TAP does; the pieces land among
// the frames sent, complete. vouch: received frames come with ifp->rx_csum_vouched set
void mock_eth_set_tso(size_t max);
void mock_eth_vouch(bool vouch);
size_t mock_eth_tso_frames(void);   // Frames tx_tcp took
size_t mock_eth_tso_largest(void);  // The largest of them
uint16_t mock_eth_tso_mss(void);    // The segment size the last one asked for

// The fake clock, which the board's mg_board_millis reads; the driver's wait moves it
// by the whole wait when no frame is pending, so timeouts take no real time
uint64_t mock_eth_millis(void);
void mock_eth_advance(uint64_t ms);

#endif  // MOCK_ETH_H
