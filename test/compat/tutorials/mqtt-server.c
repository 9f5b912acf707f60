// The mqtt-server tutorial as a Mongoose user writes it: a tiny broker on mg_mqtt_listen
// that accepts every client, keeps subscriptions in memory and forwards each PUBLISH to
// the subscribers whose filter matches (MQTT's + and # wildcards). Built against
// dist/mongoose.h alone. Usage: mqtt-server [-l URL]
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_listen_on = "mqtt://0.0.0.0:1883";

struct sub {
  struct sub *next;
  struct mg_connection *c;
  struct mg_str topic;  // mg_strdup'd
  uint8_t qos;
};
static struct sub *s_subs;
static int s_signo;

static void signal_handler(int signo) {
  s_signo = signo;
}

// Does topic match the filter? "+" is one level, "#" the rest (MQTT 3.1.1 4.7)
static bool topic_matches(struct mg_str filter, struct mg_str topic) {
  size_t i = 0, j = 0;
  while (i < filter.len) {
    if (filter.buf[i] == '#') return true;
    if (filter.buf[i] == '+') {
      while (j < topic.len && topic.buf[j] != '/') j++;
      i++;
    } else {
      if (j >= topic.len || filter.buf[i] != topic.buf[j]) return false;
      i++, j++;
    }
  }
  return j == topic.len;
}

// The subscriptions of c to topic (NULL: all of them) end
static void drop_subs(struct mg_connection *c, const struct mg_str *topic) {
  for (struct sub **p = &s_subs; *p != NULL;) {
    struct sub *s = *p;
    if (s->c == c && (topic == NULL || mg_strcmp(s->topic, *topic) == 0)) {
      *p = s->next;
      mg_free((void *) s->topic.buf);
      free(s);
    } else {
      p = &s->next;
    }
  }
}

static void send_ack(struct mg_connection *c, uint8_t cmd, uint16_t id, const uint8_t *codes, size_t n) {
  uint8_t head[3] = {(uint8_t) (id >> 8), (uint8_t) id, 0};
  size_t hl = c->is_mqtt5 ? 3 : 2;  // MQTT 5: an empty property length
  mg_mqtt_send_header(c, cmd, 0, (uint32_t) (hl + n));
  mg_send(c, head, hl);
  mg_send(c, codes, n);
}

// SUBSCRIBE's payload: filters, each with its options byte
static void on_subscribe(struct mg_connection *c, struct mg_mqtt_message *mm) {
  uint8_t codes[16];
  size_t n = 0, pos = 0;
  while (pos + 2 < mm->data.len && n < sizeof(codes)) {
    size_t len = (size_t) ((uint8_t) mm->data.buf[pos] << 8 | (uint8_t) mm->data.buf[pos + 1]);
    if (pos + 2 + len + 1 > mm->data.len) break;
    struct sub *s = (struct sub *) calloc(1, sizeof(*s));
    if (s == NULL) break;
    s->c = c;
    s->topic = mg_strdup(mg_str_n(mm->data.buf + pos + 2, len));
    s->qos = (uint8_t) (mm->data.buf[pos + 2 + len] & 3);
    s->next = s_subs, s_subs = s;
    MG_INFO(("SUB %lu [%.*s] qos %d", c->id, (int) s->topic.len, s->topic.buf, s->qos));
    codes[n++] = s->qos;
    pos += 2 + len + 1;
  }
  send_ack(c, MQTT_CMD_SUBACK, mm->id, codes, n);
}

static void on_unsubscribe(struct mg_connection *c, struct mg_mqtt_message *mm) {
  uint8_t codes[16];
  size_t n = 0, pos = 0;
  while (pos + 2 <= mm->data.len && n < sizeof(codes)) {
    size_t len = (size_t) ((uint8_t) mm->data.buf[pos] << 8 | (uint8_t) mm->data.buf[pos + 1]);
    struct mg_str topic = mg_str_n(mm->data.buf + pos + 2, len);
    drop_subs(c, &topic);
    codes[n++] = 0;
    pos += 2 + len;
  }
  send_ack(c, MQTT_CMD_UNSUBACK, mm->id, codes, c->is_mqtt5 ? n : 0);
}

static void on_publish(struct mg_mqtt_message *mm) {
  MG_INFO(("PUB [%.*s] -> [%.*s]", (int) mm->data.len, mm->data.buf, (int) mm->topic.len, mm->topic.buf));
  for (struct sub *s = s_subs; s != NULL; s = s->next) {
    if (!topic_matches(s->topic, mm->topic)) continue;
    struct mg_mqtt_opts pub = {.topic = mm->topic, .message = mm->data, .qos = mm->qos < s->qos ? mm->qos : s->qos};
    mg_mqtt_pub(s->c, &pub);
  }
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    if (mm->cmd == MQTT_CMD_CONNECT) {
      uint8_t response[] = {0, 0, 0};  // Accepted; MQTT 5 adds an empty property length
      mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0, c->is_mqtt5 ? 3 : 2);
      mg_send(c, response, c->is_mqtt5 ? 3 : 2);
      MG_INFO(("CONNECT %lu, MQTT %d", c->id, c->is_mqtt5 ? 5 : 4));
    } else if (mm->cmd == MQTT_CMD_SUBSCRIBE) {
      on_subscribe(c, mm);
    } else if (mm->cmd == MQTT_CMD_UNSUBSCRIBE) {
      on_unsubscribe(c, mm);
    } else if (mm->cmd == MQTT_CMD_PUBLISH) {
      on_publish(mm);
    } else if (mm->cmd == MQTT_CMD_PINGREQ) {
      mg_mqtt_pong(c);
    }
  } else if (ev == MG_EV_ACCEPT) {
    MG_INFO(("%lu accepted", c->id));
  } else if (ev == MG_EV_CLOSE) {
    drop_subs(c, NULL);  // Its subscriptions go with it
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-l") == 0) s_listen_on = argv[i + 1];
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_INFO);
  struct mg_connection *l = mg_mqtt_listen(&mgr, s_listen_on, fn, NULL);
  if (l == NULL) return 1;
  char addr[64];
  mg_snprintf(addr, sizeof(addr), "%M", mg_print_ip_port, &l->loc);
  printf("listening on mqtt://%s\n", addr);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  return 0;
}
