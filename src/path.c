/* path.c - REQUEST_URI to webroot-relative path; see path.h. */
#include "config.h"

#include <string.h>

#include "path.h"
#include "url.h"
#include "util.h"

/*
 * Decode uri (up to '?' or '#') once into buf. An encoded '/' is refused
 * because it would let one segment pose as two after decoding.
 */
static int
path_decode(const char *uri, char *buf, size_t bufsz, size_t *lenp)
{
	size_t i = 0, len = strcspn(uri, "?#"), n = 0;
	int refused = 0;

	while (i < len) {
		int escaped = uri[i] == '%', c = url_pct_next(uri, len, &i);

		if (c < 0)
			return PATH_BAD_REQUEST;
		if (escaped && c == '/')
			refused = 1;
		/* RFC 3986 has no raw CTLs; refuse NUL, CTL, DEL and '\'. */
		if (c < 0x20 || c == 0x7f || c == '\\')
			refused = 1;
		if (n + 1 >= bufsz)
			return PATH_TOO_LONG;
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	*lenp = n;
	return refused ? PATH_NOT_FOUND : PATH_OK;
}

/* Remove the mount prefix; the rest must start at a segment boundary. */
static int
path_strip_base(const char **pp, const char *base)
{
	size_t bl = strlen(base);

	if (bl == 0)
		return PATH_OK;
	if (strncmp(*pp, base, bl) != 0 ||
	    ((*pp)[bl] != '/' && (*pp)[bl] != '\0'))
		return PATH_NOT_FOUND;
	*pp += bl;
	return PATH_OK;
}

/* Copy the segments of p into out, dropping "." and empty ones. */
static int
path_segments(const char *p, char *out, size_t outsz, int *slash)
{
	size_t n = 0;

	*slash = 0;
	while (*p != '\0') {
		const char *seg = p, *end = strchr(p, '/');
		size_t sl = end != NULL ? (size_t)(end - seg) : strlen(seg);

		p = end != NULL ? end + 1 : seg + sl;
		*slash = end != NULL;
		if (sl == 0 || (sl == 1 && seg[0] == '.'))
			continue;
		/* "..", dotfiles and dot-directories are never served. */
		if (seg[0] == '.')
			return PATH_NOT_FOUND;
		if (n + (n > 0) + sl + 1 > outsz)
			return PATH_TOO_LONG;
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, seg, sl);
		n += sl;
		out[n] = '\0';
		*slash = end != NULL;
	}
	return PATH_OK;
}

int
path_normalise(const char *uri, const char *base, char *out, size_t outsz,
               int *slash)
{
	char dec[8192];
	const char *p = dec;
	size_t len;
	int rc, sl = 0;

	if (outsz == 0)
		return PATH_TOO_LONG;
	out[0] = '\0';
	if (uri == NULL || uri[0] == '\0')
		uri = "/";
	if (uri[0] != '/')
		return PATH_BAD_REQUEST;
	if ((rc = path_decode(uri, dec, sizeof(dec), &len)) != PATH_OK)
		return rc;
	if ((rc = path_strip_base(&p, base)) != PATH_OK)
		return rc;
	rc = path_segments(p, out, outsz, &sl);
	if (rc != PATH_OK)
		out[0] = '\0';
	if (slash != NULL)
		*slash = sl;
	return rc;
}
