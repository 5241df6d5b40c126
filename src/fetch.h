/*
 * fetch.h - download the redirects file with libcurl.
 *
 * Protocols are limited to http, https and file (redirects to http and
 * https only), TLS peers are verified, at most 5 redirects are followed,
 * and the body is capped. Conditional GET uses the ETag and Last-Modified
 * stored from the previous success.
 *
 * Caveats: call fetch_global_init() once before any thread starts.
 * Not for the request path: a fetch blocks for up to the timeouts.
 */
#ifndef SHERVE_FETCH_H
#define SHERVE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#define FETCH_VALIDATOR_MAX 256

struct fetch_opts {
	const char *url;
	const char *ca_bundle;     /* NULL or "" for the system default */
	const char *etag;          /* If-None-Match, or NULL */
	const char *last_modified; /* If-Modified-Since, or NULL */
	long connect_timeout;      /* seconds */
	long timeout;              /* seconds, whole transfer */
	uint64_t max_body;
	int cachebust; /* append cachebust=<unix seconds> */
};

struct fetch_result {
	long status; /* HTTP status; 200 for a file:// success */
	char *body;  /* malloc'd, NUL-terminated; NULL on 304/failure */
	size_t len;
	char etag[FETCH_VALIDATOR_MAX];
	char last_modified[FETCH_VALIDATOR_MAX];
	long retry_after; /* seconds from Retry-After, or -1 */
	char err[256];    /* why it failed, for logs and `sherve status` */
};

/* Initialise libcurl; returns SH_OK or SH_EFETCH. */
int fetch_global_init(void);

/*
 * Fetch o->url into r (zeroed by this call).
 * Returns SH_OK (status 200 with a body), SH_EUNCHANGED (304),
 * SH_EINVAL (not an allowed URL), SH_ENOMEM or SH_EFETCH (r->err says
 * why: connection, timeout, size cap, HTTP status). The caller frees
 * r->body with fetch_result_free().
 */
int fetch_url(const struct fetch_opts *o, struct fetch_result *r);

void fetch_result_free(struct fetch_result *r);

/*
 * Set on easy (a CURL *, void * so that this header needs no libcurl)
 * what every transfer of sherve has, fetch or probe: the protocols
 * (http and https, and file too when with_file; redirects to http and
 * https only), TLS peers and host names verified against ca_bundle
 * (NULL or "": the system's CAs), the connect and total timeouts in
 * seconds, no signals, User-Agent "sherve/VERSION". Returns 0, or -1
 * when libcurl refused an option.
 */
int fetch_set_common(void *easy, const char *ca_bundle, long connect_timeout,
                     long timeout, int with_file);

#endif
