/* request.c - CGI parameters to struct request; see request.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "request.h"

/* Treat an empty header like an absent one: it can express nothing. */
static const char *
param(request_param_fn get, void *ctx, const char *name)
{
	const char *v = get(ctx, name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

void
request_from_params(struct request *rq, request_param_fn get, void *ctx)
{
	const char *sn, *pi, *q;
	int n;

	rq->method = param(get, ctx, "REQUEST_METHOD");
	rq->uri = param(get, ctx, "REQUEST_URI");
	if (rq->uri == NULL) {
		/* Some CGI hosts omit REQUEST_URI (RFC 3875 lacks it). */
		sn = param(get, ctx, "SCRIPT_NAME");
		pi = param(get, ctx, "PATH_INFO");
		n = snprintf(rq->uri_buf, sizeof(rq->uri_buf), "%s%s",
		             sn != NULL ? sn : "", pi != NULL ? pi : "");
		rq->uri_too_long = n < 0 || (size_t)n >= sizeof(rq->uri_buf);
		rq->uri = rq->uri_too_long ? "/" : rq->uri_buf;
	} else {
		rq->uri_too_long = 0;
	}
	rq->query = param(get, ctx, "QUERY_STRING");
	if (rq->query == NULL && (q = strchr(rq->uri, '?')) != NULL &&
	    q[1] != '\0')
		rq->query = q + 1;
	rq->host = param(get, ctx, "HTTP_HOST");
	if (rq->host == NULL)
		rq->host = param(get, ctx, "SERVER_NAME");
	rq->cond.if_match = param(get, ctx, "HTTP_IF_MATCH");
	rq->cond.if_none_match = param(get, ctx, "HTTP_IF_NONE_MATCH");
	rq->cond.if_modified_since = param(get, ctx, "HTTP_IF_MODIFIED_SINCE");
	rq->cond.if_unmodified_since =
	        param(get, ctx, "HTTP_IF_UNMODIFIED_SINCE");
	rq->range = param(get, ctx, "HTTP_RANGE");
	rq->if_range = param(get, ctx, "HTTP_IF_RANGE");
	rq->accept_encoding = param(get, ctx, "HTTP_ACCEPT_ENCODING");
}

int
request_is_head(const struct request *rq)
{
	return rq->method != NULL && strcmp(rq->method, "HEAD") == 0;
}
