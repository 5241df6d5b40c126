/* check.c - the redirects linter behind `sherve check`; see check.h. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "check.h"
#include "path.h"
#include "redirects.h"
#include "refresh.h"
#include "location.h"
#include "match.h"
#include "util.h"
#include "webroot.h"

struct lint {
	const char *source;
	unsigned problems;
	unsigned proxies, conditions; /* lines that need what sherve lacks */
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct lint *l = ctx;

	printf("%s:%u: %s\n", l->source, line, reason);
	switch (redirects_lack_of(reason)) {
	case REDIRECTS_LACK_PROXY: l->proxies++; break;
	case REDIRECTS_LACK_CONDITION: l->conditions++; break;
	case REDIRECTS_LACK_NONE: break;
	}
}

/* " (@host NAME)" for a rule of a host section, else "". */
static void
section_of(const char *host, size_t hlen, char *out, size_t outsz)
{
	if (hlen == 0)
		out[0] = '\0';
	else
		snprintf(out, outsz, " (@host %.*s)", (int)hlen, host);
}

static void
check_shadow(const struct conf *c, struct webroot *w, const struct lint *l,
             const struct redirect *r)
{
	char uri[REDIRECT_ALIAS_MAX + 2], rel[ASSET_PATH_MAX];
	size_t n = redirect_key_len(r);
	struct asset a;
	int slash, root;

	if (c->webroot[0] == '\0' || n == 0)
		return;
	snprintf(uri, sizeof(uri), "/%.*s", (int)n, r->alias);
	if (path_normalise(uri, "", rel, sizeof(rel), &slash) == PATH_OK &&
	    (root = webroot_fd(w, c->webroot)) >= 0 &&
	    asset_open(root, rel, 0, &a) == ASSET_OK) {
		printf("%s:%u: alias '%s' is shadowed by the asset %s\n",
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
		printf("%s:%u: the catch-all '*' never answers robots.txt, "
		       "favicon.ico or .well-known/ (reserved paths)\n",
		       l->source, r->line);
	else if (match_reserved(r->alias, n))
		printf("%s:%u: alias '%s' would shadow the reserved path "
		       "'%.*s'; sherve never answers it with a redirect\n",
		       l->source, r->line, r->alias, (int)n, r->alias);
}

/*
 * The request a target would make: host (of an absolute URL, "" for a
 * path) and path, normalised as a request's (one percent-decoding, dot
 * segments; path.h). Returns 0, or -1 when a request for it is refused.
 */
static int
target_request(const char *url, char *host, size_t hostsz, char *path,
               size_t pathsz, int *slash)
{
	const char *p = url;
	size_t h;

	host[0] = '\0';
	if (redirects_url_ok(url, strlen(url))) {
		p = strstr(url, "://") + 3;
		h = strcspn(p, "/?#");
		if (location_host(p, h, host, hostsz) < 0)
			return -1;
		p += h;
	}
	if (*p != '/' && *p != '\0')
		p = "/"; /* "https://h?q" asks for the root */
	return path_normalise(*p == '\0' ? "/" : p, "", path, pathsz, slash) ==
	                       PATH_OK
	               ? 0
	               : -1;
}

/* A target that a rule of the same map answers: a loop if that host is
 * this sherve (match_resolve() says which rule, as for a request). */
static void
check_loop(const struct lint *l, const struct redirect_map *m,
           const struct redirect *r)
{
	char host[LOCATION_HOST_MAX + 1], path[ASSET_PATH_MAX];
	struct redirects_view v;
	struct match_source src;
	struct match_request rq = { path, 0, 0, NULL, NULL, 0 };
	struct match_result res;
	int slash;

	if (target_request(r->url, host, sizeof(host), path, sizeof(path),
	                   &slash) != 0 ||
	    path[0] == '\0')
		return;
	rq.len = strlen(path);
	rq.slash = slash;
	rq.host = host[0] != '\0' ? host : NULL;
	redirects_view(m, UINT_MAX, ~0u, &v, &src);
	if (match_resolve(&src, &rq, &res) != SH_OK)
		return;
	if (res.rule.kind == REDIRECT_EXACT)
		printf("%s:%u: target of '%s' is the alias '%.*s' (a loop if "
		       "that host is served by this sherve)\n",
		       l->source, r->line, r->alias, (int)res.rule.klen,
		       res.rule.key);
	else
		printf("%s:%u: target of '%s' falls under the prefix rule "
		       "'%.*s%s' (a loop if that host is served by this "
		       "sherve, unless a file in the webroot answers '%s')\n",
		       l->source, r->line, r->alias, (int)res.rule.klen,
		       res.rule.key, res.rule.klen > 0 ? "/*" : "*", path);
}

/* ---- the diff against the stored map ---- */

/* A rule as both sides have it, for printing and comparing. */
static void
from_map(const struct redirect *r, struct store_rule *o)
{
	memset(o, 0, sizeof(*o));
	o->host = r->host != NULL ? r->host : "";
	o->hlen = strlen(o->host);
	o->kind = r->kind;
	o->status = r->status;
	o->flags = r->flags;
	o->line = r->line;
	o->expires = r->expires;
	o->alias = r->alias;
	o->alen = redirect_key_len(r);
	o->query = r->query != NULL ? r->query : "";
	o->qlen = strlen(o->query);
	o->url = r->url;
	o->ulen = strlen(r->url);
}

/* "alias URL [STATUS[!]] [expires=...] (@host NAME)" */
static void
print_rule(char sign, const struct store_rule *r, const char *old, size_t olen)
{
	char sect[LOCATION_HOST_MAX + 16], exp[48] = "";
	time_t t = (time_t)r->expires;
	struct tm tm;

	section_of(r->host, r->hlen, sect, sizeof(sect));
	if (r->expires != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(exp, sizeof(exp), " expires=%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%c %.*s%s%s%.*s", sign, (int)r->alen, r->alias,
	       r->kind != REDIRECT_PREFIX ? ""
	       : r->alen > 0              ? "/*"
	                                  : "*",
	       r->qlen > 0 ? " " : "", (int)r->qlen, r->query);
	if (old != NULL)
		printf(" %.*s ->", (int)olen, old);
	printf(" %.*s", (int)r->ulen, r->ulen > 0 ? r->url : "");
	if (r->status != 0)
		printf(" %u%s", r->status, (r->flags & MATCH_FORCE) ? "!" : "");
	printf("%s%s\n", exp, sect);
}

/* What a map means by a rule beyond its key: target, status, force,
 * expiry (MATCH_SCAN is derived, not said). */
static int
same_value(const struct store_rule *a, const struct store_rule *b)
{
	const unsigned said = MATCH_FORCE | MATCH_SLASH;

	return a->ulen == b->ulen && memcmp(a->url, b->url, a->ulen) == 0 &&
	       a->status == b->status && a->expires == b->expires &&
	       (a->flags & said) == (b->flags & said);
}

/* 1 if a and b are the same rule of the same section (a pattern: the
 * same from path and query conditions). */
static int
same_key(const struct store_rule *a, const struct store_rule *b)
{
	return a->kind == b->kind && a->hlen == b->hlen &&
	       memcmp(a->host, b->host, a->hlen) == 0 && a->alen == b->alen &&
	       memcmp(a->alias, b->alias, a->alen) == 0 && a->qlen == b->qlen &&
	       memcmp(a->query, b->query, a->qlen) == 0;
}

struct diff {
	const struct redirect_map *m;
	unsigned char *matched; /* per rule of m: found in the store */
	unsigned added, removed, changed;
};

/* The index in d->m of the rule with sr's key, unmatched so far, or -1:
 * a binary search for an exact or prefix rule, a scan of the pattern
 * rules (at most REDIRECT_PATTERNS_MAX) for a pattern. */
static long
find_same(const struct diff *d, const struct store_rule *sr)
{
	char host[LOCATION_HOST_MAX + 1];
	const struct redirect *r;
	struct store_rule nr;
	size_t i;

	if (sr->hlen >= sizeof(host))
		return -1;
	memcpy(host, sr->host, sr->hlen);
	host[sr->hlen] = '\0';
	if (sr->kind != REDIRECT_PATTERN) {
		r = redirects_find(d->m, sr->kind, sr->hlen > 0 ? host : NULL,
		                   sr->alias, sr->alen);
		return r != NULL ? (long)(r - d->m->v) : -1;
	}
	for (i = d->m->n; i-- > 0 && d->m->v[i].kind == REDIRECT_PATTERN;) {
		from_map(&d->m->v[i], &nr);
		if (!d->matched[i] && same_key(&nr, sr))
			return (long)i;
	}
	return -1;
}

/* A stored rule: the same rule of the new map, or a removed one. */
static int
on_stored(void *ctx, const struct store_rule *sr)
{
	struct diff *d = ctx;
	struct store_rule nr;
	long i = find_same(d, sr);

	if (i < 0) {
		print_rule('-', sr, NULL, 0);
		d->removed++;
		return 0;
	}
	d->matched[i] = 1;
	from_map(&d->m->v[i], &nr);
	if (!same_value(&nr, sr)) {
		print_rule('~', &nr, sr->url, sr->ulen);
		d->changed++;
	}
	return 0;
}

/* "+", "-" and "~" lines against the store, rules found by their key. */
static void
check_diff(struct store *s, const struct redirect_map *m)
{
	struct diff d = { m, NULL, 0, 0, 0 };
	struct store_rule nr;
	size_t i;

	if (m->n > 0 && (d.matched = calloc(m->n, 1)) == NULL) {
		printf("diff against the stored map: out of memory\n");
		return;
	}
	(void)store_foreach_rule(s, on_stored, &d);
	for (i = 0; i < m->n; i++) {
		if (d.matched[i])
			continue;
		from_map(&m->v[i], &nr);
		print_rule('+', &nr, NULL, 0);
		d.added++;
	}
	printf("diff against the stored map: %u added, %u removed, %u "
	       "changed\n",
	       d.added, d.removed, d.changed);
	free(d.matched);
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
			printf("%s:%u: '%s' expired at %s: it answers 410 "
			       "Gone\n",
			       l->source, r->line, r->alias, when);
		else
			printf("%s:%u: '%s' expires at %s, in %llu hours\n",
			       l->source, r->line, r->alias, when,
			       (unsigned long long)(r->expires - (uint64_t)now +
			                            3599) /
			               3600);
	}
}

/* ---- the whole check ---- */

/* The rule lines of buf: neither blank, nor a comment, nor "@host". */
static unsigned
rule_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	unsigned n = 0;

	for (; p < end; p = nl != NULL ? nl + 1 : end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p += strspn(p, " \t\r\xef\xbb\xbf");
		if (p < end && *p != '\n' && *p != '#' &&
		    strncmp(p, "@host", 5) != 0)
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
	printf("%s: %u of %u lines need features sherve does not have:",
	       l->source, n, rule_lines(buf, len));
	if (l->proxies > 0)
		printf(" %u prox%s%s", l->proxies,
		       l->proxies == 1 ? "y" : "ies",
		       l->conditions > 0 ? "," : "");
	if (l->conditions > 0)
		printf(" %u condition%s", l->conditions,
		       l->conditions == 1 ? "" : "s");
	printf(" (a redirect responder proxies nothing and sees no "
	       "visitor's country, language, role or cookies)\n");
}

int
check_redirects(const struct conf *c, struct store *s, const char *source,
                const char *buf, size_t len)
{
	struct redirect_map m = { 0 };
	struct lint l = { source, 0, 0, 0 };
	struct webroot w = { 0 };
	struct redirects_opts o;
	size_t i;
	int invalid;

	refresh_parse_opts(c, source, &o);
	if (redirects_parse_opts(buf, len, &o, &m, on_warn, &l) != SH_OK) {
		redirects_free(&m);
		return -1;
	}
	for (i = 0; i < m.n; i++) {
		check_shadow(c, &w, &l, &m.v[i]);
		check_reserved(&l, &m.v[i]);
		check_loop(&l, &m, &m.v[i]);
	}
	check_expiry(&l, &m, time(NULL));
	printf("%s: %zu aliases, %u invalid lines, %u duplicates\n", source,
	       m.n, m.invalid, m.duplicates);
	check_lacks(&l, buf, len);
	if (s != NULL)
		check_diff(s, &m);
	invalid = (int)m.invalid;
	webroot_close(&w);
	redirects_free(&m);
	return invalid;
}
