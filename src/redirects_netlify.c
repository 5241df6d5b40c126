/*
 * redirects_netlify.c - the "_redirects" format of Netlify and Cloudflare
 * Pages, and the first-match order its maps keep; see redirects.h and
 * sherve.redirects(5), which cites what each platform documents.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "location.h"
#include "match.h"
#include "path.h"
#include "redirects.h"
#include "redirects_int.h"
#include "url.h"
#include "util.h"

#define SHAPE "expected from to [status]"

/* 1 if s is a target: a path of the site or an absolute http(s) URL. */
static int
is_target(struct span s)
{
	return s.p[0] == '/' || url_split(s.p, s.n, NULL);
}

/* 1 if s is a 404 or 410 standing where the target would: no page. */
static int
is_gone(struct span s)
{
	return s.n >= 3 &&
	       (memcmp(s.p, "404", 3) == 0 || memcmp(s.p, "410", 3) == 0) &&
	       (s.n == 3 || (s.n == 4 && s.p[3] == '!'));
}

/* 1 if name (n bytes) is already a placeholder in seen (n each). */
static int
seen_name(const struct span *seen, size_t ns, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < ns; i++)
		if (seen[i].n == n && memcmp(seen[i].p, name, n) == 0)
			return 1;
	return 0;
}

/*
 * The placeholders of pattern key k (kn bytes) and query q: ":name" as a
 * whole segment, each name once, not "splat" (that is the '*'), and none
 * after the '*', whose value a request's end decides.
 */
static const char *
check_names(const char *k, size_t kn, const char *q, size_t qn)
{
	struct span seen[MATCH_CAPS];
	size_t ns = 0, i, nl;
	const char *star = memchr(k, '*', kn);

	for (i = 0; i < kn + qn; i++) {
		const char *p = i < kn ? k + i : q + (i - kn);
		size_t left = i < kn ? kn - i : kn + qn - i;

		if (*p != ':' || (nl = match_name_len(p + 1, left - 1)) == 0)
			continue;
		if (i < kn && (i > 0 && k[i - 1] != '/'))
			continue; /* mid-segment: a literal ':' */
		if (i < kn && i + 1 + nl < kn && k[i + 1 + nl] != '/')
			return "a placeholder (:name) is a whole segment";
		if (i < kn && star != NULL && p > star)
			return "a placeholder after the '*'";
		if (nl == 5 && memcmp(p + 1, "splat", 5) == 0)
			return "':splat' names the '*' part; name the "
			       "placeholder otherwise";
		if (ns == MATCH_CAPS || seen_name(seen, ns, p + 1, nl))
			return "a placeholder named twice, or too many";
		seen[ns].p = p + 1;
		seen[ns++].n = nl;
		i += nl;
	}
	return NULL;
}

/* 1 if the normalised from path (n bytes) has a ":name" segment. */
static int
has_placeholder(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == ':' && (i == 0 || p[i - 1] == '/') &&
		    match_name_len(p + i + 1, n - i - 1) > 0)
			return 1;
	return 0;
}

/* The kind of a normalised from path p (n bytes), and its key length. */
static const char *
classify(struct rule *r, const char *p, size_t n)
{
	const char *star = memchr(p, '*', n);

	if (star != NULL && memchr(star + 1, '*', (size_t)(p + n - star - 1)))
		return "only one '*' per rule";
	r->kind = REDIRECT_PATTERN;
	if (r->query.n > 0 || has_placeholder(p, n))
		return check_names(p, n, r->query.p, r->query.n);
	if (star == NULL)
		r->kind = REDIRECT_EXACT;
	else if (star == p + n - 1 && (n == 1 || p[n - 2] == '/'))
		r->kind = REDIRECT_PREFIX;
	return NULL;
}

/*
 * The from path, normalised as a request path is (path.h: decoded once,
 * dot segments, refusals), so that "/a%20b" matches a request for it;
 * a fragment is never sent, so it is dropped, as Cloudflare documents.
 */
static const char *
normalise_from(const struct parser *ps, struct span a, char *out, size_t outsz,
               int *slash)
{
	char uri[REDIRECT_ALIAS_MAX * 3 + 2];
	const char *hash = memchr(a.p, '#', a.n);

	if (hash != NULL)
		a.n = (size_t)(hash - a.p);
	if (a.n + 2 > sizeof(uri))
		return "alias too long";
	uri[0] = '/';
	memcpy(uri + 1, a.p, a.n);
	uri[a.n + 1] = '\0';
	switch (path_normalise(uri, "", out, outsz, slash)) {
	case PATH_OK: break;
	case PATH_TOO_LONG: return "alias too long";
	case PATH_BAD_REQUEST:
		return "invalid percent-encoding in the from path";
	default:
		return "the from path is one sherve never answers (\"..\", a "
		       "dotfile, an encoded '/' or control character)";
	}
	if (ps->o->fold_case)
		location_fold(out, strlen(out), out);
	return NULL;
}

/* The segments of key k (n bytes). */
static size_t
segments(const char *k, size_t n)
{
	size_t i, d = n > 0;

	for (i = 0; i < n; i++)
		d += k[i] == '/';
	return d;
}

/* A rule's key from the normalised path (n bytes) into r->aliasbuf. */
static const char *
make_key(const struct parser *ps, struct rule *r, const char *p, size_t n,
         int slash)
{
	int cf = ps->o->dialect == DIALECT_CLOUDFLARE;
	size_t kn = n;

	if (r->kind == REDIRECT_PREFIX)
		kn = n >= 2 ? n - 2 : 0;
	if (kn > REDIRECT_ALIAS_MAX ||
	    (kn == REDIRECT_ALIAS_MAX && slash && cf))
		return "alias too long";
	if (r->kind == REDIRECT_EXACT && n == 0) {
		r->aliasbuf[0] = '/'; /* the root */
		kn = 1;
	} else {
		memcpy(r->aliasbuf, p, kn);
	}
	if (cf && slash && n > 0 && r->kind == REDIRECT_EXACT)
		r->aliasbuf[kn++] = '/';
	if (cf && slash && r->kind == REDIRECT_PATTERN && p[n - 1] != '*')
		r->flags |= MATCH_SLASH;
	if (r->host != NULL && strlen(r->host) + 1 + kn > REDIRECT_KEY_MAX)
		return "host and alias too long";
	if (r->kind == REDIRECT_PREFIX &&
	    segments(r->aliasbuf, kn) > REDIRECT_DEPTH_MAX)
		return "prefix deeper than 32 segments";
	r->alias.p = r->aliasbuf;
	r->alias.n = kn;
	return NULL;
}

/*
 * A query in the from path ("/p?ref=x&y") is read as query conditions
 * ("/p ref=x y"), after those given as fields. Returns NULL or why not.
 */
static const char *
from_query(const struct parser *ps, struct span *a, struct rule *r)
{
	const char *q = memchr(a->p, '?', a->n), *hash;
	size_t qn, n = r->query.n;

	if (q == NULL)
		return NULL;
	hash = memchr(q, '#', (size_t)(a->p + a->n - q));
	qn = (size_t)((hash != NULL ? hash : a->p + a->n) - q - 1);
	a->n = (size_t)(q - a->p);
	if (qn == 0)
		return NULL;
	if (ps->o->dialect == DIALECT_CLOUDFLARE)
		return "query conditions are not in Cloudflare's format";
	if (n + 1 + qn > sizeof(r->querybuf) || q[1] == '&' || q[1] == '=')
		return "invalid query condition (name=:value, name=value or "
		       "name)";
	if (n > 0)
		r->querybuf[n++] = '&';
	memcpy(r->querybuf + n, q + 1, qn);
	r->query.p = r->querybuf;
	r->query.n = n + qn;
	return NULL;
}

static const char *
netlify_from(const struct parser *ps, struct span a, struct rule *r)
{
	char path[REDIRECT_ALIAS_MAX * 3 + 2];
	const char *why;
	int slash;

	r->host = ps->in_host ? ps->host : NULL;
	if (url_split(a.p, a.n, NULL) && (why = from_url(&a, r)) != NULL)
		return why;
	if ((why = from_query(ps, &a, r)) != NULL)
		return why;
	if ((why = normalise_from(ps, a, path, sizeof(path), &slash)) ||
	    (why = classify(r, path, strlen(path))) != NULL)
		return why;
	return make_key(ps, r, path, strlen(path), slash);
}

/*
 * The query conditions between from and to: "name=:placeholder",
 * "name=value" or "name", joined by '&' into r->query.
 */
static const char *
netlify_query(const struct parser *ps, const struct span *f, size_t n,
              struct rule *r)
{
	size_t i, q = 0;

	if (n == 0)
		return NULL;
	if (ps->o->dialect == DIALECT_CLOUDFLARE)
		return "query conditions are not in Cloudflare's format";
	for (i = 0; i < n; i++) {
		if (f[i].p[0] == '=' || f[i].n + 1 + q > sizeof(r->querybuf))
			return "invalid query condition (name=:value, "
			       "name=value or name)";
		if (q > 0)
			r->querybuf[q++] = '&';
		memcpy(r->querybuf + q, f[i].p, f[i].n);
		q += f[i].n;
	}
	r->query.p = r->querybuf;
	r->query.n = q;
	return NULL;
}

/*
 * After the target: [status[!]] (not after a "404" or "410" that stood
 * for the target), then expires= and conditions.
 */
static const char *
netlify_tail(const struct parser *ps, const struct span *f, size_t n,
             int status_ok, struct rule *r)
{
	const unsigned all =
	        STATUS_REDIRECT | STATUS_GONE | STATUS_REWRITE | STATUS_FORCE;
	const char *why;
	size_t i = 0;

	if (status_ok && n > 0 && f[0].p[0] >= '0' && f[0].p[0] <= '9') {
		if ((why = parse_status(f[0], all, &r->status, &r->flags)))
			return why;
		i++;
	}
	for (; i < n; i++) {
		if (f[i].n >= 8 && strncasecmp(f[i].p, "expires=", 8) == 0) {
			if ((why = parse_expires_field(f[i], r)) != NULL)
				return why;
		} else if (memchr(f[i].p, '=', f[i].n) != NULL) {
			return redirects_why_condition;
		} else if (r->expires != 0 && status_ok && i > 0 &&
		           f[i].p[0] >= '0' && f[i].p[0] <= '9') {
			return redirects_why_status_late;
		} else {
			return SHAPE;
		}
	}
	if (r->status == 0 && ps->o->dialect == DIALECT_CLOUDFLARE)
		r->status = 302; /* Cloudflare's default */
	return NULL;
}

const char *
netlify_line(struct parser *ps, const struct span *f, size_t nf, struct rule *r)
{
	size_t n = nf < MAX_FIELDS ? nf : MAX_FIELDS, to, i;
	const char *why;

	/* A field starting with '#' comments out the rest, as Netlify's
	 * own parser reads it. */
	for (i = 1; i < n; i++)
		if (f[i].p[0] == '#')
			n = i;
	if (n < 2 || (n == MAX_FIELDS && nf > MAX_FIELDS))
		return SHAPE;
	for (to = 1; to < n && !is_target(f[to]) && !is_gone(f[to]); to++)
		;
	if (to == n)
		return SHAPE;
	if ((why = netlify_query(ps, f + 1, to - 1, r)) != NULL ||
	    (why = netlify_from(ps, f[0], r)) != NULL)
		return why;
	r->url = f[to];
	if (is_gone(f[to])) {
		r->url.n = 0; /* "/old 410": no page */
		(void)parse_status(f[to], STATUS_GONE | STATUS_FORCE,
		                   &r->status, &r->flags);
	}
	to++;
	if ((why = netlify_tail(ps, f + to, n - to, r->url.n > 0, r)) != NULL)
		return why;
	if (ps->o->dialect == DIALECT_CLOUDFLARE)
		r->flags |= MATCH_FORCE; /* rules come before files there */
	return check_target(ps, r);
}

/* ---- the first-match order of the map ---- */

/* Earliest line of a default-section rule under prefix key (kn bytes). */
static unsigned
earlier_under(const struct redirect_map *m, const char *key, size_t kn)
{
	unsigned best = UINT_MAX, kind;
	size_t i;

	for (kind = REDIRECT_EXACT; kind <= REDIRECT_PREFIX; kind++) {
		for (i = redirects_lower_bound(m, kind, NULL, key, kn);
		     i < m->n; i++) {
			const struct redirect *r = &m->v[i];
			size_t rl = redirect_key_len(r);

			if (r->kind != kind || r->host != NULL || rl < kn ||
			    memcmp(r->alias, key, kn) != 0)
				break;
			if ((rl == kn || kn == 0 || r->alias[kn] == '/') &&
			    r->line < best)
				best = r->line;
		}
	}
	return best;
}

/*
 * The request path an exact or prefix rule r names: its key, "" for the
 * root, the key without its '/' (a Cloudflare key) with slash set, and
 * for a prefix a path just below the key ("\001" is a segment no rule
 * can name). Returns its length.
 */
static size_t
probe_of(const struct redirect *r, char *probe, int *slash)
{
	size_t kn = redirect_key_len(r);

	*slash = 0;
	if (r->kind == REDIRECT_EXACT && strcmp(r->alias, "/") == 0)
		return 0;
	memcpy(probe, r->alias, kn);
	if (r->kind == REDIRECT_EXACT && kn > 1 && probe[kn - 1] == '/') {
		*slash = 1;
		return kn - 1;
	}
	if (r->kind != REDIRECT_PREFIX)
		return kn;
	memcpy(probe + kn, kn > 0 ? "/\001" : "\001", 1 + (kn > 0));
	return kn + 1 + (kn > 0);
}

/*
 * How first-match order treats r against the earlier exact and prefix
 * rules, where sherve's order (host, exact, longest prefix) would answer
 * with r: SHADOW_DROP when an earlier rule of its own section always
 * answers first (match_resolve() over the earlier lines takes r's own
 * path, or for a prefix a path just below its key); SHADOW_YIELD for a
 * host rule some of whose paths an earlier default rule answers first
 * (match_resolve() lets those win at request time). Pattern rules are
 * left to MATCH_SCAN.
 */
enum shadow { SHADOW_NONE, SHADOW_DROP, SHADOW_YIELD };

static enum shadow
shadowed(struct redirects_view *v, const struct match_source *src,
         const struct redirect *r)
{
	char probe[REDIRECT_ALIAS_MAX + 3];
	int exact = r->kind == REDIRECT_EXACT;
	struct match_request rq = { probe, 0, 0, r->host, NULL, 0 };
	struct match_result res;
	int hit;

	rq.len = probe_of(r, probe, &rq.slash);
	v->below = r->line;
	v->kinds = exact ? 1u << REDIRECT_EXACT | 1u << REDIRECT_PREFIX
	                 : 1u << REDIRECT_PREFIX;
	v->host_only = r->host != NULL;
	hit = match_resolve(src, &rq, &res) == SH_OK;
	v->host_only = 0;
	if (hit)
		return SHADOW_DROP;
	if (r->host == NULL)
		return SHADOW_NONE;
	rq.host = NULL;
	v->kinds = 1u << REDIRECT_EXACT | 1u << REDIRECT_PREFIX;
	if (match_resolve(src, &rq, &res) == SH_OK ||
	    (!exact &&
	     earlier_under(v->m, r->alias, redirect_key_len(r)) < r->line))
		return SHADOW_YIELD;
	return SHADOW_NONE;
}

static int
drop_shadowed(struct redirect_map *m, redirects_warn_fn warn, void *ctx)
{
	struct redirects_view v;
	struct match_source src;
	unsigned char *how;
	size_t i, o = 0;

	if (m->n == 0)
		return SH_OK;
	/* Decide on the whole map first: a dropped rule still took its
	 * paths from the rules after it in the file's own order. */
	if ((how = calloc(m->n, 1)) == NULL)
		return SH_ENOMEM;
	redirects_view(m, UINT_MAX, 0, &v, &src);
	for (i = 0; i < m->n; i++)
		how[i] = m->v[i].kind == REDIRECT_PATTERN
		                 ? SHADOW_NONE
		                 : (unsigned char)shadowed(&v, &src, &m->v[i]);
	for (i = 0; i < m->n; i++) {
		if (how[i] == SHADOW_YIELD)
			m->v[i].flags |= MATCH_YIELD;
		if (how[i] != SHADOW_DROP) {
			m->v[o++] = m->v[i];
			continue;
		}
		if (warn != NULL)
			warn(ctx, m->v[i].line,
			     "an earlier line takes these paths first in "
			     "_redirects order");
		m->invalid++;
		map_entry_free(m, &m->v[i]);
	}
	m->n = o;
	free(how);
	return SH_OK;
}

/*
 * 1 if pattern key p (pn bytes) may match a path at or below prefix key
 * k (kn bytes): compared segment by segment, a placeholder taking any
 * one, a '*' anything. Errs on the side of "may".
 */
static int
reaches(const char *p, size_t pn, const char *k, size_t kn)
{
	size_t i = 0, j = 0, nl;

	while (i < pn && j < kn) {
		if (p[i] == '*')
			return 1;
		if (p[i] == ':' && (i == 0 || p[i - 1] == '/') &&
		    (nl = match_name_len(p + i + 1, pn - i - 1)) > 0) {
			i += 1 + nl;
			while (j < kn && k[j] != '/')
				j++;
			continue;
		}
		if (p[i++] != k[j++])
			return 0;
	}
	if (j < kn)
		return 0; /* p ends above k */
	return i == pn || p[i] == '/' || p[i] == '*' || kn == 0;
}

/* 1 if pattern p, path part only, may take a request r answers. */
static int
may_take(const struct redirect *p, const struct redirect *r, unsigned flags)
{
	char probe[REDIRECT_ALIAS_MAX + 3];
	struct match_rule mr;
	struct match_request rq = { probe, 0, 0, NULL, NULL, 0 };
	struct match_result res;

	if (r->kind == REDIRECT_PREFIX)
		return reaches(p->alias, strlen(p->alias), r->alias,
		               redirect_key_len(r));
	rq.len = probe_of(r, probe, &rq.slash);
	memset(&mr, 0, sizeof(mr));
	mr.kind = REDIRECT_PATTERN;
	mr.flags = p->flags;
	mr.key = p->alias;
	mr.klen = strlen(p->alias);
	return match_pattern(&mr, flags, &rq, &res);
}

/*
 * Mark each exact and prefix rule that an earlier pattern rule may take
 * (in its own section or the default one; a default rule, in any):
 * only those pay for the pattern walk (match.h).
 */
static void
mark_scan(struct redirect_map *m)
{
	size_t i, j,
	        first = redirects_lower_bound(m, REDIRECT_PATTERN, NULL, "", 0);

	for (i = 0; i < first && i < m->n; i++) {
		struct redirect *r = &m->v[i];

		for (j = first; j < m->n; j++) {
			const struct redirect *p = &m->v[j];

			if (p->line >= r->line ||
			    (p->host != NULL && r->host != NULL &&
			     strcmp(p->host, r->host) != 0))
				continue;
			if (may_take(p, r, m->flags)) {
				r->flags |= MATCH_SCAN;
				break;
			}
		}
	}
}

int
netlify_order(struct redirect_map *m, redirects_warn_fn warn, void *ctx)
{
	int rc = drop_shadowed(m, warn, ctx);

	if (rc == SH_OK && m->npattern > 0)
		mark_scan(m);
	return rc;
}
