// Persisted field sets: <data dir>/<set>.json, loaded when the set is added (each
// value checked as a write would be) and replaced atomically after each write.
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "dash/dash_internal.h"

#if MG_ENABLE_POSIX_FS

static bool store_path(const struct mg_dash_set *set, char *buf, size_t len) {
  return mg_snprintf(buf, len, "%s/%s.json", set->dash->data_dir, set->name) < len;
}

bool mg_dash_save(struct mg_dash_set *set) {
  char path[MG_PATH_MAX];
  if (set->dash == NULL || set->dash->data_dir == NULL) return true;  // Nowhere to keep it: in memory only
  if (!store_path(set, path, sizeof(path))) {
    MG_ERROR(("the path of %s's file is too long", set->name));
    return false;
  }
  struct mg_iobuf json = {NULL, 0, 0, 128};
  bool ok = mg_dash_values_raw(set, MG_DASH_ADMIN, &json) && mg_iobuf_printf(&json, "\n");
  if (!ok) MG_ERROR(("out of memory saving %s", path));
  ok = ok && mg_file_write_atomic(path, json.buf, json.len, 0644);
  mg_iobuf_free(&json);
  return ok;
}

// Each member into the stage on its own: a bad or unknown one is logged and the
// default stays. Returns whether the file needs rewriting.
static bool store_take(struct mg_dash_set *set, const char *path, struct mg_str obj, union mg_dash_value *next) {
  struct mg_str key, val;
  size_t ofs = 0;
  bool fixed = false;
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    struct mg_dash_field *f = mg_dash_field_find(set, key);
    char reason[MG_DASH_REASON_LEN] = "unknown field";
    if (f != NULL) {
      size_t i = (size_t) (f - set->fields);
      union mg_dash_value v = next[i];
      if (mg_dash_parse(f, val, &v, reason, sizeof(reason))) {
        next[i] = v;
        continue;
      }
      if (f->type == MG_DASH_STRING_T) mg_snprintf((char *) next[i].s, f->size, "%s", (const char *) f->ptr);
    }
    MG_ERROR(("%s: %.*s %s: using the default", path, (int) key.len, key.buf, reason));
    fixed = true;
  }
  return fixed;
}

void mg_dash_load(struct mg_dash_set *set) {
  char path[MG_PATH_MAX];
  if (set->dash == NULL || set->dash->data_dir == NULL) return;
  if (!store_path(set, path, sizeof(path))) {
    MG_ERROR(("the path of %s's file is too long: using defaults", set->name));
    return;
  }
  size_t size = 0;
  if (mg_fs_posix.st(path, &size, NULL) == 0) return;  // First start: the defaults stand
  struct mg_str data = mg_file_read(&mg_fs_posix, path);
  int n = 0, ofs = data.buf == NULL ? MG_JSON_INVALID : mg_json_get(data, "$", &n);
  const char *why = ofs < 0 ? "not JSON" : data.buf[ofs] != '{' ? "not an object" : NULL;
  bool rewrite = true;
  if (data.buf == NULL) {
    // Out of memory or an I/O error: the file may well be good, and rewriting it with
    // the defaults would lose it. The next write saves anyway.
    MG_ERROR(("cannot read %s: using defaults, the file is kept", path));
    rewrite = false;
  } else if (why == NULL) {
    union mg_dash_value *next = mg_dash_stage(set);
    if (next == NULL) {
      MG_ERROR(("out of memory loading %s: using defaults", path));
      rewrite = false;  // The file may well be good: keep it
    } else {
      rewrite = store_take(set, path, mg_str_n(data.buf + ofs, (size_t) n), next);
      mg_dash_land(set, next);
      mg_free(next);
    }
  } else {
    MG_ERROR(("%s file %s is corrupt (%s): using defaults", set->name, path, why));
  }
  mg_free(data.buf);
  if (rewrite) mg_dash_save(set);
}

#else
// No files in this build (MG_ENABLE_POSIX_FS=0): persisted sets live in memory
void mg_dash_load(struct mg_dash_set *set) {
  (void) set;
}

bool mg_dash_save(struct mg_dash_set *set) {
  (void) set;
  return true;
}
#endif
