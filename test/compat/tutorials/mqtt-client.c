// The mqtt-client tutorial as a Mongoose user writes it: connect, subscribe to mg/+/test
// once the broker accepts, publish "hello" to mg/clnt/test, print the message that comes
// back and close; a timer reconnects when the connection is gone (and pings it while it
// is up). Built against dist/mongoose.h alone.
// Usage: mqtt-client [-u URL] [-t TIMER_MS] [-n ROUNDS] [-q QOS] [-v VERSION]
// Ends after ROUNDS received messages (0: never), with exit status 0.
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "mongoose.h"

static const char *s_url = "mqtt://broker.hivemq.com:1883";
static const char *s_sub_topic = "mg/+/test";
static const char *s_pub_topic = "mg/clnt/test";
static int s_qos = 1, s_version = 4, s_rounds = 0, s_received = 0;
static struct mg_connection *s_conn;  // The client connection, NULL while there is none
static int s_signo;

static void signal_handler(int signo) {
  s_signo = signo;
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_OPEN) {
    MG_INFO(("%lu CREATED", c->id));
  } else if (ev == MG_EV_CONNECT) {
    if (c->is_tls) {
      struct mg_tls_opts opts = {.name = mg_url_host(s_url)};
      mg_tls_init(c, &opts);
    }
  } else if (ev == MG_EV_ERROR) {
    MG_ERROR(("%lu ERROR %s", c->id, (char *) ev_data));
  } else if (ev == MG_EV_MQTT_OPEN) {
    struct mg_mqtt_opts sub = {.topic = mg_str(s_sub_topic), .qos = (uint8_t) s_qos};
    struct mg_mqtt_opts pub = {.topic = mg_str(s_pub_topic), .message = mg_str("hello"), .qos = (uint8_t) s_qos};
    printf("CONNECTED to %s, status %d\n", s_url, *(int *) ev_data);
    mg_mqtt_sub(c, &sub);
    printf("SUBSCRIBED to %s\n", s_sub_topic);
    mg_mqtt_pub(c, &pub);
    printf("PUBLISHED %s -> %s\n", "hello", s_pub_topic);
    fflush(stdout);
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    printf("RECEIVED %.*s <- %.*s\n", (int) mm->data.len, mm->data.buf, (int) mm->topic.len, mm->topic.buf);
    fflush(stdout);
    s_received++;
    c->is_draining = 1;  // Done with this connection; the timer makes the next one
  } else if (ev == MG_EV_CLOSE) {
    MG_INFO(("%lu CLOSED", c->id));
    s_conn = NULL;
  }
}

// Every TIMER_MS: reconnect if the connection is gone, else keep it alive
static void timer_fn(void *arg) {
  struct mg_mgr *mgr = (struct mg_mgr *) arg;
  struct mg_mqtt_opts opts = {.clean = true, .qos = (uint8_t) s_qos, .topic = mg_str(s_pub_topic),
                              .version = (uint8_t) s_version, .message = mg_str("bye")};
  if (s_conn == NULL) {
    s_conn = mg_mqtt_connect(mgr, s_url, &opts, fn, NULL);
  } else {
    mg_mqtt_ping(s_conn);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  unsigned long period = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "-u") == 0) s_url = argv[i + 1];
    if (strcmp(argv[i], "-t") == 0) period = strtoul(argv[i + 1], NULL, 10);
    if (strcmp(argv[i], "-n") == 0) s_rounds = atoi(argv[i + 1]);
    if (strcmp(argv[i], "-q") == 0) s_qos = atoi(argv[i + 1]);
    if (strcmp(argv[i], "-v") == 0) s_version = atoi(argv[i + 1]);
  }
  signal(SIGINT, signal_handler);
  signal(SIGTERM, signal_handler);
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_INFO);
  mg_timer_add(&mgr, period, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, timer_fn, &mgr);
  while (s_signo == 0 && (s_rounds == 0 || s_received < s_rounds)) mg_mgr_poll(&mgr, 100);
  mg_mgr_free(&mgr);
  printf("received %d\n", s_received);
  return 0;
}
