// Shared inside core/dash: staging a write (validated values held beside the
// variables until they land) and the set's file.
#ifndef DASH_INTERNAL_H
#define DASH_INTERNAL_H
#include "mg_internal.h"

// Reasons a value is refused fit in this (e.g. "must be between -2147483648 and 2147483647")
#define MG_DASH_REASON_LEN 96

// The values a set would hold: one per field, initialised from the variables, with
// room for every string field's copy after them. NULL if out of memory.
union mg_dash_value *mg_dash_stage(struct mg_dash_set *set);
// Parse the JSON value val for field f into *out (strings into the stage's buffer
// already at out->s); false with a reason a user can act on
bool mg_dash_parse(const struct mg_dash_field *f, struct mg_str val, union mg_dash_value *out, char *reason,
                   size_t reason_len);
// Store staged values into the variables
void mg_dash_land(struct mg_dash_set *set, const union mg_dash_value *next);
// The field named key (a JSON key, quoted or not); NULL if none
struct mg_dash_field *mg_dash_field_find(struct mg_dash_set *set, struct mg_str key);
// Values readable at level as a JSON object, without calling on_read
bool mg_dash_values_raw(struct mg_dash_set *set, int level, struct mg_iobuf *out);
bool mg_dash_readable(const struct mg_dash_set *set, int level);
// The 403 reason for a caller below need: "forbidden: this needs an operator" (dash.c)
const char *mg_dash_forbidden(int need);
// The routes of mg_dash_route (dash_route.c): serve hm if some route's pattern matches its
// path (false: none does), and free them all
bool mg_dash_routes_handle(struct mg_dash *dash, struct mg_connection *c, struct mg_http_message *hm, int level);
void mg_dash_routes_free(struct mg_dash *dash);
// Push the set to every WebSocket client now (dash_http.c)
void mg_dash_push(struct mg_dash *dash, struct mg_dash_set *set);

// A WebSocket client of /api/ws
struct mg_dash_client {
  struct mg_dash_client *next, *prev;  // In dash->clients
  struct mg_connection *c;
  uint64_t session;  // With dash->auth: the session it was opened with (mg_auth_session_id)
  uint32_t dirty;    // Sets changed while its send buffer was too full (bit = set->index)
  uint8_t level;
};

// The clients (dash_clients.c): reserve room for one more in the index (false: out of
// memory), then add it; find and forget by connection in O(1); free them all
bool mg_dash_clients_reserve(struct mg_dash *dash);
void mg_dash_clients_add(struct mg_dash *dash, struct mg_dash_client *cl);
struct mg_dash_client *mg_dash_clients_find(const struct mg_dash *dash, const struct mg_connection *c);
void mg_dash_clients_forget(struct mg_dash *dash, const struct mg_connection *c);
void mg_dash_clients_free(struct mg_dash *dash);

// Persistence (dash_store.c): load at mg_dash_add (falling back to the defaults the
// variables hold, keeping fields unknown to this build, setting a corrupt file aside
// as NAME.json.bad), save atomically after a write. Both log what went wrong.
void mg_dash_load(struct mg_dash_set *set);
bool mg_dash_save(struct mg_dash_set *set);
// Saves what changes from C wait for, frees what the sets kept of their files
void mg_dash_store_free(struct mg_dash *dash);
// Changes from C (mg_dash_changed) to persisted sets: noted at now, saved by the tick
// once MG_DASH_SAVE_INTERVAL_MS has passed since the first of them (dash_store.c)
void mg_dash_store_changed(struct mg_dash_set *set, uint64_t now);
void mg_dash_store_tick(struct mg_dash *dash, uint64_t now);

// Samples of the fields declared with .history (dash_history.c): the ring is allocated
// when the set is added (logged and left out when there is no memory), sampled by the
// tick once MG_DASH_HISTORY_INTERVAL_MS has passed since its last sample (now: mg_millis())
void mg_dash_history_add(struct mg_dash_set *set);
void mg_dash_history_tick(struct mg_dash *dash, uint64_t now);
void mg_dash_history_free(struct mg_dash *dash);
// Appends ,"history":{"age_ms":[...],"values":{NAME:[...],...}} (API.md) with the newest
// samples of the fields readable at level that keep out->len within limit; nothing when
// none fit or none are readable. false: out of memory (out->len is as it was)
bool mg_dash_history_json(const struct mg_dash_set *set, int level, uint64_t now, size_t limit, struct mg_iobuf *out);

#endif  // DASH_INTERNAL_H
