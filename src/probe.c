/* probe.c - HEAD (or GET) many URLs under two caps; see probe.h. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetch.h"
#include "location.h"
#include "probe.h"
#include "redirects.h"
#include "url.h"
#include "util.h"

/* One request in flight: its handle is reused for the next one. */
struct slot {
	CURL *easy;
	size_t ti; /* the target it asks for */
	int busy;
	int get;     /* a GET, after HEAD was refused */
	int aborted; /* the body callback stopped that GET */
	char err[CURL_ERROR_SIZE];
};

struct run {
	const struct probe_opts *o;
	struct probe_target *t;
	size_t n, next; /* targets; the first not started yet */
	/* Targets whose next request (a redirect hop, or GET after HEAD)
	 * is due; ready + busy never exceeds max_parallel. */
	size_t *ready, nready;
	struct slot *slots;
	unsigned np, busy; /* slots (max_parallel), slots in use */
	unsigned per_second;
	CURLM *multi;
	uint64_t last_start; /* monotonic ns of the last start, 0: none */
};

const char *
probe_verdict_name(enum probe_verdict v)
{
	switch (v) {
	case PROBE_FINE: return "fine";
	case PROBE_REDIRECTED: return "redirected";
	case PROBE_DEAD: return "dead";
	case PROBE_PENDING: break;
	}
	return "pending";
}

static void dead(struct probe_target *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
dead(struct probe_target *t, const char *fmt, ...)
{
	va_list ap;

	t->verdict = PROBE_DEAD;
	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
}

/* A GET is asked only for its status: the first body byte ends it. */
static size_t
no_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;

	(void)data;
	(void)size;
	(void)nmemb;
	s->aborted = 1;
	return 0;
}

/* Options for one request of s for url; 0, or -1 if one was refused. */
static int
slot_setup(struct slot *s, const struct probe_opts *o, const char *url)
{
	int ok;

	curl_easy_reset(s->easy);
	s->err[0] = '\0';
	s->aborted = 0;
	ok = fetch_set_common(s->easy, o->ca_bundle, o->connect_timeout,
	                      o->timeout, 0) == 0;
#define SET(opt, val) ok &= curl_easy_setopt(s->easy, opt, val) == CURLE_OK
	SET(CURLOPT_URL, url);
	/* Redirects are followed here, one paced request per hop. */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_USERAGENT, "sherve/" PACKAGE_VERSION " (link check)");
	SET(CURLOPT_ERRORBUFFER, s->err);
	SET(CURLOPT_PRIVATE, (void *)s);
	if (s->get) {
		SET(CURLOPT_HTTPGET, 1L);
		SET(CURLOPT_WRITEFUNCTION, no_body);
		SET(CURLOPT_WRITEDATA, (void *)s);
	} else {
		SET(CURLOPT_NOBODY, 1L);
	}
#undef SET
	return ok ? 0 : -1;
}

/* Put t's next request in a free slot. Returns SH_OK or SH_ENOMEM. */
static int
start_one(struct run *r, uint64_t now)
{
	struct slot *s = r->slots;
	struct probe_target *t;
	size_t ti;

	while (s->busy)
		s++;
	if (r->nready > 0) {
		ti = r->ready[0];
		memmove(r->ready, r->ready + 1,
		        --r->nready * sizeof(*r->ready));
	} else {
		ti = r->next++;
		if ((r->t[ti].final_url = str_dup(r->t[ti].url)) == NULL)
			return SH_ENOMEM;
	}
	t = &r->t[ti];
	s->ti = ti;
	s->get = t->used_get;
	if (slot_setup(s, r->o, t->final_url) != 0 ||
	    curl_multi_add_handle(r->multi, s->easy) != CURLM_OK) {
		dead(t, "libcurl refused the request");
		return SH_OK;
	}
	s->busy = 1;
	r->busy++;
	r->last_start = now;
	return SH_OK;
}

/*
 * A 3xx: follow its Location as another paced request, or end. The
 * Location is kept as location_build() would send it, its bytes that
 * are not ASCII percent-encoded, so that a report never carries raw
 * bytes from a server to a terminal or into JSON.
 */
static int
follow(struct run *r, struct slot *s, struct probe_target *t)
{
	char *loc = NULL, *copy, clean[REDIRECT_URL_MAX + 1];

	if (curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &loc) !=
	            CURLE_OK ||
	    loc == NULL || loc[0] == '\0') {
		dead(t, "a %ld without a Location", t->status);
		return SH_OK;
	}
	if (location_build(loc, NULL, NULL, clean, sizeof(clean)) < 0) {
		dead(t, "a Location over 8 KiB or with a control character");
		return SH_OK;
	}
	if (t->redirects >= r->o->max_redirects &&
	    url_split(clean, strlen(clean), NULL)) {
		dead(t, "more than %u redirects", r->o->max_redirects);
		return SH_OK;
	}
	if ((copy = str_dup(clean)) == NULL)
		return SH_ENOMEM;
	free(t->final_url);
	t->final_url = copy;
	t->redirects++;
	if (!url_split(copy, strlen(copy), NULL)) {
		/* mailto:, ftp:, ...: where it goes, not whether it lives. */
		t->verdict = PROBE_REDIRECTED;
		snprintf(t->error, sizeof(t->error),
		         "not followed: not http or https");
		return SH_OK;
	}
	t->used_get = 0;
	r->ready[r->nready++] = s->ti;
	return SH_OK;
}

/* What the request in s says of its target. */
static int
finish(struct run *r, struct slot *s, CURLcode cc)
{
	struct probe_target *t = &r->t[s->ti];
	long st = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &st);
	t->status = st;
	t->used_get = s->get;
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && s->aborted)) {
		dead(t, "%s",
		     s->err[0] != '\0' ? s->err : curl_easy_strerror(cc));
		return SH_OK;
	}
	if (!s->get && (st == 405 || st == 501)) {
		t->used_get = 1; /* HEAD refused: ask again with GET */
		r->ready[r->nready++] = s->ti;
		return SH_OK;
	}
	if (st >= 300 && st < 400 && st != 304)
		return follow(r, s, t);
	if (st >= 200 && st < 300)
		t->verdict =
		        t->redirects > 0 && strcmp(t->final_url, t->url) != 0
		                ? PROBE_REDIRECTED
		                : PROBE_FINE;
	else if (st >= 400)
		t->verdict = PROBE_DEAD;
	else
		dead(t, "status %ld ends nothing", st);
	return SH_OK;
}

/* Hand every finished request to finish(), freeing its slot. */
static int
reap(struct run *r)
{
	CURLMsg *msg;
	int left, rc = SH_OK;

	while (rc == SH_OK &&
	       (msg = curl_multi_info_read(r->multi, &left)) != NULL) {
		struct slot *s;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		                      &priv) != CURLE_OK ||
		    priv == NULL)
			return SH_EFETCH;
		s = (struct slot *)(void *)priv;
		rc = finish(r, s, msg->data.result);
		curl_multi_remove_handle(r->multi, s->easy);
		s->busy = 0;
		r->busy--;
	}
	return rc;
}

/*
 * Start a request if one is waiting, a slot is free and the spacing has
 * passed. Returns the milliseconds to wait before the next start could
 * be due (0: one started, call again), or -1 when none can start now.
 */
static long
start_due(struct run *r, int *rc)
{
	uint64_t now = mono_ns(),
	         due = r->last_start + PROBE_SPACING_NS(r->per_second);

	*rc = SH_OK;
	if ((r->nready == 0 && r->next == r->n) || r->busy >= r->np)
		return -1;
	if (r->last_start != 0 && now < due)
		return (long)((due - now + 999999) / 1000000);
	*rc = start_one(r, now);
	return 0;
}

/* Wait up to ms for a transfer to progress (or just sleep if none). */
static int
wait_ms(struct run *r, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	if (r->busy == 0) {
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		return 0;
	}
#if LIBCURL_VERSION_NUM >= 0x074200
	return curl_multi_poll(r->multi, NULL, 0, (int)ms, NULL) == CURLM_OK
	               ? 0
	               : -1;
#else
	return curl_multi_wait(r->multi, NULL, 0, (int)ms, NULL) == CURLM_OK
	               ? 0
	               : -1;
#endif
}

static int
run_loop(struct run *r)
{
	int running, rc = SH_OK;
	long wait, ctimeout;

	for (;;) {
		if (curl_multi_perform(r->multi, &running) != CURLM_OK)
			return SH_EFETCH;
		if ((rc = reap(r)) != SH_OK)
			return rc;
		if (r->next == r->n && r->nready == 0 && r->busy == 0)
			return SH_OK;
		if ((wait = start_due(r, &rc)) == 0 || rc != SH_OK) {
			if (rc != SH_OK)
				return rc;
			continue;
		}
		if (curl_multi_timeout(r->multi, &ctimeout) != CURLM_OK)
			return SH_EFETCH;
		if (wait < 0 || wait > 1000)
			wait = 1000;
		if (ctimeout >= 0 && ctimeout < wait)
			wait = ctimeout;
		if (wait_ms(r, wait) != 0)
			return SH_EFETCH;
	}
}

int
probe_run(const struct probe_opts *o, struct probe_target *t, size_t n)
{
	struct run r;
	unsigned i, np = o->max_parallel > 0 ? o->max_parallel : 1;
	int rc = SH_ENOMEM;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.t = t;
	r.n = n;
	r.np = np;
	r.per_second = o->per_second > 0 ? o->per_second : 1;

	for (i = 0; i < n; i++) {
		t[i].verdict = PROBE_PENDING;
		t[i].status = 0;
		t[i].final_url = NULL;
		t[i].redirects = 0;
		t[i].used_get = 0;
		t[i].error[0] = '\0';
	}
	if ((r.ready = calloc(np, sizeof(*r.ready))) == NULL ||
	    (r.slots = calloc(np, sizeof(*r.slots))) == NULL ||
	    (r.multi = curl_multi_init()) == NULL)
		goto out;
	for (i = 0; i < np; i++)
		if ((r.slots[i].easy = curl_easy_init()) == NULL)
			goto out;
	rc = run_loop(&r);
out:
	for (i = 0; r.slots != NULL && i < np; i++) {
		if (r.slots[i].busy)
			curl_multi_remove_handle(r.multi, r.slots[i].easy);
		if (r.slots[i].easy != NULL)
			curl_easy_cleanup(r.slots[i].easy);
	}
	if (r.multi != NULL)
		curl_multi_cleanup(r.multi);
	free(r.slots);
	free(r.ready);
	return rc;
}

void
probe_targets_free(struct probe_target *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t[i].final_url);
		t[i].final_url = NULL;
	}
}
