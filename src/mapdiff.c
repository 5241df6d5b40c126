/* mapdiff.c - a parsed map against the stored one; see mapdiff.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "location.h"
#include "mapdiff.h"
#include "match.h"
#include "util.h"

/* " (@host NAME)" for a rule of a host section, else "". */
static void
section_of(const char *host, size_t hlen, char *out, size_t outsz)
{
	if (hlen == 0)
		out[0] = '\0';
	else
		snprintf(out, outsz, " (@host %.*s)", (int)hlen, host);
}

/* A rule as both sides have it, for printing and comparing. */
static void
from_map(const struct redirect *r, struct store_rule *o)
{
	memset(o, 0, sizeof(*o));
	o->host = r->host != NULL ? r->host : "";
	o->hlen = strlen(o->host);
	o->kind = r->kind;
	o->status = r->status;
	o->flags = r->flags;
	o->line = r->line;
	o->expires = r->expires;
	o->alias = r->alias;
	o->alen = redirect_key_len(r);
	o->query = r->query != NULL ? r->query : "";
	o->qlen = strlen(o->query);
	o->url = r->url;
	o->ulen = strlen(r->url);
}

/* "alias URL [STATUS[!]] [expires=...] (@host NAME)" */
static void
print_rule(FILE *out, char sign, const struct store_rule *r, const char *old,
           size_t olen)
{
	char sect[LOCATION_HOST_MAX + 16], exp[48] = "";
	time_t t = (time_t)r->expires;
	struct tm tm;

	section_of(r->host, r->hlen, sect, sizeof(sect));
	if (r->expires != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(exp, sizeof(exp), " expires=%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "%c %.*s%s%s%.*s", sign, (int)r->alen, r->alias,
	        r->kind != REDIRECT_PREFIX ? ""
	        : r->alen > 0              ? "/*"
	                                   : "*",
	        r->qlen > 0 ? " " : "", (int)r->qlen, r->query);
	if (old != NULL)
		fprintf(out, " %.*s ->", (int)olen, old);
	fprintf(out, " %.*s", (int)r->ulen, r->ulen > 0 ? r->url : "");
	if (r->status != 0)
		fprintf(out, " %u%s", r->status,
		        (r->flags & MATCH_FORCE) ? "!" : "");
	fprintf(out, "%s%s\n", exp, sect);
}

/* What a map means by a rule beyond its key: target, status, force,
 * expiry (MATCH_SCAN is derived, not said). */
static int
same_value(const struct store_rule *a, const struct store_rule *b)
{
	const unsigned said = MATCH_FORCE | MATCH_SLASH;

	return a->ulen == b->ulen && memcmp(a->url, b->url, a->ulen) == 0 &&
	       a->status == b->status && a->expires == b->expires &&
	       (a->flags & said) == (b->flags & said);
}

/* 1 if a and b are the same rule of the same section (a pattern: the
 * same from path and query conditions). */
static int
same_key(const struct store_rule *a, const struct store_rule *b)
{
	return a->kind == b->kind && a->hlen == b->hlen &&
	       memcmp(a->host, b->host, a->hlen) == 0 && a->alen == b->alen &&
	       memcmp(a->alias, b->alias, a->alen) == 0 && a->qlen == b->qlen &&
	       memcmp(a->query, b->query, a->qlen) == 0;
}

struct diff {
	FILE *out;
	const struct redirect_map *m;
	unsigned char *matched; /* per rule of m: found in the store */
	unsigned added, removed, changed;
};

/* The index in d->m of the rule with sr's key, unmatched so far, or -1:
 * a binary search for an exact or prefix rule, a scan of the pattern
 * rules (at most REDIRECT_PATTERNS_MAX) for a pattern. */
static long
find_same(const struct diff *d, const struct store_rule *sr)
{
	char host[LOCATION_HOST_MAX + 1];
	const struct redirect *r;
	struct store_rule nr;
	size_t i;

	if (sr->hlen >= sizeof(host))
		return -1;
	memcpy(host, sr->host, sr->hlen);
	host[sr->hlen] = '\0';
	if (sr->kind != REDIRECT_PATTERN) {
		r = redirects_find(d->m, sr->kind, sr->hlen > 0 ? host : NULL,
		                   sr->alias, sr->alen);
		return r != NULL ? (long)(r - d->m->v) : -1;
	}
	for (i = d->m->n; i-- > 0 && d->m->v[i].kind == REDIRECT_PATTERN;) {
		from_map(&d->m->v[i], &nr);
		if (!d->matched[i] && same_key(&nr, sr))
			return (long)i;
	}
	return -1;
}

/* A stored rule: the same rule of the new map, or a removed one. */
static int
on_stored(void *ctx, const struct store_rule *sr)
{
	struct diff *d = ctx;
	struct store_rule nr;
	long i = find_same(d, sr);

	if (i < 0) {
		print_rule(d->out, '-', sr, NULL, 0);
		d->removed++;
		return 0;
	}
	d->matched[i] = 1;
	from_map(&d->m->v[i], &nr);
	if (!same_value(&nr, sr)) {
		print_rule(d->out, '~', &nr, sr->url, sr->ulen);
		d->changed++;
	}
	return 0;
}

/* The rules of m not matched: added. */
static void
print_added(struct diff *d)
{
	struct store_rule nr;
	size_t i;

	for (i = 0; i < d->m->n; i++) {
		if (d->matched[i])
			continue;
		from_map(&d->m->v[i], &nr);
		print_rule(d->out, '+', &nr, NULL, 0);
		d->added++;
	}
}

/* "+", "-" and "~" lines against the store, rules found by their key. */
void
mapdiff_print(FILE *out, struct store *s, const struct redirect_map *m)
{
	struct diff d = { out, m, NULL, 0, 0, 0 };

	if (m->n > 0 && (d.matched = calloc(m->n, 1)) == NULL) {
		fprintf(out, "diff against the stored map: out of memory\n");
		return;
	}
	(void)store_foreach_rule(s, on_stored, &d);
	print_added(&d);
	fprintf(out,
	        "diff against the stored map: %u added, %u removed, %u "
	        "changed\n",
	        d.added, d.removed, d.changed);
	free(d.matched);
}

int
mapdiff_maps(FILE *out, const struct redirect_map *a,
             const struct redirect_map *b, struct mapdiff_counts *n)
{
	struct diff d = { out, b, NULL, 0, 0, 0 };
	struct store_rule ar;
	size_t i;

	memset(n, 0, sizeof(*n));
	if (b->n > 0 && (d.matched = calloc(b->n, 1)) == NULL)
		return SH_ENOMEM;
	for (i = 0; i < a->n; i++) {
		from_map(&a->v[i], &ar);
		(void)on_stored(&d, &ar);
	}
	print_added(&d);
	n->added = d.added;
	n->removed = d.removed;
	n->changed = d.changed;
	free(d.matched);
	return SH_OK;
}
