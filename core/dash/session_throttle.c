// Login throttling: failures count per (address, user name) pair, an address waits for the
// sum of its pairs and a name for its failures from anywhere; a good login clears its own name's.
#include "dash/auth_internal.h"

unsigned mg_auth_throttle_delay_s(unsigned failures) {
  if (failures < MG_AUTH_FREE_FAILURES) return 0;
  unsigned shift = failures - MG_AUTH_FREE_FAILURES;
  if (shift >= 16) return MG_AUTH_MAX_WAIT_S;  // Long past the cap; keeps the shift defined
  unsigned delay = 1U << shift;
  return delay < MG_AUTH_MAX_WAIT_S ? delay : MG_AUTH_MAX_WAIT_S;
}

// The same client whatever its port; IPv4 and IPv6 apart
static bool throttle_same_addr(const struct mg_addr *a, const struct mg_addr *b) {
  return a->is_ip6 == b->is_ip6 && memcmp(a->addr.ip, b->addr.ip, a->is_ip6 ? 16 : 4) == 0;
}

// A record's key: the name as typed, cut to the longest a user's can be (a longer one
// names nobody, so sharing a count with its first MG_AUTH_NAME_MAX characters costs nothing)
static void throttle_key(char key[MG_AUTH_NAME_MAX + 1], const char *name) {
  mg_snprintf(key, MG_AUTH_NAME_MAX + 1, "%s", name);
}

// The record of key (from addr; NULL in the names table), or NULL
static struct mg_auth_throttle *throttle_find(struct mg_auth_throttle *table, const struct mg_addr *addr,
                                              const char *key) {
  for (size_t i = 0; i < MG_AUTH_THROTTLE_SLOTS; i++) {
    struct mg_auth_throttle *t = &table[i];
    if (t->failures > 0 && strcmp(t->name, key) == 0 && (addr == NULL || throttle_same_addr(&t->addr, addr))) return t;
  }
  return NULL;
}

// The record of key, made when missing in a free slot or else in the one with the fewest
// failures (then the stalest): flooding new names cannot push out a well-counted one cheaply
static struct mg_auth_throttle *throttle_take(struct mg_auth_throttle *table, const struct mg_addr *addr,
                                              const char *key) {
  struct mg_auth_throttle *t = throttle_find(table, addr, key);
  if (t != NULL) return t;
  t = &table[0];
  for (size_t i = 1; i < MG_AUTH_THROTTLE_SLOTS && t->failures > 0; i++) {
    struct mg_auth_throttle *u = &table[i];
    if (u->failures < t->failures || (u->failures == t->failures && u->seen < t->seen)) t = u;
  }
  memset(t, 0, sizeof(*t));
  if (addr != NULL) t->addr = *addr;
  t->addr.port = 0;
  mg_snprintf(t->name, sizeof(t->name), "%s", key);
  return t;
}

// Failures from addr under any name, and when the latest was
static unsigned throttle_addr_failures(const struct mg_auth *auth, const struct mg_addr *addr, uint64_t *latest) {
  unsigned n = 0;
  *latest = 0;
  for (size_t i = 0; i < MG_AUTH_THROTTLE_SLOTS; i++) {
    const struct mg_auth_throttle *t = &auth->pairs[i];
    if (t->failures == 0 || !throttle_same_addr(&t->addr, addr)) continue;
    n += t->failures;
    if (t->seen > *latest) *latest = t->seen;
  }
  return n;
}

// Whole seconds (rounded up, for Retry-After) until failures counted up to seen allow another attempt
static unsigned throttle_left_s(unsigned failures, uint64_t seen, uint64_t now) {
  uint64_t until = seen + (uint64_t) mg_auth_throttle_delay_s(failures) * 1000;
  return now >= until ? 0 : (unsigned) ((until - now + 999) / 1000);
}

unsigned mg_auth_throttle_wait(struct mg_auth *auth, const struct mg_addr *addr, const char *name, uint64_t now) {
  char key[MG_AUTH_NAME_MAX + 1];
  throttle_key(key, name);
  uint64_t latest = 0;
  unsigned from_addr = throttle_addr_failures(auth, addr, &latest);
  unsigned wait = throttle_left_s(from_addr, latest, now);
  struct mg_auth_throttle *n = throttle_find(auth->names, NULL, key);
  unsigned wait_name = n == NULL ? 0 : throttle_left_s(n->failures, n->seen, now);
  return wait > wait_name ? wait : wait_name;
}

void mg_auth_throttle_fail(struct mg_auth *auth, const struct mg_addr *addr, const char *name, uint64_t now) {
  char key[MG_AUTH_NAME_MAX + 1];
  throttle_key(key, name);
  struct mg_auth_throttle *pair = throttle_take(auth->pairs, addr, key), *n = throttle_take(auth->names, NULL, key);
  pair->failures++, n->failures++;
  pair->seen = n->seen = now;
  uint64_t latest = 0;
  unsigned from_addr = throttle_addr_failures(auth, addr, &latest);
  unsigned delay = mg_auth_throttle_delay_s(from_addr), delay_name = mg_auth_throttle_delay_s(n->failures);
  if (delay_name > delay) delay = delay_name;
  if (delay > 0) {  // Once per lock: attempts while locked get 429 and count for nothing
    MG_ERROR(("login throttled: %u failures from %M, %u as %m; next attempt in %u s", from_addr, mg_print_ip, addr,
              n->failures, MG_ESC(key), delay));
  }
}

void mg_auth_throttle_pass(struct mg_auth *auth, const struct mg_addr *addr, const char *name) {
  char key[MG_AUTH_NAME_MAX + 1];
  throttle_key(key, name);
  struct mg_auth_throttle *pair = throttle_find(auth->pairs, addr, key), *n = throttle_find(auth->names, NULL, key);
  if (pair != NULL) memset(pair, 0, sizeof(*pair));
  if (n != NULL) memset(n, 0, sizeof(*n));
}
