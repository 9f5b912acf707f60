// Endpoints a maker adds with mg_dash_route: method, path pattern and level, enforced by
// mg_dash_handle before the handler runs (403 below the level, 405 with Allow for another method).
#include "dash/dash_internal.h"

struct mg_dash_route {
  struct mg_dash_route *next;
  const char *method, *pattern;  // The caller's strings, not copied
  int level;                     // Needed, the default already applied
  mg_dash_route_fn fn;
  void *fn_data;
};

#define ROUTE_METHOD_MAX 16  // Longest method a route may name
#define ROUTE_ALLOW_MAX 16   // Methods an Allow header lists
#define ROUTE_JSON "Content-Type: application/json\r\nCache-Control: no-store\r\n"

static bool route_method_ok(const char *m) {
  size_t n = m == NULL ? 0 : strlen(m);
  for (size_t i = 0; i < n; i++) {
    if (m[i] < 'A' || m[i] > 'Z') return false;
  }
  return n > 0 && n <= ROUTE_METHOD_MAX;
}

static int route_wildcards(const char *pattern) {
  int n = 0;
  for (const char *p = pattern; *p != '\0'; p++) n += *p == '*' || *p == '#' || *p == '?';
  return n;
}

// Reads need a viewer; anything else may change state, so it needs the writing level
static int route_default_level(const char *method) {
  return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ? MG_DASH_VIEWER : MG_DASH_OPERATOR;
}

static const char *route_refusal(struct mg_dash *dash, const char *method, const char *pattern, int level,
                                 mg_dash_route_fn fn) {
  if (!route_method_ok(method)) return "a method is 1 to 16 capital letters, such as GET or POST";
  if (pattern == NULL || pattern[0] != '/') return "a pattern starts with /";
  if (route_wildcards(pattern) > MG_DASH_ROUTE_CAPS) return "more wildcards than MG_DASH_ROUTE_CAPS";
  if (level != 0 && mg_dash_level_name(level) == NULL) return "the level is no MG_DASH_* level";
  if (fn == NULL) return "no handler";
  for (struct mg_dash_route *r = dash->routes; r != NULL; r = r->next) {
    if (strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0) {
      return "a route of that method and pattern exists";
    }
  }
  return NULL;
}

bool mg_dash_route(struct mg_dash *dash, const char *method, const char *pattern, int level, mg_dash_route_fn fn,
                   void *fn_data) {
  const char *why = route_refusal(dash, method, pattern, level, fn);
  struct mg_dash_route *r = why == NULL ? (struct mg_dash_route *) mg_calloc(1, sizeof(*r)) : NULL;
  if (why == NULL && r == NULL) why = "out of memory";
  if (why != NULL) {
    MG_ERROR(("route %s %s refused: %s", method == NULL ? "(null)" : method, pattern == NULL ? "(null)" : pattern, why));
    return false;
  }
  r->method = method, r->pattern = pattern, r->fn = fn, r->fn_data = fn_data;
  r->level = level != 0 ? level : route_default_level(method);
  struct mg_dash_route **tail = &dash->routes;
  while (*tail != NULL) tail = &(*tail)->next;
  *tail = r;
  return true;
}

void mg_dash_routes_free(struct mg_dash *dash) {
  while (dash->routes != NULL) {
    struct mg_dash_route *r = dash->routes;
    dash->routes = r->next;
    mg_free(r);
  }
}

// A GET route answers HEAD too (RFC 9110 9.3.2)
static bool route_takes(const struct mg_dash_route *r, struct mg_str method) {
  return mg_str_eq(method, r->method) || (mg_str_eq(method, "HEAD") && strcmp(r->method, "GET") == 0);
}

// Adds method to the list once (and HEAD after GET)
static size_t route_allow_add(const char **list, size_t n, const char *method) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i], method) == 0) return n;
  }
  if (n < ROUTE_ALLOW_MAX) list[n++] = method;
  return strcmp(method, "GET") == 0 ? route_allow_add(list, n, "HEAD") : n;
}

// 405 for a path some routes match, none with this method (RFC 9110 15.5.6)
static void route_not_allowed(struct mg_connection *c, const char **list, size_t n) {
  char headers[ROUTE_ALLOW_MAX * (ROUTE_METHOD_MAX + 2) + 96];
  size_t len = mg_snprintf(headers, sizeof(headers), ROUTE_JSON "Allow: ");
  for (size_t i = 0; i < n; i++) {
    len += mg_snprintf(headers + len, sizeof(headers) - len, "%s%s", i == 0 ? "" : ", ", list[i]);
  }
  mg_snprintf(headers + len, sizeof(headers) - len, "\r\n");
  mg_http_reply(c, 405, headers, "{\"error\":\"method not allowed\"}\n");
}

static void route_call(struct mg_dash *dash, struct mg_connection *c, const struct mg_dash_route *r,
                       struct mg_dash_req *req) {
  char user[48] = "";
  if (req->level < r->level) {
    const char *why = req->level < MG_DASH_VIEWER ? "login required" : mg_dash_forbidden(r->level);
    mg_http_reply(c, req->level < MG_DASH_VIEWER ? 401 : 403, ROUTE_JSON, "{\"error\":%m}\n", MG_ESC(why));
    return;
  }
  if (dash->auth != NULL) mg_auth_level(dash->auth, req->hm, user, sizeof(user));
  req->user = user;
  req->fn_data = r->fn_data;
  r->fn(c, req);
}

bool mg_dash_routes_handle(struct mg_dash *dash, struct mg_connection *c, struct mg_http_message *hm, int level) {
  struct mg_dash_req req;
  const char *allow[ROUTE_ALLOW_MAX];
  size_t nallow = 0;
  bool matched = false;
  memset(&req, 0, sizeof(req));
  req.hm = hm, req.level = level;
  for (struct mg_dash_route *r = dash->routes; r != NULL; r = r->next) {
    if (!mg_match(hm->uri, mg_str(r->pattern), req.caps)) continue;
    if (route_takes(r, hm->method)) {
      route_call(dash, c, r, &req);
      return true;
    }
    matched = true;
    nallow = route_allow_add(allow, nallow, r->method);
  }
  if (matched) route_not_allowed(c, allow, nallow);
  return matched;
}
