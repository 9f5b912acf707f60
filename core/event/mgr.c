// The manager: owns the connections and runs one loop pass per mg_mgr_poll():
// wait for I/O, run resolver and timers, poll every connection, write, close.
#include "mg_internal.h"

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
  if (!mg_be_init(mgr)) MG_ERROR(("network backend failed to start: %s", mg_be_error()));
}

void mg_mgr_free(struct mg_mgr *mgr) {
  while (mgr->conns != NULL) mgr_close_conn(mgr->conns);
  while (mgr->timers != NULL) {
    struct mg_timer *t = mgr->timers;
    mgr->timers = t->next;
    if (t->flags & MG_TIMER_MGR_OWNED) mg_free(t);  // Not the application's own timers
  }
  while (mgr->io_spares > 0) mg_free(mgr->io_spare[--mgr->io_spares]);
  mg_be_free(mgr);
}

// Milliseconds until the next timer is due (or paused listeners resume), capped at ms
static int mgr_wait_budget(struct mg_mgr *mgr, int ms, uint64_t now) {
  if (mgr->accept_paused_until > now && mgr->accept_paused_until - now < (uint64_t) ms)
    ms = (int) (mgr->accept_paused_until - now);
  for (struct mg_timer *t = mgr->timers; t != NULL && ms > 0; t = t->next) {
    if (t->expire == 0) return 0;  // Not yet armed: poll it now
    if (t->expire <= now) return 0;
    if (t->expire - now < (uint64_t) ms) ms = (int) (t->expire - now);
  }
  return ms < 0 ? 0 : ms;
}

// Output queued outside a read (timers, MG_EV_POLL, deferred replies) is written
// here, once per pass after every handler has run; replies to reads go out at once
void mg_mgr_poll(struct mg_mgr *mgr, int ms) {
  uint64_t now = mg_millis();
  mg_be_wait(mgr, mgr->no_wait ? 0 : mgr_wait_budget(mgr, ms, now));
  mgr->no_wait = false;
  now = mg_millis();
  mg_dns_poll(mgr, now);
  mg_timer_poll(&mgr->timers, now);

  struct mg_connection *c, *next;
  for (c = mgr->conns; c != NULL; c = next) {
    next = c->next;
    if (!c->is_closing && !c->is_lingering) mg_call(c, MG_EV_POLL, &now);
    // A closing connection sends nothing more: after a failed write, what follows
    // would reach the peer with a hole in it (is_draining is the way to finish sending)
    if (mg_io_may_write(c) && !mg_io_flush(c)) c->is_closing = 1;
    if ((c->is_draining || c->is_eof) && !c->is_resp && !mg_io_output_left(c)) mg_io_finish(c, now);
    if (c->is_closing) {
      mgr_close_conn(c);
      continue;
    }
    mg_conn_trim(c);
    mg_io_update(c, now);
    c->is_readable = c->is_writable = 0;  // What the next wait reports
  }
}

struct mg_timer *mg_timer_add(struct mg_mgr *mgr, uint64_t milliseconds, unsigned flags,
                              void (*fn)(void *), void *arg) {
  struct mg_timer *t = (struct mg_timer *) mg_calloc(1, sizeof(*t));
  if (t == NULL) {
    MG_ERROR(("out of memory for a timer"));
    return NULL;
  }
  mg_timer_init(&mgr->timers, t, milliseconds, flags | MG_TIMER_MGR_OWNED, fn, arg);
  return t;
}
