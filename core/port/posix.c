// The POSIX port: monotonic clock, getrandom() (or /dev/urandom), stdout as the
// log sink, and the resolver's configuration from /etc/resolv.conf and /etc/hosts.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "port/port.h"

#if MG_PORT_POSIX
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

const char *mg_port_resolv_conf_path = "/etc/resolv.conf";
const char *mg_port_hosts_path = "/etc/hosts";

uint64_t mg_millis(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static bool posix_urandom(unsigned char *p, size_t len) {
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  while (fd >= 0 && got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n > 0) got += (size_t) n;
    else if (n < 0 && errno == EINTR) continue;
    else break;
  }
  if (fd >= 0) close(fd);
  return got == len;
}

bool mg_port_random(void *buf, size_t len) {
  unsigned char *p = (unsigned char *) buf;
#if defined(__linux__)
  size_t got = 0;
  while (got < len) {  // Large requests may come back in pieces
    ssize_t n = getrandom(p + got, len - got, 0);
    if (n > 0) got += (size_t) n;
    else if (n < 0 && errno == EINTR) continue;
    else if (n < 0 && errno == ENOSYS) return posix_urandom(p + got, len - got);  // Kernel < 3.17
    else return false;
  }
  return true;
#else
  return posix_urandom(p, len);
#endif
}

bool mg_port_wall_time(time_t *t) {
  *t = time(NULL);
  return *t > 0;
}

void mg_port_putchar(char ch) {
  putchar((unsigned char) ch);
  if (ch == '\n') fflush(stdout);  // Whole lines, even into a pipe
}

// Next blank-separated word of *s, advancing *s past it; empty at the end
static struct mg_str posix_word(struct mg_str *s) {
  size_t i = 0, start;
  while (i < s->len && isspace((unsigned char) s->buf[i])) i++;
  start = i;
  while (i < s->len && !isspace((unsigned char) s->buf[i])) i++;
  struct mg_str w = mg_str_n(s->buf + start, i - start);
  *s = mg_str_n(s->buf + i, s->len - i);
  return w;
}

// One line at a time, without its comment; a line longer than buf is skipped whole
static bool posix_line(FILE *fp, char *buf, size_t len, struct mg_str *line) {
  while (fgets(buf, (int) len, fp) != NULL) {
    size_t n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n' && !feof(fp)) {
      int ch;
      while ((ch = fgetc(fp)) != EOF && ch != '\n') (void) 0;
      continue;
    }
    char *hash = strchr(buf, '#');
    if (hash != NULL) n = (size_t) (hash - buf);
    *line = mg_str_n(buf, n);
    return true;
  }
  return false;
}

// resolv.conf(5): "nameserver IP" lines; the first usable one wins
size_t mg_port_nameserver(char *buf, size_t len) {
  FILE *fp = fopen(mg_port_resolv_conf_path, "r");
  char line[256];
  struct mg_str s;
  size_t n = 0;
  while (fp != NULL && n == 0 && posix_line(fp, line, sizeof(line), &s)) {
    struct mg_addr a;
    if (!mg_str_eq(posix_word(&s), "nameserver")) continue;
    struct mg_str ip = posix_word(&s);
    if (!mg_aton(ip, &a)) continue;  // A link-local "fe80::1%eth0" among them
    n = mg_snprintf(buf, len, a.is_ip6 ? "udp://[%.*s]:53" : "udp://%.*s:53", (int) ip.len, ip.buf);
    if (n >= len) n = 0;  // Does not fit: say none rather than a cut address
  }
  if (fp != NULL) fclose(fp);
  return n;
}

// hosts(5): "IP canonical_name [aliases...]", '#' starts a comment
bool mg_port_hosts_lookup(struct mg_str name, bool ipv6, struct mg_addr *out) {
  FILE *fp = fopen(mg_port_hosts_path, "r");
  char line[512];
  struct mg_str s;
  bool found = false;
  if (name.len > 0 && name.buf[name.len - 1] == '.') name.len--;  // Fully qualified form
  while (fp != NULL && !found && name.len > 0 && posix_line(fp, line, sizeof(line), &s)) {
    struct mg_addr a;
    memset(&a, 0, sizeof(a));
    if (!mg_aton(posix_word(&s), &a) || a.is_ip6 != ipv6) continue;
    for (struct mg_str w = posix_word(&s); w.len > 0 && !found; w = posix_word(&s)) {
      if (mg_strcasecmp(w, name) != 0) continue;
      a.port = 0;
      *out = a;
      found = true;
    }
  }
  if (fp != NULL) fclose(fp);
  return found;
}
#endif  // MG_PORT_POSIX
