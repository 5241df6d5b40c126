/* encoding.c - Accept-Encoding parsing; see encoding.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "encoding.h"

/*
 * Parse "q=0.5" style weights into thousandths; returns 1000 when absent
 * and -1 when malformed (a malformed member is ignored).
 */
static int
qvalue(const char *p, const char *end)
{
	int q = 0, digits = 0;

	while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
		p++;
	if (p == end)
		return 1000;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return -1;
	p += 2;
	if (*p == '1')
		return 1000;
	if (*p != '0')
		return -1;
	if (++p < end && *p == '.')
		for (p++; p < end && *p >= '0' && *p <= '9' && digits < 3;
		     p++, digits++)
			q = q * 10 + (*p - '0');
	while (digits++ < 3)
		q *= 10;
	return q;
}

unsigned
encoding_accepted(const char *ae)
{
	int br = -1, gz = -1, star = -1;
	const char *p = ae;

	if (ae == NULL)
		return 0;
	while (*p != '\0') {
		const char *end = strchr(p, ','), *semi;
		size_t tl;
		int q;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		tl = (size_t)((semi != NULL ? semi : end) - p);
		while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
			tl--;
		q = qvalue(semi != NULL ? semi : end, end);
		if (q >= 0) {
			if (tl == 2 && strncasecmp(p, "br", 2) == 0)
				br = q;
			else if ((tl == 4 && strncasecmp(p, "gzip", 4) == 0) ||
			         (tl == 6 && strncasecmp(p, "x-gzip", 6) == 0))
				gz = q;
			else if (tl == 1 && *p == '*')
				star = q;
		}
		p = *end == ',' ? end + 1 : end;
	}
	if (br < 0)
		br = star;
	if (gz < 0)
		gz = star;
	return (br > 0 ? 1u << ENC_BR : 0) | (gz > 0 ? 1u << ENC_GZIP : 0);
}

const char *
encoding_suffix(enum encoding e)
{
	return e == ENC_BR ? ".br" : e == ENC_GZIP ? ".gz" : "";
}

const char *
encoding_token(enum encoding e)
{
	return e == ENC_BR ? "br" : e == ENC_GZIP ? "gzip" : "";
}
