// HTTP routes of the firmware: the REST API under /api/ and the packed dashboard.
#ifndef FIRMWARE_ROUTES_H
#define FIRMWARE_ROUTES_H
#include "device.h"

// The HTTP event handler; fn_data is the struct device, whose dash.auth holds the users
// and sessions (/api/auth, /api/users, and the session every other /api/ needs)
void routes_handle(struct mg_connection *c, int ev, void *ev_data);

#endif
