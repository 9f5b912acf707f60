// For the HTTP server harnesses: a connection the HTTP listener has "accepted", with
// no socket under it, so a harness feeds c->recv and raises the events itself.
#ifndef FUZZ_HTTP_ACCEPTED_H
#define FUZZ_HTTP_ACCEPTED_H
#include "mg_internal.h"

static inline struct mg_connection *fuzz_http_accepted(struct mg_mgr *mgr, const struct mg_http_limits *limits,
                                                       mg_event_handler_t fn) {
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(mgr);
  struct mg_connection *lsn = mg_http_listen_limits(mgr, "http://127.0.0.1:0", limits, fn, NULL);
  struct mg_connection *c = mg_conn_alloc(mgr);
  if (lsn == NULL || c == NULL) __builtin_trap();
  c->pfn = lsn->pfn, c->pfn_data = lsn->pfn_data, c->fn = fn;
  c->is_accepted = 1;
  mg_call(c, MG_EV_OPEN, NULL);
  return c;
}
#endif  // FUZZ_HTTP_ACCEPTED_H
