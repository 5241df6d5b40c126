/*
 * test_refresh_state.c - the refresh bookkeeping record: encoded and
 * decoded whole; another layout, a damaged or a missing record reads as
 * zeros; strings at their longest round-trip; load and save through a
 * store, one record.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "refresh_state.h"
#include "store.h"
#include "util.h"

static char base[] = "/tmp/sherve-rstate.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(base) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

static void
sample(struct refresh_state *st)
{
	memset(st, 0, sizeof(*st));
	st->last_attempt = 1700000001;
	st->last_success = 1700000000;
	st->retry_at = 1700000600;
	st->failures = 3;
	st->count = 42;
	st->miss_fetch_at = 1700000002;
	st->miss_fetch_us = 1700000002123456ULL;
	st->updated_total = 7;
	st->not_modified_total = 8;
	st->failed_total = 9;
	st->last_result = REFRESH_FAILED;
	str_copy(st->source, "https://example.com/redirects.txt",
	         sizeof(st->source));
	str_copy(st->parse_options, "format=gosherve",
	         sizeof(st->parse_options));
	str_copy(st->etag, "\"abc\"", sizeof(st->etag));
	str_copy(st->last_modified, "Tue, 15 Nov 1994 08:12:31 GMT",
	         sizeof(st->last_modified));
	str_copy(st->last_error, "HTTP 500", sizeof(st->last_error));
}

static int
same(const struct refresh_state *a, const struct refresh_state *b)
{
	return a->last_attempt == b->last_attempt &&
	       a->last_success == b->last_success &&
	       a->retry_at == b->retry_at && a->failures == b->failures &&
	       a->count == b->count && a->miss_fetch_at == b->miss_fetch_at &&
	       a->miss_fetch_us == b->miss_fetch_us &&
	       a->updated_total == b->updated_total &&
	       a->not_modified_total == b->not_modified_total &&
	       a->failed_total == b->failed_total &&
	       a->last_result == b->last_result &&
	       strcmp(a->source, b->source) == 0 &&
	       strcmp(a->parse_options, b->parse_options) == 0 &&
	       strcmp(a->etag, b->etag) == 0 &&
	       strcmp(a->last_modified, b->last_modified) == 0 &&
	       strcmp(a->last_error, b->last_error) == 0;
}

static void
test_codec(void)
{
	static struct refresh_state a, b, zero;
	unsigned char buf[REFRESH_STATE_MAX];
	size_t len;

	sample(&a);
	len = refresh_state_encode(&a, buf, sizeof(buf));
	require_true(__LINE__, "encodes", len > 0);
	expect_int(__LINE__, "decodes", 0, refresh_state_decode(buf, len, &b));
	expect_int(__LINE__, "round trip", 1, same(&a, &b));
	expect_int(__LINE__, "too small a buffer", 0,
	           (long long)refresh_state_encode(&a, buf, 40));

	len = refresh_state_encode(&a, buf, sizeof(buf));
	expect_int(__LINE__, "cut short", -1,
	           refresh_state_decode(buf, len - 1, &b));
	expect_int(__LINE__, "cut short reads as zeros", 1, same(&b, &zero));
	expect_int(__LINE__, "a byte too many", -1,
	           refresh_state_decode(buf, len + 1, &b));
	buf[3] = 9; /* another layout */
	expect_int(__LINE__, "another layout", -1,
	           refresh_state_decode(buf, len, &b));
	expect_int(__LINE__, "another layout reads as zeros", 1,
	           same(&b, &zero));

	/* Every string at its longest. */
	memset(a.source, 's', sizeof(a.source) - 1);
	memset(a.parse_options, 'p', sizeof(a.parse_options) - 1);
	memset(a.etag, 'e', sizeof(a.etag) - 1);
	memset(a.last_modified, 'l', sizeof(a.last_modified) - 1);
	memset(a.last_error, 'x', sizeof(a.last_error) - 1);
	len = refresh_state_encode(&a, buf, sizeof(buf));
	require_true(__LINE__, "longest encodes", len > 0);
	expect_int(__LINE__, "longest decodes", 0,
	           refresh_state_decode(buf, len, &b));
	expect_int(__LINE__, "longest round trip", 1, same(&a, &b));
	expect_str(__LINE__, "result name", "failed",
	           refresh_result_name(REFRESH_FAILED));
	expect_str(__LINE__, "no result", "",
	           refresh_result_name(REFRESH_NONE));
}

static void
test_store(void)
{
	static struct refresh_state a, b, zero;
	static const struct store_kv old[] = { { "etag", "\"old\"", 0 } };
	char dir[512], err[256] = "";
	struct store *s = NULL;

	snprintf(dir, sizeof(dir), "%s/store", base);
	require_true(__LINE__, err,
	             store_open(dir, &s, err, sizeof(err)) == SH_OK);
	/* A store of the string keys' time: read as no state. */
	expect_int(__LINE__, "old key put", SH_OK, store_meta_put(s, old, 1));
	expect_int(__LINE__, "load without a record", SH_OK,
	           refresh_state_load(s, &b));
	expect_int(__LINE__, "reads as zeros", 1, same(&b, &zero));
	sample(&a);
	expect_int(__LINE__, "save", SH_OK, refresh_state_save(s, &a));
	expect_int(__LINE__, "load", SH_OK, refresh_state_load(s, &b));
	expect_int(__LINE__, "as saved", 1, same(&a, &b));
	a.failures = 0;
	a.last_result = REFRESH_UPDATED;
	expect_int(__LINE__, "save again", SH_OK, refresh_state_save(s, &a));
	expect_int(__LINE__, "load again", SH_OK, refresh_state_load(s, &b));
	expect_int(__LINE__, "the second", 1, same(&a, &b));
	store_close(s);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_codec),
	UNIT_TEST(test_store),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "refresh_state", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
