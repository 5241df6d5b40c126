/*
 * util.h - error codes and bounded helpers shared by every module.
 *
 * Every sherve module returns an enum sherve_err (0 on success) and never
 * exits; only main.c and cli.c turn codes into exit statuses.
 *
 * Caveats: parse_u64() is the only number parser allowed on outside input
 * (atoi and raw strtol are banned, see scripts/checksrc).
 */
#ifndef SHERVE_UTIL_H
#define SHERVE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum sherve_err {
	SH_OK = 0,
	SH_ENOMEM,     /* allocation failed */
	SH_EINVAL,     /* invalid argument or value */
	SH_ENOTFOUND,  /* no such alias, file or key */
	SH_ETOOLONG,   /* did not fit in a bounded buffer */
	SH_EIO,        /* a system call failed; errno is kept */
	SH_EFETCH,     /* the upstream could not be fetched */
	SH_EPARSE,     /* the upstream body held no usable map */
	SH_ESTORE,     /* LMDB reported an error */
	SH_EBUSY,      /* another process holds the lock */
	SH_ESHRINK,    /* refused: the new map shrank beyond max-shrink */
	SH_EUNCHANGED, /* upstream answered 304 Not Modified */
	SH_EDAMAGED,   /* the store file is damaged: set it aside, rebuild */
	SH_ESTALE,     /* the store file was replaced or removed: reopen it */
	SH_ENOSPACE,   /* refused: too little free space to write safely */
	SH_ELOOP,      /* refused: the map has a redirect loop */
};

/* A static, human-readable text for an enum sherve_err. */
const char *sherve_strerror(int code);

/*
 * Parse a decimal unsigned number in [min, max], strtonum-style.
 * Returns 0 and sets *out, or -1 and points *errstr at "invalid",
 * "too small" or "too large".
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
              const char **errstr);

/*
 * Copy src into dst of size dstsz, always NUL-terminating when dstsz > 0.
 * Returns the length of src; a result >= dstsz means truncation.
 */
size_t str_copy(char *dst, const char *src, size_t dstsz);

/* 1 if the len bytes at s hold a control character (< 0x20 or 0x7f). */
int str_has_ctl(const char *s, size_t len);

/* 1 if s holds only ASCII (no byte >= 0x80) and none of the bytes in reject. */
int str_ascii_except(const char *s, const char *reject);

/* strdup that returns NULL for NULL input; the caller checks for ENOMEM. */
char *str_dup(const char *s);

/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int hex_value(char c);

/* A sink for json_escape(): takes n bytes at p; 0, or -1 to stop. */
typedef int (*json_put_fn)(void *ctx, const char *p, size_t n);

/*
 * Write s as the body of a JSON string (RFC 8259), without the quotes:
 * '"' and '\' escaped, control characters (and DEL) as \u00XX, ASCII
 * and well-formed UTF-8 as they are, in runs that never split a
 * sequence; a byte that is not UTF-8 (a request path may hold any) goes
 * as \u00XX too, so the output is always valid JSON. Returns 0, or -1
 * when put stopped it.
 */
int json_escape(const char *s, json_put_fn put, void *ctx);
/*
 * Who this process runs as, for messages that tell an admin what to
 * create for whom: "www-data (uid 33)", or "uid 1234" without a name.
 */
void util_whoami(char *out, size_t outsz);

/*
 * Nanoseconds on the monotonic clock, for durations and deadlines.
 * clock_gettime(CLOCK_MONOTONIC) is served by the vDSO: no system call,
 * so the request path may call it.
 */
static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
