// Out-of-memory runner: an HTTP server in a child process fails its N-th
// allocation, for N = 1, 2, ... until N passes the number the script makes.
// The parent, a plain blocking-socket client, sends a fixed script and accepts
// for each request a complete and correct response, a 500/503, or a closed
// connection; never a wrong or truncated message that looks complete. After the
// script the server must serve again, and exit with nothing for ASan/LSan.
// The forking and the client socket are alloc_runner.c's. Built with
// -DMG_ENABLE_ALLOC_FAULTS=1 (build/alloc/test/alloc/alloc_faults).
#include <sys/stat.h>
#include <unistd.h>
#include "alloc_runner.h"

#define FILE_SIZE 6000  // Bigger than one I/O buffer, so the file streams in pieces
#define ECHO_SIZE 3000  // Also more than one buffer: the request and the answer grow theirs

static char s_root[256];
static char s_file[FILE_SIZE];
static char s_echo[ECHO_SIZE];
static const char *s_api_body = "{\"answer\":42,\"quote\":\"a\\\"b\"}\n";

// ---- The server (child) ----

struct upload {  // In c->data while a chunked body streams in
  unsigned long size;
  uint32_t crc;
};

static void server_upload_done(struct mg_connection *c, const struct upload *up) {
  // A head that could not be queued closes the connection: no chunks without it
  if (mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == 0) return;
  mg_http_printf_chunk(c, "size=%lu\n", up->size);
  mg_http_write_chunk(c, s_file, sizeof(s_file));  // Big: the send buffer must grow
  char crc[32];
  size_t n = mg_snprintf(crc, sizeof(crc), "crc=%08lx\n", (unsigned long) up->crc);
  mg_http_write_chunk(c, crc, n);
  mg_http_write_chunk(c, "", 0);
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct upload *up = (struct upload *) c->data;
  if (ev == MG_EV_HTTP_HDRS && mg_str_eq(hm->uri, "/upload")) {
    memset(up, 0, sizeof(*up));
    mg_http_stream_body(c);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    up->size += (unsigned long) hm->chunk.len;
    up->crc = mg_crc32(up->crc, hm->chunk.buf, hm->chunk.len);
  } else if (ev != MG_EV_HTTP_MSG) {
    return;
  } else if (mg_str_eq(hm->uri, "/upload")) {
    server_upload_done(c, up);
  } else if (mg_str_eq(hm->uri, "/api")) {
    mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%d,%m:%m}\n", MG_ESC("answer"), 42,
                  MG_ESC("quote"), MG_ESC("a\"b"));
  } else if (mg_str_eq(hm->uri, "/echo")) {
    mg_http_reply(c, 200, "", "%.*s", (int) hm->body.len, hm->body.buf);
  } else {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_root;
    mg_http_serve_dir(c, hm, &opts);
  }
}

// ---- The client (parent) ----

struct response {
  int status;
  char body[FILE_SIZE + 256];
  size_t body_len;
};

// Decodes a chunked body at the front of cl->buf into r; 0 incomplete, -1 malformed, else bytes used
static long client_dechunk(struct client *cl, size_t ofs, struct response *r) {
  r->body_len = 0;
  for (;;) {
    size_t data_ofs = 0, data_len = 0;
    long span = mg_http_parse_chunk(cl->buf + ofs, cl->len - ofs, &data_ofs, &data_len);
    if (span <= 0) return span < 0 ? -1 : 0;
    if (r->body_len + data_len > sizeof(r->body)) return -1;
    memcpy(r->body + r->body_len, cl->buf + ofs + data_ofs, data_len);
    r->body_len += data_len;
    ofs += (size_t) span;
    if (data_len == 0) return (long) ofs;
  }
}

// One response off the connection, complete by its framing: GOT, ENDED or FAILED
static int client_read(struct client *cl, struct response *r) {
  uint64_t deadline = mg_millis() + 2000;
  struct mg_http_message hm;
  size_t n = 0;
  memset(r, 0, sizeof(*r));
  int rc = client_head(cl, &hm, &n, deadline);
  if (rc != GOT) return rc;
  r->status = mg_http_status(&hm);
  struct mg_str *te = mg_http_get_header(&hm, "Transfer-Encoding");
  if (te != NULL && mg_str_eq(*te, "chunked")) {
    long used = 0;
    while (rc == GOT && (used = client_dechunk(cl, n, r)) == 0) rc = client_fill(cl, deadline);
    if (rc != GOT) return rc;
    if (used < 0) return fail("a malformed chunked body");
    client_consume(cl, (size_t) used);
    return GOT;
  }
  return client_body(cl, &hm, n, r->body, sizeof(r->body), &r->body_len, deadline);  // Every answer is framed
}

// Judges one response (rc from client_read); false when the connection cannot be used further
static bool client_check(int rc, const struct response *r, const char *want, size_t want_len) {
  if (rc != GOT) return false;  // Ended (allowed) or already reported
  if (r->status == 500 || r->status == 503) return true;
  if (r->status != 200) {
    fail("status %d", r->status);
    return false;
  }
  if (r->body_len != want_len || memcmp(r->body, want, want_len) != 0) {
    fail("wrong body: %lu bytes, expected %lu", (unsigned long) r->body_len, (unsigned long) want_len);
    return false;
  }
  return true;
}

struct step {
  const char *request;  // Its body (if any) is appended when body != NULL
  const char *body;
  size_t body_len;
  const char *want;  // Expected 200 body
  size_t want_len;
};

static char s_echo_req[128], s_upload_req[4096], s_upload_want[FILE_SIZE + 64];

// Sends the steps (all at once when pipelined) and checks each answer
static void client_group(uint16_t port, const char *name, const struct step *steps, size_t count,
                         bool pipelined) {
  struct client cl;
  struct response r;
  where("%s", name);
  if (!client_open(&cl, port)) {
    client_close(&cl);
    return;  // Refused or reset: a closed connection is an allowed answer
  }
  for (size_t i = 0; i < count; i++) {
    if (!pipelined || i == 0) {
      for (size_t j = i; j < (pipelined ? count : i + 1); j++) {
        if (!client_send(&cl, steps[j].request, strlen(steps[j].request)) ||
            (steps[j].body != NULL && !client_send(&cl, steps[j].body, steps[j].body_len))) {
          break;  // The server closed early; what it answered is still read below
        }
      }
    }
    where("%s, answer %lu", name, (unsigned long) i + 1);
    int rc = client_read(&cl, &r);
    if (!client_check(rc, &r, steps[i].want, steps[i].want_len)) break;
  }
  client_close(&cl);
}

static struct step step_get_file(void) {
  struct step s = {"GET /file.txt HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0, s_file, sizeof(s_file)};
  return s;
}

static struct step step_api(void) {
  struct step s = {"GET /api HTTP/1.1\r\nHost: x\r\n\r\n", NULL, 0, s_api_body, strlen(s_api_body)};
  return s;
}

static struct step step_echo(void) {
  struct step s = {s_echo_req, s_echo, sizeof(s_echo), s_echo, sizeof(s_echo)};
  return s;
}

static void client_script(uint16_t port) {
  struct step one[1], three[3];
  one[0] = step_get_file();
  client_group(port, "GET of a file", one, 1, false);
  one[0] = step_echo();
  client_group(port, "POST with Content-Length", one, 1, false);
  struct step up = {s_upload_req, NULL, 0, s_upload_want, strlen(s_upload_want)};
  client_group(port, "chunked POST", &up, 1, false);
  three[0] = step_api(), three[1] = step_get_file(), three[2] = step_echo();
  client_group(port, "pipelined", three, 3, true);
  three[0] = step_api(), three[1] = step_echo(), three[2] = step_api();
  client_group(port, "keep-alive", three, 3, false);
}

// After the script, with nothing failing: the file again on a fresh connection
static void client_serves_again(uint16_t port) {
  static const char request[] = "GET /file.txt HTTP/1.1\r\nHost: h\r\n\r\n";
  static struct response r;
  struct client cl;
  int rc = ENDED;
  if (client_open(&cl, port) && client_send(&cl, request, strlen(request))) rc = client_read(&cl, &r);
  client_close(&cl);
  if (rc == ENDED || (rc == GOT && (r.status != 200 || r.body_len != sizeof(s_file) ||
                                    memcmp(r.body, s_file, sizeof(s_file)) != 0))) {
    fail("the server does not serve again");
  }
}

static bool setup_files(void) {
  const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
  snprintf(s_root, sizeof(s_root), "%s/alloc-faults-XXXXXX", base);
  if (mkdtemp(s_root) == NULL) return false;
  for (size_t i = 0; i < sizeof(s_file); i++) s_file[i] = (char) ('a' + (i * 7 + i / 26) % 26);
  for (size_t i = 0; i < sizeof(s_echo); i++) s_echo[i] = (char) ('A' + i % 26);
  char path[300];
  snprintf(path, sizeof(path), "%s/file.txt", s_root);
  FILE *fp = fopen(path, "wb");
  if (fp == NULL) return false;
  bool ok = fwrite(s_file, 1, sizeof(s_file), fp) == sizeof(s_file);
  ok = fclose(fp) == 0 && ok;
  snprintf(s_echo_req, sizeof(s_echo_req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %lu\r\n\r\n",
           (unsigned long) sizeof(s_echo));
  // Three chunks, then the last chunk with a trailer
  static char big[2500];
  memset(big, 'z', sizeof(big) - 1);
  const char *chunks[] = {"hello, ", big, "world"};
  size_t len = (size_t) snprintf(s_upload_req, sizeof(s_upload_req),
                                 "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  uint32_t crc = 0;
  unsigned long total = 0;
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(chunks[i]);
    len += (size_t) snprintf(s_upload_req + len, sizeof(s_upload_req) - len, "%lx\r\n%s\r\n", (unsigned long) n,
                             chunks[i]);
    crc = mg_crc32(crc, chunks[i], n);
    total += (unsigned long) n;
  }
  snprintf(s_upload_req + len, sizeof(s_upload_req) - len, "0\r\nX-Trailer: 1\r\n\r\n");
  snprintf(s_upload_want, sizeof(s_upload_want), "size=%lu\n%.*scrc=%08lx\n", total, FILE_SIZE, s_file,
           (unsigned long) crc);
  return ok;
}

static void cleanup_files(void) {
  char path[300];
  snprintf(path, sizeof(path), "%s/file.txt", s_root);
  unlink(path);
  rmdir(s_root);
}

int main(void) {
  static const struct runner runner = {
      .name = "alloc-faults", .server_fn = server_fn, .script = client_script, .serves_again = client_serves_again};
  if (!setup_files()) {
    fprintf(stderr, "alloc-faults: cannot create the test files under %s\n", s_root);
    return 1;
  }
  int rc = runner_main(&runner);
  cleanup_files();
  return rc;
}
