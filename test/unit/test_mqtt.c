// MQTT: the parser over hand-built packets (every type, bad and boundary input, MQTT 5
// properties, every prefix incomplete), the packets the writers build parsed back, then
// a client and a listener in one manager over loopback (QoS 0, 1, 2, refusal, limits).
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>
#include "meerkat.h"
#include "mqtt/mqtt_internal.h"

static int parse(const void *buf, size_t len, uint8_t version, struct mg_mqtt_message *m) {
  return mg_mqtt_parse((const uint8_t *) buf, len, version, m);
}

// Every proper prefix of a whole packet is incomplete, and the packet parses alone
static void assert_prefixes_incomplete(const uint8_t *p, size_t n, uint8_t version) {
  struct mg_mqtt_message m;
  for (size_t i = 0; i < n; i++) cr_assert_eq(parse(p, i, version, &m), MQTT_INCOMPLETE, "prefix of %zu", i);
  cr_assert_eq(parse(p, n, version, &m), MQTT_OK);
  cr_assert_eq(m.dgram.len, n);
}

// ---------------------------------------------------------------------------
// The fixed header

Test(mqtt_parse, remaining_length_takes_one_to_four_bytes_and_a_fifth_is_malformed) {
  struct mg_mqtt_message m;
  uint8_t ping[] = {0xc0, 0x00};
  cr_assert_eq(parse(ping, 2, 4, &m), MQTT_OK);
  cr_assert_eq(m.cmd, MQTT_CMD_PINGREQ);
  cr_assert_eq(m.dgram.len, 2);
  // 268,435,455 in four bytes: waits for the bytes
  uint8_t big[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
  cr_assert_eq(parse(big, sizeof(big), 4, &m), MQTT_INCOMPLETE);
  uint8_t five[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
  cr_assert_eq(parse(five, sizeof(five), 4, &m), MQTT_MALFORMED);
  uint8_t cut[] = {0x30, 0xff, 0xff};
  cr_assert_eq(parse(cut, sizeof(cut), 4, &m), MQTT_INCOMPLETE);
  cr_assert_eq(parse(ping, 1, 4, &m), MQTT_INCOMPLETE);
  cr_assert_eq(parse(NULL, 0, 4, &m), MQTT_INCOMPLETE);
}

Test(mqtt_parse, remaining_length_in_more_bytes_than_needed_is_malformed) {
  struct mg_mqtt_message m;
  uint8_t long_zero[] = {0xc0, 0x80, 0x00};
  cr_assert_eq(parse(long_zero, sizeof(long_zero), 4, &m), MQTT_MALFORMED);
  uint32_t v = 0;
  size_t used = 0;
  uint8_t b[4];
  uint32_t edges[] = {0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455};
  for (size_t i = 0; i < MG_ARRAY_SIZE(edges); i++) {
    size_t n = mqtt_varint_write(b, edges[i]);
    cr_assert_eq(n, mqtt_varint_size(edges[i]));
    cr_assert_eq(mqtt_varint_read(b, n, &v, &used), MQTT_OK);
    cr_assert(v == edges[i] && used == n, "%u", edges[i]);
  }
}

Test(mqtt_parse, reserved_flag_bits_and_packet_type_0_are_malformed) {
  struct mg_mqtt_message m;
  uint8_t zero[] = {0x00, 0x00};
  cr_assert_eq(parse(zero, 2, 4, &m), MQTT_MALFORMED);
  uint8_t ping_flags[] = {0xc1, 0x00};
  cr_assert_eq(parse(ping_flags, 2, 4, &m), MQTT_MALFORMED);
  uint8_t pubrel_0[] = {0x60, 0x02, 0x00, 0x01}, pubrel_2[] = {0x62, 0x02, 0x00, 0x01};
  cr_assert_eq(parse(pubrel_0, 4, 4, &m), MQTT_MALFORMED);
  cr_assert_eq(parse(pubrel_2, 4, 4, &m), MQTT_OK);
  cr_assert_eq(m.id, 1);
  uint8_t auth[] = {0xf0, 0x00};
  cr_assert_eq(parse(auth, 2, 4, &m), MQTT_MALFORMED, "AUTH is MQTT 5's");
  cr_assert_eq(parse(auth, 2, 5, &m), MQTT_OK);
}

// ---------------------------------------------------------------------------
// PUBLISH

Test(mqtt_parse, publish_qos_0_1_2_topic_id_and_payload) {
  struct mg_mqtt_message m;
  uint8_t q0[] = {0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'};
  assert_prefixes_incomplete(q0, sizeof(q0), 4);
  cr_assert_eq(parse(q0, sizeof(q0), 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_PUBLISH && m.qos == 0 && m.id == 0);
  cr_assert(mg_str_eq(m.topic, "a/b") && mg_str_eq(m.data, "hi"));
  uint8_t q2[] = {0x35, 0x08, 0x00, 0x01, 't', 0x12, 0x34, 'x', 'y', 'z'};  // QoS 2, retain
  cr_assert_eq(parse(q2, sizeof(q2), 4, &m), MQTT_OK);
  cr_assert(m.qos == 2 && m.id == 0x1234 && mg_str_eq(m.topic, "t") && mg_str_eq(m.data, "xyz"));
  uint8_t empty[] = {0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x07};
  cr_assert_eq(parse(empty, sizeof(empty), 4, &m), MQTT_OK);
  cr_assert(m.qos == 1 && m.id == 7 && m.data.len == 0);
}

Test(mqtt_parse, publish_at_qos_3_id_0_or_a_topic_past_the_packet_is_malformed) {
  struct mg_mqtt_message m;
  uint8_t q3[] = {0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01};
  cr_assert_eq(parse(q3, sizeof(q3), 4, &m), MQTT_MALFORMED);
  uint8_t id0[] = {0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00};
  cr_assert_eq(parse(id0, sizeof(id0), 4, &m), MQTT_MALFORMED);
  // The topic claims 9 bytes; the packet holds 3 after the length (more follows in the buffer)
  uint8_t topic_past[] = {0x30, 0x05, 0x00, 0x09, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'};
  cr_assert_eq(parse(topic_past, sizeof(topic_past), 4, &m), MQTT_MALFORMED);
  uint8_t no_topic[] = {0x30, 0x01, 0x00};
  cr_assert_eq(parse(no_topic, sizeof(no_topic), 4, &m), MQTT_MALFORMED);
  uint8_t no_id[] = {0x32, 0x04, 0x00, 0x01, 't', 0x00};
  cr_assert_eq(parse(no_id, sizeof(no_id), 4, &m), MQTT_MALFORMED);
}

Test(mqtt_parse, a_packet_with_more_behind_it_takes_its_own_bytes_only) {
  struct mg_mqtt_message m;
  uint8_t two[] = {0xd0, 0x00, 0x30, 0x03, 0x00, 0x01, 't'};
  cr_assert_eq(parse(two, sizeof(two), 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_PINGRESP && m.dgram.len == 2);
  cr_assert_eq(parse(two + 2, sizeof(two) - 2, 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_PUBLISH && mg_str_eq(m.topic, "t") && m.data.len == 0);
}

// ---------------------------------------------------------------------------
// MQTT 5 properties

Test(mqtt_parse, v5_publish_properties_walked_by_next_prop) {
  uint8_t p[] = {0x30, 0x1b, 0x00, 0x01, 't',
                 0x15,                                   // Property length 21
                 0x01, 0x01,                             // Payload format: 1
                 0x02, 0x00, 0x00, 0x0e, 0x10,           // Message expiry: 3600
                 0x23, 0x00, 0x05,                       // Topic alias: 5
                 0x0b, 0x80, 0x01,                       // Subscription id: 128
                 0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v', 'w',  // User property k=vw
                 'o', 'k'};
  struct mg_mqtt_message m;
  assert_prefixes_incomplete(p, sizeof(p), 5);
  cr_assert_eq(parse(p, sizeof(p), 5, &m), MQTT_OK);
  cr_assert(mg_str_eq(m.data, "ok"), "%.*s", (int) m.data.len, m.data.buf);
  cr_assert_eq(m.props_start, 6);
  cr_assert_eq(m.props_size, 21);
  struct mg_mqtt_prop prop;
  size_t ofs = mg_mqtt_next_prop(&m, &prop, 0);
  cr_assert(ofs == 2 && prop.id == MQTT_PROP_PAYLOAD_FORMAT_INDICATOR && prop.iv == 1);
  ofs = mg_mqtt_next_prop(&m, &prop, ofs);
  cr_assert(prop.id == MQTT_PROP_MESSAGE_EXPIRY_INTERVAL && prop.iv == 3600);
  ofs = mg_mqtt_next_prop(&m, &prop, ofs);
  cr_assert(prop.id == MQTT_PROP_TOPIC_ALIAS && prop.iv == 5);
  ofs = mg_mqtt_next_prop(&m, &prop, ofs);
  cr_assert(prop.id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER && prop.iv == 128);
  ofs = mg_mqtt_next_prop(&m, &prop, ofs);
  cr_assert(prop.id == MQTT_PROP_USER_PROPERTY && mg_str_eq(prop.key, "k") && mg_str_eq(prop.val, "vw"));
  cr_assert_eq(ofs, 21);
  cr_assert_eq(mg_mqtt_next_prop(&m, &prop, ofs), 0, "no more");
  // Read as 3.1.1 the same bytes are a payload, not properties
  cr_assert_eq(parse(p, sizeof(p), 4, &m), MQTT_OK);
  cr_assert_eq(m.props_size, 0);
  cr_assert_eq(m.data.len, 24);
}

Test(mqtt_parse, v5_property_lengths_past_their_bounds_and_unknown_ids_are_malformed) {
  struct mg_mqtt_message m;
  // Property length 9, the packet has 2 after it
  uint8_t len_past[] = {0x30, 0x06, 0x00, 0x01, 't', 0x09, 0x01, 0x01};
  cr_assert_eq(parse(len_past, sizeof(len_past), 5, &m), MQTT_MALFORMED);
  // A string property whose length runs past the property length
  uint8_t str_past[] = {0x30, 0x09, 0x00, 0x01, 't', 0x04, 0x03, 0x00, 0x05, 'x', 'y'};
  cr_assert_eq(parse(str_past, sizeof(str_past), 5, &m), MQTT_MALFORMED);
  // A four-byte integer cut by the property length
  uint8_t int_cut[] = {0x30, 0x08, 0x00, 0x01, 't', 0x03, 0x02, 0x00, 0x00, 'p'};
  cr_assert_eq(parse(int_cut, sizeof(int_cut), 5, &m), MQTT_MALFORMED);
  // 0x04 is no property MQTT 5 defines
  uint8_t unknown[] = {0x30, 0x05, 0x00, 0x01, 't', 0x02, 0x04, 0x00};
  cr_assert_eq(parse(unknown, sizeof(unknown), 5, &m), MQTT_MALFORMED);
  // A property length in five bytes
  uint8_t varint5[] = {0x30, 0x09, 0x00, 0x01, 't', 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
  cr_assert_eq(parse(varint5, sizeof(varint5), 5, &m), MQTT_MALFORMED);
  // No property length at all in an MQTT 5 PUBLISH
  uint8_t none[] = {0x30, 0x03, 0x00, 0x01, 't'};
  cr_assert_eq(parse(none, sizeof(none), 5, &m), MQTT_MALFORMED);
}

Test(mqtt_parse, next_prop_on_a_message_it_did_not_parse_stays_inside) {
  struct mg_mqtt_message m;
  struct mg_mqtt_prop prop;
  memset(&m, 0, sizeof(m));
  cr_assert_eq(mg_mqtt_next_prop(&m, &prop, 0), 0);
  m.dgram = mg_str_n("\x30\x02\x01\x01", 4);
  m.props_start = 2, m.props_size = 10;  // Past the packet
  cr_assert_eq(mg_mqtt_next_prop(&m, &prop, 0), 0);
  m.props_size = 2;
  cr_assert_eq(mg_mqtt_next_prop(&m, &prop, 0), 2);
  cr_assert(prop.id == 1 && prop.iv == 1);
}

// ---------------------------------------------------------------------------
// The other packets

Test(mqtt_parse, connack_3_1_1_and_5) {
  struct mg_mqtt_message m;
  uint8_t ok[] = {0x20, 0x02, 0x00, 0x00}, refused[] = {0x20, 0x02, 0x01, 0x05}, bad[] = {0x20, 0x02, 0x02, 0x00};
  cr_assert_eq(parse(ok, 4, 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_CONNACK && m.ack == 0);
  cr_assert_eq(parse(refused, 4, 4, &m), MQTT_OK);
  cr_assert_eq(m.ack, 5);
  cr_assert_eq(parse(bad, 4, 4, &m), MQTT_MALFORMED, "reserved acknowledge flags");
  uint8_t v5[] = {0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x0a};  // Receive maximum 10
  cr_assert_eq(parse(v5, sizeof(v5), 5, &m), MQTT_OK);
  cr_assert(m.props_start == 5 && m.props_size == 3);
  uint8_t short_connack[] = {0x20, 0x01, 0x00};
  cr_assert_eq(parse(short_connack, 3, 4, &m), MQTT_MALFORMED);
}

Test(mqtt_parse, acks_carry_their_id_and_v5_a_reason_code) {
  struct mg_mqtt_message m;
  uint8_t puback[] = {0x40, 0x02, 0xab, 0xcd};
  cr_assert_eq(parse(puback, 4, 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_PUBACK && m.id == 0xabcd);
  uint8_t pubrec_v5[] = {0x50, 0x03, 0x00, 0x02, 0x10};  // 0x10: no matching subscribers
  cr_assert_eq(parse(pubrec_v5, 5, 5, &m), MQTT_OK);
  cr_assert(m.id == 2 && m.ack == 0x10);
  uint8_t short_ack[] = {0x70, 0x01, 0x00};
  cr_assert_eq(parse(short_ack, 3, 4, &m), MQTT_MALFORMED);
  uint8_t suback[] = {0x90, 0x04, 0x00, 0x09, 0x01, 0x80};
  cr_assert_eq(parse(suback, 6, 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_SUBACK && m.id == 9 && m.data.len == 2 && (uint8_t) m.data.buf[1] == 0x80);
  uint8_t suback_empty[] = {0x90, 0x02, 0x00, 0x09};
  cr_assert_eq(parse(suback_empty, 4, 4, &m), MQTT_MALFORMED, "a code per filter");
  uint8_t unsuback[] = {0xb0, 0x02, 0x00, 0x03};
  cr_assert_eq(parse(unsuback, 4, 4, &m), MQTT_OK);
  cr_assert_eq(m.id, 3);
}

Test(mqtt_parse, subscribe_needs_a_filter_with_valid_options) {
  struct mg_mqtt_message m;
  uint8_t sub[] = {0x82, 0x08, 0x00, 0x05, 0x00, 0x03, 'a', '/', '#', 0x01};
  assert_prefixes_incomplete(sub, sizeof(sub), 4);
  cr_assert_eq(parse(sub, sizeof(sub), 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_SUBSCRIBE && m.id == 5 && m.data.len == 6);
  uint8_t qos3[] = {0x82, 0x08, 0x00, 0x05, 0x00, 0x03, 'a', '/', '#', 0x03};
  cr_assert_eq(parse(qos3, sizeof(qos3), 4, &m), MQTT_MALFORMED);
  uint8_t reserved[] = {0x82, 0x08, 0x00, 0x05, 0x00, 0x03, 'a', '/', '#', 0x04};
  cr_assert_eq(parse(reserved, sizeof(reserved), 4, &m), MQTT_MALFORMED, "3.1.1: bits 2-7 reserved");
  uint8_t reserved_v5[] = {0x82, 0x09, 0x00, 0x05, 0x00, 0x00, 0x03, 'a', '/', '#', 0x2c};
  cr_assert_eq(parse(reserved_v5, sizeof(reserved_v5), 5, &m), MQTT_OK, "MQTT 5: no-local, retain handling");
  uint8_t none[] = {0x82, 0x02, 0x00, 0x05};
  cr_assert_eq(parse(none, sizeof(none), 4, &m), MQTT_MALFORMED);
  uint8_t no_options[] = {0x82, 0x07, 0x00, 0x05, 0x00, 0x03, 'a', '/', '#'};
  cr_assert_eq(parse(no_options, sizeof(no_options), 4, &m), MQTT_MALFORMED);
  uint8_t unsub[] = {0xa2, 0x05, 0x00, 0x06, 0x00, 0x01, 'x'};
  cr_assert_eq(parse(unsub, sizeof(unsub), 4, &m), MQTT_OK);
  cr_assert(m.cmd == MQTT_CMD_UNSUBSCRIBE && m.id == 6);
}

Test(mqtt_parse, connect_fields_and_their_bounds) {
  struct mg_mqtt_message m;
  // 3.1.1: clean, will at QoS 1, user and password
  uint8_t c4[] = {0x10, 0x1f, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xce, 0x00, 0x3c,
                  0x00, 0x02, 'i', 'd', 0x00, 0x01, 'w', 0x00, 0x02, 'm', 'm',
                  0x00, 0x01, 'u', 0x00, 0x02, 'p', 'w', 0x00, 0x00, 0x00};
  c4[1] = (uint8_t) (sizeof(c4) - 2 - 3);
  cr_assert_eq(parse(c4, sizeof(c4) - 3, 4, &m), MQTT_OK);
  cr_assert_eq(m.cmd, MQTT_CMD_CONNECT);
  cr_assert_eq(mqtt_connect_level(&m), 4);
  cr_assert(m.data.len == 18 && m.data.buf[3] == 'd', "the payload from the client id");
  c4[1] -= 1;  // The password cut
  cr_assert_eq(parse(c4, sizeof(c4) - 4, 4, &m), MQTT_MALFORMED);
  // MQTT 5 with connect properties and will properties
  uint8_t c5[] = {0x10, 0x17, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x00,
                  0x02, 0x21, 0x00,  // Connect properties cut: receive maximum needs 2 bytes
                  0x00, 0x01, 'i', 0x00, 0x00, 0x01, 'w', 0x00, 0x00, 0x00};
  cr_assert_eq(parse(c5, sizeof(c5), 4, &m), MQTT_MALFORMED);
  c5[12] = 0x03, c5[13] = 0x21, c5[14] = 0x00, c5[15] = 0x05;  // Receive maximum 5
  memcpy(c5 + 16, "\x00\x01i\x00\x00\x01w\x00", 8);
  c5[1] = 0x17;
  cr_assert_eq(parse(c5, sizeof(c5), 4, &m), MQTT_OK, "the level inside says MQTT 5");
  cr_assert(m.props_start == 13 && m.props_size == 3);
  cr_assert_eq(mqtt_connect_level(&m), 5);
  // Will QoS 3; will QoS without a will; reserved flag
  uint8_t bad[] = {0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x18, 0x00, 0x00, 0x00, 0x01, 'i'};
  cr_assert_eq(parse(bad, sizeof(bad), 4, &m), MQTT_MALFORMED);
  bad[9] = 0x08;
  cr_assert_eq(parse(bad, sizeof(bad), 4, &m), MQTT_MALFORMED);
  bad[9] = 0x01;
  cr_assert_eq(parse(bad, sizeof(bad), 4, &m), MQTT_MALFORMED);
  bad[9] = 0x02;
  cr_assert_eq(parse(bad, sizeof(bad), 4, &m), MQTT_OK);
}

Test(mqtt_parse, ping_with_a_body_is_malformed_disconnect_v5_has_a_reason) {
  struct mg_mqtt_message m;
  uint8_t ping[] = {0xc0, 0x01, 0x00};
  cr_assert_eq(parse(ping, 3, 4, &m), MQTT_MALFORMED);
  uint8_t disc[] = {0xe0, 0x00}, disc5[] = {0xe0, 0x02, 0x8e, 0x00};
  cr_assert_eq(parse(disc, 2, 4, &m), MQTT_OK);
  cr_assert_eq(parse(disc5, 4, 5, &m), MQTT_OK);
  cr_assert_eq(m.ack, 0x8e);
}

// ---------------------------------------------------------------------------
// Packets going out, parsed back

static struct mg_mgr s_mgr;

static struct mg_connection *out_conn(void) {
  static struct mg_connection c;
  mg_iobuf_free(&c.send);
  memset(&c, 0, sizeof(c));
  memset(&s_mgr, 0, sizeof(s_mgr));
  c.mgr = &s_mgr;
  return &c;
}

Test(mqtt_send, pub_returns_the_packet_id_for_qos_1_and_2_and_0_for_qos_0) {
  struct mg_connection *c = out_conn();
  struct mg_mqtt_opts o;
  struct mg_mqtt_message m;
  memset(&o, 0, sizeof(o));
  o.topic = mg_str("a/b"), o.message = mg_str("hello");
  cr_assert_eq(mg_mqtt_pub(c, &o), 0);
  cr_assert_eq(parse(c->send.buf, c->send.len, 4, &m), MQTT_OK);
  cr_assert(m.qos == 0 && mg_str_eq(m.topic, "a/b") && mg_str_eq(m.data, "hello") && m.dgram.len == c->send.len);
  c->send.len = 0;
  o.qos = 1;
  uint16_t id1 = mg_mqtt_pub(c, &o);
  o.qos = 2, o.retain = true;
  uint16_t id2 = mg_mqtt_pub(c, &o);
  cr_assert(id1 != 0 && id2 == id1 + 1);
  cr_assert_eq(parse(c->send.buf, c->send.len, 4, &m), MQTT_OK);
  cr_assert(m.qos == 1 && m.id == id1 && (c->send.buf[0] & 0x09) == 0);
  size_t first = m.dgram.len;
  cr_assert_eq(parse(c->send.buf + first, c->send.len - first, 4, &m), MQTT_OK);
  cr_assert(m.qos == 2 && m.id == id2 && (c->send.buf[first] & 1) == 1, "retain");
  // A resend: the same id with DUP
  c->send.len = 0;
  o.retransmit_id = id1;
  cr_assert_eq(mg_mqtt_pub(c, &o), id1);
  cr_assert_eq(c->send.buf[0] & 0x08, 0x08);
  // QoS 3 is refused, nothing sent
  c->send.len = 0;
  o.qos = 3, o.retransmit_id = 0;
  cr_assert_eq(mg_mqtt_pub(c, &o), 0);
  cr_assert_eq(c->send.len, 0);
  // Ids skip 0 when they wrap
  s_mgr.mqtt_id = 0xffff;
  o.qos = 1;
  cr_assert_eq(mg_mqtt_pub(c, &o), 1);
}

Test(mqtt_send, v5_pub_sub_unsub_disconnect_with_properties) {
  struct mg_connection *c = out_conn();
  c->is_mqtt5 = 1;
  struct mg_mqtt_prop props[] = {
      {MQTT_PROP_USER_PROPERTY, 0, {"key", 3}, {"value", 5}},
      {MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, 70000, {NULL, 0}, {NULL, 0}},
      {MQTT_PROP_CONTENT_TYPE, 0, {NULL, 0}, {"text/plain", 10}},
  };
  struct mg_mqtt_opts o;
  struct mg_mqtt_message m;
  struct mg_mqtt_prop p;
  memset(&o, 0, sizeof(o));
  o.topic = mg_str("t"), o.message = mg_str("v5"), o.qos = 1, o.props = props, o.num_props = 3;
  uint16_t id = mg_mqtt_pub(c, &o);
  cr_assert_eq(parse(c->send.buf, c->send.len, 5, &m), MQTT_OK);
  cr_assert(m.id == id && mg_str_eq(m.data, "v5"));
  size_t ofs = mg_mqtt_next_prop(&m, &p, 0);
  cr_assert(p.id == MQTT_PROP_USER_PROPERTY && mg_str_eq(p.key, "key") && mg_str_eq(p.val, "value"));
  ofs = mg_mqtt_next_prop(&m, &p, ofs);
  cr_assert(p.id == MQTT_PROP_MESSAGE_EXPIRY_INTERVAL && p.iv == 70000);
  ofs = mg_mqtt_next_prop(&m, &p, ofs);
  cr_assert(p.id == MQTT_PROP_CONTENT_TYPE && mg_str_eq(p.val, "text/plain"));
  cr_assert_eq(mg_mqtt_next_prop(&m, &p, ofs), 0);
  c->send.len = 0;
  mg_mqtt_sub(c, &o);
  mg_mqtt_unsub(c, &o);
  mg_mqtt_disconnect(c, &o);
  size_t at = 0;
  uint8_t cmds[] = {MQTT_CMD_SUBSCRIBE, MQTT_CMD_UNSUBSCRIBE, MQTT_CMD_DISCONNECT};
  for (size_t i = 0; i < 3; i++) {
    cr_assert_eq(parse(c->send.buf + at, c->send.len - at, 5, &m), MQTT_OK, "packet %zu", i);
    cr_assert_eq(m.cmd, cmds[i]);
    cr_assert_eq(m.props_size, 13 + 5 + 13);
    at += m.dgram.len;
  }
  cr_assert_eq(at, c->send.len);
}

Test(mqtt_send, property_length_at_127_128_boundary_is_framed_right) {
  struct mg_connection *c = out_conn();
  c->is_mqtt5 = 1;
  char big[200];
  memset(big, 'x', sizeof(big));
  for (size_t vlen = 120; vlen < 130; vlen++) {
    struct mg_mqtt_prop prop = {MQTT_PROP_CONTENT_TYPE, 0, {NULL, 0}, {big, vlen}};
    struct mg_mqtt_opts o;
    struct mg_mqtt_message m;
    memset(&o, 0, sizeof(o));
    o.topic = mg_str("t"), o.props = &prop, o.num_props = 1;
    c->send.len = 0;
    mg_mqtt_pub(c, &o);
    cr_assert_eq(parse(c->send.buf, c->send.len, 5, &m), MQTT_OK, "value of %zu", vlen);
    cr_assert_eq(m.props_size, vlen + 3);
    cr_assert_eq(m.dgram.len, c->send.len);
  }
}

Test(mqtt_send, login_3_1_1_and_5_with_will_user_password_and_a_generated_id) {
  struct mg_connection *c = out_conn();
  struct mg_mqtt_opts o;
  struct mg_mqtt_message m;
  memset(&o, 0, sizeof(o));
  o.user = mg_str("user"), o.pass = mg_str("secret"), o.topic = mg_str("will/t"), o.message = mg_str("gone");
  o.qos = 1, o.retain = true, o.clean = true, o.keepalive = 30;
  mg_mqtt_login(c, &o);
  cr_assert_eq(parse(c->send.buf, c->send.len, 4, &m), MQTT_OK);
  cr_assert_eq(m.cmd, MQTT_CMD_CONNECT);
  cr_assert_eq(mqtt_connect_level(&m), 4);
  const uint8_t *p = c->send.buf + 2;
  cr_assert(memcmp(p, "\x00\x04MQTT\x04", 7) == 0);
  cr_assert_eq(p[7], 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02);
  cr_assert(p[8] == 0 && p[9] == 30);
  cr_assert(p[10] == 0 && p[11] == 20, "a 20-character client id");
  for (int i = 0; i < 20; i++) cr_assert(isalnum(p[12 + i]));
  cr_assert(!c->is_mqtt5);
  // 3.1.1: a password without a user is left out; MQTT 5 sends it
  c->send.len = 0;
  memset(&o, 0, sizeof(o));
  o.pass = mg_str("pw"), o.client_id = mg_str("me");
  mg_mqtt_login(c, &o);
  cr_assert_eq(c->send.buf[9], 0x00);
  c->send.len = 0;
  o.version = 5;
  mg_mqtt_login(c, &o);
  cr_assert_eq(parse(c->send.buf, c->send.len, 5, &m), MQTT_OK);
  cr_assert(c->send.buf[8] == 5 && c->send.buf[9] == 0x40 && c->is_mqtt5);
  // A NULL opts is a plain 3.1.1 login
  c->send.len = 0;
  mg_mqtt_login(c, NULL);
  cr_assert_eq(parse(c->send.buf, c->send.len, 4, &m), MQTT_OK);
  cr_assert(c->send.buf[8] == 4 && !c->is_mqtt5);
}

Test(mqtt_send, header_ping_pong_and_a_plain_disconnect) {
  struct mg_connection *c = out_conn();
  mg_mqtt_ping(c);
  mg_mqtt_pong(c);
  mg_mqtt_disconnect(c, NULL);
  cr_assert_eq(c->send.len, 6);
  cr_assert(memcmp(c->send.buf, "\xc0\x00\xd0\x00\xe0\x00", 6) == 0);
  c->send.len = 0;
  mg_mqtt_send_header(c, MQTT_CMD_PUBLISH, 3, 321);
  cr_assert(c->send.len == 3 && c->send.buf[0] == 0x33 && c->send.buf[1] == 0xc1 && c->send.buf[2] == 0x02);
}

// ---------------------------------------------------------------------------
// A client and a listener in one manager, over loopback

struct broker {
  int connects, publishes, pubrels, subscribes, pings, cmds;
  uint8_t refuse;         // CONNACK code to answer with
  bool deaf_to_ping;      // PINGREQ goes unanswered
  uint8_t last_qos;
  char last_topic[32];
};

// A tiny broker: accept, answer SUBSCRIBE, echo PUBLISH back to the same client
static void broker_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct broker *b = (struct broker *) c->fn_data;
  if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    b->cmds++;
    if (mm->cmd == MQTT_CMD_CONNECT) {
      uint8_t ack[] = {0, b->refuse};
      b->connects++;
      mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0, sizeof(ack));
      mg_send(c, ack, sizeof(ack));
    } else if (mm->cmd == MQTT_CMD_SUBSCRIBE) {
      // MQTT 5 (the listener saw the client's level): an empty property length too
      uint8_t ack[] = {(uint8_t) (mm->id >> 8), (uint8_t) mm->id, 0x00, 0x02};
      size_t n = c->is_mqtt5 ? 4 : 3;
      if (!c->is_mqtt5) ack[2] = 0x02;
      b->subscribes++;
      mg_mqtt_send_header(c, MQTT_CMD_SUBACK, 0, (uint32_t) n);
      mg_send(c, ack, n);
    } else if (mm->cmd == MQTT_CMD_PUBREL) {
      b->pubrels++;
    } else if (mm->cmd == MQTT_CMD_PINGREQ) {
      b->pings++;
      if (!b->deaf_to_ping) mg_mqtt_pong(c);
    }
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    struct mg_mqtt_opts o;
    memset(&o, 0, sizeof(o));
    b->publishes++;
    b->last_qos = mm->qos;
    mg_snprintf(b->last_topic, sizeof(b->last_topic), "%.*s", (int) mm->topic.len, mm->topic.buf);
    o.topic = mm->topic, o.message = mm->data, o.qos = mm->qos;
    mg_mqtt_pub(c, &o);
  }
}

struct client {
  int opens, open_code, msgs, closes, errors, pubacks, pubcomps, subacks;
  uint16_t pub_id;
  uint8_t qos;
  char got[64], error[160];
  int cmd_after_msg;  // MG_EV_MQTT_CMD came for the PUBLISH after MG_EV_MQTT_MSG
};

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct client *k = (struct client *) c->fn_data;
  if (ev == MG_EV_MQTT_OPEN) {
    k->opens++;
    k->open_code = *(int *) ev_data;
    if (k->open_code != 0) return;
    struct mg_mqtt_opts o;
    memset(&o, 0, sizeof(o));
    o.topic = mg_str("echo/me"), o.qos = k->qos;
    mg_mqtt_sub(c, &o);
    o.message = mg_str("payload");
    k->pub_id = mg_mqtt_pub(c, &o);
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    k->msgs++;
    mg_snprintf(k->got, sizeof(k->got), "%.*s=%.*s@%d", (int) mm->topic.len, mm->topic.buf, (int) mm->data.len,
                mm->data.buf, mm->qos);
  } else if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    if (mm->cmd == MQTT_CMD_PUBLISH && k->msgs > 0) k->cmd_after_msg++;
    if (mm->cmd == MQTT_CMD_PUBACK && mm->id == k->pub_id) k->pubacks++;
    if (mm->cmd == MQTT_CMD_PUBCOMP && mm->id == k->pub_id) k->pubcomps++;
    if (mm->cmd == MQTT_CMD_SUBACK) k->subacks++;
  } else if (ev == MG_EV_ERROR) {
    k->errors++;
    mg_snprintf(k->error, sizeof(k->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    k->closes++;
  }
}

static struct mg_connection *start_broker(struct mg_mgr *mgr, struct broker *b, char *url, size_t len) {
  struct mg_connection *l = mg_mqtt_listen(mgr, "mqtt://127.0.0.1:0", broker_fn, b);
  cr_assert_not_null(l);
  mg_snprintf(url, len, "mqtt://127.0.0.1:%d", mg_ntohs(l->loc.port));
  return l;
}

// A manager with the broker listening, and a client's counters zeroed
static void harness_start(struct mg_mgr *mgr, struct broker *b, struct client *k, char *url, size_t len) {
  memset(k, 0, sizeof(*k));
  mg_mgr_init(mgr);
  mg_log_set(MG_LL_NONE);
  start_broker(mgr, b, url, len);
}

static void run_qos(uint8_t qos, uint8_t version) {
  struct mg_mgr mgr;
  struct broker b;
  struct client k;
  char url[64];
  memset(&b, 0, sizeof(b));
  harness_start(&mgr, &b, &k, url, sizeof(url));
  k.qos = qos;
  struct mg_mqtt_opts o;
  memset(&o, 0, sizeof(o));
  o.client_id = mg_str("unit"), o.version = version;
  struct mg_connection *c = mg_mqtt_connect(&mgr, url, &o, client_fn, &k);
  cr_assert_not_null(c);
  // Until the echo and every acknowledgement its QoS asks for have arrived
  for (int i = 0; i < 300 && !(k.msgs > 0 && (qos != 1 || k.pubacks > 0) && (qos != 2 || k.pubcomps > 0)); i++)
    mg_mgr_poll(&mgr, 10);
  for (int i = 0; i < 3; i++) mg_mgr_poll(&mgr, 1);  // Nothing more (a second echo or ack) may come
  cr_assert_eq(k.opens, 1);
  cr_assert_eq(k.open_code, 0);
  cr_assert_eq(b.connects, 1);
  cr_assert_eq(b.subscribes, 1);
  cr_assert_eq(k.subacks, 1);
  cr_assert_eq(b.publishes, 1);
  cr_assert_eq(b.last_qos, qos);
  cr_assert_str_eq(b.last_topic, "echo/me");
  cr_assert_eq(k.msgs, 1);
  char want[64];
  mg_snprintf(want, sizeof(want), "echo/me=payload@%d", qos);
  cr_assert_str_eq(k.got, want);
  cr_assert_eq(k.cmd_after_msg, 1, "MG_EV_MQTT_CMD follows MG_EV_MQTT_MSG");
  cr_assert_eq(k.pub_id == 0, qos == 0);
  cr_assert_eq(k.pubacks, qos == 1 ? 1 : 0, "the listener acknowledged QoS 1");
  cr_assert_eq(k.pubcomps, qos == 2 ? 1 : 0, "PUBREC answered with PUBREL, then PUBCOMP");
  cr_assert_eq(b.pubrels, qos == 2 ? 1 : 0);
  cr_assert_eq(c->is_mqtt5, version == 5);
  cr_assert_eq(k.errors, 0);
  mg_mgr_free(&mgr);
}

Test(mqtt_conn, qos_0_round_trip) {
  run_qos(0, 4);
}
Test(mqtt_conn, qos_1_round_trip_with_puback) {
  run_qos(1, 4);
}
Test(mqtt_conn, qos_2_round_trip_with_pubrec_pubrel_pubcomp) {
  run_qos(2, 4);
}
Test(mqtt_conn, qos_2_round_trip_in_mqtt_5) {
  run_qos(2, 5);
}

Test(mqtt_conn, a_refused_connack_is_reported_then_the_connection_closes) {
  struct mg_mgr mgr;
  struct broker b;
  struct client k;
  char url[64];
  memset(&b, 0, sizeof(b));
  b.refuse = 5;
  harness_start(&mgr, &b, &k, url, sizeof(url));
  mg_mqtt_connect(&mgr, url, NULL, client_fn, &k);
  for (int i = 0; i < 300 && k.closes == 0; i++) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(k.opens, 1);
  cr_assert_eq(k.open_code, 5);
  cr_assert_eq(k.closes, 1);
  cr_assert_eq(b.subscribes, 0);
  mg_mgr_free(&mgr);
}

// A raw peer: whatever bytes a test makes it send
static void raw_peer_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ACCEPT) {
    const struct mg_str *say = (const struct mg_str *) c->fn_data;
    mg_send(c, say->buf, say->len);
  }
  (void) ev_data;
}

// A client connected to a raw peer that says bytes (kept alive by the caller)
static void raw_start(struct mg_mgr *mgr, struct mg_str *bytes, struct client *k) {
  char url[64];
  memset(k, 0, sizeof(*k));
  mg_mgr_init(mgr);
  mg_log_set(MG_LL_NONE);
  struct mg_connection *l = mg_listen(mgr, "tcp://127.0.0.1:0", raw_peer_fn, bytes);
  cr_assert_not_null(l);
  mg_snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", mg_ntohs(l->loc.port));
  mg_mqtt_connect(mgr, url, NULL, client_fn, k);
}

static struct client run_against_raw(struct mg_str bytes, int want_msgs) {
  struct mg_mgr mgr;
  struct client k;
  raw_start(&mgr, &bytes, &k);
  for (int i = 0; i < 300 && k.closes == 0 && (want_msgs == 0 || k.msgs < want_msgs); i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  return k;
}

Test(mqtt_conn, a_packet_announced_over_max_recv_size_closes_at_once) {
  // CONNACK, then a PUBLISH announcing 268,435,455 bytes: an error before any of them arrive
  struct client k = run_against_raw(mg_str_n("\x20\x02\x00\x00\x30\xff\xff\xff\x7f\x00\x01t", 12), 0);
  cr_assert_eq(k.opens, 1);
  cr_assert_eq(k.errors, 1);
  cr_assert_eq(k.closes, 1);
  cr_assert_eq(k.msgs, 0);
}

Test(mqtt_conn, a_malformed_packet_is_an_error) {
  struct client k = run_against_raw(mg_str_n("\x20\x02\x00\x00\x36\x03\x00\x01t", 9), 0);  // QoS 3
  cr_assert_eq(k.opens, 1);
  cr_assert_eq(k.errors, 1);
  cr_assert_eq(k.closes, 1);
  cr_assert_eq(k.msgs, 0);
}

Test(mqtt_conn, packets_in_one_read_are_all_delivered) {
  struct client k = run_against_raw(mg_str_n("\x20\x02\x00\x00"
                                             "\x30\x04\x00\x01" "ab"
                                             "\x30\x04\x00\x01" "cd",
                                             16),
                                     2);
  cr_assert_eq(k.opens, 1);
  cr_assert_eq(k.msgs, 2);
  cr_assert_str_eq(k.got, "c=d@0");
}

#if MG_ENABLE_MOCK
// On the mock backend only: the fake clock makes the waits below instant

// A client that sends nothing else pings once per keepalive, and stays up while answered
static struct client run_keepalive(struct broker *b, uint64_t for_ms) {
  struct mg_mgr mgr;
  struct client k;
  char url[64];
  harness_start(&mgr, b, &k, url, sizeof(url));
  struct mg_mqtt_opts o;
  memset(&o, 0, sizeof(o));
  o.keepalive = 2;
  mg_mqtt_connect(&mgr, url, &o, client_fn, &k);
  uint64_t start = mg_millis();
  while (k.closes == 0 && mg_millis() - start < for_ms) mg_mgr_poll(&mgr, 100);
  struct client before_free = k;  // mg_mgr_free closes it too
  mg_mgr_free(&mgr);
  return before_free;
}

Test(mqtt_conn, keepalive_pings_when_idle_and_an_answered_client_stays_up) {
  struct broker b;
  memset(&b, 0, sizeof(b));
  struct client k = run_keepalive(&b, 7000);
  cr_assert_eq(k.opens, 1);
  cr_assert(b.pings >= 2 && b.pings <= 4, "%d PINGREQ in 7 s at a keepalive of 2 s", b.pings);
  cr_assert_eq(k.closes, 0);
  cr_assert_eq(k.errors, 0);
}

Test(mqtt_conn, a_broker_that_leaves_pingreq_unanswered_is_an_error) {
  struct broker b;
  memset(&b, 0, sizeof(b));
  b.deaf_to_ping = true;
  struct client k = run_keepalive(&b, 10000);
  cr_assert_eq(b.pings, 1);
  cr_assert_eq(k.errors, 1);
  cr_assert(strstr(k.error, "did not answer PINGREQ") != NULL, "%s", k.error);
}

Test(mqtt_conn, no_connack_in_time_is_an_error) {
  struct mg_mgr mgr;
  struct client k;
  struct mg_str nothing = mg_str("");
  raw_start(&mgr, &nothing, &k);
  uint64_t start = mg_millis();
  while (k.closes == 0 && mg_millis() - start < MG_MQTT_CONNACK_TIMEOUT_MS + 3000) mg_mgr_poll(&mgr, 100);
  cr_assert_eq(k.opens, 0);
  cr_assert_eq(k.errors, 1);
  cr_assert(strstr(k.error, "no CONNACK") != NULL, "%s", k.error);
  cr_assert_geq(mg_millis() - start, MG_MQTT_CONNACK_TIMEOUT_MS);
  mg_mgr_free(&mgr);
}
#endif
