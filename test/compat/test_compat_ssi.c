// Mongoose 7.22 server-side includes, built against dist/ alone: files that
// match opts->ssi_pattern are served with <!--#include file="..." --> (beside the
// including file) and virtual="..." (under the root) expanded, nested to a bounded
// depth, never reaching outside the root, over POSIX files and over mg_fs_packed.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mongoose.h"

static char s_top[64];   // Scratch directory; the web root is s_top/root
static char s_root[96];

static void put(const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", s_top, name);
  char *slash = strrchr(path, '/');
  *slash = '\0';
  mkdir(path, 0755);
  *slash = '/';
  FILE *fp = fopen(path, "wb");
  cr_assert_not_null(fp, "%s", path);
  fputs(text, fp);
  fclose(fp);
}

static void make_site(void) {
  strcpy(s_top, "/tmp/compat-ssi-XXXXXX");
  cr_assert_not_null(mkdtemp(s_top));
  snprintf(s_root, sizeof(s_root), "%s/root", s_top);
  mkdir(s_root, 0755);
  put("secret.txt", "SECRET");
  put("root/index.shtml", "A<!--#include file=\"part.html\" -->B<!--#include virtual=\"/inc/v.html\" -->C\n");
  put("root/part.html", "p");
  put("root/inc/v.html", "v");
  put("root/sub/page.shtml", "[<!--#include file=\"local.txt\" -->|<!--#include virtual=\"/part.html\"-->|"
                             "<!--#include file='inner/n.html' -->]");
  put("root/sub/local.txt", "local");
  put("root/sub/inner/n.html", "n(<!--#include file=\"deep.txt\" -->)");
  put("root/sub/inner/deep.txt", "deep");
  put("root/plain.html", "x<!--#include file=\"part.html\" -->y");
  put("root/loop.shtml", "L<!--#include file=\"loop.shtml\" -->");
  put("root/other.shtml", "<!--#echo var=\"DATE_LOCAL\" --><!-- plain comment -->"
                          "<!--#include file=\"missing.html\" -->end");
}

static void remove_site(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", s_top);
  cr_assert_eq(system(cmd), 0);
}

// ---------------------------------------------------------------------------
// A server and a raw client in one manager

struct srv {
  struct mg_http_serve_opts opts;
  const char *ssi_file;  // Not NULL: answer with mg_http_serve_ssi(c, root, this)
};

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct srv *s = (struct srv *) c->fn_data;
  if (ev != MG_EV_HTTP_MSG) return;
  if (s->ssi_file != NULL) mg_http_serve_ssi(c, s->opts.root_dir, s->ssi_file);
  else mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &s->opts);
}

struct get {
  const char *req;
  struct mg_iobuf got;
  bool closed;
};

static void get_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct get *g = (struct get *) c->fn_data;
  if (ev == MG_EV_CONNECT) mg_send(c, g->req, strlen(g->req));
  if (ev == MG_EV_READ) {
    mg_iobuf_add(&g->got, g->got.len, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
  if (ev == MG_EV_CLOSE) g->closed = true;
  (void) ev_data;
}

static char *request(struct srv *s, const char *method, const char *path) {
  struct mg_mgr mgr;
  char url[64], req[512];
  struct get g = {req, {NULL, 0, 0, 64}, false};
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", srv_fn, s);
  cr_assert_not_null(l);
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%hu", mg_ntohs(l->loc.port));
  mg_snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, path);
  cr_assert_not_null(mg_connect(&mgr, url, get_fn, &g));
  for (int i = 0; i < 500 && !g.closed; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  cr_assert(g.closed, "no answer to %s", path);
  char *r = calloc(1, g.got.len + 1);
  memcpy(r, g.got.buf, g.got.len);
  mg_iobuf_free(&g.got);
  return r;
}

static char *get(struct srv *s, const char *path) {
  return request(s, "GET", path);
}

static const char *body_of(const char *r) {
  const char *b = strstr(r, "\r\n\r\n");
  cr_assert_not_null(b, "%s", r);
  return b + 4;
}

static struct srv site(void) {
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.opts.root_dir = s_root;
  s.opts.ssi_pattern = "#.shtml";
  return s;
}

// ---------------------------------------------------------------------------

Test(compat_ssi, file_and_virtual_includes_are_expanded, .init = make_site, .fini = remove_site) {
  struct srv s = site();
  char *r = get(&s, "/index.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_str_eq(body_of(r), "ApBvC\n");
  cr_assert_not_null(strstr(r, "Content-Length: 6\r\n"), "%s", r);
  cr_assert_not_null(strstr(r, "Content-Type: text/html"), "%s", r);
  free(r);
}

Test(compat_ssi, file_is_beside_the_including_file_and_virtual_under_the_root, .init = make_site,
     .fini = remove_site) {
  struct srv s = site();
  char *r = get(&s, "/sub/page.shtml");
  cr_assert_str_eq(body_of(r), "[local|p|n(deep)]", "nested includes resolve from their own directory");
  free(r);
}

Test(compat_ssi, files_that_do_not_match_the_pattern_are_sent_as_they_are, .init = make_site,
     .fini = remove_site) {
  struct srv s = site();
  char *r = get(&s, "/plain.html");
  cr_assert_str_eq(body_of(r), "x<!--#include file=\"part.html\" -->y");
  free(r);
  s.opts.ssi_pattern = NULL;  // No pattern: SSI is off
  r = get(&s, "/index.shtml");
  cr_assert_not_null(strstr(body_of(r), "<!--#include"), "%s", r);
  free(r);
}

Test(compat_ssi, other_comments_stay_and_a_missing_include_is_skipped, .init = make_site,
     .fini = remove_site) {
  struct srv s = site();
  char *r = get(&s, "/other.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_str_eq(body_of(r), "<!--#echo var=\"DATE_LOCAL\" --><!-- plain comment -->end");
  free(r);
}

Test(compat_ssi, a_file_that_includes_itself_stops_at_the_depth_limit, .init = make_site, .fini = remove_site) {
  struct srv s = site();
  char *r = get(&s, "/loop.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  const char *b = body_of(r);
  size_t n = strlen(b);
  cr_assert_gt(n, 1, "%s", b);
  cr_assert_leq(n, 64, "bounded: %s", b);
  cr_assert_eq(strspn(b, "L"), n, "%s", b);
  free(r);
}

Test(compat_ssi, includes_never_reach_outside_the_root, .init = make_site, .fini = remove_site) {
  static const char *const escapes[] = {
      "file=\"../secret.txt\"",       "virtual=\"/../secret.txt\"", "virtual=\"../secret.txt\"",
      "file=\"sub/../../secret.txt\"", "file=\"..\\secret.txt\"",    "file=\"sub/..\\..\\secret.txt\"",
      "virtual=\"//../secret.txt\"",  "file=\"./../secret.txt\"",   "file=\"%2e%2e/secret.txt\"",
      NULL,  // Then the secret's absolute path
  };
  char text[512], abs_secret[160];
  snprintf(abs_secret, sizeof(abs_secret), "file=\"%s/secret.txt\"", s_top);
  for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
    snprintf(text, sizeof(text), "[<!--#include %s -->]", escapes[i] == NULL ? abs_secret : escapes[i]);
    put("root/escape.shtml", text);
    struct srv s = site();
    char *r = get(&s, "/escape.shtml");
    cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
    cr_assert_str_eq(body_of(r), "[]", "%s gave %s", text, r);
    free(r);
  }
  // With the root mapped under a URI prefix, virtual="/" is still that root
  put("root/sub/up.shtml", "<!--#include virtual=\"/part.html\" -->");
  char dirs[256];
  snprintf(dirs, sizeof(dirs), "/site=%s", s_root);
  struct srv s = site();
  s.opts.root_dir = dirs;
  char *r = get(&s, "/site/sub/up.shtml");
  cr_assert_str_eq(body_of(r), "p", "%s", r);
  free(r);
}

Test(compat_ssi, head_gets_the_length_of_the_expanded_page, .init = make_site, .fini = remove_site) {
  struct srv s = site();
  char *r = request(&s, "HEAD", "/index.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_not_null(strstr(r, "Content-Length: 6\r\n"), "%s", r);
  cr_assert_str_eq(body_of(r), "");
  free(r);
}

Test(compat_ssi, a_page_larger_than_mg_ssi_max_size_is_refused, .init = make_site, .fini = remove_site) {
  // A 1 KiB piece included often enough to pass the limit, through two levels
  char piece[1025], page[4096] = "";
  memset(piece, 'z', 1024);
  piece[1024] = '\0';
  put("root/piece.txt", piece);
  for (int i = 0; i < 32; i++) strcat(page, "<!--#include file=\"piece.txt\" -->");
  put("root/many.html", page);
  page[0] = '\0';
  int times = (int) (MG_SSI_MAX_SIZE / (32 * 1024)) + 1;
  cr_assert_lt(times, 100, "MG_SSI_MAX_SIZE is %lu", (unsigned long) MG_SSI_MAX_SIZE);
  for (int i = 0; i < times; i++) strcat(page, "<!--#include file=\"many.html\" -->");
  put("root/huge.shtml", page);
  struct srv s = site();
  char *r = get(&s, "/huge.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 500", 12) == 0, "%.200s", r);
  cr_assert_null(strstr(r, "zzzz"), "no part of the page goes out");
  free(r);
  // One piece fewer than the limit is served whole
  page[0] = '\0';
  for (int i = 0; i < times - 1; i++) strcat(page, "<!--#include file=\"many.html\" -->");
  put("root/big.shtml", page);
  r = get(&s, "/big.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%.200s", r);
  cr_assert_eq(strlen(body_of(r)), (size_t) (times - 1) * 32 * 1024);
  free(r);
}

Test(compat_ssi, mg_http_serve_ssi_expands_a_file_under_a_root, .init = make_site, .fini = remove_site) {
  char file[160];
  snprintf(file, sizeof(file), "%s/sub/page.shtml", s_root);
  struct srv s = site();
  s.ssi_file = file;
  char *r = get(&s, "/whatever");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_str_eq(body_of(r), "[local|p|n(deep)]");
  free(r);
  snprintf(file, sizeof(file), "%s/secret.txt", s_top);  // Not under the root
  r = get(&s, "/whatever");
  cr_assert_null(strstr(r, "SECRET"), "%s", r);
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) != 0, "%s", r);
  free(r);
}

// ---------------------------------------------------------------------------
// Over mg_fs_packed: the same expansion, files from a struct mg_mem_file table

static const unsigned char p_index[] = "<h1><!--#include virtual=\"/parts/head.html\" --></h1>"
                                       "<!--#include file=\"parts/../../escape\" -->";
static const unsigned char p_head[] = "Hi <!--#include file=\"name.txt\" -->";
static const unsigned char p_name[] = "there";
static const struct mg_mem_file packed_site[] = {
    {"/www/index.shtml", p_index, sizeof(p_index) - 1, 0},
    {"/www/parts/head.html", p_head, sizeof(p_head) - 1, 0},
    {"/www/parts/name.txt", p_name, sizeof(p_name) - 1, 0},
    {"/escape", p_name, sizeof(p_name) - 1, 0},
    {NULL, NULL, 0, 0},
};

Test(compat_ssi, includes_over_mg_fs_packed) {
  mg_mem_files = packed_site;
  struct srv s;
  memset(&s, 0, sizeof(s));
  s.opts.root_dir = "/www";
  s.opts.ssi_pattern = "#.shtml";
  s.opts.fs = &mg_fs_packed;
  char *r = get(&s, "/index.shtml");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_str_eq(body_of(r), "<h1>Hi there</h1>");
  free(r);
}

// ---------------------------------------------------------------------------
// curl, a client that is not ours, through a real listener on another thread

struct loop {
  struct mg_mgr mgr;
  volatile bool stop;
};

static void *loop_run(void *arg) {
  struct loop *l = (struct loop *) arg;
  while (!l->stop) mg_mgr_poll(&l->mgr, 10);
  return NULL;
}

Test(compat_ssi, curl_gets_the_expanded_page, .init = make_site, .fini = remove_site) {
  struct loop l;
  struct srv s = site();
  pthread_t t;
  char cmd[512], out[256] = "";
  l.stop = false;
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&l.mgr);
  struct mg_connection *c = mg_http_listen(&l.mgr, "http://127.0.0.1:0", srv_fn, &s);
  cr_assert_not_null(c);
  snprintf(cmd, sizeof(cmd), "curl -s --max-time 10 http://127.0.0.1:%hu/sub/page.shtml", mg_ntohs(c->loc.port));
  cr_assert_eq(pthread_create(&t, NULL, loop_run, &l), 0);
  FILE *fp = popen(cmd, "r");
  cr_assert_not_null(fp);
  size_t n = fread(out, 1, sizeof(out) - 1, fp);
  int rc = pclose(fp);
  l.stop = true;
  pthread_join(t, NULL);
  mg_mgr_free(&l.mgr);
  out[n] = '\0';
  cr_assert_eq(rc, 0, "curl failed: %s", out);
  cr_assert_str_eq(out, "[local|p|n(deep)]");
}
