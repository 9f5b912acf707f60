// Fuzz the streaming inflater, raw and gzip: one big call, one input byte per
// call, and random input/output splits must agree, and every call must stay
// within the buffers it was given.
#include "meerkat.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

enum { CAP = 256 * 1024, CANARY = 0xa5 };
enum { SPLIT_ALL, SPLIT_ONE_IN, SPLIT_RANDOM };

static struct mg_inflate fz_z;
static uint8_t fz_ref[CAP + 1], fz_out[CAP + 1];

struct fz_run {
  int result;
  size_t in_used, out_len;
};

static uint32_t fz_next(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static size_t fz_step(uint32_t *s) {
  uint32_t r = fz_next(s);
  return r % 3 == 0 ? 1 + r % 4 : 1 + (r >> 8) % 3000;
}

static struct fz_run fz_decode(const uint8_t *data, size_t size, bool gzip, int split, uint32_t seed,
                               uint8_t *out) {
  struct fz_run r = {MG_INFLATE_MORE, 0, 0};
  uint32_t rng = seed | 1;
  mg_inflate_init(&fz_z, gzip);
  for (;;) {
    size_t il = size - r.in_used, ol = CAP - r.out_len, used = 1234567, made = 1234567;
    if (split == SPLIT_ONE_IN && il > 1) il = 1;
    if (split == SPLIT_RANDOM) {
      size_t a = fz_step(&rng), b = fz_step(&rng);
      if (il > a) il = a;
      if (ol > b) ol = b;
    }
    out[r.out_len + ol] = CANARY;
    r.result = mg_inflate(&fz_z, data + r.in_used, il, &used, out + r.out_len, ol, &made);
    CHECK(used <= il && made <= ol);
    CHECK(out[r.out_len + ol] == CANARY);  // Nothing written past the room given
    r.in_used += used;
    r.out_len += made;
    if (r.result != MG_INFLATE_MORE) break;
    if (used == 0 && made == 0) {
      CHECK(r.in_used == size || r.out_len == CAP);  // Stalls only without input or room
      break;
    }
  }
  CHECK(r.result >= MG_INFLATE_ERROR && r.result <= MG_INFLATE_DONE);
  if (r.result != MG_INFLATE_MORE) {  // Final states stick and consume nothing
    size_t used = 1, made = 1;
    uint8_t tmp[4];
    CHECK(mg_inflate(&fz_z, data, size, &used, tmp, sizeof(tmp), &made) == r.result);
    CHECK(used == 0 && made == 0);
  }
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t seed = 2166136261u;
  for (size_t i = 0; i < size; i++) seed = (seed ^ data[i]) * 16777619u;
  for (int gzip = 0; gzip < 2; gzip++) {
    struct fz_run ref = fz_decode(data, size, gzip, SPLIT_ALL, 0, fz_ref), r;
    bool capped = ref.out_len == CAP;
    if (ref.result == MG_INFLATE_MORE && !capped) CHECK(ref.in_used == size);  // Truncated: all taken
    // One byte at a time with all the room: the very same outcome
    r = fz_decode(data, size, gzip, SPLIT_ONE_IN, 0, fz_out);
    CHECK(r.result == ref.result && r.out_len == ref.out_len);
    CHECK(memcmp(fz_out, fz_ref, r.out_len) == 0);
    if (ref.result == MG_INFLATE_DONE) CHECK(r.in_used == ref.in_used);
    // Random splits of both: same end; output lost only to an error or the cap
    r = fz_decode(data, size, gzip, SPLIT_RANDOM, seed, fz_out);
    CHECK(r.result == ref.result || (capped && r.result == MG_INFLATE_MORE));
    CHECK(r.out_len <= ref.out_len && memcmp(fz_out, fz_ref, r.out_len) == 0);
    if (ref.result != MG_INFLATE_ERROR && !capped) CHECK(r.out_len == ref.out_len);
    if (ref.result == MG_INFLATE_DONE) CHECK(r.in_used == ref.in_used);
  }
  return 0;
}
