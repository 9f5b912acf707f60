// The device's identity and state, as the dashboard sees it.
#ifndef FIRMWARE_DEVICE_H
#define FIRMWARE_DEVICE_H
#include "meerkat.h"

struct device {
  char name[64];            // Shown in the dashboard header
  const char *version;      // Firmware version (build-time)
  const char *build_time;   // ISO 8601, UTC (build-time)
  const char *data_dir;     // Settings, users and OTA slots live here
  uint64_t started_ms;      // mg_millis() at start, for uptime
};

void device_init(struct device *d, const char *data_dir);
// JSON object for GET /api/info, appended to io
void device_info_json(const struct device *d, struct mg_iobuf *io);

#endif
