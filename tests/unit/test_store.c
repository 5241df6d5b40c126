/*
 * test_store.c - the LMDB store in a temporary directory.
 *
 * store.c is included rather than linked, so the growth test can shrink
 * the map of an open environment to 1 MiB and make store_replace() hit
 * MDB_MAP_FULL with a few megabytes instead of filling the 1 GiB default.
 * The map's layout, lookups and walk (store_map.c) are
 * test_store_map.c's.
 */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "../../src/store.c"

#include "redirects.h"
#include "util.h"

static char base[] = "/tmp/sherve-store.XXXXXX";

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

/* dir = base/name */
static void
subdir(char *dir, size_t n, const char *name)
{
	snprintf(dir, n, "%s/%s", base, name);
}

static int
parse(const char *text, struct redirect_map *m)
{
	memset(m, 0, sizeof(*m));
	return redirects_parse(text, strlen(text), m, NULL, NULL);
}

static void
test_open_creates(void)
{
	char dir[512], file[600], err[256] = "", url[64];
	struct store *s = NULL;
	struct stat st;

	subdir(dir, sizeof(dir), "new/deeper/state");
	expect_int(__LINE__, err, SH_OK, store_open(dir, &s, err, sizeof(err)));
	require_true(__LINE__, "store_open", s != NULL);
	expect_true(__LINE__, "directory created",
	            stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(file, sizeof(file), "%s/redirects.mdb", dir);
	expect_true(__LINE__, "file created",
	            stat(file, &st) == 0 && S_ISREG(st.st_mode));
	expect_int(__LINE__, "new store is empty", 0, store_count(s));
	snprintf(url, sizeof(url), "junk");
	expect_int(__LINE__, "lookup in empty store", SH_ENOTFOUND,
	           store_lookup(s, "x", 1, url, sizeof(url)));
	expect_str(__LINE__, "url cleared on a miss", "", url);
	expect_int(__LINE__, "meta in empty store", SH_ENOTFOUND,
	           store_meta_get(s, "source", url, sizeof(url)));
	expect_str(__LINE__, "meta cleared on a miss", "", url);
	store_close(s);
	store_close(NULL); /* safe */
}

static void
test_open_errors(void)
{
	char dir[512], err[256];
	char *longdir;
	struct store *s = (struct store *)&err;
	int rc;

	/* A regular file where the directory should be. */
	subdir(dir, sizeof(dir), "plainfile");
	{
		FILE *fp = fopen(dir, "w");

		require_true(__LINE__, "fopen", fp != NULL);
		fclose(fp);
	}
	err[0] = '\0';
	rc = store_open(dir, &s, err, sizeof(err));
	expect_true(__LINE__, "a file is no state dir", rc != SH_OK);
	expect_true(__LINE__, "no handle on error", s == NULL);
	expect_has(__LINE__, "error names the path", err, dir);
	expect_true(__LINE__, "error is one line", strchr(err, '\n') == NULL);

	/* Below a regular file. */
	subdir(dir, sizeof(dir), "plainfile/sub");
	err[0] = '\0';
	expect_int(__LINE__, "below a file", SH_EIO,
	           store_open(dir, &s, err, sizeof(err)));
	expect_has(__LINE__, "error names the setting", err, "state-dir");

	/* A path longer than PATH_MAX. */
	longdir = malloc(6000);
	require_true(__LINE__, "malloc", longdir != NULL);
	memset(longdir, 'd', 5999);
	longdir[0] = '/';
	longdir[5999] = '\0';
	expect_true(__LINE__, "too long a path",
	            store_open(longdir, &s, err, sizeof(err)) != SH_OK);
	free(longdir);
}

static const char map_text[] = "b http://b.example/\n"
                               "a https://a.example/x?y=1\n"
                               "c/d http://cd.example/\n";

struct lookup_row {
	unsigned line;
	const char *desc;
	const char *alias;
	size_t len; /* 0: strlen(alias) */
	size_t urlsz;
	int rc;
	const char *url;
};

static const struct lookup_row lookup_rows[] = {
	{ __LINE__, "found a", "a", 0, 256, SH_OK, "https://a.example/x?y=1" },
	{ __LINE__, "found b", "b", 0, 256, SH_OK, "http://b.example/" },
	{ __LINE__, "found c/d", "c/d", 0, 256, SH_OK, "http://cd.example/" },
	{ __LINE__, "prefix of an alias", "c", 0, 256, SH_ENOTFOUND, "" },
	{ __LINE__, "suffix of an alias", "d", 0, 256, SH_ENOTFOUND, "" },
	{ __LINE__, "case matters", "A", 0, 256, SH_ENOTFOUND, "" },
	{ __LINE__, "longer than an alias", "ab", 0, 256, SH_ENOTFOUND, "" },
	{ __LINE__, "empty alias", "", 0, 256, SH_ENOTFOUND, "" },
	{ __LINE__, "length, not NUL, ends the key", "abc", 1, 256, SH_OK,
	  "https://a.example/x?y=1" },
	{ __LINE__, "length ends the key inside", "c/dx", 3, 256, SH_OK,
	  "http://cd.example/" },
	{ __LINE__, "no room for the NUL", "b", 0, 17, SH_ETOOLONG, NULL },
	{ __LINE__, "exactly enough room", "b", 0, 18, SH_OK,
	  "http://b.example/" },
	{ __LINE__, "one-byte buffer", "b", 0, 1, SH_ETOOLONG, NULL },
};

struct walk {
	size_t calls, stop_after;
	char seen[8][64];
};

static int
walk_fn(void *ctx, const char *alias, size_t alen, const char *url, size_t ulen)
{
	struct walk *w = ctx;

	if (w->calls < 8)
		snprintf(w->seen[w->calls], sizeof(w->seen[0]), "%.*s=%.*s",
		         (int)alen, alias, (int)ulen, url);
	w->calls++;
	return w->stop_after != 0 && w->calls == w->stop_after ? 7 : 0;
}

static void
test_replace_lookup(void)
{
	static const struct store_kv kv[] = { { "source", "unit", 0 },
		                              { "etag", "\"e1\"", 0 } };
	char dir[512], err[256] = "", url[256], *big;
	struct redirect_map m;
	struct store *s = NULL;
	struct walk w;
	size_t i;

	subdir(dir, sizeof(dir), "replace");
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	require_true(__LINE__, "parse", parse(map_text, &m) == SH_OK);
	expect_int(__LINE__, "replace", SH_OK, store_replace(s, &m, kv, 2));
	redirects_free(&m);
	expect_int(__LINE__, "count", 3, store_count(s));

	for (i = 0; i < NELEM(lookup_rows); i++) {
		const struct lookup_row *r = &lookup_rows[i];
		size_t len = r->len != 0 ? r->len : strlen(r->alias);

		memset(url, 'X', sizeof(url));
		expect_int(r->line, r->desc, r->rc,
		           store_lookup(s, r->alias, len, url, r->urlsz));
		if (r->url != NULL)
			expect_str(r->line, r->desc, r->url, url);
		else
			expect_true(r->line, "NUL-terminated",
			            memchr(url, '\0', r->urlsz) != NULL);
	}
	/* Longer than any key LMDB takes: a miss, not an error. */
	big = malloc(4096);
	require_true(__LINE__, "malloc", big != NULL);
	memset(big, 'a', 4096);
	expect_int(__LINE__, "4 KiB alias", SH_ENOTFOUND,
	           store_lookup(s, big, 4096, url, sizeof(url)));
	free(big);

	expect_int(__LINE__, "meta source", SH_OK,
	           store_meta_get(s, "source", url, sizeof(url)));
	expect_str(__LINE__, "meta source", "unit", url);
	expect_int(__LINE__, "meta etag", SH_OK,
	           store_meta_get(s, "etag", url, sizeof(url)));
	expect_str(__LINE__, "meta etag", "\"e1\"", url);

	/* store_foreach: alias order, then an early stop. */
	memset(&w, 0, sizeof(w));
	expect_int(__LINE__, "foreach", 0, store_foreach(s, walk_fn, &w));
	expect_int(__LINE__, "foreach calls", 3, w.calls);
	expect_str(__LINE__, "foreach 1st", "a=https://a.example/x?y=1",
	           w.seen[0]);
	expect_str(__LINE__, "foreach 2nd", "b=http://b.example/", w.seen[1]);
	expect_str(__LINE__, "foreach 3rd", "c/d=http://cd.example/",
	           w.seen[2]);
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	expect_int(__LINE__, "foreach stop returns fn's value", 7,
	           store_foreach(s, walk_fn, &w));
	expect_int(__LINE__, "foreach stopped", 2, w.calls);
	/* The store still answers after an early stop. */
	expect_int(__LINE__, "lookup after stop", SH_OK,
	           store_lookup(s, "b", 1, url, sizeof(url)));
	store_close(s);
}

static void
test_meta(void)
{
	static const struct store_kv kv[] = { { "k1", "v1", 0 },
		                              { "k2", "value two", 0 },
		                              { "empty", "", 0 } };
	static const struct store_kv kv2[] = { { "k1", "v1b", 0 } };
	char dir[512], err[256] = "", val[64];
	struct store *s = NULL;

	subdir(dir, sizeof(dir), "meta");
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "meta put", SH_OK, store_meta_put(s, kv, 3));
	expect_int(__LINE__, "get k1", SH_OK,
	           store_meta_get(s, "k1", val, sizeof(val)));
	expect_str(__LINE__, "get k1", "v1", val);
	expect_int(__LINE__, "get k2", SH_OK,
	           store_meta_get(s, "k2", val, sizeof(val)));
	expect_str(__LINE__, "get k2", "value two", val);
	expect_int(__LINE__, "get empty value", SH_OK,
	           store_meta_get(s, "empty", val, sizeof(val)));
	expect_str(__LINE__, "get empty value", "", val);
	expect_int(__LINE__, "overwrite", SH_OK, store_meta_put(s, kv2, 1));
	expect_int(__LINE__, "get overwritten", SH_OK,
	           store_meta_get(s, "k1", val, sizeof(val)));
	expect_str(__LINE__, "get overwritten", "v1b", val);
	expect_int(__LINE__, "others kept", SH_OK,
	           store_meta_get(s, "k2", val, sizeof(val)));
	expect_int(__LINE__, "absent key", SH_ENOTFOUND,
	           store_meta_get(s, "k3", val, sizeof(val)));
	expect_str(__LINE__, "absent key gives \"\"", "", val);
	expect_int(__LINE__, "tiny buffer", SH_ETOOLONG,
	           store_meta_get(s, "k2", val, 4));
	expect_int(__LINE__, "meta is not the map", 0, store_count(s));
	expect_int(__LINE__, "meta is not the map", SH_ENOTFOUND,
	           store_lookup(s, "k1", 2, val, sizeof(val)));
	expect_int(__LINE__, "zero pairs", SH_OK, store_meta_put(s, kv, 0));
	store_close(s);
}

static void
test_replace_whole(void)
{
	static const struct store_kv kv[] = { { "k", "first", 0 } };
	static const struct store_kv kv2[] = { { "other", "x", 0 } };
	char dir[512], err[256] = "", url[256];
	struct redirect_map m;
	struct store *s = NULL;
	size_t i;

	subdir(dir, sizeof(dir), "whole");
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	require_true(__LINE__, "parse", parse(map_text, &m) == SH_OK);
	expect_int(__LINE__, "first replace", SH_OK,
	           store_replace(s, &m, kv, 1));
	redirects_free(&m);

	require_true(__LINE__, "parse",
	             parse("x http://x.example/\nb http://new-b.example/\n",
	                   &m) == SH_OK);
	expect_int(__LINE__, "second replace", SH_OK,
	           store_replace(s, &m, kv2, 1));
	redirects_free(&m);
	expect_int(__LINE__, "count after replace", 2, store_count(s));
	expect_int(__LINE__, "old alias gone", SH_ENOTFOUND,
	           store_lookup(s, "a", 1, url, sizeof(url)));
	expect_int(__LINE__, "old alias gone", SH_ENOTFOUND,
	           store_lookup(s, "c/d", 3, url, sizeof(url)));
	expect_int(__LINE__, "new alias", SH_OK,
	           store_lookup(s, "x", 1, url, sizeof(url)));
	expect_str(__LINE__, "new alias", "http://x.example/", url);
	expect_int(__LINE__, "changed alias", SH_OK,
	           store_lookup(s, "b", 1, url, sizeof(url)));
	expect_str(__LINE__, "changed alias", "http://new-b.example/", url);
	expect_int(__LINE__, "meta of the first replace kept", SH_OK,
	           store_meta_get(s, "k", url, sizeof(url)));

	/* A replace that fails leaves the old map whole. */
	memset(&m, 0, sizeof(m));
	require_true(__LINE__, "parse",
	             parse("p http://p.example/\nq http://q.example/\n", &m) ==
	                     SH_OK);
	{
		/* An alias LMDB refuses (over its 511-byte key limit). */
		struct redirect *v = realloc(m.v, (m.n + 1) * sizeof(*v));
		char *alias = malloc(601);

		require_true(__LINE__, "alloc", v != NULL && alias != NULL);
		m.v = v;
		m.cap = m.n + 1;
		memset(alias, 'z', 600);
		alias[600] = '\0';
		/* A default-section exact rule: host, kind, status zero. */
		memset(&m.v[m.n], 0, sizeof(m.v[m.n]));
		m.v[m.n].alias = alias;
		m.v[m.n].url = str_dup("http://z.example/");
		m.v[m.n].line = 3;
		m.n++;
	}
	expect_int(__LINE__, "failing replace", SH_ESTORE,
	           store_replace(s, &m, kv, 1));
	/* A parsed map owns the strings of its chunks only. */
	free(m.v[m.n - 1].alias);
	free(m.v[m.n - 1].url);
	redirects_free(&m);
	expect_int(__LINE__, "old map intact", 2, store_count(s));
	expect_int(__LINE__, "old map intact", SH_OK,
	           store_lookup(s, "x", 1, url, sizeof(url)));
	expect_int(__LINE__, "nothing of the failed map", SH_ENOTFOUND,
	           store_lookup(s, "p", 1, url, sizeof(url)));
	expect_int(__LINE__, "meta of the failed replace not set", SH_OK,
	           store_meta_get(s, "k", url, sizeof(url)));
	expect_str(__LINE__, "meta of the failed replace not set", "first",
	           url);

	/* An empty map empties the store. */
	memset(&m, 0, sizeof(m));
	expect_int(__LINE__, "empty replace", SH_OK,
	           store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "empty after empty replace", 0, store_count(s));
	store_close(s);

	/* Reopen: the data is on disk. */
	require_true(__LINE__, "parse", parse(map_text, &m) == SH_OK);
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "replace before reopen", SH_OK,
	           store_replace(s, &m, kv2, 1));
	store_close(s);
	s = NULL;
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "count after reopen", 3, store_count(s));
	for (i = 0; i < m.n; i++) {
		expect_int(__LINE__, m.v[i].alias, SH_OK,
		           store_lookup(s, m.v[i].alias, strlen(m.v[i].alias),
		                        url, sizeof(url)));
		expect_str(__LINE__, m.v[i].alias, m.v[i].url, url);
	}
	expect_int(__LINE__, "meta after reopen", SH_OK,
	           store_meta_get(s, "other", url, sizeof(url)));
	expect_str(__LINE__, "meta after reopen", "x", url);
	redirects_free(&m);
	store_close(s);
}

/*
 * n aliases "k0000000".. in sorted order with URLs of about ulen bytes
 * that name their index, so a lookup proves it found the right one.
 */
static int
make_map(struct redirect_map *m, size_t n, size_t ulen)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if ((m->v = calloc(n, sizeof(*m->v))) == NULL)
		return -1;
	m->cap = n;
	for (i = 0; i < n; i++) {
		char *a = malloc(16), *u = malloc(ulen + 1);

		if (a == NULL || u == NULL) {
			free(a);
			free(u);
			return -1;
		}
		snprintf(a, 16, "k%07zu", i);
		memset(u, 'p', ulen);
		snprintf(u, ulen + 1, "https://example.com/%zu/", i);
		u[strlen(u)] = 'p';
		u[ulen] = '\0';
		m->v[i].alias = a;
		m->v[i].url = u;
		m->v[i].line = (unsigned)i + 1;
		m->n++;
	}
	return 0;
}

struct order {
	size_t calls;
	int sorted;
	char last[32];
};

static int
order_fn(void *ctx, const char *alias, size_t alen, const char *url,
         size_t ulen)
{
	struct order *o = ctx;
	char cur[32];

	(void)url;
	(void)ulen;
	snprintf(cur, sizeof(cur), "%.*s", (int)alen, alias);
	if (o->calls > 0 && strcmp(o->last, cur) >= 0)
		o->sorted = 0;
	memcpy(o->last, cur, sizeof(cur));
	o->calls++;
	return 0;
}

/* Read back every stride-th alias and the last one. */
static void
check_map(struct store *s, const struct redirect_map *m, size_t stride,
          unsigned line)
{
	char url[1024];
	size_t i, bad = 0;

	for (i = 0; i < m->n;
	     i = i + stride < m->n || i + 1 == m->n ? i + stride : m->n - 1) {
		if (store_lookup(s, m->v[i].alias, strlen(m->v[i].alias), url,
		                 sizeof(url)) == SH_OK &&
		    strcmp(url, m->v[i].url) == 0)
			continue;
		if (bad++ == 0)
			expect_str(line, m->v[i].alias, m->v[i].url, url);
	}
	expect_int(line, "aliases read back wrong", 0, bad);
}

static void
test_large_map(void)
{
	const size_t n = 200000;
	char dir[512], err[256] = "";
	struct redirect_map m;
	struct store *s = NULL;
	struct order o;

	subdir(dir, sizeof(dir), "large");
	require_true(__LINE__, "build map", make_map(&m, n, 400) == 0);
	if (!expect_int(__LINE__, err, SH_OK,
	                store_open(dir, &s, err, sizeof(err)))) {
		redirects_free(&m);
		return;
	}
	expect_int(__LINE__, "replace 200k aliases", SH_OK,
	           store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "count 200k", n, store_count(s));
	check_map(s, &m, 997, __LINE__);
	memset(&o, 0, sizeof(o));
	o.sorted = 1;
	expect_int(__LINE__, "foreach 200k", 0, store_foreach(s, order_fn, &o));
	expect_int(__LINE__, "foreach 200k calls", n, o.calls);
	expect_true(__LINE__, "foreach in order", o.sorted);
	store_close(s);
	redirects_free(&m);
}

/* Growth: a 1 MiB map filled by ~9 MiB must double until it fits. */
static void
test_grow(void)
{
	const size_t n = 20000, one_mib = 1 << 20;
	char dir[512], err[256] = "", url[64];
	struct redirect_map m;
	struct store *s = NULL;
	MDB_envinfo info;

	subdir(dir, sizeof(dir), "grow");
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	/* A live (reset) read transaction, which grow() must let go of. */
	expect_int(__LINE__, "miss before growth", SH_ENOTFOUND,
	           store_lookup(s, "k", 1, url, sizeof(url)));
	if (s->rtxn != NULL) {
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	require_true(__LINE__, "shrink the map",
	             mdb_env_set_mapsize(s->env, one_mib) == 0);
	require_true(__LINE__, "env info", mdb_env_info(s->env, &info) == 0);
	expect_true(__LINE__, "map is 1 MiB", info.me_mapsize <= 2 * one_mib);
	expect_int(__LINE__, "miss with the small map", SH_ENOTFOUND,
	           store_lookup(s, "k", 1, url, sizeof(url)));

	require_true(__LINE__, "build map", make_map(&m, n, 400) == 0);
	expect_int(__LINE__, "replace past the map size", SH_OK,
	           store_replace(s, &m, NULL, 0));
	require_true(__LINE__, "env info", mdb_env_info(s->env, &info) == 0);
	expect_true(__LINE__, "map grew past 8 MiB",
	            info.me_mapsize >= 8 * one_mib);
	expect_int(__LINE__, "count after growth", n, store_count(s));
	check_map(s, &m, 101, __LINE__);
	store_close(s);

	/* A fresh handle opens the grown file and reads it all. */
	s = NULL;
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	expect_int(__LINE__, "count after reopen", n, store_count(s));
	check_map(s, &m, 101, __LINE__);
	store_close(s);
	redirects_free(&m);
}

/* ---- integrity: checksum, file check, fault guard, set aside, heal ---- */

/* The store file of dir, or its lock file with suffix "-lock". */
static void
file_of(const char *dir, const char *suffix, char *out, size_t n)
{
	snprintf(out, n, "%s/" STORE_FILE "%s", dir, suffix);
}

/* Number of entries of dir whose name starts with prefix. */
static size_t
count_named(const char *dir, const char *prefix)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* A store in base/name holding n aliases (k0000000...), open in *s. */
static int
filled(const char *name, size_t n, struct store **s, struct redirect_map *m,
       char *dir, size_t dirsz)
{
	char err[256];

	subdir(dir, dirsz, name);
	if (make_map(m, n, 60) != 0)
		return -1;
	if (store_open(dir, s, err, sizeof(err)) != SH_OK) {
		redirects_free(m);
		return -1;
	}
	if (store_replace(*s, m, NULL, 0) != SH_OK) {
		store_close(*s);
		redirects_free(m);
		return -1;
	}
	return 0;
}

/* Overwrite with zeros every page of path that holds needle. */
static int
zero_pages_with(const char *path, const char *needle)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t nl = strlen(needle), hits = 0;
	char *page = malloc((size_t)pg), *zero = calloc(1, (size_t)pg);
	off_t off;
	int fd = open(path, O_RDWR);

	if (fd < 0 || page == NULL || zero == NULL)
		goto out;
	for (off = 0; pread(fd, page, (size_t)pg, off) == pg; off += pg) {
		long i;

		for (i = 0; i + (long)nl <= pg; i++)
			if (memcmp(page + i, needle, nl) == 0)
				break;
		if (i + (long)nl > pg)
			continue;
		if (pwrite(fd, zero, (size_t)pg, off) == pg)
			hits++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(page);
	free(zero);
	return hits > 0 ? 0 : -1;
}

static void
test_checksum(void)
{
	char dir[512], err[256] = "", sum1[96], sum2[96], sum3[96];
	struct redirect_map m = { 0 }, m2;
	struct store *s = NULL;
	struct store_kv kv = { "source", "x", 0 };

	subdir(dir, sizeof(dir), "sum");
	require_true(__LINE__, err, store_open(dir, &s, err, sizeof(err)) == 0);
	expect_int(__LINE__, "an empty store has no checksum", SH_ENOTFOUND,
	           store_verify(s, sum1, sizeof(sum1)));
	require_true(__LINE__, "build", make_map(&m, 500, 40) == 0);
	expect_int(__LINE__, "replace", SH_OK, store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "the map verifies", SH_OK,
	           store_verify(s, sum1, sizeof(sum1)));
	expect_true(__LINE__, "sha256:HEX",
	            strncmp(sum1, "sha256:", 7) == 0 && strlen(sum1) == 7 + 64);
	expect_int(__LINE__, "meta put", SH_OK, store_meta_put(s, &kv, 1));
	expect_int(__LINE__, "... verifies", SH_OK,
	           store_verify(s, sum2, sizeof(sum2)));
	expect_str(__LINE__, "a meta write leaves the sum as it was", sum1,
	           sum2);
	expect_int(__LINE__, "the same map again", SH_OK,
	           store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "... verifies", SH_OK,
	           store_verify(s, sum2, sizeof(sum2)));
	expect_str(__LINE__, "... to the same sum", sum1, sum2);
	require_true(__LINE__, "build", make_map(&m2, 499, 40) == 0);
	expect_int(__LINE__, "another map", SH_OK,
	           store_replace(s, &m2, NULL, 0));
	expect_int(__LINE__, "... verifies", SH_OK,
	           store_verify(s, sum3, sizeof(sum3)));
	expect_true(__LINE__, "... to another sum", strcmp(sum1, sum3) != 0);
	store_close(s);
	redirects_free(&m);
	redirects_free(&m2);
}

static void
test_truncated(void)
{
	char dir[512], path[600], err[256] = "", url[128];
	struct redirect_map m;
	struct store *s = NULL, *r = NULL;
	long pg = sysconf(_SC_PAGESIZE);
	struct stat st;

	require_true(__LINE__, "a filled store",
	             filled("trunc", 3000, &s, &m, dir, sizeof(dir)) == 0);
	file_of(dir, "", path, sizeof(path));
	expect_int(__LINE__, "a whole file passes the check", SH_OK,
	           store_check(s));
	require_true(__LINE__, "stat", stat(path, &st) == 0);
	require_true(__LINE__, "truncate to half",
	             truncate(path, st.st_size / 2) == 0);
	expect_int(__LINE__, "the check sees it", SH_EDAMAGED, store_check(s));
	expect_has(__LINE__, "... truncated", store_damage(s), "truncated");
	expect_int(__LINE__, "a lookup answers, from no page", SH_EDAMAGED,
	           store_lookup(s, "k0002999", 8, url, sizeof(url)));
	expect_int(__LINE__, "count: 0", 0, store_count(s));
	store_close(s);
	redirects_free(&m);

	/* No check first: the read faults, the guard catches it. */
	s = NULL;
	require_true(__LINE__, "a filled store again",
	             filled("trunc2", 3000, &s, &m, dir, sizeof(dir)) == 0);
	file_of(dir, "", path, sizeof(path));
	expect_int(__LINE__, "a lookup before", SH_OK,
	           store_lookup(s, "k0002999", 8, url, sizeof(url)));
	require_true(__LINE__, "cut past the header",
	             truncate(path, 3 * pg) == 0);
	expect_int(__LINE__, "a lookup that reads past the end", SH_EDAMAGED,
	           store_lookup(s, "k0002999", 8, url, sizeof(url)));
	expect_has(__LINE__, "... SIGBUS, caught", store_damage(s), "SIGBUS");
	store_close(s);

	expect_int(__LINE__, "a reader is told", SH_EDAMAGED,
	           store_open_reader(dir, &r, err, sizeof(err)));
	expect_has(__LINE__, "... that it is damaged", err, "is damaged");
	expect_has(__LINE__, "... and what repairs it", err, "refresh --force");
	expect_true(__LINE__, "... and it is left as it is",
	            stat(path, &st) == 0 && st.st_size == 3 * pg);
	expect_int(__LINE__, "a writer sets it aside, opens afresh", SH_OK,
	           store_open(dir, &s, err, sizeof(err)));
	expect_int(__LINE__, "... empty", 0, store_count(s));
	expect_int(__LINE__, "... the damaged file kept beside", 1,
	           count_named(dir, STORE_FILE DAMAGED_TAG) / 2);
	store_close(s);
	redirects_free(&m);
}

static void
test_replaced(void)
{
	char dir[512], path[600], to[700], url[128];
	struct redirect_map m;
	struct store *s = NULL;

	require_true(__LINE__, "a filled store",
	             filled("moved", 10, &s, &m, dir, sizeof(dir)) == 0);
	file_of(dir, "", path, sizeof(path));
	snprintf(to, sizeof(to), "%s.elsewhere", path);
	require_true(__LINE__, "rename", rename(path, to) == 0);
	expect_int(__LINE__, "gone: the check says reopen", SH_ESTALE,
	           store_check(s));
	expect_int(__LINE__, "... the open file still reads", SH_OK,
	           store_lookup(s, "k0000001", 8, url, sizeof(url)));
	expect_true(__LINE__, "... and is not damaged",
	            store_damage(s) == NULL);
	store_close(s);
	redirects_free(&m);
}

static void
test_heal(void)
{
	char dir[512], path[600], sum[96], url[128];
	struct redirect_map m;
	struct store *s = NULL;
	struct order o;

	require_true(__LINE__, "a filled store",
	             filled("heal", 3000, &s, &m, dir, sizeof(dir)) == 0);
	file_of(dir, "", path, sizeof(path));
	require_true(__LINE__, "zero a page of the map",
	             zero_pages_with(path, "https://example.com/1500/") == 0);
	expect_int(__LINE__, "the file check cannot see it", SH_OK,
	           store_check(s));
	expect_int(__LINE__, "the checksum can", SH_EDAMAGED,
	           store_verify(s, sum, sizeof(sum)));
	expect_true(__LINE__, "... damaged", store_damage(s) != NULL);
	memset(&o, 0, sizeof(o));
	expect_int(__LINE__, "a walk answers at once", SH_EDAMAGED,
	           store_foreach(s, order_fn, &o));
	expect_int(__LINE__, "... without calling back", 0, o.calls);
	expect_int(__LINE__, "heal: set aside, fresh store", SH_OK,
	           store_heal(s));
	expect_true(__LINE__, "... sound", store_damage(s) == NULL);
	expect_int(__LINE__, "... empty", 0, store_count(s));
	expect_int(__LINE__, "... the file set aside with its lock", 2,
	           count_named(dir, STORE_FILE DAMAGED_TAG));
	expect_int(__LINE__, "a write into the fresh store", SH_OK,
	           store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "... reads", SH_OK,
	           store_lookup(s, "k0001500", 8, url, sizeof(url)));
	expect_int(__LINE__, "... verifies", SH_OK,
	           store_verify(s, sum, sizeof(sum)));

	/* A write into a store found damaged heals it first. */
	require_true(__LINE__, "zero a page again",
	             zero_pages_with(path, "https://example.com/2000/") == 0);
	expect_int(__LINE__, "found", SH_EDAMAGED,
	           store_verify(s, sum, sizeof(sum)));
	expect_int(__LINE__, "a replace heals and writes", SH_OK,
	           store_replace(s, &m, NULL, 0));
	expect_int(__LINE__, "... a second set aside", 4,
	           count_named(dir, STORE_FILE DAMAGED_TAG));
	expect_int(__LINE__, "... everything reads", 3000, store_count(s));
	check_map(s, &m, 97, __LINE__);
	store_close(s);
	redirects_free(&m);
}

static void
test_prune(void)
{
	static const char *const old[] = { "20200101T000000Z-1",
		                           "20200101T000000Z-2",
		                           "20200101T000000Z-3" };
	char dir[512], path[700];
	struct redirect_map m;
	struct store *s = NULL;
	size_t i;
	int fd;

	require_true(__LINE__, "a filled store",
	             filled("prune", 10, &s, &m, dir, sizeof(dir)) == 0);
	for (i = 0; i < NELEM(old); i++) {
		snprintf(path, sizeof(path), "%s/" STORE_FILE DAMAGED_TAG "%s",
		         dir, old[i]);
		require_true(__LINE__, "an old set",
		             (fd = open(path, O_CREAT | O_WRONLY, 0600)) >= 0);
		close(fd);
	}
	store_set_damaged(s, "for the test");
	expect_int(__LINE__, "set aside", SH_OK, store_set_aside(s));
	expect_int(__LINE__, "the two newest sets are kept", 2 + 1,
	           count_named(dir, STORE_FILE DAMAGED_TAG));
	snprintf(path, sizeof(path), "%s/" STORE_FILE DAMAGED_TAG "%s", dir,
	         old[2]);
	expect_true(__LINE__, "... the newest old one",
	            access(path, F_OK) == 0);
	store_close(s);
	redirects_free(&m);
}

static void
test_modes(void)
{
	char dir[512], path[600], err[256] = "";
	struct store *s = NULL;
	struct stat st;
	mode_t old = umask(027);

	subdir(dir, sizeof(dir), "umask/state");
	expect_int(__LINE__, err, SH_OK, store_open(dir, &s, err, sizeof(err)));
	umask(old);
	store_close(s);
	file_of(dir, "", path, sizeof(path));
	expect_true(__LINE__, "umask 027: the store file is 0640",
	            stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	expect_true(__LINE__, "... the dir 0750",
	            stat(dir, &st) == 0 && (st.st_mode & 0777) == 0750);
	file_of(dir, "-lock", path, sizeof(path));
	expect_true(__LINE__, "... the lock file 0640",
	            stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);
	file_of(dir, "", path, sizeof(path));
	require_true(__LINE__, "empty the file", truncate(path, 0) == 0);
	expect_int(__LINE__, "an empty file: a reader is told", SH_EDAMAGED,
	           store_open_reader(dir, &s, err, sizeof(err)));
	expect_has(__LINE__, "... empty", err, "the file is empty");
	subdir(dir, sizeof(dir), "umask/state/redirects.mdb/x");
	expect_int(__LINE__, "a state dir under a file", SH_EIO,
	           store_open(dir, &s, err, sizeof(err)));
	expect_has(__LINE__, "... names it", err, "Not a directory");
}

static const struct unit_test store_tests[] = {
	UNIT_TEST(test_open_creates),   UNIT_TEST(test_open_errors),
	UNIT_TEST(test_replace_lookup), UNIT_TEST(test_meta),
	UNIT_TEST(test_replace_whole),  UNIT_TEST(test_large_map),
	UNIT_TEST(test_grow),           UNIT_TEST(test_checksum),
	UNIT_TEST(test_truncated),      UNIT_TEST(test_replaced),
	UNIT_TEST(test_heal),           UNIT_TEST(test_prune),
	UNIT_TEST(test_modes),          UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "store", suite_init, suite_cleanup, store_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
