/*
 * refresh.h - fetch -> parse -> guard -> store, outside the request path.
 *
 * One refresh at a time across every process: an flock() on
 * STATE_DIR/refresh.lock, and whatever was checked before taking it
 * (due time, miss rate limit) is checked again under it, so N workers
 * make one fetch. A failure of any kind (fetch, empty body, no valid
 * line, shrink guard, store) keeps the last good map, records the reason
 * in the store's state, where `sherve status` reads it, and sets a retry
 * time with exponential backoff (capped at refresh-interval, never sooner
 * than the upstream's Retry-After).
 *
 * The bookkeeping is one struct refresh_state (refresh_state.h), loaded
 * once under the lock and saved once: with the map when one is stored,
 * else after the attempt (a miss refresh also marks its start before it
 * fetches). Its parse_options say how the map was parsed: a change of
 * format, alias-case or allow-relative-targets skips the conditional GET
 * once.
 *
 * Each map stored is kept as a version with its file (store.h): a file
 * whose SHA-256 is the newest version's adds none, and while a pin is
 * set (sherve rollback) a new version is kept but not served.
 *
 * Before storing anything a refresh checks, under the lock:
 *  - that the state dir serves its redirects-url (claim.h): a running
 *    instance for another URL makes it refuse (SH_EINVAL);
 *  - the stored map against its checksum (store_verify(); not on the
 *    miss path): a damaged store is set aside and this refresh fills a
 *    fresh one, fetched without validators;
 * and of the body: that it is not an HTML page or a binary file
 * (sniff.h), refused whole with one line; per-line warnings are logged
 * for the first 20 lines, then counted. The shrink guard refuses a map
 * that loses more than max-shrink percent of the aliases, or more than
 * one when fewer than 10 are stored.
 *
 * Caveats: blocks for up to the fetch timeouts; only the miss path
 * (REFRESH_MISS, rate-limited) may run while a request waits. The
 * checksum check reads the whole store (about 6 s of CPU per GB).
 */
#ifndef SHERVE_REFRESH_H
#define SHERVE_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "refresh_state.h"
#include "store.h"

enum refresh_flags {
	REFRESH_FORCE = 1,      /* no conditional GET, no shrink guard */
	REFRESH_MISS = 2,       /* miss-triggered: rate-limited, cachebust */
	REFRESH_NOWAIT = 4,     /* give up (SH_EBUSY) if another refresh runs */
	REFRESH_STARTUP = 8,    /* skip if another process tried meanwhile */
	REFRESH_SCHEDULED = 16, /* skip unless due (checked under the lock) */
};

struct refresh_report {
	size_t count;     /* aliases in the new map */
	unsigned invalid; /* lines skipped */
	long retry_after; /* upstream Retry-After seconds, or -1 */
	char msg[320];    /* one line: what happened */
};

/*
 * Refresh the store from c->redirects_url.
 * Returns SH_OK (map replaced), SH_EUNCHANGED (304), SH_EBUSY (NOWAIT and
 * locked, or skipped under the lock: not due, rate-limited), SH_EINVAL
 * (no or bad URL), SH_EFETCH, SH_EPARSE, SH_ESHRINK, SH_ESTORE, SH_EIO or
 * SH_ENOMEM. rep->msg says why in every case.
 */
int refresh_run(const struct conf *c, struct store *s, unsigned flags,
                struct refresh_report *rep);

/*
 * Is c->redirects_url set and an http, https or file URL? Returns SH_OK,
 * or SH_EINVAL with the reason in msg. Commands check it before they
 * create a store.
 */
int refresh_url_check(const struct conf *c, char *msg, size_t msgsz);

/*
 * Replace the store from a local buffer (sherve import) with the same
 * validation; source names it in the meta and the version. buf is
 * malloc'd and freed by this call, once the map and the file (kept as
 * the new version) are stored. Same returns as refresh_run.
 */
int refresh_import(const struct conf *c, struct store *s, char *buf, size_t len,
                   const char *source, unsigned flags,
                   struct refresh_report *rep);

/*
 * Unix time when the next scheduled refresh is due: last attempt plus
 * refresh-interval, or the backoff time after a failure; UINT64_MAX when
 * scheduling is off or no URL is set.
 */
uint64_t refresh_next_due(const struct conf *c, struct store *s);

/* refresh_next_due() of a state already read. */
uint64_t refresh_due(const struct conf *c, const struct refresh_state *st);

/*
 * The parser options for a file named source (URL or "import:PATH"):
 * format (auto decides by the name), alias-case, allow-relative-targets.
 */
void refresh_parse_opts(const struct conf *c, const char *source,
                        struct redirects_opts *o);

/*
 * Take the refresh lock (waiting for a refresh under way), for a command
 * that changes which version is current. Returns the fd to pass to
 * refresh_unlock(), or -1 with the reason in msg.
 */
int refresh_lock(const struct conf *c, char *msg, size_t msgsz);
void refresh_unlock(int fd);

/*
 * At responder start: 1 if a refresh should fetch once, because the
 * store has never held a map (so a first start serves redirects), 0 if
 * not or no URL is set. With once set (CGI mode, a process per request),
 * only if no attempt was ever made. A refresh with REFRESH_STARTUP then
 * checks again under the lock, so concurrent workers make one fetch.
 */
int refresh_startup_due(const struct conf *c, struct store *s, int once);

#endif
