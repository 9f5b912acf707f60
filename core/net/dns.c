// Asynchronous DNS resolution for mg_connect(): numeric hosts, "localhost" and
// hosts-file names resolve at once; other names are asked of the nameserver
// from a UDP socket of their own (random source port and id), and only an
// answer to the very question asked is taken (RFC 5452 9.1).
#include "mg_internal.h"

struct mg_dns_request {
  struct mg_dns_request *next;
  unsigned long conn_id;     // The connection waiting for this answer
  struct mg_connection *qc;  // This lookup's query connection; NULL once it has closed
  uint64_t expire;           // mg_millis() deadline
  uint16_t txnid, qtype;
  char name[256];            // As asked, without a trailing dot
};

static void dns_finish(struct mg_connection *c, const struct mg_addr *addr) {
  uint16_t port = c->rem.port;
  c->rem = *addr;
  c->rem.port = port;
  c->is_resolving = 0;
  MG_DEBUG(("%lu resolved to %M", c->id, mg_print_ip_port, &c->rem));
  mg_call(c, MG_EV_RESOLVE, NULL);
  if (!c->is_closing) mg_conn_start(c);
}

static struct mg_connection *dns_conn_by_id(struct mg_mgr *mgr, unsigned long id) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next)
    if (c->id == id) return c;
  return NULL;
}

// Forgets r and closes its query connection: a late answer then has nowhere to go
static void dns_unlink(struct mg_mgr *mgr, struct mg_dns_request *r) {
  struct mg_dns_request **p = &mgr->active_dns_requests;
  while (*p != NULL && *p != r) p = &(*p)->next;
  if (*p == r) *p = r->next;
  if (r->qc != NULL) {
    r->qc->pfn_data = NULL;
    r->qc->is_closing = 1;
  }
  mg_free(r);
}

// Ends the lookup with an error for the waiting connection: what went wrong is
// "DNS lookup of NAME <why>" in the log, and the MG_EV_ERROR text is event_text
// when given (one of Mongoose 7.22's words, which programs compare), else that line
static void dns_fail(struct mg_mgr *mgr, struct mg_dns_request *r, const char *why, const char *event_text) {
  struct mg_connection *c = dns_conn_by_id(mgr, r->conn_id);
  char name[sizeof(r->name)];
  memcpy(name, r->name, sizeof(name));
  dns_unlink(mgr, r);  // First: the handler below may start lookups of its own
  if (c == NULL) return;
  c->is_resolving = 0;
  if (event_text == NULL) {
    mg_error(c, "DNS lookup of %s %s", name, why);
  } else {
    MG_ERROR(("%lu DNS lookup of %s %s", c->id, name, why));
    mg_error(c, "%s", event_text);
  }
}

// The answer's id and question must be those asked: anything else is a stray or
// a forgery, and waiting on for the real answer is what defeats the forger
static bool dns_answers(const struct mg_dns_request *r, const struct mg_dns_message *dm) {
  return dm->is_response && dm->txnid == r->txnid && dm->qtype == r->qtype && dm->qclass == MG_DNS_CLASS_IN &&
         mg_strcasecmp(mg_str(dm->qname), mg_str(r->name)) == 0;
}

static void dns_on_response(struct mg_connection *qc, int ev, void *ev_data) {
  struct mg_dns_request *r = (struct mg_dns_request *) qc->pfn_data;
  if (ev == MG_EV_READ) {
    struct mg_dns_message dm;
    // One read is one datagram on a UDP socket
    bool ok = r != NULL && mg_dns_parse(qc->recv.buf, qc->recv.len, &dm);
    qc->recv.len = 0;
    if (r == NULL) return;  // The lookup is over; this socket closes at the end of the poll
    if (!ok) {
      MG_DEBUG(("%lu malformed DNS response ignored", qc->id));
    } else if (!dns_answers(r, &dm)) {
      MG_DEBUG(("%lu DNS response ignored: id %04x, question %s type %u class %u; asked id %04x, %s type %u",
                qc->id, dm.txnid, dm.qname, dm.qtype, dm.qclass, r->txnid, r->name, r->qtype));
    } else if (dm.resolved && dm.addr.is_ip6 == (r->qtype == MG_DNS_TYPE_AAAA)) {
      struct mg_connection *c = dns_conn_by_id(qc->mgr, r->conn_id);
      dns_unlink(qc->mgr, r);
      if (c != NULL) dns_finish(c, &dm.addr);
    } else {
      dns_fail(qc->mgr, r, "failed: no address", NULL);
    }
  } else if (ev == MG_EV_ERROR && r != NULL) {
    char why[200];  // e.g. ICMP port unreachable, reported by recv() on a connected socket
    mg_snprintf(why, sizeof(why), "failed: nameserver %M: %s", mg_print_ip_port, &qc->rem, (char *) ev_data);
    dns_fail(qc->mgr, r, why, NULL);
  } else if (ev == MG_EV_CLOSE && r != NULL) {
    r->qc = NULL;  // Closed under the lookup (mg_mgr_free): it is cancelled or times out
  }
}

// The nameserver's address, from mgr->dns4 / dns6.url or the port. Parsed here
// and never resolved: a host name would make the resolver call itself. On
// failure, the MG_EV_ERROR text 7.22 gives ("resolver": none configured, "DNS
// error": a URL that cannot be used), with the reason in why.
static const char *dns_nameserver(struct mg_mgr *mgr, struct mg_addr *ns, char *why, size_t whylen) {
  const struct mg_dns *d = mgr->use_dns6 ? &mgr->dns6 : &mgr->dns4;
  const char *url = d->url;
  char buf[80];
  struct mg_url u;
  if (url == NULL && mg_port_nameserver(buf, sizeof(buf)) > 0) url = buf;
  if (url == NULL || url[0] == '\0') {
    mg_snprintf(why, whylen, "failed: no nameserver configured (set mgr->%s.url)", mgr->use_dns6 ? "dns6" : "dns4");
    return "resolver";
  }
  memset(ns, 0, sizeof(*ns));
  if (!mg_url_parse(mg_str(url), &u) || !mg_str_eq(u.scheme, "udp") || u.host.len == 0) {
    mg_snprintf(why, whylen, "failed: nameserver '%s' must be udp://IP:PORT", url);
    return "DNS error";
  }
  if (!mg_aton(u.host, ns)) {
    mg_snprintf(why, whylen, "failed: nameserver '%s' must be a numeric IP address", url);
    return "DNS error";
  }
  ns->port = mg_htons(u.port == 0 ? 53 : u.port);
  return NULL;
}

// The lookup's own UDP socket, connected to the nameserver: the kernel picks a
// fresh ephemeral source port and drops datagrams from any other address.
static struct mg_connection *dns_open_query_conn(struct mg_mgr *mgr, const struct mg_addr *ns) {
  struct mg_connection *qc = mg_conn_alloc(mgr);
  if (qc == NULL) return NULL;
  qc->rem = *ns;
  qc->is_udp = 1;
  qc->is_client = 1;
  qc->pfn = dns_on_response;  // pfn_data stays NULL until the lookup is linked
  mg_conn_start(qc);
  return qc;
}

void mg_resolve(struct mg_connection *c, struct mg_str host) {
  struct mg_mgr *mgr = c->mgr;
  struct mg_addr addr, ns;
  char why[160];
  uint8_t query[300];
  memset(&addr, 0, sizeof(addr));
  // Before mg_aton, which reads "localhost" as 127.0.0.1 whatever the family
  if (mg_strcasecmp(host, mg_str("localhost")) == 0) {  // RFC 6761 6.3: never sent to DNS
    if (mgr->use_dns6) addr.is_ip6 = true, addr.addr.ip[15] = 1;
    else addr.addr.ip[0] = 127, addr.addr.ip[3] = 1;
    dns_finish(c, &addr);
    return;
  }
  if (mg_aton(host, &addr)) {
    dns_finish(c, &addr);
    return;
  }
  if (mg_port_hosts_lookup(host, mgr->use_dns6, &addr)) {
    dns_finish(c, &addr);
    return;
  }
  uint16_t txnid;
  mg_random(&txnid, sizeof(txnid));
  size_t qlen = mg_dns_build_query(query, sizeof(query), txnid, host, mgr->use_dns6);
  if (qlen == 0) {
    mg_error(c, "cannot resolve '%.*s': invalid host name", (int) host.len, host.buf);
    return;
  }
  if (host.buf[host.len - 1] == '.') host.len--;  // A valid name is not empty
  const char *ns_error = dns_nameserver(mgr, &ns, why, sizeof(why));
  if (ns_error != NULL) {
    MG_ERROR(("%lu DNS lookup of %.*s %s", c->id, (int) host.len, host.buf, why));
    mg_error(c, "%s", ns_error);
    return;
  }
  struct mg_dns_request *r = (struct mg_dns_request *) mg_calloc(1, sizeof(*r));
  struct mg_connection *qc = r == NULL ? NULL : dns_open_query_conn(mgr, &ns);
  if (qc == NULL || qc->is_closing) {  // Out of memory, or no socket (logged)
    mg_free(r);
    mg_error(c, "DNS lookup of %.*s failed: %s", (int) host.len, host.buf,
             r == NULL ? "out of memory" : "cannot open a socket to the nameserver");
    return;
  }
  mg_snprintf(r->name, sizeof(r->name), "%.*s", (int) host.len, host.buf);
  r->txnid = txnid;
  r->qtype = mgr->use_dns6 ? MG_DNS_TYPE_AAAA : MG_DNS_TYPE_A;
  r->conn_id = c->id;
  r->qc = qc;
  r->expire = mg_millis() + (uint64_t) mgr->dnstimeout;
  r->next = mgr->active_dns_requests;
  mgr->active_dns_requests = r;
  qc->pfn_data = r;
  c->is_resolving = 1;
  mg_send(qc, query, qlen);  // Connected UDP: goes out now, one datagram
}

void mg_dns_poll(struct mg_mgr *mgr, uint64_t now) {
  struct mg_dns_request *r, *next;
  for (r = mgr->active_dns_requests; r != NULL; r = next) {
    next = r->next;
    if (r->expire <= now) dns_fail(mgr, r, "timed out", "DNS timeout");
  }
}

void mg_dns_cancel(struct mg_connection *c) {
  struct mg_dns_request *r, *next;
  for (r = c->mgr->active_dns_requests; r != NULL; r = next) {
    next = r->next;
    if (r->conn_id == c->id) dns_unlink(c->mgr, r);
  }
}
