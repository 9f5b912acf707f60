// Short histories of chart fields (.history = true): a fixed ring per set, sampled by the
// dashboard's tick, sent to a new WebSocket client with its first message (API.md).
#include <math.h>
#include "dash/dash_internal.h"

#if MG_DASH_HISTORY < 0 || MG_DASH_HISTORY > 65535
#error "MG_DASH_HISTORY must be 0 (no history) to 65535 samples"
#endif
#if MG_DASH_HISTORY_INTERVAL_MS < 1
#error "MG_DASH_HISTORY_INTERVAL_MS must be at least 1"
#endif

// One allocation per set: this header, then the times, then a row of values per sample
struct mg_dash_history {
  uint64_t last;      // mg_millis() the newest sample is due for (the tick keeps this cadence)
  uint16_t next;      // Where the next sample goes
  uint16_t count;     // Samples held, at most MG_DASH_HISTORY
  uint16_t nfields;   // Fields with .history, in field order
  uint32_t *at;       // [MG_DASH_HISTORY]: mg_millis() of each, low 32 bits (ages are short)
  float *values;      // [MG_DASH_HISTORY][nfields]
};

static size_t history_fields(const struct mg_dash_set *set) {
  size_t n = 0;
  for (size_t i = 0; i < set->nfields; i++) n += set->fields[i].history ? 1 : 0;
  return n;
}

void mg_dash_history_add(struct mg_dash_set *set) {
  size_t nf = history_fields(set);
  set->history = NULL;
  if (nf == 0 || MG_DASH_HISTORY == 0) return;
  size_t size = sizeof(struct mg_dash_history) + MG_DASH_HISTORY * (sizeof(uint32_t) + nf * sizeof(float));
  struct mg_dash_history *h = (struct mg_dash_history *) mg_calloc(1, size);
  if (h == NULL) {
    MG_ERROR(("field set %s: no memory for its history (%lu bytes): its charts start empty", set->name,
              (unsigned long) size));
    return;
  }
  h->nfields = (uint16_t) nf;
  h->at = (uint32_t *) (h + 1);
  h->values = (float *) (h->at + MG_DASH_HISTORY);
  set->history = h;
}

static float history_value(const struct mg_dash_field *f) {
  switch (f->type) {
    case MG_DASH_INT64_T: return (float) *(int64_t *) f->ptr;
    case MG_DASH_DOUBLE_T: return (float) *(double *) f->ptr;
    default: return (float) *(int *) f->ptr;
  }
}

static void history_sample(struct mg_dash_set *set, uint64_t now) {
  struct mg_dash_history *h = set->history;
  if (set->on_read != NULL) set->on_read(set);  // The values as a reader would see them now
  float *row = &h->values[(size_t) h->next * h->nfields];
  for (size_t i = 0; i < set->nfields; i++) {
    if (set->fields[i].history) *row++ = history_value(&set->fields[i]);
  }
  h->at[h->next] = (uint32_t) now;
  h->next = (uint16_t) ((h->next + 1) % MG_DASH_HISTORY);
  if (h->count < MG_DASH_HISTORY) h->count++;
}

// One sample per interval on the interval's own cadence (the tick runs late by up to
// half a push interval; a loop held up for longer starts the cadence again from now)
void mg_dash_history_tick(struct mg_dash *dash, uint64_t now) {
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    struct mg_dash_history *h = s->history;
    if (h == NULL || (h->count > 0 && now - h->last < MG_DASH_HISTORY_INTERVAL_MS)) continue;
    history_sample(s, now);
    h->last = h->count > 1 && now - h->last < 2 * MG_DASH_HISTORY_INTERVAL_MS ? h->last + MG_DASH_HISTORY_INTERVAL_MS
                                                                             : now;
  }
}

void mg_dash_history_free(struct mg_dash *dash) {
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    mg_free(s->history);
    s->history = NULL;
  }
}

static bool history_readable(const struct mg_dash_field *f, int level) {
  return f->history && level >= (f->read > 0 ? f->read : MG_DASH_VIEWER);
}

// The newest n samples, oldest first
static bool history_print(const struct mg_dash_set *set, int level, uint64_t now, size_t n, struct mg_iobuf *out) {
  const struct mg_dash_history *h = set->history;
  size_t first = (h->next + MG_DASH_HISTORY - n) % MG_DASH_HISTORY;
  bool ok = mg_iobuf_printf(out, ",\"history\":{\"age_ms\":[");
  for (size_t k = 0; ok && k < n; k++) {
    ok = mg_iobuf_printf(out, "%s%lu", k == 0 ? "" : ",", (unsigned long) (uint32_t) ((uint32_t) now - h->at[(first + k) % MG_DASH_HISTORY]));
  }
  ok = ok && mg_iobuf_printf(out, "],\"values\":{");
  const char *sep = "";
  for (size_t i = 0, col = 0; ok && i < set->nfields; i++) {
    const struct mg_dash_field *f = &set->fields[i];
    if (!f->history) continue;
    if (history_readable(f, level)) {
      ok = mg_iobuf_printf(out, "%s%m:[", sep, MG_ESC(f->name));
      for (size_t k = 0; ok && k < n; k++) {
        float v = h->values[((first + k) % MG_DASH_HISTORY) * h->nfields + col];
        ok = isfinite(v) ? mg_iobuf_printf(out, "%s%.7g", k == 0 ? "" : ",", (double) v)
                         : mg_iobuf_printf(out, "%snull", k == 0 ? "" : ",");
      }
      ok = ok && mg_iobuf_printf(out, "]");
      sep = ",";
    }
    col++;
  }
  return ok && mg_iobuf_printf(out, "}}");
}

bool mg_dash_history_json(const struct mg_dash_set *set, int level, uint64_t now, size_t limit, struct mg_iobuf *out) {
  const struct mg_dash_history *h = set->history;
  size_t start = out->len, n = h == NULL ? 0 : h->count;
  bool readable = false;
  for (size_t i = 0; i < set->nfields; i++) readable = readable || history_readable(&set->fields[i], level);
  while (readable && n > 0) {
    if (!history_print(set, level, now, n, out)) {
      out->len = start;
      return false;
    }
    if (out->len <= limit) return true;
    // Fewer samples in proportion to what fits; each try is shorter, so this ends
    size_t room = limit > start ? limit - start : 0, fit = (size_t) ((double) n * room / (double) (out->len - start));
    out->len = start;
    n = fit < n ? fit : n - 1;
  }
  return true;
}
