// What the table says about a file, and how its bytes are stored: MIME type by
// extension, ETag from SHA-1, the -I mark, and gzip -9 when the type compresses and it pays off.
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include "meerkat.h"
#include "packer.h"

// Types worth compressing beyond text/*: formats already compressed (png, jpg,
// gif, webp, avif, woff/woff2, gz, zip, mp4...) are left alone
static const char *pack_compressible[] = {
    "html", "htm", "xhtml", "css", "js",  "mjs", "cjs", "json", "jsonld", "webmanifest", "map",
    "txt",  "md",  "csv",   "tsv", "xml", "rss", "atom", "svg", "wasm", "ico", "bmp",
    "ttf",  "otf", "eot",   "yaml", "yml", "toml", "ini", "pem", NULL,
};

static bool pack_is_compressible(const struct pack_opts *opts, const struct pack_file *f) {
  if (opts->mongoose) return false;  // mg_unpack() hands out the file's own bytes
  if (pack_glob_any(opts->never, opts->never_count, f->path)) return false;
  if (strncmp(f->mime, "text/", 5) == 0) return true;
  const char *base = strrchr(f->path, '/') + 1, *dot = strrchr(base, '.');
  if (dot == NULL) return false;
  for (size_t i = 0; pack_compressible[i] != NULL; i++) {
    if (strcasecmp(dot + 1, pack_compressible[i]) == 0) return true;
  }
  return false;
}

// gzip (RFC 1952) of the file at level 9 with a fixed header (MTIME 0, OS 255
// "unknown"), so that the same input always gives the same bytes. Replaces the
// stored bytes only if the result is smaller.
static bool pack_gzip(struct pack_file *f) {
  z_stream zs;
  gz_header head;
  memset(&zs, 0, sizeof(zs));
  memset(&head, 0, sizeof(head));
  head.os = 255;
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK ||
      deflateSetHeader(&zs, &head) != Z_OK) {
    fprintf(stderr, "packer: %s: zlib: %s\n", f->source, zs.msg ? zs.msg : "cannot start deflate");
    return false;
  }
  // Room for one byte less than the file: if the gzip does not fit, it does not pay
  size_t cap = f->raw_size - 1, in = 0, out = 0;
  unsigned char *buf = (unsigned char *) malloc(cap > 0 ? cap : 1);
  int rc = buf == NULL ? Z_MEM_ERROR : Z_OK;
  while (rc == Z_OK) {
    size_t in_chunk = f->raw_size - in < (1u << 30) ? f->raw_size - in : (1u << 30);
    size_t out_chunk = cap - out < (1u << 30) ? cap - out : (1u << 30);
    zs.next_in = f->data + in, zs.avail_in = (uInt) in_chunk;
    zs.next_out = buf + out, zs.avail_out = (uInt) out_chunk;
    rc = deflate(&zs, in + in_chunk == f->raw_size ? Z_FINISH : Z_NO_FLUSH);
    in += in_chunk - zs.avail_in, out += out_chunk - zs.avail_out;
    if (rc == Z_OK && out == cap) rc = Z_BUF_ERROR;  // Out of room: not smaller
  }
  deflateEnd(&zs);
  if (rc == Z_STREAM_END) {
    free(f->data);
    f->data = buf, f->size = out, f->is_gzip = true;
    return true;
  }
  free(buf);
  if (rc == Z_BUF_ERROR) return true;  // Stays stored
  fprintf(stderr, "packer: %s: zlib error %d\n", f->source, rc);
  return false;
}

bool pack_store(const struct pack_opts *opts, struct pack_file *f) {
  struct mg_str mime = mg_http_mime_type(mg_str(f->path), NULL);
  snprintf(f->mime, sizeof(f->mime), "%.*s", (int) mime.len, mime.buf);
  f->is_immutable = pack_glob_any(opts->immutable, opts->immutable_count, f->path);

  mg_sha1_ctx ctx;
  unsigned char digest[20];
  mg_sha1_init(&ctx);
  mg_sha1_update(&ctx, f->data, f->raw_size);
  mg_sha1_final(digest, &ctx);
  f->etag[0] = '"';
  for (int i = 0; i < 8; i++) snprintf(f->etag + 1 + 2 * i, 3, "%02x", digest[i]);
  strcpy(f->etag + 17, "\"");

  if (f->raw_size < 2 || !pack_is_compressible(opts, f)) return true;
  return pack_gzip(f);
}
