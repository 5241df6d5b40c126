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
#include "match.h"
#include "metrics.h"
#include "redirects.h"
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

/* What the rules answer for a request path (handler_rule()). */
struct handler_rule {
	struct match_result m;
	int status;                          /* the status to answer with */
	char url[REDIRECT_URL_MAX + 1];      /* the rule's target, stored */
	char location[REDIRECT_URL_MAX + 1]; /* built: location_build() */
};

/*
 * What the map of s answers for a request, as the handler answers it and
 * `sherve lookup` prints it: rel and slash as path_normalise() gives them,
 * host the raw Host (or NULL), query the raw query (or NULL). Folds the
 * path for alias-case, normalises the host, resolves (store_resolve())
 * and builds the Location (location_build()) with the query merged as
 * forward-query says.
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG (the Location would be too
 * long or hold a control character) or SH_ESTORE.
 */
int handler_rule(const struct conf *c, struct store *s, const char *rel,
                 int slash, const char *host, const char *query,
                 struct handler_rule *a);

/*
 * Answer rq on out. Returns the HTTP status sent (for metrics and tests);
 * a client that went away mid-body is not an error of ours.
 */
int handler_serve(struct handler *h, const struct request *rq,
                  struct sink *out);

/* Close what the handler holds open between requests (the webroot). */
void handler_close(struct handler *h);

#endif
