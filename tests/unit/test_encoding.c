/*
 * test_encoding.c - encoding_accepted() over Accept-Encoding values
 * (RFC 9110 section 12.5.3): names in any case, x-gzip, q-values with up
 * to three decimals, q=0 refusing, "*" standing for every coding not
 * named, malformed q-values ignored, blanks around tokens; and the
 * suffix and token of each coding.
 */
#include "unit.h"

#include "encoding.h"

#define BR (1u << ENC_BR)
#define GZ (1u << ENC_GZIP)

static void
test_accepted(void)
{
	static const struct {
		unsigned line;
		const char *ae;
		unsigned want;
	} t[] = {
		{ __LINE__, NULL, 0 },
		{ __LINE__, "", 0 },
		{ __LINE__, "identity", 0 },
		{ __LINE__, "gzip", GZ },
		{ __LINE__, "GZIP", GZ },
		{ __LINE__, "x-gzip", GZ },
		{ __LINE__, "br", BR },
		{ __LINE__, "gzip, deflate, br", GZ | BR },
		{ __LINE__, "gzip;q=0, br", BR },
		{ __LINE__, "gzip;q=0.000, br;q=0.001", BR },
		{ __LINE__, "br;q=0.5, gzip;q=1.0", GZ | BR },
		{ __LINE__, "br ; q=0.5", BR },
		{ __LINE__, "*", GZ | BR },
		{ __LINE__, "*;q=0", 0 },
		{ __LINE__, "*;q=0, gzip", GZ },
		{ __LINE__, "br;q=0, *", GZ },
		{ __LINE__, "gzip;q=2", 0 },
		{ __LINE__, "gzip;x=1", 0 },
		{ __LINE__, "gzip;q=", 0 },
		{ __LINE__, "gzipper, brotli", 0 },
		{ __LINE__, " \tgzip\t ,br ", GZ | BR },
		{ __LINE__, ",,gzip,,", GZ },
	};
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		expect_int(t[i].line, t[i].ae ? t[i].ae : "(none)", t[i].want,
		           encoding_accepted(t[i].ae));
}

static void
test_names(void)
{
	expect_str(__LINE__, "br suffix", ".br", encoding_suffix(ENC_BR));
	expect_str(__LINE__, "gzip suffix", ".gz", encoding_suffix(ENC_GZIP));
	expect_str(__LINE__, "identity suffix", "",
	           encoding_suffix(ENC_IDENTITY));
	expect_str(__LINE__, "br token", "br", encoding_token(ENC_BR));
	expect_str(__LINE__, "gzip token", "gzip", encoding_token(ENC_GZIP));
	expect_str(__LINE__, "identity token", "",
	           encoding_token(ENC_IDENTITY));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_accepted),
	UNIT_TEST(test_names),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "encoding", NULL, NULL, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
