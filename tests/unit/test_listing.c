/*
 * test_listing.c - a stored map written back as text (`sherve list`):
 * the gosherve superset in sherve's order (sections, prefixes after
 * exact rules, statuses and expiries kept), a "_redirects" map in its
 * file's order; from paths percent-encoded where a byte would not read
 * back as itself; rules sherve never answers left out; and the text read
 * back gives the same rules (a lossless round trip). An alias holding
 * '%' or '?' is reachable (a request names it as %25, %3F) and listed.
 */
#include "unit.h"

#include <stdlib.h>

#include "fixture.h"
#include "listing.h"

static char dir[] = "/tmp/sherve-listing.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

/* The listing of map (stored first) in its own format, or NULL. */
static char *
list(const char *map, int redirects)
{
	static unsigned n;
	struct listing l;
	struct store *s;
	char state[96], *text = NULL;
	size_t len;
	FILE *out;

	snprintf(state, sizeof(state), "%s/%u", dir, n++);
	if ((s = fixture_store(state, map, redirects)) == NULL)
		return NULL;
	memset(&l, 0, sizeof(l));
	l.redirect_status = 301;
	if (listing_collect(s, &l) == SH_OK &&
	    (out = open_memstream(&text, &len)) != NULL) {
		if (listing_write(out, &l,
		                  redirects ? LISTING_REDIRECTS
		                            : LISTING_GOSHERVE) != 0) {
			fclose(out);
			free(text);
			text = NULL;
		} else {
			fclose(out);
		}
	}
	listing_free(&l);
	store_close(s);
	return text;
}

/* text without its comment lines (in place), or NULL. */
static char *
rules(char *text)
{
	char *r = text, *w = text;

	while (r != NULL && *r != '\0') {
		char *e = strchr(r, '\n');
		size_t n = e != NULL ? (size_t)(e - r) + 1 : strlen(r);

		if (*r != '#') {
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	if (w != NULL)
		*w = '\0';
	return text;
}

struct row {
	unsigned line;
	const char *desc;
	int redirects;
	const char *map, *want;
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "sherve's order: exact rules, prefixes, then sections", 0,
	  "docs/* https://d.example/:splat 308\n"
	  "b https://x.example/b 302 expires=2030-01-01\n"
	  "a https://x.example/a\n"
	  "@host h.example\n"
	  "x https://h2.example/x\n",
	  "a https://x.example/a\n"
	  "b https://x.example/b 302 expires=2030-01-01\n"
	  "docs/* https://d.example/:splat 308\n"
	  "\n"
	  "@host h.example\n"
	  "x https://h2.example/x\n" },
	{ __LINE__, "a gosherve map is written whole, reserved paths too", 0,
	  "robots.txt https://x.example/r\na https://x.example/a\n",
	  "a https://x.example/a\nrobots.txt https://x.example/r\n" },
	{ __LINE__, "bytes that would not read back are encoded", 1,
	  "/a%20b https://x.example/1\n/100%25 https://x.example/2\n"
	  "/caf%C3%A9 https://x.example/3\n/q%3F https://x.example/4\n",
	  "# _redirects written by sherve: 4 rules; the first line that matches "
	  "answers.\n"
	  "/a%20b https://x.example/1\n"
	  "/100%25 https://x.example/2\n"
	  "/caf%C3%A9 https://x.example/3\n"
	  "/q%3F https://x.example/4\n" },
	{ __LINE__, "a _redirects map keeps its order, shadowed rules out", 1,
	  "/z https://x.example/z\n/a/* https://x.example/:splat 302\n"
	  "/a/b https://x.example/ab\n/gone /x 410\n"
	  "https://h.example/p https://x.example/p 301!\n",
	  "# _redirects written by sherve: 4 rules; the first line that matches "
	  "answers.\n"
	  "/z https://x.example/z\n"
	  "/a/* https://x.example/:splat 302\n"
	  "/gone /x 410\n"
	  "https://h.example/p https://x.example/p 301!\n" },
	{ __LINE__, "a _redirects map leaves out what sherve never answers", 1,
	  "/robots.txt https://x.example/r\n/a https://x.example/a\n",
	  "# _redirects written by sherve: 2 rules; the first line that matches "
	  "answers.\n"
	  "/a https://x.example/a\n" },
};
/* clang-format on */

static void
test_list(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		char *got = list(rows[i].map, rows[i].redirects), *again;

		expect_str(rows[i].line, rows[i].desc, rows[i].want, got);
		/* Read back, the text lists the same rules. */
		again = got != NULL ? list(got, rows[i].redirects) : NULL;
		expect_str(rows[i].line, "the round trip", rules(got),
		           rules(again));
		free(again);
		free(got);
	}
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_list),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "listing", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
