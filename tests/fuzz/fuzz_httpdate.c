/*
 * fuzz_httpdate.c - httpdate_parse() and httpdate_format(): what parses
 * is one of the three RFC 9110 forms, and every date sherve writes reads
 * back as the same second.
 *
 * Input: the header value. Its first 8 bytes, read as a big-endian time_t,
 * also drive httpdate_format().
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "httpdate.h"

/* 9999-12-31T23:59:59Z: the last four-digit year. */
#define T_MAX 253402300799LL
/* 0000-01-01T00:00:00Z: "4DIGIT" admits years 0000 to 0999 too. */
#define T_PARSE_MIN (-62167219200LL)

static void
round_trip(time_t t)
{
	char buf[HTTPDATE_LEN], again[HTTPDATE_LEN];
	time_t t2 = 0;

	/* Years 0000 to 9999 are written, zero-padded; others refused. */
	if (httpdate_format(t, buf, sizeof(buf)) != 0) {
		FUZZ_ASSERT((long long)t < T_PARSE_MIN || (long long)t > T_MAX);
		return;
	}
	FUZZ_ASSERT((long long)t >= T_PARSE_MIN && (long long)t <= T_MAX);
	FUZZ_ASSERT(strlen(buf) == HTTPDATE_LEN - 1);
	FUZZ_ASSERT(httpdate_parse(buf, &t2) == 0 && t2 == t);
	FUZZ_ASSERT(httpdate_format(t2, again, sizeof(again)) == 0);
	FUZZ_ASSERT(strcmp(buf, again) == 0);
	/* A short buffer is refused, never overrun. */
	FUZZ_ASSERT(httpdate_format(t, again, HTTPDATE_LEN - 1) == -1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t raw = 0;
	time_t t = 0;
	size_t len, i;
	char *s;

	if ((s = fuzz_cstr(data, size)) == NULL)
		return 0;
	len = strlen(s);
	if (httpdate_parse(s, &t) == 0) {
		/* asctime is 24 bytes (23 with the lenient "Nov 6"),
		 * IMF-fixdate 29, RFC 850 30 to 33. */
		FUZZ_ASSERT(len >= 23 && len <= 33);
		FUZZ_ASSERT((long long)t >= T_PARSE_MIN &&
		            (long long)t <= T_MAX + 1); /* a leap second */
		round_trip(t);
	}
	for (i = 0; i < 8 && i < size; i++)
		raw = raw << 8 | data[i];
	round_trip((time_t)raw);
	free(s);
	return 0;
}
