/* refresh.c - the one way a map enters the store; see refresh.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "claim.h"
#include "fetch.h"
#include "log.h"
#include "redirects.h"
#include "refresh.h"
#include "refresh_state.h"
#include "sha256.h"
#include "sniff.h"
#include "url.h"
#include "util.h"

/* Seams for tests/unit/test_refresh.c, which includes this file: the
 * fetch (canned answers instead of an upstream) and the clock (exact
 * times for the backoff and the due checks). */
#ifndef REFRESH_FETCH
#define REFRESH_FETCH(o, r) fetch_url((o), (r))
#endif
#ifndef REFRESH_CLOCK
#define REFRESH_CLOCK(ts) clock_gettime(CLOCK_REALTIME, (ts))
#endif

/* Per-line warnings logged for one file; the rest are counted. A file
 * that is not what it should be would otherwise log one per line, at
 * every retry (sherve check lists them all). */
#define WARN_LINES 20
/* A map this small may lose one alias per refresh, whatever max-shrink. */
#define SMALL_MAP 10

struct warns {
	const char *source;
	unsigned n;
};

static void
warn_line(void *ctx, unsigned line, const char *reason)
{
	struct warns *w = ctx;

	if (++w->n <= WARN_LINES)
		log_warnx("%s: line %u skipped: %s", w->source, line, reason);
}

static void
warn_rest(const struct warns *w)
{
	if (w->n > WARN_LINES)
		log_warnx("%s: %u more lines skipped, not logged one by one "
		          "(sherve check lists them all)",
		          w->source, w->n - WARN_LINES);
}

/* Take the cross-process refresh lock; returns the fd or -1. */
static int
lock_take(const struct conf *c, int nowait, int *busy)
{
	char path[4096];
	int fd;

	*busy = 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/refresh.lock",
	                     c->state_dir) >= sizeof(path))
		return -1;
	/* 0666 less the umask, as every file sherve creates. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
		return -1;
	while (flock(fd, LOCK_EX | (nowait ? LOCK_NB : 0)) != 0) {
		if (errno == EINTR)
			continue;
		*busy = errno == EWOULDBLOCK;
		close(fd);
		return -1;
	}
	return fd;
}

static void
lock_release(int fd)
{
	if (fd != -1)
		close(fd); /* closing drops the flock */
}

int
refresh_lock(const struct conf *c, char *msg, size_t msgsz)
{
	int fd, busy;

	if ((fd = lock_take(c, 0, &busy)) < 0)
		snprintf(msg, msgsz, "state-dir: cannot take refresh.lock: %s",
		         strerror(errno));
	return fd;
}

void
refresh_unlock(int fd)
{
	lock_release(fd);
}

/*
 * Back off exponentially from 10 s, capped at the interval, but never
 * sooner than the upstream's Retry-After.
 */
static uint64_t
backoff(const struct conf *c, uint64_t failures, long retry_after)
{
	uint64_t d = 10, cap = c->refresh_interval ? c->refresh_interval : 300;

	while (failures-- > 1 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	if (retry_after > 0 && (uint64_t)retry_after > d)
		d = (uint64_t)retry_after;
	return d;
}

/* A failed refresh into st: the error, the backoff. */
static void
record_failure(const struct conf *c, struct refresh_state *st, time_t now,
               const struct refresh_report *rep)
{
	st->failures++;
	st->last_attempt = (uint64_t)now;
	st->last_result = REFRESH_FAILED;
	(void)str_copy(st->last_error, rep->msg, sizeof(st->last_error));
	st->retry_at =
	        (uint64_t)now + backoff(c, st->failures, rep->retry_after);
}

/*
 * The shrink guard: refuse a map that lost too many aliases at once,
 * more than max-shrink percent, or, for a map of fewer than SMALL_MAP
 * aliases (where half is one or two), more than one.
 */
static int
shrank(const struct conf *c, struct store *s, size_t n, unsigned flags)
{
	size_t old = store_count(s);

	if ((flags & REFRESH_FORCE) || c->max_shrink >= 100 || n >= old)
		return 0;
	if (old < SMALL_MAP && old - n > 1)
		return 1;
	return (unsigned long long)n * 100 <
	       (unsigned long long)old * (100 - c->max_shrink);
}

void
refresh_parse_opts(const struct conf *c, const char *source,
                   struct redirects_opts *o)
{
	o->format = redirects_format_for(c->format, source);
	o->fold_case = c->alias_fold;
	o->allow_relative = c->allow_relative_targets;
	o->dialect = c->redirects_dialect;
}

/* How the stored map was parsed, kept in the state (parse_options):
 * the settings that change what a file means, hostnames included (they
 * decide what a loop is). */
#define POPTS_MAX REFRESH_POPTS_MAX
static void
parse_options(const struct conf *c, const char *source, char *out, size_t outsz)
{
	struct redirects_opts o;

	refresh_parse_opts(c, source, &o);
	snprintf(out, outsz,
	         "format=%s alias-case=%s relative=%s dialect=%s hostnames=%s",
	         o.format == REDIRECTS_NETLIFY ? "redirects" : "gosherve",
	         o.fold_case ? "insensitive" : "sensitive",
	         o.allow_relative ? "yes" : "no",
	         o.dialect == DIALECT_CLOUDFLARE ? "cloudflare" : "netlify",
	         c->hostnames);
}

#define CHAINS_LOGGED 20 /* then only a count */

/* A file to store: a download or an import. */
struct incoming {
	const char *body;
	size_t len;
	const char *source; /* the URL, or "import:PATH" */
	const char *etag, *lastmod;
	time_t now;
};

/*
 * A map with a loop is refused (the last good map stays), the loop that
 * starts on the first line in the error; its chains are logged (the
 * first CHAINS_LOGGED, then a count). Returns SH_OK or SH_ELOOP.
 */
static int
chains(const struct conf *c, const struct redirect_map *m, const char *source,
       struct refresh_report *rep)
{
	char path[256], hint[160];
	struct chain_files f;
	struct chain_opts o;
	struct chain ch;
	unsigned n = 0, loop = 0;
	size_t i;

	chain_opts_of(c, &f, &o);
	for (i = 0; i < m->n; i++) {
		switch (chain_follow(m, &o, &m->v[i], &ch)) {
		case CHAIN_NONE: break;
		case CHAIN_CHAIN:
			if (n++ < CHAINS_LOGGED) {
				chain_format(&ch, CHAIN_CHAIN, path,
				             sizeof(path));
				log_warnx("%s: line %u: a chain: %s", source,
				          m->v[i].line, path);
			}
			break;
		case CHAIN_LOOP:
			if (loop != 0 && m->v[i].line >= loop)
				break;
			loop = m->v[i].line;
			chain_format(&ch, CHAIN_LOOP, path, sizeof(path));
			snprintf(rep->msg, sizeof(rep->msg),
			         "%s: refused: line %u: a redirect loop: %s",
			         source, loop, path);
			/* The hint goes last: cut first if the line is long. */
			chain_hint(&ch, hint, sizeof(hint));
			str_copy(rep->msg + strlen(rep->msg), hint,
			         sizeof(rep->msg) - strlen(rep->msg));
			break;
		}
	}
	if (loop == 0 && n > CHAINS_LOGGED)
		log_warnx("%s: %u more chains (sherve check lists them)",
		          source, n - CHAINS_LOGGED);
	chain_files_close(&f);
	return loop != 0 ? SH_ELOOP : SH_OK;
}

/*
 * Sniff and parse buf (len bytes) into m. The body stays: it is kept as
 * the new version, written with the map. Returns SH_OK (at least one
 * rule), SH_EPARSE or SH_ENOMEM, with rep set.
 */
static int
parse_body(const struct conf *c, const char *buf, size_t len,
           const char *source, struct redirect_map *m,
           struct refresh_report *rep)
{
	struct warns w = { source, 0 };
	struct redirects_opts o;
	const char *what;
	int rc;

	if ((what = sniff_body(buf, len)) != NULL) {
		snprintf(rep->msg, sizeof(rep->msg), "%s: refused: %s", source,
		         what);
		return SH_EPARSE;
	}
	refresh_parse_opts(c, source, &o);
	rc = redirects_parse_opts(buf, len, &o, m, warn_line, &w);
	warn_rest(&w);
	if (rc != SH_OK) {
		snprintf(rep->msg, sizeof(rep->msg), "out of memory");
		return rc;
	}
	rep->count = m->n;
	rep->invalid = m->invalid;
	if (m->n > 0)
		return SH_OK;
	snprintf(rep->msg, sizeof(rep->msg), "%s: %s (%u invalid)", source,
	         len == 0 ? "empty body" : "no valid line", m->invalid);
	return SH_EPARSE;
}

/* The shrink guard's refusal, in rep. */
static int
refuse_shrink(const struct conf *c, struct store *s, const char *source,
              size_t n, struct refresh_report *rep)
{
	snprintf(rep->msg, sizeof(rep->msg),
	         "%s: refused: %zu aliases, %zu stored, max-shrink "
	         "%llu%%%s (refresh --force takes it)",
	         source, n, store_count(s), (unsigned long long)c->max_shrink,
	         store_count(s) < SMALL_MAP ? ", one at a time under "
	                                      "10 aliases"
	                                    : "");
	return SH_ESHRINK;
}

/* What a stored map became, in rep. */
static void
stored_msg(const struct incoming *in, const struct redirect_map *m,
           const struct store_vstate *st, struct refresh_report *rep)
{
	char ver[96] = "";

	if (st->added && st->pinned)
		snprintf(ver, sizeof(ver),
		         "; kept as version %llu, not served: version %llu is "
		         "pinned (sherve unpin)",
		         (unsigned long long)st->newest,
		         (unsigned long long)st->current);
	else if (st->added)
		snprintf(ver, sizeof(ver), " as version %llu",
		         (unsigned long long)st->newest);
	else if (st->newest != 0)
		snprintf(ver, sizeof(ver), " (the file of version %llu)",
		         (unsigned long long)st->newest);
	snprintf(rep->msg, sizeof(rep->msg),
	         "%s: stored %zu aliases (%u invalid lines skipped)%s",
	         in->source, m->n, m->invalid, ver);
}

/* A success into st: what was stored, and how. */
static void
record_success(const struct conf *c, struct refresh_state *st,
               const struct incoming *in, size_t count)
{
	(void)str_copy(st->source, in->source, sizeof(st->source));
	parse_options(c, in->source, st->parse_options,
	              sizeof(st->parse_options));
	(void)str_copy(st->etag, in->etag, sizeof(st->etag));
	(void)str_copy(st->last_modified, in->lastmod,
	               sizeof(st->last_modified));
	st->last_attempt = (uint64_t)in->now;
	st->last_success = (uint64_t)in->now;
	st->last_result = REFRESH_UPDATED;
	st->last_error[0] = '\0';
	st->count = count;
	st->failures = 0;
	st->retry_at = 0;
	st->updated_total++;
}

/* Store m from in as a new version, with the state of a success (st,
 * updated only when it is written). */
static int
put_version(const struct conf *c, struct store *s, struct refresh_state *st,
            const struct incoming *in, const struct redirect_map *m,
            struct refresh_report *rep)
{
	unsigned char sbuf[REFRESH_STATE_MAX];
	struct refresh_state *next = NULL;
	struct store_version *v = NULL;
	struct store_vput vp = {
		STORE_VADD, NULL, in->body, in->len, (unsigned)c->keep_versions,
		0,          0
	};
	struct store_vstate vs;
	struct store_kv kv;
	int rc = SH_ENOMEM;

	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (next = malloc(sizeof(*next))) == NULL)
		goto out;
	v->stored_at = (uint64_t)in->now;
	v->rules = m->n;
	sha256(in->body, in->len, v->sha);
	(void)str_copy(v->source, in->source, sizeof(v->source));
	(void)str_copy(v->etag, in->etag, sizeof(v->etag));
	(void)str_copy(v->last_modified, in->lastmod, sizeof(v->last_modified));
	vp.v = v;
	*next = *st;
	record_success(c, next, in, m->n);
	rc = SH_ETOOLONG;
	if (refresh_state_kv(next, sbuf, sizeof(sbuf), &kv) != 0)
		goto out;
	if ((rc = store_replace_version(s, m, &kv, 1, &vp, &vs)) == SH_OK) {
		*st = *next;
		stored_msg(in, m, &vs, rep);
	}
out:
	free(next);
	free(v);
	return rc;
}

/* Parse in's body (see parse_body) and store it; the caller holds the
 * lock. */
static int
apply(const struct conf *c, struct store *s, struct refresh_state *st,
      const struct incoming *in, unsigned flags, struct refresh_report *rep)
{
	struct redirect_map m = { 0 };
	int rc;

	if ((rc = parse_body(c, in->body, in->len, in->source, &m, rep)) !=
	    SH_OK)
		goto out;
	if ((rc = chains(c, &m, in->source, rep)) != SH_OK)
		goto out;
	if (shrank(c, s, m.n, flags)) {
		rc = refuse_shrink(c, s, in->source, m.n, rep);
		goto out;
	}
	if ((rc = put_version(c, s, st, in, &m, rep)) != SH_OK)
		snprintf(
		        rep->msg, sizeof(rep->msg),
		        "%s: store write failed (%zu aliases): %s; the old map "
		        "is kept",
		        in->source, m.n, store_write_error(s));
out:
	redirects_free(&m);
	return rc;
}

/* The validators of st, if they hold for this fetch (else ""). */
static void
validators(const struct conf *c, struct store *s,
           const struct refresh_state *st, unsigned flags, struct fetch_opts *o)
{
	char popts[POPTS_MAX];

	/* Validators only hold for the URL they came from, parsed the way
	 * the settings say now, into the store's current layout: else a 304
	 * would keep a map that no longer means what the file says. */
	parse_options(c, c->redirects_url, popts, sizeof(popts));
	o->etag = o->last_modified = "";
	if (strcmp(st->source, c->redirects_url) == 0 &&
	    strcmp(st->parse_options, popts) == 0 && !store_stale(s) &&
	    !(flags & REFRESH_FORCE)) {
		o->etag = st->etag;
		o->last_modified = st->last_modified;
	}
}

static int
fetch_and_apply(const struct conf *c, struct store *s, struct refresh_state *st,
                unsigned flags, struct refresh_report *rep, time_t start)
{
	struct fetch_result fr;
	struct fetch_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	validators(c, s, st, flags, &o);
	o.url = c->redirects_url;
	o.ca_bundle = c->ca_bundle;
	o.connect_timeout = (long)c->connect_timeout;
	o.timeout = (long)c->fetch_timeout;
	o.max_body = c->max_body;
	o.cachebust =
	        c->cachebust == CACHEBUST_ALWAYS ||
	        (c->cachebust == CACHEBUST_MISS && (flags & REFRESH_MISS));
	rc = REFRESH_FETCH(&o, &fr);
	if (rc == SH_EUNCHANGED) {
		st->last_attempt = (uint64_t)start;
		st->last_result = REFRESH_NOT_MODIFIED;
		st->last_error[0] = '\0';
		st->failures = 0;
		st->retry_at = 0;
		snprintf(rep->msg, sizeof(rep->msg), "%s: not modified",
		         c->redirects_url);
		rep->count = store_count(s);
	} else if (rc != SH_OK) {
		snprintf(rep->msg, sizeof(rep->msg), "%s: %s", c->redirects_url,
		         fr.err);
		rep->retry_after = fr.retry_after;
	} else {
		struct incoming in = { fr.body,          fr.len,
			               c->redirects_url, fr.etag,
			               fr.last_modified, start };

		rc = apply(c, s, st, &in, flags, rep);
	}
	fetch_result_free(&fr);
	return rc;
}

/*
 * 1 if the store holds a map a startup refresh need not fetch: one was
 * stored (a map of an older layout reads as empty: refill it), or it has
 * rules. Checked before the lock and again under it: another worker may
 * be fetching, and after its lock it has stored.
 */
static int
holds_map(struct store *s, const struct refresh_state *st)
{
	return (st->last_success != 0 && !store_stale(s)) || store_count(s) > 0;
}

/* The outcome counters (sherve_refresh_total). */
static void
count_result(struct refresh_state *st, int rc)
{
	if (rc == SH_OK)
		st->updated_total++;
	else if (rc == SH_EUNCHANGED)
		st->not_modified_total++;
	else
		st->failed_total++;
}

/* Microseconds since the epoch, for ordering fetches within a second. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	if (REFRESH_CLOCK(&ts) != 0)
		return (uint64_t)time(NULL) * 1000000u;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Mark the start of a miss fetch: miss_fetch_at (seconds) for the rate
 * limit, miss_fetch_us for sharing it; written before the fetch starts.
 * Returns 0, or -1 if it could not be written: the rate limit would not
 * hold, so the caller must not fetch.
 */
static int
mark_miss_fetch(struct store *s, struct refresh_state *st, time_t start)
{
	st->miss_fetch_at = (uint64_t)start;
	st->miss_fetch_us = now_us();
	return refresh_state_save(s, st) == SH_OK ? 0 : -1;
}

static uint64_t
backoff_until(const struct refresh_state *st)
{
	return st->last_result == REFRESH_FAILED ? st->retry_at : 0;
}

uint64_t
refresh_due(const struct conf *c, const struct refresh_state *st)
{
	if (c->refresh_interval == 0 || c->redirects_url[0] == '\0')
		return UINT64_MAX;
	if (st->last_result == REFRESH_FAILED)
		return st->retry_at;
	return st->last_attempt + c->refresh_interval;
}

uint64_t
refresh_next_due(const struct conf *c, struct store *s)
{
	struct refresh_state st;

	if (refresh_state_load(s, &st) != SH_OK)
		memset(&st, 0, sizeof(st));
	return refresh_due(c, &st);
}

/* Why a miss refresh need not fetch (st as loaded under the lock), or
 * NULL. */
static const char *
miss_skip(const struct conf *c, const struct refresh_state *st, time_t start,
          uint64_t start_us)
{
	if (backoff_until(st) > (uint64_t)start)
		return "miss refresh held off: the upstream failed, backing off";
	if (c->miss_refresh_interval > 0 &&
	    st->miss_fetch_at + c->miss_refresh_interval > (uint64_t)start)
		return "miss refresh rate-limited";
	/* Interval 0: only a fetch that began after we arrived saw what the
	 * upstream held when our request came in; one that began earlier in
	 * the same second may predate the edit that request is after. */
	if (c->miss_refresh_interval == 0 && st->miss_fetch_us >= start_us)
		return "shared the miss refresh that just ran";
	return NULL;
}

/*
 * Re-check under the lock what was checked before taking it: another
 * process may have done the work while we waited. start is when the
 * caller arrived (before the lock), start_us the same in microseconds.
 * Returns 1 to skip.
 */
static int
skip_under_lock(const struct conf *c, struct store *s, struct refresh_state *st,
                unsigned flags, time_t start, uint64_t start_us,
                struct refresh_report *rep)
{
	const char *why = NULL;

	/* Times are in seconds: a fetch that began in the second before we
	 * arrived is not "since", but the map it stored is there. */
	if ((flags & REFRESH_STARTUP) &&
	    (st->last_attempt >= (uint64_t)start || holds_map(s, st)))
		why = "another process refreshed just now";
	else if ((flags & REFRESH_SCHEDULED) &&
	         refresh_due(c, st) > (uint64_t)start)
		why = "not due: another process refreshed";
	else if (flags & REFRESH_MISS)
		why = miss_skip(c, st, start, start_us);
	if (why == NULL && (flags & REFRESH_MISS) &&
	    mark_miss_fetch(s, st, start) != 0)
		why = "miss refresh skipped: cannot record it in the store";
	if (why != NULL)
		snprintf(rep->msg, sizeof(rep->msg), "%s", why);
	return why != NULL;
}

/*
 * The periodic check: the stored map against its checksum (reads it all,
 * so not on the miss path, where a request waits). A damaged store is set
 * aside and this refresh fills a fresh one.
 */
static void
check_stored(struct store *s)
{
	char sum[96];

	if (store_verify(s, sum, sizeof(sum)) == SH_EDAMAGED &&
	    store_heal(s) != SH_OK)
		log_error("store: damaged (%s), and it cannot be set aside "
		          "here; the workers will",
		          store_damage(s) != NULL ? store_damage(s) : "?");
}

/*
 * Does this state dir serve our redirects-url (claim.h)? Else the map
 * is not ours to store. Returns SH_OK, or SH_EINVAL / SH_EIO with
 * rep->msg set.
 */
static int
claimed(const struct conf *c, struct refresh_report *rep)
{
	char other[4096];
	int rc = claim_check(c->state_dir, c->redirects_url, other,
	                     sizeof(other));

	if (rc == SH_OK)
		return SH_OK;
	if (rc == SH_EBUSY) {
		/* rep->msg is one line of 320 bytes: long names are cut. */
		snprintf(rep->msg, sizeof(rep->msg),
		         "refused: state-dir %.50s serves %.70s for a running "
		         "sherve (see instance.lock); this one is for %.70s: "
		         "give each its own state-dir",
		         c->state_dir, other, c->redirects_url);
		return SH_EINVAL;
	}
	snprintf(rep->msg, sizeof(rep->msg),
	         "state-dir: cannot record the instance in %.200s: %s",
	         c->state_dir, strerror(errno));
	return SH_EIO;
}

/*
 * Under the lock: the state loaded once, the work, the state saved once
 * (with the map, when one is stored; else after).
 */
static int
under_lock(const struct conf *c, struct store *s, struct refresh_state *st,
           unsigned flags, struct refresh_report *rep,
           const struct incoming *in, uint64_t start_us)
{
	time_t start = (time_t)(start_us / 1000000u);
	int rc;

	if (!(flags & REFRESH_MISS))
		check_stored(s);
	if ((rc = refresh_state_load(s, st)) != SH_OK) {
		snprintf(rep->msg, sizeof(rep->msg), "cannot read the store");
		return SH_ESTORE;
	}
	if (skip_under_lock(c, s, st, flags, start, start_us, rep))
		return SH_EBUSY;
	if (in != NULL)
		rc = apply(c, s, st, in, flags, rep);
	else
		rc = fetch_and_apply(c, s, st, flags, rep, start);
	if (rc == SH_OK)
		return rc; /* the state went with the map */
	/* An import is the admin's own act: its failure is reported to them
	 * and must not move the upstream schedule or its backoff. */
	if (rc != SH_EUNCHANGED && in == NULL)
		record_failure(c, st, start, rep);
	count_result(st, rc);
	if (refresh_state_save(s, st) != SH_OK) {
		log_warnx("store: could not record the refresh: %s",
		          store_write_error(s));
		if (rc == SH_EUNCHANGED)
			rc = SH_ESTORE;
	}
	return rc;
}

/*
 * Refresh (buf NULL) or import (buf) under the lock; shared by run and
 * import.
 */
static int
locked(const struct conf *c, struct store *s, unsigned flags,
       struct refresh_report *rep, const char *buf, size_t len,
       const char *source)
{
	uint64_t start_us = now_us();
	struct incoming in = { buf, len, source,
		               "",  "",  (time_t)(start_us / 1000000u) };
	struct refresh_state *st;
	int fd, busy, rc;

	if (store_readonly(s)) {
		snprintf(rep->msg, sizeof(rep->msg), "%s",
		         store_write_error(s));
		return SH_ESTORE;
	}
	if ((st = malloc(sizeof(*st))) == NULL) {
		snprintf(rep->msg, sizeof(rep->msg), "out of memory");
		return SH_ENOMEM;
	}
	if ((fd = lock_take(c, flags & REFRESH_NOWAIT, &busy)) < 0) {
		snprintf(rep->msg, sizeof(rep->msg),
		         busy ? "another refresh is running"
		              : "state-dir: cannot take refresh.lock: %s",
		         strerror(errno));
		free(st);
		return busy ? SH_EBUSY : SH_EIO;
	}
	if (buf != NULL || (rc = claimed(c, rep)) == SH_OK)
		rc = under_lock(c, s, st, flags, rep, buf != NULL ? &in : NULL,
		                start_us);
	lock_release(fd);
	free(st);
#ifdef HAVE_MALLOC_TRIM
	/* A refresh in a worker parses the whole map; give that memory back
	 * so the worker's private RSS stays small between refreshes. */
	(void)malloc_trim(0);
#endif
	return rc;
}

int
refresh_url_check(const struct conf *c, char *msg, size_t msgsz)
{
	if (c->redirects_url[0] == '\0') {
		snprintf(msg, msgsz, "redirects-url: not set");
		return SH_EINVAL;
	}
	if (!url_fetchable(c->redirects_url)) {
		snprintf(msg, msgsz,
		         "redirects-url: %s: not an http, https or file URL",
		         c->redirects_url);
		return SH_EINVAL;
	}
	return SH_OK;
}

int
refresh_run(const struct conf *c, struct store *s, unsigned flags,
            struct refresh_report *rep)
{
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->retry_after = -1;
	if ((rc = refresh_url_check(c, rep->msg, sizeof(rep->msg))) != SH_OK)
		return rc;
	return locked(c, s, flags, rep, NULL, 0, NULL);
}

int
refresh_import(const struct conf *c, struct store *s, char *buf, size_t len,
               const char *source, unsigned flags, struct refresh_report *rep)
{
	int rc;

	memset(rep, 0, sizeof(*rep));
	rep->retry_after = -1;
	rc = locked(c, s, flags, rep, buf, len, source);
	free(buf);
	return rc;
}

int
refresh_startup_due(const struct conf *c, struct store *s, int once)
{
	struct refresh_state *st;
	int due;

	if (c->redirects_url[0] == '\0')
		return 0;
	if ((st = malloc(sizeof(*st))) == NULL ||
	    refresh_state_load(s, st) != SH_OK) {
		free(st);
		return 0;
	}
	/* A CGI process must not fetch on every request while upstream is
	 * down: it tries once, then leaves refreshing to cron. */
	due = !(once && st->last_attempt != 0) && !holds_map(s, st);
	free(st);
	return due;
}
