/* sniff.c - HTML and binary bodies told from redirects files; see sniff.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "sniff.h"

/* 1 if the n bytes at p hold needle, ASCII case folded. */
static int
has_ci(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	for (i = 0; i + k <= n; i++)
		if (strncasecmp(p + i, needle, k) == 0)
			return 1;
	return 0;
}

/*
 * HTML: the first byte that is not a blank or a UTF-8 byte order mark is
 * '<' (no alias of a redirects file starts so), and the head names a
 * document element, as every HTML page does in its first kilobytes.
 */
static int
looks_html(const char *p, size_t n)
{
	size_t i = 0;

	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	if (i == n || p[i] != '<')
		return 0;
	return has_ci(p + i, n - i, "<!doctype html") ||
	       has_ci(p + i, n - i, "<html") || has_ci(p + i, n - i, "<head") ||
	       has_ci(p + i, n - i, "<body");
}

/*
 * Binary: a NUL byte, or more than one byte in 32 a control character
 * other than tab, CR, LF and FF (a text file has none; compressed or
 * image data has about one in eight).
 */
static int
looks_binary(const char *p, size_t n)
{
	size_t i, ctl = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == 0)
			return 1;
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n' &&
		     c != '\f') ||
		    c == 0x7f)
			ctl++;
	}
	return ctl * 32 > n;
}

const char *
sniff_body(const char *buf, size_t len)
{
	size_t n = len < SNIFF_BYTES ? len : SNIFF_BYTES;

	if (looks_binary(buf, n))
		return "a binary file, not a redirects file";
	if (looks_html(buf, n))
		return "an HTML page, not a redirects file: use the raw URL";
	return NULL;
}
