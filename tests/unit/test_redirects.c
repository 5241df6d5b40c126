/*
 * test_redirects.c - the redirects file parser (redirects.c): lines, the
 * gosherve format, targets, the map, and its warnings. The "_redirects"
 * format is test_redirects_netlify.c's.
 */
#include "unit.h"

#include <stdlib.h>

#include "maprows.h"
#include "redirects.h"
#include "url.h"
#include "util.h"

struct entry {
	const char *alias;
	const char *url;
	unsigned line;
};

struct row {
	unsigned line;
	const char *desc;
	const char *buf;
	size_t len;                   /* 0: strlen(buf) */
	struct entry want[MAXENT];    /* in sorted order, alias NULL ends */
	unsigned warn_lines[MAXWARN]; /* in callback order, 0 ends */
	unsigned invalid, duplicates;
};

static const struct row rows[] = {
	{ __LINE__,
	  "two lines",
	  "a http://a.example/\nb https://b.example/x\n",
	  0,
	  { { "a", "http://a.example/", 1 },
	    { "b", "https://b.example/x", 2 } },
	  { 0 },
	  0,
	  0 },
	{ __LINE__,
	  "comments, blank lines, CRLF, tabs, no final newline",
	  "# comment\n"
	  "\n"
	  "   \t\n"
	  "  # indented comment\n"
	  "one\thttp://one.example/\r\n"
	  "two  \t  https://two.example/p?q=1   \r\n"
	  "\r\n"
	  "#x http://commented.example/\n"
	  "three http://three.example/",
	  0,
	  { { "one", "http://one.example/", 5 },
	    { "three", "http://three.example/", 9 },
	    { "two", "https://two.example/p?q=1", 6 } },
	  { 0 },
	  0,
	  0 },
	{ __LINE__,
	  "leading whitespace before an entry",
	  "  \tlead http://lead.example/\n",
	  0,
	  { { "lead", "http://lead.example/", 1 } },
	  { 0 },
	  0,
	  0 },
	{ __LINE__,
	  "wrong field counts",
	  "onlyalias\n"
	  "a http://a.example/ extra\n"
	  "b http://b.example/\n"
	  "c\t\n"
	  "d http://d.example/ 301 more\n"
	  "e http://e.example/ # trailing comment\n",
	  0,
	  { { "b", "http://b.example/", 3 } },
	  { 1, 2, 4, 5, 6 },
	  5,
	  0 },
	{ __LINE__,
	  "URLs that are not absolute http(s)",
	  "f ftp://x.example/\n"
	  "r /relative\n"
	  "h http://\n"
	  "h2 http:///x\n"
	  "s https://\n"
	  "m mailto:x@example.com\n"
	  "j javascript:alert(1)\n"
	  "p //example.com/x\n"
	  "q http://?x\n"
	  "ok HTTP://UP.example/\n"
	  "ok2 https://x.example?y\n"
	  "ok3 http://h\n"
	  "n httpx://x.example/\n",
	  0,
	  { { "ok", "HTTP://UP.example/", 10 },
	    { "ok2", "https://x.example?y", 11 },
	    { "ok3", "http://h", 12 } },
	  { 1, 2, 3, 4, 5, 6, 7, 8, 9, 13 },
	  10,
	  0 },
	{ __LINE__,
	  "control characters",
	  "a http://a.example/\x01\n"
	  "b\x1b http://b.example/\n"
	  "c http://c.example/\x7f\n"
	  "d http://d.example/%0d%0a\n"
	  "e http://e.example/\rX\n"
	  "\x0b"
	  "f http://f.example/\n"
	  "g\x1b[31m http://g.example/\n"
	  "h http://h.example/\n",
	  0,
	  { { "d", "http://d.example/%0d%0a", 4 },
	    { "h", "http://h.example/", 8 } },
	  { 1, 2, 3, 5, 6, 7 },
	  6,
	  0 },
	{ __LINE__,
	  "embedded NUL",
	  "a http://a.example/\0x\nb http://b.example/\n",
	  42,
	  { { "b", "http://b.example/", 2 } },
	  { 1 },
	  1,
	  0 },
	{ __LINE__,
	  "alias slashes trimmed",
	  "/a/ http://a.example/\n"
	  "//b// http://b.example/\n"
	  "/ http://root.example/\n"
	  "/// http://root.example/\n"
	  "c/d/ http://cd.example/\n",
	  0,
	  { { "a", "http://a.example/", 1 },
	    { "b", "http://b.example/", 2 },
	    { "c/d", "http://cd.example/", 5 } },
	  { 3, 4 },
	  2,
	  0 },
	{ __LINE__,
	  "duplicates: first line wins",
	  "x http://1.example/\n"
	  "y http://y.example/\n"
	  "x http://2.example/\n"
	  "/x/ http://3.example/\n"
	  "bad line here\n",
	  0,
	  { { "x", "http://1.example/", 1 }, { "y", "http://y.example/", 2 } },
	  /* invalid lines as they come, then duplicates after the sort */
	  { 5, 3, 4 },
	  1,
	  2 },
	{ __LINE__,
	  "sorted in memcmp order, shorter first",
	  "ab http://1/\n"
	  "a/b http://2/\n"
	  "\xc3\xa9 http://3/\n"
	  "a- http://4/\n"
	  "B http://5/\n"
	  "a http://6/\n",
	  0,
	  { { "B", "http://5/", 5 },
	    { "a", "http://6/", 6 },
	    { "a-", "http://4/", 4 },
	    { "a/b", "http://2/", 2 },
	    { "ab", "http://1/", 1 },
	    { "\xc3\xa9", "http://3/", 3 } },
	  { 0 },
	  0,
	  0 },
	{ __LINE__, "empty input", "", 0, { { NULL, NULL, 0 } }, { 0 }, 0, 0 },
	{ __LINE__,
	  "only comments and blanks",
	  "#\n\n# x y\n \r\n",
	  0,
	  { { NULL, NULL, 0 } },
	  { 0 },
	  0,
	  0 },
	{ __LINE__,
	  "lone CR lines are blank",
	  "\r\n\r\na http://a.example/\r\n",
	  0,
	  { { "a", "http://a.example/", 3 } },
	  { 0 },
	  0,
	  0 },
};

static void
check_row(const struct row *r)
{
	struct redirect_map m;
	struct warns w;
	size_t len = r->len != 0 ? r->len : strlen(r->buf), i, nwant, nw;

	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(r->line, r->desc, SH_OK,
	           redirects_parse(r->buf, len, &m, collect, &w));
	for (nwant = 0; nwant < MAXENT && r->want[nwant].alias != NULL; nwant++)
		;
	for (nw = 0; nw < MAXWARN && r->warn_lines[nw] != 0; nw++)
		;
	expect_int(r->line, r->desc, nwant, m.n);
	for (i = 0; i < nwant && i < m.n; i++) {
		expect_str(r->line, r->desc, r->want[i].alias, m.v[i].alias);
		expect_str(r->line, r->desc, r->want[i].url, m.v[i].url);
		expect_int(r->line, r->desc, r->want[i].line, m.v[i].line);
	}
	expect_int(r->line, r->desc, r->invalid, m.invalid);
	expect_int(r->line, r->desc, r->duplicates, m.duplicates);
	expect_int(r->line, "warning count", nw, w.n);
	for (i = 0; i < nw && i < w.n; i++) {
		expect_int(r->line, r->desc, r->warn_lines[i], w.lines[i]);
		expect_true(r->line, "a reason is given",
		            w.why[i] != NULL && w.why[i][0] != '\0');
	}
	redirects_free(&m);
	expect_true(r->line, "free zeroes the map",
	            m.v == NULL && m.n == 0 && m.cap == 0 && m.invalid == 0);
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		check_row(&rows[i]);
}

static void
test_warn_null(void)
{
	struct redirect_map m;

	memset(&m, 0, sizeof(m));
	expect_int(__LINE__, "NULL warn", SH_OK,
	           redirects_parse("x\na http://a/\na http://b/\n", 26, &m,
	                           NULL, NULL));
	expect_int(__LINE__, "NULL warn: entries", 1, m.n);
	expect_int(__LINE__, "NULL warn: invalid", 1, m.invalid);
	expect_int(__LINE__, "NULL warn: duplicates", 1, m.duplicates);
	redirects_free(&m);
	/* The map is reusable after redirects_free. */
	expect_int(__LINE__, "reuse", SH_OK,
	           redirects_parse("b http://b/\n", 12, &m, NULL, NULL));
	expect_int(__LINE__, "reuse: entries", 1, m.n);
	expect_str(__LINE__, "reuse: alias", "b", m.n == 1 ? m.v[0].alias : "");
	redirects_free(&m);
	redirects_free(&m); /* twice is safe on a zeroed map */
}

/* A line "ALIAS URL" with an alias of alen bytes and a URL of ulen. */
static char *
long_line(size_t alen, size_t ulen, size_t *len)
{
	static const char pre[] = "http://x.example/";
	char *buf = malloc(alen + ulen + 3), *p;

	if (buf == NULL)
		return NULL;
	memset(buf, 'a', alen);
	p = buf + alen;
	*p++ = ' ';
	memcpy(p, pre, sizeof(pre) - 1);
	memset(p + sizeof(pre) - 1, 'u', ulen - (sizeof(pre) - 1));
	p += ulen;
	*p++ = '\n';
	*p = '\0';
	*len = (size_t)(p - buf);
	return buf;
}

struct len_row {
	unsigned line;
	const char *desc;
	size_t alen, ulen;
	size_t want_n;
};

static const struct len_row len_rows[] = {
	{ __LINE__, "alias of 500 bytes", REDIRECT_ALIAS_MAX, 40, 1 },
	{ __LINE__, "alias of 501 bytes", REDIRECT_ALIAS_MAX + 1, 40, 0 },
	{ __LINE__, "alias of 4096 bytes", 4096, 40, 0 },
	{ __LINE__, "URL of 8192 bytes", 8, REDIRECT_URL_MAX, 1 },
	{ __LINE__, "URL of 8193 bytes", 8, REDIRECT_URL_MAX + 1, 0 },
	{ __LINE__, "URL of 1 MiB", 8, 1 << 20, 0 },
};

/* A URL is measured as sent: each byte that is not ASCII as "%XX". */
static void
utf8_lengths(void)
{
	static const size_t ulen[] = { REDIRECT_URL_MAX - 2,
		                       REDIRECT_URL_MAX - 1 };
	size_t i, len;

	for (i = 0; i < NELEM(ulen); i++) {
		struct redirect_map m;
		char *buf = long_line(8, ulen[i], &len);

		require_true(__LINE__, "malloc", buf != NULL);
		/* One byte of the URL (before its last) becomes 0xc3. */
		buf[len - 3] = '\xc3';
		memset(&m, 0, sizeof(m));
		expect_int(__LINE__, "parse", SH_OK,
		           redirects_parse(buf, len, &m, NULL, NULL));
		expect_int(
		        __LINE__,
		        i == 0 ? "8190 bytes, one not ASCII (8192 sent): kept"
		               : "8191 bytes, one not ASCII (8193 sent): "
		                 "refused",
		        i == 0 ? 1 : 0, m.n);
		redirects_free(&m);
		free(buf);
	}
}

static void
test_lengths(void)
{
	size_t i;

	for (i = 0; i < NELEM(len_rows); i++) {
		const struct len_row *r = &len_rows[i];
		struct redirect_map m;
		struct warns w;
		size_t len = 0;
		char *buf = long_line(r->alen, r->ulen, &len);

		require_true(r->line, "malloc", buf != NULL);
		memset(&m, 0, sizeof(m));
		memset(&w, 0, sizeof(w));
		expect_int(r->line, r->desc, SH_OK,
		           redirects_parse(buf, len, &m, collect, &w));
		expect_int(r->line, r->desc, r->want_n, m.n);
		expect_int(r->line, r->desc, 1 - r->want_n, m.invalid);
		if (m.n == 1) {
			expect_int(r->line, r->desc, r->alen,
			           strlen(m.v[0].alias));
			expect_int(r->line, r->desc, r->ulen,
			           strlen(m.v[0].url));
		} else {
			expect_int(r->line, "warned line", 1,
			           w.n == 1 ? w.lines[0] : 0);
		}
		redirects_free(&m);
		free(buf);
	}
	utf8_lengths();
}

/* xorshift64: the same "random" bytes on every run. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
test_binary_garbage(void)
{
	const size_t len = 1 << 16;
	char *buf = malloc(len);
	struct redirect_map m;
	struct warns w;
	uint64_t seed = 0x5eed5eed5eedULL;
	size_t i;

	require_true(__LINE__, "malloc", buf != NULL);
	for (i = 0; i < len; i++)
		buf[i] = (char)(next_rand(&seed) & 0xff);
	memset(&m, 0, sizeof(m));
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "garbage parses", SH_OK,
	           redirects_parse(buf, len, &m, collect, &w));
	expect_int(__LINE__, "garbage gives no entries", 0, m.n);
	expect_true(__LINE__, "garbage lines are reported",
	            m.invalid > 0 && w.n == m.invalid);
	redirects_free(&m);
	free(buf);
}

/*
 * Lines drawn from a dictionary of tokens: whatever the parser keeps must
 * be a usable alias and URL, sorted and unique, and every line must be
 * counted once as kept, skipped, duplicate, blank or comment.
 */
static const char *const tokens[] = {
	"a",         "b",       "a/b",     "/",   "//c/", "http://x.example/",
	"https://y", "http://", "ftp://z", "#",   " ",    "\t",
	"\x01",      "\r",      "\xff",    "%2f", "..",   "x\x7f",
};

static void
test_invariants(void)
{
	char buf[64 * 1024];
	struct redirect_map m;
	struct warns w;
	uint64_t seed = 42;
	size_t len = 0, i;
	unsigned lines = 0, blank = 0;
	size_t kept = 0;
	int round;

	for (round = 0; round < 20; round++) {
		len = 0;
		lines = blank = 0;
		while (len + 128 < sizeof(buf)) {
			size_t start = len, k, ntok = next_rand(&seed) % 5;
			const char *q;

			for (k = 0; k < ntok; k++) {
				const char *t = tokens[next_rand(&seed) %
				                       NELEM(tokens)];

				if (k > 0)
					buf[len++] = ' ';
				memcpy(buf + len, t, strlen(t));
				len += strlen(t);
			}
			/* Blank and comment lines are neither kept nor skipped.
			 */
			for (q = buf + start;
			     q < buf + len && (*q == ' ' || *q == '\t'); q++)
				;
			if (q == buf + len || *q == '#' ||
			    (*q == '\r' && q + 1 == buf + len))
				blank++;
			buf[len++] = '\n';
			lines++;
		}
		memset(&m, 0, sizeof(m));
		memset(&w, 0, sizeof(w));
		expect_int(__LINE__, "dictionary input", SH_OK,
		           redirects_parse(buf, len, &m, collect, &w));
		expect_int(__LINE__, "every line accounted for", lines - blank,
		           m.n + m.invalid + m.duplicates);
		expect_int(__LINE__, "one warning per skipped line",
		           m.invalid + m.duplicates, w.n);
		for (i = 0; i < m.n; i++) {
			const char *a = m.v[i].alias, *u = m.v[i].url;
			size_t al = strlen(a);

			expect_true(__LINE__, a,
			            al > 0 && al <= REDIRECT_ALIAS_MAX &&
			                    a[0] != '/' && a[al - 1] != '/' &&
			                    !str_has_ctl(a, al) &&
			                    strpbrk(a, " \t") == NULL);
			expect_true(__LINE__, u,
			            url_split(u, strlen(u), NULL) &&
			                    !str_has_ctl(u, strlen(u)));
			if (i > 0)
				expect_true(__LINE__, a,
				            strcmp(m.v[i - 1].alias, a) < 0);
		}
		kept += m.n;
		redirects_free(&m);
	}
	/* Else the checks above were vacuous. */
	expect_true(__LINE__, "the dictionary yields valid lines", kept > 10);
}

/* ---- the rule kinds beyond "alias URL" ---- */

#define GOSHERVE                                                               \
	{                                                                      \
		REDIRECTS_GOSHERVE, 0, 0, DIALECT_NETLIFY                      \
	}
#define GOSHERVE_REL                                                           \
	{                                                                      \
		REDIRECTS_GOSHERVE, 0, 1, DIALECT_NETLIFY                      \
	}
#define P REDIRECT_PREFIX

static const struct rrow rrows[] = {
	{ __LINE__,
	  "status per line",
	  GOSHERVE,
	  "a http://a/ 302\nb http://b/ 308\nc http://c/ 200\n"
	  "d http://d/ 301!\ne http://e/ 999\nf http://f/ 404\n"
	  "g http://g/ 303\nh http://h/ 307\ni http://i/ 301\n"
	  "j http://j/ 3o1\n",
	  { { NULL, "a", "http://a/", 1, 302, 0 },
	    { NULL, "b", "http://b/", 2, 308, 0 },
	    { NULL, "g", "http://g/", 7, 303, 0 },
	    { NULL, "h", "http://h/", 8, 307, 0 },
	    { NULL, "i", "http://i/", 9, 301, 0 } },
	  { 3, 4, 5, 6, 10 },
	  0 },
	{ __LINE__,
	  "prefix rules",
	  GOSHERVE,
	  "docs/* https://n/:splat\n"
	  "* https://all/:splat 302\n"
	  "/x/*/ https://x/\n"
	  "d//* https://d/\n"
	  "/* https://dup/\n"
	  "docs https://exact/\n"
	  "a*b https://literal/\n"
	  "c:d https://colon/\n",
	  { { NULL, "a*b", "https://literal/", 7, 0, 0 },
	    { NULL, "c:d", "https://colon/", 8, 0, 0 },
	    { NULL, "docs", "https://exact/", 6, 0, 0 },
	    { NULL, "*", "https://all/:splat", 2, 302, P },
	    { NULL, "d/*", "https://d/", 4, 0, P },
	    { NULL, "docs/*", "https://n/:splat", 1, 0, P },
	    { NULL, "x/*", "https://x/", 3, 0, P } },
	  { 5 },
	  1 },
	{ __LINE__,
	  "host sections",
	  GOSHERVE,
	  "@host Example.ORG:8080\n"
	  "a https://a/\n"
	  "@host *\n"
	  "a https://b/\n"
	  "@host bad host\n"
	  "c https://c/\n"
	  "@host\n"
	  "d https://d/\n"
	  "@host under_score.example.\n"
	  "e https://e/\n"
	  "@host b@d\n"
	  "f https://f/\n"
	  "@host [::1]:80\n"
	  "g https://g/\n",
	  { { NULL, "a", "https://b/", 4, 0, 0 },
	    { "[::1]", "g", "https://g/", 14, 0, 0 },
	    { "example.org", "a", "https://a/", 2, 0, 0 },
	    { "under_score.example", "e", "https://e/", 10, 0, 0 } },
	  { 5, 6, 7, 8, 11, 12 },
	  0 },
	{ __LINE__,
	  "duplicates per host and kind",
	  GOSHERVE,
	  "a https://1/\n@host h\na https://2/\na https://3/\n@host *\n"
	  "a/* https://4/\na https://5/\n",
	  { { NULL, "a", "https://1/", 1, 0, 0 },
	    { "h", "a", "https://2/", 3, 0, 0 },
	    { NULL, "a/*", "https://4/", 6, 0, P } },
	  { 7, 4 },
	  2 },
	{ __LINE__,
	  "self-loops",
	  GOSHERVE_REL,
	  "loop /loop\n"
	  "ok /elsewhere\n"
	  "@host h.example\n"
	  "self https://H.example:443/self/?x=1\n"
	  "fine https://other.example/fine\n"
	  "d/* https://h.example/d/:splat\n"
	  "e/* https://h.example/e/x\n"
	  "@host *\n"
	  "abs https://example.com/abs\n"
	  "* /:splat\n"
	  "sub /sub/\n"
	  "rel/* /rel/:splat?x=1\n",
	  { { NULL, "abs", "https://example.com/abs", 9, 0, 0 },
	    { NULL, "ok", "/elsewhere", 2, 0, 0 },
	    { "h.example", "fine", "https://other.example/fine", 5, 0, 0 },
	    { "h.example", "e/*", "https://h.example/e/x", 7, 0, P } },
	  { 1, 4, 6, 10, 11, 12 },
	  0 },
	{ __LINE__,
	  "self-loops through a prefix rule or an escape",
	  GOSHERVE_REL,
	  "n/* /n/new/:splat\n"
	  "c/* /:splat\n"
	  "@host x.example\n"
	  "pct https://x.example/%70ct\n"
	  "t/* https://x.example/t/\n"
	  "* https://x.example/landing\n"
	  "w/* https://x.example/w:splat\n"
	  "bad https://x.example/%zz\n",
	  { { "x.example", "bad", "https://x.example/%zz", 8, 0, 0 },
	    { NULL, "c/*", "/:splat", 2, 0, P },
	    { "x.example", "*", "https://x.example/landing", 6, 0, P },
	    { "x.example", "t/*", "https://x.example/t/", 5, 0, P },
	    { "x.example", "w/*", "https://x.example/w:splat", 7, 0, P } },
	  { 1, 4 },
	  0 },
	{ __LINE__,
	  "relative targets, allowed",
	  GOSHERVE_REL,
	  "r /rel\ns //evil.example/\nt /\\evil\nu relative\n"
	  "v /\nw http:/x\n",
	  { { NULL, "r", "/rel", 1, 0, 0 }, { NULL, "v", "/", 5, 0, 0 } },
	  { 2, 3, 4, 6 },
	  0 },
	{ __LINE__,
	  "relative targets, refused by default",
	  GOSHERVE,
	  "r /rel\ns https://ok/\n",
	  { { NULL, "s", "https://ok/", 2, 0, 0 } },
	  { 1 },
	  0 },
	{ __LINE__,
	  "alias-case insensitive",
	  { REDIRECTS_GOSHERVE, 1, 0, DIALECT_NETLIFY },
	  "GitHub https://GitHub.com/X\n"
	  "github https://dup/\n"
	  "@host EX.org\n"
	  "Docs/* https://x/:splat\n",
	  { { NULL, "github", "https://GitHub.com/X", 1, 0, 0 },
	    { "ex.org", "docs/*", "https://x/:splat", 4, 0, P } },
	  { 2 },
	  1 },
};

static void
test_rule_kinds(void)
{
	size_t i;

	for (i = 0; i < NELEM(rrows); i++)
		check_rrow(&rrows[i]);
}

struct fmt_row {
	unsigned line;
	enum redirects_format f;
	const char *name;
	enum redirects_format want;
};

static const struct fmt_row fmt_rows[] = {
	{ __LINE__, REDIRECTS_AUTO, "https://x.example/_redirects",
	  REDIRECTS_NETLIFY },
	{ __LINE__, REDIRECTS_AUTO, "https://x/_redirects?token=1#f",
	  REDIRECTS_NETLIFY },
	{ __LINE__, REDIRECTS_AUTO, "import:/srv/site/_redirects",
	  REDIRECTS_NETLIFY },
	{ __LINE__, REDIRECTS_AUTO, "https://x/redirects.txt",
	  REDIRECTS_GOSHERVE },
	{ __LINE__, REDIRECTS_AUTO, "https://x/_redirects.txt",
	  REDIRECTS_GOSHERVE },
	{ __LINE__, REDIRECTS_AUTO, "import:stdin", REDIRECTS_GOSHERVE },
	{ __LINE__, REDIRECTS_AUTO, NULL, REDIRECTS_GOSHERVE },
	{ __LINE__, REDIRECTS_GOSHERVE, "x/_redirects", REDIRECTS_GOSHERVE },
	{ __LINE__, REDIRECTS_NETLIFY, "x.txt", REDIRECTS_NETLIFY },
};

static void
test_format_for(void)
{
	size_t i;

	for (i = 0; i < NELEM(fmt_rows); i++)
		expect_int(
		        fmt_rows[i].line,
		        fmt_rows[i].name ? fmt_rows[i].name : "NULL",
		        fmt_rows[i].want,
		        redirects_format_for(fmt_rows[i].f, fmt_rows[i].name));
}

/* The ingest limits of rules in host sections and of prefixes. */
static void
test_rule_limits(void)
{
	char buf[2048], host[300];
	struct redirect_map m;
	size_t i, n;

	/* 33 segments of prefix is one too deep; 32 are fine. */
	for (n = 32; n <= 33; n++) {
		size_t len = 0;

		for (i = 0; i < n; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			                        "%ss", i > 0 ? "/" : "");
		snprintf(buf + len, sizeof(buf) - len, "/* https://x/\n");
		memset(&m, 0, sizeof(m));
		expect_int(__LINE__, "parse", SH_OK,
		           redirects_parse(buf, strlen(buf), &m, NULL, NULL));
		expect_int(__LINE__, n == 32 ? "32 segments" : "33 segments",
		           n == 32, m.n);
		redirects_free(&m);
	}
	/* Host, NUL and alias must fit LMDB's 511-byte key. */
	memset(host, 'h', 250);
	host[250] = '\0';
	for (n = 260; n <= 261; n++) {
		char alias[300];

		memset(alias, 'a', n);
		alias[n] = '\0';
		snprintf(buf, sizeof(buf), "@host %s\n%s https://x/\n", host,
		         alias);
		memset(&m, 0, sizeof(m));
		expect_int(__LINE__, "parse", SH_OK,
		           redirects_parse(buf, strlen(buf), &m, NULL, NULL));
		expect_int(__LINE__, n == 260 ? "key of 511" : "key of 512",
		           n == 260, m.n);
		redirects_free(&m);
	}
}

/* What a gosherve line with too many fields, or a bad third one, is
 * told: a fourth field is only ever an expiry. */
static void
test_gosherve_reasons(void)
{
	static const struct {
		unsigned line;
		const char *buf, *why; /* NULL why: stored */
	} grows[] = {
		{ __LINE__, "a has three fields\n",
		  "expected 2 fields: alias URL (and an optional STATUS)" },
		{ __LINE__, "a https://x/ 301 302\n",
		  "expected 2 fields: alias URL (and an optional STATUS)" },
		{ __LINE__, "a https://x/ three\n",
		  "invalid status (301, 302, 303, 307 or 308)" },
		{ __LINE__, "a https://x/ 301 expires=2030-01-01\n", NULL },
		{ __LINE__, "a https://x/ expires=2030-01-01\n", NULL },
		{ __LINE__, "a https://x/ expires=2030-01-01 301\n",
		  "the status goes before expires=, not after it" },
		{ __LINE__,
		  "a https://x/ expires=2030-01-01 expires=2031-01-01\n",
		  "expected 2 fields: alias URL (and an optional STATUS)" },
	};
	struct redirect_map m;
	struct warns w;
	size_t i;

	for (i = 0; i < NELEM(grows); i++) {
		memset(&m, 0, sizeof(m));
		memset(&w, 0, sizeof(w));
		expect_int(grows[i].line, "parse", SH_OK,
		           redirects_parse(grows[i].buf, strlen(grows[i].buf),
		                           &m, collect, &w));
		expect_int(grows[i].line, grows[i].buf, grows[i].why == NULL,
		           m.n);
		if (grows[i].why != NULL)
			expect_str(grows[i].line, grows[i].buf, grows[i].why,
			           w.n == 1 ? w.why[0] : "");
		redirects_free(&m);
	}
}

static const struct unit_test redirects_tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_warn_null),
	UNIT_TEST(test_lengths),
	UNIT_TEST(test_binary_garbage),
	UNIT_TEST(test_invariants),
	UNIT_TEST(test_rule_kinds),
	UNIT_TEST(test_format_for),
	UNIT_TEST(test_rule_limits),
	UNIT_TEST(test_gosherve_reasons),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "redirects_parse", NULL, NULL, redirects_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
