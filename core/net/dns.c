// Asynchronous DNS resolution for mg_connect(): numeric hosts and "localhost"
// resolve at once; other names are queried over the manager's UDP resolver
// connection, matched by transaction id, and time out after mgr->dnstimeout.
#include "mg_internal.h"

struct mg_dns_request {
  struct mg_dns_request *next;
  unsigned long conn_id;   // The connection waiting for this answer
  uint64_t expire;         // mg_millis() deadline
  uint16_t txnid;
  char name[256];          // For error messages
};

static void dns_finish(struct mg_connection *c, const struct mg_addr *addr) {
  uint16_t port = c->rem.port;
  c->rem = *addr;
  c->rem.port = port;
  c->is_resolving = 0;
  MG_DEBUG(("%lu resolved to %M", c->id, mg_print_ip_port, &c->rem));
  mg_call(c, MG_EV_RESOLVE, NULL);
  if (!c->is_closing) mg_net_connect(c);
}

static struct mg_connection *dns_conn_by_id(struct mg_mgr *mgr, unsigned long id) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

static void dns_unlink(struct mg_mgr *mgr, struct mg_dns_request *r) {
  struct mg_dns_request **p = &mgr->active_dns_requests;
  while (*p != NULL && *p != r) p = &(*p)->next;
  if (*p == r) *p = r->next;
  mg_free(r);
}

static void dns_on_response(struct mg_connection *dc, int ev, void *ev_data) {
  struct mg_mgr *mgr = dc->mgr;
  if (ev == MG_EV_READ) {
    struct mg_dns_message dm;
    // Each datagram was appended to recv; one read is one datagram on a UDP socket
    bool ok = mg_dns_parse(dc->recv.buf, dc->recv.len, &dm);
    dc->recv.len = 0;
    if (!ok) {
      MG_ERROR(("%lu malformed DNS response ignored", dc->id));
      return;
    }
    for (struct mg_dns_request *r = mgr->active_dns_requests; r != NULL; r = r->next) {
      if (r->txnid != dm.txnid) continue;
      struct mg_connection *c = dns_conn_by_id(mgr, r->conn_id);
      if (c != NULL && dm.resolved) {
        dns_finish(c, &dm.addr);
      } else if (c != NULL) {
        c->is_resolving = 0;
        mg_error(c, "DNS lookup of %s failed: no address", r->name);
      }
      dns_unlink(mgr, r);
      break;
    }
  } else if (ev == MG_EV_ERROR) {
    // The resolver itself failed (no route to the nameserver): fail every waiter
    for (struct mg_dns_request *r = mgr->active_dns_requests; r != NULL; r = r->next) r->expire = 1;
  }
  (void) ev_data;
}

// Nameserver from /etc/resolv.conf, else a public one (logged)
static void dns_default_server(char *buf, size_t len) {
  FILE *fp = fopen("/etc/resolv.conf", "r");
  char line[256];
  bool found = false;
  while (fp != NULL && !found && fgets(line, sizeof(line), fp) != NULL) {
    struct mg_str s = mg_str_trim(mg_str(line)), word, rest;
    mg_span(s, &word, &rest, ' ');
    if (!mg_str_eq(word, "nameserver")) continue;
    struct mg_str ip = mg_str_trim(rest);
    while (ip.len > 0 && (ip.buf[ip.len - 1] == '\n' || ip.buf[ip.len - 1] == '\r')) ip.len--;
    struct mg_addr a;
    if (!mg_aton(ip, &a)) continue;
    mg_snprintf(buf, len, a.is_ip6 ? "udp://[%.*s]:53" : "udp://%.*s:53", (int) ip.len, ip.buf);
    found = true;
  }
  if (fp != NULL) fclose(fp);
  if (!found) {
    mg_snprintf(buf, len, "udp://8.8.8.8:53");
    MG_INFO(("no nameserver in /etc/resolv.conf, using %s", buf));
  }
}

static struct mg_connection *dns_resolver(struct mg_mgr *mgr, bool ipv6) {
  struct mg_dns *d = ipv6 ? &mgr->dns6 : &mgr->dns4;
  if (d->c == NULL) {
    char url[80];
    if (d->url == NULL) dns_default_server(url, sizeof(url));
    else mg_snprintf(url, sizeof(url), "%s", d->url);
    d->c = mg_connect(mgr, url, NULL, NULL);
    if (d->c != NULL) d->c->pfn = dns_on_response;
  }
  return d->c;
}

void mg_resolve(struct mg_connection *c, struct mg_str host) {
  struct mg_mgr *mgr = c->mgr;
  struct mg_addr addr;
  memset(&addr, 0, sizeof(addr));
  if (mg_aton(host, &addr)) {
    dns_finish(c, &addr);
    return;
  }
  if (mg_strcasecmp(host, mg_str("localhost")) == 0) {  // RFC 6761 6.3: never sent to DNS
    if (mgr->use_dns6) addr.is_ip6 = true, addr.ip[15] = 1;
    else addr.ip[0] = 127, addr.ip[3] = 1;
    dns_finish(c, &addr);
    return;
  }
  struct mg_dns_request *r = (struct mg_dns_request *) mg_calloc(1, sizeof(*r));
  struct mg_connection *dc = dns_resolver(mgr, mgr->use_dns6);
  uint8_t query[300];
  size_t qlen = 0;
  if (r != NULL) {
    mg_random(&r->txnid, sizeof(r->txnid));
    qlen = mg_dns_build_query(query, sizeof(query), r->txnid, host, mgr->use_dns6);
    mg_snprintf(r->name, sizeof(r->name), "%.*s", (int) host.len, host.buf);
  }
  if (r == NULL || dc == NULL || qlen == 0) {
    mg_free(r);
    mg_error(c, "cannot resolve '%.*s': %s", (int) host.len, host.buf,
             qlen == 0 && r != NULL ? "invalid host name" : "resolver unavailable");
    return;
  }
  r->conn_id = c->id;
  r->expire = mg_millis() + (uint64_t) mgr->dnstimeout;
  r->next = mgr->active_dns_requests;
  mgr->active_dns_requests = r;
  c->is_resolving = 1;
  mg_send(dc, query, qlen);  // Queued until the resolver's own connect completes
}

void mg_dns_poll(struct mg_mgr *mgr, uint64_t now) {
  struct mg_dns_request *r, *next;
  for (r = mgr->active_dns_requests; r != NULL; r = next) {
    next = r->next;
    if (r->expire > now) continue;
    struct mg_connection *c = dns_conn_by_id(mgr, r->conn_id);
    if (c != NULL) {
      c->is_resolving = 0;
      mg_error(c, "DNS lookup of %s timed out", r->name);
    }
    dns_unlink(mgr, r);
  }
}

void mg_dns_cancel(struct mg_connection *c) {
  struct mg_dns_request *r, *next;
  for (r = c->mgr->active_dns_requests; r != NULL; r = next) {
    next = r->next;
    if (r->conn_id == c->id) dns_unlink(c->mgr, r);
  }
}
