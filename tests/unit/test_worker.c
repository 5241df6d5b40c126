/*
 * test_worker.c - one responder process (worker.h): before each request
 * the handler is given the state dir's handles as they are now (the
 * store, the metrics, the miss hook only where a refresh may run, why
 * there is no store); and a CGI worker answers the request its
 * environment describes from the store in its state dir.
 *
 * src/worker.c is included here for its tick. The FastCGI loop
 * (fcgi_run) is tested in test_fcgi.c and through the web servers; a
 * state dir on a network filesystem (EXIT_CONFIG) is not made here.
 */
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/worker.c"
#include "conf.h"
#include "exitcode.h"
#include "fixture.h"
#include "statefx.h"

static int
suite_init(void)
{
	return statefx_init("worker");
}

/* A new state dir (statefx.h) holding the map "a1
 * https://example.com/1", with redirects-url url ("" for none); no store
 * left open. */
static int
new_state(struct statefx *f, const char *url)
{
	const char *extra[] = { "--redirects-url", url, "--webroot",
		                statefx_root, NULL };

	if (statefx_open(f, extra, 0) != 0 ||
	    (f->s = fixture_store(f->dir, "a1 https://example.com/1\n", 0)) ==
	            NULL)
		return -1;
	store_close(f->s);
	f->s = NULL;
	return 0;
}

static void
test_tick(void)
{
	static const struct {
		unsigned line;
		const char *url;
		int refreshing;
	} rows[] = {
		{ __LINE__, "", 0 },
		{ __LINE__, "ftp://up.example/r.txt", 0 },
		{ __LINE__, "https://up.example/r.txt", 1 },
	};
	struct handler h;
	struct statedir sd;
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture",
		                 new_state(&f, rows[i].url) == 0 &&
		                         statedir_open(&sd, &f.c, 0) == SH_OK))
			continue;
		memset(&h, 0, sizeof(h));
		worker_tick(&sd, &h);
		expect_true(line, "the store", h.store == sd.store);
		expect_true(line, "... open", h.store != NULL);
		expect_true(line, "the metrics", h.metrics == sd.metrics);
		expect_true(line, "the miss hook where a refresh may run",
		            h.on_miss == (rows[i].refreshing ? schedule_on_miss
		                                             : NULL));
		expect_true(line, "its context", h.miss_ctx == &sd.miss);
		expect_true(line, "no reason", h.store_why == NULL);
		statedir_close(&sd);
		statefx_close(&f);
	}
}

/* No store (the state dir cannot be made): why, for the request log. */
static void
test_tick_no_store(void)
{
	const char *extra[] = { "--webroot", statefx_root, NULL };
	char file[700], dir[800];
	struct handler h;
	struct statedir sd;
	struct statefx f;

	require_true(__LINE__, "settings", statefx_open(&f, extra, 0) == 0);
	snprintf(file, sizeof(file), "%s/a-file", f.dir);
	snprintf(dir, sizeof(dir), "%s/state", file);
	free(f.c.state_dir); /* the settings' own copy, for a dir not made */
	f.c.state_dir = strdup(dir);
	require_true(__LINE__, "fixture",
	             unit_write_file(file, "x") == 0 && f.c.state_dir != NULL &&
	                     statedir_open(&sd, &f.c, 0) == SH_OK);
	memset(&h, 0, sizeof(h));
	worker_tick(&sd, &h);
	expect_true(__LINE__, "no store", h.store == NULL);
	expect_true(__LINE__, "why", h.store_why == sd.why);
	expect_has(__LINE__, "... says", h.store_why, dir);
	expect_true(__LINE__, "no miss hook", h.on_miss == NULL);
	statedir_close(&sd);
	statefx_close(&f);
}

struct cgi {
	const struct conf *c;
	int rc;
};

static int
cgi(void *ctx)
{
	struct cgi *g = ctx;

	return g->rc = worker_run(g->c, WORKER_CGI, -1);
}

/* One CGI request, its answer in *out (free it). */
static int
cgi_get(const struct conf *c, const char *uri, char **out)
{
	struct cgi g = { c, -1 };

	setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
	setenv("REQUEST_METHOD", "GET", 1);
	setenv("SERVER_PROTOCOL", "HTTP/1.1", 1);
	setenv("SERVER_NAME", "localhost", 1);
	setenv("REQUEST_URI", uri, 1);
	(void)unit_capture(cgi, &g, out);
	return g.rc;
}

static void
test_cgi(void)
{
	struct statefx f;
	char *out = NULL;

	require_true(__LINE__, "fixture", new_state(&f, "") == 0);
	expect_int(__LINE__, "an alias", EXIT_OK, cgi_get(&f.c, "/a1", &out));
	expect_has(__LINE__, "redirected", out, "Status: 301");
	expect_has(__LINE__, "... to its URL", out,
	           "Location: https://example.com/1\r\n");
	free(out);
	out = NULL;
	expect_int(__LINE__, "an unknown one", EXIT_OK,
	           cgi_get(&f.c, "/nope", &out));
	expect_has(__LINE__, "not found", out, "Status: 404");
	free(out);
	statefx_close(&f);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_tick),
	UNIT_TEST(test_tick_no_store),
	UNIT_TEST(test_cgi),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "worker", suite_init, statefx_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
