/*
 * path.h - turn a REQUEST_URI into a safe path relative to the webroot.
 *
 * path_normalise() is pure: no I/O, no allocation, output into a caller
 * buffer. It rejects rather than repairs: ".." segments, dotfiles and
 * dot-directories, encoded slashes, NUL and control bytes and backslashes
 * are refused, so nothing it returns can name a file outside the webroot
 * or a hidden one. The output is also the redirect alias, because the
 * alias is the path with leading and trailing slashes trimmed.
 */
#ifndef SHERVE_PATH_H
#define SHERVE_PATH_H

#include <stddef.h>

enum path_rc {
	PATH_OK = 0,
	PATH_BAD_REQUEST, /* malformed percent-encoding or not origin-form: 400
	                   */
	PATH_NOT_FOUND, /* refused (traversal, dotfile, CTL, outside base): 404
	                 */
	PATH_TOO_LONG,  /* longer than the output buffer: 414 */
};

/*
 * uri:   REQUEST_URI, query string included or not.
 * base:  the mount prefix, "" or "/go" (no trailing slash).
 * out:   receives segments joined by '/', without leading or trailing '/';
 *        "" for the root. Always NUL-terminated when outsz > 0.
 * slash: set to 1 if the path ended in '/', else 0. May be NULL.
 * Returns an enum path_rc.
 */
int path_normalise(const char *uri, const char *base, char *out, size_t outsz,
                   int *slash);

#endif
