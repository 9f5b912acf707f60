// JSON (RFC 8259): read values out of a document in place, by path, without a tree.
#ifndef MG_JSON_H
#define MG_JSON_H

// Nesting deeper than this is refused (bounded recursion on a device's stack)
#ifndef MG_JSON_MAX_DEPTH
#define MG_JSON_MAX_DEPTH 30
#endif

enum { MG_JSON_TOO_DEEP = -1, MG_JSON_INVALID = -2, MG_JSON_NOT_FOUND = -3 };

// Offset of the value at path ("$", "$.a.b", "$.list[2]") in json, its length in
// *toklen; or a negative MG_JSON_* code. The whole document must be valid.
int mg_json_get(struct mg_str json, const char *path, int *toklen);
// The value at path as a slice of json (buf NULL, len 0 when absent or invalid)
struct mg_str mg_json_get_tok(struct mg_str json, const char *path);
bool mg_json_get_num(struct mg_str json, const char *path, double *v);
bool mg_json_get_bool(struct mg_str json, const char *path, bool *v);
long mg_json_get_long(struct mg_str json, const char *path, long dflt);
// Allocated (mg_calloc; release with mg_free), NUL-terminated; NULL when absent,
// not of that type, invalid, or out of memory
char *mg_json_get_str(struct mg_str json, const char *path);   // a string, unescaped
char *mg_json_get_hex(struct mg_str json, const char *path, int *len);  // "a1b2" -> bytes
char *mg_json_get_b64(struct mg_str json, const char *path, int *len);  // base64 -> bytes
// The body of a JSON string (between the quotes) unescaped into buf, NUL-terminated
bool mg_json_unescape(struct mg_str str, char *buf, size_t len);
// Iterate an object's members or an array's elements: start with ofs 0, pass the
// returned offset back; 0 when done. key is empty for array elements.
size_t mg_json_next(struct mg_str obj, size_t ofs, struct mg_str *key, struct mg_str *val);

#endif  // MG_JSON_H
