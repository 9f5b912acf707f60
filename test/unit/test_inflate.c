// Streaming inflate: zlib-made streams decoded under every way of splitting
// input and output, hand-made streams for the edges and each malformation.
#include <criterion/criterion.h>
#include "meerkat.h"
#include "inflate_vectors.h"

// ---- Plain texts behind the vectors (mirrors test/unit/inflate_vectors.py) ----

static uint32_t xorshift(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static const char *vec_words[] = {
    "the",     "quick",  "brown",  "fox",     "jumps",  "over",     "lazy",    "dog",
    "packet",  "socket", "buffer", "event",   "loop",   "device",   "flash",   "window",
    "stream",  "header", "trailer", "block",  "table",  "code",     "length",  "distance",
    "literal", "match",  "bit",    "byte",    "server", "client",   "request", "reply"};

static uint8_t *vec_text(size_t n, uint32_t s) {
  uint8_t *out = malloc(n + 64);
  size_t len = 0, nwords = sizeof(vec_words) / sizeof(vec_words[0]);
  while (len < n) {
    if (xorshift(&s) % 50 == 0 && len > 32000) {  // A chunk from far back
      size_t back = 20000 + xorshift(&s) % 12000;
      memmove(out + len, out + len - back, 40);
      len += 40;
      continue;
    }
    const char *w = vec_words[xorshift(&s) % nwords];
    memcpy(out + len, w, strlen(w));
    len += strlen(w);
    out[len++] = xorshift(&s) % 8 == 0 ? '\n' : ' ';
  }
  return out;
}

static uint8_t *vec_random(size_t n, uint32_t s) {
  uint8_t *out = malloc(n + 1);
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t) xorshift(&s);
  return out;
}

static uint8_t *unhex(const char *hex, size_t *n) {
  *n = strlen(hex) / 2;
  uint8_t *out = malloc(*n + 1);
  for (size_t i = 0; i < *n; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (uint8_t) v;
  }
  return out;
}

// ---- Driving the decoder ----

enum { STEP_ALL, STEP_ONE, STEP_RANDOM };
struct run {
  int result;
  size_t in_used, out_len;
  uint8_t *out;
};

static size_t step(int mode, uint32_t *rng) {
  if (mode == STEP_ALL) return SIZE_MAX;
  if (mode == STEP_ONE) return 1;
  uint32_t r = xorshift(rng);
  return r % 4 == 0 ? 1 + r % 7 : 1 + (r >> 8) % 5000;
}

// Feeds in[0..n) in pieces as the modes say, with at most cap bytes of output
// in total, until DONE, ERROR, or no progress is possible
static struct run decode(const uint8_t *in, size_t n, bool gzip, int in_mode, int out_mode,
                         uint32_t seed, size_t cap) {
  struct mg_inflate *z = malloc(sizeof(*z));
  struct run r = {MG_INFLATE_MORE, 0, 0, malloc(cap + 1)};
  uint32_t rng = seed | 1;
  mg_inflate_init(z, gzip);
  for (;;) {
    size_t il = step(in_mode, &rng), ol = step(out_mode, &rng), used = 12345, made = 12345;
    if (il > n - r.in_used) il = n - r.in_used;
    if (ol > cap - r.out_len) ol = cap - r.out_len;
    r.result = mg_inflate(z, in + r.in_used, il, &used, r.out + r.out_len, ol, &made);
    cr_assert(used <= il && made <= ol, "used %zu of %zu, made %zu of %zu", used, il, made, ol);
    r.in_used += used;
    r.out_len += made;
    if (r.result != MG_INFLATE_MORE) break;
    if (used == 0 && made == 0) {
      cr_assert(r.in_used == n || ol == 0, "no progress with input and room at %zu", r.in_used);
      break;
    }
  }
  if (r.result == MG_INFLATE_ERROR) {  // And it stays in error
    size_t used = 1, made = 1;
    uint8_t buf[8];
    cr_assert_eq(mg_inflate(z, in, n, &used, buf, sizeof(buf), &made), MG_INFLATE_ERROR);
    cr_assert(used == 0 && made == 0);
  }
  free(z);
  return r;
}

static const int modes[][2] = {{STEP_ALL, STEP_ALL},       {STEP_ONE, STEP_ALL},
                               {STEP_ALL, STEP_ONE},       {STEP_ONE, STEP_ONE},
                               {STEP_RANDOM, STEP_RANDOM}, {STEP_RANDOM, STEP_ONE},
                               {STEP_ONE, STEP_RANDOM},    {STEP_RANDOM, STEP_ALL}};

// The whole stream decodes to want under every split, consuming exactly n
// bytes even when more follow; every truncation asks for more and yields a prefix.
static void check_stream(const uint8_t *in, size_t n, bool gzip, const uint8_t *want, size_t want_len) {
  uint8_t *padded = malloc(n + 16);
  memcpy(padded, in, n);
  memcpy(padded + n, "trailing garbage", 16);
  for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
    for (uint32_t seed = 1; seed <= (modes[m][0] == STEP_RANDOM || modes[m][1] == STEP_RANDOM ? 3u : 1u); seed++) {
      for (int garbage = 0; garbage < 2; garbage++) {
        struct run r = decode(padded, n + (garbage ? 16 : 0), gzip, modes[m][0], modes[m][1],
                              seed * 7919, want_len + 64);
        cr_assert_eq(r.result, MG_INFLATE_DONE, "mode %zu seed %u garbage %d", m, seed, garbage);
        cr_assert_eq(r.in_used, n, "mode %zu: used %zu of %zu", m, r.in_used, n);
        cr_assert_eq(r.out_len, want_len, "mode %zu: made %zu, want %zu", m, r.out_len, want_len);
        cr_assert(want_len == 0 || memcmp(r.out, want, want_len) == 0, "mode %zu: output differs", m);
        free(r.out);
      }
    }
  }
  size_t stride = n > 2000 ? n / 250 + 1 : 1;
  for (size_t k = 0; k < n; k += (n - k > 48 ? stride : 1)) {
    struct run r = decode(in, k, gzip, STEP_ALL, STEP_ALL, 1, want_len + 64);
    cr_assert_eq(r.result, MG_INFLATE_MORE, "truncated at %zu of %zu", k, n);
    cr_assert_eq(r.in_used, k, "truncated at %zu: used %zu", k, r.in_used);
    cr_assert(r.out_len <= want_len && (r.out_len == 0 || memcmp(r.out, want, r.out_len) == 0),
              "truncated at %zu: output is not a prefix", k);
    free(r.out);
  }
  free(padded);
}

static void check_hex(const char *hex, bool gzip, const uint8_t *want, size_t want_len) {
  size_t n;
  uint8_t *in = unhex(hex, &n);
  check_stream(in, n, gzip, want, want_len);
  free(in);
}

// Malformed: ERROR under any split, after the same output
static void check_error(const uint8_t *in, size_t n, bool gzip) {
  struct run all = decode(in, n, gzip, STEP_ALL, STEP_ALL, 1, 1 << 20);
  cr_assert_eq(all.result, MG_INFLATE_ERROR);
  for (size_t m = 1; m < sizeof(modes) / sizeof(modes[0]); m++) {
    struct run r = decode(in, n, gzip, modes[m][0], STEP_ALL, 5, 1 << 20);
    cr_assert_eq(r.result, MG_INFLATE_ERROR, "mode %zu", m);
    cr_assert_eq(r.out_len, all.out_len, "mode %zu", m);
    cr_assert(all.out_len == 0 || memcmp(r.out, all.out, all.out_len) == 0);
    free(r.out);
  }
  free(all.out);
}

// ---- zlib-made streams ----

Test(inflate, decodes_empty_streams) {
  check_hex(vec_empty_raw, false, NULL, 0);
  check_hex(vec_empty_gz, true, NULL, 0);
}

Test(inflate, decodes_hello_stored_fixed_and_gzip_with_name) {
  const uint8_t *hello = (const uint8_t *) "hello";
  check_hex(vec_hello_stored, false, hello, 5);
  check_hex(vec_hello_fixed, false, hello, 5);
  check_hex(vec_hello_gz_name, true, hello, 5);
}

Test(inflate, skips_every_optional_gzip_header_field) {
  check_hex(vec_hello_gz_all_flags, true, (const uint8_t *) "hello", 5);
}

Test(inflate, decodes_100k_text_at_level_1_with_far_matches) {
  uint8_t *text = vec_text(100 * 1024, 2463534242u);
  check_hex(vec_text_l1, false, text, 100 * 1024);
  free(text);
}

Test(inflate, decodes_100k_text_at_level_9_with_far_matches) {
  uint8_t *text = vec_text(100 * 1024, 2463534242u);
  check_hex(vec_text_l9, false, text, 100 * 1024);
  free(text);
}

Test(inflate, decodes_and_verifies_100k_text_gzip) {
  uint8_t *text = vec_text(100 * 1024, 2463534242u);
  check_hex(vec_text_gz, true, text, 100 * 1024);
  free(text);
}

Test(inflate, decodes_fixed_huffman_text) {
  uint8_t *text = vec_text(16384, 2463534242u);
  check_hex(vec_text_fixed, false, text, 16384);
  free(text);
}

Test(inflate, decodes_mixed_dynamic_stored_and_fixed_blocks) {
  uint8_t *text = vec_text(40000, 2463534242u);
  check_hex(vec_text_multi, false, text, 40000);
  free(text);
}

Test(inflate, decodes_incompressible_data_in_stored_blocks) {
  uint8_t *data = vec_random(10 * 1024, 88172645u);
  check_hex(vec_random_l9, false, data, 10 * 1024);
  free(data);
}

// ---- Hand-made streams: a bit writer ----

struct bitw {
  uint8_t buf[200000];
  size_t nbits;
};

static struct bitw *bitw_new(void) {
  return calloc(1, sizeof(struct bitw));
}

static size_t bitw_len(const struct bitw *w) {
  return (w->nbits + 7) / 8;
}

static void put_bits(struct bitw *w, uint32_t v, int n) {  // Least significant bit first
  for (int i = 0; i < n; i++, w->nbits++) {
    if ((v >> i) & 1) w->buf[w->nbits / 8] |= (uint8_t) (1u << (w->nbits % 8));
  }
}

static void put_code(struct bitw *w, uint32_t code, int len) {  // Huffman codes: most significant first
  for (int i = len - 1; i >= 0; i--) put_bits(w, (code >> i) & 1, 1);
}

static void put_align(struct bitw *w) {
  w->nbits = (w->nbits + 7) & ~(size_t) 7;
}

static void put_block(struct bitw *w, int final, int type) {
  put_bits(w, (uint32_t) final, 1);
  put_bits(w, (uint32_t) type, 2);
}

static void put_stored(struct bitw *w, int final, const uint8_t *data, size_t n) {
  put_block(w, final, 0);
  put_align(w);
  put_bits(w, (uint32_t) n, 16);
  put_bits(w, ~(uint32_t) n & 0xffff, 16);
  for (size_t i = 0; i < n; i++) put_bits(w, data[i], 8);
}

static void put_fixed_sym(struct bitw *w, int sym) {  // RFC 1951 3.2.6
  if (sym < 144) put_code(w, (uint32_t) (0x30 + sym), 8);
  else if (sym < 256) put_code(w, (uint32_t) (0x190 + sym - 144), 9);
  else if (sym < 280) put_code(w, (uint32_t) (sym - 256), 7);
  else put_code(w, (uint32_t) (0xc0 + sym - 280), 8);
}

static const int len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const int len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const int dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                  33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                  1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const int dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int len_code(int len) {
  int i = 28;
  while (len_base[i] > len) i--;
  return i;
}

static int dist_code(int dist) {
  int i = 29;
  while (dist_base[i] > dist) i--;
  return i;
}

static void put_fixed_match(struct bitw *w, int len, int dist) {
  int l = len_code(len), d = dist_code(dist);
  put_fixed_sym(w, 257 + l);
  put_bits(w, (uint32_t) (len - len_base[l]), len_extra[l]);
  put_code(w, (uint32_t) d, 5);
  put_bits(w, (uint32_t) (dist - dist_base[d]), dist_extra[d]);
}

// Canonical codes for lengths (RFC 1951 3.2.2)
static void canon(const uint8_t *lens, int n, uint16_t *codes) {
  int count[16] = {0}, next[16] = {0}, code = 0;
  for (int s = 0; s < n; s++) count[lens[s]]++;
  count[0] = 0;
  for (int b = 1; b < 16; b++) {
    code = (code + count[b - 1]) << 1;
    next[b] = code;
  }
  for (int s = 0; s < n; s++) {
    if (lens[s]) codes[s] = (uint16_t) next[lens[s]]++;
  }
}

static void put_sym(struct bitw *w, const uint8_t *lens, int n, int sym) {
  uint16_t codes[320];
  canon(lens, n, codes);
  cr_assert(lens[sym] > 0, "symbol %d has no code", sym);
  put_code(w, codes[sym], lens[sym]);
}

static const uint8_t clen_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
// A complete code length code: 0..12 get 4 bits, 13..18 get 5 (13/16 + 6/32 = 1)
static const uint8_t cl_all[19] = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5};

// Dynamic block header: counts, the code length code cl (first hclen in
// clen_order), then the items {symbol, extra} of that code.
static void put_dynamic_header(struct bitw *w, int final, int hlit, int hdist, int hclen,
                               const uint8_t *cl, const int (*items)[2], int nitems) {
  put_block(w, final, 2);
  put_bits(w, (uint32_t) (hlit - 257), 5);
  put_bits(w, (uint32_t) (hdist - 1), 5);
  put_bits(w, (uint32_t) (hclen - 4), 4);
  for (int i = 0; i < hclen; i++) put_bits(w, cl[clen_order[i]], 3);
  for (int i = 0; i < nitems; i++) {
    int sym = items[i][0];
    put_sym(w, cl, 19, sym);
    if (sym >= 16) put_bits(w, (uint32_t) items[i][1], sym == 16 ? 2 : sym == 17 ? 3 : 7);
  }
}

// Every length sent as itself
static void put_dynamic(struct bitw *w, int final, const uint8_t *lit, int hlit, const uint8_t *dist, int hdist) {
  int items[320][2];
  for (int i = 0; i < hlit; i++) items[i][0] = lit[i], items[i][1] = 0;
  for (int i = 0; i < hdist; i++) items[hlit + i][0] = dist[i], items[hlit + i][1] = 0;
  put_dynamic_header(w, final, hlit, hdist, 19, cl_all, (const int (*)[2]) items, hlit + hdist);
}

static void check_bitw(const struct bitw *w, const void *want, size_t want_len) {
  check_stream(w->buf, bitw_len(w), false, (const uint8_t *) want, want_len);
}

static void check_bitw_error(const struct bitw *w) {
  check_error(w->buf, bitw_len(w), false);
}

// ---- Hand-made streams: valid edges ----

// Decoder model for expectations: appends a match to out
static void model_match(uint8_t *out, size_t *n, int len, int dist) {
  for (int i = 0; i < len; i++, (*n)++) out[*n] = out[*n - (size_t) dist];
}

Test(inflate, matches_reach_exactly_32768_back_and_the_window_wraps) {
  struct bitw *w = bitw_new();
  size_t n = 100000, len = n;
  uint8_t *want = vec_random(n + 20000, 12345);
  put_stored(w, 0, want, 65535);
  put_stored(w, 0, want + 65535, n - 65535);
  put_block(w, 1, 1);
  static const int matches[][2] = {{258, 32768}, {258, 32768}, {3, 32768}, {4, 1},
                                   {258, 1},     {100, 32767}, {258, 12345}, {57, 30000},
                                   {3, 2},       {10, 24577},  {11, 16384}, {258, 258}};
  for (int rep = 0; rep < 10; rep++) {
    for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
      put_fixed_match(w, matches[i][0], matches[i][1]);
      model_match(want, &len, matches[i][0], matches[i][1]);
    }
    put_fixed_sym(w, 'x' + rep);
    want[len++] = (uint8_t) ('x' + rep);
  }
  put_fixed_sym(w, 256);
  check_bitw(w, want, len);
  free(w);
  free(want);
}

Test(inflate, accepts_lengths_3_to_258_and_every_distance_code) {
  struct bitw *w = bitw_new();
  uint8_t *want = vec_random(33000 + 256 * 258 + 30 * 8, 777);
  size_t len = 33000;
  put_stored(w, 0, want, len);
  put_block(w, 1, 1);
  for (int l = 3; l <= 258; l++) {  // Every length value, at growing distances
    int d = 1 + (l * 127) % 32768;
    put_fixed_match(w, l, d);
    model_match(want, &len, l, d);
  }
  for (int c = 0; c < 30; c++) {  // Both ends of every distance code
    int far = c == 29 ? 32768 : dist_base[c + 1] - 1;
    put_fixed_match(w, 3, dist_base[c]);
    model_match(want, &len, 3, dist_base[c]);
    put_fixed_match(w, 5, far);
    model_match(want, &len, 5, far);
  }
  put_fixed_sym(w, 256);
  check_bitw(w, want, len);
  free(w);
  free(want);
}

Test(inflate, stored_blocks_of_0_and_65535_bytes_and_mid_byte_alignment) {
  struct bitw *w = bitw_new();
  uint8_t *data = vec_random(65535, 99);
  uint8_t *want = malloc(65535 + 8);
  put_block(w, 0, 1);  // A fixed block leaves the stream mid-byte
  put_fixed_sym(w, 'a');
  put_fixed_sym(w, 256);
  put_stored(w, 0, NULL, 0);
  put_stored(w, 0, data, 65535);
  put_block(w, 1, 1);
  put_fixed_sym(w, 'z');
  put_fixed_sym(w, 256);
  want[0] = 'a';
  memcpy(want + 1, data, 65535);
  want[65536] = 'z';
  check_bitw(w, want, 65537);
  free(w);
  free(want);
  free(data);
}

Test(inflate, final_empty_stored_block_ends_the_stream) {
  struct bitw *w = bitw_new();
  put_stored(w, 1, NULL, 0);
  check_bitw(w, "", 0);
  free(w);
}

Test(inflate, dynamic_block_with_a_single_one_bit_distance_code) {
  struct bitw *w = bitw_new();
  uint8_t lit[258] = {0}, dist[1] = {1};
  lit['a'] = lit['b'] = lit[256] = lit[257] = 2;
  put_dynamic(w, 1, lit, 258, dist, 1);
  put_sym(w, lit, 258, 'a');
  put_sym(w, lit, 258, 'b');
  put_sym(w, lit, 258, 257);  // Length 3
  put_code(w, 0, 1);          // Distance 1
  put_sym(w, lit, 258, 256);
  check_bitw(w, "abbbb", 5);
  free(w);
}

Test(inflate, dynamic_block_without_distance_codes_carries_literals) {
  struct bitw *w = bitw_new();
  uint8_t lit[257] = {0}, dist[1] = {0};
  lit['a'] = 1;
  lit['b'] = lit[256] = 2;
  put_dynamic(w, 1, lit, 257, dist, 1);
  put_sym(w, lit, 257, 'a');
  put_sym(w, lit, 257, 'b');
  put_sym(w, lit, 257, 'b');
  put_sym(w, lit, 257, 'a');
  put_sym(w, lit, 257, 256);
  check_bitw(w, "abba", 4);
  free(w);
}

Test(inflate, dynamic_block_with_only_an_end_of_block_code) {
  struct bitw *w = bitw_new();
  uint8_t lit[257] = {0}, dist[1] = {0};
  lit[256] = 1;  // The one incomplete literal/length code accepted
  put_dynamic(w, 1, lit, 257, dist, 1);
  put_code(w, 0, 1);
  check_bitw(w, "", 0);
  free(w);
}

Test(inflate, repeat_codes_may_cross_from_literal_to_distance_lengths) {
  struct bitw *w = bitw_new();
  // Literal/length lengths 'a' = 256 = 257 = 258 = 2 (hlit 259), distance
  // lengths 2 2 2 2: the last code 16 repeats "2" over 257, 258 and d0..d3
  uint8_t lit[259] = {0}, dist[4] = {2, 2, 2, 2};
  lit['a'] = lit[256] = lit[257] = lit[258] = 2;
  static const int seq[][2] = {{18, 97 - 11}, {2, 0}, {18, 138 - 11}, {18, 19 - 11},
                               {0, 0},        {2, 0}, {16, 6 - 3}};
  put_dynamic_header(w, 1, 259, 4, 19, cl_all, seq, 7);
  put_sym(w, lit, 259, 'a');
  put_sym(w, lit, 259, 257);  // Length 3
  put_sym(w, dist, 4, 0);     // Distance 1
  put_sym(w, lit, 259, 256);
  check_bitw(w, "aaaa", 4);
  free(w);
}

// ---- Hand-made streams: each malformation ----

Test(inflate, rejects_reserved_block_type_3) {
  struct bitw *w = bitw_new();
  put_block(w, 1, 3);
  put_bits(w, 0, 32);
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_stored_block_whose_nlen_is_not_the_complement) {
  static const uint32_t nlens[] = {5, 0xfffa ^ 0x100, 0xfffa ^ 0x8000, 0};
  for (size_t i = 0; i < sizeof(nlens) / sizeof(nlens[0]); i++) {
    struct bitw *w = bitw_new();
    put_block(w, 1, 0);
    put_align(w);
    put_bits(w, 5, 16);
    put_bits(w, nlens[i], 16);
    put_bits(w, 0x6c6c6568, 32);
    put_bits(w, 'o', 8);
    check_bitw_error(w);
    free(w);
  }
}

Test(inflate, rejects_literal_length_codes_286_and_287) {
  for (int sym = 286; sym <= 287; sym++) {
    struct bitw *w = bitw_new();
    put_block(w, 1, 1);
    put_fixed_sym(w, 'a');
    put_fixed_sym(w, 'a');
    put_fixed_sym(w, sym);
    put_bits(w, 0, 32);
    check_bitw_error(w);
    struct run r = decode(w->buf, bitw_len(w), false, STEP_ALL, STEP_ALL, 1, 100);
    cr_assert(r.out_len == 2 && memcmp(r.out, "aa", 2) == 0, "literals before the bad code come out");
    free(r.out);
    free(w);
  }
}

Test(inflate, rejects_distance_codes_30_and_31) {
  for (int code = 30; code <= 31; code++) {
    struct bitw *w = bitw_new();
    put_block(w, 1, 1);
    put_fixed_sym(w, 'a');
    put_fixed_sym(w, 'b');
    put_fixed_sym(w, 257);
    put_code(w, (uint32_t) code, 5);
    put_bits(w, 0, 32);
    check_bitw_error(w);
    free(w);
  }
}

Test(inflate, rejects_distances_before_the_start_of_the_data) {
  static const int cases[][2] = {{0, 1}, {1, 2}, {2, 3}, {100, 101}, {32767, 32768}};
  uint8_t *data = vec_random(32767, 5);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct bitw *w = bitw_new();
    if (cases[i][0] > 0) put_stored(w, 0, data, (size_t) cases[i][0]);
    put_block(w, 1, 1);
    put_fixed_match(w, 3, cases[i][1]);
    put_fixed_sym(w, 256);
    check_bitw_error(w);
    free(w);
    // One byte nearer is fine
    w = bitw_new();
    if (cases[i][0] > 0) put_stored(w, 0, data, (size_t) cases[i][0]);
    put_block(w, 1, 1);
    put_fixed_sym(w, 'q');
    put_fixed_match(w, 3, cases[i][1]);
    put_fixed_sym(w, 256);
    uint8_t *want = malloc((size_t) cases[i][0] + 4);
    size_t len = (size_t) cases[i][0] + 1;
    memcpy(want, data, (size_t) cases[i][0]);
    want[len - 1] = 'q';
    model_match(want, &len, 3, cases[i][1]);
    check_bitw(w, want, len);
    free(want);
    free(w);
  }
  free(data);
}

Test(inflate, rejects_bad_code_length_codes) {
  uint8_t over[19], incomplete[19] = {0}, none[19] = {0};
  memset(over, 1, sizeof(over));       // 19 one-bit codes
  incomplete[0] = 1, incomplete[8] = 2;  // Half and a quarter of the code space
  const uint8_t *cls[] = {over, incomplete, none};
  for (size_t i = 0; i < 3; i++) {
    struct bitw *w = bitw_new();
    put_dynamic_header(w, 1, 257, 1, 19, cls[i], NULL, 0);
    put_bits(w, 0, 32);
    put_bits(w, 0, 32);
    check_bitw_error(w);
    free(w);
  }
}

// A dynamic block with the given lengths, then 'a' (if it has a code) and end of block
static void check_bad_lengths(const uint8_t *lit, int hlit, const uint8_t *dist, int hdist) {
  struct bitw *w = bitw_new();
  put_dynamic(w, 1, lit, hlit, dist, hdist);
  put_bits(w, 0, 32);
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_oversubscribed_and_incomplete_literal_length_codes) {
  uint8_t lit[257] = {0}, dist[1] = {1};
  lit['a'] = lit['b'] = lit[256] = 1;  // Over-subscribed
  check_bad_lengths(lit, 257, dist, 1);
  lit['b'] = 0, lit[256] = 2;  // Incomplete: a quarter unused
  check_bad_lengths(lit, 257, dist, 1);
  lit['a'] = 0, lit[256] = 2;  // A single two-bit code is incomplete too
  check_bad_lengths(lit, 257, dist, 1);
  memset(lit, 0, sizeof(lit));  // No end of block code
  lit['a'] = lit['b'] = 1;
  check_bad_lengths(lit, 257, dist, 1);
}

Test(inflate, rejects_oversubscribed_and_incomplete_distance_codes) {
  uint8_t lit[257] = {0}, over[3] = {1, 1, 1}, incomplete[2] = {2, 2}, single2[1] = {2};
  lit['a'] = lit[256] = 1;
  check_bad_lengths(lit, 257, over, 3);
  check_bad_lengths(lit, 257, incomplete, 2);
  check_bad_lengths(lit, 257, single2, 1);
}

Test(inflate, rejects_the_unused_code_of_a_single_distance_code) {
  struct bitw *w = bitw_new();
  uint8_t lit[258] = {0}, dist[1] = {1};
  lit['a'] = lit['b'] = lit[256] = lit[257] = 2;
  put_dynamic(w, 1, lit, 258, dist, 1);
  put_sym(w, lit, 258, 'a');
  put_sym(w, lit, 258, 257);
  put_code(w, 1, 1);  // The code no distance has
  put_bits(w, 0, 32);
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_a_length_when_there_are_no_distance_codes) {
  struct bitw *w = bitw_new();
  uint8_t lit[258] = {0}, dist[1] = {0};
  lit['a'] = lit[256] = lit[257] = 2, lit['b'] = 2;
  put_dynamic(w, 1, lit, 258, dist, 1);
  put_sym(w, lit, 258, 'a');
  put_sym(w, lit, 258, 257);
  put_bits(w, 0, 32);
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_repeat_code_16_with_no_previous_length) {
  struct bitw *w = bitw_new();
  static const int seq[][2] = {{16, 0}, {18, 127}, {18, 127}};
  put_dynamic_header(w, 1, 257, 1, 19, cl_all, seq, 3);
  put_bits(w, 0, 32);
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_code_lengths_running_past_hlit_plus_hdist) {
  // 'a' = 256 = 1 and no distance codes would be a good block, but the last
  // repeat runs past the end: hlit 257 + hdist 2 = 259 lengths
  static const int past16[][2] = {{18, 97 - 11}, {1, 0}, {18, 138 - 11}, {18, 20 - 11}, {1, 0}, {16, 0}};
  static const int past17[][2] = {{18, 97 - 11}, {1, 0}, {18, 138 - 11}, {18, 20 - 11}, {1, 0}, {17, 0}};
  static const int past18[][2] = {{18, 97 - 11}, {1, 0}, {18, 138 - 11}, {18, 20 - 11}, {1, 0}, {18, 0}};
  static const int fits17[][2] = {{18, 97 - 11}, {1, 0}, {18, 138 - 11}, {18, 20 - 11}, {1, 0}, {0, 0}, {0, 0}};
  const int (*seqs[])[2] = {past16, past17, past18, fits17};
  for (int i = 0; i < 4; i++) {
    struct bitw *w = bitw_new();
    put_dynamic_header(w, 1, 257, 2, 19, cl_all, seqs[i], i < 3 ? 6 : 7);
    put_code(w, 0, 1);  // 'a'
    put_code(w, 1, 1);  // End of block
    if (i < 3) {
      check_bitw_error(w);
    } else {
      check_bitw(w, "a", 1);
    }
    free(w);
  }
}

Test(inflate, reports_a_bad_code_in_the_last_bits_without_waiting_for_more) {
  struct bitw *w = bitw_new();
  uint8_t lit[258] = {0}, dist[1] = {1};
  lit['a'] = lit['b'] = lit[256] = lit[257] = 2;
  put_dynamic(w, 1, lit, 258, dist, 1);
  put_sym(w, lit, 258, 'a');
  put_sym(w, lit, 258, 257);
  put_code(w, 1, 1);  // No distance has this code, and the stream ends here
  check_bitw_error(w);
  free(w);
}

Test(inflate, rejects_hlit_over_286_and_hdist_over_30) {
  static const int counts[][2] = {{287, 1}, {288, 1}, {257, 31}, {257, 32}};
  for (int i = 0; i < 4; i++) {
    struct bitw *w = bitw_new();
    put_dynamic_header(w, 1, counts[i][0], counts[i][1], 19, cl_all, NULL, 0);
    put_bits(w, 0, 32);
    put_bits(w, 0, 32);
    check_bitw_error(w);
    free(w);
  }
}

// ---- gzip framing ----

enum { FTEXT = 1, FHCRC = 2, FEXTRA = 4, FNAME = 8, FCOMMENT = 16 };

// A gzip member of "hello" with the given header fields
static size_t make_gzip(uint8_t *out, int flags, size_t xlen, const char *name, const char *comment) {
  size_t n = 0, dlen;
  uint8_t *deflated = unhex(vec_hello_fixed, &dlen);
  static const uint8_t fixed[] = {0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 0, 255};
  memcpy(out, fixed, sizeof(fixed));
  out[3] = (uint8_t) flags;
  n = sizeof(fixed);
  if (flags & FEXTRA) {
    out[n++] = (uint8_t) xlen, out[n++] = (uint8_t) (xlen >> 8);
    for (size_t i = 0; i < xlen; i++) out[n++] = (uint8_t) (i * 31);  // Includes NULs
  }
  if (flags & FNAME) memcpy(out + n, name, strlen(name) + 1), n += strlen(name) + 1;
  if (flags & FCOMMENT) memcpy(out + n, comment, strlen(comment) + 1), n += strlen(comment) + 1;
  if (flags & FHCRC) {
    uint32_t crc = mg_crc32(0, (const char *) out, n);
    out[n++] = (uint8_t) crc, out[n++] = (uint8_t) (crc >> 8);
  }
  memcpy(out + n, deflated, dlen);
  n += dlen;
  uint32_t crc = mg_crc32(0, "hello", 5);
  for (int i = 0; i < 4; i++) out[n++] = (uint8_t) (crc >> (8 * i));
  out[n++] = 5, out[n++] = 0, out[n++] = 0, out[n++] = 0;
  free(deflated);
  return n;
}

Test(inflate, gzip_header_fields_in_any_combination) {
  static const struct {
    int flags;
    size_t xlen;
    const char *name, *comment;
  } cases[] = {
      {0, 0, "", ""},
      {FTEXT, 0, "", ""},
      {FEXTRA, 0, "", ""},
      {FEXTRA, 300, "", ""},
      {FNAME, 0, "", ""},
      {FNAME, 0, "index.html", ""},
      {FCOMMENT, 0, "", "made by hand"},
      {FHCRC, 0, "", ""},
      {FHCRC | FNAME, 0, "a", ""},
      {FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT, 1000, "name.txt", "comment"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t buf[2000];
    size_t n = make_gzip(buf, cases[i].flags, cases[i].xlen, cases[i].name, cases[i].comment);
    check_stream(buf, n, true, (const uint8_t *) "hello", 5);
  }
}

Test(inflate, gzip_rejects_bad_magic_method_and_reserved_flags) {
  uint8_t buf[100];
  size_t n = make_gzip(buf, FNAME, 0, "x", "");
  static const struct {
    size_t at;
    uint8_t value;
  } cases[] = {{0, 0x1e}, {0, 0x8b}, {1, 0x8c}, {1, 0x1f}, {2, 7}, {2, 0},
               {3, FNAME | 0x20}, {3, FNAME | 0x40}, {3, FNAME | 0x80}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t bad[100];
    memcpy(bad, buf, n);
    bad[cases[i].at] = cases[i].value;
    check_error(bad, n, true);
  }
}

Test(inflate, gzip_rejects_a_wrong_header_crc) {
  uint8_t buf[100];
  size_t n = make_gzip(buf, FHCRC | FNAME, 0, "x", "");
  for (size_t at = 12; at < 14; at++) {  // After the 10 fixed bytes and "x\0"
    buf[at] ^= 0x10;
    check_error(buf, n, true);
    buf[at] ^= 0x10;
  }
  check_stream(buf, n, true, (const uint8_t *) "hello", 5);
}

Test(inflate, gzip_rejects_a_wrong_crc32_or_isize) {
  uint8_t buf[100];
  size_t n = make_gzip(buf, 0, 0, "", "");
  for (size_t at = n - 8; at < n; at++) {
    for (int bit = 0; bit < 8; bit += 7) {
      buf[at] ^= (uint8_t) (1u << bit);
      check_error(buf, n, true);
      struct run r = decode(buf, n, true, STEP_ALL, STEP_ALL, 1, 100);
      cr_assert(r.out_len == 5 && memcmp(r.out, "hello", 5) == 0, "the data came out before the check");
      free(r.out);
      buf[at] ^= (uint8_t) (1u << bit);
    }
  }
}

Test(inflate, gzip_decodes_one_member_and_leaves_the_next) {
  uint8_t buf[200];
  size_t n = make_gzip(buf, FNAME, 0, "one", "");
  memcpy(buf + n, buf, n);
  struct run r = decode(buf, 2 * n, true, STEP_ALL, STEP_ALL, 1, 100);
  cr_assert_eq(r.result, MG_INFLATE_DONE);
  cr_assert_eq(r.in_used, n);
  cr_assert_eq(r.out_len, 5);
  free(r.out);
}

// ---- API edges ----

Test(inflate, null_arguments_are_harmless) {
  struct mg_inflate *z = malloc(sizeof(*z));
  uint8_t out[16];
  size_t used = 7, made = 7;
  mg_inflate_init(NULL, true);
  cr_assert_eq(mg_inflate(NULL, (const uint8_t *) "x", 1, &used, out, 16, &made), MG_INFLATE_ERROR);
  cr_assert(used == 0 && made == 0);
  mg_inflate_init(z, false);
  cr_assert_eq(mg_inflate(z, NULL, 10, &used, out, 16, &made), MG_INFLATE_MORE);
  cr_assert(used == 0 && made == 0);
  // "hello", fixed Huffman, with no room and no counters, then with both
  size_t n;
  uint8_t *in = unhex(vec_hello_fixed, &n);
  cr_assert_eq(mg_inflate(z, in, n, NULL, NULL, 100, NULL), MG_INFLATE_MORE);
  cr_assert_eq(mg_inflate(z, in + n, 0, &used, out, sizeof(out), &made), MG_INFLATE_DONE);
  cr_assert(used == 0 && made == 5 && memcmp(out, "hello", 5) == 0);
  free(in);
  free(z);
}

Test(inflate, done_stays_done_and_consumes_nothing) {
  struct mg_inflate *z = malloc(sizeof(*z));
  uint8_t out[16];
  size_t used, made, n;
  uint8_t *in = unhex(vec_hello_gz_name, &n);
  mg_inflate_init(z, true);
  cr_assert_eq(mg_inflate(z, in, n, &used, out, sizeof(out), &made), MG_INFLATE_DONE);
  cr_assert(used == n && made == 5);
  cr_assert_eq(mg_inflate(z, in, n, &used, out, sizeof(out), &made), MG_INFLATE_DONE);
  cr_assert(used == 0 && made == 0);
  mg_inflate_init(z, true);  // Init starts over
  cr_assert_eq(mg_inflate(z, in, n, &used, out, sizeof(out), &made), MG_INFLATE_DONE);
  cr_assert(used == n && made == 5);
  free(in);
  free(z);
}

Test(inflate, without_output_room_it_buffers_one_window_then_waits) {
  struct mg_inflate *z = malloc(sizeof(*z));
  size_t used, made, n, got = 0;
  uint8_t *in = unhex(vec_text_l9, &n), *out = malloc(100 * 1024);
  uint8_t *text = vec_text(100 * 1024, 2463534242u);
  mg_inflate_init(z, false);
  cr_assert_eq(mg_inflate(z, in, n, &used, out, 0, &made), MG_INFLATE_MORE);
  cr_assert(used > 0 && used < n && made == 0, "used %zu", used);
  size_t first = used;
  cr_assert_eq(mg_inflate(z, in + first, n - first, &used, out, 0, &made), MG_INFLATE_MORE);
  cr_assert(used == 0 && made == 0, "a full window takes no more input");
  size_t pos = first;
  int r;
  do {
    r = mg_inflate(z, in + pos, n - pos, &used, out + got, 1000, &made);
    pos += used, got += made;
  } while (r == MG_INFLATE_MORE && got < 100 * 1024);
  cr_assert_eq(r, MG_INFLATE_DONE);
  cr_assert(pos == n && got == 100 * 1024 && memcmp(out, text, got) == 0);
  free(in), free(out), free(text), free(z);
}

Test(inflate, state_fits_in_40k) {
  cr_assert_lt(sizeof(struct mg_inflate), 40 * 1024);
}
