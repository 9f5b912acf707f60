// Firmware updates over HTTP: POST /api/ota streams a signed image into the other slot
// (resumable), GET /api/ota says what runs and what waits, POST /api/ota/rollback.
#ifndef FIRMWARE_OTA_H
#define FIRMWARE_OTA_H
#include "boot.h"

struct ota {
  struct boot *boot;
  struct mg_dash *dash;
  const char *version;            // The running firmware's
  uint64_t started_ms, confirm_ms, window_ms;  // Trial: confirm after, restart after
  struct mg_timer *timer;         // Watches the trial
  struct ota_update up;           // The upload, in the slot not running
  unsigned long uploader;         // The connection streaming into it now (0: none)
  uint64_t pushed_ms;             // Progress pushes go out a few times a second
  uint64_t restart_at;            // mg_millis() by which to restart (0: no restart due)
  bool other_valid;               // The slot not running holds a firmware that can start
  char other_version[24];
  char error[128];                // The last failure, for GET /api/ota and the ota set
};

// Declares the `ota` field set and the routes; finds an upload a restart cut off. On
// trial, the firmware confirms itself after confirm_s seconds of serving, or restarts
// after window_s without that.
void ota_init(struct ota *o, struct boot *b, struct mg_dash *dash, const char *version, unsigned confirm_s,
              unsigned window_s);
void ota_free(struct ota *o);  // Before mg_mgr_free
// From the HTTP handler, before anything else, for every event: takes POST /api/ota from
// its head on (auth: an admin's session, checked by gate) and returns true for what it took
bool ota_handle(struct ota *o, struct mg_connection *c, int ev, void *ev_data, struct mg_auth *auth);
// True once a verified image or a rollback wants the restart, and its answer has gone
bool ota_restart_due(struct ota *o);
// Before that restart: WebSockets are told why (1012), every connection gets a moment
// (at most 500 ms) to send what it has queued
void ota_say_goodbye(struct mg_mgr *mgr);

#endif
