// What serving files needs besides I/O: MIME types by extension and the
// reason phrases of status codes.
#include "meerkat.h"

struct http_path_mime {
  const char *ext, *type;
};

// Sorted by extension, bytewise: http_path_table_type searches it by halves
static const struct http_path_mime http_path_mime_types[] = {
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"shtml", "text/html; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml; charset=utf-8"},
    {"zip", "application/zip"},
};
#define HTTP_PATH_EXT_MAX 11  // The table's longest extension: "webmanifest"

// Extension of the last path segment, without the dot; empty if none
static struct mg_str http_path_extension(struct mg_str path) {
  size_t i = path.len;
  while (i > 0 && path.buf[i - 1] != '.' && path.buf[i - 1] != '/') i--;
  if (i == 0 || path.buf[i - 1] != '.') return mg_str_n(path.buf + path.len, 0);
  return mg_str_n(path.buf + i, path.len - i);
}

// User types, "ext1=type1,ext2=type2" (blanks around items and a leading
// '.' on an extension are allowed); empty slice if ext is not listed.
static struct mg_str http_path_extra_type(struct mg_str ext, const char *extra) {
  struct mg_str rest = mg_str(extra), item, k, v, none = MG_NULL_STR;
  while (mg_span(rest, &item, &rest, ',')) {
    if (item.len == 0) continue;  // ",,": mg_span would leave k unset
    mg_span(item, &k, &v, '=');
    k = mg_str_trim(k), v = mg_str_trim(v);
    if (k.len > 0 && k.buf[0] == '.') k.buf++, k.len--;
    if (k.len > 0 && v.len > 0 && mg_strcasecmp(k, ext) == 0) return v;
  }
  return none;
}

// The table's type for an extension in any case, or NULL: lowered once into a small
// buffer, then a binary search instead of a case-folding compare per entry
static const char *http_path_table_type(struct mg_str ext) {
  char low[HTTP_PATH_EXT_MAX + 1];
  if (ext.len > HTTP_PATH_EXT_MAX) return NULL;
  for (size_t i = 0; i < ext.len; i++) {
    char c = ext.buf[i];
    if (c == '\0') return NULL;  // strcmp would stop there and match a shorter entry
    low[i] = c >= 'A' && c <= 'Z' ? (char) (c + 'a' - 'A') : c;
  }
  low[ext.len] = '\0';
  size_t lo = 0, hi = sizeof(http_path_mime_types) / sizeof(http_path_mime_types[0]);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(low, http_path_mime_types[mid].ext);
    if (cmp == 0) return http_path_mime_types[mid].type;
    if (cmp < 0) hi = mid;
    else lo = mid + 1;
  }
  return NULL;
}

struct mg_str mg_http_mime_type(struct mg_str path, const char *extra) {
  if (path.buf == NULL) path.len = 0;
  struct mg_str ext = http_path_extension(path);
  if (ext.len > 0) {
    struct mg_str t = http_path_extra_type(ext, extra);
    if (t.len > 0) return t;
    const char *type = http_path_table_type(ext);
    if (type != NULL) return mg_str(type);
  }
  return mg_str("application/octet-stream");
}

const char *mg_http_status_text(int status_code) {
  switch (status_code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
  }
}
