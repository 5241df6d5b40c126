/*
 * probe.h - ask many http(s) URLs whether they still answer, politely.
 *
 * Each target gets HEAD (GET when HEAD is refused with 405 or 501, the
 * body left unread), and redirects are followed one request at a time,
 * at most max_redirects of them, so that every request of the run,
 * redirect hops included, obeys the same two caps: at most max_parallel
 * requests in flight, and starts spaced so that no second holds more
 * than per_second of them (see PROBE_SPACING). A target ends:
 *
 *  - fine:       2xx without a redirect;
 *  - redirected: 2xx after one or more redirects (final_url says where),
 *                or a redirect to a scheme that is not http or https,
 *                which is not followed;
 *  - dead:       4xx or 5xx (after redirects or not), a network or TLS
 *                error, a timeout, more than max_redirects redirects, or
 *                a status that ends nothing (1xx, a 3xx without Location).
 *
 * Only http and https are fetched, TLS peers are verified (ca_bundle, or
 * the system's CAs), and each request may take timeout seconds.
 *
 * Caveats: blocks until every target is done, which takes at least
 * (requests - 1) spacings: an offline tool (`sherve check --probe`),
 * never for the request path. Call fetch_global_init() first. The only
 * user of libcurl's multi interface, which is why this file, besides
 * fetch.c, includes curl/curl.h (scripts/checksrc).
 */
#ifndef SHERVE_PROBE_H
#define SHERVE_PROBE_H

#include <stddef.h>

/*
 * The least time between two request starts, per_second being the cap:
 * 20% over 1/per_second (120 ms for 10), so that per_second + 1 starts
 * span 1.2 s and a server counting arrivals sees at most per_second in
 * any second even when one arrival is delayed by up to 200 ms more than
 * another. At 110 ms the test's server saw 10 in a second: no room.
 */
#define PROBE_SPACING_NS(per_second) (1200000000ULL / (per_second))

enum probe_verdict {
	PROBE_PENDING = 0,
	PROBE_FINE,
	PROBE_REDIRECTED,
	PROBE_DEAD,
};

struct probe_opts {
	const char *ca_bundle;  /* NULL or "": the system's CAs */
	long connect_timeout;   /* seconds, per request */
	long timeout;           /* seconds, per request */
	unsigned max_parallel;  /* requests in flight, >= 1 */
	unsigned per_second;    /* request starts per second, >= 1 */
	unsigned max_redirects; /* followed per target */
};

struct probe_target {
	const char *url; /* in: an http or https URL */
	/* out, set by probe_run(): */
	enum probe_verdict verdict;
	long status;        /* the last HTTP status, 0 if none came */
	char *final_url;    /* malloc'd: the last URL asked (or not followed) */
	unsigned redirects; /* followed */
	int used_get;       /* the last request was a GET (HEAD refused) */
	char error[256];    /* for dead targets: why, else "" */
};

/*
 * Probe the n targets of t, in order. Returns SH_OK when every target
 * has its verdict (dead ones included), SH_ENOMEM, or SH_EFETCH when
 * libcurl failed as a whole (t[].verdict then says which got one).
 * Free the results with probe_targets_free().
 */
int probe_run(const struct probe_opts *o, struct probe_target *t, size_t n);

/* Free what probe_run() allocated in t[0..n); the urls are the caller's. */
void probe_targets_free(struct probe_target *t, size_t n);

/* "fine", "redirected", "dead" (or "pending"), for reports. */
const char *probe_verdict_name(enum probe_verdict v);

#endif
