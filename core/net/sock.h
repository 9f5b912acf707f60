// The OS sockets backend's private state, shared by sock.c and the readiness
// poller it was built with (poller_epoll.c or poller_poll.c).
#ifndef SOCK_H
#define SOCK_H

#include "mg_internal.h"

struct sock_state {
  int epoll_fd;          // epoll instance, -1 with the poll() poller
  void *pollfds;         // poll() array, reused across waits
  size_t pollfds_cap;
  int wakeup_tx;         // Sending end of mg_wakeup's socketpair, -1 until made
};

#define SOCK_FD(c) ((int) (intptr_t) (c)->fd)

static inline struct sock_state *sock_state(struct mg_mgr *mgr) {
  return (struct sock_state *) mgr->backend;
}

// Readiness: register a new descriptor, change interests, wait and report to mg_io_ready
bool mg_poller_init(struct sock_state *s);
void mg_poller_free(struct sock_state *s);
bool mg_poller_add(struct mg_connection *c, unsigned interests);
bool mg_poller_mod(struct mg_connection *c, unsigned interests);
void mg_poller_wait(struct mg_mgr *mgr, int ms);

#endif  // SOCK_H
