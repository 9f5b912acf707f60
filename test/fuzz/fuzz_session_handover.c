// Fuzz the session handover's decoder (the file one program leaves the next): any bytes
// bring back at most a table's worth of sessions, each of a user that exists.
#include "dash/auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mg_auth auth;
  memset(&auth, 0, sizeof(auth));
  auth.idle_ms = auth.max_age_ms = 1000000;
  mg_snprintf(auth.users[0].name, sizeof(auth.users[0].name), "admin");
  auth.users[0].level = MG_DASH_ADMIN;
  // The saved-at time is read from the input, so a "now" just after it is fuzzable too
  uint64_t now = size >= 14 ? (uint64_t) data[6] | (uint64_t) data[7] << 8 : 0;
  int taken = mg_auth_sessions_decode(&auth, data, size, now + 1);
  if (taken < 0 || taken > MG_AUTH_MAX_SESSIONS) __builtin_trap();
  int live = 0;
  for (size_t i = 0; i < MG_AUTH_MAX_SESSIONS; i++) {
    if (auth.sessions[i].user[0] == '\0') continue;
    if (strcmp(auth.sessions[i].user, "admin") != 0) __builtin_trap();
    live++;
  }
  if (live != taken) __builtin_trap();
  return 0;
}
