/* match.c - which rule answers a request; see match.h. */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "redirects.h"
#include "util.h"

static int
ieq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

int
match_reserved(const char *path, size_t len)
{
	static const char wk[] = ".well-known/";

	return ieq(path, len, "robots.txt") || ieq(path, len, "favicon.ico") ||
	       ieq(path, len, ".well-known") ||
	       (len > sizeof(wk) - 1 &&
	        strncasecmp(path, wk, sizeof(wk) - 1) == 0);
}

/* ---- patterns ---- */

/* The request path as a pattern reads it; see path_at(). */
struct subject {
	const char *p;
	size_t len;  /* the path's own bytes */
	size_t vlen; /* len, plus a trailing '/' Cloudflare matches too */
};

/* Byte i of the subject; the virtual trailing '/' past the path. */
static char
path_at(const struct subject *s, size_t i)
{
	return i < s->len ? s->p[i] : '/';
}

size_t
match_name_len(const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || !((p[0] >= 'a' && p[0] <= 'z') ||
	                (p[0] >= 'A' && p[0] <= 'Z') || p[0] == '_'))
		return 0;
	while (i < n &&
	       ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
	        (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
		i++;
	return i;
}

const char *
match_placeholder(const char *s, const char *skip)
{
	size_t n, sl = skip != NULL ? strlen(skip) : 0;

	for (s = strchr(s, ':'); s != NULL; s = strchr(s + 1, ':')) {
		n = match_name_len(s + 1, strlen(s + 1));
		if (n > 0 && !(n == sl && memcmp(s + 1, skip, n) == 0))
			return s;
	}
	return NULL;
}

/* Length of the ":name" at p (n bytes left), ':' included; 0 if none. */
static size_t
placeholder_len(const char *p, size_t n)
{
	size_t nl;

	if (n < 2 || p[0] != ':' || (nl = match_name_len(p + 1, n - 1)) == 0)
		return 0;
	return nl + 1;
}

/* Record a capture in m; 0, or -1 when m is full. */
static int
capture(struct match_result *m, const char *name, size_t nlen, const char *val,
        size_t vlen, int from_query)
{
	size_t used = m->ncap > 0 ? m->cap[m->ncap - 1].name +
	                                    m->cap[m->ncap - 1].nlen
	                          : 0;

	if (m->ncap == MATCH_CAPS || used + nlen > sizeof(m->names))
		return -1;
	memcpy(m->names + used, name, nlen);
	m->cap[m->ncap].name = used;
	m->cap[m->ncap].nlen = nlen;
	m->cap[m->ncap].val = val;
	m->cap[m->ncap].vlen = vlen;
	m->cap[m->ncap].from_query = from_query;
	m->ncap++;
	return 0;
}

/*
 * Match pattern bytes pat[0, n) against the subject from *xi: literal
 * bytes one for one, a ":name" segment against one whole segment.
 * Advances *xi; returns 0 on a match, -1 otherwise.
 */
static int
match_front(const char *pat, size_t n, const struct subject *s, size_t *xi,
            struct match_result *m)
{
	size_t i = 0, pl, e;

	while (i < n) {
		if ((i == 0 || pat[i - 1] == '/') &&
		    (pl = placeholder_len(pat + i, n - i)) > 0) {
			for (e = *xi; e < s->vlen && path_at(s, e) != '/'; e++)
				;
			if (e == *xi || e > s->len ||
			    capture(m, pat + i + 1, pl - 1, s->p + *xi, e - *xi,
			            0) != 0)
				return -1;
			*xi = e;
			i += pl;
			continue;
		}
		if (*xi >= s->vlen || path_at(s, *xi) != pat[i])
			return -1;
		(*xi)++;
		i++;
	}
	return 0;
}

/* The value of query parameter name (nlen bytes) in q; NULL if absent. */
static const char *
query_param(const char *q, const char *name, size_t nlen, size_t *vlen)
{
	while (q != NULL && *q != '\0') {
		size_t plen = strcspn(q, "&"), kl = strcspn(q, "=&");

		if (kl == nlen && memcmp(q, name, nlen) == 0) {
			*vlen = kl < plen ? plen - kl - 1 : 0;
			return kl < plen ? q + kl + 1 : q + kl;
		}
		q += plen + (q[plen] == '&');
	}
	return NULL;
}

/* Each "name=:x", "name=value" or "name" condition of r holds in rq. */
static int
match_query(const struct match_rule *r, const struct match_request *rq,
            struct match_result *m)
{
	const char *c = r->query, *end, *v;
	size_t vlen;

	if (r->qlen == 0)
		return 1;
	for (end = c + r->qlen; c < end;) {
		const char *amp = memchr(c, '&', (size_t)(end - c));
		size_t cl = amp != NULL ? (size_t)(amp - c) : (size_t)(end - c);
		const char *eq = memchr(c, '=', cl);
		size_t nl = eq != NULL ? (size_t)(eq - c) : cl;
		size_t wl = eq != NULL ? cl - nl - 1 : 0;

		if ((v = query_param(rq->query, c, nl, &vlen)) == NULL)
			return 0;
		if (eq != NULL && wl > 0 && eq[1] == ':') {
			if (vlen == 0 ||
			    capture(m, eq + 2, wl - 1, v, vlen, 1) != 0)
				return 0;
		} else if (eq != NULL &&
		           (wl != vlen || memcmp(eq + 1, v, wl))) {
			return 0;
		}
		c += cl + 1;
	}
	return 1;
}

/*
 * 1 if the subject ends in back (bl bytes) and, when want_slash, a '/'
 * after it, with all of that at or after xi.
 */
static int
tail_matches(const char *back, size_t bl, int want_slash,
             const struct subject *s, size_t xi)
{
	size_t ebl = bl + (want_slash != 0), k;

	if (s->vlen - xi < ebl)
		return 0;
	for (k = 0; k < ebl; k++)
		if (path_at(s, s->vlen - ebl + k) != (k < bl ? back[k] : '/'))
			return 0;
	return 1;
}

/*
 * The path part of a pattern: front (up to the '*'), splat, back (after
 * it, literal). Netlify aliases "/a" and "/a/", and reads "a/\*" as also
 * taking "a" itself (an empty splat), as a prefix rule does; Cloudflare
 * matches the request's trailing '/' as a byte of the path, against the
 * from path's own.
 */
static int
match_path(const struct match_rule *r, unsigned flags,
           const struct match_request *rq, struct match_result *m)
{
	const char *star = memchr(r->key, '*', r->klen);
	size_t fl = star != NULL ? (size_t)(star - r->key) : r->klen;
	size_t bl = star != NULL ? r->klen - fl - 1 : 0, xi = 0, ebl;
	int cf = (flags & MATCH_CLOUDFLARE) != 0;
	int want_slash = cf && (r->flags & MATCH_SLASH) != 0;
	struct subject s = { rq->path, rq->len,
		             rq->len + (cf && rq->slash && rq->len > 0) };

	if (star == NULL)
		return match_front(r->key, fl, &s, &xi, m) == 0 &&
		       tail_matches("", 0, want_slash, &s, xi) &&
		       xi + (want_slash != 0) == s.vlen;
	if (!cf && bl == 0 && fl > 0 && r->key[fl - 1] == '/' &&
	    match_front(r->key, fl - 1, &s, &xi, m) == 0 && xi == s.len) {
		m->splat = rq->path + xi;
		return 1; /* "a/\*" taking "a" */
	}
	m->ncap = 0;
	xi = 0;
	if (match_front(r->key, fl, &s, &xi, m) != 0 ||
	    !tail_matches(r->key + fl + 1, bl, want_slash, &s, xi))
		return 0;
	ebl = bl + (want_slash != 0);
	m->splat = rq->path + (xi < s.len ? xi : s.len);
	m->splen = s.vlen - ebl - xi;
	if (ebl == 0 && s.vlen > s.len && m->splen > 0) {
		m->splen--; /* the request's '/' */
		m->splat_slash = 1;
	} else if (!cf && bl == 0 && rq->slash && m->splen > 0) {
		m->splat_slash = 1;
	}
	return 1;
}

int
match_pattern(const struct match_rule *r, unsigned flags,
              const struct match_request *rq, struct match_result *m)
{
	m->ncap = 0;
	m->splat = NULL;
	m->splen = 0;
	m->splat_slash = 0;
	if (!match_path(r, flags, rq, m) || !match_query(r, rq, m)) {
		m->ncap = 0;
		m->splat = NULL;
		return 0;
	}
	m->rule = *r;
	m->alias_len = rq->len;
	return 1;
}

/* ---- exact rules, prefix rules, sections ---- */

_Static_assert(MATCH_KEY_MAX >= REDIRECT_ALIAS_MAX + 2,
               "an exact rule's key is built in match_result.key");

/*
 * The exact rule of section host for rq: its key is the path, "/" for the
 * root, and on Cloudflare the path with the request's trailing '/' (a
 * from path ending in '/' is another rule there).
 */
static int
find_exact(const struct match_source *src, const char *host, size_t hlen,
           const struct match_request *rq, struct match_result *m)
{
	/* The result's own buffer: the rule found may keep pointing at it. */
	char *key = m->key;
	size_t kl = rq->len;
	int rc;

	if (rq->len == 0) {
		key[0] = '/';
		kl = 1;
	} else if (rq->len > REDIRECT_ALIAS_MAX) {
		return SH_ENOTFOUND;
	} else {
		memcpy(key, rq->path, rq->len);
		if ((src->flags & MATCH_CLOUDFLARE) && rq->slash)
			key[kl++] = '/';
	}
	rc = src->rule(src->ctx, host, hlen, REDIRECT_EXACT, key, kl, &m->rule);
	if (rc == SH_OK)
		m->alias_len = rq->len;
	return rc;
}

/*
 * The longest prefix rule of section host that takes rq: one lookup per
 * segment boundary, deepest first, never deeper than the section's
 * deepest prefix (depth - 1 segments). On Cloudflare "a/\*" needs "a/".
 */
static int
find_prefix(const struct match_source *src, const char *host, size_t hlen,
            unsigned depth, const struct match_request *rq,
            struct match_result *m)
{
	size_t cut[REDIRECT_DEPTH_MAX + 2], nc = 0, i, c;
	int rc;

	if (depth > REDIRECT_DEPTH_MAX + 1)
		depth = REDIRECT_DEPTH_MAX + 1;
	cut[nc++] = 0; /* the catch-all */
	for (i = 0; i <= rq->len && nc < depth; i++)
		if (i == rq->len || rq->path[i] == '/')
			cut[nc++] = i;
	while (nc-- > 0) {
		c = cut[nc];
		if (c > 0 && c == rq->len && !rq->slash &&
		    (src->flags & MATCH_CLOUDFLARE))
			continue;
		rc = src->rule(src->ctx, host, hlen, REDIRECT_PREFIX, rq->path,
		               c, &m->rule);
		if (rc == SH_ENOTFOUND)
			continue;
		if (rc != SH_OK)
			return rc;
		m->alias_len = c;
		m->splat = rq->path + c + (c > 0 && c < rq->len);
		m->splen = rq->len - (size_t)(m->splat - rq->path);
		/* "_redirects" splats keep the request's trailing '/', as
		 * Netlify and Cloudflare send it; sherve's own prefix rules
		 * never did. */
		m->splat_slash = rq->slash && m->splen > 0 &&
		                 (src->flags & MATCH_ORDERED) != 0;
		return SH_OK;
	}
	return SH_ENOTFOUND;
}

/* Exact, then longest prefix, in one section; hlen 0 is the default. */
static int
find_in(const struct match_source *src, const char *host, size_t hlen,
        const struct match_request *rq, struct match_result *m)
{
	unsigned depth = src->depth;
	int rc;

	if (hlen > 0 &&
	    (rc = src->section(src->ctx, host, hlen, &depth)) != SH_OK)
		return rc;
	m->host = hlen > 0;
	if ((rc = find_exact(src, host, hlen, rq, m)) != SH_ENOTFOUND)
		return rc;
	if (depth == 0 || rq->len == 0)
		return SH_ENOTFOUND;
	return find_prefix(src, host, hlen, depth, rq, m);
}

/*
 * A host rule of a first-match map that an earlier default rule may take
 * (MATCH_YIELD): the default section's candidate answers instead when its
 * line comes first. Returns SH_OK (m holds the answer) or an error.
 */
static int
yield_to_default(const struct match_source *src, const struct match_request *rq,
                 struct match_result *m)
{
	struct match_result d;
	int rc;

	memset(&d, 0, sizeof(d)); /* all of it is copied into m */
	rc = find_in(src, "", 0, rq, &d);
	if (rc == SH_ENOTFOUND)
		return SH_OK;
	if (rc != SH_OK)
		return rc;
	if (d.rule.line < m->rule.line) {
		d.mapflags = src->flags;
		*m = d;
		if (d.rule.key == d.key) /* an exact rule's: now m's copy */
			m->rule.key = m->key;
	}
	return SH_OK;
}

/* ---- the pattern walk ---- */

struct walk {
	const struct match_source *src;
	const struct match_request *rq;
	struct match_result try;
	int found;
};

static int
walk_one(void *arg, const struct match_rule *r)
{
	struct walk *w = arg;

	if (!match_pattern(r, w->src->flags, w->rq, &w->try))
		return 0;
	w->found = 1;
	return 1;
}

/*
 * The first pattern rule, host section then default, whose line is below
 * m's (any line when m holds no rule yet); it replaces m's rule.
 */
static int
walk_patterns(const struct match_source *src, const struct match_request *rq,
              int have, struct match_result *m)
{
	struct walk w;
	unsigned below = have ? m->rule.line : UINT_MAX;
	size_t hlen = rq->host != NULL ? strlen(rq->host) : 0;
	int rc, sect;

	memset(&w, 0, sizeof(w));
	w.src = src;
	w.rq = rq;
	for (sect = hlen > 0 && src->hosts > 0 ? 0 : 1; sect < 2; sect++) {
		w.found = 0;
		rc = src->patterns(src->ctx, sect == 0 ? rq->host : "",
		                   sect == 0 ? hlen : 0, below, walk_one, &w);
		if (rc != SH_OK && rc != SH_ENOTFOUND)
			return rc;
		if (!w.found)
			continue;
		w.try.host = sect == 0;
		w.try.mapflags = src->flags;
		*m = w.try;
		have = 1;
		below = m->rule.line;
	}
	return have ? SH_OK : SH_ENOTFOUND;
}

int
match_resolve(const struct match_source *src, const struct match_request *rq,
              struct match_result *m)
{
	size_t hlen = rq->host != NULL ? strlen(rq->host) : 0;
	int rc = SH_ENOTFOUND, have;

	memset(m, 0, sizeof(*m));
	m->mapflags = src->flags;
	if (match_reserved(rq->path, rq->len))
		return SH_ENOTFOUND;
	if (hlen > 0 && src->hosts > 0) {
		rc = find_in(src, rq->host, hlen, rq, m);
		if (rc != SH_OK && rc != SH_ENOTFOUND)
			return rc;
		if (rc == SH_ENOTFOUND) {
			memset(m, 0, sizeof(*m));
			m->mapflags = src->flags;
		}
	}
	if (rc == SH_OK && (m->rule.flags & MATCH_YIELD))
		rc = yield_to_default(src, rq, m);
	if (rc == SH_ENOTFOUND) {
		rc = find_in(src, "", 0, rq, m);
		if (rc != SH_OK && rc != SH_ENOTFOUND)
			return rc;
	}
	have = rc == SH_OK;
	if (src->npattern > 0 && src->patterns != NULL &&
	    (!have || (m->rule.flags & MATCH_SCAN)))
		rc = walk_patterns(src, rq, have, m);
	if (rc == SH_OK && m->rule.expires != 0 && rq->now >= m->rule.expires)
		m->gone = 1;
	return rc;
}

/* ---- the order for first-match servers ---- */

int
match_order(const char *ahost, unsigned akind, const char *akey,
            const char *bhost, unsigned bkind, const char *bkey)
{
	size_t la = strlen(akey), lb = strlen(bkey);
	int c;

	if ((ahost[0] == '\0') != (bhost[0] == '\0'))
		return ahost[0] == '\0' ? 1 : -1;
	if ((c = strcmp(ahost, bhost)) != 0)
		return c;
	if (akind != bkind)
		return akind < bkind ? -1 : 1;
	if (akind == REDIRECT_PREFIX && la != lb)
		return la > lb ? -1 : 1;
	/* Case variants side by side: nginx map strings ignore case. */
	if ((c = strcasecmp(akey, bkey)) != 0)
		return c;
	return strcmp(akey, bkey);
}
