/*
 * test_refresher.c - a refresh is a process of its own (refresher.h).
 *
 * refresher_start() runs /proc/self/exe: this program. Run as `refresh
 * --MODE`, it reports what it was given to the file UNIT_REFRESHER_OUT
 * names (a variable that is not SHERVE_*, so it is passed on): its
 * arguments, its SHERVE_* variables, its open descriptors, whether
 * SIGTERM is blocked and SIGPIPE ignored, whether it leads a session.
 * Then --scheduled exits 0, --miss 75, and --startup waits for a signal.
 * The parent starts it with SIGTERM blocked, SIGPIPE ignored, a stray
 * SHERVE_* variable and a descriptor open without close-on-exec, as a
 * worker or the web server before it may leave them.
 *
 * Under valgrind (make check-valgrind), /proc/self/exe is memcheck, which
 * refuses to run this program: the tests that start a process are left
 * out there, and the environment a child gets (child_env(), included
 * below) is checked without one.
 */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/refresher.c"
#include "conf.h"
#include "exitcode.h"
#include "refresher.h"
#include "util.h"

static char tmpdir[] = "/tmp/sherve-refresher.XXXXXX";
static char out[256];   /* the child's report */
static char stray[256]; /* a file the parent holds open, not close-on-exec */
static int stray_fd = -1;
static const char *argv0;

/* ---- The child: `refresh --MODE` ---- */

/* Its open descriptors in order, "N:TARGET;" each. */
static void
list_fds(char *buf, size_t bufsz)
{
	char path[64], target[256];
	size_t len = 0;
	ssize_t n;
	int fd;

	buf[0] = '\0';
	for (fd = 0; fd < 1024 && len < bufsz; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		len += (size_t)snprintf(buf + len, bufsz - len, "%d:%s;", fd,
		                        target);
	}
}

static int
child(int argc, char **argv)
{
	char fds[2048], tmp[300];
	const char *path = getenv("UNIT_REFRESHER_OUT");
	struct sigaction pipe;
	sigset_t mask;
	FILE *fp;
	char **e;

	list_fds(fds, sizeof(fds));
	if (path == NULL ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp) ||
	    (fp = fopen(tmp, "w")) == NULL)
		return 98;
	fprintf(fp, "argc=%d\nmode=%s\nfds=%s\n", argc, argv[2], fds);
	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "SHERVE_", 7) == 0)
			fprintf(fp, "env=%s\n", *e);
	sigprocmask(SIG_BLOCK, NULL, &mask);
	sigaction(SIGPIPE, NULL, &pipe);
	fprintf(fp, "term_blocked=%d\npipe_ignored=%d\nleader=%d\n",
	        sigismember(&mask, SIGTERM), pipe.sa_handler == SIG_IGN,
	        getsid(0) == getpid());
	/* Whole or not at all: the parent may stop it once it is there. */
	if (fclose(fp) != 0 || rename(tmp, path) != 0)
		return 98;
	if (strcmp(argv[2], "--startup") == 0)
		for (;;)
			pause(); /* until the parent's SIGTERM */
	return strcmp(argv[2], "--miss") == 0 ? EXIT_TEMPFAIL : EXIT_OK;
}

/* ---- The parent ---- */

static char report[8192];

/* Read the child's report into report; 0 on success. */
static int
read_report(void)
{
	FILE *fp = fopen(out, "r");
	size_t n;

	report[0] = '\0';
	if (fp == NULL)
		return -1;
	n = fread(report, 1, sizeof(report) - 1, fp);
	report[n] = '\0';
	fclose(fp);
	return 0;
}

/* The number of lines of report that start with prefix. */
static unsigned
count_lines(const char *prefix)
{
	const char *p = report;
	unsigned n = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return n;
}

static int
suite_init(void)
{
	sigset_t term;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(out, sizeof(out), "%s/report", tmpdir);
	snprintf(stray, sizeof(stray), "%s/stray", tmpdir);
	/* What a worker may hold or have inherited. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if ((stray_fd = open(stray, O_WRONLY | O_CREAT, 0600)) < 0 ||
	    sigprocmask(SIG_BLOCK, &term, NULL) != 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	setenv("UNIT_REFRESHER_OUT", out, 1);
	setenv("SHERVE_NOT_A_SETTING", "1", 1);
	return 0;
}

static int
suite_cleanup(void)
{
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	(void)sigprocmask(SIG_UNBLOCK, &term, NULL);
	if (stray_fd >= 0)
		close(stray_fd);
	unlink(out);
	unlink(stray);
	return rmdir(tmpdir) == 0 ? 0 : -1;
}

static int
load(struct conf *c)
{
	char *argv[] = { "test",
		         "--config",
		         "/dev/null",
		         "--fetch-timeout",
		         "17",
		         "--redirects-url",
		         "https://example.com/r.txt" };
	char err[256];

	return conf_load(c, (int)NELEM(argv), argv, err, sizeof(err));
}

/* See the top: memcheck's preload library is in the environment. */
static int
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

/* 1 if env holds the entry want whole. */
static int
env_has(char **env, const char *want)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++)
		if (strcmp(env[i], want) == 0)
			return 1;
	return 0;
}

static void
test_child_env(void)
{
	char want[256], kept[300], **env;
	size_t first = 0, nset, total, nsh = 0;
	struct conf c;

	require_true(__LINE__, "conf", load(&c) == SH_OK);
	require_true(__LINE__, "child_env",
	             (env = child_env(&c, &first)) != NULL);
	for (nset = 0; conf_env_entry(&c, nset, want, sizeof(want)) > 0; nset++)
		expect_true(__LINE__, want, env_has(env, want));
	expect_true(__LINE__, "no config file", env_has(env, "SHERVE_CONFIG="));
	snprintf(kept, sizeof(kept), "UNIT_REFRESHER_OUT=%s", out);
	expect_true(__LINE__, "the rest of the environment is kept",
	            env_has(env, kept));
	expect_true(__LINE__, "not the stray SHERVE_ variable",
	            !env_has(env, "SHERVE_NOT_A_SETTING=1"));
	for (total = 0; env[total] != NULL; total++)
		if (strncmp(env[total], "SHERVE_", 7) == 0)
			nsh++;
	expect_int(__LINE__, "one SHERVE_ entry per setting, and CONFIG",
	           (int)nset + 1, (int)nsh);
	expect_int(__LINE__, "... after the entries kept", (int)nset + 1,
	           (int)(total - first));
	env_free(env, first);
	conf_free(&c);
}

static void
test_not_sherve(void)
{
	struct conf c;
	pid_t pid = 0;

	require_true(__LINE__, "conf", load(&c) == SH_OK);
	/* Before refresher_init() this program would only run itself. */
	expect_int(__LINE__, "no refresh before refresher_init()", SH_EINVAL,
	           refresher_start(&c, REFRESHER_SCHEDULED, &pid));
	expect_int(__LINE__, "... and no process", 0, (int)pid);
	conf_free(&c);
}

/* Start a refresh in mode m, the report of the last one removed. */
static int
start(struct conf *c, enum refresher_mode m, pid_t *pid)
{
	unlink(out);
	return load(c) == SH_OK && refresher_start(c, m, pid) == SH_OK ? 0 : -1;
}

/* refresher_poll() every 10 ms, up to tenths of a second; the code. */
static int
poll_end(pid_t pid, int tenths)
{
	int rc = -1, n;

	for (n = 0; n < tenths * 10 && !refresher_poll(pid, &rc); n++)
		usleep(10000);
	return rc;
}

static void
test_scheduled(void)
{
	char want[256];
	struct conf c;
	size_t i;
	pid_t pid;

	refresher_init(argv0);
	require_true(__LINE__, "started",
	             start(&c, REFRESHER_SCHEDULED, &pid) == 0);
	expect_int(__LINE__, "exit 0 is SH_OK", SH_OK, refresher_wait(pid));
	require_true(__LINE__, "report", read_report() == 0);
	expect_has(__LINE__, "argv: refresh and the mode", report,
	           "argc=3\nmode=--scheduled\n");
	expect_has(__LINE__, "the setting from the command line", report,
	           "env=SHERVE_FETCH_TIMEOUT=17\n");
	expect_has(__LINE__, "every setting", report,
	           "env=SHERVE_REDIRECTS_URL=https://example.com/r.txt\n");
	expect_has(__LINE__, "no config file", report, "env=SHERVE_CONFIG=\n");
	expect_lacks(__LINE__, "not the parent's stray SHERVE_ variable",
	             report, "SHERVE_NOT_A_SETTING");
	for (i = 0; conf_env_entry(&c, i, want, sizeof(want)) > 0; i++)
		if (strlen(want) < sizeof(want) - 1) /* not cut */
			expect_has(__LINE__, "a setting as the parent has it",
			           report, want);
	expect_int(__LINE__, "one SHERVE_ variable per setting, and CONFIG",
	           (int)i + 1, (int)count_lines("env=SHERVE_"));
	expect_has(__LINE__, "stdin and stdout on /dev/null", report,
	           "fds=0:/dev/null;1:/dev/null;2:");
	expect_lacks(__LINE__, "no descriptor past 2", report, ";3:");
	expect_lacks(__LINE__, "not the one left open without close-on-exec",
	             report, stray);
	expect_has(__LINE__, "SIGTERM not blocked", report, "term_blocked=0\n");
	expect_has(__LINE__, "SIGPIPE not ignored", report, "pipe_ignored=0\n");
	expect_has(__LINE__, "in the worker's session", report, "leader=0\n");
	conf_free(&c);
}

static void
test_miss(void)
{
	struct conf c;
	pid_t pid;

	require_true(__LINE__, "started", start(&c, REFRESHER_MISS, &pid) == 0);
	expect_int(__LINE__, "exit 75 is SH_EBUSY", SH_EBUSY,
	           refresher_wait(pid));
	require_true(__LINE__, "report", read_report() == 0);
	expect_has(__LINE__, "refresh --miss", report, "mode=--miss\n");
	expect_has(__LINE__, "stderr is the parent's", report, "2:");
	expect_lacks(__LINE__, "... not /dev/null", report, "2:/dev/null");
	conf_free(&c);
}

static void
test_detached(void)
{
	struct conf c;
	pid_t pid;

	require_true(__LINE__, "started",
	             start(&c, REFRESHER_DETACHED, &pid) == 0);
	/* Polled, as the timer does; bounded at 20 s. */
	expect_int(__LINE__, "ended, exit 0", SH_OK, poll_end(pid, 200));
	require_true(__LINE__, "report", read_report() == 0);
	expect_has(__LINE__, "refresh --scheduled", report,
	           "mode=--scheduled\n");
	expect_has(__LINE__, "all three streams on /dev/null", report,
	           "fds=0:/dev/null;1:/dev/null;2:/dev/null;\n");
	expect_has(__LINE__, "a session of its own", report, "leader=1\n");
	conf_free(&c);
}

static void
test_stopped(void)
{
	struct conf c;
	pid_t pid;
	int rc = -1, n;

	require_true(__LINE__, "started",
	             start(&c, REFRESHER_STARTUP, &pid) == 0);
	/* It waits for a signal once its report is written. */
	for (n = 0; n < 2000 && access(out, F_OK) != 0; n++)
		usleep(10000);
	expect_int(__LINE__, "running: not ended", 0, refresher_poll(pid, &rc));
	expect_int(__LINE__, "SIGTERM sent", 0, kill(pid, SIGTERM));
	/* Bounded: a child that kept SIGTERM blocked would never end. */
	if (!expect_int(__LINE__, "SIGTERM ended it, which is SH_EIO", SH_EIO,
	                poll_end(pid, 100))) {
		kill(pid, SIGKILL);
		(void)refresher_wait(pid);
	}
	require_true(__LINE__, "report", read_report() == 0);
	expect_has(__LINE__, "refresh --startup", report, "mode=--startup\n");
	conf_free(&c);
}

static struct unit_test tests[] = {
	UNIT_TEST(test_child_env),
	UNIT_TEST(test_not_sherve), /* before refresher_init() */
	/* From here on each starts a process: not under valgrind. */
	UNIT_TEST(test_scheduled),
	UNIT_TEST(test_miss),
	UNIT_TEST(test_detached),
	UNIT_TEST(test_stopped),
	UNIT_END,
};
#define FIRST_SPAWNING 2

static const struct unit_suite suites[] = {
	{ "refresher", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "refresh") == 0)
		return child(argc, argv);
	argv0 = argv[0];
	if (under_valgrind()) {
		printf("under valgrind: the tests that start a process are "
		       "left out\n");
		tests[FIRST_SPAWNING] = tests[NELEM(tests) - 1];
	}
	return unit_main(suites);
}
