// MQTT connections: the client (mg_mqtt_connect) and the server side (mg_mqtt_listen),
// one protocol handler that parses packets, acknowledges PUBLISH and keeps the client alive.
#include "mqtt/mqtt_internal.h"

struct mqtt_state {
  uint64_t since;       // Client: mg_millis() when CONNECT was queued; then when PINGREQ went unanswered
  uint64_t sent_at;     // mg_millis() when output last moved: the keepalive counts from it
  uint16_t keepalive;   // Client: seconds, as CONNECT said
  unsigned logged_in : 1;  // Client: CONNECT queued by mg_mqtt_connect / mg_mqtt_login
  unsigned open : 1;       // Client: CONNACK accepted
  unsigned ping_out : 1;   // Client: our PINGREQ has had no answer yet
};

typedef char mqtt_state_fits_pstate[sizeof(struct mqtt_state) <= sizeof(((struct mg_connection *) 0)->pstate) ? 1 : -1];

static struct mqtt_state *mqtt_state(struct mg_connection *c) {
  return (struct mqtt_state *) (void *) &c->pstate;
}

static void mqtt_handler(struct mg_connection *c, int ev, void *ev_data);

// mg_mqtt_login on a connection of ours (another protocol's, as MQTT over WebSocket, has
// its own state in pstate)
void mqtt_conn_logged_in(struct mg_connection *c, uint16_t keepalive) {
  if (c->pfn != mqtt_handler || c->is_closing) return;
  struct mqtt_state *st = mqtt_state(c);
  st->logged_in = 1;
  st->open = 0;
  st->ping_out = 0;
  st->keepalive = keepalive;
  st->since = mg_millis();
}

// PUBACK, PUBREC, PUBREL, PUBCOMP: the id alone (MQTT 5: reason 0, which may be left out)
static void mqtt_send_ack(struct mg_connection *c, uint8_t cmd, uint16_t id) {
  uint8_t b[2];
  MG_STORE_BE16(b, id);
  mg_mqtt_send_header(c, cmd, cmd == MQTT_CMD_PUBREL ? 2 : 0, sizeof(b));
  mg_send(c, b, sizeof(b));
}

static void mqtt_on_connack(struct mg_connection *c, struct mg_mqtt_message *mm) {
  struct mqtt_state *st = mqtt_state(c);
  int code = mm->ack;
  st->open = code == 0;
  st->sent_at = mg_millis();
  mg_call(c, MG_EV_MQTT_OPEN, &code);
  if (code != 0) {
    // The broker closes after a refusal (3.1.1 MQTT-3.2.2-5); so do we
    MG_ERROR(("%lu MQTT broker %M refused the connection: CONNACK code %d", c->id, mg_print_ip_port, &c->rem, code));
    c->is_draining = 1;
  }
}

// Every packet goes to MG_EV_MQTT_CMD, after the events and answers particular to it
static void mqtt_dispatch(struct mg_connection *c, struct mg_mqtt_message *mm) {
  mqtt_state(c)->ping_out = 0;  // The peer is alive
  switch (mm->cmd) {
    case MQTT_CMD_CONNACK: mqtt_on_connack(c, mm); break;
    case MQTT_CMD_PUBLISH:
      if (mm->qos == 1) mqtt_send_ack(c, MQTT_CMD_PUBACK, mm->id);
      if (mm->qos == 2) mqtt_send_ack(c, MQTT_CMD_PUBREC, mm->id);
      mg_call(c, MG_EV_MQTT_MSG, mm);
      break;
    case MQTT_CMD_PUBREC: mqtt_send_ack(c, MQTT_CMD_PUBREL, mm->id); break;
    case MQTT_CMD_PUBREL: mqtt_send_ack(c, MQTT_CMD_PUBCOMP, mm->id); break;
    case MQTT_CMD_CONNECT:  // Server side: the client's protocol level decides what follows
      if (mqtt_connect_level(mm) == 5) c->is_mqtt5 = 1;
      break;
    default: break;
  }
  mg_call(c, MG_EV_MQTT_CMD, mm);
}

// A packet whose announced size is over MG_MAX_RECV_SIZE would never fit: say so now
static bool mqtt_too_large(struct mg_connection *c) {
  size_t head_len = 0;
  uint32_t remaining = 0;
  if (mqtt_frame(c->recv.buf, c->recv.len, &head_len, &remaining) != MQTT_OK) return false;
  if (head_len + remaining <= MG_MAX_RECV_SIZE) return false;
  mg_error(c, "MQTT packet of %lu bytes from %M is over MG_MAX_RECV_SIZE (%lu)", (unsigned long) (head_len + remaining),
           mg_print_ip_port, &c->rem, (unsigned long) MG_MAX_RECV_SIZE);
  return true;
}

static void mqtt_process(struct mg_connection *c) {
  struct mg_mqtt_message mm;
  while (c->recv.len > 0 && !c->is_closing && !c->is_draining && c->pfn == mqtt_handler) {
    int rc = mg_mqtt_parse(c->recv.buf, c->recv.len, c->is_mqtt5 ? 5 : 4, &mm);
    if (rc == MQTT_INCOMPLETE) {
      if (mqtt_too_large(c)) c->recv.len = 0;
      return;
    }
    if (rc == MQTT_MALFORMED) {
      mg_error(c, "malformed MQTT packet (type %u) from %M", (unsigned) (c->recv.buf[0] >> 4), mg_print_ip_port, &c->rem);
      c->recv.len = 0;
      return;
    }
    mqtt_dispatch(c, &mm);
    mg_iobuf_del(&c->recv, 0, mm.dgram.len);
  }
}

// Client: CONNACK in time; with a keepalive, PINGREQ after that long without output,
// and a broker that answers nothing for as long again is gone (3.1.1 3.1.2.10)
static void mqtt_on_poll(struct mg_connection *c, uint64_t now) {
  struct mqtt_state *st = mqtt_state(c);
  uint64_t period = (uint64_t) st->keepalive * 1000;
  if (!c->is_client || !st->logged_in || c->is_closing || c->is_draining) return;
  if (!st->open) {
    if (mg_ms_since(now, st->since) > MG_MQTT_CONNACK_TIMEOUT_MS)
      mg_error(c, "MQTT broker %M sent no CONNACK in %d ms", mg_print_ip_port, &c->rem, MG_MQTT_CONNACK_TIMEOUT_MS);
  } else if (period > 0 && st->ping_out && mg_ms_since(now, st->since) > period) {
    mg_error(c, "MQTT broker %M did not answer PINGREQ in %u s", mg_print_ip_port, &c->rem, (unsigned) st->keepalive);
  } else if (period > 0 && !st->ping_out && mg_ms_since(now, st->sent_at) >= period) {
    mg_mqtt_ping(c);
    st->ping_out = 1;
    st->since = now;
  }
}

static void mqtt_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) {
    mqtt_process(c);
  } else if (ev == MG_EV_WRITE) {
    mqtt_state(c)->sent_at = mg_millis();
  } else if (ev == MG_EV_POLL) {
    mqtt_on_poll(c, *(uint64_t *) ev_data);
  }
}

struct mg_connection *mg_mqtt_connect(struct mg_mgr *mgr, const char *url, const struct mg_mqtt_opts *opts,
                                      mg_event_handler_t fn, void *fn_data) {
  if (url != NULL && mg_url_is_ssl(url) && !MG_ENABLE_TLS) {
    MG_ERROR(("cannot connect to %s: this build has no TLS (MG_ENABLE_TLS=0)", url));
    return NULL;
  }
  struct mg_connection *c = mg_connect_svc(mgr, url, fn, fn_data, mqtt_handler, NULL);
  if (c != NULL) mg_mqtt_login(c, opts);  // Queued: it goes out once connected (through TLS if asked)
  return c;
}

struct mg_connection *mg_mqtt_listen(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data) {
  return mg_listen_svc(mgr, url, fn, fn_data, mqtt_handler, NULL);
}
