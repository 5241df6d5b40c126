/* worker.c - set up and run one responder process; see worker.h. */
#include "config.h"

#include "cli.h"
#include "fcgi.h"
#include "handler.h"
#include "log.h"
#include "metrics.h"
#include "refresh.h"
#include "schedule.h"
#include "store.h"
#include "util.h"
#include "worker.h"

int
worker_run(const struct conf *c, enum worker_mode mode, int fd)
{
	struct handler h = { .conf = c };
	struct miss_ctx miss = { c, NULL };
	int fastcgi = mode == WORKER_FASTCGI, rc;
	char err[512];

	rc = store_open(c->state_dir, &h.store, err, sizeof(err));
	if (rc == SH_EINVAL) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	if (rc != SH_OK) {
		log_error("%s; serving assets only", err);
	} else {
		refresh_startup(c, h.store, !fastcgi);
		miss.store = h.store;
		h.on_miss = schedule_on_miss;
		h.miss_ctx = &miss;
		if (fastcgi && schedule_start(c, h.store) != SH_OK)
			log_warn("cannot start the refresh timer");
	}
	if (metrics_open(c->state_dir, &h.metrics, err, sizeof(err)) != SH_OK)
		log_warnx("%s; requests are not counted", err);
	rc = fastcgi ? fcgi_run(&h, fd) : cgi_run(&h);
	/* Before the CGI refresh forks: its child must not pin the webroot. */
	handler_close(&h);
	if (!fastcgi && h.store != NULL)
		schedule_after_cgi(c, h.store);
	schedule_stop(); /* joins the timer: its clone is closed */
	store_close(h.store);
	metrics_close(h.metrics);
	return rc == SH_OK ? EXIT_OK : EXIT_FAILED;
}
