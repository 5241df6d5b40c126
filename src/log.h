/*
 * log.h - JSON lines on stderr, which is the web server's error log.
 *
 * Each line is one object: {"time":"…","level":"…","msg":"…",…}. Strings
 * are escaped per RFC 8259, so nothing a client sends can forge a line.
 *
 * Caveats: not thread-safe beyond what a single write(2) per line gives;
 * each line is formatted into a bounded stack buffer and written at once,
 * so lines from concurrent processes never interleave (up to PIPE_BUF).
 */
#ifndef SHERVE_LOG_H
#define SHERVE_LOG_H

#include <stdarg.h>

/*
 * Prefixed SH_ because <syslog.h> defines LOG_DEBUG, LOG_INFO and
 * LOG_WARNING as macros: a file that includes both must compile and mean
 * what it says (tests/unit/test_conf.c includes both to keep it so).
 */
enum log_level { SH_LOG_DEBUG = 0, SH_LOG_INFO, SH_LOG_WARN, SH_LOG_ERROR };

/* Set the threshold; lines below it are dropped. */
void log_set_level(enum log_level lvl);

/* Parse "debug", "info", "warn" or "error". Returns 0, or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/* The name log_level_parse() reads for lvl: "debug", "info", ... */
const char *log_level_name(enum log_level lvl);

/* 1 if a line at lvl would be written (to skip building costly fields). */
int log_enabled(enum log_level lvl);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)" and preserves errno. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * One structured line: msg plus key/value string pairs ending in NULL.
 * Values are escaped; a NULL value is skipped.
 */
void log_fields(enum log_level lvl, const char *msg, ...);

#endif
