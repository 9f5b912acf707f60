// Per-connection HTTP state, kept in c->pstate, shared by the protocol handler
// (http_conn.c), replies (http_reply.c) and static files (http_serve.c).
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H
#include "mg_internal.h"  // struct mg_iobuf_out, for the reply's pieces

enum http_phase {
  HTTP_PHASE_HEAD,            // Waiting for a message head
  HTTP_PHASE_BODY,            // Buffering a Content-Length body
  HTTP_PHASE_CHUNKED,         // Buffering (decoding in place) a chunked body
  HTTP_PHASE_TO_CLOSE,        // Buffering a response body that ends at EOF
  HTTP_PHASE_STREAM,          // Streaming a Content-Length body as MG_EV_HTTP_CHUNK
  HTTP_PHASE_STREAM_CHUNKED,  // Streaming a chunked body
  HTTP_PHASE_STREAM_TO_CLOSE, // Streaming a response body that ends at EOF
  HTTP_PHASE_REJECTED         // Answered with an error; input is discarded until close
};

// Each wait has its own stamp (the low 32 bits of mg_millis(), compared with
// http_waited) and its own limit in struct mg_http_limits
struct http_state {
  uint64_t body_left;    // Content-Length bytes, or streamed chunk data bytes, still to come
  union {
    struct {               // Server: the static file being streamed (http_serve.c)
      void *file;          // Its handle, or NULL
      struct mg_fs *fs;    // The filesystem it came from
      uint64_t left;       // Bytes of it still to send
    } serve;
    struct {               // Client: requests sent and not answered yet
      uint64_t heads;      // "Was HEAD" bits, oldest in bit 0
      uint32_t scanned;    // Bytes at the front of c->send already looked at
      uint8_t count;       // Bits of heads in use (at most HTTP_MAX_IN_FLIGHT)
    } sent;
  } out;
  uint32_t head_len;     // Head length of the message being received
  uint32_t body_len;     // Decoded chunked body bytes so far (buffered mode)
  uint32_t head_since;   // The first byte of a head that is not complete yet
  uint32_t body_since;   // The last byte of a request body
  uint32_t idle_since;   // No request, reply or output in progress since
  uint32_t reply_since;  // The handler last queued output for the reply it owes (c->is_resp)
  uint32_t write_since;  // Queued output last moved (or there was none)
  uint8_t phase;         // enum http_phase
  uint8_t pass_msgs;     // Server: requests delivered since this loop pass's MG_EV_POLL
  unsigned stream : 1;        // Handler asked for MG_EV_HTTP_CHUNK
  unsigned chunk_tail : 1;    // Streaming chunked: a chunk's data ended, its CRLF is due
  unsigned is_head : 1;       // Current request is HEAD (client: the response is to a HEAD)
  unsigned close_after : 1;   // Connection: close / HTTP/1.0: close after this message
  unsigned head_pending : 1;  // A head has started arriving (head_since runs)
  unsigned is_http10 : 1;     // Server: the current request is HTTP/1.0
  unsigned reply_begun : 1;   // Server: some of the owed reply has been queued
};

#define HTTP_MAX_IN_FLIGHT 64  // Client: requests sent ahead of their responses

// The reply a server owes, Mongoose's c->is_resp. The protocol handler (http_conn.c)
// sets it when it delivers a request; the reply helpers (http_reply.c, http_serve.c)
// end it through mg_http_reply_done once the reply is queued whole; an application
// that writes a reply by hand with mg_printf / mg_send may clear it itself.
void mg_http_reply_done(struct mg_connection *c);

struct http_state *mg_http_state(struct mg_connection *c);
// Static file streaming (http_serve.c), driven by the protocol handler
void mg_http_serve_continue(struct mg_connection *c);  // Top up c->send from the open file
void mg_http_serve_abort(struct mg_connection *c);     // Connection closing: release the file
// mg_http_reply with two header blocks (either may be NULL): ours, then the user's
void mg_http_reply2(struct mg_connection *c, int status, const char *headers1, const char *headers2,
                    const char *fmt, ...);
// The lines every server reply carries (Date, Connection), "" or "Name: value\r\n..."
const char *mg_http_reply_headers(struct mg_connection *c);
// The same appended to a reply being built, after its status line ("HTTP/1.1 200 OK\r\n");
// own_connection: the caller's headers carry a Connection line already
void mg_http_put_reply_start(struct mg_iobuf_out *o, struct mg_connection *c, int status, bool own_connection);
void mg_http_format_date(time_t t, char *buf, size_t len);  // IMF-fixdate (RFC 9110 5.6.7)
// Is a field name (or token) name, whatever its case? lower: n lowercase bytes
bool mg_http_name_is(struct mg_str name, const char *lower, size_t n);
// mg_http_serve_dir / serve_file: answers methods other than GET and HEAD; true if it did
bool mg_http_refuse_method(struct mg_connection *c, struct mg_http_message *hm, const char *extra);

// Server-side includes (http_ssi.c). A directive at the start of buf: its length,
// 0 if buf may be the beginning of one (shorter than MG_SSI_DIRECTIVE_MAX), -1 if
// it is none (an unknown directive, or one too long). Pure: for the fuzzer.
#define MG_SSI_DIRECTIVE_MAX 512
enum { MG_SSI_FILE = 1, MG_SSI_VIRTUAL = 2 };
struct mg_ssi_include {
  int kind;            // MG_SSI_FILE or MG_SSI_VIRTUAL
  struct mg_str name;  // Between the quotes, into buf
};
int mg_ssi_parse(const char *buf, size_t len, struct mg_ssi_include *inc);
// The path under the root (normalised, starting with '/') that inc names from the
// file at cur (the same form), into out; false if refused ("..", absolute file=)
bool mg_ssi_resolve(const char *cur, const struct mg_ssi_include *inc, char *out, size_t len);
// mg_http_serve_dir's answer for a file that matches ssi_pattern: path is under
// root (starts with '/'), on fs
void mg_http_ssi_serve(struct mg_connection *c, struct mg_fs *fs, struct mg_str root, const char *path,
                       const char *extra_headers);

#endif  // HTTP_INTERNAL_H
