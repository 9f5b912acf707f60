// The manager: owns the connections, runs one loop iteration per mg_mgr_poll(),
// dispatches events (protocol handler first, then the user's), frees closed ones.
#include "mg_internal.h"

void mg_call(struct mg_connection *c, int ev, void *ev_data) {
  if (c->pfn != NULL) c->pfn(c, ev, ev_data);
  if (c->fn != NULL) c->fn(c, ev, ev_data);
}

void mg_error(struct mg_connection *c, const char *fmt, ...) {
  char buf[160];
  va_list ap;
  va_start(ap, fmt);
  mg_vsnprintf(buf, sizeof(buf), fmt, &ap);
  va_end(ap);
  MG_ERROR(("%lu %s", c->id, buf));
  c->is_closing = 1;  // Set first: a handler may look at it
  mg_call(c, MG_EV_ERROR, buf);
}

struct mg_connection *mg_conn_alloc(struct mg_mgr *mgr) {
  struct mg_connection *c = (struct mg_connection *) mg_calloc(1, sizeof(*c));
  if (c == NULL) {
    MG_ERROR(("out of memory for a connection"));
    return NULL;
  }
  c->mgr = mgr;
  c->fd = MG_FD_PTR(-1);
  c->id = ++mgr->nextid;
  c->recv.align = c->send.align = MG_IO_SIZE;
  c->next = mgr->conns;
  mgr->conns = c;
  return c;
}

void mg_conn_free(struct mg_connection *c) {
  struct mg_connection **p = &c->mgr->conns;
  while (*p != NULL && *p != c) p = &(*p)->next;
  if (*p == c) *p = c->next;
  if (c->is_resolving) mg_dns_cancel(c);
  mg_net_close(c);
  mg_iobuf_free(&c->recv);
  mg_iobuf_free(&c->send);
  mg_free(c);
}

// Buffers are given back as soon as they are empty, so an idle keep-alive
// connection holds no I/O memory; plain-sized ones wait in the manager's spares
// for the next connection that reads or answers.
static void mgr_io_release(struct mg_mgr *mgr, struct mg_iobuf *io) {
  if (io->len != 0 || io->buf == NULL) return;
  if (io->size == MG_IO_SIZE && mgr->io_spares < MG_IO_SPARES) {
    mgr->io_spare[mgr->io_spares++] = io->buf;
    io->buf = NULL, io->size = 0;
  } else {
    mg_iobuf_free(io);
  }
}

void mg_conn_trim(struct mg_connection *c) {
  mgr_io_release(c->mgr, &c->recv);
  mgr_io_release(c->mgr, &c->send);
}

void mg_conn_take_io(struct mg_connection *c, struct mg_iobuf *io) {
  if (io->buf == NULL && c->mgr->io_spares > 0) {
    io->buf = c->mgr->io_spare[--c->mgr->io_spares];
    io->size = MG_IO_SIZE;
  }
}

static void mgr_close_conn(struct mg_connection *c) {
  // A closing connection may have resolver state pointing at it, or be the resolver
  mg_call(c, MG_EV_CLOSE, NULL);
  if (c == c->mgr->dns4.c) c->mgr->dns4.c = NULL;
  if (c == c->mgr->dns6.c) c->mgr->dns6.c = NULL;
  if (c == c->mgr->wakeup_pipe) c->mgr->wakeup_pipe = NULL;
  MG_DEBUG(("%lu closed", c->id));
  mg_conn_free(c);
}

void mg_mgr_init(struct mg_mgr *mgr) {
  memset(mgr, 0, sizeof(*mgr));
  mgr->dnstimeout = 3000;
  mgr->epoll_fd = -1;
  mgr->wakeup_fd = -1;
  if (!mg_net_init(mgr)) MG_ERROR(("network backend failed to start"));
}

void mg_mgr_free(struct mg_mgr *mgr) {
  while (mgr->conns != NULL) mgr_close_conn(mgr->conns);
  while (mgr->timers != NULL) {
    struct mg_timer *t = mgr->timers;
    mgr->timers = t->next;
    if (t->flags & MG_TIMER_AUTODELETE) mg_free(t);
  }
  while (mgr->io_spares > 0) mg_free(mgr->io_spare[--mgr->io_spares]);
  mg_net_free(mgr);
}

// Milliseconds until the next timer is due, capped at ms
static int mgr_wait_budget(struct mg_mgr *mgr, int ms, uint64_t now) {
  for (struct mg_timer *t = mgr->timers; t != NULL && ms > 0; t = t->next) {
    if (t->expire == 0) return 0;  // Not yet armed: poll it now
    if (t->expire <= now) return 0;
    if (t->expire - now < (uint64_t) ms) ms = (int) (t->expire - now);
  }
  return ms < 0 ? 0 : ms;
}

void mg_mgr_poll(struct mg_mgr *mgr, int ms) {
  uint64_t now = mg_millis();
  mg_net_io(mgr, mgr_wait_budget(mgr, ms, now));
  now = mg_millis();
  mg_dns_poll(mgr, now);
  mg_timer_poll(&mgr->timers, now);

  struct mg_connection *c, *next;
  for (c = mgr->conns; c != NULL; c = next) {
    next = c->next;
    if (!c->is_closing) mg_call(c, MG_EV_POLL, &now);
    if (c->send.len > 0 && !c->is_connecting && !c->is_resolving && !c->is_listening &&
        !mg_net_flush(c)) {
      c->is_closing = 1;
    }
    if ((c->is_draining || c->is_eof) && !c->is_resp && c->send.len == 0) c->is_closing = 1;
    if (c->is_closing) {
      mgr_close_conn(c);
      continue;
    }
    mg_conn_trim(c);
    mg_net_update(c);
  }
}

bool mg_send(struct mg_connection *c, const void *buf, size_t len) {
  if (len == 0) return true;
  if (mg_iobuf_add(&c->send, c->send.len, buf, len) != len) {
    mg_error(c, "out of memory queueing %lu bytes", (unsigned long) len);
    return false;
  }
  if (c->is_udp && !c->is_resolving && MG_FD(c) >= 0) mg_net_flush(c);  // One datagram per call
  return true;
}

// All or nothing: a message with a hole in it must never go out
size_t mg_vprintf(struct mg_connection *c, const char *fmt, va_list *ap) {
  size_t old = c->send.len;
  if (!mg_iobuf_vprintf(&c->send, fmt, ap)) {
    mg_error(c, "out of memory formatting output");
    return 0;
  }
  return c->send.len - old;
}

size_t mg_printf(struct mg_connection *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_vprintf(c, fmt, &ap);
  va_end(ap);
  return n;
}

struct mg_connection *mg_listen(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  if (url != NULL && mg_url_is_ssl(url) && !MG_ENABLE_TLS) {
    MG_ERROR(("cannot listen on %s: this build has no TLS (MG_ENABLE_TLS=0)", url));
    return NULL;
  }
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fn = fn, c->fn_data = fn_data;
  if (!mg_net_listen(c, url)) {
    mg_conn_free(c);
    return NULL;
  }
  c->is_listening = 1;
  c->is_udp = strncmp(url, "udp:", 4) == 0;
  MG_DEBUG(("%lu listening on %s", c->id, url));
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}

struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  struct mg_url u;
  if (url == NULL || !mg_url_parse(mg_str(url), &u) || u.host.len == 0) {
    MG_ERROR(("cannot connect to '%s': malformed URL", url == NULL ? "(null)" : url));
    return NULL;
  }
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fn = fn, c->fn_data = fn_data;
  c->is_client = 1;
  c->is_udp = mg_str_eq(u.scheme, "udp");
  c->is_tls = mg_url_is_ssl(url) != 0;
  c->rem.port = mg_htons(u.port);
  MG_DEBUG(("%lu connecting to %s", c->id, url));
  mg_call(c, MG_EV_OPEN, NULL);
  mg_resolve(c, u.host);
  return c;
}

struct mg_timer *mg_timer_add(struct mg_mgr *mgr, uint64_t milliseconds, unsigned flags,
                              void (*fn)(void *), void *arg) {
  struct mg_timer *t = (struct mg_timer *) mg_calloc(1, sizeof(*t));
  if (t == NULL) {
    MG_ERROR(("out of memory for a timer"));
    return NULL;
  }
  mg_timer_init(&mgr->timers, t, milliseconds, flags | MG_TIMER_AUTODELETE, fn, arg);
  return t;
}
