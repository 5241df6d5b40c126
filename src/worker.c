/* worker.c - set up and run one responder process; see worker.h. */
#include "config.h"

#include "exitcode.h"
#include "fcgi.h"
#include "handler.h"
#include "schedule.h"
#include "statedir.h"
#include "util.h"
#include "worker.h"

/* Before each request: the state dir's handles, as they are now. */
static void
worker_tick(void *ctx, struct handler *h)
{
	struct statedir *sd = ctx;

	statedir_tick(sd);
	h->store = sd->store;
	h->metrics = sd->metrics;
	h->on_miss = sd->refreshing ? schedule_on_miss : NULL;
	h->miss_ctx = &sd->miss;
	h->store_why = sd->store == NULL ? sd->why : NULL;
}

int
worker_run(const struct conf *c, enum worker_mode mode, int fd)
{
	struct handler h = { .conf = c };
	struct statedir sd;
	int fastcgi = mode == WORKER_FASTCGI, rc;

	if (statedir_open(&sd, c, fastcgi) != SH_OK)
		return EXIT_CONFIG; /* logged: a network filesystem */
	h.tick = worker_tick;
	h.tick_ctx = &sd;
	if (fastcgi)
		fcgi_timer(schedule_fd(), schedule_fire, NULL);
	rc = fastcgi ? fcgi_run(&h, fd) : cgi_run(&h);
	handler_close(&h);
	if (!fastcgi && sd.store != NULL)
		schedule_after_cgi(c, sd.store);
	statedir_close(&sd);
	return rc == SH_OK ? EXIT_OK : EXIT_FAILED;
}
