// What the core asks of the platform: time, random bytes, the default log sink
// and the resolver's configuration. One file per platform implements it.
#ifndef MG_PORT_H
#define MG_PORT_H

#include "meerkat.h"

// uint64_t mg_millis(void): monotonic milliseconds, declared in mg_timer.h

// Fills buf from the platform's CSPRNG; true only if every byte came from it
bool mg_port_random(void *buf, size_t len);

// Wall-clock seconds since 1970 (UTC) into *t; false if the platform has no set clock
bool mg_port_wall_time(time_t *t);

// The default log sink, one character at a time; flushes at the end of a line
void mg_port_putchar(char ch);

// The first configured nameserver as "udp://IP:53" into buf; its length, or 0 if none
size_t mg_port_nameserver(char *buf, size_t len);

// Looks name up in the hosts file (case-insensitive, aliases too); the first
// address of the wanted family goes to out (port 0). false if not listed.
bool mg_port_hosts_lookup(struct mg_str name, bool ipv6, struct mg_addr *out);

#if MG_PORT_POSIX
// Where the POSIX port reads its configuration; tests point these elsewhere
extern const char *mg_port_resolv_conf_path;  // "/etc/resolv.conf"
extern const char *mg_port_hosts_path;        // "/etc/hosts"
#endif

#endif  // MG_PORT_H
