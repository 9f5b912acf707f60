// SHA-256 (FIPS 180-4 examples) on the portable and the SHA-NI path, HMAC-SHA256
// (RFC 4231), PBKDF2-HMAC-SHA256 (RFC 7914 section 11) and the constant-time
// comparison. Every vector was also checked with openssl 3.0 on the machine that
// wrote this file.
#include <criterion/criterion.h>
#include <stdio.h>
#include "meerkat.h"
#include "mg_internal.h"  // mg_sha256_force_portable, mg_sha256_accelerated

static void hex(const unsigned char *p, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
}

static void check_sha(const void *data, size_t len, const char *want) {
  unsigned char d[32];
  char h[65];
  mg_sha256(d, data, len);
  hex(d, 32, h);
  cr_assert_str_eq(h, want);
}

static const char *abc448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char *abc448_sha = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

static void fips_180_4_examples(void) {
  check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check_sha(abc448, strlen(abc448), abc448_sha);
  const char *abc896 =
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  check_sha(abc896, strlen(abc896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void a_million_a_in_odd_sized_pieces(void) {
  static unsigned char a[1000];
  memset(a, 'a', sizeof(a));
  mg_sha256_ctx ctx;
  unsigned char d[32];
  char h[65];
  size_t done = 0, piece = 1;
  mg_sha256_init(&ctx);
  while (done < 1000000) {
    size_t n = 1000000 - done < piece ? 1000000 - done : piece;
    mg_sha256_update(&ctx, a, n);
    done += n;
    piece = (piece * 7 + 3) % 1000 + 1;  // 1, 11, 81, 571, 1000, 4, ...: odd and even sizes
  }
  mg_sha256_final(d, &ctx);
  hex(d, 32, h);
  cr_assert_str_eq(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The vectors on the path the CPU gets (SHA-NI where it has the extensions), then portable
static void on_both_paths(void (*check)(void)) {
  check();
  mg_sha256_force_portable(true);
  check();
  mg_sha256_force_portable(false);
}

Test(sha256, fips_180_4_examples_on_both_paths) {
  on_both_paths(fips_180_4_examples);
}

Test(sha256, a_million_a_in_odd_sized_pieces_on_both_paths) {
  on_both_paths(a_million_a_in_odd_sized_pieces);
}

// Whether Linux lists flag among the first CPU's flags in /proc/cpuinfo
static bool cpuinfo_flag(const char *flag) {
  FILE *fp = fopen("/proc/cpuinfo", "r");
  char line[8192], word[64];
  bool found = false;
  while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
    if (strncmp(line, "flags", 5) != 0) continue;
    for (char *p = strchr(line, ':'); p != NULL && !found; p = strchr(p + 1, ' ')) {
      found = sscanf(p + 1, "%63s", word) == 1 && strcmp(word, flag) == 0;
    }
    break;
  }
  if (fp != NULL) fclose(fp);
  return found;
}

Test(sha256, sha_ni_is_chosen_where_the_cpu_has_it) {
#if defined(__x86_64__)
  bool has = cpuinfo_flag("sha_ni") && cpuinfo_flag("sse4_1") && cpuinfo_flag("ssse3");
  cr_assert_eq(mg_sha256_accelerated(), has, "/proc/cpuinfo says sha_ni, sse4_1, ssse3: %s", has ? "yes" : "no");
  mg_sha256_force_portable(true);
  cr_assert_not(mg_sha256_accelerated(), "forced to the portable path");
  mg_sha256_force_portable(false);
  cr_assert_eq(mg_sha256_accelerated(), has, "the choice comes back");
#else
  cr_assert_not(mg_sha256_accelerated());
#endif
}

// Deterministic bytes and sizes (xorshift32): the same run on every machine
static uint32_t next_random(uint32_t *s) {
  *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
  return *s;
}

static void portable_digest(unsigned char d[32], const unsigned char *p, size_t len) {
  mg_sha256_force_portable(true);
  mg_sha256(d, p, len);
  mg_sha256_force_portable(false);
}

Test(sha256, both_paths_agree_for_every_length_up_to_1024) {
  static unsigned char msg[1024 + 1];
  uint32_t seed = 0x2545f491;
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (unsigned char) next_random(&seed);
  for (size_t len = 0; len <= 1024; len++) {
    unsigned char want[32], got[32];
    portable_digest(want, msg + 1, len);  // msg + 1: blocks that are not 16-byte aligned
    mg_sha256(got, msg + 1, len);
    cr_assert_eq(memcmp(got, want, 32), 0, "length %zu", len);
  }
}

Test(sha256, both_paths_agree_under_random_splits) {
  static unsigned char msg[8192];
  uint32_t seed = 0x9e3779b9;
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (unsigned char) next_random(&seed);
  for (int run = 0; run < 500; run++) {
    size_t len = next_random(&seed) % (sizeof(msg) + 1), done = 0, pieces = 0;
    unsigned char want[32], got[32];
    portable_digest(want, msg, len);
    mg_sha256_ctx ctx;
    mg_sha256_init(&ctx);
    while (done < len) {
      // Pieces of 0 to 300 bytes, now and then several blocks at once
      size_t n = next_random(&seed) % 8 == 0 ? next_random(&seed) % 1024 : next_random(&seed) % 301;
      if (n > len - done) n = len - done;
      mg_sha256_update(&ctx, msg + done, n);
      done += n, pieces++;
    }
    mg_sha256_final(got, &ctx);
    cr_assert_eq(memcmp(got, want, 32), 0, "run %d: %zu bytes in %zu pieces", run, len, pieces);
  }
}

Test(sha256, every_split_of_the_input_gives_the_same_digest) {
  // 130 bytes: the splits cross both block boundaries and the padding's edge
  unsigned char msg[130], whole[32], d[32];
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (unsigned char) (i * 7 + 3);
  for (size_t len = 0; len <= sizeof(msg); len++) {
    mg_sha256(whole, msg, len);
    for (size_t a = 0; a <= len; a++) {
      for (size_t b = a; b <= len; b += (len - a) / 5 + 1) {
        mg_sha256_ctx ctx;
        mg_sha256_init(&ctx);
        mg_sha256_update(&ctx, msg, a);
        mg_sha256_update(&ctx, msg + a, b - a);
        mg_sha256_update(&ctx, msg + b, len - b);
        mg_sha256_final(d, &ctx);
        cr_assert_eq(memcmp(d, whole, 32), 0, "len %zu split at %zu and %zu", len, a, b);
      }
    }
  }
  // Byte by byte too, and the 448-bit example whose padding needs a second block
  mg_sha256_ctx ctx;
  char h[65];
  mg_sha256_init(&ctx);
  for (size_t i = 0; i < strlen(abc448); i++) mg_sha256_update(&ctx, (const unsigned char *) abc448 + i, 1);
  mg_sha256_final(d, &ctx);
  hex(d, 32, h);
  cr_assert_str_eq(h, abc448_sha);
}

Test(sha256, lengths_around_the_padding_edge_match_openssl) {
  // SHA-256 of N bytes of 'x' (openssl dgst -sha256): where the length field does
  // and does not fit beside the last bytes
  static const struct {
    size_t len;
    const char *sha;
  } v[] = {
      {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
      {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
      {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
      {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
      {65, "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9"},
      {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
      {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"},
  };
  unsigned char buf[120];
  memset(buf, 'x', sizeof(buf));
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) check_sha(buf, v[i].len, v[i].sha);
}

struct hmac_case {
  const char *key_hex, *data, *data_hex, *mac;
  size_t key_repeat, data_repeat;  // key_hex / data_hex is one byte repeated this often
};

static size_t unhex(const char *h, size_t repeat, unsigned char *out) {
  size_t n = strlen(h) / 2, o = 0;
  for (size_t r = 0; r < (repeat ? repeat : 1); r++) {
    for (size_t i = 0; i < n; i++) {
      unsigned int v;
      sscanf(h + 2 * i, "%2x", &v);
      out[o++] = (unsigned char) v;
    }
  }
  return o;
}

Test(sha256, hmac_rfc_4231_cases_1_to_7) {
  static const struct hmac_case c[] = {
      {"0b", "Hi There", NULL, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 20, 0},
      {"4a656665", "what do ya want for nothing?", NULL,
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 0, 0},
      {"aa", NULL, "dd", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 20, 50},
      {"0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, "cd",
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 0, 50},
      {"0c", "Test With Truncation", NULL, "a3b6167473100ee06e0c796c2955552b", 20, 0},  // 128 bits
      {"aa", "Test Using Larger Than Block-Size Key - Hash Key First", NULL,
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", 131, 0},
      {"aa",
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       NULL, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2", 131, 0},
  };
  for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
    unsigned char key[200], data[200], mac[32];
    char h[65];
    size_t klen = unhex(c[i].key_hex, c[i].key_repeat, key);
    size_t dlen = c[i].data != NULL ? strlen(c[i].data) : unhex(c[i].data_hex, c[i].data_repeat, data);
    if (c[i].data != NULL) memcpy(data, c[i].data, dlen);
    mg_hmac_sha256(mac, key, klen, data, dlen);
    hex(mac, 32, h);
    cr_assert_eq(strncmp(h, c[i].mac, strlen(c[i].mac)), 0, "case %zu: %s", i + 1, h);
  }
}

static void check_pbkdf2(const char *pass, const char *salt, uint32_t iter, const char *want) {
  unsigned char out[64];
  char h[129];
  memset(out, 0x5a, sizeof(out));
  mg_pbkdf2_sha256(pass, strlen(pass), salt, strlen(salt), iter, out, strlen(want) / 2);
  hex(out, strlen(want) / 2, h);
  cr_assert_str_eq(h, want);
  if (strlen(want) / 2 < sizeof(out)) cr_assert_eq(out[strlen(want) / 2], 0x5a, "wrote past dklen");
}

Test(sha256, pbkdf2_rfc_7914_vectors) {
  check_pbkdf2("passwd", "salt", 1,
               "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
               "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  check_pbkdf2("Password", "NaCl", 80000,
               "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
               "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

Test(sha256, pbkdf2_partial_blocks_and_long_passwords) {
  // openssl kdf -keylen N -kdfopt digest:SHA256 -kdfopt pass:... -kdfopt salt:... -kdfopt iter:... PBKDF2
  check_pbkdf2("passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f9");  // 17 bytes: a prefix
  check_pbkdf2("x", "y", 1000, "e5c5c229e64360f5292aaf768633ce1de7c17abf8763d28ad8768a8c9a60a42c");
  // A 100-byte password (hashed first, as HMAC does with keys over 64 bytes), 40 bytes out
  char pass[101];
  memset(pass, 'p', 100);
  pass[100] = '\0';
  check_pbkdf2(pass, "salt", 2, "7fb39a0c2291de62231e50ab5f6805b83bab97446d73dccf38114fb21c05542759977ca37b50559f");
}

// The stepped PBKDF2 against the one-shot one: the same key whatever the step size,
// and never more iterations per step than asked (so calls = ceil(work / step))
static void check_pbkdf2_steps(const char *pass, const char *salt, uint32_t iter, size_t dklen) {
  static const uint32_t sizes[] = {1, 2, 3, 7, 64, 999, 1000, 1001, 79999, 80000, 80001, UINT32_MAX};
  unsigned char want[64], out[65];
  mg_pbkdf2_sha256(pass, strlen(pass), salt, strlen(salt), iter, want, dklen);
  uint64_t work = (uint64_t) (iter == 0 ? 1 : iter) * ((dklen + 31) / 32);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    struct mg_pbkdf2 p;
    char salt_copy[64];
    memset(out, 0x5a, sizeof(out));
    mg_snprintf(salt_copy, sizeof(salt_copy), "%s", salt);
    mg_pbkdf2_start(&p, pass, strlen(pass), salt_copy, strlen(salt_copy), iter, out, dklen);
    memset(salt_copy, 0, sizeof(salt_copy));  // The salt need not outlive start
    cr_assert_not(mg_pbkdf2_step(&p, 0), "no work, no key");
    uint64_t calls = 1;
    while (!mg_pbkdf2_step(&p, sizes[i])) calls++;
    cr_assert(mg_pbkdf2_step(&p, sizes[i]), "done stays done");
    cr_assert_eq(memcmp(out, want, dklen), 0, "iter %u dklen %zu step %u", iter, dklen, sizes[i]);
    cr_assert_eq(out[dklen], 0x5a, "wrote past dklen");
    uint64_t want_calls = (work + sizes[i] - 1) / sizes[i];
    cr_assert_eq(calls, want_calls, "step %u: %lu calls for %lu iterations", sizes[i], (unsigned long) calls,
                 (unsigned long) work);
    mg_pbkdf2_finish(&p);
    static const struct mg_pbkdf2 zero;
    cr_assert_eq(memcmp(&p, &zero, sizeof(p)), 0, "finish wipes the key states");
  }
}

Test(sha256, pbkdf2_in_steps_gives_the_same_key_whatever_the_step_size) {
  check_pbkdf2_steps("passwd", "salt", 1, 64);  // RFC 7914 (checked against its text above)
  check_pbkdf2_steps("Password", "NaCl", 80000, 64);
  check_pbkdf2_steps("passwd", "salt", 1, 17);
  check_pbkdf2_steps("x", "y", 1000, 32);
  check_pbkdf2_steps("x", "y", 0, 40);  // 0 counts as 1
  char pass[101];
  memset(pass, 'p', 100);
  pass[100] = '\0';
  check_pbkdf2_steps(pass, "salt", 2, 40);
}

Test(sha256, timingsafe_eq_compares_every_byte) {
  unsigned char a[64], b[64];
  for (size_t i = 0; i < sizeof(a); i++) a[i] = b[i] = (unsigned char) i;
  cr_assert(mg_timingsafe_eq(a, b, sizeof(a)));
  cr_assert(mg_timingsafe_eq(a, b, 0));
  for (size_t i = 0; i < sizeof(a); i++) {
    b[i] ^= 0x80;
    cr_assert(!mg_timingsafe_eq(a, b, sizeof(a)), "differs at %zu", i);
    b[i] ^= 0x80;
  }
}
