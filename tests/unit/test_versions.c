/*
 * test_versions.c - what versions.c does with the kept versions of the
 * map: rollback, unpin, diff, and their refusals. The versions
 * themselves (store_versions.c) are test_store_versions.c's.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "fixture.h"
#include "redirects.h"
#include "store.h"
#include "util.h"
#include "versions.h"

static char base[512];

static int
suite_init(void)
{
	return fixture_tmpdir(base, sizeof(base), "sherve-versions");
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

/* The two files stored as versions 1 and 2. */
static const char v1[] = "a https://one.example/\n";
static const char v2[] = "a https://two.example/\nb https://b.example/\n";

/* versions.c over a store: rollback, unpin, diff, and their refusals. */
static void
test_commands(void)
{
	char msg[320], dir[600], *out = NULL;
	struct store_vstate st;
	struct conf c;
	size_t outlen = 0;
	FILE *fp;
	int differ = -1;
	struct store *s = fixture_open(base, "cmd");

	require_true(__LINE__, "open", s != NULL);
	memset(&c, 0, sizeof(c));
	snprintf(dir, sizeof(dir), "%s/cmd", base);
	c.state_dir = dir;
	c.hostnames = "";
	expect_int(__LINE__, "rollback without versions", SH_EINVAL,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_int(__LINE__, "unpin without versions", SH_EINVAL,
	           versions_unpin(&c, s, msg, sizeof(msg)));
	expect_int(__LINE__, "add 1", SH_OK,
	           fixture_add_version(s, v1, 10, NULL, 0, &st));
	expect_int(__LINE__, "rollback with one version", SH_EINVAL,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_int(__LINE__, "add 2", SH_OK,
	           fixture_add_version(s, v2, 10, NULL, 0, &st));
	expect_int(__LINE__, "rollback", SH_OK,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_str(__LINE__, "version 1 served", "https://one.example/",
	           fixture_url(s, "a"));
	expect_int(__LINE__, "state", SH_OK, store_versions_state(s, &st));
	expect_int(__LINE__, "pinned", 1, st.pinned);
	require_true(__LINE__, "memstream",
	             (fp = open_memstream(&out, &outlen)) != NULL);
	expect_int(__LINE__, "diff 1 2", SH_OK,
	           versions_diff(&c, s, 1, 2, fp, &differ, msg, sizeof(msg)));
	fclose(fp);
	expect_int(__LINE__, "they differ", 1, differ);
	expect_str(__LINE__, "diff lines",
	           "~ a https://one.example/ -> https://two.example/\n"
	           "+ b https://b.example/\n"
	           "version 1 -> 2: 1 added, 0 removed, 1 changed\n",
	           out);
	free(out);
	expect_int(__LINE__, "unpin", SH_OK,
	           versions_unpin(&c, s, msg, sizeof(msg)));
	expect_str(__LINE__, "newest served", "https://two.example/",
	           fixture_url(s, "a"));
	expect_int(__LINE__, "rollback 7", SH_ENOTFOUND,
	           versions_rollback(&c, s, 7, msg, sizeof(msg)));
	expect_str(__LINE__, "still the newest", "https://two.example/",
	           fixture_url(s, "a"));
	store_close(s);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_commands),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "versions", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
