/*
 * test_request.c - request_from_params(): each row is a set of CGI
 * parameters ("NAME=VALUE" strings) and the request it makes: an empty
 * parameter counts as absent; without REQUEST_URI the URI is
 * SCRIPT_NAME + PATH_INFO (414 when that does not fit); the query is
 * QUERY_STRING, else what follows '?' in the URI; the host is HTTP_HOST,
 * else SERVER_NAME; the conditional, Range and Accept-Encoding headers.
 */
#include "unit.h"

#include <stdlib.h>

#include "request.h"

#define NPARAMS 8

struct params {
	const char *v[NPARAMS]; /* "NAME=VALUE", NULL-ended */
};

static const char *
get(void *ctx, const char *name)
{
	const struct params *p = ctx;
	size_t i, n = strlen(name);

	for (i = 0; i < NPARAMS && p->v[i] != NULL; i++)
		if (strncmp(p->v[i], name, n) == 0 && p->v[i][n] == '=')
			return p->v[i] + n + 1;
	return NULL;
}

struct row {
	unsigned line;
	const char *desc;
	struct params in;
	const char *method, *uri, *query, *host;
	int too_long;
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "the common case",
	  { { "REQUEST_METHOD=GET", "REQUEST_URI=/a?b=1", "QUERY_STRING=b=1",
	      "HTTP_HOST=x.example" } },
	  "GET", "/a?b=1", "b=1", "x.example", 0 },
	{ __LINE__, "no QUERY_STRING: the URI's query",
	  { { "REQUEST_METHOD=GET", "REQUEST_URI=/a?c=2" } },
	  "GET", "/a?c=2", "c=2", NULL, 0 },
	{ __LINE__, "an empty query is none",
	  { { "REQUEST_URI=/a?", "QUERY_STRING=" } },
	  NULL, "/a?", NULL, NULL, 0 },
	{ __LINE__, "SERVER_NAME without HTTP_HOST",
	  { { "REQUEST_URI=/", "SERVER_NAME=s.example", "HTTP_HOST=" } },
	  NULL, "/", NULL, "s.example", 0 },
	{ __LINE__, "HTTP_HOST wins over SERVER_NAME",
	  { { "REQUEST_URI=/", "SERVER_NAME=s.example",
	      "HTTP_HOST=h.example:8080" } },
	  NULL, "/", NULL, "h.example:8080", 0 },
	{ __LINE__, "no REQUEST_URI: SCRIPT_NAME + PATH_INFO",
	  { { "SCRIPT_NAME=/go", "PATH_INFO=/foo" } },
	  NULL, "/go/foo", NULL, NULL, 0 },
	{ __LINE__, "no REQUEST_URI, PATH_INFO only",
	  { { "PATH_INFO=/foo", "QUERY_STRING=q" } },
	  NULL, "/foo", "q", NULL, 0 },
	{ __LINE__, "nothing at all", { { NULL } }, NULL, "", NULL, NULL, 0 },
};
/* clang-format on */

static void
test_rows(void)
{
	struct request *rq = malloc(sizeof(*rq));
	size_t i;

	require_true(__LINE__, "malloc", rq != NULL);
	for (i = 0; i < NELEM(rows); i++) {
		const struct row *t = &rows[i];

		memset(rq, 0x55, sizeof(*rq)); /* nothing is left unset */
		request_from_params(rq, get, (void *)&t->in);
		expect_str(t->line, t->desc, t->method, rq->method);
		expect_str(t->line, t->desc, t->uri, rq->uri);
		expect_str(t->line, t->desc, t->query, rq->query);
		expect_str(t->line, t->desc, t->host, rq->host);
		expect_int(t->line, t->desc, t->too_long, rq->uri_too_long);
		expect_true(t->line, "no conditional header",
		            rq->cond.if_match == NULL &&
		                    rq->cond.if_none_match == NULL &&
		                    rq->cond.if_modified_since == NULL &&
		                    rq->cond.if_unmodified_since == NULL &&
		                    rq->range == NULL && rq->if_range == NULL &&
		                    rq->accept_encoding == NULL);
	}
	free(rq);
}

static void
test_headers(void)
{
	static const struct params p = { {
		"REQUEST_URI=/f",
		"HTTP_IF_MATCH=\"a\"",
		"HTTP_IF_NONE_MATCH=\"b\"",
		"HTTP_IF_MODIFIED_SINCE=m",
		"HTTP_IF_UNMODIFIED_SINCE=u",
		"HTTP_RANGE=bytes=0-1",
		"HTTP_IF_RANGE=\"c\"",
		"HTTP_ACCEPT_ENCODING=gzip",
	} };
	struct request *rq = malloc(sizeof(*rq));

	require_true(__LINE__, "malloc", rq != NULL);
	request_from_params(rq, get, (void *)&p);
	expect_str(__LINE__, "If-Match", "\"a\"", rq->cond.if_match);
	expect_str(__LINE__, "If-None-Match", "\"b\"", rq->cond.if_none_match);
	expect_str(__LINE__, "If-Modified-Since", "m",
	           rq->cond.if_modified_since);
	expect_str(__LINE__, "If-Unmodified-Since", "u",
	           rq->cond.if_unmodified_since);
	expect_str(__LINE__, "Range", "bytes=0-1", rq->range);
	expect_str(__LINE__, "If-Range", "\"c\"", rq->if_range);
	expect_str(__LINE__, "Accept-Encoding", "gzip", rq->accept_encoding);
	free(rq);
}

/* SCRIPT_NAME + PATH_INFO longer than the buffer: "/" and too long. */
static void
test_too_long(void)
{
	struct request *rq = malloc(sizeof(*rq));
	char *pi = malloc(REQUEST_URI_MAX + 16);
	struct params p = { { NULL } };

	require_true(__LINE__, "malloc", rq != NULL && pi != NULL);
	memcpy(pi, "PATH_INFO=/", 11);
	memset(pi + 11, 'a', REQUEST_URI_MAX);
	pi[11 + REQUEST_URI_MAX] = '\0';
	p.v[0] = pi;
	request_from_params(rq, get, &p);
	expect_int(__LINE__, "too long", 1, rq->uri_too_long);
	expect_str(__LINE__, "the URI falls back to /", "/", rq->uri);
	/* One byte less than the buffer fits. */
	pi[11 + REQUEST_URI_MAX - 2] = '\0';
	request_from_params(rq, get, &p);
	expect_int(__LINE__, "REQUEST_URI_MAX - 1 bytes fit", 0,
	           rq->uri_too_long);
	expect_int(__LINE__, "... whole", REQUEST_URI_MAX - 1, strlen(rq->uri));
	free(pi);
	free(rq);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_headers),
	UNIT_TEST(test_too_long),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "request", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
