// Small algorithms the core owns: base64, CRC32, SHA-1, random bytes, byte order.
#ifndef MG_UTIL_H
#define MG_UTIL_H

// The core's allocator: all its memory comes from mg_calloc and goes back through mg_free
void *mg_calloc(size_t count, size_t size);
void mg_free(void *ptr);
#if MG_ENABLE_ALLOC_FAULTS
void mg_alloc_fail_after(long n);  // The n-th allocation from now fails (only that one); n <= 0: none
long mg_alloc_count(void);         // Allocations that could have failed, since the start
#endif

// Base64 (RFC 4648, with padding). Both return the output length (NUL-terminated
// when it fits) or 0 if dst is too small / the input is not valid base64.
size_t mg_base64_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen);
size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t dstlen);

uint32_t mg_crc32(uint32_t crc, const char *buf, size_t len);

typedef struct {
  uint32_t state[5];
  uint32_t count[2];
  unsigned char buffer[64];
} mg_sha1_ctx;
void mg_sha1_init(mg_sha1_ctx *);
void mg_sha1_update(mg_sha1_ctx *, const unsigned char *data, size_t len);
void mg_sha1_final(unsigned char digest[20], mg_sha1_ctx *);

bool mg_random(void *buf, size_t len);   // OS entropy where available
char *mg_random_str(char *buf, size_t len);  // len-1 random alphanumerics + NUL

uint16_t mg_ntohs(uint16_t net);
uint32_t mg_ntohl(uint32_t net);
#define mg_htons(x) mg_ntohs(x)
#define mg_htonl(x) mg_ntohl(x)

#endif  // MG_UTIL_H
