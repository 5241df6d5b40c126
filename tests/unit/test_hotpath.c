/*
 * test_hotpath.c - the request path allocates nothing once warm.
 *
 * This program replaces malloc and friends (glibc routes its own internal
 * calls through the replacement too) with counting wrappers, warms the
 * handler up, then serves 10,000 requests of every kind in-process and
 * asserts that not one allocation happened. Under AddressSanitizer, which
 * owns malloc, the test reports itself skipped (exit 77).
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
#include "conf.h"
#include "handler.h"
#include "metrics.h"
#include "refresh.h"
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
	};
	static const char map[] = "foo https://example.com/foo\n"
	                          "docs/* https://example.com/d/:splat?v=1\n"
	                          "@host h.example\n"
	                          "bar https://h.example.net/bar 302\n";
	char www[64], state[64], url[128], err[512], path[128], *copy;
	char *argv[] = { "test", "--config",    "/dev/null", "--webroot",
		         www,    "--state-dir", state,       "--redirects-url",
		         url,    "--log-level", "info" };
	struct conf c;
	struct handler h;
	struct miss_ctx miss;
	struct refresh_report rep;
	struct sink sink = { discard, NULL, NULL };
	struct request rq;
	unsigned long before;
	int i, saved, devnull;
	size_t r;

	require_true(__LINE__, "mkdtemp", mkdtemp(dir) != NULL);
	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(url, sizeof(url), "file://%s/missing.txt", dir);
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
	require_true(__LINE__, "conf_load",
	             conf_load(&c, (int)NELEM(argv), argv, err, sizeof(err)) ==
	                     SH_OK);
	log_set_level(c.log_level);
	memset(&h, 0, sizeof(h));
	h.conf = &c;
	require_true(__LINE__, "store_open",
	             store_open(c.state_dir, &h.store, err, sizeof(err)) ==
	                     SH_OK);
	/* refresh_import() frees what it is given: a copy. */
	require_true(__LINE__, "a copy of the map",
	             (copy = strdup(map)) != NULL);
	require_true(__LINE__, "import",
	             refresh_import(&c, h.store, copy, sizeof(map) - 1, "t", 0,
	                            &rep) == SH_OK);
	require_true(__LINE__, "metrics_open",
	             metrics_open(c.state_dir, &h.metrics, err, sizeof(err)) ==
	                     SH_OK);
	miss.conf = &c;
	miss.store = h.store;
	h.on_miss = schedule_on_miss;
	h.miss_ctx = &miss;

	/* Request logs go to stderr: send them away while counting. */
	saved = dup(2);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, 2);
	for (i = 0; i < 200; i++) { /* warm up: first miss fetch, tz, ... */
		r = (size_t)i % NELEM(reqs);
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		handler_serve(&h, &rq, &sink);
	}
	/* The rule kinds above (and the slash) answer as redirects. */
	for (r = 8; r < NELEM(reqs); r++) {
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		expect_int(__LINE__, reqs[r].values[1], r == 9 ? 302 : 301,
		           handler_serve(&h, &rq, &sink));
	}
	/* The hook is live: setting up did allocate. */
	expect_true(__LINE__, "the counting malloc sees allocations",
	            allocs > 0);
	before = allocs;
	for (i = 0; i < 10000 * (int)NELEM(reqs); i++) {
		r = (size_t)i % NELEM(reqs);
		request_from_params(&rq, env_get, (void *)&reqs[r]);
		handler_serve(&h, &rq, &sink);
	}
	dup2(saved, 2);
	close(saved);
	close(devnull);
	expect_u64(__LINE__,
	           "allocations during 10,000 rounds of warm requests", 0,
	           allocs - before);

	handler_close(&h);
	metrics_close(h.metrics);
	store_close(h.store);
	conf_free(&c);
}

static void
cleanup_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
main(void)
{
	static const struct unit_test tests[] = { UNIT_TEST(test_no_allocation),
		                                  UNIT_END };
	static const struct unit_suite suites[] = {
		{ "hotpath", NULL, NULL, tests }, { NULL, NULL, NULL, NULL }
	};
	int rc = unit_main(suites);

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
