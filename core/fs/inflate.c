// Streaming DEFLATE decoder (RFC 1951) with gzip member framing (RFC 1952): owns
// the bit reader, the table-driven Huffman codes, the history window and the gzip checks.
#include "meerkat.h"

// Output is decoded into the window first and handed out from there, so a
// match never depends on how much room the caller's buffer has. Input is
// copied into a 64-bit bit buffer; nothing points into the caller's input
// between calls. The slow path takes input a byte at a time, only when the
// current item needs it; the fast path reads ahead and gives back whole bytes
// it did not use, so in_used ends exactly where the stream (or trailer) ends.

enum {  // Decoder states, in stream order
  INFLATE_GZ_ID,         // ID1 ID2 CM FLG
  INFLATE_GZ_FIXED,      // MTIME XFL OS, skipped
  INFLATE_GZ_XLEN,       // FEXTRA length
  INFLATE_GZ_EXTRA,      // FEXTRA data, skipped
  INFLATE_GZ_NAME,       // FNAME, skipped up to its NUL
  INFLATE_GZ_COMMENT,    // FCOMMENT, likewise
  INFLATE_GZ_HCRC,       // FHCRC: low 16 bits of the header's CRC-32
  INFLATE_BLOCK,         // BFINAL and BTYPE
  INFLATE_STORED_LEN,    // LEN and NLEN
  INFLATE_STORED,        // Stored bytes
  INFLATE_DYN_COUNTS,    // HLIT HDIST HCLEN
  INFLATE_DYN_CLENS,     // Code lengths of the code length code
  INFLATE_DYN_LENS,      // Literal/length and distance code lengths
  INFLATE_CODES,         // Huffman coded items
  INFLATE_COPY,          // Rest of a match that did not fit in the window
  INFLATE_TRAILER_CRC,   // gzip CRC32
  INFLATE_TRAILER_SIZE,  // gzip ISIZE
  INFLATE_CHECK,         // All read: waits for the window to drain, then checks
  INFLATE_DONE,
  INFLATE_FAILED
};
enum { INFLATE_IS_GZIP = 1, INFLATE_FINAL = 2, INFLATE_FIXED_READY = 4 };  // z->flags
enum {                                                                       // gzip FLG
  INFLATE_FHCRC = 2,
  INFLATE_FEXTRA = 4,
  INFLATE_FNAME = 8,
  INFLATE_FCOMMENT = 16,
  INFLATE_FRESERVED = 0xe0
};
enum { INFLATE_NEED = -1, INFLATE_BAD = -2 };  // Decoder results other than a symbol
// Why a step stopped: needs input, needs window room, stream ended, bad data, or carry on
enum { INFLATE_RUN_INPUT, INFLATE_RUN_ROOM, INFLATE_RUN_END, INFLATE_RUN_ERROR, INFLATE_RUN_ON };
enum {
  INFLATE_FAST_BITS = 9,    // Index bits of mg_inflate_code.fast
  INFLATE_MAX_MATCH = 258,
  INFLATE_ITEM_BITS = 48,   // Longest item: 15 + 5 length bits, 15 + 13 distance bits
  INFLATE_WSIZE = MG_INFLATE_WINDOW
};

// RFC 1951 3.2.5
static const uint16_t inflate_len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,
                                              15, 17, 19, 23, 27, 31, 35, 43, 51,  59,
                                              67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t inflate_len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                              2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t inflate_dist_base[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t inflate_dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                               6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// RFC 1951 3.2.7: the order in which code length code lengths are sent
static const uint8_t inflate_clen_order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                               11, 4,  12, 3, 13, 2, 14, 1, 15};

struct inflate_input {
  const uint8_t *buf;
  size_t len, pos;  // pos counts bytes consumed in this call
};

// Reverses the low 15 bits: Huffman codes are sent most significant bit first
static unsigned inflate_reverse15(unsigned v) {
  v = ((v >> 1) & 0x5555) | ((v & 0x5555) << 1);
  v = ((v >> 2) & 0x3333) | ((v & 0x3333) << 2);
  v = ((v >> 4) & 0x0f0f) | ((v & 0x0f0f) << 4);
  v = ((v >> 8) & 0x00ff) | ((v & 0x00ff) << 8);
  return (v & 0xffff) >> 1;
}

// Builds the decoding table of the canonical code (RFC 1951 3.2.2) with the
// given code lengths. Returns the unused code space in units of 2^-15 (0 for
// a complete code), or -1 if the lengths are over-subscribed.
static int inflate_build(struct mg_inflate_code *c, uint16_t *sym, const uint8_t *lens, unsigned n) {
  uint16_t next[16];
  int left = 1;
  unsigned len, s, code = 0, index = 0;
  memset(c, 0, sizeof(*c));
  for (s = 0; s < n; s++) c->count[lens[s]]++;
  c->count[0] = 0;
  for (len = 1; len < 16; len++) {
    left = left * 2 - (int) c->count[len];
    if (left < 0) return -1;
    code = (code + c->count[len - 1]) << 1;
    c->first[len] = (uint16_t) code;
    c->index[len] = next[len] = (uint16_t) index;
    index += c->count[len];
    if (c->count[len] > 0) c->max_len = (uint16_t) len;
  }
  for (s = 0; s < n; s++) {
    if (lens[s] != 0) sym[next[lens[s]]++] = (uint16_t) s;
  }
  // Each short code fills every fast slot whose low bits spell it
  for (len = 1; len <= INFLATE_FAST_BITS; len++) {
    for (unsigned k = 0; k < c->count[len]; k++) {
      unsigned slot = inflate_reverse15((c->first[len] + k) << (15 - len));
      uint16_t entry = (uint16_t) (sym[c->index[len] + k] | len << 9);
      for (; slot < (1u << INFLATE_FAST_BITS); slot += 1u << len) c->fast[slot] = entry;
    }
  }
  return left;
}

// A complete code, or the one incomplete shape RFC 1951 allows (and zlib
// accepts): a single code of one bit. Whether no codes at all will do is the caller's call.
static bool inflate_code_ok(const struct mg_inflate_code *c, int left) {
  return left == 0 || (left > 0 && c->max_len == 1 && c->count[1] == 1);
}

// Decodes one symbol from the low nbits of bits. Returns it and sets *used to
// its code length, or INFLATE_NEED if the code may run past nbits, or
// INFLATE_BAD for a bit pattern that is no code of the set.
static int inflate_decode(const struct mg_inflate_code *c, const uint16_t *sym, uint64_t bits,
                          unsigned nbits, unsigned *used) {
  unsigned entry = c->fast[bits & ((1u << INFLATE_FAST_BITS) - 1)], code, len;
  if (entry != 0) {
    if ((entry >> 9) > nbits) return INFLATE_NEED;
    *used = entry >> 9;
    return (int) (entry & 511);
  }
  // Missing bits read as zeros, so an empty slot is final only once the slot's bits are all real
  if (nbits < INFLATE_FAST_BITS) return nbits < c->max_len ? INFLATE_NEED : INFLATE_BAD;
  code = inflate_reverse15((unsigned) (bits & 0x7fff));
  for (len = INFLATE_FAST_BITS + 1; len <= c->max_len; len++) {
    unsigned prefix = code >> (15 - len);
    if (len > nbits) return INFLATE_NEED;
    if (prefix - c->first[len] < c->count[len]) {
      *used = len;
      return sym[c->index[len] + prefix - c->first[len]];
    }
  }
  return INFLATE_BAD;
}

// One literal, end of block, or whole length/distance pair from the bit
// buffer, all or nothing. Returns the bits it spans, INFLATE_NEED or
// INFLATE_BAD. *sym is the literal/length symbol; for a length, *len and *dist
// give the match, whose distance must lie within the have bytes decoded so far.
static int inflate_decode_item(const struct mg_inflate *z, uint32_t have, uint64_t bits,
                               unsigned nbits, unsigned *sym, unsigned *len, unsigned *dist) {
  unsigned used, dist_used, extra;
  int s = inflate_decode(&z->lit, z->lit_sym, bits, nbits, &used);
  if (s < 0) return s;
  *sym = (unsigned) s;
  if (s <= 256) return (int) used;
  if (s > 285) return INFLATE_BAD;  // 286 and 287 exist only in the fixed code
  extra = inflate_len_extra[s - 257];
  if (used + extra > nbits) return INFLATE_NEED;
  *len = inflate_len_base[s - 257] + ((unsigned) (bits >> used) & ((1u << extra) - 1));
  used += extra;
  s = inflate_decode(&z->dist, z->dist_sym, bits >> used, nbits - used, &dist_used);
  if (s < 0) return s;
  if (s > 29) return INFLATE_BAD;  // 30 and 31 likewise
  used += dist_used;
  extra = inflate_dist_extra[s];
  if (used + extra > nbits) return INFLATE_NEED;
  *dist = inflate_dist_base[s] + ((unsigned) (bits >> used) & ((1u << extra) - 1));
  if (*dist > have) return INFLATE_BAD;  // Before the start of the data, or beyond the window
  return (int) (used + extra);
}

// Writes a match of len bytes from dist back at window index pos; the source
// may overlap what is being written. Returns the next write index.
static uint32_t inflate_copy(uint8_t *w, uint32_t pos, unsigned len, unsigned dist) {
  uint32_t from = pos >= dist ? pos - dist : pos + INFLATE_WSIZE - dist;
  if (pos + len <= INFLATE_WSIZE && from + len <= INFLATE_WSIZE) {
    uint8_t *d = w + pos;
    const uint8_t *s = w + from;
    if (from > pos) {
      memmove(d, s, len);  // From the far end of the window: may overlap from above
    } else if (dist >= len) {
      memcpy(d, s, len);  // Reads only bytes from before this match
    } else {
      for (const uint8_t *e = d + len; d < e;) *d++ = *s++;  // Repeats a short run
    }
    pos += len;
    return pos == INFLATE_WSIZE ? 0 : pos;
  }
  while (len-- > 0) {
    w[pos] = w[from];
    if (++pos == INFLATE_WSIZE) pos = 0;
    if (++from == INFLATE_WSIZE) from = 0;
  }
  return pos;
}

// Accounts for n bytes just written to the window, ending before index pos
static void inflate_wrote(struct mg_inflate *z, uint32_t pos, uint32_t n) {
  z->wpos = pos;
  z->pending += n;
  z->have = z->have + n > INFLATE_WSIZE ? INFLATE_WSIZE : z->have + n;
}

// Hands out decoded bytes waiting in the window, oldest first
static void inflate_flush(struct mg_inflate *z, uint8_t *out, size_t out_len, size_t *made) {
  while (z->pending > 0 && *made < out_len) {
    uint32_t start = z->wpos >= z->pending ? z->wpos - z->pending
                                           : z->wpos + INFLATE_WSIZE - z->pending;
    size_t n = z->pending;
    if (n > INFLATE_WSIZE - start) n = INFLATE_WSIZE - start;
    if (n > out_len - *made) n = out_len - *made;
    memcpy(out + *made, z->window + start, n);
    if (z->flags & INFLATE_IS_GZIP) {
      z->crc = mg_crc32(z->crc, (const char *) out + *made, n);
      z->size += (uint32_t) n;  // ISIZE is the length modulo 2^32
    }
    *made += n;
    z->pending -= (uint32_t) n;
  }
}

// Tops the bit buffer up to n bits, a byte at a time; false if the input ran out first
static bool inflate_need(struct mg_inflate *z, struct inflate_input *in, unsigned n) {
  while (z->nbits < n) {
    if (in->pos >= in->len) return false;
    z->bits |= (uint64_t) in->buf[in->pos++] << z->nbits;
    z->nbits += 8;
  }
  return true;
}

static void inflate_drop(struct mg_inflate *z, unsigned n) {
  z->bits >>= n;
  z->nbits -= n;
}

// Next byte of a byte-aligned field, or -1 if the input ran out
static int inflate_byte(struct mg_inflate *z, struct inflate_input *in) {
  int b;
  if (!inflate_need(z, in, 8)) return -1;
  b = (int) (z->bits & 255);
  inflate_drop(z, 8);
  return b;
}

// Next gzip header byte; the header CRC covers every byte before FHCRC
static int inflate_header_byte(struct mg_inflate *z, struct inflate_input *in) {
  int b = inflate_byte(z, in);
  if (b >= 0) {
    char c = (char) b;
    z->hcrc = mg_crc32(z->hcrc, &c, 1);
  }
  return b;
}

// Gathers an n-byte little-endian field into z->acc, across calls if need be
static bool inflate_gather(struct mg_inflate *z, struct inflate_input *in, uint32_t n, bool header) {
  while (z->acc_n < n) {
    int b = header ? inflate_header_byte(z, in) : inflate_byte(z, in);
    if (b < 0) return false;
    z->acc |= (uint32_t) b << (8 * z->acc_n++);
  }
  return true;
}

static uint32_t inflate_take(struct mg_inflate *z) {
  uint32_t v = z->acc;
  z->acc = z->acc_n = 0;
  return v;
}

// Skips z->left header bytes
static bool inflate_skip(struct mg_inflate *z, struct inflate_input *in) {
  for (; z->left > 0; z->left--) {
    if (inflate_header_byte(z, in) < 0) return false;
  }
  return true;
}

// Skips a NUL-terminated header string
static bool inflate_skip_string(struct mg_inflate *z, struct inflate_input *in) {
  for (;;) {
    int b = inflate_header_byte(z, in);
    if (b <= 0) return b == 0;
  }
}

static void inflate_use_fixed_codes(struct mg_inflate *z) {
  unsigned i;
  if (z->flags & INFLATE_FIXED_READY) return;
  for (i = 0; i < 288; i++) z->lens[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
  inflate_build(&z->lit, z->lit_sym, z->lens, 288);
  for (i = 0; i < 32; i++) z->lens[i] = 5;
  inflate_build(&z->dist, z->dist_sym, z->lens, 32);
  z->flags |= INFLATE_FIXED_READY;
}

static void inflate_end_block(struct mg_inflate *z) {
  if (!(z->flags & INFLATE_FINAL)) {
    z->state = INFLATE_BLOCK;
    return;
  }
  inflate_drop(z, z->nbits & 7);  // The rest of the last byte is padding
  z->state = (z->flags & INFLATE_IS_GZIP) ? INFLATE_TRAILER_CRC : INFLATE_CHECK;
}

// Reads the literal/length and distance code lengths (RFC 1951 3.2.7), which
// may run across from one set into the other, then builds both codes
static int inflate_dynamic_lens(struct mg_inflate *z, struct inflate_input *in) {
  uint32_t total = z->hlit + z->hdist;
  int left;
  while (z->nlens < total) {
    unsigned used = 0, extra, repeat, value = 0;
    int sym = inflate_decode(&z->lit, z->lit_sym, z->bits, z->nbits, &used);
    if (sym == INFLATE_BAD) return INFLATE_RUN_ERROR;
    extra = sym == 16 ? 2 : sym == 17 ? 3 : sym == 18 ? 7 : 0;
    if (sym == INFLATE_NEED || used + extra > z->nbits) {
      if (!inflate_need(z, in, z->nbits + 1)) return INFLATE_RUN_INPUT;
      continue;
    }
    if (sym < 16) {
      z->lens[z->nlens++] = (uint8_t) sym;
      inflate_drop(z, used);
      continue;
    }
    repeat = (unsigned) (z->bits >> used) & ((1u << extra) - 1);
    if (sym == 16) {
      if (z->nlens == 0) return INFLATE_RUN_ERROR;  // Nothing to repeat
      value = z->lens[z->nlens - 1];
      repeat += 3;
    } else {
      repeat += sym == 17 ? 3 : 11;
    }
    if (repeat > total - z->nlens) return INFLATE_RUN_ERROR;
    memset(z->lens + z->nlens, (int) value, repeat);
    z->nlens += repeat;
    inflate_drop(z, used + extra);
  }
  if (z->lens[256] == 0) return INFLATE_RUN_ERROR;  // The block could never end
  left = inflate_build(&z->lit, z->lit_sym, z->lens, z->hlit);
  if (!inflate_code_ok(&z->lit, left)) return INFLATE_RUN_ERROR;
  // No distance codes at all (all the code space left) is fine for a block of literals only
  left = inflate_build(&z->dist, z->dist_sym, z->lens + z->hlit, z->hdist);
  if (left != 1 << 15 && !inflate_code_ok(&z->dist, left)) return INFLATE_RUN_ERROR;
  z->state = INFLATE_CODES;
  return INFLATE_RUN_ON;
}

// Stored block bytes: straight from the input to the window
static int inflate_stored(struct mg_inflate *z, struct inflate_input *in) {
  while (z->left > 0) {
    uint32_t n = INFLATE_WSIZE - z->pending;
    if (n == 0) return INFLATE_RUN_ROOM;
    if (z->nbits >= 8) {  // Only if bytes were buffered ahead; normally empty here
      z->window[z->wpos] = (uint8_t) inflate_byte(z, in);
      inflate_wrote(z, z->wpos + 1 == INFLATE_WSIZE ? 0 : z->wpos + 1, 1);
      z->left--;
      continue;
    }
    if (in->pos >= in->len) return INFLATE_RUN_INPUT;
    if (n > z->left) n = z->left;
    if (n > INFLATE_WSIZE - z->wpos) n = INFLATE_WSIZE - z->wpos;
    if (n > in->len - in->pos) n = (uint32_t) (in->len - in->pos);
    memcpy(z->window + z->wpos, in->buf + in->pos, n);
    in->pos += n;
    z->left -= n;
    inflate_wrote(z, z->wpos + n == INFLATE_WSIZE ? 0 : z->wpos + n, n);
  }
  inflate_end_block(z);
  return INFLATE_RUN_ON;
}

// Eight input bytes, first byte lowest, whatever the host's byte order; gcc
// and clang turn this form (not a loop) into one load on little-endian hosts
static uint64_t inflate_load64(const uint8_t *p) {
  return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16 | (uint64_t) p[3] << 24 |
         (uint64_t) p[4] << 32 | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48 | (uint64_t) p[7] << 56;
}

// A length/distance pair whose two codes are both in the fast tables, given
// the literal/length table's entry for the low bits: the usual match, decoded
// without inflate_decode_item's checks for partial input. Returns the bits it
// spans, 0 if either code is longer (the caller decodes it the slow way), or
// INFLATE_BAD for a distance before the start of the data.
static int inflate_fast_match(const struct mg_inflate *z, uint32_t have, uint64_t bits, unsigned entry,
                              unsigned *len, unsigned *dist) {
  unsigned sym = entry & 511, at = entry >> 9, extra, d;
  if (sym <= 256 || sym > 285) return 0;
  extra = inflate_len_extra[sym - 257];
  *len = inflate_len_base[sym - 257] + ((unsigned) (bits >> at) & ((1u << extra) - 1));
  at += extra;
  entry = z->dist.fast[(bits >> at) & ((1u << INFLATE_FAST_BITS) - 1)];
  d = entry & 511;
  if (entry == 0 || d > 29) return 0;
  at += entry >> 9;
  extra = inflate_dist_extra[d];
  *dist = inflate_dist_base[d] + ((unsigned) (bits >> at) & ((1u << extra) - 1));
  return *dist > have ? INFLATE_BAD : (int) (at + extra);
}

// The hot loop: decodes whole items while a longest item is buffered and a
// longest match fits in the window. Returns false on malformed data.
static bool inflate_fast(struct mg_inflate *z, struct inflate_input *in) {
  uint8_t *w = z->window;
  const uint8_t *buf = in->buf;
  const uint16_t *lit_fast = z->lit.fast;
  uint64_t bits = z->bits;
  unsigned nbits = z->nbits, sym = 0, len = 0, dist = 0, entry;
  size_t pos = in->pos, end = in->len, give;
  uint32_t wpos = z->wpos, pending = z->pending, have = z->have;
  bool ok = true, end_of_block = false;
  while (INFLATE_WSIZE - pending >= INFLATE_MAX_MATCH) {
    int used;
    if (nbits < INFLATE_ITEM_BITS) {
      if (end - pos >= 8) {  // Whole bytes that fit; the partial one above them is real input too
        bits |= inflate_load64(buf + pos) << nbits;
        pos += (63 - nbits) >> 3;
        nbits |= 56;
      } else {
        while (nbits <= 56 && pos < end) {
          bits |= (uint64_t) buf[pos++] << nbits;
          nbits += 8;
        }
        if (nbits < INFLATE_ITEM_BITS) break;
      }
    }
    entry = lit_fast[bits & ((1u << INFLATE_FAST_BITS) - 1)];
    if ((entry & 511) < 256 && entry != 0) {  // A literal with a short code: most items
      bits >>= entry >> 9;
      nbits -= entry >> 9;
      w[wpos] = (uint8_t) entry;
      if (++wpos == INFLATE_WSIZE) wpos = 0;
      pending++;
      if (have < INFLATE_WSIZE) have++;
      continue;
    }
    used = inflate_fast_match(z, have, bits, entry, &len, &dist);
    if (used == 0) used = inflate_decode_item(z, have, bits, nbits, &sym, &len, &dist);
    else sym = 257;  // Any length symbol: the match is decoded
    if (used < 0) {  // INFLATE_NEED cannot happen with this many bits
      ok = false;
      break;
    }
    bits >>= used;
    nbits -= (unsigned) used;
    if (sym < 256) {
      w[wpos] = (uint8_t) sym;
      if (++wpos == INFLATE_WSIZE) wpos = 0;
      pending++;
      if (have < INFLATE_WSIZE) have++;
    } else if (sym == 256) {
      end_of_block = true;
      break;
    } else {
      wpos = inflate_copy(w, wpos, len, dist);
      pending += len;
      have = have + len > INFLATE_WSIZE ? INFLATE_WSIZE : have + len;
    }
  }
  // Whole bytes read ahead go back to the caller (only this call's bytes can)
  give = nbits / 8;
  if (give > pos) give = pos;
  pos -= give;
  nbits -= (unsigned) (8 * give);
  if (nbits < 64) bits &= ((uint64_t) 1 << nbits) - 1;
  z->bits = bits;
  z->nbits = nbits;
  in->pos = pos;
  z->wpos = wpos;
  z->pending = pending;
  z->have = have;
  if (ok && end_of_block) inflate_end_block(z);
  return ok;
}

// Runs the state machine until it needs input, needs window room, reaches the
// end of the stream, or meets malformed data (an INFLATE_RUN_* value)
static int inflate_run(struct mg_inflate *z, struct inflate_input *in) {
  for (;;) {
    switch (z->state) {
      case INFLATE_GZ_ID:
        if (!inflate_gather(z, in, 4, true)) return INFLATE_RUN_INPUT;
        z->gz_flags = inflate_take(z);
        if ((z->gz_flags & 0xffffff) != 0x088b1f) return INFLATE_RUN_ERROR;  // 1f 8b, CM 8
        z->gz_flags >>= 24;
        if (z->gz_flags & INFLATE_FRESERVED) return INFLATE_RUN_ERROR;
        z->left = 6;
        z->state = INFLATE_GZ_FIXED;
        break;
      case INFLATE_GZ_FIXED:
        if (!inflate_skip(z, in)) return INFLATE_RUN_INPUT;
        z->state = INFLATE_GZ_XLEN;
        break;
      case INFLATE_GZ_XLEN:
        if (z->gz_flags & INFLATE_FEXTRA) {
          if (!inflate_gather(z, in, 2, true)) return INFLATE_RUN_INPUT;
          z->left = inflate_take(z);
        }
        z->state = INFLATE_GZ_EXTRA;
        break;
      case INFLATE_GZ_EXTRA:
        if (!inflate_skip(z, in)) return INFLATE_RUN_INPUT;
        z->state = INFLATE_GZ_NAME;
        break;
      case INFLATE_GZ_NAME:
        if ((z->gz_flags & INFLATE_FNAME) && !inflate_skip_string(z, in)) return INFLATE_RUN_INPUT;
        z->state = INFLATE_GZ_COMMENT;
        break;
      case INFLATE_GZ_COMMENT:
        if ((z->gz_flags & INFLATE_FCOMMENT) && !inflate_skip_string(z, in)) return INFLATE_RUN_INPUT;
        z->state = INFLATE_GZ_HCRC;
        break;
      case INFLATE_GZ_HCRC:
        if (z->gz_flags & INFLATE_FHCRC) {
          if (!inflate_gather(z, in, 2, false)) return INFLATE_RUN_INPUT;
          if (inflate_take(z) != (z->hcrc & 0xffff)) return INFLATE_RUN_ERROR;
        }
        z->state = INFLATE_BLOCK;
        break;
      case INFLATE_BLOCK: {
        unsigned type;
        if (!inflate_need(z, in, 3)) return INFLATE_RUN_INPUT;
        if (z->bits & 1) z->flags |= INFLATE_FINAL;
        type = (unsigned) (z->bits >> 1) & 3;
        inflate_drop(z, 3);
        if (type == 0) {
          inflate_drop(z, z->nbits & 7);  // LEN starts on a byte boundary
          z->state = INFLATE_STORED_LEN;
        } else if (type == 1) {
          inflate_use_fixed_codes(z);
          z->state = INFLATE_CODES;
        } else if (type == 2) {
          z->state = INFLATE_DYN_COUNTS;
        } else {
          return INFLATE_RUN_ERROR;  // Reserved block type
        }
        break;
      }
      case INFLATE_STORED_LEN: {
        uint32_t v;
        if (!inflate_gather(z, in, 4, false)) return INFLATE_RUN_INPUT;
        v = inflate_take(z);
        if ((v & 0xffff) != (~v >> 16)) return INFLATE_RUN_ERROR;  // NLEN is not ~LEN
        z->left = v & 0xffff;
        z->state = INFLATE_STORED;
        break;
      }
      case INFLATE_STORED: {
        int r = inflate_stored(z, in);
        if (r != INFLATE_RUN_ON) return r;
        break;
      }
      case INFLATE_DYN_COUNTS:
        if (!inflate_need(z, in, 14)) return INFLATE_RUN_INPUT;
        z->hlit = 257 + (uint32_t) (z->bits & 31);
        z->hdist = 1 + (uint32_t) ((z->bits >> 5) & 31);
        z->hclen = 4 + (uint32_t) ((z->bits >> 10) & 15);
        inflate_drop(z, 14);
        if (z->hlit > 286 || z->hdist > 30) return INFLATE_RUN_ERROR;
        memset(z->lens, 0, 19);
        z->nlens = 0;
        z->state = INFLATE_DYN_CLENS;
        break;
      case INFLATE_DYN_CLENS:
        while (z->nlens < z->hclen) {
          if (!inflate_need(z, in, 3)) return INFLATE_RUN_INPUT;
          z->lens[inflate_clen_order[z->nlens++]] = (uint8_t) (z->bits & 7);
          inflate_drop(z, 3);
        }
        // The code length code must be complete; it is built where the
        // literal/length code goes, which it precedes
        z->flags &= ~(uint32_t) INFLATE_FIXED_READY;
        if (inflate_build(&z->lit, z->lit_sym, z->lens, 19) != 0) return INFLATE_RUN_ERROR;
        z->nlens = 0;
        z->state = INFLATE_DYN_LENS;
        break;
      case INFLATE_DYN_LENS: {
        int r = inflate_dynamic_lens(z, in);
        if (r != INFLATE_RUN_ON) return r;
        break;
      }
      case INFLATE_CODES: {
        unsigned sym = 0, len = 0, dist = 0;
        int used;
        if (in->len - in->pos >= 8 && INFLATE_WSIZE - z->pending >= INFLATE_MAX_MATCH) {
          if (!inflate_fast(z, in)) return INFLATE_RUN_ERROR;
          if (z->state != INFLATE_CODES) break;
        }
        // Near the end of the input or of the window room: one item at a time
        if (z->pending == INFLATE_WSIZE) return INFLATE_RUN_ROOM;
        used = inflate_decode_item(z, z->have, z->bits, z->nbits, &sym, &len, &dist);
        if (used == INFLATE_BAD) return INFLATE_RUN_ERROR;
        if (used == INFLATE_NEED) {
          if (!inflate_need(z, in, z->nbits + 1)) return INFLATE_RUN_INPUT;
          break;
        }
        inflate_drop(z, (unsigned) used);
        if (sym < 256) {
          z->window[z->wpos] = (uint8_t) sym;
          inflate_wrote(z, z->wpos + 1 == INFLATE_WSIZE ? 0 : z->wpos + 1, 1);
        } else if (sym == 256) {
          inflate_end_block(z);
        } else {
          z->left = len;
          z->copy_dist = dist;
          z->state = INFLATE_COPY;
        }
        break;
      }
      case INFLATE_COPY: {
        uint32_t n = INFLATE_WSIZE - z->pending;
        if (n > z->left) n = z->left;
        inflate_wrote(z, inflate_copy(z->window, z->wpos, n, z->copy_dist), n);
        z->left -= n;
        if (z->left > 0) return INFLATE_RUN_ROOM;
        z->state = INFLATE_CODES;
        break;
      }
      case INFLATE_TRAILER_CRC:
        if (!inflate_gather(z, in, 4, false)) return INFLATE_RUN_INPUT;
        z->want_crc = inflate_take(z);
        z->state = INFLATE_TRAILER_SIZE;
        break;
      case INFLATE_TRAILER_SIZE:
        if (!inflate_gather(z, in, 4, false)) return INFLATE_RUN_INPUT;
        z->state = INFLATE_CHECK;  // ISIZE stays in z->acc
        break;
      case INFLATE_CHECK:
        return INFLATE_RUN_END;
      default:
        return INFLATE_RUN_ERROR;
    }
  }
}

void mg_inflate_init(struct mg_inflate *z, bool gzip) {
  if (z == NULL) return;
  // The window needs no clearing: only bytes already decoded are ever read from it
  memset(&z->lit, 0, sizeof(*z) - offsetof(struct mg_inflate, lit));
  z->flags = gzip ? INFLATE_IS_GZIP : 0;
  z->state = gzip ? INFLATE_GZ_ID : INFLATE_BLOCK;
}

int mg_inflate(struct mg_inflate *z, const uint8_t *in, size_t in_len, size_t *in_used,
               uint8_t *out, size_t out_len, size_t *out_made) {
  struct inflate_input input = {in, in == NULL ? 0 : in_len, 0};
  size_t made = 0;
  int result = MG_INFLATE_MORE;
  if (out == NULL) out_len = 0;
  if (z == NULL || z->state == INFLATE_FAILED) {
    result = MG_INFLATE_ERROR;
  } else if (z->state == INFLATE_DONE) {
    result = MG_INFLATE_DONE;
  } else {
    for (;;) {
      int why = inflate_run(z, &input);
      // Bytes decoded before malformed data are handed out too, so the output
      // does not depend on how the input was split
      inflate_flush(z, out, out_len, &made);
      if (why == INFLATE_RUN_ERROR) {
        z->state = INFLATE_FAILED;
        result = MG_INFLATE_ERROR;
      } else if (why == INFLATE_RUN_ROOM && z->pending < INFLATE_WSIZE) {
        continue;  // The flush made room: decode on
      } else if (why == INFLATE_RUN_END && z->pending == 0) {
        bool ok = !(z->flags & INFLATE_IS_GZIP) || (z->crc == z->want_crc && z->size == z->acc);
        z->state = ok ? INFLATE_DONE : INFLATE_FAILED;
        result = ok ? MG_INFLATE_DONE : MG_INFLATE_ERROR;
      }
      break;
    }
  }
  if (in_used != NULL) *in_used = input.pos;
  if (out_made != NULL) *out_made = made;
  return result;
}
