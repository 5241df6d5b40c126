/*
 * fixture.h - a store holding a parsed map, for the suites of the
 * modules that read one (export, listing, mapdiff, check).
 *
 * Caveats: static inline, for one translation unit per test program;
 * the test links libsherve (store, redirects).
 */
#ifndef SHERVE_FIXTURE_H
#define SHERVE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redirects.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

/*
 * A new temporary directory $TMPDIR/NAME.XXXXXX (/tmp without TMPDIR)
 * for a suite, its path in base. Returns 0, or -1.
 */
static inline int
fixture_tmpdir(char *base, size_t basesz, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, basesz, "%s/%s.XXXXXX",
	         tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", name);
	return mkdtemp(base) != NULL ? 0 : -1;
}

/*
 * The store in base/name, opened (and created) read-write; NULL, with
 * the reason on stderr, if it does not open.
 */
static inline struct store *
fixture_open(const char *base, const char *name)
{
	char dir[4096], err[256] = "";
	struct store *s = NULL;

	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	if (store_open(dir, &s, err, sizeof(err)) != SH_OK)
		fprintf(stderr, "store_open %s: %s\n", dir, err);
	return s;
}

/* Parse text (a "_redirects" file when redirects is set) into m. */
static inline int
fixture_parse(const char *text, int redirects, struct redirect_map *m)
{
	struct redirects_opts o;

	memset(&o, 0, sizeof(o));
	memset(m, 0, sizeof(*m));
	o.format = redirects ? REDIRECTS_NETLIFY : REDIRECTS_GOSHERVE;
	return redirects_parse_opts(text, strlen(text), &o, m, NULL, NULL);
}

/*
 * A new store in the directory state holding map (see fixture_parse()).
 * Returns it (store_close() it), or NULL.
 */
static inline struct store *
fixture_store(const char *state, const char *map, int redirects)
{
	struct redirect_map m;
	struct store *s = NULL;
	char err[256];

	memset(&m, 0, sizeof(m));
	if (store_open(state, &s, err, sizeof(err)) != SH_OK ||
	    fixture_parse(map, redirects, &m) != SH_OK ||
	    store_replace(s, &m, NULL, 0) != SH_OK) {
		store_close(s);
		s = NULL;
	}
	redirects_free(&m);
	return s;
}

/*
 * Store text (a gosherve file) as a new version, as a refresh would,
 * keeping keep versions and setting the nkv meta pairs kv in the same
 * transaction; st (may be NULL) receives the state after the step.
 * Returns store_replace_version()'s code, or the parser's.
 */
static inline int
fixture_add_version(struct store *s, const char *text, unsigned keep,
                    const struct store_kv *kv, size_t nkv,
                    struct store_vstate *st)
{
	struct redirect_map m = { 0 };
	/* struct store_version is 4.6 KiB: not on the stack. */
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
		rc = store_replace_version(s, &m, kv, nkv, &vp, st);
	}
	redirects_free(&m);
	free(v);
	return rc;
}

/* The URL the default section's exact alias a has in s's map, or "". */
static inline const char *
fixture_url(struct store *s, const char *a)
{
	static char url[256];

	if (store_lookup(s, a, strlen(a), url, sizeof(url)) != SH_OK)
		url[0] = '\0';
	return url;
}

#endif
