// Writing the packed filesystem as C: one byte array per file, the sorted table,
// and a struct mg_fs whose functions reach the table through mg_packed_*.
#include <string.h>
#include "packer.h"

// A C string literal of s: octal escapes for anything not plain printable ASCII,
// and '?' escaped too so that no trigraph can form under -std=c99
static void pack_emit_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\' || *p == '?') fprintf(out, "\\%c", *p);
    else if (*p >= 0x20 && *p < 0x7f) fputc(*p, out);
    else fprintf(out, "\\%03o", *p);
  }
  fputc('"', out);
}

// C99 5.2.4.1 promises string literals of 4095 characters, no more: longer
// files are cut into rows of exactly that many, each its own literal
#define PACK_ROW 4095

// The bytes as string literal pieces of about 76 columns: compilers read these
// many times faster than brace lists (4 MB: under a second instead of ten)
static void pack_emit_string_bytes(FILE *out, const unsigned char *data, size_t len) {
  char line[80 + 8];
  size_t n = 0;
  line[n++] = '"';
  if (len == 0) {
    fputs("\"\"\n", out);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned v = data[i];
    if (v == '"' || v == '\\' || v == '?') {
      line[n++] = '\\';
      line[n++] = (char) v;
    } else if (v >= 0x20 && v < 0x7f) {
      line[n++] = (char) v;
    } else {  // Always three octal digits, so that a digit after it stays a digit
      line[n++] = '\\';
      line[n++] = (char) ('0' + (v >> 6));
      line[n++] = (char) ('0' + (v >> 3 & 7));
      line[n++] = (char) ('0' + (v & 7));
    }
    if (n >= 76 || i + 1 == len) {
      line[n++] = '"';
      line[n++] = '\n';
      fwrite(line, 1, n, out);
      n = 0;
      if (i + 1 < len) line[n++] = '"';
    }
  }
}

// A file of more than PACK_ROW bytes: a struct of full rows, each initialized
// by a literal of exactly PACK_ROW characters (its NUL dropped, C99 6.7.8p14),
// then the tail and its NUL. Members of char arrays have no padding between
// them in practice; the typedef fails to compile if a compiler adds any, since
// the table reads the bytes through one pointer to the whole object.
static void pack_emit_rows(FILE *out, const char *p, size_t i, const unsigned char *data, size_t len) {
  size_t rows = len / PACK_ROW, tail = len - rows * PACK_ROW;
  fprintf(out, "static const struct {\n  unsigned char rows[%zu][%d];\n  unsigned char tail[%zu];\n} %s_d%zu = {{\n",
          rows, PACK_ROW, tail + 1, p, i);
  for (size_t r = 0; r < rows; r++) {
    pack_emit_string_bytes(out, data + r * PACK_ROW, PACK_ROW);
    fputs(",\n", out);
  }
  fputs("}, ", out);
  pack_emit_string_bytes(out, data + rows * PACK_ROW, tail);
  fprintf(out, "};\ntypedef char %1$s_d%2$zu_unpadded[sizeof(%1$s_d%2$zu) == %3$zu ? 1 : -1];\n\n", p, i, len + 1);
}

// Decimal bytes, 24 to a line (-b), for compilers that limit string literals
static void pack_emit_list_bytes(FILE *out, const unsigned char *data, size_t len) {
  char line[24 * 4 + 2];
  for (size_t i = 0; i < len;) {
    size_t n = 0;
    for (size_t k = 0; k < 24 && i < len; k++, i++) {
      unsigned v = data[i];
      if (v >= 100) line[n++] = (char) ('0' + v / 100);
      if (v >= 10) line[n++] = (char) ('0' + v / 10 % 10);
      line[n++] = (char) ('0' + v % 10);
      line[n++] = ',';
    }
    line[n++] = '\n';
    fwrite(line, 1, n, out);
  }
}

// ", " then the expression for file i's stored bytes as a const unsigned char *
static void pack_emit_data_ref(FILE *out, const struct pack_opts *opts, const struct pack_list *list, size_t i) {
  const struct pack_file *f = &list->files[i];
  if (f->size == 0) fprintf(out, ", (const unsigned char *) \"\"");
  else if (f->size > PACK_ROW && !opts->byte_lists) fprintf(out, ", (const unsigned char *) &%s_d%zu", opts->prefix, i);
  else fprintf(out, ", %s_d%zu", opts->prefix, i);
}

// -M: Mongoose 7.22's table of struct mg_mem_file, which a program hands to
// mg_fs_packed with `mg_mem_files = mg_packed_files;`, and for older Mongoose
// programs mg_unpack() and mg_unlist() over the same files
static void pack_emit_mongoose(FILE *out, const struct pack_opts *opts, const struct pack_list *list) {
  fprintf(out, "\n// For Mongoose programs: mg_mem_files = mg_packed_files; then mg_fs_packed serves these\n"
               "const struct mg_mem_file mg_packed_files[] = {\n");
  for (size_t i = 0; i < list->count; i++) {
    const struct pack_file *f = &list->files[i];
    fprintf(out, "    {");
    pack_emit_string(out, f->path);
    pack_emit_data_ref(out, opts, list, i);
    fprintf(out, ", %zu, (time_t) %lld},\n", f->size, f->mtime);
  }
  fprintf(out,
          "    {NULL, NULL, 0, 0},\n"
          "};\n\n"
          "const char *mg_unpack(const char *path, size_t *size, time_t *mtime) {\n"
          "  const struct mg_packed_file *f = mg_packed_find(&%1$s_table, path);\n"
          "  if (f == NULL) return NULL;\n"
          "  if (size != NULL) *size = f->size;\n"
          "  if (mtime != NULL) *mtime = f->mtime;\n"
          "  return (const char *) f->data;\n"
          "}\n\n"
          "const char *mg_unlist(size_t no) {\n"
          "  return no < %1$s_table.count ? %1$s_table.files[no].path : NULL;\n"
          "}\n",
          opts->prefix);
}

bool pack_emit(FILE *out, const struct pack_opts *opts, const struct pack_list *list) {
  const char *p = opts->prefix;
  size_t raw = 0, stored = 0;
  for (size_t i = 0; i < list->count; i++) raw += list->files[i].raw_size, stored += list->files[i].size;
  fprintf(out,
          "// Packed filesystem made by the Meerkat packer: do not edit.\n"
          "// %zu files, %zu bytes, stored in %zu. Use it as `extern struct mg_fs %s_fs;`\n"
          "#include \"meerkat.h\"\n\n",
          list->count, raw, stored, p);
  bool rows = false;
  for (size_t i = 0; i < list->count; i++) rows = rows || (!opts->byte_lists && list->files[i].size > PACK_ROW);
  if (rows) {  // gcc 15 and clang 21 warn in -Wextra about the rows' dropped NULs, which are meant
    fprintf(out,
            "#ifdef __GNUC__\n"
            "#pragma GCC diagnostic ignored \"-Wpragmas\"\n"
            "#pragma GCC diagnostic ignored \"-Wunknown-warning-option\"\n"
            "#pragma GCC diagnostic ignored \"-Wunterminated-string-initialization\"\n"
            "#endif\n\n");
  }
  for (size_t i = 0; i < list->count; i++) {
    const struct pack_file *f = &list->files[i];
    if (f->size == 0) continue;
    fprintf(out, "// ");
    pack_emit_string(out, f->path);
    fprintf(out, "%s\n", f->is_gzip ? " (gzip)" : "");
    if (opts->byte_lists) {  // -M: a NUL after the bytes, which mg_unpack() promises
      fprintf(out, "static const unsigned char %s_d%zu[%zu] = {\n", p, i, f->size + (opts->mongoose ? 1 : 0));
      pack_emit_list_bytes(out, f->data, f->size);
      fprintf(out, "%s};\n\n", opts->mongoose ? "0\n" : "");
    } else if (f->size > PACK_ROW) {
      pack_emit_rows(out, p, i, f->data, f->size);
    } else {  // One more byte for the literal's NUL, which the table's size leaves out
      fprintf(out, "static const unsigned char %s_d%zu[%zu] =\n", p, i, f->size + 1);
      pack_emit_string_bytes(out, f->data, f->size);
      fprintf(out, ";\n\n");
    }
  }
  fprintf(out, "static const struct mg_packed_file %s_entries[] = {\n", p);
  for (size_t i = 0; i < list->count; i++) {
    const struct pack_file *f = &list->files[i];
    fprintf(out, "    {");
    pack_emit_string(out, f->path);
    pack_emit_data_ref(out, opts, list, i);
    fprintf(out, ", %zu, %zu, (time_t) %lld, ", f->size, f->raw_size, f->mtime);
    pack_emit_string(out, f->mime);
    fprintf(out, ", ");
    pack_emit_string(out, f->etag);
    fprintf(out, ", %s, %s},\n", f->is_gzip ? "true" : "false", f->is_immutable ? "true" : "false");
  }
  fprintf(out,
          "};\n\n"
          "extern const struct mg_packed_table %1$s_table;\n"
          "const struct mg_packed_table %1$s_table = {%1$s_entries, %2$zu};\n\n"
          "static int %1$s_fs_st(const char *path, size_t *size, time_t *mtime) {\n"
          "  return mg_packed_stat(&%1$s_table, path, size, mtime);\n"
          "}\n"
          "static void %1$s_fs_ls(const char *path, void (*fn)(const char *, void *), void *arg) {\n"
          "  mg_packed_list(&%1$s_table, path, fn, arg);\n"
          "}\n"
          "static void *%1$s_fs_op(const char *path, int flags) {\n"
          "  return mg_packed_open(&%1$s_table, path, flags);\n"
          "}\n"
          "static const struct mg_packed_file *%1$s_fs_packed(const char *path) {\n"
          "  return mg_packed_find(&%1$s_table, path);\n"
          "}\n\n"
          "extern struct mg_fs %1$s_fs;\n"
          "struct mg_fs %1$s_fs = {\n"
          "    .st = %1$s_fs_st,\n"
          "    .ls = %1$s_fs_ls,\n"
          "    .op = %1$s_fs_op,\n"
          "    .cl = mg_packed_close,\n"
          "    .rd = mg_packed_read,\n"
          "    .wr = NULL,\n"
          "    .sk = mg_packed_seek,\n"
          "    .mv = NULL,\n"
          "    .rm = NULL,\n"
          "    .mkd = NULL,\n"
          "    .packed = %1$s_fs_packed,\n"
          "};\n",
          p, list->count);
  if (opts->mongoose) pack_emit_mongoose(out, opts, list);
  return fflush(out) == 0 && !ferror(out);
}
