/*
 * unit.h - the shared CUnit harness of the unit tests.
 *
 * Each test program lists its suites in a table and calls unit_main(),
 * which registers them, runs CUnit's basic interface in verbose mode (its
 * summary goes to stdout) and returns 1 if any assertion or test failed,
 * 99 (automake's hard error) if CUnit itself failed, else 0.
 *
 * Tests are tables: each row carries __LINE__ and a description, and the
 * expect_* helpers report a failure as
 *     test_x.c:LINE: expected X, got Y for DESC
 * on stderr and record it with CUnit under the row's line.
 *
 * Caveats: everything here is static inline, for one translation unit per
 * test program. Messages longer than UNIT_MSG_MAX are truncated.
 */
#ifndef SHERVE_UNIT_H
#define SHERVE_UNIT_H

#include "config.h"

#include <CUnit/Basic.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_MSG_MAX 1024

struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;        /* may be NULL */
	CU_CleanupFunc cleanup;        /* may be NULL */
	const struct unit_test *tests; /* ends with { NULL, NULL } */
};

/* clang-format off */
#define UNIT_TEST(fn) { #fn, fn }
#define UNIT_END      { NULL, NULL }
/* clang-format on */

/* Record one assertion under file:line; on failure print msg too. */
static inline int
unit_record(int ok, const char *file, unsigned line, const char *msg)
{
	if (!ok)
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "",
	                        CU_FALSE);
	return ok;
}

/* Assert ok; the message is formatted only when it is needed. */
static inline int unit_check(int ok, const char *file, unsigned line,
                             const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static inline int
unit_check(int ok, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[UNIT_MSG_MAX];
	va_list ap;

	if (ok)
		return unit_record(1, file, line, "ok");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return unit_record(0, file, line, msg);
}

/* Print s (n bytes, or strlen if n is SIZE_MAX) with C escapes. */
static inline void
unit_quote(char *out, size_t outsz, const char *s, size_t n)
{
	size_t o = 0, i;

	if (s == NULL) {
		snprintf(out, outsz, "NULL");
		return;
	}
	if (n == SIZE_MAX)
		n = strlen(s);
	for (i = 0; i < n && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (i < n && o + 4 < outsz)
		snprintf(out + o, outsz - o, "...");
}

static inline int
unit_expect_int(const char *file, unsigned line, const char *desc,
                long long want, long long got)
{
	return unit_check(want == got, file, line,
	                  "expected %lld, got %lld for %s", want, got, desc);
}

static inline int
unit_expect_u64(const char *file, unsigned line, const char *desc,
                uint64_t want, uint64_t got)
{
	return unit_check(want == got, file, line,
	                  "expected %" PRIu64 ", got %" PRIu64 " for %s", want,
	                  got, desc);
}

/* Compare two NUL-terminated strings; NULL equals only NULL. */
static inline int
unit_expect_str(const char *file, unsigned line, const char *desc,
                const char *want, const char *got)
{
	char w[UNIT_MSG_MAX / 3], g[UNIT_MSG_MAX / 3];
	int ok = (want == NULL || got == NULL) ? want == got
	                                       : strcmp(want, got) == 0;

	if (ok)
		return unit_record(1, file, line, "ok");
	unit_quote(w, sizeof(w), want, SIZE_MAX);
	unit_quote(g, sizeof(g), got, SIZE_MAX);
	return unit_check(0, file, line, "expected \"%s\", got \"%s\" for %s",
	                  w, g, desc);
}

/* Compare n bytes of got with the NUL-terminated want. */
static inline int
unit_expect_mem(const char *file, unsigned line, const char *desc,
                const char *want, const char *got, size_t n)
{
	char w[UNIT_MSG_MAX / 3], g[UNIT_MSG_MAX / 3];
	int ok = strlen(want) == n && memcmp(want, got, n) == 0;

	if (ok)
		return unit_record(1, file, line, "ok");
	unit_quote(w, sizeof(w), want, SIZE_MAX);
	unit_quote(g, sizeof(g), got, n);
	return unit_check(0, file, line, "expected \"%s\", got \"%s\" for %s",
	                  w, g, desc);
}

/* Assert that hay (NUL-terminated) holds, or lacks, needle. */
static inline int
unit_expect_contains(const char *file, unsigned line, const char *desc,
                     const char *hay, const char *needle, int want)
{
	char h[UNIT_MSG_MAX / 2];
	int has = hay != NULL && strstr(hay, needle) != NULL;

	if (has == want)
		return unit_record(1, file, line, "ok");
	unit_quote(h, sizeof(h), hay, SIZE_MAX);
	return unit_check(0, file, line, "expected %s\"%s\", got \"%s\" for %s",
	                  want ? "" : "no ", needle, h, desc);
}

#define expect_int(line, desc, want, got)                                      \
	unit_expect_int(__FILE__, (unsigned)(line), (desc), (long long)(want), \
	                (long long)(got))
#define expect_u64(line, desc, want, got)                                      \
	unit_expect_u64(__FILE__, (unsigned)(line), (desc), (uint64_t)(want),  \
	                (uint64_t)(got))
#define expect_str(line, desc, want, got)                                      \
	unit_expect_str(__FILE__, (unsigned)(line), (desc), (want), (got))
#define expect_mem(line, desc, want, got, n)                                   \
	unit_expect_mem(__FILE__, (unsigned)(line), (desc), (want), (got), (n))
#define expect_has(line, desc, hay, needle)                                    \
	unit_expect_contains(__FILE__, (unsigned)(line), (desc), (hay),        \
	                     (needle), 1)
#define expect_lacks(line, desc, hay, needle)                                  \
	unit_expect_contains(__FILE__, (unsigned)(line), (desc), (hay),        \
	                     (needle), 0)
#define expect_true(line, desc, cond)                                          \
	unit_check(!!(cond), __FILE__, (unsigned)(line),                       \
	           "expected %s, got false for %s", #cond, (desc))
/* Setup steps that a test cannot go on without: stop the test. */
#define require_true(line, desc, cond)                                         \
	do {                                                                   \
		if (!expect_true(line, desc, cond))                            \
			return;                                                \
	} while (0)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Register suites (ending with a NULL name), run them and return the exit
 * status for automake: 0 pass, 1 fail, 99 harness error.
 */
static inline int
unit_main(const struct unit_suite *suites)
{
	unsigned failures, tests_failed, suites_failed;
	const struct unit_suite *su;
	const struct unit_test *t;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		return 99;
	}
	for (su = suites; su->name != NULL; su++) {
		if ((s = CU_add_suite(su->name, su->init, su->cleanup)) == NULL)
			goto fail;
		for (t = su->tests; t->name != NULL; t++)
			if (CU_add_test(s, t->name, t->fn) == NULL)
				goto fail;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	/* A failed suite init is counted below, not a harness error. */
	(void)CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	tests_failed = CU_get_number_of_tests_failed();
	suites_failed = CU_get_number_of_suites_failed();
	printf("\n%u assertions, %u failed; %u tests failed; %u suites "
	       "failed\n",
	       CU_get_number_of_asserts(), failures, tests_failed,
	       suites_failed);
	CU_cleanup_registry();
	return failures != 0 || tests_failed != 0 || suites_failed != 0 ? 1 : 0;
fail:
	fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
	CU_cleanup_registry();
	return 99;
}

static inline int
unit_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -r dir (a suite's temporary tree); no symlink is followed. */
static inline int
unit_rmtree(const char *dir)
{
	return nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to path (created or truncated). Returns 0, or -1. */
static inline int
unit_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	int rc;

	if (fp == NULL)
		return -1;
	rc = fputs(text, fp) < 0 ? -1 : 0;
	if (fclose(fp) != 0)
		rc = -1;
	return rc;
}

/*
 * Run fn(ctx) with stdout (fd 1 and the stdio stream) going to a file;
 * its text is returned in *out (malloc'd, NUL-terminated, NULL on a
 * failure of the capture itself). Returns fn's value.
 */
static inline int
unit_capture(int (*fn)(void *), void *ctx, char **out)
{
	FILE *tmp = tmpfile();
	int saved = -1, rc;
	long n;

	*out = NULL;
	fflush(stdout);
	if (tmp == NULL || (saved = dup(1)) < 0 || dup2(fileno(tmp), 1) < 0) {
		if (saved >= 0)
			close(saved);
		if (tmp != NULL)
			fclose(tmp);
		return fn(ctx);
	}
	rc = fn(ctx);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if ((n = ftell(tmp)) >= 0 && (*out = malloc((size_t)n + 1)) != NULL) {
		rewind(tmp);
		if (fread(*out, 1, (size_t)n, tmp) != (size_t)n) {
			free(*out);
			*out = NULL;
		} else {
			(*out)[n] = '\0';
		}
	}
	fclose(tmp);
	return rc;
}

/*
 * stderr (fd 2 and the stdio stream) into a temporary file, from
 * unit_stderr_begin() to unit_stderr_end(), which puts what was written
 * into out (NUL-terminated, cut at outsz - 1) and restores stderr. A
 * capture that cannot start leaves stderr as it is and out empty.
 */
struct unit_stderr {
	FILE *tmp;
	int saved;
};

static inline void
unit_stderr_begin(struct unit_stderr *c)
{
	fflush(stderr);
	c->saved = -1;
	if ((c->tmp = tmpfile()) == NULL)
		return;
	if ((c->saved = dup(2)) < 0 || dup2(fileno(c->tmp), 2) < 0) {
		if (c->saved >= 0)
			close(c->saved);
		fclose(c->tmp);
		c->tmp = NULL;
	}
}

static inline void
unit_stderr_end(struct unit_stderr *c, char *out, size_t outsz)
{
	size_t n = 0;

	if (c->tmp != NULL) {
		fflush(stderr);
		dup2(c->saved, 2);
		close(c->saved);
		rewind(c->tmp);
		n = fread(out, 1, outsz - 1, c->tmp);
		fclose(c->tmp);
		c->tmp = NULL;
	}
	out[n] = '\0';
}

#endif
