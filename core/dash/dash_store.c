// Persisted field sets: <data dir>/<set>.json on the dash's mg_fs, loaded when the set is
// added (each value checked as a write would be, members this build does not know kept
// for the next save, a file that does not parse set aside) and replaced atomically after
// each write, and after changes from C at most once per MG_DASH_SAVE_INTERVAL_MS.
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "dash/dash_internal.h"

#if MG_DASH_SAVE_INTERVAL_MS < 1
#error "MG_DASH_SAVE_INTERVAL_MS must be at least 1 (0 marks a set with nothing to save)"
#endif

#include <errno.h>

#if MG_ENABLE_POSIX_FS
struct mg_fs *mg_dash_fs = &mg_fs_posix;
#else
struct mg_fs *mg_dash_fs = NULL;  // No files unless the program gives a filesystem (a board's flash)
#endif

// Where the set's file goes; false when it is kept in memory only
static bool store_kept(const struct mg_dash_set *set) {
  return set->dash != NULL && set->dash->data_dir != NULL && set->dash->fs != NULL;
}

static bool store_path(const struct mg_dash_set *set, char *buf, size_t len) {
  return mg_snprintf(buf, len, "%s/%s.json", set->dash->data_dir, set->name) < len;
}

// The members this build does not know go back in before the closing brace, so that
// a file written by a newer version survives a downgrade and the way back
static bool store_print_unknown(const struct mg_dash_set *set, struct mg_iobuf *json) {
  if (set->unknown == NULL) return true;
  json->len--;  // The '}' of mg_dash_values_raw
  return mg_iobuf_printf(json, "%s%s}", json->len > 1 ? "," : "", set->unknown);
}

static bool store_write(struct mg_dash_set *set) {
  char path[MG_PATH_MAX];
  if (!store_kept(set)) return true;  // Nowhere to keep it: in memory only
  if (!store_path(set, path, sizeof(path))) {
    MG_ERROR(("the path of %s's file is too long", set->name));
    return false;
  }
  struct mg_iobuf json = {NULL, 0, 0, 128};
  bool ok = mg_dash_values_raw(set, MG_DASH_ADMIN, &json) && store_print_unknown(set, &json) &&
            mg_iobuf_printf(&json, "\n");
  if (!ok) MG_ERROR(("out of memory saving %s", path));
  ok = ok && mg_fs_write_atomic(set->dash->fs, path, json.buf, json.len, 0644);
  mg_iobuf_free(&json);
  return ok;
}

// A member this build does not know, as written, into kept while MG_DASH_UNKNOWN_MAX allows
static void store_keep_unknown(struct mg_iobuf *kept, const char *path, struct mg_str key, struct mg_str val) {
  size_t need = (kept->len > 0 ? 1 : 0) + key.len + 1 + val.len;
  if (kept->len + need > MG_DASH_UNKNOWN_MAX) {
    MG_ERROR(("%s: field %.*s is unknown to this build and past MG_DASH_UNKNOWN_MAX (%d bytes of such fields): "
              "dropped at the next save",
              path, (int) key.len, key.buf, MG_DASH_UNKNOWN_MAX));
  } else if (!mg_iobuf_printf(kept, "%s%.*s:%.*s", kept->len > 0 ? "," : "", (int) key.len, key.buf, (int) val.len,
                              val.buf)) {
    MG_ERROR(("%s: out of memory keeping field %.*s: dropped at the next save", path, (int) key.len, key.buf));
  } else {
    MG_INFO(("%s: field %.*s is unknown to this build: kept for the next save", path, (int) key.len, key.buf));
  }
}

// Each member into the stage on its own: a bad one is logged and the default stays,
// an unknown one is kept. Returns whether the file needs rewriting.
static bool store_take(struct mg_dash_set *set, const char *path, struct mg_str obj, union mg_dash_value *next,
                       struct mg_iobuf *kept) {
  struct mg_str key, val;
  size_t ofs = 0;
  bool fixed = false;
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    struct mg_dash_field *f = mg_dash_field_find(set, key);
    char reason[MG_DASH_REASON_LEN];
    if (f == NULL) {
      store_keep_unknown(kept, path, key, val);
      continue;
    }
    size_t i = (size_t) (f - set->fields);
    union mg_dash_value v = next[i];
    if (mg_dash_parse(f, val, &v, reason, sizeof(reason))) {
      next[i] = v;
      continue;
    }
    if (f->type == MG_DASH_STRING_T) mg_snprintf((char *) next[i].s, f->size, "%s", (const char *) f->ptr);
    MG_ERROR(("%s: %.*s %s: using the default", path, (int) key.len, key.buf, reason));
    fixed = true;
  }
  return fixed;
}

// The unknown members kept, as a C string owned by the set
static void store_land_unknown(struct mg_dash_set *set, const char *path, struct mg_iobuf *kept) {
  if (kept->len == 0) return;
  if (mg_iobuf_add(kept, kept->len, "", 1) == 0) {
    MG_ERROR(("%s: out of memory keeping the fields unknown to this build: dropped at the next save", path));
    mg_iobuf_free(kept);
    return;
  }
  set->unknown = (char *) kept->buf;
  kept->buf = NULL;
}

// The file's values into the variables; whether it needs rewriting
static bool store_apply(struct mg_dash_set *set, const char *path, struct mg_str obj) {
  union mg_dash_value *next = mg_dash_stage(set);
  struct mg_iobuf kept = {NULL, 0, 0, 64};
  if (next == NULL) {
    MG_ERROR(("out of memory loading %s: using defaults", path));
    return false;  // The file may well be good: keep it
  }
  bool rewrite = store_take(set, path, obj, next, &kept);
  mg_dash_land(set, next);
  mg_free(next);
  store_land_unknown(set, path, &kept);
  return rewrite;
}

// A file that does not parse is renamed NAME.json.bad (replacing an older one), never
// overwritten: it may hold settings worth saving by hand. The dashboard shows the flag.
// Whether the defaults may now be written in its place.
static bool store_set_aside(struct mg_dash_set *set, const char *path, const char *why, const char *detail) {
  char bad[MG_PATH_MAX];
  struct mg_fs *fs = set->dash->fs;
  set->corrupt = why;
  errno = 0;
  set->corrupt_kept = mg_snprintf(bad, sizeof(bad), "%s.bad", path) < sizeof(bad) && fs->mv != NULL && fs->mv(path, bad);
  if (set->corrupt_kept) {
    MG_ERROR(("%s file %s is corrupt (%s): using defaults; the file is kept as %s", set->name, path, detail, bad));
  } else {
    MG_ERROR(("%s file %s is corrupt (%s): using defaults; it cannot be renamed %s.bad (%s) and stays until the "
              "next save",
              set->name, path, detail, path, errno != 0 ? strerror(errno) : "the filesystem refused"));
  }
  return set->corrupt_kept;
}

void mg_dash_load(struct mg_dash_set *set) {
  char path[MG_PATH_MAX], detail[160];
  if (!store_kept(set)) return;
  if (!store_path(set, path, sizeof(path))) {
    MG_ERROR(("the path of %s's file is too long: using defaults", set->name));
    return;
  }
  size_t size = 0;
  if (set->dash->fs->st(path, &size, NULL) == 0) return;  // First start: the defaults stand
  struct mg_str data = mg_file_read(set->dash->fs, path);
  int n = 0, ofs = data.buf == NULL ? MG_JSON_INVALID : mg_json_get(data, "$", &n);
  bool rewrite = false;
  if (data.buf == NULL) {
    // Out of memory or an I/O error: the file may well be good, and rewriting it with
    // the defaults would lose it. The next write saves anyway.
    MG_ERROR(("cannot read %s: using defaults, the file is kept", path));
  } else if (ofs < 0) {
    mg_json_check(data, detail, sizeof(detail));
    rewrite = store_set_aside(set, path, "not JSON", detail);
  } else if (data.buf[ofs] != '{') {
    rewrite = store_set_aside(set, path, "not an object", "not an object");
  } else {
    rewrite = store_apply(set, path, mg_str_n(data.buf + ofs, (size_t) n));
  }
  mg_free(data.buf);
  if (rewrite) mg_dash_save(set);
}


// The one way a set reaches its file: after a write (REST, WebSocket), at load, and
// for changes from C. Saved values include every change so far: none is left waiting.
bool mg_dash_save(struct mg_dash_set *set) {
  bool ok = store_write(set);
  if (ok) set->save_at = 0;
  return ok;
}

// Changes from C come as often as the C code likes (a timer every 100 ms); flash wears
// with each write, and the atomic replace writes a whole file and fsyncs it. So the
// first change opens a window of MG_DASH_SAVE_INTERVAL_MS and one save at its end takes
// every change made in it: at most one write per set per interval, the last value
// always saved. A REST or WebSocket write still saves at once: its answer says whether
// the values were saved (API.md).
void mg_dash_store_changed(struct mg_dash_set *set, uint64_t now) {
  if (set->persist && set->save_at == 0) set->save_at = now + MG_DASH_SAVE_INTERVAL_MS;
}

void mg_dash_store_tick(struct mg_dash *dash, uint64_t now) {
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    if (s->save_at == 0 || now < s->save_at) continue;
    // A failed save is logged and tried again an interval later (the disk may be full)
    if (!mg_dash_save(s)) s->save_at = now + MG_DASH_SAVE_INTERVAL_MS;
  }
}

// A clean stop must not lose a change that waits for its interval
void mg_dash_store_free(struct mg_dash *dash) {
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    if (s->save_at != 0) mg_dash_save(s);
    s->save_at = 0;
    mg_free(s->unknown);
    s->unknown = NULL;
  }
}
