// Fuzz the MQTT packet parser as the connection uses it: packets taken one after the
// other from a stream (the first byte picks MQTT 3.1.1 or 5). Every slice stays inside
// its packet, a packet parses the same from exactly its bytes and is incomplete one byte
// short, its properties walk to their end, and a PUBLISH written back reads the same.
#include "meerkat.h"
#include "mqtt/mqtt_internal.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_mqtt_check_slice(struct mg_str s, const struct mg_mqtt_message *m) {
  if (s.len == 0) return;
  CHECK(s.buf >= m->dgram.buf && s.buf + s.len <= m->dgram.buf + m->dgram.len);
}

// The properties: each inside the section, offsets strictly growing, to the end exactly
static size_t fuzz_mqtt_walk_props(struct mg_mqtt_message *m, struct mg_mqtt_prop *out, size_t cap) {
  struct mg_mqtt_prop prop;
  size_t ofs = 0, n = 0;
  CHECK(m->props_start + m->props_size <= m->dgram.len);
  while (ofs < m->props_size) {
    size_t next = mg_mqtt_next_prop(m, &prop, ofs);
    CHECK(next > ofs && next <= m->props_size);  // mg_mqtt_parse checked every property
    CHECK(mqtt_prop_type(prop.id) >= 0);
    fuzz_mqtt_check_slice(prop.key, m);
    fuzz_mqtt_check_slice(prop.val, m);
    if (n < cap) out[n] = prop;
    n++;
    ofs = next;
  }
  return n;
}

// A PUBLISH written with the parsed fields and properties parses back to them
static void fuzz_mqtt_republish(struct mg_mqtt_message *m, bool v5) {
  struct mg_mqtt_prop props[32];
  size_t n = v5 ? fuzz_mqtt_walk_props(m, props, 32) : 0;
  if (n > 32) return;
  struct mg_mgr mgr;
  struct mg_connection c;
  memset(&mgr, 0, sizeof(mgr));
  memset(&c, 0, sizeof(c));
  c.mgr = &mgr, c.is_mqtt5 = v5;
  struct mg_mqtt_opts o;
  memset(&o, 0, sizeof(o));
  o.topic = m->topic, o.message = m->data, o.qos = m->qos, o.retransmit_id = m->id;
  o.props = props, o.num_props = n;
  uint16_t id = mg_mqtt_pub(&c, &o);
  CHECK(id == m->id);
  struct mg_mqtt_message b;
  CHECK(mg_mqtt_parse(c.send.buf, c.send.len, v5 ? 5 : 4, &b) == MQTT_OK);
  CHECK(b.dgram.len == c.send.len && b.qos == m->qos && b.id == m->id);
  CHECK(b.topic.len == m->topic.len && memcmp(b.topic.buf, m->topic.buf, b.topic.len) == 0);
  CHECK(b.data.len == m->data.len && (b.data.len == 0 || memcmp(b.data.buf, m->data.buf, b.data.len) == 0));
  CHECK(b.props_size == m->props_size);
  if (b.props_size > 0) CHECK(memcmp(b.dgram.buf + b.props_start, m->dgram.buf + m->props_start, b.props_size) == 0);
  mg_iobuf_free(&c.send);
}

static void fuzz_mqtt_check_packet(const uint8_t *p, struct mg_mqtt_message *m, uint8_t version) {
  struct mg_mqtt_message again;
  CHECK(m->dgram.buf == (const char *) p && m->dgram.len >= 2);
  CHECK(m->cmd >= 1 && m->cmd <= 15 && m->qos <= 2);
  fuzz_mqtt_check_slice(m->topic, m);
  fuzz_mqtt_check_slice(m->data, m);
  CHECK(mg_mqtt_parse(p, m->dgram.len, version, &again) == MQTT_OK && again.dgram.len == m->dgram.len);
  CHECK(mg_mqtt_parse(p, m->dgram.len - 1, version, &again) == MQTT_INCOMPLETE);
  fuzz_mqtt_walk_props(m, NULL, 0);
  if (m->cmd == MQTT_CMD_PUBLISH) fuzz_mqtt_republish(m, version == 5);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t version = (data[0] & 1) ? 5 : 4;
  const uint8_t *p = data + 1;
  size_t len = size - 1;
  for (;;) {
    struct mg_mqtt_message m;
    int rc = mg_mqtt_parse(p, len, version, &m);
    CHECK(rc == MQTT_OK || rc == MQTT_INCOMPLETE || rc == MQTT_MALFORMED);
    if (rc != MQTT_OK) break;
    CHECK(m.dgram.len <= len);
    fuzz_mqtt_check_packet(p, &m, version);
    p += m.dgram.len;
    len -= m.dgram.len;
  }
  return 0;
}
