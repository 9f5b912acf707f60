// The packer's command line: options, the pipeline (scan, check, read, store,
// emit), the output file written whole or not at all, and the summary.
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "packer.h"

static const char *pack_usage =
    "Usage: packer [options] DIR... > out.c\n"
    "       packer sign|verify|pubkey ...  (OTA images: packer sign -h)\n"
    "Packs every regular file under each DIR into a C source file holding a\n"
    "read-only filesystem: `const struct mg_packed_table P_table` and `struct mg_fs P_fs`.\n"
    "Table paths are '/' then the path below DIR, sorted; text-like files are gzip -9'd\n"
    "when that makes them smaller. The same input always gives the same output.\n"
    "  -o FILE   write FILE (complete, or not at all) instead of standard output\n"
    "  -p P      symbol prefix (default mg_packed)\n"
    "  -s PFX    strip the path prefix PFX from table paths (e.g. -s /static)\n"
    "  -x GLOB   exclude matching paths (repeatable); a GLOB without '/' matches\n"
    "            the last segment (-x '*.map'), one with '/' the whole table path\n"
    "  -n GLOB   never compress matching paths (repeatable)\n"
    "  -I GLOB   matching paths are content-hashed by the build (repeatable): the\n"
    "            server caches them for a year as immutable (e.g. -I '/assets/*')\n"
    "  -m        keep file modification times (default 0, for reproducible output)\n"
    "  -l BYTES  largest file accepted (default 16M; K, M, G suffixes)\n"
    "  -b        data as byte lists, not string literals (ten times slower to\n"
    "            compile; for compilers whose literals stop short of C99's 4095)\n"
    "  -M        for Mongoose programs: also emit mg_packed_files[], the table that\n"
    "            mg_fs_packed and mg_unpacked() read once the program says\n"
    "            `mg_mem_files = mg_packed_files;` (and, for older programs,\n"
    "            mg_unpack() and mg_unlist()); files are stored as they are, with a\n"
    "            NUL after their bytes, and table paths keep DIR as named, like\n"
    "            Mongoose's pack: `-M web_root` gives /web_root/index.html\n"
    "  -v        list every file;  -q  no summary\n";

static bool pack_parse_size(const char *s, unsigned long long *out) {
  char *end;
  errno = 0;
  if (!isdigit((unsigned char) s[0])) return false;
  unsigned long long v = strtoull(s, &end, 10), mul = 1;
  if (errno != 0) return false;
  if (*end == 'k' || *end == 'K') mul = 1ULL << 10, end++;
  else if (*end == 'm' || *end == 'M') mul = 1ULL << 20, end++;
  else if (*end == 'g' || *end == 'G') mul = 1ULL << 30, end++;
  if (*end != '\0' || v > ~0ULL / mul) return false;
  *out = v * mul;
  return true;
}

static bool pack_is_identifier(const char *s) {
  if (!isalpha((unsigned char) s[0]) && s[0] != '_') return false;
  for (; *s != '\0'; s++)
    if (!isalnum((unsigned char) *s) && *s != '_') return false;
  return true;
}

// "static/" and "/static" both mean "/static"; "/" means nothing to strip
static char *pack_strip_prefix(const char *arg) {
  char *s = (char *) malloc(strlen(arg) + 2);
  if (s == NULL) return NULL;
  snprintf(s, strlen(arg) + 2, "%s%s", arg[0] == '/' ? "" : "/", arg);
  for (size_t n = strlen(s); n > 0 && s[n - 1] == '/'; n--) s[n - 1] = '\0';
  return s;
}

// Writes the output to path.XXXXXX and renames it over path, so that a failure
// never leaves a partial file behind
bool pack_write_atomic(const char *path, pack_writer write, const void *ctx) {
  size_t n = strlen(path);
  char *tmp = (char *) malloc(n + 8);
  if (tmp == NULL) return false;
  snprintf(tmp, n + 8, "%s.XXXXXX", path);
  int fd = mkstemp(tmp);
  FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
  bool ok = out != NULL && write(out, ctx);
  int err = errno;
  if (out != NULL) {
    mode_t mask = umask(0);  // mkstemp made it 0600; give it the mode a plain create would
    umask(mask);
    if (ok && fchmod(fileno(out), 0666 & ~mask) != 0) ok = false, err = errno;
    if (ok && fflush(out) != 0) ok = false, err = errno;
    if (ok && fsync(fileno(out)) != 0) ok = false, err = errno;
    if (fclose(out) != 0 && ok) ok = false, err = errno;
  } else if (fd >= 0) {
    close(fd);
  }
  if (ok && rename(tmp, path) != 0) ok = false, err = errno;
  if (!ok) {
    fprintf(stderr, "packer: %s: %s\n", path, strerror(err));
    if (fd >= 0) unlink(tmp);
  }
  free(tmp);
  return ok;
}

struct pack_emit_args {
  const struct pack_opts *opts;
  const struct pack_list *list;
};

static bool pack_emit_to(FILE *out, const void *ctx) {
  const struct pack_emit_args *a = (const struct pack_emit_args *) ctx;
  return pack_emit(out, a->opts, a->list);
}

struct pack_cli {
  struct pack_opts opts;
  const char *out_path;  // NULL: standard output
  char *strip;           // Owns opts.strip
  bool quiet;
};

// Returns -1 to go on, else the exit code (0 after -h, 2 for bad usage)
static int pack_parse_args(int argc, char **argv, struct pack_cli *cli) {
  struct pack_opts *opts = &cli->opts;
  int opt;
  while ((opt = getopt(argc, argv, "o:p:s:x:n:I:ml:bMvqh")) != -1) {
    switch (opt) {
      case 'o': cli->out_path = optarg; break;
      case 'p': opts->prefix = optarg; break;
      case 's':
        free(cli->strip);
        if ((cli->strip = pack_strip_prefix(optarg)) == NULL) return 1;
        opts->strip = cli->strip;
        break;
      case 'x': opts->exclude[opts->exclude_count++] = optarg; break;
      case 'n': opts->never[opts->never_count++] = optarg; break;
      case 'I': opts->immutable[opts->immutable_count++] = optarg; break;
      case 'm': opts->keep_mtime = true; break;
      case 'l':
        if (!pack_parse_size(optarg, &opts->max_size)) {
          fprintf(stderr, "packer: -l %s: not a size in bytes\n", optarg);
          return 2;
        }
        break;
      case 'b': opts->byte_lists = true; break;
      case 'M': opts->mongoose = true; break;
      case 'v': opts->verbose = true; break;
      case 'q': cli->quiet = true; break;
      case 'h': fputs(pack_usage, stdout); return 0;
      default: fputs(pack_usage, stderr); return 2;
    }
  }
  if (optind >= argc) {
    fputs(pack_usage, stderr);
    return 2;
  }
  if (!pack_is_identifier(opts->prefix)) {
    fprintf(stderr, "packer: -p %s: not a C identifier\n", opts->prefix);
    return 2;
  }
  return -1;
}

// Scan every directory first, so that errors come before any output is written
static bool pack_run(const struct pack_cli *cli, int ndirs, char **dirs) {
  const struct pack_opts *opts = &cli->opts;
  struct pack_list list = {NULL, 0, 0};
  bool ok = true;
  for (int i = 0; ok && i < ndirs; i++) ok = pack_scan_dir(opts, dirs[i], &list);
  if (ok && list.count == 0) {
    fprintf(stderr, "packer: no files to pack in %s%s\n", dirs[0], ndirs > 1 ? " and the rest" : "");
    ok = false;
  }
  ok = ok && pack_sort_and_check(&list);
  size_t raw = 0, stored = 0, gzipped = 0;
  for (size_t i = 0; ok && i < list.count; i++) {
    struct pack_file *f = &list.files[i];
    ok = pack_read_file(opts, f) && pack_store(opts, f);
    if (!ok) break;
    raw += f->raw_size, stored += f->size, gzipped += f->is_gzip;
    if (opts->verbose)
      fprintf(stderr, "  %-40s %9zu -> %9zu %s %s\n", f->path, f->raw_size, f->size, f->is_gzip ? "gzip" : "    ",
              f->mime);
  }
  if (ok) {
    if (cli->out_path != NULL) {
      struct pack_emit_args args = {opts, &list};
      ok = pack_write_atomic(cli->out_path, pack_emit_to, &args);
    } else if (!pack_emit(stdout, opts, &list)) {
      fprintf(stderr, "packer: standard output: %s\n", strerror(errno));
      ok = false;
    }
  }
  if (ok && !cli->quiet) {
    fprintf(stderr, "packer: %zu files, %zu bytes raw, %zu bytes packed (%.1f%%), %zu gzipped\n", list.count, raw,
            stored, raw == 0 ? 100.0 : 100.0 * (double) stored / (double) raw, gzipped);
  }
  pack_list_free(&list);
  return ok;
}

int main(int argc, char **argv) {
  int ota_rc = pack_ota_main(argc, argv);
  if (ota_rc != -1) return ota_rc;
  struct pack_cli cli = {{"mg_packed", "", NULL, 0, NULL, 0, NULL, 0, 16ULL << 20, false, false, false, false}, NULL, NULL, false};
  // Room for every argument to be a glob
  cli.opts.exclude = (const char **) calloc((size_t) argc, sizeof(char *));
  cli.opts.never = (const char **) calloc((size_t) argc, sizeof(char *));
  cli.opts.immutable = (const char **) calloc((size_t) argc, sizeof(char *));
  bool oom = cli.opts.exclude == NULL || cli.opts.never == NULL || cli.opts.immutable == NULL;
  int rc = oom ? 1 : pack_parse_args(argc, argv, &cli);
  if (rc == -1) rc = pack_run(&cli, argc - optind, argv + optind) ? 0 : 1;
  free(cli.strip);
  free(cli.opts.exclude);
  free(cli.opts.never);
  free(cli.opts.immutable);
  return rc;
}
