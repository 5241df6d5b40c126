/*
 * test_sniff.c - bodies told apart: redirects files (gosherve and
 * _redirects, with a BOM, CRLF, a '#' comment, tabs) pass; HTML pages
 * (a doctype after blank lines, <html>, a BOM first, upper case) and
 * binary data (a NUL, many control characters) are refused with the
 * line that says what they are.
 */
#include "unit.h"

#include "sniff.h"

#define HTML "an HTML page, not a redirects file: use the raw URL"
#define BIN  "a binary file, not a redirects file"

struct row {
	unsigned line;
	const char *desc;
	const char *body;
	size_t len;       /* 0: strlen */
	const char *want; /* NULL: may be a redirects file */
};

static const struct row rows[] = {
	{ __LINE__, "gosherve lines", "go https://example.org/\n", 0, NULL },
	{ __LINE__, "empty", "", 0, NULL },
	{ __LINE__, "a comment first", "# map\r\ngo\thttps://e.org/ 302\r\n", 0,
	  NULL },
	{ __LINE__, "a BOM first", "\xef\xbb\xbfgo https://e.org/\n", 0, NULL },
	{ __LINE__, "a _redirects file", "/a /b 301\n/c/* /d/:splat\n", 0,
	  NULL },
	{ __LINE__, "an alias starting with '<', no element",
	  "<x https://e.org/\n", 0, NULL },
	{ __LINE__, "non-ASCII UTF-8",
	  "caf\xc3\xa9 https://e.org/caf\xc3\xa9\n", 0, NULL },
	{ __LINE__, "a form feed is text", "a https://e.org/\f\n", 0, NULL },
	{ __LINE__, "a Gist page", "\n\n\n<!DOCTYPE html>\n<html><head>", 0,
	  HTML },
	{ __LINE__, "<html> first", "<html lang=en><body>go x</body>", 0,
	  HTML },
	{ __LINE__, "upper case", "  <!DOCTYPE HTML>\r\n<HTML>", 0, HTML },
	{ __LINE__, "a BOM, then HTML", "\xef\xbb\xbf<!doctype html><p>", 0,
	  HTML },
	{ __LINE__, "a fragment with <body>", "<div>\n<body>", 0, HTML },
	{ __LINE__, "a NUL byte", "go https://e.org/\n\0rest", 22, BIN },
	{ __LINE__, "control characters, 1 in 8",
	  "ab\x01"
	  "defgh\x02"
	  "jklmn\x03"
	  "pqrst\x04"
	  "vwx",
	  24, BIN },
	{ __LINE__, "one control character in 40",
	  "go https://example.org/\x01 path and more", 0, NULL },
	{ __LINE__, "an HTML page with a NUL is binary", "<html>\0", 7, BIN },
};

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct row *r = &rows[i];
		size_t n = r->len != 0 ? r->len : strlen(r->body);

		expect_str(r->line, r->desc, r->want, sniff_body(r->body, n));
	}
}

/* Only the head is looked at: a NUL past SNIFF_BYTES is not seen. */
static void
test_head_only(void)
{
	static char buf[SNIFF_BYTES + 64];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i % 40 == 39 ? '\n' : 'a';
	buf[SNIFF_BYTES + 10] = '\0';
	expect_str(__LINE__, "a NUL past the head", NULL,
	           sniff_body(buf, sizeof(buf)));
	buf[SNIFF_BYTES - 10] = '\0';
	expect_str(__LINE__, "a NUL in the head", BIN,
	           sniff_body(buf, sizeof(buf)));
}

static const struct unit_test sniff_tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_head_only),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "sniff_body", NULL, NULL, sniff_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
