// Readiness through Linux epoll, level-triggered: O(ready) per wait, and an
// interest change costs one epoll_ctl only when the wanted mask really changes.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "mg_internal.h"

#if MG_ENABLE_SOCKET && MG_ENABLE_EPOLL
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

bool mg_poller_init(struct mg_mgr *mgr) {
  mgr->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  return mgr->epoll_fd >= 0;
}

void mg_poller_free(struct mg_mgr *mgr) {
  if (mgr->epoll_fd >= 0) close(mgr->epoll_fd);
  mgr->epoll_fd = -1;
}

static int epoll_events_for(unsigned mask) {
  return ((mask & 1) ? EPOLLIN | EPOLLRDHUP : 0) | ((mask & 2) ? EPOLLOUT : 0);
}

static bool epoll_ctl_conn(struct mg_connection *c, int op, unsigned mask) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = (uint32_t) epoll_events_for(mask);
  ev.data.ptr = c;
  if (epoll_ctl(c->mgr->epoll_fd, op, MG_FD(c), &ev) != 0) {
    MG_ERROR(("%lu epoll_ctl: %s", c->id, strerror(errno)));
    return false;
  }
  c->backend_mask = mask & 3;
  return true;
}

bool mg_poller_add(struct mg_connection *c, unsigned mask) {
  return epoll_ctl_conn(c, EPOLL_CTL_ADD, mask);
}

bool mg_poller_mod(struct mg_connection *c, unsigned mask) {
  return epoll_ctl_conn(c, EPOLL_CTL_MOD, mask);
}

void mg_poller_wait(struct mg_mgr *mgr, int ms, mg_ready_fn on_ready) {
  struct epoll_event evs[512];  // Large batches: fewer waits and sweeps per request under load
  int n = epoll_wait(mgr->epoll_fd, evs, (int) MG_ARRAY_SIZE(evs), ms);
  if (n < 0 && errno != EINTR) MG_ERROR(("epoll_wait: %s", strerror(errno)));
  for (int i = 0; i < n; i++) {
    uint32_t e = evs[i].events;
    bool hup = (e & (EPOLLHUP | EPOLLERR)) != 0;
    on_ready((struct mg_connection *) evs[i].data.ptr, (e & (EPOLLIN | EPOLLRDHUP)) || hup,
             (e & EPOLLOUT) || hup, hup);
  }
}
#endif
