/*
 * fixture.h - a store holding a parsed map, for the suites of the
 * modules that read one (export, listing, mapdiff, check).
 *
 * Caveats: static inline, for one translation unit per test program;
 * the test links libsherve (store, redirects).
 */
#ifndef SHERVE_FIXTURE_H
#define SHERVE_FIXTURE_H

#include <string.h>

#include "redirects.h"
#include "store.h"
#include "util.h"

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

#endif
