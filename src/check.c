/* check.c - the redirects linter behind `sherve check`; see check.h. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "chain.h"
#include "check.h"
#include "listing.h"
#include "location.h"
#include "mapdiff.h"
#include "match.h"
#include "path.h"
#include "redirects.h"
#include "refresh.h"
#include "util.h"
#include "webroot.h"

struct lint {
	FILE *out; /* stdout; stderr when stdout takes the resolved map */
	const char *source;
	unsigned loops;
	unsigned proxies, conditions; /* lines that need what sherve lacks */
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct lint *l = ctx;

	fprintf(l->out, "%s:%u: %s\n", l->source, line, reason);
	switch (redirects_lack_of(reason)) {
	case REDIRECTS_LACK_PROXY: l->proxies++; break;
	case REDIRECTS_LACK_CONDITION: l->conditions++; break;
	case REDIRECTS_LACK_NONE: break;
	}
}

static void
check_shadow(const struct conf *c, struct webroot *w, const struct lint *l,
             const struct redirect *r)
{
	char uri[REDIRECT_ALIAS_MAX + 2], rel[ASSET_PATH_MAX];
	size_t n = redirect_key_len(r);
	struct asset a;
	int slash, root;

	if (c->webroot[0] == '\0' || n == 0 || r->kind == REDIRECT_PATTERN ||
	    (r->flags & MATCH_FORCE))
		return;
	snprintf(uri, sizeof(uri), "/%.*s", (int)n, r->alias);
	if (path_normalise(uri, "", rel, sizeof(rel), &slash) == PATH_OK &&
	    (root = webroot_fd(w, c->webroot)) >= 0 &&
	    asset_open(root, rel, 0, &a) == ASSET_OK) {
		fprintf(l->out,
		        "%s:%u: alias '%s' is shadowed by the asset %s\n",
		        l->source, r->line, r->alias, a.path);
		asset_close(&a);
	}
}

/* Reserved paths are the site's own: no rule ever answers them. */
static void
check_reserved(const struct lint *l, const struct redirect *r)
{
	size_t n = redirect_key_len(r);

	if (r->kind == REDIRECT_PREFIX && n == 0)
		fprintf(l->out,
		        "%s:%u: the catch-all '*' never answers robots.txt, "
		        "favicon.ico or .well-known/ (reserved paths)\n",
		        l->source, r->line);
	else if (r->kind != REDIRECT_PATTERN && match_reserved(r->alias, n))
		fprintf(l->out,
		        "%s:%u: alias '%s' would shadow the reserved path "
		        "'%.*s'; sherve never answers it with a redirect\n",
		        l->source, r->line, r->alias, (int)n, r->alias);
}

/*
 * A target on another host (not of hostnames, no section of the map)
 * that a rule of the same map answers: a loop if that host is this
 * sherve after all (match_resolve() says which rule, as for a request).
 */
static void
check_loop(const struct lint *l, const struct redirect_map *m,
           const struct chain_opts *o, const struct redirect *r)
{
	char host[LOCATION_HOST_MAX + 1], path[REDIRECT_URL_MAX + 1];
	struct redirects_view v;
	struct match_source src;
	struct match_request rq = { path, 0, 0, NULL, NULL, 0 };
	struct match_result res;

	if (chain_target(m, o, r->url, r->host, host, path, sizeof(path),
	                 &rq) != 0 ||
	    rq.len == 0)
		return;
	redirects_view(m, UINT_MAX, ~0u, &v, &src);
	if (match_resolve(&src, &rq, &res) != SH_OK)
		return;
	if (res.rule.kind == REDIRECT_EXACT)
		fprintf(l->out,
		        "%s:%u: target of '%s' is the alias '%.*s' (a loop if "
		        "that host is served by this sherve)\n",
		        l->source, r->line, r->alias, (int)res.rule.klen,
		        res.rule.key);
	else
		fprintf(l->out,
		        "%s:%u: target of '%s' falls under the %s rule "
		        "'%.*s%s' (a loop if that host is served by this "
		        "sherve, unless a file in the webroot answers '%s')\n",
		        l->source, r->line, r->alias,
		        res.rule.kind == REDIRECT_PREFIX ? "prefix" : "pattern",
		        (int)res.rule.klen, res.rule.key,
		        res.rule.kind != REDIRECT_PREFIX ? ""
		        : res.rule.klen > 0              ? "/*"
		                                         : "*",
		        path);
}

/*
 * Chains and loops through the site's own requests (chain.h); a loop
 * makes refresh and import refuse the map. Rules whose target is on
 * another host get check_loop()'s warning instead.
 */
static void
check_chains(struct lint *l, const struct redirect_map *m,
             const struct chain_opts *o, const struct redirect *r)
{
	char path[512], hint[160];
	struct chain ch;
	enum chain_kind k = chain_follow(m, o, r, &ch);

	if (k == CHAIN_NONE) {
		check_loop(l, m, o, r);
		return;
	}
	chain_format(&ch, k, path, sizeof(path));
	if (k == CHAIN_LOOP) {
		l->loops++;
		chain_hint(&ch, hint, sizeof(hint));
		fprintf(l->out,
		        "%s:%u: a redirect loop: %s%s (a refresh or import "
		        "refuses the map)\n",
		        l->source, r->line, path, hint);
	} else {
		fprintf(l->out,
		        "%s:%u: a chain: %s (one redirect would do: sherve "
		        "check --resolve-chains)\n",
		        l->source, r->line, path);
	}
}

/* ---- expiry ---- */

#define SOON (7 * 86400) /* "expiring soon": within a week */

/* The rules past their expiry (410 now) and those within SOON of it. */
static void
check_expiry(const struct lint *l, const struct redirect_map *m, time_t now)
{
	char when[32];
	struct tm tm;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];
		time_t t = (time_t)r->expires;

		if (r->expires == 0 || r->expires > (uint64_t)now + SOON ||
		    gmtime_r(&t, &tm) == NULL)
			continue;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (r->expires <= (uint64_t)now)
			fprintf(l->out,
			        "%s:%u: '%s' expired at %s: it answers 410 "
			        "Gone\n",
			        l->source, r->line, r->alias, when);
		else
			fprintf(l->out,
			        "%s:%u: '%s' expires at %s, in %llu hours\n",
			        l->source, r->line, r->alias, when,
			        (unsigned long long)(r->expires -
			                             (uint64_t)now + 3599) /
			                3600);
	}
}

/* ---- what sherve lacks ---- */

/* The rule lines of buf: neither blank, nor a comment, nor "@host". */
static unsigned
rule_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	unsigned n = 0;

	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		while (p < end && strchr(" \t\r\xef\xbb\xbf", *p) != NULL &&
		       *p != '\0')
			p++;
		if (p < end && *p != '\n' && *p != '#' &&
		    !((size_t)(end - p) >= 5 && memcmp(p, "@host", 5) == 0))
			n++;
	}
	return n;
}

/* "12 of 240 lines need features sherve does not have: ..." */
static void
check_lacks(const struct lint *l, const char *buf, size_t len)
{
	unsigned n = l->proxies + l->conditions;

	if (n == 0)
		return;
	fprintf(l->out,
	        "%s: %u of %u lines need features sherve does not have:",
	        l->source, n, rule_lines(buf, len));
	if (l->proxies > 0)
		fprintf(l->out, " %u prox%s%s", l->proxies,
		        l->proxies == 1 ? "y" : "ies",
		        l->conditions > 0 ? "," : "");
	if (l->conditions > 0)
		fprintf(l->out, " %u condition%s", l->conditions,
		        l->conditions == 1 ? "" : "s");
	fprintf(l->out, " (a redirect responder proxies nothing and sees no "
	                "visitor's country, language, role or cookies)\n");
}

/* ---- --resolve-chains ---- */

/*
 * The map on stdout, in the format it was read in, with each chain's
 * first target replaced by the target it ends on (its status kept).
 * Returns 0, or -1 (out of memory, a write failed).
 */
static int
resolve_chains(const struct conf *c, const struct redirect_map *m,
               const struct chain_opts *o)
{
	struct listing l;
	struct chain ch;
	char **own; /* strings made here: prefix keys, chains' ends */
	size_t i, n = 0;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.flags = m->flags;
	l.redirect_status = c->redirect_status;
	if ((own = calloc(2 * m->n + 1, sizeof(*own))) == NULL)
		return -1;
	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];
		struct listing_rule e = { r->host ? r->host : "",
			                  r->alias,
			                  r->query ? r->query : "",
			                  r->url,
			                  r->kind,
			                  r->status,
			                  r->flags,
			                  r->line,
			                  r->expires };

		if (r->kind == REDIRECT_PREFIX &&
		    (e.alias = own[n++] =
		             strndup(r->alias, redirect_key_len(r))) == NULL)
			goto out;
		if (chain_follow(m, o, r, &ch) == CHAIN_CHAIN &&
		    (e.url = own[n++] = strdup(ch.target)) == NULL)
			goto out;
		if (listing_add(&l, &e) != SH_OK)
			goto out;
	}
	rc = listing_write(stdout, &l,
	                   (m->flags & MATCH_ORDERED) ? LISTING_REDIRECTS
	                                              : LISTING_GOSHERVE);
out:
	while (n > 0)
		free(own[--n]);
	free(own);
	listing_free(&l);
	return rc;
}

/* ---- the whole check ---- */

static void
check_rules(const struct conf *c, struct lint *l, const struct redirect_map *m,
            const struct chain_opts *o)
{
	struct webroot w = { 0 };
	size_t i;

	for (i = 0; i < m->n; i++) {
		check_shadow(c, &w, l, &m->v[i]);
		check_reserved(l, &m->v[i]);
		check_chains(l, m, o, &m->v[i]);
	}
	check_expiry(l, m, time(NULL));
	webroot_close(&w);
}

int
check_redirects(const struct conf *c, struct store *s, const char *source,
                const char *buf, size_t len)
{
	struct redirect_map m = { 0 };
	struct lint l = { c->resolve_chains ? stderr : stdout, source, 0, 0,
		          0 };
	struct chain_files files;
	struct chain_opts o;
	struct redirects_opts po;
	int bad = -1;

	refresh_parse_opts(c, source, &po);
	chain_opts_of(c, &files, &o);
	if (redirects_parse_opts(buf, len, &po, &m, on_warn, &l) != SH_OK)
		goto out;
	check_rules(c, &l, &m, &o);
	fprintf(l.out, "%s: %zu aliases, %u invalid lines, %u duplicates\n",
	        source, m.n, m.invalid, m.duplicates);
	check_lacks(&l, buf, len);
	if (s != NULL)
		mapdiff_print(l.out, s, &m);
	if (c->resolve_chains && resolve_chains(c, &m, &o) != 0)
		goto out;
	bad = (int)(m.invalid + l.loops);
out:
	chain_files_close(&files);
	redirects_free(&m);
	return bad;
}
