/* range.c - single byte-range parsing; see range.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "range.h"

/* Digits only, no sign, no overflow; advances *pp on success. */
static int
range_num(const char **pp, uint64_t *out)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*pp = p;
	return 0;
}

static const char *
ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int
range_parse(const char *hdr, uint64_t size, uint64_t *first, uint64_t *len)
{
	const char *p;
	uint64_t a = 0, b = 0;
	int has_a, has_b;

	/* RFC 9110 14.1: range unit names are case-insensitive. */
	if (hdr == NULL || strncasecmp(hdr, "bytes=", 6) != 0)
		return RANGE_NONE;
	p = ows(hdr + 6);
	has_a = range_num(&p, &a) == 0;
	if (*p++ != '-')
		return RANGE_NONE;
	has_b = range_num(&p, &b) == 0;
	p = ows(p);
	if (*p != '\0' || (!has_a && !has_b))
		return RANGE_NONE; /* a list, trailing junk, or "-" */
	if (has_a && has_b && b < a)
		return RANGE_NONE; /* invalid spec: ignore the header */
	if (!has_a) {
		/* suffix-range: the last b bytes; "-0" is unsatisfiable */
		if (b == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		a = b >= size ? 0 : size - b;
		b = size - 1;
	} else {
		if (a >= size)
			return RANGE_UNSATISFIABLE;
		if (!has_b || b >= size)
			b = size - 1;
	}
	*first = a;
	*len = b - a + 1;
	return RANGE_OK;
}
