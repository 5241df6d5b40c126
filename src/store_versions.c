/* store_versions.c - the kept versions of the map; see store.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"
#include "util.h"

/* The state record (key: number 0): layout (4 bytes), current (8),
 * newest (8), pinned (1). Another layout reads as no versions. */
#define VSTATE_LAYOUT 1
#define VSTATE_LEN    21
/* A version's value: stored_at (8), rules (8), SHA-256 (32), then
 * source, ETag and Last-Modified (each a 2-byte length and the bytes),
 * then the file. */
#define VER_HDR 48

static void
vkey(unsigned char k[8], uint64_t n)
{
	store_be_put(k, n, 8);
}

/* The state in txn; all zeros when there is none. Returns an LMDB code. */
static int
state_read(MDB_txn *txn, struct store *s, struct store_vstate *st)
{
	unsigned char k[8];
	MDB_val key = { 8, k }, v;
	const unsigned char *p;
	MDB_stat ms;
	int rc;

	memset(st, 0, sizeof(*st));
	if (!s->has_versions)
		return 0;
	vkey(k, 0);
	if ((rc = mdb_get(txn, s->versions, &key, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	p = v.mv_data;
	if (v.mv_size != VSTATE_LEN || store_be_get(p, 4) != VSTATE_LAYOUT)
		return 0;
	st->current = store_be_get(p + 4, 8);
	st->newest = store_be_get(p + 12, 8);
	st->pinned = p[20] != 0;
	if ((rc = mdb_stat(txn, s->versions, &ms)) != 0)
		return rc;
	st->count = ms.ms_entries > 0 ? ms.ms_entries - 1 : 0;
	return 0;
}

static int
state_write(MDB_txn *txn, struct store *s, const struct store_vstate *st)
{
	unsigned char k[8], b[VSTATE_LEN];
	MDB_val key = { 8, k }, v = { VSTATE_LEN, b };

	vkey(k, 0);
	store_be_put(b, VSTATE_LAYOUT, 4);
	store_be_put(b + 4, st->current, 8);
	store_be_put(b + 12, st->newest, 8);
	b[20] = st->pinned ? 1 : 0;
	return mdb_put(txn, s->versions, &key, &v, 0);
}

/* A 2-byte length and a string at *p (end e) into out; 0 or -1. */
static int
field_get(const unsigned char **p, const unsigned char *e, char *out,
          size_t outsz)
{
	size_t n;

	if (e - *p < 2)
		return -1;
	n = (size_t)store_be_get(*p, 2);
	if ((size_t)(e - *p - 2) < n || n >= outsz)
		return -1;
	memcpy(out, *p + 2, n);
	out[n] = '\0';
	*p += 2 + n;
	return 0;
}

/* Version number n's value v into o, its file into *body, *len. */
static int
ver_decode(uint64_t n, const MDB_val *v, struct store_version *o,
           const char **body, size_t *len)
{
	const unsigned char *p = v->mv_data, *e = p + v->mv_size;

	memset(o, 0, sizeof(*o));
	if (v->mv_size < VER_HDR)
		return MDB_CORRUPTED;
	o->n = n;
	o->stored_at = store_be_get(p, 8);
	o->rules = store_be_get(p + 8, 8);
	memcpy(o->sha, p + 16, STORE_SHA_LEN);
	p += VER_HDR;
	if (field_get(&p, e, o->source, sizeof(o->source)) != 0 ||
	    field_get(&p, e, o->etag, sizeof(o->etag)) != 0 ||
	    field_get(&p, e, o->last_modified, sizeof(o->last_modified)) != 0)
		return MDB_CORRUPTED;
	*body = (const char *)p;
	*len = (size_t)(e - p);
	return 0;
}

static unsigned char *
field_put(unsigned char *p, const char *f)
{
	size_t n = strlen(f);

	store_be_put(p, n, 2);
	memcpy(p + 2, f, n);
	return p + 2 + n;
}

/* Keep vp's file as version n. */
static int
ver_put(MDB_txn *txn, struct store *s, uint64_t n, const struct store_vput *vp)
{
	const struct store_version *o = vp->v;
	unsigned char k[8], *p;
	MDB_val key = { 8, k }, v;
	size_t sl = strlen(o->source), el = strlen(o->etag),
	       ll = strlen(o->last_modified);
	int rc;

	if (sl > 0xffff || el > 0xffff || ll > 0xffff)
		return MDB_BAD_VALSIZE;
	vkey(k, n);
	v.mv_size = VER_HDR + 6 + sl + el + ll + vp->len;
	if ((rc = mdb_put(txn, s->versions, &key, &v, MDB_RESERVE)) != 0)
		return rc;
	p = v.mv_data;
	store_be_put(p, o->stored_at, 8);
	store_be_put(p + 8, o->rules, 8);
	memcpy(p + 16, o->sha, STORE_SHA_LEN);
	p = field_put(p + VER_HDR, o->source);
	p = field_put(p, o->etag);
	p = field_put(p, o->last_modified);
	if (vp->len > 0)
		memcpy(p, vp->body, vp->len);
	return 0;
}

/* The oldest version that may be dropped (not 0, not the current) into
 * *n; an LMDB code (MDB_NOTFOUND: none). */
static int
oldest_droppable(MDB_cursor *cur, const struct store_vstate *st, uint64_t *n)
{
	MDB_val key, v;
	int rc = mdb_cursor_get(cur, &key, &v, MDB_FIRST);

	for (; rc == 0; rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT)) {
		*n = key.mv_size == 8 ? store_be_get(key.mv_data, 8) : 0;
		if (*n != 0 && *n != st->current)
			return 0;
	}
	return rc;
}

/* Drop the oldest versions but the current one while more than keep are
 * kept. */
static int
drop_oldest(MDB_txn *txn, struct store *s, struct store_vstate *st,
            unsigned keep)
{
	MDB_cursor *cur;
	uint64_t n;
	int rc = 0;

	if ((rc = mdb_cursor_open(txn, s->versions, &cur)) != 0)
		return rc;
	while (st->count > keep && (rc = oldest_droppable(cur, st, &n)) == 0 &&
	       (rc = mdb_cursor_del(cur, 0)) == 0)
		st->count--;
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The newest version's SHA-256 equals the file's. */
static int
same_as_newest(MDB_txn *txn, struct store *s, const struct store_vstate *st,
               const struct store_version *o)
{
	unsigned char k[8];
	MDB_val key = { 8, k }, v;

	if (st->newest == 0)
		return 0;
	vkey(k, st->newest);
	return mdb_get(txn, s->versions, &key, &v) == 0 &&
	       v.mv_size >= VER_HDR &&
	       memcmp((const unsigned char *)v.mv_data + 16, o->sha,
	              STORE_SHA_LEN) == 0;
}

static int
step_add(MDB_txn *txn, struct store *s, const struct store_vput *vp,
         struct store_vstate *st)
{
	int rc;

	if (same_as_newest(txn, s, st, vp->v))
		return 0;
	if ((rc = ver_put(txn, s, st->newest + 1, vp)) != 0)
		return rc;
	st->newest++;
	st->count++;
	st->added = 1;
	if (!st->pinned)
		st->current = st->newest;
	if ((rc = drop_oldest(txn, s, st, vp->keep ? vp->keep : 1)) != 0)
		return rc;
	return state_write(txn, s, st);
}

int
store_versions_step(MDB_txn *txn, struct store *s, const struct store_vput *vp,
                    int *write_map, struct store_vstate *out)
{
	struct store_vstate st;
	unsigned char k[8];
	MDB_val key = { 8, k }, v;
	int rc;

	*write_map = 1;
	if ((rc = state_read(txn, s, &st)) != 0)
		return rc;
	if (vp->step == STORE_VADD) {
		rc = step_add(txn, s, vp, &st);
		*write_map = !st.pinned;
	} else {
		vkey(k, vp->n);
		if (vp->n == 0 ||
		    (rc = mdb_get(txn, s->versions, &key, &v)) != 0)
			return vp->n == 0 ? MDB_NOTFOUND : rc;
		st.current = vp->n;
		st.pinned = vp->pin;
		rc = state_write(txn, s, &st);
	}
	if (out != NULL)
		*out = st;
	return rc;
}

static int
vstate_fn(struct store *s, void *arg)
{
	int rc;

	if ((rc = store_read_begin(s)) != 0)
		return store_rd_err(s, rc);
	rc = state_read(s->rtxn, s, arg);
	mdb_txn_reset(s->rtxn);
	return rc == 0 ? SH_OK : store_rd_err(s, rc);
}

int
store_versions_state(struct store *s, struct store_vstate *st)
{
	memset(st, 0, sizeof(*st));
	return store_guarded(s, vstate_fn, st);
}

struct list_call {
	int (*fn)(void *ctx, const struct store_version *v);
	void *ctx;
	struct store_vstate *st;
	struct store_version v; /* copied out of the map for fn */
};

static int
list_walk(struct store *s, MDB_cursor *cur, struct list_call *c)
{
	const char *body;
	MDB_val key, v;
	size_t len;
	int rc;

	rc = mdb_cursor_get(cur, &key, &v, MDB_LAST);
	while (rc == 0) {
		uint64_t n =
		        key.mv_size == 8 ? store_be_get(key.mv_data, 8) : 0;

		if (n == 0)
			break;
		if ((rc = ver_decode(n, &v, &c->v, &body, &len)) != 0)
			return store_rd_err(s, rc);
		c->v.current = n == c->st->current;
		c->v.pinned = c->v.current && c->st->pinned;
		if ((rc = c->fn(c->ctx, &c->v)) != 0)
			return rc;
		rc = mdb_cursor_get(cur, &key, &v, MDB_PREV);
	}
	return rc == 0 || rc == MDB_NOTFOUND ? SH_OK : store_rd_err(s, rc);
}

static int
list_fn(struct store *s, void *arg)
{
	struct list_call *c = arg;
	MDB_cursor *cur = NULL;
	int rc;

	if ((rc = store_read_begin(s)) != 0)
		return store_rd_err(s, rc);
	if ((rc = state_read(s->rtxn, s, c->st)) != 0) {
		rc = store_rd_err(s, rc);
	} else if (s->has_versions) {
		if ((rc = mdb_cursor_open(s->rtxn, s->versions, &cur)) != 0)
			rc = store_rd_err(s, rc);
		else
			rc = list_walk(s, cur, c);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_reset(s->rtxn);
	return rc;
}

int
store_versions_list(struct store *s,
                    int (*fn)(void *ctx, const struct store_version *v),
                    void *ctx, struct store_vstate *st)
{
	struct store_vstate local;
	struct list_call *c;
	int rc;

	/* struct store_version is 4.6 KiB: not on a worker's stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SH_ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	c->st = st != NULL ? st : &local;
	rc = store_guarded(s, list_fn, c);
	free(c);
	return rc;
}

struct get_call {
	uint64_t n;
	struct store_version *v;
	char **body;
	size_t *len;
};

static int
get_fn(struct store *s, void *arg)
{
	struct get_call *c = arg;
	struct store_vstate st;
	unsigned char k[8];
	MDB_val key = { 8, k }, v;
	const char *b;
	int rc;

	if ((rc = store_read_begin(s)) != 0)
		return store_rd_err(s, rc);
	vkey(k, c->n);
	if (!s->has_versions || c->n == 0)
		rc = MDB_NOTFOUND;
	else if ((rc = state_read(s->rtxn, s, &st)) == 0 &&
	         (rc = mdb_get(s->rtxn, s->versions, &key, &v)) == 0)
		rc = ver_decode(c->n, &v, c->v, &b, c->len);
	if (rc == 0 && (*c->body = malloc(*c->len + 1)) == NULL)
		rc = -1;
	if (rc == 0) {
		memcpy(*c->body, b, *c->len);
		(*c->body)[*c->len] = '\0';
		c->v->current = c->n == st.current;
		c->v->pinned = c->v->current && st.pinned;
	}
	mdb_txn_reset(s->rtxn);
	return rc == -1 ? SH_ENOMEM : rc == 0 ? SH_OK : store_rd_err(s, rc);
}

int
store_version_get(struct store *s, uint64_t n, struct store_version *v,
                  char **body, size_t *len)
{
	struct get_call c = { n, v, body, len };

	*body = NULL;
	*len = 0;
	return store_guarded(s, get_fn, &c);
}
