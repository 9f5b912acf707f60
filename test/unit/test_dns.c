// DNS wire format (name decoding with compression, record spans, response
// parsing against lying or truncated packets, query building) and the resolver
// against a fake nameserver on loopback that lies in every way RFC 5452 lists.
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "meerkat.h"
#include "port/port.h"

// Header: txnid 0x1234, flags QR|RD|RA, 1 question, 1 answer. Question
// example.com A IN, answer: pointer to the question name, A IN, TTL 60,
// 93.184.216.34.
static const uint8_t a_response[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34,
};

static const uint8_t aaaa_response[] = {
    0xbe, 0xef, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    2, 'v', '6', 0, 0, 28, 0, 1,
    0xc0, 12, 0, 28, 0, 1, 0, 0, 1, 0, 0, 16,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

// www.example.com CNAME example.net, then example.net A 10.0.0.7. The CNAME
// target is spelled out in its rdata and the A record's name points at it.
static const uint8_t cname_response[] = {
    0x00, 0x07, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
    // offset 33: CNAME answer, rdata at 45
    0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 13,
    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
    // offset 58: A answer for the CNAME target
    0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
};

Test(dns, parses_an_a_answer) {
  struct mg_dns_message dm;
  cr_assert(mg_dns_parse(a_response, sizeof(a_response), &dm));
  cr_assert_eq(dm.txnid, 0x1234);
  cr_assert(dm.resolved);
  cr_assert_not(dm.addr.is_ip6);
  cr_assert_arr_eq(dm.addr.addr.ip, ((uint8_t[]) {93, 184, 216, 34}), 4);
  cr_assert_eq(dm.addr.port, 0);
  cr_assert_str_eq(dm.name, "example.com");
  cr_assert_eq(dm.qtype, MG_DNS_TYPE_A);
  cr_assert_eq(dm.qclass, MG_DNS_CLASS_IN);
}

Test(dns, parses_an_aaaa_answer) {
  struct mg_dns_message dm;
  static const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  cr_assert(mg_dns_parse(aaaa_response, sizeof(aaaa_response), &dm));
  cr_assert_eq(dm.txnid, 0xbeef);
  cr_assert(dm.resolved);
  cr_assert(dm.addr.is_ip6);
  cr_assert_arr_eq(dm.addr.addr.ip, want, 16);
  cr_assert_str_eq(dm.name, "v6");
  cr_assert_eq(dm.qtype, MG_DNS_TYPE_AAAA);
}

Test(dns, skips_cnames_to_the_address) {
  struct mg_dns_message dm;
  char name[256];
  cr_assert(mg_dns_parse(cname_response, sizeof(cname_response), &dm));
  cr_assert(dm.resolved);
  cr_assert_arr_eq(dm.addr.addr.ip, ((uint8_t[]) {10, 0, 0, 7}), 4);
  cr_assert_str_eq(dm.name, "example.net", "the name that has the address");
  cr_assert_str_eq(dm.qname, "www.example.com");
  // The A record's owner is a pointer to the CNAME's rdata
  cr_assert_eq(mg_dns_parse_name(cname_response, sizeof(cname_response), 58, name, sizeof(name)), 2);
  cr_assert_str_eq(name, "example.net");
}

Test(dns, cname_without_address_is_well_formed_but_unresolved) {
  uint8_t pkt[sizeof(cname_response)];
  struct mg_dns_message dm;
  memcpy(pkt, cname_response, sizeof(pkt));
  pkt[7] = 1;  // Only the CNAME
  cr_assert(mg_dns_parse(pkt, 58, &dm));
  cr_assert_not(dm.resolved);
  cr_assert_str_eq(dm.name, "www.example.com");
}

Test(dns, name_follows_pointers_and_reports_the_span_at_ofs) {
  // "mail" + pointer to "example.com" at 12 of a_response, appended after it
  uint8_t pkt[sizeof(a_response) + 7];
  char name[256];
  memcpy(pkt, a_response, sizeof(a_response));
  memcpy(pkt + sizeof(a_response), (uint8_t[]) {4, 'm', 'a', 'i', 'l', 0xc0, 12}, 7);
  cr_assert_eq(mg_dns_parse_name(pkt, sizeof(pkt), sizeof(a_response), name, sizeof(name)), 7);
  cr_assert_str_eq(name, "mail.example.com");
  cr_assert_eq(mg_dns_parse_name(pkt, sizeof(pkt), 12, name, sizeof(name)), 13);
  cr_assert_str_eq(name, "example.com");
  cr_assert_eq(mg_dns_parse_name(pkt, sizeof(pkt), 20, name, sizeof(name)), 5);
  cr_assert_str_eq(name, "com");
  cr_assert_eq(mg_dns_parse_name(pkt, sizeof(pkt), sizeof(a_response), NULL, 0), 7);
}

Test(dns, root_name_is_empty_and_spans_one_byte) {
  const uint8_t root[] = {0};
  char name[4] = "xyz";
  cr_assert_eq(mg_dns_parse_name(root, 1, 0, name, 1), 1);
  cr_assert_str_eq(name, "");
}

Test(dns, pointer_that_does_not_point_back_ends_the_name) {
  const uint8_t self[] = {0xc0, 0};
  const uint8_t forward[] = {1, 'a', 0xc0, 4, 1, 'b', 0xc0, 0};
  char name[256];
  // A self-pointer is an empty name spanning its two bytes, as in Mongoose 7.22
  cr_assert_eq(mg_dns_parse_name(self, sizeof(self), 0, name, sizeof(name)), 2);
  cr_assert_str_eq(name, "");
  // "a" then a pointer forward: the name ends there
  cr_assert_eq(mg_dns_parse_name(forward, sizeof(forward), 0, name, sizeof(name)), 4);
  cr_assert_str_eq(name, "a");
  // "b" then back to "a", whose pointer (to 4) is not before 0: a loop cut short
  cr_assert_eq(mg_dns_parse_name(forward, sizeof(forward), 4, name, sizeof(name)), 4);
  cr_assert_str_eq(name, "b.a");
  cr_assert_eq(mg_dns_parse_name(forward, sizeof(forward), 4, NULL, 0), 4);
}

Test(dns, pointers_must_keep_pointing_further_back) {
  // "x" at 0; at 3 "y" + pointer to 0; at 7 a pointer to 3, then at 9 a pointer to 7
  const uint8_t pkt[] = {1, 'x', 0, 1, 'y', 0xc0, 0, 0xc0, 3, 0xc0, 7};
  char name[16];
  cr_assert_eq(mg_dns_parse_name(pkt, sizeof(pkt), 9, name, sizeof(name)), 2);
  cr_assert_str_eq(name, "y.x");
  // A loop of two pointers that each point back: 2 -> 0 -> (2: not before 0) ends
  const uint8_t loop[] = {0xc0, 2, 0xc0, 0};
  cr_assert_eq(mg_dns_parse_name(loop, sizeof(loop), 2, name, sizeof(name)), 2);
  cr_assert_str_eq(name, "");
}

Test(dns, name_refuses_too_many_hops_even_without_a_loop) {
  // The root at 0, then 17 pointers, each to the one before it
  uint8_t chain[1 + 17 * 2];
  char name[8];
  chain[0] = 0;
  for (int i = 0; i < 17; i++) chain[1 + 2 * i] = 0xc0, chain[2 + 2 * i] = (uint8_t) (i == 0 ? 0 : 2 * i - 1);
  cr_assert_eq(mg_dns_parse_name(chain, sizeof(chain), 33, name, sizeof(name)), 0);  // 17 hops
  cr_assert_eq(mg_dns_parse_name(chain, sizeof(chain), 31, name, sizeof(name)), 2);  // 16 hops
  cr_assert_str_eq(name, "");
}

Test(dns, name_refuses_pointers_and_labels_out_of_bounds) {
  const uint8_t far[] = {0xc0, 0x40};
  const uint8_t half_pointer[] = {1, 'a', 0xc0};
  const uint8_t long_label[] = {5, 'a', 'b'};
  const uint8_t unterminated[] = {1, 'a'};
  char name[256];
  cr_assert_eq(mg_dns_parse_name(far, sizeof(far), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(half_pointer, sizeof(half_pointer), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(long_label, sizeof(long_label), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(unterminated, sizeof(unterminated), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(unterminated, sizeof(unterminated), 2, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(NULL, 10, 0, name, sizeof(name)), 0);
}

Test(dns, name_refuses_reserved_label_types) {
  // 0x40 and 0x80 prefixes: also what a label "longer than 63" looks like
  uint8_t ext[70] = {0x40}, big[200] = {0x80};
  char name[256];
  memset(ext + 1, 'a', 64);
  memset(big + 1, 'a', 128);
  cr_assert_eq(mg_dns_parse_name(ext, sizeof(ext), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(big, sizeof(big), 0, name, sizeof(name)), 0);
}

// Writes labels of the given sizes ('a'..), returns the wire length
static size_t dns_test_name(uint8_t *p, const int *sizes, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    p[pos++] = (uint8_t) sizes[i];
    memset(p + pos, 'a' + (int) i, (size_t) sizes[i]);
    pos += (size_t) sizes[i];
  }
  p[pos++] = 0;
  return pos;
}

Test(dns, name_length_limit_is_255_on_the_wire) {
  uint8_t wire[400];
  char name[256];
  static const int fits[] = {63, 63, 63, 61};  // 255 bytes on the wire, 253 dotted
  static const int over[] = {63, 63, 63, 62};  // 256 bytes
  size_t n = dns_test_name(wire, fits, 4);
  cr_assert_eq(n, 255);
  cr_assert_eq(mg_dns_parse_name(wire, n, 0, name, sizeof(name)), 255);
  cr_assert_eq(strlen(name), 253);
  cr_assert_eq(mg_dns_parse_name(wire, n, 0, name, 254), 255);
  cr_assert_eq(mg_dns_parse_name(wire, n, 0, name, 253), 0);  // No room for the NUL
  n = dns_test_name(wire, over, 4);
  cr_assert_eq(mg_dns_parse_name(wire, n, 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(wire, n, 0, NULL, 0), 0);
}

Test(dns, name_fails_when_output_is_too_small_at_every_size) {
  char name[16];
  // "example.com" needs 12 bytes
  for (size_t tolen = 0; tolen < 12; tolen++) {
    cr_assert_eq(mg_dns_parse_name(a_response, sizeof(a_response), 12, name, tolen), 0, "tolen %zu", tolen);
  }
  cr_assert_eq(mg_dns_parse_name(a_response, sizeof(a_response), 12, name, 12), 13);
  cr_assert_str_eq(name, "example.com");
}

Test(dns, name_with_dot_or_nul_in_a_label_cannot_be_written_dotted) {
  const uint8_t dotted[] = {3, 'a', '.', 'b', 0};
  const uint8_t nul[] = {3, 'a', 0, 'b', 0};
  char name[16];
  cr_assert_eq(mg_dns_parse_name(dotted, sizeof(dotted), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(nul, sizeof(nul), 0, name, sizeof(name)), 0);
  cr_assert_eq(mg_dns_parse_name(dotted, sizeof(dotted), 0, NULL, 0), 5);  // Still walkable
}

Test(dns, rr_reports_question_and_answer_spans) {
  struct mg_dns_rr rr;
  cr_assert_eq(mg_dns_parse_rr(a_response, sizeof(a_response), 12, true, &rr), 17);
  cr_assert_eq(rr.nlen, 13);
  cr_assert_eq(rr.atype, MG_DNS_TYPE_A);
  cr_assert_eq(rr.aclass, 1);
  cr_assert_eq(rr.alen, 0);
  cr_assert_eq(mg_dns_parse_rr(a_response, sizeof(a_response), 29, false, &rr), 16);
  cr_assert_eq(rr.nlen, 2);
  cr_assert_eq(rr.atype, MG_DNS_TYPE_A);
  cr_assert_eq(rr.alen, 4);
  cr_assert_eq(mg_dns_parse_rr(cname_response, sizeof(cname_response), 33, false, &rr), 25);
  cr_assert_eq(rr.atype, MG_DNS_TYPE_CNAME);
  cr_assert_eq(rr.alen, 13);
}

Test(dns, rr_fails_when_truncated_at_every_length) {
  struct mg_dns_rr rr;
  for (size_t len = 0; len < 29; len++) {
    cr_assert_eq(mg_dns_parse_rr(a_response, len, 12, true, &rr), 0, "question, len %zu", len);
  }
  for (size_t len = 0; len < sizeof(a_response); len++) {
    cr_assert_eq(mg_dns_parse_rr(a_response, len, 29, false, &rr), 0, "answer, len %zu", len);
  }
  cr_assert_eq(mg_dns_parse_rr(a_response, sizeof(a_response), sizeof(a_response), false, &rr), 0);
}

Test(dns, response_fails_when_truncated_at_every_length) {
  const uint8_t *pkts[] = {a_response, aaaa_response, cname_response};
  size_t lens[] = {sizeof(a_response), sizeof(aaaa_response), sizeof(cname_response)};
  for (size_t p = 0; p < 3; p++) {
    for (size_t len = 0; len < lens[p]; len++) {
      struct mg_dns_message dm;
      cr_assert_not(mg_dns_parse(pkts[p], len, &dm), "packet %zu, len %zu", p, len);
      cr_assert_not(dm.resolved, "packet %zu, len %zu", p, len);
    }
  }
}

Test(dns, response_fails_when_counts_lie) {
  uint8_t pkt[sizeof(a_response)];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[7] = 2;  // Two answers claimed, one present
  cr_assert_not(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
  pkt[6] = 0xff, pkt[7] = 0xff;
  cr_assert_not(mg_dns_parse(pkt, sizeof(pkt), &dm));
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[5] = 2;  // Two questions claimed: the answer is read as a question, then runs out
  cr_assert_not(mg_dns_parse(pkt, sizeof(pkt), &dm));
}

Test(dns, response_fails_when_rdlength_lies) {
  uint8_t pkt[sizeof(a_response)];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[40] = 5;  // rdlength 5, 4 bytes present
  cr_assert_not(mg_dns_parse(pkt, sizeof(pkt), &dm));
  pkt[39] = 0xff, pkt[40] = 0xff;
  cr_assert_not(mg_dns_parse(pkt, sizeof(pkt), &dm));
}

Test(dns, a_record_with_wrong_rdlength_is_skipped) {
  uint8_t pkt[sizeof(a_response) - 1];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[40] = 3;  // A record with 3 bytes of data: well-formed, unusable
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
}

Test(dns, a_record_with_long_rdlength_is_skipped) {
  uint8_t pkt[sizeof(a_response) + 1];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(a_response));
  pkt[40] = 5, pkt[sizeof(a_response)] = 9;
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
}

Test(dns, aaaa_record_with_wrong_rdlength_is_skipped) {
  uint8_t pkt[sizeof(aaaa_response) - 1];
  struct mg_dns_message dm;
  memcpy(pkt, aaaa_response, sizeof(pkt));
  pkt[31] = 15;
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
}

Test(dns, only_class_in_records_resolve) {
  uint8_t pkt[sizeof(a_response)];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[34] = 3;  // CHAOS
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
}

Test(dns, error_rcode_parses_but_does_not_resolve) {
  uint8_t pkt[sizeof(a_response)];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[3] = 0x83;  // NXDOMAIN
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.resolved);
  cr_assert_eq(dm.txnid, 0x1234);
  cr_assert_str_eq(dm.name, "example.com");
}

Test(dns, a_query_parses_to_its_question_and_never_resolves) {
  uint8_t pkt[sizeof(a_response)];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(pkt));
  pkt[2] = 0x01;  // QR clear: the answer section is a query's known answer, not taken
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_not(dm.is_response);
  cr_assert_not(dm.resolved);
  cr_assert_str_eq(dm.name, "example.com");
  cr_assert_str_eq(dm.qname, "example.com");
  pkt[2] = 0x81;
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert(dm.is_response);
  cr_assert_not(mg_dns_parse(NULL, 100, &dm));
}

Test(dns, messages_over_512_bytes_are_refused) {
  uint8_t pkt[600];
  struct mg_dns_message dm;
  memset(pkt, 0, sizeof(pkt));
  memcpy(pkt, a_response, sizeof(a_response));
  cr_assert(mg_dns_parse(pkt, 512, &dm));
  cr_assert(dm.resolved);
  cr_assert_not(mg_dns_parse(pkt, 513, &dm));
  cr_assert_not(dm.resolved);
}

Test(dns, first_address_answer_wins) {
  // a_response plus a second A answer 1.1.1.1
  uint8_t pkt[sizeof(a_response) + 16];
  struct mg_dns_message dm;
  memcpy(pkt, a_response, sizeof(a_response));
  memcpy(pkt + sizeof(a_response), pkt + 29, 16);
  memset(pkt + sizeof(a_response) + 12, 1, 4);
  pkt[7] = 2;
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert_arr_eq(dm.addr.addr.ip, ((uint8_t[]) {93, 184, 216, 34}), 4);
}

Test(dns, response_without_questions_has_an_empty_name) {
  const uint8_t pkt[] = {0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                         0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4};
  struct mg_dns_message dm;
  cr_assert(mg_dns_parse(pkt, sizeof(pkt), &dm));
  cr_assert(dm.resolved);
  cr_assert_str_eq(dm.name, "");
  cr_assert_eq(dm.qtype, 0, "no question: nothing a resolver could match");
  cr_assert_arr_eq(dm.addr.addr.ip, ((uint8_t[]) {1, 2, 3, 4}), 4);
}

Test(dns, builds_a_recursive_query) {
  uint8_t buf[512];
  static const uint8_t want[] = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                 1, 'a', 2, 'b', 'c', 0, 0, 1, 0, 1};
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 0xabcd, mg_str("a.bc"), false), sizeof(want));
  cr_assert_arr_eq(buf, want, sizeof(want));
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 0xabcd, mg_str("a.bc."), true), sizeof(want));
  cr_assert_eq(buf[19], 28);  // AAAA
  cr_assert_arr_eq(buf, want, 19);
}

Test(dns, built_query_reads_back_as_the_same_name) {
  static const char *const names[] = {"localhost", "example.com", "WWW.Example.COM.", "x-1.y_2.z"};
  for (size_t i = 0; i < MG_ARRAY_SIZE(names); i++) {
    uint8_t buf[300];
    struct mg_dns_message dm;
    size_t n = mg_dns_build_query(buf, sizeof(buf), 7, mg_str(names[i]), false);
    cr_assert_gt(n, 0, "%s", names[i]);
    buf[2] |= 0x80;  // Make it look like an (empty) response
    cr_assert(mg_dns_parse(buf, n, &dm), "%s", names[i]);
    cr_assert_eq(strncmp(dm.name, names[i], strlen(dm.name)), 0, "%s", names[i]);
    cr_assert_eq(strlen(dm.name), strlen(names[i]) - (names[i][strlen(names[i]) - 1] == '.'));
  }
}

Test(dns, query_name_limits) {
  uint8_t buf[512];
  char name[300];
  memset(name, 'a', sizeof(name));
  // 63 is the longest label
  cr_assert_gt(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(name, 63), false), 0);
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(name, 64), false), 0);
  // 253 characters is the longest name: 63.63.63.61
  name[63] = name[127] = name[191] = '.';
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(name, 253), false), 12 + 255 + 4);
  name[253] = '.';
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(name, 254), false), 12 + 255 + 4);
  name[253] = 'a';
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(name, 254), false), 0);
}

Test(dns, query_refuses_bad_names) {
  static const char *const bad[] = {"", ".", "..", "a..b", ".a", "a.b..", "a\0b"};
  static const size_t lens[] = {0, 1, 2, 4, 2, 5, 3};
  uint8_t buf[512];
  for (size_t i = 0; i < MG_ARRAY_SIZE(bad); i++) {
    cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(bad[i], lens[i]), false), 0, "%zu", i);
  }
  cr_assert_eq(mg_dns_build_query(buf, sizeof(buf), 1, mg_str_n(NULL, 0), false), 0);
  cr_assert_eq(mg_dns_build_query(NULL, 0, 1, mg_str("a"), false), 0);
}

Test(dns, query_fails_and_leaves_buf_alone_when_too_small_at_every_size) {
  uint8_t buf[64];
  size_t need = mg_dns_build_query(buf, sizeof(buf), 1, mg_str("example.com"), false);
  cr_assert_eq(need, 12 + 13 + 4);
  for (size_t len = 0; len < need; len++) {
    memset(buf, 0x5a, sizeof(buf));
    cr_assert_eq(mg_dns_build_query(buf, len, 1, mg_str("example.com"), false), 0, "len %zu", len);
    for (size_t i = 0; i < sizeof(buf); i++) cr_assert_eq(buf[i], 0x5a, "len %zu: byte %zu written", len, i);
  }
}

// ---- The resolver against a fake nameserver on the same manager ----

enum { NS_RIGHT, NS_WRONG_ID, NS_WRONG_NAME, NS_WRONG_QTYPE, NS_WRONG_QCLASS, NS_UPPER_CASE,
       NS_WRONG_ID_THEN_RIGHT, NS_OTHER_PORT, NS_OTHER_PORT_THEN_RIGHT, NS_SILENT, NS_ECHO_QUERY };

struct fake_ns {
  int mode;
  int queries;
  uint16_t ports[4], ids[4];  // Source port (host order) and id of each query
};

// The query turned into an answer: QR|RD|RA, one A record 127.0.0.<last>
static size_t fake_ns_answer(const uint8_t *q, size_t qlen, uint8_t *resp, uint8_t last) {
  const uint8_t answer[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, last};
  memcpy(resp, q, qlen);
  resp[2] = 0x81, resp[3] = 0x80;
  resp[6] = 0, resp[7] = 1;
  memcpy(resp + qlen, answer, sizeof(answer));
  return qlen + sizeof(answer);
}

// Sends from a socket of its own: another source port than the one asked
static void fake_ns_send_from_elsewhere(const struct mg_connection *c, const uint8_t *buf, size_t len) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = c->rem.port};
  memcpy(&sin.sin_addr, c->rem.addr.ip, 4);
  cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *) &sin, sizeof(sin)), (ssize_t) len);
  close(fd);
}

static void fake_ns_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct fake_ns *ns = (struct fake_ns *) c->fn_data;
  if (ev != MG_EV_READ || c->recv.len < 17 || c->recv.len > 300) return;
  uint8_t q[300], resp[400];
  size_t qlen = c->recv.len, n;
  memcpy(q, c->recv.buf, qlen);
  c->recv.len = 0;
  if (ns->queries < 4) {
    ns->ports[ns->queries] = mg_ntohs(c->rem.port);
    ns->ids[ns->queries] = (uint16_t) (q[0] << 8 | q[1]);
  }
  ns->queries++;
  n = fake_ns_answer(q, qlen, resp, 1);
  switch (ns->mode) {
    case NS_WRONG_ID: resp[1] ^= 1; break;
    case NS_WRONG_NAME: resp[13] ^= 1; break;             // First letter of the name
    case NS_WRONG_QTYPE: resp[qlen - 3] = MG_DNS_TYPE_AAAA; break;
    case NS_WRONG_QCLASS: resp[qlen - 1] = 3; break;      // CHAOS
    case NS_UPPER_CASE:
      for (size_t i = 13; i < qlen - 5; i++) resp[i] = (uint8_t) toupper(resp[i]);
      break;
    case NS_WRONG_ID_THEN_RIGHT: {
      uint8_t bad[400];
      memcpy(bad, resp, n);
      bad[1] ^= 1, bad[n - 1] = 2;
      mg_send(c, bad, n);
      break;
    }
    case NS_OTHER_PORT:
      fake_ns_send_from_elsewhere(c, resp, n);
      return;
    case NS_OTHER_PORT_THEN_RIGHT: {
      uint8_t spoof[400];
      memcpy(spoof, resp, n);
      spoof[n - 1] = 2;
      fake_ns_send_from_elsewhere(c, spoof, n);
      break;
    }
    case NS_SILENT: return;
    case NS_ECHO_QUERY:  // The query itself, with an answer: QR clear, so no response
      resp[2] = q[2], resp[3] = q[3];
      break;
    default: break;
  }
  mg_send(c, resp, n);
  (void) ev_data;
}

struct lookup {
  bool done, resolved;
  struct mg_addr addr;
  char error[160];
};

static void lookup_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct lookup *l = (struct lookup *) c->fn_data;
  if (ev == MG_EV_RESOLVE) {
    l->resolved = true;
    l->addr = c->rem;
  } else if (ev == MG_EV_CONNECT) {
    c->is_closing = 1;
  } else if (ev == MG_EV_ERROR) {
    mg_snprintf(l->error, sizeof(l->error), "%s", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    l->done = true;
  }
}

static void dns_poll_until(struct mg_mgr *mgr, struct lookup *l, size_t n, int max_ms) {
  uint64_t end = mg_millis() + (uint64_t) max_ms;
  for (;;) {
    bool all = true;
    for (size_t i = 0; i < n; i++) all = all && l[i].done;
    if (all || mg_millis() >= end) break;
    mg_mgr_poll(mgr, 5);
  }
}

// One lookup of name through a fake nameserver in the given mode
static void dns_lookup(int mode, const char *name, struct fake_ns *ns, struct lookup *l) {
  struct mg_mgr mgr;
  char nsurl[64], url[300];
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  mgr.dnstimeout = 300;
  ns->mode = mode;
  struct mg_connection *lc = mg_listen(&mgr, "udp://127.0.0.1:0", fake_ns_fn, ns);
  cr_assert_not_null(lc);
  mg_snprintf(nsurl, sizeof(nsurl), "udp://127.0.0.1:%d", mg_ntohs(lc->loc.port));
  mgr.dns4.url = nsurl;
  mg_snprintf(url, sizeof(url), "udp://%s:9", name);
  cr_assert_not_null(mg_connect(&mgr, url, lookup_fn, l));
  dns_poll_until(&mgr, l, 1, 3000);
  cr_assert(l->done);
  mg_mgr_free(&mgr);
}

Test(resolver, takes_a_right_answer) {
  struct fake_ns ns = {0};
  struct lookup l = {0};
  dns_lookup(NS_RIGHT, "device.test", &ns, &l);
  cr_assert(l.resolved, "error: %s", l.error);
  cr_assert_arr_eq(l.addr.addr.ip, ((uint8_t[]) {127, 0, 0, 1}), 4);
  cr_assert_eq(mg_ntohs(l.addr.port), 9);
  cr_assert_eq(ns.queries, 1);
}

Test(resolver, matches_the_question_name_case_insensitively) {
  struct fake_ns ns = {0};
  struct lookup l = {0};
  dns_lookup(NS_UPPER_CASE, "Device.test", &ns, &l);
  cr_assert(l.resolved, "error: %s", l.error);
}

static void dns_expect_ignored(int mode) {
  struct fake_ns ns = {0};
  struct lookup l = {0};
  uint64_t start = mg_millis();
  dns_lookup(mode, "device.test", &ns, &l);
  uint64_t took = mg_millis() - start;
  cr_assert_not(l.resolved, "mode %d: a mismatched answer was taken", mode);
  cr_assert_str_eq(l.error, "DNS timeout", "mode %d", mode);
  cr_assert(took >= 290, "mode %d: gave up after %lu ms", mode, (unsigned long) took);
  cr_assert_eq(ns.queries, 1);
}

Test(resolver, ignores_its_own_query_sent_back) {
  dns_expect_ignored(NS_ECHO_QUERY);
}

Test(resolver, ignores_an_answer_with_the_wrong_id) {
  dns_expect_ignored(NS_WRONG_ID);
}

Test(resolver, ignores_an_answer_to_another_name) {
  dns_expect_ignored(NS_WRONG_NAME);
}

Test(resolver, ignores_an_answer_to_another_qtype) {
  dns_expect_ignored(NS_WRONG_QTYPE);
}

Test(resolver, ignores_an_answer_to_another_qclass) {
  dns_expect_ignored(NS_WRONG_QCLASS);
}

Test(resolver, ignores_an_answer_from_another_source_port) {
  dns_expect_ignored(NS_OTHER_PORT);
}

Test(resolver, takes_the_right_answer_after_a_wrong_id) {
  struct fake_ns ns = {0};
  struct lookup l = {0};
  dns_lookup(NS_WRONG_ID_THEN_RIGHT, "device.test", &ns, &l);
  cr_assert(l.resolved, "error: %s", l.error);
  cr_assert_arr_eq(l.addr.addr.ip, ((uint8_t[]) {127, 0, 0, 1}), 4);
}

Test(resolver, takes_the_right_answer_after_one_from_another_port) {
  struct fake_ns ns = {0};
  struct lookup l = {0};
  dns_lookup(NS_OTHER_PORT_THEN_RIGHT, "device.test", &ns, &l);
  cr_assert(l.resolved, "error: %s", l.error);
  cr_assert_arr_eq(l.addr.addr.ip, ((uint8_t[]) {127, 0, 0, 1}), 4);
}

Test(resolver, concurrent_lookups_use_their_own_ports_and_ids) {
  struct mg_mgr mgr;
  struct fake_ns ns = {0};
  struct lookup l[2] = {{0}, {0}};
  char nsurl[64];
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  struct mg_connection *lc = mg_listen(&mgr, "udp://127.0.0.1:0", fake_ns_fn, &ns);
  mg_snprintf(nsurl, sizeof(nsurl), "udp://127.0.0.1:%d", mg_ntohs(lc->loc.port));
  mgr.dns4.url = nsurl;
  mg_connect(&mgr, "udp://one.test:9", lookup_fn, &l[0]);
  mg_connect(&mgr, "udp://two.test:9", lookup_fn, &l[1]);
  dns_poll_until(&mgr, l, 2, 3000);
  cr_assert(l[0].resolved && l[1].resolved, "errors: %s / %s", l[0].error, l[1].error);
  cr_assert_eq(ns.queries, 2);
  cr_assert_neq(ns.ports[0], ns.ports[1], "both queries came from port %u", ns.ports[0]);
  cr_assert_neq(ns.ids[0], ns.ids[1]);
  // The query connections are gone with their lookups: only the nameserver is left
  mg_mgr_poll(&mgr, 0);
  cr_assert_eq(mgr.conns, lc);
  cr_assert_null(lc->next);
  mg_mgr_free(&mgr);
}

Test(resolver, source_ports_and_ids_vary_across_lookups_on_one_manager) {
  // 8 lookups in a row: a fixed port or id would repeat every time
  struct mg_mgr mgr;
  struct fake_ns ns = {0};
  char nsurl[64];
  uint16_t ports[8], ids[8];
  int distinct_ports = 0, distinct_ids = 0;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  struct mg_connection *lc = mg_listen(&mgr, "udp://127.0.0.1:0", fake_ns_fn, &ns);
  mg_snprintf(nsurl, sizeof(nsurl), "udp://127.0.0.1:%d", mg_ntohs(lc->loc.port));
  mgr.dns4.url = nsurl;
  for (int i = 0; i < 8; i++) {
    struct lookup l = {0};
    ns.queries = 0;
    mg_connect(&mgr, "udp://device.test:9", lookup_fn, &l);
    dns_poll_until(&mgr, &l, 1, 3000);
    cr_assert(l.resolved, "error: %s", l.error);
    ports[i] = ns.ports[0], ids[i] = ns.ids[0];
  }
  for (int i = 0; i < 8; i++) {
    bool seen_port = false, seen_id = false;
    for (int j = 0; j < i; j++) seen_port |= ports[j] == ports[i], seen_id |= ids[j] == ids[i];
    distinct_ports += !seen_port, distinct_ids += !seen_id;
  }
  cr_assert_geq(distinct_ports, 6);
  cr_assert_geq(distinct_ids, 6);
  mg_mgr_free(&mgr);
}

Test(resolver, lookup_closed_while_waiting_leaves_nothing_behind) {
  struct mg_mgr mgr;
  struct fake_ns ns = {.mode = NS_SILENT};
  struct lookup l = {0};
  char nsurl[64];
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  struct mg_connection *lc = mg_listen(&mgr, "udp://127.0.0.1:0", fake_ns_fn, &ns);
  mg_snprintf(nsurl, sizeof(nsurl), "udp://127.0.0.1:%d", mg_ntohs(lc->loc.port));
  mgr.dns4.url = nsurl;
  struct mg_connection *c = mg_connect(&mgr, "udp://slow.test:9", lookup_fn, &l);
  for (int i = 0; i < 5; i++) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(ns.queries, 1);
  c->is_closing = 1;
  mg_mgr_poll(&mgr, 0);
  mg_mgr_poll(&mgr, 0);
  cr_assert(l.done);
  cr_assert_null(mgr.active_dns_requests);
  cr_assert_eq(mgr.conns, lc, "the query connection closed with its lookup");
  cr_assert_null(lc->next);
  mg_mgr_free(&mgr);
}

Test(resolver, host_name_as_nameserver_is_a_clear_error_not_a_recursion) {
  struct mg_mgr mgr;
  struct lookup l = {0};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  mgr.dns4.url = "udp://ns.invalid:53";
  mg_connect(&mgr, "tcp://x.invalid:80", lookup_fn, &l);
  dns_poll_until(&mgr, &l, 1, 1000);
  cr_assert(l.done);
  cr_assert_str_eq(l.error, "DNS error", "as Mongoose 7.22 says it; the log says why");
  cr_assert_null(mgr.conns);
  mg_mgr_free(&mgr);
}

Test(resolver, nameserver_url_must_be_udp) {
  struct mg_mgr mgr;
  struct lookup l = {0};
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  mgr.dns4.url = "tcp://127.0.0.1:53";
  mg_connect(&mgr, "tcp://x.invalid:80", lookup_fn, &l);
  dns_poll_until(&mgr, &l, 1, 1000);
  cr_assert(l.done);
  cr_assert_str_eq(l.error, "DNS error");
  mg_mgr_free(&mgr);
}

Test(resolver, names_in_the_hosts_file_resolve_without_dns) {
  struct mg_mgr mgr;
  struct lookup l = {0};
  char path[] = "/tmp/meerkat_hosts_XXXXXX";
  const char hosts[] = "# test\n192.0.2.7 box.lan Box\n";
  int fd = mkstemp(path);
  cr_assert_eq(write(fd, hosts, sizeof(hosts) - 1), (ssize_t) sizeof(hosts) - 1);
  close(fd);
  mg_port_hosts_path = path;
  mg_mgr_init(&mgr);
  mg_log_set(MG_LL_NONE);
  mgr.dns4.url = "udp://ns.invalid:53";  // Any DNS lookup would fail at once
  mg_connect(&mgr, "udp://BOX:9", lookup_fn, &l);
  dns_poll_until(&mgr, &l, 1, 1000);
  mg_port_hosts_path = "/etc/hosts";
  unlink(path);
  cr_assert(l.resolved, "error: %s", l.error);
  cr_assert_arr_eq(l.addr.addr.ip, ((uint8_t[]) {192, 0, 2, 7}), 4);
  mg_mgr_free(&mgr);
}
