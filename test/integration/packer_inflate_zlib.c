// Stand-in for core/fs/inflate.c until it is merged: mg_inflate over zlib, one
// stream at a time, its memory carved from a static arena (so nothing leaks when
// fs_packed frees the state). packer.test.mjs links it only if libmeerkat.a lacks mg_inflate.
#include <zlib.h>
#include "meerkat.h"

static z_stream zshim_stream;
static int zshim_status;
static unsigned char zshim_arena[128 * 1024];
static size_t zshim_used;

static voidpf zshim_alloc(voidpf opaque, uInt items, uInt size) {
  size_t n = ((size_t) items * size + 15) & ~(size_t) 15;
  (void) opaque;
  if (n > sizeof(zshim_arena) - zshim_used) return Z_NULL;
  zshim_used += n;
  return zshim_arena + zshim_used - n;
}

static void zshim_free(voidpf opaque, voidpf p) {
  (void) opaque, (void) p;
}

void mg_inflate_init(struct mg_inflate *z, bool gzip) {
  (void) z;
  memset(&zshim_stream, 0, sizeof(zshim_stream));
  zshim_used = 0;
  zshim_stream.zalloc = zshim_alloc, zshim_stream.zfree = zshim_free;
  zshim_status = inflateInit2(&zshim_stream, gzip ? 16 + 15 : -15) == Z_OK ? Z_OK : Z_DATA_ERROR;
}

int mg_inflate(struct mg_inflate *z, const uint8_t *in, size_t in_len, size_t *in_used, uint8_t *out,
               size_t out_len, size_t *out_made) {
  (void) z;
  zshim_stream.next_in = (Bytef *) (uintptr_t) in, zshim_stream.avail_in = (uInt) in_len;
  zshim_stream.next_out = out, zshim_stream.avail_out = (uInt) out_len;
  if (zshim_status == Z_OK) zshim_status = inflate(&zshim_stream, Z_NO_FLUSH);
  if (zshim_status == Z_BUF_ERROR) zshim_status = Z_OK;  // No progress possible: more input or room
  *in_used = in_len - zshim_stream.avail_in, *out_made = out_len - zshim_stream.avail_out;
  if (zshim_status == Z_STREAM_END) return MG_INFLATE_DONE;
  return zshim_status == Z_OK ? MG_INFLATE_MORE : MG_INFLATE_ERROR;
}
