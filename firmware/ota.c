// Firmware updates over HTTP. POST /api/ota streams the image into the slot not running
// (core/ota/ota_update.c) as it arrives; an upload cut off goes on with Content-Range from
// where GET /api/ota says it stopped. The `ota` field set carries progress to every dashboard.
#include "ota.h"

#define OTA_PUSH_MS 200       // Progress pushes at most this often
#define OTA_RESTART_MS 2000   // After the answer, the restart waits at most this for it to leave
#define OTA_REPLY_ROOM 512    // More than the 200 of a finished upload takes, head and all

// The `ota` field set: what every open dashboard shows of an upload
static const char *s_states[] = {"idle", "receiving", "verifying", "restarting", "failed", NULL};
enum { OTA_IDLE, OTA_RECEIVING, OTA_VERIFYING, OTA_RESTARTING, OTA_FAILED };
static int s_state;
static int64_t s_bytes, s_total;
static char s_version[24], s_error[128];
static struct mg_dash_field s_fields[] = {
    MG_DASH_ENUM("state", &s_state, s_states, .title = "Update"),
    MG_DASH_INT64_ANY("bytes", &s_bytes, .unit = "B", .title = "Received"),
    MG_DASH_INT64_ANY("total", &s_total, .unit = "B", .title = "Image size"),
    MG_DASH_STRING("version", s_version, .title = "Uploading version"),
    MG_DASH_STRING("error", s_error, .title = "Last error"),
};
static struct mg_dash_set s_set = MG_DASH_SET("ota", s_fields, .title = "Firmware update", .readonly = true);

static void ota_print_version(char *buf, size_t len, const struct mg_ota_version *v) {
  mg_snprintf(buf, len, "%u.%u.%u", v->major, v->minor, v->patch);
}

// The set follows the upload; pushed at once on a change of state, else now and then
static void ota_publish(struct ota *o, int state) {
  bool changed = state != s_state || strcmp(s_error, o->error) != 0;
  s_state = state;
  s_bytes = o->up.received;
  s_total = o->up.total;
  s_version[0] = '\0';
  if (o->up.received >= MG_OTA_HEADER_SIZE) ota_print_version(s_version, sizeof(s_version), &o->up.hdr.version);
  mg_snprintf(s_error, sizeof(s_error), "%s", o->error);
  if (changed || mg_millis() - o->pushed_ms >= OTA_PUSH_MS) {
    o->pushed_ms = mg_millis();
    mg_dash_changed(o->dash, &s_set);
  }
}

static void ota_fail(struct ota *o, const char *why) {
  mg_snprintf(o->error, sizeof(o->error), "%s", why);
  ota_publish(o, OTA_FAILED);
}

static int ota_target(const struct ota *o) {
  return 1 - o->boot->running;
}

// What the slot not running holds: a firmware that can start (the installed program
// counts, as slot 0 without an image), or the remains of an upload that can go on
static void ota_survey(struct ota *o) {
  struct boot *b = o->boot;
  int other = ota_target(o);
  struct mg_ota_header h;
  o->other_valid = false;
  o->other_version[0] = '\0';
  memset(&o->up, 0, sizeof(o->up));
  if (ota_slot_verify(&b->cfg, other, &h, NULL, 0)) {
    o->other_valid = true;
    ota_print_version(o->other_version, sizeof(o->other_version), &h.version);
  } else if (ota_update_recover(&o->up, &b->cfg, other) && o->up.received < o->up.total) {
    ota_publish(o, OTA_IDLE);  // Resumable: GET /api/ota says from where
  } else {
    memset(&o->up, 0, sizeof(o->up));
    o->other_valid = boot_is_factory(b, other) && b->factory_version[0] != '\0';
    if (o->other_valid) mg_snprintf(o->other_version, sizeof(o->other_version), "%s", b->factory_version);
  }
}

static void ota_reply_error(struct mg_connection *c, int status, const char *why, uint32_t received) {
  mg_http_reply(c, status, "Content-Type: application/json\r\nCache-Control: no-store\r\n",
                "{\"error\":%m,\"received\":%lu}\n", MG_ESC(why), (unsigned long) received);
}

// An upload can be resumed while the updater waits for more and nobody streams into it
static bool ota_resumable(const struct ota *o) {
  return o->up.state == OTA_UPDATE_RECEIVING && o->uploader == 0 && o->up.received >= MG_OTA_HEADER_SIZE;
}

// Why no upload may begin now, or NULL
static const char *ota_busy(const struct ota *o) {
  const struct ota_boot_record *r = &o->boot->record.rec;
  if (o->uploader != 0) return "another upload is in progress";
  if (o->restart_at != 0) return "the device is restarting";
  if (o->boot->trial) return "the running firmware is on trial; it confirms itself after a few seconds of serving";
  if (r->pending != OTA_SLOT_NONE) return "an update is waiting for the restart";
  return NULL;
}

// Why a Content-Range cannot go on with the upload there is, or NULL
static const char *ota_range_refused(const struct ota *o, struct mg_http_message *hm, struct mg_str range, int *status) {
  uint64_t first = 0, last = 0, total = 0;
  *status = 400;
  if (!mg_http_parse_content_range(range, &first, &last, &total)) return "Content-Range must be bytes FIRST-LAST/TOTAL";
  if (mg_http_get_header(hm, "Content-Length") != NULL && hm->body.len != last - first + 1)
    return "Content-Length does not match the Content-Range";
  *status = 416;
  if (!ota_resumable(o) || total != o->up.total) return "no upload of this size to resume: send the whole image";
  if (first != o->up.received || last + 1 != total) return "resume from the byte the device has received";
  return NULL;
}

// The head of POST /api/ota: begins an upload or goes on with one (Content-Range), or
// answers why not. True if the body is to be taken.
static bool ota_begin(struct ota *o, struct mg_connection *c, struct mg_http_message *hm) {
  struct mg_str *range = mg_http_get_header(hm, "Content-Range");
  const char *refused = ota_busy(o);
  int status = 409;
  char force[4] = "";
  if (refused == NULL && range != NULL) refused = ota_range_refused(o, hm, *range, &status);
  if (refused == NULL && hm->body.len > UINT32_MAX) {
    status = 413;
    refused = "image is larger than 4 GiB";
  }
  if (refused != NULL) {
    ota_reply_error(c, status, refused, ota_resumable(o) ? o->up.received : 0);
    return false;
  }
  mg_http_get_var(&hm->query, "force", force, sizeof(force));
  if (range == NULL && !ota_update_begin(&o->up, &o->boot->cfg, ota_target(o), (uint32_t) hm->body.len, force[0] == '1')) {
    ota_fail(o, o->up.error);
    ota_reply_error(c, o->up.status, o->up.error, 0);
    return false;
  }
  o->uploader = c->id;
  o->error[0] = '\0';
  MG_INFO(("OTA upload %s at %lu bytes into slot %d", range ? "goes on" : "begins", (unsigned long) o->up.received,
           o->up.slot));
  ota_publish(o, OTA_RECEIVING);
  return true;
}

// The whole body is in: verify, put the slot on trial, answer, then restart
static void ota_finish(struct ota *o, struct mg_connection *c) {
  ota_publish(o, OTA_VERIFYING);
  struct boot *b = o->boot;
  if (!ota_update_end(&o->up)) {
    ota_fail(o, o->up.error);
    ota_reply_error(c, o->up.status, o->up.error, o->up.received);
    return;
  }
  // Room for the answer before the slot is pending: a 200 lost to memory after that would
  // restart the device into an update its uploader was never told of (alloc_faults_ota)
  if (!mg_iobuf_resize(&c->send, c->send.len + OTA_REPLY_ROOM)) {
    ota_fail(o, "out of memory for the answer: send the image again");
    mg_error(c, "out of memory for the OTA answer");
    return;
  }
  if (!ota_boot_set_pending(&b->record, BOOT_TRIAL_TRIES)) {
    ota_fail(o, "cannot save the boot record (see the log)");
    ota_reply_error(c, 500, o->error, o->up.received);
    return;
  }
  char version[24];
  ota_print_version(version, sizeof(version), &o->up.hdr.version);
  mg_http_reply(c, 200, "Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n",
                "{\"ok\":true,\"version\":%m,\"restarting\":true}\n", MG_ESC(version));
  o->restart_at = mg_millis() + OTA_RESTART_MS;
  ota_publish(o, OTA_RESTARTING);
}

// One piece of the streamed body
static void ota_chunk(struct ota *o, struct mg_connection *c, struct mg_http_message *hm) {
  bool ok = ota_update_write(&o->up, hm->chunk.buf, hm->chunk.len);
  // A header that passed has the slot erased for the image: what it held is gone
  if (o->up.received >= MG_OTA_HEADER_SIZE) o->other_valid = false;
  if (!ok) {
    ota_fail(o, o->up.error);
    ota_reply_error(c, o->up.status, o->up.error, o->up.received);
    c->is_draining = 1;  // The rest of the body is dropped unread, no MSG follows
    o->uploader = 0;
    return;
  }
  ota_publish(o, OTA_RECEIVING);
}

// The uploader's connection closed: before the end, the upload waits to be resumed
static void ota_cut(struct ota *o) {
  o->uploader = 0;
  if (o->up.state != OTA_UPDATE_RECEIVING) return;
  mg_snprintf(o->error, sizeof(o->error), "upload cut off at %lu of %lu bytes: send the rest to resume it",
              (unsigned long) o->up.received, (unsigned long) o->up.total);
  MG_ERROR(("OTA %s", o->error));
  ota_publish(o, OTA_IDLE);
}

bool ota_handle(struct ota *o, struct mg_connection *c, int ev, void *ev_data, struct mg_auth *auth) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  bool mine = o->uploader == c->id && c->id != 0;
  if (ev == MG_EV_HTTP_HDRS && mg_strcasecmp(hm->method, mg_str("POST")) == 0 && mg_str_eq(hm->uri, "/api/ota")) {
    if (mg_auth_gate(auth, c, hm, MG_DASH_ADMIN) != MG_DASH_NOBODY && ota_begin(o, c, hm)) {
      mg_http_stream_body(c);  // Taken piece by piece as it comes
    } else {
      c->is_draining = 1;  // Refused: the body is dropped unread (http_conn.c)
    }
    return true;
  }
  if (!mine) return false;
  if (ev == MG_EV_HTTP_CHUNK) ota_chunk(o, c, hm);
  if (ev == MG_EV_HTTP_MSG) {
    if (o->up.state == OTA_UPDATE_RECEIVING) ota_finish(o, c);
    c->is_draining = 1;
    o->uploader = 0;
  }
  if (ev == MG_EV_CLOSE) ota_cut(o);
  return ev == MG_EV_HTTP_CHUNK || ev == MG_EV_HTTP_MSG;
}

bool ota_restart_due(struct ota *o) {
  if (o->restart_at == 0) return false;
  if (mg_millis() >= o->restart_at) return true;
  for (struct mg_connection *c = o->dash->mgr->conns; c != NULL; c = c->next) {
    if (c->is_draining && c->send.len > 0) return false;  // An answer still leaving
  }
  return true;
}

// GET /api/ota: what runs, what the other slot holds, an upload that can go on
static void ota_status(struct mg_connection *c, struct mg_dash_req *req) {
  struct ota *o = (struct ota *) req->fn_data;
  struct boot *b = o->boot;
  char upload[200] = "null", other_version[40] = "null", id[65];
  if (ota_resumable(o) || o->uploader != 0) {
    for (int i = 0; i < 32; i++) mg_snprintf(id + 2 * i, 3, "%02x", o->up.hdr.sha256[i]);
    char version[24];
    ota_print_version(version, sizeof(version), &o->up.hdr.version);
    mg_snprintf(upload, sizeof(upload), "{\"id\":\"%s\",\"total\":%lu,\"received\":%lu,\"version\":\"%s\"}", id,
                (unsigned long) o->up.total, (unsigned long) o->up.received, version);
  }
  if (o->other_valid) mg_snprintf(other_version, sizeof(other_version), "%m", MG_ESC(o->other_version));
  mg_http_reply(c, 200, "Content-Type: application/json\r\nCache-Control: no-store\r\n",
                "{\"version\":%m,\"board\":%m,\"slot\":%d,\"trial\":%s,\"rolled_back\":%s,"
                "\"other\":{\"slot\":%d,\"valid\":%s,\"version\":%s},\"upload\":%s,\"error\":%m}\n",
                MG_ESC(o->version), MG_ESC(FIRMWARE_BOARD), b->running, b->trial ? "true" : "false",
                b->record.rec.rolled_back ? "true" : "false", ota_target(o), o->other_valid ? "true" : "false",
                other_version, upload, MG_ESC(o->error));
}

// POST /api/ota/rollback: the other slot runs from the next start, which follows at once
static void ota_rollback(struct mg_connection *c, struct mg_dash_req *req) {
  struct ota *o = (struct ota *) req->fn_data;
  struct ota_boot *record = &o->boot->record;
  const char *refused = NULL;
  if (o->uploader != 0 || o->restart_at != 0) {
    refused = "an upload or a restart is in progress";
  } else if (!o->other_valid) {
    refused = "the other slot holds no firmware that can start";
  } else if (!(o->boot->trial ? ota_boot_rollback(record) : ota_boot_set_pending(record, BOOT_TRIAL_TRIES))) {
    // A trial ends now; from a confirmed firmware the other one goes on trial, as an
    // update would: if it cannot start any more, this one comes back
    refused = "cannot save the boot record (see the log)";
  }
  if (refused != NULL) {
    ota_reply_error(c, 409, refused, 0);
    return;
  }
  MG_INFO(("rollback to version %s in slot %d, restarting", o->other_version, ota_target(o)));
  mg_http_reply(c, 200, "Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n",
                "{\"ok\":true,\"restarting\":true}\n");
  c->is_draining = 1;
  o->restart_at = mg_millis() + OTA_RESTART_MS;
  ota_publish(o, OTA_RESTARTING);
}

// A test build's image that starts but never calls itself healthy (make ota OTA_TEST=noconfirm)
static bool ota_healthy(void) {
#ifdef FIRMWARE_TEST_NO_CONFIRM
  return false;
#else
  return true;
#endif
}

// On trial: confirmed after confirm_ms of serving while healthy; past window_ms without
// that, the device restarts, and the boot loader counts a failed try
static void ota_trial_tick(void *arg) {
  struct ota *o = (struct ota *) arg;
  uint64_t served = mg_millis() - o->started_ms;
  if (!o->boot->trial || o->restart_at != 0) return;
  if (served >= o->confirm_ms && ota_healthy()) {
    boot_confirm(o->boot);
  } else if (served >= o->window_ms) {
    MG_ERROR(("not confirmed within %lu s of trial: restarting, the next boots decide", (unsigned long) (o->window_ms / 1000)));
    o->restart_at = mg_millis();
  }
}

void ota_init(struct ota *o, struct boot *b, struct mg_dash *dash, const char *version, unsigned confirm_s,
              unsigned window_s) {
  memset(o, 0, sizeof(*o));
  o->boot = b;
  o->dash = dash;
  o->version = version;
  o->started_ms = mg_millis();
  o->confirm_ms = (uint64_t) confirm_s * 1000;
  o->window_ms = (uint64_t) window_s * 1000;
  mg_dash_add(dash, &s_set);
  mg_dash_route(dash, "GET", "/api/ota", 0, ota_status, o);
  mg_dash_route(dash, "POST", "/api/ota/rollback", MG_DASH_ADMIN, ota_rollback, o);
  ota_survey(o);
  if (b->record.rec.rolled_back) {
    mg_snprintf(o->error, sizeof(o->error), "version %s did not confirm itself in its trial: version %s runs again",
                o->other_valid ? o->other_version : "?", version);
  }
  ota_publish(o, s_state);
  o->timer = mg_timer_add(dash->mgr, 250, MG_TIMER_REPEAT, ota_trial_tick, o);
}

// Before a restart: WebSockets are told why (1012, service restart), so dashboards
// reconnect; every connection gets a moment to send what it has queued
void ota_say_goodbye(struct mg_mgr *mgr) {
  static const uint8_t restart[2] = {1012 >> 8, 1012 & 0xff};
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (c->is_websocket) mg_ws_send(c, restart, sizeof(restart), WEBSOCKET_OP_CLOSE);
    if (!c->is_listening) c->is_draining = 1;
  }
  uint64_t until = mg_millis() + 500;
  for (bool busy = true; busy && mg_millis() < until;) {
    mg_mgr_poll(mgr, 10);
    busy = false;
    for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
      if (!c->is_listening && c != mgr->wakeup_pipe) busy = true;
    }
  }
}

void ota_free(struct ota *o) {
  if (o->timer != NULL) {
    mg_timer_free(&o->dash->mgr->timers, o->timer);
    mg_free(o->timer);
    o->timer = NULL;
  }
}
