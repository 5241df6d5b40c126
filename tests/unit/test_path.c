/* test_path.c - path_normalise(): rows, limits and invariants. */
#include "unit.h"

#include <stdlib.h>

#include "path.h"

#define OUTSZ 256

struct row {
	unsigned line;
	const char *desc;
	const char *uri;
	const char *base;
	int rc;
	const char *out; /* checked when rc is PATH_OK */
	int slash;       /* checked when rc is PATH_OK */
};

static const struct row rows[] = {
	/* Plain paths. */
	{ __LINE__, "root", "/", "", PATH_OK, "", 1 },
	{ __LINE__, "empty URI is the root", "", "", PATH_OK, "", 1 },
	{ __LINE__, "NULL URI is the root", NULL, "", PATH_OK, "", 1 },
	{ __LINE__, "one segment", "/a", "", PATH_OK, "a", 0 },
	{ __LINE__, "two segments", "/a/b", "", PATH_OK, "a/b", 0 },
	{ __LINE__, "trailing slash", "/a/b/", "", PATH_OK, "a/b", 1 },
	{ __LINE__, "file name", "/css/site.css", "", PATH_OK, "css/site.css",
	  0 },
	{ __LINE__, "repeated slashes", "//a///b", "", PATH_OK, "a/b", 0 },
	{ __LINE__, "repeated trailing slashes", "/a//", "", PATH_OK, "a", 1 },
	{ __LINE__, "dot segment first", "/./a", "", PATH_OK, "a", 0 },
	{ __LINE__, "dot segments inside", "/a/./b/./", "", PATH_OK, "a/b", 1 },
	{ __LINE__, "dot segment last", "/a/.", "", PATH_OK, "a", 0 },
	{ __LINE__, "dots inside a name", "/a..b", "", PATH_OK, "a..b", 0 },
	{ __LINE__, "dot at the end of a name", "/a.", "", PATH_OK, "a.", 0 },
	{ __LINE__, "raw UTF-8", "/caf\xc3\xa9", "", PATH_OK, "caf\xc3\xa9",
	  0 },

	/* Query and fragment. */
	{ __LINE__, "query stripped", "/a?x=/../", "", PATH_OK, "a", 0 },
	{ __LINE__, "query after slash", "/a/?q=1", "", PATH_OK, "a", 1 },
	{ __LINE__, "query only", "/?%zz", "", PATH_OK, "", 1 },
	{ __LINE__, "fragment stripped", "/a#/../x", "", PATH_OK, "a", 0 },
	{ __LINE__, "bad escape in query ignored", "/a?%", "", PATH_OK, "a",
	  0 },

	/* Percent-decoding, once. */
	{ __LINE__, "%61 decodes", "/%61", "", PATH_OK, "a", 0 },
	{ __LINE__, "upper-case hex", "/%4A%4b", "", PATH_OK, "JK", 0 },
	{ __LINE__, "decoded once only", "/%2561", "", PATH_OK, "%61", 0 },
	{ __LINE__, "space", "/a%20b", "", PATH_OK, "a b", 0 },
	{ __LINE__, "UTF-8 escapes", "/caf%C3%A9", "", PATH_OK, "caf\xc3\xa9",
	  0 },
	{ __LINE__, "encoded ? is a name byte", "/a%3fb", "", PATH_OK, "a?b",
	  0 },
	{ __LINE__, "bad hex", "/%zz", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "one hex digit", "/%4", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "lone percent", "/%", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "percent at the end", "/a%", "", PATH_BAD_REQUEST, NULL,
	  0 },
	{ __LINE__, "second digit bad", "/%4g", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "first digit bad", "/%g4", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "bad escape after a refusal", "/%2f%zz", "",
	  PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "encoded slash", "/a%2fb", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded slash upper", "/a%2Fb", "", PATH_NOT_FOUND, NULL,
	  0 },
	{ __LINE__, "encoded NUL", "/%00", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded NUL before a suffix", "/index.html%00.txt", "",
	  PATH_NOT_FOUND, NULL, 0 },

	/* Control characters and backslashes. */
	{ __LINE__, "raw CTL", "/a\x01b", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "raw tab", "/a\tb", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "raw DEL", "/a\x7f", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "raw ESC", "/\x1b[31m", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded LF", "/a%0a", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded CR", "/a%0D", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded DEL", "/a%7f", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "backslash", "/a\\b", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "backslash traversal", "/..\\..\\etc\\passwd", "",
	  PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded backslash", "/a%5cb", "", PATH_NOT_FOUND, NULL,
	  0 },

	/* Traversal and hidden files. */
	{ __LINE__, "dot-dot", "/..", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "dot-dot slash", "/../", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "above the root", "/../etc/passwd", "", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "dot-dot inside", "/a/../b", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "dot-dot last", "/a/..", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "encoded dot-dot", "/%2e%2e/etc/passwd", "", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "encoded dot-dot upper", "/%2E%2E", "", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "half-encoded dot-dot", "/.%2e/x", "", PATH_NOT_FOUND, NULL,
	  0 },
	{ __LINE__, "dot-dot between slash runs", "//..//x", "", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "three dots", "/...", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "dot-directory", "/.git/config", "", PATH_NOT_FOUND, NULL,
	  0 },
	{ __LINE__, "dotfile", "/.htaccess", "", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "nested dotfile", "/a/.hidden", "", PATH_NOT_FOUND, NULL,
	  0 },
	{ __LINE__, "encoded dotfile", "/%2ehtpasswd", "", PATH_NOT_FOUND, NULL,
	  0 },
	{ __LINE__, "well-known is a dot-directory", "/.well-known/x", "",
	  PATH_NOT_FOUND, NULL, 0 },

	/* Base path. */
	{ __LINE__, "base itself", "/go", "/go", PATH_OK, "", 0 },
	{ __LINE__, "base with slash", "/go/", "/go", PATH_OK, "", 1 },
	{ __LINE__, "under base", "/go/x", "/go", PATH_OK, "x", 0 },
	{ __LINE__, "deep under base", "/go/x/y/", "/go", PATH_OK, "x/y", 1 },
	{ __LINE__, "base with query", "/go?x", "/go", PATH_OK, "", 0 },
	{ __LINE__, "base matched after decoding", "/g%6f/x", "/go", PATH_OK,
	  "x", 0 },
	{ __LINE__, "base prefix of a segment", "/gopher", "/go",
	  PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "outside base", "/x", "/go", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "root outside base", "/", "/go", PATH_NOT_FOUND, NULL, 0 },
	{ __LINE__, "base is case-sensitive", "/GO/x", "/go", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "double slash before base", "//go/x", "/go", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "traversal under base", "/go/../x", "/go", PATH_NOT_FOUND,
	  NULL, 0 },
	{ __LINE__, "two-segment base", "/a/b/c", "/a/b", PATH_OK, "c", 0 },

	/* Not origin-form. */
	{ __LINE__, "absolute-form", "http://x/", "", PATH_BAD_REQUEST, NULL,
	  0 },
	{ __LINE__, "relative", "x", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "asterisk-form", "*", "", PATH_BAD_REQUEST, NULL, 0 },
	{ __LINE__, "query only, no slash", "?a", "", PATH_BAD_REQUEST, NULL,
	  0 },
};

/*
 * What nothing path_normalise accepts may break: no leading or trailing
 * '/', no empty, "." or ".." segment, no dotfile, no CTL or backslash.
 */
static int
safe_output(const char *out)
{
	const char *seg = out, *end;

	if (out[0] == '\0')
		return 1;
	if (out[0] == '/' || out[0] == '.' || out[strlen(out) - 1] == '/')
		return 0;
	while (*seg != '\0') {
		end = strchr(seg, '/');
		if (end == NULL)
			end = seg + strlen(seg);
		if (end == seg || seg[0] == '.')
			return 0;
		seg = *end != '\0' ? end + 1 : end;
	}
	for (seg = out; *seg != '\0'; seg++)
		if ((unsigned char)*seg < 0x20 || *seg == 0x7f || *seg == '\\')
			return 0;
	return 1;
}

static void
test_rows(void)
{
	char out[OUTSZ];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct row *r = &rows[i];
		int slash = -1, rc;

		memset(out, 'X', sizeof(out));
		rc = path_normalise(r->uri, r->base, out, sizeof(out), &slash);
		expect_int(r->line, r->desc, r->rc, rc);
		expect_true(r->line, r->desc, memchr(out, '\0', sizeof(out)));
		if (rc != PATH_OK) {
			/* Nothing half-built is left behind on refusal. */
			expect_str(r->line, r->desc, "", out);
			continue;
		}
		if (r->rc == PATH_OK) {
			expect_str(r->line, r->desc, r->out, out);
			expect_int(r->line, r->desc, r->slash, slash);
		}
		expect_true(r->line, r->desc, safe_output(out));
	}
}

static void
test_slash_may_be_null(void)
{
	char out[OUTSZ];

	expect_int(__LINE__, "NULL slash pointer", PATH_OK,
	           path_normalise("/a/b/", "", out, sizeof(out), NULL));
	expect_str(__LINE__, "NULL slash pointer", "a/b", out);
}

struct size_row {
	unsigned line;
	const char *desc;
	const char *uri;
	size_t outsz;
	int rc;
	const char *out;
};

static const struct size_row size_rows[] = {
	{ __LINE__, "outsz 0", "/", 0, PATH_TOO_LONG, NULL },
	{ __LINE__, "root fits in 1", "/", 1, PATH_OK, "" },
	{ __LINE__, "one byte needs 2", "/a", 1, PATH_TOO_LONG, "" },
	{ __LINE__, "one byte in 2", "/a", 2, PATH_OK, "a" },
	{ __LINE__, "abc needs 4", "/abc", 3, PATH_TOO_LONG, "" },
	{ __LINE__, "abc in 4", "/abc", 4, PATH_OK, "abc" },
	{ __LINE__, "separator counts", "/a/b", 3, PATH_TOO_LONG, "" },
	{ __LINE__, "a/b in 4", "/a/b", 4, PATH_OK, "a/b" },
	{ __LINE__, "dropped segments do not count", "/./a//./b/", 4, PATH_OK,
	  "a/b" },
	{ __LINE__, "escapes count decoded", "/%61%62%63", 4, PATH_OK, "abc" },
};

static void
test_sizes(void)
{
	char out[16];
	size_t i;

	for (i = 0; i < NELEM(size_rows); i++) {
		const struct size_row *r = &size_rows[i];
		int rc;

		memset(out, 'X', sizeof(out));
		rc = path_normalise(r->uri, "", out, r->outsz, NULL);
		expect_int(r->line, r->desc, r->rc, rc);
		if (r->outsz == 0)
			expect_int(r->line, "outsz 0 writes nothing", 'X',
			           out[0]);
		else
			expect_str(r->line, r->desc, r->out, out);
	}
}

/* Build "/" + n bytes of c, optionally followed by tail. */
static char *
long_uri(size_t n, char c, const char *tail)
{
	size_t tl = strlen(tail);
	char *u = malloc(n + tl + 2);

	if (u == NULL)
		return NULL;
	u[0] = '/';
	memset(u + 1, c, n);
	memcpy(u + 1 + n, tail, tl + 1);
	return u;
}

static void
test_long_uris(void)
{
	char *out = malloc(65536), *u;
	int rc;

	require_true(__LINE__, "malloc", out != NULL);

	u = long_uri(65536, 'a', "");
	require_true(__LINE__, "malloc", u != NULL);
	rc = path_normalise(u, "", out, 65536, NULL);
	expect_int(__LINE__, "64 KiB URI", PATH_TOO_LONG, rc);
	expect_str(__LINE__, "64 KiB URI leaves empty output", "", out);
	free(u);

	/* 300 bytes fit a 4 KiB buffer but not a 256-byte one. */
	u = long_uri(300, 'b', "");
	require_true(__LINE__, "malloc", u != NULL);
	expect_int(__LINE__, "300 bytes into 256", PATH_TOO_LONG,
	           path_normalise(u, "", out, 256, NULL));
	expect_int(__LINE__, "300 bytes into 4096", PATH_OK,
	           path_normalise(u, "", out, 4096, NULL));
	expect_int(__LINE__, "300 bytes into 4096", 300, strlen(out));
	free(u);

	/* A long query string is not part of the path. */
	u = long_uri(10, 'c', "?");
	require_true(__LINE__, "malloc", u != NULL);
	{
		size_t n = strlen(u);
		char *q = realloc(u, n + 60001);

		require_true(__LINE__, "realloc", q != NULL);
		u = q;
		memset(u + n, 'q', 60000);
		u[n + 60000] = '\0';
	}
	expect_int(__LINE__, "long query", PATH_OK,
	           path_normalise(u, "", out, 256, NULL));
	expect_str(__LINE__, "long query", "cccccccccc", out);
	free(u);
	free(out);
}

/*
 * Every URI built from up to three of these segments, with and without a
 * trailing slash and a base: whatever is accepted must be safe.
 */
static const char *const segs[] = {
	"",    ".",      "..",    "a",    ".b",   "%2e",
	"%2E", "%2e%2e", ".%2e",  "%2e.", "%2f",  "c%00",
	"%5c", "d%20e",  "%",     "%41",  "f\\",  "%2e%2e%2f",
	"go",  "%c3%a9", "g\x01", "?..",  "#/..", "h.i",
};

static void
check_invariant(const char *uri, const char *base, unsigned line)
{
	char out[OUTSZ], desc[UNIT_MSG_MAX / 2];
	int rc, slash = -1;

	rc = path_normalise(uri, base, out, sizeof(out), &slash);
	snprintf(desc, sizeof(desc), "invariant of \"%s\" base \"%s\"", uri,
	         base);
	if (rc != PATH_OK) {
		expect_str(line, desc, "", out);
		return;
	}
	expect_true(line, desc, safe_output(out));
	expect_true(line, desc, strstr(out, "..") == NULL);
	expect_true(line, desc, slash == 0 || slash == 1);
}

static void
test_invariants(void)
{
	const size_t ns = NELEM(segs);
	char uri[128];
	size_t a, b, c;
	int tail;

	for (a = 0; a < ns; a++)
		for (b = 0; b <= ns; b++)
			for (c = 0; c <= ns; c++)
				for (tail = 0; tail < 2; tail++) {
					snprintf(uri, sizeof(uri),
					         "/%s%s%s%s%s%s", segs[a],
					         b < ns ? "/" : "",
					         b < ns ? segs[b] : "",
					         c < ns ? "/" : "",
					         c < ns ? segs[c] : "",
					         tail ? "/" : "");
					check_invariant(uri, "", __LINE__);
					check_invariant(uri, "/go", __LINE__);
				}
}

static const struct unit_test path_tests[] = {
	UNIT_TEST(test_rows),       UNIT_TEST(test_slash_may_be_null),
	UNIT_TEST(test_sizes),      UNIT_TEST(test_long_uris),
	UNIT_TEST(test_invariants), UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "path_normalise", NULL, NULL, path_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
