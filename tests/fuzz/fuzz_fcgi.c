/*
 * fuzz_fcgi.c - the FastCGI wire format as a peer may send it: the input
 * is a byte stream of records, parsed as fcgi.c parses what it reads.
 *
 * Invariants: a record is never larger than what is left nor smaller than
 * its header and content; FCGI_BEGIN_REQUEST bodies parse iff 8 bytes
 * long or more; decoded name-value pairs stay inside their buffer, are
 * NUL-terminated there, never number more than the room given, and
 * fcgi_params_get() answers the first of each name; an answer to
 * FCGI_GET_VALUES fits its buffer and is itself a record whose pairs
 * decode.
 */
#include "config.h"

#include "fcgi_proto.h"
#include "fuzz.h"

#define PAIRS 16

static void
check_pairs(unsigned char *buf, size_t n)
{
	struct fcgi_param ps[PAIRS];
	int count = fcgi_params_decode(buf, n, ps, PAIRS);
	int i, j;

	FUZZ_ASSERT(count >= -1 && count <= PAIRS);
	for (i = 0; i < count; i++) {
		const char *v = ps[i].value, *first = NULL;

		FUZZ_ASSERT((const unsigned char *)ps[i].name >= buf);
		FUZZ_ASSERT((const unsigned char *)v + strlen(v) < buf + n);
		for (j = 0; j <= i && first == NULL; j++)
			if (strcmp(ps[j].name, ps[i].name) == 0)
				first = ps[j].value;
		FUZZ_ASSERT(fcgi_params_get(ps, (size_t)count, ps[i].name) ==
		            first);
	}
}

static void
check_get_values(const struct fcgi_record *r)
{
	unsigned char out[128], copy[128];
	struct fcgi_record a;
	size_t n = fcgi_get_values(r->content, r->len, 64, out, sizeof(out));

	if (n == 0)
		return;
	FUZZ_ASSERT(n >= FCGI_HEADER_LEN && n <= sizeof(out));
	FUZZ_ASSERT(fcgi_record_parse(out, n, &a) == FCGI_REC_OK);
	FUZZ_ASSERT(a.type == FCGI_GET_VALUES_RESULT && a.id == 0);
	FUZZ_ASSERT(a.size == n);
	memcpy(copy, a.content, a.len);
	FUZZ_ASSERT(fcgi_params_decode(copy, a.len, (struct fcgi_param[3]){ 0 },
	                               3) >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fcgi_record r;
	unsigned role, flags;
	size_t off = 0;
	int rc;

	while ((rc = fcgi_record_parse(data + off, size - off, &r)) ==
	       FCGI_REC_OK) {
		FUZZ_ASSERT(r.size >= FCGI_HEADER_LEN + r.len);
		FUZZ_ASSERT(r.size <= size - off);
		FUZZ_ASSERT(r.content == data + off + FCGI_HEADER_LEN);
		FUZZ_ASSERT(r.type <= 255 && r.id <= 65535);
		FUZZ_ASSERT((fcgi_begin_parse(&r, &role, &flags) == 0) ==
		            (r.len >= 8));
		if (r.type == FCGI_PARAMS && r.len > 0) {
			unsigned char *buf = malloc(r.len);

			if (buf == NULL)
				return 0;
			memcpy(buf, r.content, r.len);
			check_pairs(buf, r.len);
			free(buf);
		}
		if (r.type == FCGI_GET_VALUES)
			check_get_values(&r);
		off += r.size;
	}
	FUZZ_ASSERT(rc == FCGI_REC_SHORT || rc == FCGI_REC_BAD);
	FUZZ_ASSERT(off <= size);
	return 0;
}
