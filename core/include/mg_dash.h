// Device dashboard: field sets bound to C variables, served as REST and WebSocket,
// behind users and sessions (core/dash).
#ifndef MG_DASH_H
#define MG_DASH_H

// Access levels, ordered: a level may do everything the ones below it may
enum { MG_DASH_NOBODY = 0, MG_DASH_VIEWER = 1, MG_DASH_ADMIN = 2 };

#endif  // MG_DASH_H
