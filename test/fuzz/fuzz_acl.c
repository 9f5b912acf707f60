// libFuzzer: mg_check_ip_acl over any list, against an IPv4 and an IPv6 peer. The
// answer is always -1, 0 or 1, and never reads past the list (ASan)
#include "meerkat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *copy = (char *) malloc(size + 1);  // Exactly size bytes are readable before the NUL
  if (copy == NULL) return 0;
  memcpy(copy, data, size);
  struct mg_addr v4, v6;
  memset(&v4, 0, sizeof(v4));
  memset(&v6, 0, sizeof(v6));
  mg_aton(mg_str("192.168.1.7"), &v4);
  mg_aton(mg_str("2001:db8::7"), &v6);
  int a = mg_check_ip_acl(mg_str_n(copy, size), &v4);
  int b = mg_check_ip_acl(mg_str_n(copy, size), &v6);
  if (a < -1 || a > 1 || b < -1 || b > 1) __builtin_trap();
  if ((a == -1) != (b == -1)) __builtin_trap();  // Well-formedness does not depend on the peer
  free(copy);
  return 0;
}
