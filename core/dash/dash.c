// Field sets bound to C variables: declaration checks, validation of writes as a
// whole, and the JSON of schemas and values (core/dash/API.md, "Field sets").
#include <math.h>
#include "dash/dash_internal.h"

static int dash_read_level(const struct mg_dash_field *f) {
  return f->read > 0 ? f->read : MG_DASH_VIEWER;
}

static int dash_write_level(const struct mg_dash_field *f) {
  return f->write > 0 ? f->write : MG_DASH_ADMIN;
}

static bool dash_is_readonly(const struct mg_dash_set *set, const struct mg_dash_field *f) {
  return set->readonly || f->readonly;
}

static const char *const dash_level_names[] = {NULL, "viewer", "operator", "admin"};  // By MG_DASH_* level

const char *mg_dash_level_name(int level) {
  return level > MG_DASH_NOBODY && level <= MG_DASH_ADMIN ? dash_level_names[level] : NULL;
}

int mg_dash_level_parse(struct mg_str name) {
  for (int level = MG_DASH_VIEWER; level <= MG_DASH_ADMIN; level++) {
    if (mg_str_eq(name, dash_level_names[level])) return level;
  }
  return MG_DASH_NOBODY;
}

const char *mg_dash_forbidden(int need) {
  if (need >= MG_DASH_ADMIN) return "forbidden: this needs an admin";
  return need == MG_DASH_OPERATOR ? "forbidden: this needs an operator" : "forbidden";
}

static const char *dash_type_name(int type) {
  static const char *names[] = {"bool", "int", "double", "string", "enum", "int"};  // int64: "int", "bits":64
  return type >= 0 && type < (int) MG_ARRAY_SIZE(names) ? names[type] : "?";
}

bool mg_dash_readable(const struct mg_dash_set *set, int level) {
  for (size_t i = 0; i < set->nfields; i++) {
    if (level >= dash_read_level(&set->fields[i])) return true;
  }
  return false;
}

// Names go into URLs, file names and JSON unescaped: keep them plain
static bool dash_name_ok(const char *name) {
  size_t n = name == NULL ? 0 : strlen(name);
  if (n == 0 || n > 32) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    if (!(islower((unsigned char) ch) || isdigit((unsigned char) ch) || ch == '_' || ch == '-')) return false;
  }
  return true;
}

// A persisted set's file is <data dir>/NAME.json, beside the files the core keeps there
static bool dash_file_is_the_cores(const char *name) {
  static const char *const core_files[] = {MG_AUTH_USERS_FILE};
  char file[48];
  mg_snprintf(file, sizeof(file), "%s.json", name);
  for (size_t i = 0; i < MG_ARRAY_SIZE(core_files); i++) {
    if (strcmp(file, core_files[i]) == 0) return true;
  }
  return false;
}

// A field's read or write level: 0 (the default) or one a user can have
static bool dash_level_ok(int level) {
  return level == 0 || mg_dash_level_name(level) != NULL;
}

static bool dash_field_ok(const struct mg_dash_field *f, const char **why) {
  *why = NULL;
  if (f->name == NULL || f->name[0] == '\0') *why = "a field without a name";
  else if (f->ptr == NULL) *why = "no variable";
  else if (f->type < MG_DASH_BOOL_T || f->type > MG_DASH_INT64_T) *why = "unknown type";
  else if (f->type == MG_DASH_STRING_T && (f->size == 0 || f->min_len >= f->size)) *why = "bad string size";
  else if (f->type == MG_DASH_ENUM_T && (f->values == NULL || f->values[0] == NULL)) *why = "an enum without values";
  else if (f->has_limits && f->type == MG_DASH_INT64_T && f->min64 > f->max64) *why = "min above max";
  else if (f->has_limits && f->type != MG_DASH_INT64_T && !(f->min <= f->max)) *why = "min above max";
  else if (!dash_level_ok(f->read) || !dash_level_ok(f->write)) *why = "a read or write level that is no MG_DASH_* level";
  else if (f->history && f->type != MG_DASH_INT_T && f->type != MG_DASH_INT64_T && f->type != MG_DASH_DOUBLE_T)
    *why = "history is kept for numbers only (int, int64, double)";
  return *why == NULL;
}

bool mg_dash_add(struct mg_dash *dash, struct mg_dash_set *set) {
  const char *why = NULL;
  if (!dash_name_ok(set->name)) why = "a set name must be 1 to 32 of [a-z0-9_-]";
  else if (set->persist && dash_file_is_the_cores(set->name))
    why = "the name is reserved: a persisted set's file NAME.json must not be one the core keeps in the data "
          "directory (" MG_AUTH_USERS_FILE ", the users)";
  else if (set->nfields == 0 || set->fields == NULL) why = "no fields";
  else if (mg_dash_find(dash, mg_str(set->name)) != NULL) why = "a set of that name exists";
  else if (dash->nsets >= MG_DASH_MAX_SETS) why = "too many sets (MG_DASH_MAX_SETS)";
  for (size_t i = 0; why == NULL && i < set->nfields; i++) {
    if (!dash_field_ok(&set->fields[i], &why)) break;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(set->fields[i].name, set->fields[j].name) == 0) why = "two fields of one name";
    }
  }
  if (why != NULL) {
    MG_ERROR(("field set %s not added: %s", set->name == NULL ? "(null)" : set->name, why));
    return false;
  }
  set->dash = dash;
  set->index = dash->nsets++;
  set->next = NULL;
  set->pending = false;
  set->save_at = 0;
  set->last_push = 0;
  set->unknown = NULL;
  set->corrupt = NULL;
  set->corrupt_kept = false;
  struct mg_dash_set **tail = &dash->sets;
  while (*tail != NULL) tail = &(*tail)->next;
  *tail = set;
  if (set->persist) mg_dash_load(set);
  mg_dash_history_add(set);
  return true;
}

struct mg_dash_set *mg_dash_find(struct mg_dash *dash, struct mg_str name) {
  for (struct mg_dash_set *s = dash->sets; s != NULL; s = s->next) {
    if (mg_str_eq(name, s->name)) return s;
  }
  return NULL;
}

struct mg_dash_field *mg_dash_field_find(struct mg_dash_set *set, struct mg_str key) {
  if (key.len >= 2 && key.buf[0] == '"') key = mg_str_n(key.buf + 1, key.len - 2);
  for (size_t i = 0; i < set->nfields; i++) {
    if (mg_str_eq(key, set->fields[i].name)) return &set->fields[i];
  }
  return NULL;
}

// ---------------------------------------------------------------------------
// JSON out

// A double as JSON: 15 significant digits (0.1 stays 0.1), null when not finite
static bool dash_print_double(struct mg_iobuf *out, double d) {
  return isfinite(d) ? mg_iobuf_printf(out, "%.15g", d) : mg_iobuf_printf(out, "null");
}

// JavaScript's numbers hold integers exactly up to 2^53 - 1 (Number.MAX_SAFE_INTEGER)
#define DASH_JS_SAFE ((((int64_t) 1) << 53) - 1)

// A 64-bit integer as JSON: a number where every client reads it exactly, else a string
static bool dash_print_int64(struct mg_iobuf *out, int64_t v) {
  if (v >= -DASH_JS_SAFE && v <= DASH_JS_SAFE) return mg_iobuf_printf(out, "%lld", (long long) v);
  return mg_iobuf_printf(out, "\"%lld\"", (long long) v);
}

static bool dash_print_value(struct mg_iobuf *out, const struct mg_dash_field *f) {
  switch (f->type) {
    case MG_DASH_BOOL_T: return mg_iobuf_printf(out, "%s", *(bool *) f->ptr ? "true" : "false");
    case MG_DASH_INT_T: return mg_iobuf_printf(out, "%d", *(int *) f->ptr);
    case MG_DASH_INT64_T: return dash_print_int64(out, *(int64_t *) f->ptr);
    case MG_DASH_DOUBLE_T: return dash_print_double(out, *(double *) f->ptr);
    case MG_DASH_STRING_T: {
      const char *s = (const char *) f->ptr;  // Bounded: the C code may have left it unterminated
      size_t n = 0;
      while (n < f->size && s[n] != '\0') n++;
      if (n == f->size) n--;
      return mg_iobuf_printf(out, "%m", mg_print_esc, (int) n, s);
    }
    default: {
      int i = *(int *) f->ptr, n = 0;
      while (f->values[n] != NULL) n++;
      return i >= 0 && i < n ? mg_iobuf_printf(out, "%m", MG_ESC(f->values[i])) : mg_iobuf_printf(out, "null");
    }
  }
}

bool mg_dash_values_raw(struct mg_dash_set *set, int level, struct mg_iobuf *out) {
  bool ok = mg_iobuf_printf(out, "{");
  const char *sep = "";
  for (size_t i = 0; ok && i < set->nfields; i++) {
    const struct mg_dash_field *f = &set->fields[i];
    if (level < dash_read_level(f)) continue;
    ok = mg_iobuf_printf(out, "%s%m:", sep, MG_ESC(f->name)) && dash_print_value(out, f);
    sep = ",";
  }
  return ok && mg_iobuf_printf(out, "}");
}

bool mg_dash_values_json(struct mg_dash_set *set, int level, struct mg_iobuf *out) {
  if (set->on_read != NULL) set->on_read(set);
  return mg_dash_values_raw(set, level, out);
}

static bool dash_field_schema(const struct mg_dash_set *set, const struct mg_dash_field *f, struct mg_iobuf *out) {
  bool ok = mg_iobuf_printf(out, "{\"name\":%m,\"type\":%m,\"title\":%m", MG_ESC(f->name),
                            MG_ESC(dash_type_name(f->type)), MG_ESC(f->title != NULL ? f->title : f->name));
  if (ok && f->has_limits && f->type == MG_DASH_INT_T) {
    ok = mg_iobuf_printf(out, ",\"min\":%.0f,\"max\":%.0f", f->min, f->max);
  } else if (ok && f->type == MG_DASH_INT64_T) {
    ok = mg_iobuf_printf(out, ",\"bits\":64");
    if (ok && f->has_limits) {
      ok = mg_iobuf_printf(out, ",\"min\":") && dash_print_int64(out, f->min64) && mg_iobuf_printf(out, ",\"max\":") &&
           dash_print_int64(out, f->max64);
    }
  } else if (ok && f->has_limits && f->type == MG_DASH_DOUBLE_T) {
    ok = mg_iobuf_printf(out, ",\"min\":") && dash_print_double(out, f->min) && mg_iobuf_printf(out, ",\"max\":") &&
         dash_print_double(out, f->max);
  } else if (ok && f->type == MG_DASH_STRING_T) {
    ok = mg_iobuf_printf(out, ",\"max_len\":%u", (unsigned) (f->size - 1));
    if (ok && f->min_len > 0) ok = mg_iobuf_printf(out, ",\"min_len\":%u", (unsigned) f->min_len);
  } else if (ok && f->type == MG_DASH_ENUM_T) {
    ok = mg_iobuf_printf(out, ",\"values\":[");
    for (size_t i = 0; ok && f->values[i] != NULL; i++) {
      ok = mg_iobuf_printf(out, "%s%m", i == 0 ? "" : ",", MG_ESC(f->values[i]));
    }
    ok = ok && mg_iobuf_printf(out, "]");
  }
  if (ok && f->unit != NULL) ok = mg_iobuf_printf(out, ",\"unit\":%m", MG_ESC(f->unit));
  if (ok && f->history && set->history != NULL) ok = mg_iobuf_printf(out, ",\"history\":true");
  return ok && mg_iobuf_printf(out, ",\"writable\":%s,\"read\":%m,\"write\":%m}",
                               dash_is_readonly(set, f) ? "false" : "true", MG_ESC(mg_dash_level_name(dash_read_level(f))),
                               MG_ESC(mg_dash_level_name(dash_write_level(f))));
}

// The set's file did not parse at start: why, and the name it is kept under (API.md)
static bool dash_corrupt_schema(const struct mg_dash_set *set, struct mg_iobuf *out) {
  if (set->corrupt == NULL) return true;
  bool ok = mg_iobuf_printf(out, "\"corrupt\":{\"reason\":%m,\"kept\":", MG_ESC(set->corrupt));
  if (set->corrupt_kept) return ok && mg_iobuf_printf(out, "\"%s.json.bad\"},", set->name);  // A plain name (mg_dash_add)
  return ok && mg_iobuf_printf(out, "null},");
}

bool mg_dash_schema_json(struct mg_dash *dash, int level, struct mg_iobuf *out) {
  bool ok = mg_iobuf_printf(out, "{\"sets\":[");
  const char *sep = "";
  for (struct mg_dash_set *s = dash->sets; ok && s != NULL; s = s->next) {
    if (!mg_dash_readable(s, level)) continue;  // Sets the user may not read are left out
    ok = mg_iobuf_printf(out, "%s{\"name\":%m,\"title\":%m,\"persist\":%s,", sep, MG_ESC(s->name),
                         MG_ESC(s->title != NULL ? s->title : s->name), s->persist ? "true" : "false") &&
         dash_corrupt_schema(s, out) && mg_iobuf_printf(out, "\"fields\":[");
    const char *fsep = "";
    for (size_t i = 0; ok && i < s->nfields; i++) {
      if (level < dash_read_level(&s->fields[i])) continue;
      ok = mg_iobuf_printf(out, "%s", fsep) && dash_field_schema(s, &s->fields[i], out);
      fsep = ",";
    }
    ok = ok && mg_iobuf_printf(out, "]}");
    sep = ",";
  }
  return ok && mg_iobuf_printf(out, "]}");
}

// ---------------------------------------------------------------------------
// Validation and staging

union mg_dash_value *mg_dash_stage(struct mg_dash_set *set) {
  size_t strings = 0;
  for (size_t i = 0; i < set->nfields; i++) {
    if (set->fields[i].type == MG_DASH_STRING_T) strings += set->fields[i].size;
  }
  union mg_dash_value *v = (union mg_dash_value *) mg_calloc(1, set->nfields * sizeof(*v) + strings);
  if (v == NULL) return NULL;
  char *room = (char *) (v + set->nfields);
  for (size_t i = 0; i < set->nfields; i++) {
    const struct mg_dash_field *f = &set->fields[i];
    switch (f->type) {
      case MG_DASH_BOOL_T: v[i].b = *(bool *) f->ptr; break;
      case MG_DASH_DOUBLE_T: v[i].d = *(double *) f->ptr; break;
      case MG_DASH_INT64_T: v[i].i64 = *(int64_t *) f->ptr; break;
      case MG_DASH_STRING_T:
        memcpy(room, f->ptr, f->size - 1);  // The calloc'd byte after it terminates
        v[i].s = room;
        room += f->size;
        break;
      default: v[i].i = *(int *) f->ptr; break;
    }
  }
  return v;
}

void mg_dash_land(struct mg_dash_set *set, const union mg_dash_value *next) {
  for (size_t i = 0; i < set->nfields; i++) {
    const struct mg_dash_field *f = &set->fields[i];
    switch (f->type) {
      case MG_DASH_BOOL_T: *(bool *) f->ptr = next[i].b; break;
      case MG_DASH_DOUBLE_T: *(double *) f->ptr = next[i].d; break;
      case MG_DASH_INT64_T: *(int64_t *) f->ptr = next[i].i64; break;
      case MG_DASH_STRING_T: mg_snprintf((char *) f->ptr, f->size, "%s", next[i].s); break;
      default: *(int *) f->ptr = next[i].i; break;
    }
  }
}

static void dash_range_reason(const struct mg_dash_field *f, char *reason, size_t len) {
  if (f->type == MG_DASH_INT_T) mg_snprintf(reason, len, "must be between %.0f and %.0f", f->min, f->max);
  else mg_snprintf(reason, len, "must be between %g and %g", f->min, f->max);
}

// A JSON string token's body unescaped into buf; false when it does not fit
static bool dash_unescape(struct mg_str tok, char *buf, size_t len) {
  return tok.len >= 2 && mg_json_unescape_body(mg_str_n(tok.buf + 1, tok.len - 2), buf, len);
}

// Lengths count bytes of UTF-8 (core/dash/API.md): what the C variable holds
static bool dash_parse_string(const struct mg_dash_field *f, struct mg_str val, union mg_dash_value *out,
                              char *reason, size_t len) {
  char *dst = (char *) out->s;  // The stage's own buffer of f->size bytes
  unsigned max = (unsigned) (f->size - 1);
  bool nul = false;
  long n = val.len >= 2 && val.buf[0] == '"' ? mg_json_unescaped_len(mg_str_n(val.buf + 1, val.len - 2), &nul) : -1;
  if (val.len == 0 || val.buf[0] != '"') {
    mg_snprintf(reason, len, "must be a string");
  } else if (nul) {
    mg_snprintf(reason, len, "must not contain NUL (\\u0000)");
  } else if (n >= 0 && (size_t) n > max) {
    mg_snprintf(reason, len, "must be at most %u bytes of UTF-8 (this is %ld)", max, n);
  } else if (n >= 0 && (size_t) n < f->min_len) {
    mg_snprintf(reason, len, "must be %u to %u bytes of UTF-8", (unsigned) f->min_len, max);
  } else if (n >= 0 && dash_unescape(val, dst, f->size)) {
    return true;
  } else {
    mg_snprintf(reason, len, "is not a valid JSON string");  // Documents are checked whole first: a safety net
  }
  return false;
}

// "-123": the string form of a value beyond 2^53, as dash_print_int64 writes it
static bool dash_is_integer_text(struct mg_str s) {
  size_t i = s.len > 0 && s.buf[0] == '-' ? 1 : 0;
  if (i == s.len) return false;
  for (; i < s.len; i++) {
    if (!isdigit((unsigned char) s.buf[i])) return false;
  }
  return true;
}

// A number, or a string of one; read exactly, never through a double
static bool dash_parse_int64(const struct mg_dash_field *f, struct mg_str val, union mg_dash_value *out, char *reason,
                             size_t len) {
  int64_t v = 0, lo = f->has_limits ? f->min64 : INT64_MIN, hi = f->has_limits ? f->max64 : INT64_MAX;
  bool quoted = val.len >= 2 && val.buf[0] == '"';
  struct mg_str num = quoted ? mg_str_n(val.buf + 1, val.len - 2) : val;
  if ((quoted && !dash_is_integer_text(num)) || !mg_json_get_int64(num, "$", &v)) {
    mg_snprintf(reason, len, "must be an integer from %lld to %lld", (long long) lo, (long long) hi);
  } else if (v < lo || v > hi) {
    mg_snprintf(reason, len, "must be between %lld and %lld", (long long) lo, (long long) hi);
  } else {
    out->i64 = v;
    return true;
  }
  return false;
}

static bool dash_parse_enum(const struct mg_dash_field *f, struct mg_str val, union mg_dash_value *out, char *reason,
                            size_t len) {
  char name[64];
  if (val.len > 0 && val.buf[0] == '"' && dash_unescape(val, name, sizeof(name))) {
    for (int i = 0; f->values[i] != NULL; i++) {
      if (strcmp(name, f->values[i]) == 0) {
        out->i = i;
        return true;
      }
    }
  }
  size_t n = mg_snprintf(reason, len, "must be one of");
  for (int i = 0; f->values[i] != NULL && n < len; i++) {
    n += mg_snprintf(reason + n, len - n, "%s %s", i == 0 ? "" : ",", f->values[i]);
  }
  return false;
}

bool mg_dash_parse(const struct mg_dash_field *f, struct mg_str val, union mg_dash_value *out, char *reason,
                   size_t len) {
  double d = 0;
  bool is_num = val.len > 0 && (val.buf[0] == '-' || isdigit((unsigned char) val.buf[0])) &&
                mg_json_get_num(val, "$", &d);
  switch (f->type) {
    case MG_DASH_BOOL_T:
      if (mg_json_get_bool(val, "$", &out->b)) return true;
      mg_snprintf(reason, len, "must be true or false");
      return false;
    case MG_DASH_INT_T:
      if (!is_num || !(d >= (double) INT_MIN && d <= (double) INT_MAX) || (double) (int) d != d) {
        mg_snprintf(reason, len, "must be an integer");
      } else if (f->has_limits && (d < f->min || d > f->max)) {
        dash_range_reason(f, reason, len);
      } else {
        out->i = (int) d;
        return true;
      }
      return false;
    case MG_DASH_DOUBLE_T:
      if (!is_num || !isfinite(d)) {
        mg_snprintf(reason, len, "must be a number");
      } else if (f->has_limits && (d < f->min || d > f->max)) {
        dash_range_reason(f, reason, len);
      } else {
        out->d = d;
        return true;
      }
      return false;
    case MG_DASH_STRING_T: return dash_parse_string(f, val, out, reason, len);
    case MG_DASH_INT64_T: return dash_parse_int64(f, val, out, reason, len);
    default: return dash_parse_enum(f, val, out, reason, len);
  }
}

// The lowest level that may write some field of set; 0 when none is writable
static int dash_set_write_level(const struct mg_dash_set *set) {
  int lowest = 0;
  for (size_t i = 0; i < set->nfields; i++) {
    const struct mg_dash_field *f = &set->fields[i];
    if (dash_is_readonly(set, f)) continue;
    if (lowest == 0 || dash_write_level(f) < lowest) lowest = dash_write_level(f);
  }
  return lowest;
}

// err left empty means the message itself ran out of memory: then the status is 500
// (the callers answer "out of memory"), never a 4xx without its reason
static int dash_error(struct mg_iobuf *err, int status, const char *message) {
  err->len = 0;
  return mg_iobuf_printf(err, "\"error\":%m", MG_ESC(message)) ? status : 500;
}

// Every member of body checked into next; field errors appended to fields
static int dash_validate(struct mg_dash_set *set, struct mg_str body, int level, union mg_dash_value *next,
                         struct mg_iobuf *fields) {
  struct mg_str key, val;
  size_t ofs = 0;
  bool ok = true;
  while ((ofs = mg_json_next(body, ofs, &key, &val)) > 0) {
    struct mg_dash_field *f = mg_dash_field_find(set, key);
    char reason[MG_DASH_REASON_LEN];
    reason[0] = '\0';
    if (f == NULL) {
      mg_snprintf(reason, sizeof(reason), "unknown field");
    } else if (dash_is_readonly(set, f)) {
      mg_snprintf(reason, sizeof(reason), "read-only");
    } else if (level < dash_write_level(f)) {
      return 403;
    } else {
      mg_dash_parse(f, val, &next[f - set->fields], reason, sizeof(reason));
    }
    if (reason[0] == '\0') continue;
    if (key.len >= 2 && key.buf[0] == '"') key = mg_str_n(key.buf + 1, key.len - 2);
    // The key is printed as it came (it is the body of a valid JSON string)
    if (!mg_iobuf_printf(fields, "%s\"%.*s\":%m", ok ? "" : ",", (int) key.len, key.buf, MG_ESC(reason))) return 500;
    ok = false;
  }
  return ok ? 200 : 400;
}

int mg_dash_write(struct mg_dash_set *set, struct mg_str body, int level, struct mg_iobuf *err) {
  int n = 0, ofs = mg_json_get(body, "$", &n);
  if (ofs < 0) {
    char why[160], msg[sizeof(why) + 16];  // The longest message of mg_json_check fits
    mg_json_check(body, why, sizeof(why));
    mg_snprintf(msg, sizeof(msg), "bad JSON: %s", why);
    return dash_error(err, 400, msg);
  }
  body = mg_str_n(body.buf + ofs, (size_t) n);
  if (body.buf[0] != '{') return dash_error(err, 400, "the values must be a JSON object");
  int lowest = dash_set_write_level(set);
  if (level < MG_DASH_VIEWER || (lowest > 0 && level < lowest)) return dash_error(err, 403, "forbidden");
  union mg_dash_value *next = mg_dash_stage(set);
  if (next == NULL) return dash_error(err, 500, "out of memory");
  struct mg_iobuf fields = {NULL, 0, 0, 64};
  int status = dash_validate(set, body, level, next, &fields);
  const char *refusal = NULL;
  if (status == 200 && set->on_write != NULL) refusal = set->on_write(set, next);
  if (status == 403) {
    dash_error(err, 403, "forbidden");
  } else if (status == 500) {
    dash_error(err, 500, "out of memory");
  } else if (status == 400) {
    err->len = 0;
    if (!mg_iobuf_printf(err, "\"error\":\"invalid fields\",\"fields\":{%.*s}", (int) fields.len,
                         fields.buf == NULL ? "" : (char *) fields.buf)) {
      status = dash_error(err, 500, "out of memory");
    }
  } else if (refusal != NULL) {
    status = dash_error(err, 409, refusal);
  } else {
    mg_dash_land(set, next);
    // The push goes at the next loop pass (at once only without the dash's timer), so a
    // persisted set's clients see the change after this save's fsync: the reply must
    // say whether it was saved, and a WebSocket writer gets its reply before the push
    if (set->dash != NULL) mg_dash_changed(set->dash, set);
    if (set->persist && !mg_dash_save(set)) status = dash_error(err, 500, "the values changed but were not saved");
  }
  mg_iobuf_free(&fields);
  mg_free(next);
  return status;
}
