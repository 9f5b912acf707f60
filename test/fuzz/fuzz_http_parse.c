// Fuzz the HTTP head parser: mg_http_parse, mg_http_get_request_len and
// mg_http_body_kind must agree with each other and keep every slice in the input.
#include "meerkat.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_http_within(struct mg_str s, const char *buf, size_t len) {
  if (s.len == 0) return true;
  return s.buf >= buf && s.buf <= buf + len && s.len <= (size_t) (buf + len - s.buf);
}

static void fuzz_http_check_message(const struct mg_http_message *hm, const char *buf, int r) {
  size_t head_len = (size_t) r;
  CHECK(hm->head.buf == buf && hm->head.len == head_len);
  CHECK(hm->body.buf == buf + head_len);
  bool until_close = hm->body.len == SIZE_MAX;  // message is then the head alone
  CHECK(hm->message.buf == buf && hm->message.len == head_len + (until_close ? 0 : hm->body.len));
  CHECK(hm->chunk.len == 0);
  CHECK(fuzz_http_within(hm->method, buf, head_len) && fuzz_http_within(hm->uri, buf, head_len));
  CHECK(fuzz_http_within(hm->query, buf, head_len) && fuzz_http_within(hm->proto, buf, head_len));
  if (mg_http_is_response(hm)) {
    CHECK(hm->method.len == 8 && hm->query.len == 0);
    int status = mg_http_status(hm);
    CHECK(status >= 0 && status <= 999 && hm->uri.len == 3);
  } else {
    CHECK(hm->proto.len == 8 && memcmp(hm->proto.buf, "HTTP/", 5) == 0);
    CHECK(hm->uri.buf != NULL || hm->query.len == 0);
  }
  size_t n = 0;
  while (n < MG_MAX_HTTP_HEADERS && hm->headers[n].name.len > 0) {
    const struct mg_http_header *h = &hm->headers[n++];
    CHECK(fuzz_http_within(h->name, buf, head_len) && fuzz_http_within(h->value, buf, head_len));
    CHECK(memchr(h->name.buf, ':', h->name.len) == NULL);
    CHECK(h->value.len == 0 || memchr(h->value.buf, '\n', h->value.len) == NULL);
    CHECK(h->value.len == 0 || memchr(h->value.buf, '\r', h->value.len) == NULL);
    CHECK(h->value.len == 0 || (h->value.buf[0] != ' ' && h->value.buf[h->value.len - 1] != ' '));
  }
  for (size_t i = n; i < MG_MAX_HTTP_HEADERS; i++) {
    CHECK(hm->headers[i].name.len == 0 && hm->headers[i].value.len == 0);
  }
  if (n > 0) {  // lookup by name finds the first header of that name
    char name[256];
    size_t len = hm->headers[0].name.len < sizeof(name) - 1 ? hm->headers[0].name.len : 0;
    if (len > 0) {
      memcpy(name, hm->headers[0].name.buf, len);
      name[len] = '\0';
      CHECK(mg_http_get_header((struct mg_http_message *) hm, name) == &hm->headers[0].value);
    }
  }
  // Body framing: body.len follows a valid Content-Length, is SIZE_MAX for a response
  // that ends at the close, else 0. A bad or differing Content-Length fails the parse.
  bool is_response = mg_http_is_response(hm);
  uint64_t cl = 0;
  enum mg_http_body_kind kind = mg_http_body_kind(hm, is_response, false, &cl);
  CHECK(kind <= MG_HTTP_BODY_INVALID);
  if (kind == MG_HTTP_BODY_LENGTH) {
    CHECK(hm->body.len == (cl > SIZE_MAX - head_len ? SIZE_MAX - head_len : (size_t) cl));
  } else {
    CHECK(hm->body.len == (kind == MG_HTTP_BODY_TO_CLOSE ? SIZE_MAX : 0));
  }
  if (kind == MG_HTTP_BODY_INVALID) CHECK(mg_http_get_header((struct mg_http_message *) hm, "Transfer-Encoding") != NULL);
  if (!is_response) CHECK(kind != MG_HTTP_BODY_TO_CLOSE);
  CHECK(mg_http_body_kind(hm, true, true, NULL) == MG_HTTP_BODY_NONE);
}

// Byte-at-a-time statement of what mg_http_get_request_len computes (which
// skips words at a time): the two must agree on every input.
static int fuzz_http_reference_request_len(const unsigned char *b, size_t n) {
  size_t i = 0;
  for (; i < n && (b[i] == '\r' || b[i] == '\n'); i++) {
    if (b[i] == '\r' && i + 1 == n) return 0;
    if (b[i] == '\r' && b[++i] != '\n') return -1;
  }
  for (; i < n; i++) {
    unsigned char c = b[i];
    if (c == '\r') {
      if (i + 1 == n) return 0;
      if (b[i + 1] != '\n') return -1;
    } else if (c == '\n') {
      if (i + 1 < n && b[i + 1] == '\n') return (int) (i + 2);
      if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n') return (int) (i + 3);
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return -1;
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *) data;
  struct mg_http_message hm;
  int r = mg_http_parse(buf, size, &hm);
  int g = mg_http_get_request_len(data, size);
  CHECK(r >= MG_HTTP_ERR_TOO_MANY_HEADERS && r <= (int) size);
  CHECK(g >= -1 && g <= (int) size);
  CHECK(g == fuzz_http_reference_request_len(data, size));
  if (r > 0) CHECK(g == r);  // both see the same end of the head
  if (g < 0) CHECK(r < 0);   // the cheap check rejects only what the parser rejects
  if (g == 0) CHECK(r <= 0);
  if (r > 0) {
    fuzz_http_check_message(&hm, buf, r);
    // The head alone parses the same; one byte less is incomplete.
    struct mg_http_message again;
    CHECK(mg_http_parse(buf, (size_t) r, &again) == r);
    CHECK(again.uri.buf == hm.uri.buf && again.uri.len == hm.uri.len);
    CHECK(mg_http_parse(buf, (size_t) r - 1, &again) == 0);
  }
  return 0;
}
