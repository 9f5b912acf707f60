// `make bench`: mg_inflate against zlib's inflate, and mg_crc32 against zlib's
// crc32, on the same gzip -9 member of a real JS bundle, in one process.
// Usage: inflate_bench FILE. Both decoders take the input in 16 KiB pieces and
// write into 16 KiB pieces, as serving a gzip-stored file to an identity client does.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "meerkat.h"

enum { BENCH_PIECE = 16384 };

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static unsigned char *bench_read(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  unsigned char *buf = NULL;
  long n;
  if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) <= 0 || fseek(fp, 0, SEEK_SET) != 0 ||
      (buf = (unsigned char *) malloc((size_t) n)) == NULL || fread(buf, 1, (size_t) n, fp) != (size_t) n) {
    fprintf(stderr, "inflate_bench: %s: cannot read\n", path);
    exit(1);
  }
  fclose(fp);
  *len = (size_t) n;
  return buf;
}

static unsigned char *bench_gzip(const unsigned char *raw, size_t len, size_t *gz_len) {
  z_stream s;
  unsigned char *gz;
  memset(&s, 0, sizeof(s));
  if (deflateInit2(&s, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK) exit(1);
  gz = (unsigned char *) malloc(deflateBound(&s, len) + 32);
  if (gz == NULL) exit(1);
  s.next_in = (unsigned char *) raw, s.avail_in = (uInt) len;
  s.next_out = gz, s.avail_out = (uInt) (deflateBound(&s, len) + 32);
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) exit(1);
  *gz_len = s.total_out;
  deflateEnd(&s);
  return gz;
}

// One whole decode with ours; returns the bytes made, or 0 on failure
static size_t bench_ours(struct mg_inflate *z, const unsigned char *gz, size_t gz_len, unsigned char *out,
                         size_t cap) {
  size_t in_pos = 0, made = 0;
  int r = MG_INFLATE_MORE;
  mg_inflate_init(z, true);
  while (r == MG_INFLATE_MORE) {
    size_t in_n = gz_len - in_pos < BENCH_PIECE ? gz_len - in_pos : BENCH_PIECE, used = 0, got = 0;
    size_t out_n = cap - made < BENCH_PIECE ? cap - made : BENCH_PIECE;
    r = mg_inflate(z, gz + in_pos, in_n, &used, out + made, out_n, &got);
    in_pos += used, made += got;
    if (r == MG_INFLATE_MORE && used == 0 && got == 0) return 0;
  }
  return r == MG_INFLATE_DONE ? made : 0;
}

static size_t bench_zlib(const unsigned char *gz, size_t gz_len, unsigned char *out, size_t cap) {
  z_stream s;
  int r = Z_OK;
  memset(&s, 0, sizeof(s));
  if (inflateInit2(&s, 31) != Z_OK) return 0;
  s.next_in = (unsigned char *) gz;
  s.next_out = out;
  while (r == Z_OK) {
    size_t in_left = gz_len - (size_t) ((const unsigned char *) s.next_in - gz);
    s.avail_in = (uInt) (in_left < BENCH_PIECE ? in_left : BENCH_PIECE);
    s.avail_out = (uInt) (cap - s.total_out < BENCH_PIECE ? cap - s.total_out : BENCH_PIECE);
    r = inflate(&s, Z_NO_FLUSH);
  }
  inflateEnd(&s);
  return r == Z_STREAM_END ? s.total_out : 0;
}

int main(int argc, char **argv) {
  size_t raw_len, gz_len, n;
  unsigned char *raw, *gz, *out;
  static struct mg_inflate z;
  double t, ours = 0, zl = 0, c_ours, c_zlib;
  unsigned long rounds = 0;
  uint32_t crc = 0;
  uLong zcrc = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: inflate_bench FILE\n");
    return 2;
  }
  raw = bench_read(argv[1], &raw_len);
  gz = bench_gzip(raw, raw_len, &gz_len);
  out = (unsigned char *) malloc(raw_len + 1);
  if (out == NULL) return 1;
  // Both must decode the file exactly before either is timed
  if (bench_ours(&z, gz, gz_len, out, raw_len + 1) != raw_len || memcmp(out, raw, raw_len) != 0) {
    fprintf(stderr, "inflate_bench: mg_inflate decoded %s wrongly\n", argv[1]);
    return 1;
  }
  if (bench_zlib(gz, gz_len, out, raw_len + 1) != raw_len || memcmp(out, raw, raw_len) != 0) return 1;
  // Alternate the two for about two seconds each, so that both see the same machine load
  for (; ours < 2 || zl < 2; rounds++) {
    t = bench_now();
    n = bench_ours(&z, gz, gz_len, out, raw_len);
    ours += bench_now() - t;
    t = bench_now();
    n += bench_zlib(gz, gz_len, out, raw_len);
    zl += bench_now() - t;
    if (n != 2 * raw_len) return 1;
  }
  t = bench_now();
  for (unsigned long i = 0; i < rounds; i++) crc = mg_crc32(crc, (const char *) raw, raw_len);
  c_ours = bench_now() - t;
  t = bench_now();
  for (unsigned long i = 0; i < rounds; i++) zcrc = crc32(zcrc, raw, (uInt) raw_len);
  c_zlib = bench_now() - t;
  if (crc != (uint32_t) zcrc) {
    fprintf(stderr, "inflate_bench: mg_crc32 differs from zlib's crc32\n");
    return 1;
  }
  printf("inflate: %s, %zu bytes, gzip -9 %zu bytes\n", argv[1], raw_len, gz_len);
  printf("inflate: ours %.0f MB/s, zlib %.0f MB/s, ratio %.2f\n", (double) raw_len * (double) rounds / ours / 1e6,
         (double) raw_len * (double) rounds / zl / 1e6, zl / ours);
  printf("crc32: ours %.0f MB/s, zlib %.0f MB/s, ratio %.2f\n", (double) raw_len * (double) rounds / c_ours / 1e6,
         (double) raw_len * (double) rounds / c_zlib / 1e6, c_zlib / c_ours);
  free(raw);
  free(gz);
  free(out);
  return 0;
}
