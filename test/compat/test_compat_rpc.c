// Mongoose 7.22 compatibility of JSON-RPC (struct mg_rpc, mg_rpc_add/del/process/
// ok/err/list), built against dist/mongoose.h and dist/meerkat.c alone.
#include <criterion/criterion.h>
#include "mongoose.h"

static struct mg_rpc *s_head;
static struct mg_iobuf s_out;
static int s_calls;
static struct mg_rpc_req *s_seen;  // The request the last handler got

static void rpc_teardown(void) {
  mg_rpc_del(&s_head, NULL);
  mg_iobuf_free(&s_out);
}

TestSuite(compat_rpc, .fini = rpc_teardown);

// What processing frame wrote, as a C string ("" for nothing)
static const char *rpc_process(const char *frame) {
  struct mg_rpc_req r = {&s_head, NULL, mg_pfn_iobuf, &s_out, (void *) "req", mg_str(frame)};
  s_out.len = 0;
  mg_rpc_process(&r);
  mg_iobuf_add(&s_out, s_out.len, "", 1);  // NUL-terminate, whatever was written
  s_out.len--;
  return (const char *) s_out.buf;
}

static void rpc_sum(struct mg_rpc_req *r) {
  double a = 0, b = 0;
  s_calls++;
  s_seen = r;
  mg_json_get_num(r->frame, "$.params[0]", &a);
  mg_json_get_num(r->frame, "$.params[1]", &b);
  mg_rpc_ok(r, "%g", a + b);
}

static void rpc_name(struct mg_rpc_req *r) {
  s_calls++;
  s_seen = r;
  mg_rpc_ok(r, "%m", MG_ESC((const char *) r->rpc->fn_data));
}

static void rpc_fail(struct mg_rpc_req *r) {
  s_calls++;
  mg_rpc_err(r, 123, "%m", MG_ESC("went wrong"));
}

static void rpc_nulls(struct mg_rpc_req *r) {
  if (mg_json_get_long(r->frame, "$.params[0]", 0) == 1) mg_rpc_ok(r, NULL);
  else mg_rpc_err(r, 7, NULL);
}

static void rpc_vok(struct mg_rpc_req *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_vok(r, fmt, &ap);
  va_end(ap);
}

static void rpc_verr(struct mg_rpc_req *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_verr(r, code, fmt, &ap);
  va_end(ap);
}

static void rpc_variadic(struct mg_rpc_req *r) {
  if (mg_json_get_long(r->frame, "$.params[0]", 0) == 1) rpc_vok(r, "[%d,%m]", 42, MG_ESC("x"));
  else rpc_verr(r, -1, "%m", MG_ESC("no"));
}

static void rpc_response(struct mg_rpc_req *r) {
  s_calls++;
  s_seen = r;
}

Test(compat_rpc, answers_a_call_as_the_tutorial_shows) {
  mg_rpc_add(&s_head, mg_str("sum"), rpc_sum, NULL);
  cr_assert_str_eq(rpc_process("{\"id\": 12, \"method\": \"sum\", \"params\": [2,3]}"), "{\"id\":12,\"result\":5}");
  cr_assert_eq(s_calls, 1);
  cr_assert_str_eq(rpc_process("{\"method\":\"sum\",\"params\":[1,1],\"id\":\"abc\"}"),
                   "{\"id\":\"abc\",\"result\":2}", "the id comes back as it was written");
}

Test(compat_rpc, handler_gets_its_entry_and_the_callers_data) {
  mg_rpc_add(&s_head, mg_str("name"), rpc_name, (void *) "meerkat");
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"name\"}"), "{\"id\":1,\"result\":\"meerkat\"}");
  cr_assert_not_null(s_seen);
  cr_assert_str_eq((const char *) s_seen->req_data, "req");
  cr_assert_eq(s_seen->head, &s_head);
}

Test(compat_rpc, methods_are_globs_through_mg_match) {
  mg_rpc_add(&s_head, mg_str("get/*"), rpc_name, (void *) "getter");
  mg_rpc_add(&s_head, mg_str("#.set"), rpc_name, (void *) "setter");
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"get/temp\"}"), "{\"id\":1,\"result\":\"getter\"}");
  cr_assert_str_eq(rpc_process("{\"id\":2,\"method\":\"a/b.set\"}"), "{\"id\":2,\"result\":\"setter\"}");
  // '*' stops at '/'
  cr_assert_eq(mg_json_get_long(mg_str(rpc_process("{\"id\":3,\"method\":\"get/a/b\"}")), "$.error.code", 0), -32601);
}

Test(compat_rpc, the_entry_added_last_is_tried_first) {
  mg_rpc_add(&s_head, mg_str("who"), rpc_name, (void *) "first");
  mg_rpc_add(&s_head, mg_str("w*"), rpc_name, (void *) "second");
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"who\"}"), "{\"id\":1,\"result\":\"second\"}");
}

Test(compat_rpc, unknown_method_is_32601_with_the_id) {
  mg_rpc_add(&s_head, mg_str("sum"), rpc_sum, NULL);
  struct mg_str out = mg_str(rpc_process("{\"id\":7,\"method\":\"nope\"}"));
  cr_assert_eq(mg_json_get_long(out, "$.id", 0), 7);
  cr_assert_eq(mg_json_get_long(out, "$.error.code", 0), -32601);
  char *message = mg_json_get_str(out, "$.error.message");
  cr_assert_not_null(message);
  cr_assert_not_null(strstr(message, "not found"), "%s", message);
  mg_free(message);
  cr_assert_eq(s_calls, 0);
}

Test(compat_rpc, notifications_get_no_answer) {
  mg_rpc_add(&s_head, mg_str("sum"), rpc_sum, NULL);
  mg_rpc_add(&s_head, mg_str("fail"), rpc_fail, NULL);
  cr_assert_str_eq(rpc_process("{\"method\":\"sum\",\"params\":[1,2]}"), "");
  cr_assert_eq(s_calls, 1, "the handler ran");
  cr_assert_str_eq(rpc_process("{\"method\":\"fail\"}"), "");
  cr_assert_eq(s_calls, 2);
  cr_assert_str_eq(rpc_process("{\"method\":\"nope\"}"), "", "not even -32601");
}

Test(compat_rpc, parse_failures_are_32700) {
  static const char *const frames[] = {"not json", "{\"id\":1,", "[1,2]", "{}", "{\"method\":42}"};
  for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
    struct mg_str out = mg_str(rpc_process(frames[i]));
    cr_assert_eq(mg_json_get_long(out, "$.error.code", 0), -32700, "%s: %.*s", frames[i], (int) out.len, out.buf);
    cr_assert_lt(mg_json_get(out, "$.id", NULL), 0, "%s: no id to answer with", frames[i]);
  }
  struct mg_str out = mg_str(rpc_process("{\"id\":3}"));
  cr_assert_eq(mg_json_get_long(out, "$.error.code", 0), -32700);
  cr_assert_eq(mg_json_get_long(out, "$.id", 0), 3);
}

Test(compat_rpc, errors_as_the_handler_words_them) {
  mg_rpc_add(&s_head, mg_str("fail"), rpc_fail, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":5,\"method\":\"fail\"}"),
                   "{\"id\":5,\"error\":{\"code\":123,\"message\":\"went wrong\"}}");
}

Test(compat_rpc, null_format_prints_null) {
  mg_rpc_add(&s_head, mg_str("n"), rpc_nulls, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"n\",\"params\":[1]}"), "{\"id\":1,\"result\":null}");
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"n\",\"params\":[0]}"),
                   "{\"id\":1,\"error\":{\"code\":7,\"message\":null}}");
}

Test(compat_rpc, va_list_variants) {
  mg_rpc_add(&s_head, mg_str("v"), rpc_variadic, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"v\",\"params\":[1]}"), "{\"id\":1,\"result\":[42,\"x\"]}");
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"v\",\"params\":[0]}"),
                   "{\"id\":1,\"error\":{\"code\":-1,\"message\":\"no\"}}");
}

Test(compat_rpc, responses_go_to_the_empty_pattern) {
  mg_rpc_add(&s_head, mg_str("sum"), rpc_sum, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":1,\"result\":3}"), "", "no \"\" handler: a response is not answered");
  mg_rpc_add(&s_head, mg_str(""), rpc_response, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":1,\"result\":3}"), "");
  cr_assert_eq(s_calls, 1);
  cr_assert_str_eq(rpc_process("{\"id\":2,\"error\":{\"code\":1,\"message\":\"x\"}}"), "");
  cr_assert_eq(s_calls, 2);
  cr_assert_eq(s_seen->rpc->fn, rpc_response);
}

Test(compat_rpc, list_names_every_method) {
  mg_rpc_add(&s_head, mg_str("sum"), rpc_sum, NULL);
  mg_rpc_add(&s_head, mg_str(""), rpc_response, NULL);
  mg_rpc_add(&s_head, mg_str("rpc.list"), mg_rpc_list, NULL);
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"rpc.list\"}"), "{\"id\":1,\"result\":[\"rpc.list\",\"sum\"]}");
}

Test(compat_rpc, del_removes_one_handlers_entries_or_all) {
  mg_rpc_add(&s_head, mg_str("a"), rpc_sum, NULL);
  mg_rpc_add(&s_head, mg_str("b"), rpc_name, (void *) "b");
  mg_rpc_add(&s_head, mg_str("c"), rpc_sum, NULL);
  mg_rpc_del(&s_head, rpc_sum);
  cr_assert_not_null(s_head);
  cr_assert_eq(s_head->fn, rpc_name);
  cr_assert_null(s_head->next);
  cr_assert_eq(s_head->method.len, 1);
  cr_assert_eq(s_head->method.buf[0], 'b');
  mg_rpc_add(&s_head, mg_str("d"), rpc_sum, NULL);
  mg_rpc_del(&s_head, NULL);
  cr_assert_null(s_head);
  mg_rpc_del(&s_head, NULL);  // Nothing left: harmless
}

Test(compat_rpc, pattern_is_copied) {
  char pattern[] = "sum";
  mg_rpc_add(&s_head, mg_str(pattern), rpc_sum, NULL);
  pattern[0] = 'x';
  cr_assert_str_eq(rpc_process("{\"id\":1,\"method\":\"sum\",\"params\":[1,2]}"), "{\"id\":1,\"result\":3}");
}
