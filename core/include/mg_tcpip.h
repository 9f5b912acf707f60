// The built-in TCP/IP stack (-DMG_ENABLE_TCPIP=1): one Ethernet interface driven by a
// driver, under the same mg_listen / mg_connect / MG_EV_* as OS sockets. Mongoose 7.22's names.
#ifndef MG_TCPIP_H
#define MG_TCPIP_H

// Frame size and offloads: the TCP engine (core/tcpip/tcp.c) reads them in every build
#ifndef MG_TCPIP_FRAME_MAX
#define MG_TCPIP_FRAME_MAX 1514  // Largest frame in or out without FCS: Ethernet's. More (the TAP build's
                                 // 65549) only for a driver that segments TCP itself (tx_tcp) and receives large frames
#endif
// Offloads a driver may offer (tx_tcp, tso_max, rx_csum_vouched): on where frames may be larger
// than Ethernet's, else out of the build (a MCU MAC has none: not a byte of flash for them)
#ifndef MG_ENABLE_TCPIP_OFFLOAD
#define MG_ENABLE_TCPIP_OFFLOAD (MG_TCPIP_FRAME_MAX > 1514)
#endif

#if MG_ENABLE_TCPIP
// Build options, with defaults for a small device; the stack's state takes about
// 1.6 KiB + 1.5 KiB per held frame + 24 bytes per ARP entry (+ 1.5 KiB without ifp->tx)
#ifndef MG_TCPIP_ARP_SIZE
#define MG_TCPIP_ARP_SIZE 8  // Neighbours remembered (the gateway, DNS, a few LAN peers)
#endif
#ifndef MG_TCPIP_ARP_PENDING
#define MG_TCPIP_ARP_PENDING 2  // Frames held while their next hop resolves, one per destination
#endif
#ifndef MG_TCPIP_RX_BURST
#define MG_TCPIP_RX_BURST 16  // Frames taken per loop pass: a flood cannot make one pass long
#endif
#ifndef MG_TCPIP_TCP_RX
#define MG_TCPIP_TCP_RX 8192  // Receive buffer per TCP connection: the window it offers
#endif
#ifndef MG_TCPIP_TCP_TX
#define MG_TCPIP_TCP_TX 8192  // Send buffer per TCP connection: sent-unacknowledged and unsent bytes
#endif
#ifndef MG_TCPIP_TCP_MAX
#define MG_TCPIP_TCP_MAX 16  // TCP connections at once, those not accepted yet and those closing included
#endif
#ifndef MG_TCPIP_TCP_BACKLOG
#define MG_TCPIP_TCP_BACKLOG 4  // Per listener: handshakes and connections not accepted yet
#endif

struct mg_tcpip_if;

// A MAC driver: a few functions, so adding a MAC never touches the stack
struct mg_tcpip_driver {
  bool (*init)(struct mg_tcpip_if *);                         // Bring the MAC up; false: failed
  size_t (*tx)(const void *, size_t, struct mg_tcpip_if *);   // Send one frame; bytes sent, 0: not now
  size_t (*rx)(void *buf, size_t len, struct mg_tcpip_if *);  // One received frame into buf; its size, 0: none
  bool (*poll)(struct mg_tcpip_if *, bool s1);                // Link up? s1: once a second
  // Meerkat's addition, optional (NULL: the stack polls rx): sleep until a frame may
  // have arrived or ms pass. Host drivers (TAP) block on their descriptor here.
  void (*wait)(struct mg_tcpip_if *, int ms);
  // Meerkat's addition, optional (NULL: every frame through tx): send one IPv4 TCP frame of up to
  // ifp->tso_max bytes whose TCP checksum field holds only the pseudo-header's sum (RFC 9293 3.1).
  // The driver (or the kernel behind it) completes the checksum, and cuts a payload larger than
  // mss into segments of mss bytes (TSO). Bytes sent, 0: not now. A MCU MAC without it costs nothing.
  size_t (*tx_tcp)(const void *, size_t, uint16_t mss, struct mg_tcpip_if *);
};

// DOWN: no link; UP: link, no address (DHCP discovering); REQ: DHCP requesting an offer;
// IP: address set and announced, the gateway's MAC asked; READY: that answered (or no gateway)
enum { MG_TCPIP_STATE_DOWN, MG_TCPIP_STATE_UP, MG_TCPIP_STATE_REQ, MG_TCPIP_STATE_IP, MG_TCPIP_STATE_READY };

// What the stack counted; the application reads them (the firmware's `net` field set)
struct mg_tcpip_counters {
  uint32_t rx_frames, tx_frames;  // Frames received and sent
  uint32_t drop_csum;             // Bad IPv4, ICMP, UDP or TCP checksums
  uint32_t drop_malformed;        // Truncated or malformed headers
  uint32_t drop_frag;             // IPv4 fragments (not reassembled)
  uint32_t drop_no_port;          // UDP or TCP for no local port (TCP: answered with RST)
  uint32_t drop_no_mem;           // No buffer for it (out-of-order segment beyond the bound, ARP queue full)
  uint32_t drop_other;            // Not for us: other MAC or IP, unknown EtherType or protocol
  uint32_t tx_fail;               // The driver took no frame
  uint32_t tcp_retransmits;       // TCP segments sent again (timeout or fast retransmit)
  uint32_t tcp_resets;            // RST received or sent
  uint32_t arp_timeouts;          // Addresses that never answered ARP
  uint32_t rx_errors;             // Frames the driver could not receive (MAC error, failed read)
};

// The DHCP client; 0 leaves it out of the build (2 KB of a board's flash) for devices with a
// static address, and mg_tcpip_init then refuses enable_dhcp_client
#ifndef MG_ENABLE_TCPIP_DHCP
#define MG_ENABLE_TCPIP_DHCP 1
#endif

// The interface: the application fills mac, driver (and driver_data), and either
// ip / mask / gw or enable_dhcp_client, then calls mg_tcpip_init
struct mg_tcpip_if {
  uint8_t mac[6];                   // MAC address; must be a valid unicast address
  uint32_t ip, mask, gw;            // IPv4 address, netmask, default gateway (network byte order)
  struct mg_str tx;                 // Frame buffer for output; {NULL, 0}: the stack's own
  bool enable_dhcp_client;          // Ask a DHCP server for ip, mask, gw and DNS
  bool enable_dhcp_server;          // (Mongoose's; not in Meerkat: refused with a log line)
  bool enable_crc32_check;          // Received frames end with the FCS: check and strip it
  bool enable_mac_check;            // Drop frames not for our MAC or broadcast (a MAC without its own filter)
  struct mg_tcpip_driver *driver;   // The MAC driver
  void *driver_data;                // The driver's own
  struct mg_mgr *mgr;               // Set by mg_tcpip_init
  uint8_t state;                    // MG_TCPIP_STATE_*
  struct mg_tcpip_counters counters;
  void *stack;                      // The stack's private state (ARP cache, TCP connections)
  // Meerkat's additions, what the driver offers (none on a MCU MAC):
  size_t tso_max;        // Set by init with tx_tcp: the largest frame tx_tcp takes (the stack's frame
                         // buffer, MG_TCPIP_FRAME_MAX or ifp->tx, bounds it too); 0: tx_tcp unused
  bool rx_csum_vouched;  // Set by rx for the frame it returns (the stack clears it before each call): its
                         // TCP or UDP checksum was checked below, or left unfilled by a local sender, and is
                         // not checked again (virtio's DATA_VALID, NEEDS_CSUM). A driver that never sets it
                         // has every checksum checked
};

// Attach ifp to mgr: the manager's connections then run on it. mgr->ifp points to it.
void mg_tcpip_init(struct mg_mgr *, struct mg_tcpip_if *);
void mg_tcpip_free(struct mg_tcpip_if *);

extern struct mg_tcpip_driver mg_tcpip_driver_tap;      // Linux TAP (driver_data: struct mg_tcpip_driver_tap_data *)
extern struct mg_tcpip_driver mg_tcpip_driver_lan9118;  // SMSC LAN9118 (QEMU mps2-an385; driver_data unused)

// The TAP driver's data (core/drivers/tap.c). The process must run where the TAP lives
// (its network namespace) as root or with CAP_NET_ADMIN.
// Test knobs, read from the environment at init, off unless set (a bad link without netem), each
// way and drawn from one PRNG seeded with MEERKAT_TAP_SEED=N: MEERKAT_TAP_LOSS=PERCENT drops that
// share of frames; MEERKAT_TAP_REORDER=PERCENT holds that share back (at most 2 at once) until
// the next frame has gone, or 10 ms (the delay, if set) passed; MEERKAT_TAP_DELAY_MS=N (at most
// 10000) delays every frame by N ms in a queue of 64 frames: sent ones find it full and are
// dropped (knob_overflow), received ones then wait in the kernel's queue.
// Offloads: the TAP opens with IFF_VNET_HDR and leaves TCP checksums and segmentation to the
// kernel (TUN_F_CSUM | TUN_F_TSO4: segments of up to 64 KiB each way, tx_tcp and rx_csum_vouched),
// unless a test knob is set (they act on Ethernet frames) or MEERKAT_TAP_TSO=0 (plain
// frames, for comparison)
struct mg_tcpip_driver_tap_data {
  const char *name;  // The TAP to attach to or create, e.g. "tap0" (at most 15 characters)
  int fd;            // Set by init: its descriptor, -1 if init failed; the application closes it
  bool link_up;      // What poll last found: the TAP up (IFF_UP) and carrying (IFF_RUNNING)
  int rx_errno, tx_errno;  // The last read and write error, logged once until it changes
  bool offload;      // Set by init: frames carry a virtio-net header, the kernel checksums and segments
  uint32_t knob_dropped, knob_reordered, knob_overflow;  // The test knobs' work, both ways: frames lost,
                                                       // sent after a later one, dropped by a full delay queue
};
#endif

#endif  // MG_TCPIP_H
