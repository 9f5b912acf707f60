// HTTP routes of the firmware: the REST API under /api/ and the packed dashboard.
#ifndef FIRMWARE_ROUTES_H
#define FIRMWARE_ROUTES_H
#include "device.h"

// The HTTP event handler; fn_data is the struct device
void routes_handle(struct mg_connection *c, int ev, void *ev_data);
// Users and sessions: /api/auth and /api/users, and the session every other /api/ needs
void routes_set_auth(struct mg_auth *auth);

#endif
