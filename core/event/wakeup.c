// mg_wakeup: the one door into the loop from another thread. Each call is one
// datagram on the backend's wakeup channel, so concurrent writers never interleave.
#include "mg_internal.h"

#define WAKEUP_MAX 1000  // Bytes per message, as mg_net.h promises

struct wakeup_record {
  unsigned long conn_id;
  size_t len;
};

// A record must arrive as one datagram: fewer bytes than WAKEUP_MAX when the
// build receives smaller datagrams (MG_UDP_MAX)
static size_t wakeup_limit(void) {
  size_t room = MG_UDP_ROOM > sizeof(struct wakeup_record) ? MG_UDP_ROOM - sizeof(struct wakeup_record) : 0;
  return room < WAKEUP_MAX ? room : WAKEUP_MAX;
}

static void wakeup_call(struct mg_mgr *mgr, unsigned long conn_id, struct mg_str data) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->id == conn_id) {
      mg_call(c, MG_EV_WAKEUP, &data);
      return;
    }
  }
}

// A read holds one datagram, one record, and the buffer is emptied after each: a
// record that arrived cut could otherwise hold up every one behind it
static void wakeup_deliver(struct mg_connection *pipe, int ev, void *ev_data) {
  (void) ev_data;
  if (ev != MG_EV_READ) return;
  struct mg_iobuf *io = &pipe->recv;
  struct wakeup_record rec;
  if (io->len >= sizeof(rec)) memcpy(&rec, io->buf, sizeof(rec));
  if (io->len < sizeof(rec) || io->len - sizeof(rec) != rec.len) {
    MG_ERROR(("mg_wakeup: a malformed message of %lu bytes dropped", (unsigned long) io->len));
  } else {
    wakeup_call(pipe->mgr, rec.conn_id, mg_str_n((char *) io->buf + sizeof(rec), rec.len));
  }
  io->len = 0;
}

bool mg_wakeup_init(struct mg_mgr *mgr) {
  if (mgr->wakeup_pipe != NULL) return true;
  struct mg_connection *pipe = mg_conn_alloc(mgr);
  if (pipe == NULL) return false;
  pipe->is_udp = 1;  // Datagrams: one record each
  pipe->pfn = wakeup_deliver;
  if (!mg_be_wakeup_init(pipe)) {
    MG_ERROR(("mg_wakeup_init: %s", mg_be_error()));
    mg_conn_free(pipe);
    return false;
  }
  pipe->io_interest = MG_IO_R;
  mgr->wakeup_pipe = pipe;
  return true;
}

bool mg_wakeup(struct mg_mgr *mgr, unsigned long conn_id, const void *buf, size_t len) {
  unsigned char frame[sizeof(struct wakeup_record) + WAKEUP_MAX];
  struct wakeup_record rec = {conn_id, len};
  if (conn_id == 0) return false;  // No connection has id 0 (Mongoose 7.22 refuses it too)
  if (len > wakeup_limit()) {
    MG_ERROR(("mg_wakeup: a message of %lu bytes refused: at most %lu", (unsigned long) len,
              (unsigned long) wakeup_limit()));
    return false;
  }
  memcpy(frame, &rec, sizeof(rec));
  if (len > 0) memcpy(frame + sizeof(rec), buf, len);
  return mg_be_wakeup(mgr, frame, sizeof(rec) + len);
}
