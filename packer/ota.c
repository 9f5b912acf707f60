// The packer's OTA commands: sign a firmware binary into an image, verify an image,
// and write a public key as C. ECDSA P-256 with SHA-256 through mbedTLS's PSA API.
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <psa/crypto.h>
#include "meerkat.h"
#include "ota/ota_image.h"
#include "packer.h"

static const char *ota_usage =
    "Usage: packer sign --key KEY.pem --version X.Y.Z --board NAME IN OUT\n"
    "         IN (a firmware binary) -> OUT, an OTA image: header, IN, ECDSA P-256 signature\n"
    "         (build time: $SOURCE_DATE_EPOCH if set, else now)\n"
    "       packer verify --pub PUB.pem IMG\n"
    "         checks IMG's header, payload SHA-256 and signature; says what is wrong\n"
    "       packer pubkey --pub PUB.pem OUT.c\n"
    "         writes the public key as `const unsigned char mg_ota_pubkey[65]` (SEC1 point)\n"
    "Keys are PEM: `openssl ecparam -name prime256v1 -genkey -noout -out KEY.pem`, then\n"
    "`openssl ec -in KEY.pem -pubout -out PUB.pem`.\n";

struct ota_cli {
  const char *key, *pub, *version, *board;
  char **args;  // Positional arguments
  int nargs;
};

// Reads a whole file, NUL-terminated (PEM parsing wants the NUL), into *data
static bool ota_read_file(const char *path, uint8_t **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  long n = -1;
  if (f != NULL && fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "packer: %s: %s\n", path, strerror(errno));
    if (f != NULL) fclose(f);
    return false;
  }
  *data = (uint8_t *) malloc((size_t) n + 1);
  bool ok = *data != NULL && fread(*data, 1, (size_t) n, f) == (size_t) n;
  if (!ok) fprintf(stderr, "packer: %s: %s\n", path, *data == NULL ? "out of memory" : "read error");
  fclose(f);
  if (ok) (*data)[n] = '\0', *len = (size_t) n;
  return ok;
}

struct ota_parts {
  const uint8_t **data;
  const size_t *sizes;
  size_t count;
};

static bool ota_write_parts(FILE *out, const void *ctx) {
  const struct ota_parts *p = (const struct ota_parts *) ctx;
  for (size_t i = 0; i < p->count; i++) {
    if (fwrite(p->data[i], 1, p->sizes[i], out) != p->sizes[i]) return false;
  }
  return true;
}

// Writes the parts one after the other to path, whole or not at all
static bool ota_write_file(const char *path, const uint8_t **data, const size_t *sizes, size_t count) {
  struct ota_parts parts = {data, sizes, count};
  return pack_write_atomic(path, ota_write_parts, &parts);
}

// Loads a PEM key (private for signing, public for verifying) into PSA, refusing any
// key that is not on P-256
static bool ota_load_key(const char *path, bool is_private, psa_key_id_t *id) {
  uint8_t *pem = NULL;
  size_t len = 0;
  if (!ota_read_file(path, &pem, &len)) return false;
  mbedtls_pk_context pk;
  mbedtls_pk_init(&pk);
  int rc = is_private ? mbedtls_pk_parse_key(&pk, pem, len + 1, NULL, 0, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE)
                      : mbedtls_pk_parse_public_key(&pk, pem, len + 1);
  free(pem);
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_key_usage_t usage = is_private ? PSA_KEY_USAGE_SIGN_HASH : PSA_KEY_USAGE_VERIFY_HASH;
  bool ok = rc == 0 && mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY &&
            mbedtls_pk_get_psa_attributes(&pk, usage, &attr) == 0 && psa_get_key_bits(&attr) == 256 &&
            PSA_KEY_TYPE_ECC_GET_FAMILY(psa_get_key_type(&attr)) == PSA_ECC_FAMILY_SECP_R1;
  if (ok) {
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    ok = mbedtls_pk_import_into_psa(&pk, &attr, id) == 0;
  }
  if (!ok) {
    fprintf(stderr, "packer: %s: not a %s ECDSA P-256 (prime256v1) key in PEM%s\n", path,
            is_private ? "private" : "public", is_private ? " (an encrypted key is not supported)" : "");
  }
  mbedtls_pk_free(&pk);
  return ok;
}

static bool ota_board_ok(const char *board) {
  size_t n = strlen(board);
  if (n == 0 || n >= MG_OTA_BOARD_SIZE) return false;
  for (size_t i = 0; i < n; i++) {
    if (board[i] < 0x21 || board[i] > 0x7e) return false;
  }
  return true;
}

static uint64_t ota_build_time(void) {
  const char *epoch = getenv("SOURCE_DATE_EPOCH");
  if (epoch != NULL && epoch[0] != '\0') return strtoull(epoch, NULL, 10);
  return (uint64_t) time(NULL);
}

// Fills h from the command line and the payload; false after saying what is wrong
static bool ota_sign_header(const struct ota_cli *cli, const uint8_t *payload, size_t len, struct mg_ota_header *h) {
  memset(h, 0, sizeof(*h));
  h->format = MG_OTA_FORMAT_VERSION;
  if (!mg_ota_version_parse(cli->version, strlen(cli->version), &h->version)) {
    fprintf(stderr, "packer: --version %s: expected MAJOR.MINOR.PATCH, each 0 to 65535 (e.g. 1.2.3)\n", cli->version);
    return false;
  }
  if (!ota_board_ok(cli->board)) {
    fprintf(stderr, "packer: --board %s: expected 1 to 31 printable characters, no spaces\n", cli->board);
    return false;
  }
  if (len == 0 || len > MG_OTA_MAX_PAYLOAD) {
    fprintf(stderr, "packer: %s: %zu bytes; a payload is 1 byte to 4 GiB less 192\n", cli->args[0], len);
    return false;
  }
  snprintf(h->board, sizeof(h->board), "%s", cli->board);
  h->payload_size = (uint32_t) len;
  h->build_time = ota_build_time();
  mg_sha256(h->sha256, payload, len);
  return true;
}

static bool ota_sign(const struct ota_cli *cli) {
  uint8_t *payload = NULL;
  size_t len = 0;
  psa_key_id_t key = 0;
  struct mg_ota_header h;
  bool ok = ota_read_file(cli->args[0], &payload, &len) && ota_sign_header(cli, payload, len, &h) &&
            ota_load_key(cli->key, true, &key);
  uint8_t header[MG_OTA_HEADER_SIZE], digest[32], sig[MG_OTA_SIG_SIZE];
  size_t sig_len = 0;
  if (ok) ok = mg_ota_header_write(&h, header);
  if (ok) {
    mg_ota_signed_digest(header, digest);  // The header holds the payload's SHA-256
    psa_status_t st = psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, sig, sizeof(sig), &sig_len);
    if (st != PSA_SUCCESS || sig_len != MG_OTA_SIG_SIZE) {
      fprintf(stderr, "packer: signing with %s failed (PSA status %d)\n", cli->key, (int) st);
      ok = false;
    }
  }
  if (ok) {
    const uint8_t *parts[] = {header, payload, sig};
    size_t sizes[] = {sizeof(header), len, sizeof(sig)};
    ok = ota_write_file(cli->args[1], parts, sizes, 3);
  }
  if (ok)
    fprintf(stderr, "packer: %s: version %s, board %s, %zu bytes payload, signed with %s\n", cli->args[1],
            cli->version, cli->board, len, cli->key);
  if (key != 0) psa_destroy_key(key);
  free(payload);
  return ok;
}

// Checks an image in memory; NULL if it verifies, else why not
static const char *ota_check_image(const uint8_t *img, size_t len, psa_key_id_t key, struct mg_ota_header *h,
                                   char *why, size_t why_len) {
  if (!mg_ota_header_parse(img, len, h, why, why_len)) return why;
  size_t want = mg_ota_image_size(h);
  if (len != want) {
    snprintf(why, why_len, len < want ? "image is truncated: %zu of the %zu bytes its header announces"
                                      : "image is %zu bytes, longer than the %zu its header announces",
             len, want);
    return why;
  }
  uint8_t digest[32];
  mg_sha256(digest, img + MG_OTA_HEADER_SIZE, h->payload_size);
  if (memcmp(digest, h->sha256, 32) != 0)
    return "payload SHA-256 does not match the header: the payload was altered or damaged";
  mg_ota_signed_digest(img, digest);
  if (psa_verify_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, 32, img + want - MG_OTA_SIG_SIZE,
                      MG_OTA_SIG_SIZE) != PSA_SUCCESS)
    return "signature does not verify with this public key: signed by another key, or the header was altered";
  return NULL;
}

static bool ota_verify(const struct ota_cli *cli) {
  uint8_t *img = NULL;
  size_t len = 0;
  psa_key_id_t key = 0;
  bool ok = ota_load_key(cli->pub, false, &key) && ota_read_file(cli->args[0], &img, &len);
  if (ok) {
    struct mg_ota_header h;
    char why[160];
    const char *bad = ota_check_image(img, len, key, &h, why, sizeof(why));
    if (bad != NULL) {
      fprintf(stderr, "packer: %s: %s\n", cli->args[0], bad);
      ok = false;
    } else {
      printf("%s: ok: version %u.%u.%u, board %s, %u bytes payload, built %llu\n", cli->args[0], h.version.major,
             h.version.minor, h.version.patch, h.board, (unsigned) h.payload_size, (unsigned long long) h.build_time);
    }
  }
  if (key != 0) psa_destroy_key(key);
  free(img);
  return ok;
}

// The key as C source, for a firmware to compile in
static bool ota_pubkey(const struct ota_cli *cli) {
  psa_key_id_t key = 0;
  uint8_t point[65];
  size_t n = 0;
  bool ok = ota_load_key(cli->pub, false, &key) &&
            psa_export_public_key(key, point, sizeof(point), &n) == PSA_SUCCESS && n == sizeof(point);
  if (key != 0) psa_destroy_key(key);
  if (!ok) return false;
  char text[600];
  size_t used = (size_t) snprintf(text, sizeof(text),
                                  "// OTA signing public key (ECDSA P-256, SEC1 uncompressed point), from %s\n"
                                  "const unsigned char mg_ota_pubkey[65] = {",
                                  cli->pub);
  for (size_t i = 0; i < n && used < sizeof(text); i++)
    used += (size_t) snprintf(text + used, sizeof(text) - used, "%s0x%02x,", i % 12 == 0 ? "\n  " : " ", point[i]);
  if (used < sizeof(text)) used += (size_t) snprintf(text + used, sizeof(text) - used, "\n};\n");
  if (used >= sizeof(text)) return false;
  const uint8_t *parts[] = {(const uint8_t *) text};
  return ota_write_file(cli->args[0], parts, &used, 1);
}

// Returns -1 to go on, else the exit code
static int ota_parse_args(int argc, char **argv, struct ota_cli *cli, const char *need, int nargs) {
  static const struct option longs[] = {{"key", required_argument, NULL, 'k'},
                                         {"pub", required_argument, NULL, 'p'},
                                         {"version", required_argument, NULL, 'V'},
                                         {"board", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    if (opt == 'k') cli->key = optarg;
    else if (opt == 'p') cli->pub = optarg;
    else if (opt == 'V') cli->version = optarg;
    else if (opt == 'b') cli->board = optarg;
    else {
      fputs(ota_usage, opt == 'h' ? stdout : stderr);
      return opt == 'h' ? 0 : 2;
    }
  }
  const char *given[] = {cli->key, cli->pub, cli->version, cli->board};
  const char *names[] = {"--key", "--pub", "--version", "--board"};
  for (int i = 0; i < 4; i++) {
    if (strchr(need, "kpVb"[i]) != NULL && given[i] == NULL) {
      fprintf(stderr, "packer %s: %s is required\n", argv[0], names[i]);
      return 2;
    }
  }
  if (argc - optind != nargs) {
    fprintf(stderr, "packer %s: expected %d file argument%s\n%s", argv[0], nargs, nargs == 1 ? "" : "s", ota_usage);
    return 2;
  }
  cli->args = argv + optind;
  cli->nargs = nargs;
  return -1;
}

struct ota_command {
  const char *name;
  const char *needs;  // Required options: k(ey), p(ub), V(ersion), b(oard)
  int nargs;
  bool (*run)(const struct ota_cli *);
};

static const struct ota_command ota_commands[] = {
    {"sign", "kVb", 2, ota_sign},
    {"verify", "p", 1, ota_verify},
    {"pubkey", "p", 1, ota_pubkey},
};

int pack_ota_main(int argc, char **argv) {
  const struct ota_command *cmd = NULL;
  for (size_t i = 0; argc > 1 && i < sizeof(ota_commands) / sizeof(ota_commands[0]); i++) {
    if (strcmp(argv[1], ota_commands[i].name) == 0) cmd = &ota_commands[i];
  }
  if (cmd == NULL) return -1;
  struct ota_cli cli = {NULL, NULL, NULL, NULL, NULL, 0};
  int rc = ota_parse_args(argc - 1, argv + 1, &cli, cmd->needs, cmd->nargs);
  if (rc != -1) return rc;
  if (psa_crypto_init() != PSA_SUCCESS) {
    fprintf(stderr, "packer: the crypto library did not start (no random source?)\n");
    return 1;
  }
  rc = cmd->run(&cli) ? 0 : 1;
  mbedtls_psa_crypto_free();
  return rc;
}
