// The device's platform on a host (device_port.h): the machine's name, its free memory
// and the process's peak resident set.
#include <sys/resource.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/sysinfo.h>
#endif
#include "device_port.h"

void device_host_name(char *buf, size_t len) {
  if (gethostname(buf, len - 1) != 0 || buf[0] == '\0') mg_snprintf(buf, len, "host");
  buf[len - 1] = '\0';
}

int64_t device_free_memory(void) {
#if defined(__linux__)
  struct sysinfo si;
  if (sysinfo(&si) == 0) {
    uint64_t units = si.freeram, unit = si.mem_unit == 0 ? 1 : si.mem_unit;
    return units > (uint64_t) INT64_MAX / unit ? INT64_MAX : (int64_t) (units * unit);
  }
#endif
  return 0;
}

int64_t device_memory_peak(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
  return (int64_t) ru.ru_maxrss;  // Bytes there
#else
  return (int64_t) ru.ru_maxrss * 1024;  // KiB on Linux and the BSDs
#endif
}
