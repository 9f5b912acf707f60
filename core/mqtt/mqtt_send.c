// MQTT packets going out (OASIS MQTT 3.1.1 and 5.0 chapter 3): CONNECT, PUBLISH,
// SUBSCRIBE, UNSUBSCRIBE, PINGREQ/PINGRESP, DISCONNECT and MQTT 5 properties, into c->send.
#include "mqtt/mqtt_internal.h"

static const struct mg_mqtt_opts mqtt_send_no_opts;

static void mqtt_send_u8(struct mg_connection *c, uint8_t v) {
  mg_send(c, &v, 1);
}

static void mqtt_send_u16(struct mg_connection *c, uint16_t v) {
  uint8_t b[2];
  MG_STORE_BE16(b, v);
  mg_send(c, b, 2);
}

static void mqtt_send_varint(struct mg_connection *c, uint32_t v) {
  uint8_t b[4];
  mg_send(c, b, mqtt_varint_write(b, v));
}

// A string or binary data: its two-byte length, then its bytes (the caller checked the length)
static void mqtt_send_str(struct mg_connection *c, struct mg_str s) {
  mqtt_send_u16(c, (uint16_t) s.len);
  mg_send(c, s.buf, s.len);
}

// ---------------------------------------------------------------------------
// Properties

static size_t mqtt_send_prop_size(const struct mg_mqtt_prop *p) {
  switch (mqtt_prop_type(p->id)) {
    case MQTT_PROP_TYPE_BYTE: return 2;
    case MQTT_PROP_TYPE_SHORT: return 3;
    case MQTT_PROP_TYPE_INT: return 5;
    case MQTT_PROP_TYPE_VARIABLE_INT: return 1 + mqtt_varint_size(p->iv);
    case MQTT_PROP_TYPE_STRING_PAIR: return 5 + p->key.len + p->val.len;
    case MQTT_PROP_TYPE_STRING:
    case MQTT_PROP_TYPE_BINARY_DATA: return 3 + p->val.len;
    default: return 0;  // Unknown: left out (mqtt_send_props_check said so)
  }
}

// Properties the wire can carry: known identifiers, strings of 64 KiB at most
static bool mqtt_send_props_check(struct mg_connection *c, const struct mg_mqtt_prop *props, size_t n) {
  if (props == NULL) n = 0;
  for (size_t i = 0; i < n; i++) {
    int type = mqtt_prop_type(props[i].id);
    if (type < 0) {
      MG_ERROR(("%lu MQTT property 0x%02x is not one MQTT 5 defines: left out", c->id, props[i].id));
    } else if (props[i].val.len > 0xffff || props[i].key.len > 0xffff ||
               (type == MQTT_PROP_TYPE_VARIABLE_INT && props[i].iv > MQTT_MAX_REMAINING)) {
      mg_error(c, "MQTT property 0x%02x too long to send", props[i].id);
      return false;
    }
  }
  return true;
}

// The properties' bytes, without the property length before them
static size_t mqtt_send_props_len(const struct mg_mqtt_prop *props, size_t n) {
  size_t len = 0;
  if (props == NULL) n = 0;
  for (size_t i = 0; i < n; i++) len += mqtt_send_prop_size(&props[i]);
  return len;
}

// What an MQTT 5 packet's properties add: the property length, then the properties
static size_t mqtt_send_props_size(const struct mg_mqtt_prop *props, size_t n) {
  size_t len = mqtt_send_props_len(props, n);
  return mqtt_varint_size(len > MQTT_MAX_REMAINING ? MQTT_MAX_REMAINING : (uint32_t) len) + len;
}

static void mqtt_send_prop(struct mg_connection *c, const struct mg_mqtt_prop *p) {
  int type = mqtt_prop_type(p->id);
  uint8_t b[4];
  if (type < 0) return;
  mqtt_send_u8(c, p->id);
  switch (type) {
    case MQTT_PROP_TYPE_BYTE: mqtt_send_u8(c, (uint8_t) p->iv); break;
    case MQTT_PROP_TYPE_SHORT: mqtt_send_u16(c, (uint16_t) p->iv); break;
    case MQTT_PROP_TYPE_INT:
      MG_STORE_BE32(b, p->iv);
      mg_send(c, b, 4);
      break;
    case MQTT_PROP_TYPE_VARIABLE_INT: mqtt_send_varint(c, p->iv); break;
    case MQTT_PROP_TYPE_STRING_PAIR:
      mqtt_send_str(c, p->key);
      mqtt_send_str(c, p->val);
      break;
    default: mqtt_send_str(c, p->val); break;
  }
}

static void mqtt_send_props(struct mg_connection *c, const struct mg_mqtt_prop *props, size_t n) {
  mqtt_send_varint(c, (uint32_t) mqtt_send_props_len(props, n));
  if (props == NULL) n = 0;
  for (size_t i = 0; i < n; i++) mqtt_send_prop(c, &props[i]);
}

// ---------------------------------------------------------------------------
// Packets

void mg_mqtt_send_header(struct mg_connection *c, uint8_t cmd, uint8_t flags, uint32_t len) {
  uint8_t b[5];
  if (len > MQTT_MAX_REMAINING) {
    mg_error(c, "MQTT packet of %lu bytes: more than the protocol can frame", (unsigned long) len);
    return;
  }
  b[0] = (uint8_t) (cmd << 4 | (flags & 15));
  mg_send(c, b, 1 + mqtt_varint_write(b + 1, len));
}

// A packet identifier for QoS 1 and 2, SUBSCRIBE and UNSUBSCRIBE: the manager's counter, never 0
static uint16_t mqtt_send_next_id(struct mg_connection *c) {
  static uint16_t no_manager;  // A connection built by hand, outside any manager
  uint16_t *id = c->mgr != NULL ? &c->mgr->mqtt_id : &no_manager;
  if (++*id == 0) ++*id;
  return *id;
}

// Fields that do not fit the wire: a log line, and the connection closes (a stream with
// part of a packet in it cannot go on)
static bool mqtt_send_fits(struct mg_connection *c, const char *what, size_t len, size_t max) {
  if (len <= max) return true;
  mg_error(c, "MQTT %s of %lu bytes: at most %lu", what, (unsigned long) len, (unsigned long) max);
  return false;
}

// The CONNECT flags (3.1.1 3.1.2.3). A password without a user name exists in MQTT 5
// only (3.1.1 MQTT-3.1.2-22)
static uint8_t mqtt_send_connect_flags(struct mg_connection *c, const struct mg_mqtt_opts *o, uint8_t version) {
  uint8_t flags = o->clean ? 0x02 : 0;
  if (o->topic.len > 0) flags |= (uint8_t) (0x04 | (o->qos & 3) << 3 | (o->retain ? 0x20 : 0));
  if (o->user.len > 0) flags |= 0x80;
  if (o->pass.len > 0 && (o->user.len > 0 || version == 5)) flags |= 0x40;
  if (o->pass.len > 0 && !(flags & 0x40)) MG_ERROR(("%lu MQTT 3.1.1: a password needs a user name: left out", c->id));
  return flags;
}

static bool mqtt_send_connect_fits(struct mg_connection *c, const struct mg_mqtt_opts *o, struct mg_str id) {
  if (o->topic.len > 0 && o->qos > 2) {
    mg_error(c, "MQTT will at QoS %u: 0, 1 or 2", (unsigned) o->qos);
    return false;
  }
  return mqtt_send_fits(c, "client id", id.len, 0xffff) && mqtt_send_fits(c, "will topic", o->topic.len, 0xffff) &&
         mqtt_send_fits(c, "will message", o->message.len, 0xffff) && mqtt_send_fits(c, "user", o->user.len, 0xffff) &&
         mqtt_send_fits(c, "password", o->pass.len, 0xffff);
}

void mg_mqtt_login(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  const struct mg_mqtt_opts *o = opts != NULL ? opts : &mqtt_send_no_opts;
  uint8_t version = o->version == 0 ? 4 : o->version;
  char random_id[21];
  struct mg_str id = o->client_id;
  if (version != 4 && version != 5) {
    mg_error(c, "MQTT version %u: this client speaks 4 (3.1.1) and 5", (unsigned) version);
    return;
  }
  if (id.len == 0) id = mg_str(mg_random_str(random_id, sizeof(random_id)));  // 20 characters
  if (!mqtt_send_connect_fits(c, o, id)) return;
  uint8_t flags = mqtt_send_connect_flags(c, o, version);
  bool v5 = version == 5, will = flags & 0x04;
  if (v5 && !(mqtt_send_props_check(c, o->props, o->num_props) &&
              (!will || mqtt_send_props_check(c, o->will_props, o->num_will_props))))
    return;
  size_t len = 10 + 2 + id.len;  // "MQTT", level, flags, keepalive; the client id
  if (v5) len += mqtt_send_props_size(o->props, o->num_props);
  if (will) len += 4 + o->topic.len + o->message.len + (v5 ? mqtt_send_props_size(o->will_props, o->num_will_props) : 0);
  if (flags & 0x80) len += 2 + o->user.len;
  if (flags & 0x40) len += 2 + o->pass.len;
  if (!mqtt_send_fits(c, "CONNECT", len, MQTT_MAX_REMAINING)) return;
  c->is_mqtt5 = v5;
  mg_mqtt_send_header(c, MQTT_CMD_CONNECT, 0, (uint32_t) len);
  mqtt_send_str(c, mg_str("MQTT"));
  mqtt_send_u8(c, version);
  mqtt_send_u8(c, flags);
  mqtt_send_u16(c, o->keepalive);
  if (v5) mqtt_send_props(c, o->props, o->num_props);
  mqtt_send_str(c, id);
  if (will && v5) mqtt_send_props(c, o->will_props, o->num_will_props);
  if (will) {
    mqtt_send_str(c, o->topic);
    mqtt_send_str(c, o->message);
  }
  if (flags & 0x80) mqtt_send_str(c, o->user);
  if (flags & 0x40) mqtt_send_str(c, o->pass);
  mqtt_conn_logged_in(c, o->keepalive);
}

uint16_t mg_mqtt_pub(struct mg_connection *c, const struct mg_mqtt_opts *o) {
  if (o == NULL) o = &mqtt_send_no_opts;
  if (o->qos > 2) {
    MG_ERROR(("%lu MQTT PUBLISH at QoS %u refused: 0, 1 or 2", c->id, (unsigned) o->qos));
    return 0;
  }
  if (!mqtt_send_fits(c, "topic", o->topic.len, 0xffff)) return 0;
  if (c->is_mqtt5 && !mqtt_send_props_check(c, o->props, o->num_props)) return 0;
  size_t len = 2 + o->topic.len + (o->qos > 0 ? 2 : 0) + (c->is_mqtt5 ? mqtt_send_props_size(o->props, o->num_props) : 0);
  if (!mqtt_send_fits(c, "PUBLISH", len + o->message.len, MQTT_MAX_REMAINING)) return 0;
  uint16_t id = 0;
  uint8_t flags = (uint8_t) (o->qos << 1 | (o->retain ? 1 : 0));
  if (o->qos > 0) id = o->retransmit_id != 0 ? o->retransmit_id : mqtt_send_next_id(c);
  if (o->qos > 0 && o->retransmit_id != 0) flags |= 0x08;  // DUP: a resend (3.3.1.1)
  mg_mqtt_send_header(c, MQTT_CMD_PUBLISH, flags, (uint32_t) (len + o->message.len));
  mqtt_send_str(c, o->topic);
  if (o->qos > 0) mqtt_send_u16(c, id);
  if (c->is_mqtt5) mqtt_send_props(c, o->props, o->num_props);
  mg_send(c, o->message.buf, o->message.len);
  return id;
}

// SUBSCRIBE (with the options byte: the QoS) and UNSUBSCRIBE, of one topic filter
static void mqtt_send_filter(struct mg_connection *c, uint8_t cmd, const struct mg_mqtt_opts *o) {
  bool sub = cmd == MQTT_CMD_SUBSCRIBE;
  if (o == NULL) o = &mqtt_send_no_opts;
  if (sub && o->qos > 2) {
    MG_ERROR(("%lu MQTT SUBSCRIBE at QoS %u refused: 0, 1 or 2", c->id, (unsigned) o->qos));
    return;
  }
  if (!mqtt_send_fits(c, "topic", o->topic.len, 0xffff)) return;
  if (c->is_mqtt5 && !mqtt_send_props_check(c, o->props, o->num_props)) return;
  size_t len = 2 + 2 + o->topic.len + (sub ? 1 : 0) + (c->is_mqtt5 ? mqtt_send_props_size(o->props, o->num_props) : 0);
  if (!mqtt_send_fits(c, sub ? "SUBSCRIBE" : "UNSUBSCRIBE", len, MQTT_MAX_REMAINING)) return;
  mg_mqtt_send_header(c, cmd, 2, (uint32_t) len);
  mqtt_send_u16(c, mqtt_send_next_id(c));
  if (c->is_mqtt5) mqtt_send_props(c, o->props, o->num_props);
  mqtt_send_str(c, o->topic);
  if (sub) mqtt_send_u8(c, o->qos);
}

void mg_mqtt_sub(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  mqtt_send_filter(c, MQTT_CMD_SUBSCRIBE, opts);
}

void mg_mqtt_unsub(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  mqtt_send_filter(c, MQTT_CMD_UNSUBSCRIBE, opts);
}

void mg_mqtt_ping(struct mg_connection *c) {
  mg_mqtt_send_header(c, MQTT_CMD_PINGREQ, 0, 0);
}

void mg_mqtt_pong(struct mg_connection *c) {
  mg_mqtt_send_header(c, MQTT_CMD_PINGRESP, 0, 0);
}

// MQTT 5: reason 0 (normal disconnection) and the properties, if any
void mg_mqtt_disconnect(struct mg_connection *c, const struct mg_mqtt_opts *opts) {
  size_t n = opts != NULL && opts->props != NULL ? opts->num_props : 0;
  if (!c->is_mqtt5 || n == 0) {
    mg_mqtt_send_header(c, MQTT_CMD_DISCONNECT, 0, 0);
    return;
  }
  size_t len = 1 + mqtt_send_props_size(opts->props, n);
  if (!mqtt_send_props_check(c, opts->props, n) || !mqtt_send_fits(c, "DISCONNECT", len, MQTT_MAX_REMAINING)) return;
  mg_mqtt_send_header(c, MQTT_CMD_DISCONNECT, 0, (uint32_t) len);
  mqtt_send_u8(c, 0);
  mqtt_send_props(c, opts->props, n);
}
