// HTTP routes of the firmware: the REST API under /api/ and the packed dashboard.
#ifndef FIRMWARE_ROUTES_H
#define FIRMWARE_ROUTES_H
#include "device.h"
#include "https.h"

#ifndef FIRMWARE_ENABLE_OTA
#define FIRMWARE_ENABLE_OTA 1  // 0: a program without OTA links no ota.c
#endif
struct ota;  // ota.h

// What every listener's handler needs (its fn_data)
struct routes {
  struct device *dev;  // Its dash.auth holds the users and sessions (/api/auth, /api/users,
                       // and the session every other /api/ needs)
  struct https *https;
  struct ota *ota;     // POST /api/ota and its upload; NULL in a program without OTA
                       // (always with FIRMWARE_ENABLE_OTA 0)
};

// The HTTP event handler of the http:// and https:// listeners; fn_data is a struct routes
void routes_handle(struct mg_connection *c, int ev, void *ev_data);

#endif
