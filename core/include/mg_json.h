// JSON (RFC 8259): read values out of a document in place, by path, without a tree.
#ifndef MG_JSON_H
#define MG_JSON_H

// Containers nested deeper than this are refused with MG_JSON_TOO_DEEP (the scanner
// keeps one byte per level; it never recurses)
#ifndef MG_JSON_MAX_DEPTH
#define MG_JSON_MAX_DEPTH 30
#endif

enum { MG_JSON_TOO_DEEP = -1, MG_JSON_INVALID = -2, MG_JSON_NOT_FOUND = -3 };

// Offset of the value at path ("$", "$.a.b", "$.list[2]", "$[0].x") in json, its length
// in *toklen (0 on failure); or a negative MG_JSON_* code. The whole document must be
// strict RFC 8259 JSON in UTF-8 (lone \uD800-\uDFFF surrogates are refused too).
// Names in a path compare with the unescaped member names; with duplicate names the
// first is taken. A malformed path finds nothing (MG_JSON_NOT_FOUND).
int mg_json_get(struct mg_str json, const char *path, int *toklen);
// The value at path as a slice of json (buf NULL, len 0 when absent or invalid)
struct mg_str mg_json_get_tok(struct mg_str json, const char *path);
// Number: false if absent, not a number, or beyond a double's range (1e400)
bool mg_json_get_num(struct mg_str json, const char *path, double *v);
bool mg_json_get_bool(struct mg_str json, const char *path, bool *v);  // true or false only
// Integers exactly; fractions truncated toward zero; dflt if absent, not a number or out of range
long mg_json_get_long(struct mg_str json, const char *path, long dflt);
// A whole number (42, 42.0, 4.2e1) exactly, even beyond 2^53 where a double rounds;
// false (v untouched) if absent, not a number, not whole, or beyond int64_t
bool mg_json_get_int64(struct mg_str json, const char *path, int64_t *v);
// Allocated (mg_calloc; release with mg_free), NUL-terminated; NULL when absent,
// not of that type, invalid, or out of memory
char *mg_json_get_str(struct mg_str json, const char *path);   // a string, unescaped; no \u0000
char *mg_json_get_hex(struct mg_str json, const char *path, int *len);  // "a1b2" -> bytes
char *mg_json_get_b64(struct mg_str json, const char *path, int *len);  // base64 -> bytes
// The string at path unescaped into buf, NUL-terminated (Mongoose 7.22): its length,
// or 0 (buf "" when len > 0) if absent, not a string, malformed, holding \u0000, too
// long for buf, or empty
size_t mg_json_unescape(struct mg_str json, const char *path, char *buf, size_t len);
// The body of a JSON string (between the quotes) unescaped into buf, NUL-terminated;
// false (buf "") if it does not fit, is malformed, or holds \u0000
bool mg_json_unescape_body(struct mg_str str, char *buf, size_t len);
// The length in bytes of the string body str unescaped (without a NUL), or -1 when it
// is malformed (an invalid escape, a lone surrogate, a control character, bad UTF-8);
// *nul (may be NULL) tells whether it holds \u0000, which a C string cannot carry
long mg_json_unescaped_len(struct mg_str str, bool *nul);
// Whether json is one valid document, as mg_json_get judges; if not, why, for an error
// message, into buf (may be NULL): the fault, its byte offset, and the member of the
// outermost object it lies in, e.g. "a lone surrogate \ud800 (not a character) at
// byte 15 in member \"password\""
bool mg_json_check(struct mg_str json, char *buf, size_t len);
// Iterate an object's members or an array's elements: start with ofs 0, pass the
// returned offset back; 0 when done or if obj is not a valid object or array.
// key is the member name as written, quotes included ({NULL, 0} for array
// elements); val the value as written. key and val may be NULL.
size_t mg_json_next(struct mg_str obj, size_t ofs, struct mg_str *key, struct mg_str *val);

#endif  // MG_JSON_H
