/*
 * redirects.h - parse the redirects file: a superset of gosherve's
 * "alias URL" lines, or a Netlify/Cloudflare "_redirects" file.
 *
 * The format is documented in sherve.redirects(5). In short: blank lines
 * and lines starting with '#' are ignored, fields are separated by runs
 * of spaces or tabs, CRLF line ends are accepted, and a line is
 *
 *     alias URL [STATUS]      STATUS: 301, 302, 303, 307 or 308
 *     docs/\* URL [STATUS]    a prefix rule; ":splat" in URL is the rest
 *     * URL [STATUS]          the catch-all prefix rule
 *     @host example.org       rules below apply to that Host only
 *     @host *                 back to the default section
 *
 * Leading and trailing '/' of an alias are trimmed, as they are of
 * request paths. An invalid line is skipped and reported with its number
 * (wrong field count, a target that is not absolute http(s), a control
 * character, an over-long alias or URL, a self-loop, ...). When a rule
 * appears twice (same host, same kind, same alias) the first line wins.
 *
 * In the "_redirects" format (REDIRECTS_NETLIFY) the same parser runs,
 * and what sherve cannot do exactly is skipped with a warning, never
 * approximated: placeholders (":name" segments), '*' anywhere but at the
 * end, status 200/404/410/451, forced rules ("301!"), conditions
 * (Country=, Language=, Role=), query-parameter matching, and rules that
 * first-match order would never reach or would reach differently than
 * sherve's exact-then-longest-prefix order. A "from" that is a full URL
 * (https://host/path) is a rule of that host's section.
 *
 * Caveats: pure; no I/O. The map owns its strings.
 */
#ifndef SHERVE_REDIRECTS_H
#define SHERVE_REDIRECTS_H

#include <stddef.h>

#include "match.h"

#define REDIRECT_ALIAS_MAX 500  /* LMDB's key limit is 511 bytes */
#define REDIRECT_URL_MAX   8192 /* the longest Location sherve sends */
#define REDIRECT_KEY_MAX   511  /* host, NUL and alias, as stored */
#define REDIRECT_DEPTH_MAX 32   /* segments of the longest prefix rule */

enum redirects_format {
	REDIRECTS_AUTO = 0, /* by name, see redirects_format_for() */
	REDIRECTS_GOSHERVE,
	REDIRECTS_NETLIFY, /* "_redirects" */
};

enum redirect_kind {
	REDIRECT_EXACT = 0,
	REDIRECT_PREFIX = 1,
	REDIRECT_PATTERN = 2, /* placeholders, '*' inside, query conditions */
};

struct redirect {
	char *alias; /* as listed: "go", "docs/\*", or "*": the catch-all */
	char *url;
	unsigned line;
	char *host;            /* NULL: the default section */
	unsigned char kind;    /* enum redirect_kind */
	unsigned short status; /* 301..308, or 0: redirect-status */
};

struct redirect_map {
	/* sorted by kind, host, then alias in LMDB key order */
	struct redirect *v;
	size_t n, cap;
	unsigned invalid;    /* lines skipped */
	unsigned duplicates; /* later lines of a repeated rule */
};

struct redirects_opts {
	enum redirects_format format; /* AUTO parses as GOSHERVE */
	int fold_case;                /* alias-case = insensitive */
	int allow_relative;           /* allow-relative-targets = yes */
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

/* 1 if url (len bytes) is an absolute http or https URL with a host. */
int redirects_url_ok(const char *url, size_t len);

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
 * "/" "*"), or NULL.
 */
const struct redirect *redirects_find(const struct redirect_map *m,
                                      unsigned kind, const char *host,
                                      const char *key, size_t n);

/* Bytes of r->alias that are its stored key: "docs/\*" -> 4, "*" -> 0. */
size_t redirect_key_len(const struct redirect *r);

/* 1 + the segments of prefix rule r: how deep a prefix walk must go. */
unsigned redirect_depth(const struct redirect *r);

#define REDIRECTS_HOST_BUF 256 /* a section name: LOCATION_HOST_MAX + 1 */

/* A parsed map seen as a match source (redirects_view()). */
struct redirects_view {
	const struct redirect_map *m;
	unsigned below; /* only rules of a line below this */
	unsigned kinds; /* only rules of these kinds (bit 1 << kind) */
	int cached, any;
	unsigned depth;
	char host[REDIRECTS_HOST_BUF]; /* the section last asked about */
};

/*
 * Set up src (match.h) to resolve requests against m, sorted as parsed,
 * through v: check and ingest ask match_resolve() the questions a
 * request would. below and kinds may change between resolves.
 */
void redirects_view(const struct redirect_map *m, unsigned below,
                    unsigned kinds, struct redirects_view *v,
                    struct match_source *src);

/* Free the entries and zero m. */
void redirects_free(struct redirect_map *m);

#endif
