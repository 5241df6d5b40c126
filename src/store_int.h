/*
 * store_int.h - what the store's files share (store.c: environment,
 * transactions, integrity; store_map.c: the key and value layout of the
 * map, its lookups and its walk; store_versions.c: kept versions).
 * Private: only store*.c include it, as only they include lmdb.h.
 */
#ifndef SHERVE_STORE_INT_H
#define SHERVE_STORE_INT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "redirects.h"
#include "store.h"

/* The meta key of the layout record (store_map.c writes and reads it;
 * store.c sums it with the map). */
#define LAYOUT_KEY "layout"

/* The "layout" meta value, cached for one snapshot of the store. */
struct layout {
	size_t txnid;   /* the snapshot it was read in */
	int valid;      /* holds txnid's layout */
	int ok;         /* the current layout: the map can be read */
	int stale;      /* rules of an older layout, read as empty */
	unsigned hosts; /* host sections */
	unsigned depth; /* default section: 0, or 1 + deepest prefix */
	size_t rules;
	unsigned patterns; /* REDIRECT_PATTERN rules */
	unsigned flags;    /* MATCH_ORDERED, MATCH_CLOUDFLARE, MATCH_FORCED */
};

struct store {
	MDB_env *env;
	MDB_dbi map, prefix, pattern, meta;
	MDB_dbi versions; /* 0 in a read-only store of an older sherve */
	int has_versions;
	MDB_txn *rtxn;    /* reused read transaction, reset between uses */
	MDB_cursor *pcur; /* the pattern walk's cursor, renewed with rtxn */
	int warned;       /* the stale layout was logged */
	int rdonly;       /* opened MDB_RDONLY: the state dir is not writable */
	int last_rc;      /* LMDB's code for the last failed write */
	struct layout lay;
	char dir[4096]; /* the state dir, to tell a full disk from EIO */

	/* Integrity: see "The fault guard" and "Checks" below. */
	char path[4096]; /* dir/STORE_FILE */
	dev_t dev;       /* the file env maps, to see it replaced */
	ino_t ino;
	int damaged;          /* found damaged: no call reads it again */
	char why[192];        /* what was found */
	MDB_txn *wtxn;        /* the write transaction under way */
	MDB_cursor *cur[2];   /* cursors of rtxn under way */
	char space_err[4400]; /* why the last write was refused for room */
	/* A rule copied out of the map for store_foreach_rule()'s callback. */
	char rbuf[REDIRECT_KEY_MAX + 16384 + 16];
};

/* Run fn(s, arg) under the fault guard (store.c explains it). */
int store_guarded(struct store *s, int (*fn)(struct store *s, void *arg),
                  void *arg);

/* Mark s damaged (the first reason sticks); returns SH_EDAMAGED. */
int store_set_damaged(struct store *s, const char *why);

/* Close the read cursors a call holds in s->cur and s->pcur. */
void store_close_cursors(struct store *s);

/* Begin (or renew) the shared read transaction s->rtxn; an LMDB code. */
int store_read_begin(struct store *s);

/* A read's LMDB code as ours: SH_ENOTFOUND, SH_EDAMAGED or SH_ESTORE. */
int store_rd_err(struct store *s, int rc);

/* Copy v into out as a string; SH_OK or SH_ETOOLONG. */
int store_copy_val(const MDB_val *v, char *out, size_t outsz);

/* n big-endian bytes at p, and back. */
uint64_t store_be_get(const unsigned char *p, size_t n);
void store_be_put(unsigned char *p, uint64_t v, size_t n);

/*
 * In the write transaction txn: empty the rule databases and write the
 * map m into them (store_map.c), with its host section markers and its
 * layout record. Returns an LMDB code.
 */
int store_put_map(MDB_txn *txn, struct store *s, const struct redirect_map *m);

/*
 * In the write transaction txn, before the map is written: apply the
 * version step vp (store_versions.c). Sets *write_map to 0 when the map
 * must stay as it is (a pin holds another version current) and fills
 * out. Returns an LMDB code (MDB_NOTFOUND: no such version).
 */
int store_versions_step(MDB_txn *txn, struct store *s,
                        const struct store_vput *vp, int *write_map,
                        struct store_vstate *out);

#endif
