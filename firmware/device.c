// Device identity: name, firmware version, build time and uptime.
#include <unistd.h>
#include "device.h"

#ifndef FIRMWARE_VERSION
#define FIRMWARE_VERSION MG_VERSION
#endif
#ifndef FIRMWARE_BUILD_TIME
#define FIRMWARE_BUILD_TIME "unknown"
#endif

void device_init(struct device *d, const char *data_dir) {
  char host[48] = "host";
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') strcpy(host, "host");
  host[sizeof(host) - 1] = '\0';
  mg_snprintf(d->name, sizeof(d->name), "meerkat-%s", host);
  d->version = FIRMWARE_VERSION;
  d->build_time = FIRMWARE_BUILD_TIME;
  d->data_dir = data_dir;
  d->started_ms = mg_millis();
}

void device_info_json(const struct device *d, struct mg_iobuf *io) {
  mg_xprintf(mg_pfn_iobuf, io, "{\"name\":%m,\"version\":%m,\"build\":%m,\"uptime\":%llu}", MG_ESC(d->name),
             MG_ESC(d->version), MG_ESC(d->build_time), (unsigned long long) ((mg_millis() - d->started_ms) / 1000));
}
