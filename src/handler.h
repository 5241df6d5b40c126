/*
 * handler.h - the request path, top-down: method -> normalise -> asset ->
 * redirect -> not found. No network, no config parsing, one LMDB lookup.
 *
 * Caveats: the store may be NULL (it could not be opened); aliases then
 * answer 503 with Retry-After (an alias cannot be told from a miss, and
 * a 404 would be cached as the answer), the request log line says why,
 * and assets are still served. The handler holds the webroot open
 * between requests; handler_close() lets it go.
 */
#ifndef SHERVE_HANDLER_H
#define SHERVE_HANDLER_H

#include "conf.h"
#include "metrics.h"
#include "request.h"
#include "response.h"
#include "store.h"
#include "webroot.h"

struct handler {
	const struct conf *conf;
	struct store *store;
	/*
	 * Called when an alias is unknown; returns 1 if the map may have
	 * changed and the alias should be looked up again. May be NULL.
	 */
	int (*on_miss)(void *ctx);
	void *miss_ctx;
	struct metrics *metrics; /* may be NULL: nothing recorded */
	struct webroot root;     /* held open between requests; zeroed */
	/*
	 * Called first thing for each request, to bring store, metrics,
	 * on_miss and store_why up to date (the worker's statedir_tick(),
	 * at most once per clock tick). May be NULL.
	 */
	void (*tick)(void *ctx, struct handler *h);
	void *tick_ctx;
	const char *store_why; /* with store NULL: why, for the request log */
};

/*
 * Answer rq on out. Returns the HTTP status sent (for metrics and tests);
 * a client that went away mid-body is not an error of ours.
 */
int handler_serve(struct handler *h, const struct request *rq,
                  struct sink *out);

/* Close what the handler holds open between requests (the webroot). */
void handler_close(struct handler *h);

#endif
