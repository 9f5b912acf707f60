// HTTP/1.1: a pure parser over a buffer, the server and client protocol
// handlers, and the helpers for requests (variables, credentials, cookies,
// multipart) and responses (reply, chunks, static files).
#ifndef MG_HTTP_H
#define MG_HTTP_H

#ifndef MG_MAX_HTTP_HEADERS
#define MG_MAX_HTTP_HEADERS 30
#endif

struct mg_http_header {
  struct mg_str name;   // Header name, as sent
  struct mg_str value;  // Value without surrounding blanks
};

// A parsed message. Every slice points into the buffer that was parsed.
struct mg_http_message {
  struct mg_str method, uri, query, proto;             // Request line; a response (as in Mongoose): version, code, "", reason
  struct mg_http_header headers[MG_MAX_HTTP_HEADERS];  // Unused entries have empty names
  struct mg_str body;                                  // Body (HTTP_MSG), empty in HTTP_HDRS
  struct mg_str head;                                  // Request/status line and headers, up to and including the blank line
  struct mg_str chunk;                                 // MG_EV_HTTP_CHUNK: this piece of the body
  struct mg_str message;                               // head + body
};

// Parse results: >0 bytes of the head (request line + headers + blank line),
// 0 incomplete, or one of these errors.
#define MG_HTTP_ERR_MALFORMED (-1)          // Bad request line, header syntax or characters
#define MG_HTTP_ERR_TOO_MANY_HEADERS (-2)   // More than MG_MAX_HTTP_HEADERS
// Parse a request (or, if the first line starts "HTTP/", a response) head. On
// success hm->body is set from Content-Length (len may exceed what is buffered;
// the body is not checked); for chunked or unknown-length bodies body.len is 0.
int mg_http_parse(const char *buf, size_t len, struct mg_http_message *hm);
// Bytes of the head if complete, 0 if incomplete, -1 on error. Cheap pre-check.
int mg_http_get_request_len(const unsigned char *buf, size_t len);

// How the body of a parsed message is framed
enum mg_http_body_kind {
  MG_HTTP_BODY_NONE,      // No body (GET without Content-Length, 204/304 responses ...)
  MG_HTTP_BODY_LENGTH,    // Content-Length
  MG_HTTP_BODY_CHUNKED,   // Transfer-Encoding: chunked
  MG_HTTP_BODY_TO_CLOSE,  // Response body ends when the connection closes
  MG_HTTP_BODY_INVALID    // Both CL and TE, bad CL, unsupported TE, repeated different CL
};
// is_response_to_head: the response to a HEAD request has no body whatever it says
enum mg_http_body_kind mg_http_body_kind(const struct mg_http_message *hm, bool is_response,
                                         bool is_response_to_head, uint64_t *content_length);

// Chunked transfer coding (RFC 9112 7.1), one chunk at a time. Returns bytes the
// chunk spans (size line, data, CRLF; for the last chunk also trailers and the
// final CRLF), 0 if incomplete, -1 if malformed. *data_ofs / *data_len locate
// the chunk data; *data_len == 0 marks the last chunk.
long mg_http_parse_chunk(const char *buf, size_t len, size_t *data_ofs, size_t *data_len);

struct mg_str *mg_http_get_header(struct mg_http_message *, const char *name);  // Case-insensitive; NULL if absent
bool mg_http_is_response(const struct mg_http_message *hm);  // Parsed from a status line (method "HTTP/x.y")
int mg_http_status(const struct mg_http_message *hm);  // Response status code, 0 if unparsable

// Variables from a query string or a urlencoded body; names are case-insensitive.
// Returns the decoded length, or (dst is then "") one of these:
#define MG_HTTP_VAR_ABSENT (-1)        // No such variable
#define MG_HTTP_VAR_TOO_SMALL (-2)     // dst cannot hold the value and its NUL
#define MG_HTTP_VAR_BAD_ENCODING (-3)  // A bad %-escape
int mg_http_get_var(const struct mg_str *buf, const char *name, char *dst, size_t dst_len);
struct mg_str mg_http_var(struct mg_str buf, struct mg_str name);  // Raw (undecoded) value, empty if absent
// Percent-decoding; is_form also maps '+' to ' '. Returns the decoded length
// (dst NUL-terminated) or -1 on a bad escape or if dst is too small.
int mg_url_decode(const char *src, size_t src_len, char *dst, size_t dst_len, int is_form);
// Credentials: Basic user/pass; Bearer token (into pass, user ""); access_token
// query variable or cookie. Outputs are "" when absent.
void mg_http_creds(struct mg_http_message *, char *user, size_t userlen, char *pass, size_t passlen);
// Value of var in a header like Cookie: "a=1; b=2", "x; name=\"v\"" or
// Authorization: Digest a="x", b=y. {NULL, 0} if absent.
struct mg_str mg_http_get_header_var(struct mg_str header, struct mg_str var);
// Content-Range: bytes FIRST-LAST/TOTAL (RFC 9110 14.4), as a client sends it to resume an
// upload: decimal, FIRST <= LAST < TOTAL; false for anything else (an unknown TOTAL "*" too)
bool mg_http_parse_content_range(struct mg_str v, uint64_t *first, uint64_t *last, uint64_t *total);
// The host of a Host header value (RFC 9110 7.2: uri-host [":" port]) without its port
// and one trailing dot; an IPv6 literal keeps its brackets. false when malformed, or when
// it holds more than letters, digits, "-._~%" (and ':' in brackets): no '/', '@', '?' or
// space that would make another URL of one built from it.
bool mg_http_host_name(struct mg_str value, struct mg_str *host);

// Mongoose's chunked upload: the body of a POST to ...?name=FILE&offset=N is
// written to dir/FILE (fs NULL: mg_fs_posix). Offset 0 (or none) starts the file
// afresh; any other offset must equal the size received so far. FILE must be a
// plain name (no '/', no ".."); the file may not grow past max_size. Replies
// (200 with the new size, or 4xx/500) and returns the new size or -1.
long mg_http_upload(struct mg_connection *c, struct mg_http_message *hm, struct mg_fs *fs, const char *dir,
                    size_t max_size);
// Adds "Authorization: Basic ..." to a request being written (pass may be NULL)
void mg_http_bauth(struct mg_connection *c, const char *user, const char *pass);

// multipart/form-data (RFC 7578). Call with offset 0, then with each return value;
// returns the offset after this part, 0 when there are no more parts or the body is malformed.
struct mg_http_part {
  struct mg_str name;      // Form field name
  struct mg_str filename;  // File name, empty for plain fields
  struct mg_str body;      // Part contents
};
size_t mg_http_next_multipart(struct mg_str body, size_t offset, struct mg_http_part *part);

// Server and client
struct mg_http_limits {
  size_t max_head_size;          // Request line + headers; larger gives 431 (default 8192)
  size_t max_body_size;          // Largest body buffered whole; larger gives 413 unless streamed (default 64 KiB)
  uint32_t head_timeout_ms;      // A request head must arrive within this (default 30000)
  // Added later; for each, 0 turns it off (where older initializers that stop above leave it)
  uint32_t idle_timeout_ms;      // A connection with no request in progress is closed, without a reply, after this (default 60000)
  uint32_t body_timeout_ms;      // A request body with no new byte for this long gets 408 (default 30000)
  size_t max_conns;              // Connections open at once; one more gets 503 (default 0: no cap, see http_conn.c)
  uint32_t send_timeout_ms;      // A peer that takes no byte of queued output for this long is closed (default 30000)
  uint32_t reply_timeout_ms;     // A request the handler has not begun to answer gets 503 after this (default 60000)
};
// Used when a listener has none. Listeners given the same limits (or none) share
// max_conns: it counts the HTTP connections of every listener using that struct;
// connections upgraded to WebSocket no longer count.
extern struct mg_http_limits mg_http_default_limits;

struct mg_connection *mg_http_listen(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data);
// Same, with limits for this listener and its connections (must outlive them)
struct mg_connection *mg_http_listen_limits(struct mg_mgr *, const char *url,
                                            const struct mg_http_limits *limits,
                                            mg_event_handler_t fn, void *fn_data);
struct mg_connection *mg_http_connect(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data);

// Call from MG_EV_HTTP_HDRS to take this request's body as MG_EV_HTTP_CHUNK events
// as it arrives (decoded from chunked coding if need be); MG_EV_HTTP_MSG with an
// empty body follows the last piece. Bodies of any size can be streamed this way.
void mg_http_stream_body(struct mg_connection *c);

// Reply with status, extra headers ("Name: value\r\n" lines, may be NULL) and a
// printf-formatted body; adds Content-Length.
void mg_http_reply(struct mg_connection *, int status_code, const char *headers,
                   const char *body_fmt, ...);
// Chunked responses: send "Transfer-Encoding: chunked" in the headers yourself,
// then chunks; an empty chunk ends the body.
void mg_http_write_chunk(struct mg_connection *c, const char *buf, size_t len);
void mg_http_printf_chunk(struct mg_connection *c, const char *fmt, ...);
const char *mg_http_status_text(int status_code);

// The file mg_http_serve_dir sends for a directory (a name, as in Mongoose 7.22)
#ifndef MG_HTTP_INDEX
#define MG_HTTP_INDEX "index.html"
#endif
// Directories without index.html are listed (as in Mongoose) unless this is 0
// or the options say dir_listing_off
#ifndef MG_ENABLE_DIRLIST
#define MG_ENABLE_DIRLIST 1
#endif

// Mongoose's fields, in Mongoose's order, then ours (zero: Mongoose's behaviour)
struct mg_http_serve_opts {
  const char *root_dir;       // Web root, or "dir,/prefix=dir2,...": serve_dir never serves outside them
  const char *ssi_pattern;    // Files to expand server-side includes in (mg_match glob), e.g. "#.shtml"
  const char *extra_headers;  // Added to every response, "Name: value\r\n" lines
  const char *mime_types;     // Extra types, "ext1=type1,ext2=type2"
  const char *page404;        // File served (with status 404) for missing paths
  struct mg_fs *fs;           // Filesystem; NULL means mg_fs_posix
  bool dir_listing_off;       // Do not list directories that have no index.html (404 instead)
  // Request paths whose names the web build hashed, so their content never changes:
  // "GLOB,GLOB" (mg_match: '*' within a segment, '#' across), e.g. "/assets/*". They
  // are cached for a year as immutable; no other file from disk is. Packed files
  // carry their own mark (packer -I).
  const char *immutable;
};
void mg_http_serve_dir(struct mg_connection *, struct mg_http_message *hm,
                       const struct mg_http_serve_opts *);
void mg_http_serve_file(struct mg_connection *, struct mg_http_message *hm,
                        const char *path, const struct mg_http_serve_opts *);

// Server-side includes: in a file that matches opts->ssi_pattern, mg_http_serve_dir
// replaces <!--#include file="NAME" --> with the file NAME beside it and
// <!--#include virtual="/NAME" --> with NAME under the root, whose own includes
// are expanded too, MG_SSI_MAX_DEPTH deep. A NAME with a ".." segment or a
// leading '/' in file= is refused, as are missing files: each leaves nothing and
// a log line. The page is built whole in c->send, for its Content-Length: one
// larger than MG_SSI_MAX_SIZE bytes gets 500 and a log line instead. 0 leaves
// SSI out of the build (Mongoose's default).
#ifndef MG_ENABLE_SSI
#define MG_ENABLE_SSI 1
#endif
#ifndef MG_SSI_MAX_DEPTH
#define MG_SSI_MAX_DEPTH 6
#endif
#ifndef MG_SSI_MAX_SIZE
#if MG_PORT_POSIX
#define MG_SSI_MAX_SIZE (64 * 1024)
#else
#define MG_SSI_MAX_SIZE (8 * 1024)
#endif
#endif
// Sends fullpath, a POSIX file under the directory root, with its includes expanded
void mg_http_serve_ssi(struct mg_connection *c, const char *root, const char *fullpath);
// MIME type for a path from its extension (extra: "ext=type,..." or NULL)
struct mg_str mg_http_mime_type(struct mg_str path, const char *extra);

#endif  // MG_HTTP_H
