/* schedule.c - when a refresh runs, and its process's half; see schedule.h. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "refresh.h"
#include "schedule.h"
#include "refresher.h"
#include "url.h"
#include "util.h"

/* Seams for tests/unit/test_schedule.c, which includes this file: the
 * clock, the timer's arming, the refresh process started, and the
 * refresh a child runs. */
#ifndef SCHEDULE_CLOCK
#define SCHEDULE_CLOCK(ts) clock_gettime(CLOCK_REALTIME, (ts))
#endif
#ifndef SCHEDULE_SETTIME
#define SCHEDULE_SETTIME(fd, its)                                              \
	timerfd_settime((fd), TFD_TIMER_ABSTIME, (its), NULL)
#endif
#ifndef SCHEDULE_SPAWN
#define SCHEDULE_SPAWN(c, mode, pid) refresher_start((c), (mode), (pid))
#endif
#ifndef SCHEDULE_REFRESH
#define SCHEDULE_REFRESH(c, s, flags, rep) refresh_run((c), (s), (flags), (rep))
#endif

#define SCHEDULE_MAX_SLEEP 60 /* re-read the meta at least this often */
#define SCHEDULE_POLL      1  /* a refresh in flight is looked at this often */

static struct {
	int fd;      /* the timerfd, or -1 */
	int running; /* started on store */
	const struct conf *conf;
	struct store *store;
	unsigned seed;
	uint64_t jitter;
	pid_t child; /* the timer's refresh in flight, or 0 */
} timer = { .fd = -1 };

/* Unix seconds, on the clock of the store's due times. */
static uint64_t
now_sec(void)
{
	struct timespec ts;

	if (SCHEDULE_CLOCK(&ts) != 0)
		return (uint64_t)time(NULL);
	return (uint64_t)ts.tv_sec;
}

static uint64_t
jitter(const struct conf *c)
{
	uint64_t max = c->refresh_interval / 10;

	if (max > 30)
		max = 30;
	return max == 0 ? 0 : (uint64_t)rand_r(&timer.seed) % (max + 1);
}

int
schedule_fd(void)
{
	if (timer.fd < 0)
		timer.fd = timerfd_create(CLOCK_REALTIME,
		                          TFD_CLOEXEC | TFD_NONBLOCK);
	return timer.fd;
}

/*
 * Fire at unix time sec.nsec, or at once if that has passed; 0 disarms.
 * CLOCK_REALTIME: the clock of the store's due times.
 */
static void
arm_at(time_t sec, long nsec)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = sec;
	its.it_value.tv_nsec = nsec;
	if (SCHEDULE_SETTIME(timer.fd, &its) != 0)
		log_warn("refresh timer: timerfd_settime");
}

/* SCHEDULE_POLL seconds from now. */
static void
arm_poll(void)
{
	struct timespec now;

	SCHEDULE_CLOCK(&now);
	arm_at(now.tv_sec + SCHEDULE_POLL, now.tv_nsec);
}

int
schedule_start(const struct conf *c, struct store *s)
{
	/* A bad URL is logged once by schedule_startup(), a read-only store
	 * by store_open(); a timer would only fail again every second. */
	if (c->refresh_interval == 0 || !url_fetchable(c->redirects_url) ||
	    store_readonly(s) || timer.running)
		return SH_OK;
	if (schedule_fd() < 0)
		return SH_EIO;
	timer.conf = c;
	timer.store = s;
	timer.seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	timer.jitter = jitter(c);
	timer.running = 1;
	arm_at(1, 0); /* long past: look at once */
	return SH_OK;
}

/* The timer's refresh has ended (or none runs): start one if due. */
static void
fire_due(void)
{
	const struct conf *c = timer.conf;
	uint64_t due = refresh_next_due(c, timer.store), now;
	struct timespec ts;

	/* Not time(2): it may lag the clock the timer fired on. */
	SCHEDULE_CLOCK(&ts);
	now = (uint64_t)ts.tv_sec;
	if (due != UINT64_MAX && now >= due + timer.jitter) {
		/* Whatever comes of it (a busy lock, a store error), the
		 * timer looks again only a second later. */
		if (SCHEDULE_SPAWN(c, REFRESHER_SCHEDULED, &timer.child) !=
		    SH_OK)
			timer.child = 0;
		timer.jitter = jitter(c);
		arm_poll();
		return;
	}
	if (due == UINT64_MAX || due + timer.jitter > now + SCHEDULE_MAX_SLEEP)
		arm_at((time_t)(now + SCHEDULE_MAX_SLEEP), 0);
	else
		arm_at((time_t)(due + timer.jitter), 0);
}

void
schedule_fire(void *ctx)
{
	uint64_t expirations;
	ssize_t r;
	int rc;

	(void)ctx;
	r = read(timer.fd, &expirations, sizeof(expirations));
	(void)r; /* EAGAIN: nothing expired; the state below decides */
	if (!timer.running)
		return;
	/* The child logs its outcome; here it is only reaped. */
	if (timer.child > 0 && !refresher_poll(timer.child, &rc)) {
		arm_poll();
		return;
	}
	timer.child = 0;
	fire_due();
}

void
schedule_stop(void)
{
	if (timer.fd >= 0)
		arm_at(0, 0);
	/* A refresh in flight is a child holding the lock: LMDB aborts its
	 * write transaction whole, so stopping it loses nothing. */
	if (timer.child > 0) {
		(void)kill(timer.child, SIGTERM);
		(void)refresher_wait(timer.child);
	}
	timer.child = 0;
	timer.running = 0;
	timer.store = NULL;
}

void
schedule_startup(const struct conf *c, struct store *s, int once)
{
	char msg[320];
	pid_t pid;

	if (!refresh_startup_due(c, s, once))
		return;
	if (refresh_url_check(c, msg, sizeof(msg)) != SH_OK) {
		log_error("startup refresh failed, serving without it: %s",
		          msg);
		return;
	}
	/* The child logs what came of it. */
	if (SCHEDULE_SPAWN(c, REFRESHER_STARTUP, &pid) == SH_OK)
		(void)refresher_wait(pid);
}

void
schedule_after_cgi(const struct conf *c, struct store *s)
{
	uint64_t due;
	pid_t pid;

	if (c->refresh_interval == 0 || !url_fetchable(c->redirects_url) ||
	    store_readonly(s))
		return;
	due = refresh_next_due(c, s);
	if (due == UINT64_MAX || now_sec() < due)
		return;
	/* Not waited for: this process exits now, and the child, in a
	 * session of its own, goes on under init (or a subreaper). */
	(void)SCHEDULE_SPAWN(c, REFRESHER_DETACHED, &pid);
}

int
schedule_on_miss(void *ctx)
{
	struct miss_ctx *m = ctx;
	const struct conf *c = m->conf;
	struct refresh_state st; /* about 6 KiB: on the stack, no malloc */
	pid_t pid;
	int rc;

	/* A read-only store could not keep what a fetch brings, nor the
	 * rate limit's timestamp. */
	if (!url_fetchable(c->redirects_url) || store_readonly(m->store))
		return 0;
	/* The common case for a flood of random paths: one LMDB read, and
	 * no process started. */
	if (refresh_state_load(m->store, &st) != SH_OK)
		return 0;
	/* Upstream failing: misses wait out its backoff like the timer. */
	if (st.last_result == REFRESH_FAILED && st.retry_at > now_sec())
		return 0;
	if (c->miss_refresh_interval > 0 &&
	    st.miss_fetch_at + c->miss_refresh_interval > now_sec())
		return 0;
	if (SCHEDULE_SPAWN(c, REFRESHER_MISS, &pid) != SH_OK)
		return 0;
	rc = refresher_wait(pid);
	/* With interval 0 a busy lock meant a shared fetch: look again. */
	return rc == SH_OK || (rc == SH_EBUSY && c->miss_refresh_interval == 0);
}

/* ---- The child's half: `sherve refresh --startup|--scheduled|--miss` */

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

static int
child_startup(const struct conf *c, struct store *s)
{
	struct refresh_report rep;
	int rc = SCHEDULE_REFRESH(c, s, REFRESH_STARTUP, &rep);

	if (rc == SH_OK || rc == SH_EUNCHANGED || rc == SH_EBUSY)
		log_info("startup refresh: %s", rep.msg);
	else
		log_error("startup refresh failed, serving without it: %s",
		          rep.msg);
	return rc;
}

int
schedule_child(const struct conf *c, struct store *s)
{
	struct refresh_report rep;
	unsigned flags;
	int rc;

	if (c->startup)
		return child_startup(c, s);
	if (c->scheduled) {
		/* Background work: parsing a large map takes a CPU for a
		 * fraction of a second, which requests should not wait
		 * behind. (A miss refresh keeps its priority: a request
		 * waits for it.) */
		(void)setpriority(PRIO_PROCESS, 0, 19);
		rc = SCHEDULE_REFRESH(c, s, REFRESH_SCHEDULED | REFRESH_NOWAIT,
		                      &rep);
		log_outcome("scheduled", rc, &rep);
		return rc;
	}
	flags = REFRESH_MISS;
	/* Interval 0: the request waits for a refresh under way, which
	 * may be the one it needs (refresh.c decides under the lock). */
	if (c->miss_refresh_interval > 0)
		flags |= REFRESH_NOWAIT;
	rc = SCHEDULE_REFRESH(c, s, flags, &rep);
	log_outcome("miss", rc, &rep);
	return rc;
}
