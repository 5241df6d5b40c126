/*
 * entity.h - the representation an asset answers with: the file or its
 * precompressed sibling (Accept-Encoding), its validators (ETag,
 * Last-Modified) and conditionals (If-None-Match, If-Modified-Since,
 * If-Match, If-Unmodified-Since), Range and If-Range, and in
 * sendfile-mode the X-Sendfile / X-Accel-Redirect header that lets the
 * web server move the bytes. handler.c decides which asset answers;
 * this file decides how.
 *
 * Caveats: the ETag comes from the opened file's fstat, never from the
 * path. A precondition that fails (412) is not answered here: the caller
 * sends its short text answer. Nothing is logged per request here; the
 * caller writes the request line with the path sent.
 */
#ifndef SHERVE_ENTITY_H
#define SHERVE_ENTITY_H

#include <stddef.h>

#include "asset.h"
#include "conf.h"
#include "request.h"
#include "response.h"
#include "webroot.h"

/* Where an asset is served from. */
struct entity_from {
	const struct conf *conf;
	struct webroot *webroot; /* the webroot held open; checked current
	                          * before sendfile-mode hands a path out */
	int root;                /* its directory fd, for siblings */
};

/*
 * Answer rq on out with a, an asset opened under e->root. status is 200
 * for the asset itself, or 404 / 410 when a is an error page (sent
 * without validators, Range or Vary, and never stored by caches).
 * The path of the file sent (a's or its precompressed sibling's) is
 * copied into sent (sentsz bytes; ASSET_PATH_MAX holds any).
 * Returns the status sent: 200, 206, 304, 404, 410 or 416; or 412
 * having sent nothing (the caller answers it). A client gone mid-body
 * is not reported: the response records it (r->failed).
 */
int entity_serve(const struct entity_from *e, const struct request *rq,
                 struct sink *out, struct asset *a, int status, char *sent,
                 size_t sentsz);

/* 1 for 404 and 410, the statuses a page (a rule's or the webroot's
 * 404.html / 410.html) answers with: no validators, no-store. */
int entity_is_error_page(int status);

#endif
