/*
 * test_pool.c - the pre-fork master of `sherve serve` (pool.c).
 *
 * pool.c is included here, with three macro seams put in front of it:
 * worker_run() (a worker is a fake that exits with a given status,
 * waits for a signal, says it is ready, or ignores SIGTERM, or the real
 * one), time() (the clock the respawn throttle and the drain deadline
 * read) and sleep() (the throttle's pause, counted instead of slept).
 * The workers are real processes; only what they do is faked.
 *
 *  - the listeners: a unix socket 0660 whatever the umask, a stale socket
 *    replaced but a file never removed, HOST:PORT and its errors, systemd
 *    socket activation (LISTEN_PID, LISTEN_FDS), no --listen;
 *  - respawn decisions: a worker that dies is replaced, one that died at
 *    once after a pause (the loop of a crashing worker is slowed), a
 *    worker that says the configuration is unusable stops the pool, the
 *    old generation, a drain and a stop are not respawned, a stranger's
 *    pid is ignored;
 *  - reload: a bad configuration is refused and changes nothing; a good
 *    one starts a new generation, waits until it says it is ready, then
 *    stops the old one; new workers that die before they are ready do
 *    not hold the reload up;
 *  - drain: workers stopped by SIGTERM, one that ignores it killed after
 *    shutdown-grace;
 *  - a real pool (pool_run(), real workers) in a child on a unix socket
 *    in a temporary dir, asked with FastCGI requests, reloaded with
 *    SIGHUP and stopped with SIGTERM (as root, with --user nobody: the
 *    socket is then nobody's, mode 0660). Waits are bounded; nothing
 *    asserts how long anything took.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgiget.h"
#include "worker.h"

enum fake { F_REAL, F_EXIT, F_WAIT, F_READY, F_STUBBORN };

static enum fake fake_mode = F_REAL;
static int fake_status;      /* F_EXIT: the worker's exit status */
static int fake_clock;       /* 1: time() is fake_now */
static time_t fake_now;      /* advanced by fake_step at each call */
static time_t fake_step;     /* drain: the deadline comes */
static unsigned fake_sleeps; /* sleep() calls, not slept */

static int fake_worker_run(const struct conf *c, enum worker_mode mode, int fd);
static time_t fake_time(time_t *t);
static unsigned fake_sleep(unsigned s);

#define worker_run fake_worker_run
#define time(t)    fake_time(t)
#define sleep(s)   fake_sleep(s)
#include "../../src/pool.c"
#undef worker_run
#undef time
#undef sleep

static int
fake_worker_run(const struct conf *c, enum worker_mode mode, int fd)
{
	struct sigaction sa;

	switch (fake_mode) {
	case F_REAL: return worker_run(c, mode, fd);
	case F_EXIT: return fake_status;
	case F_READY:
		if (pool.ready[1] < 0 || write(pool.ready[1], "r", 1) != 1)
			return 3;
		/* fall through */
	case F_WAIT: pause(); return 0;
	case F_STUBBORN:
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigaction(SIGTERM, &sa, NULL);
		for (;;)
			pause();
	}
	return 4;
}

static time_t
fake_time(time_t *t)
{
	time_t now;

	if (!fake_clock)
		return time(t);
	now = fake_now;
	fake_now += fake_step;
	if (t != NULL)
		*t = now;
	return now;
}

static unsigned
fake_sleep(unsigned s)
{
	if (!fake_clock)
		return sleep(s);
	fake_sleeps++;
	return 0;
}

static char base[] = "/tmp/sherve-pool.XXXXXX";

/* ---- stderr, captured ---- */

static struct unit_stderr log_cap;
static char logs[16384];

static void
logs_begin(void)
{
	unit_stderr_begin(&log_cap);
}

static void
logs_end(void)
{
	unit_stderr_end(&log_cap, logs, sizeof(logs));
}

/* ---- the pool's state, per test ---- */

static void
pool_reset(void)
{
	size_t i;

	for (i = 0; i < pool.nw; i++) {
		kill(pool.w[i].pid, SIGKILL);
		(void)waitpid(pool.w[i].pid, NULL, 0);
	}
	memset(&pool, 0, sizeof(pool));
	pool.fd = pool.ready[0] = pool.ready[1] = -1;
	got_term = got_hup = got_chld = 0;
	fake_mode = F_WAIT;
	fake_status = 0;
	fake_clock = 1;
	fake_now = 1000;
	fake_step = 0;
	fake_sleeps = 0;
}

static int
load(struct conf *c, int argc, char **argv)
{
	char err[256];

	if (conf_load(c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

static char *conf_argv[] = { "sherve",    "--config", "/dev/null",
	                     "--workers", "1",        "--shutdown-grace",
	                     "1",         NULL };

/*
 * Wait until pid has died, leaving it for pool_reap() to reap. Bounded
 * (20 s): a worker the code under test forgot to stop fails the row,
 * and is killed, instead of hanging the suite.
 */
static int
wait_dead(pid_t pid)
{
	siginfo_t si;
	int i;

	for (i = 0; i < 400; i++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si,
		           WEXITED | WNOWAIT | WNOHANG) != 0 &&
		    errno != EINTR)
			return -1;
		if (si.si_pid == pid)
			return 0;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	return -1;
}

static int
suite_init(void)
{
	log_set_level(SH_LOG_INFO);
	return mkdtemp(base) != NULL && chmod(base, 0755) == 0 ? 0 : -1;
}

static int
suite_cleanup(void)
{
	pool_reset();
	return unit_rmtree(base);
}

/* ---- the listeners ---- */

static void
test_listen_unix(void)
{
	char path[300], err[512] = "", want[600];
	struct stat st;
	mode_t old;
	int fd;

	pool_reset();
	snprintf(path, sizeof(path), "%s/s.sock", base);
	old = umask(0);
	fd = listen_unix(path, err, sizeof(err));
	umask(old);
	require_true(__LINE__, "a unix socket", fd >= 0);
	expect_true(__LINE__, "a socket, mode 0660 whatever the umask",
	            stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	                    (st.st_mode & 07777) == 0660);
	expect_str(__LINE__, "its path, to remove at stop", path,
	           pool.unix_path);
	expect_true(__LINE__, "close-on-exec",
	            (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	close(fd);
	fd = listen_unix(path, err, sizeof(err));
	expect_true(__LINE__, "a socket left by a killed master is replaced",
	            fd >= 0);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/file", base);
	require_true(__LINE__, "a file", unit_write_file(path, "keep") == 0);
	expect_int(__LINE__, "a file at the path", -1,
	           listen_unix(path, err, sizeof(err)));
	snprintf(want, sizeof(want), "listen: %s: %s", path,
	         strerror(EADDRINUSE));
	expect_str(__LINE__, "... says why", want, err);
	expect_true(__LINE__, "... and is left alone",
	            stat(path, &st) == 0 && S_ISREG(st.st_mode));
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	expect_int(__LINE__, "a path too long", -1,
	           listen_unix(path, err, sizeof(err)));
	expect_has(__LINE__, "... says so", err, ": path too long");
}

struct tcp_row {
	unsigned line;
	const char *desc, *spec;
	const char *err; /* NULL: listens */
};

static const struct tcp_row tcp_rows[] = {
	{ __LINE__, "loopback, any port", "127.0.0.1:0", NULL },
	{ __LINE__, "no port", "127.0.0.1",
	  "listen: 127.0.0.1: expected unix:/path or HOST:PORT" },
	{ __LINE__, "no host", ":9000",
	  "listen: :9000: expected unix:/path or HOST:PORT" },
	{ __LINE__, "a port that is no number", "127.0.0.1:http",
	  "listen: 127.0.0.1:http: " },
	{ __LINE__, "a host that is no address", "no such host!:9000",
	  "listen: no such host!:9000: " },
};

static void
test_listen_tcp(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char err[512];
	size_t i;
	int fd;

	for (i = 0; i < NELEM(tcp_rows); i++) {
		const struct tcp_row *t = &tcp_rows[i];

		err[0] = '\0';
		fd = listen_tcp(t->spec, err, sizeof(err));
		if (t->err != NULL) {
			expect_int(t->line, t->desc, -1, fd);
			expect_true(t->line, t->desc,
			            strncmp(err, t->err, strlen(t->err)) == 0);
			continue;
		}
		expect_true(t->line, t->desc,
		            fd >= 0 &&
		                    getsockname(fd, (struct sockaddr *)&sa,
		                                &len) == 0 &&
		                    sa.sin_family == AF_INET &&
		                    sa.sin_addr.s_addr == htonl(0x7f000001));
		if (fd >= 0)
			close(fd);
	}
}

static void
test_listen_systemd(void)
{
	char pid[32], err[256] = "";
	struct conf c;

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	expect_int(__LINE__, "LISTEN_PID another process", -1,
	           listen_systemd());
	expect_true(__LINE__, "... its variables left",
	            getenv("LISTEN_FDS") != NULL);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "0", 1);
	expect_int(__LINE__, "LISTEN_FDS 0", -1, listen_systemd());
	setenv("LISTEN_FDS", "2x", 1);
	expect_int(__LINE__, "LISTEN_FDS not a number", -1, listen_systemd());
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "sherve", 1);
	expect_int(__LINE__, "ours: the first passed descriptor", 3,
	           listen_systemd());
	expect_true(__LINE__, "... the variables are not passed on",
	            getenv("LISTEN_PID") == NULL &&
	                    getenv("LISTEN_FDS") == NULL &&
	                    getenv("LISTEN_FDNAMES") == NULL);
	require_true(__LINE__, "conf", load(&c, 3, conf_argv) == 0);
	expect_int(__LINE__, "no --listen, no systemd socket", -1,
	           pool_listen(&c, err, sizeof(err)));
	expect_str(__LINE__, "... says what to set",
	           "listen: not set (use --listen unix:/path or HOST:PORT)",
	           err);
	conf_free(&c);
}

static void
test_worker_count(void)
{
	struct conf c;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	require_true(__LINE__, "conf", load(&c, 5, conf_argv) == 0);
	expect_int(__LINE__, "--workers 1", 1, worker_count(&c));
	c.workers = 0;
	expect_int(__LINE__, "--workers 0: one per CPU", n > 0 ? n : 1,
	           worker_count(&c));
	conf_free(&c);
}

/* ---- respawn ---- */

/* Spawn one fake worker that exits with status, let it die, reap. */
static pid_t
die_and_reap(const struct conf *c, int status, time_t lived, int respawn)
{
	pid_t pid;

	fake_mode = F_EXIT;
	fake_status = status;
	pool_spawn(c);
	pid = pool.w[pool.nw - 1].pid;
	fake_mode = F_WAIT; /* what a respawned worker does */
	fake_now += lived;
	if (wait_dead(pid) != 0)
		return -1;
	pool_reap(c, respawn);
	return pid;
}

static void
test_respawn(void)
{
	struct conf c;
	pid_t pid;

	pool_reset();
	require_true(__LINE__, "conf", load(&c, 7, conf_argv) == 0);
	logs_begin();
	pid = die_and_reap(&c, 1, 60, 1);
	logs_end();
	require_true(__LINE__, "spawned", pid > 0);
	expect_int(__LINE__, "a dead worker is replaced", 1, pool.nw);
	expect_true(__LINE__, "... by a new process", pool.w[0].pid != pid);
	expect_int(__LINE__, "... of the same generation", 0, pool.w[0].gen);
	expect_int(__LINE__, "... at once: it had lived a minute", 0,
	           fake_sleeps);
	expect_has(__LINE__, "its status is logged", logs,
	           "exited with status 1");
	pool_reset();
	logs_begin();
	pid = die_and_reap(&c, 0, 0, 1);
	logs_end();
	expect_int(__LINE__, "one that dies at once is replaced too", 1,
	           pool.nw);
	expect_int(__LINE__, "... after a pause", 1, fake_sleeps);
	expect_lacks(__LINE__, "status 0 is not a failure", logs, "status");
	pool_reset();
	fake_mode = F_WAIT;
	pool_spawn(&c);
	pid = pool.w[0].pid;
	logs_begin();
	kill(pid, SIGKILL);
	wait_dead(pid);
	pool_reap(&c, 1);
	logs_end();
	expect_has(__LINE__, "a worker killed", logs, "killed by signal 9");
	expect_true(__LINE__, "... is replaced",
	            pool.nw == 1 && pool.w[0].pid != pid);
	conf_free(&c);
}

static void
test_no_respawn(void)
{
	struct conf c;
	pid_t stranger;

	pool_reset();
	require_true(__LINE__, "conf", load(&c, 7, conf_argv) == 0);
	logs_begin();
	(void)die_and_reap(&c, EXIT_CONFIG, 60, 1);
	logs_end();
	expect_int(__LINE__, "configuration unusable: not replaced", 0,
	           pool.nw);
	expect_true(__LINE__, "... the pool stops, with that status",
	            got_term && pool.fatal);
	expect_has(__LINE__, "... and says why", logs,
	           "found the configuration unusable; stopping");
	pool_reset();
	logs_begin();
	(void)die_and_reap(&c, 1, 60, 0);
	expect_int(__LINE__, "while draining: not replaced", 0, pool.nw);
	pool_reset();
	got_term = 1;
	(void)die_and_reap(&c, 1, 60, 1);
	expect_int(__LINE__, "when stopping: not replaced", 0, pool.nw);
	pool_reset();
	pool.gen = 1;
	fake_mode = F_EXIT;
	fake_status = 1;
	pool_spawn(&c);
	pool.gen = 2;
	fake_mode = F_WAIT;
	wait_dead(pool.w[0].pid);
	pool_reap(&c, 1);
	logs_end();
	expect_int(__LINE__, "an old generation: not replaced", 0, pool.nw);
	pool_reset();
	fake_mode = F_WAIT;
	pool_spawn(&c);
	if ((stranger = fork()) == 0)
		_exit(0);
	wait_dead(stranger);
	pool_reap(&c, 1);
	expect_true(__LINE__, "a stranger's pid is reaped",
	            waitpid(stranger, NULL, WNOHANG) < 0 && errno == ECHILD);
	expect_int(__LINE__, "... and changes nothing", 1, pool.nw);
	conf_free(&c);
}

/* ---- reload and drain ---- */

static void
test_reload(void)
{
	char *bad[] = { "sherve",    "--config", "/dev/null",
		        "--workers", "x",        NULL };
	char *good[] = { "sherve", "--config", "/dev/null",      "--workers",
		         "2",      "--listen", "127.0.0.1:9999", NULL };
	struct conf c;
	size_t i;

	pool_reset();
	require_true(__LINE__, "conf", load(&c, 5, conf_argv) == 0);
	pool.want = 1;
	pool_spawn(&c);
	logs_begin();
	pool_reload(5, bad, &c);
	logs_end();
	expect_has(__LINE__, "a bad configuration is refused", logs,
	           "reload refused, keeping the running configuration");
	expect_true(__LINE__, "... nothing changed",
	            pool.gen == 0 && pool.nw == 1 && c.workers == 1);
	fake_mode = F_READY;
	logs_begin();
	pool_reload(7, good, &c);
	fake_mode = F_WAIT;
	expect_true(__LINE__, "the old generation is told to stop",
	            wait_dead(pool.w[0].pid) == 0);
	pool_reap(&c, 1);
	logs_end();
	expect_int(__LINE__, "a new generation", 1, pool.gen);
	expect_int(__LINE__, "... of the new size", 2, pool.nw);
	for (i = 0; i < pool.nw; i++)
		expect_int(__LINE__, "... all of it new", 1, pool.w[i].gen);
	expect_int(__LINE__, "the new configuration", 2, c.workers);
	expect_has(__LINE__, "said", logs,
	           "reloaded; 2 workers of generation 1");
	expect_has(__LINE__, "a new listen needs a restart", logs,
	           "listen changed; it takes a restart");
	expect_lacks(__LINE__, "all were ready", logs, "ready after");
	expect_true(__LINE__, "the ready pipe is closed",
	            pool.ready[0] == -1 && pool.ready[1] == -1);
	fake_mode = F_EXIT;
	fake_status = 1;
	logs_begin();
	pool_reload(7, good, &c);
	logs_end();
	expect_has(__LINE__, "new workers that die do not hold it up", logs,
	           "0 of 2 new workers ready");
	expect_int(__LINE__, "... the generation after", 2, pool.gen);
	conf_free(&c);
	pool_reset();
}

static void
test_drain(void)
{
	struct conf c;

	pool_reset();
	require_true(__LINE__, "conf", load(&c, 7, conf_argv) == 0);
	pool_spawn(&c);
	pool_spawn(&c);
	logs_begin();
	pool_drain(&c);
	logs_end();
	expect_int(__LINE__, "workers stop on SIGTERM", 0, pool.nw);
	expect_lacks(__LINE__, "... none killed", logs, "killing them");
	fake_mode = F_STUBBORN;
	pool_spawn(&c);
	fake_step = 1; /* each look at the clock: a second later */
	logs_begin();
	pool_drain(&c);
	logs_end();
	expect_int(__LINE__, "one that ignores SIGTERM is killed", 0, pool.nw);
	expect_has(__LINE__, "... after shutdown-grace", logs,
	           "1 workers still busy after 1 s; killing them");
	conf_free(&c);
}

/* ---- a real pool ---- */

/* Poll (bounded: 20 s) until file holds needle. */
static int
wait_for_log(const char *file, const char *needle)
{
	static char text[65536];
	int i, fd;
	ssize_t n;

	for (i = 0; i < 400; i++) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			close(fd);
			text[n > 0 ? n : 0] = '\0';
			if (strstr(text, needle) != NULL)
				return 0;
		}
		usleep(50000);
	}
	return -1;
}

/* The master, in the child: stderr to log, pool_run() to the end. */
static void
run_master(char **argv, int argc, const char *path)
{
	struct conf c;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || dup2(fd, 2) < 0 || load(&c, argc, argv) != 0)
		_exit(99);
	pool_reset();
	fake_mode = F_REAL;
	fake_clock = 0;
	log_set_level(c.log_level);
	_exit(pool_run(argc, argv, &c));
}

/* The real pool's files, under base. */
static char sock[300], listen_at[310], www[300], state[300], log_path[300];

/* Its command line: 2 workers, --user nobody as root. Returns argc. */
static int
real_argv(char **argv)
{
	int argc = 0;

	argv[argc++] = "sherve";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--listen";
	argv[argc++] = listen_at;
	argv[argc++] = "--webroot";
	argv[argc++] = www;
	argv[argc++] = "--state-dir";
	argv[argc++] = state;
	argv[argc++] = "--workers";
	argv[argc++] = "2";
	if (geteuid() == 0) {
		argv[argc++] = "--user";
		argv[argc++] = "nobody";
	}
	argv[argc++] = "serve";
	argv[argc] = NULL;
	return argc;
}

/* The webroot, and (not root) the socket's dir, which as root
 * privdrop.c makes for nobody. */
static int
real_files(void)
{
	char path[340];

	snprintf(sock, sizeof(sock), "%s/run/sherve.sock", base);
	snprintf(listen_at, sizeof(listen_at), "unix:%s", sock);
	snprintf(www, sizeof(www), "%s/www", base);
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(log_path, sizeof(log_path), "%s/master.log", base);
	snprintf(path, sizeof(path), "%s/hello.txt", www);
	if (mkdir(www, 0755) != 0 || unit_write_file(path, "hello, pool\n"))
		return -1;
	snprintf(path, sizeof(path), "%s/run", base);
	return geteuid() != 0 && mkdir(path, 0755) != 0 ? -1 : 0;
}

static void
test_real_pool(void)
{
	char out[4096];
	char *argv[16];
	struct stat st;
	int argc, status = 0, dead;
	pid_t pid;

	require_true(__LINE__, "files", real_files() == 0);
	argc = real_argv(argv);
	fflush(NULL);
	if ((pid = fork()) == 0)
		run_master(argv, argc, log_path);
	require_true(__LINE__, "fork", pid > 0);
	if (!expect_int(__LINE__, "the pool starts", 0,
	                wait_for_log(log_path, "serve: 2 workers on"))) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	expect_int(__LINE__, "a FastCGI request", 0,
	           fcgiget(sock, "/hello.txt", out, sizeof(out)));
	expect_has(__LINE__, "... is answered from the webroot", out,
	           "\r\n\r\nhello, pool\n");
	expect_true(__LINE__, "the socket: 0660",
	            stat(sock, &st) == 0 && (st.st_mode & 07777) == 0660);
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");

		expect_true(__LINE__, "... nobody's, and its group",
		            pw != NULL && st.st_uid == pw->pw_uid &&
		                    st.st_gid == pw->pw_gid);
	}
	kill(pid, SIGHUP);
	expect_int(
	        __LINE__, "SIGHUP: a new generation", 0,
	        wait_for_log(log_path, "reloaded; 2 workers of generation 1"));
	expect_int(__LINE__, "... which answers", 0,
	           fcgiget(sock, "/hello.txt", out, sizeof(out)));
	expect_has(__LINE__, "... the same", out, "hello, pool\n");
	kill(pid, SIGTERM);
	dead = wait_dead(pid) == 0;
	expect_true(__LINE__, "SIGTERM: the master exits 0",
	            waitpid(pid, &status, 0) == pid && dead &&
	                    WIFEXITED(status) && WEXITSTATUS(status) == 0);
	expect_true(__LINE__, "... and removes its socket",
	            access(sock, F_OK) != 0 && errno == ENOENT);
}

int
main(void)
{
	/* systemd's rows last: the environment they set and unset leaves
	 * blocks valgrind reports in every later child. */
	static const struct unit_test tests[] = {
		UNIT_TEST(test_listen_unix),    UNIT_TEST(test_listen_tcp),
		UNIT_TEST(test_worker_count),   UNIT_TEST(test_respawn),
		UNIT_TEST(test_no_respawn),     UNIT_TEST(test_reload),
		UNIT_TEST(test_drain),          UNIT_TEST(test_real_pool),
		UNIT_TEST(test_listen_systemd), UNIT_END
	};
	static const struct unit_suite suites[] = {
		{ "pool", suite_init, suite_cleanup, tests },
		{ NULL, NULL, NULL, NULL }
	};

	/* A write to a worker gone is an error to see, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	/* The drain's last waitpid() has no bound of its own: a pool that
	 * never killed its workers ends here, failed, not hung. */
	alarm(300);
	return unit_main(suites);
}
