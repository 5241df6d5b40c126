/*
 * test_sha256.c - SHA-256 against known digests: the FIPS 180-2 examples
 * (one block, two blocks, a million 'a'), every padding edge around the
 * 55/56/64-byte boundaries (digests from Python's hashlib), and the same
 * bytes fed in slices of every size from 1 to 130, which must not change
 * the digest.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

struct vector {
	unsigned line;
	const char *desc;
	const char *msg; /* NULL: n bytes of 'a' */
	size_t n;
	const char *hex;
};

static const struct vector vectors[] = {
	{ __LINE__, "empty", "", 0,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ __LINE__, "abc (FIPS 180-2 B.1)", "abc", 3,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ __LINE__, "448 bits (FIPS 180-2 B.2)",
	  "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ __LINE__, "896 bits",
	  "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  112,
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ __LINE__, "55 a: padding fits one block", NULL, 55,
	  "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ __LINE__, "56 a: the length spills into a second block", NULL, 56,
	  "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ __LINE__, "63 a", NULL, 63,
	  "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ __LINE__, "64 a: one whole block", NULL, 64,
	  "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ __LINE__, "65 a", NULL, 65,
	  "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ __LINE__, "119 a", NULL, 119,
	  "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ __LINE__, "120 a", NULL, 120,
	  "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	{ __LINE__, "127 a", NULL, 127,
	  "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a" },
	{ __LINE__, "128 a", NULL, 128,
	  "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
	{ __LINE__, "a million a (FIPS 180-2 B.3)", NULL, 1000000,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static void
test_vectors(void)
{
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX];
	size_t i;

	for (i = 0; i < NELEM(vectors); i++) {
		const struct vector *v = &vectors[i];
		char *buf = NULL;
		const char *p = v->msg;

		if (p == NULL) {
			require_true(v->line, "malloc",
			             (buf = malloc(v->n + 1)) != NULL);
			memset(buf, 'a', v->n);
			p = buf;
		}
		sha256(p, v->n, d);
		sha256_hex(d, hex);
		expect_str(v->line, v->desc, v->hex, hex);
		free(buf);
	}
}

/* 1 KiB of every byte value: the digest of its slices, fed any way. */
static void
test_slices(void)
{
	static const char want[] =
	        "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9";
	unsigned char data[1024], d[SHA256_LEN];
	char hex[SHA256_HEX], desc[64];
	struct sha256 c;
	size_t i, step, off;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)i;
	for (step = 1; step <= 130; step++) {
		sha256_init(&c);
		sha256_update(&c, NULL, 0);
		for (off = 0; off < sizeof(data); off += step)
			sha256_update(&c, data + off,
			              sizeof(data) - off < step
			                      ? sizeof(data) - off
			                      : step);
		sha256_final(&c, d);
		sha256_hex(d, hex);
		snprintf(desc, sizeof(desc), "fed in slices of %zu", step);
		expect_str(__LINE__, desc, want, hex);
	}
	/* A finished context, initialised again, starts afresh. */
	sha256_init(&c);
	sha256_update(&c, "abc", 3);
	sha256_final(&c, d);
	sha256_hex(d, hex);
	expect_str(
	        __LINE__, "reused context",
	        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	        hex);
}

static const struct unit_test sha256_tests[] = {
	UNIT_TEST(test_vectors),
	UNIT_TEST(test_slices),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "sha256", NULL, NULL, sha256_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
