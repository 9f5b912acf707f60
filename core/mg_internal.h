// Declarations shared inside the core and never by applications: the seam
// between the event loop and the network backend, and the DNS resolver hooks.
#ifndef MG_INTERNAL_H
#define MG_INTERNAL_H

#include "meerkat.h"

// Allocator (base/alloc.c): size 0 frees and returns NULL; NULL on failure leaves ptr as it was
void *mg_realloc(void *ptr, size_t size);

// Formatting into a growable buffer (base/printf.c) that learns of a failed append:
// the printf pair appends all or nothing (io->len rolls back) and return false if memory ran out
struct mg_iobuf_out {
  struct mg_iobuf *io;
  bool failed;  // Set by a failed append; later characters are dropped
};
void mg_pfn_iobuf_checked(char ch, void *param);  // param: struct mg_iobuf_out *
bool mg_iobuf_vprintf(struct mg_iobuf *io, const char *fmt, va_list *ap);
bool mg_iobuf_printf(struct mg_iobuf *io, const char *fmt, ...);

// Event layer (event/conn.c)
struct mg_connection *mg_conn_alloc(struct mg_mgr *mgr);  // Linked into mgr, id set; NULL if no memory
void mg_conn_free(struct mg_connection *c);               // Unlinks, closes, frees buffers
void mg_conn_trim(struct mg_connection *c);               // Gives empty I/O buffers back
void mg_conn_take_io(struct mg_connection *c, struct mg_iobuf *io);  // A spare for an unallocated buffer

// Network backend seam: net/sock.c implements these over OS sockets; the built-in
// TCP/IP stack will implement the same set.
bool mg_net_init(struct mg_mgr *mgr);
void mg_net_free(struct mg_mgr *mgr);
bool mg_net_listen(struct mg_connection *c, const char *url);  // Bind c->loc; logs on failure
void mg_net_connect(struct mg_connection *c);                  // Start connecting to c->rem
// Wait up to ms for readiness, then accept, read and write, raising ACCEPT, CONNECT, READ, WRITE
void mg_net_io(struct mg_mgr *mgr, int ms);
bool mg_net_flush(struct mg_connection *c);    // Try to write c->send now; false on a fatal error
void mg_net_close(struct mg_connection *c);    // Release the backend handle
void mg_net_update(struct mg_connection *c);   // Interests changed (is_full, pending writes)
bool mg_net_socketpair(int fds[2]);            // For mg_wakeup; non-blocking datagram pair
bool mg_net_post(int fd, const void *buf, size_t len);  // One datagram, from any thread

// DNS resolver (net/dns.c)
void mg_resolve(struct mg_connection *c, struct mg_str host);  // Resolves, then mg_net_connect
void mg_dns_poll(struct mg_mgr *mgr, uint64_t now);           // Times out stale lookups
void mg_dns_cancel(struct mg_connection *c);                  // c is closing: forget its lookup

// Readiness seam inside the socket backend: net/poller_epoll.c or net/poller_poll.c
typedef void (*mg_ready_fn)(struct mg_connection *c, bool readable, bool writable, bool hangup);
bool mg_poller_init(struct mg_mgr *mgr);
void mg_poller_free(struct mg_mgr *mgr);
bool mg_poller_add(struct mg_connection *c, unsigned mask);  // mask: 1 read, 2 write
bool mg_poller_mod(struct mg_connection *c, unsigned mask);
void mg_poller_wait(struct mg_mgr *mgr, int ms, mg_ready_fn on_ready);

#define MG_FD(c) ((int) (intptr_t) (c)->fd)
#define MG_FD_PTR(fd) ((void *) (intptr_t) (fd))

#endif  // MG_INTERNAL_H
