// Fuzz variable and header-parameter lookup, credentials, Content-Range and base64: slices
// stay inside the input, outputs stay inside their buffers and are
// NUL-terminated, and base64 round-trips both ways.
#include "meerkat.h"

static void check_inside(struct mg_str s, struct mg_str in) {
  if (s.buf == NULL) {
    if (s.len != 0) __builtin_trap();
    return;
  }
  if (s.buf < in.buf || s.buf > in.buf + in.len || s.len > (size_t) (in.buf + in.len - s.buf))
    __builtin_trap();
}

static void check_cstr(const char *s, size_t size) {
  if (size > 0 && memchr(s, '\0', size) == NULL) __builtin_trap();
}

static void check_base64(const uint8_t *data, size_t size) {
  // decode(encode(x)) == x
  size_t enc_size = (size + 2) / 3 * 4 + 1;
  char *enc = (char *) malloc(enc_size), *dec = (char *) malloc(size + 1);
  if (enc == NULL || dec == NULL) goto done;
  size_t e = mg_base64_encode(data, size, enc, enc_size);
  if (e != enc_size - 1 || enc[e] != '\0') __builtin_trap();
  if (mg_base64_decode(enc, e, dec, size + 1) != size) __builtin_trap();
  if (size > 0 && memcmp(dec, data, size) != 0) __builtin_trap();
  // No room for the NUL fails without overflow
  if (mg_base64_encode(data, size, enc, e) != 0) __builtin_trap();
  if (size > 0 && mg_base64_decode(enc, e, dec, size) != 0) __builtin_trap();
  // The strict decoder accepts only canonical text: encode(decode(x)) == x
  size_t d = mg_base64_decode((const char *) data, size, dec, size + 1);
  if (d > 0 || size == 0) {
    char *again = (char *) malloc(size + 1);
    if (again == NULL) goto done;
    if (mg_base64_encode((unsigned char *) dec, d, again, size + 1) != size) __builtin_trap();
    if (size > 0 && memcmp(again, data, size) != 0) __builtin_trap();
    free(again);
  }
done:
  free(enc);
  free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// An accepted Content-Range is ordered, and reads as the same numbers when printed again
static void check_content_range(const uint8_t *data, size_t size) {
  uint64_t first, last, total;
  struct mg_str in = mg_str_n((const char *) data, size);
  if (!mg_http_parse_content_range(in, &first, &last, &total)) return;
  if (first > last || last >= total) __builtin_trap();
  char again[80];
  size_t n = mg_snprintf(again, sizeof(again), "bytes %llu-%llu/%llu", (unsigned long long) first,
                         (unsigned long long) last, (unsigned long long) total);
  uint64_t f2, l2, t2;
  if (!mg_http_parse_content_range(mg_str_n(again, n), &f2, &l2, &t2) || f2 != first || l2 != last || t2 != total)
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_base64(data, size);
  check_content_range(data, size);
  if (size < 2) return 0;
  // Layout: [name_len][out_len] name rest
  size_t name_len = data[0] % 16, out_len = data[1] % 64;
  if (size - 2 < name_len) return 0;
  char name[17];
  memcpy(name, data + 2, name_len);
  name[name_len] = '\0';
  struct mg_str in = mg_str_n((const char *) data + 2 + name_len, size - 2 - name_len);
  char *out = (char *) malloc(out_len > 0 ? out_len : 1);
  char *user = (char *) malloc(out_len > 0 ? out_len : 1);
  if (out == NULL || user == NULL) goto done;

  struct mg_str raw = mg_http_var(in, mg_str(name));
  check_inside(raw, in);
  int n = mg_http_get_var(&in, name, out, out_len);
  // 7.22's codes: -1 bad source, -2 bad destination, -3 undecodable or too small, -4 absent
  bool bad_source = in.len == 0, bad_dst = out_len == 0;
  if (n < -4 || (n >= 0 && (size_t) n >= out_len)) __builtin_trap();
  if (bad_source != (n == -1)) __builtin_trap();
  if (!bad_source && bad_dst != (n == -2)) __builtin_trap();
  if (!bad_source && !bad_dst && (raw.buf == NULL) != (n == -4)) __builtin_trap();
  if (n >= 0 && out[n] != '\0') __builtin_trap();
  if (n < 0 && out_len > 0 && out[0] != '\0') __builtin_trap();
  check_inside(mg_http_get_header_var(in, mg_str(name)), in);

  // Credentials from headers and a query cut out of the input
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  struct mg_str a = mg_str_n(in.buf, 0), b = a, c = a;
  mg_span(in, &a, &b, '\n');
  mg_span(b, &b, &c, '\n');
  hm.headers[0].name = mg_str("Authorization"), hm.headers[0].value = a;
  hm.headers[1].name = mg_str("Cookie"), hm.headers[1].value = b;
  hm.query = c;
  mg_http_creds(&hm, user, out_len, out, out_len);
  check_cstr(user, out_len);
  check_cstr(out, out_len);
  hm.headers[0].name = mg_str("X-Other");  // Query / cookie paths
  mg_http_creds(&hm, user, out_len, out, out_len);
  check_cstr(user, out_len);
  check_cstr(out, out_len);
  if (out_len > 0 && user[0] != '\0') __builtin_trap();  // Only Basic sets a user
done:
  free(out);
  free(user);
  return 0;
}
