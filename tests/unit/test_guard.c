/*
 * test_guard.c - faults inside guard_run() come back as GUARD_FAULT:
 * a read past the end of a truncated file (SIGBUS), of memory mapped
 * with no access (SIGSEGV), guard_fail() (LMDB's assertion hook); nested
 * guards return to the innermost; a function that does not fault returns
 * its value; and a fault outside any guard still kills the process (in a
 * child).
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"

static char path[] = "/tmp/sherve-guard.XXXXXX";
static long pg;

static int
suite_init(void)
{
	int fd = mkstemp(path);

	pg = sysconf(_SC_PAGESIZE);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
suite_cleanup(void)
{
	return unlink(path);
}

/* A mapping of 4 pages of a file cut to 1: pages 1..3 raise SIGBUS. */
static char *
truncated_map(void)
{
	int fd = open(path, O_RDWR | O_TRUNC);
	char *p;

	if (fd < 0 || ftruncate(fd, 4 * pg) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)(4 * pg), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, pg) != 0)
		p = NULL;
	close(fd);
	return p;
}

static volatile char sink;

/*
 * Under valgrind (make check-valgrind), memcheck reports a read of a
 * PROT_NONE page as an error even when a handler catches the SIGSEGV,
 * and its own signal handling decides how a child dies: those cases are
 * left out there. Its preload library is in the environment it gives.
 */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

static int
read_at(void *ctx)
{
	sink = *(volatile char *)ctx;
	return 7;
}

static int
fail_now(void *ctx)
{
	guard_fail(ctx);
	return 1; /* not reached */
}

struct nest {
	char *bad;
	int inner;
	char why[160];
};

static int
outer(void *ctx)
{
	struct nest *n = ctx;

	n->inner = guard_run(read_at, n->bad, n->why, sizeof(n->why));
	return 42; /* goes on after the inner fault */
}

static void
test_faults(void)
{
	char why[160], *map = truncated_map(), *none;
	struct nest n;

	require_true(__LINE__, "a truncated mapping", map != NULL);
	expect_int(__LINE__, "a read that does not fault: its value", 7,
	           guard_run(read_at, map, why, sizeof(why)));
	expect_str(__LINE__, "... and no message", "", why);
	expect_int(__LINE__, "a read past the end of the file", GUARD_FAULT,
	           guard_run(read_at, map + 2 * pg, why, sizeof(why)));
	expect_has(__LINE__, "... is a SIGBUS", why, "SIGBUS");
	expect_int(__LINE__, "... and again (no signal left blocked)",
	           GUARD_FAULT,
	           guard_run(read_at, map + 3 * pg, why, sizeof(why)));
	none = mmap(NULL, (size_t)pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
	            -1, 0);
	require_true(__LINE__, "a PROT_NONE page", none != MAP_FAILED);
	if (!under_valgrind()) {
		expect_int(__LINE__, "a read of memory with no access",
		           GUARD_FAULT,
		           guard_run(read_at, none, why, sizeof(why)));
		expect_has(__LINE__, "... is a SIGSEGV", why, "SIGSEGV");
	}
	expect_int(__LINE__, "guard_fail() leaves like a fault", GUARD_FAULT,
	           guard_run(fail_now, "LMDB assertion: x", why, sizeof(why)));
	expect_str(__LINE__, "... with its message", "LMDB assertion: x", why);
	guard_fail("outside any guard"); /* returns */
	n.bad = map + 2 * pg;
	expect_int(__LINE__, "nested: the outer call goes on", 42,
	           guard_run(outer, &n, why, sizeof(why)));
	expect_int(__LINE__, "... the inner one faulted", GUARD_FAULT, n.inner);
	expect_has(__LINE__, "... with its own message", n.why, "SIGBUS");
	expect_str(__LINE__, "... and the outer has none", "", why);
	munmap(none, (size_t)pg);
	munmap(map, (size_t)(4 * pg));
}

/* Under a sanitizer, its own handler reports an unguarded fault: the
 * point of the test, but a report all the same. */
#if defined(__SANITIZE_ADDRESS__)
#define UNIT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNIT_SANITIZED 1
#endif
#endif

static void
test_unguarded(void)
{
#ifndef UNIT_SANITIZED
	char why[160], *map;
	int st = 0;
	pid_t pid;

	if (under_valgrind())
		return;
	map = truncated_map();

	require_true(__LINE__, "a truncated mapping", map != NULL);
	/* The handlers are installed, as in any process that used a guard. */
	require_true(__LINE__, "guard_install", guard_install() == 0);
	(void)guard_run(read_at, map, why, sizeof(why));
	fflush(NULL);
	require_true(__LINE__, "fork", (pid = fork()) >= 0);
	if (pid == 0) {
		sink = map[2 * pg]; /* outside any guard */
		_exit(0);
	}
	require_true(__LINE__, "waitpid", waitpid(pid, &st, 0) == pid);
	expect_true(__LINE__, "a fault outside a guard still kills, by SIGBUS",
	            WIFSIGNALED(st) && WTERMSIG(st) == SIGBUS);
	munmap(map, (size_t)(4 * pg));
#endif
}

static const struct unit_test guard_tests[] = {
	UNIT_TEST(test_unguarded), /* forks */
	UNIT_TEST(test_faults),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "guard_run", suite_init, suite_cleanup, guard_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
