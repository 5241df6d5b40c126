/*
 * maprows.h - the rows of the redirects parser's suites (test_redirects.c
 * for the gosherve format, test_redirects_netlify.c for "_redirects"):
 * a file, the options it is parsed with, the map it must yield (in map
 * order) and the lines it must warn about (in callback order).
 *
 * Caveats: static inline, for one translation unit per test program;
 * include unit.h first. At most MAXENT rules and MAXWARN warnings a row.
 */
#ifndef SHERVE_MAPROWS_H
#define SHERVE_MAPROWS_H

#include <string.h>

#include "redirects.h"
#include "util.h"

#define MAXENT  12
#define MAXWARN 64

/* The warn callback's record: which lines were skipped, and why. */
struct warns {
	size_t n;
	unsigned lines[MAXWARN];
	const char *why[MAXWARN];
};

static inline void
collect(void *ctx, unsigned line, const char *reason)
{
	struct warns *w = ctx;

	if (w->n < MAXWARN) {
		w->lines[w->n] = line;
		w->why[w->n] = reason;
	}
	w->n++;
}

struct rentry {
	const char *host; /* NULL: the default section */
	const char *alias;
	const char *url;
	unsigned line, status, kind;
};

struct rrow {
	unsigned line;
	const char *desc;
	struct redirects_opts o;
	const char *buf;
	struct rentry want[MAXENT];   /* in map order, alias NULL ends */
	unsigned warn_lines[MAXWARN]; /* in callback order, 0 ends */
	unsigned duplicates;
};

/* Parse r's file and check the map and warnings against the row. */
static inline void
check_rrow(const struct rrow *r)
{
	struct redirect_map m;
	struct warns w;
	size_t i, nwant, nw;

	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(r->line, r->desc, SH_OK,
	           redirects_parse_opts(r->buf, strlen(r->buf), &r->o, &m,
	                                collect, &w));
	for (nwant = 0; nwant < MAXENT && r->want[nwant].alias != NULL; nwant++)
		;
	for (nw = 0; nw < MAXWARN && r->warn_lines[nw] != 0; nw++)
		;
	expect_int(r->line, r->desc, nwant, m.n);
	for (i = 0; i < nwant && i < m.n; i++) {
		const struct rentry *e = &r->want[i];

		expect_str(r->line, r->desc, e->host, m.v[i].host);
		expect_str(r->line, r->desc, e->alias, m.v[i].alias);
		expect_str(r->line, r->desc, e->url, m.v[i].url);
		expect_int(r->line, e->alias, e->line, m.v[i].line);
		expect_int(r->line, e->alias, e->status, m.v[i].status);
		expect_int(r->line, e->alias, e->kind, m.v[i].kind);
	}
	expect_int(r->line, "duplicates", r->duplicates, m.duplicates);
	expect_int(r->line, "invalid", nw - r->duplicates, m.invalid);
	expect_int(r->line, "warning count", nw, w.n);
	for (i = 0; i < nw && i < w.n; i++)
		expect_int(r->line, w.why[i], r->warn_lines[i], w.lines[i]);
	redirects_free(&m);
}

#endif
