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

#include "store.h"
#include "util.h"

#define STORE_FILE "redirects.mdb"
/* Virtual size only: LMDB does not preallocate the file, and a map this
 * large seldom needs growing, which is unsafe while other threads read. */
#define STORE_MAP_INITIAL (1UL << 30)
#define STORE_MAP_LIMIT   (16ULL << 30)
#define STORE_OPEN_TRIES  5

struct store {
	MDB_env *env;
	MDB_dbi map, meta;
	MDB_txn *rtxn; /* reused read transaction, reset between uses */
	int clone;     /* shares another handle's env; does not close it */
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
	if (mkdir(buf, 0750) != 0 && errno != EEXIST)
		return -1;
	/* EEXIST also covers a regular file in the way: say so now. */
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
	    (rc = mdb_dbi_open(txn, "meta", 0, &s->meta)) == 0)
		return mdb_txn_commit(txn);
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	if ((rc = mdb_dbi_open(txn, "map", MDB_CREATE, &s->map)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	return mdb_txn_commit(txn);
}

static int
store_env(struct store *s, const char *path)
{
	int rc, dead;

	if ((rc = mdb_env_create(&s->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(s->env, 2)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, STORE_MAP_INITIAL)) != 0)
		return rc;
	if ((rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0640)) !=
	    0)
		return rc;
	/* Free slots of readers that were killed (mod_fcgid, SIGKILL). */
	(void)mdb_reader_check(s->env, &dead);
	return store_dbis(s);
}

int
store_open(const char *dir, struct store **out, char *err, size_t errsz)
{
	struct store *s = NULL;
	char path[4096];
	const char *fs;
	int rc = SH_ESTORE, mrc = 0, tries;

	*out = NULL;
	if (mkdir_p(dir) != 0) {
		snprintf(err, errsz, "state-dir: %s: %s", dir, strerror(errno));
		return SH_EIO;
	}
	if ((fs = network_fs(dir)) != NULL) {
		snprintf(err, errsz,
		         "state-dir: %s is on %s; LMDB needs a local "
		         "filesystem (use a directory on local disk)",
		         dir, fs);
		return SH_EINVAL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE) >=
	    sizeof(path)) {
		snprintf(err, errsz, "state-dir: path too long");
		return SH_ETOOLONG;
	}
	/* A CGI open can race another process creating the same files. */
	for (tries = 0; tries < STORE_OPEN_TRIES; tries++) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return SH_ENOMEM;
		if ((mrc = store_env(s, path)) == 0)
			break;
		store_close(s);
		s = NULL;
		if (mrc != EAGAIN && mrc != EBUSY && mrc != MDB_INVALID)
			break;
		usleep(20000u << tries);
	}
	if (s == NULL) {
		snprintf(err, errsz, "state-dir: %s: %s", path,
		         mdb_strerror(mrc));
		return mrc == EACCES || mrc == EROFS ? SH_EIO : rc;
	}
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
	c->meta = s->meta;
	c->clone = 1;
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

static int
get_copy(struct store *s, MDB_dbi dbi, const char *key, size_t klen, char *out,
         size_t outsz)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (outsz > 0)
		out[0] = '\0';
	if (klen == 0 || klen > REDIRECT_ALIAS_MAX)
		return SH_ENOTFOUND;
	if (read_begin(s) != 0)
		return SH_ESTORE;
	rc = mdb_get(s->rtxn, dbi, &k, &v);
	if (rc == 0)
		rc = copy_val(&v, out, outsz);
	else
		rc = rc == MDB_NOTFOUND ? SH_ENOTFOUND : SH_ESTORE;
	mdb_txn_reset(s->rtxn);
	return rc;
}

int
store_lookup(struct store *s, const char *alias, size_t len, char *url,
             size_t urlsz)
{
	return get_copy(s, s->map, alias, len, url, urlsz);
}

int
store_meta_get(struct store *s, const char *key, char *val, size_t valsz)
{
	return get_copy(s, s->meta, key, strlen(key), val, valsz);
}

size_t
store_count(struct store *s)
{
	MDB_stat st;
	size_t n = 0;

	if (read_begin(s) != 0)
		return 0;
	if (mdb_stat(s->rtxn, s->map, &st) == 0)
		n = st.ms_entries;
	mdb_txn_reset(s->rtxn);
	return n;
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

static int
put_map(MDB_txn *txn, MDB_dbi dbi, const struct redirect_map *m)
{
	size_t i;
	int rc;

	if ((rc = mdb_drop(txn, dbi, 0)) != 0)
		return rc;
	for (i = 0; i < m->n; i++) {
		MDB_val k = { strlen(m->v[i].alias), m->v[i].alias };
		MDB_val v = { strlen(m->v[i].url), m->v[i].url };

		/* Sorted input lets LMDB append without searching. */
		if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)) != 0)
			return rc;
	}
	return 0;
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
		if ((m == NULL || (rc = put_map(txn, s->map, m)) == 0) &&
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

int
store_replace(struct store *s, const struct redirect_map *m,
              const struct store_kv *kv, size_t nkv)
{
	return write_txn(s, m, kv, nkv) == 0 ? SH_OK : SH_ESTORE;
}

int
store_meta_put(struct store *s, const struct store_kv *kv, size_t nkv)
{
	return write_txn(s, NULL, kv, nkv) == 0 ? SH_OK : SH_ESTORE;
}

int
store_foreach(struct store *s,
              int (*fn)(void *ctx, const char *alias, size_t alen,
                        const char *url, size_t ulen),
              void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, ret = 0;

	if (read_begin(s) != 0)
		return SH_ESTORE;
	if (mdb_cursor_open(s->rtxn, s->map, &cur) != 0) {
		ret = SH_ESTORE;
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if ((ret = fn(ctx, k.mv_data, k.mv_size, v.mv_data,
		              v.mv_size)) != 0)
			goto out;
	}
	if (rc != MDB_NOTFOUND)
		ret = SH_ESTORE;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_reset(s->rtxn);
	return ret;
}
