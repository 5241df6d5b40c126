/*
 * test_refresh.c - the refresh's decisions (refresh.h), against a real
 * LMDB store in a temporary dir: the guard (shrink, HTML, binary, empty,
 * no valid line, loop: the last good map stays), the backoff (growth,
 * cap, Retry-After, reset), the conditional state (validators stored and
 * sent, 304, --force, a changed source or format), the checks under the
 * lock (startup, scheduled, miss: rate limit and shared fetch), the lock
 * and the claim, import, and the state record afterwards.
 *
 * The fetch and the clock are seams (src/refresh.c is included here):
 * the fake upstream answers what a row sets and records what it was sent,
 * and times are exact, not slept for. tests/integration/refresh.sh runs
 * the same through a real upstream and lighttpd.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "conf.h"
#include "fetch.h"
#include "fixture.h"
#include "refresh_state.h"
#include "statefx.h"
#include "store.h"
#include "util.h"

#define URL  STATEFX_URL
#define SEC  1000000u
#define ETAG "\"v1\""
#define LMOD "Mon, 07 Dec 2026 10:00:00 GMT"

/* The fake upstream: what it answers, and what it was asked. */
static struct {
	int rc; /* SH_OK (200), SH_EUNCHANGED (304) or a failure */
	char body[8192];
	size_t len;
	const char *etag, *lastmod, *err;
	long retry_after;
	unsigned calls;
	char url[512], etag_sent[256], lastmod_sent[256];
	int cachebust;
	uint64_t miss_at_fetch; /* the stored miss_fetch_at, at the fetch */
} up;

static struct store *fetching; /* the store the fetch's state is read in */
static uint64_t fake_us;       /* the clock */

static int
fake_fetch(const struct fetch_opts *o, struct fetch_result *r)
{
	struct refresh_state st;

	memset(r, 0, sizeof(*r));
	up.calls++;
	(void)str_copy(up.url, o->url, sizeof(up.url));
	(void)str_copy(up.etag_sent, o->etag, sizeof(up.etag_sent));
	(void)str_copy(up.lastmod_sent, o->last_modified,
	               sizeof(up.lastmod_sent));
	up.cachebust = o->cachebust;
	up.miss_at_fetch =
	        fetching != NULL && refresh_state_load(fetching, &st) == SH_OK
	                ? st.miss_fetch_at
	                : 0;
	r->retry_after = up.retry_after;
	if (up.rc == SH_EUNCHANGED)
		r->status = 304;
	if (up.rc != SH_OK) {
		snprintf(r->err, sizeof(r->err), "%s", up.err ? up.err : "");
		return up.rc;
	}
	if ((r->body = malloc(up.len + 1)) == NULL)
		return SH_ENOMEM;
	memcpy(r->body, up.body, up.len);
	r->body[up.len] = '\0';
	r->len = up.len;
	r->status = 200;
	(void)str_copy(r->etag, up.etag ? up.etag : "", sizeof(r->etag));
	(void)str_copy(r->last_modified, up.lastmod ? up.lastmod : "",
	               sizeof(r->last_modified));
	return SH_OK;
}

static int
fake_clock(struct timespec *ts)
{
	ts->tv_sec = (time_t)(fake_us / SEC);
	ts->tv_nsec = (long)(fake_us % SEC) * 1000;
	return 0;
}

#define REFRESH_FETCH(o, r) fake_fetch((o), (r))
#define REFRESH_CLOCK(ts)   fake_clock(ts)
#include "../../src/refresh.c"

static int
suite_init(void)
{
	return statefx_init("refresh");
}

/* A new state dir with its store (statefx.h), the fake upstream
 * reset. */
static int
fx_open(struct statefx *f, const char *const *extra)
{
	memset(&up, 0, sizeof(up));
	up.retry_after = -1;
	if (statefx_open(f, extra, 1) != 0)
		return -1;
	fetching = f->s;
	return 0;
}

static void
fx_close(struct statefx *f)
{
	fetching = NULL;
	statefx_close(f);
}

/* The clock at sec seconds. */
static void
at(uint64_t sec)
{
	fake_us = sec * SEC;
}

/* The upstream answers 200 with n aliases "aI https://example.com/I". */
static void
answer_map(size_t n, const char *etag, const char *lastmod)
{
	size_t i;

	up.rc = SH_OK;
	up.len = 0;
	for (i = 0; i < n && up.len + 64 < sizeof(up.body); i++)
		up.len += (size_t)snprintf(
		        up.body + up.len, sizeof(up.body) - up.len,
		        "a%zu https://example.com/%zu\n", i, i);
	up.etag = etag;
	up.lastmod = lastmod;
}

/* The upstream answers 200 with len bytes of body. */
static void
answer_body(const char *body, size_t len)
{
	up.rc = SH_OK;
	memcpy(up.body, body, len);
	up.len = len;
	up.etag = up.lastmod = NULL;
}

/* The upstream fails with rc and err (and Retry-After ra, or -1). */
static void
answer_fail(int rc, const char *err, long ra)
{
	up.rc = rc;
	up.err = err;
	up.retry_after = ra;
}

static int
run(struct statefx *f, unsigned flags, struct refresh_report *rep)
{
	return refresh_run(&f->c, f->s, flags, rep);
}

static struct refresh_state *
state(struct statefx *f)
{
	static struct refresh_state st;

	if (refresh_state_load(f->s, &st) != SH_OK)
		memset(&st, 0xff, sizeof(st)); /* fails every row */
	return &st;
}

/* The URL alias aI answers, or "" if none. */
static const char *
lookup(struct statefx *f, const char *alias)
{
	static char url[512];

	if (store_lookup(f->s, alias, strlen(alias), url, sizeof(url)) != SH_OK)
		url[0] = '\0';
	return url;
}

/* A first map of n aliases, stored at sec with ETAG and LMOD. */
static int
first_map(struct statefx *f, size_t n, uint64_t sec)
{
	struct refresh_report rep;

	at(sec);
	answer_map(n, ETAG, LMOD);
	return run(f, 0, &rep) == SH_OK && store_count(f->s) == n ? 0 : -1;
}

static void
test_success(void)
{
	struct refresh_report rep;
	struct refresh_state *st;
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	at(1000);
	answer_map(3, ETAG, LMOD);
	expect_int(__LINE__, "200: stored", SH_OK, run(&f, 0, &rep));
	expect_int(__LINE__, "one fetch", 1, up.calls);
	expect_str(__LINE__, "of redirects-url", URL, up.url);
	expect_str(__LINE__, "no ETag yet", "", up.etag_sent);
	expect_str(__LINE__, "no Last-Modified yet", "", up.lastmod_sent);
	expect_int(__LINE__, "no cache-buster (cachebust miss)", 0,
	           up.cachebust);
	expect_int(__LINE__, "the map", 3, store_count(f.s));
	expect_str(__LINE__, "an alias", "https://example.com/2",
	           lookup(&f, "a2"));
	expect_int(__LINE__, "report: count", 3, rep.count);
	expect_has(__LINE__, "report: what", rep.msg,
	           URL ": stored 3 aliases (0 invalid lines skipped) as "
	               "version 1");
	st = state(&f);
	expect_int(__LINE__, "result", REFRESH_UPDATED, st->last_result);
	expect_u64(__LINE__, "last attempt", 1000, st->last_attempt);
	expect_u64(__LINE__, "last success", 1000, st->last_success);
	expect_u64(__LINE__, "count", 3, st->count);
	expect_u64(__LINE__, "updated_total", 1, st->updated_total);
	expect_u64(__LINE__, "failed_total", 0, st->failed_total);
	expect_str(__LINE__, "ETag kept", ETAG, st->etag);
	expect_str(__LINE__, "Last-Modified kept", LMOD, st->last_modified);
	expect_str(__LINE__, "source", URL, st->source);
	expect_has(__LINE__, "parse options", st->parse_options,
	           "format=gosherve alias-case=sensitive");
	fx_close(&f);
}

static void
test_not_modified(void)
{
	struct refresh_report rep;
	struct refresh_state *st;
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	at(1400);
	answer_fail(SH_EUNCHANGED, NULL, -1);
	expect_int(__LINE__, "304", SH_EUNCHANGED, run(&f, 0, &rep));
	expect_str(__LINE__, "If-None-Match sent", ETAG, up.etag_sent);
	expect_str(__LINE__, "If-Modified-Since sent", LMOD, up.lastmod_sent);
	expect_str(__LINE__, "report", URL ": not modified", rep.msg);
	expect_int(__LINE__, "report: the map's count", 3, rep.count);
	expect_int(__LINE__, "map kept", 3, store_count(f.s));
	st = state(&f);
	expect_int(__LINE__, "result", REFRESH_NOT_MODIFIED, st->last_result);
	expect_u64(__LINE__, "attempt time moved", 1400, st->last_attempt);
	expect_u64(__LINE__, "success time kept", 1000, st->last_success);
	expect_u64(__LINE__, "not_modified_total", 1, st->not_modified_total);
	expect_u64(__LINE__, "updated_total", 1, st->updated_total);
	expect_str(__LINE__, "ETag still kept", ETAG, st->etag);
	/* --force: no validators; the same file adds no version. */
	at(1500);
	answer_map(3, "\"v2\"", "");
	expect_int(__LINE__, "--force: 200", SH_OK,
	           run(&f, REFRESH_FORCE, &rep));
	expect_str(__LINE__, "--force: no If-None-Match", "", up.etag_sent);
	expect_str(__LINE__, "--force: no If-Modified-Since", "",
	           up.lastmod_sent);
	expect_has(__LINE__, "the same file", rep.msg,
	           "(the file of version 1)");
	st = state(&f);
	expect_str(__LINE__, "the new ETag", "\"v2\"", st->etag);
	expect_str(__LINE__, "no Last-Modified now", "", st->last_modified);
	expect_u64(__LINE__, "updated_total", 2, st->updated_total);
	fx_close(&f);
}

/* Validators hold only for the source and parse options they came
 * with. */
static void
test_validators_dropped(void)
{
	const char *insensitive[] = { "--alias-case", "insensitive", NULL };
	const char *other_url[] = { "--redirects-url",
		                    "https://up.example/other.txt", NULL };
	struct refresh_report rep;
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	answer_fail(SH_EUNCHANGED, NULL, -1);
	(void)run(&f, 0, &rep);
	expect_str(__LINE__, "same settings: sent", ETAG, up.etag_sent);
	require_true(__LINE__, "reload",
	             statefx_conf(&f, insensitive) == SH_OK);
	(void)run(&f, 0, &rep);
	expect_str(__LINE__, "alias-case changed: no ETag", "", up.etag_sent);
	expect_str(__LINE__, "... no Last-Modified", "", up.lastmod_sent);
	require_true(__LINE__, "reload", statefx_conf(&f, other_url) == SH_OK);
	(void)run(&f, 0, &rep);
	expect_str(__LINE__, "another URL: no ETag", "", up.etag_sent);
	expect_str(__LINE__, "... fetched", "https://up.example/other.txt",
	           up.url);
	fx_close(&f);
}

/* The backoff: 10 s doubling per failure in a row, capped at the
 * interval (300 s without one), never under Retry-After. */
static void
test_backoff_table(void)
{
	static const struct {
		unsigned line;
		uint64_t interval, failures;
		long retry_after;
		uint64_t want;
	} rows[] = {
		{ __LINE__, 100, 1, -1, 10 },  { __LINE__, 100, 2, -1, 20 },
		{ __LINE__, 100, 3, -1, 40 },  { __LINE__, 100, 4, -1, 80 },
		{ __LINE__, 100, 5, -1, 100 }, { __LINE__, 100, 60, -1, 100 },
		{ __LINE__, 0, 5, -1, 160 },   { __LINE__, 0, 6, -1, 300 },
		{ __LINE__, 0, 99, -1, 300 },  { __LINE__, 100, 1, 500, 500 },
		{ __LINE__, 100, 3, 5, 40 },   { __LINE__, 100, 3, 0, 40 },
		{ __LINE__, 7, 1, -1, 7 },
	};
	struct conf c;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NELEM(rows); i++) {
		c.refresh_interval = rows[i].interval;
		expect_u64(rows[i].line, "backoff", rows[i].want,
		           backoff(&c, rows[i].failures, rows[i].retry_after));
	}
}

/* Failures in a row through refresh_run: the map kept, the state. */
static void
test_failures(void)
{
	static const uint64_t delay[] = { 10, 20, 40, 80, 100, 100 };
	struct refresh_report rep;
	struct refresh_state *st;
	uint64_t now = 2000;
	struct statefx f;
	size_t i;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	answer_fail(SH_EFETCH, "HTTP 500", -1);
	for (i = 0; i < NELEM(delay); i++, now += 1000) {
		at(now);
		expect_int(__LINE__, "500", SH_EFETCH, run(&f, 0, &rep));
		expect_str(__LINE__, "report", URL ": HTTP 500", rep.msg);
		st = state(&f);
		expect_u64(__LINE__, "failures in a row", i + 1, st->failures);
		expect_u64(__LINE__, "retry at", now + delay[i], st->retry_at);
		expect_int(__LINE__, "failed", REFRESH_FAILED, st->last_result);
		expect_str(__LINE__, "error kept", rep.msg, st->last_error);
		expect_u64(__LINE__, "attempt", now, st->last_attempt);
		expect_u64(__LINE__, "failed_total", i + 1, st->failed_total);
	}
	expect_u64(__LINE__, "success time kept", 1000, st->last_success);
	expect_int(__LINE__, "map kept", 3, store_count(f.s));
	at(now);
	answer_fail(SH_EFETCH, "HTTP 429", 500);
	expect_int(__LINE__, "429", SH_EFETCH, run(&f, 0, &rep));
	expect_int(__LINE__, "Retry-After reported", 500, rep.retry_after);
	expect_u64(__LINE__, "Retry-After over the cap", now + 500,
	           state(&f)->retry_at);
	at(now + 600);
	answer_map(4, NULL, NULL);
	expect_int(__LINE__, "then a success", SH_OK, run(&f, 0, &rep));
	st = state(&f);
	expect_u64(__LINE__, "reset: failures", 0, st->failures);
	expect_u64(__LINE__, "reset: retry at", 0, st->retry_at);
	expect_str(__LINE__, "reset: error", "", st->last_error);
	expect_u64(__LINE__, "failed_total stays", NELEM(delay) + 1,
	           st->failed_total);
	expect_u64(__LINE__, "updated_total", 2, st->updated_total);
	fx_close(&f);
}

/* A scheduled refresh waits for its due time, and out the backoff; a 304
 * ends the backoff too. */
static void
test_scheduled(void)
{
	struct refresh_report rep;
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	expect_u64(__LINE__, "due: attempt + interval", 1100,
	           refresh_next_due(&f.c, f.s));
	at(1099);
	expect_int(__LINE__, "not due", SH_EBUSY,
	           run(&f, REFRESH_SCHEDULED, &rep));
	expect_str(__LINE__, "why", "not due: another process refreshed",
	           rep.msg);
	expect_int(__LINE__, "no fetch", 1, up.calls);
	at(1100);
	answer_fail(SH_EFETCH, "HTTP 503", -1);
	expect_int(__LINE__, "due: fetched", SH_EFETCH,
	           run(&f, REFRESH_SCHEDULED, &rep));
	expect_int(__LINE__, "fetch", 2, up.calls);
	expect_u64(__LINE__, "due: the backoff", 1110,
	           refresh_next_due(&f.c, f.s));
	at(1109);
	expect_int(__LINE__, "backing off", SH_EBUSY,
	           run(&f, REFRESH_SCHEDULED, &rep));
	expect_int(__LINE__, "no fetch", 2, up.calls);
	at(1110);
	expect_int(__LINE__, "backoff over: fetched", SH_EFETCH,
	           run(&f, REFRESH_SCHEDULED, &rep));
	expect_u64(__LINE__, "second failure: 20 s", 1130,
	           refresh_next_due(&f.c, f.s));
	at(1130);
	answer_fail(SH_EUNCHANGED, NULL, -1);
	expect_int(__LINE__, "304", SH_EUNCHANGED,
	           run(&f, REFRESH_SCHEDULED, &rep));
	expect_u64(__LINE__, "304 ends the backoff", 0, state(&f)->failures);
	expect_u64(__LINE__, "due: attempt + interval", 1230,
	           refresh_next_due(&f.c, f.s));
	fx_close(&f);
}

/* The shrink guard: more than max-shrink percent lost, or more than one
 * alias under 10, is refused and the map kept; --force takes it. */
static void
test_shrink(void)
{
	static const struct {
		unsigned line;
		size_t old, n;
		const char *max_shrink;
		unsigned flags;
		int refused;
	} rows[] = {
		{ __LINE__, 20, 10, "50", 0, 0 }, /* half: allowed */
		{ __LINE__, 20, 9, "50", 0, 1 },  /* more than half */
		{ __LINE__, 20, 25, "50", 0, 0 }, /* grew */
		{ __LINE__, 20, 16, "20", 0, 0 },
		{ __LINE__, 20, 15, "20", 0, 1 },
		{ __LINE__, 20, 1, "100", 0, 0 }, /* guard off */
		{ __LINE__, 20, 1, "50", REFRESH_FORCE, 0 },
		{ __LINE__, 10, 5, "50", 0, 0 }, /* 10: percent only */
		{ __LINE__, 10, 4, "50", 0, 1 },
		{ __LINE__, 9, 8, "50", 0, 0 }, /* small: one at a time */
		{ __LINE__, 9, 7, "50", 0, 1 },
		{ __LINE__, 5, 4, "90", 0, 0 },
		{ __LINE__, 5, 3, "90", 0, 1 },
	};
	struct refresh_report rep;
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *extra[] = { "--max-shrink", rows[i].max_shrink,
			                NULL };
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture",
		                 fx_open(&f, extra) == 0 &&
		                         first_map(&f, rows[i].old, 1000) == 0))
			continue;
		at(2000);
		answer_map(rows[i].n, NULL, NULL);
		expect_int(line, "refused or stored",
		           rows[i].refused ? SH_ESHRINK : SH_OK,
		           run(&f, rows[i].flags, &rep));
		expect_int(line, "the map",
		           rows[i].refused ? rows[i].old : rows[i].n,
		           store_count(f.s));
		expect_u64(line, "a failure recorded", rows[i].refused,
		           state(&f)->failures);
		if (rows[i].refused) {
			expect_has(line, "why", rep.msg, "refused: ");
			expect_str(line, "why, kept", rep.msg,
			           state(&f)->last_error);
		}
		if (rows[i].refused && rows[i].old < 10)
			expect_has(line, "why, small", rep.msg,
			           "one at a time under 10 aliases");
		fx_close(&f);
	}
}

/* A body that is not a map is refused whole, the last good map kept. */
static void
test_bad_body(void)
{
	static const struct {
		unsigned line;
		const char *body;
		size_t len;
		unsigned flags;
		int rc;
		const char *why;
	} rows[] = {
		{ __LINE__, "<!DOCTYPE html>\n<html><body>x</body></html>\n",
		  44, 0, SH_EPARSE,
		  URL ": refused: an HTML page, not a redirects file" },
		{ __LINE__, "a0 https://example.com/\0\1\2", 26, 0, SH_EPARSE,
		  URL ": refused: a binary file, not a redirects file" },
		{ __LINE__, "", 0, 0, SH_EPARSE,
		  URL ": empty body (0 invalid)" },
		{ __LINE__, "alone\n# comment\nnot-a-url x\n", 28, 0, SH_EPARSE,
		  URL ": no valid line (2 invalid)" },
		{ __LINE__,
		  "l1 https://go.example/l2\nl2 https://go.example/l1\n", 50, 0,
		  SH_ELOOP, URL ": refused: line 1: a redirect loop: " },
		{ __LINE__,
		  "l1 https://go.example/l2\nl2 https://go.example/l1\n", 50,
		  REFRESH_FORCE, SH_ELOOP, "a redirect loop" },
	};
	const char *extra[] = { "--hostnames", "go.example", NULL };
	struct refresh_report rep;
	struct statefx f;
	size_t i;

	require_true(__LINE__, "fixture",
	             fx_open(&f, extra) == 0 && first_map(&f, 3, 1000) == 0);
	for (i = 0; i < NELEM(rows); i++) {
		at(2000 + i);
		answer_body(rows[i].body, rows[i].len);
		expect_int(rows[i].line, "refused", rows[i].rc,
		           run(&f, rows[i].flags, &rep));
		expect_has(rows[i].line, "why", rep.msg, rows[i].why);
		expect_int(rows[i].line, "map kept", 3, store_count(f.s));
		expect_str(rows[i].line, "... serving", "https://example.com/1",
		           lookup(&f, "a1"));
		expect_str(rows[i].line, "why, kept", rep.msg,
		           state(&f)->last_error);
		expect_u64(rows[i].line, "a failure in a row", i + 1,
		           state(&f)->failures);
	}
	fx_close(&f);
}

/* Run refresh_run with stderr (the log) going to a file, read back into
 * out. Returns its code. */
static int
run_logged(struct statefx *f, unsigned flags, struct refresh_report *rep,
           char *out, size_t outsz)
{
	struct unit_stderr cap;
	int rc;

	unit_stderr_begin(&cap);
	rc = run(f, flags, rep);
	unit_stderr_end(&cap, out, outsz);
	return rc;
}

/* Skipped lines: the first 20 logged one by one, then a count. */
static void
test_warn_lines(void)
{
	static char log[65536];
	struct refresh_report rep;
	char body[2048];
	size_t len = 0, i;
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	for (i = 0; i < 25; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		                        "bad%zu\n", i);
	len += (size_t)snprintf(body + len, sizeof(body) - len,
	                        "ok https://example.com/ok\n");
	answer_body(body, len);
	at(1000);
	expect_int(__LINE__, "stored", SH_OK,
	           run_logged(&f, 0, &rep, log, sizeof(log)));
	expect_int(__LINE__, "invalid counted", 25, rep.invalid);
	expect_int(__LINE__, "the valid line", 1, rep.count);
	expect_has(__LINE__, "line 20 logged", log, "line 20 skipped");
	expect_lacks(__LINE__, "line 21 not", log, "line 21 skipped");
	expect_has(__LINE__, "the rest counted", log,
	           "5 more lines skipped, not logged one by one");
	fx_close(&f);
}

/* A miss refresh: rate-limited across processes, marked in the store
 * before it fetches, with a cache-buster (cachebust miss). */
static void
test_miss_rate_limit(void)
{
	struct refresh_report rep;
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	at(1010);
	answer_map(4, NULL, NULL);
	expect_int(__LINE__, "miss: fetched", SH_OK,
	           run(&f, REFRESH_MISS, &rep));
	expect_int(__LINE__, "with a cache-buster", 1, up.cachebust);
	expect_u64(__LINE__, "marked before the fetch", 1010, up.miss_at_fetch);
	expect_u64(__LINE__, "... in microseconds", 1010 * (uint64_t)SEC,
	           state(&f)->miss_fetch_us);
	at(1039);
	expect_int(__LINE__, "within 30 s", SH_EBUSY,
	           run(&f, REFRESH_MISS, &rep));
	expect_str(__LINE__, "why", "miss refresh rate-limited", rep.msg);
	expect_int(__LINE__, "no fetch", 2, up.calls);
	at(1040);
	answer_fail(SH_EFETCH, "HTTP 500", -1);
	expect_int(__LINE__, "30 s later: fetched", SH_EFETCH,
	           run(&f, REFRESH_MISS, &rep));
	at(1045);
	expect_int(__LINE__, "backing off", SH_EBUSY,
	           run(&f, REFRESH_MISS, &rep));
	expect_has(__LINE__, "why", rep.msg, "backing off");
	expect_int(__LINE__, "no fetch", 3, up.calls);
	fx_close(&f);
}

/* miss-refresh-interval 0: a fetch that began at or after our arrival
 * is shared; one that began before it is not. cachebust always and
 * never. */
static void
test_miss_shared(void)
{
	const char *zero[] = { "--miss-refresh-interval", "0", "--cachebust",
		               "always", NULL };
	const char *never[] = { "--cachebust", "never", NULL };
	struct refresh_report rep;
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, zero) == 0);
	fake_us = 5000 * (uint64_t)SEC + 500;
	answer_map(3, NULL, NULL);
	expect_int(__LINE__, "fetched", SH_OK, run(&f, REFRESH_MISS, &rep));
	expect_int(__LINE__, "cachebust always", 1, up.cachebust);
	expect_int(__LINE__, "arrived with it: shared", SH_EBUSY,
	           run(&f, REFRESH_MISS, &rep));
	expect_str(__LINE__, "why", "shared the miss refresh that just ran",
	           rep.msg);
	fake_us++;
	expect_int(__LINE__, "1 us later, same second: fetched", SH_OK,
	           run(&f, REFRESH_MISS, &rep));
	expect_int(__LINE__, "fetches", 2, up.calls);
	up.cachebust = -1;
	expect_int(__LINE__, "a manual refresh", SH_OK, run(&f, 0, &rep));
	expect_int(__LINE__, "cachebust always: busted too", 1, up.cachebust);
	require_true(__LINE__, "reload", statefx_conf(&f, never) == SH_OK);
	at(9000);
	expect_int(__LINE__, "miss", SH_OK, run(&f, REFRESH_MISS, &rep));
	expect_int(__LINE__, "cachebust never", 0, up.cachebust);
	fx_close(&f);
}

/* A startup refresh fetches only into a store that never held a map,
 * and not when another process tried in this second. */
static void
test_startup(void)
{
	struct refresh_report rep;
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	expect_int(__LINE__, "never held a map: due", 1,
	           refresh_startup_due(&f.c, f.s, 0));
	expect_int(__LINE__, "... CGI too", 1,
	           refresh_startup_due(&f.c, f.s, 1));
	at(1000);
	answer_fail(SH_EFETCH, "HTTP 500", -1);
	expect_int(__LINE__, "fetched", SH_EFETCH,
	           run(&f, REFRESH_STARTUP, &rep));
	expect_int(__LINE__, "after a failure: still due", 1,
	           refresh_startup_due(&f.c, f.s, 0));
	expect_int(__LINE__, "... not for CGI, which tried", 0,
	           refresh_startup_due(&f.c, f.s, 1));
	expect_int(__LINE__, "tried this second: skipped", SH_EBUSY,
	           run(&f, REFRESH_STARTUP, &rep));
	expect_str(__LINE__, "why", "another process refreshed just now",
	           rep.msg);
	expect_int(__LINE__, "one fetch", 1, up.calls);
	at(1001);
	answer_map(3, NULL, NULL);
	expect_int(__LINE__, "a second later: fetched", SH_OK,
	           run(&f, REFRESH_STARTUP, &rep));
	expect_int(__LINE__, "holds a map: not due", 0,
	           refresh_startup_due(&f.c, f.s, 0));
	at(5000);
	expect_int(__LINE__, "holds a map: skipped", SH_EBUSY,
	           run(&f, REFRESH_STARTUP, &rep));
	expect_int(__LINE__, "two fetches", 2, up.calls);
	f.c.redirects_url[0] = '\0';
	expect_int(__LINE__, "no URL: not due", 0,
	           refresh_startup_due(&f.c, f.s, 0));
	fx_close(&f);
}

/* The cross-process lock: NOWAIT gives up while it is held; a lock that
 * cannot be taken is an error. */
static void
test_lock(void)
{
	char msg[320], *dir;
	struct refresh_report rep;
	struct statefx f;
	int fd;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	require_true(__LINE__, "lock taken",
	             (fd = refresh_lock(&f.c, msg, sizeof(msg))) >= 0);
	answer_map(3, NULL, NULL);
	at(1000);
	expect_int(__LINE__, "NOWAIT: busy", SH_EBUSY,
	           run(&f, REFRESH_NOWAIT, &rep));
	expect_str(__LINE__, "why", "another refresh is running", rep.msg);
	expect_int(__LINE__, "no fetch", 0, up.calls);
	expect_int(__LINE__, "no state written", 0,
	           (int)state(&f)->failed_total);
	refresh_unlock(fd);
	expect_int(__LINE__, "released: fetched", SH_OK,
	           run(&f, REFRESH_NOWAIT, &rep));
	dir = f.c.state_dir;
	f.c.state_dir = (char *)"/nonexistent/sherve-test";
	expect_int(__LINE__, "no state dir", SH_EIO, run(&f, 0, &rep));
	expect_has(__LINE__, "why", rep.msg,
	           "state-dir: cannot take refresh.lock: No such file");
	expect_int(__LINE__, "refresh_lock", -1,
	           refresh_lock(&f.c, msg, sizeof(msg)));
	expect_has(__LINE__, "why", msg, "cannot take refresh.lock");
	f.c.state_dir = dir;
	expect_int(__LINE__, "one fetch", 1, up.calls);
	fx_close(&f);
}

/* A state dir held by a running instance for another URL is not ours to
 * store into; an import is not checked. */
static void
test_claim(void)
{
	char other[512], map[] = "i https://example.com/i\n", *buf;
	struct refresh_report rep;
	struct statefx f;
	int fd = -1;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	require_true(__LINE__, "held for another URL",
	             claim_hold(f.dir, "https://other.example/r.txt", &fd,
	                        other, sizeof(other)) == SH_OK);
	answer_map(3, NULL, NULL);
	at(1000);
	expect_int(__LINE__, "refused", SH_EINVAL, run(&f, 0, &rep));
	expect_has(__LINE__, "why", rep.msg,
	           "serves https://other.example/r.txt for a running sherve");
	expect_int(__LINE__, "no fetch", 0, up.calls);
	expect_int(__LINE__, "nothing stored", 0, store_count(f.s));
	require_true(__LINE__, "buffer", (buf = strdup(map)) != NULL);
	expect_int(__LINE__, "an import is the admin's", SH_OK,
	           refresh_import(&f.c, f.s, buf, strlen(map), "import:/x", 0,
	                          &rep));
	claim_release(fd);
	expect_int(__LINE__, "released: fetched", SH_OK, run(&f, 0, &rep));
	expect_int(__LINE__, "one fetch", 1, up.calls);
	fx_close(&f);
}

/* A store that cannot be written is not refreshed. */
static void
test_readonly(void)
{
	struct store *ro = NULL;
	struct refresh_report rep;
	char err[256];
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	/* One LMDB environment open once per process: the writer first. */
	store_close(f.s);
	f.s = fetching = NULL;
	require_true(__LINE__, "reader",
	             store_open_reader(f.dir, &ro, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "refused", SH_ESTORE,
	           refresh_run(&f.c, ro, 0, &rep));
	expect_str(__LINE__, "why", store_write_error(ro), rep.msg);
	expect_int(__LINE__, "no fetch", 1, up.calls);
	store_close(ro);
	fx_close(&f);
}

static void
test_url_check(void)
{
	static const struct {
		unsigned line;
		const char *url;
		int rc;
		const char *msg;
	} rows[] = {
		{ __LINE__, "", SH_EINVAL, "redirects-url: not set" },
		{ __LINE__, "ftp://up.example/r.txt", SH_EINVAL,
		  "redirects-url: ftp://up.example/r.txt: not an http, https "
		  "or file URL" },
		{ __LINE__, "file:///srv/r.txt", SH_OK, "" },
		{ __LINE__, "http://up.example/r.txt", SH_OK, "" },
	};
	struct refresh_report rep;
	char msg[320];
	struct conf c;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(&up, 0, sizeof(up));
	for (i = 0; i < NELEM(rows); i++) {
		c.redirects_url = (char *)rows[i].url;
		msg[0] = '\0';
		expect_int(rows[i].line, "code", rows[i].rc,
		           refresh_url_check(&c, msg, sizeof(msg)));
		expect_str(rows[i].line, "why", rows[i].msg, msg);
		if (rows[i].rc == SH_OK)
			continue;
		expect_int(rows[i].line, "refresh_run too", rows[i].rc,
		           refresh_run(&c, NULL, 0, &rep));
		expect_str(rows[i].line, "... why", rows[i].msg, rep.msg);
	}
	expect_int(__LINE__, "no fetch", 0, up.calls);
}

/* An import stores with its own source; its failure is counted but
 * moves neither the schedule nor the backoff. */
static void
test_import(void)
{
	static const char map[] = "i1 https://example.com/i1\n"
	                          "i2 https://example.com/i2\n";
	static const char html[] = "<html><body>no</body></html>\n";
	struct refresh_report rep;
	struct refresh_state *st;
	struct statefx f;
	char *buf;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && first_map(&f, 3, 1000) == 0);
	at(1500);
	require_true(__LINE__, "buffer", (buf = strdup(html)) != NULL);
	expect_int(__LINE__, "HTML refused", SH_EPARSE,
	           refresh_import(&f.c, f.s, buf, strlen(html), "import:/h", 0,
	                          &rep));
	st = state(&f);
	expect_u64(__LINE__, "counted", 1, st->failed_total);
	expect_u64(__LINE__, "no backoff", 0, st->failures);
	expect_u64(__LINE__, "... no retry time", 0, st->retry_at);
	expect_u64(__LINE__, "schedule kept", 1000, st->last_attempt);
	expect_int(__LINE__, "map kept", 3, store_count(f.s));
	at(1600);
	require_true(__LINE__, "buffer", (buf = strdup(map)) != NULL);
	expect_int(__LINE__, "import: shrinks by --force", SH_OK,
	           refresh_import(&f.c, f.s, buf, strlen(map), "import:/m",
	                          REFRESH_FORCE, &rep));
	expect_int(__LINE__, "no fetch", 1, up.calls);
	expect_str(__LINE__, "stored", "https://example.com/i2",
	           lookup(&f, "i2"));
	st = state(&f);
	expect_str(__LINE__, "source", "import:/m", st->source);
	expect_str(__LINE__, "no ETag", "", st->etag);
	expect_u64(__LINE__, "success", 1600, st->last_success);
	answer_fail(SH_EUNCHANGED, NULL, -1);
	(void)str_copy(up.etag_sent, "unset", sizeof(up.etag_sent));
	(void)run(&f, 0, &rep);
	expect_str(__LINE__, "then a fetch without validators", "",
	           up.etag_sent);
	fx_close(&f);
}

/* While a version is pinned a new map is kept as a version, not served;
 * a chain is logged and stored. */
static void
test_pinned_chain(void)
{
	static const char chain[] = "c1 https://go.example/c2\n"
	                            "c2 https://example.com/end\n";
	const char *extra[] = { "--hostnames", "go.example", NULL };
	struct store_vput pin = { STORE_VSWITCH, NULL, NULL, 0, 0, 1, 1 };
	struct redirect_map m;
	struct refresh_report rep;
	static char log[16384];
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, extra) == 0 && first_map(&f, 3, 1000) == 0);
	require_true(__LINE__, "version 1 pinned",
	             fixture_parse(up.body, 0, &m) == SH_OK &&
	                     store_replace_version(f.s, &m, NULL, 0, &pin,
	                                           NULL) == SH_OK);
	redirects_free(&m);
	at(2000);
	answer_body(chain, strlen(chain));
	expect_int(__LINE__, "stored", SH_OK,
	           run_logged(&f, REFRESH_FORCE, &rep, log, sizeof(log)));
	expect_has(__LINE__, "kept, not served", rep.msg,
	           "; kept as version 2, not served: version 1 is pinned");
	expect_str(__LINE__, "the pinned map answers", "https://example.com/1",
	           lookup(&f, "a1"));
	expect_str(__LINE__, "... not the new one", "", lookup(&f, "c1"));
	expect_has(__LINE__, "the chain logged", log, "line 1: a chain: ");
	expect_u64(__LINE__, "a success all the same", 2000,
	           state(&f)->last_success);
	fx_close(&f);
}

/* Chains past the first 20 are counted, not logged one by one. */
static void
test_many_chains(void)
{
	const char *extra[] = { "--hostnames", "go.example", NULL };
	static char log[65536];
	struct refresh_report rep;
	char body[4096];
	struct statefx f;
	size_t len = 0, i;
	const char *p;
	int n;

	require_true(__LINE__, "fixture", fx_open(&f, extra) == 0);
	for (i = 0; i < 22; i++)
		len += (size_t)snprintf(body + len, sizeof(body) - len,
		                        "c%zu https://go.example/d%zu\n"
		                        "d%zu https://example.com/%zu\n",
		                        i, i, i, i);
	answer_body(body, len);
	at(1000);
	expect_int(__LINE__, "chains are stored", SH_OK,
	           run_logged(&f, 0, &rep, log, sizeof(log)));
	expect_int(__LINE__, "all of them", 44, store_count(f.s));
	for (n = 0, p = log; (p = strstr(p, ": a chain: ")) != NULL; p++)
		n++;
	expect_int(__LINE__, "20 logged one by one", 20, n);
	expect_has(__LINE__, "the rest counted", log,
	           "2 more chains (sherve check lists them)");
	fx_close(&f);
}

/* An instance file that cannot be written: nothing fetched. */
static void
test_claim_unwritable(void)
{
	struct refresh_report rep;
	struct statefx f;
	char path[700];

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	snprintf(path, sizeof(path), "%s/instance.lock", f.dir);
	require_true(__LINE__, "a directory in its place",
	             mkdir(path, 0700) == 0);
	answer_map(3, NULL, NULL);
	expect_int(__LINE__, "refused", SH_EIO, run(&f, 0, &rep));
	expect_has(__LINE__, "why", rep.msg,
	           "state-dir: cannot record the instance in ");
	expect_int(__LINE__, "no fetch", 0, up.calls);
	fx_close(&f);
}

static void
test_due(void)
{
	struct refresh_state st;
	struct conf c;

	memset(&st, 0, sizeof(st));
	memset(&c, 0, sizeof(c));
	c.refresh_interval = 100;
	c.redirects_url = (char *)URL;
	expect_u64(__LINE__, "never tried: due at once", 100,
	           refresh_due(&c, &st));
	st.last_attempt = 5000;
	st.last_result = REFRESH_NOT_MODIFIED;
	expect_u64(__LINE__, "attempt + interval", 5100, refresh_due(&c, &st));
	st.last_result = REFRESH_FAILED;
	st.retry_at = 5010;
	expect_u64(__LINE__, "failed: the backoff", 5010, refresh_due(&c, &st));
	c.refresh_interval = 0;
	expect_u64(__LINE__, "interval 0: never", UINT64_MAX,
	           refresh_due(&c, &st));
	c.refresh_interval = 100;
	c.redirects_url = (char *)"";
	expect_u64(__LINE__, "no URL: never", UINT64_MAX, refresh_due(&c, &st));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_success),
	UNIT_TEST(test_not_modified),
	UNIT_TEST(test_validators_dropped),
	UNIT_TEST(test_backoff_table),
	UNIT_TEST(test_failures),
	UNIT_TEST(test_scheduled),
	UNIT_TEST(test_due),
	UNIT_TEST(test_shrink),
	UNIT_TEST(test_bad_body),
	UNIT_TEST(test_warn_lines),
	UNIT_TEST(test_miss_rate_limit),
	UNIT_TEST(test_miss_shared),
	UNIT_TEST(test_startup),
	UNIT_TEST(test_lock),
	UNIT_TEST(test_claim),
	UNIT_TEST(test_readonly),
	UNIT_TEST(test_url_check),
	UNIT_TEST(test_import),
	UNIT_TEST(test_pinned_chain),
	UNIT_TEST(test_many_chains),
	UNIT_TEST(test_claim_unwritable),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "refresh", suite_init, statefx_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
