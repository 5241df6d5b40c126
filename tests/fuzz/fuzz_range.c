/*
 * fuzz_range.c - range_parse(): a satisfiable answer is always a
 * non-empty span inside the representation.
 *
 * Input: byte 0 picks the representation size (bit 7 set: the next 8
 * bytes, big-endian; else one of a few sizes), the rest is the Range
 * header.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "range.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = { 0,   1,     2,          10,
		                          100, 65536, 1ULL << 40, UINT64_MAX };
	uint64_t rsize = 0, first = 7, len = 7, f2, l2;
	char *hdr, again[64];
	size_t skip = 1, i;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		if (size < 9)
			return 0;
		for (i = 1; i <= 8; i++)
			rsize = rsize << 8 | data[i];
		skip = 9;
	} else {
		rsize = sizes[data[0] & 7];
	}
	if ((hdr = fuzz_cstr(data + skip, size - skip)) == NULL)
		return 0;
	rc = range_parse(hdr, rsize, &first, &len);
	FUZZ_ASSERT(rc == RANGE_NONE || rc == RANGE_OK ||
	            rc == RANGE_UNSATISFIABLE);
	if (rc == RANGE_OK) {
		FUZZ_ASSERT(rsize > 0);
		FUZZ_ASSERT(len >= 1);
		FUZZ_ASSERT(first < rsize);
		FUZZ_ASSERT(len <= rsize - first); /* first + len <= size */
		/* The span, written back as a header, parses to itself. */
		snprintf(again, sizeof(again), "bytes=%" PRIu64 "-%" PRIu64,
		         first, first + len - 1);
		FUZZ_ASSERT(range_parse(again, rsize, &f2, &l2) == RANGE_OK);
		FUZZ_ASSERT(f2 == first && l2 == len);
	}
	/* Without a header or the bytes unit nothing is ever satisfiable. */
	if (strncasecmp(hdr, "bytes=", 6) != 0)
		FUZZ_ASSERT(rc == RANGE_NONE);
	FUZZ_ASSERT(range_parse(NULL, rsize, &f2, &l2) == RANGE_NONE);
	free(hdr);
	return 0;
}
