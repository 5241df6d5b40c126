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
#include "sha256.h"
#include "sniff.h"
#include "url.h"
#include "util.h"

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

uint64_t
refresh_meta_u64(struct store *s, const char *key)
{
	char v[32];
	const char *why;
	uint64_t n;

	if (store_meta_get(s, key, v, sizeof(v)) != SH_OK ||
	    parse_u64(v, 0, UINT64_MAX, &n, &why) != 0)
		return 0;
	return n;
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

static void
record_failure(const struct conf *c, struct store *s, time_t now,
               const struct refresh_report *rep)
{
	char at[32], fails[32], retry[32];
	uint64_t f = refresh_meta_u64(s, "failures") + 1;
	struct store_kv kv[] = { { "last_attempt", at },
		                 { "last_result", "failed" },
		                 { "last_error", rep->msg },
		                 { "failures", fails },
		                 { "retry_at", retry } };

	snprintf(at, sizeof(at), "%lld", (long long)now);
	snprintf(fails, sizeof(fails), "%llu", (unsigned long long)f);
	snprintf(retry, sizeof(retry), "%llu",
	         (unsigned long long)now + backoff(c, f, rep->retry_after));
	if (store_meta_put(s, kv, 5) != SH_OK)
		log_warnx("store: could not record the failed refresh: %s",
		          store_write_error(s));
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

/* How the stored map was parsed, kept in the meta as "parse_options":
 * the settings that change what a file means, hostnames included (they
 * decide what a loop is). */
#define POPTS_MAX 1280
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
	char path[256];
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

/* Store m from in as a new version, with the meta of a success. */
static int
put_version(const struct conf *c, struct store *s, const struct incoming *in,
            const struct redirect_map *m, struct refresh_report *rep)
{
	char count[32], now[32], popts[POPTS_MAX];
	struct store_version *v;
	struct store_vput vp = {
		STORE_VADD, NULL, in->body, in->len, (unsigned)c->keep_versions,
		0,          0
	};
	struct store_vstate st;
	int rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return SH_ENOMEM;
	v->stored_at = (uint64_t)in->now;
	v->rules = m->n;
	sha256(in->body, in->len, v->sha);
	(void)str_copy(v->source, in->source, sizeof(v->source));
	(void)str_copy(v->etag, in->etag, sizeof(v->etag));
	(void)str_copy(v->last_modified, in->lastmod, sizeof(v->last_modified));
	vp.v = v;
	parse_options(c, in->source, popts, sizeof(popts));
	snprintf(count, sizeof(count), "%zu", m->n);
	snprintf(now, sizeof(now), "%lld", (long long)in->now);
	{
		struct store_kv kv[] = { { "source", in->source },
			                 { "etag", in->etag },
			                 { "last_modified", in->lastmod },
			                 { "last_attempt", now },
			                 { "last_success", now },
			                 { "last_result", "updated" },
			                 { "last_error", "" },
			                 { "count", count },
			                 { "failures", "0" },
			                 { "retry_at", "" },
			                 { "parse_options", popts } };

		rc = store_replace_version(s, m, kv, sizeof(kv) / sizeof(kv[0]),
		                           &vp, &st);
	}
	free(v);
	if (rc == SH_OK)
		stored_msg(in, m, &st, rep);
	return rc;
}

/* Parse in's body (see parse_body) and store it; the caller holds the
 * lock. */
static int
apply(const struct conf *c, struct store *s, const struct incoming *in,
      unsigned flags, struct refresh_report *rep)
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
	if ((rc = put_version(c, s, in, &m, rep)) != SH_OK)
		snprintf(
		        rep->msg, sizeof(rep->msg),
		        "%s: store write failed (%zu aliases): %s; the old map "
		        "is kept",
		        in->source, m.n, store_write_error(s));
out:
	redirects_free(&m);
	return rc;
}

static int
fetch_and_apply(const struct conf *c, struct store *s, unsigned flags,
                struct refresh_report *rep, const char *now, time_t start)
{
	char source[4096], etag[FETCH_VALIDATOR_MAX], lm[FETCH_VALIDATOR_MAX];
	char popts[POPTS_MAX], stored[POPTS_MAX];
	struct fetch_result fr;
	struct fetch_opts o;
	int rc, same;

	/* Validators only hold for the URL they came from, parsed the way
	 * the settings say now, into the store's current layout: else a 304
	 * would keep a map that no longer means what the file says. */
	parse_options(c, c->redirects_url, popts, sizeof(popts));
	same = store_meta_get(s, "source", source, sizeof(source)) == SH_OK &&
	       strcmp(source, c->redirects_url) == 0 &&
	       store_meta_get(s, "parse_options", stored, sizeof(stored)) ==
	               SH_OK &&
	       strcmp(stored, popts) == 0 && !store_stale(s) &&
	       !(flags & REFRESH_FORCE);
	if (!same || store_meta_get(s, "etag", etag, sizeof(etag)) != SH_OK)
		etag[0] = '\0';
	if (!same ||
	    store_meta_get(s, "last_modified", lm, sizeof(lm)) != SH_OK)
		lm[0] = '\0';
	memset(&o, 0, sizeof(o));
	o.url = c->redirects_url;
	o.ca_bundle = c->ca_bundle;
	o.etag = etag;
	o.last_modified = lm;
	o.connect_timeout = (long)c->connect_timeout;
	o.timeout = (long)c->fetch_timeout;
	o.max_body = c->max_body;
	o.cachebust =
	        c->cachebust == CACHEBUST_ALWAYS ||
	        (c->cachebust == CACHEBUST_MISS && (flags & REFRESH_MISS));
	rc = fetch_url(&o, &fr);
	if (rc == SH_EUNCHANGED) {
		struct store_kv kv[] = { { "last_attempt", now },
			                 { "last_result", "not_modified" },
			                 { "last_error", "" },
			                 { "failures", "0" },
			                 { "retry_at", "" } };

		snprintf(rep->msg, sizeof(rep->msg), "%s: not modified",
		         c->redirects_url);
		rep->count = store_count(s);
		if (store_meta_put(s, kv, 5) != SH_OK)
			rc = SH_ESTORE;
	} else if (rc != SH_OK) {
		snprintf(rep->msg, sizeof(rep->msg), "%s: %s", c->redirects_url,
		         fr.err);
		rep->retry_after = fr.retry_after;
	} else {
		struct incoming in = { fr.body,          fr.len,
			               c->redirects_url, fr.etag,
			               fr.last_modified, start };

		rc = apply(c, s, &in, flags, rep);
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
holds_map(struct store *s)
{
	char last[32];

	return (store_meta_get(s, "last_success", last, sizeof(last)) ==
	                SH_OK &&
	        last[0] != '\0' && !store_stale(s)) ||
	       store_count(s) > 0;
}

/* 1 if some process attempted a refresh at or after start. */
static int
tried_since(struct store *s, time_t start)
{
	char last[32];
	const char *why;
	uint64_t t;

	return store_meta_get(s, "last_attempt", last, sizeof(last)) == SH_OK &&
	       parse_u64(last, 0, UINT64_MAX, &t, &why) == 0 &&
	       (time_t)t >= start;
}

/* The sherve_refresh_total counters; the lock makes the increment safe. */
static void
count_result(struct store *s, int rc)
{
	const char *key = rc == SH_OK           ? "refresh_updated_total"
	                  : rc == SH_EUNCHANGED ? "refresh_not_modified_total"
	                                        : "refresh_failed_total";
	char v[32];
	struct store_kv kv = { key, v };

	snprintf(v, sizeof(v), "%llu",
	         (unsigned long long)refresh_meta_u64(s, key) + 1);
	if (store_meta_put(s, &kv, 1) != SH_OK)
		log_warnx("store: could not count the refresh: %s",
		          store_write_error(s));
}

/* Microseconds since the epoch, for ordering fetches within a second. */
static uint64_t
now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (uint64_t)time(NULL) * 1000000u;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Mark the start of a miss fetch: "miss_fetch_at" (seconds) for the rate
 * limit, "miss_fetch_us" for sharing it. The fetch starts after this.
 * Returns 0, or -1 if it could not be written: the rate limit would not
 * hold, so the caller must not fetch.
 */
static int
mark_miss_fetch(struct store *s, time_t start)
{
	char at[32], us[32];
	struct store_kv kv[] = { { "miss_fetch_at", at },
		                 { "miss_fetch_us", us } };

	snprintf(at, sizeof(at), "%lld", (long long)start);
	snprintf(us, sizeof(us), "%llu", (unsigned long long)now_us());
	return store_meta_put(s, kv, 2) == SH_OK ? 0 : -1;
}

/* 1 if the last refresh failed: its retry_at holds the next try. */
static int
last_failed(struct store *s)
{
	char res[32];

	return store_meta_get(s, "last_result", res, sizeof(res)) == SH_OK &&
	       strcmp(res, "failed") == 0;
}

uint64_t
refresh_backoff_until(struct store *s)
{
	return last_failed(s) ? refresh_meta_u64(s, "retry_at") : 0;
}

/*
 * Re-check under the lock what was checked before taking it: another
 * process may have done the work while we waited. start is when the
 * caller arrived (before the lock), start_us the same in microseconds.
 * Returns 1 to skip.
 */
static int
skip_under_lock(const struct conf *c, struct store *s, unsigned flags,
                time_t start, uint64_t start_us, struct refresh_report *rep)
{
	const char *why = NULL;

	/* Times are in seconds: a fetch that began in the second before we
	 * arrived is not "since", but the map it stored is there. */
	if ((flags & REFRESH_STARTUP) &&
	    (tried_since(s, start) || holds_map(s)))
		why = "another process refreshed just now";
	else if ((flags & REFRESH_SCHEDULED) &&
	         refresh_next_due(c, s) > (uint64_t)start)
		why = "not due: another process refreshed";
	else if ((flags & REFRESH_MISS) &&
	         refresh_backoff_until(s) > (uint64_t)start)
		why = "miss refresh held off: the upstream failed, backing off";
	else if ((flags & REFRESH_MISS) && c->miss_refresh_interval > 0 &&
	         refresh_meta_u64(s, "miss_fetch_at") +
	                         c->miss_refresh_interval >
	                 (uint64_t)start)
		why = "miss refresh rate-limited";
	/* Interval 0: only a fetch that began after we arrived saw what the
	 * upstream held when our request came in; one that began earlier in
	 * the same second may predate the edit that request is after. */
	else if ((flags & REFRESH_MISS) && c->miss_refresh_interval == 0 &&
	         refresh_meta_u64(s, "miss_fetch_us") >= start_us)
		why = "shared the miss refresh that just ran";
	if (why == NULL && (flags & REFRESH_MISS) &&
	    mark_miss_fetch(s, start) != 0)
		why = "miss refresh skipped: cannot record it in the store";
	if (why != NULL)
		snprintf(rep->msg, sizeof(rep->msg), "%s", why);
	return why != NULL;
}

uint64_t
refresh_next_due(const struct conf *c, struct store *s)
{
	if (c->refresh_interval == 0 || c->redirects_url[0] == '\0')
		return UINT64_MAX;
	if (last_failed(s))
		return refresh_meta_u64(s, "retry_at");
	return refresh_meta_u64(s, "last_attempt") + c->refresh_interval;
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
 * Refresh (bufp NULL) or import (*bufp) under the lock and record a
 * failure; shared by run and import.
 */
static int
locked(const struct conf *c, struct store *s, unsigned flags,
       struct refresh_report *rep, const char *buf, size_t len,
       const char *source)
{
	uint64_t start_us = now_us();
	time_t start = (time_t)(start_us / 1000000u);
	char now[32];
	int fd, busy, rc;

	snprintf(now, sizeof(now), "%lld", (long long)start);
	if (store_readonly(s)) {
		snprintf(rep->msg, sizeof(rep->msg), "%s",
		         store_write_error(s));
		return SH_ESTORE;
	}
	if ((fd = lock_take(c, flags & REFRESH_NOWAIT, &busy)) < 0) {
		snprintf(rep->msg, sizeof(rep->msg),
		         busy ? "another refresh is running"
		              : "state-dir: cannot take refresh.lock: %s",
		         strerror(errno));
		return busy ? SH_EBUSY : SH_EIO;
	}
	if (buf == NULL && (rc = claimed(c, rep)) != SH_OK) {
		lock_release(fd);
		return rc;
	}
	if (!(flags & REFRESH_MISS))
		check_stored(s);
	if (skip_under_lock(c, s, flags, start, start_us, rep)) {
		lock_release(fd);
		return SH_EBUSY;
	}
	if (buf != NULL) {
		struct incoming in = { buf, len, source, "", "", start };

		rc = apply(c, s, &in, flags, rep);
	} else {
		rc = fetch_and_apply(c, s, flags, rep, now, start);
	}
	/* An import is the admin's own act: its failure is reported to them
	 * and must not move the upstream schedule or its backoff. */
	if (rc != SH_OK && rc != SH_EUNCHANGED && buf == NULL)
		record_failure(c, s, start, rep);
	count_result(s, rc);
	lock_release(fd);
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

void
refresh_startup(const struct conf *c, struct store *s, int once)
{
	struct refresh_report rep;
	char last[32];
	int rc;

	if (c->redirects_url[0] == '\0')
		return;
	/* A CGI process must not fetch on every request while upstream is
	 * down: it tries once, then leaves refreshing to cron. */
	if (once &&
	    store_meta_get(s, "last_attempt", last, sizeof(last)) == SH_OK &&
	    last[0] != '\0')
		return;
	if (holds_map(s))
		return;
	rc = refresh_run(c, s, REFRESH_STARTUP, &rep);
	if (rc == SH_OK || rc == SH_EUNCHANGED || rc == SH_EBUSY)
		log_info("startup refresh: %s", rep.msg);
	else
		log_error("startup refresh failed, serving without it: %s",
		          rep.msg);
}
