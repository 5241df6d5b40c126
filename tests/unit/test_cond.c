/* test_cond.c - ETags, entity-tag lists and precedence (RFC 9110 13). */
#include "unit.h"

#include "cond.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example. */
#define MTIME   784111777
#define D_EQ    "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_EARLY "Sun, 06 Nov 1994 08:49:36 GMT"
#define D_LATE  "Sun, 06 Nov 1994 08:49:38 GMT"
#define D_850   "Sunday, 06-Nov-94 08:49:37 GMT"
#define D_ASC   "Sun Nov  6 08:49:37 1994"
#define ETAG    "\"1a-2b-3c\""

static struct stat
mkstat(long long size, long long sec, long nsec, unsigned long long ino)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)size;
	st.st_mtim.tv_sec = (time_t)sec;
	st.st_mtim.tv_nsec = nsec;
	st.st_ino = (ino_t)ino;
	return st;
}

static void
test_etag_shape(void)
{
	struct stat st = mkstat(10, MTIME, 5, 42);
	char a[ETAG_MAX], b[ETAG_MAX];
	size_t n;

	expect_int(__LINE__, "cond_etag rc", 0,
	           cond_etag(&st, 0, "", a, sizeof(a)));
	n = strlen(a);
	expect_true(__LINE__, "quoted",
	            n >= 3 && a[0] == '"' && a[n - 1] == '"');
	expect_true(__LINE__, "one pair of quotes",
	            strchr(a + 1, '"') == a + n - 1);
	expect_true(__LINE__, "not weak", strncmp(a, "W/", 2) != 0);
	expect_true(__LINE__, "no CTL or space", strpbrk(a, " \t\r\n") == NULL);
	expect_int(__LINE__, "same stat, same tag", 0,
	           cond_etag(&st, 0, "", b, sizeof(b)));
	expect_str(__LINE__, "deterministic", a, b);
	/* The tag it builds is one cond_etag_match recognises. */
	expect_int(__LINE__, "matches itself", 1, cond_etag_match(a, a, 0));
}

struct etag_row {
	unsigned line;
	const char *desc;
	struct stat st;
	int inode;
	const char *suffix;
};

static void
test_etag_differs(void)
{
	/* Every row must give a tag unlike every other row's. */
	const struct etag_row rows[] = {
		{ __LINE__, "base", mkstat(10, MTIME, 5, 42), 0, "" },
		{ __LINE__, "size", mkstat(11, MTIME, 5, 42), 0, "" },
		{ __LINE__, "mtime", mkstat(10, MTIME + 1, 5, 42), 0, "" },
		{ __LINE__, "nsec", mkstat(10, MTIME, 6, 42), 0, "" },
		{ __LINE__, "inode", mkstat(10, MTIME, 5, 42), 1, "" },
		{ __LINE__, "other inode", mkstat(10, MTIME, 5, 43), 1, "" },
		{ __LINE__, "suffix gz", mkstat(10, MTIME, 5, 42), 0, "gz" },
		{ __LINE__, "suffix br", mkstat(10, MTIME, 5, 42), 0, "br" },
		{ __LINE__, "inode and br", mkstat(10, MTIME, 5, 42), 1, "br" },
		/* Fields must be delimited: 0x1-0x23 vs 0x12-0x3. */
		{ __LINE__, "size/mtime split 1", mkstat(0x1, 0x23, 0, 0), 0,
		  "" },
		{ __LINE__, "size/mtime split 2", mkstat(0x12, 0x3, 0, 0), 0,
		  "" },
	};
	char tags[NELEM(rows)][ETAG_MAX];
	size_t i, j;

	for (i = 0; i < NELEM(rows); i++)
		expect_int(rows[i].line, rows[i].desc, 0,
		           cond_etag(&rows[i].st, rows[i].inode, rows[i].suffix,
		                     tags[i], sizeof(tags[i])));
	for (i = 0; i < NELEM(rows); i++)
		for (j = i + 1; j < NELEM(rows); j++)
			unit_check(strcmp(tags[i], tags[j]) != 0, __FILE__,
			           rows[j].line,
			           "expected a tag unlike %s (line %u), got %s "
			           "for %s",
			           tags[i], rows[i].line, tags[j],
			           rows[j].desc);
}

static void
test_etag_inode_flag(void)
{
	struct stat a = mkstat(10, MTIME, 5, 42), b = mkstat(10, MTIME, 5, 43);
	char ta[ETAG_MAX], tb[ETAG_MAX];

	cond_etag(&a, 0, "", ta, sizeof(ta));
	cond_etag(&b, 0, "", tb, sizeof(tb));
	expect_str(__LINE__, "inode ignored without the flag", ta, tb);
	cond_etag(&a, 1, "", ta, sizeof(ta));
	cond_etag(&b, 1, "", tb, sizeof(tb));
	expect_true(__LINE__, "inode used with the flag", strcmp(ta, tb) != 0);
}

static void
test_etag_sizes(void)
{
	/* Largest realistic fields: 1 TiB, year 2242, max nsec, any ino. */
	struct stat big =
	        mkstat(1LL << 40, 1LL << 33, 999999999L, 0xffffffffffffffffULL);
	char out[ETAG_MAX];

	expect_int(__LINE__, "large fields fit ETAG_MAX", 0,
	           cond_etag(&big, 1, "br", out, sizeof(out)));
	expect_true(__LINE__, "large fields fit ETAG_MAX",
	            strlen(out) < ETAG_MAX);
	expect_int(__LINE__, "too small a buffer", -1,
	           cond_etag(&big, 1, "br", out, 8));
	expect_int(__LINE__, "buffer of 1", -1, cond_etag(&big, 0, "", out, 1));
}

struct match_row {
	unsigned line;
	const char *desc;
	const char *list;
	int weak;
	int want;
};

static const struct match_row match_rows[] = {
	{ __LINE__, "exact", ETAG, 0, 1 },
	{ __LINE__, "exact, weak comparison", ETAG, 1, 1 },
	{ __LINE__, "other tag", "\"other\"", 0, 0 },
	{ __LINE__, "case matters", "\"1A-2B-3C\"", 1, 0 },
	{ __LINE__, "prefix only", "\"1a-2b\"", 1, 0 },
	{ __LINE__, "longer", "\"1a-2b-3c-\"", 1, 0 },
	{ __LINE__, "list, second", "\"x\", " ETAG, 0, 1 },
	{ __LINE__, "list, first", ETAG ", \"x\"", 0, 1 },
	{ __LINE__, "list without spaces", "\"x\"," ETAG ",\"y\"", 0, 1 },
	{ __LINE__, "list with many spaces", "  \"x\"  ,\t " ETAG "\t ,  ", 0,
	  1 },
	{ __LINE__, "empty list elements", ",,\"x\",," ETAG ",", 0, 1 },
	{ __LINE__, "list without it", "\"x\", \"y\", \"z\"", 1, 0 },
	{ __LINE__, "star", "*", 0, 1 },
	{ __LINE__, "star with spaces", "  * ", 1, 1 },
	{ __LINE__, "weak tag, weak comparison", "W/" ETAG, 1, 1 },
	{ __LINE__, "weak tag, strong comparison", "W/" ETAG, 0, 0 },
	{ __LINE__, "weak in a list, strong", "\"x\", W/" ETAG, 0, 0 },
	{ __LINE__, "weak in a list, weak", "\"x\", W/" ETAG, 1, 1 },
	{ __LINE__, "lower-case w/ is no weak prefix", "w/" ETAG, 1, 0 },
	{ __LINE__, "empty header", "", 1, 0 },
	{ __LINE__, "only spaces", "   ", 1, 0 },
	{ __LINE__, "only commas", ",,,", 1, 0 },
	/* Malformed lists match nothing, even around a matching tag. */
	{ __LINE__, "unquoted", "1a-2b-3c", 1, 0 },
	{ __LINE__, "unterminated quote", "\"1a-2b-3c", 1, 0 },
	{ __LINE__, "unterminated after a match", ETAG ", \"x", 1, 0 },
	{ __LINE__, "junk after a match", ETAG " junk", 1, 0 },
	{ __LINE__, "junk element after a match", ETAG ", junk", 1, 0 },
	{ __LINE__, "missing comma", "\"x\" " ETAG, 1, 0 },
	{ __LINE__, "star in a list", "*, " ETAG, 1, 0 },
	{ __LINE__, "star and junk", "* x", 1, 0 },
	{ __LINE__, "space inside a tag", "\"1a 2b\"", 1, 0 },
	{ __LINE__, "CTL inside a tag", "\"1a\x01\"", 1, 0 },
	{ __LINE__, "DEL inside a tag", "\"1a\x7f\"", 1, 0 },
	{ __LINE__, "W/ without a tag", "W/", 1, 0 },
	{ __LINE__, "lone quote", "\"", 1, 0 },
};

static void
test_etag_match(void)
{
	size_t i;

	for (i = 0; i < NELEM(match_rows); i++) {
		const struct match_row *r = &match_rows[i];

		expect_int(r->line, r->desc, r->want,
		           cond_etag_match(r->list, ETAG, r->weak));
	}
	/* obs-text (0x80-0xff) is a valid etagc. */
	expect_int(__LINE__, "obs-text tag", 1,
	           cond_etag_match("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"", 0));
}

struct eval_row {
	unsigned line;
	const char *desc;
	struct cond_headers h; /* if_match, if_none_match, IMS, IUS */
	enum cond_result want;
};

static const struct eval_row eval_rows[] = {
	{ __LINE__,
	  "no preconditions",
	  { NULL, NULL, NULL, NULL },
	  COND_PROCEED },
	/* If-None-Match (weak comparison). */
	{ __LINE__,
	  "INM match",
	  { NULL, ETAG, NULL, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__, "INM other", { NULL, "\"x\"", NULL, NULL }, COND_PROCEED },
	{ __LINE__, "INM star", { NULL, "*", NULL, NULL }, COND_NOT_MODIFIED },
	{ __LINE__,
	  "INM weak tag",
	  { NULL, "W/" ETAG, NULL, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "INM in a list",
	  { NULL, "\"x\", " ETAG, NULL, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "INM malformed",
	  { NULL, "1a-2b-3c", NULL, NULL },
	  COND_PROCEED },
	/* If-Modified-Since. */
	{ __LINE__,
	  "IMS equal",
	  { NULL, NULL, D_EQ, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "IMS later",
	  { NULL, NULL, D_LATE, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "IMS earlier",
	  { NULL, NULL, D_EARLY, NULL },
	  COND_PROCEED },
	{ __LINE__,
	  "IMS RFC 850",
	  { NULL, NULL, D_850, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "IMS asctime",
	  { NULL, NULL, D_ASC, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "IMS invalid",
	  { NULL, NULL, "yesterday", NULL },
	  COND_PROCEED },
	{ __LINE__, "IMS empty", { NULL, NULL, "", NULL }, COND_PROCEED },
	/* If-None-Match beats If-Modified-Since. */
	{ __LINE__,
	  "INM other beats IMS equal",
	  { NULL, "\"x\"", D_EQ, NULL },
	  COND_PROCEED },
	{ __LINE__,
	  "INM match beats IMS earlier",
	  { NULL, ETAG, D_EARLY, NULL },
	  COND_NOT_MODIFIED },
	{ __LINE__,
	  "INM malformed still beats IMS",
	  { NULL, "junk", D_EQ, NULL },
	  COND_PROCEED },
	/* If-Match (strong comparison). */
	{ __LINE__, "IM match", { ETAG, NULL, NULL, NULL }, COND_PROCEED },
	{ __LINE__,
	  "IM other",
	  { "\"x\"", NULL, NULL, NULL },
	  COND_PRECONDITION_FAILED },
	{ __LINE__, "IM star", { "*", NULL, NULL, NULL }, COND_PROCEED },
	{ __LINE__,
	  "IM weak tag fails",
	  { "W/" ETAG, NULL, NULL, NULL },
	  COND_PRECONDITION_FAILED },
	{ __LINE__,
	  "IM malformed fails",
	  { "junk", NULL, NULL, NULL },
	  COND_PRECONDITION_FAILED },
	{ __LINE__,
	  "IM failing beats INM match",
	  { "\"x\"", ETAG, NULL, NULL },
	  COND_PRECONDITION_FAILED },
	{ __LINE__,
	  "IM passing, then INM",
	  { ETAG, ETAG, NULL, NULL },
	  COND_NOT_MODIFIED },
	/* If-Unmodified-Since. */
	{ __LINE__,
	  "IUS earlier",
	  { NULL, NULL, NULL, D_EARLY },
	  COND_PRECONDITION_FAILED },
	{ __LINE__, "IUS equal", { NULL, NULL, NULL, D_EQ }, COND_PROCEED },
	{ __LINE__, "IUS later", { NULL, NULL, NULL, D_LATE }, COND_PROCEED },
	{ __LINE__,
	  "IUS invalid is ignored",
	  { NULL, NULL, NULL, "soon" },
	  COND_PROCEED },
	{ __LINE__,
	  "IUS ignored with IM",
	  { ETAG, NULL, NULL, D_EARLY },
	  COND_PROCEED },
	{ __LINE__,
	  "IUS failing beats INM match",
	  { NULL, ETAG, NULL, D_EARLY },
	  COND_PRECONDITION_FAILED },
	{ __LINE__,
	  "IUS passing, then IMS",
	  { NULL, NULL, D_EQ, D_LATE },
	  COND_NOT_MODIFIED },
};

static void
test_evaluate(void)
{
	size_t i;

	for (i = 0; i < NELEM(eval_rows); i++) {
		const struct eval_row *r = &eval_rows[i];

		expect_int(r->line, r->desc, r->want,
		           cond_evaluate(&r->h, ETAG, MTIME));
	}
}

struct range_row {
	unsigned line;
	const char *desc;
	const char *if_range;
	int want;
};

static const struct range_row range_rows[] = {
	{ __LINE__, "absent", NULL, 1 },
	{ __LINE__, "strong equal", ETAG, 1 },
	{ __LINE__, "leading space", " " ETAG, 1 },
	{ __LINE__, "weak tag", "W/" ETAG, 0 },
	{ __LINE__, "other tag", "\"x\"", 0 },
	{ __LINE__, "prefix of the tag", "\"1a-2b", 0 },
	{ __LINE__, "a list is no validator", ETAG ", \"x\"", 0 },
	{ __LINE__, "star is no validator", "*", 0 },
	{ __LINE__, "date equal", D_EQ, 1 },
	{ __LINE__, "date equal, RFC 850", D_850, 1 },
	{ __LINE__, "date earlier", D_EARLY, 0 },
	{ __LINE__, "date later", D_LATE, 0 },
	{ __LINE__, "garbage", "tomorrow", 0 },
	{ __LINE__, "empty", "", 0 },
};

static void
test_if_range(void)
{
	size_t i;

	for (i = 0; i < NELEM(range_rows); i++) {
		const struct range_row *r = &range_rows[i];

		expect_int(r->line, r->desc, r->want,
		           cond_if_range(r->if_range, ETAG, MTIME));
	}
}

static const struct unit_test etag_tests[] = {
	UNIT_TEST(test_etag_shape),      UNIT_TEST(test_etag_differs),
	UNIT_TEST(test_etag_inode_flag), UNIT_TEST(test_etag_sizes),
	UNIT_TEST(test_etag_match),      UNIT_END,
};

static const struct unit_test eval_tests[] = {
	UNIT_TEST(test_evaluate),
	UNIT_TEST(test_if_range),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "cond_etag", NULL, NULL, etag_tests },
	{ "cond_evaluate", NULL, NULL, eval_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
