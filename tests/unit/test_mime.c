/*
 * test_mime.c - mime_type() and mime_compressible(): the last extension
 * of the last path segment, in any case; no extension, a dot in a
 * directory name, a dotfile-like name and unknown extensions give
 * application/octet-stream; every entry of the table is found by its own
 * extension (the table is binary-searched: an entry out of order would
 * be lost). mime.c is included to walk its table.
 */
#include "unit.h"

#include "../../src/mime.c"

static void
test_type(void)
{
	static const struct {
		unsigned line;
		const char *path, *type;
	} t[] = {
		{ __LINE__, "index.html", "text/html; charset=utf-8" },
		{ __LINE__, "a/b/INDEX.HTML", "text/html; charset=utf-8" },
		{ __LINE__, "style.CsS", "text/css; charset=utf-8" },
		{ __LINE__, "app.min.js", "text/javascript; charset=utf-8" },
		{ __LINE__, "archive.tar.gz", "application/gzip" },
		{ __LINE__, "font.woff2", "font/woff2" },
		{ __LINE__, "site.webmanifest", "application/manifest+json" },
		{ __LINE__, "README", "application/octet-stream" },
		{ __LINE__, "v1.2/README", "application/octet-stream" },
		{ __LINE__, "file.", "application/octet-stream" },
		{ __LINE__, "file.exe", "application/octet-stream" },
		{ __LINE__, "file.html5", "application/octet-stream" },
		{ __LINE__, ".htaccess", "application/octet-stream" },
		{ __LINE__, "", "application/octet-stream" },
		{ __LINE__, "a.svg", "image/svg+xml" },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		expect_str(t[i].line, t[i].path, t[i].type,
		           mime_type(t[i].path));
}

/* Every entry is reachable: the table is in bsearch order. */
static void
test_table(void)
{
	char path[64];
	size_t i;

	for (i = 0; i < NELEM(types); i++) {
		snprintf(path, sizeof(path), "x.%s", types[i].ext);
		expect_str(__LINE__, path, types[i].type, mime_type(path));
		if (i > 0)
			expect_true(__LINE__, types[i].ext,
			            strcasecmp(types[i - 1].ext, types[i].ext) <
			                    0);
	}
}

static void
test_compressible(void)
{
	static const struct {
		unsigned line;
		const char *path;
		int want;
	} t[] = {
		{ __LINE__, "a.html", 1 },  { __LINE__, "a.css", 1 },
		{ __LINE__, "a.js", 1 },    { __LINE__, "a.json", 1 },
		{ __LINE__, "a.svg", 1 },   { __LINE__, "a.xml", 1 },
		{ __LINE__, "a.wasm", 1 },  { __LINE__, "a.webmanifest", 1 },
		{ __LINE__, "a.png", 0 },   { __LINE__, "a.gz", 0 },
		{ __LINE__, "a.woff2", 0 }, { __LINE__, "a.mp4", 0 },
		{ __LINE__, "README", 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		expect_int(t[i].line, t[i].path, t[i].want,
		           mime_compressible(t[i].path));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_type),
	UNIT_TEST(test_table),
	UNIT_TEST(test_compressible),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "mime", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
