// Server-side includes: <!--#include file="..." --> and virtual="..." expanded into
// one page of bounded size, on any mg_fs, never reaching outside the root.
#include "mg_internal.h"
#include "http/http_internal.h"

// ---------------------------------------------------------------------------
// The directive, a pure function over a buffer

static bool ssi_is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static const char *ssi_skip_spaces(const char *p, const char *end) {
  while (p < end && ssi_is_space(*p)) p++;
  return p;
}

static bool ssi_word(const char **p, const char *end, const char *word) {
  size_t n = strlen(word);
  if ((size_t) (end - *p) < n || memcmp(*p, word, n) != 0) return false;
  *p += n;
  return true;
}

// What follows "<!--#include" up to "-->": blanks, file= or virtual=, a quoted
// name (double or single quotes, not empty), blanks
static bool ssi_parse_attr(const char *p, const char *end, struct mg_ssi_include *inc) {
  if (p >= end || !ssi_is_space(*p)) return false;
  p = ssi_skip_spaces(p, end);
  if (ssi_word(&p, end, "file")) inc->kind = MG_SSI_FILE;
  else if (ssi_word(&p, end, "virtual")) inc->kind = MG_SSI_VIRTUAL;
  else return false;
  p = ssi_skip_spaces(p, end);
  if (p >= end || *p++ != '=') return false;
  p = ssi_skip_spaces(p, end);
  if (p >= end || (*p != '"' && *p != '\'')) return false;
  char quote = *p++;
  const char *close = (const char *) memchr(p, quote, (size_t) (end - p));
  if (close == NULL || close == p) return false;
  inc->name = mg_str_n(p, (size_t) (close - p));
  return ssi_skip_spaces(close + 1, end) == end;
}

int mg_ssi_parse(const char *buf, size_t len, struct mg_ssi_include *inc) {
  static const char open[] = "<!--#include";
  size_t olen = sizeof(open) - 1, lim = len < MG_SSI_DIRECTIVE_MAX ? len : MG_SSI_DIRECTIVE_MAX;
  if (buf == NULL || memcmp(buf, open, len < olen ? len : olen) != 0) return -1;
  for (size_t i = olen; i + 3 <= lim; i++) {
    if (memcmp(buf + i, "-->", 3) == 0) return ssi_parse_attr(buf + olen, buf + i, inc) ? (int) (i + 3) : -1;
  }
  return len < MG_SSI_DIRECTIVE_MAX ? 0 : -1;
}

// Any ".." segment, whichever slash separates it: refused even when it would stay
// inside the root, so that no spelling of a climb needs to be judged
static bool ssi_has_dotdot(struct mg_str name) {
  for (size_t i = 0; i + 1 < name.len; i++) {
    bool starts = i == 0 || name.buf[i - 1] == '/' || name.buf[i - 1] == '\\';
    bool ends = i + 2 == name.len || name.buf[i + 2] == '/' || name.buf[i + 2] == '\\';
    if (starts && ends && name.buf[i] == '.' && name.buf[i + 1] == '.') return true;
  }
  return false;
}

bool mg_ssi_resolve(const char *cur, const struct mg_ssi_include *inc, char *out, size_t len) {
  struct mg_str name = inc->name;
  if (name.len == 0 || memchr(name.buf, '\0', name.len) != NULL || ssi_has_dotdot(name)) return false;
  bool absolute = name.buf[0] == '/' || name.buf[0] == '\\';
  if (inc->kind == MG_SSI_FILE && absolute) return false;  // file= names a file beside this one
  const char *slash = strrchr(cur, '/');
  int dir_len = inc->kind == MG_SSI_FILE && slash != NULL ? (int) (slash - cur) : 0;
  size_t n = mg_snprintf(out, len, "%.*s/%.*s", dir_len, cur, (int) name.len, name.buf);
  return n < len && mg_path_normalize(out, n);
}

// ---------------------------------------------------------------------------
// Expansion, straight into c->send after the place the head will take

#define SSI_WINDOW (2 * MG_SSI_DIRECTIVE_MAX)

struct ssi_run {
  struct mg_connection *c;
  struct mg_fs *fs;
  struct mg_str root;   // The root's fs path, without a trailing '/'
  size_t start;         // Where the page begins in c->send
  bool too_big, failed; // Past MG_SSI_MAX_SIZE; out of memory
};

// One file being read, on the heap: the stack stays small however deep it nests
struct ssi_file {
  void *fd;
  char path[MG_PATH_MAX];  // Under the root
  char win[SSI_WINDOW];    // Input not yet emitted; a directive fits in it whole
  size_t have;
  bool eof;
};

static void ssi_emit(struct ssi_run *r, const char *p, size_t n) {
  struct mg_iobuf *io = &r->c->send;
  if (n == 0 || r->too_big || r->failed) return;
  if (io->len - r->start + n > MG_SSI_MAX_SIZE) {
    r->too_big = true;
    return;
  }
  if (io->len + n > io->size) {  // Grow by doubling, up to the page's limit
    size_t want = io->size * 2, cap = r->start + MG_SSI_MAX_SIZE;
    if (want > cap) want = cap;
    if (want < io->len + n) want = io->len + n;
    if (!mg_iobuf_resize(io, want)) {
      r->failed = true;
      return;
    }
  }
  memcpy(io->buf + io->len, p, n);
  io->len += n;
}

static struct ssi_file *ssi_open(struct ssi_run *r, struct ssi_file *f) {
  char full[MG_PATH_MAX];
  if (f == NULL) {
    r->failed = true;
    return NULL;
  }
  if (mg_snprintf(full, sizeof(full), "%.*s%s", (int) r->root.len, r->root.buf, f->path) < sizeof(full)) {
    f->fd = r->fs->op(full, MG_FS_READ);
  }
  if (f->fd == NULL) {
    MG_ERROR(("SSI: cannot open %s", full));
    mg_free(f);
    return NULL;
  }
  return f;
}

static void ssi_close(struct ssi_run *r, struct ssi_file *f) {
  r->fs->cl(f->fd);
  mg_free(f);
}

static void ssi_run_file(struct ssi_run *r, struct ssi_file *f, int depth);

static void ssi_include(struct ssi_run *r, const struct ssi_file *from, const struct mg_ssi_include *inc,
                        int depth) {
  if (depth >= MG_SSI_MAX_DEPTH) {
    MG_ERROR(("SSI: %s: includes nest deeper than MG_SSI_MAX_DEPTH (%d)", from->path, MG_SSI_MAX_DEPTH));
    return;
  }
  struct ssi_file *f = (struct ssi_file *) mg_calloc(1, sizeof(*f));
  if (f != NULL && !mg_ssi_resolve(from->path, inc, f->path, sizeof(f->path))) {
    MG_ERROR(("SSI: %s: refused to include \"%.*s\"", from->path, (int) inc->name.len, inc->name.buf));
    mg_free(f);
    return;
  }
  if ((f = ssi_open(r, f)) == NULL) return;
  ssi_run_file(r, f, depth + 1);
  ssi_close(r, f);
}

// Emits text and expands directives from the window; returns the bytes consumed,
// stopping before a directive that may still be arriving
static size_t ssi_scan(struct ssi_run *r, struct ssi_file *f, int depth) {
  size_t i = 0;
  while (i < f->have) {
    const char *lt = (const char *) memchr(f->win + i, '<', f->have - i);
    size_t text = lt == NULL ? f->have - i : (size_t) (lt - (f->win + i));
    ssi_emit(r, f->win + i, text);
    i += text;
    if (lt == NULL) break;
    struct mg_ssi_include inc;
    int n = mg_ssi_parse(f->win + i, f->have - i, &inc);
    if (n == 0 && !f->eof) break;
    if (n <= 0) {  // Not ours: the '<' is text
      ssi_emit(r, f->win + i, 1);
      i++;
      continue;
    }
    ssi_include(r, f, &inc, depth);
    i += (size_t) n;
  }
  return i;
}

static void ssi_run_file(struct ssi_run *r, struct ssi_file *f, int depth) {
  while (!r->too_big && !r->failed && !(f->eof && f->have == 0)) {
    if (!f->eof && f->have < sizeof(f->win)) {
      size_t n = r->fs->rd(f->fd, f->win + f->have, sizeof(f->win) - f->have);
      f->eof = n == 0;
      f->have += n;
    }
    size_t used = ssi_scan(r, f, depth);
    memmove(f->win, f->win + used, f->have - used);
    f->have -= used;
  }
}

// The head goes in front of the page once its length is known
static void ssi_send_head(struct ssi_run *r, const char *path, const char *extra) {
  struct mg_connection *c = r->c;
  struct mg_iobuf head = {NULL, 0, 0, 256};
  struct mg_str mime = mg_http_mime_type(mg_str(path), NULL);
  size_t len = c->send.len - r->start;
  if (c->is_accepted && mg_http_state(c)->is_head) c->send.len = r->start;
  if (!mg_iobuf_printf(&head, "HTTP/1.1 200 OK\r\n%sContent-Type: %.*s\r\nContent-Length: %lu\r\n%s\r\n",
                       mg_http_reply_headers(c), (int) mime.len, mime.buf, (unsigned long) len,
                       extra == NULL ? "" : extra) ||
      mg_iobuf_add(&c->send, r->start, head.buf, head.len) == 0) {
    c->send.len = r->start;
    mg_error(c, "out of memory sending %s", path);
  }
  mg_iobuf_free(&head);
}

void mg_http_ssi_serve(struct mg_connection *c, struct mg_fs *fs, struct mg_str root, const char *path,
                       const char *extra_headers) {
  struct ssi_run r = {c, fs, root, c->send.len, false, false};
  struct ssi_file *f = (struct ssi_file *) mg_calloc(1, sizeof(*f));
  if (f != NULL) mg_snprintf(f->path, sizeof(f->path), "%s", path);
  if (f != NULL && !mg_path_normalize(f->path, strlen(f->path))) {
    mg_free(f);
    mg_http_reply2(c, 404, "Content-Type: text/plain; charset=utf-8\r\n", extra_headers, "Not found\n");
    return;
  }
  if ((f = ssi_open(&r, f)) != NULL) {
    ssi_run_file(&r, f, 0);
    ssi_close(&r, f);
  }
  if (f == NULL || r.too_big || r.failed) {
    bool missing = f == NULL && !r.failed;
    c->send.len = r.start;
    if (r.too_big) MG_ERROR(("SSI: %s: the page is larger than MG_SSI_MAX_SIZE (%d bytes)", path, MG_SSI_MAX_SIZE));
    mg_http_reply2(c, missing ? 404 : 500, "Content-Type: text/plain; charset=utf-8\r\n", extra_headers, "%s",
                   missing ? "Not found\n" : r.too_big ? "Page too large\n" : "Out of memory\n");
    return;
  }
  ssi_send_head(&r, path, extra_headers);
  mg_http_reply_done(c);
}

void mg_http_serve_ssi(struct mg_connection *c, const char *root, const char *fullpath) {
  struct mg_str dir = mg_str(root == NULL ? "." : root);
  while (dir.len > 0 && dir.buf[dir.len - 1] == '/') dir.len--;  // "/" is "": paths start with '/'
  if (fullpath == NULL || strncmp(fullpath, dir.buf, dir.len) != 0 || fullpath[dir.len] != '/') {
    mg_http_reply(c, 404, "Content-Type: text/plain; charset=utf-8\r\n", "Not found\n");
    return;
  }
  mg_http_ssi_serve(c, &mg_fs_posix, dir, fullpath + dir.len, NULL);
}
