// The device's identity and state, as the dashboard sees it: the field sets
// device, leds, sensors and settings (core/dash/API.md, "Firmware field sets").
#ifndef FIRMWARE_DEVICE_H
#define FIRMWARE_DEVICE_H
#include "meerkat.h"

#ifndef FIRMWARE_VERSION
#define FIRMWARE_VERSION MEERKAT_VERSION  // The Makefile gives FW_VERSION (make ota: VERSION)
#endif
#ifndef FIRMWARE_BUILD_TIME
#define FIRMWARE_BUILD_TIME "unknown"
#endif

struct device {
  const char *name;         // Shown in the dashboard header: settings.name
  const char *version;      // Firmware version (build-time)
  const char *build_time;   // ISO 8601, UTC (build-time)
  const char *data_dir;     // Settings, users and OTA slots live here
  uint64_t started_ms;      // mg_millis() at start, for uptime
  struct mg_mgr *mgr;
  struct mg_dash dash;      // The field sets, served by routes.c
  struct mg_timer *sensor_timer;
};

// Declares the field sets (loading the persisted settings) and the route GET /api/info,
// and starts the sensors
void device_init(struct device *d, struct mg_mgr *mgr, const char *data_dir);
void device_free(struct device *d);  // Before mg_mgr_free

#endif
