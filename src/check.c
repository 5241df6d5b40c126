/* check.c - the redirects linter behind `sherve check`; see check.h. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct lint *l = ctx;

	printf("%s:%u: %s\n", l->source, line, reason);
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

struct diff {
	const struct redirect_map *m;
	unsigned removed;
};

/* A stored rule the new map does not have. */
static int
on_stored(void *ctx, const struct store_rule *sr)
{
	struct diff *d = ctx;
	char host[LOCATION_HOST_MAX + 1], sect[LOCATION_HOST_MAX + 16],
	        st[16] = "";

	if (sr->hlen >= sizeof(host))
		return 0;
	memcpy(host, sr->host, sr->hlen);
	host[sr->hlen] = '\0';
	if (redirects_find(d->m, sr->kind, sr->hlen > 0 ? host : NULL,
	                   sr->alias, sr->alen) != NULL)
		return 0;
	section_of(sr->host, sr->hlen, sect, sizeof(sect));
	if (sr->status != 0)
		snprintf(st, sizeof(st), " %u", sr->status);
	printf("- %.*s%s %.*s%s%s\n", (int)sr->alen, sr->alias,
	       sr->kind != REDIRECT_PREFIX ? ""
	       : sr->alen > 0              ? "/*"
	                                   : "*",
	       (int)sr->ulen, sr->url, st, sect);
	d->removed++;
	return 0;
}

/* Print "+" or "~" for r against the store; returns 1 for each. */
static int
diff_one(struct store *s, const struct redirect *r, unsigned *changed)
{
	char old[REDIRECT_URL_MAX + 1], sect[LOCATION_HOST_MAX + 16],
	        st[16] = "";
	unsigned ost = 0;
	int rc = store_get_rule(s, r->host, r->kind, r->alias,
	                        redirect_key_len(r), &ost, old, sizeof(old));

	section_of(r->host, r->host != NULL ? strlen(r->host) : 0, sect,
	           sizeof(sect));
	if (r->status != 0)
		snprintf(st, sizeof(st), " %u", r->status);
	if (rc == SH_ENOTFOUND) {
		printf("+ %s %s%s%s\n", r->alias, r->url, st, sect);
		return 1;
	}
	if (rc == SH_OK && (strcmp(old, r->url) != 0 || ost != r->status)) {
		printf("~ %s %s -> %s%s%s\n", r->alias, old, r->url, st, sect);
		(*changed)++;
	}
	return 0;
}

static void
check_diff(struct store *s, const struct redirect_map *m)
{
	struct diff d = { m, 0 };
	unsigned added = 0, changed = 0;
	size_t i;

	for (i = 0; i < m->n; i++)
		added += (unsigned)diff_one(s, &m->v[i], &changed);
	(void)store_foreach_rule(s, on_stored, &d);
	printf("diff against the stored map: %u added, %u removed, %u "
	       "changed\n",
	       added, d.removed, changed);
}

int
check_redirects(const struct conf *c, struct store *s, const char *source,
                const char *buf, size_t len)
{
	struct redirect_map m = { 0 };
	struct lint l = { source, 0 };
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
	printf("%s: %zu aliases, %u invalid lines, %u duplicates\n", source,
	       m.n, m.invalid, m.duplicates);
	if (s != NULL)
		check_diff(s, &m);
	invalid = (int)m.invalid;
	webroot_close(&w);
	redirects_free(&m);
	return invalid;
}
