// Declarations shared inside the core and never by applications: the event
// layer's internals, the backend seam, the filter slot and the resolver hooks.
#ifndef MG_INTERNAL_H
#define MG_INTERNAL_H

#include "meerkat.h"
#include "port/port.h"

// Allocator (base/alloc.c): size 0 frees and returns NULL; NULL on failure leaves ptr as it was
void *mg_realloc(void *ptr, size_t size);

// SHA-256's block function (base/sha256.c), for tests and the bench: the portable one
// forced (true) or the CPU's best again (false), and whether blocks go through SHA-NI now
void mg_sha256_force_portable(bool portable);
bool mg_sha256_accelerated(void);

// Formatting into a growable buffer (base/printf.c) that learns of a failed append:
// the printf pair appends all or nothing (io->len rolls back) and return false if memory ran out
struct mg_iobuf_out {
  struct mg_iobuf *io;
  bool failed;  // Set by a failed append; later characters are dropped
};
void mg_pfn_iobuf_checked(char ch, void *param);  // param: struct mg_iobuf_out *
bool mg_iobuf_vprintf(struct mg_iobuf *io, const char *fmt, va_list *ap);
bool mg_iobuf_printf(struct mg_iobuf *io, const char *fmt, ...);
// The same sink without a format string to walk, for output built from known pieces
// (a reply's head): n bytes, a C string (NULL: nothing), an unsigned decimal
void mg_iobuf_out_put(struct mg_iobuf_out *o, const char *s, size_t n);
void mg_iobuf_out_str(struct mg_iobuf_out *o, const char *s);
void mg_iobuf_out_ulong(struct mg_iobuf_out *o, unsigned long v);

// ---------------------------------------------------------------------------
// Event layer (event/conn.c, event/io.c)
struct mg_connection *mg_conn_alloc(struct mg_mgr *mgr);  // Linked into mgr, id set; NULL if no memory
void mg_conn_free(struct mg_connection *c);               // Unlinks, closes, frees buffers
void mg_conn_trim(struct mg_connection *c);               // Gives empty I/O buffers back
void mg_conn_release_io(struct mg_connection *c, struct mg_iobuf *io);  // An empty buffer back to the spares
void mg_conn_take_spare(struct mg_connection *c, struct mg_iobuf *io);  // A spare for an unallocated buffer
// A TCP connection is up (connected or accepted): install the build's default filter
void mg_conn_attach_filter(struct mg_connection *c);
// Start the outbound connection to c->rem once its address is known (after DNS)
void mg_conn_start(struct mg_connection *c);
// Write c->send through the filter and the backend now; false on a fatal error
bool mg_io_flush(struct mg_connection *c);
// Established and open, with output queued: the loop pass writes it (mg_io_flush)
bool mg_io_may_write(const struct mg_connection *c);
// Writes c->send now rather than at the end of the loop pass and gives the emptied
// buffer back, so output for many idle connections (a broadcast) goes through one spare
void mg_io_send_now(struct mg_connection *c);
bool mg_io_output_left(struct mg_connection *c);  // c->send, or output a filter holds
// Tell the backend what c waits for, if that changed (read unless full, write while output waits)
void mg_io_update(struct mg_connection *c, uint64_t now);
// c has said all it will: close now, or half-close and drop input for MG_LINGER_MS first
void mg_io_finish(struct mg_connection *c, uint64_t now);

// A whole server frame built once (ws_frame_head in front of its payload) queued on c in
// one copy, for a message that goes to many clients (ws/ws.c). false, with nothing queued,
// where mg_ws_send would refuse it (after our close frame) or on a client's connection
// (each of its frames masked with a key of its own); out of memory closes c, as mg_send does
bool mg_ws_send_frame(struct mg_connection *c, const void *frame, size_t len);

// Internal event for protocol handlers only (c->pfn, never c->fn): output is about to
// be handed to the backend, so a protocol that must see what it sends (an HTTP
// client noting a HEAD request) looks at c->send now. ev_data is NULL.
#define MG_EV_OUTPUT_INTERNAL (-1)

// ---------------------------------------------------------------------------
// Backend seam: raw I/O only. One implementation per build, chosen at compile time:
// net/sock.c (OS sockets, with net/poller_epoll.c or net/poller_poll.c), net/mock.c
// (in-memory, for tests and bare metal), the built-in TCP/IP stack later. Buffers,
// events, back-pressure and policy live in the event layer, once for all of them.
// The backend keeps its manager-wide state behind mgr->backend and a per-connection
// handle in c->fd. listen, accept and connect register the handle for MG_IO_R
// (MG_IO_W while a connect is in progress); mg_be_watch changes that.
enum {
  MG_IO_WAIT = 0,     // Nothing now: would block / still in progress
  MG_IO_EOF = -1,     // The peer closed its side
  MG_IO_RESET = -2,   // The peer reset the connection: close without an error event
  MG_IO_ERR = -3,     // Failed; mg_be_error() says why
  MG_IO_NOFILE = -4,  // accept: out of descriptors or memory; try again later
};
enum { MG_IO_R = 1, MG_IO_W = 2 };  // Readiness interests

bool mg_be_init(struct mg_mgr *mgr);
void mg_be_free(struct mg_mgr *mgr);
// Bind c to addr (c->is_udp says which protocol) and start listening; fills c->loc
// (port 0 asks for any). false with mg_be_error() on failure.
bool mg_be_listen(struct mg_connection *c, const struct mg_addr *addr);
// Take one pending connection from the listener lsn into nc (handle, rem, loc).
// Returns 1, MG_IO_WAIT when none is pending, MG_IO_NOFILE or MG_IO_ERR.
int mg_be_accept(struct mg_connection *lsn, struct mg_connection *nc);
// Connect c to c->rem. 1 connected, MG_IO_WAIT in progress (MG_IO_W readiness
// reports the result: call mg_be_connected), MG_IO_ERR.
int mg_be_connect(struct mg_connection *c);
int mg_be_connected(struct mg_connection *c);  // 1 or MG_IO_ERR; fills c->loc
// Bytes moved (> 0) or one of MG_IO_*. UDP moves one datagram per call, whole or
// not at all: a send of it all or an error; a recv of one datagram, and one longer
// than len is consumed and dropped, returning more than len (its size where the OS
// tells, as Linux does, else len + 1). A UDP listener's recv sets c->rem to the
// sender and its send goes to c->rem.
long mg_be_recv(struct mg_connection *c, void *buf, size_t len);
long mg_be_send(struct mg_connection *c, const void *buf, size_t len);
void mg_be_close(struct mg_connection *c);     // Release the handle (safe to call twice)
void mg_be_shutdown(struct mg_connection *c);  // Half-close: send our end (TCP FIN), keep reading
void mg_be_watch(struct mg_connection *c, unsigned interests);  // MG_IO_R | MG_IO_W
// Wait up to ms for readiness and report each ready connection to mg_io_ready()
void mg_be_wait(struct mg_mgr *mgr, int ms);
// mg_wakeup's channel: wakeup_init makes pipe (a UDP connection the event layer made)
// the receiving end; wakeup posts one datagram from any thread, false if the
// channel is full. recv on pipe keeps datagrams apart as it does for UDP.
bool mg_be_wakeup_init(struct mg_connection *pipe);
bool mg_be_wakeup(struct mg_mgr *mgr, const void *buf, size_t len);
const char *mg_be_error(void);  // Why the last call on this thread failed

// Milliseconds from then to now, 0 if then is later. A pass reads the clock once and
// hands that now to MG_EV_POLL, while stamps taken later in the same pass (timers,
// handlers, reads) are newer: that is no time at all, not an unsigned wrap to forever.
static inline uint64_t mg_ms_since(uint64_t now, uint64_t then) {
  return now > then ? now - then : 0;
}

// The largest datagram a connection receives whole: the room a UDP read makes first
#define MG_UDP_ROOM ((size_t) (MG_UDP_MAX < MG_MAX_RECV_SIZE ? MG_UDP_MAX : MG_MAX_RECV_SIZE))

// The event layer's side of the seam: the backend reports readiness here
void mg_io_ready(struct mg_connection *c, bool readable, bool writable, bool hangup);

// ---------------------------------------------------------------------------
// Filter slot, between the backend's bytes and c->recv / c->send: TLS plugs in here
// (and test filters do), so that protocol handlers never know the difference.
// recv fills buf with bytes for c->recv, send takes bytes from c->send; both use
// mg_be_recv / mg_be_send underneath and return what those return (bytes, or MG_IO_*).
// A filter that reports an error itself (mg_error) returns MG_IO_RESET: the event
// layer then closes without a second report. The hooks after free may be NULL.
struct mg_filter {
  const char *name;
  long (*recv)(struct mg_connection *c, void *buf, size_t len);
  long (*send)(struct mg_connection *c, const void *buf, size_t len);
  bool (*pending)(struct mg_connection *c);  // Input held inside that readiness will not announce; may be NULL
  void (*free)(struct mg_connection *c);     // Connection closing; may be NULL
  // Whether writability would move output now. NULL: c->send.len > 0. A filter may hold
  // output of its own (a TLS handshake flight), which send(c, NULL, 0) moves, or be
  // unable to move c->send yet (a handshake waiting for the peer)
  bool (*wants_write)(struct mg_connection *c);
  void (*poll)(struct mg_connection *c, uint64_t now);  // Each loop pass: the filter's deadlines
  void (*shutdown)(struct mg_connection *c);  // We send no more: say so in-band (TLS close_notify) before FIN
  // Whether the filter would take input now. NULL: yes. No keeps the input in the kernel
  // and stops asking for readability, as c->is_read_paused does for the protocol handler
  // (a TLS handshake waiting for a slot)
  bool (*wants_read)(struct mg_connection *c);
};
// https://, wss:// and other TLS URLs: a connection whose handler did not call
// mg_tls_init in MG_EV_ACCEPT / MG_EV_CONNECT is failed rather than sent plaintext.
// Until then an outbound one keeps its URL's host (NUL-terminated, mg_calloc'd) in
// c->tls for mg_tls_init to check the server's certificate against.
void mg_conn_check_tls(struct mg_connection *c);

// ---------------------------------------------------------------------------
// DNS resolver (net/dns.c)
void mg_resolve(struct mg_connection *c, struct mg_str host);  // Resolves, then mg_conn_start
void mg_dns_poll(struct mg_mgr *mgr, uint64_t now);           // Times out stale lookups
void mg_dns_cancel(struct mg_connection *c);                  // c is closing: forget its lookup

#endif  // MG_INTERNAL_H
