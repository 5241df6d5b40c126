/*
 * chain.h - chains and loops across a redirect map.
 *
 * A rule whose target is a URL on one of the site's own host names (the
 * hostnames setting, and every @host section name) or a path of the site
 * sends the visitor to a request that the same map may answer with
 * another redirect: a chain, two redirects where one would do. A chain
 * that comes back to a rule it passed is a loop, which answers forever:
 * refresh and import refuse a map with one (the last good map stays),
 * and `sherve check` reports both.
 *
 * The request a target makes is resolved as a request would be
 * (path_normalise(), match_resolve()), over the parsed map; a file of the
 * webroot answers first where it would (not for a forced rule), which
 * ends the chain. Only redirects (3xx) are followed; a rule whose own
 * target depends on the request (":splat", ":name") starts none.
 *
 * Caveats: pure but for the file check (a callback; chain_is_file()
 * opens files of the webroot). A chain of more than CHAIN_MAX rules is
 * reported as a loop.
 */
#ifndef SHERVE_CHAIN_H
#define SHERVE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "location.h"
#include "match.h"
#include "redirects.h"
#include "webroot.h"

#define CHAIN_MAX 16 /* rules in a chain; one more makes it a loop */

/* Whose requests are the site's own, and which files answer first. */
struct chain_opts {
	const char *hostnames; /* names, separated by ',' or blanks */
	/* 1 if a file of the webroot answers rel (path.h); NULL: none */
	int (*is_file)(void *ctx, const char *rel, int slash);
	void *ctx;
	unsigned redirect_status; /* a rule without its own status */
	int merge_query;          /* forward-query = merge */
	uint64_t now;             /* for expiry: an expired rule ends it */
};

enum chain_kind { CHAIN_NONE = 0, CHAIN_CHAIN, CHAIN_LOOP };

/* Where rule start leads: the rules passed, and the final target. */
struct chain {
	const struct redirect *hop[CHAIN_MAX + 1]; /* hop[0] is start */
	size_t n;                                  /* rules in hop[] */
	char target[REDIRECT_URL_MAX + 1]; /* the URL the visitor ends on */
	unsigned status;                   /* the first rule's */
	char host[LOCATION_HOST_MAX + 1];  /* the host the visitor is on */
	unsigned mapflags;                 /* MATCH_ORDERED: names rules */
	/* The request of the last hop followed, and 1 if its rule is not
	 * forced: a file of the webroot there would answer first and end
	 * a loop (chain_hint()). */
	char via[REDIRECT_URL_MAX + 1];
	int via_slash, via_file;
};

/*
 * The request url (a rule's target) makes: a path (on cur_host, the
 * host of the request that got it; NULL: none known), or a URL's host
 * and path. Fills rq (the path normalised into rel, relsz bytes)
 * and host. Returns 1 if it is the site's own (a path, a host of
 * o->hostnames or of a section of m), 0 for another host's, -1 when it
 * names no request (another scheme, a path a request cannot have).
 */
int chain_target(const struct redirect_map *m, const struct chain_opts *o,
                 const char *url, const char *cur_host,
                 char host[LOCATION_HOST_MAX + 1], char *rel, size_t relsz,
                 struct match_request *rq);

/*
 * Follow rule start of m (sorted, as parsed) through m. Fills c and
 * returns CHAIN_NONE (its target is no rule's), CHAIN_CHAIN (c->n > 1)
 * or CHAIN_LOOP (it comes back to a rule it passed).
 */
enum chain_kind chain_follow(const struct redirect_map *m,
                             const struct chain_opts *o,
                             const struct redirect *start, struct chain *c);

/* A file check over the webroot for chain_opts.is_file (ctx). */
struct chain_files {
	const char *webroot; /* "" : no files */
	struct webroot w;
};

/* chain_opts.is_file over the webroot of ctx (a struct chain_files). */
int chain_is_file(void *ctx, const char *rel, int slash);

/*
 * The options of settings c: hostnames, forward-query, redirect-status,
 * now, and files from c's webroot through f (chain_files_close() it).
 */
void chain_opts_of(const struct conf *c, struct chain_files *f,
                   struct chain_opts *o);

/* Close what f holds open. */
void chain_files_close(struct chain_files *f);

/*
 * Print c as "a -> b -> https://..." into out (outsz bytes, truncated
 * with "..."): each rule as its map writes it ("/a" in a "_redirects"
 * map, "a" in a gosherve one, a host rule's with "https://HOST/").
 */
void chain_format(const struct chain *c, enum chain_kind k, char *out,
                  size_t outsz);

/*
 * What would end loop c, for its error: " (no file of the webroot
 * answers /PATH first)" when the rule that closes the loop yields to a
 * file (a _redirects rule without '!', where a site built with its
 * pages ends it), else "". Into out (outsz bytes).
 */
void chain_hint(const struct chain *c, char *out, size_t outsz);

#endif
