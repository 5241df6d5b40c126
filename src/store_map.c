/*
 * store_map.c - the key and value layout of the redirect map in LMDB
 * (store.h describes it): making keys, encoding and decoding values, the
 * host section markers, the layout record; writing a map into the
 * caller's write transaction; the lookups match.c reads through its
 * match_source, and the walk of every rule. store.c keeps the
 * environment, the transactions and the fault guard: every public call
 * here runs under store_guarded().
 */
#include "config.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"
#include "redirects.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/* The key and value layout of the rule databases; an older store reads
 * as empty. */
#define STORE_LAYOUT 3
/* A rule's value: flags, status (2 bytes), line (4), expires (8), all
 * big-endian; a pattern's key and query (each a 2-byte length and the
 * bytes); then the URL. */
#define VAL_HDR 15

/*
 * "VERSION HOSTS DEPTH RULES PATTERNS FLAGS" -> l; 0, or -1 for another
 * layout.
 */
static int
layout_parse(const MDB_val *v, struct layout *l)
{
	unsigned long long f[6] = { 0 };
	const char *p = v->mv_data, *end = p + v->mv_size;
	size_t i = 0;

	for (; p < end && i < 6; p++) {
		if (*p == ' ') {
			i++;
			continue;
		}
		if (*p < '0' || *p > '9' || f[i] > (1ULL << 48))
			return -1;
		f[i] = f[i] * 10 + (unsigned)(*p - '0');
	}
	if (i != 5 || f[0] != STORE_LAYOUT || f[1] > UINT32_MAX ||
	    f[2] > REDIRECT_DEPTH_MAX + 1 || f[4] > REDIRECT_PATTERNS_MAX ||
	    f[5] > 0xff)
		return -1;
	l->hosts = (unsigned)f[1];
	l->depth = (unsigned)f[2];
	l->rules = (size_t)f[3];
	l->patterns = (unsigned)f[4];
	l->flags = (unsigned)f[5];
	return 0;
}

/* Read the layout once per snapshot; the caller holds the read txn. */
static void
layout_load(struct store *s)
{
	MDB_val k = { sizeof(LAYOUT_KEY) - 1, (void *)LAYOUT_KEY }, v;
	size_t id = mdb_txn_id(s->rtxn);
	MDB_stat st;
	int rc;

	if (s->lay.valid && s->lay.txnid == id)
		return;
	memset(&s->lay, 0, sizeof(s->lay));
	s->lay.valid = 1;
	s->lay.txnid = id;
	if ((rc = mdb_get(s->rtxn, s->meta, &k, &v)) == 0 &&
	    layout_parse(&v, &s->lay) == 0) {
		s->lay.ok = 1;
		return;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		(void)store_rd_err(s, rc); /* a damaged file reads as empty */
		return;
	}
	s->lay.stale = mdb_stat(s->rtxn, s->map, &st) == 0 && st.ms_entries > 0;
	if (s->lay.stale && !s->warned) {
		s->warned = 1;
		log_warnx("store: the map was written by an older sherve; it "
		          "reads as empty until the next refresh or import");
	}
}

/* Key HOST NUL ALIAS into key; its length, or 0 if over LMDB's limit. */
static size_t
make_key(char key[REDIRECT_KEY_MAX], const char *host, size_t hlen,
         const char *alias, size_t alen)
{
	if (hlen + 1 + alen > REDIRECT_KEY_MAX)
		return 0;
	/* host may be NULL for the default section: no memcpy of NULL. */
	if (hlen > 0)
		memcpy(key, host, hlen);
	key[hlen] = '\0';
	if (alen > 0)
		memcpy(key + hlen + 1, alias, alen);
	return hlen + 1 + alen;
}

/* n big-endian bytes at p. */
uint64_t
store_be_get(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

void
store_be_put(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

/* A 2-byte length and that many bytes at *p (end e); 0, or -1. */
static int
val_field(const unsigned char **p, const unsigned char *e, const char **f,
          size_t *n)
{
	if (e - *p < 2)
		return -1;
	*n = (size_t)store_be_get(*p, 2);
	*p += 2;
	if ((size_t)(e - *p) < *n)
		return -1;
	*f = (const char *)*p;
	*p += *n;
	return 0;
}

/* Decode a rule's value (VAL_HDR) into r; a pattern's key and query too. */
static int
val_decode(const MDB_val *v, unsigned kind, struct match_rule *r)
{
	const unsigned char *p = v->mv_data, *e = p + v->mv_size;

	if (v->mv_size < VAL_HDR)
		return SH_ENOTFOUND;
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->flags = p[0];
	r->status = (unsigned)store_be_get(p + 1, 2);
	r->line = (unsigned)store_be_get(p + 3, 4);
	r->expires = store_be_get(p + 7, 8);
	p += VAL_HDR;
	if (kind == REDIRECT_PATTERN &&
	    (val_field(&p, e, &r->key, &r->klen) != 0 ||
	     val_field(&p, e, &r->query, &r->qlen) != 0))
		return SH_ENOTFOUND;
	r->url = (const char *)p;
	r->ulen = (size_t)(e - p);
	return SH_OK;
}

/* One rule as store_get_rule() gives it: its URL copied into url. */
static int
get_rule_val(struct store *s, MDB_dbi dbi, const char *key, size_t klen,
             struct match_rule *r, char *url, size_t urlsz)
{
	MDB_val k = { klen, (void *)key }, v, u;
	int rc;

	if ((rc = mdb_get(s->rtxn, dbi, &k, &v)) != 0)
		return store_rd_err(s, rc);
	if ((rc = val_decode(&v, REDIRECT_EXACT, r)) != SH_OK)
		return rc;
	u.mv_data = (void *)r->url;
	u.mv_size = r->ulen;
	r->url = url;
	r->key = NULL;
	r->klen = 0;
	return store_copy_val(&u, url, urlsz);
}

static int
get_rule(struct store *s, const char *host, unsigned kind, const char *alias,
         size_t len, struct match_rule *r, char *url, size_t urlsz)
{
	char key[REDIRECT_KEY_MAX];
	size_t hlen = host != NULL ? strlen(host) : 0, klen;
	int rc;

	if (urlsz > 0)
		url[0] = '\0';
	memset(r, 0, sizeof(*r));
	if ((kind == REDIRECT_EXACT && len == 0) || kind > REDIRECT_PREFIX ||
	    (klen = make_key(key, host, hlen, alias, len)) == 0)
		return SH_ENOTFOUND;
	if (store_read_begin(s) != 0)
		return SH_ESTORE;
	rc = get_rule_val(s, kind == REDIRECT_PREFIX ? s->prefix : s->map, key,
	                  klen, r, url, urlsz);
	r->kind = kind;
	mdb_txn_reset(s->rtxn);
	return rc;
}

struct get_rule_call {
	const char *host, *alias;
	unsigned kind;
	struct match_rule *r;
	size_t len, urlsz;
	char *url;
};

static int
get_rule_fn(struct store *s, void *arg)
{
	struct get_rule_call *c = arg;

	return get_rule(s, c->host, c->kind, c->alias, c->len, c->r, c->url,
	                c->urlsz);
}

int
store_get_rule(struct store *s, const char *host, unsigned kind,
               const char *alias, size_t len, struct match_rule *r, char *url,
               size_t urlsz)
{
	struct get_rule_call c = { host, alias, kind, r, len, urlsz, url };

	if (urlsz > 0)
		url[0] = '\0';
	memset(r, 0, sizeof(*r));
	return store_guarded(s, get_rule_fn, &c);
}

int
store_lookup(struct store *s, const char *alias, size_t len, char *url,
             size_t urlsz)
{
	struct match_rule r;

	return store_get_rule(s, NULL, REDIRECT_EXACT, alias, len, &r, url,
	                      urlsz);
}

/* match_source.rule over the read transaction. */
static int
src_rule(void *ctx, const char *host, size_t hlen, unsigned kind,
         const char *key, size_t klen, struct match_rule *r)
{
	struct store *s = ctx;
	char k[REDIRECT_KEY_MAX];
	MDB_val mk, v;
	int rc;

	if ((mk.mv_size = make_key(k, host, hlen, key, klen)) == 0)
		return SH_ENOTFOUND;
	mk.mv_data = k;
	rc = mdb_get(s->rtxn, kind == REDIRECT_PREFIX ? s->prefix : s->map, &mk,
	             &v);
	if (rc != 0)
		return store_rd_err(s, rc);
	if ((rc = val_decode(&v, kind, r)) == SH_OK) {
		r->key = key;
		r->klen = klen;
	}
	return rc;
}

/* match_source.section: the marker key HOST NUL holds the depth. */
static int
src_section(void *ctx, const char *host, size_t hlen, unsigned *depth)
{
	struct store *s = ctx;
	char k[REDIRECT_KEY_MAX];
	MDB_val mk, v;
	int rc;

	if ((mk.mv_size = make_key(k, host, hlen, "", 0)) == 0)
		return SH_ENOTFOUND;
	mk.mv_data = k;
	if ((rc = mdb_get(s->rtxn, s->map, &mk, &v)) != 0)
		return store_rd_err(s, rc);
	*depth = v.mv_size > 0 ? *(const unsigned char *)v.mv_data : 0;
	return SH_OK;
}

/* match_source.patterns: a cursor over HOST NUL LINE keys, in line order. */
static int
src_patterns(void *ctx, const char *host, size_t hlen, unsigned below,
             match_walk_fn fn, void *arg)
{
	struct store *s = ctx;
	char k[REDIRECT_KEY_MAX];
	MDB_cursor *c = NULL;
	MDB_val mk, v;
	struct match_rule r;
	int rc;

	if ((mk.mv_size = make_key(k, host, hlen, "", 0)) == 0)
		return SH_ENOTFOUND;
	mk.mv_data = k;
	/* One cursor, renewed: opening one per walk would allocate. */
	if ((rc = s->pcur != NULL ? mdb_cursor_renew(s->rtxn, s->pcur)
	                          : mdb_cursor_open(s->rtxn, s->pattern,
	                                            &s->pcur)) != 0)
		return store_rd_err(s, rc);
	c = s->pcur;
	rc = mdb_cursor_get(c, &mk, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &mk, &v, MDB_NEXT)) {
		const unsigned char *kp = mk.mv_data;

		if (mk.mv_size != hlen + 5 || memcmp(kp, k, hlen + 1) != 0 ||
		    store_be_get(kp + hlen + 1, 4) >= below)
			break;
		if (val_decode(&v, REDIRECT_PATTERN, &r) == SH_OK &&
		    fn(arg, &r))
			break;
	}
	return rc == 0 || rc == MDB_NOTFOUND ? SH_OK : store_rd_err(s, rc);
}

static int
resolve(struct store *s, const struct match_request *rq, char *url,
        size_t urlsz, struct match_result *m)
{
	struct match_source src = {
		s, src_rule, src_section, NULL, 0, 0, 0, 0
	};
	int rc = SH_ENOTFOUND;

	memset(m, 0, sizeof(*m));
	if (urlsz > 0)
		url[0] = '\0';
	if (store_read_begin(s) != 0)
		return SH_ESTORE;
	layout_load(s);
	if (!s->lay.ok)
		goto out;
	src.hosts = s->lay.hosts;
	src.depth = s->lay.depth;
	src.npattern = s->lay.patterns;
	src.flags = s->lay.flags;
	if (s->lay.patterns > 0)
		src.patterns = src_patterns;
	if ((rc = match_resolve(&src, rq, m)) != SH_OK)
		goto out;
	/* The rule's bytes live in the transaction: copy them out. */
	if (m->rule.ulen >= urlsz ||
	    m->rule.klen + 1 + m->rule.qlen + 1 > sizeof(m->key)) {
		rc = SH_ETOOLONG;
		goto out;
	}
	memcpy(url, m->rule.url, m->rule.ulen);
	url[m->rule.ulen] = '\0';
	m->rule.url = url;
	/* An exact rule's key may be m->key already (match.c built it). */
	memmove(m->key, m->rule.key, m->rule.klen);
	m->key[m->rule.klen] = '\0';
	m->rule.key = m->key;
	if (m->rule.qlen > 0)
		memcpy(m->key + m->rule.klen + 1, m->rule.query, m->rule.qlen);
	m->key[m->rule.klen + 1 + m->rule.qlen] = '\0';
	m->rule.query = m->key + m->rule.klen + 1;
out:
	mdb_txn_reset(s->rtxn);
	return rc;
}

struct resolve_call {
	const struct match_request *rq;
	char *url;
	size_t urlsz;
	struct match_result *m;
};

static int
resolve_fn(struct store *s, void *arg)
{
	struct resolve_call *c = arg;

	return resolve(s, c->rq, c->url, c->urlsz, c->m);
}

int
store_resolve(struct store *s, const struct match_request *rq, char *url,
              size_t urlsz, struct match_result *m)
{
	struct resolve_call c = { rq, url, urlsz, m };

	memset(m, 0, sizeof(*m));
	if (urlsz > 0)
		url[0] = '\0';
	return store_guarded(s, resolve_fn, &c);
}

/* The layout of the current snapshot, for store_count()/store_stale(). */
static int
layout_fn(struct store *s, void *arg)
{
	struct layout *l = arg;

	if (store_read_begin(s) != 0)
		return SH_ESTORE;
	layout_load(s);
	*l = s->lay;
	mdb_txn_reset(s->rtxn);
	return s->damaged ? SH_EDAMAGED : SH_OK;
}

size_t
store_count(struct store *s)
{
	struct layout l;

	if (store_guarded(s, layout_fn, &l) != SH_OK || !l.ok)
		return 0;
	return l.rules;
}

int
store_stale(struct store *s)
{
	struct layout l;

	return store_guarded(s, layout_fn, &l) == SH_OK && l.stale;
}

/* The value of rule r (VAL_HDR, a pattern's key and query, the URL)
 * into the reserved v. */
static void
val_encode(const struct redirect *r, MDB_val *v)
{
	unsigned char *p = v->mv_data;
	size_t n;

	p[0] = r->flags;
	store_be_put(p + 1, r->status, 2);
	store_be_put(p + 3, r->line, 4);
	store_be_put(p + 7, r->expires, 8);
	p += VAL_HDR;
	if (r->kind == REDIRECT_PATTERN) {
		n = strlen(r->alias);
		store_be_put(p, n, 2);
		memcpy(p + 2, r->alias, n);
		p += 2 + n;
		n = r->query != NULL ? strlen(r->query) : 0;
		store_be_put(p, n, 2);
		if (n > 0)
			memcpy(p + 2, r->query, n);
		p += 2 + n;
	}
	memcpy(p, r->url, strlen(r->url));
}

/*
 * Store rule r: exact and prefix rules keyed HOST NUL KEY, pattern rules
 * HOST NUL LINE (4 bytes, big-endian: a cursor walks them in line order).
 */
static int
put_rule(MDB_txn *txn, MDB_dbi dbi, const struct redirect *r)
{
	const char *host = r->host != NULL ? r->host : "";
	size_t hl = strlen(host);
	char key[REDIRECT_KEY_MAX];
	unsigned char line[4];
	MDB_val k, v = { VAL_HDR + strlen(r->url), NULL };
	int rc;

	k.mv_data = key;
	if (r->kind == REDIRECT_PATTERN) {
		store_be_put(line, r->line, 4);
		k.mv_size = make_key(key, host, hl, (const char *)line, 4);
		v.mv_size += 4 + strlen(r->alias) +
		             (r->query != NULL ? strlen(r->query) : 0);
	} else {
		k.mv_size =
		        make_key(key, host, hl, r->alias, redirect_key_len(r));
	}
	if (k.mv_size == 0)
		return MDB_BAD_VALSIZE;
	/* Sorted input lets LMDB append without searching. */
	if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND | MDB_RESERVE)) != 0)
		return rc;
	val_encode(r, &v);
	return 0;
}

/*
 * The marker of each host section: a key HOST NUL whose byte is the
 * section's prefix depth. Entries are sorted by kind, then host, so a
 * host comes in at most two runs. Counts the sections in *hosts.
 */
static int
put_markers(MDB_txn *txn, MDB_dbi dbi, const struct redirect_map *m,
            unsigned *hosts)
{
	size_t i = 0, j;
	int rc;

	while (i < m->n) {
		const struct redirect *r = &m->v[i];
		unsigned char d = 0;
		char key[REDIRECT_KEY_MAX];
		MDB_val k = { 0, key }, v = { 1, &d }, old;

		for (j = i; j < m->n && m->v[j].kind == r->kind &&
		            (m->v[j].host == r->host ||
		             (m->v[j].host != NULL && r->host != NULL &&
		              strcmp(m->v[j].host, r->host) == 0));
		     j++)
			if (r->kind == REDIRECT_PREFIX &&
			    redirect_depth(&m->v[j]) > d)
				d = (unsigned char)redirect_depth(&m->v[j]);
		i = j;
		if (r->host == NULL ||
		    (k.mv_size = strlen(r->host) + 1) > sizeof(key))
			continue;
		memcpy(key, r->host, k.mv_size);
		if ((rc = mdb_get(txn, dbi, &k, &old)) == 0) {
			if (old.mv_size > 0 &&
			    *(unsigned char *)old.mv_data >= d)
				continue;
		} else if (rc == MDB_NOTFOUND) {
			(*hosts)++;
		} else {
			return rc;
		}
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

/* The new map and its layout, in the caller's write transaction. */
int
store_put_map(MDB_txn *txn, struct store *s, const struct redirect_map *m)
{
	unsigned hosts = 0, depth = 0, d;
	char layout[96];
	MDB_val k = { sizeof(LAYOUT_KEY) - 1, (void *)LAYOUT_KEY }, v;
	MDB_dbi dbi[3] = { s->map, s->prefix, s->pattern };
	size_t i;
	int rc;

	if ((rc = mdb_drop(txn, s->map, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->prefix, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->pattern, 0)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];

		if (r->kind > REDIRECT_PATTERN)
			return MDB_BAD_VALSIZE;
		if ((rc = put_rule(txn, dbi[r->kind], r)) != 0)
			return rc;
		if (r->kind == REDIRECT_PREFIX && r->host == NULL &&
		    (d = redirect_depth(r)) > depth)
			depth = d;
	}
	if ((rc = put_markers(txn, s->map, m, &hosts)) != 0)
		return rc;
	v.mv_size = (size_t)snprintf(layout, sizeof(layout),
	                             "%d %u %u %zu %u %u", STORE_LAYOUT, hosts,
	                             depth, m->n, m->npattern, m->flags & 0xff);
	v.mv_data = layout;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Compare the host parts (up to the NUL) of two keys. */
static int
host_cmp(const MDB_val *a, const MDB_val *b)
{
	const char *na = memchr(a->mv_data, '\0', a->mv_size);
	const char *nb = memchr(b->mv_data, '\0', b->mv_size);
	size_t la = na != NULL ? (size_t)(na - (const char *)a->mv_data) : 0;
	size_t lb = nb != NULL ? (size_t)(nb - (const char *)b->mv_data) : 0;
	int c = memcmp(a->mv_data, b->mv_data, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/*
 * One rule to fn, copied out of the map first: a fault must land in the
 * copy (under the guard), never inside fn, which may hold stdio's lock.
 */
static int
emit(struct store *s, int (*fn)(void *ctx, const struct store_rule *r),
     void *ctx, unsigned kind, const MDB_val *k, const MDB_val *v)
{
	MDB_val cv = { v->mv_size, NULL };
	const char *kp, *nul;
	struct store_rule r;
	struct match_rule m;

	if (k->mv_size + v->mv_size > sizeof(s->rbuf))
		return store_set_damaged(s, "a record longer than any rule");
	memcpy(s->rbuf, k->mv_data, k->mv_size);
	memcpy(s->rbuf + k->mv_size, v->mv_data, v->mv_size);
	kp = s->rbuf;
	cv.mv_data = s->rbuf + k->mv_size;
	if ((nul = memchr(kp, '\0', k->mv_size)) == NULL ||
	    val_decode(&cv, kind, &m) != SH_OK)
		return 0;
	r.host = kp;
	r.hlen = (size_t)(nul - kp);
	r.alias = nul + 1;
	r.alen = k->mv_size - r.hlen - 1;
	if (kind == REDIRECT_EXACT && r.alen == 0)
		return 0; /* a host section's marker */
	if (kind == REDIRECT_PATTERN) {
		r.alias = m.key;
		r.alen = m.klen;
	}
	r.kind = kind;
	r.status = m.status;
	r.flags = m.flags;
	r.line = m.line;
	r.expires = m.expires;
	r.query = m.query;
	r.qlen = m.qlen;
	r.url = m.url;
	r.ulen = m.ulen;
	return fn(ctx, &r);
}

struct foreach_call {
	int (*fn)(void *ctx, const struct store_rule *r);
	void *ctx;
};

/* The pattern rules after the others, section by section, each in line
 * order; in s->cur[0], which the caller closes. */
static int
foreach_patterns(struct store *s, const struct foreach_call *c)
{
	MDB_val k, v;
	int rc, ret = 0;

	if (s->lay.patterns == 0)
		return 0;
	if (s->cur[0] != NULL)
		mdb_cursor_close(s->cur[0]);
	s->cur[0] = NULL;
	if ((rc = mdb_cursor_open(s->rtxn, s->pattern, &s->cur[0])) != 0)
		return store_rd_err(s, rc);
	for (rc = mdb_cursor_get(s->cur[0], &k, &v, MDB_FIRST);
	     rc == 0 && ret == 0;
	     rc = mdb_cursor_get(s->cur[0], &k, &v, MDB_NEXT))
		ret = emit(s, c->fn, c->ctx, REDIRECT_PATTERN, &k, &v);
	if (ret == 0 && rc != MDB_NOTFOUND)
		ret = store_rd_err(s, rc);
	return ret;
}

static int
foreach_fn(struct store *s, void *arg)
{
	struct foreach_call *c = arg;
	MDB_val ka, va, kb, vb;
	int ra, rb, a, ret = 0;

	if (store_read_begin(s) != 0)
		return SH_ESTORE;
	layout_load(s);
	if (!s->lay.ok)
		goto out;
	if (mdb_cursor_open(s->rtxn, s->map, &s->cur[0]) != 0 ||
	    mdb_cursor_open(s->rtxn, s->prefix, &s->cur[1]) != 0) {
		ret = SH_ESTORE;
		goto out;
	}
	ra = mdb_cursor_get(s->cur[0], &ka, &va, MDB_FIRST);
	rb = mdb_cursor_get(s->cur[1], &kb, &vb, MDB_FIRST);
	/* Merge the two databases section by section. */
	while (ra == 0 || rb == 0) {
		a = ra == 0 && (rb != 0 || host_cmp(&ka, &kb) <= 0);
		ret = a ? emit(s, c->fn, c->ctx, REDIRECT_EXACT, &ka, &va)
		        : emit(s, c->fn, c->ctx, REDIRECT_PREFIX, &kb, &vb);
		if (ret != 0)
			goto out;
		if (a)
			ra = mdb_cursor_get(s->cur[0], &ka, &va, MDB_NEXT);
		else
			rb = mdb_cursor_get(s->cur[1], &kb, &vb, MDB_NEXT);
	}
	if (ra != MDB_NOTFOUND)
		ret = store_rd_err(s, ra);
	else if (rb != MDB_NOTFOUND)
		ret = store_rd_err(s, rb);
	else
		ret = foreach_patterns(s, c);
out:
	store_close_cursors(s);
	mdb_txn_reset(s->rtxn);
	return s->damaged ? SH_EDAMAGED : ret;
}

int
store_foreach_rule(struct store *s,
                   int (*fn)(void *ctx, const struct store_rule *r), void *ctx)
{
	struct foreach_call c = { fn, ctx };

	return store_guarded(s, foreach_fn, &c);
}

unsigned
store_map_flags(struct store *s)
{
	struct layout l;

	if (store_guarded(s, layout_fn, &l) != SH_OK || !l.ok)
		return 0;
	return l.flags;
}

struct pairs {
	int (*fn)(void *ctx, const char *alias, size_t alen, const char *url,
	          size_t ulen);
	void *ctx;
};

static int
pair_of(void *ctx, const struct store_rule *r)
{
	struct pairs *p = ctx;
	char alias[REDIRECT_KEY_MAX + 3];
	size_t n = r->alen;

	memcpy(alias, r->alias, n);
	if (r->kind == REDIRECT_PREFIX) {
		memcpy(alias + n, n > 0 ? "/*" : "*", n > 0 ? 2 : 1);
		n += n > 0 ? 2 : 1;
	}
	return p->fn(p->ctx, alias, n, r->url, r->ulen);
}

int
store_foreach(struct store *s,
              int (*fn)(void *ctx, const char *alias, size_t alen,
                        const char *url, size_t ulen),
              void *ctx)
{
	struct pairs p = { fn, ctx };

	return store_foreach_rule(s, pair_of, &p);
}
