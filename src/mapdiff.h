/*
 * mapdiff.h - what a new map changes against the stored one, for `sherve
 * check`, or against another map, for `sherve diff`: "+ alias URL [STATUS]"
 * (added), "- alias URL" (removed),
 * "~ alias OLD -> NEW" (changed target, status, force or expiry), each
 * followed by " (@host NAME)" for a rule of a host section, then a count.
 * A rule is the same rule when its section, kind and key are (a
 * pattern's: its from path and query conditions).
 *
 * Caveats: reads the store in one read transaction; near-linear in the
 * map's size (a binary search per stored rule; patterns, at most
 * REDIRECT_PATTERNS_MAX, by a scan).
 */
#ifndef SHERVE_MAPDIFF_H
#define SHERVE_MAPDIFF_H

#include <stdio.h>

#include "redirects.h"
#include "store.h"

/* Print the differences of m (sorted, as parsed) against s to out. */
void mapdiff_print(FILE *out, struct store *s, const struct redirect_map *m);

struct mapdiff_counts {
	unsigned added, removed, changed;
};

/*
 * Print what b (sorted, as parsed) changes against a, the same lines,
 * without the summary, which n counts (sherve diff: two versions).
 * Returns SH_OK or SH_ENOMEM.
 */
int mapdiff_maps(FILE *out, const struct redirect_map *a,
                 const struct redirect_map *b, struct mapdiff_counts *n);

#endif
