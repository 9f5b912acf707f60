// Fuzzes JSON-RPC dispatch: any frame goes through mg_rpc_process against a few
// handlers (globs, the response handler, rpc.list). Whatever is answered must be
// one valid JSON object carrying the request's id, and a notification nothing.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_rpc_echo(struct mg_rpc_req *r) {
  mg_rpc_ok(r, "%m", MG_ESC((const char *) r->rpc->fn_data));
}

static void fuzz_rpc_fail(struct mg_rpc_req *r) {
  mg_rpc_err(r, 1, "%m", mg_print_esc, (int) r->frame.len, r->frame.buf);
}

static void fuzz_rpc_response(struct mg_rpc_req *r) {
  (void) r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mg_rpc *head;
  struct mg_iobuf out = {NULL, 0, 0, 64};
  if (head == NULL) {
    mg_rpc_add(&head, mg_str(""), fuzz_rpc_response, NULL);
    mg_rpc_add(&head, mg_str("get/*"), fuzz_rpc_echo, (void *) "get");
    mg_rpc_add(&head, mg_str("#.fail"), fuzz_rpc_fail, NULL);
    mg_rpc_add(&head, mg_str("rpc.list"), mg_rpc_list, NULL);
  }
  char *frame = (char *) malloc(size == 0 ? 1 : size);  // ASan sees reads past size
  if (frame == NULL) return 0;
  if (size > 0) memcpy(frame, data, size);
  struct mg_rpc_req r = {&head, NULL, mg_pfn_iobuf, &out, NULL, mg_str_n(frame, size)};
  mg_rpc_process(&r);

  struct mg_str answer = mg_str_n((const char *) out.buf, out.len);
  struct mg_str id = mg_json_get_tok(r.frame, "$.id"), method = mg_json_get_tok(r.frame, "$.method");
  bool notification = id.buf == NULL && method.len > 0 && method.buf[0] == '"';
  if (notification && out.len > 0) __builtin_trap();
  if (out.len > 0) {
    if (!mg_json_check(answer, NULL, 0) || answer.buf[0] != '{') __builtin_trap();
    struct mg_str got = mg_json_get_tok(answer, "$.id");
    if (got.len != id.len || (id.len > 0 && memcmp(got.buf, id.buf, id.len) != 0)) __builtin_trap();
  }
  mg_iobuf_free(&out);
  free(frame);
  return 0;
}
