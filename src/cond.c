/* cond.c - ETags and preconditions; see cond.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cond.h"
#include "httpdate.h"

int
cond_etag(const struct stat *st, int with_inode, const char *suffix, char *out,
          size_t outsz)
{
	int n;

	if (with_inode)
		n = snprintf(out, outsz, "\"%llx-%llx-%lx-%llx%s%s\"",
		             (unsigned long long)st->st_size,
		             (unsigned long long)st->st_mtim.tv_sec,
		             (long)st->st_mtim.tv_nsec,
		             (unsigned long long)st->st_ino,
		             suffix[0] ? "-" : "", suffix);
	else
		n = snprintf(out, outsz, "\"%llx-%llx-%lx%s%s\"",
		             (unsigned long long)st->st_size,
		             (unsigned long long)st->st_mtim.tv_sec,
		             (long)st->st_mtim.tv_nsec, suffix[0] ? "-" : "",
		             suffix);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

/*
 * Parse one entity-tag at *pp: [W/]"opaque". On success set *weak, the
 * opaque span (quotes included) and advance *pp.
 */
static int
etag_next(const char **pp, int *weak, const char **tag, size_t *len)
{
	const char *p = *pp, *q;

	*weak = 0;
	if (p[0] == 'W' && p[1] == '/') {
		*weak = 1;
		p += 2;
	}
	if (*p != '"')
		return -1;
	for (q = p + 1; *q != '"'; q++) {
		/* etagc = %x21 / %x23-7E / obs-text */
		if (*q == '\0' || (unsigned char)*q < 0x21 || *q == 0x7f)
			return -1;
	}
	*tag = p;
	*len = (size_t)(q - p) + 1;
	*pp = q + 1;
	return 0;
}

static const char *
skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
cond_etag_match(const char *list, const char *etag, int weak)
{
	const char *p = skip_ows(list), *tag;
	size_t len, elen = strlen(etag);
	int w, match = 0;

	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	/* Read to the end: a match before a syntax error does not count. */
	while (*p != '\0') {
		if (*p == ',') {
			p = skip_ows(p + 1);
			continue;
		}
		if (etag_next(&p, &w, &tag, &len) != 0)
			return 0;
		if ((weak || !w) && len == elen && memcmp(tag, etag, len) == 0)
			match = 1;
		p = skip_ows(p);
		if (*p != ',' && *p != '\0')
			return 0;
	}
	return match;
}

/* 1 if the header holds a valid date and mtime is not later than it. */
static int
not_modified_since(const char *hdr, time_t mtime, int *valid)
{
	time_t t;

	*valid = hdr != NULL && httpdate_parse(hdr, &t) == 0;
	return *valid && mtime <= t;
}

enum cond_result
cond_evaluate(const struct cond_headers *h, const char *etag, time_t mtime)
{
	int valid;

	if (h->if_match != NULL) {
		if (!cond_etag_match(h->if_match, etag, 0))
			return COND_PRECONDITION_FAILED;
	} else if (h->if_unmodified_since != NULL &&
	           !not_modified_since(h->if_unmodified_since, mtime, &valid) &&
	           valid) {
		return COND_PRECONDITION_FAILED;
	}
	if (h->if_none_match != NULL)
		return cond_etag_match(h->if_none_match, etag, 1)
		               ? COND_NOT_MODIFIED
		               : COND_PROCEED;
	if (h->if_modified_since != NULL &&
	    not_modified_since(h->if_modified_since, mtime, &valid))
		return COND_NOT_MODIFIED;
	return COND_PROCEED;
}

int
cond_if_range(const char *if_range, const char *etag, time_t mtime)
{
	const char *p;
	time_t t;

	if (if_range == NULL)
		return 1;
	p = skip_ows(if_range);
	if (*p == '"' || (p[0] == 'W' && p[1] == '/'))
		/* RFC 9110 13.1.5: strong comparison; a weak tag never matches.
		 */
		return p[0] == '"' && strcmp(p, etag) == 0;
	return httpdate_parse(p, &t) == 0 && t == mtime;
}
