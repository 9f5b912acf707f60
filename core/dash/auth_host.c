// The names /api/ answers to: a page that points its own DNS name at the device (DNS
// rebinding) reaches it with that name in Host, so only IP literals, localhost and the device's names pass.
#include "dash/auth_internal.h"

bool mg_auth_allow_host(struct mg_auth *auth, const char *name) {
  for (size_t i = 0; i < MG_AUTH_MAX_HOSTS; i++) {
    if (auth->hosts[i] != NULL) continue;
    auth->hosts[i] = name;
    return true;
  }
  MG_ERROR(("host name %s not added: %d names at most (MG_AUTH_MAX_HOSTS)", name, (int) MG_AUTH_MAX_HOSTS));
  return false;
}

// host is name or name.local, in any case
static bool host_is(struct mg_str host, const char *name) {
  struct mg_str n = mg_str(name == NULL ? "" : name), local = mg_str(".local");
  if (n.len == 0 || host.len < n.len || mg_strcasecmp(mg_str_n(host.buf, n.len), n) != 0) return false;
  struct mg_str rest = mg_str_n(host.buf + n.len, host.len - n.len);
  return rest.len == 0 || mg_strcasecmp(rest, local) == 0;
}

static bool host_ok(const struct mg_auth *auth, struct mg_str host) {
  struct mg_addr addr;
  if (mg_aton(host, &addr)) return true;  // An IP literal ([IPv6] too), or localhost: no name to rebind
  for (size_t i = 0; i < MG_AUTH_MAX_HOSTS; i++) {
    if (host_is(host, auth->hosts[i])) return true;
  }
  return false;
}

bool mg_auth_host_check(struct mg_auth *auth, struct mg_connection *c, struct mg_http_message *hm) {
  struct mg_str *v = mg_http_get_header(hm, "Host"), host;
  if (v == NULL) return true;  // Browsers always send one: a request without is no page's
  if (mg_http_host_name(*v, &host) && host_ok(auth, host)) return true;
  int shown = v->len > 64 ? 64 : (int) v->len;
  if (mg_auth_log_due(&auth->host_logged)) {
    MG_ERROR(("421 for %M: Host %m is none of this device's names (a DNS rebinding page?); add a name with "
              "mg_auth_allow_host (others refused this second are not logged)",
              mg_print_ip, &c->rem, mg_print_esc, shown, v->buf));
  }
  char msg[160];
  mg_snprintf(msg, sizeof(msg),
              "this device does not answer to the name %.*s: open it by its IP address or its own name", shown, v->buf);
  mg_auth_reply_error(c, 421, NULL, msg);
  return false;
}
