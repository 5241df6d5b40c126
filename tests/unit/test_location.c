/*
 * test_location.c - host names and Location building: splat and
 * placeholder substitution, the query merge, percent-encoding, bounds.
 */
#include "unit.h"

#include "location.h"
#include "match.h"
#include "redirects.h"
#include "util.h"

/* A result with only a splat (NULL: an exact rule, no result). */
static const struct match_result *
with_splat(const char *splat, size_t len)
{
	static struct match_result m;

	if (splat == NULL)
		return NULL;
	memset(&m, 0, sizeof(m));
	m.splat = splat;
	m.splen = len;
	return &m;
}

/* ---- location_host ---- */

struct host_row {
	unsigned line;
	const char *in;
	const char *want; /* NULL: refused */
};

static const struct host_row host_rows[] = {
	{ __LINE__, "example.org", "example.org" },
	{ __LINE__, "Example.ORG", "example.org" },
	{ __LINE__, "example.org:8080", "example.org" },
	{ __LINE__, "EXAMPLE.org.:443", "example.org" },
	{ __LINE__, "example.org.", "example.org" },
	{ __LINE__, "[::1]:8080", "[::1]" },
	{ __LINE__, "[2001:DB8::1]", "[2001:db8::1]" },
	{ __LINE__, "127.0.0.1:80", "127.0.0.1" },
	{ __LINE__, "my_host-1", "my_host-1" },
	{ __LINE__, "", NULL },
	{ __LINE__, ":80", NULL },
	{ __LINE__, "example.org:http", NULL },
	{ __LINE__, "a b", NULL },
	{ __LINE__, "a/b", NULL },
	{ __LINE__, "user@host", NULL },
	{ __LINE__, "[::1", NULL },
	{ __LINE__, "[::1]x", NULL },
	{ __LINE__, "host\r\nX: y", NULL },
	{ __LINE__, "h\xc3\xa9", NULL },
	{ __LINE__, ".", NULL },
};

static void
test_host(void)
{
	char out[LOCATION_HOST_MAX + 1], big[300];
	size_t i;

	for (i = 0; i < NELEM(host_rows); i++) {
		const struct host_row *r = &host_rows[i];
		int n = location_host(r->in, strlen(r->in), out, sizeof(out));

		if (r->want == NULL) {
			expect_int(r->line, r->in, -1, n);
			continue;
		}
		expect_int(r->line, r->in, strlen(r->want), n);
		expect_str(r->line, r->in, r->want, n >= 0 ? out : "");
	}
	expect_int(__LINE__, "NULL", -1,
	           location_host(NULL, 0, out, sizeof(out)));
	memset(big, 'a', sizeof(big));
	expect_int(__LINE__, "256 bytes", -1,
	           location_host(big, 256, out, sizeof(out)));
	expect_int(__LINE__, "255 bytes", 255,
	           location_host(big, 255, out, sizeof(out)));
	expect_int(__LINE__, "no room", -1, location_host("abc", 3, out, 3));
}

/* ---- location_build ---- */

struct loc_row {
	unsigned line;
	const char *desc;
	const char *target;
	const char *splat; /* NULL: an exact rule */
	const char *query;
	const char *want; /* NULL: refused */
};

static const struct loc_row loc_rows[] = {
	{ __LINE__, "exact, no query", "https://a.example/x", NULL, NULL,
	  "https://a.example/x" },
	{ __LINE__, "exact, empty query", "https://a.example/x", NULL, "",
	  "https://a.example/x" },
	{ __LINE__, "a query of empty parameters only", "https://a.example/x",
	  NULL, "&&", "https://a.example/x" },
	{ __LINE__, "empty parameters dropped", "https://a/x?ref=a", NULL,
	  "&u=1&&v=2&", "https://a/x?ref=a&u=1&v=2" },
	{ __LINE__, "names compared decoded", "https://a/x?ref=a&k=1", NULL,
	  "%72ef=z", "https://a/x?k=1&%72ef=z" },
	{ __LINE__, "exact keeps a literal :splat", "https://a/:splat", NULL,
	  NULL, "https://a/:splat" },
	{ __LINE__, "splat", "https://n.example/docs/:splat", "a/b", NULL,
	  "https://n.example/docs/a/b" },
	{ __LINE__, "empty splat", "https://n.example/docs/:splat", "", NULL,
	  "https://n.example/docs/" },
	{ __LINE__, "splat twice", "https://n/:splat?from=:splat", "x", NULL,
	  "https://n/x?from=x" },
	{ __LINE__, "splat encoded", "https://n/:splat",
	  "a b/%/?#&=+\"\xc3\xa9", NULL,
	  "https://n/a%20b/%25/%3F%23%26%3D%2B%22%C3%A9" },
	{ __LINE__, "splat keeps pchars", "https://n/:splat", "a-._~!$'()*,;:@",
	  NULL, "https://n/a-._~!$'()*,;:@" },
	{ __LINE__, "no :splat in the target", "https://n/fixed", "a/b", NULL,
	  "https://n/fixed" },
	{ __LINE__, "query appended", "https://a/x", NULL, "utm=1",
	  "https://a/x?utm=1" },
	{ __LINE__, "query merged", "https://a/x?a=1&b=2", NULL, "c=3",
	  "https://a/x?a=1&b=2&c=3" },
	{ __LINE__, "request value wins", "https://a/x?a=1&b=2", NULL, "a=9",
	  "https://a/x?b=2&a=9" },
	{ __LINE__, "all target params replaced", "https://a/x?a=1&b=2", NULL,
	  "b=8&a=9", "https://a/x?b=8&a=9" },
	{ __LINE__, "name without value", "https://a/x?flag&b=2", NULL,
	  "flag=1", "https://a/x?b=2&flag=1" },
	{ __LINE__, "names are whole", "https://a/x?ab=1", NULL, "a=2",
	  "https://a/x?ab=1&a=2" },
	{ __LINE__, "empty target query", "https://a/x?", NULL, "a=1",
	  "https://a/x?a=1" },
	{ __LINE__, "empty params dropped", "https://a/x?&a=1&&", NULL, "b=2",
	  "https://a/x?a=1&b=2" },
	{ __LINE__, "before the fragment", "https://a/x#top", NULL, "a=1",
	  "https://a/x?a=1#top" },
	{ __LINE__, "merged before the fragment", "https://a/x?a=1&b=2#top",
	  NULL, "a=3", "https://a/x?b=2&a=3#top" },
	{ __LINE__, "'?' in the fragment only", "https://a/x#q?z", NULL, "a=1",
	  "https://a/x?a=1#q?z" },
	{ __LINE__, "splat and query", "https://n/d/:splat?v=1", "a/b",
	  "v=2&w=3", "https://n/d/a/b?v=2&w=3" },
	{ __LINE__, "relative target", "/new/:splat", "p", "x=1",
	  "/new/p?x=1" },
	{ __LINE__, "UTF-8 in the target percent-encoded",
	  "https://a/caf\xc3\xa9?q=\xe2\x82\xac", NULL, NULL,
	  "https://a/caf%C3%A9?q=%E2%82%AC" },
	{ __LINE__, "UTF-8 in a raw query percent-encoded", "https://a/x", NULL,
	  "n=\xc3\xa9", "https://a/x?n=%C3%A9" },
	{ __LINE__, "ASCII kept as it is", "https://a/%41~!*", NULL, NULL,
	  "https://a/%41~!*" },
	{ __LINE__, "control char in the target", "https://a/\r\nX: y", NULL,
	  NULL, NULL },
	{ __LINE__, "control char in the query", "https://a/x", NULL, "a=\n",
	  NULL },
};

static void
test_location(void)
{
	char out[REDIRECT_URL_MAX + 1];
	size_t i;

	for (i = 0; i < NELEM(loc_rows); i++) {
		const struct loc_row *r = &loc_rows[i];
		int n = location_build(
		        r->target,
		        with_splat(r->splat, r->splat ? strlen(r->splat) : 0),
		        r->query, out, sizeof(out));

		if (r->want == NULL) {
			expect_int(r->line, r->desc, -1, n);
			continue;
		}
		expect_int(r->line, r->desc, strlen(r->want), n);
		expect_str(r->line, r->desc, r->want, n >= 0 ? out : "");
	}
}

/* 8 KiB is the most a Location may be, however it got long. */
static void
test_location_bounds(void)
{
	char target[REDIRECT_URL_MAX + 1], query[REDIRECT_URL_MAX];
	char out[REDIRECT_URL_MAX + 1], small[16];

	memset(target, 'a', sizeof(target));
	memcpy(target, "https://a/", 10);
	target[REDIRECT_URL_MAX] = '\0';
	expect_int(__LINE__, "8192 bytes", REDIRECT_URL_MAX,
	           location_build(target, NULL, NULL, out, sizeof(out)));
	expect_int(__LINE__, "8192 bytes and a query", -1,
	           location_build(target, NULL, "a=1", out, sizeof(out)));
	target[REDIRECT_URL_MAX - 4] = '\0';
	expect_int(__LINE__, "8188 bytes and a=1", REDIRECT_URL_MAX,
	           location_build(target, NULL, "a=1", out, sizeof(out)));
	memset(query, 'q', sizeof(query) - 1);
	query[sizeof(query) - 1] = '\0';
	expect_int(__LINE__, "short target, huge query", -1,
	           location_build("https://a/", NULL, query, out, sizeof(out)));
	expect_int(__LINE__, "a splat past the limit", -1,
	           location_build("https://a/:splat",
	                          with_splat(query, strlen(query)), NULL, out,
	                          sizeof(out)));
	expect_str(__LINE__, "refused output is empty", "", out);
	expect_int(__LINE__, "out too small", -1,
	           location_build("https://a/xxxxxxxxx", NULL, NULL, small,
	                          sizeof(small)));
	expect_int(__LINE__, "fragment moved near the limit", -1,
	           location_build("https://a/x#frag", NULL, query, out,
	                          sizeof(out)));
	/* Encoding a byte triples it: the limit holds after the encoding. */
	memset(target, 'a', sizeof(target));
	memcpy(target, "https://a/", 10);
	target[REDIRECT_URL_MAX - 3] = '\xc3';
	target[REDIRECT_URL_MAX - 2] = '\0';
	expect_int(__LINE__, "8190 bytes, 1 not ASCII: 8192 encoded",
	           REDIRECT_URL_MAX,
	           location_build(target, NULL, NULL, out, sizeof(out)));
	expect_str(__LINE__, "... ending in %C3", "%C3",
	           out + REDIRECT_URL_MAX - 3);
	target[REDIRECT_URL_MAX - 2] = 'a';
	target[REDIRECT_URL_MAX - 1] = '\0';
	expect_int(__LINE__, "8191 bytes, 1 not ASCII: 8193 encoded", -1,
	           location_build(target, NULL, NULL, out, sizeof(out)));
}

/* ---- location_dir ---- */

struct dir_row {
	unsigned line;
	const char *desc;
	const char *base, *dir, *query;
	const char *want; /* NULL: refused */
};

static const struct dir_row dir_rows[] = {
	{ __LINE__, "a directory", "", "blog", NULL, "/blog/" },
	{ __LINE__, "nested", "", "docs/guide", NULL, "/docs/guide/" },
	{ __LINE__, "under base-path", "/go", "blog", NULL, "/go/blog/" },
	{ __LINE__, "the base itself", "/go", "", NULL, "/go/" },
	{ __LINE__, "the root (never asked: \"/\" has its slash)", "", "", NULL,
	  "/" },
	{ __LINE__, "query kept as sent", "", "blog", "b=2&a=1&&x=%41",
	  "/blog/?b=2&a=1&&x=%41" },
	{ __LINE__, "empty query dropped", "", "blog", "", "/blog/" },
	{ __LINE__, "decoded bytes encoded again", "", "a b/?#%&=+\"", NULL,
	  "/a%20b/%3F%23%25%26%3D%2B%22/" },
	{ __LINE__, "UTF-8 in the name", "", "caf\xc3\xa9", NULL,
	  "/caf%C3%A9/" },
	{ __LINE__, "UTF-8 in the base", "/d\xc3\xa9", "x", NULL,
	  "/d%C3%A9/x/" },
	{ __LINE__, "'#' in the base", "/a#b", "x", NULL, "/a%23b/x/" },
	{ __LINE__, "UTF-8 in a raw query", "", "x", "n=\xc3\xa9",
	  "/x/?n=%C3%A9" },
	{ __LINE__, "pchars kept", "", "a-._~!$'()*,;:@", NULL,
	  "/a-._~!$'()*,;:@/" },
	{ __LINE__, "a name like a host stays a path", "", "evil.example", NULL,
	  "/evil.example/" },
	{ __LINE__, "control char in the query", "", "x", "a=\r\nX: y", NULL },
};

static void
test_dir_location(void)
{
	char out[REDIRECT_URL_MAX + 1], dir[REDIRECT_URL_MAX];
	size_t i;
	int n;

	for (i = 0; i < NELEM(dir_rows); i++) {
		const struct dir_row *r = &dir_rows[i];

		n = location_dir(r->base, r->dir, r->query, out, sizeof(out));
		if (r->want == NULL) {
			expect_int(r->line, r->desc, -1, n);
			continue;
		}
		expect_int(r->line, r->desc, strlen(r->want), n);
		expect_str(r->line, r->desc, r->want, n >= 0 ? out : "");
	}
	/* "/" + 8190 + "/" is the most; one more byte is refused. */
	memset(dir, 'd', sizeof(dir));
	dir[REDIRECT_URL_MAX - 2] = '\0';
	expect_int(__LINE__, "8192 bytes", REDIRECT_URL_MAX,
	           location_dir("", dir, NULL, out, sizeof(out)));
	expect_int(__LINE__, "8192 bytes and a query", -1,
	           location_dir("", dir, "a", out, sizeof(out)));
	expect_str(__LINE__, "refused output is empty", "", out);
	dir[REDIRECT_URL_MAX - 3] = ' ';
	expect_int(__LINE__, "a byte that encodes to 3 past the limit", -1,
	           location_dir("", dir, NULL, out, sizeof(out)));
	expect_int(__LINE__, "no room at all", -1,
	           location_dir("", "x", NULL, out, 0));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_host),
	UNIT_TEST(test_location),
	UNIT_TEST(test_location_bounds),
	UNIT_TEST(test_dir_location),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "location", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
