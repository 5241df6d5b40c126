/* test_range.c - range_parse(), edge by edge (RFC 9110 14.2). */
#include "unit.h"

#include "range.h"

#define NONE  RANGE_NONE
#define OK    RANGE_OK
#define UNSAT RANGE_UNSATISFIABLE

struct row {
	unsigned line;
	const char *desc;
	const char *hdr;
	uint64_t size;
	int rc;
	uint64_t first, len; /* checked for RANGE_OK */
};

static const struct row rows[] = {
	/* Satisfiable single ranges. */
	{ __LINE__, "first byte", "bytes=0-0", 10, OK, 0, 1 },
	{ __LINE__, "first two bytes", "bytes=0-1", 10, OK, 0, 2 },
	{ __LINE__, "whole by range", "bytes=0-9", 10, OK, 0, 10 },
	{ __LINE__, "last byte by range", "bytes=9-9", 10, OK, 9, 1 },
	{ __LINE__, "open-ended", "bytes=5-", 10, OK, 5, 5 },
	{ __LINE__, "open-ended from 0", "bytes=0-", 10, OK, 0, 10 },
	{ __LINE__, "open-ended last byte", "bytes=9-", 10, OK, 9, 1 },
	{ __LINE__, "suffix", "bytes=-3", 10, OK, 7, 3 },
	{ __LINE__, "suffix of one", "bytes=-1", 10, OK, 9, 1 },
	{ __LINE__, "suffix equal to size", "bytes=-10", 10, OK, 0, 10 },
	{ __LINE__, "suffix larger than size", "bytes=-20", 10, OK, 0, 10 },
	{ __LINE__, "suffix of UINT64_MAX", "bytes=-18446744073709551615", 10,
	  OK, 0, 10 },
	{ __LINE__, "end beyond size clipped", "bytes=5-100", 10, OK, 5, 5 },
	{ __LINE__, "end at size clipped", "bytes=0-10", 10, OK, 0, 10 },
	{ __LINE__, "end of UINT64_MAX clipped", "bytes=2-18446744073709551615",
	  10, OK, 2, 8 },
	{ __LINE__, "leading zeros", "bytes=007-008", 10, OK, 7, 2 },
	{ __LINE__, "one-byte file", "bytes=0-", 1, OK, 0, 1 },
	{ __LINE__, "large file", "bytes=1099511627775-", 1ULL << 40, OK,
	  (1ULL << 40) - 1, 1 },
	{ __LINE__, "large suffix", "bytes=-1099511627776", 1ULL << 40, OK, 0,
	  1ULL << 40 },
	{ __LINE__, "unit is case-insensitive", "Bytes=0-1", 10, OK, 0, 2 },
	{ __LINE__, "unit in capitals", "BYTES=1-1", 10, OK, 1, 1 },
	/* Whitespace around the range-spec is OWS. */
	{ __LINE__, "space before", "bytes= 0-1", 10, OK, 0, 2 },
	{ __LINE__, "space after", "bytes=0-1 ", 10, OK, 0, 2 },
	{ __LINE__, "tabs around", "bytes=\t2-3\t", 10, OK, 2, 2 },
	{ __LINE__, "space inside the spec", "bytes=0 -1", 10, NONE, 0, 0 },
	{ __LINE__, "space after the dash", "bytes=0- 1", 10, NONE, 0, 0 },
	{ __LINE__, "space before the unit", " bytes=0-1", 10, NONE, 0, 0 },
	{ __LINE__, "space before '='", "bytes =0-1", 10, NONE, 0, 0 },

	/* Unsatisfiable: 416. */
	{ __LINE__, "suffix of zero", "bytes=-0", 10, UNSAT, 0, 0 },
	{ __LINE__, "first at size", "bytes=10-", 10, UNSAT, 0, 0 },
	{ __LINE__, "first beyond size", "bytes=11-20", 10, UNSAT, 0, 0 },
	{ __LINE__, "first far beyond size", "bytes=999999-", 10, UNSAT, 0, 0 },
	{ __LINE__, "size 0, from 0", "bytes=0-", 0, UNSAT, 0, 0 },
	{ __LINE__, "size 0, 0-0", "bytes=0-0", 0, UNSAT, 0, 0 },
	{ __LINE__, "size 0, suffix", "bytes=-1", 0, UNSAT, 0, 0 },

	/* Malformed or unsupported: ignored, the whole body is sent. */
	{ __LINE__, "NULL", NULL, 10, NONE, 0, 0 },
	{ __LINE__, "empty", "", 10, NONE, 0, 0 },
	{ __LINE__, "other unit", "items=0-1", 10, NONE, 0, 0 },
	{ __LINE__, "no unit", "0-1", 10, NONE, 0, 0 },
	{ __LINE__, "no unit, double dash", "0--", 10, NONE, 0, 0 },
	{ __LINE__, "unit without '='", "bytes 0-1", 10, NONE, 0, 0 },
	{ __LINE__, "unit only", "bytes=", 10, NONE, 0, 0 },
	{ __LINE__, "dash only", "bytes=-", 10, NONE, 0, 0 },
	{ __LINE__, "no dash", "bytes=5", 10, NONE, 0, 0 },
	{ __LINE__, "double dash", "bytes=0--", 10, NONE, 0, 0 },
	{ __LINE__, "negative end", "bytes=0--1", 10, NONE, 0, 0 },
	{ __LINE__, "suffix then more", "bytes=-2-3", 10, NONE, 0, 0 },
	{ __LINE__, "end before first", "bytes=5-4", 10, NONE, 0, 0 },
	{ __LINE__, "signed first", "bytes=+1-2", 10, NONE, 0, 0 },
	{ __LINE__, "letters", "bytes=a-b", 10, NONE, 0, 0 },
	{ __LINE__, "hex", "bytes=0x1-0x2", 10, NONE, 0, 0 },
	{ __LINE__, "trailing junk", "bytes=0-1x", 10, NONE, 0, 0 },
	{ __LINE__, "two ranges served whole", "bytes=0-1,97-98", 100, NONE, 0,
	  0 },
	{ __LINE__, "two ranges with space", "bytes=0-1, 3-4", 10, NONE, 0, 0 },
	{ __LINE__, "trailing comma", "bytes=0-1,", 10, NONE, 0, 0 },
	{ __LINE__, "overflowing first", "bytes=99999999999999999999999-", 10,
	  NONE, 0, 0 },
	{ __LINE__, "overflowing suffix", "bytes=-99999999999999999999999", 10,
	  NONE, 0, 0 },
	{ __LINE__, "first just past UINT64_MAX", "bytes=18446744073709551616-",
	  10, NONE, 0, 0 },
	{ __LINE__, "NUL-free but CTL", "bytes=0-1\r\n", 10, NONE, 0, 0 },
};

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const struct row *r = &rows[i];
		uint64_t first = 12345, len = 12345;
		int rc;

		rc = range_parse(r->hdr, r->size, &first, &len);
		expect_int(r->line, r->desc, r->rc, rc);
		if (r->rc != OK || rc != OK)
			continue;
		expect_u64(r->line, r->desc, r->first, first);
		expect_u64(r->line, r->desc, r->len, len);
	}
}

/* Any accepted range lies inside the representation and is non-empty. */
static void
test_bounds(void)
{
	static const char *const hdrs[] = {
		"bytes=0-",  "bytes=0-0", "bytes=-1",   "bytes=-5",
		"bytes=3-",  "bytes=3-4", "bytes=3-99", "bytes=-99",
		"bytes=7-7", "bytes=4-3", "bytes=-0",   "bytes=8-",
	};
	uint64_t size;
	size_t i;

	for (size = 0; size < 12; size++) {
		for (i = 0; i < NELEM(hdrs); i++) {
			uint64_t first = 0, len = 0;
			char desc[96];
			int rc = range_parse(hdrs[i], size, &first, &len);

			snprintf(desc, sizeof(desc), "%s on size %" PRIu64,
			         hdrs[i], size);
			expect_true(__LINE__, desc,
			            rc == NONE || rc == OK || rc == UNSAT);
			if (rc != OK)
				continue;
			expect_true(__LINE__, desc, len > 0);
			expect_true(__LINE__, desc, first < size);
			expect_true(__LINE__, desc, len <= size - first);
		}
	}
}

static const struct unit_test range_tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_bounds),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "range_parse", NULL, NULL, range_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
