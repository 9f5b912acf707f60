// The packer: a host tool that turns directories into a C source file holding a
// read-only packed filesystem (struct mg_packed_table and struct mg_fs, see mg_fs.h).
#ifndef PACKER_H
#define PACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pack_opts {
  const char *prefix;          // C identifier prefix of the output symbols
  const char *strip;           // Path prefix removed from table paths ("" for none)
  const char **exclude;        // Globs of table paths to leave out
  size_t exclude_count;
  const char **never;          // Globs of table paths to store uncompressed
  size_t never_count;
  const char **immutable;      // Globs of table paths the build content-hashed (-I)
  size_t immutable_count;
  unsigned long long max_size;  // Largest file accepted, in bytes
  bool keep_mtime;
  bool verbose;
  bool byte_lists;              // Data as {1,2,3} instead of string literals
  bool mongoose;                // -M: also mg_packed_files[], mg_unpack(), mg_unlist(); stored as is; paths keep DIR
};

struct pack_file {
  char *path;            // Table path: '/' then the path below DIR, less opts->strip
  char *source;          // Where it was found, for messages
  long long mtime;       // 0 unless opts->keep_mtime
  unsigned char *data;   // Stored bytes: the file, or its gzip
  size_t size;           // Stored bytes
  size_t raw_size;       // Bytes of the file
  bool is_gzip;
  bool is_immutable;     // Matches a -I glob
  char mime[128];
  char etag[24];         // Quoted: '"', 16 hex digits of the SHA-1 of the file, '"'
};

struct pack_list {
  struct pack_file *files;
  size_t count, cap;
};

// scan.c: walk the directories, map paths, read files. False after printing an error.
bool pack_scan_dir(const struct pack_opts *opts, const char *dir, struct pack_list *list);
bool pack_sort_and_check(struct pack_list *list);
bool pack_read_file(const struct pack_opts *opts, struct pack_file *f);
bool pack_glob_any(const char **globs, size_t count, const char *path);
void pack_list_free(struct pack_list *list);

// store.c: type, ETag and the stored form (gzip when it pays off) of a read file
bool pack_store(const struct pack_opts *opts, struct pack_file *f);

// emit.c: write the C source. False on a write error (errno set).
bool pack_emit(FILE *out, const struct pack_opts *opts, const struct pack_list *list);

// main.c: write path whole or not at all (temp file, fsync, rename); false after saying why
typedef bool (*pack_writer)(FILE *out, const void *ctx);
bool pack_write_atomic(const char *path, pack_writer write, const void *ctx);

// ota.c: `packer sign|verify|pubkey ...`; -1 if argv[1] names none of them, else the exit code
int pack_ota_main(int argc, char **argv);

#endif  // PACKER_H
