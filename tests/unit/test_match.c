/*
 * test_match.c - rule precedence (match.c) over a source made of a table:
 * which rule answers, how many lookups it takes, pattern rules
 * (placeholders, '*' anywhere, query conditions) in both dialects, the
 * line bound of first-match maps, expiry, reserved paths, and the order
 * first-match servers need.
 */
#include "unit.h"

#include <limits.h>

#include "match.h"
#include "redirects.h"
#include "util.h"

/* ---- a source made of a table ---- */

struct trule {
	const char *host; /* "" : the default section */
	unsigned kind;
	const char *key;
	const char *query;
	unsigned line, flags, status;
	uint64_t expires;
	const char *url;
};

struct tsrc {
	const struct trule *v;
	size_t n;
	unsigned lookups, sections, walked;
};

static void
to_rule(const struct trule *t, struct match_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = t->kind;
	r->status = t->status;
	r->flags = t->flags;
	r->line = t->line;
	r->expires = t->expires;
	r->key = t->key;
	r->klen = strlen(t->key);
	r->query = t->query != NULL ? t->query : "";
	r->qlen = t->query != NULL ? strlen(t->query) : 0;
	r->url = t->url;
	r->ulen = strlen(t->url);
}

static int
same(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

static int
t_rule(void *ctx, const char *host, size_t hlen, unsigned kind, const char *key,
       size_t klen, struct match_rule *r)
{
	struct tsrc *s = ctx;
	size_t i;

	s->lookups++;
	for (i = 0; i < s->n; i++)
		if (s->v[i].kind == kind && same(s->v[i].host, host, hlen) &&
		    same(s->v[i].key, key, klen)) {
			to_rule(&s->v[i], r);
			return SH_OK;
		}
	return SH_ENOTFOUND;
}

static int
t_section(void *ctx, const char *host, size_t hlen, unsigned *depth)
{
	struct tsrc *s = ctx;
	size_t i;
	int any = 0;

	s->sections++;
	*depth = 0;
	for (i = 0; i < s->n; i++) {
		const char *k = s->v[i].key;
		unsigned d = 1 + (k[0] != '\0');

		if (!same(s->v[i].host, host, hlen))
			continue;
		any = 1;
		for (; *k != '\0'; k++)
			d += *k == '/';
		if (s->v[i].kind == REDIRECT_PREFIX && d > *depth)
			*depth = d;
	}
	return any ? SH_OK : SH_ENOTFOUND;
}

/* Pattern rules of one section, in line order (the table is sorted). */
static int
t_patterns(void *ctx, const char *host, size_t hlen, unsigned below,
           match_walk_fn fn, void *arg)
{
	struct tsrc *s = ctx;
	struct match_rule r;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->v[i].kind != REDIRECT_PATTERN ||
		    !same(s->v[i].host, host, hlen) || s->v[i].line >= below)
			continue;
		s->walked++;
		to_rule(&s->v[i], &r);
		if (fn(arg, &r))
			return SH_OK;
	}
	return SH_OK;
}

static void
tsrc_init(struct tsrc *t, const struct trule *v, size_t n,
          struct match_source *src, unsigned flags)
{
	size_t i;
	unsigned d;

	memset(t, 0, sizeof(*t));
	t->v = v;
	t->n = n;
	memset(src, 0, sizeof(*src));
	src->ctx = t;
	src->rule = t_rule;
	src->section = t_section;
	src->patterns = t_patterns;
	src->flags = flags;
	for (i = 0; i < n; i++) {
		src->hosts += v[i].host[0] != '\0';
		src->npattern += v[i].kind == REDIRECT_PATTERN;
	}
	(void)t_section(t, "", 0, &d);
	src->depth = d;
	t->sections = 0;
}

#define E REDIRECT_EXACT
#define P REDIRECT_PREFIX
#define T REDIRECT_PATTERN

/* ---- precedence in a gosherve-like map ---- */

static const struct trule plain[] = {
	{ "", E, "gh", NULL, 1, 0, 0, 0, "https://github.com/" },
	{ "", E, "docs", NULL, 2, 0, 0, 0, "https://d/home" },
	{ "", P, "docs", NULL, 3, 0, 0, 0, "https://d/:splat" },
	{ "", P, "docs/api", NULL, 4, 0, 307, 0, "https://api/:splat" },
	{ "", P, "", NULL, 5, 0, 302, 0, "https://all/:splat" },
	{ "", E, "old", NULL, 6, 0, 0, 1000, "https://old/" },
	{ "h.example", E, "gh", NULL, 7, 0, 0, 0, "https://github.com/h" },
	{ "h.example", P, "docs", NULL, 8, 0, 308, 0, "https://hd/:splat" },
};

struct res_row {
	unsigned line;
	const char *desc;
	const char *host, *path;
	int slash;
	int rc;
	const char *url;
	int in_host;
	const char *splat; /* NULL: none */
	int gone;
	unsigned lookups; /* rule() calls */
};

static const struct res_row plain_rows[] = {
	{ __LINE__, "exact", NULL, "gh", 0, SH_OK, "https://github.com/", 0,
	  NULL, 0, 1 },
	{ __LINE__, "exact beats its prefix", NULL, "docs", 0, SH_OK,
	  "https://d/home", 0, NULL, 0, 1 },
	{ __LINE__, "longest prefix", NULL, "docs/api/v/x", 0, SH_OK,
	  "https://api/:splat", 0, "v/x", 0, 2 },
	{ __LINE__, "prefix takes its own root", NULL, "docs/api", 0, SH_OK,
	  "https://api/:splat", 0, "", 0, 2 },
	{ __LINE__, "shorter prefix", NULL, "docs/b", 0, SH_OK,
	  "https://d/:splat", 0, "b", 0, 3 },
	{ __LINE__, "segments, not bytes", NULL, "docsx", 0, SH_OK,
	  "https://all/:splat", 0, "docsx", 0, 3 },
	{ __LINE__, "catch-all", NULL, "zz/y", 0, SH_OK, "https://all/:splat",
	  0, "zz/y", 0, 4 },
	{ __LINE__, "the root is no catch-all", NULL, "", 1, SH_ENOTFOUND, "",
	  0, NULL, 0, 1 },
	{ __LINE__, "reserved: no lookup at all", NULL, "robots.txt", 0,
	  SH_ENOTFOUND, "", 0, NULL, 0, 0 },
	{ __LINE__, "expired: gone", NULL, "old", 0, SH_OK, "https://old/", 0,
	  NULL, 1, 1 },
	{ __LINE__, "host exact", "h.example", "gh", 0, SH_OK,
	  "https://github.com/h", 1, NULL, 0, 1 },
	{ __LINE__, "host prefix beats default exact", "h.example", "docs", 0,
	  SH_OK, "https://hd/:splat", 1, "", 0, 2 },
	{ __LINE__, "host falls back", "h.example", "old", 0, SH_OK,
	  "https://old/", 0, NULL, 1, 4 },
	{ __LINE__, "unknown host: the default", "x.example", "gh", 0, SH_OK,
	  "https://github.com/", 0, NULL, 0, 1 },
};

static void
check_rows(const struct trule *v, size_t n, unsigned flags,
           const struct res_row *rows, size_t nrows)
{
	struct match_source src;
	struct match_result m;
	struct tsrc t;
	size_t i;

	for (i = 0; i < nrows; i++) {
		const struct res_row *r = &rows[i];
		struct match_request rq = { r->path,  strlen(r->path),
			                    r->slash, r->host,
			                    NULL,     2000 };
		int rc;

		tsrc_init(&t, v, n, &src, flags);
		rc = match_resolve(&src, &rq, &m);
		expect_int(r->line, r->desc, r->rc, rc);
		expect_u64(r->line, "lookups", r->lookups, t.lookups);
		if (rc != SH_OK)
			continue;
		expect_true(r->line, r->desc,
		            same(r->url, m.rule.url, m.rule.ulen));
		expect_int(r->line, "host section", r->in_host, m.host);
		expect_int(r->line, "gone", r->gone, m.gone);
		expect_int(r->line, "splat", r->splat != NULL, m.splat != NULL);
		if (r->splat != NULL && m.splat != NULL)
			expect_true(r->line, r->splat,
			            same(r->splat, m.splat, m.splen));
	}
}

static void
test_precedence(void)
{
	struct match_source src;
	struct match_request rq = { "a/b/c/d/e/f/g", 13, 0, NULL, NULL, 0 };
	struct match_result m;
	struct tsrc t;

	check_rows(plain, NELEM(plain), 0, plain_rows, NELEM(plain_rows));
	/* A deep path walks no deeper than the deepest prefix rule. */
	tsrc_init(&t, plain, NELEM(plain), &src, 0);
	expect_int(__LINE__, "deep miss", SH_OK, match_resolve(&src, &rq, &m));
	expect_u64(__LINE__, "exact, then 2 segments, 1, the catch-all", 4,
	           t.lookups);
	expect_u64(__LINE__, "no section asked without a host", 0, t.sections);
}

/* ---- first-match maps: the pattern walk and its line bound ---- */

static const struct trule ordered[] = {
	{ "", E, "a", NULL, 1, 0, 0, 0, "/one" },
	{ "", T, "blog/:year/:slug", NULL, 2, 0, 0, 0, "/news/:slug" },
	{ "", E, "blog/2024/x", NULL, 3, MATCH_SCAN, 0, 0, "/never" },
	{ "", T, "store", "id=:id", 4, 0, 0, 0, "/items/:id" },
	{ "", E, "store", NULL, 5, MATCH_SCAN, 0, 0, "/store-home" },
	{ "h.example", T, "p*", NULL, 6, 0, 0, 0, "/hp/:splat" },
	{ "", P, "", NULL, 7, MATCH_SCAN, 200, 0, "/index.html" },
};

static const struct res_row ordered_rows[] = {
	{ __LINE__, "no scan for an exact rule before any pattern", NULL, "a",
	  0, SH_OK, "/one", 0, NULL, 0, 1 },
	{ __LINE__, "an earlier placeholder rule wins", NULL, "blog/2024/x", 0,
	  SH_OK, "/news/:slug", 0, NULL, 0, 1 },
	{ __LINE__, "query condition unmet: the exact rule", NULL, "store", 0,
	  SH_OK, "/store-home", 0, NULL, 0, 1 },
	{ __LINE__, "a miss of every pattern: the catch-all", NULL, "zz", 0,
	  SH_OK, "/index.html", 0, "zz", 0, 2 },
	{ __LINE__, "host pattern before the default catch-all", "h.example",
	  "pq", 0, SH_OK, "/hp/:splat", 1, "q", 0, 3 },
	{ __LINE__, "other hosts: the catch-all", "x.example", "pq", 0, SH_OK,
	  "/index.html", 0, "pq", 0, 2 },
};

static void
test_ordered(void)
{
	struct match_source src;
	struct match_request rq = { "store", 5, 0, NULL, "x=1&id=42", 0 };
	struct match_result m;
	struct tsrc t;

	check_rows(ordered, NELEM(ordered), MATCH_ORDERED, ordered_rows,
	           NELEM(ordered_rows));
	tsrc_init(&t, ordered, NELEM(ordered), &src, MATCH_ORDERED);
	expect_int(__LINE__, "store?id=42", SH_OK,
	           match_resolve(&src, &rq, &m));
	expect_true(__LINE__, "the query rule",
	            same("/items/:id", m.rule.url, m.rule.ulen));
	expect_u64(__LINE__, "one capture", 1, m.ncap);
	expect_true(__LINE__, "id=42",
	            m.ncap == 1 && m.cap[0].from_query &&
	                    same("42", m.cap[0].val, m.cap[0].vlen) &&
	                    same("id", m.names, 2));
	expect_u64(__LINE__, "walked the two patterns before line 5", 2,
	           t.walked);
}

/* Leave bytes of 0xff where the next call's locals will be. */
static __attribute__((noinline)) void
dirty_stack(void)
{
	volatile unsigned char junk[16384];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0xff;
}

/*
 * A host rule that yields (MATCH_YIELD) to an earlier default rule: the
 * default rule's answer is whole, no capture or splat of anything else
 * (the fuzz target found one copied from uninitialised stack).
 */
static void
test_yield(void)
{
	static const struct trule v[] = {
		{ "", E, "gh", NULL, 1, 0, 0, 0, "https://github.com/" },
		{ "h.example", P, "", NULL, 2, MATCH_YIELD, 0, 0,
		  "https://h/:splat" },
	};
	struct match_request rq = { "gh", 2, 0, "h.example", NULL, 0 };
	struct match_source src;
	struct match_result m;
	struct tsrc t;

	tsrc_init(&t, v, NELEM(v), &src, MATCH_ORDERED);
	dirty_stack();
	expect_int(__LINE__, "gh on h.example", SH_OK,
	           match_resolve(&src, &rq, &m));
	expect_true(__LINE__, "the earlier default rule",
	            same("https://github.com/", m.rule.url, m.rule.ulen));
	expect_true(__LINE__, "no capture, no splat",
	            m.ncap == 0 && m.splat == NULL && m.splen == 0 &&
	                    m.host == 0);
	rq.path = "zz";
	rq.len = 2;
	dirty_stack();
	expect_int(__LINE__, "zz on h.example", SH_OK,
	           match_resolve(&src, &rq, &m));
	expect_true(__LINE__, "the host rule, where no default one is",
	            same("https://h/:splat", m.rule.url, m.rule.ulen) &&
	                    m.ncap == 0 && m.splat != NULL && m.splen == 2);
}

/* ---- match_pattern ---- */

struct pat_row {
	unsigned line;
	const char *key, *query;
	unsigned rflags, sflags;
	const char *path;
	int slash;
	const char *rq_query;
	int want;
	const char *splat; /* NULL: none */
	int splat_slash;
	const char *caps; /* "name=value;..." */
};

#define CF MATCH_CLOUDFLARE

static const struct pat_row pat_rows[] = {
	{ __LINE__, "news/:y/:m/:slug", NULL, 0, 0, "news/2024/05/hi", 0, NULL,
	  1, NULL, 0, "y=2024;m=05;slug=hi;" },
	{ __LINE__, "news/:y/:m/:slug", NULL, 0, 0, "news/2024/05", 0, NULL, 0,
	  NULL, 0, "" },
	{ __LINE__, "news/:y/:m/:slug", NULL, 0, 0, "news/2024/05/hi/x", 0,
	  NULL, 0, NULL, 0, "" },
	{ __LINE__, "page*", NULL, 0, 0, "page", 0, NULL, 1, "", 0, "" },
	{ __LINE__, "page*", NULL, 0, 0, "pages/a", 1, NULL, 1, "s/a", 1, "" },
	{ __LINE__, "page*", NULL, 0, 0, "pag", 0, NULL, 0, NULL, 0, "" },
	{ __LINE__, "*.html", NULL, 0, 0, "a/b.html", 0, NULL, 1, "a/b", 0,
	  "" },
	{ __LINE__, "*.html", NULL, 0, 0, "a/b.htm", 0, NULL, 0, NULL, 0, "" },
	{ __LINE__, "i/*/edit", NULL, 0, 0, "i/a/b/edit", 0, NULL, 1, "a/b", 0,
	  "" },
	{ __LINE__, "i/*/edit", NULL, 0, 0, "i/edit", 0, NULL, 0, NULL, 0, "" },
	{ __LINE__, ":lang/*", NULL, 0, 0, "en", 0, NULL, 1, "", 0,
	  "lang=en;" },
	{ __LINE__, ":lang/*", NULL, 0, 0, "en/a/b", 1, NULL, 1, "a/b", 1,
	  "lang=en;" },
	/* Cloudflare: the trailing '/' is a byte of the path. */
	{ __LINE__, ":lang/*", NULL, 0, CF, "en", 0, NULL, 0, NULL, 0, "" },
	{ __LINE__, ":lang/*", NULL, 0, CF, "en", 1, NULL, 1, "", 0,
	  "lang=en;" },
	{ __LINE__, ":lang/*", NULL, 0, CF, "en/a", 1, NULL, 1, "a", 1,
	  "lang=en;" },
	{ __LINE__, "p/:id", NULL, 0, CF, "p/1", 1, NULL, 0, NULL, 0, "" },
	{ __LINE__, "p/:id", NULL, MATCH_SLASH, CF, "p/1", 1, NULL, 1, NULL, 0,
	  "id=1;" },
	{ __LINE__, "p/:id", NULL, MATCH_SLASH, CF, "p/1", 0, NULL, 0, NULL, 0,
	  "" },
	{ __LINE__, "p/:id", NULL, 0, 0, "p/1", 1, NULL, 1, NULL, 0, "id=1;" },
	/* Query conditions. */
	{ __LINE__, "s", "id=:id", 0, 0, "s", 0, "id=7&x=1", 1, NULL, 0,
	  "id=7;" },
	{ __LINE__, "s", "id=:id", 0, 0, "s", 0, "x=1", 0, NULL, 0, "" },
	{ __LINE__, "s", "id=:id", 0, 0, "s", 0, "id=", 0, NULL, 0, "" },
	{ __LINE__, "s", "id=:id", 0, 0, "s", 0, NULL, 0, NULL, 0, "" },
	{ __LINE__, "s", "a=:x&b=2", 0, 0, "s", 0, "b=2&a=1", 1, NULL, 0,
	  "x=1;" },
	{ __LINE__, "s", "a=:x&b=2", 0, 0, "s", 0, "b=3&a=1", 0, NULL, 0, "" },
	{ __LINE__, "s", "flag", 0, 0, "s", 0, "flag", 1, NULL, 0, "" },
	{ __LINE__, "s", "flag", 0, 0, "s", 0, "flags=1", 0, NULL, 0, "" },
	{ __LINE__, "", "lang=:l", 0, 0, "", 1, "lang=de", 1, NULL, 0,
	  "l=de;" },
};

static void
caps_of(const struct match_result *m, char *out, size_t outsz)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < m->ncap && n < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%.*s=%.*s;",
		                      (int)m->cap[i].nlen,
		                      m->names + m->cap[i].name,
		                      (int)m->cap[i].vlen, m->cap[i].val);
}

static void
test_pattern(void)
{
	char caps[256];
	size_t i;

	for (i = 0; i < NELEM(pat_rows); i++) {
		const struct pat_row *p = &pat_rows[i];
		struct trule t = { "",        T, p->key, p->query, 1,
			           p->rflags, 0, 0,      "/x" };
		struct match_request rq = { p->path, strlen(p->path), p->slash,
			                    NULL,    p->rq_query,     0 };
		struct match_rule r;
		struct match_result m;
		int got;

		memset(&m, 0, sizeof(m));
		to_rule(&t, &r);
		got = match_pattern(&r, p->sflags, &rq, &m);
		expect_int(p->line, p->key, p->want, got);
		caps_of(&m, caps, sizeof(caps));
		expect_str(p->line, "captures", p->caps, caps);
		expect_int(p->line, "splat", p->splat != NULL, m.splat != NULL);
		if (p->splat == NULL || m.splat == NULL)
			continue;
		expect_true(p->line, p->splat,
		            same(p->splat, m.splat, m.splen));
		expect_int(p->line, "splat keeps the '/'", p->splat_slash,
		           m.splat_slash);
	}
}

/* ---- match_reserved ---- */

struct reserved_row {
	unsigned line;
	const char *path;
	int want;
};

static const struct reserved_row reserved_rows[] = {
	{ __LINE__, "robots.txt", 1 },
	{ __LINE__, "ROBOTS.TXT", 1 },
	{ __LINE__, "favicon.ico", 1 },
	{ __LINE__, ".well-known", 1 },
	{ __LINE__, ".well-known/acme-challenge/x", 1 },
	{ __LINE__, ".Well-Known/security.txt", 1 },
	{ __LINE__, "robots.txt/x", 0 },
	{ __LINE__, "robots", 0 },
	{ __LINE__, "a/robots.txt", 0 },
	{ __LINE__, ".well-knownx", 0 },
	{ __LINE__, "favicon.ico2", 0 },
	{ __LINE__, "", 0 },
};

static void
test_reserved(void)
{
	size_t i;

	for (i = 0; i < NELEM(reserved_rows); i++)
		expect_int(reserved_rows[i].line, reserved_rows[i].path,
		           reserved_rows[i].want,
		           match_reserved(reserved_rows[i].path,
		                          strlen(reserved_rows[i].path)));
}

/* ---- the order first-match servers need ---- */

static void
test_order(void)
{
	expect_true(__LINE__, "host sections first",
	            match_order("h", E, "z", "", E, "a") < 0);
	expect_true(__LINE__, "exact before prefix",
	            match_order("", E, "z", "", P, "a") < 0);
	expect_true(__LINE__, "longer prefix first",
	            match_order("", P, "a/b", "", P, "a") < 0);
	expect_true(__LINE__, "catch-all last",
	            match_order("", P, "a", "", P, "") < 0);
	expect_true(__LINE__, "case variants side by side",
	            match_order("", E, "B", "", E, "a") > 0 &&
	                    match_order("", E, "B", "", E, "b") < 0);
	expect_int(__LINE__, "equal", 0, match_order("", E, "a", "", E, "a"));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_precedence),
	UNIT_TEST(test_ordered),
	UNIT_TEST(test_yield),
	UNIT_TEST(test_pattern),
	UNIT_TEST(test_reserved),
	UNIT_TEST(test_order),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "match", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
