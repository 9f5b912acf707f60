// JSON-RPC as Mongoose 7.22 has it: a list of handlers keyed by method globs,
// dispatch of one frame, and the printers of result and error frames.
#include "meerkat.h"

enum { RPC_METHOD_NOT_FOUND = -32601, RPC_PARSE_ERROR = -32700 };

void mg_rpc_add(struct mg_rpc **head, struct mg_str method_pattern,
                void (*handler)(struct mg_rpc_req *), void *handler_data) {
  struct mg_rpc *rpc = (struct mg_rpc *) mg_calloc(1, sizeof(*rpc));
  struct mg_str method = MG_NULL_STR;
  if (rpc != NULL) method = mg_strdup(method_pattern);
  if (method.buf == NULL) {
    MG_ERROR(("out of memory for JSON-RPC method %.*s", (int) method_pattern.len, method_pattern.buf));
    mg_free(rpc);
    return;
  }
  rpc->method = method;
  rpc->fn = handler;
  rpc->fn_data = handler_data;
  rpc->next = *head;
  *head = rpc;
}

void mg_rpc_del(struct mg_rpc **head, void (*handler)(struct mg_rpc_req *)) {
  while (*head != NULL) {
    struct mg_rpc *rpc = *head;
    if (handler == NULL || rpc->fn == handler) {
      *head = rpc->next;
      mg_free((void *) rpc->method.buf);
      mg_free(rpc);
    } else {
      head = &rpc->next;
    }
  }
}

// The request's "id" as written, or {NULL, 0} when it has none (or is no JSON)
static struct mg_str rpc_id(const struct mg_rpc_req *r) {
  return mg_json_get_tok(r->frame, "$.id");
}

// A call without an id is a notification: JSON-RPC 2.0 says it gets no answer
static bool rpc_is_notification(const struct mg_rpc_req *r) {
  struct mg_str method = mg_json_get_tok(r->frame, "$.method");
  return rpc_id(r).buf == NULL && method.len > 0 && method.buf[0] == '"';
}

void mg_rpc_vok(struct mg_rpc_req *r, const char *fmt, va_list *ap) {
  struct mg_str id = rpc_id(r);
  if (id.buf == NULL || r->pfn == NULL) return;
  mg_xprintf(r->pfn, r->pfn_data, "{\"id\":%.*s,\"result\":", (int) id.len, id.buf);
  mg_vxprintf(r->pfn, r->pfn_data, fmt == NULL ? "null" : fmt, ap);
  mg_xprintf(r->pfn, r->pfn_data, "}");
}

void mg_rpc_ok(struct mg_rpc_req *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_vok(r, fmt, &ap);
  va_end(ap);
}

void mg_rpc_verr(struct mg_rpc_req *r, int code, const char *fmt, va_list *ap) {
  struct mg_str id = rpc_id(r);
  if (r->pfn == NULL || rpc_is_notification(r)) return;
  mg_xprintf(r->pfn, r->pfn_data, "{");
  if (id.buf != NULL) mg_xprintf(r->pfn, r->pfn_data, "\"id\":%.*s,", (int) id.len, id.buf);
  mg_xprintf(r->pfn, r->pfn_data, "\"error\":{\"code\":%d,\"message\":", code);
  mg_vxprintf(r->pfn, r->pfn_data, fmt == NULL ? "null" : fmt, ap);
  mg_xprintf(r->pfn, r->pfn_data, "}}");
}

void mg_rpc_err(struct mg_rpc_req *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_verr(r, code, fmt, &ap);
  va_end(ap);
}

// The first entry whose pattern matches method; the "" entry only matches ""
static struct mg_rpc *rpc_find(struct mg_rpc *head, struct mg_str method) {
  for (struct mg_rpc *rpc = head; rpc != NULL; rpc = rpc->next) {
    if (rpc->method.len == 0 ? method.len == 0 : mg_match(method, rpc->method, NULL)) return rpc;
  }
  return NULL;
}

void mg_rpc_process(struct mg_rpc_req *r) {
  struct mg_rpc *head = r->head == NULL ? NULL : *r->head;
  struct mg_str method = mg_json_get_tok(r->frame, "$.method");
  r->rpc = NULL;
  if (method.len >= 2 && method.buf[0] == '"') {
    method = mg_str_n(method.buf + 1, method.len - 2);  // As written, between the quotes
    if ((r->rpc = rpc_find(head, method)) != NULL) {
      r->rpc->fn(r);
    } else {
      mg_rpc_err(r, RPC_METHOD_NOT_FOUND, "\"%.*s not found\"", (int) method.len, method.buf);
    }
  } else if (method.buf == NULL && (mg_json_get(r->frame, "$.result", NULL) >= 0 ||
                                    mg_json_get(r->frame, "$.error", NULL) >= 0)) {
    // A response to a call of ours; answering it could set two peers answering forever
    if ((r->rpc = rpc_find(head, mg_str(""))) != NULL) r->rpc->fn(r);
  } else {
    mg_rpc_err(r, RPC_PARSE_ERROR, "%m", MG_ESC("parse error"));
  }
}

// %M printer: the method patterns of a handler list as JSON strings, comma-separated
static size_t rpc_print_methods(mg_pfn_t out, void *param, va_list *ap) {
  struct mg_rpc *head = va_arg(*ap, struct mg_rpc *);
  size_t n = 0;
  for (struct mg_rpc *rpc = head; rpc != NULL; rpc = rpc->next) {
    if (rpc->method.len == 0) continue;  // The response handler is no method
    n += mg_xprintf(out, param, "%s%m", n == 0 ? "" : ",", mg_print_esc, (int) rpc->method.len, rpc->method.buf);
  }
  return n;
}

void mg_rpc_list(struct mg_rpc_req *r) {
  mg_rpc_ok(r, "[%M]", rpc_print_methods, r->head == NULL ? NULL : *r->head);
}
