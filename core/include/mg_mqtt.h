// MQTT 3.1.1 and 5.0 (OASIS) over any connection: the packet parser, packets going out,
// the client (mg_mqtt_connect) and a server side (mg_mqtt_listen) for a small broker.
#ifndef MG_MQTT_H
#define MG_MQTT_H

// A client that has sent CONNECT waits this long for CONNACK before it gives up
#ifndef MG_MQTT_CONNACK_TIMEOUT_MS
#define MG_MQTT_CONNACK_TIMEOUT_MS 10000
#endif

// Packet types (the high four bits of the first byte); mg_mqtt_message.cmd
#define MQTT_CMD_CONNECT 1
#define MQTT_CMD_CONNACK 2
#define MQTT_CMD_PUBLISH 3
#define MQTT_CMD_PUBACK 4
#define MQTT_CMD_PUBREC 5
#define MQTT_CMD_PUBREL 6
#define MQTT_CMD_PUBCOMP 7
#define MQTT_CMD_SUBSCRIBE 8
#define MQTT_CMD_SUBACK 9
#define MQTT_CMD_UNSUBSCRIBE 10
#define MQTT_CMD_UNSUBACK 11
#define MQTT_CMD_PINGREQ 12
#define MQTT_CMD_PINGRESP 13
#define MQTT_CMD_DISCONNECT 14
#define MQTT_CMD_AUTH 15

// MQTT 5 property identifiers (MQTT 5.0 section 2.2.2.2); mg_mqtt_prop.id
#define MQTT_PROP_PAYLOAD_FORMAT_INDICATOR 0x01
#define MQTT_PROP_MESSAGE_EXPIRY_INTERVAL 0x02
#define MQTT_PROP_CONTENT_TYPE 0x03
#define MQTT_PROP_RESPONSE_TOPIC 0x08
#define MQTT_PROP_CORRELATION_DATA 0x09
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER 0x0B
#define MQTT_PROP_SESSION_EXPIRY_INTERVAL 0x11
#define MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER 0x12
#define MQTT_PROP_SERVER_KEEP_ALIVE 0x13
#define MQTT_PROP_AUTHENTICATION_METHOD 0x15
#define MQTT_PROP_AUTHENTICATION_DATA 0x16
#define MQTT_PROP_REQUEST_PROBLEM_INFORMATION 0x17
#define MQTT_PROP_WILL_DELAY_INTERVAL 0x18
#define MQTT_PROP_REQUEST_RESPONSE_INFORMATION 0x19
#define MQTT_PROP_RESPONSE_INFORMATION 0x1A
#define MQTT_PROP_SERVER_REFERENCE 0x1C
#define MQTT_PROP_REASON_STRING 0x1F
#define MQTT_PROP_RECEIVE_MAXIMUM 0x21
#define MQTT_PROP_TOPIC_ALIAS_MAXIMUM 0x22
#define MQTT_PROP_TOPIC_ALIAS 0x23
#define MQTT_PROP_MAXIMUM_QOS 0x24
#define MQTT_PROP_RETAIN_AVAILABLE 0x25
#define MQTT_PROP_USER_PROPERTY 0x26
#define MQTT_PROP_MAXIMUM_PACKET_SIZE 0x27
#define MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE 0x28
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE 0x29
#define MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE 0x2A

// How a property's value is encoded
enum {
  MQTT_PROP_TYPE_BYTE,
  MQTT_PROP_TYPE_STRING,
  MQTT_PROP_TYPE_STRING_PAIR,
  MQTT_PROP_TYPE_BINARY_DATA,
  MQTT_PROP_TYPE_VARIABLE_INT,
  MQTT_PROP_TYPE_INT,
  MQTT_PROP_TYPE_SHORT
};

// mg_mqtt_parse's answers
enum { MQTT_OK, MQTT_INCOMPLETE, MQTT_MALFORMED };

// One MQTT 5 property: integers in iv; strings and binary data in val; a user
// property's name in key and its value in val
struct mg_mqtt_prop {
  uint8_t id;
  uint32_t iv;
  struct mg_str key;
  struct mg_str val;
};

// What mg_mqtt_connect / login, pub, sub, unsub and disconnect send; zero it and set
// what the call needs. For CONNECT, topic and message are the will (none if topic is
// empty), qos and retain the will's; an empty client_id gets 20 random alphanumerics.
struct mg_mqtt_opts {
  struct mg_str user;               // CONNECT: user name; empty: none
  struct mg_str pass;               // CONNECT: password; empty: none
  struct mg_str client_id;          // CONNECT: client identifier; empty: generated
  struct mg_str topic;              // CONNECT: will topic; PUBLISH, SUBSCRIBE, UNSUBSCRIBE: the topic
  struct mg_str message;            // CONNECT: will message; PUBLISH: the payload
  uint8_t qos;                      // 0, 1 or 2
  uint8_t version;                  // 4 (3.1.1) or 5; 0 means 4
  uint16_t keepalive;               // CONNECT: seconds; 0: none
  uint16_t retransmit_id;           // PUBLISH: resend the packet with this id (DUP set); 0: a new one
  bool retain;                      // PUBLISH, and the will of CONNECT
  bool clean;                       // CONNECT: clean session (3.1.1) / clean start (5)
  struct mg_mqtt_prop *props;       // MQTT 5: the packet's properties
  size_t num_props;
  struct mg_mqtt_prop *will_props;  // MQTT 5 CONNECT: the will's properties
  size_t num_will_props;
};

// A received packet, for MG_EV_MQTT_CMD (every packet) and MG_EV_MQTT_MSG (PUBLISH).
// Slices point into the receive buffer: valid during the event only.
struct mg_mqtt_message {
  struct mg_str topic;  // PUBLISH: the topic
  struct mg_str data;   // PUBLISH: the payload; SUBACK, UNSUBACK: the reason codes;
                        // SUBSCRIBE, UNSUBSCRIBE, CONNECT: the payload; others: the rest
  struct mg_str dgram;  // The whole packet, fixed header included
  uint16_t id;          // Packet identifier, for the packets that carry one
  uint8_t cmd;          // MQTT_CMD_*
  uint8_t qos;          // PUBLISH: 0, 1 or 2
  uint8_t ack;          // CONNACK: the return (3.1.1) or reason (5) code, 0 = accepted;
                        // v5 PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT: the reason code
  size_t props_start;   // MQTT 5: where the properties start, from dgram.buf
  size_t props_size;    // MQTT 5: their length in bytes (0: none)
};

// Connect to an mqtt:// or mqtts:// URL and send CONNECT (opts may be NULL: 3.1.1, no
// will, no login, a generated client id). fn gets MG_EV_MQTT_OPEN (ev_data: int *, the
// CONNACK code; the connection closes when it is not 0), MG_EV_MQTT_MSG for each
// PUBLISH (acknowledged at its QoS first), MG_EV_MQTT_CMD for every packet. With a
// keepalive, PINGREQ goes out when nothing else did for that long, and a broker silent
// for another keepalive after it is an error. NULL on a malformed URL or no memory.
struct mg_connection *mg_mqtt_connect(struct mg_mgr *, const char *url, const struct mg_mqtt_opts *opts,
                                      mg_event_handler_t fn, void *fn_data);
// Accept MQTT clients: each packet is MG_EV_MQTT_CMD (PUBLISH also MG_EV_MQTT_MSG, and
// acknowledged); the application answers CONNECT, SUBSCRIBE, PINGREQ ... itself. A
// CONNECT of protocol level 5 makes the connection MQTT 5 (c->is_mqtt5).
struct mg_connection *mg_mqtt_listen(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data);
// Send CONNECT on an open connection (mg_mqtt_connect does it)
void mg_mqtt_login(struct mg_connection *c, const struct mg_mqtt_opts *opts);
// PUBLISH opts->message to opts->topic. Returns the packet id for QoS 1 and 2
// (opts->retransmit_id when resending), 0 for QoS 0 or when nothing was sent
uint16_t mg_mqtt_pub(struct mg_connection *c, const struct mg_mqtt_opts *opts);
void mg_mqtt_sub(struct mg_connection *, const struct mg_mqtt_opts *opts);    // SUBSCRIBE opts->topic at opts->qos
void mg_mqtt_unsub(struct mg_connection *c, const struct mg_mqtt_opts *opts);  // UNSUBSCRIBE opts->topic
// Parse one packet at the start of buf; version 4 or 5 says whether packets carry
// properties (a CONNECT says it itself). m slices buf; m->dgram.len is what it took.
int mg_mqtt_parse(const uint8_t *buf, size_t len, uint8_t version, struct mg_mqtt_message *m);
// The fixed header: cmd, flags (its low four bits) and the remaining length
void mg_mqtt_send_header(struct mg_connection *, uint8_t cmd, uint8_t flags, uint32_t len);
void mg_mqtt_ping(struct mg_connection *);  // PINGREQ
void mg_mqtt_pong(struct mg_connection *);  // PINGRESP
// DISCONNECT (MQTT 5: reason 0 with opts->props; opts may be NULL)
void mg_mqtt_disconnect(struct mg_connection *, const struct mg_mqtt_opts *);
// The property at ofs of the message's properties (start with 0) into *prop; returns the
// offset of the next one, 0 when there are no more
size_t mg_mqtt_next_prop(struct mg_mqtt_message *, struct mg_mqtt_prop *, size_t ofs);

#endif  // MG_MQTT_H
