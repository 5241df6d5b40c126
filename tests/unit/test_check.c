/*
 * test_check.c - check_redirects(), the lint of `sherve check`: what it
 * prints for each kind of finding (invalid and duplicate lines, an alias
 * shadowed by an asset, a reserved path, a target that is an alias of
 * the map, a loop through this site's host names, an expired rule, a
 * rule the file lacks), the diff against a stored map, and the count it
 * returns (invalid lines and loops). Each row is a map and the exact text
 * it gets.
 */
#include "unit.h"

#include "check.h"
#include "conf.h"
#include "fixture.h"
#include "redirects.h"
#include "store.h"
#include "util.h"

static char dir[] = "/tmp/sherve-check.XXXXXX";
static char www[64], state[64];

static int
suite_init(void)
{
	char path[128];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(www, sizeof(www), "%s/www", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(path, sizeof(path), "%s/style.css", www);
	if (mkdir(www, 0700) != 0 || mkdir(state, 0700) != 0)
		return -1;
	return unit_write_file(path, "body {}\n");
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

/* The settings of `sherve --webroot W --hostnames s.example check`. */
static int
load(struct conf *c, const char *extra)
{
	char err[256];
	char *argv[] = { "sherve",    "--config",    "/dev/null", "--state-dir",
		         state,       "--webroot",   www,         "--hostnames",
		         "s.example", (char *)extra, "check",     NULL };
	int argc = 11;

	if (extra == NULL) {
		argv[9] = "check";
		argv[10] = NULL;
		argc = 10;
	}
	if (conf_load(c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

struct call {
	const struct conf *c;
	struct store *s;
	const char *map;
};

static int
call_check(void *ctx)
{
	const struct call *k = ctx;

	return check_redirects(k->c, k->s, "m.txt", k->map, strlen(k->map));
}

struct row {
	unsigned line;
	const char *desc;
	const char *map;
	int rc;
	const char *out;
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "a clean map", "a https://x.example/t-a\n", 0,
	  "m.txt: 1 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "an invalid line counts",
	  "a https://x.example/t-a\nb c d e\n", 1,
	  "m.txt:2: expected 2 fields: alias URL (and an optional STATUS)\n"
	  "m.txt: 1 aliases, 1 invalid lines, 0 duplicates\n" },
	{ __LINE__, "a duplicate is reported, not counted",
	  "a https://x.example/t-a\na https://x.example/t-b\n", 0,
	  "m.txt:2: duplicate alias (first line wins)\n"
	  "m.txt: 1 aliases, 0 invalid lines, 1 duplicates\n" },
	{ __LINE__, "an alias shadowed by an asset",
	  "style.css https://x.example/s\n", 0,
	  "m.txt:1: alias 'style.css' is shadowed by the asset style.css\n"
	  "m.txt: 1 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "a reserved path", "robots.txt https://x.example/r\n", 0,
	  "m.txt:1: alias 'robots.txt' would shadow the reserved path "
	  "'robots.txt'; sherve never answers it with a redirect\n"
	  "m.txt: 1 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "a target that is an alias of the map",
	  "a https://x.example/b\nb https://x.example/z\n", 0,
	  "m.txt:1: target of 'a' is the alias 'b' (a loop if that host is "
	  "served by this sherve)\n"
	  "m.txt: 2 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "a chain through this site's host name",
	  "a https://s.example/b\nb https://x.example/z\n", 0,
	  "m.txt:1: a chain: a -> b -> https://x.example/z (one redirect "
	  "would do: sherve check --resolve-chains)\n"
	  "m.txt: 2 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "a loop through this site's host name counts",
	  "loopy http://s.example/loopy\n", 1,
	  "m.txt:1: a redirect loop: loopy -> loopy (no file of the webroot "
	  "answers /loopy first) (a refresh or import refuses the map)\n"
	  "m.txt: 1 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "an expired rule",
	  "gone https://x.example/ 302 expires=2000-01-01\n", 0,
	  "m.txt:1: 'gone' expired at 2000-01-01T00:00:00Z: it answers 410 "
	  "Gone\n"
	  "m.txt: 1 aliases, 0 invalid lines, 0 duplicates\n" },
};
/* clang-format on */

static void
test_lint(void)
{
	struct conf c;
	size_t i;

	require_true(__LINE__, "conf_load", load(&c, NULL) == 0);
	for (i = 0; i < NELEM(rows); i++) {
		struct call k = { &c, NULL, rows[i].map };
		char *out = NULL;
		int rc = unit_capture(call_check, &k, &out);

		expect_int(rows[i].line, rows[i].desc, rows[i].rc, rc);
		expect_str(rows[i].line, rows[i].desc, rows[i].out, out);
		free(out);
	}
	conf_free(&c);
}

/* The diff against the stored map, host sections included. */
static void
test_diff(void)
{
	static const char stored[] = "a https://x.example/t-a\n"
	                             "b https://x.example/b\n"
	                             "c https://x.example/c 302\n"
	                             "@host h.example\n"
	                             "a https://h.example/old\n";
	static const char file[] = "a https://x.example/t-a\n"
	                           "b https://x.example/b2\n"
	                           "d https://x.example/t-d 307\n"
	                           "@host h.example\n"
	                           "a https://h.example/new\n";
	static const char want[] =
	        "m.txt: 4 aliases, 0 invalid lines, 0 duplicates\n"
	        "~ b https://x.example/b -> https://x.example/b2\n"
	        "- c https://x.example/c 302\n"
	        "~ a https://h.example/old -> https://h.example/new "
	        "(@host h.example)\n"
	        "+ d https://x.example/t-d 307\n"
	        "diff against the stored map: 1 added, 1 removed, 2 changed\n";
	struct store *s = fixture_store(state, stored, 0);
	struct conf c;
	char *out = NULL;
	struct call k = { &c, s, file };

	require_true(__LINE__, "a stored map", s != NULL);
	require_true(__LINE__, "conf_load", load(&c, NULL) == 0);
	expect_int(__LINE__, "a valid file", 0,
	           unit_capture(call_check, &k, &out));
	expect_str(__LINE__, "the lint and the diff", want, out);
	free(out);
	store_close(s);
	conf_free(&c);
}

/* --resolve-chains: the lint goes to stderr, the resolved map to
 * stdout. */
static void
test_resolve_chains(void)
{
	struct conf c;
	char *out = NULL;
	struct call k = { &c, NULL,
		          "a https://s.example/b\n"
		          "b https://x.example/z\n" };

	require_true(__LINE__, "conf_load", load(&c, "--resolve-chains") == 0);
	expect_int(__LINE__, "a chain is not an error", 0,
	           unit_capture(call_check, &k, &out));
	expect_str(__LINE__, "the map with its chains resolved, on stdout",
	           "a https://x.example/z\nb https://x.example/z\n", out);
	free(out);
	conf_free(&c);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_lint),
	UNIT_TEST(test_diff),
	UNIT_TEST(test_resolve_chains),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "check", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
