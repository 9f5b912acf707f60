// Device identity and state: the four field sets the dashboard and scripts use
// (device, leds, sensors, settings), bound to the variables below, and GET /api/info.
// The same on every platform; what differs (names, memory) is device_port.h's.
#include "device.h"
#include "device_port.h"

static struct device *s_dev;  // The one device: the sets' callbacks reach it here

// settings: persisted; the device's name is settings.name
static char s_name[33];
static int s_interval = 10, s_unit;
static const char *s_units[] = {"celsius", "fahrenheit", NULL};
static struct mg_dash_field s_settings_fields[] = {
    MG_DASH_STRING("name", s_name, .min_len = 1, .title = "Device name"),
    MG_DASH_INT("interval", &s_interval, 1, 3600, .unit = "s", .title = "Interval"),
    MG_DASH_ENUM("unit", &s_unit, s_units, .title = "Temperature unit"),
};
static struct mg_dash_set s_settings = MG_DASH_SET("settings", s_settings_fields, .title = "Settings", .persist = true);

// device: read-only, refreshed whenever it is read
static int s_uptime, s_connections;
static int64_t s_free_memory, s_memory_peak;  // Hosts have more than 2^31 bytes
static char s_version[32];
static struct mg_dash_field s_device_fields[] = {
    MG_DASH_STRING("name", s_name, .title = "Name"),
    MG_DASH_STRING("version", s_version, .title = "Firmware"),
    MG_DASH_INT_ANY("uptime", &s_uptime, .unit = "s", .title = "Uptime"),
    MG_DASH_INT64_ANY("free_memory", &s_free_memory, .unit = "B", .title = "Free memory"),
    MG_DASH_INT_ANY("connections", &s_connections, .title = "Connections"),
    MG_DASH_INT64_ANY("memory_peak", &s_memory_peak, .unit = "B", .title = "Peak memory"),
};

static void device_refresh(struct mg_dash_set *set) {
  (void) set;
  s_uptime = (int) ((mg_millis() - s_dev->started_ms) / 1000);
  s_free_memory = device_free_memory();
  s_memory_peak = device_memory_peak();
  s_connections = 0;
  for (struct mg_connection *c = s_dev->mgr->conns; c != NULL; c = c->next) {
    if (!c->is_listening && c != s_dev->mgr->wakeup_pipe) s_connections++;
  }
}
static struct mg_dash_set s_device =
    MG_DASH_SET("device", s_device_fields, .title = "Device", .readonly = true, .on_read = device_refresh);

// leds: operating the device, so an operator's to switch (settings stay an admin's);
// on a board on_write would drive the pins
static bool s_led[3];
static struct mg_dash_field s_led_fields[] = {
    MG_DASH_BOOL("led1", &s_led[0], .title = "LED 1", .write = MG_DASH_OPERATOR),
    MG_DASH_BOOL("led2", &s_led[1], .title = "LED 2", .write = MG_DASH_OPERATOR),
    MG_DASH_BOOL("led3", &s_led[2], .title = "LED 3", .write = MG_DASH_OPERATOR),
};
static const char *device_set_leds(struct mg_dash_set *set, const union mg_dash_value *next) {
  (void) set;
  MG_INFO(("LEDs: %d %d %d", next[0].b, next[1].b, next[2].b));
  return NULL;
}
static struct mg_dash_set s_leds = MG_DASH_SET("leds", s_led_fields, .title = "LEDs", .on_write = device_set_leds);

// sensors: simulated, updated every second and pushed; charted, so the device keeps their
// last 5 minutes (.history) and a chart opened now starts with them
static double s_temperature = 21.5, s_humidity = 45;
static struct mg_dash_field s_sensor_fields[] = {
    MG_DASH_DOUBLE_ANY("temperature", &s_temperature, .unit = "°C", .title = "Temperature", .history = true),
    MG_DASH_DOUBLE("humidity", &s_humidity, 0, 100, .unit = "%", .title = "Humidity", .history = true),
};
static struct mg_dash_set s_sensors = MG_DASH_SET("sensors", s_sensor_fields, .title = "Sensors", .readonly = true);

// Each reading drifts back towards its mean with a little noise, rounded as a real
// sensor reports it (no libm: the firmware links without it)
static double device_drift(double v, double mean, double spread, uint8_t noise, double step) {
  v += (mean - v) * 0.05 + (noise - 127.5) / 127.5 * spread;
  return (double) (long) (v / step + (v < 0 ? -0.5 : 0.5)) * step;
}

static void device_tick(void *arg) {
  struct device *d = (struct device *) arg;
  uint8_t noise[2];
  mg_random(noise, sizeof(noise));
  s_temperature = device_drift(s_temperature, 21.5, 0.3, noise[0], 0.01);
  s_humidity = device_drift(s_humidity, 45, 0.8, noise[1], 0.1);
  mg_dash_changed(&d->dash, &s_sensors);
  mg_dash_changed(&d->dash, &s_device);  // Uptime ticks on the dashboard
}

// GET /api/info: name, version, build time, uptime (any logged-in user)
static void device_info(struct mg_connection *c, struct mg_dash_req *req) {
  const struct device *d = (const struct device *) req->fn_data;
  mg_http_reply(c, 200, "Content-Type: application/json\r\nCache-Control: no-store\r\n",
                "{\"name\":%m,\"version\":%m,\"build\":%m,\"uptime\":%llu}\n", MG_ESC(d->name), MG_ESC(d->version),
                MG_ESC(d->build_time), (unsigned long long) ((mg_millis() - d->started_ms) / 1000));
}

void device_init(struct device *d, struct mg_mgr *mgr, const char *data_dir) {
  char host[48];
  device_host_name(host, sizeof(host));
  mg_snprintf(s_name, sizeof(s_name), "meerkat-%s", host);  // The default; settings.json may hold another
  mg_snprintf(s_version, sizeof(s_version), "%s", FIRMWARE_VERSION);
  s_dev = d;
  d->name = s_name;
  d->version = FIRMWARE_VERSION;
  d->build_time = FIRMWARE_BUILD_TIME;
  d->data_dir = data_dir;
  d->started_ms = mg_millis();
  d->mgr = mgr;
  mg_dash_init(&d->dash, mgr, data_dir);
  mg_dash_add(&d->dash, &s_device);
  mg_dash_add(&d->dash, &s_leds);
  mg_dash_add(&d->dash, &s_sensors);
  mg_dash_add(&d->dash, &s_settings);
  mg_dash_route(&d->dash, "GET", "/api/info", 0, device_info, d);
  d->sensor_timer = mg_timer_add(mgr, 1000, MG_TIMER_REPEAT, device_tick, d);
}

void device_free(struct device *d) {
  if (d->sensor_timer != NULL) {
    mg_timer_free(&d->mgr->timers, d->sensor_timer);
    mg_free(d->sensor_timer);
    d->sensor_timer = NULL;
  }
  mg_dash_free(&d->dash);
}
