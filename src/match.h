/*
 * match.h - which rule answers a request: the one place rule precedence
 * lives. Pure: no LMDB, no HTTP, no allocation.
 *
 * A map holds rules of three kinds in sections (the default section, and
 * one per @host name):
 *  - exact rules, found by their key (the path, slashes trimmed; "/" for
 *    the root);
 *  - prefix rules ("docs/\*"), found by walking the path's segment
 *    boundaries, deepest first;
 *  - pattern rules (":placeholder" segments, a '*' that is not a whole
 *    last segment, query conditions: "_redirects" files only), walked in
 *    line order.
 * match_resolve() asks a source (struct match_source: the LMDB store, or
 * a parsed map) for the candidates and decides, in this order:
 *  1. reserved paths (robots.txt, favicon.ico, .well-known/) answer to no
 *     rule at all;
 *  2. the request host's exact rule, its longest prefix rule, the default
 *     exact rule, the default longest prefix rule: the first found is the
 *     candidate;
 *  3. in a map whose order matters (a "_redirects" file, where the first
 *     matching line wins), a host rule marked MATCH_YIELD gives way to the
 *     default section's candidate when that has the earlier line; then
 *     the pattern rules whose line comes before the
 *     candidate's are tried first, in line order, host section and
 *     default section; the first that matches answers instead. The parser
 *     has already dropped exact and prefix rules that an earlier exact or
 *     prefix rule takes first, so for those step 2 already gives the first
 *     line; it marks (MATCH_SCAN) the rules an earlier pattern may take,
 *     and only those, or a miss, pay for step 3.
 * An answering rule past its expiry time answers 410 Gone (m->gone).
 *
 * Cost: one source lookup for the exact rule of each section tried (one
 * for a map without host sections), one section lookup when the map has
 * host sections, one per candidate prefix (never deeper than the
 * section's deepest prefix rule), and a walk of at most
 * REDIRECT_PATTERNS_MAX pattern rules only for a miss or a MATCH_SCAN
 * rule of a map that has pattern rules. A gosherve map costs one lookup.
 *
 * Caveats: the rule and capture pointers a result holds point into the
 * source's memory (an LMDB read transaction) and into the request: use
 * them before the source moves on. Capture names are copied into the
 * result (they come from the rule).
 */
#ifndef SHERVE_MATCH_H
#define SHERVE_MATCH_H

#include <stddef.h>
#include <stdint.h>

#define MATCH_CAPS      16 /* placeholders of one rule, query ones too */
#define MATCH_NAMES_MAX 256
#define MATCH_KEY_MAX   1024 /* a rule key and query copied out */

/* Rule flags, as stored. */
#define MATCH_FORCE 1u /* answers even where a file of the webroot is */
#define MATCH_SCAN  2u /* an earlier pattern rule may answer first */
#define MATCH_SLASH 4u /* Cloudflare: the from path ended in '/' */
#define MATCH_YIELD 8u /* a host rule an earlier default rule may take */

/* Map flags (struct match_source.flags). */
#define MATCH_ORDERED    1u /* first line wins: a "_redirects" file */
#define MATCH_CLOUDFLARE 2u /* no trailing-slash aliasing */
#define MATCH_FORCED     4u /* some rule is forced: ask before a file */

/* One rule as a source hands it over; nothing is NUL-terminated. */
struct match_rule {
	unsigned kind;    /* enum redirect_kind */
	unsigned status;  /* 0: redirect-status; 200, 301..308, 404, 410 */
	unsigned flags;   /* MATCH_FORCE, MATCH_SCAN, MATCH_SLASH */
	unsigned line;    /* in the file it came from */
	uint64_t expires; /* unix seconds; 0: never */
	const char *key;  /* exact: the path; prefix: without "/" "*";
	                     pattern: the from path with its '*' and
	                     ":name" segments */
	size_t klen;
	const char *query; /* pattern: query conditions "a=:x&b=1" */
	size_t qlen;
	const char *url; /* the target; "" for a rule with no target */
	size_t ulen;
	const void *rec; /* the source's own record of the rule, or NULL */
};

/* A pattern rule's turn in a walk: return nonzero to stop the walk. */
typedef int (*match_walk_fn)(void *arg, const struct match_rule *r);

/*
 * Where the rules come from. host/hlen name a section (hlen 0: the
 * default one). Every callback returns SH_OK, SH_ENOTFOUND or another
 * enum sherve_err, which match_resolve() passes on.
 */
struct match_source {
	void *ctx;
	/* The rule of kind (exact or prefix) whose key is key. */
	int (*rule)(void *ctx, const char *host, size_t hlen, unsigned kind,
	            const char *key, size_t klen, struct match_rule *r);
	/* Whether section host exists; its prefix depth into *depth. */
	int (*section)(void *ctx, const char *host, size_t hlen,
	               unsigned *depth);
	/* The pattern rules of section host with a line below below, in
	 * line order; stops when fn returns nonzero (SH_OK then). NULL:
	 * the source has none. */
	int (*patterns)(void *ctx, const char *host, size_t hlen,
	                unsigned below, match_walk_fn fn, void *arg);
	unsigned hosts;    /* 0: no host sections: never ask section() */
	unsigned depth;    /* default section: 0, or 1 + deepest prefix */
	unsigned npattern; /* pattern rules in the map */
	unsigned flags;    /* MATCH_ORDERED, MATCH_CLOUDFLARE */
};

/* A request, as the rules see it. */
struct match_request {
	const char *path; /* normalised (path.h), folded for alias-case */
	size_t len;
	int slash;         /* the request path ended in '/' */
	const char *host;  /* normalised (location_host), or NULL */
	const char *query; /* the raw query string, or NULL */
	uint64_t now;      /* unix seconds, for expiry */
};

/* A placeholder's value: name in the result, value in the request. */
struct match_capture {
	size_t name, nlen; /* offset and length in names[] */
	const char *val;   /* raw bytes of the path, or of the query */
	size_t vlen;
	int from_query; /* val is still percent-encoded */
};

struct match_result {
	struct match_rule rule;
	unsigned mapflags; /* the source's flags (MATCH_CLOUDFLARE ...) */
	int host;          /* matched in the request host's section */
	int gone;          /* past its expiry: answer 410 */
	size_t alias_len;  /* path bytes the rule names (a prefix: its key) */
	const char *splat; /* the '*' part of the path; NULL: no splat */
	size_t splen;
	int splat_slash; /* the request's trailing '/' belongs to it */
	struct match_capture cap[MATCH_CAPS];
	size_t ncap;
	char names[MATCH_NAMES_MAX];
	char key[MATCH_KEY_MAX]; /* the exact key looked up; a source may copy
	                          * the rule's key and query out here */
};

/*
 * The rule of src that answers rq, into m (zeroed first).
 * Returns SH_OK, SH_ENOTFOUND, or a source's error code.
 */
int match_resolve(const struct match_source *src,
                  const struct match_request *rq, struct match_result *m);

/*
 * Match one pattern rule r against rq (the source's flags in flags), as
 * match_resolve() does; fills the splat and captures of m on a match.
 * Returns 1 on a match, else 0.
 */
int match_pattern(const struct match_rule *r, unsigned flags,
                  const struct match_request *rq, struct match_result *m);

/*
 * Length of the placeholder name at p (n bytes): a letter or '_', then
 * letters, digits and '_', as after the ':' of a "_redirects" ":name";
 * 0 when none starts there.
 */
size_t match_name_len(const char *p, size_t n);

/*
 * The first ":name" in s (NUL-terminated) whose name is not skip (NULL:
 * skip none), or NULL: where a target takes a value of the request.
 */
const char *match_placeholder(const char *s, const char *skip);

/*
 * 1 if path (len bytes, normalised) is reserved for the site itself and
 * never answered by a rule: robots.txt, favicon.ico, and .well-known and
 * anything under it. ASCII case is ignored.
 */
int match_reserved(const char *path, size_t len);

/*
 * The order in which a first-match server (nginx map regexes, Apache
 * RewriteRules, a "_redirects" file) must see a map's exact and prefix
 * rules to answer as match_resolve() does: host sections before the
 * default one, in each the exact rules, then the prefixes, longest first.
 * a and b are the (host, kind, key) of two rules; returns <0, 0 or >0.
 */
int match_order(const char *ahost, unsigned akind, const char *akey,
                const char *bhost, unsigned bkind, const char *bkey);

#endif
