// Saves a POSTed body to a file the way Mongoose's upload tutorial does, written
// against the Mongoose API alone: the handler takes the body over in
// MG_EV_HTTP_HDRS (hm->body.len is the Content-Length there) and writes c->recv
// to the file as it arrives.
//   file-upload [URL] [DIR]
//   POST /upload?name=FILE   the body goes to DIR/FILE; answers {"saved":N}
#include <signal.h>
#include <stdio.h>
#include "mongoose.h"

struct upload {  // In c->data while a body comes in
  FILE *fp;
  size_t expected, received;
};

static volatile sig_atomic_t s_signo;
static const char *s_dir = ".";

static void on_signal(int signo) {
  s_signo = signo;
}

static void upload_finish(struct mg_connection *c, int status, const char *what) {
  struct upload *up = (struct upload *) c->data;
  if (up->fp != NULL) fclose(up->fp);
  up->fp = NULL;
  if (status == 200) mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%lu}\n", MG_ESC("saved"),
                                   (unsigned long) up->received);
  else mg_http_reply(c, status, "", "%s\n", what);
  c->is_draining = 1;  // The protocol handler is gone: one request per connection
}

static void upload_write(struct mg_connection *c) {
  struct upload *up = (struct upload *) c->data;
  size_t n = c->recv.len < up->expected - up->received ? c->recv.len : up->expected - up->received;
  if (n > 0 && fwrite(c->recv.buf, 1, n, up->fp) != n) {
    upload_finish(c, 500, "write failed");
    return;
  }
  up->received += n;
  c->recv.len = 0;
  if (up->received == up->expected) upload_finish(c, 200, NULL);
}

static void handle(struct mg_connection *c, int ev, void *ev_data) {
  struct upload *up = (struct upload *) c->data;
  if (ev == MG_EV_HTTP_HDRS) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    char name[64] = "", path[256];
    if (!mg_match(hm->uri, mg_str("/upload"), NULL)) return;
    mg_http_get_var(&hm->query, "name", name, sizeof(name));
    c->pfn = NULL;  // From here on the bytes are ours
    mg_iobuf_del(&c->recv, 0, hm->head.len);
    if (name[0] == '\0' || strchr(name, '/') != NULL || !mg_path_is_sane(mg_str(name))) {
      upload_finish(c, 400, "bad name");
      return;
    }
    mg_snprintf(path, sizeof(path), "%s/%s", s_dir, name);
    up->expected = hm->body.len;
    up->received = 0;
    up->fp = fopen(path, "wb");
    if (up->fp == NULL) {
      upload_finish(c, 500, "cannot open the file");
      return;
    }
    MG_INFO(("%lu saving %lu bytes to %s", c->id, (unsigned long) up->expected, path));
    upload_write(c);  // Body bytes that came with the head
  } else if (ev == MG_EV_READ && up->fp != NULL) {
    upload_write(c);
  } else if (ev == MG_EV_CLOSE && up->fp != NULL) {
    fclose(up->fp);  // Cut short: what arrived stays, as in the tutorial
  } else if (ev == MG_EV_HTTP_MSG) {
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "POST /upload?name=FILE\n");
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_mgr mgr;
  if (argc > 2) s_dir = argv[2];
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_http_listen(&mgr, url, handle, NULL);
  if (c == NULL) return 1;
  MG_INFO(("listening on http://%M", mg_print_ip_port, &c->loc));
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
