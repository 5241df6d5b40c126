/*
 * test_chain.c - chains and loops across a parsed map (chain.c): where a
 * rule's target leads when the site answers it again, through paths,
 * the hostnames setting and @host sections; loops, files that end a
 * chain (not for a forced rule), expiry, rules whose target depends on
 * the request, the hop limit, and how chains are written.
 */
#include "unit.h"

#include "chain.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

/* A file check for chain_opts.is_file: the paths in the list (ctx). */
static int
listed_file(void *ctx, const char *rel, int slash)
{
	const char *const *f;

	(void)slash;
	for (f = ctx; *f != NULL; f++)
		if (strcmp(*f, rel) == 0)
			return 1;
	return 0;
}

struct crow {
	unsigned line;
	const char *desc;
	int netlify;     /* a _redirects map */
	const char *map; /* the file */
	const char *hostnames;
	unsigned start; /* the rule followed: its line in map */
	enum chain_kind want;
	const char *path; /* chain_format() of it */
};

#define GOS 0
#define NET 1

/* Files of the site for every row: a chain ends where one answers. */
static const char *const files[] = { "page.html", NULL };

static const struct crow crows[] = {
	{ __LINE__, "a path target another rule answers", GOS,
	  "a /b\nb https://x.example/\n", "", 1, CHAIN_CHAIN,
	  "a -> b -> https://x.example/" },
	{ __LINE__, "a target on another host is not followed", GOS,
	  "a https://other.example/b\nb https://x.example/\n", "", 1,
	  CHAIN_NONE, NULL },
	{ __LINE__, "... unless hostnames names it (case, port, dot)", GOS,
	  "a https://Other.Example.:8443/b\nb https://x.example/\n",
	  "site.example, other.example", 1, CHAIN_CHAIN,
	  "a -> b -> https://x.example/" },
	{ __LINE__, "an @host section's name is the site's", GOS,
	  "a https://h.example/b\n@host h.example\nb https://x.example/\n", "",
	  1, CHAIN_CHAIN, "a -> https://h.example/b -> https://x.example/" },
	{ __LINE__, "a loop", GOS, "a /b\nb /c\nc /a\n", "", 1, CHAIN_LOOP,
	  "a -> b -> c -> a" },
	{ __LINE__, "a loop through hostnames", GOS,
	  "a https://s.example/b\nb https://s.example/a\n", "s.example", 2,
	  CHAIN_LOOP, "b -> a -> b" },
	{ __LINE__, "a loop through percent-encoded paths", GOS,
	  "a /%62\nb /%61\n", "", 1, CHAIN_LOOP, "a -> b -> a" },
	{ __LINE__, "... and through percent-encoded URLs (url.c decodes)", GOS,
	  "a https://s.example/%62\nb https://S.example/%61?x=1\n", "s.example",
	  1, CHAIN_LOOP, "a -> b -> a" },
	{ __LINE__, "a prefix rule in the way", GOS,
	  "a /docs/x\ndocs/* https://d.example/:splat\n", "", 1, CHAIN_CHAIN,
	  "a -> docs/* -> https://d.example/x" },
	{ __LINE__, "a rule whose target depends on the request starts none",
	  GOS, "docs/* /a/:splat\na https://x.example/\n", "", 1, CHAIN_NONE,
	  NULL },
	{ __LINE__, "a file answers first: the chain ends", GOS,
	  "a /page.html\n* https://x.example/:splat\n", "", 1, CHAIN_NONE,
	  NULL },
	{ __LINE__, "a forced rule answers before the file", NET,
	  "/a /page.html\n/page.html https://x.example/ 301!\n", "", 1,
	  CHAIN_CHAIN, "/a -> /page.html -> https://x.example/" },
	{ __LINE__, "a gone rule ends it", GOS, "a /b\nb 410\n", "", 1,
	  CHAIN_NONE, NULL },
	{ __LINE__, "an expired rule ends it", GOS,
	  "a /b\nb https://x.example/ 301 expires=2001-01-01\n", "", 1,
	  CHAIN_NONE, NULL },
	{ __LINE__, "a rewrite ends it", NET, "/a /b\n/b /page.html 200\n", "",
	  1, CHAIN_NONE, NULL },
	{ __LINE__, "placeholders and the query along the way", NET,
	  "/a /blog/2024/x?ref=a\n/blog/:y/:s https://b.example/:y-:s\n", "", 1,
	  CHAIN_CHAIN, "/a -> /blog/:y/:s -> https://b.example/2024-x?ref=a" },
	{ __LINE__, "a relative end on another host is made absolute", NET,
	  "/a https://h.example/b\nhttps://h.example/b /c\n", "", 1,
	  CHAIN_CHAIN, "/a -> https://h.example/b -> https://h.example/c" },
	{ __LINE__, "a chain of 17 rules is called a loop", GOS,
	  "r0 /r1\nr1 /r2\nr2 /r3\nr3 /r4\nr4 /r5\nr5 /r6\nr6 /r7\nr7 /r8\n"
	  "r8 /r9\nr9 /r10\nr10 /r11\nr11 /r12\nr12 /r13\nr13 /r14\n"
	  "r14 /r15\nr15 /r16\nr16 https://x.example/\n",
	  "", 1, CHAIN_LOOP, NULL },
	{ __LINE__, "16 rules are a chain", GOS,
	  "r0 /r1\nr1 /r2\nr2 /r3\nr3 /r4\nr4 /r5\nr5 /r6\nr6 /r7\nr7 /r8\n"
	  "r8 /r9\nr9 /r10\nr10 /r11\nr11 /r12\nr12 /r13\nr13 /r14\n"
	  "r14 /r15\nr15 https://x.example/\n",
	  "", 1, CHAIN_CHAIN, NULL },
};

/* The rule of m on line, or NULL. */
static const struct redirect *
on_line(const struct redirect_map *m, unsigned line)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->v[i].line == line)
			return &m->v[i];
	return NULL;
}

static void
check_crow(const struct crow *r)
{
	struct redirects_opts po = { r->netlify ? REDIRECTS_NETLIFY
		                                : REDIRECTS_GOSHERVE,
		                     0, 1, DIALECT_NETLIFY };
	struct chain_opts o = { r->hostnames, listed_file, (void *)files,
		                301,          1,           1700000000 };
	struct redirect_map m;
	const struct redirect *start;
	struct chain c;
	char out[512];
	enum chain_kind k;

	memset(&m, 0, sizeof(m));
	expect_int(r->line, "parse", SH_OK,
	           redirects_parse_opts(r->map, strlen(r->map), &po, &m, NULL,
	                                NULL));
	start = on_line(&m, r->start);
	if (!unit_check(start != NULL, __FILE__, r->line, "no rule on line %u",
	                r->start)) {
		redirects_free(&m);
		return;
	}
	k = chain_follow(&m, &o, start, &c);
	expect_int(r->line, r->desc, r->want, k);
	if (r->path != NULL) {
		chain_format(&c, k, out, sizeof(out));
		expect_str(r->line, r->desc, r->path, out);
	}
	redirects_free(&m);
}

static void
test_chains(void)
{
	size_t i;

	for (i = 0; i < NELEM(crows); i++)
		check_crow(&crows[i]);
}

/* What would end a loop (chain_hint()): the closing rule's request. */
static const struct hrow {
	unsigned line;
	const char *desc;
	int netlify;
	const char *map;
	const char *hint;
} hrows[] = {
	{ __LINE__, "a rule that covers its own target", NET,
	  "/1226/* /1226/coding-style 307\n",
	  " (no file of the webroot answers /1226/coding-style first)" },
	{ __LINE__, "a placeholder rule, its target's slash kept", NET,
	  "/docs/:v/x /docs/next/x/\n",
	  " (no file of the webroot answers /docs/next/x/ first)" },
	{ __LINE__, "gosherve rules yield to files too", GOS, "a /b\nb /a\n",
	  " (no file of the webroot answers /a first)" },
	{ __LINE__, "a forced rule closing it: no file ends it", NET,
	  "/a /b 301!\n/b /a 301!\n", "" },
};

static void
test_loop_hint(void)
{
	struct chain_opts o = { "", NULL, NULL, 301, 1, 0 };
	struct redirect_map m;
	struct chain c;
	char out[160];
	size_t i;

	for (i = 0; i < NELEM(hrows); i++) {
		const struct hrow *r = &hrows[i];
		struct redirects_opts po = { r->netlify ? REDIRECTS_NETLIFY
			                                : REDIRECTS_GOSHERVE,
			                     0, 1, DIALECT_NETLIFY };

		memset(&m, 0, sizeof(m));
		expect_int(r->line, "parse", SH_OK,
		           redirects_parse_opts(r->map, strlen(r->map), &po, &m,
		                                NULL, NULL));
		if (m.n > 0) {
			expect_int(r->line, r->desc, CHAIN_LOOP,
			           chain_follow(&m, &o, &m.v[0], &c));
			chain_hint(&c, out, sizeof(out));
			expect_str(r->line, r->desc, r->hint, out);
		}
		redirects_free(&m);
	}
}

/* chain_format() into a short buffer: cut, with "...", NUL-terminated. */
static void
test_format_truncates(void)
{
	static const char map[] = "aaaaaaaaaa /bbbbbbbbbb\n"
	                          "bbbbbbbbbb https://x.example/long/path\n";
	struct redirects_opts po = { REDIRECTS_GOSHERVE, 0, 1,
		                     DIALECT_NETLIFY };
	struct chain_opts o = { "", NULL, NULL, 301, 1, 0 };
	struct redirect_map m;
	struct chain c;
	char out[16];

	memset(&m, 0, sizeof(m));
	expect_int(__LINE__, "parse", SH_OK,
	           redirects_parse_opts(map, strlen(map), &po, &m, NULL, NULL));
	expect_int(__LINE__, "a chain", CHAIN_CHAIN,
	           chain_follow(&m, &o, on_line(&m, 1), &c));
	memset(out, 'x', sizeof(out));
	chain_format(&c, CHAIN_CHAIN, out, sizeof(out));
	expect_str(__LINE__, "cut with ...", "aaaaaaaaaa -...", out);
	redirects_free(&m);
}

/* The request a target makes: own (1), another host's (0), none (-1). */
static void
test_target(void)
{
	static const struct {
		unsigned line;
		const char *url, *cur, *host, *path;
		int want;
	} rows[] = {
		{ __LINE__, "/a/.//b", NULL, "", "a/b", 1 },
		{ __LINE__, "/a/../b", NULL, "", "", -1 }, /* refused */
		{ __LINE__, "/x", "h.example", "h.example", "x", 1 },
		{ __LINE__, "https://s.example/%61", NULL, "s.example", "a",
		  1 },
		{ __LINE__, "https://o.example/a", NULL, "o.example", "a", 0 },
		{ __LINE__, "ftp://s.example/a", NULL, "", "", -1 },
		{ __LINE__, "//s.example/a", NULL, "", "", -1 },
	};
	static const char map[] = "z https://x.example/\n";
	struct redirects_opts po = { REDIRECTS_GOSHERVE, 0, 1,
		                     DIALECT_NETLIFY };
	struct chain_opts o = { "s.example", NULL, NULL, 301, 1, 0 };
	char host[LOCATION_HOST_MAX + 1], rel[256];
	struct match_request rq;
	struct redirect_map m;
	size_t i;
	int got;

	memset(&m, 0, sizeof(m));
	expect_int(__LINE__, "parse", SH_OK,
	           redirects_parse_opts(map, strlen(map), &po, &m, NULL, NULL));
	for (i = 0; i < NELEM(rows); i++) {
		memset(&rq, 0, sizeof(rq));
		got = chain_target(&m, &o, rows[i].url, rows[i].cur, host, rel,
		                   sizeof(rel), &rq);
		expect_int(rows[i].line, rows[i].url, rows[i].want, got);
		if (got < 0)
			continue;
		expect_str(rows[i].line, "host", rows[i].host, host);
		expect_str(rows[i].line, "path", rows[i].path, rel);
	}
	redirects_free(&m);
}

static const struct unit_test chain_tests[] = {
	UNIT_TEST(test_chains),
	UNIT_TEST(test_format_truncates),
	UNIT_TEST(test_loop_hint),
	UNIT_TEST(test_target),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "chain", NULL, NULL, chain_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
