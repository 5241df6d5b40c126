/*
 * store.h - the redirect map in LMDB, shared by every process.
 *
 * Three files implement it: store.c (the environment, transactions, the
 * fault guard and healing), store_map.c (the key and value layout below,
 * the lookups and the walk) and store_versions.c (the kept versions).
 *
 * One environment, STATE_DIR/redirects.mdb, with four databases:
 *  - "map": exact rules, key HOST NUL ALIAS (HOST is "" for the default
 *    section; ALIAS "/" for the root), value a 15-byte header (flags:
 *    MATCH_FORCE, MATCH_SCAN, MATCH_SLASH; the status, 0 for
 *    redirect-status; the line; the expiry, unix seconds, 0 for none;
 *    big-endian) and the target URL ("" for none). A key HOST NUL with no
 *    alias marks a host section; its one-byte value is that section's
 *    prefix depth (0: no prefix rules, else 1 + the most segments of one).
 *  - "prefix": prefix rules, same keys and values, the alias without its
 *    trailing "/" "*" ("" for the catch-all).
 *  - "pattern": the "_redirects" rules with placeholders, a '*' inside
 *    or query conditions, key HOST NUL LINE (4 bytes, big-endian, so a
 *    cursor meets them in file order), value the header, the from path
 *    and the query conditions (each a 2-byte length and its bytes), the
 *    URL. Read only when the layout says the map has some, and never
 *    more than REDIRECT_PATTERNS_MAX (match.h states the walk's cost).
 *  - "meta": refresh bookkeeping (one record, "state": refresh.h's
 *    struct refresh_state, encoded by refresh_state.c) and "layout": "VERSION
 * HOSTS DEPTH RULES PATTERNS FLAGS", written with the map so a reader knows,
 * with one get, whether to look in host sections, how deep a prefix walk may
 *    go, whether there are pattern rules to walk and forced rules to ask
 *    before a file (FLAGS: MATCH_ORDERED, MATCH_CLOUDFLARE,
 *    MATCH_FORCED).
 * A whole new map replaces the old in one write transaction, so a reader
 * sees the old map or the new one, never a mix.
 *
 * A store written by an older sherve (no "layout") reads as empty and is
 * refilled by the next refresh or import (see store_stale()).
 *
 * The store is a cache: everything in it but the refresh counters comes
 * back with the next refresh. So a damaged file is not repaired but set
 * aside (renamed STATE_DIR/redirects.mdb.damaged-STAMP-PID, with its lock
 * file; the two newest such sets are kept) and a fresh store started:
 *  - every call that reads or writes the map runs under a fault guard
 *    (guard.h): a read past the end of a truncated file (SIGBUS), a wild
 *    read caused by a scribbled page (SIGSEGV) or an LMDB assertion marks
 *    the store damaged instead of killing the process, as do LMDB's own
 *    MDB_CORRUPTED and MDB_PAGE_NOTFOUND; a damaged store answers every
 *    call with SH_EDAMAGED (counts: 0) without reading the file again;
 *  - store_check() (at open, and once per clock tick in a worker) compares
 *    the file's size with its header's last page, so a truncated file is
 *    seen before a page past its end is read;
 *  - "checksum" (meta): the SHA-256 of the map (its entries in key order
 *    and its layout record), written in the transaction that writes the
 *    map; store_verify() reads the whole map again and compares, to find
 *    a page changed silently (a bad disk, a stray write).
 *  - Writes heal: a write that finds the store damaged sets it aside and
 *    writes into a fresh one (store_heal()).
 * Before a map is written, the free space of the state dir is checked
 * against the map's worst-case size plus a reserve (1 % of the
 * filesystem, 256 KiB to 64 MiB), so a refresh refused for room leaves
 * room to read the old map and to log.
 * Files are created with mode 0666 and directories 0777, less the umask.
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
#include <stdint.h>

#include "match.h"
#include "redirects.h"

struct store;

/* A meta key and value, for store_replace() and store_meta_put(). */
struct store_kv {
	const char *key;
	const char *val;
	size_t len; /* bytes of val; 0: val is a string */
};

/*
 * Open (creating dir and files as needed) the store under dir. When the
 * state dir or the map file is not writable (EROFS, EACCES) the store is
 * opened read-only, with a warning logged: lookups work, and every write
 * fails with SH_ESTORE (see store_readonly()).
 * A damaged file is set aside and a fresh store created. A state dir
 * that cannot be created is named in err with the user sherve runs as.
 * Returns SH_OK, SH_EIO (errno kept; err says which path), SH_EINVAL
 * (network filesystem) or SH_ESTORE, with a one-line reason in err.
 */
int store_open(const char *dir, struct store **out, char *err, size_t errsz);

/*
 * Open an existing store read-only, for commands that only read it
 * (list, lookup, export, status, check, metrics): nothing is created, so
 * running them as root cannot leave root-owned files that workers then
 * cannot open. Returns SH_OK, SH_ENOTFOUND (no store yet), SH_EINVAL
 * (network filesystem), SH_EDAMAGED (the file is damaged: it is left as
 * it is), SH_EIO ("cannot read the store: Permission denied") or
 * SH_ESTORE, with the reason in err.
 */
int store_open_reader(const char *dir, struct store **out, char *err,
                      size_t errsz);

/*
 * Once per clock tick: is the file at the path still the one open, and
 * as long as its header says? One stat(2), no map read beyond the header.
 * Returns SH_OK, SH_ESTALE (replaced or removed: close and open again),
 * SH_EDAMAGED (store_damage() says why) or SH_EIO.
 */
int store_check(struct store *s);

/* What was found damaged, or NULL while the store is sound. */
const char *store_damage(const struct store *s);

/*
 * Set a damaged store's file aside (see above), logging it as an error;
 * s stays open on the old file and must then be closed. Nothing is done
 * if another process set it aside already.
 * Returns SH_OK or SH_EIO (the rename failed).
 */
int store_set_aside(struct store *s);

/*
 * If s is damaged (store_check(), or an earlier call found it), set its
 * file aside and open a fresh, empty store into s itself. Only for a
 * handle opened read-write. Returns SH_OK (sound, or
 * rebuilt empty) or SH_EDAMAGED (it could not be rebuilt).
 */
int store_heal(struct store *s);

/*
 * Read the whole map again and compare it with its checksum; read the
 * meta records and the free list too. Copies the stored checksum into
 * sum ("sha256:HEX"). Cost: every page of the store, and SHA-256 of the
 * map (about 170 MB/s). Returns SH_OK, SH_ENOTFOUND (no checksum: no map
 * yet, or written by an older sherve), SH_EDAMAGED (mismatch, or a page
 * that does not read) or SH_ESTORE.
 */
int store_verify(struct store *s, char *sum, size_t sumsz);

/* 1 if store_open() fell back to a read-only store. */
int store_readonly(const struct store *s);

/*
 * Why the last store_replace() or store_meta_put() on s failed, as a
 * static string ("No space left on device", ...).
 */
const char *store_write_error(const struct store *s);

/* Close; safe with NULL. */
void store_close(struct store *s);

/*
 * Copy the URL of the exact rule alias (len bytes) of the default section
 * into url: no host, no prefix rules (sherve check, tests).
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG (url too small) or SH_ESTORE.
 */
int store_lookup(struct store *s, const char *alias, size_t len, char *url,
                 size_t urlsz);

/*
 * One exact or prefix rule, as store_get_rule() finds it: host (NULL or ""
 * for the default section), kind and alias (len bytes; a prefix without
 * "/" "*"). Fills r (status, flags, line, expiry; no key) and copies the
 * URL into url, where r->url points.
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG or SH_ESTORE.
 */
int store_get_rule(struct store *s, const char *host, unsigned kind,
                   const char *alias, size_t len, struct match_rule *r,
                   char *url, size_t urlsz);

/*
 * The rule that answers rq (match.h: precedence and cost are there), in
 * the map's current snapshot. Copies the rule's target into url and its
 * key and query conditions into m->key, and points m->rule at those
 * copies. Cost: one get for the layout when the map
 * changed since the last call, then match_resolve()'s lookups, one get
 * each: a gosherve map costs one get.
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG (url too small) or SH_ESTORE.
 */
int store_resolve(struct store *s, const struct match_request *rq, char *url,
                  size_t urlsz, struct match_result *m);

/*
 * Replace the whole map with m (sorted, as redirects_parse leaves it) and
 * set the nkv meta pairs, in one write transaction, with the map's
 * checksum. First checks the room (see above).
 * Returns SH_OK, SH_ENOMEM, SH_ENOSPACE or SH_ESTORE
 * (store_write_error() says why).
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

/*
 * Copy the bytes of the meta value of key into buf (bufsz bytes at most)
 * and their count into *len, in one read transaction.
 * Returns SH_OK, SH_ENOTFOUND, SH_ETOOLONG or SH_ESTORE.
 */
int store_meta_read(struct store *s, const char *key, void *buf, size_t bufsz,
                    size_t *len);

/* Number of rules in the map (0 for an old layout), or 0 on error
 * (store_damage() tells a damaged store from an empty one). */
size_t store_count(struct store *s);

/* 1 if the map holds rules of an older layout that read as empty. */
int store_stale(struct store *s);

/* One stored rule, for store_foreach_rule(); nothing is NUL-terminated. */
struct store_rule {
	const char *host; /* hlen 0: the default section */
	size_t hlen;
	unsigned kind;     /* enum redirect_kind */
	unsigned status;   /* 0: redirect-status; 200, 301..308, 404, 410 */
	unsigned flags;    /* MATCH_FORCE, MATCH_SCAN, MATCH_SLASH */
	unsigned line;     /* in the file the map came from */
	uint64_t expires;  /* 0: never */
	const char *alias; /* a prefix without "/" "*": "" is the catch-all;
	                      a pattern's from path */
	size_t alen;
	const char *query; /* a pattern's query conditions */
	size_t qlen;
	const char *url; /* "" for a rule with no target */
	size_t ulen;
};

/*
 * The map's flags (match.h: MATCH_ORDERED, MATCH_CLOUDFLARE,
 * MATCH_FORCED), 0 on error or an empty store. Costs a read transaction
 * renewal and one get when the map changed since the last read.
 */
unsigned store_map_flags(struct store *s);

/*
 * Call fn for each rule inside one read transaction: sections in host
 * order (the default first), in each the exact rules, then the prefix
 * rules, each in key order; then the pattern rules, sections in host
 * order, each in line order. A nonzero return from fn stops the walk and
 * is returned; SH_ESTORE on a read error.
 */
int store_foreach_rule(struct store *s,
                       int (*fn)(void *ctx, const struct store_rule *r),
                       void *ctx);

/*
 * store_foreach_rule() for callers that want alias and URL only: alias
 * is as listed ("docs/\*" for a prefix); the host is not given.
 */
int store_foreach(struct store *s,
                  int (*fn)(void *ctx, const char *alias, size_t alen,
                            const char *url, size_t ulen),
                  void *ctx);

/*
 * Versions (store_versions.c). Every map a refresh or an import stores
 * is kept as a numbered version: the file as fetched and what it came
 * with, in the "versions" database (key: the number, 8 bytes big-endian;
 * number 0 holds the state: current, pinned, newest). The rule databases
 * always hold the current version's map, so a lookup costs what it did
 * (one get for a gosherve map); a rollback parses the kept file and
 * writes its map and the new state in one transaction, so every reader
 * sees the old current map or the new one at its next read transaction.
 */
#define STORE_VERSIONS_MAX 1000
#define STORE_SHA_LEN      32

/* One kept version, as store_versions_list() and _get() give it. */
struct store_version {
	uint64_t n;                       /* 1, 2, ...: never reused */
	uint64_t stored_at;               /* unix seconds */
	uint64_t rules;                   /* rules of its map */
	unsigned char sha[STORE_SHA_LEN]; /* of the file as fetched */
	char source[4096];                /* the URL, or "import:PATH" */
	char etag[256];
	char last_modified[256];
	int current, pinned; /* markers, filled when listed */
};

/* The versions' state. */
struct store_vstate {
	uint64_t current; /* 0: no version yet (a map of an older sherve) */
	uint64_t newest;
	uint64_t count; /* kept */
	int pinned;     /* current is pinned: new versions are not served */
	int added;      /* store_replace_version(): a new version was kept */
};

enum store_vstep {
	STORE_VADD = 1, /* keep v (body, len) as the newest version */
	STORE_VSWITCH,  /* make version n current, pinned or not */
};

/* A version step for store_replace_version(). */
struct store_vput {
	enum store_vstep step;
	const struct store_version *v; /* STORE_VADD: its fields but n */
	const char *body;              /* STORE_VADD: the file */
	size_t len;
	unsigned keep; /* STORE_VADD: versions kept, 1..STORE_VERSIONS_MAX */
	uint64_t n;    /* STORE_VSWITCH */
	int pin;       /* STORE_VSWITCH */
};

/*
 * store_replace() with a version step in the same write transaction:
 *  - STORE_VADD: a file whose SHA-256 is the newest version's adds none;
 *    else it becomes version newest + 1 and the oldest versions beyond
 *    keep are dropped (never the current one). While a pin is set the
 *    map is not written (the pinned version stays current): only kv is.
 *  - STORE_VSWITCH: version n becomes current with the map m (parsed
 *    from its file), pinned if pin.
 * out (may be NULL) receives the state after the step.
 * Returns store_replace()'s codes, and SH_ENOTFOUND (no version n).
 */
int store_replace_version(struct store *s, const struct redirect_map *m,
                          const struct store_kv *kv, size_t nkv,
                          const struct store_vput *vp,
                          struct store_vstate *out);

/* The versions' state in one read transaction. Returns SH_OK or
 * SH_ESTORE (a store without versions reads as all zeros). */
int store_versions_state(struct store *s, struct store_vstate *st);

/*
 * Call fn for each kept version, newest first, in one read transaction
 * (st, if not NULL, receives the state). A nonzero return from fn stops
 * the walk and is returned; SH_ESTORE on a read error.
 */
int store_versions_list(struct store *s,
                        int (*fn)(void *ctx, const struct store_version *v),
                        void *ctx, struct store_vstate *st);

/*
 * Version n and a malloc'd copy of its file (*body, *len; the caller
 * frees it), in one read transaction. Returns SH_OK, SH_ENOTFOUND,
 * SH_ENOMEM or SH_ESTORE.
 */
int store_version_get(struct store *s, uint64_t n, struct store_version *v,
                      char **body, size_t *len);

#endif
