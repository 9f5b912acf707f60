// Non-owning string slices (pointer + length) and the helpers that compare,
// split and match them without copying.
#ifndef MG_STR_H
#define MG_STR_H

struct mg_str {
  char *buf;   // Not NUL-terminated in general
  size_t len;
};

#define MG_NULL_STR {NULL, 0}
// A slice of a string literal, usable in static initialisers
#define MG_C_STR(a) {(char *) (a), sizeof(a) - 1}

struct mg_str mg_str(const char *s);                 // NULL gives an empty slice
struct mg_str mg_str_n(const char *s, size_t n);
int mg_strcmp(const struct mg_str a, const struct mg_str b);      // like strcmp
int mg_strcasecmp(const struct mg_str a, const struct mg_str b);  // ASCII case-insensitive
int mg_casecmp(const char *a, const char *b);
int mg_ncasecmp(const char *a, const char *b, size_t len);
bool mg_str_eq(struct mg_str a, const char *b);                   // exact equality with a C string
struct mg_str mg_strdup(const struct mg_str s);                   // malloc'd, NUL-terminated; {NULL,0} on failure
struct mg_str mg_str_trim(struct mg_str s);                       // strip leading/trailing blanks (SP, HT)

// Split s at the first delim: a gets what precedes it, b what follows.
// Returns false when s is empty. Without delim, a = s and b is empty.
bool mg_span(struct mg_str s, struct mg_str *a, struct mg_str *b, char delim);

// Glob match of the whole of str, as in Mongoose: '?' one char, '*' any run
// without '/', '#' any run (slashes too); other chars match themselves.
// caps, if not NULL, receives one slice per wildcard, then an empty slice
// (so it needs room for the number of wildcards plus one).
bool mg_match(struct mg_str str, struct mg_str pattern, struct mg_str *caps);

// Strict unsigned decimal / hex parsing of a whole slice; false on empty, junk or overflow.
bool mg_str_to_u64(struct mg_str s, int base, uint64_t *out);

// Strict UTF-8 (RFC 3629: no overlongs, surrogates or code points past U+10FFFF):
// the length of the valid sequence at buf (n > 0 bytes available), or 0; and
// whether all of buf is valid
size_t mg_utf8_len(const void *buf, size_t n);
bool mg_utf8_valid(const void *buf, size_t len);

#endif  // MG_STR_H
