// Levelled logging to a pluggable character sink (stdout by default).
// MG_INFO(("listening on %s", url)) prints "<ms> <level> <file>:<line>:<func> message".
#ifndef MG_LOG_H
#define MG_LOG_H

enum { MG_LL_NONE, MG_LL_ERROR, MG_LL_INFO, MG_LL_DEBUG, MG_LL_VERBOSE };

extern int mg_log_level;
void mg_log_set(int level);
void mg_log_set_fn(mg_pfn_t fn, void *param);  // Redirect output; NULL restores stdout
bool mg_log_prefix(int level, const char *file, int line, const char *fn);
void mg_log(const char *fmt, ...);  // mg_xprintf format: %M and %m work here
void mg_hexdump(const void *buf, size_t len);

#if MG_ENABLE_LOG
#define MG_LOG(level, args)                                       \
  do {                                                            \
    if ((level) <= mg_log_level &&                                \
        mg_log_prefix((level), __FILE__, __LINE__, __func__)) {   \
      mg_log args;                                                \
    }                                                             \
  } while (0)
#else
#define MG_LOG(level, args) \
  do {                      \
    if (0) mg_log args;     \
  } while (0)
#endif

#define MG_ERROR(args) MG_LOG(MG_LL_ERROR, args)
#define MG_INFO(args) MG_LOG(MG_LL_INFO, args)
#define MG_DEBUG(args) MG_LOG(MG_LL_DEBUG, args)
#define MG_VERBOSE(args) MG_LOG(MG_LL_VERBOSE, args)

#endif  // MG_LOG_H
