// Base64: RFC 4648 test vectors, strict decoding, output buffer limits.
#include <criterion/criterion.h>
#include "meerkat.h"

// RFC 4648 section 10
static const struct {
  const char *plain, *encoded;
} vectors[] = {
    {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

Test(base64, encodes_rfc4648_vectors) {
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char buf[16];
    memset(buf, 'X', sizeof(buf));
    size_t n = mg_base64_encode((const unsigned char *) vectors[i].plain, strlen(vectors[i].plain),
                                buf, sizeof(buf));
    cr_assert_eq(n, strlen(vectors[i].encoded), "vector %zu", i);
    cr_assert_str_eq(buf, vectors[i].encoded);
  }
}

Test(base64, decodes_rfc4648_vectors) {
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    char buf[16];
    memset(buf, 'X', sizeof(buf));
    size_t n = mg_base64_decode(vectors[i].encoded, strlen(vectors[i].encoded), buf, sizeof(buf));
    cr_assert_eq(n, strlen(vectors[i].plain), "vector %zu", i);
    cr_assert_str_eq(buf, vectors[i].plain);
  }
}

Test(base64, encodes_every_byte_value_and_decodes_it_back) {
  unsigned char bytes[256];
  char enc[400], dec[300];
  for (int i = 0; i < 256; i++) bytes[i] = (unsigned char) (255 - i);
  size_t n = mg_base64_encode(bytes, sizeof(bytes), enc, sizeof(enc));
  cr_assert_eq(n, 344);
  cr_assert_eq(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), 344);
  cr_assert_eq(mg_base64_decode(enc, n, dec, sizeof(dec)), 256);
  cr_assert_eq(memcmp(dec, bytes, 256), 0);
}

Test(base64, uses_plus_and_slash_for_62_and_63) {
  unsigned char in[] = {0xfb, 0xff, 0xbf};
  char buf[8];
  cr_assert_eq(mg_base64_encode(in, 3, buf, sizeof(buf)), 4);
  cr_assert_str_eq(buf, "+/+/");
}

Test(base64, decoder_rejects_malformed_input) {
  static const char *bad[] = {
      "Zg",        // Missing padding
      "Zg=",       // Short padding
      "Zm9",       // Length not a multiple of 4
      "Z===",      // Three pad characters
      "====",      // Only padding
      "Zg==Zm8=",  // Padding in the middle
      "Zm=v",      // '=' followed by data
      "Zm9v Yg==", // Blank
      "Zm9\nv",    // Line break
      "Zm9-",      // base64url alphabet is not accepted
      "Zm9_",
      "Zh==",      // Non-zero pad bits (not canonical)
      "Zm9=",      // Non-zero pad bits with one '='
      "Zm9v\x80Yg=",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char buf[32] = "untouched";
    cr_assert_eq(mg_base64_decode(bad[i], strlen(bad[i]), buf, sizeof(buf)), 0, "input %zu", i);
    cr_assert_str_eq(buf, "", "input %zu leaves dst empty", i);
  }
}

Test(base64, decoder_rejects_embedded_nul) {
  char buf[8];
  cr_assert_eq(mg_base64_decode("Zm\0v", 4, buf, sizeof(buf)), 0);
}

Test(base64, encode_returns_0_when_dst_is_too_small) {
  char buf[8];
  const unsigned char *in = (const unsigned char *) "foobar";  // 8 characters
  memset(buf, 'X', sizeof(buf));
  cr_assert_eq(mg_base64_encode(in, 6, buf, 7), 0);
  cr_assert_eq(buf[0], '\0');
  cr_assert_eq(buf[7], 'X', "nothing written past dstlen");
  // The encoded text needs its NUL too (Mongoose 7.22)
  char exact[10];
  memset(exact, 'X', sizeof(exact));
  cr_assert_eq(mg_base64_encode(in, 6, exact, 8), 0);
  cr_assert_eq(mg_base64_encode(in, 6, exact, 9), 8);
  cr_assert_str_eq(exact, "Zm9vYmFy");
  cr_assert_eq(exact[9], 'X');
  cr_assert_eq(mg_base64_encode(in, 6, NULL, 0), 0);
  cr_assert_eq(mg_base64_encode(in, 6, buf, 0), 0);
}

Test(base64, decode_returns_0_when_dst_is_too_small) {
  char buf[8];
  memset(buf, 'X', sizeof(buf));
  cr_assert_eq(mg_base64_decode("Zm9vYmFy", 8, buf, 5), 0);
  cr_assert_eq(buf[0], '\0');
  cr_assert_eq(buf[5], 'X', "nothing written past dstlen");
  char exact[8];
  memset(exact, 'X', sizeof(exact));
  cr_assert_eq(mg_base64_decode("Zm9vYmFy", 8, exact, 6), 0, "no room for the NUL");
  cr_assert_eq(mg_base64_decode("Zm9vYmFy", 8, exact, 7), 6);
  cr_assert_str_eq(exact, "foobar");
  cr_assert_eq(exact[7], 'X');
  cr_assert_eq(mg_base64_decode("Zm9vYmFy", 8, NULL, 0), 0);
  // Padding is not output: "Zg==" needs 1 byte and its NUL, not 3
  char two[2];
  cr_assert_eq(mg_base64_decode("Zg==", 4, two, 2), 1);
  cr_assert_str_eq(two, "f");
}

Test(base64, null_source_is_only_valid_when_empty) {
  char buf[4] = "abc";
  cr_assert_eq(mg_base64_encode(NULL, 0, buf, sizeof(buf)), 0);
  cr_assert_str_eq(buf, "");
  cr_assert_eq(mg_base64_encode(NULL, 3, buf, sizeof(buf)), 0);
  cr_assert_eq(mg_base64_decode(NULL, 4, buf, sizeof(buf)), 0);
}

Test(base64, encode_rejects_lengths_whose_output_would_overflow) {
  char buf[4];
  unsigned char one = 0;
  // Only the length is looked at before the size check fails
  cr_assert_eq(mg_base64_encode(&one, SIZE_MAX, buf, sizeof(buf)), 0);
  cr_assert_eq(mg_base64_encode(&one, SIZE_MAX / 4 * 3, buf, sizeof(buf)), 0);
}

// RFC 4648 section 10 vectors in the URL-safe alphabet, unpadded (section 5, RFC 7515 2)
Test(base64, url_safe_round_trips_the_rfc_vectors_without_padding) {
  static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
    char enc[16], dec[16];
    size_t n = mg_base64url_encode((const unsigned char *) plain[i], strlen(plain[i]), enc, sizeof(enc));
    cr_assert_eq(n, strlen(coded[i]), "%s", plain[i]);
    cr_assert_str_eq(enc, coded[i]);
    cr_assert_eq(mg_base64url_decode(coded[i], strlen(coded[i]), dec, sizeof(dec)), strlen(plain[i]));
    cr_assert_str_eq(dec, plain[i]);
  }
}

Test(base64, url_safe_uses_dash_and_underscore_and_rejects_the_others) {
  const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
  char enc[8], dec[8];
  cr_assert_eq(mg_base64url_encode(bytes, 3, enc, sizeof(enc)), 4);
  cr_assert_str_eq(enc, "-_-_");
  cr_assert_eq(mg_base64_encode(bytes, 3, enc, sizeof(enc)), 4);
  cr_assert_str_eq(enc, "+/+/");
  cr_assert_eq(mg_base64url_decode("-_-_", 4, dec, sizeof(dec)), 3);
  cr_assert_eq(memcmp(dec, bytes, 3), 0);
  cr_assert_eq(mg_base64url_decode("+/+/", 4, dec, sizeof(dec)), 0, "standard alphabet in a URL-safe decode");
  cr_assert_eq(mg_base64url_decode("Zg==", 4, dec, sizeof(dec)), 0, "padding is not URL-safe base64");
  cr_assert_eq(mg_base64url_decode("Zm9vY", 5, dec, sizeof(dec)), 0, "one character is not a byte");
  cr_assert_eq(mg_base64url_decode("Zh", 2, dec, sizeof(dec)), 0, "non-zero bits past the last byte");
}
