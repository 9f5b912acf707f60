// Connections: creation from a URL (parsed once), the filter slot, queueing output,
// freeing, and the I/O buffers that go back to the manager's spares when empty.
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
  c->fd = (void *) (intptr_t) -1;
  c->id = ++mgr->nextid;
  c->recv.align = c->send.align = MG_IO_SIZE;
  c->next = mgr->conns;
  if (c->next != NULL) c->next->prev = c;
  mgr->conns = c;
  return c;
}

void mg_conn_free(struct mg_connection *c) {
  // A walk to find the one before took 10,000 closes at once over a second
  if (c->prev != NULL) c->prev->next = c->next;
  else if (c->mgr->conns == c) c->mgr->conns = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  if (c->is_resolving) mg_dns_cancel(c);
  if (c->filter != NULL && c->filter->free != NULL) c->filter->free(c);
  else mg_free(c->tls);  // No filter state: the host kept for mg_tls_init, or NULL
  mg_be_close(c);
  mg_iobuf_free(&c->recv);
  mg_iobuf_free(&c->send);
  mg_free(c);
}

// A test build may name a filter that every TCP connection passes through
// (-DMG_DEFAULT_FILTER=name of a struct mg_filter), to prove the slot works.
#ifdef MG_DEFAULT_FILTER
extern const struct mg_filter MG_DEFAULT_FILTER;
#endif

void mg_conn_attach_filter(struct mg_connection *c) {
#ifdef MG_DEFAULT_FILTER
  if (!c->is_udp && c->filter == NULL) c->filter = &MG_DEFAULT_FILTER;
#else
  (void) c;
#endif
}

// Buffers are given back as soon as they are empty, so an idle keep-alive
// connection holds no I/O memory; plain-sized ones wait in the manager's spares
// for the next connection that reads or answers.
static void conn_io_release(struct mg_mgr *mgr, struct mg_iobuf *io) {
  if (io->len != 0 || io->buf == NULL) return;
  if (mgr != NULL && io->size == MG_IO_SIZE && mgr->io_spares < MG_IO_SPARES) {
    mgr->io_spare[mgr->io_spares++] = io->buf;
    io->buf = NULL, io->size = 0;
  } else {
    mg_iobuf_free(io);
  }
}

void mg_conn_trim(struct mg_connection *c) {
  conn_io_release(c->mgr, &c->recv);
  conn_io_release(c->mgr, &c->send);
}

void mg_conn_release_io(struct mg_connection *c, struct mg_iobuf *io) {
  conn_io_release(c->mgr, io);
}

// A connection of no manager (a zeroed struct that a program builds a message in)
// has no spares: its buffers grow as plain iobufs
void mg_conn_take_spare(struct mg_connection *c, struct mg_iobuf *io) {
  if (io->buf == NULL && c->mgr != NULL && c->mgr->io_spares > 0) {
    io->buf = c->mgr->io_spare[--c->mgr->io_spares];
    io->size = MG_IO_SIZE;
  }
}

bool mg_send(struct mg_connection *c, const void *buf, size_t len) {
  if (len == 0) return true;
  mg_conn_take_spare(c, &c->send);
  if (mg_iobuf_add(&c->send, c->send.len, buf, len) != len) {
    mg_error(c, "out of memory queueing %lu bytes", (unsigned long) len);
    return false;
  }
  // A datagram per call: send it now, before the next call appends another
  if (c->is_udp && c->mgr != NULL && !c->is_resolving && !c->is_connecting && !c->is_closing) mg_io_flush(c);
  return true;
}

size_t mg_vprintf(struct mg_connection *c, const char *fmt, va_list *ap) {
  size_t old = c->send.len;
  mg_conn_take_spare(c, &c->send);
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

// The address to listen on: a numeric IP, "localhost" (any case, mg_aton), or
// empty as in ":8000" and "http://:8000" (any IPv4 address)
static bool conn_listen_addr(const struct mg_url *u, struct mg_addr *a) {
  memset(a, 0, sizeof(*a));
  if (u->host.len > 0 && !mg_aton(u->host, a)) return false;
  a->port = mg_htons(u->port);
  return true;
}

struct mg_connection *mg_listen_svc(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data,
                                    mg_event_handler_t pfn, void *pfn_data) {
  struct mg_url u;
  struct mg_addr addr;
  if (url == NULL || !mg_url_parse(mg_str(url), &u) || !conn_listen_addr(&u, &addr)) {
    MG_ERROR(("cannot listen on '%s': expected scheme://IP:PORT with a numeric IP", url ? url : "(null)"));
    return NULL;
  }
  if (mg_url_scheme_is_tls(u.scheme) && !MG_ENABLE_TLS) {
    MG_ERROR(("cannot listen on %s: this build has no TLS (MG_ENABLE_TLS=0)", url));
    return NULL;
  }
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fn = fn, c->fn_data = fn_data, c->pfn = pfn, c->pfn_data = pfn_data;
  c->is_udp = mg_strcasecmp(u.scheme, mg_str("udp")) == 0;
  c->is_tls = mg_url_scheme_is_tls(u.scheme);  // Accepted connections inherit it
  if (!mg_be_listen(c, &addr)) {
    MG_ERROR(("cannot listen on %s: %s", url, mg_be_error()));
    mg_conn_free(c);
    return NULL;
  }
  c->is_listening = 1;
  c->io_interest = MG_IO_R;
  MG_DEBUG(("%lu listening on %s", c->id, url));
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}

struct mg_connection *mg_listen(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  return mg_listen_svc(mgr, url, fn, fn_data, NULL, NULL);
}

struct mg_connection *mg_connect_svc(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data,
                                     mg_event_handler_t pfn, void *pfn_data) {
  struct mg_url u;
  if (url == NULL || !mg_url_parse(mg_str(url), &u) || u.host.len == 0) {
    MG_ERROR(("cannot connect to '%s': malformed URL", url == NULL ? "(null)" : url));
    return NULL;
  }
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (c == NULL) return NULL;
  c->fn = fn, c->fn_data = fn_data, c->pfn = pfn, c->pfn_data = pfn_data;
  c->is_client = 1;
  c->is_udp = mg_strcasecmp(u.scheme, mg_str("udp")) == 0;
  c->is_tls = mg_url_scheme_is_tls(u.scheme);
  if (c->is_tls && !c->is_udp) c->tls = mg_strdup(u.host).buf;  // For mg_tls_init (mg_internal.h)
  c->rem.port = mg_htons(u.port);
  MG_DEBUG(("%lu connecting to %s", c->id, url));
  mg_call(c, MG_EV_OPEN, NULL);
  if (!c->is_closing) mg_resolve(c, u.host);
  return c;
}

struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  return mg_connect_svc(mgr, url, fn, fn_data, NULL, NULL);
}

void mg_conn_start(struct mg_connection *c) {
  int rc = mg_be_connect(c);
  if (rc == MG_IO_ERR) {
    mg_error(c, "connect to %M: %s", mg_print_ip_port, &c->rem, mg_be_error());
  } else if (rc == MG_IO_WAIT) {
    c->is_connecting = 1;
    c->io_interest = MG_IO_W;
  } else {
    c->io_interest = MG_IO_R;
    mg_conn_attach_filter(c);
    mg_call(c, MG_EV_CONNECT, NULL);
    mg_conn_check_tls(c);
  }
}

void mg_conn_check_tls(struct mg_connection *c) {
  if (!c->is_tls || c->is_tls_hs || c->is_closing) return;
  mg_error(c, "TLS URL, but the handler did not call mg_tls_init in %s: closing rather than sending plaintext",
           c->is_client ? "MG_EV_CONNECT" : "MG_EV_ACCEPT");
}
