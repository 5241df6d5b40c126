/*
 * test_webroot.c - the webroot fd held between requests: within a clock
 * tick no stat at all, at the next tick one stat, and a new fd when
 * another directory stands at the path. The clock and stat(2) are seams
 * (src/webroot.c is included here), so ticks are exact, not slept for.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct timespec fake_now;
static unsigned stats;

static int
fake_clock(struct timespec *ts)
{
	*ts = fake_now;
	return 0;
}

static int
counted_stat(const char *path, struct stat *st)
{
	stats++;
	return stat(path, st);
}

static unsigned warned, recovered, opens;

static int
counted_open(const char *path, int flags)
{
	opens++;
	return open(path, flags);
}

/* The log lines, counted (their arguments are still checked by format). */
static void __attribute__((format(printf, 1, 2)))
count_warn(const char *fmt, ...)
{
	(void)fmt;
	warned++;
}

static void __attribute__((format(printf, 1, 2)))
count_info(const char *fmt, ...)
{
	(void)fmt;
	recovered++;
}

#define TICK_CLOCK(ts)         fake_clock(ts)
#define WEBROOT_STAT(path, st) counted_stat((path), (st))
#define WEBROOT_OPEN(path, fl) counted_open((path), (fl))
#define WEBROOT_WARN           count_warn
#define WEBROOT_INFO           count_info
#include "../../src/webroot.c"

static char dir[] = "/tmp/sherve-webroot.XXXXXX";
static char link_path[300], rel_a[300], rel_b[300];

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(link_path, sizeof(link_path), "%s/site", dir);
	snprintf(rel_a, sizeof(rel_a), "%s/a", dir);
	snprintf(rel_b, sizeof(rel_b), "%s/b", dir);
	return mkdir(rel_a, 0755) || mkdir(rel_b, 0755) ||
	       symlink(rel_a, link_path);
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

static ino_t
ino_of_fd(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static ino_t
ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void
flip_to(const char *target)
{
	char tmp[320];

	snprintf(tmp, sizeof(tmp), "%s.new", link_path);
	require_true(__LINE__, "flip",
	             symlink(target, tmp) == 0 && rename(tmp, link_path) == 0);
}

static void
test_ticks(void)
{
	struct webroot w = { 0 };
	int fd, i;

	fake_now.tv_sec = 100;
	expect_true(__LINE__, "nothing held: not current",
	            !webroot_current(&w, link_path));
	fd = webroot_fd(&w, link_path);
	expect_true(__LINE__, "first call opens a",
	            ino_of_fd(fd) == ino_of(rel_a));
	stats = 0;
	for (i = 0; i < 1000; i++)
		webroot_fd(&w, link_path);
	expect_int(__LINE__, "1000 calls in the same tick: no stat", 0, stats);

	flip_to(rel_b);
	fd = webroot_fd(&w, link_path);
	expect_true(__LINE__, "flipped within the tick: still a (held)",
	            ino_of_fd(fd) == ino_of(rel_a));
	expect_true(__LINE__, "... though webroot_current() says it is not",
	            !webroot_current(&w, link_path));

	fake_now.tv_nsec = 4000000; /* the next tick */
	stats = 0;
	fd = webroot_fd(&w, link_path);
	expect_int(__LINE__, "the next tick: one stat", 1, stats);
	expect_true(__LINE__, "... and b is held",
	            ino_of_fd(fd) == ino_of(rel_b));
	expect_true(__LINE__, "... and current",
	            webroot_current(&w, link_path));

	fake_now.tv_nsec = 8000000;
	stats = 0;
	fd = webroot_fd(&w, link_path);
	expect_int(__LINE__, "unchanged at a tick: one stat, same fd", 1,
	           stats);
	expect_true(__LINE__, "... b still", ino_of_fd(fd) == ino_of(rel_b));

	require_true(__LINE__, "remove the link", unlink(link_path) == 0);
	fake_now.tv_nsec = 12000000;
	expect_int(__LINE__, "gone at a tick: -1", -1,
	           webroot_fd(&w, link_path));
	expect_int(__LINE__, "... with ENOENT", ENOENT, errno);
	expect_true(__LINE__, "... and nothing held", !w.open);
	expect_int(__LINE__, "... logged once", 1, warned);
	stats = opens = 0;
	for (i = 0; i < 1000; i++)
		fd = webroot_fd(&w, link_path);
	expect_int(__LINE__, "1000 calls in the failed tick: -1", -1, fd);
	expect_int(__LINE__, "... with its errno", ENOENT, errno);
	expect_int(__LINE__, "... and not one stat or open", 0, stats + opens);
	fake_now.tv_nsec = 16000000;
	expect_int(__LINE__, "still gone at the next tick: -1", -1,
	           webroot_fd(&w, link_path));
	expect_int(__LINE__, "... tried again (one open)", 1, opens);
	expect_int(__LINE__, "... and not logged again", 1, warned);
	require_true(__LINE__, "link back", symlink(rel_a, link_path) == 0);
	expect_int(__LINE__, "back, in the same tick: still -1", -1,
	           webroot_fd(&w, link_path));
	fake_now.tv_nsec = 20000000;
	fd = webroot_fd(&w, link_path);
	expect_true(__LINE__, "back: opened at the next tick",
	            ino_of_fd(fd) == ino_of(rel_a));
	expect_int(__LINE__, "... and the recovery logged once", 1, recovered);
	fake_now.tv_nsec = 24000000;
	fd = webroot_fd(&w, link_path);
	expect_int(__LINE__, "... once only", 1, recovered);
	expect_int(__LINE__, "... with no new warning", 1, warned);

	require_true(__LINE__, "a file where the webroot was",
	             unlink(link_path) == 0 &&
	                     symlink("/dev/null", link_path) == 0);
	fake_now.tv_nsec = 28000000;
	expect_int(__LINE__, "not a directory: -1", -1,
	           webroot_fd(&w, link_path));
	expect_int(__LINE__, "... with ENOTDIR", ENOTDIR, errno);
	expect_int(__LINE__, "... logged", 2, warned);
	require_true(__LINE__, "gone instead", unlink(link_path) == 0);
	fake_now.tv_nsec = 32000000;
	(void)webroot_fd(&w, link_path);
	expect_int(__LINE__, "another errno (ENOENT): logged again", 3, warned);
	require_true(__LINE__, "link back", symlink(rel_a, link_path) == 0);
	fake_now.tv_nsec = 36000000;
	fd = webroot_fd(&w, link_path);
	expect_true(__LINE__, "back again", ino_of_fd(fd) == ino_of(rel_a));
	expect_int(__LINE__, "... recovery logged", 2, recovered);
	webroot_close(&w);
	expect_true(__LINE__, "closed", !w.open && w.fd == -1);
	webroot_close(&w); /* twice is harmless */
}

static const struct unit_test webroot_tests[] = {
	UNIT_TEST(test_ticks),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "webroot_fd", suite_init, suite_cleanup, webroot_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
