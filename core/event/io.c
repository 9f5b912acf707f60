// Moving bytes for every backend: accepting (with a pause when descriptors run
// out), finishing connects, reading into c->recv, writing c->send, back-pressure.
#include "mg_internal.h"

#define IO_ACCEPT_BATCH 64       // Fairness: accept at most this many per readiness
#define IO_ACCEPT_PAUSE_MS 500   // Rest after running out of descriptors

static long io_recv(struct mg_connection *c, void *buf, size_t len) {
  return c->filter != NULL ? c->filter->recv(c, buf, len) : mg_be_recv(c, buf, len);
}

static long io_send(struct mg_connection *c, const void *buf, size_t len) {
  return c->filter != NULL ? c->filter->send(c, buf, len) : mg_be_send(c, buf, len);
}

// Output waits that writability would move: c->send, or what a filter holds of its
// own (a TLS handshake flight); a filter whose handshake waits for the peer says no
static bool io_wants_write(struct mg_connection *c) {
  if (c->filter != NULL && c->filter->wants_write != NULL) return c->filter->wants_write(c);
  return c->send.len > 0;
}

bool mg_io_output_left(struct mg_connection *c) {
  return c->send.len > 0 || io_wants_write(c);
}

// The filter may not take input yet (a TLS handshake waiting for a slot): it waits in
// the kernel, and level-triggered readiness must not be asked for meanwhile
static bool io_wants_read(struct mg_connection *c) {
  return c->filter == NULL || c->filter->wants_read == NULL || c->filter->wants_read(c);
}

static size_t io_count_accepted(struct mg_mgr *mgr) {
  size_t n = 0;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) n += c->is_accepted;
  return n;
}

// Level-triggered readiness fires for as long as a connection waits in the
// backlog, so a listener that cannot accept must stop asking, or the loop spins
static void io_accept_pause(struct mg_connection *lsn, const char *why) {
  struct mg_mgr *mgr = lsn->mgr;
  uint64_t now = mg_millis();
  if (mgr->accept_paused_until <= now) {
    MG_ERROR(("%lu cannot accept: %s; not accepting for %d ms (%lu connections open)", lsn->id, why,
              IO_ACCEPT_PAUSE_MS, (unsigned long) io_count_accepted(mgr)));
  }
  mgr->accept_paused_until = now + IO_ACCEPT_PAUSE_MS;
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->is_listening && !c->is_udp) mg_io_update(c, now);
  }
}

static void io_accept(struct mg_connection *lsn) {
  if (mg_millis() < lsn->mgr->accept_paused_until) return;
  for (int i = 0; i < IO_ACCEPT_BATCH; i++) {
    struct mg_connection *c = mg_conn_alloc(lsn->mgr);
    if (c == NULL) {
      io_accept_pause(lsn, "out of memory");
      return;
    }
    int rc = mg_be_accept(lsn, c);
    if (rc != 1) {
      mg_conn_free(c);
      if (rc == MG_IO_NOFILE) io_accept_pause(lsn, mg_be_error());
      else if (rc == MG_IO_ERR) MG_ERROR(("%lu accept: %s", lsn->id, mg_be_error()));
      return;
    }
    c->is_accepted = 1;
    c->io_interest = MG_IO_R;
    c->fn = lsn->fn, c->fn_data = lsn->fn_data;
    c->pfn = lsn->pfn, c->pfn_data = lsn->pfn_data;
    c->is_tls = lsn->is_tls;
    mg_conn_attach_filter(c);
    MG_DEBUG(("%lu accepted from %M", c->id, mg_print_ip_port, &c->rem));
    mg_call(c, MG_EV_OPEN, NULL);
    mg_call(c, MG_EV_ACCEPT, NULL);
    mg_conn_check_tls(c);
  }
}

static void io_connected(struct mg_connection *c) {
  c->is_connecting = 0;
  if (mg_be_connected(c) != 1) {
    mg_error(c, "connect to %M: %s", mg_print_ip_port, &c->rem, mg_be_error());
    return;
  }
  mg_conn_attach_filter(c);
  mg_call(c, MG_EV_CONNECT, NULL);
  mg_conn_check_tls(c);
}

// Make room to read into, and say how much (0: none, full or out of memory): MG_IO_SIZE
// for a new message (a spare if there is one), doubling while a connection keeps its
// buffer full, so bulk transfers read in big steps. A datagram is read whole or not at
// all: UDP makes room for MG_UDP_MAX and reads no more, so a larger one is always dropped.
static size_t io_grow_recv(struct mg_connection *c) {
  mg_conn_take_spare(c, &c->recv);
  size_t room = c->is_udp ? MG_UDP_ROOM : MG_IO_SIZE / 2;
  if (c->recv.size - c->recv.len < room) {
    size_t step = c->is_udp ? MG_UDP_ROOM : c->recv.len > MG_IO_SIZE ? c->recv.len : MG_IO_SIZE;
    size_t want = c->recv.len + step;
    if (want > MG_MAX_RECV_SIZE) want = MG_MAX_RECV_SIZE;
    if (want <= c->recv.len) return 0;
    if (!mg_iobuf_resize(&c->recv, want)) {
      mg_error(c, "out of memory for the receive buffer (%lu bytes)", (unsigned long) want);
      return 0;
    }
  }
  size_t free_bytes = c->recv.size - c->recv.len;
  return c->is_udp && free_bytes > MG_UDP_ROOM ? MG_UDP_ROOM : free_bytes;
}

// The backend consumed a datagram larger than the room made for it (MG_UDP_MAX, less
// near MG_MAX_RECV_SIZE): its first bytes alone would pass for a whole message
static long io_datagram_dropped(struct mg_connection *c, long size, size_t room) {
  MG_ERROR(("%lu UDP datagram of %ld bytes dropped: room for %lu (MG_UDP_MAX %lu)", c->id, size,
            (unsigned long) room, (unsigned long) MG_UDP_MAX));
  return MG_IO_WAIT;
}

// Lingering: what the peer still sends is read and dropped until it closes too
static void io_read_drop(struct mg_connection *c) {
  char scratch[512];
  long n = mg_be_recv(c, scratch, sizeof(scratch));
  if (n < 0) c->is_closing = 1;  // The end, a reset or an error: nothing more to wait for
}

static void io_read(struct mg_connection *c) {
  if (c->is_lingering) {
    io_read_drop(c);
    return;
  }
  // Readiness reported before the pause reached the backend
  if (c->is_read_paused || !io_wants_read(c)) return;
  size_t room = io_grow_recv(c);
  if (room == 0) {
    c->is_full = 1;
    return;
  }
  long n = io_recv(c, c->recv.buf + c->recv.len, room);
  if (c->is_udp && n > (long) room) n = io_datagram_dropped(c, n, room);
  if (n > 0) {
    if (c->is_hexdumping) {
      MG_INFO(("%lu <- %ld bytes", c->id, n));
      mg_hexdump(c->recv.buf + c->recv.len, (size_t) n);
    }
    c->recv.len += (size_t) n;
    mg_call(c, MG_EV_READ, &n);
    // Answer at once, and the buffers go back to the spares before the next ready
    // connection reads: a busy pass then reuses the same few blocks. Holding replies
    // to the end of the pass measured no faster here and kept more heap (core/README.md)
    if (c->send.len > 0 && !c->is_closing && !mg_io_flush(c)) c->is_closing = 1;
    mg_conn_trim(c);
  } else if (n == MG_IO_EOF) {
    c->is_eof = 1;  // The manager closes once the queued reply is out
  } else if (n == MG_IO_RESET) {
    MG_DEBUG(("%lu peer reset", c->id));
    c->is_closing = 1;
  } else if (n == MG_IO_ERR) {
    mg_error(c, "recv: %s", mg_be_error());
  }
}

// A filter may hold decoded input that no readiness will announce: read it now
static void io_read_pending(struct mg_connection *c) {
  while (c->filter != NULL && c->filter->pending != NULL && !c->is_closing && !c->is_full && !c->is_read_paused &&
         (c->io_interest & MG_IO_R) && c->filter->pending(c)) {
    size_t before = c->recv.len;
    io_read(c);
    if (c->recv.len == before) break;
  }
}

bool mg_io_may_write(const struct mg_connection *c) {
  return c->send.len > 0 && !c->is_connecting && !c->is_resolving && !c->is_listening && !c->is_closing;
}

void mg_io_send_now(struct mg_connection *c) {
  if (mg_io_may_write(c) && !mg_io_flush(c)) c->is_closing = 1;
  mg_conn_trim(c);
}

// Writes what c->send holds, up to MG_IO_FLUSH_MAX (handlers refill it on MG_EV_WRITE)
bool mg_io_flush(struct mg_connection *c) {
  size_t flushed = 0;
  if (c->pfn != NULL && c->send.len > 0) c->pfn(c, MG_EV_OUTPUT_INTERNAL, NULL);
  if (c->send.len == 0 && io_wants_write(c) && io_send(c, NULL, 0) < MG_IO_WAIT) return false;  // A filter's own
  while (c->send.len > 0 && flushed < MG_IO_FLUSH_MAX) {
    size_t want = c->is_udp || c->send.len <= MG_IO_FLUSH_MAX - flushed ? c->send.len : MG_IO_FLUSH_MAX - flushed;
    long n = io_send(c, c->send.buf, want);
    if (c->is_udp) {  // A datagram goes whole or not at all
      if (n < 0) MG_ERROR(("%lu datagram of %lu bytes dropped: %s", c->id, (unsigned long) c->send.len, mg_be_error()));
      c->send.len = 0;
      if (n > 0) mg_call(c, MG_EV_WRITE, &n);
      return true;
    }
    if (n > 0) {
      if (c->is_hexdumping) {
        MG_INFO(("%lu -> %ld bytes", c->id, n));
        mg_hexdump(c->send.buf, (size_t) n);
      }
      mg_iobuf_del(&c->send, 0, (size_t) n);
      flushed += (size_t) n;
      mg_call(c, MG_EV_WRITE, &n);
    } else if (n == MG_IO_WAIT) {
      return true;  // mg_io_update asks for writability
    } else {
      MG_DEBUG(("%lu send: %s", c->id, n == MG_IO_RESET ? "peer reset" : mg_be_error()));
      return false;
    }
  }
  return true;
}

void mg_io_ready(struct mg_connection *c, bool readable, bool writable, bool hangup) {
  if (c->is_closing) return;
  c->is_readable = readable, c->is_writable = writable;  // Until the end of this pass
  if (c->is_listening && !c->is_udp) {
    if (readable) io_accept(c);
    return;
  }
  if (c->is_connecting) {
    if (writable || hangup) io_connected(c);
    return;
  }
  if (readable && (c->io_interest & MG_IO_R)) {
    io_read(c);
    io_read_pending(c);
  } else if (hangup) {
    // Not reading (back-pressure, a pause, or after EOF) and the peer reset or closed
    // both ways: nothing queued can reach it now, and the hang-up is reported on every
    // wait until the connection closes, whatever it still owes
    MG_DEBUG(("%lu peer hung up", c->id));
    c->is_closing = 1;
    return;
  }
  // Output an earlier write could not finish
  if (writable && io_wants_write(c) && !c->is_closing && !mg_io_flush(c)) c->is_closing = 1;
}

// Closing with unread input makes TCP send a reset, and a reset makes the peer's
// kernel drop the answer it has not read yet (an early 413 to an upload, say):
// so shut our side and read on for a while (RFC 9112 section 9.6). Servers do, and so
// do WebSocket clients, which let the server close first (RFC 6455 section 7.1.1): a
// close 1009 in the middle of a large message reaches it. Other clients have read
// what they wanted and close at once.
void mg_io_finish(struct mg_connection *c, uint64_t now) {
  if (c->is_lingering) {
    if ((uint32_t) now - c->linger_since >= MG_LINGER_MS) c->is_closing = 1;
    return;
  }
  if ((!c->is_accepted && !c->is_websocket) || c->is_udp || c->is_eof) {
    c->is_closing = 1;
    return;
  }
  if (c->filter != NULL && c->filter->shutdown != NULL) c->filter->shutdown(c);
  mg_be_shutdown(c);
  c->is_lingering = 1;
  c->linger_since = (uint32_t) now;
  c->recv.len = 0;
}

static void io_watch(struct mg_connection *c, uint64_t now) {
  unsigned want;
  if (c->is_listening) {
    want = c->is_udp || now >= c->mgr->accept_paused_until ? MG_IO_R : 0;
  } else if (c->is_connecting) {
    want = MG_IO_W;
  } else if (c->is_lingering) {
    want = MG_IO_R;
  } else {
    bool recv_full = c->recv.len >= MG_MAX_RECV_SIZE;
    bool send_full = c->send.len > MG_MAX_SEND_QUEUE;
    c->is_full = recv_full || send_full;
    bool no_read = c->is_full || c->is_eof || c->is_read_paused || !io_wants_read(c);
    want = (no_read ? 0U : (unsigned) MG_IO_R) | (io_wants_write(c) ? (unsigned) MG_IO_W : 0U);
  }
  if (want != c->io_interest) {
    mg_be_watch(c, want);
    c->io_interest = want & 3;
  }
}

void mg_io_update(struct mg_connection *c, uint64_t now) {
  if (c->filter != NULL && c->filter->poll != NULL && !c->is_closing) c->filter->poll(c, now);
  if (c->is_resolving || c->is_closing) return;
  io_watch(c, now);
  // Input a filter held while reading was paused has no readiness to announce it:
  // read it now that reading may go on, then ask again for what c waits for
  if (c->filter != NULL && c->filter->pending != NULL && (c->io_interest & MG_IO_R) && c->filter->pending(c)) {
    io_read_pending(c);
    if (!c->is_closing) io_watch(c, now);
  }
}
