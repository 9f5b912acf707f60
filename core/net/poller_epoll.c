// Readiness through Linux epoll, level-triggered: O(ready) per wait, and the
// event layer asks for an interest change only when the wanted set really changes.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "net/sock.h"

#if MG_ENABLE_SOCKET && MG_ENABLE_EPOLL
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

bool mg_poller_init(struct sock_state *s) {
  s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  return s->epoll_fd >= 0;
}

void mg_poller_free(struct sock_state *s) {
  if (s->epoll_fd >= 0) close(s->epoll_fd);
  s->epoll_fd = -1;
}

static bool epoll_ctl_conn(struct mg_connection *c, int op, unsigned interests) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = ((interests & MG_IO_R) ? EPOLLIN | EPOLLRDHUP : 0) | ((interests & MG_IO_W) ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl(sock_state(c->mgr)->epoll_fd, op, SOCK_FD(c), &ev) != 0) {
    MG_ERROR(("%lu epoll_ctl: %s", c->id, strerror(errno)));
    return false;
  }
  return true;
}

bool mg_poller_add(struct mg_connection *c, unsigned interests) {
  return epoll_ctl_conn(c, EPOLL_CTL_ADD, interests);
}

bool mg_poller_mod(struct mg_connection *c, unsigned interests) {
  return epoll_ctl_conn(c, EPOLL_CTL_MOD, interests);
}

void mg_poller_wait(struct mg_mgr *mgr, int ms) {
  struct epoll_event evs[512];  // Large batches: fewer waits and sweeps per request under load
  int n = epoll_wait(sock_state(mgr)->epoll_fd, evs, (int) MG_ARRAY_SIZE(evs), ms);
  if (n < 0 && errno != EINTR) MG_ERROR(("epoll_wait: %s", strerror(errno)));
  for (int i = 0; i < n; i++) {
    uint32_t e = evs[i].events;
    bool hup = (e & (EPOLLHUP | EPOLLERR)) != 0;
    mg_io_ready((struct mg_connection *) evs[i].data.ptr, (e & (EPOLLIN | EPOLLRDHUP)) || hup,
                (e & EPOLLOUT) || hup, hup);
  }
}
#endif
