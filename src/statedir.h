/*
 * statedir.h - a worker's handles on the state dir, made whole again
 * without a restart.
 *
 * A worker takes three things from the state dir: the store (aliases),
 * the metrics file, and, with a redirects-url, the instance claim
 * (claim.h) that lets it refresh. Any of them can fail at start: a dir
 * not yet created, or not writable for the worker's user; a store found
 * damaged; another instance on the dir. Each failure is logged once, as
 * an error; requests go on without it (assets are served); and the
 * worker tries again at the next tick of the coarse clock at which a
 * request comes, logging once when it recovers. Fixing the cause is
 * enough: no SIGHUP, no restart. An open store is checked at each tick
 * too (store_check()): replaced by another process, it is reopened;
 * damaged, it is set aside and a fresh one opened, which the refresh
 * timer (or the first unknown alias) fills again; read-only, it is
 * reopened read-write once the state dir is writable again.
 *
 * Caveats: call statedir_tick() before each request; it stops and starts
 * the refresh timer (schedule.h), which reads the store it was given and
 * must be stopped before that store is closed. Cost: a read of the
 * coarse clock (vDSO, no system call) per request; per tick, one stat(2)
 * while all is well, an open attempt while something is missing.
 */
#ifndef SHERVE_STATEDIR_H
#define SHERVE_STATEDIR_H

#include <time.h>

#include "conf.h"
#include "metrics.h"
#include "schedule.h"
#include "store.h"

struct statedir {
	const struct conf *conf;
	int fastcgi;         /* long-lived: runs the timer, holds the claim */
	struct store *store; /* NULL while it cannot be opened */
	struct metrics *metrics; /* NULL while it cannot be opened */
	struct miss_ctx miss;    /* the handler's on_miss context */
	int refreshing;          /* may refresh: timer and miss refreshes on */
	int claim_fd;            /* instance.lock held, or -1 */
	int timer;               /* the refresh timer runs on store */
	struct timespec tick;    /* coarse clock at the last check */
	time_t rw_try;           /* second of the last read-write retry */
	int store_down, metrics_down, claim_down; /* failure logged */
	char why[512]; /* why there is no store, for request logs ("" if open)
	                */
};

/*
 * Open what can be opened now (the store, the metrics, the claim), run
 * the first refresh if the store is empty (schedule_startup()) and start
 * the refresh timer. Returns SH_OK (even with parts missing, logged), or
 * SH_EINVAL when the state dir is on a network filesystem (a setting to
 * fix, logged).
 */
int statedir_open(struct statedir *sd, const struct conf *c, int fastcgi);

/* At most once per clock tick: check what is open, retry what is not. */
void statedir_tick(struct statedir *sd);

/* Stop the timer, close the store and the metrics, drop the claim. */
void statedir_close(struct statedir *sd);

#endif
