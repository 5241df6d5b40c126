/* url.c - URL splitting, scheme checks, percent-decoding; see url.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "url.h"
#include "util.h"

/* Bytes of "http://" or "https://" at the start of u (n bytes), or 0. */
static size_t
web_scheme(const char *u, size_t n)
{
	if (n >= 8 && strncasecmp(u, "https://", 8) == 0)
		return 8;
	if (n >= 7 && strncasecmp(u, "http://", 7) == 0)
		return 7;
	return 0;
}

/* Bytes of u[0, n) before the first byte of stop (or n). */
static size_t
span_until(const char *u, size_t n, const char *stop)
{
	size_t i;

	for (i = 0; i < n && strchr(stop, u[i]) == NULL; i++)
		;
	return i;
}

int
url_split(const char *u, size_t n, struct url_parts *p)
{
	size_t at = web_scheme(u, n), h, rest;

	if (at == 0)
		return 0;
	h = span_until(u + at, n - at, "/?#");
	if (h == 0) /* a host must follow the "//" */
		return 0;
	if (p == NULL)
		return 1;
	p->host = u + at;
	p->hostlen = h;
	at += h;
	p->path = u + at;
	p->pathlen = span_until(u + at, n - at, "?#");
	at += p->pathlen;
	p->query = NULL;
	p->querylen = 0;
	if (at < n && u[at] == '?') {
		rest = span_until(u + at + 1, n - at - 1, "#");
		p->query = u + at + 1;
		p->querylen = rest;
	}
	return 1;
}

int
url_fetchable(const char *url)
{
	return web_scheme(url, strlen(url)) > 0 ||
	       strncasecmp(url, "file://", 7) == 0;
}

int
url_has_scheme(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (i = 1; s[i] != '\0' && s[i] != ':'; i++)
		if (strchr("+-.", s[i]) == NULL &&
		    !((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return strncmp(s + i, "://", 3) == 0;
}

void
url_pct_encode(unsigned char c, char e[3])
{
	static const char hex[] = "0123456789ABCDEF";

	e[0] = '%';
	e[1] = hex[c >> 4];
	e[2] = hex[c & 15];
}

char *
url_with_query(const char *url, const char *param)
{
	CURLU *h = curl_url();
	char *got = NULL, *out = NULL;

	if (h == NULL)
		return NULL;
	/* CURLU_NON_SUPPORT_SCHEME: file:// parses on a libcurl built
	 * without it; the fetch refuses what it cannot do. */
	if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) !=
	            CURLUE_OK ||
	    curl_url_set(h, CURLUPART_QUERY, param, CURLU_APPENDQUERY) !=
	            CURLUE_OK ||
	    curl_url_get(h, CURLUPART_URL, &got, 0) != CURLUE_OK)
		goto out;
	out = str_dup(got);
out:
	curl_free(got);
	curl_url_cleanup(h);
	return out;
}
