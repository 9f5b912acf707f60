// Fuzzes mg_dash_write with any body: a write is all or nothing (a refused one leaves
// every variable as it was), what lands obeys the declared limits, and the values
// always print back as JSON that mg_json_get accepts.
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_dash_b;
static int fuzz_dash_i, fuzz_dash_e, fuzz_dash_ro;
static double fuzz_dash_d;
static char fuzz_dash_s[9];
static const char *fuzz_dash_names[] = {"red", "green", NULL};
static struct mg_dash_field fuzz_dash_fields[] = {
    MG_DASH_BOOL("b", &fuzz_dash_b),
    MG_DASH_INT("i", &fuzz_dash_i, -5, 5),
    MG_DASH_DOUBLE("d", &fuzz_dash_d, -1, 1),
    MG_DASH_STRING("s", fuzz_dash_s, .min_len = 1),
    MG_DASH_ENUM("e", &fuzz_dash_e, fuzz_dash_names),
    MG_DASH_INT_ANY("ro", &fuzz_dash_ro, .readonly = true),
};
static struct mg_dash_set fuzz_dash_set = MG_DASH_SET("f", fuzz_dash_fields);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_dash_b = false, fuzz_dash_i = 1, fuzz_dash_e = 0, fuzz_dash_ro = 3, fuzz_dash_d = 0.5;
  strcpy(fuzz_dash_s, "abc");
  struct mg_iobuf err = {NULL, 0, 0, 64}, out = {NULL, 0, 0, 64};
  int status = mg_dash_write(&fuzz_dash_set, mg_str_n((const char *) data, size), MG_DASH_ADMIN, &err);
  if (status != 200 && (fuzz_dash_b || fuzz_dash_i != 1 || fuzz_dash_e != 0 || fuzz_dash_d != 0.5 ||
                        strcmp(fuzz_dash_s, "abc") != 0)) {
    __builtin_trap();  // A refused write changed something
  }
  if (fuzz_dash_ro != 3 || fuzz_dash_i < -5 || fuzz_dash_i > 5 || !(fuzz_dash_d >= -1 && fuzz_dash_d <= 1) ||
      fuzz_dash_e < 0 || fuzz_dash_e > 1 || strlen(fuzz_dash_s) < 1) {
    __builtin_trap();
  }
  int n = 0;
  if (status != 200 && err.len > 0) {
    if (!mg_iobuf_add(&err, 0, "{", 1) || !mg_iobuf_add(&err, err.len, "}", 1)) __builtin_trap();
    if (mg_json_get(mg_str_n((char *) err.buf, err.len), "$.error", &n) < 0) __builtin_trap();
  }
  if (!mg_dash_values_json(&fuzz_dash_set, MG_DASH_ADMIN, &out)) __builtin_trap();
  if (mg_json_get(mg_str_n((char *) out.buf, out.len), "$.s", &n) < 0) __builtin_trap();
  mg_iobuf_free(&err);
  mg_iobuf_free(&out);
  return 0;
}
