/*
 * schedule.h - when refreshes happen: a background timer in each
 * long-lived worker, a detached refresh after a CGI answer when one is
 * due, and the rate-limited refresh on an unknown alias.
 *
 * Every worker runs the timer, but refresh_run() re-checks the due time
 * under the cross-process lock, so each due refresh is fetched once,
 * whatever the number of processes. Each worker adds its own jitter of up
 * to a tenth of the interval (at most 30 s).
 *
 * Caveats: start the timer after fork(), in the process that serves.
 * The timer thread has its own store handle (store_clone) and blocks every
 * signal, so SIGTERM still reaches the accept loop.
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
 * Start the timer thread (a no-op with refresh-interval 0 or no URL).
 * Returns SH_OK, SH_ENOMEM or SH_EIO (thread creation failed).
 */
int schedule_start(const struct conf *c, struct store *s);

/*
 * Stop the timer and wait for its thread; a refresh it has in flight (a
 * child process) is sent SIGTERM. Then the caller may close its store.
 */
void schedule_stop(void);

/*
 * A CGI process has no timer: after its answer is written, if a
 * scheduled refresh is due, start it in a detached process (setsid,
 * stdio on /dev/null, so the web server does not wait for it) and return
 * at once. Its outcome is kept in the store (sherve status). With cron
 * running sherve refresh, this rarely finds anything due.
 */
void schedule_after_cgi(const struct conf *c, struct store *s);

/*
 * The handler's miss hook (ctx is a struct miss_ctx). Fetches with a
 * cache-buster unless one ran within miss-refresh-interval in any
 * process; a miss that finds a fetch under way does not start another.
 * With miss-refresh-interval 0 it waits for the fetch, so the new alias
 * is answered in the same request. Returns 1 if the caller should look
 * the alias up again.
 */
int schedule_on_miss(void *ctx);

#endif
