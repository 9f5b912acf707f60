// RAM per TCP connection on the built-in stack beyond its buffers, for `make bench`: each
// array below is as long as what one connection holds, and test/bench/tcpip.sh reads their
// sizes with nm -S from the object compiled for the host (the tap flavour's flags) and for
// Cortex-M (the ARM flags), so nothing needs to run. A connection is two allocations: its
// TCB (struct tcpip_tcb, with MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX bytes of ring after it) and
// its struct mg_connection (recv and send are separate iobufs: buffers, not counted).
// Also the interface's one allocation (its state with the receive and transmit frames).
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
extern const char tcpip_size_tcb[sizeof(struct tcpip_tcb)];
extern const char tcpip_size_engine[sizeof(struct tcp_conn)];
extern const char tcpip_size_conn[sizeof(struct mg_connection)];
const char tcpip_size_tcb[sizeof(struct tcpip_tcb)] = {1};
const char tcpip_size_engine[sizeof(struct tcp_conn)] = {1};
const char tcpip_size_conn[sizeof(struct mg_connection)] = {1};
extern const char tcpip_size_iface[sizeof(struct tcpip_state) + TCPIP_ETH_FRAME];
const char tcpip_size_iface[sizeof(struct tcpip_state) + TCPIP_ETH_FRAME] = {1};
#endif
