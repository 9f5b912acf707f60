// Small algorithms the core owns: base64, CRC32, SHA-1, random bytes, byte order.
#ifndef MG_UTIL_H
#define MG_UTIL_H

// The core's allocator: all its memory comes from mg_calloc and goes back through mg_free
void *mg_calloc(size_t count, size_t size);
void mg_free(void *ptr);
#if MG_ENABLE_ALLOC_FAULTS
void mg_alloc_fail_after(long n);  // The n-th allocation from now fails (only that one); n <= 0: none
long mg_alloc_count(void);         // Allocations that could have failed, since the start
// Asked for every allocation (after counting it) instead of mg_alloc_fail_after: true fails
// it. A runner picks allocations by their call site this way. NULL: back to counting.
void mg_alloc_fail_when(bool (*should_fail)(void));
#endif

// Base64 (RFC 4648, with padding). Both return the output length, NUL-terminated,
// or 0 if the output and its NUL do not fit in dstlen or the input is not valid
// base64 (a lone character, bad padding, characters outside the alphabet).
size_t mg_base64_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen);
size_t mg_base64_decode(const char *src, size_t n, char *dst, size_t dstlen);
// The URL-safe alphabet ('-' and '_'), without '=' padding (RFC 4648 section 5, as in JWTs)
size_t mg_base64url_encode(const unsigned char *src, size_t n, char *dst, size_t dstlen);
size_t mg_base64url_decode(const char *src, size_t n, char *dst, size_t dstlen);
// Byte by byte: update appends the characters of one more input byte to buf, which
// holds len characters of a running encoding, and returns the new length; final pads
// the last group, NUL-terminates and returns the final length. The caller sizes buf
// (4 characters per 3 bytes, and the NUL).
size_t mg_base64_update(unsigned char input_byte, char *buf, size_t len);
size_t mg_base64_final(char *buf, size_t len);

uint32_t mg_crc32(uint32_t crc, const char *buf, size_t len);

typedef struct {
  uint32_t state[5];
  uint32_t count[2];
  unsigned char buffer[64];
} mg_sha1_ctx;
void mg_sha1_init(mg_sha1_ctx *);
void mg_sha1_update(mg_sha1_ctx *, const unsigned char *data, size_t len);
void mg_sha1_final(unsigned char digest[20], mg_sha1_ctx *);

typedef struct {
  uint32_t state[8];
  uint64_t bits;
  unsigned char buffer[64];
} mg_sha256_ctx;
void mg_sha256_init(mg_sha256_ctx *);
void mg_sha256_update(mg_sha256_ctx *, const unsigned char *data, size_t len);
void mg_sha256_final(unsigned char digest[32], mg_sha256_ctx *);
void mg_sha256(unsigned char digest[32], const void *data, size_t len);
// MD5 (RFC 1321) and SHA-384 (FIPS 180-4), with Mongoose 7.22's contexts. MD5 is
// broken for signatures: it is here for programs that need its checksums.
typedef struct {
  uint32_t buf[4];
  uint32_t bits[2];
  unsigned char in[64];
} mg_md5_ctx;
void mg_md5_init(mg_md5_ctx *c);
void mg_md5_update(mg_md5_ctx *c, const unsigned char *data, size_t len);
void mg_md5_final(mg_md5_ctx *c, unsigned char digest[16]);
typedef struct {
  uint64_t state[8];
  uint8_t buffer[128];
  uint64_t bitlen[2];
  uint32_t datalen;
} mg_sha384_ctx;
void mg_sha384_init(mg_sha384_ctx *ctx);
void mg_sha384_update(mg_sha384_ctx *ctx, const uint8_t *data, size_t len);
void mg_sha384_final(uint8_t digest[48], mg_sha384_ctx *ctx);
void mg_sha384(uint8_t dst[48], uint8_t *data, size_t datasz);
// HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256 (RFC 8018), out of dklen bytes
// (iterations 0 counts as 1). Neither allocates; the buffers are on the stack.
void mg_hmac_sha256(unsigned char mac[32], const void *key, size_t keylen, const void *data, size_t len);
void mg_pbkdf2_sha256(const void *password, size_t passlen, const void *salt, size_t saltlen,
                      uint32_t iterations, unsigned char *out, size_t dklen);
// The same PBKDF2 in steps, so that an event loop can hash between its other work:
// start, then step until it returns true (out holds the key), then finish (wipes p,
// also to give up early). out must stay valid until then; salt need not.
struct mg_pbkdf2 {
  mg_sha256_ctx inner, outer, salted;  // HMAC key states; the inner one after the salt
  unsigned char u[64];                 // The last U, padded as the block that hashes it
  unsigned char t[32];                 // XOR of the U of the block so far
  unsigned char *out;
  size_t dklen, done_bytes;
  uint32_t iterations, done_iter, block_no;  // done_iter of the current block (0: not begun)
};
void mg_pbkdf2_start(struct mg_pbkdf2 *p, const void *password, size_t passlen, const void *salt, size_t saltlen,
                     uint32_t iterations, unsigned char *out, size_t dklen);
bool mg_pbkdf2_step(struct mg_pbkdf2 *p, uint32_t max_iterations);  // At most that many; true when done
void mg_pbkdf2_finish(struct mg_pbkdf2 *p);
// Whether a and b hold the same len bytes, in a time that depends on len alone
// (for comparing secrets: password hashes, tokens, MACs)
bool mg_timingsafe_eq(const void *a, const void *b, size_t len);
bool mg_memeq(const void *a, const void *b, size_t len);  // Mongoose's name for mg_timingsafe_eq
// Zeroes len bytes in a way the compiler keeps (for secrets); buf NULL does nothing
void mg_bzero(volatile unsigned char *buf, size_t len);
// Busy-waits ms milliseconds of mg_millis(): for board bring-up, never in a handler
void mg_delayms(unsigned int ms);

bool mg_random(void *buf, size_t len);   // OS entropy where available
char *mg_random_str(char *buf, size_t len);  // len-1 random alphanumerics + NUL

uint16_t mg_ntohs(uint16_t net);
uint32_t mg_ntohl(uint32_t net);
uint64_t mg_ntohll(uint64_t net);
#define mg_htons(x) mg_ntohs(x)
#define mg_htonl(x) mg_ntohl(x)
#define mg_htonll(x) mg_ntohll(x)
// An IPv4 address from its four numbers: host order (MG_U32) and network order (MG_IPV4),
// the form struct mg_addr's addr.ip4 holds
#define MG_U32(a, b, c, d) \
  ((uint32_t) ((a) & 255) << 24 | (uint32_t) ((b) & 255) << 16 | (uint32_t) ((c) & 255) << 8 | (uint32_t) ((d) & 255))
#define MG_IPV4(a, b, c, d) mg_htonl(MG_U32(a, b, c, d))

// A 16-byte IPv6 address from its eight 16-bit groups, as an array initialiser:
// uint8_t ip[16] = MG_IPV6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
#define MG_IPV6(a, b, c, d, e, f, g, h)                                                              \
  {(uint8_t) ((a) >> 8), (uint8_t) (a), (uint8_t) ((b) >> 8), (uint8_t) (b), (uint8_t) ((c) >> 8), \
   (uint8_t) (c),        (uint8_t) ((d) >> 8), (uint8_t) (d), (uint8_t) ((e) >> 8), (uint8_t) (e), \
   (uint8_t) ((f) >> 8), (uint8_t) (f), (uint8_t) ((g) >> 8), (uint8_t) (g), (uint8_t) ((h) >> 8), \
   (uint8_t) (h)}
// printf("%d.%d.%d.%d", MG_IPADDR_PARTS(&ip4)) for an address in network order
#define MG_U8P(p) ((uint8_t *) (p))
#define MG_IPADDR_PARTS(p) MG_U8P(p)[0], MG_U8P(p)[1], MG_U8P(p)[2], MG_U8P(p)[3]

// Registers and arithmetic for board code, as Mongoose names them
#define MG_REG(x) ((volatile uint32_t *) (x))[0]
#define MG_BIT(x) (((uint32_t) 1U) << (x))
#define MG_SET_BITS(r, clrmask, setmask) (r) = ((r) & ~(clrmask)) | (setmask)
#define MG_ROUND_UP(x, a) ((a) == 0 ? (x) : ((((x) + (a) - 1) / (a)) * (a)))  // a 0: x
#define MG_ROUND_DOWN(x, a) ((a) == 0 ? (x) : (((x) / (a)) * (a)))
#if defined(__GNUC__) && defined(__arm__)
#define MG_ARM_DISABLE_IRQ() __asm__ __volatile__("cpsid i" : : : "memory")
#define MG_ARM_ENABLE_IRQ() __asm__ __volatile__("cpsie i" : : : "memory")
#else
#define MG_ARM_DISABLE_IRQ()
#define MG_ARM_ENABLE_IRQ()
#endif
#if defined(__GNUC__) && defined(__arm__) && defined(__thumb__)
#define MG_DSB() __asm__ __volatile__("dsb 0xf" : : : "memory")
#else
#define MG_DSB()
#endif

// Singly linked lists through a `next` member, as Mongoose's own lists
#define LIST_ADD_HEAD(type_, head_, elem_) \
  do {                                     \
    (elem_)->next = (*(head_));            \
    *(head_) = (elem_);                    \
  } while (0)
#define LIST_ADD_TAIL(type_, head_, elem_) \
  do {                                     \
    type_ **h_ = (head_);                  \
    while (*h_ != NULL) h_ = &(*h_)->next; \
    *h_ = (elem_);                         \
  } while (0)
#define LIST_DELETE(type_, head_, elem_)     \
  do {                                       \
    type_ **h_ = (head_);                    \
    while (*h_ != (elem_)) h_ = &(*h_)->next; \
    *h_ = (elem_)->next;                     \
  } while (0)

// Big-endian loads and stores through any byte pointer (no alignment needed)
#define MG_BYTES_(p) ((uint8_t *) (p))
#define MG_LOAD_BE16(p) ((uint16_t) (MG_BYTES_(p)[0] << 8 | MG_BYTES_(p)[1]))
#define MG_LOAD_BE24(p) ((uint32_t) MG_BYTES_(p)[0] << 16 | (uint32_t) MG_BYTES_(p)[1] << 8 | MG_BYTES_(p)[2])
#define MG_LOAD_BE32(p) ((uint32_t) MG_BYTES_(p)[0] << 24 | MG_LOAD_BE24(MG_BYTES_(p) + 1))
#define MG_LOAD_BE64(p) ((uint64_t) MG_LOAD_BE32(p) << 32 | MG_LOAD_BE32(MG_BYTES_(p) + 4))
#define MG_STORE_BE16(p, n)                        \
  do {                                             \
    MG_BYTES_(p)[0] = (uint8_t) (((n) >> 8) & 255); \
    MG_BYTES_(p)[1] = (uint8_t) ((n) & 255);        \
  } while (0)
#define MG_STORE_BE24(p, n)                          \
  do {                                               \
    MG_BYTES_(p)[0] = (uint8_t) (((n) >> 16) & 255); \
    MG_STORE_BE16(MG_BYTES_(p) + 1, (n));            \
  } while (0)
#define MG_STORE_BE32(p, n)                          \
  do {                                               \
    MG_BYTES_(p)[0] = (uint8_t) (((n) >> 24) & 255); \
    MG_STORE_BE24(MG_BYTES_(p) + 1, (n));            \
  } while (0)
#define MG_STORE_BE64(p, n)                                  \
  do {                                                       \
    MG_STORE_BE32(MG_BYTES_(p), (uint32_t) ((uint64_t) (n) >> 32)); \
    MG_STORE_BE32(MG_BYTES_(p) + 4, (uint32_t) (n));         \
  } while (0)

// Percent-encodes all but RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
// Returns the length written, NUL-terminated; 0 (and buf "" if len > 0) if it does not fit.
size_t mg_url_encode(const char *s, size_t n, char *buf, size_t len);

// Whole-slice unsigned integer in base 2, 10 or 16, or 0 to take the base from a
// "0x" / "0b" prefix (decimal otherwise), stored in *val of val_len bytes
// (1, 2, 4 or 8). False on empty input, junk, or a value that does not fit.
bool mg_str_to_num(struct mg_str s, int base, void *val, size_t val_len);

// Seconds since the epoch of a UTC date (Mongoose 7.22's prototype): month 1-12,
// day 1-31; values past their range carry over as in timegm; before 1970: 0
uint64_t mg_timegm(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned min, unsigned sec);

// A request path that never climbs: false if any segment (between '/' or '\\') is ".."
bool mg_path_is_sane(const struct mg_str path);

#endif  // MG_UTIL_H
