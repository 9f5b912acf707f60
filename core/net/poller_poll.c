// Readiness through poll(): portable, O(connections) per wait. The pollfd array
// lives in the backend state and is only reallocated when the connection count grows.
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "net/sock.h"

#if MG_ENABLE_SOCKET && !MG_ENABLE_EPOLL
#include <errno.h>
#include <poll.h>

bool mg_poller_init(struct sock_state *s) {
  s->pollfds = NULL, s->pollfds_cap = 0;
  return true;
}

void mg_poller_free(struct sock_state *s) {
  mg_free(s->pollfds);
  s->pollfds = NULL, s->pollfds_cap = 0;
}

// poll() takes the interests afresh on every wait, from what the event layer keeps
bool mg_poller_add(struct mg_connection *c, unsigned interests) {
  (void) c, (void) interests;
  return true;
}

bool mg_poller_mod(struct mg_connection *c, unsigned interests) {
  (void) c, (void) interests;
  return true;
}

void mg_poller_wait(struct mg_mgr *mgr, int ms) {
  struct sock_state *s = sock_state(mgr);
  size_t n = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) n++;
  if (n > s->pollfds_cap) {
    void *p = mg_realloc(s->pollfds, n * sizeof(struct pollfd));
    if (p == NULL) {
      MG_ERROR(("out of memory for %lu pollfds", (unsigned long) n));
      return;
    }
    s->pollfds = p, s->pollfds_cap = n;
  }
  struct pollfd *fds = (struct pollfd *) s->pollfds;
  size_t i = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next, i++) {
    fds[i].fd = SOCK_FD(c) >= 0 ? SOCK_FD(c) : -1;
    fds[i].events = (short) (((c->io_interest & MG_IO_R) ? POLLIN : 0) | ((c->io_interest & MG_IO_W) ? POLLOUT : 0));
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
    mg_io_ready(c, (r & POLLIN) || hup, (r & POLLOUT) || hup, hup);
  }
}
#endif
