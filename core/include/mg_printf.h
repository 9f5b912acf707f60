// printf family with a pluggable character sink and two extensions:
//   %M  calls size_t fn(mg_pfn_t out, void *param, va_list *ap), which prints
//       what it likes and may consume further arguments from ap;
//   %m  the same, but the output is wrapped in double quotes.
// MG_ESC(s) is the %m argument pair that prints s JSON-escaped, so
// mg_snprintf(buf, n, "%m", MG_ESC("a\"b")) gives "a\"b" with quotes.
// Supported: %d %i %u %x %X %c %s %p %g %f %e %%, flags '-' '0' '+' ' ' '#', width,
// precision (also '*'), length h hh l ll z. Unknown conversions print as is.
#ifndef MG_PRINTF_H
#define MG_PRINTF_H

typedef void (*mg_pfn_t)(char, void *);                    // Character sink
typedef size_t (*mg_pm_t)(mg_pfn_t, void *, va_list *);   // %M / %m callback

size_t mg_vxprintf(mg_pfn_t out, void *param, const char *fmt, va_list *ap);
size_t mg_xprintf(mg_pfn_t out, void *param, const char *fmt, ...);
// Like snprintf: always NUL-terminates when len > 0; returns the full length.
size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap);
size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...);
// malloc'd result, NULL on allocation failure.
char *mg_vmprintf(const char *fmt, va_list *ap);
char *mg_mprintf(const char *fmt, ...);

// Sinks
// param: struct mg_iobuf *; grows it, keeps buf[len] == 0 when a byte is free for
// it, and drops what cannot be stored
void mg_pfn_iobuf(char ch, void *param);
// param: struct mg_iobuf * of a fixed size: never grows it; drops what does not fit
void mg_pfn_iobuf_noresize(char ch, void *param);
void mg_pfn_stdout(char ch, void *param);

// %M / %m helpers
// mg_print_esc args: int len, const char *s; len < 0 means s is NUL-terminated,
// len 0 prints nothing (an empty slice: s is not read)
size_t mg_print_esc(mg_pfn_t out, void *param, va_list *ap);
size_t mg_print_ip(mg_pfn_t out, void *param, va_list *ap);       // args: const struct mg_addr *
size_t mg_print_ip_port(mg_pfn_t out, void *param, va_list *ap);  // args: const struct mg_addr *
size_t mg_print_ip4(mg_pfn_t out, void *param, va_list *ap);      // args: const uint32_t *, network order
size_t mg_print_ip6(mg_pfn_t out, void *param, va_list *ap);      // args: const uint8_t[16]; RFC 5952 text
size_t mg_print_mac(mg_pfn_t out, void *param, va_list *ap);      // args: const uint8_t[6]: 02:ab:...
// args: int len, const void *buf: lowercase hex / padded base64 of len bytes
size_t mg_print_hex(mg_pfn_t out, void *param, va_list *ap);
size_t mg_print_base64(mg_pfn_t out, void *param, va_list *ap);
// args as mg_print_esc's (MG_ESC): the text with & < > " ' as HTML character references
size_t mg_print_html_esc(mg_pfn_t out, void *param, va_list *ap);
size_t mg_print_ieee64(mg_pfn_t out, void *param, va_list *ap);  // args: uint64_t: 00:11:...:77
// args: int type (0 Ethernet, 1 PPP, 2 PPPoE), const uint8_t *addr: a MAC, or nothing for PPP
size_t mg_print_l2addr(mg_pfn_t out, void *param, va_list *ap);
#define MG_ESC(str) mg_print_esc, -1, (str)  // NUL-terminated str
#define MG_IP(addr) mg_print_ip, (addr)
#define MG_IP_PORT(addr) mg_print_ip_port, (addr)

#endif  // MG_PRINTF_H
