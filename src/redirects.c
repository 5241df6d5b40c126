/* redirects.c - the redirects file parser; see redirects.h. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "location.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

#define MAX_FIELDS 8

struct span {
	const char *p;
	size_t n;
};

/* One rule line on its way into the map. */
struct rule {
	struct span alias, url;
	const char *host; /* NULL: the default section */
	unsigned kind, status;
	char hostbuf[LOCATION_HOST_MAX + 1];   /* a from-URL's host */
	char aliasbuf[REDIRECT_ALIAS_MAX + 1]; /* the alias, folded */
};

struct parser {
	const struct redirects_opts *o;
	struct redirect_map *m;
	redirects_warn_fn warn;
	void *ctx;
	char host[LOCATION_HOST_MAX + 1];
	int in_host;     /* inside an "@host NAME" section */
	int bad_section; /* inside one whose NAME was refused */
};

static const struct redirects_opts defaults = { REDIRECTS_GOSHERVE, 0, 0 };

int
redirects_url_ok(const char *url, size_t len)
{
	size_t skip;

	if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (len >= 7 && strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	/* A host must follow: "http:///x" and "http://" are not URLs. */
	return len > skip && url[skip] != '/' && url[skip] != '?' &&
	       url[skip] != '#';
}

enum redirects_format
redirects_format_for(enum redirects_format f, const char *name)
{
	static const char suffix[] = "_redirects";
	const size_t sl = sizeof(suffix) - 1;
	size_t n;

	if (f != REDIRECTS_AUTO)
		return f;
	if (name == NULL)
		return REDIRECTS_GOSHERVE;
	n = strcspn(name, "?#");
	return n >= sl && memcmp(name + n - sl, suffix, sl) == 0
	               ? REDIRECTS_NETLIFY
	               : REDIRECTS_GOSHERVE;
}

size_t
redirect_key_len(const struct redirect *r)
{
	size_t n = strlen(r->alias);

	if (r->kind != REDIRECT_PREFIX)
		return n;
	return n >= 2 ? n - 2 : 0;
}

static int
span_has(struct span s, const char *lit)
{
	size_t ll = strlen(lit), i;

	for (i = 0; i + ll <= s.n; i++)
		if (memcmp(s.p + i, lit, ll) == 0)
			return 1;
	return 0;
}

static int
span_is(struct span s, const char *lit)
{
	return strlen(lit) == s.n && memcmp(s.p, lit, s.n) == 0;
}

/* Split a line into fields; at most MAX_FIELDS are kept, all counted. */
static size_t
split_fields(const char *p, size_t n, struct span f[MAX_FIELDS])
{
	size_t i = 0, nf = 0;

	while (i < n) {
		size_t s;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		s = i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		if (nf < MAX_FIELDS) {
			f[nf].p = p + s;
			f[nf].n = i - s;
		}
		nf++;
	}
	return nf;
}

/* Tabs separate fields; any other CTL could reach a header. */
static int
has_ctl(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
		    p[i] == 0x7f)
			return 1;
	return 0;
}

static void
trim_slashes(struct span *s)
{
	while (s->n > 0 && s->p[0] == '/') {
		s->p++;
		s->n--;
	}
	while (s->n > 0 && s->p[s->n - 1] == '/')
		s->n--;
}

static size_t
depth_of(struct span s)
{
	size_t i, d = s.n > 0;

	for (i = 0; i < s.n; i++)
		d += s.p[i] == '/';
	return d;
}

/* "@host NAME": start a section; "@host *" returns to the default. */
static const char *
section_line(struct parser *ps, const struct span f[MAX_FIELDS], size_t nf)
{
	ps->in_host = 0;
	ps->bad_section = 0;
	if (nf != 2) {
		ps->bad_section = 1;
		return "expected @host NAME or @host *";
	}
	if (span_is(f[1], "*"))
		return NULL;
	if (location_host(f[1].p, f[1].n, ps->host, sizeof(ps->host)) < 0) {
		/* Its rules must not fall into another section. */
		ps->bad_section = 1;
		return "invalid @host name (its rules are skipped)";
	}
	ps->in_host = 1;
	return NULL;
}

static const char *
parse_status(struct span s, unsigned *status)
{
	char buf[8];
	const char *why;
	uint64_t u;

	if (s.n > 0 && s.p[s.n - 1] == '!')
		return "forced rules ('!') are not supported";
	if (s.n == 0 || s.n >= sizeof(buf))
		return "invalid status (301, 302, 303, 307 or 308)";
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	if (parse_u64(buf, 100, 999, &u, &why) != 0)
		return "invalid status (301, 302, 303, 307 or 308)";
	switch (u) {
	case 301:
	case 302:
	case 303:
	case 307:
	case 308: *status = (unsigned)u; return NULL;
	case 200: return "status 200 (rewrite) is not supported";
	case 404:
	case 410:
	case 451: return "error statuses (404, 410, 451) are not supported";
	}
	return "invalid status (301, 302, 303, 307 or 308)";
}

/* The fields of a "_redirects" line that sherve cannot honour. */
static const char *
netlify_fields(const struct span f[MAX_FIELDS], size_t nf)
{
	size_t i, n = nf < MAX_FIELDS ? nf : MAX_FIELDS;

	if (n >= 3 && memchr(f[1].p, '=', f[1].n) != NULL && f[1].p[0] != '/' &&
	    !redirects_url_ok(f[1].p, f[1].n))
		return "query-parameter matching is not supported";
	for (i = 2; i < n; i++)
		if (memchr(f[i].p, '=', f[i].n) != NULL)
			return "conditions (Country=, Language=, Role=...) are "
			       "not supported";
	return NULL;
}

/* A "from" of https://host/path: the rule belongs to that host. */
static const char *
from_url(struct span *a, struct rule *r)
{
	size_t skip = a->p[4] == 's' || a->p[4] == 'S' ? 8 : 7, h;

	for (h = skip; h < a->n && a->p[h] != '/'; h++)
		;
	if (location_host(a->p + skip, h - skip, r->hostbuf,
	                  sizeof(r->hostbuf)) < 0)
		return "invalid host in the from URL";
	r->host = r->hostbuf;
	a->p += h;
	a->n -= h;
	return NULL;
}

/* Placeholders and inner '*' are "_redirects" syntax sherve lacks. */
static const char *
netlify_from(struct span a)
{
	size_t i;

	if (memchr(a.p, '?', a.n) != NULL)
		return "query-parameter matching is not supported";
	if (memchr(a.p, '*', a.n) != NULL)
		return "'*' is supported only as the last segment";
	for (i = 0; i < a.n; i++)
		if (a.p[i] == ':' && (i == 0 || a.p[i - 1] == '/'))
			return "placeholders (:name) are not supported, only a "
			       "trailing '*' with :splat";
	return NULL;
}

static const char *
parse_from(const struct parser *ps, struct span a, struct rule *r)
{
	int netlify = ps->o->format == REDIRECTS_NETLIFY;
	const char *why;

	r->host = ps->in_host ? ps->host : NULL;
	if (netlify && redirects_url_ok(a.p, a.n) && (why = from_url(&a, r)))
		return why;
	trim_slashes(&a);
	r->kind = REDIRECT_EXACT;
	if (span_is(a, "*") ||
	    (a.n >= 2 && a.p[a.n - 1] == '*' && a.p[a.n - 2] == '/')) {
		r->kind = REDIRECT_PREFIX;
		a.n--;
		trim_slashes(&a);
	}
	if (netlify && (why = netlify_from(a)) != NULL)
		return why;
	if (r->kind == REDIRECT_EXACT && a.n == 0)
		return "empty alias";
	if (a.n > REDIRECT_ALIAS_MAX)
		return "alias too long";
	if (r->host != NULL && strlen(r->host) + 1 + a.n > REDIRECT_KEY_MAX)
		return "host and alias too long";
	if (r->kind == REDIRECT_PREFIX && depth_of(a) > REDIRECT_DEPTH_MAX)
		return "prefix deeper than 32 segments";
	memcpy(r->aliasbuf, a.p, a.n);
	if (ps->o->fold_case)
		location_fold(a.p, a.n, r->aliasbuf);
	r->alias.p = r->aliasbuf;
	r->alias.n = a.n;
	return NULL;
}

/* The path of target u on the rule's own host, or 0 if it is elsewhere. */
static int
own_path(const struct rule *r, struct span u, struct span *path)
{
	char host[LOCATION_HOST_MAX + 1];
	size_t skip, h;

	if (u.p[0] != '/') {
		if (r->host == NULL)
			return 0;
		skip = u.p[4] == 's' || u.p[4] == 'S' ? 8 : 7;
		for (h = skip;
		     h < u.n && u.p[h] != '/' && u.p[h] != '?' && u.p[h] != '#';
		     h++)
			;
		if (location_host(u.p + skip, h - skip, host, sizeof(host)) <
		            0 ||
		    strcmp(host, r->host) != 0)
			return 0;
		u.p += h;
		u.n -= h;
	}
	for (h = 0; h < u.n && u.p[h] != '?' && u.p[h] != '#'; h++)
		;
	path->p = u.p;
	path->n = h;
	trim_slashes(path);
	return 1;
}

/*
 * The target path as a request for it would be looked up: percent-decoded
 * once, slashes trimmed, each ":splat" replaced by "x" (any one segment).
 * Returns its length, or -1 (bad escape, too long: not a loop we can see).
 */
static long
loop_probe(struct span p, char *out, size_t outsz)
{
	size_t i, n = 0;
	struct span o;

	for (i = 0; i < p.n; i++) {
		char c = p.p[i];
		int hi, lo;

		if (p.n - i >= 6 && memcmp(p.p + i, ":splat", 6) == 0) {
			c = 'x';
			i += 5;
		} else if (c == '%') {
			if (i + 2 >= p.n)
				return -1;
			if ((hi = hex_value(p.p[i + 1])) < 0 ||
			    (lo = hex_value(p.p[i + 2])) < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= outsz)
			return -1;
		out[n++] = c;
	}
	o.p = out;
	o.n = n;
	trim_slashes(&o);
	memmove(out, o.p, o.n);
	return (long)o.n;
}

/*
 * An alias that redirects to itself on its own host answers forever. A
 * prefix rule loops when its target, for some request, falls under the
 * rule again: "docs/\* /docs/:splat", "docs/\* /docs/new/:splat". A
 * target without ":splat" is one fixed path, which an asset may answer
 * first ("docs/\* /docs/" with docs/index.html): sherve check warns.
 */
static int
self_loop(const struct parser *ps, const struct rule *r)
{
	char probe[REDIRECT_URL_MAX + 1];
	struct span p, a = r->alias;
	int (*cmp)(const char *, const char *, size_t) =
	        ps->o->fold_case ? strncasecmp : strncmp;
	long n;

	if (!own_path(r, r->url, &p) ||
	    (n = loop_probe(p, probe, sizeof(probe))) < 0)
		return 0;
	if (r->kind == REDIRECT_EXACT)
		return (size_t)n == a.n && cmp(probe, a.p, a.n) == 0;
	if (!span_has(p, ":splat"))
		return 0;
	if (a.n == 0)
		return n > 0;
	return (size_t)n >= a.n && cmp(probe, a.p, a.n) == 0 &&
	       ((size_t)n == a.n || probe[a.n] == '/');
}

/* The length of u in a Location, where each non-ASCII byte is "%XX". */
static size_t
encoded_len(struct span u)
{
	size_t i, n = u.n;

	for (i = 0; i < u.n; i++)
		n += ((unsigned char)u.p[i] & 0x80) ? 2 : 0;
	return n;
}

static const char *
check_target(const struct parser *ps, const struct rule *r)
{
	struct span u = r->url;

	/* Counted as sent: a target that only fits unencoded would be
	 * stored, then refused on every request. */
	if (encoded_len(u) > REDIRECT_URL_MAX)
		return "URL too long";
	if (!redirects_url_ok(u.p, u.n)) {
		if (u.n == 0 || u.p[0] != '/')
			return "URL is not absolute http or https";
		if (!ps->o->allow_relative)
			return "relative target (allow-relative-targets is "
			       "off)";
		/* "//host" and "/\host" leave for another host. */
		if (u.n > 1 && (u.p[1] == '/' || u.p[1] == '\\'))
			return "URL is not absolute http or https";
	}
	if (ps->o->format == REDIRECTS_NETLIFY && r->kind == REDIRECT_EXACT &&
	    span_has(u, ":splat"))
		return "':splat' in the target of a rule without a trailing "
		       "'*'";
	if (self_loop(ps, r))
		return "self-loop: the target is the alias itself";
	return NULL;
}

/* Returns NULL if the rule line is valid, else the reason it is skipped. */
static const char *
rule_line(struct parser *ps, const struct span f[MAX_FIELDS], size_t nf,
          struct rule *r)
{
	int netlify = ps->o->format == REDIRECTS_NETLIFY;
	const char *why;

	if (ps->bad_section)
		return "rule in an invalid @host section";
	if (netlify && (why = netlify_fields(f, nf)) != NULL)
		return why;
	if (nf < 2 || nf > 3)
		return netlify ? "expected from to [status]"
		               : "expected 2 fields: alias URL (and an "
		                 "optional STATUS)";
	r->status = 0;
	if (nf == 3 && (why = parse_status(f[2], &r->status)) != NULL)
		return why;
	if ((why = parse_from(ps, f[0], r)) != NULL)
		return why;
	r->url = f[1];
	return check_target(ps, r);
}

static int
map_push(struct redirect_map *m, const struct rule *r, unsigned line)
{
	struct redirect *e;
	size_t an = r->alias.n;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct redirect *v = reallocarray(m->v, cap, sizeof(*v));

		if (v == NULL)
			return SH_ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	e = &m->v[m->n];
	memset(e, 0, sizeof(*e));
	/* Listed as written: "docs/\*", or "*" for the catch-all. */
	e->alias = malloc(an + 3);
	e->url = strndup(r->url.p, r->url.n);
	e->host = r->host != NULL ? strdup(r->host) : NULL;
	if (e->alias == NULL || e->url == NULL ||
	    (r->host != NULL && e->host == NULL)) {
		free(e->alias);
		free(e->url);
		free(e->host);
		return SH_ENOMEM;
	}
	memcpy(e->alias, r->alias.p, an);
	if (r->kind == REDIRECT_PREFIX)
		memcpy(e->alias + an, an > 0 ? "/*" : "*", an > 0 ? 3 : 2);
	else
		e->alias[an] = '\0';
	e->line = line;
	e->kind = (unsigned char)r->kind;
	e->status = (unsigned short)r->status;
	m->n++;
	return SH_OK;
}

/* LMDB's key order: kind (database), host, then alias bytes, shorter
 * first; equal keys by line, so the first line sorts first. */
static int
redirect_cmp(const struct redirect *a, const struct redirect *b)
{
	size_t la = redirect_key_len(a), lb = redirect_key_len(b);
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->host ? a->host : "", b->host ? b->host : "")) != 0)
		return c;
	if ((c = memcmp(a->alias, b->alias, la < lb ? la : lb)) != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
qsort_cmp(const void *a, const void *b)
{
	return redirect_cmp(a, b);
}

static void
entry_free(struct redirect *r)
{
	free(r->alias);
	free(r->url);
	free(r->host);
}

static int
same_rule(const struct redirect *a, const struct redirect *b)
{
	size_t la = redirect_key_len(a);

	return a->kind == b->kind &&
	       strcmp(a->host ? a->host : "", b->host ? b->host : "") == 0 &&
	       la == redirect_key_len(b) && memcmp(a->alias, b->alias, la) == 0;
}

/* Sort, then keep the first line of each rule. */
static void
map_dedupe(struct redirect_map *m, redirects_warn_fn warn, void *ctx)
{
	size_t i, o = 0;

	/* qsort(NULL, 0, ...) is undefined: an empty map has no v. */
	if (m->n < 2)
		return;
	qsort(m->v, m->n, sizeof(m->v[0]), qsort_cmp);
	for (i = 0; i < m->n; i++) {
		if (o > 0 && same_rule(&m->v[o - 1], &m->v[i])) {
			if (warn != NULL)
				warn(ctx, m->v[i].line,
				     "duplicate alias (first line wins)");
			m->duplicates++;
			entry_free(&m->v[i]);
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
}

/* ---- finding a rule ---- */

/* Index of the first entry not below (kind, host, key), m sorted. */
static size_t
lower_bound(const struct redirect_map *m, unsigned kind, const char *host,
            const char *key, size_t kn)
{
	struct redirect probe = { 0 };
	char buf[REDIRECT_ALIAS_MAX + 3];
	size_t lo = 0, hi = m->n;

	memcpy(buf, key, kn);
	if (kind == REDIRECT_PREFIX)
		memcpy(buf + kn, "/*", 3);
	else
		buf[kn] = '\0';
	probe.alias = buf;
	probe.host = (char *)host;
	probe.kind = (unsigned char)kind;
	probe.line = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (redirect_cmp(&m->v[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct redirect *
redirects_find(const struct redirect_map *m, unsigned kind, const char *host,
               const char *key, size_t n)
{
	const struct redirect *r;
	size_t i;

	if (n > REDIRECT_ALIAS_MAX)
		return NULL;
	i = lower_bound(m, kind, host, key, n);
	r = i < m->n ? &m->v[i] : NULL;
	if (r != NULL && r->kind == kind && redirect_key_len(r) == n &&
	    strcmp(r->host ? r->host : "", host ? host : "") == 0 &&
	    memcmp(r->alias, key, n) == 0)
		return r;
	return NULL;
}

/* ---- the map as a match source ---- */

unsigned
redirect_depth(const struct redirect *r)
{
	size_t n = redirect_key_len(r), i;
	unsigned d = 1 + (n > 0);

	for (i = 0; i < n; i++)
		d += r->alias[i] == '/';
	/* The parser refuses deeper prefixes; a walk never goes deeper. */
	return d < REDIRECT_DEPTH_MAX + 1 ? d : REDIRECT_DEPTH_MAX + 1;
}

/* 1 if r is a rule the view shows. */
static int
view_shows(const struct redirects_view *v, const struct redirect *r)
{
	return r->line < v->below && (v->kinds & (1u << r->kind)) != 0;
}

/* The section name (hlen bytes, 0: the default) into buf; -1 if no
 * section can have it. */
static int
view_host(const char *host, size_t hlen, char buf[REDIRECTS_HOST_BUF],
          const char **h)
{
	*h = NULL;
	if (hlen == 0)
		return 0;
	if (hlen >= REDIRECTS_HOST_BUF)
		return -1;
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	*h = buf;
	return 0;
}

static int
view_rule(void *ctx, const char *host, size_t hlen, unsigned kind,
          const char *key, size_t klen, struct match_rule *mr)
{
	const struct redirects_view *v = ctx;
	char hb[REDIRECTS_HOST_BUF];
	const struct redirect *r;
	const char *h;

	if (view_host(host, hlen, hb, &h) != 0 ||
	    (r = redirects_find(v->m, kind, h, key, klen)) == NULL ||
	    !view_shows(v, r))
		return SH_ENOTFOUND;
	memset(mr, 0, sizeof(*mr));
	mr->kind = r->kind;
	mr->status = r->status;
	mr->line = r->line;
	mr->key = r->alias;
	mr->klen = redirect_key_len(r);
	mr->url = r->url;
	mr->ulen = strlen(r->url);
	return SH_OK;
}

/* 1 if rule i of m exists and belongs to section host and kind. */
static int
in_section(const struct redirect_map *m, size_t i, unsigned kind,
           const char *host)
{
	return i < m->n && m->v[i].kind == kind &&
	       strcmp(m->v[i].host ? m->v[i].host : "", host ? host : "") == 0;
}

/*
 * Whether section host (NULL: the default) has rules, and the depth of
 * its deepest prefix rule. Every rule counts, whatever the view shows:
 * the depth only bounds a walk, and an empty section falls back to the
 * default one as a missing section does.
 */
static int
section_depth(const struct redirect_map *m, const char *host, unsigned *depth)
{
	size_t e = lower_bound(m, REDIRECT_EXACT, host, "", 0);
	size_t i = lower_bound(m, REDIRECT_PREFIX, host, "", 0);
	int any = in_section(m, e, REDIRECT_EXACT, host) ||
	          in_section(m, i, REDIRECT_PREFIX, host);

	for (*depth = 0; in_section(m, i, REDIRECT_PREFIX, host); i++)
		if (redirect_depth(&m->v[i]) > *depth)
			*depth = redirect_depth(&m->v[i]);
	return any;
}

static int
view_section(void *ctx, const char *host, size_t hlen, unsigned *depth)
{
	struct redirects_view *v = ctx;
	char hb[REDIRECTS_HOST_BUF];
	const char *h;

	if (view_host(host, hlen, hb, &h) != 0 || h == NULL)
		return SH_ENOTFOUND;
	/* Asked for one section many times in a row: remember it. */
	if (!v->cached || strcmp(v->host, h) != 0) {
		str_copy(v->host, h, sizeof(v->host));
		v->cached = 1;
		v->any = section_depth(v->m, h, &v->depth);
	}
	*depth = v->depth;
	return v->any ? SH_OK : SH_ENOTFOUND;
}

void
redirects_view(const struct redirect_map *m, unsigned below, unsigned kinds,
               struct redirects_view *v, struct match_source *src)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	v->m = m;
	v->below = below;
	v->kinds = kinds;
	memset(src, 0, sizeof(*src));
	src->ctx = v;
	src->rule = view_rule;
	src->section = view_section;
	for (i = 0; i < m->n && src->hosts == 0; i++)
		src->hosts += m->v[i].host != NULL;
	(void)section_depth(m, NULL, &src->depth);
}

/* ---- "_redirects": rules that first-match order treats differently ---- */

/* Earliest line of a default-section rule under prefix key (kn bytes). */
static unsigned
earlier_under(const struct redirect_map *m, const char *key, size_t kn)
{
	unsigned best = UINT_MAX, kind;
	size_t i;

	for (kind = REDIRECT_EXACT; kind <= REDIRECT_PREFIX; kind++) {
		for (i = lower_bound(m, kind, NULL, key, kn); i < m->n; i++) {
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
 * 1 if first-match order ("_redirects") would answer part of r's paths
 * with an earlier line, where sherve's order (host, exact, longest
 * prefix) would answer with r. match_resolve() over the earlier lines
 * says whether one takes r's own path (an exact rule) or a path just
 * below its key (a prefix rule: "\001" is a segment no rule can name);
 * a host prefix also loses the default rules of earlier lines below it.
 */
static int
shadowed(struct redirects_view *v, const struct match_source *src,
         const struct redirect *r)
{
	char probe[REDIRECT_ALIAS_MAX + 3];
	size_t kn = redirect_key_len(r);
	int exact = r->kind == REDIRECT_EXACT;
	struct match_request rq = { probe, kn, 0, r->host, NULL, 0 };
	struct match_result res;

	memcpy(probe, r->alias, kn);
	if (!exact) {
		memcpy(probe + kn, kn > 0 ? "/\001" : "\001", 1 + (kn > 0));
		rq.len += 1 + (kn > 0);
	}
	v->below = r->line;
	v->kinds = exact ? 1u << REDIRECT_EXACT | 1u << REDIRECT_PREFIX
	                 : 1u << REDIRECT_PREFIX;
	if (match_resolve(src, &rq, &res) == SH_OK)
		return 1;
	return !exact && r->host != NULL &&
	       earlier_under(v->m, r->alias, kn) < r->line;
}

static int
drop_shadowed(struct redirect_map *m, redirects_warn_fn warn, void *ctx)
{
	struct redirects_view v;
	struct match_source src;
	unsigned char *drop;
	size_t i, o = 0;

	if (m->n == 0)
		return SH_OK;
	/* Decide on the whole map first: a dropped rule still took its
	 * paths from the rules after it in the file's own order. */
	if ((drop = calloc(m->n, 1)) == NULL)
		return SH_ENOMEM;
	redirects_view(m, UINT_MAX, 0, &v, &src);
	for (i = 0; i < m->n; i++)
		drop[i] = (unsigned char)shadowed(&v, &src, &m->v[i]);
	for (i = 0; i < m->n; i++) {
		if (drop[i]) {
			if (warn != NULL)
				warn(ctx, m->v[i].line,
				     "an earlier line takes these paths first "
				     "in _redirects order");
			m->invalid++;
			entry_free(&m->v[i]);
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
	free(drop);
	return SH_OK;
}

/* ---- lines ---- */

static int
parse_line(struct parser *ps, const char *p, size_t n, unsigned line)
{
	struct span f[MAX_FIELDS];
	const char *why;
	struct rule r;
	size_t nf = 0;

	if (memchr(p, '\0', n) != NULL || has_ctl(p, n))
		why = "control character";
	else if ((nf = split_fields(p, n, f)) > 0 && span_is(f[0], "@host"))
		why = section_line(ps, f, nf);
	else if ((why = rule_line(ps, f, nf, &r)) == NULL)
		return map_push(ps->m, &r, line);
	if (why != NULL) {
		ps->m->invalid++;
		if (ps->warn != NULL)
			ps->warn(ps->ctx, line, why);
	}
	return SH_OK;
}

int
redirects_parse_opts(const char *buf, size_t len,
                     const struct redirects_opts *o, struct redirect_map *m,
                     redirects_warn_fn warn, void *ctx)
{
	struct parser ps = {
		o != NULL ? o : &defaults, m, warn, ctx, "", 0, 0
	};
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *q;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (q = p; q < p + n && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < p + n && *q != '#' &&
		    parse_line(&ps, p, n, line) != SH_OK)
			return SH_ENOMEM;
		p = nl != NULL ? nl + 1 : end;
	}
	map_dedupe(m, warn, ctx);
	if (ps.o->format == REDIRECTS_NETLIFY)
		return drop_shadowed(m, warn, ctx);
	return SH_OK;
}

int
redirects_parse(const char *buf, size_t len, struct redirect_map *m,
                redirects_warn_fn warn, void *ctx)
{
	return redirects_parse_opts(buf, len, NULL, m, warn, ctx);
}

void
redirects_free(struct redirect_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		entry_free(&m->v[i]);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
