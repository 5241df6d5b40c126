/*
 * test_response.c - the response writer against a buffer sink: the CGI
 * status line and reason phrases, headers in order, a header with a
 * control character (CR, LF, DEL, TAB) in its name or value
 * refused and left out, a full header block refusing more and still
 * ending with its blank line, nothing sent before the first body byte or
 * resp_finish(), a failed sink dropping later writes and reporting
 * them, and resp_sendfile() without and with a sendfile in the sink.
 */
#include "unit.h"

#include <stdlib.h>

#include "response.h"

struct buf {
	char data[RESP_HEAD_MAX + 4096];
	size_t len;
	int fail_after; /* writes that succeed before the sink fails; -1 never
	                 */
	int writes;
	uint64_t sent_off, sent_n;
};

static int
buf_write(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;

	if (b->fail_after >= 0 && b->writes >= b->fail_after)
		return -1;
	b->writes++;
	if (b->len + n > sizeof(b->data))
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int
buf_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	struct buf *b = ctx;

	(void)fd;
	b->sent_off = off;
	b->sent_n = n;
	return 0;
}

static void
test_reasons(void)
{
	static const struct {
		unsigned line;
		int status;
		const char *reason;
	} t[] = {
		{ __LINE__, 200, "OK" },
		{ __LINE__, 206, "Partial Content" },
		{ __LINE__, 301, "Moved Permanently" },
		{ __LINE__, 304, "Not Modified" },
		{ __LINE__, 308, "Permanent Redirect" },
		{ __LINE__, 404, "Not Found" },
		{ __LINE__, 410, "Gone" },
		{ __LINE__, 416, "Range Not Satisfiable" },
		{ __LINE__, 503, "Service Unavailable" },
		{ __LINE__, 299, "Unknown" },
		{ __LINE__, 0, "Unknown" },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		expect_str(t[i].line, t[i].reason, t[i].reason,
		           resp_reason(t[i].status));
}

static void
test_headers(void)
{
	static const struct {
		unsigned line;
		const char *desc, *name, *value;
		int rc;
	} t[] = {
		{ __LINE__, "a plain header", "Content-Type", "text/plain", 0 },
		{ __LINE__, "CR LF in a value", "Location",
		  "https://x/\r\nSet-Cookie: a=b", -1 },
		{ __LINE__, "a lone LF", "Location", "https://x/\nX", -1 },
		{ __LINE__, "DEL", "X-A", "a\x7f", -1 },
		{ __LINE__, "TAB", "X-A", "a\tb", -1 },
		{ __LINE__, "CR in a name", "X-\rA", "v", -1 },
		{ __LINE__, "an empty value", "X-Empty", "", 0 },
		{ __LINE__, "UTF-8 bytes are not controls", "X-U",
		  "caf\xc3\xa9", 0 },
	};
	struct buf b = { .fail_after = -1 };
	struct sink s = { buf_write, &b, NULL };
	struct response *r = malloc(sizeof(*r));
	size_t i;

	require_true(__LINE__, "malloc", r != NULL);
	resp_begin(r, &s, 301);
	for (i = 0; i < NELEM(t); i++)
		expect_int(t[i].line, t[i].desc, t[i].rc,
		           resp_header(r, t[i].name, t[i].value));
	expect_int(__LINE__, "a number", 0,
	           resp_header_u64(r, "Content-Length", UINT64_MAX));
	expect_int(__LINE__, "nothing sent before the body", 0, b.len);
	expect_int(__LINE__, "resp_body", 0, resp_body(r, "body", 4));
	expect_mem(__LINE__, "the head, in order, then the body",
	           "Status: 301 Moved Permanently\r\n"
	           "Content-Type: text/plain\r\n"
	           "X-Empty: \r\n"
	           "X-U: caf\xc3\xa9\r\n"
	           "Content-Length: 18446744073709551615\r\n"
	           "\r\n"
	           "body",
	           b.data, b.len);
	expect_int(__LINE__, "a header after the head is refused", -1,
	           resp_header(r, "X-Late", "v"));
	expect_u64(__LINE__, "body bytes", 4, r->body_bytes);
	free(r);
}

/* A full header block refuses the header that does not fit. */
static void
test_full(void)
{
	struct buf b = { .fail_after = -1 };
	struct sink s = { buf_write, &b, NULL };
	struct response *r = malloc(sizeof(*r));
	char *big = malloc(RESP_HEAD_MAX);
	int added = 0;

	require_true(__LINE__, "malloc", r != NULL && big != NULL);
	memset(big, 'v', 1000);
	big[1000] = '\0';
	resp_begin(r, &s, 200);
	while (resp_header(r, "X-Big", big) == 0)
		added++;
	/* Each is "X-Big: " 1000 bytes "\r\n"; 2 bytes stay for the end. */
	expect_int(__LINE__, "as many headers as fit",
	           (RESP_HEAD_MAX - 2 - strlen("Status: 200 OK\r\n")) / 1009,
	           added);
	expect_true(__LINE__, "room for the blank line is kept",
	            r->len <= RESP_HEAD_MAX - 2);
	expect_int(__LINE__, "resp_finish", 0, resp_finish(r));
	expect_true(__LINE__, "the block ends with its blank line",
	            b.len >= 4 &&
	                    memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0);
	expect_int(__LINE__, "a second resp_finish sends nothing", 0,
	           resp_finish(r));
	expect_int(__LINE__, "... really", (long long)r->len, b.len);
	free(big);
	free(r);
}

static void
test_failed_sink(void)
{
	struct buf b = { .fail_after = 1 };
	struct sink s = { buf_write, &b, NULL };
	struct response *r = malloc(sizeof(*r));

	require_true(__LINE__, "malloc", r != NULL);
	resp_begin(r, &s, 200);
	expect_int(__LINE__, "the head goes out", 0, resp_body(r, "", 0));
	expect_int(__LINE__, "a body write to a gone client", -1,
	           resp_body(r, "abc", 3));
	expect_int(__LINE__, "failed is set", 1, r->failed);
	expect_int(__LINE__, "later writes are dropped", -1,
	           resp_body(r, "d", 1));
	expect_int(__LINE__, "... and not tried", 1, b.writes);
	expect_int(__LINE__, "resp_finish reports it", -1, resp_finish(r));
	expect_u64(__LINE__, "no body bytes counted", 0, r->body_bytes);
	free(r);
}

static void
test_sendfile(void)
{
	struct buf b = { .fail_after = -1 };
	struct sink plain = { buf_write, &b, NULL };
	struct sink sf = { buf_write, &b, buf_sendfile };
	struct response *r = malloc(sizeof(*r));

	require_true(__LINE__, "malloc", r != NULL);
	resp_begin(r, &plain, 206);
	expect_int(__LINE__, "no sendfile in the sink: 1, nothing sent", 1,
	           resp_sendfile(r, 0, 10, 20));
	expect_int(__LINE__, "... not even the head", 0, b.len);
	resp_begin(r, &sf, 206);
	expect_int(__LINE__, "with sendfile", 0, resp_sendfile(r, 0, 10, 20));
	expect_str(__LINE__, "the head first",
	           "Status: 206 Partial Content\r\n\r\n", b.data);
	expect_u64(__LINE__, "offset", 10, b.sent_off);
	expect_u64(__LINE__, "length", 20, b.sent_n);
	expect_u64(__LINE__, "counted as body", 20, r->body_bytes);
	free(r);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_reasons),  UNIT_TEST(test_headers),
	UNIT_TEST(test_full),     UNIT_TEST(test_failed_sink),
	UNIT_TEST(test_sendfile), UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "response", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
