// JSON-RPC over any transport, as Mongoose 7.22 has it: a list of handlers keyed
// by method globs (mg_match), and helpers that print the result or error frame.
#ifndef MG_RPC_H
#define MG_RPC_H

struct mg_rpc;

// One request in flight: set head, pfn, pfn_data, req_data and frame, then call
// mg_rpc_process; a handler gets it back with rpc set to its own entry
struct mg_rpc_req {
  struct mg_rpc **head;  // The handler list, so that a handler can reach the others
  struct mg_rpc *rpc;    // The entry that matched; set by mg_rpc_process
  mg_pfn_t pfn;          // Where the answer is printed, e.g. mg_pfn_iobuf
  void *pfn_data;        // Its argument, e.g. a struct mg_iobuf *
  void *req_data;        // The caller's, untouched
  struct mg_str frame;   // The request, e.g. {"id":1,"method":"sum","params":[1,2]}
};

// A handler entry; mg_rpc_add allocates them
struct mg_rpc {
  struct mg_rpc *next;
  struct mg_str method;             // A glob (mg_match), an allocated copy; "" takes responses
  void (*fn)(struct mg_rpc_req *);
  void *fn_data;                    // A handler reads it as r->rpc->fn_data
};

// Puts a handler first in *head (tried before those added earlier). Logs and adds
// nothing if memory runs out.
void mg_rpc_add(struct mg_rpc **head, struct mg_str method_pattern,
                void (*handler)(struct mg_rpc_req *), void *handler_data);
// Removes and frees every entry of handler, or every entry when handler is NULL
void mg_rpc_del(struct mg_rpc **head, void (*handler)(struct mg_rpc_req *));
// Calls the first handler whose pattern matches "$.method"; a frame with "$.result" or
// "$.error" instead is a response, for the "" handler. No match: error -32601;
// neither a method nor a response (not JSON, too): -32700. A notification (a method
// and no "id") is never answered, not even with an error (JSON-RPC 2.0, 4.1).
void mg_rpc_process(struct mg_rpc_req *);

// {"id":ID,"result":FMT} (FMT NULL: null); nothing when the request has no id
void mg_rpc_ok(struct mg_rpc_req *, const char *fmt, ...);
void mg_rpc_vok(struct mg_rpc_req *, const char *fmt, va_list *ap);
// {"id":ID,"error":{"code":CODE,"message":FMT}}, without "id" when the request has
// none (it could not be read); nothing for a notification
void mg_rpc_err(struct mg_rpc_req *, int code, const char *fmt, ...);
void mg_rpc_verr(struct mg_rpc_req *, int code, const char *fmt, va_list *);
// A handler to register as, e.g., "rpc.list": the result is the array of method
// patterns in the list, the "" one left out
void mg_rpc_list(struct mg_rpc_req *r);

#endif  // MG_RPC_H
