/*
 * location.h - the pure, per-request half of an answer: which host a
 * request names, and the Location (or rewrite path) a matched rule
 * answers with: splat and placeholder substitution, query forwarding;
 * or the one that adds the slash a directory was asked for without.
 *
 * Every function writes into a caller buffer and allocates nothing: the
 * handler calls them on every redirect (tests/unit/test_hotpath.c).
 *
 * Caveats: the splat and placeholder values come from normalised request
 * paths (path.h), percent-decoded, so location_build() percent-encodes
 * them again; values from the query are decoded first, then encoded the
 * same way.
 */
#ifndef SHERVE_LOCATION_H
#define SHERVE_LOCATION_H

#include <stddef.h>

#include "match.h"

#define LOCATION_HOST_MAX 255

/*
 * Normalise a Host header value (or SERVER_NAME) into out: lower case,
 * port stripped, one trailing dot dropped, IPv6 brackets kept
 * ("[::1]:8080" -> "[::1]"). Returns the length, or -1 when in is NULL,
 * empty, too long or holds a character no host name has.
 */
int location_host(const char *in, size_t len, char *out, size_t outsz);

/* Copy len bytes of in to out (len + 1 bytes) with ASCII A-Z lowered. */
void location_fold(const char *in, size_t len, char *out);

/*
 * Build the Location of a matched rule into out:
 *  - with m not NULL, each ":name" in target that names one of m's
 *    captures (the longest name that fits) is replaced by its value,
 *    and, when m has a splat (a prefix or '*' rule), each ":splat" by
 *    the splat (and the request's trailing '/' when it belongs to the
 *    splat), percent-encoded as a path;
 *  - when query is not NULL and not empty, it is merged into the
 *    target's query before any '#fragment': the target's parameters
 *    come first, except those whose name the request also sends (the
 *    request's value wins), then the request's query as it came.
 * Bytes that are not ASCII (UTF-8 in a target or a raw query) are then
 * percent-encoded. Returns the length, or -1 when the result would exceed
 * outsz - 1 or REDIRECT_URL_MAX bytes, or would hold a control character.
 */
int location_build(const char *target, const struct match_result *m,
                   const char *query, char *out, size_t outsz);

/*
 * Build the Location that adds the missing '/' to a directory request:
 * base (the base-path, "" or "/go"), then dir (a normalised path, "" for
 * the base itself), both percent-encoded as a path, each followed by
 * '/', then "?query" as the request sent it (query may be NULL).
 * "/go", "a b" and "x=1" give "/go/a%20b/?x=1". The result never
 * starts with "//", which a browser would read as another host (dir
 * has no empty segment, base no "//"). Bytes that are not ASCII are
 * percent-encoded.
 * Returns the length, or -1 when the result would exceed outsz - 1 or
 * REDIRECT_URL_MAX bytes, or would hold a control character.
 */
int location_dir(const char *base, const char *dir, const char *query,
                 char *out, size_t outsz);

#endif
