/*
 * test_mapdiff.c - mapdiff_print() of a new map against a stored one, as
 * exact text: nothing changed; a rule added, removed, its target, status
 * or expiry changed; the same alias in a host section and in the default
 * one kept apart; a prefix rule and an exact rule with the same key kept
 * apart; patterns (a "_redirects" map) matched by path and conditions.
 */
#include "unit.h"

#include <stdlib.h>

#include "fixture.h"
#include "mapdiff.h"
#include "redirects.h"
#include "store.h"
#include "util.h"

static char dir[] = "/tmp/sherve-mapdiff.XXXXXX";

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

/* The diff of new against old (stored first), or NULL. */
static char *
diff(const char *old, const char *new, int redirects)
{
	static unsigned n;
	struct redirect_map m;
	struct store *s;
	char state[96], *text = NULL;
	size_t len;
	FILE *out;

	snprintf(state, sizeof(state), "%s/%u", dir, n++);
	if ((s = fixture_store(state, old, redirects)) == NULL)
		return NULL;
	if (fixture_parse(new, redirects, &m) == SH_OK &&
	    (out = open_memstream(&text, &len)) != NULL) {
		mapdiff_print(out, s, &m);
		fclose(out);
	}
	redirects_free(&m);
	store_close(s);
	return text;
}

struct row {
	unsigned line;
	const char *desc;
	int redirects;
	const char *old, *new, *want;
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "nothing changed", 0,
	  "a https://x.example/a\n", "a https://x.example/a\n",
	  "diff against the stored map: 0 added, 0 removed, 0 changed\n" },
	{ __LINE__, "added, removed, target changed", 0,
	  "a https://x.example/a\nb https://x.example/b\n",
	  "a https://x.example/a2\nc https://x.example/c\n",
	  "~ a https://x.example/a -> https://x.example/a2\n"
	  "- b https://x.example/b\n"
	  "+ c https://x.example/c\n"
	  "diff against the stored map: 1 added, 1 removed, 1 changed\n" },
	{ __LINE__, "status and expiry changes", 0,
	  "a https://x.example/a\nb https://x.example/b 302 expires=2030-01-01\n",
	  "a https://x.example/a 308\nb https://x.example/b 302 expires=2031-01-01\n",
	  "~ a https://x.example/a -> https://x.example/a 308\n"
	  "~ b https://x.example/b -> https://x.example/b 302 "
	  "expires=2031-01-01T00:00:00Z\n"
	  "diff against the stored map: 0 added, 0 removed, 2 changed\n" },
	{ __LINE__, "a host section's alias apart from the default one", 0,
	  "a https://x.example/a\n@host h.example\na https://b.example/a\n",
	  "a https://x.example/a\n@host h.example\na https://b.example/new\n",
	  "~ a https://b.example/a -> https://b.example/new (@host h.example)\n"
	  "diff against the stored map: 0 added, 0 removed, 1 changed\n" },
	{ __LINE__, "a prefix rule and an exact rule of the same key", 0,
	  "docs https://x.example/d\n",
	  "docs https://x.example/d\ndocs/* https://x.example/:splat\n",
	  "+ docs/* https://x.example/:splat\n"
	  "diff against the stored map: 1 added, 0 removed, 0 changed\n" },
	{ __LINE__, "patterns by path and conditions", 1,
	  "/p id=:id https://x.example/:id\n/q/:a https://x.example/:a\n",
	  "/p id=:id https://x.example/v2/:id\n/p https://x.example/p\n",
	  "~ p id=:id https://x.example/:id -> https://x.example/v2/:id\n"
	  "- q/:a https://x.example/:a\n"
	  "+ p https://x.example/p\n"
	  "diff against the stored map: 1 added, 1 removed, 1 changed\n" },
};
/* clang-format on */

static void
test_diff(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		char *got = diff(rows[i].old, rows[i].new, rows[i].redirects);

		expect_str(rows[i].line, rows[i].desc, rows[i].want, got);
		free(got);
	}
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_diff),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "mapdiff", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
