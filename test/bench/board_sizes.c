// Figures of the minimal HTTP program's build that the board benchmark (test/bench/board.sh)
// reads with nm -S, compiled with its flags: each array is as long as the figure it names,
// so that the heap's buffers can be told from the rest without running anything.
#include <stddef.h>
#include "tcpip/tcpip_internal.h"

#if MG_ENABLE_TCPIP
// A TCB's receive and send rings
extern const char board_size_rings[MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX];
const char board_size_rings[MG_TCPIP_TCP_RX + MG_TCPIP_TCP_TX] = {1};
// One plain recv or send iobuf, as the manager keeps it among its spares
extern const char board_size_io[MG_IO_SIZE];
const char board_size_io[MG_IO_SIZE] = {1};
// The stack's frame buffers: the received frame, the frames held for ARP, its own to send in
extern const char board_size_frames[TCPIP_RX_FRAME + (MG_TCPIP_ARP_PENDING + 1) * TCPIP_ETH_FRAME];
const char board_size_frames[TCPIP_RX_FRAME + (MG_TCPIP_ARP_PENDING + 1) * TCPIP_ETH_FRAME] = {1};
// The stack's state as allocated for an interface that brings no frame to send in
extern const char board_size_state[sizeof(struct tcpip_state) + TCPIP_ETH_FRAME];
const char board_size_state[sizeof(struct tcpip_state) + TCPIP_ETH_FRAME] = {1};
// Where struct mg_mgr counts its spare iobufs (plus one: an array is never empty)
extern const char board_offset_io_spares[offsetof(struct mg_mgr, io_spares) + 1];
const char board_offset_io_spares[offsetof(struct mg_mgr, io_spares) + 1] = {1};
#endif
