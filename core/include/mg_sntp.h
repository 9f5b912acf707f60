// Wall-clock time: milliseconds since 1970 on top of the monotonic mg_millis(),
// and the SNTP client (RFC 4330) over UDP that sets it.
#ifndef MG_SNTP_H
#define MG_SNTP_H

// How long a request waits for its answer before MG_EV_ERROR "SNTP timeout" closes
// the connection (Mongoose 7.22 documents none; a fire-and-forget sync must end)
#ifndef MG_SNTP_TIMEOUT_MS
#define MG_SNTP_TIMEOUT_MS 3000
#endif

// Unix time in milliseconds at mg_millis() == 0. 0 until the first successful SNTP
// answer; every successful answer sets it again. An application with another time
// source (an RTC) may set it too.
extern uint64_t mg_boot_timestamp_ms;

// Milliseconds since 1970: mg_millis() + mg_boot_timestamp_ms. Until an SNTP answer
// (or the application) sets the boot timestamp, this is the same as mg_millis().
uint64_t mg_now(void);

// Connects to an SNTP server and sends one request at once. url: "udp://HOST[:PORT]"
// (port 123 when absent); NULL means "udp://time.google.com:123". A host name is
// resolved first (MG_EV_ERROR "DNS timeout" etc. if that fails). An answer that
// echoes the request's transmit time sets mg_boot_timestamp_ms, then fn gets
// MG_EV_SNTP_TIME with ev_data a uint64_t * of Unix milliseconds at its arrival
// (half the round trip added to the server's time), and the connection closes.
// Answers that do not echo the request are ignored. A kiss-of-death from the server
// ends with MG_EV_ERROR "SNTP kiss of death CODE"; no valid answer within
// MG_SNTP_TIMEOUT_MS with MG_EV_ERROR "SNTP timeout". fn and fn_data may be NULL
// (only the boot timestamp is set). NULL on a URL that is not udp:// or no memory.
struct mg_connection *mg_sntp_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data);

// Sends another request on a connection of mg_sntp_connect. Does nothing while one
// is waiting for its answer, while the host is being resolved (the request goes when
// it is), on a closing connection or on a connection that is not SNTP's.
void mg_sntp_request(struct mg_connection *c);

// The transmit time of a server's reply (RFC 4330 section 5) in Unix milliseconds,
// or -1 when buf is not a usable one: shorter than 48 bytes, mode other than 4
// (server), version other than 3 or 4, leap indicator 3 (unsynchronised), stratum 0
// (kiss-of-death) or above 15, transmit time zero or before 1970. NTP era 1 (from
// 2036-02-07) is read from the timestamp's top bit as RFC 4330 section 3 says, so
// 1970 to 2104 come out right. A pure function: the origin check and the round
// trip are the client's.
int64_t mg_sntp_parse(const unsigned char *buf, size_t len);

#endif  // MG_SNTP_H
