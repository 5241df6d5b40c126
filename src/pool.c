/* pool.c - the pre-fork master of `sherve serve`; see pool.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "fcgi.h"
#include "log.h"
#include "pool.h"
#include "privdrop.h"
#include "util.h"
#include "worker.h"

#define POOL_MAX_WORKERS    1024
#define POOL_BACKLOG        1024
#define POOL_READY_MS       5000 /* reload: the most the old generation waits */
#define SD_LISTEN_FDS_START 3

struct worker {
	pid_t pid;
	unsigned gen;
	time_t started;
};

static struct {
	int fd;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct worker w[2 * POOL_MAX_WORKERS]; /* two generations on HUP */
	size_t nw, want;
	unsigned gen;
	int fatal;    /* a worker found the configuration unusable */
	int ready[2]; /* reload: each new worker writes a byte when it waits */
} pool = { .fd = -1, .ready = { -1, -1 } };

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
}

static int
listen_unix(const char *path, char *err, size_t errsz)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path, path, sizeof(sa.sun_path)) >=
	    sizeof(sa.sun_path)) {
		snprintf(err, errsz, "listen: %s: path too long", path);
		return -1;
	}
	/* A socket left by a killed master would make bind() fail. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	/* 0660: only the owner (--user) and its group (the web server's,
	 * see sherve(8)) may connect; the umask closes the window between
	 * bind() and chmod(). */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
		mode_t old = umask(0177);

		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		umask(old);
	}
	if (fd < 0 || rc != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, POOL_BACKLOG) != 0) {
		snprintf(err, errsz, "listen: %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	str_copy(pool.unix_path, path, sizeof(pool.unix_path));
	return fd;
}

static int
listen_tcp(const char *spec, char *err, size_t errsz)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *colon = strrchr(spec, ':');
	int fd = -1, one = 1, rc;

	if (colon == NULL || colon == spec ||
	    (size_t)(colon - spec) >= sizeof(host)) {
		snprintf(err, errsz,
		         "listen: %s: expected unix:/path or "
		         "HOST:PORT",
		         spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	/* "[::1]:9000": the brackets only delimit the IPv6 address. */
	if (host[0] == '[' && host[colon - spec - 1] == ']') {
		host[colon - spec - 1] = '\0';
		memmove(host, host + 1, (size_t)(colon - spec) - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errsz, "listen: %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		                 sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, POOL_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(err, errsz, "listen: %s: %s", spec, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* systemd socket activation: LISTEN_PID is us and LISTEN_FDS >= 1. */
static int
listen_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *why;
	uint64_t p, n;

	if (pid == NULL || fds == NULL ||
	    parse_u64(pid, 1, UINT64_MAX, &p, &why) != 0 ||
	    parse_u64(fds, 1, 64, &n, &why) != 0 || (pid_t)p != getpid())
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return SD_LISTEN_FDS_START;
}

static int
pool_listen(const struct conf *c, char *err, size_t errsz)
{
	int fd = listen_systemd();

	if (fd >= 0)
		return fd;
	if (c->listen[0] == '\0') {
		snprintf(err, errsz,
		         "listen: not set (use --listen "
		         "unix:/path or HOST:PORT)");
		return -1;
	}
	if (strncmp(c->listen, "unix:", 5) == 0)
		return listen_unix(c->listen + 5, err, errsz);
	return listen_tcp(c->listen, err, errsz);
}

static void
pool_spawn(const struct conf *c)
{
	sigset_t none;
	pid_t pid;

	if (pool.nw == sizeof(pool.w) / sizeof(pool.w[0]))
		return;
	if ((pid = fork()) < 0) {
		log_warn("serve: fork");
		return;
	}
	if (pid == 0) {
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* fcgi_run() installs its handlers and takes these signals
		 * only while it waits. */
		sigemptyset(&none);
		sigaddset(&none, SIGHUP);
		sigaddset(&none, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &none, NULL);
		if (pool.ready[0] >= 0)
			close(pool.ready[0]);
		fcgi_ready_fd(pool.ready[1]);
		exit(worker_run(c, WORKER_FASTCGI, pool.fd));
	}
	pool.w[pool.nw].pid = pid;
	pool.w[pool.nw].gen = pool.gen;
	pool.w[pool.nw].started = time(NULL);
	pool.nw++;
}

static void
log_exit(pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		log_warnx("serve: worker %ld killed by signal %d", (long)pid,
		          WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		log_warnx("serve: worker %ld exited with status %d", (long)pid,
		          WEXITSTATUS(st));
}

/* Forget pid; returns its slot's generation, or -1 if not ours. */
static long
slot_remove(pid_t pid, time_t *started)
{
	size_t i;
	long gen;

	for (i = 0; i < pool.nw; i++) {
		if (pool.w[i].pid != pid)
			continue;
		gen = (long)pool.w[i].gen;
		*started = pool.w[i].started;
		pool.w[i] = pool.w[--pool.nw];
		return gen;
	}
	return -1;
}

/* Reap every dead worker; respawn those of the current generation. */
static void
pool_reap(const struct conf *c, int respawn)
{
	time_t started;
	pid_t pid;
	long gen;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((gen = slot_remove(pid, &started)) < 0)
			continue;
		log_exit(pid, st);
		if (!respawn || got_term || (unsigned)gen != pool.gen)
			continue;
		/* A state dir on NFS, say: every new worker would fail the
		 * same way. Stop the pool with the worker's status. */
		if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_CONFIG) {
			log_error("serve: worker %ld found the configuration "
			          "unusable; stopping",
			          (long)pid);
			pool.fatal = 1;
			got_term = 1;
			continue;
		}
		/* A worker that dies at once would spin: slow the loop. */
		if (time(NULL) - started < 1)
			sleep(1);
		pool_spawn(c);
	}
}

static void
pool_signal(int sig, int old_only)
{
	size_t i;

	for (i = 0; i < pool.nw; i++)
		if (!old_only || pool.w[i].gen != pool.gen)
			kill(pool.w[i].pid, sig);
}

static size_t
worker_count(const struct conf *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (c->workers > 0)
		return (size_t)c->workers;
	return n > 0 && n <= POOL_MAX_WORKERS ? (size_t)n : 1;
}

/*
 * Keep the old generation serving until the new one waits on the
 * socket: stopped at once, it would leave the socket's queue to workers
 * still starting (slow on a busy host), and requests would wait for
 * them. Bounded: a new worker that never gets there (a slow first
 * fetch, a crash) holds the reload up for POOL_READY_MS at most.
 */
static void
pool_wait_ready(size_t want)
{
	struct pollfd p = { .fd = pool.ready[0], .events = POLLIN };
	struct timespec t0, t;
	size_t got = 0;
	long left;
	char b[64];
	ssize_t n;

	if (pool.ready[1] >= 0)
		close(pool.ready[1]);
	pool.ready[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (p.fd >= 0 && got < want) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = POOL_READY_MS - (t.tv_sec - t0.tv_sec) * 1000 -
		       (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
		    (n = read(p.fd, b, sizeof(b))) <= 0)
			break;
		got += (size_t)n;
	}
	if (p.fd >= 0)
		close(p.fd);
	pool.ready[0] = -1;
	if (got < want)
		log_warnx("serve: %zu of %zu new workers ready after %d ms; "
		          "stopping the old ones anyway",
		          got, want, POOL_READY_MS);
}

/* SIGHUP: a new configuration and a new generation of workers. */
static void
pool_reload(int argc, char **argv, struct conf *c)
{
	struct conf nc;
	char err[1024];
	size_t i;

	if (conf_load(&nc, argc, argv, err, sizeof(err)) != SH_OK) {
		log_error("serve: reload refused, keeping the running "
		          "configuration: %s",
		          err);
		return;
	}
	if (strcmp(nc.listen, c->listen) != 0)
		log_warnx("serve: listen changed; it takes a restart");
	conf_free(c);
	*c = nc;
	log_set_level(c->log_level);
	pool.want = worker_count(c);
	pool.gen++;
	/* Close-on-exec, as every descriptor: a worker's refresh (an exec)
	 * must not hold the write end that says the worker is ready. */
	if (pipe2(pool.ready, O_CLOEXEC) != 0)
		pool.ready[0] = pool.ready[1] = -1;
	for (i = 0; i < pool.want; i++)
		pool_spawn(c);
	pool_wait_ready(pool.want);
	pool_signal(SIGTERM, 1);
	log_info("serve: reloaded; %zu workers of generation %u", pool.want,
	         pool.gen);
}

/* SIGTERM: drain for shutdown-grace seconds, then kill what is left. */
static void
pool_drain(const struct conf *c)
{
	time_t deadline = time(NULL) + (time_t)c->shutdown_grace;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pool_signal(SIGTERM, 0);
	while (pool.nw > 0 && time(NULL) < deadline) {
		(void)sigtimedwait(&chld, NULL, &tick);
		pool_reap(c, 0);
	}
	if (pool.nw > 0) {
		log_warnx("serve: %zu workers still busy after %llu s; "
		          "killing them",
		          pool.nw, (unsigned long long)c->shutdown_grace);
		pool_signal(SIGKILL, 0);
		while (pool.nw > 0) {
			time_t started;
			pid_t pid = waitpid(-1, NULL, 0);

			if (pid < 0)
				break;
			(void)slot_remove(pid, &started);
		}
	}
}

static int
pool_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &block, old) != 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0 ||
	    sigaction(SIGCHLD, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int
pool_run(int argc, char **argv, struct conf *c)
{
	struct privdrop user;
	char err[1024];
	sigset_t old, none;
	size_t i;

	if (privdrop_lookup(c, &user, err, sizeof(err)) != 0 ||
	    privdrop_dirs(c, &user, err, sizeof(err)) != 0 ||
	    (pool.fd = pool_listen(c, err, sizeof(err))) < 0 ||
	    privdrop_drop(&user, pool.unix_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "sherve: %s\n", err);
		return EXIT_CONFIG;
	}
	if (pool_signals(&old) != 0) {
		log_warn("serve: signals");
		return EXIT_FAILED;
	}
	pool.want = worker_count(c);
	for (i = 0; i < pool.want; i++)
		pool_spawn(c);
	log_info("serve: %zu workers on %s (pid %ld)", pool.want,
	         c->listen[0] != '\0' ? c->listen : "systemd socket",
	         (long)getpid());
	sigemptyset(&none);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			pool_reload(argc, argv, c);
		}
		if (got_chld) {
			got_chld = 0;
			pool_reap(c, 1);
		}
		if (!got_term && !got_hup && !got_chld)
			sigsuspend(&none);
	}
	log_info("serve: stopping");
	/* Stop accepting at once: with the path gone, a new connection is
	 * refused straight away instead of waiting in the backlog of a
	 * socket that is about to close. Workers close their copies. */
	close(pool.fd);
	pool.fd = -1;
	if (pool.unix_path[0] != '\0')
		(void)unlink(pool.unix_path);
	pool_drain(c);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pool.fatal ? EXIT_CONFIG : EXIT_OK;
}
