// Per-connection HTTP state, kept in c->pstate, shared by the protocol handler
// (http_conn.c), replies (http_reply.c) and static files (http_serve.c).
#ifndef HTTP_INTERNAL_H
#define HTTP_INTERNAL_H

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

struct http_state {
  uint64_t since;        // mg_millis() when the current wait began: for the rest of a pending
                         // head (its first byte), for the next body byte, or idle (0 = not yet)
  uint64_t body_left;    // Content-Length bytes, or streamed chunk data bytes, still to come
  size_t head_len;       // Head length of the message being received
  size_t body_len;       // Decoded chunked body bytes so far (buffered mode)
  void *file;            // Static file being streamed (http_serve.c), or NULL
  struct mg_fs *fs;      // The filesystem it came from
  uint64_t file_left;    // Bytes of it still to send
  uint32_t out_scanned;  // Client: bytes at the front of c->send already looked at
  uint8_t out_heads;     // Client: "was HEAD" bits of unanswered requests, oldest in bit 0
  uint8_t out_count;     // Client: how many of those bits are in use (at most 8)
  uint8_t phase;         // enum http_phase
  unsigned stream : 1;        // Handler asked for MG_EV_HTTP_CHUNK
  unsigned chunk_tail : 1;    // Streaming chunked: a chunk's data ended, its CRLF is due
  unsigned is_head : 1;       // Current request is HEAD (client: the response is to a HEAD)
  unsigned close_after : 1;   // Connection: close / HTTP/1.0: close after this message
  unsigned head_pending : 1;  // A head has started arriving: since is its first byte
  unsigned is_http10 : 1;     // Server: the current request is HTTP/1.0
};

struct http_state *mg_http_state(struct mg_connection *c);
// Static file streaming (http_serve.c), driven by the protocol handler
void mg_http_serve_continue(struct mg_connection *c);  // Top up c->send from the open file
void mg_http_serve_abort(struct mg_connection *c);     // Connection closing: release the file
// mg_http_reply with two header blocks (either may be NULL): ours, then the user's
void mg_http_reply2(struct mg_connection *c, int status, const char *headers1, const char *headers2,
                    const char *fmt, ...);
// The lines every server reply carries (Date, Connection), "" or "Name: value\r\n..."
const char *mg_http_reply_headers(struct mg_connection *c);
void mg_http_format_date(time_t t, char *buf, size_t len);  // IMF-fixdate (RFC 9110 5.6.7)
// mg_http_serve_dir / serve_file: answers methods other than GET and HEAD; true if it did
bool mg_http_refuse_method(struct mg_connection *c, struct mg_http_message *hm, const char *extra);

#endif  // HTTP_INTERNAL_H
