// The pump: the field set "pump" (on, speed 0..100, persisted), whose writes drive the
// motor through on_write, and POST /api/pump/boost: full speed for 10 s, then back.
#include "pump.h"

#define PUMP_BOOST_MS 10000

static struct mg_dash *s_dash;  // Set by pump_init: what pump_set_speed tells

// The set: one variable per field, the fields in an order on_write relies on
enum { PUMP_ON, PUMP_SPEED };
static bool s_on;
static int s_speed = 50;
static struct mg_dash_field s_pump_fields[] = {
    [PUMP_ON] = MG_DASH_BOOL("on", &s_on, .title = "Pump", .write = MG_DASH_OPERATOR),
    [PUMP_SPEED] = MG_DASH_INT("speed", &s_speed, 0, 100, .unit = "%", .title = "Speed", .write = MG_DASH_OPERATOR),
};

// The motor: on a board a GPIO and a PWM duty cycle; here a log line
static void pump_motor(bool on, int speed) {
  MG_INFO(("pump %s, speed %d%%", on ? "on" : "off", speed));
}

static void pump_boost_cancel(void);

// A write from the dashboard or REST, validated against the fields' limits: next[i] is
// what field i will hold (every field, in s_pump_fields' order). A reason refuses it
// (409, nothing changes, the page shows the reason); NULL lets it land.
static const char *pump_write(struct mg_dash_set *set, const union mg_dash_value *next) {
  (void) set;
  if (next[PUMP_ON].b && next[PUMP_SPEED].i == 0) return "a running pump needs a speed above 0";
  if (next[PUMP_SPEED].i != s_speed) pump_boost_cancel();  // A new speed ends a boost: it stands
  pump_motor(next[PUMP_ON].b, next[PUMP_SPEED].i);
  return NULL;
}
static struct mg_dash_set s_pump = MG_DASH_SET("pump", s_pump_fields, .title = "Pump", .persist = true,
                                               .on_write = pump_write);

void pump_set_speed(int speed) {
  s_speed = speed;
  pump_motor(s_on, s_speed);
  mg_dash_changed(s_dash, &s_pump);  // Pushed to the clients, and pump.json saved
}

// The boost: a one-shot timer puts the speed back. MG_TIMER_AUTODELETE frees the timer
// after its call, so s_boost is NULL whenever no boost runs
static struct mg_timer *s_boost;
static int s_speed_before_boost;

static void pump_boost_end(void *arg) {
  (void) arg;
  s_boost = NULL;  // Freed by the timer list right after this call
  pump_set_speed(s_speed_before_boost);
}

static void pump_boost_cancel(void) {
  if (s_boost == NULL) return;
  mg_timer_free(&s_dash->mgr->timers, s_boost);  // Unlinks it: it will not be called
  mg_free(s_boost);                               // and frees it: mg_timer_free does not
  s_boost = NULL;
}

// POST /api/pump/boost (operators and admins: mg_dash_route's default for POST)
static void pump_boost(struct mg_connection *c, struct mg_dash_req *req) {
  if (!s_on) {
    mg_http_reply(c, 409, "Content-Type: application/json\r\n", "{\"error\":\"switch the pump on first\"}\n");
    return;
  }
  int before = s_boost != NULL ? s_speed_before_boost : s_speed;  // A second boost restarts the 10 s
  pump_boost_cancel();
  s_boost = mg_timer_add(s_dash->mgr, PUMP_BOOST_MS, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, pump_boost_end, NULL);
  if (s_boost == NULL) {
    mg_http_reply(c, 503, "Content-Type: application/json\r\n", "{\"error\":\"out of memory\"}\n");
    return;
  }
  s_speed_before_boost = before;
  MG_INFO(("%s boosts the pump for %d s", req->user, PUMP_BOOST_MS / 1000));
  pump_set_speed(100);
  mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{\"speed\":100,\"seconds\":%d}\n", PUMP_BOOST_MS / 1000);
}

bool pump_init(struct mg_dash *dash) {
  s_dash = dash;
  if (!mg_dash_add(dash, &s_pump)) return false;
  pump_motor(s_on, s_speed);  // As pump.json left it
  return mg_dash_route(dash, "POST", "/api/pump/boost", 0, pump_boost, NULL);
}

void pump_free(void) {
  if (s_boost == NULL) return;
  pump_boost_cancel();
  pump_set_speed(s_speed_before_boost);
}
