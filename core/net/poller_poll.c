// Readiness through poll(): portable, O(connections) per wait. The pollfd array
// lives in the manager and is only reallocated when the connection count grows.
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "mg_internal.h"

#if MG_ENABLE_SOCKET && !MG_ENABLE_EPOLL
#include <errno.h>
#include <poll.h>

bool mg_poller_init(struct mg_mgr *mgr) {
  mgr->pollfds = NULL, mgr->pollfds_cap = 0;
  return true;
}

void mg_poller_free(struct mg_mgr *mgr) {
  mg_free(mgr->pollfds);
  mgr->pollfds = NULL, mgr->pollfds_cap = 0;
}

bool mg_poller_add(struct mg_connection *c, unsigned mask) {
  c->backend_mask = mask & 3;
  return true;
}

bool mg_poller_mod(struct mg_connection *c, unsigned mask) {
  c->backend_mask = mask & 3;
  return true;
}

void mg_poller_wait(struct mg_mgr *mgr, int ms, mg_ready_fn on_ready) {
  size_t n = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) n++;
  if (n > mgr->pollfds_cap) {
    void *p = mg_realloc(mgr->pollfds, n * sizeof(struct pollfd));
    if (p == NULL) {
      MG_ERROR(("out of memory for %lu pollfds", (unsigned long) n));
      return;
    }
    mgr->pollfds = p, mgr->pollfds_cap = n;
  }
  struct pollfd *fds = (struct pollfd *) mgr->pollfds;
  size_t i = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next, i++) {
    fds[i].fd = MG_FD(c) >= 0 ? MG_FD(c) : -1;
    fds[i].events = (short) (((c->backend_mask & 1) ? POLLIN : 0) | ((c->backend_mask & 2) ? POLLOUT : 0));
    fds[i].revents = 0;
  }
  if (poll(fds, (nfds_t) n, ms) < 0) {
    if (errno != EINTR) MG_ERROR(("poll: %s", strerror(errno)));
    return;
  }
  // Accepted connections are prepended, so walking on from the head taken now
  // stays aligned with fds[]; nothing is freed until the manager's sweep.
  i = 0;
  for (struct mg_connection *c = mgr->conns, *next; c != NULL && i < n; c = next, i++) {
    next = c->next;
    short r = fds[i].revents;
    if (r == 0) continue;
    bool hup = (r & (POLLHUP | POLLERR | POLLNVAL)) != 0;
    on_ready(c, (r & POLLIN) || hup, (r & POLLOUT) || hup, hup);
  }
}
#endif
