/* store.c - the LMDB-backed redirect map; see store.h. */
#include "config.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"
#include "rules.h"
#include "store.h"
#include "util.h"

#define STORE_FILE "redirects.mdb"
/* Virtual size only: LMDB does not preallocate the file, and a map this
 * large seldom needs growing, which is unsafe while other threads read. */
#define STORE_MAP_INITIAL (1UL << 30)
#define STORE_MAP_LIMIT   (16ULL << 30)
#define STORE_OPEN_TRIES  5
/* The key layout of "map" and "prefix"; an older store reads as empty. */
#define STORE_LAYOUT 2
#define LAYOUT_KEY   "layout"

/* The "layout" meta value, cached for one snapshot of the store. */
struct layout {
	size_t txnid;   /* the snapshot it was read in */
	int valid;      /* holds txnid's layout */
	int ok;         /* the current layout: the map can be read */
	int stale;      /* rules of an older layout, read as empty */
	unsigned hosts; /* host sections */
	unsigned depth; /* default section: 0, or 1 + deepest prefix */
	size_t rules;
};

struct store {
	MDB_env *env;
	MDB_dbi map, prefix, meta;
	MDB_txn *rtxn; /* reused read transaction, reset between uses */
	int clone;     /* shares another handle's env; does not close it */
	int warned;    /* the stale layout was logged */
	int rdonly;    /* opened MDB_RDONLY: the state dir is not writable */
	int last_rc;   /* LMDB's code for the last failed write */
	struct layout lay;
	char dir[4096]; /* the state dir, to tell a full disk from EIO */
};

/* mkdir -p with mode 0750 for what it creates. */
static int
mkdir_p(const char *dir)
{
	struct stat st;
	char buf[4096];
	char *p;

	if (str_copy(buf, dir, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	/* A read-only or foreign-owned state dir that exists is fine: the
	 * store then opens read-only. EEXIST also covers a regular file in
	 * the way: the stat says so now. */
	if (mkdir(buf, 0750) != 0 && errno != EEXIST && errno != EROFS &&
	    errno != EACCES)
		return -1;
	if (stat(buf, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/* LMDB's shared-memory locking is unsafe on network filesystems. */
static const char *
network_fs(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0)
		return NULL;
	switch ((unsigned long)sf.f_type) {
	case 0x6969UL: return "nfs";
	case 0x517bUL: return "smb";
	case 0xff534d42UL: return "cifs";
	case 0xfe534d42UL: return "smb2";
	}
	return NULL;
}

static int
store_dbis(struct store *s)
{
	MDB_txn *txn = NULL;
	int rc;

	/* Read-only first, so a busy writer elsewhere does not block us. */
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0 && (rc = mdb_dbi_open(txn, "map", 0, &s->map)) == 0 &&
	    (rc = mdb_dbi_open(txn, "prefix", 0, &s->prefix)) == 0 &&
	    (rc = mdb_dbi_open(txn, "meta", 0, &s->meta)) == 0)
		return mdb_txn_commit(txn);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "map", MDB_CREATE, &s->map)) != 0 ||
	    (rc = mdb_dbi_open(txn, "prefix", MDB_CREATE, &s->prefix)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

static int
store_env(struct store *s, const char *path, unsigned flags)
{
	int rc, dead;

	if ((rc = mdb_env_create(&s->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(s->env, 3)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, STORE_MAP_INITIAL)) != 0)
		return rc;
	rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS | flags, 0640);
	if (rc != 0)
		return rc;
	s->rdonly = (flags & MDB_RDONLY) != 0;
	/* Free slots of readers that were killed (mod_fcgid, SIGKILL). */
	(void)mdb_reader_check(s->env, &dead);
	return store_dbis(s);
}

/*
 * The store file under dir into path, once dir is known to be on a local
 * filesystem. Returns SH_OK, SH_EINVAL or SH_ETOOLONG, with err set.
 */
static int
store_path(const char *dir, char *path, size_t pathsz, char *err, size_t errsz)
{
	const char *fs;

	if ((fs = network_fs(dir)) != NULL) {
		snprintf(err, errsz,
		         "state-dir: %s is on %s; LMDB needs a local "
		         "filesystem (use a directory on local disk)",
		         dir, fs);
		return SH_EINVAL;
	}
	if ((size_t)snprintf(path, pathsz, "%s/%s", dir, STORE_FILE) >=
	    pathsz) {
		snprintf(err, errsz, "state-dir: path too long");
		return SH_ETOOLONG;
	}
	return SH_OK;
}

/*
 * The state dir is not writable (a read-only mount, or a store that
 * another user refreshes): serve what is stored rather than nothing.
 * LMDB skips its lock file on a read-only filesystem; elsewhere the lock
 * file must still be writable. Returns the store, or NULL with *mrc set.
 */
static struct store *
open_rdonly(const char *path, int why, int *mrc)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*mrc = ENOMEM;
		return NULL;
	}
	if ((*mrc = store_env(s, path, MDB_RDONLY)) != 0) {
		store_close(s);
		*mrc = why; /* the first cause is the one to report */
		return NULL;
	}
	log_warnx("store: %s: %s; opened read-only: the stored map is "
	          "served, refreshes and imports fail",
	          path, mdb_strerror(why));
	return s;
}

int
store_open(const char *dir, struct store **out, char *err, size_t errsz)
{
	struct store *s = NULL;
	char path[4096];
	int rc, mrc = 0, tries;

	*out = NULL;
	if (mkdir_p(dir) != 0) {
		snprintf(err, errsz, "state-dir: %s: %s", dir, strerror(errno));
		return SH_EIO;
	}
	if ((rc = store_path(dir, path, sizeof(path), err, errsz)) != SH_OK)
		return rc;
	/* A CGI open can race another process creating the same files. */
	for (tries = 0; tries < STORE_OPEN_TRIES; tries++) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return SH_ENOMEM;
		if ((mrc = store_env(s, path, 0)) == 0)
			break;
		store_close(s);
		s = NULL;
		if (mrc != EAGAIN && mrc != EBUSY && mrc != MDB_INVALID)
			break;
		usleep(20000u << tries);
	}
	if (s == NULL && (mrc == EACCES || mrc == EROFS))
		s = open_rdonly(path, mrc, &mrc);
	if (s == NULL) {
		snprintf(err, errsz, "state-dir: %s: %s", path,
		         mdb_strerror(mrc));
		return mrc == EACCES || mrc == EROFS ? SH_EIO : SH_ESTORE;
	}
	(void)str_copy(s->dir, dir, sizeof(s->dir));
	*out = s;
	return SH_OK;
}

int
store_open_reader(const char *dir, struct store **out, char *err, size_t errsz)
{
	char path[4096], lock[4112];
	struct store *s;
	unsigned flags = MDB_RDONLY;
	int rc, mrc;

	*out = NULL;
	if ((rc = store_path(dir, path, sizeof(path), err, errsz)) != SH_OK)
		return rc;
	if (access(path, F_OK) != 0) {
		snprintf(err, errsz,
		         "state-dir: %s: no store yet (sherve refresh or "
		         "sherve import creates it)",
		         dir);
		return SH_ENOTFOUND;
	}
	/* LMDB would create a missing lock file, owned by whoever runs this
	 * (root, say) and then unwritable for the workers. No lock file means
	 * no process has the store open: read it without one. */
	snprintf(lock, sizeof(lock), "%s-lock", path);
	if (access(lock, F_OK) != 0)
		flags |= MDB_NOLOCK;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SH_ENOMEM;
	if ((mrc = store_env(s, path, flags)) != 0) {
		store_close(s);
		snprintf(err, errsz, "state-dir: %s: %s", path,
		         mdb_strerror(mrc));
		return mrc == EACCES || mrc == EROFS ? SH_EIO : SH_ESTORE;
	}
	(void)str_copy(s->dir, dir, sizeof(s->dir));
	*out = s;
	return SH_OK;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	if (s->env != NULL && !s->clone)
		mdb_env_close(s->env);
	free(s);
}

int
store_clone(struct store *s, struct store **out)
{
	struct store *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return SH_ENOMEM;
	c->env = s->env;
	c->map = s->map;
	c->prefix = s->prefix;
	c->meta = s->meta;
	c->clone = 1;
	c->rdonly = s->rdonly;
	memcpy(c->dir, s->dir, sizeof(c->dir));
	*out = c;
	return SH_OK;
}

/* Begin (or renew) the shared read transaction. */
static int
read_begin(struct store *s)
{
	int rc;

	if (s->rtxn != NULL) {
		if ((rc = mdb_txn_renew(s->rtxn)) == 0)
			return 0;
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
		if (rc != MDB_MAP_RESIZED)
			return rc;
		/* Another process grew the map; adopt its size. */
		(void)mdb_env_set_mapsize(s->env, 0);
	}
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc == MDB_MAP_RESIZED) {
		(void)mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	}
	if (rc != 0)
		s->rtxn = NULL;
	return rc;
}

static int
copy_val(const MDB_val *v, char *out, size_t outsz)
{
	if (v->mv_size >= outsz)
		return SH_ETOOLONG;
	memcpy(out, v->mv_data, v->mv_size);
	out[v->mv_size] = '\0';
	return SH_OK;
}

/* "VERSION HOSTS DEPTH RULES" -> l; 0, or -1 for another layout. */
static int
layout_parse(const MDB_val *v, struct layout *l)
{
	unsigned long long f[4] = { 0 };
	const char *p = v->mv_data, *end = p + v->mv_size;
	size_t i = 0;

	for (; p < end && i < 4; p++) {
		if (*p == ' ') {
			i++;
			continue;
		}
		if (*p < '0' || *p > '9' || f[i] > (1ULL << 48))
			return -1;
		f[i] = f[i] * 10 + (unsigned)(*p - '0');
	}
	if (i != 3 || f[0] != STORE_LAYOUT || f[1] > UINT32_MAX ||
	    f[2] > REDIRECT_DEPTH_MAX + 1)
		return -1;
	l->hosts = (unsigned)f[1];
	l->depth = (unsigned)f[2];
	l->rules = (size_t)f[3];
	return 0;
}

/* Read the layout once per snapshot; the caller holds the read txn. */
static void
layout_load(struct store *s)
{
	MDB_val k = { sizeof(LAYOUT_KEY) - 1, (void *)LAYOUT_KEY }, v;
	size_t id = mdb_txn_id(s->rtxn);
	MDB_stat st;

	if (s->lay.valid && s->lay.txnid == id)
		return;
	memset(&s->lay, 0, sizeof(s->lay));
	s->lay.valid = 1;
	s->lay.txnid = id;
	if (mdb_get(s->rtxn, s->meta, &k, &v) == 0 &&
	    layout_parse(&v, &s->lay) == 0) {
		s->lay.ok = 1;
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

/* One rule's value: a status byte, then the URL. */
static int
get_rule_val(struct store *s, MDB_dbi dbi, const char *key, size_t klen,
             unsigned *status, char *url, size_t urlsz)
{
	MDB_val k = { klen, (void *)key }, v;
	unsigned char b;
	int rc;

	if ((rc = mdb_get(s->rtxn, dbi, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? SH_ENOTFOUND : SH_ESTORE;
	if (v.mv_size < 1)
		return SH_ENOTFOUND;
	b = *(const unsigned char *)v.mv_data;
	*status = b != 0 ? 300u + b : 0;
	v.mv_data = (char *)v.mv_data + 1;
	v.mv_size--;
	return copy_val(&v, url, urlsz);
}

int
store_get_rule(struct store *s, const char *host, unsigned kind,
               const char *alias, size_t len, unsigned *status, char *url,
               size_t urlsz)
{
	char key[REDIRECT_KEY_MAX];
	size_t hlen = host != NULL ? strlen(host) : 0, klen;
	int rc;

	if (urlsz > 0)
		url[0] = '\0';
	*status = 0;
	if ((kind == REDIRECT_EXACT && len == 0) ||
	    (klen = make_key(key, host, hlen, alias, len)) == 0)
		return SH_ENOTFOUND;
	if (read_begin(s) != 0)
		return SH_ESTORE;
	rc = get_rule_val(s, kind == REDIRECT_PREFIX ? s->prefix : s->map, key,
	                  klen, status, url, urlsz);
	mdb_txn_reset(s->rtxn);
	return rc;
}

int
store_lookup(struct store *s, const char *alias, size_t len, char *url,
             size_t urlsz)
{
	unsigned status;

	return store_get_rule(s, NULL, REDIRECT_EXACT, alias, len, &status, url,
	                      urlsz);
}

/*
 * The longest prefix rule of section key[0, hlen] (host and NUL) for
 * path: one get per segment boundary, deepest first, never deeper than
 * the section's deepest prefix (depth - 1 segments).
 */
static int
walk_prefixes(struct store *s, char *key, size_t hlen, unsigned depth,
              const char *path, size_t len, char *url, size_t urlsz,
              struct store_match *m)
{
	size_t cut[REDIRECT_DEPTH_MAX + 2], nc = 0, i, klen;
	int rc;

	/* A marker byte is data: never walk past the deepest allowed. */
	if (depth > REDIRECT_DEPTH_MAX + 1)
		depth = REDIRECT_DEPTH_MAX + 1;
	cut[nc++] = 0; /* the catch-all */
	for (i = 0; i <= len && nc < depth; i++)
		if (i == len || path[i] == '/')
			cut[nc++] = i;
	while (nc-- > 0) {
		/* key already starts with the section's HOST NUL. */
		if ((klen = hlen + 1 + cut[nc]) > REDIRECT_KEY_MAX)
			continue;
		memcpy(key + hlen + 1, path, cut[nc]);
		rc = get_rule_val(s, s->prefix, key, klen, &m->status, url,
		                  urlsz);
		if (rc == SH_ENOTFOUND)
			continue;
		m->prefix = 1;
		m->alias_len = cut[nc];
		m->splat = cut[nc] == len ? len : cut[nc] + (cut[nc] > 0);
		return rc;
	}
	return SH_ENOTFOUND;
}

/* Exact, then longest prefix, in one section; host "" is the default. */
static int
resolve_in(struct store *s, const char *host, unsigned depth, const char *path,
           size_t len, char *url, size_t urlsz, struct store_match *m)
{
	char key[REDIRECT_KEY_MAX];
	size_t hlen = strlen(host), klen;
	MDB_val k, v;
	int rc;

	if (make_key(key, host, hlen, "", 0) == 0)
		return SH_ENOTFOUND;
	if (hlen > 0) {
		/* The section's marker: is there one, and how deep? */
		k.mv_size = hlen + 1;
		k.mv_data = key;
		if ((rc = mdb_get(s->rtxn, s->map, &k, &v)) != 0)
			return rc == MDB_NOTFOUND ? SH_ENOTFOUND : SH_ESTORE;
		depth = v.mv_size > 0 ? *(const unsigned char *)v.mv_data : 0;
	}
	m->host = hlen > 0;
	if ((klen = make_key(key, host, hlen, path, len)) != 0) {
		rc = get_rule_val(s, s->map, key, klen, &m->status, url, urlsz);
		if (rc != SH_ENOTFOUND) {
			m->alias_len = len;
			m->splat = len;
			return rc;
		}
	}
	if (depth == 0)
		return SH_ENOTFOUND;
	return walk_prefixes(s, key, hlen, depth, path, len, url, urlsz, m);
}

int
store_resolve(struct store *s, const char *host, const char *path, size_t len,
              char *url, size_t urlsz, struct store_match *m)
{
	int rc = SH_ENOTFOUND;

	memset(m, 0, sizeof(*m));
	if (urlsz > 0)
		url[0] = '\0';
	if (len == 0 || rules_reserved(path, len))
		return SH_ENOTFOUND;
	if (read_begin(s) != 0)
		return SH_ESTORE;
	layout_load(s);
	if (!s->lay.ok)
		goto out;
	if (host != NULL && host[0] != '\0' && s->lay.hosts > 0) {
		rc = resolve_in(s, host, 0, path, len, url, urlsz, m);
		if (rc != SH_ENOTFOUND)
			goto out;
		memset(m, 0, sizeof(*m));
	}
	rc = resolve_in(s, "", s->lay.depth, path, len, url, urlsz, m);
out:
	mdb_txn_reset(s->rtxn);
	return rc;
}

int
store_meta_get(struct store *s, const char *key, char *val, size_t valsz)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	if (valsz > 0)
		val[0] = '\0';
	if (k.mv_size == 0 || k.mv_size > REDIRECT_ALIAS_MAX)
		return SH_ENOTFOUND;
	if (read_begin(s) != 0)
		return SH_ESTORE;
	rc = mdb_get(s->rtxn, s->meta, &k, &v);
	if (rc == 0)
		rc = copy_val(&v, val, valsz);
	else
		rc = rc == MDB_NOTFOUND ? SH_ENOTFOUND : SH_ESTORE;
	mdb_txn_reset(s->rtxn);
	return rc;
}

size_t
store_count(struct store *s)
{
	size_t n;

	if (read_begin(s) != 0)
		return 0;
	layout_load(s);
	n = s->lay.ok ? s->lay.rules : 0;
	mdb_txn_reset(s->rtxn);
	return n;
}

int
store_stale(struct store *s)
{
	int stale;

	if (read_begin(s) != 0)
		return 0;
	layout_load(s);
	stale = s->lay.stale;
	mdb_txn_reset(s->rtxn);
	return stale;
}

static int
put_meta(MDB_txn *txn, MDB_dbi dbi, const struct store_kv *kv, size_t nkv)
{
	size_t i;
	int rc;

	for (i = 0; i < nkv; i++) {
		MDB_val k = { strlen(kv[i].key), (void *)kv[i].key };
		MDB_val v = { strlen(kv[i].val), (void *)kv[i].val };

		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

/* 1 + the segments of a prefix rule's key: what a prefix walk needs. */
static unsigned
rule_depth(const struct redirect *r)
{
	size_t n = redirect_key_len(r), i;
	unsigned d = 1 + (n > 0);

	for (i = 0; i < n; i++)
		d += r->alias[i] == '/';
	/* The parser refuses deeper prefixes; a walk never goes deeper. */
	return d < REDIRECT_DEPTH_MAX + 1 ? d : REDIRECT_DEPTH_MAX + 1;
}

static int
put_rule(MDB_txn *txn, MDB_dbi dbi, const struct redirect *r)
{
	const char *host = r->host != NULL ? r->host : "";
	size_t ulen = strlen(r->url);
	char key[REDIRECT_KEY_MAX];
	MDB_val k, v = { ulen + 1, NULL };
	int rc;

	k.mv_data = key;
	k.mv_size = make_key(key, host, strlen(host), r->alias,
	                     redirect_key_len(r));
	if (k.mv_size == 0)
		return MDB_BAD_VALSIZE;
	/* Sorted input lets LMDB append without searching. */
	if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND | MDB_RESERVE)) != 0)
		return rc;
	*(unsigned char *)v.mv_data =
	        (unsigned char)(r->status >= 301 && r->status <= 308
	                                ? r->status - 300
	                                : 0);
	memcpy((char *)v.mv_data + 1, r->url, ulen);
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
		char key[RULES_HOST_MAX + 1];
		MDB_val k = { 0, key }, v = { 1, &d }, old;

		for (j = i; j < m->n && m->v[j].kind == r->kind &&
		            (m->v[j].host == r->host ||
		             (m->v[j].host != NULL && r->host != NULL &&
		              strcmp(m->v[j].host, r->host) == 0));
		     j++)
			if (r->kind == REDIRECT_PREFIX &&
			    rule_depth(&m->v[j]) > d)
				d = (unsigned char)rule_depth(&m->v[j]);
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
static int
put_map(MDB_txn *txn, struct store *s, const struct redirect_map *m)
{
	unsigned hosts = 0, depth = 0, d;
	char layout[96];
	MDB_val k = { sizeof(LAYOUT_KEY) - 1, (void *)LAYOUT_KEY }, v;
	size_t i;
	int rc;

	if ((rc = mdb_drop(txn, s->map, 0)) != 0 ||
	    (rc = mdb_drop(txn, s->prefix, 0)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];
		int prefix = r->kind == REDIRECT_PREFIX;

		if ((rc = put_rule(txn, prefix ? s->prefix : s->map, r)) != 0)
			return rc;
		if (prefix && r->host == NULL && (d = rule_depth(r)) > depth)
			depth = d;
	}
	if ((rc = put_markers(txn, s->map, m, &hosts)) != 0)
		return rc;
	v.mv_size = (size_t)snprintf(layout, sizeof(layout), "%d %u %u %zu",
	                             STORE_LAYOUT, hosts, depth, m->n);
	v.mv_data = layout;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Double the map size; only when this process has no live txn. */
static int
grow(struct store *s)
{
	MDB_envinfo info;

	if (s->rtxn != NULL) {
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	if (mdb_env_info(s->env, &info) != 0 ||
	    (unsigned long long)info.me_mapsize * 2 > STORE_MAP_LIMIT)
		return -1;
	return mdb_env_set_mapsize(s->env, info.me_mapsize * 2) == 0 ? 0 : -1;
}

static int
write_txn(struct store *s, const struct redirect_map *m,
          const struct store_kv *kv, size_t nkv)
{
	MDB_txn *txn = NULL;
	int rc;

	for (;;) {
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			(void)mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		if (rc != 0)
			return rc;
		if ((m == NULL || (rc = put_map(txn, s, m)) == 0) &&
		    (rc = put_meta(txn, s->meta, kv, nkv)) == 0)
			rc = mdb_txn_commit(
			        txn); /* frees txn, even on failure */
		else
			mdb_txn_abort(txn);
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_FULL && grow(s) == 0)
			continue;
		return rc;
	}
}

/* Less free space than this after a failed write: the disk is full. */
#define STORE_FULL_BYTES (1u << 20)

/*
 * LMDB turns a short write on a full disk into EIO: look at the free
 * space so the error names the real cause.
 */
static int
write_done(struct store *s)
{
	struct statfs sf;

	if (s->last_rc == 0)
		return SH_OK;
	if (s->last_rc == EIO && statfs(s->dir, &sf) == 0 &&
	    (unsigned long long)sf.f_bavail * (unsigned long long)sf.f_bsize <
	            STORE_FULL_BYTES)
		s->last_rc = ENOSPC;
	return SH_ESTORE;
}

int
store_replace(struct store *s, const struct redirect_map *m,
              const struct store_kv *kv, size_t nkv)
{
	s->last_rc = s->rdonly ? EROFS : write_txn(s, m, kv, nkv);
	return write_done(s);
}

int
store_meta_put(struct store *s, const struct store_kv *kv, size_t nkv)
{
	s->last_rc = s->rdonly ? EROFS : write_txn(s, NULL, kv, nkv);
	return write_done(s);
}

const char *
store_write_error(const struct store *s)
{
	if (s->rdonly)
		return "the store is open read-only (state-dir not writable)";
	if (s->last_rc == MDB_MAP_FULL)
		return "the map is full at its 16 GiB limit";
	return s->last_rc == 0 ? "no error" : mdb_strerror(s->last_rc);
}

int
store_readonly(const struct store *s)
{
	return s->rdonly;
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

static int
emit(int (*fn)(void *ctx, const struct store_rule *r), void *ctx, unsigned kind,
     const MDB_val *k, const MDB_val *v)
{
	const char *kp = k->mv_data, *nul = memchr(kp, '\0', k->mv_size);
	struct store_rule r;
	unsigned char b;

	if (nul == NULL || v->mv_size < 1)
		return 0;
	r.host = kp;
	r.hlen = (size_t)(nul - kp);
	r.alias = nul + 1;
	r.alen = k->mv_size - r.hlen - 1;
	if (kind == REDIRECT_EXACT && r.alen == 0)
		return 0; /* a host section's marker */
	r.kind = kind;
	b = *(const unsigned char *)v->mv_data;
	r.status = b != 0 ? 300u + b : 0;
	r.url = (const char *)v->mv_data + 1;
	r.ulen = v->mv_size - 1;
	return fn(ctx, &r);
}

int
store_foreach_rule(struct store *s,
                   int (*fn)(void *ctx, const struct store_rule *r), void *ctx)
{
	MDB_cursor *ca = NULL, *cb = NULL;
	MDB_val ka, va, kb, vb;
	int ra, rb, a, ret = 0;

	if (read_begin(s) != 0)
		return SH_ESTORE;
	layout_load(s);
	if (!s->lay.ok)
		goto out;
	if (mdb_cursor_open(s->rtxn, s->map, &ca) != 0 ||
	    mdb_cursor_open(s->rtxn, s->prefix, &cb) != 0) {
		ret = SH_ESTORE;
		goto out;
	}
	ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST);
	rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
	/* Merge the two databases section by section. */
	while (ra == 0 || rb == 0) {
		a = ra == 0 && (rb != 0 || host_cmp(&ka, &kb) <= 0);
		ret = a ? emit(fn, ctx, REDIRECT_EXACT, &ka, &va)
		        : emit(fn, ctx, REDIRECT_PREFIX, &kb, &vb);
		if (ret != 0)
			goto out;
		if (a)
			ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
		else
			rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
	}
	if (ra != MDB_NOTFOUND || rb != MDB_NOTFOUND)
		ret = SH_ESTORE;
out:
	if (ca != NULL)
		mdb_cursor_close(ca);
	if (cb != NULL)
		mdb_cursor_close(cb);
	mdb_txn_reset(s->rtxn);
	return ret;
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
