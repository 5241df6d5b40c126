/* refresh.c - the one way a map enters the store; see refresh.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "redirects.h"
#include "refresh.h"
#include "util.h"

static void
warn_line(void *ctx, unsigned line, const char *reason)
{
	const char *source = ctx;

	log_warnx("%s: line %u skipped: %s", source, line, reason);
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
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0)
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

static void
record_failure(struct store *s, const char *now, const char *why)
{
	struct store_kv kv[] = { { "last_attempt", now },
		                 { "last_result", "failed" },
		                 { "last_error", why } };

	if (store_meta_put(s, kv, 3) != SH_OK)
		log_warnx("store: could not record the failed refresh");
}

/* The shrink guard: refuse a map that lost too many aliases at once. */
static int
shrank(const struct conf *c, struct store *s, size_t n, unsigned flags)
{
	size_t old = store_count(s);

	if ((flags & REFRESH_FORCE) || c->max_shrink >= 100 || old == 0)
		return 0;
	return (unsigned long long)n * 100 <
	       (unsigned long long)old * (100 - c->max_shrink);
}

/* Parse buf and replace the map; the caller holds the lock. */
static int
apply(const struct conf *c, struct store *s, const char *buf, size_t len,
      const char *source, const char *etag, const char *lastmod, unsigned flags,
      struct refresh_report *rep, const char *now)
{
	struct redirect_map m = { 0 };
	char count[32];
	int rc;

	if ((rc = redirects_parse(buf, len, &m, warn_line, (void *)source)) !=
	    SH_OK)
		goto out;
	rep->count = m.n;
	rep->invalid = m.invalid;
	if (m.n == 0) {
		rc = SH_EPARSE;
		snprintf(rep->msg, sizeof(rep->msg), "%s: %s (%u invalid)",
		         source, len == 0 ? "empty body" : "no valid line",
		         m.invalid);
		goto out;
	}
	if (shrank(c, s, m.n, flags)) {
		rc = SH_ESHRINK;
		snprintf(
		        rep->msg, sizeof(rep->msg),
		        "%s: refused: %zu aliases, %zu stored, max-shrink %llu%%",
		        source, m.n, store_count(s),
		        (unsigned long long)c->max_shrink);
		goto out;
	}
	snprintf(count, sizeof(count), "%zu", m.n);
	{
		struct store_kv kv[] = { { "source", source },
			                 { "etag", etag },
			                 { "last_modified", lastmod },
			                 { "last_attempt", now },
			                 { "last_success", now },
			                 { "last_result", "updated" },
			                 { "last_error", "" },
			                 { "count", count } };

		rc = store_replace(s, &m, kv, sizeof(kv) / sizeof(kv[0]));
	}
	snprintf(rep->msg, sizeof(rep->msg),
	         rc == SH_OK
	                 ? "%s: stored %zu aliases (%u invalid lines skipped)"
	                 : "%s: store write failed (%zu aliases)",
	         source, m.n, m.invalid);
out:
	if (rc == SH_ENOMEM)
		snprintf(rep->msg, sizeof(rep->msg), "out of memory");
	redirects_free(&m);
	return rc;
}

static int
fetch_and_apply(const struct conf *c, struct store *s, unsigned flags,
                struct refresh_report *rep, const char *now)
{
	char source[4096], etag[FETCH_VALIDATOR_MAX], lm[FETCH_VALIDATOR_MAX];
	struct fetch_result fr;
	struct fetch_opts o;
	int rc, same;

	/* Validators only hold for the URL they came from. */
	same = store_meta_get(s, "source", source, sizeof(source)) == SH_OK &&
	       strcmp(source, c->redirects_url) == 0 &&
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
	        (c->cachebust == CACHEBUST_MISS && (flags & REFRESH_CACHEBUST));
	rc = fetch_url(&o, &fr);
	if (rc == SH_EUNCHANGED) {
		struct store_kv kv[] = { { "last_attempt", now },
			                 { "last_result", "not_modified" },
			                 { "last_error", "" } };

		snprintf(rep->msg, sizeof(rep->msg), "%s: not modified",
		         c->redirects_url);
		rep->count = store_count(s);
		if (store_meta_put(s, kv, 3) != SH_OK)
			rc = SH_ESTORE;
	} else if (rc != SH_OK) {
		snprintf(rep->msg, sizeof(rep->msg), "%s: %s", c->redirects_url,
		         fr.err);
	} else {
		rc = apply(c, s, fr.body, fr.len, c->redirects_url, fr.etag,
		           fr.last_modified, flags, rep, now);
	}
	fetch_result_free(&fr);
	return rc;
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

/* Run fn under the lock and record a failure; shared by run and import. */
static int
locked(const struct conf *c, struct store *s, unsigned flags,
       struct refresh_report *rep, const char *buf, size_t len,
       const char *source)
{
	time_t start = time(NULL);
	char now[32];
	int fd, busy, rc;

	snprintf(now, sizeof(now), "%lld", (long long)start);
	if ((fd = lock_take(c, flags & REFRESH_NOWAIT, &busy)) < 0) {
		snprintf(rep->msg, sizeof(rep->msg),
		         busy ? "another refresh is running"
		              : "state-dir: cannot take refresh.lock: %s",
		         strerror(errno));
		return busy ? SH_EBUSY : SH_EIO;
	}
	if ((flags & REFRESH_STARTUP) && tried_since(s, start)) {
		snprintf(rep->msg, sizeof(rep->msg),
		         "another process refreshed just now");
		lock_release(fd);
		return SH_EUNCHANGED;
	}
	if (buf != NULL)
		rc = apply(c, s, buf, len, source, "", "", flags, rep, now);
	else
		rc = fetch_and_apply(c, s, flags, rep, now);
	if (rc != SH_OK && rc != SH_EUNCHANGED)
		record_failure(s, now, rep->msg);
	lock_release(fd);
	return rc;
}

int
refresh_run(const struct conf *c, struct store *s, unsigned flags,
            struct refresh_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (c->redirects_url[0] == '\0') {
		snprintf(rep->msg, sizeof(rep->msg), "redirects-url: not set");
		return SH_EINVAL;
	}
	if (!fetch_url_ok(c->redirects_url)) {
		snprintf(rep->msg, sizeof(rep->msg),
		         "redirects-url: %s: not an http, https or file URL",
		         c->redirects_url);
		return SH_EINVAL;
	}
	return locked(c, s, flags, rep, NULL, 0, NULL);
}

int
refresh_import(const struct conf *c, struct store *s, const char *buf,
               size_t len, const char *source, unsigned flags,
               struct refresh_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	return locked(c, s, flags, rep, buf, len, source);
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
	/* Another worker may be fetching; after its lock, it has stored. */
	if (store_meta_get(s, "last_success", last, sizeof(last)) == SH_OK &&
	    last[0] != '\0')
		return;
	if (store_count(s) > 0)
		return;
	rc = refresh_run(c, s, REFRESH_STARTUP, &rep);
	if (rc == SH_OK || rc == SH_EUNCHANGED)
		log_info("startup refresh: %s", rep.msg);
	else
		log_error("startup refresh failed, serving without it: %s",
		          rep.msg);
}
