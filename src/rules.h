/*
 * rules.h - the pure, per-request half of redirect rules: which host a
 * request names, which paths no alias may take, and the Location a
 * matched rule answers with (splat substitution and query forwarding),
 * or a directory asked for without its trailing slash.
 *
 * Every function writes into a caller buffer and allocates nothing: the
 * handler calls them on every redirect (tests/unit/test_hotpath.c).
 *
 * Caveats: the path arguments are normalised request paths (path.h):
 * percent-decoded, without leading or trailing '/'. The splat is decoded
 * too, so rules_location() percent-encodes it again.
 */
#ifndef SHERVE_RULES_H
#define SHERVE_RULES_H

#include <stddef.h>

#define RULES_HOST_MAX 255

/*
 * Normalise a Host header value (or SERVER_NAME) into out: lower case,
 * port stripped, one trailing dot dropped, IPv6 brackets kept
 * ("[::1]:8080" -> "[::1]"). Returns the length, or -1 when in is NULL,
 * empty, too long or holds a character no host name has.
 */
int rules_host(const char *in, size_t len, char *out, size_t outsz);

/*
 * 1 if path (len bytes) is reserved for the site itself and never
 * answered by an alias: robots.txt, favicon.ico, and .well-known and
 * anything under it. ASCII case is ignored.
 */
int rules_reserved(const char *path, size_t len);

/* Copy len bytes of in to out (len + 1 bytes) with ASCII A-Z lowered. */
void rules_fold(const char *in, size_t len, char *out);

/*
 * Build the Location of a matched rule into out:
 *  - when splat is not NULL (a prefix rule), every ":splat" in target is
 *    replaced by the splat (splen bytes), percent-encoded as a path;
 *  - when query is not NULL and not empty, it is merged into the
 *    target's query before any '#fragment': the target's parameters
 *    come first, except those whose name the request also sends (the
 *    request's value wins), then the request's query as it came.
 * Bytes that are not ASCII (UTF-8 in a target or a raw query) are then
 * percent-encoded. Returns the length, or -1 when the result would exceed
 * outsz - 1 or REDIRECT_URL_MAX bytes, or would hold a control character.
 */
int rules_location(const char *target, const char *splat, size_t splen,
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
int rules_dir_location(const char *base, const char *dir, const char *query,
                       char *out, size_t outsz);

#endif
