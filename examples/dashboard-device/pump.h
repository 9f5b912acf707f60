// The pump: a field set "pump" (on, speed) whose writes drive the motor, and the
// endpoint POST /api/pump/boost (full speed for 10 s). Another file reaches the
// pump through these functions, never through its variables.
#ifndef PUMP_H
#define PUMP_H
#include "meerkat.h"

// Adds the set (loading <data dir>/pump.json) and the route to dash
bool pump_init(struct mg_dash *dash);
// From C (a knob, a schedule): sets the speed, drives the motor, tells the clients,
// and the set is saved
void pump_set_speed(int speed);
// Ends a boost, so the speed saved at exit is the one from before it (before mg_dash_free)
void pump_free(void);

#endif
