/*
 * test_hotpath.c - the request path allocates nothing once warm.
 *
 * This program replaces malloc and friends (glibc routes its own internal
 * calls through the replacement too) with counting wrappers, warms the
 * handler up, then serves 10,000 requests of every kind in-process and
 * asserts that not one allocation happened: a gosherve map (exact, prefix
 * and host rules, 410 and expired aliases) and a "_redirects" map
 * (placeholders, '*' inside, query conditions, rewrites, 404 and 410
 * pages, a forced rule over a file, a percent-encoded from path). Under
 * AddressSanitizer, which owns malloc, the test reports itself skipped (exit
 * 77).
 *
 * The first unknown alias starts a miss refresh, which runs
 * /proc/self/exe (refresher.h): this program, which then answers
 * `refresh --miss` as sherve does.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN
#include "cli.h"
#include "conf.h"
#include "fetch.h"
#include "handler.h"
#include "metrics.h"
#include "refresh.h"
#include "refresher.h"
#include "request.h"
#include "schedule.h"
#include "store.h"
#include "util.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static unsigned long allocs;

void *malloc(size_t n);
void *calloc(size_t a, size_t b);
void *realloc(void *p, size_t n);
void free(void *p);
int posix_memalign(void **p, size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);

void *
malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	allocs++;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}

int
posix_memalign(void **p, size_t align, size_t n)
{
	allocs++;
	*p = __libc_memalign(align, n);
	return *p != NULL ? 0 : 12;
}

void *
aligned_alloc(size_t align, size_t n)
{
	allocs++;
	return __libc_memalign(align, n);
}

struct env {
	const char *names[8];
	const char *values[8];
};

static const char *
env_get(void *ctx, const char *name)
{
	const struct env *e = ctx;
	size_t i;

	for (i = 0; i < 8 && e->names[i] != NULL; i++)
		if (strcmp(e->names[i], name) == 0)
			return e->values[i];
	return NULL;
}

static int
discard(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return 0;
}

static void
write_file(const char *path, const char *body)
{
	FILE *fp = fopen(path, "w");

	if (fp != NULL) {
		fputs(body, fp);
		fclose(fp);
	}
}

static char dir[] = "/tmp/sherve-hotpath.XXXXXX";

/* A handler over a webroot and a store holding map, imported as source
 * (its name decides the format). */
struct fixture {
	char www[64], state[64], url[128];
	struct conf c;
	struct handler h;
	struct miss_ctx miss;
};

static void
fixture_files(const char *www)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/sub", www);
	require_true(__LINE__, "mkdir",
	             mkdir(www, 0755) == 0 && mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/index.html", www);
	write_file(path, "<h1>hi</h1>\n");
	snprintf(path, sizeof(path), "%s/sub/index.html", www);
	write_file(path, "sub page\n");
	snprintf(path, sizeof(path), "%s/a.css", www);
	write_file(path, "body{}\n");
	snprintf(path, sizeof(path), "%s/a.css.gz", www);
	write_file(path, "not really gzip\n");
	snprintf(path, sizeof(path), "%s/gone.html", www);
	write_file(path, "gone page\n");
}

static void
fixture_open(struct fixture *f, const char *name, const char *map,
             const char *source)
{
	char err[512], *copy;
	char *argv[] = { "test", "--config",    "/dev/null", "--webroot",
		         f->www, "--state-dir", f->state,    "--redirects-url",
		         f->url, "--log-level", "info" };
	struct refresh_report rep;

	snprintf(f->www, sizeof(f->www), "%s/%s-www", dir, name);
	snprintf(f->state, sizeof(f->state), "%s/%s-state", dir, name);
	snprintf(f->url, sizeof(f->url), "file://%s/missing.txt", dir);
	fixture_files(f->www);
	require_true(__LINE__, "conf_load",
	             conf_load(&f->c, (int)NELEM(argv), argv, err,
	                       sizeof(err)) == SH_OK);
	log_set_level(f->c.log_level);
	memset(&f->h, 0, sizeof(f->h));
	f->h.conf = &f->c;
	require_true(__LINE__, "store_open",
	             store_open(f->c.state_dir, &f->h.store, err,
	                        sizeof(err)) == SH_OK);
	/* refresh_import() frees what it is given: a copy. */
	require_true(__LINE__, "a copy of the map",
	             (copy = strdup(map)) != NULL);
	require_true(__LINE__, "import",
	             refresh_import(&f->c, f->h.store, copy, strlen(map),
	                            source, 0, &rep) == SH_OK);
	require_true(__LINE__, "metrics_open",
	             metrics_open(f->c.state_dir, &f->h.metrics, err,
	                          sizeof(err)) == SH_OK);
	f->miss.conf = &f->c;
	f->miss.store = f->h.store;
	f->h.on_miss = schedule_on_miss;
	f->h.miss_ctx = &f->miss;
}

static void
fixture_close(struct fixture *f)
{
	handler_close(&f->h);
	metrics_close(f->h.metrics);
	store_close(f->h.store);
	conf_free(&f->c);
}

/* Warm up, check each request's status, then count the allocations of
 * 10,000 rounds of them all: there must be none. */
static void
rounds(struct handler *h, const struct env *reqs, const int *want, size_t n,
       const char *what)
{
	struct sink sink = { discard, NULL, NULL };
	struct request rq;
	unsigned long before;
	int i, saved, devnull;
	size_t r;

	/* Request logs go to stderr: send them away while counting. */
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	for (i = 0; i < 200; i++) { /* warm up: first miss fetch, tz, ... */
		r = (size_t)i % n;
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		handler_serve(h, &rq, &sink);
	}
	for (r = 0; r < n; r++) {
		if (want[r] == 0)
			continue;
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		expect_int(__LINE__, reqs[r].values[1], want[r],
		           handler_serve(h, &rq, &sink));
	}
	/* The hook is live: setting up did allocate. */
	expect_true(__LINE__, "the counting malloc sees allocations",
	            allocs > 0);
	before = allocs;
	for (i = 0; i < 10000 * (int)n; i++) {
		r = (size_t)i % n;
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		handler_serve(h, &rq, &sink);
	}
	dup2(saved, 2);
	close(saved);
	close(devnull);
	expect_u64(__LINE__, what, 0, allocs - before);
}

static void
test_no_allocation(void)
{
	static const struct env reqs[] = {
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/" } },
		{ { "REQUEST_METHOD", "REQUEST_URI", "HTTP_ACCEPT_ENCODING" },
		  { "GET", "/a.css", "gzip, br" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/foo/" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/nope" } },
		{ { "REQUEST_METHOD", "REQUEST_URI", "HTTP_RANGE" },
		  { "GET", "/sub/", "bytes=0-3" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "HEAD", "/a.css" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "POST", "/" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/../x" } },
		/* A prefix rule: splat and the query merged into the target's.
		 */
		{ { "REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING" },
		  { "GET", "/docs/a/b?v=2&w=3", "v=2&w=3" } },
		/* A host section's rule, its own status, the query from the
		   URI. */
		{ { "REQUEST_METHOD", "REQUEST_URI", "HTTP_HOST" },
		  { "GET", "/bar?utm=x", "H.Example:8080" } },
		/* A host without a section falls back to the default map. */
		{ { "REQUEST_METHOD", "REQUEST_URI", "HTTP_HOST" },
		  { "GET", "/foo", "other.example" } },
		/* A directory without its slash: 301 to "/sub/?x=1". */
		{ { "REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING" },
		  { "GET", "/sub?x=1", "x=1" } },
		/* An alias 410, and one expired. */
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/gone" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/old" } },
	};
	static const int want[] = { 0, 0,   0,   0,   0,   0,   0,
		                    0, 301, 302, 301, 301, 410, 410 };
	static const char map[] =
	        "foo https://example.com/foo\n"
	        "docs/* https://example.com/d/:splat?v=1\n"
	        "gone 410\n"
	        "old https://old.example/ expires=2001-01-01\n"
	        "@host h.example\n"
	        "bar https://h.example.net/bar 302\n";
	struct fixture f;

	fixture_open(&f, "gosherve", map, "t");
	rounds(&f.h, reqs, want, NELEM(reqs),
	       "allocations during 10,000 rounds of warm requests");
	fixture_close(&f);
}

/* The "_redirects" rule kinds: a pattern walk, captures, rewrites and
 * pages allocate nothing either. */
static void
test_no_allocation_redirects(void)
{
	static const struct env reqs[] = {
		{ { "REQUEST_METHOD", "REQUEST_URI" },
		  { "GET", "/blog/2024/hello" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" },
		  { "GET", "/files/v1.tar.gz" } },
		{ { "REQUEST_METHOD", "REQUEST_URI", "QUERY_STRING" },
		  { "GET", "/store?id=42&x=1", "id=42&x=1" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/later" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/retired" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/a.css" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" }, { "GET", "/legacy/x" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" },
		  { "GET", "/team/j%C3%A9r%C3%B4me" } },
		{ { "REQUEST_METHOD", "REQUEST_URI" },
		  { "GET", "/app/route/" } },
	};
	static const int want[] = {
		302, 301, 301, 301, 410, 301, 404, 301, 200
	};
	static const char map[] = "/blog/:year/:slug /news/:slug 302\n"
	                          "/files/*.tar.gz https://dl.example/:splat\n"
	                          "/store id=:id /items/:id\n"
	                          "/later /soon\n"
	                          "/retired /gone.html 410\n"
	                          "/a.css /b.css 301!\n"
	                          "/legacy/* /nothing.html 404\n"
	                          "/team/j%C3%A9r%C3%B4me /team/jerome\n"
	                          "/* /index.html 200\n";
	struct fixture f;

	fixture_open(&f, "redirects", map, "site/_redirects");
	rounds(&f.h, reqs, want, NELEM(reqs),
	       "allocations during 10,000 rounds of _redirects requests");
	fixture_close(&f);
}

static int
make_dir(void)
{
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static void
cleanup_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Run as `refresh --MODE` by a miss (refresher.h): do what sherve does. */
static int
as_sherve(int argc, char **argv)
{
	struct conf c;
	char err[1024];
	int rc;

	if (conf_load(&c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	log_set_level(c.log_level);
	rc = fetch_global_init() == SH_OK ? cli_main(&c) : EXIT_FAILED;
	conf_free(&c);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_no_allocation),
		UNIT_TEST(test_no_allocation_redirects), UNIT_END
	};
	static const struct unit_suite suites[] = {
		{ "hotpath", make_dir, NULL, tests }, { NULL, NULL, NULL, NULL }
	};
	int rc;

	if (argc > 1 && strcmp(argv[1], "refresh") == 0)
		return as_sherve(argc, argv);
	refresher_init(argv[0]);
	rc = unit_main(suites);

	cleanup_dir();
	return rc;
}
#else
int
main(void)
{
	puts("SKIP: AddressSanitizer owns malloc; the allocation count is "
	     "checked in the plain build");
	return 77;
}
#endif
