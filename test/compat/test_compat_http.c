// Mongoose 7 HTTP compatibility, built against dist/mongoose.h and dist/meerkat.c
// alone: the documented helpers, variables, the server's is_resp and body
// take-over, serve_dir's options and the placement of a parsed status line.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mongoose.h"

// ---------------------------------------------------------------------------
// A server and a raw client in one manager

struct srv {
  int mode;                      // What the handler does, see srv_fn
  char dir[64];                  // Scratch directory
  struct mg_http_serve_opts opts;
  struct mg_iobuf saved;         // Body taken over in MG_EV_READ
  size_t expected;               // hm->body.len seen in MG_EV_HTTP_HDRS
  int resp_in_msg, resp_after_reply;
  struct mg_connection *later;   // Reply to it from the timer
  struct mg_mgr *mgr;
};

enum { SRV_UPLOAD, SRV_DEFER, SRV_TAKEOVER, SRV_SERVE };

static void srv_timer(void *arg) {
  struct srv *s = (struct srv *) arg;
  if (s->later == NULL) return;
  char *big = malloc(100000);
  memset(big, 'x', 100000);
  mg_http_reply(s->later, 200, "", "%.*s", 100000, big);
  s->resp_after_reply = s->later->is_resp;
  free(big);
  s->later = NULL;
}

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct srv *s = (struct srv *) c->fn_data;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (s->mode == SRV_TAKEOVER && ev == MG_EV_HTTP_HDRS && mg_strcmp(hm->uri, mg_str("/upload")) == 0) {
    s->expected = hm->body.len;  // Content-Length, as Mongoose's upload examples read it
    c->pfn = NULL;               // From now on the body is ours, in MG_EV_READ
    c->fn_data = s;
  } else if (s->mode == SRV_TAKEOVER && ev == MG_EV_READ && c->pfn == NULL) {
    mg_iobuf_add(&s->saved, s->saved.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
    if (s->saved.len >= s->expected) mg_http_reply(c, 200, "", "saved %lu\n", (unsigned long) s->saved.len);
  } else if (ev == MG_EV_HTTP_MSG) {
    s->resp_in_msg = c->is_resp;
    if (s->mode == SRV_UPLOAD) {
      mg_http_upload(c, hm, &mg_fs_posix, s->dir, 10);
    } else if (s->mode == SRV_DEFER && mg_strcmp(hm->uri, mg_str("/later")) == 0) {
      s->later = c;
      mg_timer_add(s->mgr, 50, 0, srv_timer, s);
    } else if (s->mode == SRV_SERVE) {
      mg_http_serve_dir(c, hm, &s->opts);
    } else {
      mg_http_reply(c, 200, "", "now %.*s\n", (int) hm->uri.len, hm->uri.buf);
    }
  }
}

struct cli {
  const char *req;
  struct mg_iobuf got;
  bool closed;
};

static void cli_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct cli *k = (struct cli *) c->fn_data;
  if (ev == MG_EV_CONNECT) mg_send(c, k->req, strlen(k->req));
  if (ev == MG_EV_READ) {
    mg_iobuf_add(&k->got, k->got.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
  if (ev == MG_EV_CLOSE) k->closed = true;
  (void) ev_data;
}

// Sends req to a fresh server in mode, polls until the server closes (or 3 s);
// returns what came back, NUL-terminated (free it)
static char *exchange(struct srv *s, const char *req, bool want_close, size_t want_len) {
  struct mg_mgr mgr;
  struct cli k;
  char url[64];
  memset(&k, 0, sizeof(k));
  k.req = req;
  mg_mgr_init(&mgr);
  s->mgr = &mgr;
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", srv_fn, s);
  cr_assert_not_null(l);
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", mg_ntohs(l->loc.port));
  cr_assert_not_null(mg_connect(&mgr, url, cli_fn, &k));
  uint64_t end = mg_millis() + 3000;
  while (mg_millis() < end && !(want_close ? k.closed : k.got.len >= want_len)) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  char *out = calloc(1, k.got.len + 1);
  if (k.got.len > 0) memcpy(out, k.got.buf, k.got.len);
  mg_iobuf_free(&k.got);
  return out;
}

static void make_dir(struct srv *s) {
  strcpy(s->dir, "/tmp/compat-http-XXXXXX");
  cr_assert_not_null(mkdtemp(s->dir));
}

static void write_file(const char *dir, const char *name, const char *content, size_t len) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  cr_assert_not_null(fp);
  fwrite(content, 1, len, fp);
  fclose(fp);
}

static char *read_back(const char *dir, const char *name, size_t *len) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  struct mg_str data = mg_file_read(&mg_fs_posix, path);
  *len = data.len;
  return (char *) data.buf;
}

static void remove_tree(const char *dir) {
  char cmd[300];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

// ---------------------------------------------------------------------------
// 1. mg_http_bauth, mg_http_upload

Test(compat_http, bauth_writes_a_basic_authorization_line) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_connect(&mgr, "http://127.0.0.1:1", NULL, NULL);
  cr_assert_not_null(c);
  mg_http_bauth(c, "Aladdin", "open sesame");  // RFC 7617's example
  mg_http_bauth(c, "sk_test", NULL);           // A key alone, as in Mongoose's Stripe example
  const char *want = "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nAuthorization: Basic c2tfdGVzdDo=\r\n";
  cr_assert_eq(c->send.len, strlen(want));
  cr_assert(memcmp(c->send.buf, want, strlen(want)) == 0);
  mg_mgr_free(&mgr);
}

Test(compat_http, upload_appends_pieces_by_name_and_offset) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.mode = SRV_UPLOAD;
  make_dir(&s);
  char *r = exchange(&s, "POST /u?name=f.bin&offset=0 HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  free(r);
  r = exchange(&s, "POST /u?name=f.bin&offset=5 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_not_null(strstr(r, "\r\n\r\n8\n"), "the reply carries the new size: %s", r);
  free(r);
  size_t len = 0;
  char *got = read_back(s.dir, "f.bin", &len);
  cr_assert_not_null(got);
  cr_assert_eq(len, 8);
  cr_assert(memcmp(got, "helloabc", 8) == 0);
  free(got);
  // A piece that does not continue the file, a name that climbs out, a file over max_size
  r = exchange(&s, "POST /u?name=f.bin&offset=3 HTTP/1.0\r\nContent-Length: 1\r\n\r\nX", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 409", 12) == 0, "%s", r);
  free(r);
  r = exchange(&s, "POST /u?name=..%2Fevil&offset=0 HTTP/1.0\r\nContent-Length: 1\r\n\r\nX", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 400", 12) == 0, "%s", r);
  free(r);
  r = exchange(&s, "POST /u?name=f.bin&offset=8 HTTP/1.0\r\nContent-Length: 3\r\n\r\nXYZ", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 413", 12) == 0, "%s", r);
  free(r);
  r = exchange(&s, "POST /u?name=f.bin&offset=%zz HTTP/1.0\r\nContent-Length: 1\r\n\r\nX", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 400", 12) == 0, "an offset that does not decode is no offset 0: %s", r);
  free(r);
  got = read_back(s.dir, "f.bin", &len);
  cr_assert_eq(len, 8, "refused pieces leave the file alone");
  free(got);
  remove_tree(s.dir);
}

// ---------------------------------------------------------------------------
// 2. mg_http_get_var, 3. mg_http_get_header_var

Test(compat_http, get_var_names_are_case_insensitive) {
  struct mg_str q = mg_str("Name=Bob&empty=");
  char buf[5];
  cr_assert_eq(mg_http_get_var(&q, "name", buf, sizeof(buf)), 3);
  cr_assert_str_eq(buf, "Bob");
  cr_assert_eq(mg_http_get_var(&q, "NAME", buf, sizeof(buf)), 3);
  cr_assert_eq(mg_http_get_var(&q, "empty", buf, sizeof(buf)), 0);
  cr_assert_str_eq(buf, "");
}

// 7.22: -1 bad source, -2 bad destination, -3 decoding failed or too small, -4 absent;
// a valid destination is always NUL-terminated
Test(compat_http, get_var_error_codes_are_those_of_7_22) {
  static const struct mg_str q = {"a=1&bad=%zz&cut=%4&long=abcdef", 30}, empty = {"", 0}, none = {NULL, 0};
  static const struct {
    const struct mg_str *src;
    const char *name;
    int want;
    const char *why;
  } cases[] = {
      {&empty, "a", -1, "an empty source"},       {&none, "a", -1, "a NULL source buffer"},
      {&q, NULL, -1, "a NULL name"},              {&q, "bad", -3, "a bad escape"},
      {&q, "cut", -3, "a cut escape"},            {&q, "long", -3, "too small for the value and its NUL"},
      {&q, "none", -4, "no such variable"},
  };
  char buf[5];
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    strcpy(buf, "junk");
    cr_assert_eq(mg_http_get_var(cases[i].src, cases[i].name, buf, sizeof(buf)), cases[i].want, "%s", cases[i].why);
    cr_assert_str_eq(buf, "", "%s: the destination is terminated", cases[i].why);
  }
  cr_assert_eq(mg_http_get_var(&q, "a", NULL, 10), -2, "a NULL destination");
  strcpy(buf, "junk");
  cr_assert_eq(mg_http_get_var(&q, "a", buf, 0), -2, "a destination of no size");
  cr_assert_str_eq(buf, "junk", "which is not written");
}

Test(compat_http, header_var_reads_digest_style_comma_separated_params) {
  struct mg_str h = mg_str("Digest username=\"Mufasa\", realm=\"a, b\",nonce=abc , qop=auth");
  cr_assert_eq(mg_strcmp(mg_http_get_header_var(h, mg_str("username")), mg_str("Mufasa")), 0);
  cr_assert_eq(mg_strcmp(mg_http_get_header_var(h, mg_str("realm")), mg_str("a, b")), 0);
  cr_assert_eq(mg_strcmp(mg_http_get_header_var(h, mg_str("nonce")), mg_str("abc")), 0);
  cr_assert_eq(mg_strcmp(mg_http_get_header_var(h, mg_str("qop")), mg_str("auth")), 0);
}

Test(compat_http, header_var_returns_an_unterminated_quoted_value_as_it_stands) {
  struct mg_str cut = mg_str("a=1; b=\"open");
  cr_assert_eq(mg_strcmp(mg_http_get_header_var(cut, mg_str("a")), mg_str("1")), 0);
  struct mg_str b = mg_http_get_header_var(cut, mg_str("b"));
  cr_assert_eq(mg_strcmp(b, mg_str("\"open")), 0, "with its opening quote: %.*s", (int) b.len, b.buf);
}

// ---------------------------------------------------------------------------
// 4. is_resp, and taking the body over in MG_EV_HTTP_HDRS

Test(compat_http, reply_from_a_timer_reaches_an_http10_client_whole) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.mode = SRV_DEFER;
  char *r = exchange(&s, "GET /later HTTP/1.0\r\n\r\n", true, 0);
  cr_assert_eq(s.resp_in_msg, 1, "is_resp is set while the reply is pending");
  cr_assert_eq(s.resp_after_reply, 0, "mg_http_reply completes the reply");
  char *body = strstr(r, "\r\n\r\n");
  cr_assert_not_null(body, "%.80s", r);
  cr_assert_eq(strlen(body + 4), 100000, "the whole body, then the close");
  free(r);
}

Test(compat_http, pipelined_replies_keep_their_order_when_the_first_is_late) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.mode = SRV_DEFER;
  char *r = exchange(&s, "GET /later HTTP/1.1\r\nHost: h\r\n\r\nGET /second HTTP/1.1\r\nHost: h\r\n\r\n", false, 100100);
  char *second = strstr(r, "now /second");
  cr_assert_not_null(second, "second reply came");
  cr_assert(second - r > 100000, "and only after the first one's 100000 bytes");
  free(r);
}

Test(compat_http, body_taken_over_in_hdrs_is_saved_whole) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.mode = SRV_TAKEOVER;
  char req[6000];
  int n = snprintf(req, sizeof(req), "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n");
  memset(req + n, 'b', 5000);
  req[n + 5000] = '\0';
  char *r = exchange(&s, req, false, 20);
  cr_assert_eq(s.expected, 5000, "hm->body.len in MG_EV_HTTP_HDRS is the Content-Length");
  cr_assert_eq(s.saved.len, 5000, "the body, without the head");
  cr_assert_eq(s.saved.buf[0], 'b');
  cr_assert_not_null(strstr(r, "saved 5000"), "%s", r);
  free(r);
  mg_iobuf_free(&s.saved);
}

// ---------------------------------------------------------------------------
// 5. mg_http_serve_dir

static char *serve(struct srv *s, const char *req) {
  s->mode = SRV_SERVE;
  return exchange(s, req, true, 0);
}

Test(compat_http, serve_dir_lists_directories_by_default) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  make_dir(&s);
  write_file(s.dir, "hello.txt", "hi", 2);
  s.opts.root_dir = s.dir;
  char *r = serve(&s, "GET / HTTP/1.0\r\n\r\n");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%.60s", r);
  cr_assert_not_null(strstr(r, "hello.txt"));
  free(r);
  remove_tree(s.dir);
}

Test(compat_http, serve_dir_sends_a_gz_sibling_to_clients_that_take_gzip) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  make_dir(&s);
  write_file(s.dir, "app.js.gz", "\x1f\x8b" "GZ", 4);
  write_file(s.dir, "only.css.gz", "\x1f\x8b" "CS", 4);
  s.opts.root_dir = s.dir;
  char *r = serve(&s, "GET /app.js HTTP/1.0\r\nAccept-Encoding: br, gzip\r\n\r\n");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%.60s", r);
  cr_assert_not_null(strstr(r, "Content-Encoding: gzip\r\n"), "%s", r);
  cr_assert_not_null(strstr(r, "javascript"), "type of app.js, not of .gz: %s", r);
  cr_assert_not_null(strstr(r, "\r\n\r\n\x1f\x8b" "GZ"));
  free(r);
  r = serve(&s, "GET /only.css HTTP/1.0\r\n\r\n");
  cr_assert(strncmp(r, "HTTP/1.1 404", 12) == 0, "no gzip, no identity copy: %.60s", r);
  free(r);
  remove_tree(s.dir);
}

Test(compat_http, serve_dir_maps_uri_prefixes_to_several_roots) {
  struct srv s;
  char a[80], b[80], opts[300];
  memset(&s, 0, sizeof(s));
  make_dir(&s);
  snprintf(a, sizeof(a), "%s/a", s.dir);
  snprintf(b, sizeof(b), "%s/b", s.dir);
  cr_assert_eq(mkdir(a, 0755), 0);
  cr_assert_eq(mkdir(b, 0755), 0);
  write_file(a, "x.txt", "from-a", 6);
  write_file(b, "x.txt", "from-b", 6);
  write_file(s.dir, "x.txt", "from-root", 9);
  snprintf(opts, sizeof(opts), "%s,/one=%s,/two=%s", s.dir, a, b);
  s.opts.root_dir = opts;
  char *r = serve(&s, "GET /one/x.txt HTTP/1.0\r\n\r\n");
  cr_assert_not_null(strstr(r, "\r\n\r\nfrom-a"), "%s", r);
  free(r);
  r = serve(&s, "GET /two/x.txt HTTP/1.0\r\n\r\n");
  cr_assert_not_null(strstr(r, "\r\n\r\nfrom-b"), "%s", r);
  free(r);
  r = serve(&s, "GET /x.txt HTTP/1.0\r\n\r\n");
  cr_assert_not_null(strstr(r, "\r\n\r\nfrom-root"), "%s", r);
  free(r);
  r = serve(&s, "GET /one/../x.txt HTTP/1.0\r\n\r\n");
  cr_assert_null(strstr(r, "from-a"), "%s", r);
  free(r);
  remove_tree(s.dir);
}

Test(compat_http, serve_dir_416_has_no_body) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  make_dir(&s);
  write_file(s.dir, "f.txt", "0123456789", 10);
  s.opts.root_dir = s.dir;
  char *r = serve(&s, "GET /f.txt HTTP/1.0\r\nRange: bytes=50-60\r\n\r\n");
  cr_assert(strncmp(r, "HTTP/1.1 416", 12) == 0, "%.60s", r);
  cr_assert_not_null(strstr(r, "Content-Length: 0\r\n"), "%s", r);
  cr_assert_str_eq(strstr(r, "\r\n\r\n"), "\r\n\r\n");
  free(r);
  remove_tree(s.dir);
}

// ---------------------------------------------------------------------------
// 6. Parsed messages

Test(compat_http, a_parsed_response_puts_the_status_line_where_mongoose_does) {
  struct mg_http_message hm;
  const char *buf = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
  cr_assert_gt(mg_http_parse(buf, strlen(buf), &hm), 0);
  cr_assert_eq(mg_strcmp(hm.method, mg_str("HTTP/1.1")), 0);
  cr_assert_eq(mg_strcmp(hm.uri, mg_str("404")), 0);
  cr_assert_eq(mg_strcmp(hm.proto, mg_str("Not Found")), 0);
  cr_assert_eq(mg_http_status(&hm), 404);
  cr_assert_eq(hm.body.len, 2);
}

Test(compat_http, non_ascii_header_names_are_refused) {
  struct mg_http_message hm;
  const char *buf = "GET / HTTP/1.1\r\nHost: h\r\nX-\xc3\xa9t\xc3\xa9: 1\r\n\r\n";
  cr_assert_lt(mg_http_parse(buf, strlen(buf), &hm), 0, "RFC 9110 tokens are ASCII");
}

// RFC 9112 2.2 lets a recipient take a bare LF as a line end; Mongoose programs and
// tests send "GET / HTTP/1.0\n\n"
Test(compat_http, bare_lf_request_is_served) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.mode = SRV_DEFER;
  char *r = exchange(&s, "GET /lf HTTP/1.0\n\n", true, 0);
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_not_null(strstr(r, "now /lf"), "%s", r);
  free(r);
  r = exchange(&s, "GET /mixed HTTP/1.1\nHost: h\r\nConnection: close\n\n", true, 0);
  cr_assert_not_null(strstr(r, "now /mixed"), "%s", r);
  free(r);
}

Test(compat_http, bare_lf_response_parses) {
  struct mg_http_message hm;
  const char *buf = "HTTP/1.1 200 OK\nContent-Length: 2\n\nok";
  cr_assert_eq(mg_http_parse(buf, strlen(buf), &hm), 35);
  cr_assert_eq(mg_http_status(&hm), 200);
  cr_assert_eq(mg_strcmp(hm.body, mg_str("ok")), 0);
}

Test(compat_http, a_response_without_length_has_a_body_until_close) {
  struct mg_http_message hm;
  const char *buf = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome of it";
  int n = mg_http_parse(buf, strlen(buf), &hm);
  cr_assert_eq(n, 45);
  cr_assert_eq(hm.body.len, (size_t) -1, "until close");
  cr_assert_eq(hm.body.buf, buf + n);
  const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  cr_assert_gt(mg_http_parse(chunked, strlen(chunked), &hm), 0);
  cr_assert_neq(hm.body.len, (size_t) -1, "a chunked body has an end");
  const char *req = "POST / HTTP/1.1\r\nHost: h\r\n\r\n";
  cr_assert_gt(mg_http_parse(req, strlen(req), &hm), 0);
  cr_assert_eq(hm.body.len, 0, "a request without a length has no body");
}

Test(compat_http, parse_refuses_differing_content_lengths) {
  struct mg_http_message hm;
  const char *two = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
  cr_assert_eq(mg_http_parse(two, strlen(two), &hm), -1, "request smuggling");
  const char *list = "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!";
  cr_assert_eq(mg_http_parse(list, strlen(list), &hm), -1);
  const char *same = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello";
  cr_assert_gt(mg_http_parse(same, strlen(same), &hm), 0, "the same length twice is one length");
  cr_assert_eq(hm.body.len, 5);
}

// A server that answers without Content-Length and closes: the client reads to the end
struct until_close {
  int msgs;
  size_t hdrs_body_len;
  char body[64];
  bool closed;
};

static void until_close_server(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ && mg_http_get_request_len(c->recv.buf, c->recv.len) > 0) {
    mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n%s", "all of it, then the close");
    c->recv.len = 0;
    c->is_draining = 1;
  }
  (void) ev_data;
}

static void until_close_client(struct mg_connection *c, int ev, void *ev_data) {
  struct until_close *u = (struct until_close *) c->fn_data;
  if (ev == MG_EV_CONNECT) mg_printf(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  if (ev == MG_EV_HTTP_HDRS) u->hdrs_body_len = ((struct mg_http_message *) ev_data)->body.len;
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    u->msgs++;
    mg_snprintf(u->body, sizeof(u->body), "%.*s", (int) hm->body.len, hm->body.buf);
  }
  if (ev == MG_EV_CLOSE) u->closed = true;
}

Test(compat_http, client_reads_a_response_without_length_until_close) {
  struct mg_mgr mgr;
  struct until_close u;
  char url[64];
  memset(&u, 0, sizeof(u));
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_listen(&mgr, "tcp://127.0.0.1:0", until_close_server, NULL);
  cr_assert_not_null(l);
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%d/", mg_ntohs(l->loc.port));
  cr_assert_not_null(mg_http_connect(&mgr, url, until_close_client, &u));
  uint64_t end = mg_millis() + 3000;
  while (mg_millis() < end && !u.closed) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  cr_assert_eq(u.hdrs_body_len, (size_t) -1, "the head says: until close");
  cr_assert_eq(u.msgs, 1);
  cr_assert_str_eq(u.body, "all of it, then the close");
}

// 7.22's documented order: Authorization (Basic: user and pass; Bearer: pass), then
// the access_token cookie, then the ?access_token= query variable
Test(compat_http, creds_come_from_the_header_then_the_cookie_then_the_query) {
  struct mg_http_message hm;
  char user[16], pass[16];
  const char *both = "GET /?access_token=fromquery HTTP/1.1\r\nHost: h\r\nCookie: a=1; access_token=fromcookie\r\n\r\n";
  cr_assert_gt(mg_http_parse(both, strlen(both), &hm), 0);
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(user, "");
  cr_assert_str_eq(pass, "fromcookie");
  const char *other = "GET /?access_token=fromquery HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\n\r\n";
  cr_assert_gt(mg_http_parse(other, strlen(other), &hm), 0);
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(pass, "fromquery", "a cookie without the token leaves the query");
  const char *bearer = "GET /?access_token=q HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer tok\r\nCookie: access_token=c\r\n\r\n";
  cr_assert_gt(mg_http_parse(bearer, strlen(bearer), &hm), 0);
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert_str_eq(pass, "tok");
  const char *none = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  cr_assert_gt(mg_http_parse(none, strlen(none), &hm), 0);
  strcpy(user, "x"), strcpy(pass, "x");
  mg_http_creds(&hm, user, sizeof(user), pass, sizeof(pass));
  cr_assert(user[0] == '\0' && pass[0] == '\0', "none found: both empty");
}

Test(compat_http, listen_and_connect_return_null_for_a_url_they_cannot_use) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  cr_assert_null(mg_http_listen(&mgr, "http://127.0.0.1:99999", NULL, NULL), "a port out of range");
  cr_assert_null(mg_http_listen(&mgr, "http://[::1", NULL, NULL));
  cr_assert_null(mg_http_connect(&mgr, "http://[::1/", NULL, NULL));
  cr_assert_null(mg_http_connect(&mgr, "http://", NULL, NULL), "no host");
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", NULL, NULL);
  cr_assert_not_null(l);
  cr_assert(l->is_listening);
  struct mg_connection *c = mg_http_connect(&mgr, "http://127.0.0.1:1/", NULL, NULL);
  cr_assert_not_null(c);
  cr_assert(c->is_client);
  mg_mgr_free(&mgr);
}
