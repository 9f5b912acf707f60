// Growable I/O buffers. Sizes round up to io->align so that a stream of small
// appends does not reallocate each time; resize(0) gives the memory back.
#include "mg_internal.h"

static size_t iobuf_round(size_t size, size_t align) {
  if (align <= 1) return size;
  if (size > SIZE_MAX - (align - 1)) return 0;  // No multiple of align holds it
  return (size + align - 1) / align * align;
}

bool mg_iobuf_resize(struct mg_iobuf *io, size_t new_size) {
  if (new_size == 0) {  // As Mongoose documents: frees, and len becomes 0
    mg_free(io->buf);
    io->buf = NULL, io->size = io->len = 0;
    return true;
  }
  new_size = iobuf_round(new_size, io->align);
  if (new_size == 0) return false;
  if (new_size == io->size) return true;
  unsigned char *p = (unsigned char *) mg_realloc(io->buf, new_size);
  if (p == NULL) return false;
  if (new_size > io->size) memset(p + io->size, 0, new_size - io->size);  // New memory reads as zeros
  io->buf = p, io->size = new_size;
  if (io->len > new_size) io->len = new_size;  // Mongoose 7.22: a smaller size trims the data
  return true;
}

bool mg_iobuf_init(struct mg_iobuf *io, size_t size, size_t align) {
  io->buf = NULL, io->size = io->len = 0, io->align = align;
  return mg_iobuf_resize(io, size);
}

void mg_iobuf_free(struct mg_iobuf *io) {
  mg_free(io->buf);
  io->buf = NULL, io->size = io->len = 0;
}

// Inserts at ofs, moving what follows; an ofs past len zero-fills the gap and the
// data then ends at ofs + len (Mongoose 7.22)
size_t mg_iobuf_add(struct mg_iobuf *io, size_t ofs, const void *buf, size_t len) {
  if (len == 0) return 0;
  size_t start = ofs > io->len ? io->len : ofs, gap = ofs - start;
  if (gap > SIZE_MAX - io->len || len > SIZE_MAX - io->len - gap) return 0;
  size_t new_len = io->len + gap + len;
  if (new_len > io->size && !mg_iobuf_resize(io, new_len)) return 0;
  if (ofs < io->len) memmove(io->buf + ofs + len, io->buf + ofs, io->len - ofs);
  if (gap > 0) memset(io->buf + start, 0, gap);  // Bytes past len may be stale
  if (buf != NULL) memmove(io->buf + ofs, buf, len);
  else memset(io->buf + ofs, 0, len);
  io->len = new_len;
  return len;
}

size_t mg_iobuf_del(struct mg_iobuf *io, size_t ofs, size_t len) {
  if (ofs >= io->len) return 0;
  if (len > io->len - ofs) len = io->len - ofs;
  if (ofs + len < io->len) memmove(io->buf + ofs, io->buf + ofs + len, io->len - ofs - len);
  io->len -= len;
  memset(io->buf + io->len, 0, len);  // Leave no stale bytes (secrets, requests) behind len
  return len;
}
