/*
 * redirects_int.h - what the two halves of the redirects parser share:
 * redirects.c (lines, the gosherve format, targets, the map) and
 * redirects_netlify.c (the "_redirects" format and its first-match
 * order). Not a module of its own: nothing else includes it.
 */
#ifndef SHERVE_REDIRECTS_INT_H
#define SHERVE_REDIRECTS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "location.h"
#include "redirects.h"

#define MAX_FIELDS 8

struct span {
	const char *p;
	size_t n;
};

/* One rule line on its way into the map. */
struct rule {
	struct span alias, url, query;
	const char *host; /* NULL: the default section */
	unsigned kind, status, flags;
	uint64_t expires;
	char hostbuf[LOCATION_HOST_MAX + 1];   /* a from-URL's host */
	char aliasbuf[REDIRECT_ALIAS_MAX + 2]; /* the alias, normalised */
	char querybuf[REDIRECT_QUERY_MAX + 1]; /* the query conditions */
};

struct parser {
	const struct redirects_opts *o;
	struct redirect_map *m;
	redirects_warn_fn warn;
	void *ctx;
	char host[LOCATION_HOST_MAX + 1];
	int in_host;     /* inside an "@host NAME" section */
	int bad_section; /* inside one whose NAME was refused */
};

/* The reasons `sherve check` sums up as features sherve lacks. */
extern const char redirects_why_proxy[];
extern const char redirects_why_condition[];
/* A status after expires= (both formats read it before). */
extern const char redirects_why_status_late[];

int span_is(struct span s, const char *lit);
int span_has(struct span s, const char *lit);
void trim_slashes(struct span *s);

/* Statuses a line may give (bit per STATUS_*): the format decides. */
#define STATUS_REDIRECT 1u /* 301, 302, 303, 307, 308 */
#define STATUS_GONE     2u /* 404, 410 */
#define STATUS_REWRITE  4u /* 200 */
#define STATUS_FORCE    8u /* a trailing '!' */

/*
 * STATUS (with a trailing '!' where allowed: MATCH_FORCE into *flags).
 * Returns NULL, or the reason the field is refused.
 */
const char *parse_status(struct span s, unsigned allowed, unsigned *status,
                         unsigned *flags);

/* "expires=DATE" into r->expires; NULL, or the reason it is refused. */
const char *parse_expires_field(struct span s, struct rule *r);

/* A "from" of https://host/path: the rule belongs to that host. */
const char *from_url(struct span *a, struct rule *r);

/* The checks every target passes: length, scheme, self-loop, ... */
const char *check_target(const struct parser *ps, const struct rule *r);

/* "_redirects" (redirects_netlify.c): one rule line into r. */
const char *netlify_line(struct parser *ps, const struct span *f, size_t nf,
                         struct rule *r);

/*
 * "_redirects": after sorting, drop the rules that first-match order
 * always answers with an earlier line, and mark (MATCH_SCAN) those an
 * earlier pattern may take. Returns SH_OK or SH_ENOMEM.
 */
int netlify_order(struct redirect_map *m, redirects_warn_fn warn, void *ctx);

/* Free what entry r of m owns (nothing when m's strings are packed in
 * its chunks: redirects_free() frees those). */
void map_entry_free(const struct redirect_map *m, struct redirect *r);

/* Index of the first entry of m not below (kind, host, key, kn bytes). */
size_t redirects_lower_bound(const struct redirect_map *m, unsigned kind,
                             const char *host, const char *key, size_t kn);

#endif
