/*
 * cond.h - entity tags and conditional requests (RFC 9110 section 13).
 *
 * The ETag is strong and built from the opened file's fstat() alone:
 * size, mtime with nanoseconds and, only if asked, the inode (which
 * differs between hosts behind one load balancer). The file is never read.
 *
 * Precedence follows RFC 9110 13.2.2: If-Match, then If-Unmodified-Since,
 * then If-None-Match, then If-Modified-Since (only without If-None-Match).
 */
#ifndef SHERVE_COND_H
#define SHERVE_COND_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#define ETAG_MAX 64

enum cond_result {
	COND_PROCEED = 0,         /* serve the representation */
	COND_NOT_MODIFIED,        /* 304 */
	COND_PRECONDITION_FAILED, /* 412 */
};

/* The conditional request headers; NULL when absent. */
struct cond_headers {
	const char *if_match;
	const char *if_none_match;
	const char *if_modified_since;
	const char *if_unmodified_since;
};

/*
 * Write a quoted strong ETag for st into out (at least ETAG_MAX bytes).
 * suffix distinguishes encodings ("" for identity, "br", "gz").
 * Returns 0, or -1 if out is too small.
 */
int cond_etag(const struct stat *st, int with_inode, const char *suffix,
              char *out, size_t outsz);

/*
 * 1 if the entity-tag list (an If-Match/If-None-Match value) matches etag.
 * "*" matches anything. weak selects weak comparison (W/ ignored).
 * A malformed list matches nothing.
 */
int cond_etag_match(const char *list, const char *etag, int weak);

/* Decide a GET/HEAD against its preconditions. */
enum cond_result cond_evaluate(const struct cond_headers *h, const char *etag,
                               time_t mtime);

/*
 * 1 if a Range request may be honoured under If-Range (absent, a strong
 * match of the ETag, or an HTTP date equal to mtime); 0 otherwise, in
 * which case the whole representation is sent.
 */
int cond_if_range(const char *if_range, const char *etag, time_t mtime);

#endif
