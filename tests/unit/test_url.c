/*
 * test_url.c - url.c: which strings are http(s) URLs and how they split,
 * the schemes a map is fetched from, percent-decoding, and the query a
 * refresh appends (through libcurl's URL API).
 */
#include "unit.h"

#include <stdlib.h>

#include "url.h"

struct url_row {
	unsigned line;
	const char *url;
	int want;
};

static const struct url_row url_rows[] = {
	{ __LINE__, "http://a", 1 },
	{ __LINE__, "https://a/b?c#d", 1 },
	{ __LINE__, "HtTpS://A", 1 },
	{ __LINE__, "http://[::1]:8080/", 1 },
	{ __LINE__, "http://user@host/", 1 },
	{ __LINE__, "http://", 0 },
	{ __LINE__, "https://", 0 },
	{ __LINE__, "http:///x", 0 },
	{ __LINE__, "http://?x", 0 },
	{ __LINE__, "http://#x", 0 },
	{ __LINE__, "http:/a", 0 },
	{ __LINE__, "http:a", 0 },
	{ __LINE__, "ftp://a", 0 },
	{ __LINE__, "file:///etc/passwd", 0 },
	{ __LINE__, "//a", 0 },
	{ __LINE__, "/a", 0 },
	{ __LINE__, "", 0 },
	{ __LINE__, "javascript:alert(1)", 0 },
	{ __LINE__, "data:text/html,x", 0 },
	{ __LINE__, " http://a", 0 },
};

static void
test_split_ok(void)
{
	size_t i;

	for (i = 0; i < NELEM(url_rows); i++)
		expect_int(url_rows[i].line, url_rows[i].url, url_rows[i].want,
		           url_split(url_rows[i].url, strlen(url_rows[i].url),
		                     NULL));
	/* len bounds the read: a prefix of a valid URL is judged alone. */
	expect_int(__LINE__, "length stops before the host", 0,
	           url_split("http://a", 7, NULL));
	expect_int(__LINE__, "length includes the host", 1,
	           url_split("http://ab", 8, NULL));
}

struct split_row {
	unsigned line;
	const char *url;
	const char *host, *path, *query; /* query NULL: none */
};

static const struct split_row split_rows[] = {
	{ __LINE__, "http://a", "a", "", NULL },
	{ __LINE__, "https://h.example/p/q?x=1#f", "h.example", "/p/q", "x=1" },
	{ __LINE__, "https://h:8443?x", "h:8443", "", "x" },
	{ __LINE__, "https://h#f?x", "h", "", NULL },
	{ __LINE__, "https://h/%62ar?", "h", "/%62ar", "" },
	{ __LINE__, "HTTP://[::1]/a/b#", "[::1]", "/a/b", NULL },
};

static void
test_split_parts(void)
{
	struct url_parts p;
	char got[64];
	size_t i;

	for (i = 0; i < NELEM(split_rows); i++) {
		const struct split_row *r = &split_rows[i];

		if (!expect_int(r->line, r->url, 1,
		                url_split(r->url, strlen(r->url), &p)))
			continue;
		snprintf(got, sizeof(got), "%.*s", (int)p.hostlen, p.host);
		expect_str(r->line, "host", r->host, got);
		snprintf(got, sizeof(got), "%.*s", (int)p.pathlen, p.path);
		expect_str(r->line, "path", r->path, got);
		if (r->query == NULL) {
			expect_true(r->line, "no query", p.query == NULL);
		} else {
			snprintf(got, sizeof(got), "%.*s", (int)p.querylen,
			         p.query != NULL ? p.query : "(none)");
			expect_str(r->line, "query", r->query, got);
		}
	}
}

struct scheme_row {
	unsigned line;
	const char *s;
	int fetchable, scheme;
};

static const struct scheme_row scheme_rows[] = {
	{ __LINE__, "http://a/x", 1, 1 },
	{ __LINE__, "HTTPS://a/x", 1, 1 },
	{ __LINE__, "file:///srv/map.txt", 1, 1 },
	{ __LINE__, "ftp://a/x", 0, 1 },
	{ __LINE__, "svn+ssh://a", 0, 1 },
	{ __LINE__, "/srv/map.txt", 0, 0 },
	{ __LINE__, "map.txt", 0, 0 },
	{ __LINE__, "./a://b", 0, 0 },
	{ __LINE__, "1http://a", 0, 0 },
	{ __LINE__, "http:/a", 0, 0 },
	{ __LINE__, "", 0, 0 },
	{ __LINE__, "gopher://a/", 0, 1 },
	{ __LINE__, "dict://a/", 0, 1 },
	{ __LINE__, "httpx://a/", 0, 1 },
	{ __LINE__, "/etc/passwd", 0, 0 },
};

static void
test_schemes(void)
{
	size_t i;

	for (i = 0; i < NELEM(scheme_rows); i++) {
		const struct scheme_row *r = &scheme_rows[i];

		expect_int(r->line, r->s, r->fetchable, url_fetchable(r->s));
		expect_int(r->line, r->s, r->scheme, url_has_scheme(r->s));
	}
}

struct pct_row {
	unsigned line;
	const char *in;
	size_t n;        /* bytes of in given */
	const char *out; /* decoded, or NULL: a bad escape */
};

static const struct pct_row pct_rows[] = {
	{ __LINE__, "abc", 3, "abc" },
	{ __LINE__, "%41%6c%6C", 9, "All" },
	{ __LINE__, "a%2Fb", 5, "a/b" },
	{ __LINE__, "%", 1, NULL },
	{ __LINE__, "%4", 2, NULL },
	{ __LINE__, "%41", 2, NULL }, /* n bounds the read */
	{ __LINE__, "%4g", 3, NULL },
	{ __LINE__, "%g4", 3, NULL },
	{ __LINE__, "%00x", 4, "" }, /* NUL decoded: printed as "" */
};

static void
test_pct(void)
{
	char out[16];
	size_t i, k, n;
	int c = 0;

	for (i = 0; i < NELEM(pct_rows); i++) {
		const struct pct_row *r = &pct_rows[i];

		for (k = 0, n = 0; k < r->n && n + 1 < sizeof(out);) {
			size_t before = k;

			if ((c = url_pct_next(r->in, r->n, &k)) < 0) {
				expect_int(r->line, "*i unchanged on error",
				           (int)before, (int)k);
				break;
			}
			out[n++] = (char)c;
		}
		out[n] = '\0';
		if (r->out == NULL) {
			expect_int(r->line, r->in, -1, c);
		} else {
			expect_true(r->line, r->in, c >= 0);
			expect_str(r->line, r->in, r->out, out);
		}
	}
}

struct query_row {
	unsigned line;
	const char *url, *want;
};

static const struct query_row query_rows[] = {
	{ __LINE__, "https://h.example/map.txt",
	  "https://h.example/map.txt?cachebust=1" },
	{ __LINE__, "https://h.example/map.txt?v=2",
	  "https://h.example/map.txt?v=2&cachebust=1" },
	{ __LINE__, "https://h.example/map.txt#top",
	  "https://h.example/map.txt?cachebust=1#top" },
	{ __LINE__, "http://127.0.0.1:8080/m?a=b#c",
	  "http://127.0.0.1:8080/m?a=b&cachebust=1#c" },
};

static void
test_with_query(void)
{
	size_t i;
	char *u;

	for (i = 0; i < NELEM(query_rows); i++) {
		u = url_with_query(query_rows[i].url, "cachebust=1");
		expect_str(query_rows[i].line, query_rows[i].url,
		           query_rows[i].want, u != NULL ? u : "(NULL)");
		free(u);
	}
	u = url_with_query("not a url", "cachebust=1");
	expect_true(__LINE__, "a string libcurl does not parse: NULL",
	            u == NULL);
	free(u);
}

static const struct unit_test url_tests[] = {
	UNIT_TEST(test_split_ok),   UNIT_TEST(test_split_parts),
	UNIT_TEST(test_schemes),    UNIT_TEST(test_pct),
	UNIT_TEST(test_with_query), UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "url", NULL, NULL, url_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
