/*
 * listing.h - a map as text, in the formats sherve reads: the gosherve
 * superset (`sherve list` of a gosherve map) and "_redirects" (`sherve
 * list` of a "_redirects" map, `export --format redirects`, `check
 * --resolve-chains`). Read back, the text gives the same map: a round
 * trip is lossless (export.sh checks it).
 *
 * A "_redirects" map is written in its file's order (first match wins);
 * a gosherve map in sherve's order (match_order()), so that a first-match
 * reader of the text answers as sherve does. From paths are written
 * percent-encoded where a byte would not read back as itself (a blank,
 * '%', '#', '?', a byte that is not ASCII).
 *
 * Caveats: the rules are sorted in place.
 */
#ifndef SHERVE_LISTING_H
#define SHERVE_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

/* One rule; strings NUL-terminated, owned by whoever filled it. */
struct listing_rule {
	char *host;  /* "" for the default section */
	char *alias; /* the key: a prefix without "/" "*"; a pattern's path */
	char *query; /* a pattern's query conditions, "" for none */
	char *url;   /* "" for a rule with no target */
	unsigned kind, status, flags, line;
	uint64_t expires;
};

/* Rules and what they were read with. */
struct listing {
	struct listing_rule *v;
	size_t n, cap;
	unsigned flags;           /* the map's: MATCH_ORDERED, ... */
	unsigned redirect_status; /* a rule without its own status */
	uint64_t now;             /* export time: what expired is gone */
	int owned;                /* listing_free() frees the strings */
};

enum listing_format {
	LISTING_GOSHERVE, /* alias URL [STATUS], @host sections */
	LISTING_REDIRECTS /* from [conditions] to [status[!]] */
};

/*
 * Copy every rule of s into l (zeroed by the caller), with the map's
 * flags. Returns SH_OK, SH_ENOMEM or SH_ESTORE.
 */
int listing_collect(struct store *s, struct listing *l);

/*
 * Add one rule whose strings the caller keeps (l->owned 0).
 * Returns SH_OK or SH_ENOMEM.
 */
int listing_add(struct listing *l, const struct listing_rule *r);

/* 1 if sherve never answers r (a reserved path, one it refuses). */
int listing_unreachable(const struct listing_rule *r);

/* Sort l for first-match readers (see above). */
void listing_sort(struct listing *l);

/*
 * Write l to fp in format f (the rules sherve never answers are left
 * out). Returns 0, or -1 when a write failed.
 */
int listing_write(FILE *fp, struct listing *l, enum listing_format f);

/*
 * Write r's from path as a "_redirects" line has it ("https://HOST" for
 * a host rule, a trailing star for a prefix), with no conditions.
 */
void listing_put_from(FILE *fp, const struct listing_rule *r);

/* Free what l holds and zero it. */
void listing_free(struct listing *l);

#endif
