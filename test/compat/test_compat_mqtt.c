// Mongoose 7.22 MQTT compatibility, built against dist/mongoose.h and dist/meerkat.c
// alone: the documented constants and structs, mg_mqtt_parse's three answers, what
// mg_mqtt_pub returns, and a client and a small broker (mg_mqtt_listen) in one manager.
#include <criterion/criterion.h>
#include <string.h>
#include "mongoose.h"

Test(compat_mqtt, documented_constants) {
  cr_assert(MQTT_CMD_CONNECT == 1 && MQTT_CMD_CONNACK == 2 && MQTT_CMD_PUBLISH == 3 && MQTT_CMD_PUBACK == 4);
  cr_assert(MQTT_CMD_PUBREC == 5 && MQTT_CMD_PUBREL == 6 && MQTT_CMD_PUBCOMP == 7 && MQTT_CMD_SUBSCRIBE == 8);
  cr_assert(MQTT_CMD_SUBACK == 9 && MQTT_CMD_UNSUBSCRIBE == 10 && MQTT_CMD_UNSUBACK == 11);
  cr_assert(MQTT_CMD_PINGREQ == 12 && MQTT_CMD_PINGRESP == 13 && MQTT_CMD_DISCONNECT == 14 && MQTT_CMD_AUTH == 15);
  cr_assert(MQTT_OK == 0 && MQTT_INCOMPLETE == 1 && MQTT_MALFORMED == 2);
  cr_assert(MQTT_PROP_TYPE_BYTE == 0 && MQTT_PROP_TYPE_STRING == 1 && MQTT_PROP_TYPE_STRING_PAIR == 2);
  cr_assert(MQTT_PROP_TYPE_BINARY_DATA == 3 && MQTT_PROP_TYPE_VARIABLE_INT == 4 && MQTT_PROP_TYPE_INT == 5);
  cr_assert(MQTT_PROP_TYPE_SHORT == 6);
  cr_assert(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR == 0x01 && MQTT_PROP_SUBSCRIPTION_IDENTIFIER == 0x0B);
  cr_assert(MQTT_PROP_USER_PROPERTY == 0x26 && MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE == 0x2A);
  // The structs' fields by name, as Mongoose programs fill them
  struct mg_mqtt_prop prop = {.id = MQTT_PROP_USER_PROPERTY, .iv = 0, .key = mg_str("k"), .val = mg_str("v")};
  struct mg_mqtt_opts opts = {.user = mg_str("u"), .pass = mg_str("p"), .client_id = mg_str("id"),
                              .topic = mg_str("t"), .message = mg_str("m"), .qos = 1, .version = 5,
                              .keepalive = 10, .retransmit_id = 0, .retain = false, .clean = true,
                              .props = &prop, .num_props = 1, .will_props = NULL, .num_will_props = 0};
  struct mg_mqtt_message mm = {.topic = mg_str(""), .data = mg_str(""), .dgram = mg_str(""), .id = 0, .cmd = 0,
                               .qos = 0, .ack = 0, .props_start = 0, .props_size = 0};
  cr_assert(opts.num_props == 1 && mm.props_size == 0);
}

Test(compat_mqtt, parse_answers_ok_incomplete_malformed) {
  struct mg_mqtt_message mm;
  const uint8_t pub[] = {0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x2a, 'x'};
  cr_assert_eq(mg_mqtt_parse(pub, sizeof(pub), 4, &mm), MQTT_OK);
  cr_assert(mm.cmd == MQTT_CMD_PUBLISH && mm.qos == 1 && mm.id == 42);
  cr_assert(mm.topic.len == 3 && memcmp(mm.topic.buf, "a/b", 3) == 0);
  cr_assert(mm.data.len == 1 && mm.data.buf[0] == 'x');
  cr_assert(mm.dgram.buf == (const char *) pub && mm.dgram.len == sizeof(pub), "zero-copy slices of the buffer");
  for (size_t i = 0; i < sizeof(pub); i++) cr_assert_eq(mg_mqtt_parse(pub, i, 4, &mm), MQTT_INCOMPLETE);
  const uint8_t five[] = {0x30, 0x80, 0x80, 0x80, 0x80, 0x01};
  cr_assert_eq(mg_mqtt_parse(five, sizeof(five), 4, &mm), MQTT_MALFORMED, "remaining length in 5 bytes");
  const uint8_t qos3[] = {0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01};
  cr_assert_eq(mg_mqtt_parse(qos3, sizeof(qos3), 4, &mm), MQTT_MALFORMED);
  const uint8_t connack[] = {0x20, 0x02, 0x00, 0x04};
  cr_assert_eq(mg_mqtt_parse(connack, sizeof(connack), 4, &mm), MQTT_OK);
  cr_assert(mm.cmd == MQTT_CMD_CONNACK && mm.ack == 4);
}

Test(compat_mqtt, v5_properties_through_next_prop) {
  // PUBLISH, MQTT 5: topic "t", properties: content type "json", user property a=b
  const uint8_t pub[] = {0x30, 0x14, 0x00, 0x01, 't', 0x0e, 0x03, 0x00, 0x04, 'j', 's', 'o', 'n',
                         0x26, 0x00, 0x01, 'a', 0x00, 0x01, 'b', '{', '}'};
  struct mg_mqtt_message mm;
  struct mg_mqtt_prop prop;
  cr_assert_eq(mg_mqtt_parse(pub, sizeof(pub), 5, &mm), MQTT_OK);
  cr_assert(mm.data.len == 2 && memcmp(mm.data.buf, "{}", 2) == 0);
  size_t ofs = mg_mqtt_next_prop(&mm, &prop, 0);
  cr_assert(ofs > 0 && prop.id == MQTT_PROP_CONTENT_TYPE && prop.val.len == 4);
  ofs = mg_mqtt_next_prop(&mm, &prop, ofs);
  cr_assert(ofs > 0 && prop.id == MQTT_PROP_USER_PROPERTY && prop.key.buf[0] == 'a' && prop.val.buf[0] == 'b');
  cr_assert_eq(mg_mqtt_next_prop(&mm, &prop, ofs), 0);
}

// ---------------------------------------------------------------------------
// A client and a broker of Mongoose's mqtt-server kind, in one manager

struct app {
  int open_code, opens, msgs, closes, cmds_client, cmds_broker, pubacks, pubcomps;
  uint16_t ids[2];
  char got[64];
};

static void broker_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct app *a = (struct app *) c->fn_data;
  if (ev != MG_EV_MQTT_CMD) return;
  struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
  a->cmds_broker++;
  if (mm->cmd == MQTT_CMD_CONNECT) {
    uint8_t response[] = {0, 0};
    mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0, sizeof(response));
    mg_send(c, response, sizeof(response));
  } else if (mm->cmd == MQTT_CMD_SUBSCRIBE) {
    uint8_t response[] = {(uint8_t) (mm->id >> 8), (uint8_t) mm->id, 1};
    mg_mqtt_send_header(c, MQTT_CMD_SUBACK, 0, sizeof(response));
    mg_send(c, response, sizeof(response));
  } else if (mm->cmd == MQTT_CMD_PUBLISH) {
    struct mg_mqtt_opts pub = {.topic = mm->topic, .message = mm->data, .qos = mm->qos};
    mg_mqtt_pub(c, &pub);  // Back to the one subscriber
  } else if (mm->cmd == MQTT_CMD_PINGREQ) {
    mg_mqtt_pong(c);
  }
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct app *a = (struct app *) c->fn_data;
  if (ev == MG_EV_MQTT_OPEN) {
    a->opens++;
    a->open_code = *(int *) ev_data;
    struct mg_mqtt_opts sub = {.topic = mg_str("mg/+/test"), .qos = 1};
    mg_mqtt_sub(c, &sub);
    struct mg_mqtt_opts pub = {.topic = mg_str("mg/clnt/test"), .message = mg_str("hello"), .qos = 1};
    a->ids[0] = mg_mqtt_pub(c, &pub);
    pub.qos = 2;
    a->ids[1] = mg_mqtt_pub(c, &pub);
    mg_mqtt_ping(c);
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    a->msgs++;
    mg_snprintf(a->got, sizeof(a->got), "%.*s %.*s", (int) mm->topic.len, mm->topic.buf, (int) mm->data.len,
                mm->data.buf);
  } else if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    a->cmds_client++;
    if (mm->cmd == MQTT_CMD_PUBACK && mm->id == a->ids[0]) a->pubacks++;
    if (mm->cmd == MQTT_CMD_PUBCOMP && mm->id == a->ids[1]) a->pubcomps++;
    if (a->cmds_client == 9) {  // All in: say goodbye
      mg_mqtt_disconnect(c, NULL);
      c->is_draining = 1;
    }
  } else if (ev == MG_EV_CLOSE) {
    a->closes++;
  }
}

Test(compat_mqtt, client_and_broker_as_in_mongoose_tutorials) {
  struct mg_mgr mgr;
  struct app a;
  memset(&a, 0, sizeof(a));
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_ERROR);
  struct mg_connection *l = mg_mqtt_listen(&mgr, "mqtt://127.0.0.1:0", broker_fn, &a);
  cr_assert_not_null(l);
  char url[64];
  mg_snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", mg_ntohs(l->loc.port));
  struct mg_mqtt_opts opts = {.clean = true, .keepalive = 5};
  struct mg_connection *c = mg_mqtt_connect(&mgr, url, &opts, client_fn, &a);
  cr_assert_not_null(c);
  for (int i = 0; i < 500 && a.closes == 0; i++) mg_mgr_poll(&mgr, 10);
  cr_assert_eq(a.closes, 1, "the client disconnected after its ninth packet");
  cr_assert_eq(a.opens, 1);
  cr_assert_eq(a.open_code, 0, "MG_EV_MQTT_OPEN's ev_data: int *, the CONNACK code");
  // The manager hands out the ids: SUBSCRIBE took 1, the broker's echoes 4 and 5
  cr_assert(a.ids[0] == 2 && a.ids[1] == 3, "mg_mqtt_pub returns the packet id (%u %u)", a.ids[0], a.ids[1]);
  cr_assert_eq(mgr.mqtt_id, 5);
  cr_assert_eq(a.pubacks, 1);
  cr_assert_eq(a.pubcomps, 1);
  cr_assert_eq(a.msgs, 2, "both messages came back");
  cr_assert_str_eq(a.got, "mg/clnt/test hello");
  // CONNACK, SUBACK, PUBACK, PUBREC, 2 PUBLISH, PINGRESP, PUBREL, PUBCOMP: every packet is an MG_EV_MQTT_CMD
  cr_assert_eq(a.cmds_client, 9);
  // CONNECT, SUBSCRIBE, 2 PUBLISH, PUBREL, PINGREQ, PUBACK, PUBREC, PUBCOMP, DISCONNECT
  for (int i = 0; i < 50 && a.cmds_broker < 10; i++) mg_mgr_poll(&mgr, 1);
  cr_assert_eq(a.cmds_broker, 10);
  mg_mgr_free(&mgr);
}

Test(compat_mqtt, connect_with_null_opts_and_a_bad_url) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  cr_assert_null(mg_mqtt_connect(&mgr, "no scheme here", NULL, NULL, NULL));
  struct mg_connection *c = mg_mqtt_connect(&mgr, "mqtt://127.0.0.1:1", NULL, NULL, NULL);
  cr_assert_not_null(c);
  cr_assert(c->send.len > 0 && c->send.buf[0] == 0x10, "CONNECT queued at once");
  cr_assert(!c->is_mqtt5);
  mg_mgr_free(&mgr);
}
