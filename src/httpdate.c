/* httpdate.c - RFC 9110 dates; see httpdate.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "httpdate.h"

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed",
	                             "Thu", "Fri", "Sat" };
static const char *const long_wdays[] = { "Sunday",    "Monday",   "Tuesday",
	                                  "Wednesday", "Thursday", "Friday",
	                                  "Saturday" };
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

int
httpdate_format(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	if (bufsz < HTTPDATE_LEN || gmtime_r(&t, &tm) == NULL)
		return -1;
	/* The grammar has a 4DIGIT year: years 0 to 9999, zero-padded. */
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;
	/* Built by hand: strftime's %a/%b follow the locale. */
	if (snprintf(buf, bufsz, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	             wdays[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	             tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	             tm.tm_sec) != HTTPDATE_LEN - 1)
		return -1;
	return 0;
}

/* Read exactly n digits; advance *pp on success only. */
static int
digits(const char **pp, int n, int *out)
{
	const char *p = *pp;
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	*pp = p + n;
	return 0;
}

static int
month(const char **pp)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (strncmp(*pp, months[i], 3) == 0) {
			*pp += 3;
			return i;
		}
	}
	return -1;
}

static int
lit(const char **pp, const char *s)
{
	size_t n = strlen(s);

	if (strncmp(*pp, s, n) != 0)
		return -1;
	*pp += n;
	return 0;
}

static int
hms(const char **pp, struct tm *tm)
{
	if (digits(pp, 2, &tm->tm_hour) || lit(pp, ":") ||
	    digits(pp, 2, &tm->tm_min) || lit(pp, ":") ||
	    digits(pp, 2, &tm->tm_sec))
		return -1;
	return 0;
}

/*
 * The weekday token: "Sun" for IMF-fixdate and asctime, "Sunday" for
 * RFC 850. Returns 0, or -1 if s (len bytes) is neither.
 */
static int
weekday(const char *s, size_t len)
{
	int i;

	for (i = 0; i < 7; i++) {
		const char *w = len == 3 ? wdays[i] : long_wdays[i];

		if (strlen(w) == len && strncmp(s, w, len) == 0)
			return 0;
	}
	return -1;
}

/* Days in month mon (0-11) of year (since 1900), for "31 Feb". */
static int
month_days(int mon, int year)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30,
		                    31, 31, 30, 31, 30, 31 };
	int y = year + 1900;

	if (mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[mon];
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int
parse_imf(const char *p, struct tm *tm)
{
	if (lit(&p, " ") || digits(&p, 2, &tm->tm_mday) || lit(&p, " ") ||
	    (tm->tm_mon = month(&p)) < 0 || lit(&p, " ") ||
	    digits(&p, 4, &tm->tm_year) || lit(&p, " ") || hms(&p, tm) ||
	    lit(&p, " GMT") || *p != '\0')
		return -1;
	tm->tm_year -= 1900;
	return 0;
}

/* "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are 19xx/20xx. */
static int
parse_rfc850(const char *p, struct tm *tm)
{
	if (lit(&p, " ") || digits(&p, 2, &tm->tm_mday) || lit(&p, "-") ||
	    (tm->tm_mon = month(&p)) < 0 || lit(&p, "-") ||
	    digits(&p, 2, &tm->tm_year) || lit(&p, " ") || hms(&p, tm) ||
	    lit(&p, " GMT") || *p != '\0')
		return -1;
	if (tm->tm_year < 70)
		tm->tm_year += 100;
	return 0;
}

/* "Sun Nov  6 08:49:37 1994" */
static int
parse_asctime(const char *p, struct tm *tm)
{
	if (lit(&p, " ") || (tm->tm_mon = month(&p)) < 0 || lit(&p, " "))
		return -1;
	if (*p == ' ')
		p++;
	if (digits(&p, 2, &tm->tm_mday) != 0 && digits(&p, 1, &tm->tm_mday))
		return -1;
	if (lit(&p, " ") || hms(&p, tm) || lit(&p, " ") ||
	    digits(&p, 4, &tm->tm_year) || *p != '\0')
		return -1;
	tm->tm_year -= 1900;
	return 0;
}

int
httpdate_parse(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	size_t wl;
	int rc = -1;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strpbrk(s, ", ")) == NULL)
		return -1;
	wl = (size_t)(p - s);
	if (weekday(s, wl) != 0)
		return -1;
	if (wl == 3 && *p == ',')
		rc = parse_imf(p + 1, &tm);
	else if (wl > 3 && *p == ',')
		rc = parse_rfc850(p + 1, &tm);
	else if (wl == 3 && *p == ' ')
		rc = parse_asctime(p, &tm);
	if (rc != 0 || tm.tm_mday < 1 ||
	    tm.tm_mday > month_days(tm.tm_mon, tm.tm_year) || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	/* -1 is also 1969-12-31 23:59:59; only errno tells an overflow. */
	errno = 0;
	if ((t = timegm(&tm)) == (time_t)-1 && errno != 0)
		return -1;
	*out = t;
	return 0;
}
