// TLS 1.3 and 1.2 with mbedTLS 3.6 in the event layer's filter slot: ciphertext moves
// through the backend (or a filter beneath), plaintext through c->recv and c->send.
#include "tls/tls_internal.h"

#if MG_ENABLE_TLS
#include <mbedtls/net_sockets.h>  // MBEDTLS_ERR_NET_*: what our I/O callbacks report
#include <mbedtls/platform.h>

// mbedTLS's own (library/ssl_misc.h): frees the handshake state, and with
// MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH shrinks the record buffers to the fragment length
void mbedtls_ssl_handshake_free(mbedtls_ssl_context *ssl);
void mbedtls_ssl_transform_free(mbedtls_ssl_transform *transform);

// Server handshakes in a line, oldest first (see "The handshake" below)
struct tls_queue {
  struct tls_conn *head, *tail;
  unsigned len;
};

struct tls_conn {
  mbedtls_ssl_context *ssl;       // NULL while a server handshake waits for a slot
  struct tls_cfg *cfg;
  struct mg_connection *c;
  const struct mg_filter *lower;  // The filter beneath (a test's), or NULL for the backend
  struct tls_queue *queue;        // A server handshake's: its slot, or the line it waits in
  struct tls_conn *prev, *next;   // In that queue
  uint64_t since;                 // mg_millis() at mg_tls_init (the accept): the timeout runs from here
  uint64_t slot_since;            // mg_millis() when it took its slot: stalled from here
  size_t write_len;               // mbedTLS holds a record made of this much of c->send, half sent
  long io_error;                  // The backend's MG_IO_* behind an mbedTLS I/O failure
  unsigned char *ahead;           // Ciphertext read ahead of what mbedTLS asked for (tls_bio_recv)
  size_t ahead_len, ahead_ofs;    // Its bytes, and the next one to hand out
  struct mg_iobuf out;            // Ciphertext mbedTLS made, not yet taken by the backend (tls_bio_send)
  bool started;                   // The handshake has taken its first step
  bool out_held;                  // mbedTLS holds output the backend did not take yet
  bool said_bye;                  // close_notify sent, or never to be
};

static const struct mg_filter tls_filter;

static struct tls_conn *tls_of(struct mg_connection *c) {
  return (struct tls_conn *) c->tls;
}

// ---------------------------------------------------------------------------
// mbedTLS's I/O: ciphertext through the filter beneath or the backend

// mbedTLS writes each record (each handshake message) on its own: a flight took three
// sends and a download one per 4 KiB record. Records collect in t->out instead, up to
// TLS_OUT_MAX, and go in one send when the filter's call ends or t->out is full; the
// buffer is held only while it holds bytes (a spare I/O buffer, or grown)
#define TLS_OUT_MAX (17 * 1024)  // Four 4 KiB records

// 1 once t->out is all written, MG_IO_WAIT when the backend takes no more now, or the
// backend's error (kept in t->io_error)
static long tls_out_flush(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  while (t->out.len > 0) {
    long n = t->lower != NULL ? t->lower->send(c, t->out.buf, t->out.len) : mg_be_send(c, t->out.buf, t->out.len);
    if (n == MG_IO_WAIT) return MG_IO_WAIT;
    if (n < 0) return t->io_error = n;
    mg_iobuf_del(&t->out, 0, (size_t) n);
  }
  mg_conn_release_io(c, &t->out);
  return 1;
}

static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
  struct mg_connection *c = (struct mg_connection *) ctx;
  struct tls_conn *t = tls_of(c);
  if (t->out.len > 0 && t->out.len + len > TLS_OUT_MAX) {
    long rc = tls_out_flush(c);
    if (rc < 0) return MBEDTLS_ERR_NET_SEND_FAILED;
    if (rc == MG_IO_WAIT && t->out.len + len > TLS_OUT_MAX) return MBEDTLS_ERR_SSL_WANT_WRITE;
  }
  mg_conn_take_spare(c, &t->out);
  if (mg_iobuf_add(&t->out, t->out.len, buf, len) != len) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  return (int) len;
}

static long tls_lower_recv(struct mg_connection *c, void *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  return t->lower != NULL ? t->lower->recv(c, buf, len) : mg_be_recv(c, buf, len);
}

static size_t tls_ahead_left(const struct tls_conn *t) {
  return t->ahead_len - t->ahead_ofs;
}

static void tls_ahead_free(struct tls_conn *t) {
  mg_free(t->ahead);
  t->ahead = NULL, t->ahead_len = t->ahead_ofs = 0;
}

// Reads up to MG_IO_SIZE bytes into a spare I/O buffer of the manager's and keeps them
// in the read-ahead buffer, grown by exactly that much: a connection holds only what
// the peer sent, and an idle one nothing. Bytes read, an MG_IO_*, or TLS_NO_MEMORY
#define TLS_NO_MEMORY (-100)
static long tls_ahead_fill(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  struct mg_iobuf scratch = {NULL, 0, 0, MG_IO_SIZE};
  mg_conn_take_spare(c, &scratch);
  if (scratch.buf == NULL && !mg_iobuf_resize(&scratch, MG_IO_SIZE)) return TLS_NO_MEMORY;
  long n = tls_lower_recv(c, scratch.buf, scratch.size);
  unsigned char *grown = n > 0 ? (unsigned char *) mg_realloc(t->ahead, t->ahead_len + (size_t) n) : NULL;
  if (grown != NULL) {
    memcpy(grown + t->ahead_len, scratch.buf, (size_t) n);
    t->ahead = grown, t->ahead_len += (size_t) n;
  }
  mg_conn_release_io(c, &scratch);
  return n > 0 && grown == NULL ? TLS_NO_MEMORY : n;
}

// mbedTLS asks for a record's 5-byte header, then for the rest: two reads per record.
// A small ask reads ahead instead, usually the whole record (a request), and hands out
// the rest from there. Asks of MG_IO_SIZE or more go straight into mbedTLS's buffer
static long tls_read_ahead(struct mg_connection *c, unsigned char *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  if (tls_ahead_left(t) == 0) {
    if (len >= MG_IO_SIZE) return tls_lower_recv(c, buf, len);
    long n = tls_ahead_fill(c);
    if (n <= 0) return n;
  }
  size_t n = len < tls_ahead_left(t) ? len : tls_ahead_left(t);
  memcpy(buf, t->ahead + t->ahead_ofs, n);
  t->ahead_ofs += n;
  if (tls_ahead_left(t) == 0) tls_ahead_free(t);
  return (long) n;
}

// A read's MG_IO_* result as mbedTLS says it
static int tls_recv_result(struct tls_conn *t, long n) {
  if (n > 0) return (int) n;
  if (n == MG_IO_WAIT) return MBEDTLS_ERR_SSL_WANT_READ;
  if (n == MG_IO_EOF) return MBEDTLS_ERR_SSL_CONN_EOF;
  t->io_error = n;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
  struct mg_connection *c = (struct mg_connection *) ctx;
  long n = tls_read_ahead(c, buf, len);
  if (n == TLS_NO_MEMORY) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
  return n == MG_IO_EOF ? 0 : tls_recv_result(tls_of(c), n);  // 0: mbedTLS says CONN_EOF itself
}

// ---------------------------------------------------------------------------
// Errors a person can act on

static const char *tls_alert_text(unsigned char alert) {
  switch (alert) {
    case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "the peer does not trust our certificate (unknown CA)";
    case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "the peer rejected our certificate";
    case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "the peer says our certificate has expired";
    case MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED: return "the peer requires a client certificate";
    case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "no TLS version in common with the peer";
    case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "the peer found no cipher suite or group in common";
    case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME: return "the peer does not serve that host name";
    case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "the peer could not verify our signature";
    default: return NULL;
  }
}

// Why the certificate was refused, most useful first
static void tls_explain_verify(struct mg_connection *c, char *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  uint32_t flags = mbedtls_ssl_get_verify_result(t->ssl);
  if ((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) && !t->cfg->has_ca) {
    mg_snprintf(buf, len, "no CA to verify the peer's certificate with (set mg_tls_opts.ca)");
  } else if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
    mg_snprintf(buf, len, "certificate not signed by a trusted CA (unknown CA)");
  } else if (flags & MBEDTLS_X509_BADCERT_EXPIRED) {
    mg_snprintf(buf, len, "certificate expired");
  } else if (flags & MBEDTLS_X509_BADCERT_FUTURE) {
    mg_snprintf(buf, len, "certificate not valid yet (is the clock right?)");
  } else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
    // Only a name that was set can mismatch, so the pointer is a string here
    mg_snprintf(buf, len, "host name mismatch: the certificate is not for %s", mbedtls_ssl_get_hostname(t->ssl));
  } else if (flags & MBEDTLS_X509_BADCERT_MISSING) {
    mg_snprintf(buf, len, "the peer sent no certificate");
  } else {
    mg_snprintf(buf, len, "certificate rejected (verify flags 0x%x)", (unsigned) flags);
  }
}

// A TLS 1.3 client that rejects our certificate sends its alert before it has
// handshake keys (OpenSSL and mbedTLS clients do): a plain alert record where mbedTLS
// expects an encrypted one, refused as a bad MAC. The reason is still in the record.
static const char *tls_plain_alert(struct tls_conn *t) {
  const unsigned char *h = t->ssl->MBEDTLS_PRIVATE(in_hdr);
  bool plain_alert = h != NULL && h[0] == MBEDTLS_SSL_MSG_ALERT && h[3] == 0 && h[4] == 2;
  return plain_alert ? tls_alert_text(h[6]) : NULL;
}

// mbedTLS's error codes that have one reason whatever the connection; NULL if not
static const char *tls_error_text(int rc) {
  switch (rc) {
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION: return "protocol version: no TLS version in common (we speak 1.2 and 1.3)";
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE: return "handshake failure: no cipher suite, group or signature in common";
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE: return "the client sent no certificate (this server requires one)";
    case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED: return "no CA to verify the peer's certificate with (set mg_tls_opts.ca)";
    case MBEDTLS_ERR_SSL_CONN_EOF: return "the peer closed the connection";
    case MBEDTLS_ERR_SSL_INVALID_MAC: return "a record failed its integrity check";
    case MBEDTLS_ERR_SSL_ALLOC_FAILED: return "out of memory";
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
    case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
    case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER:
    case MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION: return "the peer does not speak TLS, or sent a malformed message";
    default: return NULL;
  }
}

static void tls_explain(struct mg_connection *c, int rc, char *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  const char *why = NULL;
  if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
    tls_explain_verify(c, buf, len);
    return;
  }
  if (rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
    // 3.6 has no accessor for the alert the peer sent; it is in the record just read
    unsigned char alert = t->ssl->MBEDTLS_PRIVATE(in_msg)[1];
    if ((why = tls_alert_text(alert)) == NULL) {
      mg_snprintf(buf, len, "the peer sent fatal alert %d", (int) alert);
      return;
    }
  }
  if (why == NULL && rc == MBEDTLS_ERR_SSL_INVALID_MAC && c->is_tls_hs) why = tls_plain_alert(t);
  if (why == NULL) why = tls_error_text(rc);
  if (why == NULL) mg_snprintf(buf, len, "TLS error -0x%04x", (unsigned) -rc);
  else mg_snprintf(buf, len, "%s", why);
}

// An mbedTLS failure: the backend's own error passes through as it is (the event layer
// reports those); the rest becomes MG_EV_ERROR with a reason, and the connection closes
static long tls_fail(struct mg_connection *c, int rc) {
  struct tls_conn *t = tls_of(c);
  if ((rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED) && !c->is_tls_hs) return t->io_error;
  char why[120];
  if (rc == MBEDTLS_ERR_NET_SEND_FAILED || rc == MBEDTLS_ERR_NET_RECV_FAILED) {
    mg_snprintf(why, sizeof(why), "%s", t->io_error == MG_IO_RESET ? "the peer reset the connection" : mg_be_error());
  } else {
    tls_explain(c, rc, why, sizeof(why));
  }
  t->said_bye = true;  // mbedTLS sent its alert, if the failure called for one
  mg_error(c, "TLS %s with %M: %s", c->is_tls_hs ? "handshake" : "connection", mg_print_ip_port, &c->rem, why);
  return MG_IO_RESET;  // Reported already: the event layer just closes
}

// ---------------------------------------------------------------------------
// The handshake: bounded in number and in time
//
// At most MG_TLS_MAX_HANDSHAKES server handshakes hold mbedTLS's state (about 40 KiB
// each) in every manager together: they hold the slots. A server connection first reads
// its peer's first record, the ClientHello, whole (at most a record's size, and only
// what the peer sent), holding no such state: a peer that sends nothing or part of a
// hello and stalls costs a slot nobody. With the hello in hand it takes a free slot at
// once, or waits in line reading nothing more (TCP holds the peer back), oldest first;
// a waiter may close a handshake that has held its slot MG_TLS_HANDSHAKE_STALL_MS:
// refusing newcomers would let stalled peers lock everyone out until they time out.
// Every handshake, waiting or not, times out MG_TLS_HANDSHAKE_TIMEOUT_MS after its accept.

static struct tls_queue tls_slots;       // Holding mbedTLS's handshake state
static struct tls_queue tls_slot_wait;   // A whole ClientHello read, waiting for a slot
static struct tls_queue tls_hello_wait;  // Reading the ClientHello

static struct tls_conn *tls_next_waiter(void) {
  return tls_slot_wait.head;
}

static void tls_queue_leave(struct tls_conn *t) {
  struct tls_queue *q = t->queue;
  if (q == NULL) return;
  if (t->prev != NULL) t->prev->next = t->next;
  else q->head = t->next;
  if (t->next != NULL) t->next->prev = t->prev;
  else q->tail = t->prev;
  q->len--;
  t->queue = NULL, t->prev = t->next = NULL;
  // A slot freed: the next pass hands it on without sleeping first
  struct tls_conn *w = tls_next_waiter();
  if (q == &tls_slots && w != NULL) w->c->mgr->no_wait = true;
}

static void tls_queue_join(struct tls_queue *q, struct tls_conn *t) {
  tls_queue_leave(t);
  t->queue = q, t->prev = q->tail, t->next = NULL;
  if (q->tail != NULL) q->tail->next = t;
  else q->head = t;
  q->tail = t;
  q->len++;
}

static bool tls_waiting(struct tls_conn *t) {
  return t->queue == &tls_slot_wait || t->queue == &tls_hello_wait;
}

// Bytes of the peer's first record, once its header is in; the header's 5 before
#define TLS_RECORD_HEADER 5
#define TLS_HELLO_RECORD_MAX (TLS_RECORD_HEADER + 16384)
static size_t tls_first_record_size(const unsigned char *p, size_t len) {
  if (len < TLS_RECORD_HEADER) return TLS_RECORD_HEADER;
  size_t size = TLS_RECORD_HEADER + ((size_t) p[3] << 8 | p[4]);
  // Not a handshake record, or longer than TLS allows: mbedTLS says what is wrong
  return p[0] != MBEDTLS_SSL_MSG_HANDSHAKE || size > TLS_HELLO_RECORD_MAX ? len : size;
}

// Reads the ClientHello's record into the read-ahead buffer, growing it only as bytes
// arrive. 1 once whole, MG_IO_WAIT for more, MG_IO_RESET on failure (reported)
static long tls_read_hello(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  size_t need;
  while (t->ahead_len < (need = tls_first_record_size(t->ahead, t->ahead_len))) {
    long n = tls_ahead_fill(c);
    if (n == MG_IO_WAIT) return MG_IO_WAIT;
    if (n < 0) return tls_fail(c, n == TLS_NO_MEMORY ? MBEDTLS_ERR_SSL_ALLOC_FAILED : tls_recv_result(t, n));
  }
  return 1;
}

// SNI and the name the server's certificate must carry: opts.name, else the host of
// the URL the client connected to. Without either a client verifies the CA only.
static bool tls_set_peer_name(struct mg_connection *c, const struct mg_tls_opts *opts, char *url_host) {
  struct tls_conn *t = tls_of(c);
  char name[256];
  if (opts->name.len > 0) mg_snprintf(name, sizeof(name), "%.*s", (int) opts->name.len, opts->name.buf);
  else mg_snprintf(name, sizeof(name), "%s", url_host == NULL ? "" : url_host);
  if (name[0] == '\0' && !opts->skip_verification) {
    MG_INFO(("%lu TLS: no host name to check the server's certificate against (set mg_tls_opts.name)", c->id));
  }
  return mbedtls_ssl_set_hostname(t->ssl, name[0] == '\0' ? NULL : name) == 0;
}

// The context mbedTLS keeps for the connection's life, and the handshake state it makes
static bool tls_ssl_setup(struct mg_connection *c, const struct mg_tls_opts *opts, char *url_host, char *why,
                          size_t len) {
  struct tls_conn *t = tls_of(c);
  if ((t->ssl = (mbedtls_ssl_context *) mg_calloc(1, sizeof(*t->ssl))) == NULL) {
    mg_snprintf(why, len, "out of memory");
    return false;
  }
  mbedtls_ssl_init(t->ssl);
  int rc = mbedtls_ssl_setup(t->ssl, &t->cfg->conf);
  // mbedTLS 3.6.6 clears ssl->conf when its setup fails, but may keep the handshake
  // state it made, which mbedtls_ssl_free then frees reading the conf: give it back
  // (a crash, found by test/alloc/alloc_faults_tls)
  if (rc != 0) t->ssl->MBEDTLS_PRIVATE(conf) = &t->cfg->conf;
  if (rc == 0 && c->is_client && !tls_set_peer_name(c, opts, url_host)) rc = MBEDTLS_ERR_SSL_ALLOC_FAILED;
  if (rc != 0) {
    mg_snprintf(why, len, "%s (mbedTLS -0x%04x)", rc == MBEDTLS_ERR_SSL_ALLOC_FAILED ? "out of memory" : "setup failed",
                (unsigned) -rc);
    mbedtls_ssl_free(t->ssl);
    mg_free(t->ssl);
    t->ssl = NULL;
    return false;
  }
  mbedtls_ssl_set_bio(t->ssl, c, tls_bio_send, tls_bio_recv, NULL);
  return true;
}

static void tls_ssl_free(struct tls_conn *t) {
  if (t->ssl == NULL) return;
  mbedtls_ssl_free(t->ssl);
  mg_free(t->ssl);
  t->ssl = NULL;
}

// mbedTLS 3.6 frees a TLS 1.2 handshake's state when it completes, shrinking the
// output buffer to the fragment length, but keeps a TLS 1.3 one's (about 2 KiB, and a
// 16 KiB output buffer) for the connection's life, though a server never uses it
// again and a client only for tickets it is not asked to keep: free it the same way,
// with the unused TLS 1.2 transform that mbedtls_ssl_free frees only beside it
static void tls_handshake_release(mbedtls_ssl_context *ssl) {
  if (mbedtls_ssl_get_version_number(ssl) != MBEDTLS_SSL_VERSION_TLS1_3 || ssl->MBEDTLS_PRIVATE(handshake) == NULL) return;
  mbedtls_ssl_handshake_free(ssl);
  mbedtls_free(ssl->MBEDTLS_PRIVATE(handshake));
  ssl->MBEDTLS_PRIVATE(handshake) = NULL;
  mbedtls_ssl_transform_free(ssl->MBEDTLS_PRIVATE(transform_negotiate));
  mbedtls_free(ssl->MBEDTLS_PRIVATE(transform_negotiate));
  ssl->MBEDTLS_PRIVATE(transform_negotiate) = NULL;
}

// Returns 1 when done, MG_IO_WAIT while it needs the peer, room to write or a slot,
// MG_IO_RESET once it failed (reported)
static long tls_handshake(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  if (t->ssl == NULL) return MG_IO_WAIT;  // Waiting for a slot
  t->started = true;
  int rc = mbedtls_ssl_handshake(t->ssl);
  t->out_held = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
  if (tls_out_flush(c) < 0 && (rc == 0 || rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)) {
    rc = MBEDTLS_ERR_NET_SEND_FAILED;  // The flight did not go out
  }
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return MG_IO_WAIT;
  if (rc != 0) return tls_fail(c, rc);
  tls_handshake_release(t->ssl);
  tls_queue_leave(t);
  c->is_tls_hs = 0;
  MG_DEBUG(("%lu %s handshake done in %lu ms: %s", c->id, mbedtls_ssl_get_version(t->ssl),
            (unsigned long) mg_ms_since(mg_millis(), t->since), mbedtls_ssl_get_ciphersuite(t->ssl)));
  mg_call(c, MG_EV_TLS_HS, NULL);
  return 1;
}

static bool tls_stalled(struct tls_conn *t, uint64_t now) {
  return mg_ms_since(now, t->slot_since) >= MG_TLS_HANDSHAKE_STALL_MS;
}

// A stalled handshake gives its slot up, and its mbedTLS state at once; logged once a
// second at most
static void tls_close_stalled(struct tls_conn *t, uint64_t now) {
  static uint64_t logged_at;
  static unsigned long closed;
  tls_queue_leave(t);
  tls_ssl_free(t);
  t->said_bye = true;
  t->c->is_closing = 1;
  closed++;
  if (logged_at == 0 || mg_ms_since(now, logged_at) >= 1000) {
    MG_ERROR(("%u TLS handshakes in progress (MG_TLS_MAX_HANDSHAKES): closed %lu stalled so far, last from %M; %u waiting",
              tls_slots.len + 1, closed, mg_print_ip_port, &t->c->rem, tls_slot_wait.len));
    logged_at = now;
  }
}

// Waiters take the free slots, and the slots of stalled handshakes. A waiter's own pass
// may be over: the next one must not sleep before it reads its hello from the buffer
static void tls_hand_slots_on(uint64_t now) {
  struct tls_conn *w;
  while ((w = tls_next_waiter()) != NULL) {
    if (w->c->is_closing) {
      tls_queue_leave(w);
      continue;
    }
    if (tls_slots.len >= MG_TLS_MAX_HANDSHAKES) {
      struct tls_conn *oldest = tls_slots.head;
      if (oldest == NULL || oldest->c->is_closing || !tls_stalled(oldest, now)) return;
      tls_close_stalled(oldest, now);
    }
    char why[120];
    tls_queue_leave(w);
    if (!tls_ssl_setup(w->c, NULL, NULL, why, sizeof(why))) {
      mg_error(w->c, "TLS: %s", why);
      continue;
    }
    tls_queue_join(&tls_slots, w);
    w->slot_since = now;
    w->c->mgr->no_wait = true;
  }
}

// Each pass: slots handed on, and handshakes (waiting ones too) that take too long closed
static void tls_poll(struct mg_connection *c, uint64_t now) {
  struct tls_conn *t = tls_of(c);
  if (tls_slot_wait.len > 0) tls_hand_slots_on(now);
  if (!c->is_tls_hs || c->is_closing || mg_ms_since(now, t->since) < MG_TLS_HANDSHAKE_TIMEOUT_MS) return;
  t->said_bye = true;
  mg_error(c, "TLS handshake with %M timed out after %d ms%s", mg_print_ip_port, &c->rem, MG_TLS_HANDSHAKE_TIMEOUT_MS,
           t->queue == &tls_slot_wait    ? " waiting for a slot (MG_TLS_MAX_HANDSHAKES)"
           : t->queue == &tls_hello_wait ? ": no whole ClientHello from the peer"
                                         : "");
}

// ---------------------------------------------------------------------------
// The filter

// After the handshake completes, MG_IO_WAIT: the handler of MG_EV_TLS_HS may have
// queued output or moved buffers, so the caller starts afresh at the next readiness
static long tls_recv(struct mg_connection *c, void *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  if (t->queue == &tls_hello_wait) {
    long rc = tls_read_hello(c);
    if (rc != 1) return rc;
    tls_queue_join(&tls_slot_wait, t);
    tls_hand_slots_on(mg_millis());  // A free slot: the handshake starts now
  }
  if (tls_waiting(t)) return MG_IO_WAIT;
  if (c->is_tls_hs) {
    long rc = tls_handshake(c);
    return rc == 1 ? MG_IO_WAIT : rc;
  }
  for (;;) {
    int n = mbedtls_ssl_read(t->ssl, (unsigned char *) buf, len);
    if (t->out.len > 0) tls_out_flush(c);  // An alert, or a key update's answer; a failure shows on the next write
    if (n > 0) return n;
    if (n == MBEDTLS_ERR_SSL_WANT_WRITE) t->out_held = true;
    if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) return MG_IO_WAIT;
    if (n == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue;  // A client's resumption ticket
    if (n == 0 || n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == MBEDTLS_ERR_SSL_CONN_EOF) return MG_IO_EOF;
    return tls_fail(c, n);
  }
}

// Output mbedTLS made on its own (an alert after a read) goes before any new record:
// mbedTLS would otherwise count the next write's bytes as sent with it
static long tls_send_held(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  int rc = mbedtls_ssl_write(t->ssl, NULL, 0);
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return MG_IO_WAIT;
  if (rc < 0) return tls_fail(c, rc);
  t->out_held = false;
  return 0;
}

// Takes as much of buf as makes records until the backend stops taking them, and
// returns how much. len 0: moves only what is held (a handshake flight). A record
// mbedTLS made and could not hand on is retried with exactly the bytes it was made of,
// since c->send may have grown since
static long tls_send(struct mg_connection *c, const void *buf, size_t len) {
  struct tls_conn *t = tls_of(c);
  if (c->is_tls_hs) {
    long rc = tls_handshake(c);
    return rc == 1 ? MG_IO_WAIT : rc;
  }
  long rc = tls_out_flush(c);
  if (rc < 0) return tls_fail(c, MBEDTLS_ERR_NET_SEND_FAILED);
  if (t->out_held && t->write_len == 0 && (rc = tls_send_held(c)) != 0) return rc;
  size_t done = 0;
  while (done < len) {
    size_t want = t->write_len > 0 ? t->write_len : len - done;
    int n = mbedtls_ssl_write(t->ssl, (const unsigned char *) buf + done, want);
    if (n > 0) {
      t->write_len = 0, t->out_held = false;
      done += (size_t) n;
    } else if (n == MBEDTLS_ERR_SSL_WANT_WRITE) {
      t->write_len = want, t->out_held = true;
      break;
    } else if (n == MBEDTLS_ERR_SSL_WANT_READ) {
      break;
    } else {
      return tls_fail(c, n);
    }
  }
  if (tls_out_flush(c) < 0) return tls_fail(c, MBEDTLS_ERR_NET_SEND_FAILED);
  return done > 0 ? (long) done : MG_IO_WAIT;
}

// Plaintext left inside mbedTLS after a read shorter than its record, or ciphertext
// read ahead (the kernel will not say readable for it again): a hello that waited for
// a slot is read from there. Not while mbedTLS holds output: writability moves that
// first, and reading now would spin
static bool tls_pending(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  if (tls_waiting(t)) return false;
  if (tls_ahead_left(t) > 0) return !t->out_held;
  return !c->is_tls_hs && mbedtls_ssl_get_bytes_avail(t->ssl) > 0;
}

// Writing helps when mbedTLS holds output, a client has yet to say hello, or the
// handshake is done and c->send waits; during a handshake that waits for the
// peer, c->send cannot move and must not make the loop spin on writability
static bool tls_wants_write(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  if (t->out_held || t->out.len > 0) return true;
  if (c->is_tls_hs) return c->is_client && !t->started;
  return c->send.len > 0;
}

// A hello in hand waits for a slot without reading more
static bool tls_wants_read(struct mg_connection *c) {
  return tls_of(c)->queue != &tls_slot_wait;
}

// close_notify, once, best effort: a peer that reads to the end of the stream learns
// that it was not cut short
static void tls_say_bye(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  if (t == NULL || t->said_bye || c->is_tls_hs) return;
  t->said_bye = true;
  mbedtls_ssl_close_notify(t->ssl);
  tls_out_flush(c);
}

static void tls_free(struct mg_connection *c) {
  struct tls_conn *t = tls_of(c);
  if (t == NULL) return;
  tls_say_bye(c);
  tls_queue_leave(t);
  tls_ssl_free(t);
  tls_ahead_free(t);
  mg_iobuf_free(&t->out);
  tls_cfg_release(t->cfg);
  c->filter = t->lower;
  c->tls = NULL;
  mg_free(t);
  if (c->filter != NULL && c->filter->free != NULL) c->filter->free(c);
}

static const struct mg_filter tls_filter = {
    .name = "tls",
    .recv = tls_recv,
    .send = tls_send,
    .pending = tls_pending,
    .free = tls_free,
    .wants_write = tls_wants_write,
    .poll = tls_poll,
    .shutdown = tls_say_bye,
    .wants_read = tls_wants_read,
};

const char *mg_tls_version(struct mg_connection *c) {
  return c->filter == &tls_filter && tls_of(c)->ssl != NULL ? mbedtls_ssl_get_version(tls_of(c)->ssl) : NULL;
}

bool mg_tls_test_holds_handshake(struct mg_connection *c) {
  return c->filter == &tls_filter && tls_of(c)->ssl != NULL && tls_of(c)->ssl->MBEDTLS_PRIVATE(handshake) != NULL;
}

// ---------------------------------------------------------------------------
// mg_tls_init

static struct tls_conn *tls_conn_new(struct mg_connection *c, const struct mg_tls_opts *opts, char *url_host,
                                     char *why, size_t len) {
  if (!tls_global_init()) {
    mg_snprintf(why, len, "PSA crypto failed to start");
    return NULL;
  }
  // Keys, nonces and signatures need a CSPRNG; without one mbedTLS fails later with
  // a bare code, or says a key does not match its certificate
  unsigned char probe;
  if (!mg_port_random(&probe, 1)) {
    mg_snprintf(why, len, "no random bytes (mg_port_random failed; a board needs a hardware RNG in %s)",
                "mg_board_random");
    return NULL;
  }
  struct tls_conn *t = (struct tls_conn *) mg_calloc(1, sizeof(*t));
  if (t == NULL) {
    mg_snprintf(why, len, "out of memory");
    return NULL;
  }
  t->c = c, t->lower = c->filter, t->since = mg_millis();
  t->out.align = MG_IO_SIZE;
  c->tls = t;
  t->cfg = tls_cfg_get(!c->is_client, opts, why, len);
  if (t->cfg != NULL && !c->is_client) {  // A slot once its ClientHello is in (tls_recv)
    tls_queue_join(&tls_hello_wait, t);
    return t;
  }
  if (t->cfg != NULL && tls_ssl_setup(c, opts, url_host, why, len)) return t;
  c->tls = NULL;
  tls_cfg_release(t->cfg);
  mg_free(t);
  return NULL;
}

void mg_tls_init(struct mg_connection *c, const struct mg_tls_opts *opts) {
  static const struct mg_tls_opts no_opts;
  if (opts == NULL) opts = &no_opts;
  if (c->filter == &tls_filter || c->is_listening || c->is_udp || c->is_closing) {
    if (!c->is_closing) mg_error(c, "mg_tls_init: only once, on a TCP connection (MG_EV_ACCEPT or MG_EV_CONNECT)");
    return;
  }
  // An https:// or wss:// client keeps its URL's host in c->tls until now (event/conn.c)
  char *url_host = c->is_client ? (char *) c->tls : NULL;
  char why[120];
  c->tls = NULL;
  struct tls_conn *t = tls_conn_new(c, opts, url_host, why, sizeof(why));
  mg_free(url_host);
  if (t == NULL) {
    mg_error(c, "TLS: %s", why);
    return;
  }
  // A client says hello at the next writability (tls_wants_write), not from in here:
  // a fast server could complete the handshake within this call otherwise
  c->filter = &tls_filter;
  c->is_tls = 1, c->is_tls_hs = 1;
}
#endif  // MG_ENABLE_TLS
