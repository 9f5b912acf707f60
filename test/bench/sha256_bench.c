// `make bench`: SHA-256 throughput on the portable path and with the CPU's SHA
// extensions (where it has them), and the time of PBKDF2-HMAC-SHA256 at 100,000
// iterations (the host's password hashing cost), beside openssl's PBKDF2 run as a
// process (its time includes starting openssl, a few milliseconds). CPU time, not
// wall time: the figures stay put on a machine others are loading.
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "meerkat.h"
#include "mg_internal.h"  // mg_sha256_force_portable, mg_sha256_accelerated

static double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

// CPU seconds used by the children waited for so far (openssl and its shell)
static double bench_children(void) {
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Megabytes per second hashing 64 MiB in 16 KiB pieces; best of three
static double bench_sha256(void) {
  static unsigned char buf[16384];
  unsigned char d[32];
  double best = 0;
  for (size_t i = 0; i < sizeof(buf); i++) buf[i] = (unsigned char) i;
  for (int run = 0; run < 3; run++) {
    mg_sha256_ctx ctx;
    double t0 = bench_now();
    mg_sha256_init(&ctx);
    for (int i = 0; i < 4096; i++) mg_sha256_update(&ctx, buf, sizeof(buf));
    mg_sha256_final(d, &ctx);
    double mbs = 64.0 * 1048576 / 1e6 / (bench_now() - t0);
    if (mbs > best) best = mbs;
  }
  return best;
}

// Milliseconds for PBKDF2 at 100,000 iterations, 32 bytes out; best of three
static double bench_pbkdf2(unsigned char out[32]) {
  double best = 1e9;
  for (int run = 0; run < 3; run++) {
    double t0 = bench_now();
    mg_pbkdf2_sha256("x", 1, "y", 1, 100000, out, 32);
    double ms = (bench_now() - t0) * 1000;
    if (ms < best) best = ms;
  }
  return best;
}

// The same derivation by openssl; its milliseconds (best of three), or -1 if it
// is missing or derives something else
static double bench_openssl(const unsigned char ours[32]) {
  const char *cmd =
      "openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:x -kdfopt salt:y -kdfopt iter:100000 PBKDF2 2>/dev/null";
  char line[256], want[97];
  double best = -1;
  for (int i = 0; i < 32; i++) sprintf(want + 3 * i, "%02X:", ours[i]);
  want[95] = '\0';
  for (int run = 0; run < 3; run++) {
    double t0 = bench_children();
    FILE *fp = popen(cmd, "r");
    if (fp == NULL) return -1;
    bool same = fgets(line, sizeof(line), fp) != NULL && strncmp(line, want, 95) == 0;
    if (pclose(fp) != 0 || !same) return -1;
    double ms = (bench_children() - t0) * 1000;
    if (best < 0 || ms < best) best = ms;
  }
  return best;
}

int main(void) {
  unsigned char dk[32];
  mg_sha256_force_portable(true);
  double portable = bench_sha256();
  mg_sha256_force_portable(false);
  if (mg_sha256_accelerated()) {
    double fast = bench_sha256();
    printf("sha256: portable %.0f MB/s, SHA-NI %.0f MB/s (%.1fx)", portable, fast, fast / portable);
  } else {
    printf("sha256: portable %.0f MB/s (no SHA extensions on this CPU)", portable);
  }
  double ms = bench_pbkdf2(dk), ossl = bench_openssl(dk);
  printf("; pbkdf2-sha256 100k iterations: ours %.1f ms", ms);
  if (ossl < 0) printf(", openssl n/a\n");
  else printf(", openssl %.1f ms (its process start included), ratio %.2fx (CPU time)\n", ossl, ms / ossl);
  return 0;
}
