/*
 * schedule.h - when refreshes happen: once at a worker's start while the
 * store never held a map, from a timer in each long-lived worker, on an
 * unknown alias (rate-limited), and detached after a CGI answer when one
 * is due. Each refresh runs in a process of its own, `sherve refresh`
 * with a mode (refresher.h); schedule_child() is that process's half.
 *
 * Every worker runs the timer, but refresh_run() re-checks the due time
 * under the cross-process lock, so each due refresh is fetched once,
 * whatever the number of processes. Each worker adds its own jitter of up
 * to a tenth of the interval (at most 30 s).
 *
 * The timer is a timerfd in the epoll set the FastCGI loop waits on
 * (fcgi_timer()): schedule_fire() runs between requests, starts a
 * refresh when one is due and does not wait for it; while it runs, the
 * timer looks at it once a second. Workers run no thread.
 *
 * Caveats: start the timer in the process that serves, after fork().
 * Stop it (schedule_stop()) before closing the store it was given.
 */
#ifndef SHERVE_SCHEDULE_H
#define SHERVE_SCHEDULE_H

#include "conf.h"
#include "store.h"

struct miss_ctx {
	const struct conf *conf;
	struct store *store;
};

/*
 * The timer's descriptor (a timerfd, close-on-exec), created at the first
 * call, for the FastCGI loop's epoll set; -1 if it cannot be created.
 * Readable when schedule_fire() has work.
 */
int schedule_fd(void);

/*
 * Start the timer on s (a no-op with refresh-interval 0, no usable URL, a
 * read-only store, or a timer running). Returns SH_OK or SH_EIO (no
 * timerfd).
 */
int schedule_start(const struct conf *c, struct store *s);

/*
 * When schedule_fd() is readable (ctx unused): reap a refresh that ended,
 * start one if it is due, and set the timer for what comes next.
 */
void schedule_fire(void *ctx);

/*
 * Stop the timer; a refresh it has in flight (its child process) is sent
 * SIGTERM and waited for: LMDB drops its write transaction whole, so
 * nothing is lost. Then the caller may close its store.
 */
void schedule_stop(void);

/*
 * At a worker's start: if the store never held a map (with once, for a
 * CGI process: if no refresh was ever attempted), fetch it and wait, so a
 * first start serves redirects; concurrent workers share the one fetch.
 * Logs every failure and goes on: a FastCGI backend must not die because
 * its upstream is down.
 */
void schedule_startup(const struct conf *c, struct store *s, int once);

/*
 * A CGI process has no timer: after its answer is written, if a
 * scheduled refresh is due, start it detached (its own session, stdio on
 * /dev/null, so the web server does not wait for it) and return at once.
 * Its outcome is kept in the store (sherve status). With cron running
 * sherve refresh, this rarely finds anything due.
 */
void schedule_after_cgi(const struct conf *c, struct store *s);

/*
 * The handler's miss hook (ctx is a struct miss_ctx). Fetches with a
 * cache-buster unless one ran within miss-refresh-interval in any
 * process; a miss that finds a fetch under way does not start another.
 * The request waits for the refresh; with miss-refresh-interval 0 also
 * for one under way, so the new alias is answered in the same request.
 * Returns 1 if the caller should look the alias up again.
 */
int schedule_on_miss(void *ctx);

/*
 * The child's half: `sherve refresh --startup`, `--scheduled` or `--miss`
 * (c->startup, c->scheduled, c->miss) refreshes s as a worker's start,
 * timer or miss asks (--scheduled at nice 19) and logs the outcome as a
 * worker does. Returns refresh_run()'s code: SH_OK, SH_EUNCHANGED,
 * SH_EBUSY (not due, rate-limited, shared, or another refresh runs), or
 * a failure.
 */
int schedule_child(const struct conf *c, struct store *s);

#endif
