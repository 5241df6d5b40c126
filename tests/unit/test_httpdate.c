/* test_httpdate.c - HTTP dates: format, the three parsed forms, junk. */
#include "unit.h"

#include <locale.h>

#include "httpdate.h"

#define T_RFC 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

struct fmt_row {
	unsigned line;
	const char *desc;
	long long t;
	const char *want;
};

static const struct fmt_row fmt_rows[] = {
	{ __LINE__, "RFC 9110 example", T_RFC,
	  "Sun, 06 Nov 1994 08:49:37 GMT" },
	{ __LINE__, "epoch", 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
	{ __LINE__, "leap day", 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
	{ __LINE__, "end of a year", 1704067199,
	  "Sun, 31 Dec 2023 23:59:59 GMT" },
	{ __LINE__, "32-bit limit", 2147483647,
	  "Tue, 19 Jan 2038 03:14:07 GMT" },
	{ __LINE__, "every month name", 1000000000,
	  "Sun, 09 Sep 2001 01:46:40 GMT" },
	{ __LINE__, "one second before the epoch", -1,
	  "Wed, 31 Dec 1969 23:59:59 GMT" },
	{ __LINE__, "a year before 1000 is zero-padded", -46372996800LL,
	  "Thu, 01 Jul 0500 12:00:00 GMT" },
	{ __LINE__, "the last four-digit year", 253402300799LL,
	  "Fri, 31 Dec 9999 23:59:59 GMT" },
};

static void
test_format(void)
{
	char buf[HTTPDATE_LEN];
	size_t i;

	for (i = 0; i < NELEM(fmt_rows); i++) {
		const struct fmt_row *r = &fmt_rows[i];

		memset(buf, 'X', sizeof(buf));
		expect_int(r->line, r->desc, 0,
		           httpdate_format((time_t)r->t, buf, sizeof(buf)));
		expect_str(r->line, r->desc, r->want, buf);
	}
}

static void
test_format_buffer(void)
{
	char buf[64];

	expect_int(__LINE__, "29 bytes is too small", -1,
	           httpdate_format(T_RFC, buf, HTTPDATE_LEN - 1));
	expect_int(__LINE__, "exactly HTTPDATE_LEN", 0,
	           httpdate_format(T_RFC, buf, HTTPDATE_LEN));
	expect_int(__LINE__, "exactly HTTPDATE_LEN", HTTPDATE_LEN - 1,
	           strlen(buf));
	expect_int(__LINE__, "zero size", -1, httpdate_format(T_RFC, buf, 0));
	expect_int(__LINE__, "year 10000 is refused", -1,
	           httpdate_format((time_t)253402300800LL, buf, sizeof(buf)));
}

/* Day and month names are English whatever the locale says. */
static void
test_format_locale(void)
{
	char buf[HTTPDATE_LEN];

	if (setlocale(LC_TIME, "de_DE.UTF-8") == NULL &&
	    setlocale(LC_TIME, "fr_FR.UTF-8") == NULL &&
	    setlocale(LC_TIME, "C.UTF-8") == NULL)
		setlocale(LC_TIME, "C");
	expect_int(__LINE__, "format under a locale", 0,
	           httpdate_format(T_RFC, buf, sizeof(buf)));
	expect_str(__LINE__, "format under a locale",
	           "Sun, 06 Nov 1994 08:49:37 GMT", buf);
	setlocale(LC_TIME, "C");
}

struct parse_row {
	unsigned line;
	const char *desc;
	const char *s;
	int rc;
	long long t; /* checked when rc is 0 */
};

static const struct parse_row parse_rows[] = {
	/* The three forms of RFC 9110 5.6.7. */
	{ __LINE__, "IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", 0, T_RFC },
	{ __LINE__, "RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", 0, T_RFC },
	{ __LINE__, "asctime, padded day", "Sun Nov  6 08:49:37 1994", 0,
	  T_RFC },
	{ __LINE__, "asctime, two-digit day", "Wed Nov 16 08:49:37 1994", 0,
	  T_RFC + 10 * 86400 },
	{ __LINE__, "asctime, zero-padded day", "Sun Nov 06 08:49:37 1994", 0,
	  T_RFC },
	{ __LINE__, "epoch", "Thu, 01 Jan 1970 00:00:00 GMT", 0, 0 },
	{ __LINE__, "before the epoch", "Wed, 31 Dec 1969 23:59:59 GMT", 0,
	  -1 },
	{ __LINE__, "leap day 2000", "Tue, 29 Feb 2000 00:00:00 GMT", 0,
	  951782400 },
	{ __LINE__, "leap day 2024", "Thu, 29 Feb 2024 12:00:00 GMT", 0,
	  1709208000 },
	{ __LINE__, "32-bit limit", "Tue, 19 Jan 2038 03:14:07 GMT", 0,
	  2147483647 },
	{ __LINE__, "RFC 850 year 70 is 1970",
	  "Thursday, 01-Jan-70 00:00:00 GMT", 0, 0 },
	{ __LINE__, "RFC 850 year 00 is 2000",
	  "Saturday, 01-Jan-00 00:00:00 GMT", 0, 946684800 },
	{ __LINE__, "RFC 850 Wednesday", "Wednesday, 09-Nov-94 08:49:37 GMT", 0,
	  T_RFC + 3 * 86400 },
	{ __LINE__, "each month: Dec", "Sat, 31 Dec 1994 00:00:00 GMT", 0,
	  788832000 },

	/* Not dates. */
	{ __LINE__, "NULL", NULL, -1, 0 },
	{ __LINE__, "empty", "", -1, 0 },
	{ __LINE__, "garbage", "yesterday at noon", -1, 0 },
	{ __LINE__, "a number", "784111777", -1, 0 },
	{ __LINE__, "weekday only", "Sun,", -1, 0 },
	{ __LINE__, "bad weekday", "Sux, 06 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "weekday in lower case", "sun, 06 Nov 1994 08:49:37 GMT",
	  -1, 0 },
	{ __LINE__, "long weekday with IMF body",
	  "Sunday, 06 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "short weekday with RFC 850 body",
	  "Sun, 06-Nov-94 08:49:37 GMT", -1, 0 },
	{ __LINE__, "RFC 850 made-up weekday",
	  "Sunxday, 06-Nov-94 08:49:37 GMT", -1, 0 },
	{ __LINE__, "RFC 850 truncated weekday", "Sund, 06-Nov-94 08:49:37 GMT",
	  -1, 0 },
	{ __LINE__, "RFC 850 weekday of another day",
	  "Sunmonday, 06-Nov-94 08:49:37 GMT", -1, 0 },
	{ __LINE__, "long weekday in asctime", "Sunday Nov  6 08:49:37 1994",
	  -1, 0 },
	{ __LINE__, "bad month", "Sun, 06 Nox 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "month in lower case", "Sun, 06 nov 1994 08:49:37 GMT", -1,
	  0 },
	{ __LINE__, "numeric month", "Sun, 06 11 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "hour 24", "Sun, 06 Nov 1994 24:00:00 GMT", -1, 0 },
	{ __LINE__, "hour 99", "Sun, 06 Nov 1994 99:49:37 GMT", -1, 0 },
	{ __LINE__, "minute 60", "Sun, 06 Nov 1994 08:60:37 GMT", -1, 0 },
	{ __LINE__, "second 61", "Sun, 06 Nov 1994 08:49:61 GMT", -1, 0 },
	{ __LINE__, "day 0", "Sun, 00 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "day 32", "Sun, 32 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "31 November", "Thu, 31 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "30 February", "Wed, 30 Feb 2000 00:00:00 GMT", -1, 0 },
	{ __LINE__, "29 February of a common year",
	  "Tue, 29 Feb 1994 00:00:00 GMT", -1, 0 },
	{ __LINE__, "29 February 1900", "Thu, 29 Feb 1900 00:00:00 GMT", -1,
	  0 },
	{ __LINE__, "single-digit day in IMF", "Sun, 6 Nov 1994 08:49:37 GMT",
	  -1, 0 },
	{ __LINE__, "two-digit year in IMF", "Sun, 06 Nov 94 08:49:37 GMT", -1,
	  0 },
	{ __LINE__, "single-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT", -1,
	  0 },
	{ __LINE__, "no seconds", "Sun, 06 Nov 1994 08:49 GMT", -1, 0 },
	{ __LINE__, "no zone", "Sun, 06 Nov 1994 08:49:37", -1, 0 },
	{ __LINE__, "UTC is not GMT", "Sun, 06 Nov 1994 08:49:37 UTC", -1, 0 },
	{ __LINE__, "numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000", -1, 0 },
	{ __LINE__, "gmt in lower case", "Sun, 06 Nov 1994 08:49:37 gmt", -1,
	  0 },
	{ __LINE__, "trailing junk", "Sun, 06 Nov 1994 08:49:37 GMTx", -1, 0 },
	{ __LINE__, "trailing space", "Sun, 06 Nov 1994 08:49:37 GMT ", -1, 0 },
	{ __LINE__, "trailing word", "Sun, 06 Nov 1994 08:49:37 GMT today", -1,
	  0 },
	{ __LINE__, "no space after comma", "Sun,06 Nov 1994 08:49:37 GMT", -1,
	  0 },
	{ __LINE__, "double space", "Sun,  06 Nov 1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "RFC 850 with spaces", "Sunday, 06 Nov 94 08:49:37 GMT", -1,
	  0 },
	{ __LINE__, "RFC 850 four-digit year",
	  "Sunday, 06-Nov-1994 08:49:37 GMT", -1, 0 },
	{ __LINE__, "asctime with zone", "Sun Nov  6 08:49:37 1994 GMT", -1,
	  0 },
	{ __LINE__, "asctime two-digit year", "Sun Nov  6 08:49:37 94", -1, 0 },
	{ __LINE__, "asctime trailing space", "Sun Nov  6 08:49:37 1994 ", -1,
	  0 },
	{ __LINE__, "asctime three spaces", "Sun Nov   6 08:49:37 1994", -1,
	  0 },
	{ __LINE__, "asctime comma", "Sun, Nov  6 08:49:37 1994", -1, 0 },
	{ __LINE__, "truncated", "Sun, 06 Nov 19", -1, 0 },
	{ __LINE__, "embedded CTL", "Sun, 06 Nov 1994 08:49:37\tGMT", -1, 0 },
};

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < NELEM(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];
		time_t t = 424242;
		int rc = httpdate_parse(r->s, &t);

		expect_int(r->line, r->desc, r->rc, rc);
		if (r->rc == 0 && rc == 0)
			expect_int(r->line, r->desc, r->t, (long long)t);
		if (r->rc != 0)
			expect_int(r->line, "output untouched on error", 424242,
			           (long long)t);
	}
}

/* format then parse gives the time back, across centuries. */
static void
test_round_trip(void)
{
	static const long long fixed[] = {
		-2208988800LL, /* 1900-01-01 */
		-1,
		0,
		1,
		T_RFC,
		951782400,
		1709208000,
		2147483647,
		2147483648LL,
		4102444800LL,
		253402300799LL, /* 9999-12-31 23:59:59 */
	};
	char buf[HTTPDATE_LEN], desc[64];
	long long t;
	size_t i;

	for (i = 0; i < NELEM(fixed); i++) {
		time_t back = 0;

		snprintf(desc, sizeof(desc), "round trip of %lld", fixed[i]);
		expect_int(__LINE__, desc, 0,
		           httpdate_format((time_t)fixed[i], buf, sizeof(buf)));
		expect_int(__LINE__, desc, 0, httpdate_parse(buf, &back));
		expect_int(__LINE__, desc, fixed[i], (long long)back);
	}
	/* An odd step walks every weekday, month, hour and leap year. */
	for (t = 0; t < 4102444800LL; t += 86400LL * 13 + 3607) {
		time_t back = 0;

		snprintf(desc, sizeof(desc), "round trip of %lld", t);
		if (httpdate_format((time_t)t, buf, sizeof(buf)) != 0 ||
		    httpdate_parse(buf, &back) != 0 || back != (time_t)t) {
			expect_int(__LINE__, desc, t, (long long)back);
			break;
		}
	}
	expect_true(__LINE__, "walk finished", t >= 4102444800LL);
}

static const struct unit_test date_tests[] = {
	UNIT_TEST(test_format),        UNIT_TEST(test_format_buffer),
	UNIT_TEST(test_format_locale), UNIT_TEST(test_parse),
	UNIT_TEST(test_round_trip),    UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "httpdate", NULL, NULL, date_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
