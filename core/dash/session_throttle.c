// Login throttling per client address: after MG_AUTH_FREE_FAILURES failures in a row each
// further attempt waits 1, 2, 4 ... up to MG_AUTH_MAX_WAIT_S seconds; a good login clears it.
#include "dash/auth_internal.h"

unsigned mg_auth_throttle_delay_s(unsigned failures) {
  if (failures < MG_AUTH_FREE_FAILURES) return 0;
  unsigned shift = failures - MG_AUTH_FREE_FAILURES;
  if (shift >= 16) return MG_AUTH_MAX_WAIT_S;  // Long past the cap; keeps the shift defined
  unsigned delay = 1U << shift;
  return delay < MG_AUTH_MAX_WAIT_S ? delay : MG_AUTH_MAX_WAIT_S;
}

// The same client whatever its port; IPv4 and IPv6 apart
static bool throttle_same(const struct mg_addr *a, const struct mg_addr *b) {
  return a->is_ip6 == b->is_ip6 && memcmp(a->addr.ip, b->addr.ip, a->is_ip6 ? 16 : 4) == 0;
}

static struct mg_auth_throttle *throttle_find(struct mg_auth *auth, const struct mg_addr *addr) {
  for (size_t i = 0; i < MG_AUTH_THROTTLE_SLOTS; i++) {
    struct mg_auth_throttle *t = &auth->throttle[i];
    if (t->failures > 0 && throttle_same(&t->addr, addr)) return t;
  }
  return NULL;
}

unsigned mg_auth_throttle_wait(struct mg_auth *auth, const struct mg_addr *addr, uint64_t now) {
  struct mg_auth_throttle *t = throttle_find(auth, addr);
  if (t == NULL || now >= t->until) return 0;
  return (unsigned) ((t->until - now + 999) / 1000);  // Whole seconds, rounded up (Retry-After)
}

void mg_auth_throttle_fail(struct mg_auth *auth, const struct mg_addr *addr, uint64_t now) {
  struct mg_auth_throttle *t = throttle_find(auth, addr);
  if (t == NULL) {  // A free slot, else the one seen least recently
    t = &auth->throttle[0];
    for (size_t i = 0; i < MG_AUTH_THROTTLE_SLOTS && t->failures > 0; i++) {
      struct mg_auth_throttle *u = &auth->throttle[i];
      if (u->failures == 0 || u->seen < t->seen) t = u;
    }
    memset(t, 0, sizeof(*t));
    t->addr = *addr;
    t->addr.port = 0;
  }
  t->failures++;
  t->seen = now;
  unsigned delay = mg_auth_throttle_delay_s(t->failures);
  t->until = now + (uint64_t) delay * 1000;
  if (delay > 0) {  // Once per lock: attempts while locked get 429 and count for nothing
    MG_ERROR(("login throttled for %M: %u failures, next attempt in %u s", mg_print_ip, addr, t->failures, delay));
  }
}

void mg_auth_throttle_clear(struct mg_auth *auth, const struct mg_addr *addr) {
  struct mg_auth_throttle *t = throttle_find(auth, addr);
  if (t != NULL) memset(t, 0, sizeof(*t));
}
