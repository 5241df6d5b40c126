/*
 * test_log.c - every log line is one JSON object on one line, however
 * long its values: a value cut at the line's limit still ends its string,
 * a field whose key does not fit is left out whole, "truncated":"1" says
 * so, neither an escape nor a UTF-8 sequence is ever split, and bytes
 * that are not UTF-8 are escaped.
 *
 * The lines are captured by pointing stderr at a temporary file around
 * each call, and checked by a small validator of the one shape log.c
 * writes: {"key":"value",...} with JSON's string escapes, valid UTF-8.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_BYTES 4096 /* LOG_LINE_MAX in log.c */

static char out[2 * LINE_MAX_BYTES];
static size_t outlen;

/* Start capturing stderr; returns the saved descriptor, or -1. */
static int
capture_begin(FILE **tmp)
{
	int saved;

	fflush(stderr);
	if ((*tmp = tmpfile()) == NULL || (saved = dup(STDERR_FILENO)) < 0)
		return -1;
	if (dup2(fileno(*tmp), STDERR_FILENO) < 0) {
		close(saved);
		return -1;
	}
	return saved;
}

/* Stop capturing; what was written is in out[0..outlen). */
static void
capture_end(FILE *tmp, int saved)
{
	fflush(stderr);
	(void)dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	outlen = fread(out, 1, sizeof(out) - 1, tmp);
	out[outlen] = '\0';
	fclose(tmp);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	len = s[0] >= 0xF0 && s[0] <= 0xF4   ? 4
	      : (s[0] & 0xF0) == 0xE0        ? 3
	      : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
	                                     : 0;
	if (len == 0 || len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* A JSON string at *p (after its opening quote); moves past the close. */
static int
json_string(const char **p, const char *end)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s != '"') {
		if ((unsigned char)*s < 0x20)
			return -1;
		if (*s == '\\') {
			if (s + 1 >= end || strchr("\"\\/bfnrtu", s[1]) == NULL)
				return -1;
			if (s[1] == 'u' &&
			    (end - s < 6 ||
			     strspn(s + 2, "0123456789abcdefABCDEF") < 4))
				return -1;
			s += s[1] == 'u' ? 6 : 2;
			continue;
		}
		if ((n = utf8_len((const unsigned char *)s,
		                  (size_t)(end - s))) == 0)
			return -1;
		s += n;
	}
	if (s >= end)
		return -1;
	*p = s + 1;
	return 0;
}

/* out holds exactly one line {"k":"v",...}\n of valid JSON. */
static int
one_json_line(void)
{
	const char *p = out, *end = out + outlen;

	if (outlen < 3 || outlen > LINE_MAX_BYTES || out[outlen - 1] != '\n' ||
	    memchr(out, '\n', outlen - 1) != NULL || *p++ != '{')
		return 0;
	for (;;) {
		if (*p++ != '"' || json_string(&p, end) != 0 || *p++ != ':' ||
		    *p++ != '"' || json_string(&p, end) != 0)
			return 0;
		if (*p == ',') {
			p++;
			continue;
		}
		return p[0] == '}' && p + 2 == end;
	}
}

struct row {
	unsigned line;
	const char *desc;
	size_t keylen, vallen; /* of the second field ("k..." = "v...") */
	const char *fill;      /* the value repeats this */
	int truncated;
};

static const struct row rows[] = {
	{ __LINE__, "short", 3, 10, "a", 0 },
	{ __LINE__, "a value that just fits", 3, 3900, "a", 0 },
	{ __LINE__, "a value cut in plain text", 3, 5000, "a", 1 },
	{ __LINE__, "a value of quotes cut between escapes", 3, 5000, "\"", 1 },
	{ __LINE__, "a value of CTLs cut between \\u escapes", 3, 5000, "\x01",
	  1 },
	{ __LINE__, "a 2-byte UTF-8 value", 3, 5000, "\xc3\xa9", 1 },
	{ __LINE__, "a 3-byte UTF-8 value", 3, 5000, "\xe2\x82\xac", 1 },
	{ __LINE__, "a 4-byte UTF-8 value", 3, 5000, "\xf0\x9f\x98\x80", 1 },
	{ __LINE__, "UTF-8 after one ASCII byte", 4, 5000, "x\xe2\x82\xac", 1 },
	{ __LINE__, "a key that does not fit", 5000, 3, "a", 1 },
	{ __LINE__, "bytes that are not UTF-8", 3, 40, "\xff\xfe\xc3", 0 },
	{ __LINE__, "an overlong '/'", 3, 40, "\xc0\xaf", 0 },
	{ __LINE__, "a surrogate", 3, 40, "\xed\xa0\x80", 0 },
	{ __LINE__, "above U+10FFFF", 3, 40, "\xf4\x90\x80\x80", 0 },
	{ __LINE__, "a lead byte without its tail", 3, 40,
	  "\xe2\x82"
	  "a",
	  0 },
	{ __LINE__, "bytes that are not UTF-8, cut", 3, 5000, "\xff", 1 },
};

static char *
repeat(const char *fill, size_t n)
{
	size_t f = strlen(fill), i;
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	for (i = 0; i + f <= n; i += f)
		memcpy(s + i, fill, f);
	s[i] = '\0';
	return s;
}

static void
test_rows(void)
{
	size_t i;

	log_set_level(SH_LOG_DEBUG);
	for (i = 0; i < NELEM(rows); i++) {
		const struct row *r = &rows[i];
		char *key = repeat("k", r->keylen),
		     *val = repeat(r->fill, r->vallen);
		FILE *tmp = NULL;
		int saved;

		if (key == NULL || val == NULL ||
		    (saved = capture_begin(&tmp)) < 0) {
			expect_true(r->line, r->desc, 0);
			free(key);
			free(val);
			continue;
		}
		log_fields(SH_LOG_WARN, "a message", key, val, "after", "tail",
		           (char *)NULL);
		capture_end(tmp, saved);
		expect_true(r->line, r->desc, one_json_line());
		expect_true(r->line, r->desc,
		            (strstr(out, "\"truncated\":\"1\"") != NULL) ==
		                    r->truncated);
		expect_true(r->line, r->desc,
		            strncmp(strchr(out, ','), ",\"level\":\"warn\"",
		                    15) == 0);
		expect_true(r->line, r->desc,
		            strstr(out, "\"msg\":\"a message\"") != NULL);
		/* A field after a cut one is left out, not half written. */
		expect_true(r->line, r->desc,
		            (strstr(out, "\"after\":\"tail\"") != NULL) ==
		                    !r->truncated);
		free(key);
		free(val);
	}
}

/* log_warn's message is cut as a value is, errno's text included. */
static void
test_long_message(void)
{
	char *msg = repeat("\xc3\xa9", 3000);
	FILE *tmp = NULL;
	int saved;

	if (msg == NULL || (saved = capture_begin(&tmp)) < 0) {
		expect_true(__LINE__, "set up", 0);
		free(msg);
		return;
	}
	errno = ENOENT;
	log_warn("%s", msg);
	capture_end(tmp, saved);
	expect_true(__LINE__, "one JSON line", one_json_line());
	expect_true(__LINE__, "errno is kept", errno == ENOENT);
	free(msg);
}

static const struct unit_test log_tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_long_message),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "log_line", NULL, NULL, log_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
