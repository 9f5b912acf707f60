// OS sockets backend: raw non-blocking TCP and UDP over IPv4/IPv6 behind the
// mg_be_* seam; readiness comes from poller_epoll.c or poller_poll.c.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "net/sock.h"

#if MG_ENABLE_SOCKET
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int sock_errno;  // What mg_be_error() explains

static long sock_fail(void) {
  sock_errno = errno;
  return MG_IO_ERR;
}

const char *mg_be_error(void) {
  return strerror(sock_errno);
}

static socklen_t sock_to_sa(const struct mg_addr *a, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof(*ss));
  if (a->is_ip6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = a->port;
    sin6->sin6_scope_id = a->scope_id;
    memcpy(&sin6->sin6_addr, a->addr.ip, 16);
    return (socklen_t) sizeof(*sin6);
  }
  struct sockaddr_in *sin = (struct sockaddr_in *) ss;
  sin->sin_family = AF_INET;
  sin->sin_port = a->port;
  memcpy(&sin->sin_addr, a->addr.ip, 4);
  return (socklen_t) sizeof(*sin);
}

static void sock_from_sa(struct mg_addr *a, const struct sockaddr_storage *ss) {
  memset(a, 0, sizeof(*a));
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;
    a->is_ip6 = true;
    a->port = sin6->sin6_port;
    a->scope_id = (uint8_t) sin6->sin6_scope_id;
    memcpy(a->addr.ip, &sin6->sin6_addr, 16);
  } else if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;
    a->port = sin->sin_port;
    memcpy(a->addr.ip, &sin->sin_addr, 4);
  }
}

static void sock_local_addr(struct mg_connection *c) {
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
  if (getsockname(SOCK_FD(c), (struct sockaddr *) &ss, &slen) == 0) sock_from_sa(&c->loc, &ss);
}

static bool sock_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

static bool sock_would_block(void) {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == EINPROGRESS;
}

bool mg_be_init(struct mg_mgr *mgr) {
  struct sock_state *s = (struct sock_state *) mg_calloc(1, sizeof(*s));
  if (s == NULL) {
    sock_errno = ENOMEM;
    return false;
  }
  s->epoll_fd = s->wakeup_tx = -1;
  if (!mg_poller_init(s)) {
    sock_errno = errno;
    mg_free(s);
    return false;
  }
  mgr->backend = s;
  return true;
}

void mg_be_free(struct mg_mgr *mgr) {
  struct sock_state *s = sock_state(mgr);
  if (s == NULL) return;
  if (s->wakeup_tx >= 0) close(s->wakeup_tx);
  mg_poller_free(s);
  mg_free(s);
  mgr->backend = NULL;
}

void mg_be_close(struct mg_connection *c) {
  if (SOCK_FD(c) >= 0) close(SOCK_FD(c));
  c->fd = (void *) (intptr_t) -1;
}

void mg_be_shutdown(struct mg_connection *c) {
  if (SOCK_FD(c) >= 0) shutdown(SOCK_FD(c), SHUT_WR);
}

void mg_be_watch(struct mg_connection *c, unsigned interests) {
  if (SOCK_FD(c) >= 0) mg_poller_mod(c, interests);
}

// Takes fd into c and registers it; on failure fd is closed and c keeps none
static bool sock_adopt(struct mg_connection *c, int fd, unsigned interests) {
  c->fd = (void *) (intptr_t) fd;
  if (mg_poller_add(c, interests)) return true;
  sock_errno = errno;
  mg_be_close(c);
  return false;
}

bool mg_be_listen(struct mg_connection *c, const struct mg_addr *addr) {
  struct sockaddr_storage ss;
  socklen_t slen = sock_to_sa(addr, &ss);
  int on = 1;
  int fd = socket(ss.ss_family, c->is_udp ? SOCK_DGRAM : SOCK_STREAM, c->is_udp ? IPPROTO_UDP : IPPROTO_TCP);
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      bind(fd, (struct sockaddr *) &ss, slen) != 0 || (!c->is_udp && listen(fd, SOMAXCONN) != 0) ||
      !sock_nonblock(fd)) {
    sock_errno = errno;
    if (fd >= 0) close(fd);
    return false;
  }
  if (!sock_adopt(c, fd, MG_IO_R)) return false;
  sock_local_addr(c);
  return true;
}

int mg_be_accept(struct mg_connection *lsn, struct mg_connection *nc) {
  struct sockaddr_storage ss;
  socklen_t slen = sizeof(ss);
#if defined(__linux__)
  int fd = accept4(SOCK_FD(lsn), (struct sockaddr *) &ss, &slen, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  int fd = accept(SOCK_FD(lsn), (struct sockaddr *) &ss, &slen);
  if (fd >= 0 && !sock_nonblock(fd)) {
    close(fd);
    fd = -1, errno = EBADF;
  }
#endif
  if (fd < 0) {
    if (sock_would_block() || errno == ECONNABORTED) return MG_IO_WAIT;
    sock_errno = errno;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) return MG_IO_NOFILE;
    return MG_IO_ERR;
  }
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  if (!sock_adopt(nc, fd, MG_IO_R)) return MG_IO_ERR;
  sock_from_sa(&nc->rem, &ss);
  nc->loc = lsn->loc;
  return 1;
}

int mg_be_connect(struct mg_connection *c) {
  struct sockaddr_storage ss;
  socklen_t slen = sock_to_sa(&c->rem, &ss);
  int fd = socket(ss.ss_family, c->is_udp ? SOCK_DGRAM : SOCK_STREAM, 0);
  if (fd < 0 || !sock_nonblock(fd)) {
    sock_errno = errno;
    if (fd >= 0) close(fd);
    return MG_IO_ERR;
  }
  if (!c->is_udp) {
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  }
  int rc = connect(fd, (struct sockaddr *) &ss, slen);
  if (rc != 0 && !sock_would_block()) {
    sock_errno = errno;
    close(fd);
    return MG_IO_ERR;
  }
  if (!sock_adopt(c, fd, rc == 0 ? MG_IO_R : MG_IO_W)) return MG_IO_ERR;
  if (rc != 0) return MG_IO_WAIT;
  sock_local_addr(c);
  return 1;
}

int mg_be_connected(struct mg_connection *c) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(SOCK_FD(c), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    sock_errno = err;
    return MG_IO_ERR;
  }
  sock_local_addr(c);
  return 1;
}

// Linux returns a cut datagram's real size when asked with MSG_TRUNC; elsewhere the
// flag only comes back in msg_flags
#if defined(__linux__)
#define SOCK_TRUNC_SIZE MSG_TRUNC
#else
#define SOCK_TRUNC_SIZE 0
#endif

// One datagram; one longer than len is consumed and reported as more than len
static long sock_recv_datagram(struct mg_connection *c, void *buf, size_t len) {
  struct sockaddr_storage ss;
  struct iovec iov = {buf, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_iov = &iov, msg.msg_iovlen = 1;
  if (c->is_listening) msg.msg_name = &ss, msg.msg_namelen = sizeof(ss);
  long n = (long) recvmsg(SOCK_FD(c), &msg, SOCK_TRUNC_SIZE);
  if (n >= 0 && (msg.msg_flags & MSG_TRUNC) && (size_t) n <= len) n = (long) len + 1;
  if (n > 0 && c->is_listening) sock_from_sa(&c->rem, &ss);
  return n;
}

long mg_be_recv(struct mg_connection *c, void *buf, size_t len) {
  long n = c->is_udp ? sock_recv_datagram(c, buf, len) : (long) recv(SOCK_FD(c), buf, len, 0);
  if (n > 0) return n;
  if (n == 0) return c->is_udp ? MG_IO_WAIT : MG_IO_EOF;  // An empty datagram is not an end
  if (sock_would_block()) return MG_IO_WAIT;
  if (errno == ECONNRESET || errno == EPIPE) return MG_IO_RESET;
  return sock_fail();
}

long mg_be_send(struct mg_connection *c, const void *buf, size_t len) {
  long n;
  if (c->is_udp && c->is_listening) {
    struct sockaddr_storage ss;
    socklen_t slen = sock_to_sa(&c->rem, &ss);
    n = (long) sendto(SOCK_FD(c), buf, len, MSG_NOSIGNAL, (struct sockaddr *) &ss, slen);
  } else {
    n = (long) send(SOCK_FD(c), buf, len, MSG_NOSIGNAL);
  }
  if (n > 0) return n;
  if (n < 0 && sock_would_block()) return MG_IO_WAIT;
  if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) return MG_IO_RESET;
  if (n == 0) errno = EPIPE;
  return sock_fail();
}

void mg_be_wait(struct mg_mgr *mgr, int ms) {
  mg_poller_wait(mgr, ms);
}

bool mg_be_wakeup_init(struct mg_connection *pipe) {
  struct sock_state *s = sock_state(pipe->mgr);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) {
    sock_errno = errno;
    return false;
  }
  if (!sock_nonblock(fds[0]) || !sock_nonblock(fds[1])) {
    sock_errno = errno;
    close(fds[0]), close(fds[1]);
    return false;
  }
  if (!sock_adopt(pipe, fds[0], MG_IO_R)) {
    close(fds[1]);
    return false;
  }
  s->wakeup_tx = fds[1];
  return true;
}

bool mg_be_wakeup(struct mg_mgr *mgr, const void *buf, size_t len) {
  struct sock_state *s = sock_state(mgr);
  return s != NULL && s->wakeup_tx >= 0 && send(s->wakeup_tx, buf, len, MSG_NOSIGNAL) == (ssize_t) len;
}

struct mg_connection *mg_wrapfd(struct mg_mgr *mgr, int fd, mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fn = fn, c->fn_data = fn_data;
  if (!sock_nonblock(fd) || !sock_adopt(c, fd, MG_IO_R)) {
    MG_ERROR(("cannot watch fd %d", fd));
    mg_conn_free(c);
    return NULL;
  }
  c->io_interest = MG_IO_R;
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}
#endif  // MG_ENABLE_SOCKET
