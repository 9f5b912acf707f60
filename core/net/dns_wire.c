// DNS wire format (RFC 1035 4.1, AAAA from RFC 3596): names with compression,
// resource records, responses and queries, as pure functions over a buffer.
#include "meerkat.h"

enum {
  DNS_WIRE_HEADER_SIZE = 12,
  DNS_WIRE_MAX_LABEL = 63,
  DNS_WIRE_MAX_NAME = 255,      // On the wire: length bytes, labels and the root byte
  DNS_WIRE_MAX_TEXT_NAME = 253, // Dotted, without a trailing dot
  DNS_WIRE_MAX_HOPS = 16,       // Compression pointers followed per name
  DNS_WIRE_MAX_MESSAGE = 512,   // RFC 1035 4.2.1: UDP messages without EDNS, as 7.22 takes
  DNS_WIRE_FLAG_QR = 0x8000,
  DNS_WIRE_FLAG_RD = 0x0100,
  DNS_WIRE_RCODE_MASK = 0x000f
};

static uint16_t dns_wire_u16(const uint8_t *p) {
  return (uint16_t) ((p[0] << 8) | p[1]);
}

static void dns_wire_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t) (v >> 8), p[1] = (uint8_t) (v & 0xff);
}

// Walks the name at ofs. Labels are written dotted into to (if not NULL); a
// label holding '.' or NUL cannot be written that way and is refused then.
// A compressor only points back at names written before, so each pointer must
// land before the previous one (the first before itself): one that does not
// ends the name where it stands, as a self-pointer ends as an empty name in
// Mongoose 7.22. Targets that only decrease cannot loop; the hop limit still
// bounds a long chain.
size_t mg_dns_parse_name(const uint8_t *buf, size_t len, size_t ofs, char *to, size_t tolen) {
  size_t pos = ofs, span = 0, wire_len = 1, out = 0, bound = 0;
  int hops = 0;
  if (buf == NULL || ofs >= len || (to != NULL && tolen == 0)) return 0;
  for (;;) {
    if (pos >= len) return 0;
    uint8_t b = buf[pos];
    if (b == 0) {
      if (span == 0) span = pos + 1 - ofs;
      break;
    }
    if ((b & 0xc0) == 0xc0) {  // Compression pointer: 14-bit offset from the start
      if (pos + 1 >= len) return 0;
      if (span == 0) span = pos + 2 - ofs;
      size_t target = ((size_t) (b & 0x3f) << 8) | buf[pos + 1];
      if (target >= len) return 0;  // Outside the message: malformed, not a loop
      if (hops == 0) bound = pos;
      if (target >= bound) break;    // Not backwards: the name ends here
      if (++hops > DNS_WIRE_MAX_HOPS) return 0;
      pos = bound = target;
      continue;
    }
    if ((b & 0xc0) != 0) return 0;  // 0x40 and 0x80 label types are reserved
    wire_len += 1 + (size_t) b;
    if (wire_len > DNS_WIRE_MAX_NAME || pos + 1 + b > len) return 0;
    if (to != NULL) {
      // Room for the separator, the label and the final NUL
      if (out + (out > 0 ? 1 : 0) + b + 1 > tolen) return 0;
      if (out > 0) to[out++] = '.';
      for (size_t i = 0; i < b; i++) {
        char c = (char) buf[pos + 1 + i];
        if (c == '.' || c == '\0') return 0;
        to[out++] = c;
      }
    }
    pos += 1 + (size_t) b;
  }
  if (to != NULL) to[out] = '\0';
  return span;
}

size_t mg_dns_parse_rr(const uint8_t *buf, size_t len, size_t ofs, bool is_question,
                       struct mg_dns_rr *rr) {
  struct mg_dns_rr r;
  size_t n = mg_dns_parse_name(buf, len, ofs, NULL, 0), fixed = is_question ? 4 : 10;
  memset(&r, 0, sizeof(r));
  if (rr != NULL) *rr = r;
  if (n == 0 || len - ofs - n < fixed) return 0;  // ofs + n <= len when n > 0
  const uint8_t *p = buf + ofs + n;
  r.nlen = (uint16_t) n;
  r.atype = dns_wire_u16(p);
  r.aclass = dns_wire_u16(p + 2);
  if (!is_question) {
    r.alen = dns_wire_u16(p + 8);  // p + 4 is the TTL, unused
    if (len - ofs - n - fixed < r.alen) return 0;
  }
  if (rr != NULL) *rr = r;
  return n + fixed + r.alen;
}

// A message is well-formed when every question and answer the header counts
// lies inside the buffer. Authority and additional sections are not needed, nor
// the answers of a query (mDNS queries may carry known answers).
bool mg_dns_parse(const uint8_t *buf, size_t len, struct mg_dns_message *dm) {
  struct mg_dns_message m;
  struct mg_dns_header h;
  struct mg_dns_rr rr;
  size_t ofs = DNS_WIRE_HEADER_SIZE, n;
  memset(&m, 0, sizeof(m));
  if (dm != NULL) *dm = m;
  if (buf == NULL || len < DNS_WIRE_HEADER_SIZE || len > DNS_WIRE_MAX_MESSAGE) return false;
  h.txnid = dns_wire_u16(buf);
  h.flags = dns_wire_u16(buf + 2);
  h.num_questions = dns_wire_u16(buf + 4);
  h.num_answers = dns_wire_u16(buf + 6);
  m.txnid = h.txnid;
  m.is_response = (h.flags & DNS_WIRE_FLAG_QR) != 0;

  // Each record spans at least 5 (question) or 11 (answer) bytes, so these loops
  // end at the buffer's end however large the counts claim to be
  for (uint16_t i = 0; i < h.num_questions; i++, ofs += n) {
    if ((n = mg_dns_parse_rr(buf, len, ofs, true, &rr)) == 0) return false;
    if (i > 0) continue;
    if (mg_dns_parse_name(buf, len, ofs, m.qname, sizeof(m.qname)) == 0) return false;
    memcpy(m.name, m.qname, sizeof(m.name));
    m.qtype = rr.atype;
    m.qclass = rr.aclass;
  }
  for (uint16_t i = 0; m.is_response && i < h.num_answers; i++, ofs += n) {
    if ((n = mg_dns_parse_rr(buf, len, ofs, false, &rr)) == 0) return false;
    if (m.resolved || (h.flags & DNS_WIRE_RCODE_MASK) != 0 || rr.aclass != MG_DNS_CLASS_IN) {
      continue;
    }
    // The owner of each answer up to the address one: after CNAMEs, the name that has it
    if (mg_dns_parse_name(buf, len, ofs, m.name, sizeof(m.name)) == 0) return false;
    const uint8_t *data = buf + ofs + rr.nlen + 10;
    if (rr.atype == MG_DNS_TYPE_A && rr.alen == 4) {
      memcpy(m.addr.addr.ip, data, 4);
      m.resolved = true;
    } else if (rr.atype == MG_DNS_TYPE_AAAA && rr.alen == 16) {
      memcpy(m.addr.addr.ip, data, 16);
      m.addr.is_ip6 = true;
      m.resolved = true;
    }  // Anything else, CNAMEs included, is skipped
  }
  if (dm != NULL) *dm = m;
  return true;
}

size_t mg_dns_build_query(uint8_t *buf, size_t len, uint16_t txnid, struct mg_str name, bool ipv6) {
  size_t need, pos = DNS_WIRE_HEADER_SIZE, label = 0;
  if (name.buf == NULL) return 0;
  if (name.len > 0 && name.buf[name.len - 1] == '.') name.len--;  // Fully qualified form
  if (name.len == 0 || name.len > DNS_WIRE_MAX_TEXT_NAME) return 0;
  for (size_t i = 0; i <= name.len; i++) {  // Validate first: buf is untouched on failure
    if (i == name.len || name.buf[i] == '.') {
      if (label == 0 || label > DNS_WIRE_MAX_LABEL) return 0;
      label = 0;
    } else if (name.buf[i] == '\0') {
      return 0;  // Could not be read back as a C string
    } else {
      label++;
    }
  }
  need = DNS_WIRE_HEADER_SIZE + name.len + 2 + 4;  // Length bytes replace the dots, plus root
  if (buf == NULL || len < need) return 0;
  memset(buf, 0, DNS_WIRE_HEADER_SIZE);
  dns_wire_put_u16(buf, txnid);
  dns_wire_put_u16(buf + 2, DNS_WIRE_FLAG_RD);
  dns_wire_put_u16(buf + 4, 1);
  for (size_t start = 0, i = 0; i <= name.len; i++) {
    if (i == name.len || name.buf[i] == '.') {
      buf[pos++] = (uint8_t) (i - start);
      memcpy(buf + pos, name.buf + start, i - start);
      pos += i - start, start = i + 1;
    }
  }
  buf[pos++] = 0;
  dns_wire_put_u16(buf + pos, ipv6 ? MG_DNS_TYPE_AAAA : MG_DNS_TYPE_A);
  dns_wire_put_u16(buf + pos + 2, MG_DNS_CLASS_IN);
  return pos + 4;
}
