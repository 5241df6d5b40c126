/* chain.c - chains and loops across a redirect map; see chain.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "chain.h"
#include "location.h"
#include "match.h"
#include "path.h"
#include "redirects.h"
#include "url.h"
#include "util.h"

/* 1 if host (normalised) is one of o->hostnames. */
static int
named(const struct chain_opts *o, const char *host)
{
	char h[LOCATION_HOST_MAX + 1];
	const char *p = o->hostnames != NULL ? o->hostnames : "";
	size_t n;

	while (*p != '\0') {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n > 0 && location_host(p, n, h, sizeof(h)) > 0 &&
		    strcmp(h, host) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* The query of url (after '?', before '#') into q; NULL if none. */
static const char *
url_query(const char *url, char *q, size_t qsz)
{
	const char *p = strchr(url, '?');
	size_t n;

	if (p == NULL)
		return NULL;
	n = strcspn(p + 1, "#");
	if (n >= qsz)
		return NULL;
	memcpy(q, p + 1, n);
	q[n] = '\0';
	return q;
}

int
chain_target(const struct redirect_map *m, const struct chain_opts *o,
             const char *url, const char *cur_host,
             char host[LOCATION_HOST_MAX + 1], char *rel, size_t relsz,
             struct match_request *rq)
{
	const char *p = url;
	struct url_parts u;
	int own = 1;

	host[0] = '\0';
	if (url[0] == '/' && url[1] != '/' && url[1] != '\\') {
		if (cur_host != NULL)
			str_copy(host, cur_host, LOCATION_HOST_MAX + 1);
	} else if (url_split(url, strlen(url), &u)) {
		if (location_host(u.host, u.hostlen, host,
		                  LOCATION_HOST_MAX + 1) < 0)
			return -1;
		own = named(o, host) || redirects_has_section(m, host);
		p = u.path;
	} else {
		return -1;
	}
	if (path_normalise(*p == '/' ? p : "/", "", rel, relsz, &rq->slash) !=
	    PATH_OK)
		return -1;
	rq->path = rel;
	rq->len = strlen(rel);
	rq->host = host[0] != '\0' ? host : NULL;
	return own;
}

/* 1 if the target of r depends on the request (a splat, a placeholder). */
static int
depends(const struct redirect *r)
{
	return r->kind != REDIRECT_EXACT &&
	       match_placeholder(r->url, NULL) != NULL;
}

static int
is_redirect(unsigned status, const struct chain_opts *o)
{
	if (status == 0)
		status = o->redirect_status;
	return status >= 300 && status < 400;
}

/* 1 if rule t is one of the hops of c already. */
static int
passed(const struct chain *c, const struct redirect *t)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->hop[i] == t)
			return 1;
	return 0;
}

/*
 * A relative Location answered to a request for URL from (absolute):
 * the same path on from's scheme and authority, into out. A chain's end
 * must say the host a path is on when the chain changed hosts.
 */
static void
absolute(const char *from, const char *loc, char *out, size_t outsz)
{
	struct url_parts u;
	size_t n;

	if (loc[0] != '/' || loc[1] == '/' ||
	    !url_split(from, strlen(from), &u)) {
		str_copy(out, loc, outsz);
		return;
	}
	n = (size_t)(u.host + u.hostlen - from);
	if (n + strlen(loc) >= outsz) {
		str_copy(out, loc, outsz);
		return;
	}
	memcpy(out, from, n);
	str_copy(out + n, loc, outsz - n);
}

/*
 * One hop: the rule that answers the request c->target makes, and the
 * Location it answers with into c->target. Returns the rule, or NULL
 * where the chain ends.
 */
static const struct redirect *
hop(const struct redirect_map *m, const struct chain_opts *o,
    const struct match_source *src, struct chain *c)
{
	char host[LOCATION_HOST_MAX + 1], rel[REDIRECT_URL_MAX + 1];
	char q[REDIRECT_URL_MAX + 1], next[REDIRECT_URL_MAX + 1];
	char abs[REDIRECT_URL_MAX + 1];
	struct match_request rq = { rel, 0, 0, NULL, NULL, o->now };
	struct match_result res;
	const struct redirect *t;

	if (chain_target(m, o, c->target, c->host[0] ? c->host : NULL, host,
	                 rel, sizeof(rel), &rq) != 1)
		return NULL;
	rq.query = url_query(c->target, q, sizeof(q));
	if (match_resolve(src, &rq, &res) != SH_OK || res.gone ||
	    !is_redirect(res.rule.status, o) || res.rule.rec == NULL)
		return NULL;
	t = res.rule.rec;
	if (o->is_file != NULL && !(t->flags & MATCH_FORCE) &&
	    o->is_file(o->ctx, rel, rq.slash))
		return NULL;
	str_copy(c->via, rel, sizeof(c->via));
	c->via_slash = rq.slash && rel[0] != '\0';
	c->via_file = !(t->flags & MATCH_FORCE);
	if (location_build(t->url, &res,
	                   o->merge_query && res.rule.qlen == 0 &&
	                                   !(m->flags & MATCH_CLOUDFLARE)
	                           ? rq.query
	                           : NULL,
	                   next, sizeof(next)) < 0)
		return NULL;
	absolute(c->target, next, abs, sizeof(abs));
	str_copy(c->target, abs, sizeof(c->target));
	str_copy(c->host, host, sizeof(c->host));
	return t;
}

enum chain_kind
chain_follow(const struct redirect_map *m, const struct chain_opts *o,
             const struct redirect *start, struct chain *c)
{
	struct redirects_view v;
	struct match_source src;
	const struct redirect *t;

	memset(c, 0, sizeof(*c));
	c->mapflags = m->flags;
	c->hop[0] = start;
	c->n = 1;
	c->status = start->status != 0 ? start->status : o->redirect_status;
	str_copy(c->target, start->url, sizeof(c->target));
	if (start->host != NULL) /* a host rule: its requests are on it */
		str_copy(c->host, start->host, sizeof(c->host));
	if (!is_redirect(start->status, o) || start->url[0] == '\0' ||
	    depends(start))
		return CHAIN_NONE;
	redirects_view(m, ~0u, ~0u, &v, &src);
	while ((t = hop(m, o, &src, c)) != NULL) {
		if (passed(c, t) || c->n == CHAIN_MAX) {
			c->hop[c->n++] = t;
			return CHAIN_LOOP;
		}
		c->hop[c->n++] = t;
	}
	return c->n > 1 ? CHAIN_CHAIN : CHAIN_NONE;
}

/*
 * Rule r as its map writes it: a "_redirects" from path ("/a",
 * "https://host/a", a prefix with its star), or a gosherve alias ("a";
 * a host rule's with its host, as a URL).
 */
static int
rule_name(const struct redirect *r, unsigned mapflags, char *out, size_t n)
{
	size_t klen = redirect_key_len(r);
	int ordered = (mapflags & MATCH_ORDERED) != 0;
	const char *tail = r->kind != REDIRECT_PREFIX ? ""
	                   : klen > 0                 ? "/*"
	                                              : "*";

	if (ordered && strcmp(r->alias, "/") == 0)
		klen = 0;
	return snprintf(out, n, "%s%s%s%.*s%s", r->host ? "https://" : "",
	                r->host ? r->host : "", r->host || ordered ? "/" : "",
	                (int)klen, r->alias, tail);
}

void
chain_format(const struct chain *c, enum chain_kind k, char *out, size_t outsz)
{
	size_t i, n = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < c->n && n < outsz; i++) {
		if (i > 0)
			n += (size_t)snprintf(out + n, outsz - n, " -> ");
		if (n >= outsz)
			break;
		w = rule_name(c->hop[i], c->mapflags, out + n, outsz - n);
		n += w > 0 ? (size_t)w : 0;
	}
	if (k != CHAIN_LOOP && n < outsz)
		snprintf(out + n, outsz - n, " -> %s", c->target);
	if (strlen(out) + 1 >= outsz && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

int
chain_is_file(void *ctx, const char *rel, int slash)
{
	struct chain_files *f = ctx;
	struct asset a;
	int root;

	if (f->webroot == NULL || f->webroot[0] == '\0' ||
	    (root = webroot_fd(&f->w, f->webroot)) < 0 ||
	    asset_open(root, rel, slash, &a) != ASSET_OK)
		return 0;
	asset_close(&a);
	return 1;
}

void
chain_opts_of(const struct conf *c, struct chain_files *f, struct chain_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->webroot = c->webroot;
	memset(o, 0, sizeof(*o));
	o->hostnames = c->hostnames;
	o->is_file = chain_is_file;
	o->ctx = f;
	o->redirect_status = c->redirect_status;
	o->merge_query = c->forward_query == FORWARD_MERGE;
	o->now = (uint64_t)time(NULL);
}

void
chain_files_close(struct chain_files *f)
{
	webroot_close(&f->w);
}

void
chain_hint(const struct chain *c, char *out, size_t outsz)
{
	if (outsz == 0)
		return;
	out[0] = '\0';
	if (c->via_file && c->via[0] != '\0')
		snprintf(out, outsz,
		         " (no file of the webroot answers /%s%s first)",
		         c->via, c->via_slash ? "/" : "");
}
