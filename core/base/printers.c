// The %M printers Mongoose 7.22 adds for markup and link-layer addresses, built on
// printf.c's own: HTML-escaped text, EUI-64s, and a layer-2 address by its type.
#include "mg_internal.h"

// What HTML text and quoted attribute values need escaped (HTML 5, 13.1.2.6 and
// the attribute value states); the rest passes as is. Arguments as mg_print_esc's:
// int len (< 0: NUL-terminated), const char *s
size_t mg_print_html_esc(mg_pfn_t out, void *param, va_list *ap) {
  int len = va_arg(*ap, int);
  const char *s = va_arg(*ap, const char *);
  size_t n = s == NULL ? 0 : len >= 0 ? (size_t) len : strlen(s), total = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    const char *esc = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
    if (esc == NULL) {
      out(c, param), total++;
    } else {
      for (const char *p = esc; *p != '\0'; p++) out(*p, param), total++;
    }
  }
  return total;
}

// args: uint64_t; eight bytes, most significant first, as IEEE writes EUI-64s
size_t mg_print_ieee64(mg_pfn_t out, void *param, va_list *ap) {
  uint64_t v = va_arg(*ap, uint64_t);
  uint8_t b[8];
  MG_STORE_BE64(b, v);
  return mg_xprintf(out, param, "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

// args: the link type (Mongoose's enum mg_l2type: 0 Ethernet, 1 PPP, 2 PPPoE), then
// its address: Ethernet and PPPoE frames carry a MAC; a PPP link has no address
size_t mg_print_l2addr(mg_pfn_t out, void *param, va_list *ap) {
  int type = va_arg(*ap, int);
  const uint8_t *addr = va_arg(*ap, const uint8_t *);
  if ((type != 0 && type != 2) || addr == NULL) return 0;
  return mg_xprintf(out, param, "%M", mg_print_mac, addr);
}
