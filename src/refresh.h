/*
 * refresh.h - fetch -> parse -> guard -> store, outside the request path.
 *
 * One refresh at a time across every process: an flock() on
 * STATE_DIR/refresh.lock. A failure of any kind (fetch, empty body, no
 * valid line, shrink guard, store) keeps the last good map and records
 * the reason in the store's meta, where `sherve status` reads it.
 *
 * Caveats: blocks for up to the fetch timeouts; never call it while
 * answering a request.
 */
#ifndef SHERVE_REFRESH_H
#define SHERVE_REFRESH_H

#include <stddef.h>

#include "conf.h"
#include "store.h"

enum refresh_flags {
	REFRESH_FORCE = 1,     /* no conditional GET, no shrink guard */
	REFRESH_CACHEBUST = 2, /* append cachebust= (a miss-triggered fetch) */
	REFRESH_NOWAIT = 4,    /* give up (SH_EBUSY) if another refresh runs */
	REFRESH_STARTUP = 8, /* skip if another process tried while we waited */
};

struct refresh_report {
	size_t count;     /* aliases in the new map */
	unsigned invalid; /* lines skipped */
	char msg[320];    /* one line: what happened */
};

/*
 * Refresh the store from c->redirects_url.
 * Returns SH_OK (map replaced), SH_EUNCHANGED (304), SH_EBUSY (NOWAIT and
 * locked), SH_EINVAL (no or bad URL), SH_EFETCH, SH_EPARSE, SH_ESHRINK,
 * SH_ESTORE, SH_EIO or SH_ENOMEM. rep->msg says why in every case.
 */
int refresh_run(const struct conf *c, struct store *s, unsigned flags,
                struct refresh_report *rep);

/*
 * Replace the store from a local buffer (sherve import) with the same
 * validation; source names it in the meta. Same returns as refresh_run.
 */
int refresh_import(const struct conf *c, struct store *s, const char *buf,
                   size_t len, const char *source, unsigned flags,
                   struct refresh_report *rep);

/*
 * At responder start: fetch once if the store has never held a map, so a
 * first start serves redirects; concurrent workers wait for the one
 * fetch instead of each fetching. Logs and swallows every failure: a
 * FastCGI backend must not die because upstream is down. With once set
 * (CGI mode, a process per request), only if no attempt was ever made.
 */
void refresh_startup(const struct conf *c, struct store *s, int once);

#endif
