/*
 * test_claim.c - one state dir, one redirects-url. Each open of
 * instance.lock is a lock of its own (flock(2) locks belong to the open
 * file), so one process plays several: a free dir is taken by whoever
 * checks it; held by live workers of URL A, it refuses B and names A,
 * and lets A in; when the last holder lets go, B takes it over.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claim.h"
#include "util.h"

static char dir[] = "/tmp/sherve-claim.XXXXXX";

static int
suite_init(void)
{
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

#define A "https://a.example/r.txt"
#define B "https://b.example/r.txt"

/* What instance.lock says. */
static void
recorded(char *out, size_t outsz)
{
	char path[600];
	FILE *fp;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/instance.lock", dir);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(out, (int)outsz, fp) == NULL)
		out[0] = '\0';
	fclose(fp);
}

static void
test_claims(void)
{
	char other[256], rec[256];
	int a1 = -1, a2 = -1, b = -1;

	expect_int(__LINE__, "a free dir: B may store", SH_OK,
	           claim_check(dir, B, other, sizeof(other)));
	recorded(rec, sizeof(rec));
	expect_str(__LINE__, "... and B is recorded", B "\n", rec);
	expect_int(__LINE__, "no holder: a worker of A takes it", SH_OK,
	           claim_hold(dir, A, &a1, other, sizeof(other)));
	expect_true(__LINE__, "... and holds an fd", a1 >= 0);
	recorded(rec, sizeof(rec));
	expect_str(__LINE__, "... A is recorded", A "\n", rec);
	expect_int(__LINE__, "a second worker of A joins", SH_OK,
	           claim_hold(dir, A, &a2, other, sizeof(other)));
	expect_int(__LINE__, "a worker of B is refused", SH_EBUSY,
	           claim_hold(dir, B, &b, other, sizeof(other)));
	expect_int(__LINE__, "... holds nothing", -1, b);
	expect_str(__LINE__, "... and learns A", A, other);
	expect_int(__LINE__, "a refresh for B is refused", SH_EBUSY,
	           claim_check(dir, B, other, sizeof(other)));
	expect_str(__LINE__, "... naming A", A, other);
	expect_int(__LINE__, "a refresh for A passes", SH_OK,
	           claim_check(dir, A, other, sizeof(other)));
	claim_release(a1);
	expect_int(__LINE__, "one A worker left: B still refused", SH_EBUSY,
	           claim_check(dir, B, other, sizeof(other)));
	claim_release(a2);
	expect_int(__LINE__, "no A worker left: B takes over", SH_OK,
	           claim_hold(dir, B, &b, other, sizeof(other)));
	recorded(rec, sizeof(rec));
	expect_str(__LINE__, "... and B is recorded", B "\n", rec);
	expect_int(__LINE__, "now A is refused", SH_EBUSY,
	           claim_check(dir, A, other, sizeof(other)));
	expect_str(__LINE__, "... naming B", B, other);
	claim_release(b);
	claim_release(-1); /* harmless */
}

static void
test_errors(void)
{
	char other[64] = "x";
	int fd = 7;

	expect_int(__LINE__, "no such dir: SH_EIO", SH_EIO,
	           claim_hold("/nonexistent/sherve", A, &fd, other,
	                      sizeof(other)));
	expect_int(__LINE__, "... and no fd", -1, fd);
	expect_int(__LINE__, "check: SH_EIO", SH_EIO,
	           claim_check("/nonexistent/sherve", A, other, sizeof(other)));
}

static const struct unit_test claim_tests[] = {
	UNIT_TEST(test_claims),
	UNIT_TEST(test_errors),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "claim", suite_init, suite_cleanup, claim_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
