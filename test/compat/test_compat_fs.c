// Mongoose 7.22 filesystem compatibility, built against dist/ alone and with no
// build option: packed files as a struct mg_mem_file table behind mg_mem_files,
// mg_unpacked and mg_fs_packed over it, and the mg_fs helpers over POSIX files.
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mongoose.h"

// ---------------------------------------------------------------------------
// A table a program writes by hand, as 7.22's header shows

static const unsigned char index_html[] = "<html>packed index</html>\n";
static const unsigned char style_css[] = "body { color: red }\n";
static const unsigned char readme_txt[] = "read me\n";

static const struct mg_mem_file my_files[] = {
    {"/web/index.html", index_html, sizeof(index_html) - 1, 1700000000},
    {"/web/css/style.css", style_css, sizeof(style_css) - 1, 0},
    {"/web/css/more.css", style_css, sizeof(style_css) - 1, 0},
    {"/readme.txt", readme_txt, sizeof(readme_txt) - 1, 0},
    {NULL, NULL, 0, 0},
};

static void use_my_files(void) {
  mg_mem_files = my_files;
}

Test(compat_fs, mg_unpacked_points_into_the_table, .init = use_my_files) {
  struct mg_str s = mg_unpacked("/web/css/style.css");
  cr_assert_eq((const void *) s.buf, (const void *) style_css, "zero-copy: the table's own bytes");
  cr_assert_eq(s.len, sizeof(style_css) - 1);
  s = mg_unpacked("/nope.txt");
  cr_assert_null(s.buf);
  cr_assert_eq(s.len, 0);
  s = mg_unpacked("/web");  // A directory is no file
  cr_assert_null(s.buf);
}

Test(compat_fs, an_empty_or_missing_table_finds_nothing) {
  cr_assert_not_null(mg_mem_files, "the default table is empty, not absent");
  cr_assert_null(mg_unpacked("/web/index.html").buf);
  cr_assert_eq(mg_fs_packed.st("/web/index.html", NULL, NULL), 0);
  mg_mem_files = NULL;
  cr_assert_null(mg_unpacked("/web/index.html").buf);
  cr_assert_eq(mg_fs_packed.st("/", NULL, NULL), 0);
}

Test(compat_fs, mg_fs_packed_stats_files_and_implied_directories, .init = use_my_files) {
  size_t size = 0;
  time_t mtime = 0;
  cr_assert_eq(mg_fs_packed.st("/web/index.html", &size, &mtime), MG_FS_READ);
  cr_assert_eq(size, sizeof(index_html) - 1);
  cr_assert_eq(mtime, 1700000000);
  cr_assert(mg_fs_packed.st("/web/css", NULL, NULL) & MG_FS_DIR);
  cr_assert(mg_fs_packed.st("/web/css/", NULL, NULL) & MG_FS_DIR);
  cr_assert_eq(mg_fs_packed.st("/web/cs", NULL, NULL), 0, "a prefix of a name is no directory");
  cr_assert_eq(mg_fs_packed.st("/missing", NULL, NULL), 0);
}

struct names {
  char all[256];
  int count;
};

static void add_name(const char *name, void *arg) {
  struct names *n = (struct names *) arg;
  strcat(n->all, name);
  strcat(n->all, ";");
  n->count++;
}

Test(compat_fs, mg_fs_packed_lists_each_child_once, .init = use_my_files) {
  struct names n = {"", 0};
  mg_fs_packed.ls("/web", add_name, &n);
  cr_assert_eq(n.count, 2, "%s", n.all);
  cr_assert_not_null(strstr(n.all, "index.html;"));
  cr_assert_not_null(strstr(n.all, "css;"));
}

Test(compat_fs, mg_fs_packed_reads_and_refuses_writes, .init = use_my_files) {
  char buf[64] = "";
  struct mg_fd *fd = mg_fs_open(&mg_fs_packed, "/readme.txt", MG_FS_READ);
  cr_assert_not_null(fd);
  cr_assert_eq(fd->fs, &mg_fs_packed);
  cr_assert_eq(fd->fs->rd(fd->fd, buf, 4), 4);
  cr_assert_eq(fd->fs->sk(fd->fd, 5), 5);
  cr_assert_eq(fd->fs->rd(fd->fd, buf + 4, sizeof(buf)), 3);
  cr_assert_eq(memcmp(buf, "readme\n", 7), 0, "the seek skipped the space");
  mg_fs_close(fd);
  cr_assert_null(mg_fs_open(&mg_fs_packed, "/readme.txt", MG_FS_WRITE));
  cr_assert_null(mg_fs_open(&mg_fs_packed, "/nope", MG_FS_READ));
  struct mg_str s = mg_file_read(&mg_fs_packed, "/web/index.html");
  cr_assert_eq(s.len, sizeof(index_html) - 1);
  cr_assert_str_eq(s.buf, (const char *) index_html, "a NUL-terminated copy");
  cr_assert_neq((const void *) s.buf, (const void *) index_html);
  mg_free((void *) s.buf);
}

// ---------------------------------------------------------------------------
// mg_http_serve_dir over mg_fs_packed, through a real listener

struct get {
  struct mg_iobuf got;
  bool closed;
  const char *req;
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

static void packed_srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = "/web";
    opts.fs = &mg_fs_packed;
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}

static char *fetch_packed(const char *path) {
  struct mg_mgr mgr;
  char url[64], req[256];
  struct get g = {{NULL, 0, 0, 64}, false, req};
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", packed_srv_fn, NULL);
  cr_assert_not_null(l);
  mg_snprintf(url, sizeof(url), "tcp://127.0.0.1:%hu", mg_ntohs(l->loc.port));
  mg_snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
  cr_assert_not_null(mg_connect(&mgr, url, get_fn, &g));
  for (int i = 0; i < 300 && !g.closed; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  cr_assert(g.closed);
  char *s = calloc(1, g.got.len + 1);
  memcpy(s, g.got.buf, g.got.len);
  mg_iobuf_free(&g.got);
  return s;
}

Test(compat_fs, serve_dir_over_mg_fs_packed, .init = use_my_files) {
  char *r = fetch_packed("/");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_not_null(strstr(r, "\r\n\r\n<html>packed index</html>\n"), "%s", r);
  cr_assert_not_null(strstr(r, "Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"), "%s", r);
  free(r);
  r = fetch_packed("/css/style.css");
  cr_assert(strncmp(r, "HTTP/1.1 200", 12) == 0, "%s", r);
  cr_assert_not_null(strstr(r, "text/css"), "%s", r);
  free(r);
  r = fetch_packed("/../readme.txt");
  cr_assert_null(strstr(r, "read me"), "nothing outside root_dir: %s", r);
  free(r);
}

// ---------------------------------------------------------------------------
// The helpers over POSIX files

static char s_dir[64];

static void make_dir(void) {
  strcpy(s_dir, "/tmp/compat-fs-XXXXXX");
  cr_assert_not_null(mkdtemp(s_dir));
}

static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", s_dir);
  cr_assert_eq(system(cmd), 0);
}

static void put(const char *name, const char *text) {
  char path[128];
  snprintf(path, sizeof(path), "%s/%s", s_dir, name);
  FILE *fp = fopen(path, "wb");
  cr_assert_not_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static int dir_entries(void) {
  DIR *d = opendir(s_dir);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

Test(compat_fs, mg_fs_ls_iterates_each_entry_once, .init = make_dir, .fini = remove_dir) {
  put("a.txt", "a");
  put("b.txt", "b");
  put("c.txt", "c");
  char buf[64] = "", seen[64] = "";
  int n = 0;
  while (mg_fs_ls(&mg_fs_posix, s_dir, buf, sizeof(buf))) {
    cr_assert_lt(n++, 10, "the iterator must end");
    cr_assert_null(strstr(seen, buf), "%s twice", buf);
    strcat(seen, buf);
  }
  cr_assert_eq(n, 3, "%s", seen);
  cr_assert_not_null(strstr(seen, "a.txt"));
  cr_assert_not_null(strstr(seen, "c.txt"));
}

Test(compat_fs, mg_fs_ls_over_packed_and_empty_directories, .init = use_my_files) {
  char buf[64] = "";
  int n = 0;
  while (mg_fs_ls(&mg_fs_packed, "/web/css", buf, sizeof(buf))) n++;
  cr_assert_eq(n, 2);
  buf[0] = '\0';
  cr_assert_not(mg_fs_ls(&mg_fs_packed, "/nothing", buf, sizeof(buf)));
}

Test(compat_fs, open_with_mg_fs_excl_refuses_an_existing_file, .init = make_dir, .fini = remove_dir) {
  char path[128];
  put("there.txt", "old");
  snprintf(path, sizeof(path), "%s/there.txt", s_dir);
  cr_assert_eq(MG_FS_EXCL, 8);
  cr_assert_null(mg_fs_open(&mg_fs_posix, path, MG_FS_WRITE | MG_FS_EXCL));
  snprintf(path, sizeof(path), "%s/new.txt", s_dir);
  struct mg_fd *fd = mg_fs_open(&mg_fs_posix, path, MG_FS_WRITE | MG_FS_EXCL);
  cr_assert_not_null(fd);
  mg_fs_close(fd);
  mg_fs_close(NULL);  // Safe, as documented
}

Test(compat_fs, mg_file_write_replaces_the_file_whole_and_leaves_no_temporary, .init = make_dir,
     .fini = remove_dir) {
  char path[128];
  snprintf(path, sizeof(path), "%s/data.txt", s_dir);
  put("data.txt", "a longer old content\n");
  cr_assert(mg_file_write(&mg_fs_posix, path, "new\n", 4));
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  cr_assert_str_eq(s.buf, "new\n");
  mg_free((void *) s.buf);
  cr_assert(mg_file_printf(&mg_fs_posix, path, "%d-%s", 42, "x"));
  s = mg_file_read(&mg_fs_posix, path);
  cr_assert_str_eq(s.buf, "42-x");
  mg_free((void *) s.buf);
  cr_assert_eq(dir_entries(), 1, "no temporary file is left behind");
  snprintf(path, sizeof(path), "%s/no/such/dir.txt", s_dir);
  cr_assert_not(mg_file_write(&mg_fs_posix, path, "x", 1));
  cr_assert_eq(dir_entries(), 1);
  cr_assert_not(mg_file_write(&mg_fs_packed, "/readme.txt", "x", 1), "read-only");
}

Test(compat_fs, mg_file_read_of_a_missing_file_is_null, .init = make_dir, .fini = remove_dir) {
  char path[128];
  snprintf(path, sizeof(path), "%s/missing", s_dir);
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  cr_assert_null(s.buf);
  cr_assert_eq(s.len, 0);
  s = mg_file_read(&mg_fs_posix, s_dir);  // A directory is no file
  cr_assert_null(s.buf);
}
