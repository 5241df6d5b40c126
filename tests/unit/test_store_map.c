/*
 * test_store_map.c - the key and value layout of the map (store_map.c),
 * tested directly: the keys (host, kind, alias; too long refused), a
 * rule's value encoded and decoded back field by field at the bounds,
 * the host section markers and their prefix depth, and the layout
 * record written with a map and read back.
 *
 * And what is built on it: store_resolve() (precedence across host
 * sections and prefixes, and its cost in gets: one for a gosherve map),
 * alias-case folding, the walk of every rule, a stale layout.
 *
 * store_map.c is included rather than linked, so its static helpers
 * (make_key, val_encode, val_decode, put_rule, put_markers,
 * layout_parse) are reached as they are, and with mdb_get() wrapped to
 * count the gets; store.c comes from libsherve. Every row runs against a
 * real LMDB store in a temporary directory; a row that writes through
 * put_rule() does it in a write transaction it aborts.
 */
#include "unit.h"

#include <lmdb.h>
#include <stdlib.h>

static unsigned long gets;

/* Every get counted: store_resolve() is held to its cost. */
static int
counting_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v)
{
	gets++;
	return mdb_get(txn, dbi, k, v);
}

#define mdb_get counting_get
#include "../../src/store_map.c"
#undef mdb_get

#include "fixture.h"
#include "location.h"
#include "match.h"
#include "redirects.h"
#include "store.h"
#include "util.h"

static char base[512];

static int
suite_init(void)
{
	return fixture_tmpdir(base, sizeof(base), "sherve-store-map");
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

/* n copies of c, NUL-terminated, in a static buffer of at least n + 1. */
static char *
fill_with(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ---- Keys ---- */

struct key_row {
	unsigned line;
	const char *desc;
	const char *host; /* NULL: the default section */
	size_t hlen;
	const char *alias;
	size_t alen;
	size_t want; /* the key's length; 0: refused */
};

static void
test_make_key(void)
{
	static char h[REDIRECT_KEY_MAX + 2], a[REDIRECT_KEY_MAX + 2];
	const struct key_row rows[] = {
		{ __LINE__, "default section", NULL, 0, "go", 2, 3 },
		{ __LINE__, "host section", "example.org", 11, "go", 2, 14 },
		{ __LINE__, "host marker: no alias", "example.org", 11, "", 0,
		  12 },
		{ __LINE__, "default catch-all: NUL alone", NULL, 0, "", 0, 1 },
		{ __LINE__, "alias filling the key", NULL, 0, a,
		  REDIRECT_KEY_MAX - 1, REDIRECT_KEY_MAX },
		{ __LINE__, "alias one over", NULL, 0, a, REDIRECT_KEY_MAX, 0 },
		{ __LINE__, "host and alias filling the key", h, 255, a,
		  REDIRECT_KEY_MAX - 256, REDIRECT_KEY_MAX },
		{ __LINE__, "host and alias one over", h, 255, a,
		  REDIRECT_KEY_MAX - 255, 0 },
		{ __LINE__, "host alone too long", h, REDIRECT_KEY_MAX, "", 0,
		  0 },
	};
	char key[REDIRECT_KEY_MAX];
	size_t i, n, hl;

	fill_with(h, 'h', sizeof(h) - 1);
	fill_with(a, 'a', sizeof(a) - 1);
	for (i = 0; i < NELEM(rows); i++) {
		const struct key_row *r = &rows[i];

		memset(key, 'x', sizeof(key));
		n = make_key(key, r->host, r->hlen, r->alias, r->alen);
		expect_u64(r->line, r->desc, r->want, n);
		if (n == 0 || r->want == 0)
			continue;
		hl = r->hlen;
		expect_true(r->line, "host bytes first",
		            hl == 0 || memcmp(key, r->host, hl) == 0);
		expect_int(r->line, "then a NUL", 0, key[hl]);
		expect_true(r->line, "then the alias",
		            memcmp(key + hl + 1, r->alias, r->alen) == 0);
	}
}

struct put_row {
	unsigned line;
	const char *desc;
	const char *host;
	unsigned kind;
	const char *alias; /* as listed */
	unsigned rline;
	const char *key; /* after the host and its NUL; NULL: refused */
	size_t klen;
};

/* Which database each kind goes to, and its key there. */
static void
test_rule_keys(void)
{
	static const struct put_row rows[] = {
		{ __LINE__, "exact, default", NULL, REDIRECT_EXACT, "go", 3,
		  "go", 2 },
		{ __LINE__, "exact, root", NULL, REDIRECT_EXACT, "/", 3, "/",
		  1 },
		{ __LINE__, "exact, host", "a.example", REDIRECT_EXACT, "go", 3,
		  "go", 2 },
		{ __LINE__, "prefix: no trailing /*", NULL, REDIRECT_PREFIX,
		  "docs/*", 3, "docs", 4 },
		{ __LINE__, "prefix catch-all: empty", "a.example",
		  REDIRECT_PREFIX, "*", 3, "", 0 },
		{ __LINE__, "pattern: the line, big-endian", "a.example",
		  REDIRECT_PATTERN, "n/:y/*", 0x01020304, "\x01\x02\x03\x04",
		  4 },
	};
	struct store *s = fixture_open(base, "keys");
	MDB_dbi dbi[3];
	MDB_txn *txn = NULL;
	char want[REDIRECT_KEY_MAX];
	size_t i, hl, d;

	require_true(__LINE__, "open", s != NULL);
	dbi[0] = s->map;
	dbi[1] = s->prefix;
	dbi[2] = s->pattern;
	for (i = 0; i < NELEM(rows); i++) {
		const struct put_row *r = &rows[i];
		struct redirect rd = { (char *)r->alias,
			               "https://t.example/",
			               NULL,
			               (char *)r->host,
			               0,
			               r->rline,
			               301,
			               (unsigned char)r->kind,
			               0 };
		MDB_val k, v;
		int other;

		require_true(r->line, "txn",
		             mdb_txn_begin(s->env, NULL, 0, &txn) == 0);
		expect_int(r->line, r->desc, 0,
		           put_rule(txn, dbi[r->kind], &rd));
		hl = r->host != NULL ? strlen(r->host) : 0;
		k.mv_size = make_key(want, r->host, hl, r->key, r->klen);
		k.mv_data = want;
		expect_int(r->line, "found under its key", 0,
		           mdb_get(txn, dbi[r->kind], &k, &v));
		/* In no other rule database. */
		other = 0;
		for (d = 0; d < 3; d++)
			if (d != r->kind && mdb_get(txn, dbi[d], &k, &v) == 0)
				other++;
		expect_int(r->line, "in its own database only", 0, other);
		mdb_txn_abort(txn);
	}
	store_close(s);
}

/* A rule whose key would pass LMDB's limit is refused, not cut. */
static void
test_key_too_long(void)
{
	static char a[REDIRECT_KEY_MAX + 1];
	struct store *s = fixture_open(base, "long");
	struct redirect rd = {
		a,   "https://t.example/", NULL, "h.example", 0, 1,
		301, REDIRECT_EXACT,       0
	};
	MDB_txn *txn = NULL;
	MDB_stat st;

	require_true(__LINE__, "open", s != NULL);
	fill_with(a, 'a', REDIRECT_KEY_MAX - strlen("h.example"));
	require_true(__LINE__, "txn",
	             mdb_txn_begin(s->env, NULL, 0, &txn) == 0);
	expect_int(__LINE__, "one byte over: refused", MDB_BAD_VALSIZE,
	           put_rule(txn, s->map, &rd));
	a[strlen(a) - 1] = '\0';
	expect_int(__LINE__, "at the limit: stored", 0,
	           put_rule(txn, s->map, &rd));
	expect_int(__LINE__, "stat", 0, mdb_stat(txn, s->map, &st));
	expect_u64(__LINE__, "one entry", 1, st.ms_entries);
	mdb_txn_abort(txn);
	store_close(s);
}

/* ---- Values ---- */

struct val_row {
	unsigned line;
	const char *desc;
	unsigned kind;
	unsigned char flags;
	unsigned short status;
	unsigned rline;
	uint64_t expires;
	const char *alias, *query, *url;
	size_t qlen; /* of the query as decoded */
};

/* Compare the decoded rule m with the rule r it was made of. */
static void
expect_rule(const struct val_row *w, const struct match_rule *m)
{
	const char *key = w->alias;
	size_t klen = strlen(w->alias);

	expect_int(w->line, "kind", w->kind, m->kind);
	expect_int(w->line, "flags", w->flags, m->flags);
	expect_int(w->line, "status", w->status, m->status);
	expect_u64(w->line, "line", w->rline, m->line);
	expect_u64(w->line, "expires", w->expires, m->expires);
	expect_u64(w->line, "url length", strlen(w->url), m->ulen);
	expect_true(w->line, "url bytes",
	            m->ulen == strlen(w->url) &&
	                    memcmp(m->url, w->url, m->ulen) == 0);
	if (w->kind != REDIRECT_PATTERN) {
		expect_true(w->line, "no key in the value", m->key == NULL);
		return;
	}
	expect_u64(w->line, "pattern key length", klen, m->klen);
	expect_true(w->line, "pattern key bytes",
	            m->klen == klen && memcmp(m->key, key, klen) == 0);
	expect_u64(w->line, "query length", w->qlen, m->qlen);
	expect_true(w->line, "query bytes",
	            m->qlen == w->qlen &&
	                    (w->qlen == 0 ||
	                     memcmp(m->query, w->query, w->qlen) == 0));
}

/* Every field of a rule survives put_rule() and val_decode(). */
static void
test_value_round_trip(void)
{
	static char alias[REDIRECT_ALIAS_MAX + 1], url[REDIRECT_URL_MAX + 1],
	        query[REDIRECT_QUERY_MAX + 1];
	const struct val_row rows[] = {
		{ __LINE__, "exact, all zero", REDIRECT_EXACT, 0, 0, 0, 0, "a",
		  NULL, "", 0 },
		{ __LINE__, "exact, every field", REDIRECT_EXACT, MATCH_FORCE,
		  308, 42, 1893456000, "go", NULL, "https://go.example/", 0 },
		{ __LINE__, "exact, maxima", REDIRECT_EXACT, 0xff, 0xffff,
		  0xffffffffu, UINT64_MAX, alias, NULL, url, 0 },
		{ __LINE__, "prefix", REDIRECT_PREFIX, MATCH_SLASH, 302, 7, 1,
		  "docs/*", NULL, "https://d.example/:splat", 0 },
		{ __LINE__, "pattern with a query", REDIRECT_PATTERN,
		  MATCH_SCAN | MATCH_FORCE, 301, 9, 0, "store/:id", "id=:id",
		  "/items/:id", 6 },
		{ __LINE__, "pattern, no query (NULL)", REDIRECT_PATTERN, 0,
		  200, 10, 0, "n/:y/*", NULL, "/news/:y/:splat", 0 },
		{ __LINE__, "pattern, empty query", REDIRECT_PATTERN, 0, 404,
		  11, 0, "n/:y/*", "", "", 0 },
		{ __LINE__, "pattern, maxima", REDIRECT_PATTERN, 0xff, 410,
		  0xffffffffu, UINT64_MAX, alias, query, url,
		  REDIRECT_QUERY_MAX },
	};
	struct store *s = fixture_open(base, "values");
	MDB_dbi dbi[3];
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	fill_with(alias, 'p', REDIRECT_ALIAS_MAX);
	fill_with(url, 'u', REDIRECT_URL_MAX);
	fill_with(query, 'q', REDIRECT_QUERY_MAX);
	dbi[0] = s->map;
	dbi[1] = s->prefix;
	dbi[2] = s->pattern;
	for (i = 0; i < NELEM(rows); i++) {
		const struct val_row *w = &rows[i];
		struct redirect rd = { (char *)w->alias, (char *)w->url,
			               (char *)w->query, NULL,
			               w->expires,       w->rline,
			               w->status,        (unsigned char)w->kind,
			               w->flags };
		struct match_rule m;
		MDB_txn *txn = NULL;
		MDB_cursor *c = NULL;
		MDB_val k, v;

		require_true(w->line, "txn",
		             mdb_txn_begin(s->env, NULL, 0, &txn) == 0);
		expect_int(w->line, w->desc, 0,
		           put_rule(txn, dbi[w->kind], &rd));
		require_true(w->line, "cursor",
		             mdb_cursor_open(txn, dbi[w->kind], &c) == 0);
		if (expect_int(w->line, "stored", 0,
		               mdb_cursor_get(c, &k, &v, MDB_FIRST)) &&
		    expect_int(w->line, "decodes", SH_OK,
		               val_decode(&v, w->kind, &m)))
			expect_rule(w, &m);
		mdb_cursor_close(c);
		mdb_txn_abort(txn);
	}
	store_close(s);
}

/* The bytes of a value, as store.h documents them. */
static void
test_value_bytes(void)
{
	static const unsigned char exact[] =
	        "\x01"                             /* flags */
	        "\x01\x2d"                         /* status 301 */
	        "\x00\x00\x00\x07"                 /* line 7 */
	        "\x01\x02\x03\x04\x05\x06\x07\x08" /* expires */
	        "https://u/";
	static const unsigned char pattern[] =
	        "\x02\x00\xc8\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	        "\x00\x04"
	        "s/:i"
	        "\x00\x04"
	        "i=:i"
	        "/x/:i";
	struct redirect e = { "go", "https://u/",          NULL,
		              NULL, 0x0102030405060708ULL, 7,
		              301,  REDIRECT_EXACT,        MATCH_FORCE };
	struct redirect p = { "s/:i", "/x/:i", "i=:i",           NULL,      0,
		              256,    200,     REDIRECT_PATTERN, MATCH_SCAN };
	unsigned char buf[128];
	MDB_val v = { sizeof(exact) - 1, buf };

	memset(buf, 0xee, sizeof(buf));
	val_encode(&e, &v);
	expect_true(__LINE__, "exact rule's bytes",
	            memcmp(buf, exact, sizeof(exact) - 1) == 0);
	expect_int(__LINE__, "nothing past its size", 0xee,
	           buf[sizeof(exact) - 1]);
	memset(buf, 0xee, sizeof(buf));
	v.mv_size = sizeof(pattern) - 1;
	val_encode(&p, &v);
	expect_true(__LINE__, "pattern rule's bytes",
	            memcmp(buf, pattern, sizeof(pattern) - 1) == 0);
	expect_int(__LINE__, "nothing past its size", 0xee,
	           buf[sizeof(pattern) - 1]);
}

struct bad_row {
	unsigned line;
	const char *desc;
	unsigned kind;
	const char *bytes;
	size_t n;
	int rc;
};

/* A value cut short reads as no rule, never past its end. */
static void
test_value_short(void)
{
	/* A header of zeros, then a pattern's fields. */
#define HDR "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	static const struct bad_row rows[] = {
		{ __LINE__, "empty", REDIRECT_EXACT, "", 0, SH_ENOTFOUND },
		{ __LINE__, "header cut", REDIRECT_EXACT, HDR, 14,
		  SH_ENOTFOUND },
		{ __LINE__, "header alone: exact, no URL", REDIRECT_EXACT, HDR,
		  15, SH_OK },
		{ __LINE__, "pattern: no key length", REDIRECT_PATTERN, HDR, 15,
		  SH_ENOTFOUND },
		{ __LINE__, "pattern: key length cut", REDIRECT_PATTERN,
		  HDR "\0", 16, SH_ENOTFOUND },
		{ __LINE__, "pattern: key past the end", REDIRECT_PATTERN,
		  HDR "\0\x05"
		      "abcd",
		  21, SH_ENOTFOUND },
		{ __LINE__, "pattern: no query length", REDIRECT_PATTERN,
		  HDR "\0\x01"
		      "a",
		  18, SH_ENOTFOUND },
		{ __LINE__, "pattern: query past the end", REDIRECT_PATTERN,
		  HDR "\0\x01"
		      "a\0\x02"
		      "q",
		  21, SH_ENOTFOUND },
		{ __LINE__, "pattern: empty key and query, no URL",
		  REDIRECT_PATTERN, HDR "\0\0\0\0", 19, SH_OK },
	};
#undef HDR
	struct match_rule m;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct bad_row *r = &rows[i];
		MDB_val v = { r->n, (void *)r->bytes };

		expect_int(r->line, r->desc, r->rc,
		           val_decode(&v, r->kind, &m));
		if (r->rc == SH_OK)
			expect_u64(r->line, "no URL", 0, m.ulen);
	}
}

/* ---- Section markers ---- */

struct marker_row {
	unsigned line;
	const char *host;
	int present;
	unsigned depth;
};

/* The marker of each host section holds its deepest prefix. */
static void
test_markers(void)
{
	static const char text[] = "top/a/b/* https://d.example/:splat\n"
	                           "@host exact.example\n"
	                           "go https://e.example/\n"
	                           "@host deep.example\n"
	                           "go https://deep.example/\n"
	                           "x/* https://deep.example/x/:splat\n"
	                           "x/y/z/* https://deep.example/xyz/:splat\n"
	                           "@host prefix.example\n"
	                           "* https://p.example/:splat\n";
	static const struct marker_row rows[] = {
		{ __LINE__, "exact.example", 1, 0 },
		{ __LINE__, "deep.example", 1, 4 },
		{ __LINE__, "prefix.example", 1, 1 },
		{ __LINE__, "", 0, 0 }, /* the default section has none */
		{ __LINE__, "other.example", 0, 0 },
	};
	struct redirect_map m;
	struct store *s = fixture_open(base, "markers");
	MDB_txn *txn = NULL;
	unsigned hosts = 0, depth;
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	require_true(__LINE__, "parse", fixture_parse(text, 0, &m) == SH_OK);
	require_true(__LINE__, "txn",
	             mdb_txn_begin(s->env, NULL, 0, &txn) == 0);
	expect_int(__LINE__, "put_markers", 0,
	           put_markers(txn, s->map, &m, &hosts));
	expect_int(__LINE__, "sections counted once each", 3, hosts);
	for (i = 0; i < NELEM(rows); i++) {
		char k[REDIRECT_KEY_MAX];
		MDB_val key = { 0, k }, v;
		int rc;

		key.mv_size =
		        make_key(k, rows[i].host, strlen(rows[i].host), "", 0);
		rc = mdb_get(txn, s->map, &key, &v);
		expect_int(rows[i].line, rows[i].host, rows[i].present,
		           rc == 0);
		if (rc == 0 &&
		    expect_u64(rows[i].line, "one byte", 1, v.mv_size))
			expect_int(rows[i].line, "its depth", rows[i].depth,
			           *(unsigned char *)v.mv_data);
	}
	mdb_txn_abort(txn);
	/* The reader's side: a whole map written, each section's depth
	 * read back through match_source.section. */
	require_true(__LINE__, "replace",
	             store_replace(s, &m, NULL, 0) == SH_OK);
	require_true(__LINE__, "read", store_read_begin(s) == 0);
	for (i = 0; i < NELEM(rows); i++) {
		const char *h = rows[i].host;

		depth = 99;
		expect_int(rows[i].line, h,
		           rows[i].present ? SH_OK : SH_ENOTFOUND,
		           src_section(s, h, strlen(h), &depth));
		if (rows[i].present)
			expect_int(rows[i].line, "depth read", rows[i].depth,
			           depth);
	}
	mdb_txn_reset(s->rtxn);
	redirects_free(&m);
	store_close(s);
}

/* ---- The layout record ---- */

struct layout_row {
	unsigned line;
	const char *text;
	int rc;
	unsigned hosts, depth;
	size_t rules;
	unsigned patterns, flags;
};

static void
test_layout_parse(void)
{
	/* clang-format off */
	static const struct layout_row rows[] = {
		{ __LINE__, "3 0 0 0 0 0", 0, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 2 33 1000000 1000 255", 0, 2, 33, 1000000, 1000, 255 },
		{ __LINE__, "3 4294967295 1 5 0 7", 0, 4294967295u, 1, 5, 0, 7 },
		/* an older layout, a newer one */
		{ __LINE__, "2 0 0 0 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "4 0 0 0 0 0", -1, 0, 0, 0, 0, 0 },
		/* fields missing, one short, one too many */
		{ __LINE__, "1 0 0 2", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 0 0 0 0", -1, 0, 0, 0, 0, 0 },
		/* past the bounds: hosts, depth, patterns, flags (one byte) */
		{ __LINE__, "3 4294967296 0 0 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 34 0 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 0 1001 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 0 0 256", -1, 0, 0, 0, 0, 0 },
		/* not numbers, or one that would wrap */
		{ __LINE__, "3 0 0 x 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 -1 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "3 0 0 99999999999999999999 0 0", -1, 0, 0, 0, 0, 0 },
		{ __LINE__, "", -1, 0, 0, 0, 0, 0 },
	};
	/* clang-format on */
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct layout_row *r = &rows[i];
		MDB_val v = { strlen(r->text), (void *)r->text };
		struct layout l;

		memset(&l, 0, sizeof(l));
		if (!expect_int(r->line, r->text, r->rc,
		                layout_parse(&v, &l)) ||
		    r->rc != 0)
			continue;
		expect_u64(r->line, "hosts", r->hosts, l.hosts);
		expect_u64(r->line, "depth", r->depth, l.depth);
		expect_u64(r->line, "rules", r->rules, l.rules);
		expect_u64(r->line, "patterns", r->patterns, l.patterns);
		expect_u64(r->line, "flags", r->flags, l.flags);
	}
}

struct round_row {
	unsigned line;
	const char *desc;
	const char *text;
	int redirects; /* a "_redirects" file */
	const char *record;
};

/* A map's layout record, as written and as read back. */
static void
test_layout_round_trip(void)
{
	static const struct round_row rows[] = {
		{ __LINE__, "empty map", "", 0, "3 0 0 0 0 0" },
		{ __LINE__, "gosherve, default prefix depth",
		  "a https://a.example/\n"
		  "b/c/* https://b.example/:splat\n",
		  0, "3 0 3 2 0 0" },
		{ __LINE__, "host sections",
		  "a https://a.example/\n"
		  "@host one.example\n"
		  "x/y/z/* https://one.example/:splat\n"
		  "@host two.example\n"
		  "b https://two.example/\n",
		  0, "3 2 0 3 0 0" },
		{ __LINE__, "_redirects: ordered, patterns",
		  "/a /b 301\n"
		  "/news/:year/* /n/:year 302\n"
		  "/store id=:id /items/:id 301\n",
		  1, "3 0 0 3 2 1" },
	};
	struct store *s = fixture_open(base, "layout");
	size_t i;

	require_true(__LINE__, "open", s != NULL);
	for (i = 0; i < NELEM(rows); i++) {
		const struct round_row *r = &rows[i];
		struct redirect_map m;
		char rec[96];
		struct layout l;

		require_true(r->line, "parse",
		             fixture_parse(r->text, r->redirects, &m) == SH_OK);
		require_true(r->line, "replace",
		             store_replace(s, &m, NULL, 0) == SH_OK);
		expect_int(r->line, "record read", SH_OK,
		           store_meta_get(s, LAYOUT_KEY, rec, sizeof(rec)));
		expect_str(r->line, r->desc, r->record, rec);
		memset(&l, 0, sizeof(l));
		require_true(r->line, "layout_fn", layout_fn(s, &l) == SH_OK);
		expect_int(r->line, "read back as the current layout", 1, l.ok);
		expect_int(r->line, "not stale", 0, l.stale);
		expect_u64(r->line, "rules as the map", m.n, l.rules);
		expect_u64(r->line, "patterns as the map", m.npattern,
		           l.patterns);
		expect_u64(r->line, "flags as the map", m.flags & 0xff,
		           l.flags);
		expect_u64(r->line, "depth as the map", m.depth, l.depth);
		expect_u64(r->line, "store_count", m.n, store_count(s));
		expect_u64(r->line, "store_map_flags", m.flags & 0xff,
		           store_map_flags(s));
		redirects_free(&m);
	}
	store_close(s);
}

/* ---- store_resolve, and its cost in gets ---- */

static const char rules_text[] = "gh https://github.com/\n"
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

/* store_resolve() of path on host (NULL: none), no query, no slash. */
static int
t_resolve(struct store *s, const char *host, const char *path, char *url,
          size_t urlsz, struct match_result *m)
{
	struct match_request rq = { path, strlen(path), 0, host, NULL, 0 };

	return store_resolve(s, &rq, url, urlsz, m);
}

/* The offset of m's splat in path: len for a rule without one. */
static size_t
splat_at(const struct match_result *m, const char *path)
{
	return m->splat != NULL ? (size_t)(m->splat - path) : strlen(path);
}

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

static void
test_resolve(void)
{
	char url[512];
	struct match_result m;
	struct store *s = fixture_open(base, "resolve");
	size_t i;

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill", fill(s, rules_text, NULL) == SH_OK);
	expect_int(__LINE__, "rules counted (robots.txt too)", 13,
	           store_count(s));
	for (i = 0; i < NELEM(resolve_rows); i++) {
		const struct resolve_row *r = &resolve_rows[i];

		expect_int(
		        r->line, r->desc, r->rc,
		        t_resolve(s, r->host, r->path, url, sizeof(url), &m));
		expect_str(r->line, r->desc, r->url, url);
		if (r->rc != SH_OK)
			continue;
		expect_int(r->line, "status", r->status, m.rule.status);
		expect_int(r->line, "prefix", r->prefix,
		           m.rule.kind == REDIRECT_PREFIX);
		expect_int(r->line, "splat offset", r->splat,
		           splat_at(&m, r->path));
		expect_int(r->line, "host section",
		           r->host != NULL &&
		                   (strcmp(r->url, "https://github.com/"
		                                   "example-org") == 0 ||
		                    strstr(r->url, "org.example") != NULL ||
		                    strstr(r->url, "other.example") != NULL),
		           m.host);
	}
	expect_int(__LINE__, "url too small", SH_ETOOLONG,
	           t_resolve(s, NULL, "gh", url, 5, &m));
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
	struct match_result m;
	struct store *s = fixture_open(base, "cost");

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill",
	             fill(s, "a https://a.example/\nb https://b.example/\n",
	                  NULL) == SH_OK);
	gets = 0;
	expect_int(__LINE__, "first", SH_OK,
	           t_resolve(s, "h.example", "a", url, sizeof(url), &m));
	expect_int(__LINE__, "layout read once, then one get", 2, gets);
	gets = 0;
	expect_int(__LINE__, "hit", SH_OK,
	           t_resolve(s, "h.example", "b", url, sizeof(url), &m));
	expect_int(__LINE__, "gosherve hit: one get", 1, gets);
	gets = 0;
	expect_int(__LINE__, "miss", SH_ENOTFOUND,
	           t_resolve(s, "h.example", "c/d/e", url, sizeof(url), &m));
	expect_int(__LINE__, "gosherve miss: one get", 1, gets);

	/* Host sections: a marker get; prefixes: one get per level. */
	require_true(__LINE__, "fill",
	             fill(s,
	                  "a https://a.example/\n"
	                  "p/q/* https://p.example/:splat\n"
	                  "@host h.example\nz https://z.example/\n",
	                  NULL) == SH_OK);
	(void)t_resolve(s, NULL, "a", url, sizeof(url), &m);
	gets = 0;
	expect_int(__LINE__, "unknown host", SH_OK,
	           t_resolve(s, "x.example", "a", url, sizeof(url), &m));
	expect_int(__LINE__, "unknown host: marker, exact", 2, gets);
	gets = 0;
	expect_int(__LINE__, "deep path", SH_OK,
	           t_resolve(s, NULL, "p/q/r/s/t/u/v", url, sizeof(url), &m));
	expect_int(__LINE__, "walk starts at the deepest prefix (2 levels)", 2,
	           gets);
	gets = 0;
	expect_int(__LINE__, "miss below the prefixes", SH_ENOTFOUND,
	           t_resolve(s, NULL, "x/y/z/w", url, sizeof(url), &m));
	expect_int(__LINE__, "exact, 2 segments, 1 segment, catch-all", 4,
	           gets);
	store_close(s);
}

/* alias-case = insensitive folds at ingest; the caller folds the path. */
static void
test_fold(void)
{
	static const struct redirects_opts fold = { REDIRECTS_GOSHERVE, 1, 0,
		                                    DIALECT_NETLIFY };
	char url[512], path[64];
	struct match_result m;
	struct store *s = fixture_open(base, "fold");

	require_true(__LINE__, "store_open", s != NULL);
	require_true(__LINE__, "fill",
	             fill(s,
	                  "GitHub https://github.com/\n"
	                  "Docs/* https://d.example/:splat\n",
	                  &fold) == SH_OK);
	location_fold("GITHUB", 6, path);
	expect_int(__LINE__, "folded path", SH_OK,
	           t_resolve(s, NULL, path, url, sizeof(url), &m));
	location_fold("DOCS/Read/Me", 12, path);
	expect_int(__LINE__, "folded prefix", SH_OK,
	           t_resolve(s, NULL, path, url, sizeof(url), &m));
	expect_int(__LINE__, "splat offset", 5, splat_at(&m, path));
	expect_int(__LINE__, "unfolded path misses", SH_ENOTFOUND,
	           t_resolve(s, NULL, "GitHub", url, sizeof(url), &m));
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
	struct store *s = fixture_open(base, "foreach");
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
	static const struct store_kv old[] = { { "layout", "1 0 0 2", 0 } };
	char url[512];
	struct match_result m;
	struct store *s = fixture_open(base, "stale");

	require_true(__LINE__, "store_open", s != NULL);
	expect_int(__LINE__, "a new store is not stale", 0, store_stale(s));
	require_true(__LINE__, "fill",
	             fill(s, "a https://a.example/\n", NULL) == SH_OK);
	expect_int(__LINE__, "a filled store is not stale", 0, store_stale(s));
	require_true(__LINE__, "meta", store_meta_put(s, old, 1) == SH_OK);
	expect_int(__LINE__, "another layout is stale", 1, store_stale(s));
	expect_int(__LINE__, "stale reads as empty", 0, store_count(s));
	expect_int(__LINE__, "stale resolves nothing", SH_ENOTFOUND,
	           t_resolve(s, NULL, "a", url, sizeof(url), &m));
	require_true(__LINE__, "refill",
	             fill(s, "a https://a.example/\n", NULL) == SH_OK);
	expect_int(__LINE__, "refilled", 0, store_stale(s));
	expect_int(__LINE__, "refilled resolves", SH_OK,
	           t_resolve(s, NULL, "a", url, sizeof(url), &m));
	store_close(s);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_make_key),
	UNIT_TEST(test_rule_keys),
	UNIT_TEST(test_key_too_long),
	UNIT_TEST(test_value_round_trip),
	UNIT_TEST(test_value_bytes),
	UNIT_TEST(test_value_short),
	UNIT_TEST(test_markers),
	UNIT_TEST(test_layout_parse),
	UNIT_TEST(test_layout_round_trip),
	UNIT_TEST(test_resolve),
	UNIT_TEST(test_cost),
	UNIT_TEST(test_fold),
	UNIT_TEST(test_foreach_rule),
	UNIT_TEST(test_stale),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "store_map", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
