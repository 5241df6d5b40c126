/*
 * request.h - the parts of a CGI/FastCGI request that sherve reads.
 *
 * The fields point into the parameter storage of the server library (or
 * the environment in CGI mode) and live as long as that request.
 */
#ifndef SHERVE_REQUEST_H
#define SHERVE_REQUEST_H

#include "cond.h"

#define REQUEST_URI_MAX 8192

/* Look up one CGI parameter by name; NULL if absent. */
typedef const char *(*request_param_fn)(void *ctx, const char *name);

struct request {
	const char *method;
	const char *uri;  /* REQUEST_URI, or SCRIPT_NAME + PATH_INFO */
	int uri_too_long; /* SCRIPT_NAME + PATH_INFO did not fit: 414 */
	const char *host; /* HTTP_HOST or SERVER_NAME */
	/* QUERY_STRING, else what follows '?' in REQUEST_URI; NULL if empty */
	const char *query;
	struct cond_headers cond;
	const char *range;
	const char *if_range;
	const char *accept_encoding;
	char uri_buf[REQUEST_URI_MAX]; /* for the fallback URI */
};

/* Fill rq from the parameters get() returns. Never fails. */
void request_from_params(struct request *rq, request_param_fn get, void *ctx);

/* 1 if rq is a HEAD request (headers only, no body), else 0. */
int request_is_head(const struct request *rq);

#endif
