// Growable byte buffers for connection I/O. They grow on demand in `align`
// steps and can shrink back to nothing when idle.
#ifndef MG_IOBUF_H
#define MG_IOBUF_H

struct mg_iobuf {
  unsigned char *buf;  // NULL when nothing is allocated
  size_t size;         // Allocated bytes: a multiple of align
  size_t len;          // Bytes in use, never more than size
  size_t align;        // Allocation granularity; 0 means exact sizes
};

// All return false (leaving the buffer unchanged) if memory cannot be had.
bool mg_iobuf_init(struct mg_iobuf *io, size_t size, size_t align);
// size (rounded up to align) 0 frees, len becomes 0; below len, len is cut to the
// new size (as in Mongoose 7.22). New memory is zeroed.
bool mg_iobuf_resize(struct mg_iobuf *io, size_t size);
void mg_iobuf_free(struct mg_iobuf *io);
// Insert len bytes at offset ofs, moving what follows; buf NULL inserts zeros. Past
// io->len the gap is zero-filled and len becomes ofs + len. Returns len, or 0 if
// memory ran out (the buffer is then unchanged).
size_t mg_iobuf_add(struct mg_iobuf *io, size_t ofs, const void *buf, size_t len);
// Remove len bytes at ofs (clamped to the data); returns bytes removed. The bytes
// freed past the new len are zeroed.
size_t mg_iobuf_del(struct mg_iobuf *io, size_t ofs, size_t len);

#endif  // MG_IOBUF_H
