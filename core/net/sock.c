// OS sockets backend: non-blocking TCP and UDP over IPv4/IPv6. Implements the
// mg_net_* seam the event loop calls; readiness comes from poller_*.c.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "mg_internal.h"

#if MG_ENABLE_SOCKET
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SOCK_ACCEPT_BATCH 64  // Fairness: accept at most this many per readiness

static socklen_t sock_to_sa(const struct mg_addr *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (a->is_ip6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = a->port;
    sin6->sin6_scope_id = a->scope_id;
    memcpy(&sin6->sin6_addr, a->ip, 16);
    return (socklen_t) sizeof(*sin6);
  }
  struct sockaddr_in *sin = (struct sockaddr_in *) ss;
  sin->sin_family = AF_INET;
  sin->sin_port = a->port;
  memcpy(&sin->sin_addr, a->ip, 4);
  return (socklen_t) sizeof(*sin);
}

static void sock_from_sa(struct mg_addr *a, const struct sockaddr_storage *ss) {
  memset(a, 0, sizeof(*a));
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
    a->is_ip6 = true;
    a->port = sin6->sin6_port;
    a->scope_id = (uint8_t) sin6->sin6_scope_id;
    memcpy(a->ip, &sin6->sin6_addr, 16);
  } else if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
    a->port = sin->sin_port;
    memcpy(a->ip, &sin->sin_addr, 4);
  }
}

static bool sock_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

static bool sock_would_block(void) {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == EINPROGRESS;
}

bool mg_net_init(struct mg_mgr *mgr) {
  return mg_poller_init(mgr);
}

void mg_net_free(struct mg_mgr *mgr) {
  if (mgr->wakeup_fd >= 0) close(mgr->wakeup_fd);
  mgr->wakeup_fd = -1;
  mg_poller_free(mgr);
}

void mg_net_close(struct mg_connection *c) {
  if (MG_FD(c) >= 0) close(MG_FD(c));
  c->fd = MG_FD_PTR(-1);
}

// Listening address from a URL: numeric IPs, "localhost", or empty (any)
static bool sock_listen_addr(const char *url, struct mg_addr *a, bool *is_udp) {
  struct mg_url u;
  if (!mg_url_parse(mg_str(url), &u)) return false;
  *is_udp = mg_str_eq(u.scheme, "udp");
  memset(a, 0, sizeof(*a));
  if (u.host.len == 0) {
    // Any IPv4 address
  } else if (mg_str_eq(u.host, "localhost")) {
    a->ip[0] = 127, a->ip[3] = 1;
  } else if (!mg_aton(u.host, a)) {
    return false;
  }
  a->port = mg_htons(u.port);
  return true;
}

bool mg_net_listen(struct mg_connection *c, const char *url) {
  bool is_udp = false;
  int fd = -1, on = 1;
  struct sockaddr_storage ss;
  socklen_t slen;
  const char *what = "socket";
  if (url == NULL || !sock_listen_addr(url, &c->loc, &is_udp)) {
    MG_ERROR(("cannot listen on '%s': expected scheme://IP:PORT with a numeric IP", url ? url : "(null)"));
    return false;
  }
  slen = sock_to_sa(&c->loc, &ss);
  fd = socket(ss.ss_family, is_udp ? SOCK_DGRAM : SOCK_STREAM, is_udp ? IPPROTO_UDP : IPPROTO_TCP);
  if (fd < 0) goto fail;
  what = "setsockopt";
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) goto fail;
  what = "bind";
  if (bind(fd, (struct sockaddr *) &ss, slen) != 0) goto fail;
  what = "listen";
  if (!is_udp && listen(fd, SOMAXCONN) != 0) goto fail;
  what = "fcntl";
  if (!sock_nonblock(fd)) goto fail;
  slen = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *) &ss, &slen) == 0) sock_from_sa(&c->loc, &ss);
  c->fd = MG_FD_PTR(fd);
  if (!mg_poller_add(c, 1)) goto fail_quiet;
  return true;
fail:
  MG_ERROR(("cannot listen on %s: %s: %s", url, what, strerror(errno)));
fail_quiet:
  if (fd >= 0) close(fd);
  c->fd = MG_FD_PTR(-1);
  return false;
}

void mg_net_connect(struct mg_connection *c) {
  struct sockaddr_storage ss;
  socklen_t slen = sock_to_sa(&c->rem, &ss);
  int fd = socket(ss.ss_family, c->is_udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0 || !sock_nonblock(fd)) {
    if (fd >= 0) close(fd);
    mg_error(c, "socket: %s", strerror(errno));
    return;
  }
  c->fd = MG_FD_PTR(fd);
  if (!c->is_udp) {
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  int rc = connect(fd, (struct sockaddr *) &ss, slen);
  if (rc != 0 && !sock_would_block()) {
    mg_error(c, "connect to %M: %s", mg_print_ip_port, &c->rem, strerror(errno));
    return;
  }
  if (!mg_poller_add(c, rc == 0 ? 1 : 3)) {
    mg_error(c, "cannot watch socket");
    return;
  }
  if (rc == 0) {
    slen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *) &ss, &slen) == 0) sock_from_sa(&c->loc, &ss);
    mg_call(c, MG_EV_CONNECT, NULL);
  } else {
    c->is_connecting = 1;
  }
}

static void sock_accept(struct mg_connection *lsn) {
  for (int i = 0; i < SOCK_ACCEPT_BATCH; i++) {
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
#if defined(__linux__)
    int fd = accept4(MG_FD(lsn), (struct sockaddr *) &ss, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int fd = accept(MG_FD(lsn), (struct sockaddr *) &ss, &slen);
    if (fd >= 0 && !sock_nonblock(fd)) close(fd), fd = -1, errno = EBADF;
#endif
    if (fd < 0) {
      if (!sock_would_block() && errno != ECONNABORTED) MG_ERROR(("%lu accept: %s", lsn->id, strerror(errno)));
      return;
    }
    struct mg_connection *c = mg_conn_alloc(lsn->mgr);
    if (c == NULL) {
      close(fd);
      return;
    }
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    c->fd = MG_FD_PTR(fd);
    sock_from_sa(&c->rem, &ss);
    c->loc = lsn->loc;
    c->is_accepted = 1;
    c->fn = lsn->fn, c->fn_data = lsn->fn_data;
    c->pfn = lsn->pfn, c->pfn_data = lsn->pfn_data;
    if (!mg_poller_add(c, 1)) {
      c->is_closing = 1;
      continue;
    }
    MG_DEBUG(("%lu accepted from %M", c->id, mg_print_ip_port, &c->rem));
    mg_call(c, MG_EV_OPEN, NULL);
    mg_call(c, MG_EV_ACCEPT, NULL);
  }
}

// Make room to read into: MG_IO_SIZE for a new message, doubling while a
// connection keeps its buffer full, so bulk transfers read in big steps.
static bool sock_grow_recv(struct mg_connection *c) {
  mg_conn_take_io(c, &c->recv);
  if (c->recv.size - c->recv.len >= MG_IO_SIZE / 2) return true;
  size_t want = c->recv.len + (c->recv.len > MG_IO_SIZE ? c->recv.len : MG_IO_SIZE);
  if (want > MG_MAX_RECV_SIZE) want = MG_MAX_RECV_SIZE;
  if (want <= c->recv.len) return false;
  if (!mg_iobuf_resize(&c->recv, want)) {
    mg_error(c, "out of memory for the receive buffer (%lu bytes)", (unsigned long) want);
    return false;
  }
  return true;
}

static void sock_read(struct mg_connection *c) {
  if (!sock_grow_recv(c)) {
    c->is_full = 1;
    return;
  }
  long n;
  if (c->is_udp && c->is_listening) {
    struct sockaddr_storage ss;
    socklen_t slen = sizeof(ss);
    n = (long) recvfrom(MG_FD(c), c->recv.buf + c->recv.len, c->recv.size - c->recv.len, 0,
                        (struct sockaddr *) &ss, &slen);
    if (n > 0) sock_from_sa(&c->rem, &ss);
  } else {
    n = (long) recv(MG_FD(c), c->recv.buf + c->recv.len, c->recv.size - c->recv.len, 0);
  }
  if (n > 0) {
    if (c->is_hexdumping) {
      MG_INFO(("%lu <- %ld bytes", c->id, n));
      mg_hexdump(c->recv.buf + c->recv.len, (size_t) n);
    }
    c->recv.len += (size_t) n;
    mg_conn_take_io(c, &c->send);  // Most reads are answered: have a buffer ready
    mg_call(c, MG_EV_READ, &n);
    // Answer at once: lower latency, and this connection's buffers are free again
    // before the next one reads, so a busy loop reuses the same few blocks
    if (c->send.len > 0 && !c->is_closing && !mg_net_flush(c)) c->is_closing = 1;
    mg_conn_trim(c);
  } else if (n == 0 && !c->is_udp) {
    c->is_eof = 1;  // The manager closes once the queued reply is out
  } else if (n < 0 && !sock_would_block()) {
    if (errno == ECONNRESET || errno == EPIPE) {
      MG_DEBUG(("%lu peer reset", c->id));
      c->is_closing = 1;
    } else {
      mg_error(c, "recv: %s", strerror(errno));
    }
  }
}

bool mg_net_flush(struct mg_connection *c) {
  while (c->send.len > 0) {
    long n;
    if (c->is_udp) {
      struct sockaddr_storage ss;
      socklen_t slen = sock_to_sa(&c->rem, &ss);
      n = (long) sendto(MG_FD(c), c->send.buf, c->send.len, MSG_NOSIGNAL, c->is_listening ? (struct sockaddr *) &ss : NULL,
                        c->is_listening ? slen : 0);
      if (n < 0) MG_ERROR(("%lu datagram of %lu bytes dropped: %s", c->id, (unsigned long) c->send.len, strerror(errno)));
      c->send.len = 0;  // A datagram goes whole or not at all
      return true;
    }
    n = (long) send(MG_FD(c), c->send.buf, c->send.len, MSG_NOSIGNAL);
    if (n > 0) {
      if (c->is_hexdumping) {
        MG_INFO(("%lu -> %ld bytes", c->id, n));
        mg_hexdump(c->send.buf, (size_t) n);
      }
      mg_iobuf_del(&c->send, 0, (size_t) n);
      mg_call(c, MG_EV_WRITE, &n);
    } else if (n < 0 && sock_would_block()) {
      return true;  // mg_net_update asks for writability
    } else {
      MG_DEBUG(("%lu send: %s", c->id, n < 0 ? strerror(errno) : "closed"));
      return false;
    }
  }
  return true;
}

static void sock_connected(struct mg_connection *c) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(MG_FD(c), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  c->is_connecting = 0;
  if (err != 0) {
    mg_error(c, "connect to %M: %s", mg_print_ip_port, &c->rem, strerror(err));
    return;
  }
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
  if (getsockname(MG_FD(c), (struct sockaddr *) &ss, &slen) == 0) sock_from_sa(&c->loc, &ss);
  mg_call(c, MG_EV_CONNECT, NULL);
}

static void sock_ready(struct mg_connection *c, bool readable, bool writable, bool hangup) {
  if (c->is_closing) return;
  if (c->is_listening && !c->is_udp) {
    if (readable) sock_accept(c);
    return;
  }
  if (c->is_connecting) {
    if (writable || hangup) sock_connected(c);
    return;
  }
  if (readable && (c->backend_mask & 1)) sock_read(c);
  else if (hangup) c->is_eof = 1;  // Not reading (back-pressure) and the peer is gone
  if (writable && c->send.len > 0 && !c->is_closing && !mg_net_flush(c)) c->is_closing = 1;
}

void mg_net_io(struct mg_mgr *mgr, int ms) {
  mg_poller_wait(mgr, ms, sock_ready);
}

void mg_net_update(struct mg_connection *c) {
  if (MG_FD(c) < 0 || c->is_resolving) return;
  bool recv_full = c->recv.len >= MG_MAX_RECV_SIZE;
  bool send_full = c->send.len > MG_MAX_SEND_QUEUE;
  c->is_full = recv_full || send_full;
  unsigned mask = (c->is_full || c->is_eof ? 0U : 1U) | (c->send.len > 0 || c->is_connecting ? 2U : 0U);
  if (c->is_listening) mask = 1;
  if (mask != c->backend_mask) mg_poller_mod(c, mask);
}

struct mg_connection *mg_wrapfd(struct mg_mgr *mgr, int fd, mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fd = MG_FD_PTR(fd);
  c->fn = fn, c->fn_data = fn_data;
  if (!sock_nonblock(fd) || !mg_poller_add(c, 1)) {
    MG_ERROR(("cannot watch fd %d", fd));
    mg_conn_free(c);
    return NULL;
  }
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}

bool mg_net_socketpair(int fds[2]) {
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) return false;
  if (!sock_nonblock(fds[0]) || !sock_nonblock(fds[1])) {
    close(fds[0]), close(fds[1]);
    return false;
  }
  return true;
}

bool mg_net_post(int fd, const void *buf, size_t len) {
  return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t) len;
}
#endif  // MG_ENABLE_SOCKET
