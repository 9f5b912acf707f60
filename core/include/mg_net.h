// The event manager and connections: lifecycle, event dispatch, sending.
// One mg_mgr owns every connection; mg_mgr_poll() drives them all on one thread.
#ifndef MG_NET_H
#define MG_NET_H

// Events, numbered as in Mongoose 7.22 (programs log and store the numbers); ev_data
// for each is noted. Meerkat's own MG_EV_HTTP_CHUNK comes after Mongoose's, before MG_EV_USER.
enum mg_event {
  MG_EV_ERROR,      // char *error_message          after it the connection closes
  MG_EV_OPEN,       // NULL                         connection created
  MG_EV_POLL,       // uint64_t *uptime_millis      once per mg_mgr_poll() iteration
  MG_EV_RESOLVE,    // NULL                         host name resolved
  MG_EV_CONNECT,    // NULL                         outbound connection established
  MG_EV_ACCEPT,     // NULL                         inbound connection accepted
  MG_EV_TLS_HS,     // NULL                         TLS handshake done
  MG_EV_READ,       // long *bytes_read             data appended to c->recv
  MG_EV_WRITE,      // long *bytes_written          data from c->send went out
  MG_EV_CLOSE,      // NULL                         connection is about to be freed
  MG_EV_HTTP_HDRS,  // struct mg_http_message *     request/response headers parsed
  MG_EV_HTTP_MSG,   // struct mg_http_message *     full HTTP message
  MG_EV_WS_OPEN,    // struct mg_http_message *     WebSocket handshake done
  MG_EV_WS_MSG,     // struct mg_ws_message *       WebSocket message
  MG_EV_WS_CTL,     // struct mg_ws_message *       WebSocket control frame
  MG_EV_MQTT_CMD,   // struct mg_mqtt_message *     MQTT low-level command
  MG_EV_MQTT_MSG,   // struct mg_mqtt_message *     MQTT PUBLISH received
  MG_EV_MQTT_OPEN,  // int *connack_status_code     MQTT CONNACK received
  MG_EV_SNTP_TIME,  // uint64_t *epoch_millis       SNTP time received (mg_sntp.h)
  MG_EV_WAKEUP,     // struct mg_str *data          mg_wakeup() from another thread
  MG_EV_MDNS_REQ,   // (Mongoose's mDNS responder: not in Meerkat)
  MG_EV_MDNS_RESP,  // (Mongoose's mDNS client: not in Meerkat)
  MG_EV_MODBUS_REQ, // (Mongoose's Modbus server: not in Meerkat)
  MG_EV_HTTP_CHUNK, // struct mg_http_message *     streamed body piece in hm->chunk
  MG_EV_USER        // First number free for the application
};

struct mg_connection;
typedef void (*mg_event_handler_t)(struct mg_connection *, int ev, void *ev_data);

struct mg_addr {
  union {            // The address in network byte order; IPv4 in the first 4 bytes
    uint8_t ip[16];
    uint32_t ip4;
    uint64_t ip6[2];
  } addr;
  uint16_t port;     // Network byte order
  uint8_t scope_id;  // IPv6 scope
  bool is_ip6;
};

struct mg_dns {
  const char *url;           // Nameserver "udp://IP:PORT" (numeric IP only); NULL = the port's
                             // (/etc/resolv.conf on POSIX; none on bare metal)
  struct mg_connection *c;   // Unused: each lookup has its own UDP connection. Kept for source compatibility
};

struct mg_dns_request;
struct mg_filter;

struct mg_mgr {
  struct mg_connection *conns;   // All connections, newest first
  struct mg_dns dns4, dns6;      // Resolvers for A and AAAA lookups
  int dnstimeout;                // DNS query timeout, milliseconds (default 3000)
  bool use_dns6;                 // Resolve AAAA instead of A
  struct mg_dns_request *active_dns_requests;
  struct mg_timer *timers;
  unsigned long nextid;          // Next connection id
  void *userdata;                // Free for the application
  uint16_t mqtt_id;              // The last MQTT packet identifier handed out (never 0)
  void *backend;                 // The network backend's private state
  uint64_t accept_paused_until;  // mg_millis() until which listeners rest (out of descriptors)
  struct mg_connection *wakeup_pipe;  // Receiving end of mg_wakeup()'s channel
  unsigned char *io_spare[MG_IO_SPARES];  // Empty MG_IO_SIZE buffers kept for reuse
  unsigned io_spares;
  bool no_wait;          // A protocol handler has work for the next pass: do not sleep before it
  struct mg_tcpip_if *ifp;  // The built-in stack's interface (MG_ENABLE_TCPIP), else NULL
};

struct mg_connection {
  struct mg_connection *next;  // Linkage in mgr->conns
  struct mg_connection *prev;  // The one before (NULL: first), so a close unlinks in O(1)
  struct mg_mgr *mgr;
  struct mg_addr loc;          // Local address
  struct mg_addr rem;          // Remote address
  void *fd;                    // Backend handle (a socket number cast to a pointer)
  unsigned long id;            // Unique within the manager, never 0
  struct mg_iobuf recv;        // Bytes received and not yet consumed
  struct mg_iobuf send;        // Bytes queued for sending
  mg_event_handler_t fn;       // User handler
  void *fn_data;
  mg_event_handler_t pfn;      // Protocol handler, called before fn
  void *pfn_data;
  char data[MG_DATA_SIZE];     // Free for the application
  union {                      // Private to the protocol handler (http/http_internal.h)
    uint64_t u64[8];
    void *ptr[8];
  } pstate;
  const struct mg_filter *filter;  // Between the backend and recv/send (TLS); NULL: none
  void *tls;                   // The filter's state (TLS context), NULL if plain
  unsigned is_listening : 1;   // Listening socket
  unsigned is_client : 1;      // Outbound connection
  unsigned is_accepted : 1;    // Accepted by a listener
  unsigned is_resolving : 1;   // Waiting for DNS
  unsigned is_connecting : 1;  // Non-blocking connect() in progress
  unsigned is_tls : 1;         // TLS requested
  unsigned is_tls_hs : 1;      // TLS handshake in progress
  unsigned is_udp : 1;         // UDP socket
  unsigned is_websocket : 1;   // Upgraded to WebSocket
  unsigned is_mqtt5 : 1;       // MQTT v5
  unsigned is_hexdumping : 1;  // Log traffic as hex
  unsigned is_draining : 1;    // Close once c->send is empty
  unsigned is_closing : 1;     // Close at the end of this poll iteration
  unsigned is_full : 1;        // Not reading: recv full or send over MG_MAX_SEND_QUEUE
  unsigned is_resp : 1;        // HTTP server: a reply is owed or still going out (set on a request, cleared when complete)
  unsigned is_eof : 1;         // Peer sent FIN; close once what is queued has gone
  unsigned io_interest : 2;    // Event layer: readiness last asked of the backend
  unsigned is_lingering : 1;   // Closing gracefully: our side is shut, input is read and dropped
  unsigned is_read_paused : 1; // Set by the protocol handler: read nothing more for now (HTTP: input waiting behind a reply)
  unsigned is_readable : 1;    // The backend reported it readable in this poll pass (as in Mongoose)
  unsigned is_writable : 1;    // The backend reported it writable in this poll pass
  uint32_t linger_since;       // Event layer: mg_millis() (low bits) when lingering began
};

void mg_mgr_init(struct mg_mgr *mgr);
void mg_mgr_free(struct mg_mgr *mgr);  // Closes every connection (MG_EV_CLOSE for each)
// One iteration: wait at most ms for I/O, then dispatch events, run timers and
// free closed connections. Never blocks on I/O or DNS.
void mg_mgr_poll(struct mg_mgr *mgr, int ms);

// url: "tcp://0.0.0.0:1234", "udp://[::]:5353", "tcp://127.0.0.1:0" (port 0 = any;
// read the chosen one back from c->loc.port). NULL on failure, with a log line.
// UDP (here and in mg_connect): each MG_EV_READ appends one whole datagram to c->recv.
// One larger than MG_UDP_MAX (mg_arch.h, default 1500) is dropped with an error log
// line naming its size, never delivered cut; the connection carries on, no MG_EV_ERROR.
struct mg_connection *mg_listen(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data);
// Outbound: resolves the host asynchronously, then MG_EV_CONNECT (TCP). Failures
// arrive as MG_EV_ERROR. NULL only if the URL is malformed or memory is short.
struct mg_connection *mg_connect(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data);
// The same with a protocol handler, installed before the first event (MG_EV_OPEN)
struct mg_connection *mg_listen_svc(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data,
                                    mg_event_handler_t pfn, void *pfn_data);
struct mg_connection *mg_connect_svc(struct mg_mgr *, const char *url, mg_event_handler_t fn, void *fn_data,
                                     mg_event_handler_t pfn, void *pfn_data);
// Wrap an existing non-blocking socket in a connection (OS sockets backend only).
struct mg_connection *mg_wrapfd(struct mg_mgr *mgr, int fd, mg_event_handler_t fn, void *fn_data);

// Queue data for sending. false if memory could not be had (the connection is
// then marked for closing: losing part of a stream silently is never right).
bool mg_send(struct mg_connection *, const void *buf, size_t len);
// Bytes queued; 0 if memory ran out: nothing is queued and the connection closes with an error
size_t mg_printf(struct mg_connection *, const char *fmt, ...);
size_t mg_vprintf(struct mg_connection *, const char *fmt, va_list *ap);
void mg_error(struct mg_connection *c, const char *fmt, ...);

// A timer on mgr->timers, allocated here (NULL if memory ran out). As in Mongoose
// 7.22 a one-shot is unlinked and freed right after its call (so the pointer is
// then stale); mg_mgr_free frees what is still listed. To drop a timer sooner:
// mg_timer_free(&mgr->timers, t) then mg_free(t).
struct mg_timer *mg_timer_add(struct mg_mgr *mgr, uint64_t milliseconds, unsigned flags,
                              void (*fn)(void *), void *arg);

// Cross-thread door: after mg_wakeup_init(mgr) on the loop thread, any thread may
// call mg_wakeup(); the connection with that id gets MG_EV_WAKEUP with the data,
// whole, whatever MG_IO_SIZE. At most 1000 bytes per call (fewer if MG_UDP_MAX is
// set under 1024): a larger message is refused with false and an error log line
// (from the calling thread). false also if the loop's queue is full (try again later),
// before mg_wakeup_init, and for conn_id 0.
bool mg_wakeup_init(struct mg_mgr *mgr);
bool mg_wakeup(struct mg_mgr *mgr, unsigned long conn_id, const void *buf, size_t len);

// Call c->pfn then c->fn; used by protocol layers to raise their own events
void mg_call(struct mg_connection *c, int ev, void *ev_data);

#if MG_ENABLE_MOCK
// The mock backend's fake clock: it jumps by the whole wait when nothing is ready
uint64_t mg_mock_millis(void);
void mg_mock_advance(uint64_t ms);
#endif

// Address helpers. mg_aton parses "1.2.3.4", "::1", "[::1]"; true on success.
bool mg_aton(struct mg_str str, struct mg_addr *addr);
// Whether remote_ip passes acl, "+IP[/BITS],-IP[/BITS],..." (IPv4, or IPv6 with
// ':'); the last entry that matches decides. 1 allowed, 0 denied, -1 malformed acl.
// An empty acl allows everyone; a non-empty one that no entry matches denies.
int mg_check_ip_acl(struct mg_str acl, struct mg_addr *remote_ip);

#endif  // MG_NET_H
