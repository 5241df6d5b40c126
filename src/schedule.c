/* schedule.c - the refresh timer and the miss path; see schedule.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "refresh.h"
#include "schedule.h"
#include "url.h"
#include "util.h"

#define SCHEDULE_MAX_SLEEP 60 /* re-read the meta at least this often */

static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, stop;
	const struct conf *conf;
	struct store *store;
	unsigned seed;
	pid_t child; /* the timer's refresh in flight, or 0 */
} timer = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static uint64_t
jitter(const struct conf *c)
{
	uint64_t max = c->refresh_interval / 10;

	if (max > 30)
		max = 30;
	return max == 0 ? 0 : (uint64_t)rand_r(&timer.seed) % (max + 1);
}

static void
log_outcome(const char *what, int rc, const struct refresh_report *rep)
{
	if (rc == SH_OK)
		log_info("%s refresh: %s", what, rep->msg);
	else if (rc == SH_EUNCHANGED || rc == SH_EBUSY)
		log_debug("%s refresh: %s", what, rep->msg);
	else
		log_warnx("%s refresh failed, keeping the last good map: %s",
		          what, rep->msg);
}

/*
 * A scheduled refresh is background work: parsing a large map takes a
 * CPU for a fraction of a second, which requests should not wait behind.
 * (A miss refresh keeps its priority: a request waits for it.)
 */
static void
background_priority(unsigned flags)
{
	if (flags & REFRESH_SCHEDULED)
		(void)setpriority(PRIO_PROCESS, 0, 19);
}

/*
 * Run a refresh in a child process. Parsing a large map and LMDB's write
 * transaction leave megabytes on the heap (LMDB keeps its dirty-page
 * buffers for the life of the environment); in a child they vanish at
 * exit, so a worker's private memory stays that of a reader. The child
 * opens its own environment: the parent's must not cross fork().
 */
static int
refresh_forked(const struct conf *c, unsigned flags, const char *what,
               pid_t *track)
{
	struct refresh_report rep;
	struct store *s = NULL;
	char err[512];
	int st, rc;
	pid_t pid;

	if ((pid = fork()) < 0) {
		log_warn("%s refresh: fork", what);
		return SH_EIO;
	}
	if (pid == 0) {
		sigset_t term;

		/* The forking thread may block every signal, and the worker's
		 * SIGTERM handler only sets a flag: schedule_stop() must be
		 * able to end this process. */
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_UNBLOCK, &term, NULL);
		background_priority(flags);
		if (store_open(c->state_dir, &s, err, sizeof(err)) != SH_OK) {
			log_warnx("%s refresh: %s", what, err);
			_exit(SH_ESTORE);
		}
		rc = refresh_run(c, s, flags, &rep);
		log_outcome(what, rc, &rep);
		_exit(rc);
	}
	if (track != NULL) {
		pthread_mutex_lock(&timer.mu);
		*track = pid;
		/* schedule_stop() may have run before the pid was known. */
		if (timer.stop)
			kill(pid, SIGTERM);
		pthread_mutex_unlock(&timer.mu);
	}
	while ((rc = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (track != NULL) {
		pthread_mutex_lock(&timer.mu);
		*track = 0;
		pthread_mutex_unlock(&timer.mu);
	}
	if (rc < 0)
		return SH_EIO;
	return WIFEXITED(st) ? WEXITSTATUS(st) : SH_EIO;
}

/* Sleep up to secs, waking early on schedule_stop(). */
static void
nap(uint64_t secs)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)secs;
	pthread_mutex_lock(&timer.mu);
	while (!timer.stop &&
	       pthread_cond_timedwait(&timer.cv, &timer.mu, &until) == 0)
		;
	pthread_mutex_unlock(&timer.mu);
}

static void *
timer_main(void *arg)
{
	const struct conf *c = timer.conf;
	uint64_t j = jitter(c), due, now;

	(void)arg;
	while (!timer.stop) {
		due = refresh_next_due(c, timer.store);
		now = (uint64_t)time(NULL);
		if (due != UINT64_MAX && now >= due + j) {
			(void)refresh_forked(c,
			                     REFRESH_SCHEDULED | REFRESH_NOWAIT,
			                     "scheduled", &timer.child);
			/* Whatever happened (busy lock, store error), never
			 * come round again within the same second. */
			nap(1);
			j = jitter(c);
			continue;
		}
		due = due == UINT64_MAX ? now + SCHEDULE_MAX_SLEEP : due + j;
		nap(due - now > SCHEDULE_MAX_SLEEP ? SCHEDULE_MAX_SLEEP
		                                   : due - now);
	}
	return NULL;
}

int
schedule_start(const struct conf *c, struct store *s)
{
	sigset_t all, old;
	int rc;

	/* A bad URL is logged once by refresh_startup(), a read-only store
	 * by store_open(); a timer would only fail again every second. */
	if (c->refresh_interval == 0 || !url_fetchable(c->redirects_url) ||
	    store_readonly(s) || timer.running)
		return SH_OK;
	if (store_clone(s, &timer.store) != SH_OK)
		return SH_ENOMEM;
	timer.conf = c;
	timer.stop = 0;
	timer.seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	/* The thread inherits this mask: signals stay with the main thread.
	 * Not the synchronous ones: a fault in a thread that blocks it kills
	 * the process outright, and the store's fault guard (guard.h) must
	 * catch a SIGBUS of the timer's reads too. */
	sigfillset(&all);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&timer.thread, NULL, timer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		store_close(timer.store);
		timer.store = NULL;
		errno = rc;
		return SH_EIO;
	}
	timer.running = 1;
	return SH_OK;
}

void
schedule_stop(void)
{
	pthread_mutex_lock(&timer.mu);
	timer.stop = 1;
	pthread_cond_broadcast(&timer.cv);
	/* A refresh in flight is a child holding the lock: LMDB aborts its
	 * write transaction whole, so stopping it loses nothing. */
	if (timer.child > 0)
		kill(timer.child, SIGTERM);
	pthread_mutex_unlock(&timer.mu);
	if (!timer.running)
		return;
	pthread_join(timer.thread, NULL);
	timer.running = 0;
	store_close(timer.store);
	timer.store = NULL;
}

/* The grandchild of schedule_after_cgi(): refresh, then exit. */
static void
detached_refresh(const struct conf *c)
{
	struct refresh_report rep;
	struct store *s = NULL;
	char err[512];
	sigset_t term;
	int fd;

	/* cgi_run() blocks SIGTERM from its answer's first byte on (fcgi.h);
	 * the refresh it leaves behind must stay stoppable. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	(void)sigprocmask(SIG_UNBLOCK, &term, NULL);
	if ((fd = open("/dev/null", O_RDWR)) < 0 || dup2(fd, 0) < 0 ||
	    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(0);
	if (fd > 2)
		close(fd);
	background_priority(REFRESH_SCHEDULED);
	if (store_open(c->state_dir, &s, err, sizeof(err)) != SH_OK)
		_exit(0);
	(void)refresh_run(c, s, REFRESH_SCHEDULED | REFRESH_NOWAIT, &rep);
	_exit(0);
}

void
schedule_after_cgi(const struct conf *c, struct store *s)
{
	uint64_t due;
	pid_t pid;
	int st;

	if (c->refresh_interval == 0 || !url_fetchable(c->redirects_url) ||
	    store_readonly(s))
		return;
	due = refresh_next_due(c, s);
	if (due == UINT64_MAX || (uint64_t)time(NULL) < due)
		return;
	/* Fork twice so the refresh is nobody's child: the web server reaps
	 * this process at once and never waits on the fetch. The store is
	 * opened afresh below: an environment must not cross fork(). */
	if ((pid = fork()) < 0)
		return;
	if (pid == 0) {
		if (setsid() < 0 || (pid = fork()) != 0)
			_exit(0);
		detached_refresh(c);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

int
schedule_on_miss(void *ctx)
{
	struct miss_ctx *m = ctx;
	const struct conf *c = m->conf;
	struct refresh_state st; /* about 6 KiB: on the stack, no malloc */
	unsigned flags = REFRESH_MISS;
	int rc;

	/* A read-only store could not keep what a fetch brings, nor the
	 * rate limit's timestamp. */
	if (!url_fetchable(c->redirects_url) || store_readonly(m->store))
		return 0;
	/* The common case for a flood of random paths: one LMDB read. */
	if (refresh_state_load(m->store, &st) != SH_OK)
		return 0;
	/* Upstream failing: misses wait out its backoff like the timer. */
	if (st.last_result == REFRESH_FAILED &&
	    st.retry_at > (uint64_t)time(NULL))
		return 0;
	if (c->miss_refresh_interval > 0) {
		if (st.miss_fetch_at + c->miss_refresh_interval >
		    (uint64_t)time(NULL))
			return 0;
		flags |= REFRESH_NOWAIT;
	}
	rc = refresh_forked(c, flags, "miss", NULL);
	/* With interval 0 a busy lock meant a shared fetch: look again. */
	return rc == SH_OK || (rc == SH_EBUSY && c->miss_refresh_interval == 0);
}
