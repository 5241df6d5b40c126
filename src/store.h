/*
 * store.h - the redirect map in LMDB, shared by every process.
 *
 * One environment, STATE_DIR/redirects.mdb, with two databases: "map"
 * (alias -> URL) and "meta" (refresh bookkeeping: source, ETag,
 * Last-Modified, timestamps, results). A whole new map replaces the old in
 * one write transaction, so a reader sees the old map or the new one,
 * never a mix.
 *
 * Caveats:
 *  - Open the store after fork(); an LMDB environment must not cross it.
 *  - Lookups reuse one read transaction (reset/renew), so keep no pointer
 *    into the map across calls: values are copied out.
 *  - store_open() clears reader slots of dead processes (mdb_reader_check):
 *    mod_fcgid and lighttpd kill workers at will.
 *  - The map is 1 GiB of address space (not disk). A write that fills it
 *    doubles the size and retries; readers adopt the new size.
 *  - LMDB needs a local filesystem; store_open() refuses NFS/SMB/CIFS.
 */
#ifndef SHERVE_STORE_H
#define SHERVE_STORE_H

#include <stddef.h>

#include "redirects.h"

struct store;

/* A meta key and value, for store_replace() and store_meta_put(). */
struct store_kv {
	const char *key;
	const char *val;
};

/*
 * Open (creating dir and files as needed) the store under dir.
 * Returns SH_OK, SH_EIO (errno kept; err says which path), SH_EINVAL
 * (network filesystem) or SH_ESTORE, with a one-line reason in err.
 */
int store_open(const char *dir, struct store **out, char *err, size_t errsz);

/*
 * A second handle on the same environment for another thread (LMDB allows
 * one environment per process; each thread needs its own read txn).
 * Close every clone before the original. Returns SH_OK or SH_ENOMEM.
 */
int store_clone(struct store *s, struct store **out);

/* Close; safe with NULL. */
void store_close(struct store *s);

/*
 * Copy the URL for alias (len bytes) into url.
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG (url too small) or SH_ESTORE.
 */
int store_lookup(struct store *s, const char *alias, size_t len, char *url,
                 size_t urlsz);

/*
 * Replace the whole map with m (sorted, as redirects_parse leaves it) and
 * set the nkv meta pairs, in one write transaction.
 * Returns SH_OK, SH_ENOMEM or SH_ESTORE.
 */
int store_replace(struct store *s, const struct redirect_map *m,
                  const struct store_kv *kv, size_t nkv);

/* Set meta pairs in one transaction. Returns SH_OK or SH_ESTORE. */
int store_meta_put(struct store *s, const struct store_kv *kv, size_t nkv);

/*
 * Copy the meta value of key into val ("" when absent).
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG or SH_ESTORE.
 */
int store_meta_get(struct store *s, const char *key, char *val, size_t valsz);

/* Number of aliases in the map, or 0 on error. */
size_t store_count(struct store *s);

/*
 * Call fn for each alias in order, inside one read transaction; a nonzero
 * return from fn stops the walk and is returned.
 */
int store_foreach(struct store *s,
                  int (*fn)(void *ctx, const char *alias, size_t alen,
                            const char *url, size_t ulen),
                  void *ctx);

#endif
