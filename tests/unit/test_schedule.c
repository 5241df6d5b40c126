/*
 * test_schedule.c - when a refresh runs (schedule.h): the jitter's
 * bounds, when the timer starts, what it decides at a tick (start a
 * refresh, look again at the due time plus jitter, at most a minute
 * ahead, or a second later while one runs), stopping it, the CGI's
 * detached refresh, the miss hook's checks, the startup refresh, and
 * the flags the child's half passes to refresh_run().
 *
 * Seams (src/schedule.c is included here): the clock; the timer's
 * arming, recorded instead of set; the refresh process, a fork of this
 * program that exits with the code a row sets or waits on a pipe (so
 * refresher_poll() and refresher_wait() reap real children); and
 * refresh_run() for the child's half. The due times come from a real
 * store's refresh state in a temporary dir.
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "exitcode.h"
#include "refresh.h"
#include "refresh_state.h"
#include "refresher.h"
#include "statefx.h"
#include "store.h"
#include "util.h"

static time_t fake_now;       /* the clock, seconds */
static long fake_nsec;        /* ... and nanoseconds */
static struct timespec armed; /* the last arming */
static unsigned arms;

/* The refresh processes started. */
static struct {
	int fail;    /* SH_EIO instead of a process */
	int code;    /* the child's exit code, or -1: wait on hold[0] */
	unsigned n;  /* started */
	int mode;    /* the last one's mode */
	pid_t pid;   /* the last one */
	int hold[2]; /* a child with code -1 exits 0 when hold[1] closes */
} spawn = { .hold = { -1, -1 } };

/* The refresh_run() of the child's half. */
static struct {
	unsigned flags, n;
	int rc;
} ran;

static int
fake_clock(struct timespec *ts)
{
	ts->tv_sec = fake_now;
	ts->tv_nsec = fake_nsec;
	return 0;
}

static int
fake_settime(int fd, const struct itimerspec *its)
{
	(void)fd;
	armed = its->it_value;
	arms++;
	return 0;
}

static int
fake_spawn(const struct conf *c, enum refresher_mode m, pid_t *pid)
{
	char b;
	pid_t p;

	(void)c;
	spawn.n++;
	spawn.mode = (int)m;
	if (spawn.fail)
		return SH_EIO;
	if ((p = fork()) < 0)
		return SH_EIO;
	if (p == 0) {
		if (spawn.code >= 0)
			_exit(spawn.code);
		close(spawn.hold[1]);
		_exit(read(spawn.hold[0], &b, 1) == 0 ? 0 : 1);
	}
	spawn.pid = *pid = p;
	return SH_OK;
}

static int
fake_refresh(const struct conf *c, struct store *s, unsigned flags,
             struct refresh_report *rep)
{
	(void)c;
	(void)s;
	ran.n++;
	ran.flags = flags;
	memset(rep, 0, sizeof(*rep));
	snprintf(rep->msg, sizeof(rep->msg), "as the test says");
	return ran.rc;
}

#define SCHEDULE_CLOCK(ts)           fake_clock(ts)
#define SCHEDULE_SETTIME(fd, its)    fake_settime((fd), (its))
#define SCHEDULE_SPAWN(c, mode, pid) fake_spawn((c), (mode), (pid))
#define SCHEDULE_REFRESH(c, s, flags, rep)                                     \
	fake_refresh((c), (s), (flags), (rep))
#include "../../src/schedule.c"

static int
suite_init(void)
{
	return statefx_init("schedule");
}

static int
suite_cleanup(void)
{
	if (timer.fd >= 0)
		close(timer.fd);
	return statefx_cleanup();
}

/* A new state dir and store (statefx.h), and a clean slate of fakes. */
static int
fx_open(struct statefx *f, const char *const *extra)
{
	spawn.fail = spawn.code = 0;
	spawn.n = 0;
	spawn.mode = -1;
	memset(&ran, 0, sizeof(ran));
	arms = 0;
	fake_nsec = 0;
	return statefx_open(f, extra, 1);
}

static void
fx_close(struct statefx *f)
{
	schedule_stop();
	statefx_close(f);
}

/* The stored refresh state: the last attempt at attempt with result r
 * (retry_at with REFRESH_FAILED), the last miss fetch at miss. */
static int
set_state(struct statefx *f, uint64_t attempt, enum refresh_result r,
          uint64_t retry_at, uint64_t miss)
{
	struct refresh_state st;

	memset(&st, 0, sizeof(st));
	st.last_attempt = attempt;
	st.last_success = r == REFRESH_UPDATED ? attempt : 0;
	st.last_result = r;
	st.retry_at = retry_at;
	st.miss_fetch_at = miss;
	return refresh_state_save(f->s, &st) == SH_OK ? 0 : -1;
}

/* Wait until the last child has ended, without reaping it. */
static int
child_ended(void)
{
	siginfo_t si;

	return waitid(P_PID, (id_t)spawn.pid, &si, WEXITED | WNOWAIT);
}

/* A tenth of the interval, at most 30 s: both ends drawn, nothing
 * beyond. */
static void
test_jitter(void)
{
	static const struct {
		unsigned line;
		uint64_t interval, max;
	} rows[] = {
		{ __LINE__, 0, 0 },      { __LINE__, 9, 0 },
		{ __LINE__, 10, 1 },     { __LINE__, 55, 5 },
		{ __LINE__, 300, 30 },   { __LINE__, 350, 30 },
		{ __LINE__, 86400, 30 },
	};
	struct conf c;
	uint64_t j, lo, hi;
	size_t i, n;

	memset(&c, 0, sizeof(c));
	timer.seed = 12345;
	for (i = 0; i < NELEM(rows); i++) {
		c.refresh_interval = rows[i].interval;
		lo = UINT64_MAX;
		hi = 0;
		for (n = 0; n < 2000; n++) {
			j = jitter(&c);
			lo = j < lo ? j : lo;
			hi = j > hi ? j : hi;
		}
		expect_u64(rows[i].line, "lowest", 0, lo);
		expect_u64(rows[i].line, "highest", rows[i].max, hi);
	}
}

/* The timer starts only where it can do something, once. */
static void
test_start(void)
{
	static const struct {
		unsigned line;
		const char *name, *value;
		int starts;
	} rows[] = {
		{ __LINE__, "--refresh-interval", "0", 0 },
		{ __LINE__, "--redirects-url", "", 0 },
		{ __LINE__, "--redirects-url", "ftp://up.example/r", 0 },
		{ __LINE__, "--redirects-url", "file:///srv/r.txt", 1 },
		{ __LINE__, "--refresh-interval", "100", 1 },
	};
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *extra[] = { rows[i].name, rows[i].value, NULL };
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture", fx_open(&f, extra) == 0))
			continue;
		expect_int(line, "started", SH_OK, schedule_start(&f.c, f.s));
		expect_int(line, "running", rows[i].starts, timer.running);
		expect_int(line, "armed", rows[i].starts, arms);
		if (rows[i].starts) {
			expect_int(line, "at once: long past", 1,
			           (int)armed.tv_sec);
			expect_true(line, "a timerfd", schedule_fd() >= 0);
			expect_int(line, "twice", SH_OK,
			           schedule_start(&f.c, f.s));
			expect_int(line, "... armed once", 1, arms);
		}
		fx_close(&f);
		expect_int(line, "stopped", 0, timer.running);
	}
}

/* At a tick with nothing due: look again at the due time plus the
 * jitter, or in a minute if that is later; nothing started. */
static void
test_fire_not_due(void)
{
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 &&
	                     set_state(&f, 1000, REFRESH_UPDATED, 0, 0) == 0 &&
	                     schedule_start(&f.c, f.s) == SH_OK);
	timer.jitter = 7;
	fake_now = 1050;
	schedule_fire(NULL);
	expect_int(__LINE__, "nothing started", 0, spawn.n);
	expect_int(__LINE__, "armed at due + jitter", 1107, (int)armed.tv_sec);
	fake_now = 1000;
	schedule_fire(NULL);
	expect_int(__LINE__, "armed a minute ahead", 1060, (int)armed.tv_sec);
	timer.jitter = 30;
	fake_now = 1045;
	schedule_fire(NULL);
	expect_int(__LINE__, "due within the minute, not with the jitter", 1105,
	           (int)armed.tv_sec);
	timer.jitter = 7;
	fake_now = 1106;
	schedule_fire(NULL);
	expect_int(__LINE__, "due, not the jitter: nothing", 0, spawn.n);
	require_true(__LINE__, "failed",
	             set_state(&f, 1100, REFRESH_FAILED, 1110, 0) == 0);
	fake_now = 1100;
	schedule_fire(NULL);
	expect_int(__LINE__, "backing off: armed at retry + jitter", 1117,
	           (int)armed.tv_sec);
	expect_int(__LINE__, "still nothing started", 0, spawn.n);
	fx_close(&f);
}

/* Due: a scheduled refresh started, not waited for; while it runs the
 * timer looks once a second and starts no other; once it has ended it
 * is reaped and the due time decides again. */
static void
test_fire_due(void)
{
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && pipe(spawn.hold) == 0 &&
	                     set_state(&f, 1000, REFRESH_UPDATED, 0, 0) == 0 &&
	                     schedule_start(&f.c, f.s) == SH_OK);
	spawn.code = -1; /* runs until hold[1] closes */
	timer.jitter = 7;
	fake_now = 1107;
	fake_nsec = 250;
	schedule_fire(NULL);
	expect_int(__LINE__, "started", 1, spawn.n);
	expect_int(__LINE__, "scheduled", REFRESHER_SCHEDULED, spawn.mode);
	expect_int(__LINE__, "the child kept", (int)spawn.pid,
	           (int)timer.child);
	expect_int(__LINE__, "a second later", 1108, (int)armed.tv_sec);
	expect_int(__LINE__, "... to the nanosecond", 250, (int)armed.tv_nsec);
	expect_true(__LINE__, "a new jitter, within a tenth",
	            timer.jitter <= 10);
	fake_now = 1108;
	schedule_fire(NULL);
	expect_int(__LINE__, "running: none other", 1, spawn.n);
	expect_int(__LINE__, "a second later again", 1109, (int)armed.tv_sec);
	close(spawn.hold[1]);
	close(spawn.hold[0]);
	spawn.hold[0] = spawn.hold[1] = -1;
	require_true(__LINE__, "the child ended", child_ended() == 0);
	require_true(__LINE__, "it stored",
	             set_state(&f, 1108, REFRESH_UPDATED, 0, 0) == 0);
	timer.jitter = 3;
	fake_now = 1109;
	schedule_fire(NULL);
	expect_int(__LINE__, "reaped", 0, (int)timer.child);
	expect_true(__LINE__, "... gone", kill(spawn.pid, 0) != 0);
	expect_int(__LINE__, "not due: none", 1, spawn.n);
	expect_int(__LINE__, "armed a minute ahead", 1169, (int)armed.tv_sec);
	fx_close(&f);
}

/* A refresh that cannot be started is tried again a second later;
 * stopping the timer ends the refresh in flight and disarms it. */
static void
test_fire_fail_stop(void)
{
	pid_t pid;
	struct statefx f;

	require_true(__LINE__, "fixture",
	             fx_open(&f, NULL) == 0 && pipe(spawn.hold) == 0 &&
	                     schedule_start(&f.c, f.s) == SH_OK);
	spawn.fail = 1;
	fake_now = 5000; /* never tried: due */
	schedule_fire(NULL);
	expect_int(__LINE__, "tried", 1, spawn.n);
	expect_int(__LINE__, "no child", 0, (int)timer.child);
	expect_int(__LINE__, "a second later", 5001, (int)armed.tv_sec);
	spawn.fail = 0;
	spawn.code = -1;
	fake_now = 5001;
	schedule_fire(NULL);
	expect_int(__LINE__, "tried again, started", 2, spawn.n);
	pid = spawn.pid;
	schedule_stop();
	expect_true(__LINE__, "stopped: the child ended and reaped",
	            waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD);
	expect_int(__LINE__, "disarmed", 0, (int)armed.tv_sec);
	expect_int(__LINE__, "not running", 0, timer.running);
	arms = 0;
	schedule_fire(NULL);
	expect_int(__LINE__, "a tick after stop: nothing", 2, spawn.n);
	expect_int(__LINE__, "... not armed", 0, arms);
	close(spawn.hold[0]);
	close(spawn.hold[1]);
	spawn.hold[0] = spawn.hold[1] = -1;
	fx_close(&f);
}

/* After a CGI answer: a refresh started detached when one is due. */
static void
test_after_cgi(void)
{
	static const struct {
		unsigned line;
		const char *name, *value;
		uint64_t attempt;
		enum refresh_result r;
		uint64_t retry;
		int starts;
	} rows[] = {
		{ __LINE__, NULL, NULL, 900, REFRESH_UPDATED, 0, 1 },
		{ __LINE__, NULL, NULL, 901, REFRESH_UPDATED, 0, 0 },
		{ __LINE__, NULL, NULL, 990, REFRESH_FAILED, 1000, 1 },
		{ __LINE__, NULL, NULL, 990, REFRESH_FAILED, 1001, 0 },
		{ __LINE__, "--refresh-interval", "0", 0, REFRESH_NONE, 0, 0 },
		{ __LINE__, "--redirects-url", "ftp://x/r", 0, REFRESH_NONE, 0,
		  0 },
	};
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *extra[] = { rows[i].name, rows[i].value, NULL };
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture",
		                 fx_open(&f, extra) == 0 &&
		                         set_state(&f, rows[i].attempt,
		                                   rows[i].r, rows[i].retry,
		                                   0) == 0))
			continue;
		fake_now = 1000;
		schedule_after_cgi(&f.c, f.s);
		expect_int(line, "started", rows[i].starts, spawn.n);
		if (spawn.n > 0) {
			expect_int(line, "detached", REFRESHER_DETACHED,
			           spawn.mode);
			(void)waitpid(spawn.pid, NULL, 0);
		}
		fx_close(&f);
	}
}

/* The miss hook: no process for a miss while backing off or within the
 * rate limit; else a miss refresh, waited for; look again after a
 * store, or after a shared fetch with miss-refresh-interval 0. */
static void
test_on_miss(void)
{
	static const struct {
		unsigned line;
		const char *interval; /* miss-refresh-interval */
		enum refresh_result r;
		uint64_t retry, miss;
		int fail, code; /* the process: not started, its exit */
		int starts, again;
	} rows[] = {
		{ __LINE__, "30", REFRESH_UPDATED, 0, 0, 0, EXIT_OK, 1, 1 },
		{ __LINE__, "30", REFRESH_FAILED, 1001, 0, 0, EXIT_OK, 0, 0 },
		{ __LINE__, "30", REFRESH_FAILED, 1000, 0, 0, EXIT_OK, 1, 1 },
		{ __LINE__, "30", REFRESH_UPDATED, 0, 971, 0, EXIT_OK, 0, 0 },
		{ __LINE__, "30", REFRESH_UPDATED, 0, 970, 0, EXIT_OK, 1, 1 },
		{ __LINE__, "30", REFRESH_UPDATED, 0, 0, 0, EXIT_TEMPFAIL, 1,
		  0 },
		{ __LINE__, "0", REFRESH_UPDATED, 0, 1000, 0, EXIT_TEMPFAIL, 1,
		  1 },
		{ __LINE__, "0", REFRESH_UPDATED, 0, 0, 0, EXIT_FAILED, 1, 0 },
		{ __LINE__, "30", REFRESH_UPDATED, 0, 0, 1, EXIT_OK, 1, 0 },
	};
	struct miss_ctx m;
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *extra[] = { "--miss-refresh-interval",
			                rows[i].interval, NULL };
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture",
		                 fx_open(&f, extra) == 0 &&
		                         set_state(&f, 900, rows[i].r,
		                                   rows[i].retry,
		                                   rows[i].miss) == 0))
			continue;
		spawn.fail = rows[i].fail;
		spawn.code = rows[i].code;
		m.conf = &f.c;
		m.store = f.s;
		fake_now = 1000;
		expect_int(line, "look again", rows[i].again,
		           schedule_on_miss(&m));
		expect_int(line, "started", rows[i].starts, spawn.n);
		if (rows[i].starts)
			expect_int(line, "a miss refresh", REFRESHER_MISS,
			           spawn.mode);
		expect_true(line, "waited for",
		            spawn.n == 0 || spawn.fail ||
		                    (waitpid(spawn.pid, NULL, WNOHANG) < 0 &&
		                     errno == ECHILD));
		fx_close(&f);
	}
}

/* No URL worth fetching, or a read-only store: no miss refresh, no
 * timer, no detached refresh. */
static void
test_readonly(void)
{
	const char *bad[] = { "--redirects-url", "ftp://up.example/r", NULL };
	struct store *ro = NULL;
	struct miss_ctx m;
	char err[256];
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, bad) == 0);
	m.conf = &f.c;
	m.store = f.s;
	expect_int(__LINE__, "bad URL: no miss refresh", 0,
	           schedule_on_miss(&m));
	require_true(__LINE__, "reload", statefx_conf(&f, NULL) == SH_OK);
	/* One LMDB environment open once per process: the writer first. */
	store_close(f.s);
	f.s = NULL;
	require_true(__LINE__, "reader",
	             store_open_reader(f.dir, &ro, err, sizeof(err)) == SH_OK);
	m.store = ro;
	fake_now = 1000;
	expect_int(__LINE__, "read-only: no miss refresh", 0,
	           schedule_on_miss(&m));
	schedule_after_cgi(&f.c, ro);
	expect_int(__LINE__, "read-only: no timer", SH_OK,
	           schedule_start(&f.c, ro));
	expect_int(__LINE__, "... not running", 0, timer.running);
	expect_int(__LINE__, "nothing started", 0, spawn.n);
	store_close(ro);
	fx_close(&f);
}

/* The startup refresh: only into a store that never held a map, waited
 * for; a bad URL is logged and not fetched. */
static void
test_startup(void)
{
	const char *bad[] = { "--redirects-url", "ftp://up.example/r", NULL };
	struct statefx f;

	require_true(__LINE__, "fixture", fx_open(&f, NULL) == 0);
	spawn.code = EXIT_OK;
	schedule_startup(&f.c, f.s, 0);
	expect_int(__LINE__, "empty store: started", 1, spawn.n);
	expect_int(__LINE__, "startup", REFRESHER_STARTUP, spawn.mode);
	expect_true(__LINE__, "waited for",
	            waitpid(spawn.pid, NULL, WNOHANG) < 0 && errno == ECHILD);
	require_true(__LINE__, "tried",
	             set_state(&f, 1000, REFRESH_FAILED, 1010, 0) == 0);
	schedule_startup(&f.c, f.s, 1);
	expect_int(__LINE__, "CGI, tried before: none", 1, spawn.n);
	schedule_startup(&f.c, f.s, 0);
	expect_int(__LINE__, "a worker: again", 2, spawn.n);
	require_true(__LINE__, "stored",
	             set_state(&f, 1000, REFRESH_UPDATED, 0, 0) == 0);
	schedule_startup(&f.c, f.s, 0);
	expect_int(__LINE__, "held a map: none", 2, spawn.n);
	fx_close(&f);
	require_true(__LINE__, "fixture", fx_open(&f, bad) == 0);
	schedule_startup(&f.c, f.s, 0);
	expect_int(__LINE__, "bad URL: none", 0, spawn.n);
	fx_close(&f);
}

/* The child's half: the flags each mode gives refresh_run(), its code
 * returned; --scheduled at nice 19 (last: this process stays there). */
static void
test_child(void)
{
	static const struct {
		unsigned line;
		int startup, scheduled;
		const char *interval;
		unsigned flags;
		int rc;
	} rows[] = {
		{ __LINE__, 1, 0, "30", REFRESH_STARTUP, SH_EFETCH },
		{ __LINE__, 0, 0, "30", REFRESH_MISS | REFRESH_NOWAIT, SH_OK },
		{ __LINE__, 0, 0, "0", REFRESH_MISS, SH_EBUSY },
		{ __LINE__, 0, 1, "30", REFRESH_SCHEDULED | REFRESH_NOWAIT,
		  SH_EUNCHANGED },
	};
	struct statefx f;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *extra[] = { "--miss-refresh-interval",
			                rows[i].interval, NULL };
		unsigned line = rows[i].line;

		if (!expect_true(line, "fixture", fx_open(&f, extra) == 0))
			continue;
		f.c.startup = rows[i].startup;
		f.c.scheduled = rows[i].scheduled;
		f.c.miss = !rows[i].startup && !rows[i].scheduled;
		ran.rc = rows[i].rc;
		expect_int(line, "refresh_run's code", rows[i].rc,
		           schedule_child(&f.c, f.s));
		expect_int(line, "once", 1, ran.n);
		expect_int(line, "flags", rows[i].flags, ran.flags);
		fx_close(&f);
	}
	errno = 0;
	expect_int(__LINE__, "--scheduled: nice 19", 19,
	           getpriority(PRIO_PROCESS, 0));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_jitter),
	UNIT_TEST(test_start),
	UNIT_TEST(test_fire_not_due),
	UNIT_TEST(test_fire_due),
	UNIT_TEST(test_fire_fail_stop),
	UNIT_TEST(test_after_cgi),
	UNIT_TEST(test_on_miss),
	UNIT_TEST(test_readonly),
	UNIT_TEST(test_startup),
	UNIT_TEST(test_child), /* last: leaves this process at nice 19 */
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "schedule", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
