/*
 * test_store_versions.c - the kept versions of the map
 * (store_versions.c), each row against a real LMDB store in a temporary
 * directory: a new file adds a version, the same SHA-256 as the newest
 * none, keep-versions drops the oldest but never the current, a pin
 * keeps the map while versions are added (the step writes the meta
 * records but not the map), a switch makes version N's map current,
 * pinned or not; the list, newest first with its markers, and one
 * version's fields and file as stored.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "redirects.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

static char base[512];

static int
suite_init(void)
{
	return fixture_tmpdir(base, sizeof(base), "sherve-store-versions");
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

static const char *const files[] = {
	"a https://one.example/\n",
	"a https://two.example/\nb https://b.example/\n",
	"a https://three.example/\n",
	"a https://four.example/\n",
};

/* Make version n current with files[f]'s map, pinned if pin. */
static int
switch_to(struct store *s, uint64_t n, size_t f, int pin,
          struct store_vstate *st)
{
	struct store_vput sw = { STORE_VSWITCH, NULL, NULL, 0, 0, n, pin };
	struct redirect_map m = { 0 };
	int rc;

	if ((rc = fixture_parse(files[f], 0, &m)) == SH_OK)
		rc = store_replace_version(s, &m, NULL, 0, &sw, st);
	redirects_free(&m);
	return rc;
}

/* 1 if version n is kept. */
static int
kept(struct store *s, uint64_t n)
{
	struct store_version *v = calloc(1, sizeof(*v));
	char *body = NULL;
	size_t len = 0;
	int rc = v != NULL ? store_version_get(s, n, v, &body, &len) : -1;

	free(body);
	free(v);
	return rc == SH_OK;
}

static void
test_add_keep(void)
{
	struct store_vstate st;
	struct store *s = fixture_open(base, "add");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "state of a new store", SH_OK,
	           store_versions_state(s, &st));
	expect_int(__LINE__, "no versions yet", 0, (long long)st.count);
	for (i = 0; i < 3; i++)
		expect_int(__LINE__, "add", SH_OK,
		           fixture_add_version(s, files[i], 2, NULL, 0, &st));
	expect_int(__LINE__, "kept at keep 2", 2, (long long)st.count);
	expect_int(__LINE__, "newest", 3, (long long)st.newest);
	expect_int(__LINE__, "current", 3, (long long)st.current);
	expect_str(__LINE__, "map is the newest", "https://three.example/",
	           fixture_url(s, "a"));
	expect_int(__LINE__, "same file again", SH_OK,
	           fixture_add_version(s, files[2], 2, NULL, 0, &st));
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
	struct store *s = fixture_open(base, "pin");

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "add 1", SH_OK,
	           fixture_add_version(s, files[0], 3, NULL, 0, &st));
	expect_int(__LINE__, "add 2", SH_OK,
	           fixture_add_version(s, files[1], 3, NULL, 0, &st));
	require_true(__LINE__, "parse",
	             redirects_parse(files[0], strlen(files[0]), &m, NULL,
	                             NULL) == SH_OK);
	expect_int(__LINE__, "switch to 1, pinned", SH_OK,
	           store_replace_version(s, &m, NULL, 0, &sw, &st));
	expect_str(__LINE__, "version 1 served", "https://one.example/",
	           fixture_url(s, "a"));
	expect_int(__LINE__, "add 3 while pinned", SH_OK,
	           fixture_add_version(s, files[2], 3, NULL, 0, &st));
	expect_int(__LINE__, "kept", 1, st.added);
	expect_int(__LINE__, "pin holds", 1, (long long)st.current);
	expect_str(__LINE__, "version 1 still served", "https://one.example/",
	           fixture_url(s, "a"));
	/* keep 3 reached: the next drops the oldest but the pinned one. */
	expect_int(__LINE__, "add 4 while pinned", SH_OK,
	           fixture_add_version(s, files[3], 3, NULL, 0, &st));
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
	           fixture_url(s, "a"));
	redirects_free(&m);
	store_close(s);
}

/* Only the newest version's SHA-256 is compared: an older file again is
 * a new version. */
static void
test_same_as_older(void)
{
	struct store_vstate st;
	struct store *s = fixture_open(base, "older");

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "add A", SH_OK,
	           fixture_add_version(s, files[0], 10, NULL, 0, &st));
	expect_int(__LINE__, "add B", SH_OK,
	           fixture_add_version(s, files[1], 10, NULL, 0, &st));
	expect_int(__LINE__, "add A again", SH_OK,
	           fixture_add_version(s, files[0], 10, NULL, 0, &st));
	expect_int(__LINE__, "kept as a new version", 1, st.added);
	expect_u64(__LINE__, "three kept", 3, st.count);
	expect_u64(__LINE__, "version 3 current", 3, st.current);
	expect_str(__LINE__, "A served", "https://one.example/",
	           fixture_url(s, "a"));
	store_close(s);
}

/* keep 0 keeps one; numbers go on climbing, never reused. */
static void
test_keep_one(void)
{
	struct store_vstate st;
	struct store *s = fixture_open(base, "one");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	for (i = 0; i < NELEM(files); i++)
		expect_int(__LINE__, "add", SH_OK,
		           fixture_add_version(s, files[i], 0, NULL, 0, &st));
	expect_u64(__LINE__, "keep 0 keeps one", 1, st.count);
	expect_u64(__LINE__, "numbered on", 4, st.newest);
	expect_u64(__LINE__, "the newest current", 4, st.current);
	expect_int(__LINE__, "version 3 dropped", 0, kept(s, 3));
	expect_int(__LINE__, "version 4 kept", 1, kept(s, 4));
	expect_int(__LINE__, "no version 0", 0, kept(s, 0));
	expect_int(__LINE__, "add with keep 3", SH_OK,
	           fixture_add_version(s, files[0], 3, NULL, 0, &st));
	expect_u64(__LINE__, "number 5, not a reused one", 5, st.newest);
	expect_u64(__LINE__, "two kept", 2, st.count);
	store_close(s);
}

/* A rollback to version N, listed with its markers; then unpinned. */
static void
test_rollback_unpin(void)
{
	struct store_vstate st;
	struct store *s = fixture_open(base, "rollback");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	for (i = 0; i < 3; i++)
		expect_int(__LINE__, "add", SH_OK,
		           fixture_add_version(s, files[i], 10, NULL, 0, &st));
	expect_int(__LINE__, "switch to 2, pinned", SH_OK,
	           switch_to(s, 2, 1, 1, &st));
	expect_u64(__LINE__, "2 current", 2, st.current);
	expect_int(__LINE__, "pinned", 1, st.pinned);
	expect_u64(__LINE__, "nothing dropped", 3, st.count);
	expect_str(__LINE__, "version 2's map", "https://two.example/",
	           fixture_url(s, "a"));
	expect_str(__LINE__, "all of it", "https://b.example/",
	           fixture_url(s, "b"));
	expect_u64(__LINE__, "its rules counted", 2, store_count(s));
	expect_int(__LINE__, "switch to 0", SH_ENOTFOUND,
	           switch_to(s, 0, 0, 1, &st));
	expect_int(__LINE__, "state", SH_OK, store_versions_state(s, &st));
	expect_u64(__LINE__, "still 2", 2, st.current);
	expect_str(__LINE__, "map unchanged", "https://two.example/",
	           fixture_url(s, "a"));
	/* Unpinned: the newest again, and the next version is served. */
	expect_int(__LINE__, "switch to 3, unpinned", SH_OK,
	           switch_to(s, 3, 2, 0, &st));
	expect_int(__LINE__, "not pinned", 0, st.pinned);
	expect_str(__LINE__, "version 3's map", "https://three.example/",
	           fixture_url(s, "a"));
	expect_int(__LINE__, "add 4", SH_OK,
	           fixture_add_version(s, files[3], 10, NULL, 0, &st));
	expect_u64(__LINE__, "current follows the newest", 4, st.current);
	expect_str(__LINE__, "served", "https://four.example/",
	           fixture_url(s, "a"));
	store_close(s);
}

/* While pinned, a version step writes its meta records, not the map. */
static void
test_step_keeps_map(void)
{
	static const struct store_kv kv[] = { { "note", "second", 0 } };
	struct store_vstate st;
	char note[32], sum[80];
	struct store *s = fixture_open(base, "keeps");

	require_true(__LINE__, "open", s != NULL);
	expect_int(__LINE__, "add 1", SH_OK,
	           fixture_add_version(s, files[0], 10, NULL, 0, &st));
	expect_int(__LINE__, "pin 1", SH_OK, switch_to(s, 1, 0, 1, &st));
	expect_int(__LINE__, "add 2 while pinned", SH_OK,
	           fixture_add_version(s, files[1], 10, kv, 1, &st));
	expect_int(__LINE__, "kept", 1, st.added);
	expect_u64(__LINE__, "1 still current", 1, st.current);
	expect_int(__LINE__, "meta written", SH_OK,
	           store_meta_get(s, "note", note, sizeof(note)));
	expect_str(__LINE__, "its value", "second", note);
	expect_str(__LINE__, "map kept", "https://one.example/",
	           fixture_url(s, "a"));
	expect_str(__LINE__, "none of version 2's rules", "",
	           fixture_url(s, "b"));
	expect_u64(__LINE__, "rules of version 1", 1, store_count(s));
	expect_int(__LINE__, "checksum still the map's", SH_OK,
	           store_verify(s, sum, sizeof(sum)));
	store_close(s);
}

struct seen {
	uint64_t n[8];
	int current[8], pinned[8];
	size_t count, stop; /* stop: return 7 at this call (1-based) */
};

static int
see(void *ctx, const struct store_version *v)
{
	struct seen *w = ctx;

	if (w->count < NELEM(w->n)) {
		w->n[w->count] = v->n;
		w->current[w->count] = v->current;
		w->pinned[w->count] = v->pinned;
	}
	w->count++;
	return w->count == w->stop ? 7 : 0;
}

/* The list: newest first, the markers on the current one only. */
static void
test_list(void)
{
	struct store_vstate st;
	struct seen w;
	struct store *s = fixture_open(base, "list");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "an empty list", SH_OK,
	           store_versions_list(s, see, &w, &st));
	expect_u64(__LINE__, "no call", 0, w.count);
	for (i = 0; i < 3; i++)
		expect_int(__LINE__, "add", SH_OK,
		           fixture_add_version(s, files[i], 10, NULL, 0, &st));
	expect_int(__LINE__, "pin 2", SH_OK, switch_to(s, 2, 1, 1, &st));
	memset(&st, 0, sizeof(st));
	expect_int(__LINE__, "list", SH_OK,
	           store_versions_list(s, see, &w, &st));
	expect_u64(__LINE__, "three", 3, w.count);
	expect_u64(__LINE__, "newest first", 3, w.n[0]);
	expect_u64(__LINE__, "then 2", 2, w.n[1]);
	expect_u64(__LINE__, "then 1", 1, w.n[2]);
	expect_int(__LINE__, "3 not current", 0, w.current[0]);
	expect_int(__LINE__, "2 current", 1, w.current[1]);
	expect_int(__LINE__, "2 pinned", 1, w.pinned[1]);
	expect_int(__LINE__, "1 neither", 0, w.current[2] || w.pinned[2]);
	expect_u64(__LINE__, "state given", 2, st.current);
	memset(&w, 0, sizeof(w));
	w.stop = 2;
	expect_int(__LINE__, "fn's nonzero stops the walk", 7,
	           store_versions_list(s, see, &w, NULL));
	expect_u64(__LINE__, "after two calls", 2, w.count);
	store_close(s);
}

/* A version's fields and file come back as stored. */
static void
test_fields(void)
{
	static const char text[] = "x https://x.example/\n";
	struct store_version *in = calloc(1, sizeof(*in)),
	                     *out = calloc(1, sizeof(*out));
	struct store_vput vp = { STORE_VADD, NULL, text, sizeof(text) - 1,
		                 5,          0,    0 };
	struct redirect_map m = { 0 };
	struct store_vstate st;
	struct store *s = fixture_open(base, "fields");
	char *body = NULL;
	size_t len = 0;

	require_true(__LINE__, "alloc", in != NULL && out != NULL);
	require_true(__LINE__, "open", s != NULL);
	require_true(__LINE__, "parse", fixture_parse(text, 0, &m) == SH_OK);
	in->stored_at = 1767225600;
	in->rules = 1;
	sha256(text, sizeof(text) - 1, in->sha);
	(void)str_copy(in->source, "https://up.example/map.txt",
	               sizeof(in->source));
	(void)str_copy(in->etag, "\"abc\"", sizeof(in->etag));
	(void)str_copy(in->last_modified, "Thu, 01 Jan 2026 00:00:00 GMT",
	               sizeof(in->last_modified));
	vp.v = in;
	expect_int(__LINE__, "add", SH_OK,
	           store_replace_version(s, &m, NULL, 0, &vp, &st));
	expect_int(__LINE__, "get", SH_OK,
	           store_version_get(s, st.newest, out, &body, &len));
	expect_u64(__LINE__, "number", 1, out->n);
	expect_u64(__LINE__, "stored_at", in->stored_at, out->stored_at);
	expect_u64(__LINE__, "rules", 1, out->rules);
	expect_true(__LINE__, "sha",
	            memcmp(in->sha, out->sha, STORE_SHA_LEN) == 0);
	expect_str(__LINE__, "source", in->source, out->source);
	expect_str(__LINE__, "etag", in->etag, out->etag);
	expect_str(__LINE__, "last-modified", in->last_modified,
	           out->last_modified);
	expect_int(__LINE__, "current", 1, out->current);
	expect_int(__LINE__, "not pinned", 0, out->pinned);
	expect_u64(__LINE__, "file length", sizeof(text) - 1, len);
	expect_str(__LINE__, "file", text, body);
	free(body);
	body = NULL;
	expect_int(__LINE__, "a version not kept", SH_ENOTFOUND,
	           store_version_get(s, 2, out, &body, &len));
	expect_true(__LINE__, "no file then", body == NULL && len == 0);
	redirects_free(&m);
	store_close(s);
	free(in);
	free(out);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_add_keep),
	UNIT_TEST(test_pin),
	UNIT_TEST(test_same_as_older),
	UNIT_TEST(test_keep_one),
	UNIT_TEST(test_rollback_unpin),
	UNIT_TEST(test_step_keeps_map),
	UNIT_TEST(test_list),
	UNIT_TEST(test_fields),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "store_versions", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
