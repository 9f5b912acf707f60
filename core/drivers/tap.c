// Linux TAP driver for the built-in stack: whole Ethernet frames through /dev/net/tun
// (IFF_TAP | IFF_NO_PI), non-blocking, with the kernel as the peer on the other side.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "meerkat.h"

#if MG_ENABLE_TCPIP && defined(__linux__)
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static struct mg_tcpip_driver_tap_data *tap_data(struct mg_tcpip_if *ifp) {
  return (struct mg_tcpip_driver_tap_data *) ifp->driver_data;
}

// A test knob, off unless set: MEERKAT_TAP_LOSS=PERCENT (e.g. 1 or 0.5) drops that share of
// the frames received and sent, chosen by a PRNG seeded with MEERKAT_TAP_SEED (default 1),
// so a lossy link can be tested where the kernel has no netem. Read once, at init.
static uint32_t tap_loss_ppm;     // Frames dropped per million; 0: none
static uint64_t tap_loss_state;   // xorshift64*: the same drops for the same seed

static void tap_loss_init(const char *name) {
  const char *loss = getenv("MEERKAT_TAP_LOSS"), *seed = getenv("MEERKAT_TAP_SEED");
  double percent = loss == NULL ? 0 : strtod(loss, NULL);
  tap_loss_ppm = percent > 0 ? (uint32_t) (percent >= 100 ? 1000000 : percent * 10000 + 0.5) : 0;
  tap_loss_state = seed == NULL ? 1 : strtoull(seed, NULL, 0);
  if (tap_loss_state == 0) tap_loss_state = 1;  // xorshift's one fixed point
  if (tap_loss_ppm == 0) return;
  MG_INFO(("TAP %s: dropping %s%% of frames each way (MEERKAT_TAP_LOSS, a test knob), seed %llu", name, loss,
           (unsigned long long) tap_loss_state));
}

static bool tap_loss_drop(void) {
  if (tap_loss_ppm == 0) return false;
  uint64_t x = tap_loss_state;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  tap_loss_state = x;
  return (uint32_t) (((x * 0x2545f4914f6cdd1dULL) >> 32) % 1000000U) < tap_loss_ppm;
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

static int tap_open(const char *name) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    tap_log_open_error(name, "opening /dev/net/tun", errno);
    return -1;
  }
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, strlen(name));  // Length checked by the caller
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    tap_log_open_error(name, "attaching (TUNSETIFF)", errno);
    close(fd);
    return -1;
  }
  return fd;
}

static bool tap_init(struct mg_tcpip_if *ifp) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (d == NULL || d->name == NULL || d->name[0] == '\0') {
    MG_ERROR(("TAP: no device name (driver_data: struct mg_tcpip_driver_tap_data with .name)"));
    if (d != NULL) d->fd = -1;
    return false;
  }
  d->fd = -1, d->link_up = false, d->rx_errno = d->tx_errno = 0;
  if (strlen(d->name) >= IFNAMSIZ) {
    MG_ERROR(("TAP %s: name too long (at most %d characters)", d->name, IFNAMSIZ - 1));
    return false;
  }
  d->fd = tap_open(d->name);
  if (d->fd < 0) return false;
  tap_loss_init(d->name);
  MG_INFO(("TAP %s: attached, fd %d", d->name, d->fd));
  return true;
}

// A failing descriptor would fail on every loop pass: one log line per new errno
static void tap_note_error(struct mg_tcpip_if *ifp, const char *op, int *last, int err) {
  if (err != *last) MG_ERROR(("TAP %s: %s: %s", tap_data(ifp)->name, op, strerror(err)));
  *last = err;
}

static size_t tap_rx(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  ssize_t n;
  while ((n = read(d->fd, buf, len)) > 0 && tap_loss_drop()) (void) 0;  // Lost on the way in
  if (n > 0) return (size_t) n;
  if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  tap_note_error(ifp, "read", &d->rx_errno, errno);
  ifp->counters.rx_errors++;
  return 0;
}

// 0 tells the stack "not now" (it counts tx_fail): a full queue, or the TAP is down
static size_t tap_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (tap_loss_drop()) return len;  // Lost on the wire: sent as far as the stack knows
  ssize_t n = write(d->fd, buf, len);
  if (n == (ssize_t) len) return len;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    tap_note_error(ifp, "write", &d->tx_errno, errno);
  }
  return 0;
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

static void tap_wait(struct mg_tcpip_if *ifp, int ms) {
  struct pollfd pfd = {.fd = tap_data(ifp)->fd, .events = POLLIN, .revents = 0};
  (void) poll(&pfd, 1, ms);  // EINTR or an error: the loop pass goes on and asks again
}

struct mg_tcpip_driver mg_tcpip_driver_tap = {tap_init, tap_tx, tap_rx, tap_poll, tap_wait};
#endif
