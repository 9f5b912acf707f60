// Growable byte buffers for connection I/O. They grow on demand in `align`
// steps and can shrink back to nothing when idle.
#ifndef MG_IOBUF_H
#define MG_IOBUF_H

struct mg_iobuf {
  unsigned char *buf;  // NULL when nothing is allocated
  size_t size;         // Allocated bytes
  size_t len;          // Bytes in use
  size_t align;        // Allocation granularity; 0 means exact sizes
};

// All return false (leaving the buffer unchanged) if memory cannot be had.
bool mg_iobuf_init(struct mg_iobuf *io, size_t size, size_t align);
// size 0 frees (len becomes 0); otherwise never below len. New memory is zeroed.
bool mg_iobuf_resize(struct mg_iobuf *io, size_t size);
void mg_iobuf_free(struct mg_iobuf *io);
// Insert len bytes at offset ofs (ofs > io->len is clamped); buf NULL inserts zeros.
// Returns bytes added: len, or 0 on allocation failure.
size_t mg_iobuf_add(struct mg_iobuf *io, size_t ofs, const void *buf, size_t len);
// Remove len bytes at ofs (clamped to the data); returns bytes removed. The bytes
// freed past the new len are zeroed.
size_t mg_iobuf_del(struct mg_iobuf *io, size_t ofs, size_t len);

#endif  // MG_IOBUF_H
