/*
 * test_versions.c - kept versions of the map (store_versions.c): a new
 * file adds one, the same SHA-256 none, keep-versions drops the oldest
 * but never the current, a pin keeps the map while versions are added,
 * a switch makes a kept version's map current; and what versions.c
 * does with them: rollback, unpin, diff.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "redirects.h"
#include "sha256.h"
#include "store.h"
#include "util.h"
#include "versions.h"

static char base[] = "/tmp/sherve-versions.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

/* Store text (a gosherve file) as a new version, as a refresh would. */
static int
add(struct store *s, const char *text, unsigned keep, struct store_vstate *st)
{
	struct redirect_map m = { 0 };
	struct store_version *v = calloc(1, sizeof(*v));
	struct store_vput vp = { STORE_VADD, NULL, text, strlen(text),
		                 keep,       0,    0 };
	int rc;

	if (v == NULL)
		return SH_ENOMEM;
	if ((rc = redirects_parse(text, strlen(text), &m, NULL, NULL)) ==
	    SH_OK) {
		v->stored_at = 1700000000;
		v->rules = m.n;
		sha256(text, strlen(text), v->sha);
		(void)str_copy(v->source, "import:unit", sizeof(v->source));
		vp.v = v;
		rc = store_replace_version(s, &m, NULL, 0, &vp, st);
	}
	redirects_free(&m);
	free(v);
	return rc;
}

/* The URL alias a resolves to in the current map, or "". */
static const char *
url_of(struct store *s, const char *a)
{
	static char url[256];

	if (store_lookup(s, a, strlen(a), url, sizeof(url)) != SH_OK)
		url[0] = '\0';
	return url;
}

static const char *const files[] = {
	"a https://one.example/\n",
	"a https://two.example/\nb https://b.example/\n",
	"a https://three.example/\n",
	"a https://four.example/\n",
};

static struct store *
open_in(const char *name)
{
	char dir[512], err[256] = "";
	struct store *s = NULL;

	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	if (store_open(dir, &s, err, sizeof(err)) != SH_OK)
		fprintf(stderr, "open %s: %s\n", dir, err);
	return s;
}

static void
test_add_keep(void)
{
	struct store_vstate st;
	struct store *s = open_in("add");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "state of a new store", SH_OK,
	           store_versions_state(s, &st));
	expect_int(__LINE__, "no versions yet", 0, (long long)st.count);
	for (i = 0; i < 3; i++)
		expect_int(__LINE__, "add", SH_OK, add(s, files[i], 2, &st));
	expect_int(__LINE__, "kept at keep 2", 2, (long long)st.count);
	expect_int(__LINE__, "newest", 3, (long long)st.newest);
	expect_int(__LINE__, "current", 3, (long long)st.current);
	expect_str(__LINE__, "map is the newest", "https://three.example/",
	           url_of(s, "a"));
	expect_int(__LINE__, "same file again", SH_OK,
	           add(s, files[2], 2, &st));
	expect_int(__LINE__, "same SHA-256 adds none", 0, st.added);
	expect_int(__LINE__, "still version 3", 3, (long long)st.newest);
	{
		struct store_version v;
		char *body = NULL;
		size_t len = 0;

		expect_int(__LINE__, "version 1 dropped", SH_ENOTFOUND,
		           store_version_get(s, 1, &v, &body, &len));
		expect_int(__LINE__, "version 2 kept", SH_OK,
		           store_version_get(s, 2, &v, &body, &len));
		expect_str(__LINE__, "its file", files[1], body);
		expect_int(__LINE__, "its rules", 2, (long long)v.rules);
		free(body);
	}
	store_close(s);
}

static void
test_pin(void)
{
	struct store_vstate st;
	struct store_vput sw = { STORE_VSWITCH, NULL, NULL, 0, 0, 1, 1 };
	struct redirect_map m = { 0 };
	struct store *s = open_in("pin");

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "add 1", SH_OK, add(s, files[0], 3, &st));
	expect_int(__LINE__, "add 2", SH_OK, add(s, files[1], 3, &st));
	require_true(__LINE__, "parse",
	             redirects_parse(files[0], strlen(files[0]), &m, NULL,
	                             NULL) == SH_OK);
	expect_int(__LINE__, "switch to 1, pinned", SH_OK,
	           store_replace_version(s, &m, NULL, 0, &sw, &st));
	expect_str(__LINE__, "version 1 served", "https://one.example/",
	           url_of(s, "a"));
	expect_int(__LINE__, "add 3 while pinned", SH_OK,
	           add(s, files[2], 3, &st));
	expect_int(__LINE__, "kept", 1, st.added);
	expect_int(__LINE__, "pin holds", 1, (long long)st.current);
	expect_str(__LINE__, "version 1 still served", "https://one.example/",
	           url_of(s, "a"));
	/* keep 3 reached: the next drops the oldest but the pinned one. */
	expect_int(__LINE__, "add 4 while pinned", SH_OK,
	           add(s, files[3], 3, &st));
	expect_int(__LINE__, "kept at keep 3", 3, (long long)st.count);
	{
		struct store_version v;
		char *body = NULL;
		size_t len = 0;

		expect_int(__LINE__, "pinned version 1 kept", SH_OK,
		           store_version_get(s, 1, &v, &body, &len));
		free(body);
		expect_int(__LINE__, "version 2 dropped", SH_ENOTFOUND,
		           store_version_get(s, 2, &v, &body, &len));
	}
	sw.n = 9;
	expect_int(__LINE__, "switch to a version not kept", SH_ENOTFOUND,
	           store_replace_version(s, &m, NULL, 0, &sw, &st));
	expect_str(__LINE__, "nothing changed", "https://one.example/",
	           url_of(s, "a"));
	redirects_free(&m);
	store_close(s);
}

/* versions.c over a store: rollback, unpin, diff, and their refusals. */
static void
test_commands(void)
{
	char msg[320], dir[512], *out = NULL;
	struct store_vstate st;
	struct conf c;
	size_t outlen = 0;
	FILE *fp;
	int differ = -1;
	struct store *s = open_in("cmd");

	require_true(__LINE__, "open", s != NULL);
	memset(&c, 0, sizeof(c));
	snprintf(dir, sizeof(dir), "%s/cmd", base);
	c.state_dir = dir;
	c.hostnames = "";
	expect_int(__LINE__, "rollback without versions", SH_EINVAL,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_int(__LINE__, "unpin without versions", SH_EINVAL,
	           versions_unpin(&c, s, msg, sizeof(msg)));
	expect_int(__LINE__, "add 1", SH_OK, add(s, files[0], 10, &st));
	expect_int(__LINE__, "rollback with one version", SH_EINVAL,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_int(__LINE__, "add 2", SH_OK, add(s, files[1], 10, &st));
	expect_int(__LINE__, "rollback", SH_OK,
	           versions_rollback(&c, s, 0, msg, sizeof(msg)));
	expect_str(__LINE__, "version 1 served", "https://one.example/",
	           url_of(s, "a"));
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
	           url_of(s, "a"));
	expect_int(__LINE__, "rollback 7", SH_ENOTFOUND,
	           versions_rollback(&c, s, 7, msg, sizeof(msg)));
	expect_str(__LINE__, "still the newest", "https://two.example/",
	           url_of(s, "a"));
	store_close(s);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_add_keep),
	UNIT_TEST(test_pin),
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
