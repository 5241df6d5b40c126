/* redirects.c - the redirects file parser; see redirects.h. */
#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "location.h"
#include "match.h"
#include "redirects.h"
#include "redirects_int.h"
#include "url.h"
#include "util.h"

const char redirects_why_proxy[] =
        "status 200 to another host is a proxy (sherve is no proxy)";
const char redirects_why_condition[] =
        "conditions (Country=, Language=, Role=...) are not supported";
const char redirects_why_status_late[] =
        "the status goes before expires=, not after it";

static const struct redirects_opts defaults = { REDIRECTS_GOSHERVE, 0, 0,
	                                        DIALECT_NETLIFY };

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

enum redirects_lack
redirects_lack_of(const char *reason)
{
	if (reason == redirects_why_proxy)
		return REDIRECTS_LACK_PROXY;
	if (reason == redirects_why_condition)
		return REDIRECTS_LACK_CONDITION;
	return REDIRECTS_LACK_NONE;
}

size_t
redirect_key_len(const struct redirect *r)
{
	size_t n = strlen(r->alias);

	if (r->kind != REDIRECT_PREFIX)
		return n;
	return n >= 2 ? n - 2 : 0;
}

int
span_has(struct span s, const char *lit)
{
	size_t ll = strlen(lit), i;

	for (i = 0; i + ll <= s.n; i++)
		if (memcmp(s.p + i, lit, ll) == 0)
			return 1;
	return 0;
}

int
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

void
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

const char *
parse_status(struct span s, unsigned allowed, unsigned *status, unsigned *flags)
{
	char buf[8];
	const char *why;
	uint64_t u;

	if (s.n > 0 && s.p[s.n - 1] == '!') {
		if (!(allowed & STATUS_FORCE))
			return "forced rules ('!') are a _redirects feature";
		*flags |= MATCH_FORCE;
		s.n--;
	}
	if (s.n == 0 || s.n >= sizeof(buf))
		return "invalid status (301, 302, 303, 307 or 308)";
	memcpy(buf, s.p, s.n);
	buf[s.n] = '\0';
	if (parse_u64(buf, 100, 999, &u, &why) != 0)
		return "invalid status (301, 302, 303, 307 or 308)";
	*status = (unsigned)u;
	switch (u) {
	case 301:
	case 302:
	case 303:
	case 307:
	case 308: return NULL;
	case 404:
	case 410:
		return (allowed & STATUS_GONE) ? NULL
		                               : "invalid status (301, 302, "
		                                 "303, 307 or 308)";
	case 200:
		return (allowed & STATUS_REWRITE)
		               ? NULL
		               : "status 200 (a rewrite) is a _redirects "
		                 "feature";
	}
	return "invalid status (200, 301, 302, 303, 307, 308, 404 or 410)";
}

/* ---- expiry ---- */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s into *v; 0, or -1. */
static int
digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int
redirects_expiry(const char *s, size_t n, uint64_t *t)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
		                          31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h = 0, mi = 0, se = 0;

	if ((n != 10 && n != 20) || s[4] != '-' || s[7] != '-' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400))))
		return -1;
	if (n == 20 &&
	    (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	     digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	     digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59))
		return -1;
	*t = (uint64_t)days_from_civil(y, mo, d) * 86400u + h * 3600u +
	     mi * 60u + se;
	return 0;
}

const char *
parse_expires_field(struct span s, struct rule *r)
{
	static const char key[] = "expires=";

	if (s.n < sizeof(key) - 1 || strncasecmp(s.p, key, sizeof(key) - 1))
		return "expected from to [status]";
	if (r->expires != 0)
		return "expires= given twice";
	if (redirects_expiry(s.p + sizeof(key) - 1, s.n - (sizeof(key) - 1),
	                     &r->expires) != 0 ||
	    r->expires == 0)
		return "invalid expires= (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, "
		       "UTC)";
	return NULL;
}

/* 1 if field s is "expires=...". */
static int
is_expires(struct span s)
{
	return s.n >= 8 && strncasecmp(s.p, "expires=", 8) == 0;
}

/* ---- from paths and targets ---- */

const char *
from_url(struct span *a, struct rule *r)
{
	struct url_parts u;

	/* The from path follows the host; a '?' or '#' straight after the
	 * host is no from path (and was always refused as a bad host). */
	if (!url_split(a->p, a->n, &u) ||
	    (u.pathlen == 0 && u.host + u.hostlen < a->p + a->n) ||
	    location_host(u.host, u.hostlen, r->hostbuf, sizeof(r->hostbuf)) <
	            0)
		return "invalid host in the from URL";
	r->host = r->hostbuf;
	a->n -= (size_t)(u.path - a->p);
	a->p = u.path;
	return NULL;
}

/* The alias of a gosherve line: slashes trimmed, "docs/\*" a prefix. */
static const char *
gosherve_from(const struct parser *ps, struct span a, struct rule *r)
{
	r->host = ps->in_host ? ps->host : NULL;
	trim_slashes(&a);
	r->kind = REDIRECT_EXACT;
	if (span_is(a, "*") ||
	    (a.n >= 2 && a.p[a.n - 1] == '*' && a.p[a.n - 2] == '/')) {
		r->kind = REDIRECT_PREFIX;
		a.n--;
		trim_slashes(&a);
	}
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
	struct url_parts parts;
	size_t h;

	if (u.p[0] != '/') {
		if (r->host == NULL || !url_split(u.p, u.n, &parts) ||
		    location_host(parts.host, parts.hostlen, host,
		                  sizeof(host)) < 0 ||
		    strcmp(host, r->host) != 0)
			return 0;
		path->p = parts.path;
		path->n = parts.pathlen;
	} else {
		for (h = 0; h < u.n && u.p[h] != '?' && u.p[h] != '#'; h++)
			;
		path->p = u.p;
		path->n = h;
	}
	trim_slashes(path);
	return 1;
}

/* Bytes of the substitution at p (n bytes): ":splat", and with names
 * set any ":name" ("_redirects" placeholders); 0 for none. */
static size_t
subst_len(const char *p, size_t n, int names)
{
	size_t k;

	if (n >= 6 && memcmp(p, ":splat", 6) == 0)
		return 6;
	if (!names || n < 2 || p[0] != ':' ||
	    (k = match_name_len(p + 1, n - 1)) == 0)
		return 0;
	return k + 1;
}

/*
 * The target path as a request for it would be looked up: percent-decoded
 * once, slashes trimmed, each substitution (subst_len()) replaced by "x"
 * (any one segment); *subst says whether there was one. Returns its
 * length, or -1 (bad escape, too long: not a loop we can see).
 */
static long
loop_probe(struct span p, int names, char *out, size_t outsz, int *subst)
{
	size_t i, n = 0, k;
	struct span o;

	*subst = 0;
	for (i = 0; i < p.n;) {
		int c;

		if ((k = subst_len(p.p + i, p.n - i, names)) > 0) {
			c = 'x';
			i += k;
			*subst = 1;
		} else if ((c = url_pct_next(p.p, p.n, &i)) < 0) {
			return -1;
		}
		if (n + 1 >= outsz)
			return -1;
		out[n++] = (char)c;
	}
	o.p = out;
	o.n = n;
	trim_slashes(&o);
	memmove(out, o.p, o.n);
	return (long)o.n;
}

/*
 * A rule that redirects, on its own host, to a path it takes itself
 * answers forever. An exact rule always: "loop /loop". A prefix or
 * pattern rule when its target, for some request, falls under the rule
 * again: "docs/\* /docs/:splat", "docs/\* /docs/new/:splat". A target
 * that is one fixed path ("docs/\* /docs/"), or any target of a
 * "_redirects" rule, may be a file that answers first: only a forced
 * rule, which no file answers first, is certain to loop then (sherve
 * check reports the others).
 */
static int
self_loop(const struct parser *ps, const struct rule *r)
{
	char probe[REDIRECT_URL_MAX + 1];
	struct span p;
	struct match_rule mr;
	struct match_request rq = { probe, 0, 0, NULL, NULL, 0 };
	struct match_result m;
	int netlify = ps->o->format == REDIRECTS_NETLIFY, subst;
	int cf = netlify && ps->o->dialect == DIALECT_CLOUDFLARE;
	long n;

	if (r->status == 200 || r->status == 404 || r->status == 410 ||
	    r->url.n == 0 || !own_path(r, r->url, &p) ||
	    (n = loop_probe(p, netlify, probe, sizeof(probe), &subst)) < 0)
		return 0;
	if (r->kind != REDIRECT_EXACT && !(r->flags & MATCH_FORCE) &&
	    (netlify || !subst))
		return 0;
	if (ps->o->fold_case)
		location_fold(probe, (size_t)n, probe);
	rq.len = (size_t)n;
	/* Cloudflare tells "/a" from "/a/": so does a loop. */
	rq.slash = cf && p.p + p.n < r->url.p + r->url.n && p.p[p.n] == '/';
	memset(&mr, 0, sizeof(mr));
	mr.kind = r->kind;
	mr.flags = r->flags;
	mr.key = r->alias.p;
	mr.klen = r->alias.n;
	if (r->kind == REDIRECT_EXACT && cf && mr.klen > 1 &&
	    mr.key[mr.klen - 1] == '/') {
		if (!rq.slash)
			return 0;
		mr.klen--;
	} else if (r->kind == REDIRECT_EXACT && cf && rq.slash && n > 0) {
		return 0;
	}
	if (r->kind == REDIRECT_EXACT)
		return (size_t)n == mr.klen && memcmp(probe, mr.key, n) == 0;
	if (r->kind == REDIRECT_PATTERN)
		return r->query.n == 0 &&
		       match_pattern(&mr, cf ? MATCH_CLOUDFLARE : 0, &rq, &m);
	return mr.klen == 0 ? n > 0
	                    : (size_t)n >= mr.klen &&
	                              memcmp(probe, mr.key, mr.klen) == 0 &&
	                              ((size_t)n == mr.klen ||
	                               probe[mr.klen] == '/');
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

const char *
check_target(const struct parser *ps, const struct rule *r)
{
	int netlify = ps->o->format == REDIRECTS_NETLIFY;
	int page = r->status == 200 || r->status == 404 || r->status == 410;
	struct span u = r->url;

	if (u.n == 0) /* "alias 410": no target */
		return NULL;
	/* Counted as sent: a target that only fits unencoded would be
	 * stored, then refused on every request. */
	if (encoded_len(u) > REDIRECT_URL_MAX)
		return "URL too long";
	if (!url_split(u.p, u.n, NULL)) {
		if (u.p[0] != '/')
			return "URL is not absolute http or https";
		if (!ps->o->allow_relative && !netlify)
			return "relative target (allow-relative-targets is "
			       "off)";
		/* "//host" and "/\host" leave for another host. */
		if (u.n > 1 && (u.p[1] == '/' || u.p[1] == '\\'))
			return "URL is not absolute http or https";
	} else if (r->status == 200) {
		return redirects_why_proxy;
	} else if (page) {
		return "the page of a 404 or 410 is a path of this site";
	}
	if (netlify && r->kind != REDIRECT_PREFIX && span_has(u, ":splat") &&
	    memchr(r->alias.p, '*', r->alias.n) == NULL)
		return "':splat' in the target of a rule without a '*'";
	if (self_loop(ps, r))
		return "self-loop: the target is the alias itself";
	return NULL;
}

/* ---- the gosherve format ---- */

/* "alias URL [STATUS] [expires=DATE]", "alias 404|410 [expires=DATE]". */
static const char *
gosherve_line(struct parser *ps, const struct span f[MAX_FIELDS], size_t nf,
              struct rule *r)
{
	static const char *const shape = "expected 2 fields: alias URL (and an "
	                                 "optional STATUS)";
	unsigned st = 0, fl = 0;
	size_t i = 2;
	const char *why;

	/* A fourth field is only ever an expiry. */
	if (nf < 2 || nf > 4)
		return shape;
	if (nf == 4 && !is_expires(f[3]))
		return is_expires(f[2]) ? redirects_why_status_late : shape;
	if (span_is(f[1], "404") || span_is(f[1], "410")) {
		(void)parse_status(f[1], STATUS_GONE, &r->status, &fl);
		r->url.p = "";
		r->url.n = 0;
	} else {
		r->url = f[1];
	}
	if (i < nf && !is_expires(f[i]) && r->url.n > 0) {
		if ((why = parse_status(f[i], STATUS_REDIRECT, &st, &fl)))
			return why;
		r->status = st;
		i++;
	}
	if (i < nf && (why = parse_expires_field(f[i++], r)) != NULL)
		return is_expires(f[i - 1]) ? why : shape;
	if (i < nf)
		return shape;
	if ((why = gosherve_from(ps, f[0], r)) != NULL)
		return why;
	return check_target(ps, r);
}

/* Returns NULL if the rule line is valid, else the reason it is skipped. */
static const char *
rule_line(struct parser *ps, const struct span f[MAX_FIELDS], size_t nf,
          struct rule *r)
{
	memset(r, 0, offsetof(struct rule, hostbuf));
	if (ps->bad_section)
		return "rule in an invalid @host section";
	if (ps->o->format == REDIRECTS_NETLIFY)
		return netlify_line(ps, f, nf, r);
	return gosherve_line(ps, f, nf, r);
}

/* ---- the map ---- */

/* Strings are packed in chunks of this size (one that is longer gets a
 * chunk of its own); big enough that the chunks are few and a refresh
 * gives them back to the system when it frees the map. */
#define CHUNK_SIZE (1u << 20)

struct redirects_chunk {
	struct redirects_chunk *next;
	size_t used, cap;
	char data[];
};

/* A copy of n bytes of p and n + extra + 1 bytes of room (NUL at n)
 * among m's strings, or NULL. */
static char *
chunk_dup(struct redirect_map *m, const char *p, size_t n, size_t extra)
{
	struct redirects_chunk *c = m->chunks;
	size_t need = n + extra + 1;
	char *s;

	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;

		if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		c->next = m->chunks;
		c->used = 0;
		c->cap = cap;
		m->chunks = c;
	}
	s = c->data + c->used;
	c->used += need;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void
map_entry_free(const struct redirect_map *m, struct redirect *r)
{
	if (m->chunks != NULL)
		return; /* redirects_free() frees the chunks */
	free(r->alias);
	free(r->url);
	free(r->query);
	free(r->host);
}

/* The host of the rule before, if it is the same: a section's rules
 * share one copy. */
static char *
map_host(struct redirect_map *m, const char *host)
{
	char *prev = m->n > 0 ? m->v[m->n - 1].host : NULL;

	if (prev != NULL && strcmp(prev, host) == 0)
		return prev;
	return chunk_dup(m, host, strlen(host), 0);
}

static int
map_push(struct redirect_map *m, const struct rule *r, unsigned line)
{
	struct redirect *e;
	size_t an = r->alias.n;

	if (m->n == m->cap) {
		/* Capacity never touched costs no memory, only address
		 * space: doubling is cheap, and glibc moves a large block
		 * by remapping its pages, not by copying them. */
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
	e->alias = chunk_dup(m, r->alias.p, an, 2);
	e->url = chunk_dup(m, r->url.p, r->url.n, 0);
	e->host = r->host != NULL ? map_host(m, r->host) : NULL;
	e->query =
	        r->query.n > 0 ? chunk_dup(m, r->query.p, r->query.n, 0) : NULL;
	if (e->alias == NULL || e->url == NULL ||
	    (r->host != NULL && e->host == NULL) ||
	    (r->query.n > 0 && e->query == NULL))
		return SH_ENOMEM; /* the chunks are freed with the map */
	if (r->kind == REDIRECT_PREFIX)
		memcpy(e->alias + an, an > 0 ? "/*" : "*", an > 0 ? 3 : 2);
	e->line = line;
	e->kind = (unsigned char)r->kind;
	e->flags = (unsigned char)r->flags;
	e->status = (unsigned short)r->status;
	e->expires = r->expires;
	m->npattern += r->kind == REDIRECT_PATTERN; /* for the limit */
	m->n++;
	return SH_OK;
}

/* LMDB's key order: kind (database), host, then alias bytes, shorter
 * first; equal keys by line, so the first line sorts first. Pattern
 * rules are kept in line order. */
static int
redirect_cmp(const struct redirect *a, const struct redirect *b)
{
	size_t la = redirect_key_len(a), lb = redirect_key_len(b);
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((c = strcmp(a->host ? a->host : "", b->host ? b->host : "")) != 0)
		return c;
	if (a->kind != REDIRECT_PATTERN) {
		if ((c = memcmp(a->alias, b->alias, la < lb ? la : lb)) != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
	}
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
qsort_cmp(const void *a, const void *b)
{
	return redirect_cmp(a, b);
}

static int
same_rule(const struct redirect *a, const struct redirect *b)
{
	size_t la = redirect_key_len(a);

	return a->kind == b->kind && a->kind != REDIRECT_PATTERN &&
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
			map_entry_free(m, &m->v[i]);
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
}

static int section_depth(const struct redirect_map *m, const char *host,
                         unsigned *depth);

/*
 * The map's own account of the rules it kept: patterns, host rules,
 * forced rules, the default section's depth; redirects_view() reads it
 * rather than walking the map each time.
 */
static void
map_account(struct redirect_map *m)
{
	size_t i;

	m->npattern = 0;
	m->nhost = 0;
	m->flags &= ~MATCH_FORCED;
	for (i = 0; i < m->n; i++) {
		m->npattern += m->v[i].kind == REDIRECT_PATTERN;
		m->nhost += m->v[i].host != NULL;
		if (m->v[i].flags & MATCH_FORCE)
			m->flags |= MATCH_FORCED;
	}
	(void)section_depth(m, NULL, &m->depth);
}

/* ---- finding a rule ---- */

size_t
redirects_lower_bound(const struct redirect_map *m, unsigned kind,
                      const char *host, const char *key, size_t kn)
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

	if (n > REDIRECT_ALIAS_MAX + 1 || kind == REDIRECT_PATTERN)
		return NULL;
	i = redirects_lower_bound(m, kind, host, key, n);
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

static void
view_fill(const struct redirect *r, struct match_rule *mr)
{
	memset(mr, 0, sizeof(*mr));
	mr->kind = r->kind;
	mr->status = r->status;
	mr->flags = r->flags;
	mr->line = r->line;
	mr->expires = r->expires;
	mr->key = r->alias;
	mr->klen = redirect_key_len(r);
	mr->query = r->query != NULL ? r->query : "";
	mr->qlen = r->query != NULL ? strlen(r->query) : 0;
	mr->url = r->url;
	mr->ulen = strlen(r->url);
	mr->rec = r;
}

static int
view_rule(void *ctx, const char *host, size_t hlen, unsigned kind,
          const char *key, size_t klen, struct match_rule *mr)
{
	const struct redirects_view *v = ctx;
	char hb[REDIRECTS_HOST_BUF];
	const struct redirect *r;
	const char *h;

	if (view_host(host, hlen, hb, &h) != 0 || (h == NULL && v->host_only) ||
	    (r = redirects_find(v->m, kind, h, key, klen)) == NULL ||
	    !view_shows(v, r))
		return SH_ENOTFOUND;
	view_fill(r, mr);
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
	size_t i = redirects_lower_bound(m, REDIRECT_PREFIX, host, "", 0);
	unsigned k;
	int any = in_section(m, i, REDIRECT_PREFIX, host);

	for (k = REDIRECT_EXACT; k <= REDIRECT_PATTERN; k += 2)
		any |= in_section(m, redirects_lower_bound(m, k, host, "", 0),
		                  k, host);
	for (*depth = 0; in_section(m, i, REDIRECT_PREFIX, host); i++)
		if (redirect_depth(&m->v[i]) > *depth)
			*depth = redirect_depth(&m->v[i]);
	return any;
}

int
redirects_has_section(const struct redirect_map *m, const char *host)
{
	unsigned d;

	return host != NULL && host[0] != '\0' && section_depth(m, host, &d);
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

static int
view_patterns(void *ctx, const char *host, size_t hlen, unsigned below,
              match_walk_fn fn, void *arg)
{
	const struct redirects_view *v = ctx;
	char hb[REDIRECTS_HOST_BUF];
	struct match_rule mr;
	const char *h;
	size_t i;

	if (view_host(host, hlen, hb, &h) != 0)
		return SH_ENOTFOUND;
	for (i = redirects_lower_bound(v->m, REDIRECT_PATTERN, h, "", 0);
	     in_section(v->m, i, REDIRECT_PATTERN, h) &&
	     v->m->v[i].line < below;
	     i++) {
		if (!view_shows(v, &v->m->v[i]))
			continue;
		view_fill(&v->m->v[i], &mr);
		if (fn(arg, &mr))
			break;
	}
	return SH_OK;
}

void
redirects_view(const struct redirect_map *m, unsigned below, unsigned kinds,
               struct redirects_view *v, struct match_source *src)
{
	memset(v, 0, sizeof(*v));
	v->m = m;
	v->below = below;
	v->kinds = kinds;
	memset(src, 0, sizeof(*src));
	src->ctx = v;
	src->rule = view_rule;
	src->section = view_section;
	src->patterns = view_patterns;
	src->npattern = m->npattern;
	src->flags = m->flags;
	src->hosts = m->nhost;
	src->depth = m->depth;
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
	else if ((why = rule_line(ps, f, nf, &r)) != NULL)
		;
	else if (r.kind == REDIRECT_PATTERN &&
	         ps->m->npattern >= REDIRECT_PATTERNS_MAX)
		why = "more than 1000 pattern rules (placeholders, '*' inside, "
		      "query conditions)";
	else
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

	/* A byte order mark is no part of the first alias. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (ps.o->format == REDIRECTS_NETLIFY)
		m->flags |= MATCH_ORDERED | (ps.o->dialect == DIALECT_CLOUDFLARE
		                                     ? MATCH_CLOUDFLARE
		                                     : 0);
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
	map_account(m); /* for netlify_order()'s view */
	if (ps.o->format == REDIRECTS_NETLIFY &&
	    netlify_order(m, warn, ctx) != SH_OK)
		return SH_ENOMEM;
	map_account(m);
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
	struct redirects_chunk *c, *next;
	size_t i;

	for (i = 0; i < m->n; i++)
		map_entry_free(m, &m->v[i]);
	for (c = m->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
