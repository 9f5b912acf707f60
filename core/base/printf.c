// printf engine: walks a format string and feeds characters to a sink, so one
// implementation backs snprintf, growable buffers, connections and the log.
#include "mg_internal.h"
#include "port/port.h"

// A sink that takes a run of characters in one call: the engine hands our own sinks
// (connections' buffers, snprintf) literal text, strings and numbers whole, instead of
// calling them once per character
typedef void (*printf_put_t)(const char *s, size_t n, void *param);

// A sink plus the count of characters produced; a dry run only counts.
struct printf_out {
  mg_pfn_t fn;
  printf_put_t put;  // The same sink taking runs, or NULL
  void *param;
  size_t n;
  bool dry;
};

enum printf_length {
  PRINTF_LEN_INT,
  PRINTF_LEN_HH,
  PRINTF_LEN_H,
  PRINTF_LEN_L,
  PRINTF_LEN_LL,
  PRINTF_LEN_Z
};

// One parsed conversion, e.g. "%-08.3lld"
struct printf_spec {
  bool left, zero, plus, space, alt;  // alt: '#', a 0x prefix on non-zero %x
  size_t width;
  int prec;  // -1 when absent
  enum printf_length length;
  char conv;
};

// Widths and precisions are clamped here so the arithmetic below cannot overflow.
enum { PRINTF_MAX_FIELD = 1000000 };

static void printf_putc(struct printf_out *o, char c) {
  if (!o->dry) o->fn(c, o->param);
  o->n++;
}

static void printf_puts(struct printf_out *o, const char *s, size_t len) {
  if (o->put == NULL) {
    for (size_t i = 0; i < len; i++) printf_putc(o, s[i]);
    return;
  }
  if (!o->dry && len > 0) o->put(s, len, o->param);
  o->n += len;
}

static void printf_repeat(struct printf_out *o, char c, size_t n) {
  while (n-- > 0) printf_putc(o, c);
}

// What goes before a field's body of `len` chars: spaces for right alignment,
// the prefix (sign or "0x"), then zeros when '0' padding applies.
static void printf_lead(struct printf_out *o, const struct printf_spec *sp, const char *prefix,
                        size_t len, bool zero_ok) {
  size_t plen = prefix[0] == '\0' ? 0 : strlen(prefix);
  if (sp->width <= plen + len) {  // No padding: the common case, one copy or none
    if (plen > 0) printf_puts(o, prefix, plen);
    return;
  }
  size_t fill = sp->width > plen + len ? sp->width - plen - len : 0;
  bool zeros = sp->zero && !sp->left && zero_ok;
  if (!sp->left && !zeros) printf_repeat(o, ' ', fill);
  printf_puts(o, prefix, plen);
  if (zeros) printf_repeat(o, '0', fill);
}

// Spaces after a left-aligned field whose prefix and body took `len` chars.
static void printf_trail(struct printf_out *o, const struct printf_spec *sp, size_t len) {
  if (sp->left && sp->width > len) printf_repeat(o, ' ', sp->width - len);
}

static const char *printf_sign(const struct printf_spec *sp, bool neg) {
  return neg ? "-" : sp->plus ? "+" : sp->space ? " " : "";
}

// *v / base, returning the remainder, in 32-bit steps over 16 bits of *v at a time (base
// < 2^16): on a 32-bit CPU a 64-bit division is a 900-byte library routine
static uint32_t printf_divmod(unsigned long long *v, uint32_t base) {
  unsigned long long q = 0;
  uint32_t r = 0;
  for (int shift = 48; shift >= 0; shift -= 16) {
    r = r << 16 | (uint32_t) (*v >> shift & 0xffff);
    q |= (unsigned long long) (r / base) << shift;
    r %= base;
  }
  *v = q;
  return r;
}

static void printf_int(struct printf_out *o, const struct printf_spec *sp, unsigned long long v,
                       bool neg) {
  const char *xdigits = sp->conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  unsigned base = sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p' ? 16 : 10;
  bool is_signed = sp->conv == 'd' || sp->conv == 'i';
  const char *prefix = sp->conv == 'p' ? "0x" : is_signed ? printf_sign(sp, neg) : "";
  if (sp->alt && v != 0 && base == 16 && sp->conv != 'p') prefix = sp->conv == 'X' ? "0X" : "0x";
  char digits[24];  // Filled from the end; 64 bits need at most 20 decimal digits
  size_t nd = 0, prec = sp->prec < 0 ? 1 : (size_t) sp->prec;
  for (; v > 0xffffffffu; nd++) digits[sizeof(digits) - 1 - nd] = xdigits[printf_divmod(&v, base)];
  for (uint32_t w = (uint32_t) v; w > 0; w /= base) digits[sizeof(digits) - ++nd] = xdigits[w % base];
  size_t body = nd < prec ? prec : nd;
  printf_lead(o, sp, prefix, body, sp->prec < 0);  // C ignores '0' when a precision is given
  printf_repeat(o, '0', body - nd);
  printf_puts(o, digits + sizeof(digits) - nd, nd);
  printf_trail(o, sp, strlen(prefix) + body);
}

static void printf_str(struct printf_out *o, const struct printf_spec *sp, const char *s) {
  if (s == NULL) s = "(null)";
  // Never past prec: %.*s may point at bytes with no NUL after them
  const char *nul = sp->prec < 0 ? NULL : (const char *) memchr(s, '\0', (size_t) sp->prec);
  size_t n = sp->prec < 0 ? strlen(s) : nul == NULL ? (size_t) sp->prec : (size_t) (nul - s);
  printf_lead(o, sp, "", n, false);
  printf_puts(o, s, n);
  printf_trail(o, sp, n);
}

#if MG_ENABLE_PRINTF_FLOAT
// Floating point: the double is converted exactly to a decimal big integer N
// and exponent so that value = N * 10^exp10, then rounded half-to-even at the
// requested decimal place. This gives the same digits as a correct C library.
// 90 words of 9 decimal digits hold 2^53 * 5^1074 (the smallest subnormal
// scaled), the longest expansion a double has.
enum { PRINTF_BIG_WORDS = 90 };
struct printf_big {
  uint32_t w[PRINTF_BIG_WORDS];  // Base 10^9, least significant word first
  int nw;                        // Words in use, at least 1
  int exp10;
};

static const uint32_t printf_pow10[10] = {1,      10,      100,      1000,      10000,
                                          100000, 1000000, 10000000, 100000000, 1000000000};

static void printf_big_mul(struct printf_big *b, uint32_t f) {
  uint64_t carry = 0;
  for (int i = 0; i < b->nw; i++) {
    uint64_t x = (uint64_t) b->w[i] * f + carry;
    b->w[i] = (uint32_t) (x % 1000000000), carry = x / 1000000000;
  }
  for (; carry > 0; carry /= 1000000000) b->w[b->nw++] = (uint32_t) (carry % 1000000000);
}

// Exact decimal form of m * 2^e
static void printf_big_init(struct printf_big *b, uint64_t m, int e) {
  b->w[0] = (uint32_t) (m % 1000000000), b->w[1] = (uint32_t) (m / 1000000000);  // m < 2^53
  b->nw = b->w[1] ? 2 : 1;
  b->exp10 = 0;
  if (m == 0) return;
  for (; e >= 29; e -= 29) printf_big_mul(b, (uint32_t) 1 << 29);
  if (e > 0) printf_big_mul(b, (uint32_t) 1 << e);
  if (e < 0) {
    b->exp10 = e;  // m / 2^k == m * 5^k / 10^k
    for (; e <= -13; e += 13) printf_big_mul(b, 1220703125);  // 5^13
    uint32_t f = 1;
    for (; e < 0; e++) f *= 5;
    printf_big_mul(b, f);
  }
}

static bool printf_big_is_zero(const struct printf_big *b) {
  return b->nw == 1 && b->w[0] == 0;
}

static int printf_big_ndigits(const struct printf_big *b) {
  int n = 1;
  while (n < 9 && b->w[b->nw - 1] >= printf_pow10[n]) n++;
  return 9 * (b->nw - 1) + n;
}

// Decimal exponent of the leading digit (0 for zero)
static int printf_big_exp(const struct printf_big *b) {
  return printf_big_is_zero(b) ? 0 : printf_big_ndigits(b) - 1 + b->exp10;
}

// The digit at place 10^k of the value
static int printf_big_digit(const struct printf_big *b, int k) {
  long pos = (long) k - b->exp10;
  if (pos < 0 || pos >= 9L * b->nw) return 0;
  return (int) (b->w[pos / 9] / printf_pow10[pos % 9] % 10);
}

// Rounds half-to-even so that no digit below place 10^q remains.
static void printf_big_round(struct printf_big *b, int q) {
  long cut = (long) q - b->exp10;  // Digits at positions below cut are dropped
  long ndig = printf_big_ndigits(b);
  if (cut <= 0) return;
  int first = printf_big_digit(b, q - 1);
  bool rest = false;  // Any non-zero digit below the first dropped one?
  for (long i = 0; i < cut - 1 && i < ndig && !rest; i++) {
    rest = printf_big_digit(b, (int) (i + b->exp10)) != 0;
  }
  bool up = first > 5 || (first == 5 && (rest || (printf_big_digit(b, q) & 1)));
  if (cut >= 9L * b->nw) {
    b->nw = 1, b->w[0] = 0;
  } else {
    for (long i = 0; i < cut / 9; i++) b->w[i] = 0;
    b->w[cut / 9] -= b->w[cut / 9] % printf_pow10[cut % 9];
    while (b->nw > 1 && b->w[b->nw - 1] == 0) b->nw--;
  }
  if (up) {
    long i = cut / 9;
    while (b->nw <= i) b->w[b->nw++] = 0;
    b->w[i] += printf_pow10[cut % 9];
    for (; b->w[i] >= 1000000000; i++) {
      b->w[i] -= 1000000000;
      if (i + 1 == b->nw) b->w[b->nw++] = 0;
      b->w[i + 1]++;
    }
  }
}

// Digits of a rounded value: "ddd.ddd" with `frac` fraction digits, or in
// scientific form "d.ddde+XX".
static void printf_float_body(struct printf_out *o, const struct printf_big *b, bool sci, int frac,
                              bool upper) {
  int e = printf_big_exp(b), top = sci ? e : e > 0 ? e : 0;
  int low = sci ? e - frac : -frac;
  for (int k = top; k >= low; k--) {
    if (sci ? k == e - 1 : k == -1) printf_putc(o, '.');
    printf_putc(o, (char) ('0' + printf_big_digit(b, k)));
  }
  if (!sci) return;
  printf_putc(o, upper ? 'E' : 'e');
  printf_putc(o, e < 0 ? '-' : '+');
  unsigned ae = (unsigned) (e < 0 ? -e : e);
  if (ae >= 100) printf_putc(o, (char) ('0' + ae / 100));
  printf_putc(o, (char) ('0' + ae / 10 % 10));
  printf_putc(o, (char) ('0' + ae % 10));
}

static void printf_float(struct printf_out *o, const struct printf_spec *sp, double v) {
  char conv = (char) (sp->conv | 0x20);
  bool upper = sp->conv != conv;
  uint64_t bits;
  memcpy(&bits, &v, sizeof(bits));
  uint64_t mant = bits & (((uint64_t) 1 << 52) - 1);
  int bexp = (int) (bits >> 52 & 0x7ff);
  const char *sign = printf_sign(sp, bits >> 63);
  if (bexp == 0x7ff) {  // C prints these without zero padding
    const char *s = mant != 0 ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    printf_lead(o, sp, sign, 3, false);
    printf_puts(o, s, 3);
    printf_trail(o, sp, strlen(sign) + 3);
    return;
  }
  struct printf_big b;
  if (bexp == 0) {
    printf_big_init(&b, mant, -1074);  // Subnormal (or zero)
  } else {
    printf_big_init(&b, mant | (uint64_t) 1 << 52, bexp - 1075);
  }
  int prec = sp->prec < 0 ? 6 : sp->prec, frac = prec;
  bool sci = conv == 'e';
  if (conv == 'f') {
    printf_big_round(&b, -prec);
  } else if (conv == 'e') {
    printf_big_round(&b, printf_big_exp(&b) - prec);
  } else {  // %g: P significant digits, fixed form unless the exponent is out of range
    int p = prec == 0 ? 1 : prec;
    printf_big_round(&b, printf_big_exp(&b) - p + 1);
    int e = printf_big_exp(&b);
    sci = e < -4 || e >= p;
    frac = sci ? p - 1 : p - 1 - e;
    while (frac > 0 && printf_big_digit(&b, (sci ? e : 0) - frac) == 0) frac--;
  }
  struct printf_out dry = {NULL, NULL, NULL, 0, true};
  printf_float_body(&dry, &b, sci, frac, upper);
  printf_lead(o, sp, sign, dry.n, true);
  printf_float_body(o, &b, sci, frac, upper);
  printf_trail(o, sp, strlen(sign) + dry.n);
}
#else
static void printf_float(struct printf_out *o, const struct printf_spec *sp, double v) {
  (void) o, (void) sp, (void) v;  // Built without it: the argument is taken, nothing printed
}
#endif  // MG_ENABLE_PRINTF_FLOAT

// Reads a width or precision: digits, or '*' from the arguments.
static int printf_number(const char **fmt, va_list *ap) {
  long n = 0;
  if (**fmt == '*') {
    (*fmt)++;
    int v = va_arg(*ap, int);
    n = v < -PRINTF_MAX_FIELD ? -PRINTF_MAX_FIELD : v;
  } else {
    for (; **fmt >= '0' && **fmt <= '9'; (*fmt)++) {
      n = n * 10 + (**fmt - '0');
      if (n > PRINTF_MAX_FIELD) n = PRINTF_MAX_FIELD;
    }
  }
  return (int) (n > PRINTF_MAX_FIELD ? PRINTF_MAX_FIELD : n);
}

static const char *printf_parse(const char *fmt, struct printf_spec *sp, va_list *ap) {
  for (;; fmt++) {
    if (*fmt == '-') sp->left = true;
    else if (*fmt == '0') sp->zero = true;
    else if (*fmt == '+') sp->plus = true;
    else if (*fmt == ' ') sp->space = true;
    else if (*fmt == '#') sp->alt = true;
    else break;
  }
  if ((*fmt >= '1' && *fmt <= '9') || *fmt == '*') {
    int w = printf_number(&fmt, ap);
    if (w < 0) sp->left = true, w = -w;  // C: a negative '*' width means left-justify
    sp->width = (size_t) w;
  }
  if (*fmt == '.') {
    fmt++;
    sp->prec = printf_number(&fmt, ap);
    if (sp->prec < 0) sp->prec = -1;  // Negative '*' precision: as if omitted
  }
  if (fmt[0] == 'h' && fmt[1] == 'h') sp->length = PRINTF_LEN_HH, fmt += 2;
  else if (fmt[0] == 'h') sp->length = PRINTF_LEN_H, fmt++;
  else if (fmt[0] == 'l' && fmt[1] == 'l') sp->length = PRINTF_LEN_LL, fmt += 2;
  else if (fmt[0] == 'l') sp->length = PRINTF_LEN_L, fmt++;
  else if (fmt[0] == 'z') sp->length = PRINTF_LEN_Z, fmt++;
  sp->conv = *fmt;
  return fmt;
}

static long long printf_arg_signed(va_list *ap, enum printf_length length) {
  switch (length) {
    case PRINTF_LEN_HH: return (signed char) va_arg(*ap, int);
    case PRINTF_LEN_H: return (short) va_arg(*ap, int);
    case PRINTF_LEN_L: return va_arg(*ap, long);
    case PRINTF_LEN_LL: return va_arg(*ap, long long);
    case PRINTF_LEN_Z: return (ptrdiff_t) va_arg(*ap, size_t);  // The signed size_t
    default: return va_arg(*ap, int);
  }
}

static unsigned long long printf_arg_unsigned(va_list *ap, enum printf_length length) {
  switch (length) {
    case PRINTF_LEN_HH: return (unsigned char) va_arg(*ap, unsigned);
    case PRINTF_LEN_H: return (unsigned short) va_arg(*ap, unsigned);
    case PRINTF_LEN_L: return va_arg(*ap, unsigned long);
    case PRINTF_LEN_LL: return va_arg(*ap, unsigned long long);
    case PRINTF_LEN_Z: return va_arg(*ap, size_t);
    default: return va_arg(*ap, unsigned);
  }
}

static printf_put_t printf_put_for(mg_pfn_t fn);

size_t mg_vxprintf(mg_pfn_t out, void *param, const char *fmt, va_list *ap) {
  struct printf_out o = {out, printf_put_for(out), param, 0, false};
  if (fmt == NULL) return 0;
  while (*fmt != '\0') {
    if (*fmt != '%') {  // A literal run, found by the C library's scan
      const char *pct = strchr(fmt, '%');
      size_t n = pct == NULL ? strlen(fmt) : (size_t) (pct - fmt);
      printf_puts(&o, fmt, n);
      fmt += n;
      continue;
    }
    const char *start = fmt;
    struct printf_spec sp = {false, false, false, false, false, 0, -1, PRINTF_LEN_INT, 0};
    fmt = printf_parse(fmt + 1, &sp, ap);
    if (*fmt == '\0') {  // Format ends inside a conversion: print it as is
      printf_puts(&o, start, (size_t) (fmt - start));
      break;
    }
    fmt++;
    switch (sp.conv) {
      case 'd':
      case 'i': {
        long long v = printf_arg_signed(ap, sp.length);
        // Negate in unsigned arithmetic so LLONG_MIN does not overflow
        printf_int(&o, &sp, v < 0 ? 0 - (unsigned long long) v : (unsigned long long) v, v < 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': printf_int(&o, &sp, printf_arg_unsigned(ap, sp.length), false); break;
      case 'p': printf_int(&o, &sp, (uintptr_t) va_arg(*ap, void *), false); break;
      case 'c': {
        char c = (char) va_arg(*ap, int);
        printf_lead(&o, &sp, "", 1, false);
        printf_putc(&o, c);
        printf_trail(&o, &sp, 1);
        break;
      }
      case 's': printf_str(&o, &sp, va_arg(*ap, const char *)); break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': printf_float(&o, &sp, va_arg(*ap, double)); break;
      case 'm':
      case 'M': {
        mg_pm_t fn = va_arg(*ap, mg_pm_t);
        if (sp.conv == 'm') printf_putc(&o, '"');
        if (fn != NULL) o.n += fn(out, param, ap);  // Writes straight to the caller's sink
        if (sp.conv == 'm') printf_putc(&o, '"');
        break;
      }
      case '%': printf_putc(&o, '%'); break;
      default: printf_puts(&o, start, (size_t) (fmt - start)); break;
    }
  }
  return o.n;
}

size_t mg_xprintf(mg_pfn_t out, void *param, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_vxprintf(out, param, fmt, &ap);
  va_end(ap);
  return n;
}

// snprintf's sink: stores what fits, always keeping one byte for the NUL.
struct printf_buf {
  char *buf;
  size_t len, pos;
};

static void printf_pfn_buf(char ch, void *param) {
  struct printf_buf *b = (struct printf_buf *) param;
  if (b->pos + 1 < b->len) b->buf[b->pos] = ch;
  b->pos++;
}

static void printf_put_buf(const char *s, size_t n, void *param) {
  struct printf_buf *b = (struct printf_buf *) param;
  if (b->pos + 1 < b->len) {
    size_t room = b->len - 1 - b->pos;
    memcpy(b->buf + b->pos, s, n < room ? n : room);
  }
  b->pos += n;
}

size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap) {
  struct printf_buf b = {buf, buf == NULL ? 0 : len, 0};
  size_t n = mg_vxprintf(printf_pfn_buf, &b, fmt, ap);
  if (b.len > 0) buf[b.pos < b.len ? b.pos : b.len - 1] = '\0';
  return n;
}

size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

// Keeps the text NUL-terminated past len whenever there is a byte for it, so
// that io->buf can be used as a C string (as in Mongoose)
void mg_pfn_iobuf(char ch, void *param) {
  struct mg_iobuf *io = (struct mg_iobuf *) param;
  if (io->len + 2 > io->size) mg_iobuf_resize(io, io->len + 2);  // The char and a NUL
  if (io->len < io->size) io->buf[io->len++] = (unsigned char) ch;
  if (io->len < io->size) io->buf[io->len] = '\0';
}

// mg_pfn_iobuf for a run: what fits after growing, and the NUL
static void printf_put_iobuf(const char *s, size_t n, void *param) {
  struct mg_iobuf *io = (struct mg_iobuf *) param;
  if (io->size - io->len < n + 1) mg_iobuf_resize(io, io->len + n + 1);
  size_t room = io->size - io->len, take = n < room ? n : room;
  memcpy(io->buf + io->len, s, take);
  io->len += take;
  if (io->len < io->size) io->buf[io->len] = '\0';
}

// Into the buffer the caller gave, never grown: what does not fit is dropped, and
// a NUL follows the text while there is a byte for it
void mg_pfn_iobuf_noresize(char ch, void *param) {
  struct mg_iobuf *io = (struct mg_iobuf *) param;
  if (io->len < io->size) io->buf[io->len++] = (unsigned char) ch;
  if (io->len < io->size) io->buf[io->len] = '\0';
}

void mg_pfn_stdout(char ch, void *param) {
  mg_port_putchar(ch);
  (void) param;
}

// Remembers a failed append and drops everything after it, so that output with
// a hole in it is never taken for whole
void mg_pfn_iobuf_checked(char ch, void *param) {
  struct mg_iobuf_out *o = (struct mg_iobuf_out *) param;
  if (o->failed) return;
  if (o->io->len < o->io->size) o->io->buf[o->io->len++] = (unsigned char) ch;
  else if (mg_iobuf_add(o->io, o->io->len, &ch, 1) == 0) o->failed = true;
}

void mg_iobuf_out_put(struct mg_iobuf_out *o, const char *s, size_t n) {
  if (o->failed || n == 0) return;
  if (o->io->size - o->io->len >= n) {
    memcpy(o->io->buf + o->io->len, s, n);
    o->io->len += n;
  } else if (mg_iobuf_add(o->io, o->io->len, s, n) == 0) {
    o->failed = true;
  }
}

void mg_iobuf_out_str(struct mg_iobuf_out *o, const char *s) {
  if (s != NULL) mg_iobuf_out_put(o, s, strlen(s));
}

// Formatted into a stack buffer from its end, then appended in one copy
void mg_iobuf_out_ulong(struct mg_iobuf_out *o, unsigned long v) {
  char digits[24];  // 64 bits need at most 20
  size_t i = sizeof(digits);
  do digits[--i] = (char) ('0' + v % 10);
  while ((v /= 10) > 0);
  mg_iobuf_out_put(o, digits + i, sizeof(digits) - i);
}

static void printf_put_iobuf_checked(const char *s, size_t n, void *param) {
  mg_iobuf_out_put((struct mg_iobuf_out *) param, s, n);
}

static printf_put_t printf_put_for(mg_pfn_t fn) {
  if (fn == mg_pfn_iobuf_checked) return printf_put_iobuf_checked;
  if (fn == mg_pfn_iobuf) return printf_put_iobuf;
  return fn == printf_pfn_buf ? printf_put_buf : NULL;
}

bool mg_iobuf_vprintf(struct mg_iobuf *io, const char *fmt, va_list *ap) {
  struct mg_iobuf_out o = {io, false};
  size_t old = io->len;
  mg_vxprintf(mg_pfn_iobuf_checked, &o, fmt, ap);
  if (o.failed) io->len = old;
  return !o.failed;
}

bool mg_iobuf_printf(struct mg_iobuf *io, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bool ok = mg_iobuf_vprintf(io, fmt, &ap);
  va_end(ap);
  return ok;
}

char *mg_vmprintf(const char *fmt, va_list *ap) {
  struct mg_iobuf io = {NULL, 0, 0, 64};
  if (!mg_iobuf_vprintf(&io, fmt, ap) || mg_iobuf_add(&io, io.len, "", 1) != 1) {
    mg_iobuf_free(&io);
    return NULL;
  }
  return (char *) io.buf;
}

char *mg_mprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = mg_vmprintf(fmt, &ap);
  va_end(ap);
  return s;
}

// Our own sinks take the bytes in one call; any other gets them one by one
static size_t printf_emit(mg_pfn_t out, void *param, const char *s, size_t len) {
  printf_put_t put = printf_put_for(out);
  if (put != NULL && len > 0) put(s, len, param);
  for (size_t i = 0; put == NULL && i < len; i++) out(s[i], param);
  return len;
}

// How JSON writes a byte that cannot stand for itself, or NULL
static const char *printf_json_escape(unsigned char c) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: return NULL;
  }
}

// JSON text is UTF-8 (RFC 8259 section 8.1), whatever bytes a caller hands over (a
// request path, a file name): a byte that starts no valid sequence (mg_utf8_len)
// prints as \ufffd, and valid sequences pass through whole.
size_t mg_print_esc(mg_pfn_t out, void *param, va_list *ap) {
  int len = va_arg(*ap, int);
  const char *s = va_arg(*ap, const char *);
  // A negative length (MG_ESC) means NUL-terminated; 0 is an empty slice, whose bytes
  // are never read since they need not end in a NUL
  size_t n = s == NULL ? 0 : len >= 0 ? (size_t) len : strlen(s), total = 0;
  size_t plain = 0;  // Bytes just before s + i that go out as they are, in one run
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char) s[i];
    const char *esc = printf_json_escape(c);
    size_t seq = c < 0x80 ? 1 : mg_utf8_len(s + i, n - i);
    if (esc == NULL && c >= 0x20 && seq > 0) {  // ASCII, or one whole UTF-8 sequence
      plain += seq, i += seq;
      continue;
    }
    total += printf_emit(out, param, s + i - plain, plain);
    plain = 0;
    if (esc != NULL) {
      total += printf_emit(out, param, esc, 2);
    } else if (c < 0x20) {  // RFC 8259: other control characters as \u00XX
      char u[6] = {'\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
      total += printf_emit(out, param, u, sizeof(u));
    } else {
      total += printf_emit(out, param, "\\ufffd", 6);
    }
    i++;
  }
  return total + printf_emit(out, param, s + n - plain, plain);
}

// RFC 5952 text: lowercase hex, no leading zeros, the longest run (first on a
// tie) of two or more zero groups as "::", IPv4-mapped addresses dotted.
// Without MG_ENABLE_IPV6 the eight groups as they are, which is still valid text.
static size_t printf_ip6(char *buf, size_t len, const uint8_t *ip) {
  uint16_t g[8];
  int best = -1, best_len = 1;
  for (int i = 0; i < 8; i++) g[i] = (uint16_t) (ip[2 * i] << 8 | ip[2 * i + 1]);
  if (!MG_ENABLE_IPV6) {
    size_t n = 0;
    for (int i = 0; i < 8; i++) n += mg_snprintf(buf + n, len - n, "%s%x", i == 0 ? "" : ":", g[i]);
    return n;
  }
  if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
    return mg_snprintf(buf, len, "::ffff:%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
  }
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j + 1;
  }
  size_t n = 0;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      n += mg_snprintf(buf + n, len - n, "::");
      i += best_len - 1;
    } else {
      n += mg_snprintf(buf + n, len - n, "%s%x", i == 0 || i == best + best_len ? "" : ":", g[i]);
    }
  }
  return n;
}

static size_t printf_addr(mg_pfn_t out, void *param, const struct mg_addr *a, bool with_port) {
  char buf[64];  // "[" + 39 chars of IPv6 + "]:65535" fits
  size_t n;
  if (a == NULL) {
    n = mg_snprintf(buf, sizeof(buf), "(null)");
  } else if (a->is_ip6) {
    n = mg_snprintf(buf, sizeof(buf), "%s", with_port ? "[" : "");
    n += printf_ip6(buf + n, sizeof(buf) - n, a->addr.ip);
    if (with_port) n += mg_snprintf(buf + n, sizeof(buf) - n, "]:%u", mg_ntohs(a->port));
  } else {
    n = mg_snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a->addr.ip[0], a->addr.ip[1], a->addr.ip[2], a->addr.ip[3]);
    if (with_port) n += mg_snprintf(buf + n, sizeof(buf) - n, ":%u", mg_ntohs(a->port));
  }
  return printf_emit(out, param, buf, n);
}

size_t mg_print_ip(mg_pfn_t out, void *param, va_list *ap) {
  return printf_addr(out, param, va_arg(*ap, const struct mg_addr *), false);
}

size_t mg_print_ip_port(mg_pfn_t out, void *param, va_list *ap) {
  return printf_addr(out, param, va_arg(*ap, const struct mg_addr *), true);
}

size_t mg_print_ip4(mg_pfn_t out, void *param, va_list *ap) {
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  char buf[16];
  size_t n = mg_snprintf(buf, sizeof(buf), "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  return printf_emit(out, param, buf, n);
}

size_t mg_print_ip6(mg_pfn_t out, void *param, va_list *ap) {
  char buf[48];
  size_t n = printf_ip6(buf, sizeof(buf), va_arg(*ap, const uint8_t *));
  return printf_emit(out, param, buf, n);
}

size_t mg_print_mac(mg_pfn_t out, void *param, va_list *ap) {
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  char buf[18];
  size_t n = mg_snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
  return printf_emit(out, param, buf, n);
}

size_t mg_print_hex(mg_pfn_t out, void *param, va_list *ap) {
  int len = va_arg(*ap, int);
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  size_t n = p == NULL || len < 0 ? 0 : (size_t) len;
  for (size_t i = 0; i < n; i++) {
    out("0123456789abcdef"[p[i] >> 4], param);
    out("0123456789abcdef"[p[i] & 15], param);
  }
  return 2 * n;
}

size_t mg_print_base64(mg_pfn_t out, void *param, va_list *ap) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  int len = va_arg(*ap, int);
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  size_t n = p == NULL || len < 0 ? 0 : (size_t) len, total = 0;
  for (size_t i = 0; i < n; i += 3) {  // Padded, as mg_base64_encode
    uint32_t g = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    char q[4] = {abc[g >> 18 & 63], abc[g >> 12 & 63], i + 1 < n ? abc[g >> 6 & 63] : '=', i + 2 < n ? abc[g & 63] : '='};
    total += printf_emit(out, param, q, sizeof(q));
  }
  return total;
}
