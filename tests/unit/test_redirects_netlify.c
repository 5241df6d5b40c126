/*
 * test_redirects_netlify.c - the "_redirects" format of Netlify and
 * Cloudflare (redirects_netlify.c): rule kinds (exact, prefix,
 * placeholders, a '*' inside, query conditions), statuses (301-308, 200,
 * 404 and 410 with or without a page, '!'), the Cloudflare dialect, host
 * rules from a from-URL, first-match order, and every line refused with
 * its one-line reason, up to the caps (16 placeholders a rule, 1000
 * pattern rules a map).
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "maprows.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

#define NETLIFY_REL                                                            \
	{                                                                      \
		REDIRECTS_NETLIFY, 0, 1, DIALECT_NETLIFY                       \
	}
#define P REDIRECT_PREFIX
#define T REDIRECT_PATTERN

/* ---- whole files: kinds and first-match order ---- */

static const struct rrow rrows[] = {
	{ __LINE__,
	  "_redirects: every rule kind; what sherve cannot do is skipped",
	  NETLIFY_REL,
	  "/old /new\n"
	  "/blog/:year/:slug /news/:slug\n"
	  "/a/*/b /x\n"
	  "/spa/* /index.html 200\n"
	  "/gone /x 410\n"
	  "/force /x 301!\n"
	  "/c /x 302 Country=us\n"
	  "/store id=:id /x 301\n"
	  "/q?x=1 /x\n"
	  "/docs/* https://d.example/:splat 302\n"
	  "/e https://e.example/:splat\n"
	  "https://Example.org/h https://h.example/\n"
	  "/lang /x Language=en\n"
	  "/foo* /x\n"
	  "/ok/* /ok2/:splat\n",
	  { { NULL, "force", "/x", 6, 301, 0 },
	    { NULL, "gone", "/x", 5, 410, 0 },
	    { NULL, "old", "/new", 1, 0, 0 },
	    { "example.org", "h", "https://h.example/", 12, 0, 0 },
	    { NULL, "docs/*", "https://d.example/:splat", 10, 302, P },
	    { NULL, "ok/*", "/ok2/:splat", 15, 0, P },
	    { NULL, "spa/*", "/index.html", 4, 200, P },
	    { NULL, "blog/:year/:slug", "/news/:slug", 2, 0, T },
	    { NULL, "a/*/b", "/x", 3, 0, T },
	    { NULL, "store", "/x", 8, 301, T },
	    { NULL, "q", "/x", 9, 0, T },
	    { NULL, "foo*", "/x", 14, 0, T } },
	  { 7, 11, 13 },
	  0 },
	{ __LINE__,
	  "_redirects: first match order is kept, a host rule yields, or "
	  "the line is skipped",
	  { REDIRECTS_NETLIFY, 0, 0, DIALECT_NETLIFY },
	  "/blog/* https://b/:splat\n"
	  "/blog/special https://s/\n"
	  "/x https://x1/\n"
	  "https://h.example/x https://x2/\n"
	  "https://h.example/y/* https://y/\n"
	  "/y/z https://yz/\n"
	  "/k/* https://k/\n"
	  "https://h.example/* https://all/\n"
	  "/docs/a/* https://da/\n"
	  "/docs/* https://d/\n"
	  "/exact https://e1/\n"
	  "/exact/* https://e2/\n",
	  { { NULL, "exact", "https://e1/", 11, 0, 0 },
	    { NULL, "x", "https://x1/", 3, 0, 0 },
	    { NULL, "y/z", "https://yz/", 6, 0, 0 },
	    { "h.example", "x", "https://x2/", 4, 0, 0 },
	    { NULL, "blog/*", "https://b/:splat", 1, 0, P },
	    { NULL, "docs/*", "https://d/", 10, 0, P },
	    { NULL, "docs/a/*", "https://da/", 9, 0, P },
	    { NULL, "exact/*", "https://e2/", 12, 0, P },
	    { NULL, "k/*", "https://k/", 7, 0, P },
	    { "h.example", "*", "https://all/", 8, 0, P },
	    { "h.example", "y/*", "https://y/", 5, 0, P } },
	  { 2 },
	  0 },
};

static void
test_rule_kinds(void)
{
	size_t i;

	for (i = 0; i < NELEM(rrows); i++)
		check_rrow(&rrows[i]);
}

/* Query conditions, in their own fields or after '?' in the from path. */
static void
test_query_conditions(void)
{
	static const struct {
		unsigned line;
		const char *buf, *alias, *query; /* NULL query: refused */
	} qrows[] = {
		{ __LINE__, "/store id=:id /x\n", "store", "id=:id" },
		{ __LINE__, "/q?x=1 /x\n", "q", "x=1" },
		{ __LINE__, "/q?x=1#f /x\n", "q", "x=1" },
		{ __LINE__, "/q?a=:a b=2 /x\n", "q", "b=2&a=:a" },
		{ __LINE__, "/q? /x\n", "q", "" },
		{ __LINE__, "/q?=1 /x\n", NULL, NULL },
		{ __LINE__, "/q =1 /x\n", NULL, NULL },
	};
	const struct redirects_opts o = NETLIFY_REL;
	struct redirect_map m;
	size_t i;

	for (i = 0; i < NELEM(qrows); i++) {
		memset(&m, 0, sizeof(m));
		expect_int(qrows[i].line, "parse", SH_OK,
		           redirects_parse_opts(qrows[i].buf,
		                                strlen(qrows[i].buf), &o, &m,
		                                NULL, NULL));
		expect_int(qrows[i].line, qrows[i].buf, qrows[i].alias != NULL,
		           m.n);
		if (m.n == 1 && qrows[i].alias != NULL) {
			expect_str(qrows[i].line, "alias", qrows[i].alias,
			           m.v[0].alias);
			expect_str(qrows[i].line, "query",
			           qrows[i].query[0] != '\0' ? qrows[i].query
			                                     : NULL,
			           m.v[0].query);
		}
		redirects_free(&m);
	}
}

/* ---- one line each: what is stored, or why it is refused ---- */

struct line_row {
	unsigned line;
	int cloudflare; /* the dialect */
	const char *buf;
	const char *why; /* the warning; NULL: stored as below */
	const char *alias, *url, *host;
	unsigned kind, status, flags;
};

#define SHAPE "expected from to [status]"
#define F     MATCH_FORCE
#define NEVER                                                                  \
	"the from path is one sherve never answers (\"..\", a dotfile, an "    \
	"encoded '/' or control character)"

/* clang-format off */
static const struct line_row line_rows[] = {
	/* statuses */
	{ __LINE__, 0, "/a /b", NULL, "a", "/b", NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b 301", NULL, "a", "/b", NULL, 0, 301, 0 },
	{ __LINE__, 0, "/a /b 302!", NULL, "a", "/b", NULL, 0, 302, F },
	{ __LINE__, 0, "/a /b 303", NULL, "a", "/b", NULL, 0, 303, 0 },
	{ __LINE__, 0, "/a /b 307", NULL, "a", "/b", NULL, 0, 307, 0 },
	{ __LINE__, 0, "/a /b 308", NULL, "a", "/b", NULL, 0, 308, 0 },
	{ __LINE__, 0, "/a /b 200", NULL, "a", "/b", NULL, 0, 200, 0 },
	{ __LINE__, 0, "/a /page.html 404", NULL, "a", "/page.html", NULL, 0,
	  404, 0 },
	{ __LINE__, 0, "/a /page.html 410!", NULL, "a", "/page.html", NULL,
	  0, 410, F },
	{ __LINE__, 0, "/a 410", NULL, "a", NULL, NULL, 0, 410, 0 },
	{ __LINE__, 0, "/a 404!", NULL, "a", NULL, NULL, 0, 404, F },
	{ __LINE__, 0, "/a 410 301", SHAPE, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b 299",
	  "invalid status (200, 301, 302, 303, 307, 308, 404 or 410)", NULL,
	  NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a https://o.example/ 200",
	  "status 200 to another host is a proxy (sherve is no proxy)", NULL,
	  NULL, NULL, 0, 0, 0 },
	/* the Cloudflare dialect: 302 by default, every rule forced */
	{ __LINE__, 1, "/a /b", NULL, "a", "/b", NULL, 0, 302, F },
	{ __LINE__, 1, "/a /b 301", NULL, "a", "/b", NULL, 0, 301, F },
	/* fields after the target */
	{ __LINE__, 0, "/a /b 301 # why", NULL, "a", "/b", NULL, 0, 301, 0 },
	{ __LINE__, 0, "/a /b #301", NULL, "a", "/b", NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b expires=2030-01-01", NULL, "a", "/b", NULL, 0,
	  0, 0 },
	{ __LINE__, 0, "/a /b expires=soon",
	  "invalid expires= (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)", NULL,
	  NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b expires=2030-01-01 301",
	  "the status goes before expires=, not after it", NULL, NULL, NULL,
	  0, 0, 0 },
	{ __LINE__, 0, "/a 410 expires=2030-01-01 301", SHAPE, NULL, NULL,
	  NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b Country=us",
	  "conditions (Country=, Language=, Role=...) are not supported",
	  NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b 301 extra", SHAPE, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a", SHAPE, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a b c", SHAPE, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a /b 301 x x x x x", SHAPE, NULL, NULL, NULL, 0, 0,
	  0 },
	/* the from path */
	{ __LINE__, 0, "/a%20b /x", NULL, "a b", "/x", NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a#frag /x", NULL, "a", "/x", NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a%zz /x", "invalid percent-encoding in the from path",
	  NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/.env /x", NEVER, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/../b /x", NEVER, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a%2fb /x", NEVER, NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "https://Ex.ORG/h /x", NULL, "h", "/x", "ex.org", 0, 0,
	  0 },
	/* splats and placeholders */
	{ __LINE__, 0, "/d/* /n/:splat", NULL, "d/*", "/n/:splat", NULL, P, 0,
	  0 },
	{ __LINE__, 0, "/* /all", NULL, "*", "/all", NULL, P, 0, 0 },
	{ __LINE__, 0, "/d* /x", NULL, "d*", "/x", NULL, T, 0, 0 },
	{ __LINE__, 0, "/a/*/b /x/:splat", NULL, "a/*/b", "/x/:splat", NULL,
	  T, 0, 0 },
	{ __LINE__, 0, "/u/:id/p/:n /v/:n/:id", NULL, "u/:id/p/:n",
	  "/v/:n/:id", NULL, T, 0, 0 },
	{ __LINE__, 0, "/a/*/b/* /x", "only one '*' per rule", NULL, NULL,
	  NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/:id.html /x",
	  "a placeholder (:name) is a whole segment", NULL, NULL, NULL, 0, 0,
	  0 },
	{ __LINE__, 0, "/a/x:id /x", NULL, "a/x:id", "/x", NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/*/:id /x", "a placeholder after the '*'", NULL,
	  NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/:splat /x",
	  "':splat' names the '*' part; name the placeholder otherwise", NULL,
	  NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/:x/:x /y", "a placeholder named twice, or too many",
	  NULL, NULL, NULL, 0, 0, 0 },
	{ __LINE__, 0, "/a/:x x=:x /y",
	  "a placeholder named twice, or too many", NULL, NULL, NULL, 0, 0,
	  0 },
};
/* clang-format on */

static void
check_line(const struct line_row *r)
{
	struct redirects_opts o = NETLIFY_REL;
	struct redirect_map m;
	struct warns w;

	o.dialect = r->cloudflare ? DIALECT_CLOUDFLARE : DIALECT_NETLIFY;
	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(r->line, r->buf, SH_OK,
	           redirects_parse_opts(r->buf, strlen(r->buf), &o, &m, collect,
	                                &w));
	expect_int(r->line, r->buf, r->why == NULL, m.n);
	expect_int(r->line, r->buf, r->why != NULL, w.n);
	expect_int(r->line, r->buf, r->why != NULL, m.invalid);
	if (r->why != NULL)
		expect_str(r->line, r->buf, r->why, w.n == 1 ? w.why[0] : "");
	if (m.n == 1 && r->why == NULL) {
		expect_str(r->line, r->buf, r->alias, m.v[0].alias);
		expect_str(r->line, r->buf, r->url != NULL ? r->url : "",
		           m.v[0].url);
		expect_str(r->line, r->buf, r->host, m.v[0].host);
		expect_int(r->line, r->buf, r->kind, m.v[0].kind);
		expect_int(r->line, r->buf, r->status, m.v[0].status);
		expect_int(r->line, r->buf, r->flags,
		           m.v[0].flags & (MATCH_FORCE | MATCH_YIELD));
	}
	redirects_free(&m);
}

static void
test_lines(void)
{
	size_t i;

	for (i = 0; i < NELEM(line_rows); i++)
		check_line(&line_rows[i]);
}

/* A rule that can never answer is dropped, and told why. */
static void
test_shadowed(void)
{
	static const char buf[] = "/d/* /all\n/d/x /x\n";
	const struct redirects_opts o = NETLIFY_REL;
	struct redirect_map m;
	struct warns w;

	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "parse", SH_OK,
	           redirects_parse_opts(buf, strlen(buf), &o, &m, collect, &w));
	expect_int(__LINE__, "the prefix rule kept alone", 1, m.n);
	expect_int(__LINE__, "one warning", 1, w.n);
	expect_int(__LINE__, "... for line 2", 2, w.lines[0]);
	expect_str(__LINE__, "... saying why",
	           "an earlier line takes these paths first in _redirects "
	           "order",
	           w.n == 1 ? w.why[0] : "");
	redirects_free(&m);
}

/* 16 placeholders a rule; 17 are refused. */
static void
test_placeholder_cap(void)
{
	char buf[512];
	struct redirect_map m;
	struct warns w;
	size_t n, i, len;

	for (n = MATCH_CAPS; n <= MATCH_CAPS + 1; n++) {
		len = 0;
		for (i = 0; i < n; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			                        "/:p%zu", i);
		snprintf(buf + len, sizeof(buf) - len, " /x\n");
		memset(&m, 0, sizeof(m));
		memset(&w, 0, sizeof(w));
		expect_int(__LINE__, "parse", SH_OK,
		           redirects_parse_opts(
		                   buf, strlen(buf),
		                   &(struct redirects_opts)NETLIFY_REL, &m,
		                   collect, &w));
		expect_int(__LINE__, n == MATCH_CAPS ? "16 kept" : "17 refused",
		           n == MATCH_CAPS, m.n);
		if (n > MATCH_CAPS)
			expect_str(__LINE__, "... and why",
			           "a placeholder named twice, or too many",
			           w.n == 1 ? w.why[0] : "");
		redirects_free(&m);
	}
}

/* 1000 pattern rules a map: the 1001st is refused, once, and why. */
static void
test_pattern_cap(void)
{
	const size_t n = REDIRECT_PATTERNS_MAX + 1;
	const struct redirects_opts o = NETLIFY_REL;
	char *buf = malloc(n * 24);
	struct redirect_map m;
	struct warns w;
	size_t i, len = 0;

	require_true(__LINE__, "malloc", buf != NULL);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, n * 24 - len,
		                        "/p%zu/:id /x/:id\n", i);
	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "parse", SH_OK,
	           redirects_parse_opts(buf, len, &o, &m, collect, &w));
	expect_int(__LINE__, "1000 kept", REDIRECT_PATTERNS_MAX, m.n);
	expect_int(__LINE__, "one warning", 1, w.n);
	expect_int(__LINE__, "... for the last line", n, w.lines[0]);
	expect_has(__LINE__, "... saying why", w.n == 1 ? w.why[0] : "",
	           "more than 1000 pattern rules");
	redirects_free(&m);
	free(buf);
}

static const struct unit_test netlify_tests[] = {
	UNIT_TEST(test_rule_kinds),
	UNIT_TEST(test_query_conditions),
	UNIT_TEST(test_lines),
	UNIT_TEST(test_shadowed),
	UNIT_TEST(test_placeholder_cap),
	UNIT_TEST(test_pattern_cap),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "redirects_netlify", NULL, NULL, netlify_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
