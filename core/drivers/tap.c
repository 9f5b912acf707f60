// Linux TAP driver for the built-in stack: whole Ethernet frames through /dev/net/tun
// (IFF_TAP | IFF_NO_PI, IFF_VNET_HDR for offloads), non-blocking, the kernel as the peer.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "meerkat.h"
#include "drivers/tap_lane.h"

#if MG_ENABLE_TCPIP && defined(__linux__)
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

// With offloads every frame each way follows a virtio-net header (virtio 1.x 5.1.6): the
// kernel completes TCP checksums and cuts segments of up to 64 KiB (IPv4 max) for us
enum { TAP_TSO_MAX = 14 + 65535, TAP_ETH_HDR = 14, TAP_TCP_CSUM_AT = 16 };

static struct mg_tcpip_driver_tap_data *tap_data(struct mg_tcpip_if *ifp) {
  return (struct mg_tcpip_driver_tap_data *) ifp->driver_data;
}

// Test knobs, off unless set, read once at init, drawn from one PRNG seeded with MEERKAT_TAP_SEED
// (default 1: the same frames for the same seed), so a bad link can be tested where the kernel
// has no netem. Each way: MEERKAT_TAP_LOSS=PERCENT (e.g. 1 or 0.5) drops that share of frames;
// MEERKAT_TAP_REORDER=PERCENT holds that share back until the next frame has gone (or
// TAP_HOLD_MS / the delay passed); MEERKAT_TAP_DELAY_MS=N delays every frame by N ms
enum { TAP_HOLD_MS = 10, TAP_DELAY_MAX_MS = 10000 };
static uint32_t tap_loss_ppm, tap_reorder_ppm;  // Frames dropped, held per million; 0: none
static uint64_t tap_knob_state;                 // The PRNG's (tap_lane_chance)
static bool tap_lanes_on;                       // Reorder or delay: frames through the lanes
static struct tap_lane tap_out_lane, tap_in_lane;

static void tap_knobs_log(const char *name, uint32_t delay_ms) {
  const char *loss = getenv("MEERKAT_TAP_LOSS"), *reorder = getenv("MEERKAT_TAP_REORDER");
  unsigned long long seed = (unsigned long long) tap_knob_state;
  if (tap_loss_ppm > 0) {
    MG_INFO(("TAP %s: dropping %s%% of frames each way (MEERKAT_TAP_LOSS, a test knob), seed %llu", name, loss, seed));
  }
  if (tap_reorder_ppm > 0) {
    MG_INFO(("TAP %s: reordering %s%% of frames each way (MEERKAT_TAP_REORDER, a test knob), seed %llu", name, reorder,
             seed));
  }
  if (delay_ms > 0) MG_INFO(("TAP %s: delaying frames by %u ms each way (MEERKAT_TAP_DELAY_MS, a test knob)", name,
                             (unsigned) delay_ms));
}

static void tap_knobs_init(const char *name) {
  const char *seed = getenv("MEERKAT_TAP_SEED"), *delay_env = getenv("MEERKAT_TAP_DELAY_MS");
  tap_loss_ppm = tap_lane_ppm(getenv("MEERKAT_TAP_LOSS"));
  tap_reorder_ppm = tap_lane_ppm(getenv("MEERKAT_TAP_REORDER"));
  long delay = delay_env == NULL ? 0 : strtol(delay_env, NULL, 10);
  uint32_t delay_ms = delay <= 0 ? 0 : (uint32_t) (delay > TAP_DELAY_MAX_MS ? TAP_DELAY_MAX_MS : delay);
  tap_knob_state = seed == NULL ? 1 : strtoull(seed, NULL, 0);
  if (tap_knob_state == 0) tap_knob_state = 1;  // xorshift's one fixed point
  tap_lanes_on = tap_reorder_ppm > 0 || delay_ms > 0;
  tap_lane_init(&tap_out_lane, delay_ms, delay_ms > 0 ? delay_ms : TAP_HOLD_MS);
  tap_lane_init(&tap_in_lane, delay_ms, delay_ms > 0 ? delay_ms : TAP_HOLD_MS);
  tap_knobs_log(name, delay_ms);
}

static bool tap_loss_drop(void) {
  return tap_lane_chance(&tap_knob_state, tap_loss_ppm);
}

// What a user got wrong, in words they can act on
static void tap_log_open_error(const char *name, const char *step, int err) {
  if (err == ENOENT || err == ENODEV || err == ENXIO) {
    MG_ERROR(("TAP %s: no /dev/net/tun (%s): load the tun module (modprobe tun), or pass the "
              "device into the container (--device /dev/net/tun)", name, strerror(err)));
  } else if (err == EACCES || err == EPERM) {
    MG_ERROR(("TAP %s: %s not permitted (%s): run as root or with CAP_NET_ADMIN, or create the "
              "TAP for this user first (ip tuntap add %s mode tap user USER)", name, step, strerror(err), name));
  } else if (err == EBUSY) {
    MG_ERROR(("TAP %s: in use by another process", name));
  } else if (err == EINVAL) {
    MG_ERROR(("TAP %s: %s refused (%s): a device of that name exists and is not a TAP without "
              "packet information", name, step, strerror(err)));
  } else {
    MG_ERROR(("TAP %s: %s: %s", name, step, strerror(err)));
  }
}

// MEERKAT_TAP_TSO=0 turns the offloads off, to compare; the other knobs do too, as they
// must drop, hold and delay single Ethernet frames, not 64 KiB segments the kernel cuts later
static bool tap_offload_wanted(void) {
  const char *tso = getenv("MEERKAT_TAP_TSO");
  return tap_loss_ppm == 0 && !tap_lanes_on && (tso == NULL || strcmp(tso, "0") != 0);
}

static int tap_open(const char *name, bool offload) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    tap_log_open_error(name, "opening /dev/net/tun", errno);
    return -1;
  }
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = (short) (IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  memcpy(ifr.ifr_name, name, strlen(name));  // Length checked by the caller
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    tap_log_open_error(name, "attaching (TUNSETIFF)", errno);
    close(fd);
    return -1;
  }
  // A persistent TAP keeps the offloads an earlier process set: without the header the kernel
  // would then hand us unfilled checksums we cannot tell apart, so they go off
  if (!offload && ioctl(fd, TUNSETOFFLOAD, 0) != 0) MG_DEBUG(("TAP %s: TUNSETOFFLOAD 0: %s", name, strerror(errno)));
  return fd;
}

// The kernel may then hand us large segments and unfilled checksums, and takes them from us
static bool tap_offload_on(struct mg_tcpip_driver_tap_data *d) {
  int size = (int) sizeof(struct virtio_net_hdr);
  if (ioctl(d->fd, TUNSETVNETHDRSZ, &size) == 0 && ioctl(d->fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0) {
    return true;
  }
  MG_ERROR(("TAP %s: offloads refused (%s): plain frames", d->name, strerror(errno)));
  return false;
}

static bool tap_init(struct mg_tcpip_if *ifp) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (d == NULL || d->name == NULL || d->name[0] == '\0') {
    MG_ERROR(("TAP: no device name (driver_data: struct mg_tcpip_driver_tap_data with .name)"));
    if (d != NULL) d->fd = -1;
    return false;
  }
  d->fd = -1, d->link_up = false, d->rx_errno = d->tx_errno = 0;
  d->knob_dropped = d->knob_reordered = d->knob_overflow = 0;
  if (strlen(d->name) >= IFNAMSIZ) {
    MG_ERROR(("TAP %s: name too long (at most %d characters)", d->name, IFNAMSIZ - 1));
    return false;
  }
  tap_knobs_init(d->name);
  d->offload = tap_offload_wanted();
  d->fd = tap_open(d->name, d->offload);
  if (d->fd < 0) return false;
  if (d->offload && !tap_offload_on(d)) {
    close(d->fd);  // The header size or the offloads refused: plain frames, as without
    d->offload = false;
    d->fd = tap_open(d->name, false);
    if (d->fd < 0) return false;
  }
  ifp->tso_max = d->offload ? TAP_TSO_MAX : 0;
  MG_INFO(("TAP %s: attached, fd %d, %s", d->name, d->fd,
           d->offload ? "TCP checksums and segments of up to 64 KiB left to the kernel" : "no offloads"));
  return true;
}

// A failing descriptor would fail on every loop pass: one log line per new errno
static void tap_note_error(struct mg_tcpip_if *ifp, const char *op, int *last, int err) {
  if (err != *last) MG_ERROR(("TAP %s: %s: %s", tap_data(ifp)->name, op, strerror(err)));
  *last = err;
}

// A frame, after its virtio-net header when offloads are on. One larger than buf arrives cut
// short, and the stack drops it as malformed: the buffer bounds what a peer makes us hold
static ssize_t tap_read(struct mg_tcpip_if *ifp, void *buf, size_t len) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (!d->offload) return read(d->fd, buf, len);
  struct virtio_net_hdr h;
  struct iovec iov[2] = {{&h, sizeof(h)}, {buf, len}};
  ssize_t n = readv(d->fd, iov, 2);
  if (n < 0) return n;
  if ((size_t) n < sizeof(h)) return 0;
  // Checked by the kernel, or from a local sender that left it to the device (us): the
  // sender's stack is the same kernel, so nothing on the way could have changed it
  ifp->rx_csum_vouched = (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
  return n - (ssize_t) sizeof(h);
}

// Why a read returned nothing: logged and counted if it failed, not if the TAP is just empty
static void tap_read_failed(struct mg_tcpip_if *ifp, ssize_t n) {
  if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  tap_note_error(ifp, "read", &tap_data(ifp)->rx_errno, errno);
  ifp->counters.rx_errors++;
}

// One frame the loss knob let through, <= 0 when none (tap_read's)
static ssize_t tap_read_kept(struct mg_tcpip_if *ifp, void *buf, size_t len) {
  ssize_t n;
  while ((n = tap_read(ifp, buf, len)) > 0 && tap_loss_drop()) tap_data(ifp)->knob_dropped++;  // Lost on the way in
  return n;
}

// The knobs' counts where the application reads them (test/tcpip/tap_env.c logs them)
static void tap_knobs_count(struct mg_tcpip_driver_tap_data *d) {
  d->knob_reordered = tap_out_lane.reordered + tap_in_lane.reordered;
  d->knob_overflow = tap_out_lane.overflow + tap_in_lane.overflow;
}

// Delayed or reordered frames out to the kernel once due; one lost by a failed write is
// logged as a failed write is
static void tap_out_flush(struct mg_tcpip_if *ifp) {
  static uint8_t frame[TAP_LANE_FRAME];
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  size_t n;
  while ((n = tap_lane_pop(&tap_out_lane, mg_millis(), frame, sizeof(frame))) > 0) {
    if (write(d->fd, frame, n) < 0) tap_note_error(ifp, "write", &d->tx_errno, errno);
  }
  tap_knobs_count(d);
}

// Through the lanes: read while the rx lane has room (the kernel's queue holds the rest),
// then hand the stack the next frame due
static size_t tap_rx_through_lanes(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  ssize_t n = 0;
  tap_out_flush(ifp);  // Every loop pass reads: the outgoing lane's due frames leave here too
  while (tap_lane_has_room(&tap_in_lane) && (n = tap_read_kept(ifp, buf, len)) > 0) {
    if ((size_t) n > TAP_LANE_FRAME) return (size_t) n;  // Not a plain frame: at once
    bool hold = tap_lane_chance(&tap_knob_state, tap_reorder_ppm);
    (void) tap_lane_push(&tap_in_lane, buf, (size_t) n, hold, mg_millis());  // Room checked: queued
  }
  if (n <= 0) tap_read_failed(ifp, n);
  tap_knobs_count(tap_data(ifp));
  return tap_lane_pop(&tap_in_lane, mg_millis(), buf, len);
}

static size_t tap_rx(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  if (tap_lanes_on) return tap_rx_through_lanes(buf, len, ifp);
  ssize_t n = tap_read_kept(ifp, buf, len);
  if (n > 0) return (size_t) n;
  tap_read_failed(ifp, n);
  return 0;
}

// 0 tells the stack "not now" (it counts tx_fail): a full queue, or the TAP is down
static size_t tap_write(struct mg_tcpip_if *ifp, const struct virtio_net_hdr *h, const void *buf, size_t len) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (tap_loss_drop()) {  // Lost on the wire: sent as far as the stack knows
    d->knob_dropped++;
    return len;
  }
  if (tap_lanes_on && len <= TAP_LANE_FRAME) {  // Held or delayed, or dropped by a full queue (counted)
    bool hold = tap_lane_chance(&tap_knob_state, tap_reorder_ppm);
    (void) tap_lane_push(&tap_out_lane, buf, len, hold, mg_millis());
    tap_out_flush(ifp);
    return len;
  }
  struct iovec iov[2] = {{(void *) h, sizeof(*h)}, {(void *) buf, len}};
  ssize_t n = d->offload ? writev(d->fd, iov, 2) - (ssize_t) sizeof(*h) : write(d->fd, buf, len);
  if (n == (ssize_t) len) return len;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    tap_note_error(ifp, "write", &d->tx_errno, errno);
  }
  return 0;
}

static size_t tap_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  struct virtio_net_hdr h;
  memset(&h, 0, sizeof(h));  // Complete as it is: no checksum to fill, nothing to cut
  return tap_write(ifp, &h, buf, len);
}

// The stack's IPv4 TCP frame (tx_tcp): the kernel fills the checksum at csum_start +
// csum_offset over the TCP header and data, and cuts a payload over mss into mss-byte segments
static size_t tap_tx_tcp(const void *buf, size_t len, uint16_t mss, struct mg_tcpip_if *ifp) {
  const uint8_t *f = (const uint8_t *) buf;
  if (!tap_data(ifp)->offload || len < TAP_ETH_HDR + 40) return 0;
  size_t ip_hdr = (size_t) (f[TAP_ETH_HDR] & 0x0f) * 4, tcp_at = TAP_ETH_HDR + ip_hdr;
  if (tcp_at + 20 > len) return 0;
  size_t hdrs = tcp_at + (size_t) (f[tcp_at + 12] >> 4) * 4;
  uint16_t ip_len = (uint16_t) ((f[TAP_ETH_HDR + 2] << 8) | f[TAP_ETH_HDR + 3]);
  struct virtio_net_hdr h;
  memset(&h, 0, sizeof(h));
  h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h.csum_start = (uint16_t) tcp_at, h.csum_offset = TAP_TCP_CSUM_AT;
  if (TAP_ETH_HDR + (size_t) ip_len > hdrs + mss) {  // Padding is no payload
    h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    h.gso_size = mss, h.hdr_len = (uint16_t) hdrs;
  }
  return tap_write(ifp, &h, buf, len);
}

// The kernel side's view: an address-family socket asks for the TAP's flags
static bool tap_link_up(const char *name) {
  struct ifreq ifr;
  bool up = false;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.ifr_name, name, strlen(name));
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
  close(s);
  return up;
}

// Asking the kernel costs a socket, so only once a second; in between, the last answer
static bool tap_poll(struct mg_tcpip_if *ifp, bool s1) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (s1 && d->fd >= 0) d->link_up = tap_link_up(d->name);
  return d->link_up;
}

// The shorter of two waits, -1 being none
static int tap_wait_min(int a, int b) {
  return b < 0 || (a >= 0 && a < b) ? a : b;
}

static void tap_wait(struct mg_tcpip_if *ifp, int ms) {
  struct pollfd pfd = {.fd = tap_data(ifp)->fd, .events = POLLIN, .revents = 0};
  if (tap_lanes_on) {  // Wake when a held or delayed frame is due
    uint64_t now = mg_millis();
    ms = tap_wait_min(ms, tap_wait_min(tap_lane_wait_ms(&tap_out_lane, now), tap_lane_wait_ms(&tap_in_lane, now)));
    if (!tap_lane_has_room(&tap_in_lane)) pfd.fd = -1;  // Readable, but not read until frames leave
  }
  (void) poll(&pfd, 1, ms);  // EINTR or an error: the loop pass goes on and asks again
}

struct mg_tcpip_driver mg_tcpip_driver_tap = {tap_init, tap_tx, tap_rx, tap_poll, tap_wait, tap_tx_tcp};
#endif
