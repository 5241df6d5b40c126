/* fetch.c - libcurl download of the redirects file; see fetch.h. */
#include "config.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetch.h"
#include "url.h"
#include "util.h"

struct body {
	char *p;
	size_t len, cap;
	uint64_t max;
	int too_big;
};

int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? SH_OK
	                                                         : SH_EFETCH;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > b->max) {
		b->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/*
 * Header name of the last response (the one after any redirects: request
 * -1 of curl_easy_header()) into out, trimmed; 0 if absent, too long or
 * holding a control character (out is then "").
 */
static int
header_copy(CURL *c, const char *name, char *out, size_t outsz)
{
	struct curl_header *h;
	size_t n;

	out[0] = '\0';
	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
		return 0;
	n = strlen(h->value);
	while (n > 0 && (h->value[n - 1] == ' ' || h->value[n - 1] == '\t'))
		n--;
	if (n >= outsz || str_has_ctl(h->value, n))
		return 0;
	memcpy(out, h->value, n);
	out[n] = '\0';
	return 1;
}

/* The validators and Retry-After of the last response, into r. */
static void
read_headers(CURL *c, struct fetch_result *r)
{
	char ra[32];
	const char *why;
	uint64_t secs;

	header_copy(c, "ETag", r->etag, sizeof(r->etag));
	header_copy(c, "Last-Modified", r->last_modified,
	            sizeof(r->last_modified));
	r->retry_after = -1;
	if (header_copy(c, "Retry-After", ra, sizeof(ra)) &&
	    parse_u64(ra, 0, 86400, &secs, &why) == 0)
		r->retry_after = (long)secs;
}

/* url with cachebust=<unix seconds> added to its query, before any #;
 * NULL if out of memory or libcurl cannot parse url. */
static char *
busted_url(const char *url)
{
	char param[40];

	snprintf(param, sizeof(param), "cachebust=%lld", (long long)time(NULL));
	return url_with_query(url, param);
}

#define SET(opt, val) ok &= curl_easy_setopt(c, opt, val) == CURLE_OK

int
fetch_set_common(void *easy, const char *ca_bundle, long connect_timeout,
                 long timeout, int with_file)
{
	CURL *c = easy;
	int ok = 1;

#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR,
	    with_file ? "http,https,file" : "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS |
	                               (with_file ? CURLPROTO_FILE : 0));
	SET(CURLOPT_REDIR_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
	SET(CURLOPT_CONNECTTIMEOUT, connect_timeout);
	SET(CURLOPT_TIMEOUT, timeout);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_USERAGENT, "sherve/" PACKAGE_VERSION);
	if (ca_bundle != NULL && ca_bundle[0] != '\0')
		SET(CURLOPT_CAINFO, ca_bundle);
	return ok ? 0 : -1;
}

static int
fetch_setup(CURL *c, const struct fetch_opts *o, struct curl_slist **hdrs,
            struct body *b)
{
	char h[FETCH_VALIDATOR_MAX + 32];
	int ok = fetch_set_common(c, o->ca_bundle, o->connect_timeout,
	                          o->timeout, 1) == 0;

	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 5L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, b);
	if (o->etag != NULL && o->etag[0] != '\0') {
		snprintf(h, sizeof(h), "If-None-Match: %s", o->etag);
		ok &= (*hdrs = curl_slist_append(*hdrs, h)) != NULL;
	}
	if (ok && o->last_modified != NULL && o->last_modified[0] != '\0') {
		struct curl_slist *n;

		snprintf(h, sizeof(h), "If-Modified-Since: %s",
		         o->last_modified);
		ok &= (n = curl_slist_append(*hdrs, h)) != NULL;
		if (n != NULL)
			*hdrs = n;
	}
	if (*hdrs != NULL)
		SET(CURLOPT_HTTPHEADER, *hdrs);
	return ok ? 0 : -1;
}
#undef SET

/* Map the transfer outcome to a return code and r->err. */
static int
fetch_outcome(CURL *c, CURLcode cc, struct body *b, struct fetch_result *r)
{
	long status = 0;

	read_headers(c, r);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (b->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->err, sizeof(r->err), "body larger than max-body");
		return SH_EFETCH;
	}
	if (cc != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "%s", curl_easy_strerror(cc));
		return SH_EFETCH;
	}
	r->status = status == 0 ? 200 : status; /* file:// has no status */
	if (r->status == 304)
		return SH_EUNCHANGED;
	if (r->status != 200) {
		snprintf(r->err, sizeof(r->err), "HTTP status %ld", r->status);
		return SH_EFETCH;
	}
	r->body = b->p != NULL ? b->p : strdup("");
	r->len = b->len;
	b->p = NULL;
	return r->body != NULL ? SH_OK : SH_ENOMEM;
}

int
fetch_url(const struct fetch_opts *o, struct fetch_result *r)
{
	struct body b = { NULL, 0, 0, o->max_body, 0 };
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	CURL *c = NULL;
	int rc = SH_EFETCH, bust;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	if (!url_fetchable(o->url)) {
		snprintf(r->err, sizeof(r->err),
		         "not an http, https or file URL");
		return SH_EINVAL;
	}
	bust = o->cachebust && strncasecmp(o->url, "file:", 5) != 0;
	url = bust ? busted_url(o->url) : strdup(o->url);
	if (url == NULL && bust) {
		rc = SH_EINVAL;
		snprintf(r->err, sizeof(r->err),
		         "cannot add cachebust= to the URL (out of memory, or "
		         "not a URL libcurl parses)");
		goto out;
	}
	if (url == NULL || (c = curl_easy_init()) == NULL) {
		rc = SH_ENOMEM;
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	if (fetch_setup(c, o, &hdrs, &b) != 0 ||
	    curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK) {
		snprintf(r->err, sizeof(r->err), "libcurl refused an option");
		goto out;
	}
	rc = fetch_outcome(c, curl_easy_perform(c), &b, r);
out:
	free(b.p);
	free(url);
	curl_slist_free_all(hdrs);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}

void
fetch_result_free(struct fetch_result *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
