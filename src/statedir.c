/* statedir.c - a worker's store, metrics and claim, kept whole; see statedir.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "claim.h"
#include "fetch.h"
#include "log.h"
#include "statedir.h"
#include "tick.h"
#include "url.h"
#include "util.h"

static void
stop_refreshing(struct statedir *sd)
{
	if (sd->timer)
		schedule_stop(); /* and its refresh in flight */
	sd->timer = 0;
	sd->refreshing = 0;
}

/*
 * Refresh (timer, misses) only with a URL to fetch, a writable store and,
 * for a long-lived worker, the instance claim held.
 */
static void
start_refreshing(struct statedir *sd)
{
	const struct conf *c = sd->conf;

	sd->refreshing = sd->store != NULL && url_fetchable(c->redirects_url) &&
	                 !store_readonly(sd->store) &&
	                 (!sd->fastcgi || sd->claim_fd >= 0);
	if (!sd->refreshing || !sd->fastcgi || sd->timer)
		return;
	if (schedule_start(c, sd->store) != SH_OK)
		log_warn("cannot start the refresh timer");
	else
		sd->timer = 1;
}

/* Take the instance claim (claim.h); log a conflict once, its end once. */
static void
claim(struct statedir *sd)
{
	const struct conf *c = sd->conf;
	char other[4096];
	int rc;

	/* A read-only store is refreshed by someone else, if at all. */
	if (!sd->fastcgi || sd->claim_fd >= 0 ||
	    !url_fetchable(c->redirects_url) || sd->store == NULL ||
	    store_readonly(sd->store))
		return;
	rc = claim_hold(c->state_dir, c->redirects_url, &sd->claim_fd, other,
	                sizeof(other));
	if (rc == SH_OK) {
		if (sd->claim_down)
			log_info(
			        "state-dir %s: no other instance uses it any "
			        "more; this one (redirects-url %s) refreshes it",
			        c->state_dir, c->redirects_url);
		sd->claim_down = 0;
		return;
	}
	if (!sd->claim_down && rc == SH_EBUSY)
		log_error(
		        "state-dir %s serves %s for another running sherve "
		        "(see its instance.lock); this one (redirects-url %s) "
		        "will not store its map: give each instance its own "
		        "state-dir",
		        c->state_dir, other, c->redirects_url);
	else if (!sd->claim_down)
		log_error("state-dir %s: cannot hold instance.lock: %s; this "
		          "worker will not refresh",
		          c->state_dir, strerror(errno));
	sd->claim_down = 1;
}

/* Returns store_open()'s code; logs a failure once, the recovery once. */
static int
open_store(struct statedir *sd)
{
	const struct conf *c = sd->conf;
	char err[512];
	int rc;

	rc = store_open(c->state_dir, &sd->store, err, sizeof(err));
	if (rc != SH_OK) {
		if (!sd->store_down)
			log_error(
			        "%s; serving assets only, and trying again as "
			        "requests come",
			        err);
		sd->store_down = 1;
		(void)str_copy(sd->why, err, sizeof(sd->why));
		return rc;
	}
	if (sd->store_down)
		log_info("store: %s opened: aliases are served again",
		         c->state_dir);
	sd->store_down = 0;
	sd->why[0] = '\0';
	sd->miss.store = sd->store;
	return SH_OK;
}

static void
close_store(struct statedir *sd)
{
	stop_refreshing(sd);
	store_close(sd->store);
	sd->store = NULL;
	sd->miss.store = NULL;
}

/* A store opened read-only: is its state dir writable again? */
static int
writable_again(struct statedir *sd)
{
	char path[4200];

	/* At most once a second: LMDB may still refuse what access(2)
	 * allows, and each reopen that falls back logs a warning. */
	if (sd->tick.tv_sec == sd->rw_try)
		return 0;
	sd->rw_try = sd->tick.tv_sec;
	snprintf(path, sizeof(path), "%s/redirects.mdb", sd->conf->state_dir);
	return access(sd->conf->state_dir, W_OK) == 0 &&
	       access(path, W_OK) == 0;
}

/*
 * The open store against its file: replaced, damaged or writable again
 * means closing it here, to open it again in the same tick.
 */
static void
check_store(struct statedir *sd)
{
	int rc = store_check(sd->store);

	if (rc == SH_OK && !store_readonly(sd->store))
		return;
	if (rc == SH_OK) {
		if (!writable_again(sd))
			return;
		log_info("store: %s is writable again: reopening the store",
		         sd->conf->state_dir);
	} else if (rc == SH_EDAMAGED) {
		(void)store_set_aside(sd->store); /* logs the error */
	} else if (rc == SH_ESTALE) {
		log_info("store: %s/redirects.mdb was replaced by another "
		         "process: reopening it",
		         sd->conf->state_dir);
	} else {
		return; /* SH_EIO: cannot tell; keep what works */
	}
	close_store(sd);
}

static void
open_metrics(struct statedir *sd)
{
	char err[512];

	if (metrics_open(sd->conf->state_dir, &sd->metrics, err, sizeof(err)) ==
	    SH_OK) {
		if (sd->metrics_down)
			log_info("metrics: %s/metrics.shm opened: requests are "
			         "counted again",
			         sd->conf->state_dir);
		sd->metrics_down = 0;
		return;
	}
	if (!sd->metrics_down)
		log_warnx("%s; requests are not counted until it opens", err);
	sd->metrics_down = 1;
}

int
statedir_open(struct statedir *sd, const struct conf *c, int fastcgi)
{
	memset(sd, 0, sizeof(*sd));
	sd->conf = c;
	sd->fastcgi = fastcgi;
	sd->claim_fd = -1;
	sd->miss.conf = c;
	if (open_store(sd) == SH_EINVAL)
		return SH_EINVAL; /* a network filesystem: a setting to fix */
	if (sd->store != NULL) {
		claim(sd);
		if (!sd->claim_down)
			schedule_startup(c, sd->store, !fastcgi);
		start_refreshing(sd);
	}
	open_metrics(sd);
	(void)tick_new(&sd->tick); /* this tick is checked */
	return SH_OK;
}

void
statedir_tick(struct statedir *sd)
{
	if (!tick_new(&sd->tick))
		return;
	if (sd->store != NULL)
		check_store(sd);
	/* Reopened: the timer (or the first unknown alias) refreshes a
	 * fresh store; no fetch here, where a request waits. */
	if (sd->store != NULL || open_store(sd) == SH_OK) {
		if (!sd->refreshing) {
			claim(sd);
			start_refreshing(sd);
		}
	}
	if (sd->metrics == NULL)
		open_metrics(sd);
}

void
statedir_close(struct statedir *sd)
{
	close_store(sd);
	metrics_close(sd->metrics);
	sd->metrics = NULL;
	claim_release(sd->claim_fd);
	sd->claim_fd = -1;
}
