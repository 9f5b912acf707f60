// MQTT packets over a plain buffer (OASIS MQTT 3.1.1 and 5.0, chapters 2 and 3): the
// fixed header, each packet type's variable header and MQTT 5 properties; no connection.
#include "mqtt/mqtt_internal.h"

// ---------------------------------------------------------------------------
// Variable byte integers and the fixed header

// A value has one encoding: the shortest (MQTT 5.0 1.5.5 "MUST use the minimum number
// of bytes"), as the WebSocket parser asks of frame lengths
int mqtt_varint_read(const uint8_t *p, size_t len, uint32_t *value, size_t *used) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; i++) {
    if (i >= len) return MQTT_INCOMPLETE;
    v |= (uint32_t) (p[i] & 0x7f) << (7 * i);
    if ((p[i] & 0x80) == 0) {
      if (i > 0 && p[i] == 0) return MQTT_MALFORMED;
      *value = v;
      *used = i + 1;
      return MQTT_OK;
    }
  }
  return MQTT_MALFORMED;  // A fifth byte: over 268,435,455
}

size_t mqtt_varint_write(uint8_t out[4], uint32_t value) {
  size_t n = 0;
  do {
    uint8_t b = (uint8_t) (value & 0x7f);
    value >>= 7;
    out[n++] = (uint8_t) (value > 0 ? b | 0x80 : b);
  } while (value > 0 && n < 4);
  return n;
}

size_t mqtt_varint_size(uint32_t value) {
  return value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;
}

int mqtt_frame(const uint8_t *buf, size_t len, size_t *head_len, uint32_t *remaining) {
  size_t used = 0;
  if (len < 2) return MQTT_INCOMPLETE;
  int rc = mqtt_varint_read(buf + 1, len - 1, remaining, &used);
  *head_len = 1 + used;
  return rc;
}

// ---------------------------------------------------------------------------
// Properties (MQTT 5.0 2.2.2)

int mqtt_prop_type(uint8_t id) {
  switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
    case MQTT_PROP_MAXIMUM_QOS:
    case MQTT_PROP_RETAIN_AVAILABLE:
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE: return MQTT_PROP_TYPE_BYTE;
    case MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
    case MQTT_PROP_SESSION_EXPIRY_INTERVAL:
    case MQTT_PROP_WILL_DELAY_INTERVAL:
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: return MQTT_PROP_TYPE_INT;
    case MQTT_PROP_CONTENT_TYPE:
    case MQTT_PROP_RESPONSE_TOPIC:
    case MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER:
    case MQTT_PROP_AUTHENTICATION_METHOD:
    case MQTT_PROP_RESPONSE_INFORMATION:
    case MQTT_PROP_SERVER_REFERENCE:
    case MQTT_PROP_REASON_STRING: return MQTT_PROP_TYPE_STRING;
    case MQTT_PROP_CORRELATION_DATA:
    case MQTT_PROP_AUTHENTICATION_DATA: return MQTT_PROP_TYPE_BINARY_DATA;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER: return MQTT_PROP_TYPE_VARIABLE_INT;
    case MQTT_PROP_SERVER_KEEP_ALIVE:
    case MQTT_PROP_RECEIVE_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM:
    case MQTT_PROP_TOPIC_ALIAS: return MQTT_PROP_TYPE_SHORT;
    case MQTT_PROP_USER_PROPERTY: return MQTT_PROP_TYPE_STRING_PAIR;
    default: return -1;
  }
}

// A cursor over one packet's bytes: every read checks the end first
struct mqtt_cur {
  const uint8_t *p, *end;
};

static size_t mqtt_cur_left(const struct mqtt_cur *r) {
  return (size_t) (r->end - r->p);
}

static bool mqtt_cur_u8(struct mqtt_cur *r, uint8_t *v) {
  if (mqtt_cur_left(r) < 1) return false;
  *v = *r->p++;
  return true;
}

static bool mqtt_cur_u16(struct mqtt_cur *r, uint16_t *v) {
  if (mqtt_cur_left(r) < 2) return false;
  *v = MG_LOAD_BE16(r->p);
  r->p += 2;
  return true;
}

// A string or binary data: two bytes of length, then that many bytes
static bool mqtt_cur_str(struct mqtt_cur *r, struct mg_str *s) {
  uint16_t n = 0;
  if (!mqtt_cur_u16(r, &n) || mqtt_cur_left(r) < n) return false;
  *s = mg_str_n((const char *) r->p, n);
  r->p += n;
  return true;
}

static bool mqtt_cur_varint(struct mqtt_cur *r, uint32_t *v) {
  size_t used = 0;
  if (mqtt_varint_read(r->p, mqtt_cur_left(r), v, &used) != MQTT_OK) return false;
  r->p += used;
  return true;
}

// An integer of 1, 2 or 4 bytes, big-endian
static bool mqtt_cur_uint(struct mqtt_cur *r, size_t size, uint32_t *v) {
  if (mqtt_cur_left(r) < size) return false;
  *v = 0;
  for (size_t i = 0; i < size; i++) *v = *v << 8 | *r->p++;
  return true;
}

static bool mqtt_prop_value(struct mqtt_cur *r, int type, struct mg_mqtt_prop *prop) {
  switch (type) {
    case MQTT_PROP_TYPE_BYTE: return mqtt_cur_uint(r, 1, &prop->iv);
    case MQTT_PROP_TYPE_SHORT: return mqtt_cur_uint(r, 2, &prop->iv);
    case MQTT_PROP_TYPE_INT: return mqtt_cur_uint(r, 4, &prop->iv);
    case MQTT_PROP_TYPE_VARIABLE_INT: return mqtt_cur_varint(r, &prop->iv);
    case MQTT_PROP_TYPE_STRING_PAIR: return mqtt_cur_str(r, &prop->key) && mqtt_cur_str(r, &prop->val);
    default: return mqtt_cur_str(r, &prop->val);  // STRING, BINARY_DATA
  }
}

size_t mqtt_prop_read(const uint8_t *p, const uint8_t *end, struct mg_mqtt_prop *prop) {
  struct mqtt_cur r = {p, end};
  memset(prop, 0, sizeof(*prop));
  // Identifiers are variable byte integers, but every defined one fits in a byte
  if (!mqtt_cur_u8(&r, &prop->id)) return 0;
  int type = mqtt_prop_type(prop->id);
  if (type < 0 || !mqtt_prop_value(&r, type, prop)) return 0;
  return (size_t) (r.p - p);
}

size_t mg_mqtt_next_prop(struct mg_mqtt_message *m, struct mg_mqtt_prop *prop, size_t ofs) {
  if (m == NULL || prop == NULL || m->dgram.buf == NULL) return 0;
  if (m->props_start > m->dgram.len || m->props_size > m->dgram.len - m->props_start) return 0;
  if (ofs >= m->props_size) return 0;
  const uint8_t *start = (const uint8_t *) m->dgram.buf + m->props_start;
  size_t n = mqtt_prop_read(start + ofs, start + m->props_size, prop);
  return n == 0 ? 0 : ofs + n;
}

// The property length and every property within it, checked; m keeps where they are
static bool mqtt_parse_props(struct mqtt_cur *r, struct mg_mqtt_message *m) {
  uint32_t len = 0;
  struct mg_mqtt_prop prop;
  if (!mqtt_cur_varint(r, &len) || mqtt_cur_left(r) < len) return false;
  m->props_start = (size_t) (r->p - (const uint8_t *) m->dgram.buf);
  m->props_size = len;
  for (const uint8_t *end = r->p + len; r->p < end;) {
    size_t n = mqtt_prop_read(r->p, end, &prop);
    if (n == 0) return false;
    r->p += n;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Variable headers, one function per packet type (MQTT 3.1.1 and 5.0 chapter 3)

static void mqtt_parse_rest(struct mqtt_cur *r, struct mg_mqtt_message *m) {
  m->data = mg_str_n((const char *) r->p, mqtt_cur_left(r));
  r->p = r->end;
}

// 3.1: the protocol level inside says whether properties follow, whatever the caller's version
static bool mqtt_parse_connect(struct mqtt_cur *r, struct mg_mqtt_message *m) {
  struct mg_str name, s;
  uint8_t level = 0, flags = 0;
  uint16_t keepalive = 0;
  if (!mqtt_cur_str(r, &name) || !mqtt_cur_u8(r, &level) || !mqtt_cur_u8(r, &flags) || !mqtt_cur_u16(r, &keepalive))
    return false;
  bool will = flags & 0x04;
  uint8_t will_qos = (flags >> 3) & 3;
  if ((flags & 0x01) || will_qos == 3 || (!will && (will_qos != 0 || (flags & 0x20)))) return false;
  if (level == 5 && !mqtt_parse_props(r, m)) return false;
  m->data = mg_str_n((const char *) r->p, mqtt_cur_left(r));
  if (!mqtt_cur_str(r, &s)) return false;  // Client identifier
  if (will) {
    struct mg_mqtt_message will_props = *m;  // The will's properties are checked, not kept
    if (level == 5 && !mqtt_parse_props(r, &will_props)) return false;
    if (!mqtt_cur_str(r, &s) || !mqtt_cur_str(r, &s)) return false;  // Will topic, will message
  }
  if ((flags & 0x80) && !mqtt_cur_str(r, &s)) return false;  // User name
  if ((flags & 0x40) && !mqtt_cur_str(r, &s)) return false;  // Password
  return true;
}

uint8_t mqtt_connect_level(const struct mg_mqtt_message *m) {
  size_t head_len = 0;
  uint32_t remaining = 0;
  const uint8_t *p = (const uint8_t *) m->dgram.buf;
  if (m->cmd != MQTT_CMD_CONNECT || mqtt_frame(p, m->dgram.len, &head_len, &remaining) != MQTT_OK) return 0;
  struct mqtt_cur r = {p + head_len, p + m->dgram.len};
  struct mg_str name;
  uint8_t level = 0;
  return mqtt_cur_str(&r, &name) && mqtt_cur_u8(&r, &level) ? level : 0;
}

static bool mqtt_parse_connack(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  uint8_t session = 0;
  if (!mqtt_cur_u8(r, &session) || (session & 0xfe) || !mqtt_cur_u8(r, &m->ack)) return false;
  if (v5 && mqtt_cur_left(r) > 0 && !mqtt_parse_props(r, m)) return false;
  mqtt_parse_rest(r, m);
  return true;
}

static bool mqtt_parse_publish(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  if (!mqtt_cur_str(r, &m->topic)) return false;
  if (m->qos > 0 && (!mqtt_cur_u16(r, &m->id) || m->id == 0)) return false;
  if (v5 && !mqtt_parse_props(r, m)) return false;
  mqtt_parse_rest(r, m);
  return true;
}

// PUBACK, PUBREC, PUBREL, PUBCOMP: the id; MQTT 5 may add a reason code and properties
static bool mqtt_parse_ack(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  if (!mqtt_cur_u16(r, &m->id) || m->id == 0) return false;
  if (v5 && mqtt_cur_left(r) > 0) {
    mqtt_cur_u8(r, &m->ack);
    if (mqtt_cur_left(r) > 0 && !mqtt_parse_props(r, m)) return false;
  }
  mqtt_parse_rest(r, m);
  return true;
}

// SUBSCRIBE and UNSUBSCRIBE: one topic filter at least, each with its options byte
static bool mqtt_parse_filters(struct mqtt_cur *r, bool with_options, bool v5) {
  struct mg_str filter;
  uint8_t options = 0;
  if (mqtt_cur_left(r) == 0) return false;
  while (mqtt_cur_left(r) > 0) {
    if (!mqtt_cur_str(r, &filter)) return false;
    if (!with_options) continue;
    if (!mqtt_cur_u8(r, &options) || (options & 3) == 3) return false;
    if (options & (v5 ? 0xc0 : 0xfc)) return false;  // Reserved bits
  }
  return true;
}

// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK: the id, MQTT 5 properties, then the payload
static bool mqtt_parse_sub(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  if (!mqtt_cur_u16(r, &m->id) || m->id == 0) return false;
  if (v5 && !mqtt_parse_props(r, m)) return false;
  struct mqtt_cur payload = *r;
  mqtt_parse_rest(r, m);
  if (m->cmd == MQTT_CMD_SUBSCRIBE) return mqtt_parse_filters(&payload, true, v5);
  if (m->cmd == MQTT_CMD_UNSUBSCRIBE) return mqtt_parse_filters(&payload, false, v5);
  return m->cmd == MQTT_CMD_UNSUBACK || m->data.len > 0;  // A SUBACK has a code per filter
}

// DISCONNECT and AUTH: MQTT 5 may carry a reason code and properties
static bool mqtt_parse_reason(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  if (v5 && mqtt_cur_left(r) > 0) {
    mqtt_cur_u8(r, &m->ack);
    if (mqtt_cur_left(r) > 0 && !mqtt_parse_props(r, m)) return false;
  }
  mqtt_parse_rest(r, m);
  return true;
}

// The fixed header's flag bits (3.1.1 2.2.2): PUBLISH's carry DUP, QoS and RETAIN,
// PUBREL, SUBSCRIBE and UNSUBSCRIBE's must be 0010, every other packet's 0000
static bool mqtt_flags_valid(uint8_t cmd, uint8_t flags) {
  if (cmd == MQTT_CMD_PUBLISH) return ((flags >> 1) & 3) != 3;
  if (cmd == MQTT_CMD_PUBREL || cmd == MQTT_CMD_SUBSCRIBE || cmd == MQTT_CMD_UNSUBSCRIBE) return flags == 2;
  return flags == 0;
}

static bool mqtt_parse_body(struct mqtt_cur *r, struct mg_mqtt_message *m, bool v5) {
  switch (m->cmd) {
    case MQTT_CMD_CONNECT: return mqtt_parse_connect(r, m);
    case MQTT_CMD_CONNACK: return mqtt_parse_connack(r, m, v5);
    case MQTT_CMD_PUBLISH: return mqtt_parse_publish(r, m, v5);
    case MQTT_CMD_PUBACK:
    case MQTT_CMD_PUBREC:
    case MQTT_CMD_PUBREL:
    case MQTT_CMD_PUBCOMP: return mqtt_parse_ack(r, m, v5);
    case MQTT_CMD_SUBSCRIBE:
    case MQTT_CMD_SUBACK:
    case MQTT_CMD_UNSUBSCRIBE:
    case MQTT_CMD_UNSUBACK: return mqtt_parse_sub(r, m, v5);
    case MQTT_CMD_PINGREQ:
    case MQTT_CMD_PINGRESP: return mqtt_cur_left(r) == 0;
    case MQTT_CMD_DISCONNECT: return mqtt_parse_reason(r, m, v5);
    case MQTT_CMD_AUTH: return v5 && mqtt_parse_reason(r, m, v5);
    default: return false;  // 0 is reserved
  }
}

int mg_mqtt_parse(const uint8_t *buf, size_t len, uint8_t version, struct mg_mqtt_message *m) {
  size_t head_len = 0;
  uint32_t remaining = 0;
  memset(m, 0, sizeof(*m));
  if (buf == NULL) len = 0;
  int rc = mqtt_frame(buf, len, &head_len, &remaining);
  if (rc != MQTT_OK) return rc;
  if (len - head_len < remaining) return MQTT_INCOMPLETE;
  m->dgram = mg_str_n((const char *) buf, head_len + remaining);
  m->cmd = (uint8_t) (buf[0] >> 4);
  m->qos = m->cmd == MQTT_CMD_PUBLISH ? (uint8_t) ((buf[0] >> 1) & 3) : 0;
  struct mqtt_cur r = {buf + head_len, buf + head_len + remaining};
  if (!mqtt_flags_valid(m->cmd, buf[0] & 15) || !mqtt_parse_body(&r, m, version == 5)) return MQTT_MALFORMED;
  return MQTT_OK;
}
