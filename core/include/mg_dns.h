// DNS: the wire format (RFC 1035) as pure functions over a buffer, and the
// asynchronous resolver that mg_connect() uses.
#ifndef MG_DNS_H
#define MG_DNS_H

#define MG_DNS_TYPE_A 1
#define MG_DNS_TYPE_CNAME 5
#define MG_DNS_TYPE_AAAA 28
// Mongoose 7.22's names for record types (mg_dns_rr.atype)
#define MG_DNS_RTYPE_A 1
#define MG_DNS_RTYPE_PTR 12
#define MG_DNS_RTYPE_TXT 16
#define MG_DNS_RTYPE_AAAA 28
#define MG_DNS_RTYPE_SRV 33
#define MG_DNS_CLASS_IN 1

struct mg_dns_header {
  uint16_t txnid, flags, num_questions, num_answers, num_authority_prs, num_other_prs;
};

// One resource record, as located by mg_dns_parse_rr
struct mg_dns_rr {
  uint16_t nlen;   // Length of the (possibly compressed) name on the wire
  uint16_t atype;  // Record type
  uint16_t aclass; // Record class
  uint16_t alen;   // Length of the record data
};

struct mg_dns_message {
  uint16_t txnid;
  bool resolved;          // An answer of the wanted family was found
  struct mg_addr addr;    // That answer's address (port 0)
  char name[256];         // The answer's name (that of the address record taken, else
                          // of the last answer, else the question's), dotted, NUL-terminated
  char qname[256];        // The question's name: what a resolver matches (RFC 5452)
  uint16_t qtype, qclass; // The question's type and class; 0 when there is no question
  bool is_response;       // QR set: an answer; a query (mDNS sends them) has only its question
};

// Parse the record at ofs (question if is_question). Returns bytes it spans, 0 on
// malformed or truncated input. Compression pointers are followed back, at most 16.
size_t mg_dns_parse_rr(const uint8_t *buf, size_t len, size_t ofs, bool is_question,
                       struct mg_dns_rr *rr);
// Decode the (possibly compressed) name at ofs into to (dotted, NUL-terminated).
// Returns the bytes the name spans at ofs, 0 on malformed input or if to is too small.
size_t mg_dns_parse_name(const uint8_t *buf, size_t len, size_t ofs, char *to, size_t tolen);
// Parse a response or a query (at most 512 bytes, as Mongoose 7.22): true if
// well-formed; dm->resolved tells if a response held an A/AAAA. A compression
// pointer that does not point back ends its name (a self-pointer: an empty name).
bool mg_dns_parse(const uint8_t *buf, size_t len, struct mg_dns_message *dm);
// Build a recursive query for name; returns its length, 0 if buf is too small or
// the name is invalid (empty label, label over 63, name over 253).
size_t mg_dns_build_query(uint8_t *buf, size_t len, uint16_t txnid, struct mg_str name, bool ipv6);

#endif  // MG_DNS_H
