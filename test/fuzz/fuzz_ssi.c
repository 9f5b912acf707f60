// Fuzz the server-side include directive parser and the include resolver: a
// directive found is "<!--#include ... -->" with its name inside it, an
// incomplete one is shorter than the limit, and a resolved path is normalised,
// starts with '/' and never holds a ".." segment, whatever the name's spelling.
#include "meerkat.h"
#include "http/http_internal.h"

static const char *const fuzz_ssi_from[] = {"/index.shtml", "/a/b/page.shtml", "/x", "/d/"};

static void fuzz_ssi_check_path(const char *out) {
  char again[MG_PATH_MAX];
  size_t n = strlen(out);
  if (out[0] != '/' || strstr(out, "/../") != NULL || strchr(out, '\\') != NULL) __builtin_trap();
  if (n >= 3 && strcmp(out + n - 3, "/..") == 0) __builtin_trap();
  memcpy(again, out, n + 1);
  if (!mg_path_normalize(again, n) || strcmp(again, out) != 0) __builtin_trap();  // Already normal
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_ssi_include inc;
  char out[MG_PATH_MAX];
  if (size < 1) return 0;
  const char *from = fuzz_ssi_from[data[0] % 4];
  const char *buf = (const char *) data + 1;
  size_t len = size - 1;
  int n = mg_ssi_parse(buf, len, &inc);
  if (n < -1 || (size_t) (n > 0 ? n : 0) > len) __builtin_trap();
  if (n == 0 && len >= MG_SSI_DIRECTIVE_MAX) __builtin_trap();
  if (n > 0) {
    if (n > MG_SSI_DIRECTIVE_MAX || memcmp(buf, "<!--#include", 12) != 0 || memcmp(buf + n - 3, "-->", 3) != 0)
      __builtin_trap();
    if (inc.kind != MG_SSI_FILE && inc.kind != MG_SSI_VIRTUAL) __builtin_trap();
    if (inc.name.len == 0 || inc.name.buf < buf || inc.name.buf + inc.name.len > buf + n) __builtin_trap();
  }
  // The resolver over the whole input as a name, of either kind
  for (int kind = MG_SSI_FILE; kind <= MG_SSI_VIRTUAL; kind++) {
    struct mg_ssi_include any = {kind, mg_str_n(buf, len)};
    if (mg_ssi_resolve(from, &any, out, sizeof(out))) fuzz_ssi_check_path(out);
  }
  if (n > 0 && mg_ssi_resolve(from, &inc, out, sizeof(out))) fuzz_ssi_check_path(out);
  return 0;
}
