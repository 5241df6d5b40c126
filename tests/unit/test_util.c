/*
 * test_util.c - the shared helpers of util.c that have no other home in
 * a test: json_escape(), behind the JSON log lines and the JSON report of
 * `sherve check --probe`.
 */
#include "unit.h"

#include "util.h"

struct sink {
	char buf[256];
	size_t len;
	unsigned calls, fail_at; /* fail_at: the call that fails, 0: none */
};

static int
sink_put(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	if (++s->calls == s->fail_at || s->len + n >= sizeof(s->buf))
		return -1;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static const struct {
	unsigned line;
	const char *desc, *in, *want;
	unsigned calls; /* pieces handed to put */
} rows[] = {
	{ __LINE__, "empty", "", "", 0 },
	{ __LINE__, "plain, one run", "https://a.example/x?y=1",
	  "https://a.example/x?y=1", 1 },
	{ __LINE__, "quote and backslash", "a\"b\\c", "a\\\"b\\\\c", 5 },
	{ __LINE__, "controls as \\u00XX", "\n\t\x01\x1f",
	  "\\u000a\\u0009\\u0001\\u001f", 4 },
	{ __LINE__, "DEL", "x\x7fy", "x\\u007fy", 3 },
	{ __LINE__, "UTF-8 as it is", "caf\xc3\xa9 \xe2\x82\xac",
	  "caf\xc3\xa9 \xe2\x82\xac", 1 },
	{ __LINE__, "a byte that is not UTF-8 as \\u00XX",
	  "a\xff"
	  "b",
	  "a\\u00ffb", 3 },
	{ __LINE__, "an overlong form and a surrogate are not UTF-8",
	  "\xc0\xaf\xed\xa0\x80", "\\u00c0\\u00af\\u00ed\\u00a0\\u0080", 5 },
	{ __LINE__, "a sequence cut by the end of the string", "x\xe2\x82",
	  "x\\u00e2\\u0082", 3 },
	{ __LINE__, "a forged log field stays a string",
	  "x\",\"level\":\"error", "x\\\",\\\"level\\\":\\\"error", 9 },
};

static void
test_json_escape(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct sink s = { "", 0, 0, 0 };

		expect_int(rows[i].line, rows[i].desc, 0,
		           json_escape(rows[i].in, sink_put, &s));
		expect_str(rows[i].line, rows[i].desc, rows[i].want, s.buf);
		expect_int(rows[i].line, rows[i].desc, rows[i].calls, s.calls);
	}
}

/* A sink that stops (a full log line, a closed stdout) stops it. */
static void
test_json_escape_stop(void)
{
	struct sink s = { "", 0, 0, 2 };

	expect_int(__LINE__, "stopped at the second piece", -1,
	           json_escape("ab\"cd\"ef", sink_put, &s));
	expect_str(__LINE__, "only the first piece written", "ab", s.buf);
	expect_int(__LINE__, "no call after the refusal", 2, s.calls);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_json_escape),
	UNIT_TEST(test_json_escape_stop),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "util", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
