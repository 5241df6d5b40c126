/*
 * url.h - URLs: the one place they are split into scheme, authority, path
 * and query, checked for a scheme sherve fetches or redirects to, and
 * percent-decoded.
 *
 * Two kinds of code live here, for two paths:
 *  - url_split(), url_fetchable(), url_has_scheme(), url_pct_next() and
 *    url_pct_encode() are hand-written, allocation-free and bounded: the
 * request path (path.c's decoding of REQUEST_URI, location.c's query merge)
 * calls them on every request, where a malloc and libcurl's URL parser would
 * cost more than the answer; the parser, `sherve check` and chain.c call the
 * same ones so that ingest and check split a target the same way (a loop seen
 * by one is seen by the other).
 *  - url_with_query() runs outside the request path (a refresh's
 *    cache-busting URL), where libcurl's URL API (curl_url) does the job
 *    with RFC 3986's rules and a malloc costs nothing.
 *
 * Caveats: url_split() does not validate the authority (location.c's
 * location_host() does that); it finds where it starts and ends.
 */
#ifndef SHERVE_URL_H
#define SHERVE_URL_H

#include <stddef.h>

#include "util.h" /* hex_value(), for url_pct_next() */

/* The parts of an absolute http or https URL, as spans into it. */
struct url_parts {
	const char *host; /* the authority, after "://" */
	size_t hostlen;   /* up to the first '/', '?' or '#' */
	const char *path; /* from there, up to '?' or '#'; may be empty */
	size_t pathlen;
	const char *query; /* after '?', up to '#'; NULL if none */
	size_t querylen;
};

/*
 * Split u (n bytes, no NUL needed) if it is an absolute http or https URL
 * (scheme case-insensitive) with a non-empty authority: "http:///x" and
 * "http://" are not. p may be NULL to only ask.
 * Returns 1 and fills *p, or 0.
 */
int url_split(const char *u, size_t n, struct url_parts *p);

/* 1 if url (NUL-terminated) has a scheme sherve fetches a map from:
 * http://, https:// or file:// (case-insensitive); else 0. */
int url_fetchable(const char *url);

/* 1 if s starts with "scheme://" (RFC 3986: ALPHA *( ALPHA / DIGIT /
 * "+" / "-" / "." )): a URL rather than a file name; else 0. */
int url_has_scheme(const char *s);

/*
 * The byte at s[*i] of s (n bytes), percent-decoded: "%41" is 'A'.
 * Returns the byte (0..255) and advances *i past it (3 for an escape,
 * else 1); or -1, *i unchanged, for a '%' not followed by two hex digits
 * inside n. Call with *i < n.
 * Inline: path.c calls it for each byte of every request's path.
 */
static inline int
url_pct_next(const char *s, size_t n, size_t *i)
{
	int hi, lo;

	if (s[*i] != '%')
		return (unsigned char)s[(*i)++];
	if (*i + 2 >= n || (hi = hex_value(s[*i + 1])) < 0 ||
	    (lo = hex_value(s[*i + 2])) < 0)
		return -1;
	*i += 3;
	return hi * 16 + lo;
}

/* "%XX" (upper-case hex, as RFC 3986 recommends) for c into e[0..2];
 * no NUL is written. Which bytes to encode is the caller's choice. */
void url_pct_encode(unsigned char c, char e[3]);

/*
 * url with param ("name=value", already encoded) appended to its query
 * ('?' or '&' as needed), through libcurl's URL API (CURLU_APPENDQUERY).
 * Returns a malloc'd string the caller frees, or NULL (out of memory, or
 * a URL libcurl does not parse).
 */
char *url_with_query(const char *url, const char *param);

#endif
