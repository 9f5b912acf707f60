// Logging: a level filter, a "time level file:line:func" prefix, and a
// replaceable character sink so devices can log to a UART or a ring buffer.
#include "meerkat.h"

int mg_log_level = MG_LL_INFO;
static mg_pfn_t log_sink = mg_pfn_stdout;
static void *log_sink_param = NULL;

void mg_log_set(int level) {
  mg_log_level = level;
}

void mg_log_set_fn(mg_pfn_t fn, void *param) {
  log_sink = fn == NULL ? mg_pfn_stdout : fn;
  log_sink_param = fn == NULL ? NULL : param;
}

static const char *log_basename(const char *path) {
  const char *p = path, *base = path;
  for (; *p != '\0'; p++)
    if (*p == '/' || *p == '\\') base = p + 1;
  return base;
}

bool mg_log_prefix(int level, const char *file, int line, const char *fn) {
  static const char *names[] = {"-", "ERROR", "INFO", "DEBUG", "VERBOSE"};
  const char *name = level >= 0 && level < (int) MG_ARRAY_SIZE(names) ? names[level] : "?";
  mg_xprintf(log_sink, log_sink_param, "%-6llu %-5s %s:%d:%s: ", (unsigned long long) mg_millis(),
             name, log_basename(file), line, fn);
  return true;
}

void mg_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_vxprintf(log_sink, log_sink_param, fmt, &ap);
  va_end(ap);
  log_sink('\n', log_sink_param);  // The default sink flushes here: whole lines, even into a pipe
}

void mg_hexdump(const void *buf, size_t len) {
  const unsigned char *p = (const unsigned char *) buf;
  for (size_t i = 0; i < len; i += 16) {
    mg_xprintf(log_sink, log_sink_param, "  %04lx ", (unsigned long) i);
    for (size_t j = i; j < i + 16; j++) {
      if (j < len) mg_xprintf(log_sink, log_sink_param, " %02x", p[j]);
      else mg_xprintf(log_sink, log_sink_param, "   ");
    }
    mg_xprintf(log_sink, log_sink_param, "  ");
    for (size_t j = i; j < i + 16 && j < len; j++) log_sink(p[j] >= 32 && p[j] < 127 ? (char) p[j] : '.', log_sink_param);
    log_sink('\n', log_sink_param);
  }
}
