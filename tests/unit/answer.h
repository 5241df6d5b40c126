/*
 * answer.h - a response written into memory and split again, for the
 * suites that call the request path without a web server (handler,
 * entity): a buffer sink, the answer parsed into status, headers and
 * body, the framing every answer must have, and the files of a test
 * webroot with their validators.
 *
 * Caveats: static inline, for one translation unit per test program;
 * include unit.h first; the program links libsherve (cond, httpdate).
 */
#ifndef SHERVE_ANSWER_H
#define SHERVE_ANSWER_H

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cond.h"
#include "httpdate.h"
#include "util.h"

/* ---- the sink ---- */

struct buf {
	char *p;
	size_t len, cap;
	unsigned writes;
	unsigned fail_after; /* 0: never fail */
};

/* The sink's write: append to b, or fail from write fail_after on. */
static inline int
buf_write(void *ctx, const char *data, size_t n)
{
	struct buf *b = ctx;

	b->writes++;
	if (b->fail_after != 0 && b->writes >= b->fail_after)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (p == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* ---- the answer, split ---- */

struct answer {
	int status; /* from the Status line, -1 if none */
	char *head; /* header block, NUL-terminated, "" if malformed */
	const char *body;
	size_t blen;
	int framed; /* the blank line was found */
};

/* Split the answer in b into a (free a->head). */
static inline void
answer_parse(struct answer *a, const struct buf *b)
{
	const char *end;
	size_t hl;

	memset(a, 0, sizeof(*a));
	a->status = -1;
	a->body = "";
	if (b->p == NULL || (end = strstr(b->p, "\r\n\r\n")) == NULL) {
		a->head = str_dup("");
		return;
	}
	hl = (size_t)(end - b->p) + 2;
	a->head = malloc(hl + 1);
	if (a->head == NULL)
		return;
	memcpy(a->head, b->p, hl);
	a->head[hl] = '\0';
	a->body = end + 4;
	a->blen = b->len - (size_t)(a->body - b->p);
	a->framed = 1;
	/* "Status: NNN Reason" */
	if (strncmp(a->head, "Status: ", 8) == 0 &&
	    strspn(a->head + 8, "0123456789") == 3 && a->head[11] == ' ')
		a->status = (a->head[8] - '0') * 100 + (a->head[9] - '0') * 10 +
		            (a->head[10] - '0');
}

/* The value of header name (NULL if absent) and how often it appears. */
static inline const char *
header(const struct answer *a, const char *name, char *val, size_t valsz,
       int *count)
{
	const char *p = a->head, *found = NULL;
	size_t nl = strlen(name);
	int n = 0;

	while (p != NULL && *p != '\0') {
		const char *eol = strstr(p, "\r\n");

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nl + 1 && strncmp(p, name, nl) == 0 &&
		    p[nl] == ':' && p[nl + 1] == ' ') {
			if (n++ == 0) {
				snprintf(val, valsz, "%.*s",
				         (int)(eol - p - (ptrdiff_t)nl - 2),
				         p + nl + 2);
				found = val;
			}
		}
		p = eol + 2;
	}
	if (count != NULL)
		*count = n;
	return found;
}

/* Framing every answer must have, whatever its status. */
static inline void
check_framing_at(const char *file, const struct answer *a, int returned,
                 int head_request, unsigned line, const char *desc)
{
	char val[64], name[64];
	const char *p, *cl;
	int n;

	unit_check(a->framed, file, line,
	           "no blank line after the headers for %s", desc);
	unit_expect_int(file, line, "Status line matches the return value",
	                returned, a->status);
	/* No header twice; every line is "Name: value". */
	for (p = strstr(a->head, "\r\n"); p != NULL && p[2] != '\0';
	     p = strstr(p + 2, "\r\n")) {
		const char *colon = strstr(p + 2, ": ");
		const char *eol = strstr(p + 2, "\r\n");

		if (!unit_check(colon != NULL && eol != NULL && colon < eol,
		                file, line,
		                "a header line without a name for %s", desc))
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p - 2),
		         p + 2);
		header(a, name, val, sizeof(val), &n);
		unit_check(n == 1, file, line,
		           "expected header %s once, got %d for %s", name, n,
		           desc);
	}
	cl = header(a, "Content-Length", val, sizeof(val), NULL);
	if (head_request || a->status == 304) {
		unit_expect_int(file, line, "no body", 0, (long long)a->blen);
	} else if (cl != NULL) {
		const char *errstr;
		uint64_t v = 0;

		unit_check(parse_u64(cl, 0, UINT64_MAX, &v, &errstr) == 0, file,
		           line, "Content-Length %s is no number for %s", cl,
		           desc);
		unit_expect_u64(file, line, "Content-Length is the body length",
		                v, a->blen);
	}
	if (a->status == 304 || a->status == 416)
		unit_expect_int(file, line, "no body", 0, (long long)a->blen);
}

#define check_framing(a, returned, head_request, line, desc)                   \
	check_framing_at(__FILE__, (a), (returned), (head_request), (line),    \
	                 (desc))

/* A header a row expects in an answer. */
struct hdr {
	const char *name;
	const char *value; /* NULL: present, any value */
};

/*
 * Expect the headers of has[0..nhas) (up to one with a NULL name) with
 * their values, and none of lacks[0..nlacks) (up to a NULL).
 */
static inline void
answer_expect_at(const char *file, const struct answer *a,
                 const struct hdr *has, size_t nhas, const char *const *lacks,
                 size_t nlacks, unsigned line, const char *desc)
{
	char val[512], d[256];
	size_t k;

	for (k = 0; k < nhas && has[k].name != NULL; k++) {
		const char *v = header(a, has[k].name, val, sizeof(val), NULL);

		snprintf(d, sizeof(d), "%s: header %s", desc, has[k].name);
		if (has[k].value == NULL)
			unit_check(v != NULL, file, line, "missing %s", d);
		else
			unit_expect_str(file, line, d, has[k].value, v);
	}
	for (k = 0; k < nlacks && lacks[k] != NULL; k++) {
		snprintf(d, sizeof(d), "%s: no header %s", desc, lacks[k]);
		unit_check(header(a, lacks[k], val, sizeof(val), NULL) == NULL,
		           file, line, "expected %s, got \"%s\"", d, val);
	}
}

#define answer_expect(a, has, nhas, lacks, nlacks, line, desc)                 \
	answer_expect_at(__FILE__, (a), (has), (nhas), (lacks), (nlacks),      \
	                 (line), (desc))

/* ---- the files of a webroot ---- */

/* Write n bytes of data to dir/name. Returns 0, or -1. */
static inline int
put_file(const char *dir, const char *name, const char *data, size_t n)
{
	char path[512];
	FILE *fp;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		return -1;
	if (n > 0 && fwrite(data, 1, n, fp) != n)
		rc = -1;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* Write text to dir/name. Returns 0, or -1. */
static inline int
put_text(const char *dir, const char *name, const char *text)
{
	return put_file(dir, name, text, strlen(text));
}

/* Make dir/name secs seconds older than now. */
static inline int
age(const char *dir, const char *name, long secs)
{
	struct timespec ts[2];
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	return utimensat(AT_FDCWD, path, ts, 0);
}

/* The strong ETag (with suffix) and Last-Modified (lm may be NULL) of
 * dir/name, as sherve computes them. Returns 0, or -1. */
static inline int
validators_of(const char *dir, const char *name, const char *suffix, char *etag,
              char *lm)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0)
		return -1;
	if (cond_etag(&st, 0, suffix, etag, ETAG_MAX) != 0)
		return -1;
	return lm == NULL
	               ? 0
	               : httpdate_format(st.st_mtim.tv_sec, lm, HTTPDATE_LEN);
}

#endif
