// mg_wakeup: the one door into the loop from another thread. Each call is one
// datagram on the backend's wakeup channel, so concurrent writers never interleave.
#include "mg_internal.h"

struct wakeup_record {
  unsigned long conn_id;
  size_t len;
};

static void wakeup_deliver(struct mg_connection *pipe, int ev, void *ev_data) {
  (void) ev_data;
  if (ev != MG_EV_READ) return;
  struct mg_iobuf *io = &pipe->recv;
  size_t ofs = 0;
  struct wakeup_record rec;
  while (io->len - ofs >= sizeof(rec)) {
    memcpy(&rec, io->buf + ofs, sizeof(rec));
    if (io->len - ofs - sizeof(rec) < rec.len) break;  // Rest of it not read yet
    struct mg_str data = mg_str_n((char *) io->buf + ofs + sizeof(rec), rec.len);
    for (struct mg_connection *c = pipe->mgr->conns; c != NULL; c = c->next) {
      if (c->id == rec.conn_id) {
        mg_call(c, MG_EV_WAKEUP, &data);
        break;
      }
    }
    ofs += sizeof(rec) + rec.len;
  }
  mg_iobuf_del(io, 0, ofs);
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
  unsigned char frame[1024];
  struct wakeup_record rec = {conn_id, len};
  if (len > sizeof(frame) - sizeof(rec)) return false;
  memcpy(frame, &rec, sizeof(rec));
  if (len > 0) memcpy(frame + sizeof(rec), buf, len);
  return mg_be_wakeup(mgr, frame, sizeof(rec) + len);
}
