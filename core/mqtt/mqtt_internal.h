// What the MQTT files share: the wire's variable byte integers, the fixed header, the
// property types, and the hooks the packet writers give the protocol handler.
#ifndef MQTT_INTERNAL_H
#define MQTT_INTERNAL_H

#include "mg_internal.h"

#define MQTT_MAX_REMAINING 268435455UL  // Four bytes of variable byte integer (MQTT 5.0 1.5.5)

// A variable byte integer at p (at most 4 bytes): MQTT_OK with *value and *used,
// MQTT_INCOMPLETE if len ends inside it, MQTT_MALFORMED if a fifth byte would follow
int mqtt_varint_read(const uint8_t *p, size_t len, uint32_t *value, size_t *used);
size_t mqtt_varint_write(uint8_t out[4], uint32_t value);  // Bytes written (1 to 4)
size_t mqtt_varint_size(uint32_t value);

// The fixed header at buf: its length (2 to 5) and the remaining length after it
int mqtt_frame(const uint8_t *buf, size_t len, size_t *head_len, uint32_t *remaining);

// The protocol level of a CONNECT that mg_mqtt_parse took (4: 3.1.1, 5), 0 if none
uint8_t mqtt_connect_level(const struct mg_mqtt_message *m);

// MQTT_PROP_TYPE_* of a property identifier, -1 if MQTT 5 defines none
int mqtt_prop_type(uint8_t id);
// The property at p (before end) into *prop: bytes it takes, 0 if malformed or unknown
size_t mqtt_prop_read(const uint8_t *p, const uint8_t *end, struct mg_mqtt_prop *prop);

// mqtt.c: the client's CONNECT went out with this keepalive (seconds)
void mqtt_conn_logged_in(struct mg_connection *c, uint16_t keepalive);

#endif  // MQTT_INTERNAL_H
