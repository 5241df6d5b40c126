/*
 * test_health.c - the health document (health.c) from given states, and
 * how the handler sends it.
 *
 * Three real stores in a temporary dir: one empty, one holding a map
 * imported once, one with two versions and the first pinned (rollback).
 * Each row of the table sets the settings (redirects-url, its interval),
 * the refresh state stored (last result, last success, last error) and
 * the time "now", renders, and checks the status, the HTTP status and
 * what the JSON says and leaves out. Then the handler answers the
 * health-path: application/health+json, Cache-Control: no-store, 503 or
 * 200 as the document says, no body for HEAD.
 */
#include "unit.h"

#include <stdlib.h>

#include "conf.h"
#include "handler.h"
#include "health.h"
#include "log.h"
#include "refresh.h"
#include "refresh_state.h"
#include "store.h"
#include "util.h"
#include "versions.h"

#define URL "https://up.example/private/map.txt"
#define NOW 1800000000ULL
/* The top-level "output", which follows releaseId. */
#define OUTPUT "\"releaseId\":\"" PACKAGE_VERSION "\",\"output\""

static char base[] = "/tmp/sherve-health.XXXXXX";

enum which { S_NONE, S_EMPTY, S_ONE, S_PINNED, S_N };
static struct store *stores[S_N];

static char dirs[S_N][300]; /* each store's state dir */

/* settings: "url" (redirects-url URL), "i60" (refresh-interval 60),
 * "i0" (refresh-interval 0), "" (none); state-dir that of store w. */
static int
load(struct conf *c, const char *settings, enum which w)
{
	char *argv[14], err[256];
	int argc = 0;

	argv[argc++] = "sherve";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-dir";
	argv[argc++] = dirs[w];
	argv[argc++] = "--health-path";
	argv[argc++] = "/-/health";
	if (strstr(settings, "url") != NULL) {
		argv[argc++] = "--redirects-url";
		argv[argc++] = URL;
	}
	if (strstr(settings, "i60") != NULL || strstr(settings, "i0") != NULL) {
		argv[argc++] = "--refresh-interval";
		argv[argc++] = strstr(settings, "i60") != NULL ? "60" : "0";
	}
	argv[argc] = NULL;
	if (conf_load(c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

/* A map imported into s, as `sherve import` stores it. */
static int
import(enum which w, const char *text)
{
	struct refresh_report rep;
	struct conf c;
	char *buf = str_dup(text);
	int rc;

	if (buf == NULL || load(&c, "", w) != 0) {
		free(buf);
		return -1;
	}
	rc = refresh_import(&c, stores[w], buf, strlen(text), "import:unit", 0,
	                    &rep);
	conf_free(&c);
	return rc == SH_OK ? 0 : -1;
}

static int
open_store(enum which w, const char *name)
{
	char err[256];

	snprintf(dirs[w], sizeof(dirs[w]), "%s/%s", base, name);
	if (store_open(dirs[w], &stores[w], err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
suite_init(void)
{
	char msg[320];
	struct conf c;
	int rc;

	log_set_level(SH_LOG_ERROR);
	if (mkdtemp(base) == NULL || open_store(S_EMPTY, "empty") != 0 ||
	    open_store(S_ONE, "one") != 0 || open_store(S_PINNED, "pin") != 0)
		return -1;
	snprintf(dirs[S_NONE], sizeof(dirs[S_NONE]), "%s/none", base);
	if (import(S_ONE, "a https://a.example/\n"
	                  "b https://b.example/\n") != 0 ||
	    import(S_PINNED, "a https://one.example/\n") != 0 ||
	    import(S_PINNED, "a https://two.example/\n") != 0 ||
	    load(&c, "", S_PINNED) != 0)
		return -1;
	rc = versions_rollback(&c, stores[S_PINNED], 1, msg, sizeof(msg));
	conf_free(&c);
	return rc == SH_OK ? 0 : -1;
}

static int
suite_cleanup(void)
{
	size_t i;

	for (i = 0; i < S_N; i++)
		store_close(stores[i]);
	return unit_rmtree(base);
}

struct row {
	unsigned line;
	const char *desc;
	const char *settings; /* see load() */
	enum which store;
	enum refresh_result last; /* the refresh state stored */
	uint64_t success_ago;     /* last success NOW - this; ~0: never */
	const char *error;        /* the last error stored */
	const char *status;       /* "pass", "warn", "fail" */
	int http;
	const char *has[4]; /* substrings of the document */
	const char *lacks[2];
};

#define NEVER UINT64_MAX

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "no redirects-url, no store: assets only", "", S_NONE,
	  REFRESH_NONE, NEVER, "", "pass", 200,
	  { "\"serviceId\":\"sherve\"", "\"releaseId\":\"" PACKAGE_VERSION "\"" },
	  { OUTPUT, "\"checks\"" } },
	{ __LINE__, "redirects-url, no store: fail with why", "url", S_NONE,
	  REFRESH_NONE, NEVER, "", "fail", 503,
	  { "\"output\":\"state-dir /x: Permission denied\"" },
	  { "\"checks\"" } },
	{ __LINE__, "redirects-url, an empty store", "url", S_EMPTY,
	  REFRESH_NONE, NEVER, "", "fail", 503,
	  { "\"output\":\"no map is stored\"",
	    "\"map:rules\":[{\"observedValue\":0,\"observedUnit\":\"rules\","
	    "\"status\":\"warn\"}]",
	    "\"map:version\":[{\"observedValue\":0," },
	  { "refresh:age" } },
	{ __LINE__, "no redirects-url, an empty store is no fault", "",
	  S_EMPTY, REFRESH_NONE, NEVER, "", "pass", 200,
	  { "\"checks\":{" }, { OUTPUT } },
	{ __LINE__, "a map, the last refresh 10 s ago succeeded", "url i60",
	  S_ONE, REFRESH_UPDATED, 10, "", "pass", 200,
	  { "\"map:version\":[{\"observedValue\":1,\"status\":\"pass\"}]",
	    "\"map:rules\":[{\"observedValue\":2,\"observedUnit\":\"rules\","
	    "\"status\":\"pass\"}]",
	    "\"refresh:age\":[{\"observedValue\":10,\"observedUnit\":\"s\","
	    "\"status\":\"pass\"}]",
	    "\"map:pinned\":[{\"observedValue\":false,\"status\":\"pass\"}]" },
	  { OUTPUT } },
	{ __LINE__, "the last success exactly 3 x refresh-interval ago",
	  "url i60", S_ONE, REFRESH_NOT_MODIFIED, 180, "", "pass", 200,
	  { "\"refresh:age\":[{\"observedValue\":180," }, { OUTPUT } },
	{ __LINE__, "one second older than 3 x refresh-interval", "url i60",
	  S_ONE, REFRESH_NOT_MODIFIED, 181, "", "warn", 200,
	  { "\"output\":\"the last refresh that succeeded is older than 3 x "
	    "refresh-interval\"" }, { NULL } },
	{ __LINE__, "refresh-interval 0: an old success is no warning",
	  "url i0", S_ONE, REFRESH_UPDATED, 86400, "", "pass", 200,
	  { "\"observedValue\":86400," }, { OUTPUT } },
	{ __LINE__, "the last refresh failed: warn, the URL hidden", "url i60",
	  S_ONE, REFRESH_FAILED, 30, URL ": HTTP 500", "warn", 200,
	  { "\"output\":\"the last refresh failed\"",
	    "\"refresh:error\":[{\"status\":\"warn\",\"output\":"
	    "\"redirects-url: HTTP 500\"}]" },
	  { "up.example", "private" } },
	{ __LINE__, "an error that does not start with the URL is kept",
	  "url i60", S_ONE, REFRESH_FAILED, 30, "fetch \"x\"\nfailed",
	  "warn", 200, { "\"output\":\"fetch \\\"x\\\"\\u000afailed\"" },
	  { NULL } },
	{ __LINE__, "a failed refresh without redirects-url is no warning", "",
	  S_ONE, REFRESH_FAILED, NEVER, "old", "pass", 200,
	  { "\"refresh:error\":[{\"status\":\"warn\"" }, { "\"output\":\"the" } },
	{ __LINE__, "a pinned version warns", "url i60", S_PINNED,
	  REFRESH_UPDATED, 5, "", "warn", 200,
	  { "\"output\":\"a version is pinned (sherve unpin)\"",
	    "\"map:pinned\":[{\"observedValue\":true,\"status\":\"warn\"}]",
	    "\"map:version\":[{\"observedValue\":1," }, { NULL } },
	{ __LINE__, "a failure outranks a pin", "url i60", S_PINNED,
	  REFRESH_FAILED, 5, "e", "warn", 200,
	  { "\"output\":\"the last refresh failed\"" }, { NULL } },
	{ __LINE__, "a pin warns without redirects-url too", "", S_PINNED,
	  REFRESH_NONE, NEVER, "", "warn", 200,
	  { "\"output\":\"a version is pinned" }, { "refresh:age" } },
};
/* clang-format on */

/* Store the row's refresh state into its store. */
static int
set_state(const struct row *t)
{
	struct refresh_state *rs = calloc(1, sizeof(*rs));
	int rc;

	if (rs == NULL)
		return -1;
	rs->last_result = t->last;
	rs->last_success = t->success_ago == NEVER ? 0 : NOW - t->success_ago;
	(void)str_copy(rs->last_error, t->error, sizeof(rs->last_error));
	rc = refresh_state_save(stores[t->store], rs);
	free(rs);
	return rc == SH_OK ? 0 : -1;
}

static void
run_row(const struct row *t)
{
	char want[64], *doc;
	struct conf c;
	size_t len = 0, i;
	int http = 0;

	require_true(t->line, t->desc, load(&c, t->settings, t->store) == 0);
	if (t->store != S_NONE)
		require_true(t->line, t->desc, set_state(t) == 0);
	doc = health_render(&c, stores[t->store],
	                    "state-dir /x: Permission denied", NOW, &len,
	                    &http);
	conf_free(&c);
	require_true(t->line, t->desc, doc != NULL);
	expect_u64(t->line, t->desc, strlen(doc), len);
	snprintf(want, sizeof(want), "{\"status\":\"%s\",", t->status);
	expect_true(t->line, t->desc, strncmp(doc, want, strlen(want)) == 0);
	expect_true(t->line, t->desc,
	            len >= 2 && strcmp(doc + len - 2, "}\n") == 0);
	expect_int(t->line, t->desc, t->http, http);
	for (i = 0; i < NELEM(t->has) && t->has[i] != NULL; i++)
		expect_has(t->line, t->desc, doc, t->has[i]);
	for (i = 0; i < NELEM(t->lacks) && t->lacks[i] != NULL; i++)
		expect_lacks(t->line, t->desc, doc, t->lacks[i]);
	if (!expect_true(t->line, t->desc, strchr(doc, '\n') == doc + len - 1))
		fprintf(stderr, "  document: %s", doc);
	free(doc);
}

static void
test_render(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		run_row(&rows[i]);
}

/* ---- through the handler ---- */

struct buf {
	char p[8192];
	size_t len;
};

static int
buf_write(void *ctx, const char *data, size_t n)
{
	struct buf *b = ctx;

	if (b->len + n >= sizeof(b->p))
		return -1;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Miss refreshes the handler asked for: a health request asks none. */
static unsigned misses;

static int
count_miss(void *ctx)
{
	(void)ctx;
	misses++;
	return 0;
}

/* Serve method uri with settings on store w; the answer in b. */
static int
serve(const char *settings, enum which w, const char *method, const char *uri,
      struct buf *b)
{
	struct request rq;
	struct handler h;
	struct sink out = { buf_write, b, NULL };
	struct conf c;
	int status;

	memset(b, 0, sizeof(*b));
	memset(&rq, 0, sizeof(rq));
	memset(&h, 0, sizeof(h));
	if (load(&c, settings, w) != 0)
		return -1;
	rq.method = method;
	rq.uri = uri;
	h.conf = &c;
	h.store = stores[w];
	h.on_miss = count_miss;
	status = handler_serve(&h, &rq, &out);
	handler_close(&h);
	conf_free(&c);
	return status;
}

static void
test_handler(void)
{
	struct buf b;
	const char *body;

	require_true(__LINE__, "a failure state",
	             set_state(&rows[2]) == 0); /* the empty store */
	expect_int(__LINE__, "fail: 503", 503,
	           serve("url", S_EMPTY, "GET", "/-/health", &b));
	expect_has(__LINE__, "its Status line", b.p, "Status: 503");
	expect_has(__LINE__, "its type", b.p,
	           "Content-Type: application/health+json\r\n");
	expect_has(__LINE__, "never cached", b.p,
	           "Cache-Control: no-store\r\n");
	body = strstr(b.p, "\r\n\r\n");
	require_true(__LINE__, "a body", body != NULL);
	expect_has(__LINE__, "the document", body, "\"status\":\"fail\"");
	expect_int(__LINE__, "pass: 200", 200,
	           serve("", S_NONE, "GET", "/-/health?x=1", &b));
	expect_has(__LINE__, "... its type", b.p,
	           "Content-Type: application/health+json\r\n");
	expect_has(__LINE__, "... never cached", b.p,
	           "Cache-Control: no-store\r\n");
	expect_has(__LINE__, "... the document", b.p, "\"status\":\"pass\"");
	expect_int(__LINE__, "HEAD", 200,
	           serve("", S_NONE, "HEAD", "/-/health", &b));
	expect_has(__LINE__, "HEAD: the type", b.p, "application/health+json");
	body = strstr(b.p, "\r\n\r\n");
	expect_true(__LINE__, "HEAD: no body", body != NULL && body[4] == '\0');
	expect_int(__LINE__, "no miss refresh asked by health requests", 0,
	           (int)misses);
	expect_int(__LINE__, "another spelling is not the health check", 404,
	           serve("", S_NONE, "GET", "/-/health/", &b));
	expect_lacks(__LINE__, "... no document", b.p, "health+json");
	expect_int(__LINE__, "a miss on that store", 404,
	           serve("url", S_EMPTY, "GET", "/-/healthz", &b));
	expect_int(__LINE__, "... asks for one (the hook is in place)", 1,
	           (int)misses);
}

int
main(void)
{
	static const struct unit_test tests[] = { UNIT_TEST(test_render),
		                                  UNIT_TEST(test_handler),
		                                  UNIT_END };
	static const struct unit_suite suites[] = {
		{ "health", suite_init, suite_cleanup, tests },
		{ NULL, NULL, NULL, NULL }
	};

	return unit_main(suites);
}
