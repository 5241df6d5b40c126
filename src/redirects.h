/*
 * redirects.h - parse the redirects file: a superset of gosherve's
 * "alias URL" lines, or a Netlify/Cloudflare "_redirects" file.
 *
 * The formats are documented in sherve.redirects(5). In short: a leading
 * UTF-8 byte order mark, blank lines and lines starting with '#' are
 * ignored, fields are separated by runs of spaces or tabs, CRLF line ends
 * are accepted, and in the gosherve format a line is
 *
 *     alias URL [STATUS] [expires=DATE]   STATUS: 301..303, 307, 308
 *     alias 404|410 [expires=DATE]        the alias answers that status
 *     docs/\* URL [STATUS]                a prefix rule; ":splat" in URL
 *     * URL [STATUS]                      the catch-all prefix rule
 *     @host example.org                   rules below apply to that Host
 *     @host *                             back to the default section
 *
 * Leading and trailing '/' of an alias are trimmed, as they are of
 * request paths. An invalid line is skipped and reported with its number
 * (wrong field count, a target that is not absolute http(s), a control
 * character, an over-long alias or URL, a self-loop, ...). When a rule
 * appears twice (same host, same kind, same alias) the first line wins.
 *
 * In the "_redirects" format (redirects_netlify.c) a line is
 * "from [query conditions] to [status[!]] [expires=DATE]", in the
 * dialect of Netlify or Cloudflare: relative targets, placeholders, '*'
 * anywhere, 200 rewrites, 404 and 410 pages, forced rules; the first
 * matching line wins, which the map keeps (REDIRECT_PATTERN rules in line
 * order, MATCH_SCAN on rules an earlier pattern may take, lines that an
 * earlier one always takes first skipped with a warning). What has no
 * meaning for a redirect responder (proxies, Country=/Language= ...) is
 * skipped with a warning.
 *
 * Caveats: pure; no I/O. The map owns its strings (redirects_free()).
 */
#ifndef SHERVE_REDIRECTS_H
#define SHERVE_REDIRECTS_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

#define REDIRECT_ALIAS_MAX    500  /* LMDB's key limit is 511 bytes */
#define REDIRECT_URL_MAX      8192 /* the longest Location sherve sends */
#define REDIRECT_KEY_MAX      511  /* host, NUL and alias, as stored */
#define REDIRECT_DEPTH_MAX    32   /* segments of the longest prefix rule */
#define REDIRECT_QUERY_MAX    500  /* the query conditions of a rule */
#define REDIRECT_PATTERNS_MAX 1000 /* pattern rules of a map */

enum redirects_format {
	REDIRECTS_AUTO = 0, /* by name, see redirects_format_for() */
	REDIRECTS_GOSHERVE,
	REDIRECTS_NETLIFY, /* "_redirects", in either dialect */
};

/* Whose "_redirects" a file is: where the two platforms differ. */
enum redirects_dialect {
	DIALECT_NETLIFY = 0,
	/* 302 by default, rules before files, no trailing-slash aliasing,
	 * the target's query only, no query conditions */
	DIALECT_CLOUDFLARE,
};

enum redirect_kind {
	REDIRECT_EXACT = 0,
	REDIRECT_PREFIX = 1,
	REDIRECT_PATTERN = 2, /* placeholders, '*' inside, query conditions */
};

struct redirect {
	/* as listed: "go", "docs/\*", "*" the catch-all, "/" the root, or a
	 * pattern's from path ("news/:year/\*"); a Cloudflare rule whose
	 * from path ends in '/' keeps it ("a/") */
	char *alias;
	char *url;   /* "" for a rule with no target ("alias 410") */
	char *query; /* a pattern's query conditions ("id=:id"), or NULL */
	char *host;  /* NULL: the default section */
	/* The fields below are ordered for no padding: a map holds one of
	 * these per line, 48 bytes, where 64 were a third of a refresh's
	 * memory on a map of short lines. */
	uint64_t expires; /* unix seconds: answers 410 from then; 0 */
	unsigned line;
	unsigned short status; /* 0: redirect-status; 200, 301..308, 404, 410 */
	unsigned char kind;    /* enum redirect_kind */
	unsigned char flags;   /* MATCH_FORCE, MATCH_SCAN, MATCH_SLASH, ... */
};

struct redirects_chunk; /* redirects.c */

struct redirect_map {
	/* sorted by kind, host, then alias in LMDB key order (a pattern:
	 * by line) */
	struct redirect *v;
	size_t n, cap;
	unsigned invalid;    /* lines skipped */
	unsigned duplicates; /* later lines of a repeated rule */
	unsigned npattern;   /* REDIRECT_PATTERN rules */
	unsigned nhost;      /* rules of @host sections */
	unsigned depth;      /* of the default section's deepest prefix */
	unsigned flags;      /* MATCH_ORDERED, MATCH_CLOUDFLARE, MATCH_FORCED */
	/* The entries' strings, packed in chunks, when the parser made the
	 * map: one malloc per string cost 24 to 40 bytes more each. NULL
	 * in a map built by hand: each string is its own malloc. */
	struct redirects_chunk *chunks;
};

struct redirects_opts {
	enum redirects_format format; /* AUTO parses as GOSHERVE */
	int fold_case;                /* alias-case = insensitive */
	int allow_relative; /* allow-relative-targets = yes (gosherve) */
	enum redirects_dialect dialect; /* of a "_redirects" file */
};

/* Called once per skipped line; reason is a static string. */
typedef void (*redirects_warn_fn)(void *ctx, unsigned line, const char *reason);

/*
 * Parse len bytes of buf into m (zeroed by the caller or by a previous
 * redirects_free). o may be NULL (gosherve, case-sensitive, absolute
 * targets only); warn may be NULL.
 * Returns SH_OK (even with zero entries; the caller decides) or SH_ENOMEM.
 */
int redirects_parse_opts(const char *buf, size_t len,
                         const struct redirects_opts *o, struct redirect_map *m,
                         redirects_warn_fn warn, void *ctx);

/* redirects_parse_opts() with o NULL. */
int redirects_parse(const char *buf, size_t len, struct redirect_map *m,
                    redirects_warn_fn warn, void *ctx);

/*
 * What a skipped line would need that sherve does not have (a redirect
 * responder cannot proxy, and sees no visitor's country, language, role
 * or cookies), for `sherve check`'s summary; REDIRECTS_LACK_NONE for a
 * line that is simply invalid. reason is one a warn callback was given.
 */
enum redirects_lack {
	REDIRECTS_LACK_NONE = 0,
	REDIRECTS_LACK_PROXY,
	REDIRECTS_LACK_CONDITION,
};
enum redirects_lack redirects_lack_of(const char *reason);

/*
 * f itself unless it is REDIRECTS_AUTO; then REDIRECTS_NETLIFY when name
 * (a URL or file name, NULL allowed) ends in "_redirects" before any
 * '?' or '#', else REDIRECTS_GOSHERVE.
 */
enum redirects_format redirects_format_for(enum redirects_format f,
                                           const char *name);

/*
 * The rule of m (sorted, as parsed) of this kind and host (NULL: the
 * default section) whose key is key (n bytes; a prefix without its
 * "/" "*"), or NULL. Pattern rules are found by line only: NULL.
 */
const struct redirect *redirects_find(const struct redirect_map *m,
                                      unsigned kind, const char *host,
                                      const char *key, size_t n);

/* Bytes of r->alias that are its stored key: "docs/\*" -> 4, "*" -> 0. */
size_t redirect_key_len(const struct redirect *r);

/* 1 if m (sorted, as parsed) has rules in a section of host. */
int redirects_has_section(const struct redirect_map *m, const char *host);

/* 1 + the segments of prefix rule r: how deep a prefix walk must go. */
unsigned redirect_depth(const struct redirect *r);

/*
 * Parse an expiry: "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ"
 * (n bytes) into *t, unix seconds. Returns 0, or -1 (no such date).
 */
int redirects_expiry(const char *s, size_t n, uint64_t *t);

#define REDIRECTS_HOST_BUF 256 /* a section name: LOCATION_HOST_MAX + 1 */

/* A parsed map seen as a match source (redirects_view()). */
struct redirects_view {
	const struct redirect_map *m;
	unsigned below; /* only rules of a line below this */
	unsigned kinds; /* only rules of these kinds (bit 1 << kind) */
	int host_only;  /* a host's request sees its own section only */
	int cached, any;
	unsigned depth;
	char host[REDIRECTS_HOST_BUF]; /* the section last asked about */
};

/*
 * Set up src (match.h) to resolve requests against m, sorted as parsed,
 * through v: check and ingest ask match_resolve() the questions a
 * request would. below and kinds may change between resolves. Costs
 * nothing but setting fields (the map keeps its own account), so a
 * caller may set one up per rule.
 */
void redirects_view(const struct redirect_map *m, unsigned below,
                    unsigned kinds, struct redirects_view *v,
                    struct match_source *src);

/* Free the entries and zero m. */
void redirects_free(struct redirect_map *m);

#endif
