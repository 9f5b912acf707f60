// A Mongoose 7.22 program over a packed filesystem: mg_packed_files[] (and the
// older mg_unpack()/mg_unlist()) come from `packer -M`. It lists the files, then
// serves /web_root through mg_fs_packed and fetches each argv path from itself
// over loopback, printing "get N STATUS TYPE" and writing the body to bodyN.
#include "mongoose.h"

struct fetch {
  const char *path;
  int index;
  bool done;
};

static void serve(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = "/web_root";
    opts.fs = &mg_fs_packed;
    mg_http_serve_dir(c, hm, &opts);
  }
}

static void client(struct mg_connection *c, int ev, void *ev_data) {
  struct fetch *f = (struct fetch *) c->fn_data;
  if (ev == MG_EV_CONNECT) {
    mg_printf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", f->path);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    struct mg_str *type = mg_http_get_header(hm, "Content-Type");
    char name[32];
    mg_snprintf(name, sizeof(name), "body%d", f->index);
    FILE *fp = fopen(name, "wb");
    if (fp != NULL) {
      fwrite(hm->body.buf, 1, hm->body.len, fp);
      fclose(fp);
    }
    printf("get\t%d\t%d\t%.*s\n", f->index, mg_http_status(hm), type == NULL ? 0 : (int) type->len,
           type == NULL ? "" : type->buf);
    c->is_closing = 1;
  } else if (ev == MG_EV_CLOSE) {
    f->done = true;
  }
}

static void unpacked(const char *path) {
  struct mg_str s = mg_unpacked(path);
  printf("unpacked\t%s\t%lu\t%s\n", path, (unsigned long) s.len,
         s.buf == NULL ? "null" : s.buf[s.len] == '\0' ? "nul" : "unterminated");
}

int main(int argc, char **argv) {
  struct mg_mgr mgr;
  char url[64];
  const char *name;
  for (size_t i = 0; (name = mg_unlist(i)) != NULL; i++) printf("unlist\t%s\n", name);
  unpacked("/certs/ca.pem");  // Before the table is in use: nothing
  mg_mem_files = mg_packed_files;
  for (size_t i = 0; mg_packed_files[i].path != NULL; i++) printf("packed\t%s\n", mg_packed_files[i].path);
  unpacked("/certs/ca.pem");
  unpacked("/nope");
  mg_log_set(MG_LL_ERROR);
  mg_mgr_init(&mgr);
  struct mg_connection *l = mg_http_listen(&mgr, "http://127.0.0.1:0", serve, NULL);
  if (l == NULL) return 1;
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%hu", mg_ntohs(l->loc.port));
  for (int i = 1; i < argc; i++) {
    struct fetch f = {argv[i], i - 1, false};
    if (mg_http_connect(&mgr, url, client, &f) == NULL) return 1;
    for (int n = 0; n < 500 && !f.done; n++) mg_mgr_poll(&mgr, 10);
    if (!f.done) return 2;
  }
  mg_mgr_free(&mgr);
  return 0;
}
