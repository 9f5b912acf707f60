// Linux TAP driver for the built-in stack: whole Ethernet frames through /dev/net/tun
// (IFF_TAP | IFF_NO_PI), non-blocking, with the kernel as the peer on the other side.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "meerkat.h"

#if MG_ENABLE_TCPIP && defined(__linux__)
#include <errno.h>
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
  d->test_loss_state = d->test_loss_seed != 0 ? d->test_loss_seed : 1, d->test_dropped = 0;
  if (strlen(d->name) >= IFNAMSIZ) {
    MG_ERROR(("TAP %s: name too long (at most %d characters)", d->name, IFNAMSIZ - 1));
    return false;
  }
  d->fd = tap_open(d->name);
  if (d->fd < 0) return false;
  MG_INFO(("TAP %s: attached, fd %d", d->name, d->fd));
  if (d->test_loss_percent > 0) {
    MG_INFO(("TAP %s: test loss: dropping %u%% of frames each way (seed %lu)", d->name, d->test_loss_percent,
             (unsigned long) d->test_loss_state));
  }
  return true;
}

// Test loss (test_loss_percent): whether to drop this frame. xorshift32 (Marsaglia), seeded
// by the application so that a run repeats; no frame is dropped when the knob is off
static bool tap_test_drop(struct mg_tcpip_driver_tap_data *d) {
  if (d->test_loss_percent == 0) return false;
  uint32_t x = d->test_loss_state;
  x ^= x << 13, x ^= x >> 17, x ^= x << 5;
  d->test_loss_state = x;
  if (x % 100U >= d->test_loss_percent) return false;
  d->test_dropped++;
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
  do {
    n = read(d->fd, buf, len);
  } while (n > 0 && tap_test_drop(d));  // Lost on the wire: the next frame, if any
  if (n > 0) return (size_t) n;
  if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  tap_note_error(ifp, "read", &d->rx_errno, errno);
  ifp->counters.rx_errors++;
  return 0;
}

// 0 tells the stack "not now" (it counts tx_fail): a full queue, or the TAP is down
static size_t tap_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  struct mg_tcpip_driver_tap_data *d = tap_data(ifp);
  if (tap_test_drop(d)) return len;  // Lost on the wire: the sender cannot tell
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
