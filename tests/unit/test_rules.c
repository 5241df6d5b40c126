/*
 * test_rules.c - the matcher: host names, reserved paths, Location
 * building (splat and query merge), and store_resolve() over a map with
 * every rule kind, counting its LMDB reads.
 *
 * store.c is included rather than linked (as in test_store.c), with
 * mdb_get() wrapped, so the tests can hold store_resolve() to its cost:
 * one get for a gosherve map, a bounded walk for prefixes.
 */
#include "unit.h"

#include <ftw.h>
#include <lmdb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long gets;

static int
counting_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	gets++;
	return mdb_get(txn, dbi, k, v);
}

#define mdb_get counting_get
#include "../../src/store.c"
#undef mdb_get

#include "redirects.h"
#include "rules.h"
#include "util.h"

static char base[] = "/tmp/sherve-rules.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

/* ---- rules_host ---- */

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
	char out[RULES_HOST_MAX + 1], big[300];
	size_t i;

	for (i = 0; i < NELEM(host_rows); i++) {
		const struct host_row *r = &host_rows[i];
		int n = rules_host(r->in, strlen(r->in), out, sizeof(out));

		if (r->want == NULL) {
			expect_int(r->line, r->in, -1, n);
			continue;
		}
		expect_int(r->line, r->in, strlen(r->want), n);
		expect_str(r->line, r->in, r->want, n >= 0 ? out : "");
	}
	expect_int(__LINE__, "NULL", -1, rules_host(NULL, 0, out, sizeof(out)));
	memset(big, 'a', sizeof(big));
	expect_int(__LINE__, "256 bytes", -1,
	           rules_host(big, 256, out, sizeof(out)));
	expect_int(__LINE__, "255 bytes", 255,
	           rules_host(big, 255, out, sizeof(out)));
	expect_int(__LINE__, "no room", -1, rules_host("abc", 3, out, 3));
}

/* ---- rules_reserved ---- */

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
		           rules_reserved(reserved_rows[i].path,
		                          strlen(reserved_rows[i].path)));
}

/* ---- rules_location ---- */

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
		int n = rules_location(r->target, r->splat,
		                       r->splat ? strlen(r->splat) : 0,
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
	           rules_location(target, NULL, 0, NULL, out, sizeof(out)));
	expect_int(__LINE__, "8192 bytes and a query", -1,
	           rules_location(target, NULL, 0, "a=1", out, sizeof(out)));
	target[REDIRECT_URL_MAX - 4] = '\0';
	expect_int(__LINE__, "8188 bytes and a=1", REDIRECT_URL_MAX,
	           rules_location(target, NULL, 0, "a=1", out, sizeof(out)));
	memset(query, 'q', sizeof(query) - 1);
	query[sizeof(query) - 1] = '\0';
	expect_int(
	        __LINE__, "short target, huge query", -1,
	        rules_location("https://a/", NULL, 0, query, out, sizeof(out)));
	expect_int(__LINE__, "a splat past the limit", -1,
	           rules_location("https://a/:splat", query, strlen(query),
	                          NULL, out, sizeof(out)));
	expect_str(__LINE__, "refused output is empty", "", out);
	expect_int(__LINE__, "out too small", -1,
	           rules_location("https://a/xxxxxxxxx", NULL, 0, NULL, small,
	                          sizeof(small)));
	expect_int(__LINE__, "fragment moved near the limit", -1,
	           rules_location("https://a/x#frag", NULL, 0, query, out,
	                          sizeof(out)));
	/* Encoding a byte triples it: the limit holds after the encoding. */
	memset(target, 'a', sizeof(target));
	memcpy(target, "https://a/", 10);
	target[REDIRECT_URL_MAX - 3] = '\xc3';
	target[REDIRECT_URL_MAX - 2] = '\0';
	expect_int(__LINE__, "8190 bytes, 1 not ASCII: 8192 encoded",
	           REDIRECT_URL_MAX,
	           rules_location(target, NULL, 0, NULL, out, sizeof(out)));
	expect_str(__LINE__, "... ending in %C3", "%C3",
	           out + REDIRECT_URL_MAX - 3);
	target[REDIRECT_URL_MAX - 2] = 'a';
	target[REDIRECT_URL_MAX - 1] = '\0';
	expect_int(__LINE__, "8191 bytes, 1 not ASCII: 8193 encoded", -1,
	           rules_location(target, NULL, 0, NULL, out, sizeof(out)));
}

/* ---- rules_dir_location ---- */

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

		n = rules_dir_location(r->base, r->dir, r->query, out,
		                       sizeof(out));
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
	           rules_dir_location("", dir, NULL, out, sizeof(out)));
	expect_int(__LINE__, "8192 bytes and a query", -1,
	           rules_dir_location("", dir, "a", out, sizeof(out)));
	expect_str(__LINE__, "refused output is empty", "", out);
	dir[REDIRECT_URL_MAX - 3] = ' ';
	expect_int(__LINE__, "a byte that encodes to 3 past the limit", -1,
	           rules_dir_location("", dir, NULL, out, sizeof(out)));
	expect_int(__LINE__, "no room at all", -1,
	           rules_dir_location("", "x", NULL, out, 0));
}

/* ---- store_resolve ---- */

static const char map_text[] = "gh https://github.com/\n"
                               "temp https://example.com/temp 302\n"
                               "docs https://new.example/docs-home\n"
                               "docs/* https://new.example/docs/:splat\n"
                               "docs/api/* https://api.example/:splat 307\n"
                               "docs/api/v1 https://api.example/v1-exact\n"
                               "a/b/c/d/* https://deep.example/:splat\n"
                               "* https://fallback.example/:splat 302\n"
                               "robots.txt https://nope.example/\n"
                               "@host Example.ORG:8080\n"
                               "gh https://github.com/example-org\n"
                               "docs/* https://org.example/docs/:splat 308\n"
                               "@host other.example\n"
                               "only https://other.example.net/only\n"
                               "@host *\n"
                               "after https://after.example/\n";

struct resolve_row {
	unsigned line;
	const char *desc;
	const char *host;
	const char *path;
	int rc;
	const char *url;
	unsigned status;
	int prefix;
	size_t splat;
};

static const struct resolve_row resolve_rows[] = {
	{ __LINE__, "exact", NULL, "gh", SH_OK, "https://github.com/", 0, 0,
	  2 },
	{ __LINE__, "exact with status", NULL, "temp", SH_OK,
	  "https://example.com/temp", 302, 0, 4 },
	{ __LINE__, "exact beats its own prefix", NULL, "docs", SH_OK,
	  "https://new.example/docs-home", 0, 0, 4 },
	{ __LINE__, "prefix", NULL, "docs/a/b", SH_OK,
	  "https://new.example/docs/:splat", 0, 1, 5 },
	{ __LINE__, "longest prefix wins", NULL, "docs/api/x", SH_OK,
	  "https://api.example/:splat", 307, 1, 9 },
	{ __LINE__, "prefix matches its own root", NULL, "docs/api", SH_OK,
	  "https://api.example/:splat", 307, 1, 8 },
	{ __LINE__, "exact under a prefix", NULL, "docs/api/v1", SH_OK,
	  "https://api.example/v1-exact", 0, 0, 11 },
	{ __LINE__, "prefix below an exact", NULL, "docs/api/v1/x", SH_OK,
	  "https://api.example/:splat", 307, 1, 9 },
	{ __LINE__, "segments, not bytes", NULL, "docsx", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "deep prefix", NULL, "a/b/c/d/e/f", SH_OK,
	  "https://deep.example/:splat", 0, 1, 8 },
	{ __LINE__, "deep prefix, shallow path", NULL, "a/b/c", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "catch-all", NULL, "zzz/q", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "reserved: robots.txt", NULL, "robots.txt", SH_ENOTFOUND,
	  "", 0, 0, 0 },
	{ __LINE__, "reserved: any case", NULL, "Favicon.ICO", SH_ENOTFOUND, "",
	  0, 0, 0 },
	{ __LINE__, "reserved: .well-known", NULL, ".well-known/x",
	  SH_ENOTFOUND, "", 0, 0, 0 },
	{ __LINE__, "not reserved below robots.txt", NULL, "robots.txt/x",
	  SH_OK, "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "empty path", NULL, "", SH_ENOTFOUND, "", 0, 0, 0 },
	{ __LINE__, "host exact", "example.org", "gh", SH_OK,
	  "https://github.com/example-org", 0, 0, 2 },
	{ __LINE__, "host prefix beats default exact", "example.org", "docs",
	  SH_OK, "https://org.example/docs/:splat", 308, 1, 4 },
	{ __LINE__, "host prefix beats longer default prefix", "example.org",
	  "docs/api/x", SH_OK, "https://org.example/docs/:splat", 308, 1, 5 },
	{ __LINE__, "host falls back to default", "example.org", "temp", SH_OK,
	  "https://example.com/temp", 302, 0, 4 },
	{ __LINE__, "host falls back to default prefix", "example.org", "zzz",
	  SH_OK, "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "other host's rule", "example.org", "only", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "unknown host", "nope.example", "gh", SH_OK,
	  "https://github.com/", 0, 0, 2 },
	{ __LINE__, "no host: default", NULL, "only", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
	{ __LINE__, "host only", "other.example", "only", SH_OK,
	  "https://other.example.net/only", 0, 0, 4 },
	{ __LINE__, "after @host *", NULL, "after", SH_OK,
	  "https://after.example/", 0, 0, 5 },
	{ __LINE__, "case matters", NULL, "GH", SH_OK,
	  "https://fallback.example/:splat", 302, 1, 0 },
};

static int
fill(struct store *s, const char *text, const struct redirects_opts *o)
{
	struct redirect_map m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (redirects_parse_opts(text, strlen(text), o, &m, NULL, NULL) !=
	    SH_OK)
		return SH_ENOMEM;
	rc = store_replace(s, &m, NULL, 0);
	redirects_free(&m);
	return rc;
}

static struct store *
open_in(const char *name)
{
	char dir[512], err[256] = "";
	struct store *s = NULL;

	snprintf(dir, sizeof(dir), "%s/%s", base, name);
	if (store_open(dir, &s, err, sizeof(err)) != SH_OK)
		fprintf(stderr, "store_open: %s\n", err);
	return s;
}

static void
test_resolve(void)
{
	char url[512];
	struct store_match m;
	struct store *s = open_in("resolve");
	size_t i;

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill", fill(s, map_text, NULL) == SH_OK);
	expect_int(__LINE__, "rules counted (robots.txt too)", 13,
	           store_count(s));
	for (i = 0; i < NELEM(resolve_rows); i++) {
		const struct resolve_row *r = &resolve_rows[i];

		expect_int(r->line, r->desc, r->rc,
		           store_resolve(s, r->host, r->path, strlen(r->path),
		                         url, sizeof(url), &m));
		expect_str(r->line, r->desc, r->url, url);
		if (r->rc != SH_OK)
			continue;
		expect_int(r->line, "status", r->status, m.status);
		expect_int(r->line, "prefix", r->prefix, m.prefix);
		expect_int(r->line, "splat offset", r->splat, m.splat);
		expect_int(r->line, "host section",
		           r->host != NULL &&
		                   (strcmp(r->url, "https://github.com/"
		                                   "example-org") == 0 ||
		                    strstr(r->url, "org.example") != NULL ||
		                    strstr(r->url, "other.example") != NULL),
		           m.host);
	}
	expect_int(__LINE__, "url too small", SH_ETOOLONG,
	           store_resolve(s, NULL, "gh", 2, url, 5, &m));
	expect_int(__LINE__, "exact lookup is the default section", SH_OK,
	           store_lookup(s, "gh", 2, url, sizeof(url)));
	expect_str(__LINE__, "store_lookup", "https://github.com/", url);
	expect_int(__LINE__, "store_lookup takes no prefix", SH_ENOTFOUND,
	           store_lookup(s, "docs/a", 6, url, sizeof(url)));
	store_close(s);
}

/* The promised cost: a gosherve map answers with one get. */
static void
test_cost(void)
{
	char url[512];
	struct store_match m;
	struct store *s = open_in("cost");

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill",
	             fill(s, "a https://a.example/\nb https://b.example/\n",
	                  NULL) == SH_OK);
	gets = 0;
	expect_int(__LINE__, "first", SH_OK,
	           store_resolve(s, "h.example", "a", 1, url, sizeof(url), &m));
	expect_int(__LINE__, "layout read once, then one get", 2, gets);
	gets = 0;
	expect_int(__LINE__, "hit", SH_OK,
	           store_resolve(s, "h.example", "b", 1, url, sizeof(url), &m));
	expect_int(__LINE__, "gosherve hit: one get", 1, gets);
	gets = 0;
	expect_int(__LINE__, "miss", SH_ENOTFOUND,
	           store_resolve(s, "h.example", "c/d/e", 5, url, sizeof(url),
	                         &m));
	expect_int(__LINE__, "gosherve miss: one get", 1, gets);

	/* Host sections: a marker get; prefixes: one get per level. */
	require_true(__LINE__, "fill",
	             fill(s,
	                  "a https://a.example/\n"
	                  "p/q/* https://p.example/:splat\n"
	                  "@host h.example\nz https://z.example/\n",
	                  NULL) == SH_OK);
	(void)store_resolve(s, NULL, "a", 1, url, sizeof(url), &m);
	gets = 0;
	expect_int(__LINE__, "unknown host", SH_OK,
	           store_resolve(s, "x.example", "a", 1, url, sizeof(url), &m));
	expect_int(__LINE__, "unknown host: marker, exact", 2, gets);
	gets = 0;
	expect_int(__LINE__, "deep path", SH_OK,
	           store_resolve(s, NULL, "p/q/r/s/t/u/v", 13, url, sizeof(url),
	                         &m));
	expect_int(__LINE__, "walk starts at the deepest prefix (2 levels)", 2,
	           gets);
	gets = 0;
	expect_int(__LINE__, "miss below the prefixes", SH_ENOTFOUND,
	           store_resolve(s, NULL, "x/y/z/w", 7, url, sizeof(url), &m));
	expect_int(__LINE__, "exact, 2 segments, 1 segment, catch-all", 4,
	           gets);
	store_close(s);
}

/* alias-case = insensitive folds at ingest; the caller folds the path. */
static void
test_fold(void)
{
	static const struct redirects_opts fold = { REDIRECTS_GOSHERVE, 1, 0 };
	char url[512], path[64];
	struct store_match m;
	struct store *s = open_in("fold");

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill",
	             fill(s,
	                  "GitHub https://github.com/\n"
	                  "Docs/* https://d.example/:splat\n",
	                  &fold) == SH_OK);
	rules_fold("GITHUB", 6, path);
	expect_int(__LINE__, "folded path", SH_OK,
	           store_resolve(s, NULL, path, 6, url, sizeof(url), &m));
	rules_fold("DOCS/Read/Me", 12, path);
	expect_int(__LINE__, "folded prefix", SH_OK,
	           store_resolve(s, NULL, path, 12, url, sizeof(url), &m));
	expect_int(__LINE__, "splat offset", 5, m.splat);
	expect_int(__LINE__, "unfolded path misses", SH_ENOTFOUND,
	           store_resolve(s, NULL, "GitHub", 6, url, sizeof(url), &m));
	store_close(s);
}

struct seen {
	size_t n;
	char line[16][128];
};

static int
seen_fn(void *ctx, const struct store_rule *r)
{
	struct seen *w = ctx;

	if (w->n < 16)
		snprintf(w->line[w->n], sizeof(w->line[0]),
		         "%.*s|%u|%.*s|%u|%.*s", (int)r->hlen, r->host, r->kind,
		         (int)r->alen, r->alias, r->status, (int)r->ulen,
		         r->url);
	w->n++;
	return 0;
}

/* foreach_rule gives back every rule, sections in order, no markers. */
static void
test_foreach_rule(void)
{
	static const char *const want[] = {
		"|0|a|0|https://a.example/",
		"|0|b|302|https://b.example/",
		"|1||0|https://all.example/:splat",
		"|1|p/q|0|https://p.example/:splat",
		"h.example|0|z|0|https://z.example/",
		"h.example|1|d|308|https://d.example/",
		"i.example|1|e|0|https://e.example/",
	};
	struct seen w;
	struct store *s = open_in("foreach");
	size_t i;

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill",
	             fill(s,
	                  "@host i.example\ne/* https://e.example/\n@host *\n"
	                  "a https://a.example/\n"
	                  "p/q/* https://p.example/:splat\n"
	                  "* https://all.example/:splat\n"
	                  "b https://b.example/ 302\n"
	                  "@host h.example\nz https://z.example/\n"
	                  "d/* https://d.example/ 308\n",
	                  NULL) == SH_OK);
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "foreach_rule", 0,
	           store_foreach_rule(s, seen_fn, &w));
	expect_int(__LINE__, "rules", NELEM(want), w.n);
	for (i = 0; i < NELEM(want) && i < w.n; i++)
		expect_str(__LINE__, want[i], want[i], w.line[i]);
	expect_int(__LINE__, "count", NELEM(want), store_count(s));
	store_close(s);
}

/* A store of an older layout reads as empty until refilled. */
static void
test_stale(void)
{
	static const struct store_kv old[] = { { "layout", "1 0 0 2" } };
	char url[512];
	struct store_match m;
	struct store *s = open_in("stale");

	require_true(__LINE__, "store_open", s != NULL);
	expect_int(__LINE__, "a new store is not stale", 0, store_stale(s));
	require_true(__LINE__, "fill",
	             fill(s, "a https://a.example/\n", NULL) == SH_OK);
	expect_int(__LINE__, "a filled store is not stale", 0, store_stale(s));
	require_true(__LINE__, "meta", store_meta_put(s, old, 1) == SH_OK);
	expect_int(__LINE__, "another layout is stale", 1, store_stale(s));
	expect_int(__LINE__, "stale reads as empty", 0, store_count(s));
	expect_int(__LINE__, "stale resolves nothing", SH_ENOTFOUND,
	           store_resolve(s, NULL, "a", 1, url, sizeof(url), &m));
	require_true(__LINE__, "refill",
	             fill(s, "a https://a.example/\n", NULL) == SH_OK);
	expect_int(__LINE__, "refilled", 0, store_stale(s));
	expect_int(__LINE__, "refilled resolves", SH_OK,
	           store_resolve(s, NULL, "a", 1, url, sizeof(url), &m));
	store_close(s);
}

static const struct unit_test pure_tests[] = {
	UNIT_TEST(test_host),         UNIT_TEST(test_reserved),
	UNIT_TEST(test_location),     UNIT_TEST(test_location_bounds),
	UNIT_TEST(test_dir_location), UNIT_END,
};

static const struct unit_test store_tests[] = {
	UNIT_TEST(test_resolve), UNIT_TEST(test_cost),
	UNIT_TEST(test_fold),    UNIT_TEST(test_foreach_rule),
	UNIT_TEST(test_stale),   UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "rules", NULL, NULL, pure_tests },
	{ "resolve", suite_init, suite_cleanup, store_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
