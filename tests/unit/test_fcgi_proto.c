/*
 * test_fcgi_proto.c - the FastCGI wire format (fcgi_proto.c), as tables:
 * records whole, short and foreign, of every type and of the largest
 * size; name-value pairs decoded in place with 1- and 4-byte lengths and
 * every way of running past the end; the records sherve writes, byte for
 * byte; and a peer sending garbage, which never yields a record that
 * runs past what was read.
 */
#include "unit.h"

#include "fcgi_proto.h"

enum { OK = FCGI_REC_OK, SHORT = FCGI_REC_SHORT, BAD = FCGI_REC_BAD };

struct rec_row {
	unsigned line;
	const char *desc;
	const char *bytes; /* n bytes, as a C literal */
	size_t n;
	int rc;
	unsigned type, id; /* checked for OK */
	size_t len, size;
};

#define B(s) s, sizeof(s) - 1

static const struct rec_row rec_rows[] = {
	{ __LINE__, "nothing yet", B(""), SHORT, 0, 0, 0, 0 },
	{ __LINE__, "the version byte", B("\1"), SHORT, 0, 0, 0, 0 },
	{ __LINE__, "7 bytes of a header", B("\1\1\0\1\0\10\0"), SHORT, 0, 0, 0,
	  0 },
	{ __LINE__, "a header, no content yet", B("\1\1\0\1\0\10\0\0"), SHORT,
	  0, 0, 0, 0 },
	{ __LINE__, "content, padding missing", B("\1\4\0\1\0\2\3\0ab\0\0"),
	  SHORT, 0, 0, 0, 0 },
	{ __LINE__, "BEGIN_REQUEST whole",
	  B("\1\1\0\1\0\10\0\0\0\1\1\0\0\0\0\0"), OK, FCGI_BEGIN_REQUEST, 1, 8,
	  16 },
	{ __LINE__, "an empty PARAMS, id 258", B("\1\4\1\2\0\0\0\0"), OK,
	  FCGI_PARAMS, 258, 0, 8 },
	{ __LINE__, "content and padding", B("\1\5\0\7\0\2\3\0ab\0\0\0"), OK,
	  FCGI_STDIN, 7, 2, 13 },
	{ __LINE__, "a record and the start of the next",
	  B("\1\5\0\1\0\0\0\0\1\1"), OK, FCGI_STDIN, 1, 0, 8 },
	{ __LINE__, "version 0", B("\0\1\0\1\0\0\0\0"), BAD, 0, 0, 0, 0 },
	{ __LINE__, "version 2", B("\2"), BAD, 0, 0, 0, 0 },
	{ __LINE__, "an HTTP client on the socket", B("GET / HTTP/1.1\r\n"),
	  BAD, 0, 0, 0, 0 },
};

static void
test_records(void)
{
	static unsigned char big[FCGI_RECORD_MAX];
	struct fcgi_record r;
	size_t i;

	for (i = 0; i < NELEM(rec_rows); i++) {
		const struct rec_row *w = &rec_rows[i];
		int rc = fcgi_record_parse((const unsigned char *)w->bytes,
		                           w->n, &r);

		expect_int(w->line, w->desc, w->rc, rc);
		if (rc != OK || w->rc != OK)
			continue;
		expect_int(w->line, w->desc, w->type, r.type);
		expect_int(w->line, w->desc, w->id, r.id);
		expect_u64(w->line, w->desc, w->len, r.len);
		expect_u64(w->line, w->desc, w->size, r.size);
		expect_true(w->line, w->desc,
		            r.content == (const unsigned char *)w->bytes + 8);
	}
	/* The largest record: 65535 bytes and 255 of padding. */
	fcgi_header(big, FCGI_STDIN, 65535, FCGI_CONTENT_MAX);
	big[6] = 255;
	expect_int(__LINE__, "largest record, one byte short", SHORT,
	           fcgi_record_parse(big, sizeof(big) - 1, &r));
	expect_int(__LINE__, "largest record whole", OK,
	           fcgi_record_parse(big, sizeof(big), &r));
	expect_u64(__LINE__, "... its size is FCGI_RECORD_MAX", FCGI_RECORD_MAX,
	           r.size);
	expect_u64(__LINE__, "... its content", FCGI_CONTENT_MAX, r.len);
	expect_int(__LINE__, "... its id", 65535, r.id);
}

static void
test_begin(void)
{
	static const unsigned char keep[] = "\1\1\0\1\0\10\0\0\0\1\1\0\0\0\0\0";
	static const unsigned char filt[] = "\1\1\0\1\0\10\0\0\0\3\0\0\0\0\0\0";
	static const unsigned char shorty[] = "\1\1\0\1\0\2\0\0\0\1";
	struct fcgi_record r;
	unsigned role = 9, flags = 9;

	require_true(__LINE__, "parse", fcgi_record_parse(keep, 16, &r) == OK);
	expect_int(__LINE__, "responder with KEEP_CONN", 0,
	           fcgi_begin_parse(&r, &role, &flags));
	expect_int(__LINE__, "... role", FCGI_RESPONDER, role);
	expect_int(__LINE__, "... flags", FCGI_KEEP_CONN, flags);
	require_true(__LINE__, "parse", fcgi_record_parse(filt, 16, &r) == OK);
	expect_int(__LINE__, "filter", 0, fcgi_begin_parse(&r, &role, &flags));
	expect_int(__LINE__, "... role 3", 3, role);
	expect_int(__LINE__, "... no flags", 0, flags);
	require_true(__LINE__, "parse",
	             fcgi_record_parse(shorty, 10, &r) == OK);
	expect_int(__LINE__, "a body of 2 bytes, not 8", -1,
	           fcgi_begin_parse(&r, &role, &flags));
}

struct nv_row {
	unsigned line;
	const char *desc;
	const char *bytes;
	size_t n;
	int count; /* -1: refused */
	const char *name0, *value0, *name1, *value1;
};

static const struct nv_row nv_rows[] = {
	{ __LINE__, "no pairs", B(""), 0, NULL, NULL, NULL, NULL },
	{ __LINE__, "one pair", B("\3\1abcX"), 1, "abc", "X", NULL, NULL },
	{ __LINE__, "two pairs, the second empty", B("\1\2Axy\0\0"), 2, "A",
	  "xy", "", "" },
	{ __LINE__, "a 4-byte value length", B("\1\200\0\0\3Kabc"), 1, "K",
	  "abc", NULL, NULL },
	{ __LINE__, "a 4-byte name length", B("\200\0\0\2\1NMv"), 1, "NM", "v",
	  NULL, NULL },
	{ __LINE__, "a NUL in a value ends it", B("\1\3Ka\0b"), 1, "K", "a",
	  NULL, NULL },
	{ __LINE__, "a name past the end", B("\5\1abc"), -1, NULL, NULL, NULL,
	  NULL },
	{ __LINE__, "a value past the end", B("\1\5Kab"), -1, NULL, NULL, NULL,
	  NULL },
	{ __LINE__, "a value length cut", B("\1"), -1, NULL, NULL, NULL, NULL },
	{ __LINE__, "a 4-byte length cut", B("\1\200\0\0"), -1, NULL, NULL,
	  NULL, NULL },
	{ __LINE__, "2^31-1 bytes claimed", B("\1\377\377\377\377K"), -1, NULL,
	  NULL, NULL, NULL },
	{ __LINE__, "a good pair, then a cut one", B("\1\1ab\1\5Kx"), -1, NULL,
	  NULL, NULL, NULL },
};

static void
test_pairs(void)
{
	struct fcgi_param ps[4];
	unsigned char buf[64];
	size_t i;

	for (i = 0; i < NELEM(nv_rows); i++) {
		const struct nv_row *w = &nv_rows[i];
		int n;

		memcpy(buf, w->bytes, w->n);
		n = fcgi_params_decode(buf, w->n, ps, NELEM(ps));
		expect_int(w->line, w->desc, w->count, n);
		if (n < 1 || w->count < 1)
			continue;
		expect_str(w->line, w->desc, w->name0, ps[0].name);
		expect_str(w->line, w->desc, w->value0, ps[0].value);
		/* Everything decoded stays inside the buffer. */
		expect_true(w->line, w->desc,
		            (const unsigned char *)ps[n - 1].value +
		                            strlen(ps[n - 1].value) <
		                    buf + w->n);
		if (n < 2)
			continue;
		expect_str(w->line, w->desc, w->name1, ps[1].name);
		expect_str(w->line, w->desc, w->value1, ps[1].value);
	}
}

/* More pairs than room, a 300-byte name, and the first of a name wins. */
static void
test_pairs_limits(void)
{
	static unsigned char buf[1024];
	struct fcgi_param ps[3];
	size_t n = 0, i;

	for (i = 0; i < 4; i++) {
		memcpy(buf + n, "\1\1Kv", 4);
		buf[n + 3] = (unsigned char)('0' + i);
		n += 4;
	}
	expect_int(__LINE__, "4 pairs, room for 3: refused", -1,
	           fcgi_params_decode(buf, n, ps, 3));
	n = 12;
	for (i = 0; i < 3; i++) {
		memcpy(buf + 4 * i, "\1\1Kv", 4);
		buf[4 * i + 3] = (unsigned char)('0' + i);
	}
	expect_int(__LINE__, "3 pairs, room for 3", 3,
	           fcgi_params_decode(buf, n, ps, 3));
	expect_str(__LINE__, "the first K wins", "0",
	           fcgi_params_get(ps, 3, "K"));
	expect_str(__LINE__, "an absent name", NULL,
	           fcgi_params_get(ps, 3, "X"));
	buf[0] = 0x80;
	buf[1] = 0;
	buf[2] = 1;
	buf[3] = 44; /* 300 */
	buf[4] = 2;
	memset(buf + 5, 'N', 300);
	memcpy(buf + 305, "ok", 2);
	expect_int(__LINE__, "a 300-byte name", 1,
	           fcgi_params_decode(buf, 307, ps, 3));
	expect_u64(__LINE__, "... whole", 300, strlen(ps[0].name));
	expect_str(__LINE__, "... and its value", "ok", ps[0].value);
}

/* Every record type (and one the specification does not name) parses
 * with its type, id and content as sent: the parser judges none. */
static void
test_types(void)
{
	unsigned char rec[FCGI_HEADER_LEN + 3];
	struct fcgi_record r;
	unsigned type;

	for (type = 0; type <= 12; type++) {
		char desc[64];

		snprintf(desc, sizeof(desc), "a record of type %u", type);
		fcgi_header(rec, type == 12 ? 200 : type, 0x1234, 3);
		memcpy(rec + FCGI_HEADER_LEN, "abc", 3);
		require_true(__LINE__, desc,
		             fcgi_record_parse(rec, sizeof(rec), &r) == OK);
		expect_int(__LINE__, desc, type == 12 ? 200 : type, r.type);
		expect_int(__LINE__, desc, 0x1234, r.id);
		expect_mem(__LINE__, desc, "abc", (const char *)r.content,
		           r.len);
		expect_u64(__LINE__, desc, sizeof(rec), r.size);
	}
}

/* The largest record: 65535 content bytes and 255 of padding. */
static void
test_largest(void)
{
	static unsigned char big[FCGI_RECORD_MAX + 8];
	struct fcgi_record r;

	memset(big, 'x', sizeof(big));
	fcgi_header(big, FCGI_STDIN, 1, FCGI_CONTENT_MAX);
	big[6] = 255;
	expect_int(__LINE__, "one byte of padding missing", SHORT,
	           fcgi_record_parse(big, FCGI_RECORD_MAX - 1, &r));
	require_true(__LINE__, "the whole largest record",
	             fcgi_record_parse(big, FCGI_RECORD_MAX, &r) == OK);
	expect_u64(__LINE__, "... its content", FCGI_CONTENT_MAX, r.len);
	expect_u64(__LINE__, "... its size", FCGI_RECORD_MAX, r.size);
	require_true(__LINE__, "with the next record's bytes after it",
	             fcgi_record_parse(big, sizeof(big), &r) == OK);
	expect_u64(__LINE__, "... stops at its own end", FCGI_RECORD_MAX,
	           r.size);
	/* What follows is no record: its version byte is 'x'. */
	expect_int(__LINE__, "the bytes after it are garbage", BAD,
	           fcgi_record_parse(big + r.size, sizeof(big) - r.size, &r));
}

/*
 * A peer sending garbage: 2000 pseudo-random buffers (a fixed seed, so
 * a failure repeats), half of them with a version 1 header whose
 * lengths fit the buffer. Whatever
 * the parser says, a record it returns lies inside the bytes read, and
 * pairs decoded from the same bytes stay inside the buffer.
 */
static void
test_garbage(void)
{
	unsigned char buf[64], work[64];
	struct fcgi_param ps[8];
	struct fcgi_record r;
	uint32_t x = 12345;
	unsigned i, ok = 0, bad = 0, outside = 0;
	size_t j, n;

	for (i = 0; i < 2000; i++) {
		for (j = 0; j < sizeof(buf); j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (unsigned char)(x >> 16);
		}
		if (i % 2 == 0) { /* a header with a length that fits */
			buf[0] = 1;
			buf[4] = 0;
			buf[5] %= 40;
			buf[6] %= 16;
		}
		n = (x >> 8) % sizeof(buf);
		switch (fcgi_record_parse(buf, n, &r)) {
		case OK:
			ok++;
			outside += r.size > n || r.content + r.len > buf + n;
			break;
		case BAD: bad++; break;
		}
		memcpy(work, buf, n);
		if (fcgi_params_decode(work, n, ps, NELEM(ps)) > 0)
			outside +=
			        (const unsigned char *)ps[0].name < work ||
			        (const unsigned char *)ps[0].name >= work + n;
	}
	expect_int(__LINE__, "no record or pair outside the bytes read", 0,
	           outside);
	expect_true(__LINE__, "some garbage refused as not FastCGI", bad > 900);
	expect_true(__LINE__, "some garbage parsed as records", ok > 0);
}

static void
test_framing(void)
{
	unsigned char h[FCGI_HEADER_LEN], e[FCGI_END_LEN];

	fcgi_header(h, FCGI_STDOUT, 0x0102, 0xfffe);
	expect_true(__LINE__, "STDOUT header",
	            memcmp(h, "\1\6\1\2\377\376\0\0", 8) == 0);
	fcgi_end_request(e, 1, 0x01020304, FCGI_CANT_MPX_CONN);
	expect_true(__LINE__, "END_REQUEST",
	            memcmp(e, "\1\3\0\1\0\10\0\0\1\2\3\4\1\0\0\0", 16) == 0);
	fcgi_header(h, FCGI_STDOUT, 0, 0);
	expect_true(__LINE__, "an empty STDOUT (the end of the stream)",
	            memcmp(h, "\1\6\0\0\0\0\0\0", 8) == 0);
	fcgi_end_request(e, 0xffff, 0, FCGI_REQUEST_COMPLETE);
	expect_true(__LINE__, "END_REQUEST complete, id 65535",
	            memcmp(e, "\1\3\377\377\0\10\0\0\0\0\0\0\0\0\0\0", 16) ==
	                    0);
}

static void
test_get_values(void)
{
	static const char q[] = "\16\0FCGI_MAX_CONNS"
	                        "\17\0FCGI_MPXS_CONNS"
	                        "\5\0OTHER";
	static const char want[] = "\1\12\0\0\0\44\0\0"
	                           "\16\2FCGI_MAX_CONNS64"
	                           "\17\1FCGI_MPXS_CONNS0";
	unsigned char out[128];
	size_t n;

	n = fcgi_get_values((const unsigned char *)q, sizeof(q) - 1, 64, out,
	                    sizeof(out));
	expect_u64(__LINE__, "answer length", sizeof(want) - 1, n);
	expect_true(__LINE__, "the two names known, OTHER left out",
	            n == sizeof(want) - 1 && memcmp(out, want, n) == 0);
	expect_u64(__LINE__, "an empty query: an empty answer", 8,
	           fcgi_get_values(out, 0, 64, out, sizeof(out)));
	expect_u64(__LINE__, "a malformed query: no answer", 0,
	           fcgi_get_values((const unsigned char *)"\16\0FCGI", 6, 64,
	                           out, sizeof(out)));
	expect_u64(__LINE__, "no room: no answer", 0,
	           fcgi_get_values((const unsigned char *)q, sizeof(q) - 1, 64,
	                           out, 20));
	expect_u64(__LINE__, "no room for the header: no answer", 0,
	           fcgi_get_values(out, 0, 64, out, 7));
}

/* A name asked again is answered once: at most the three pairs. */
static void
test_get_values_twice(void)
{
	static const char q[] = "\15\0FCGI_MAX_REQS"
	                        "\15\0FCGI_MAX_REQS"
	                        "\16\0FCGI_MAX_CONNS"
	                        "\15\0FCGI_MAX_REQS"
	                        "\16\0FCGI_MAX_CONNS";
	static const char want[] = "\1\12\0\0\0\43\0\0"
	                           "\15\2FCGI_MAX_REQS64"
	                           "\16\2FCGI_MAX_CONNS64";
	unsigned char out[128];
	size_t n;

	n = fcgi_get_values((const unsigned char *)q, sizeof(q) - 1, 64, out,
	                    sizeof(out));
	expect_u64(__LINE__, "answer length", sizeof(want) - 1, n);
	expect_true(__LINE__, "each name answered once, in the order asked",
	            n == sizeof(want) - 1 && memcmp(out, want, n) == 0);
}

/* FCGI_MAX_REQS, asked with a 4-byte name length, is max_conns too. */
static void
test_get_values_reqs(void)
{
	static const char q[] = "\200\0\0\15\0FCGI_MAX_REQS";
	static const char want[] = "\1\12\0\0\0\20\0\0"
	                           "\15\1FCGI_MAX_REQS7";
	unsigned char out[128];
	size_t n;

	n = fcgi_get_values((const unsigned char *)q, sizeof(q) - 1, 7, out,
	                    sizeof(out));
	expect_true(__LINE__, "FCGI_MAX_REQS answered with max_conns",
	            n == sizeof(want) - 1 && memcmp(out, want, n) == 0);
}

static const struct unit_test fcgi_tests[] = {
	UNIT_TEST(test_records),
	UNIT_TEST(test_begin),
	UNIT_TEST(test_pairs),
	UNIT_TEST(test_pairs_limits),
	UNIT_TEST(test_types),
	UNIT_TEST(test_largest),
	UNIT_TEST(test_garbage),
	UNIT_TEST(test_framing),
	UNIT_TEST(test_get_values),
	UNIT_TEST(test_get_values_reqs),
	UNIT_TEST(test_get_values_twice),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "fcgi_proto", NULL, NULL, fcgi_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
