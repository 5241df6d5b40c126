/*
 * pool.h - `sherve serve`: a pre-fork pool of FastCGI workers for nginx,
 * systemd and spawn-fcgi-style deployments.
 *
 * The master binds the listener (--listen unix:/path or HOST:PORT, or a
 * systemd socket via LISTEN_FDS), optionally drops to --user, forks
 * --workers processes that each run worker_run(), and supervises them:
 *  - a worker that dies is respawned (throttled if it dies at once);
 *  - SIGTERM/SIGINT: workers finish the request in flight and exit; after
 *    shutdown-grace seconds the rest are killed; exit status 0;
 *  - SIGHUP: the configuration is read again; if valid, a new generation
 *    of workers starts on the same socket, and once it waits there (5 s
 *    at most) the old one drains: it takes what is queued for it, and
 *    one last request on each kept connection (fcgi.c).
 *
 * Caveats: each worker is one process serving one request at a time,
 * while it holds any number of kept FastCGI connections (fcgi.c), so
 * concurrency comes from --workers; docs/benchmarks.md has the
 * measurement behind that choice. The master never opens the store:
 * LMDB environments must not cross fork().
 */
#ifndef SHERVE_POOL_H
#define SHERVE_POOL_H

#include "conf.h"

/*
 * Run the pool until SIGTERM. argv is kept to reload the configuration
 * on SIGHUP; *c is replaced by the reloaded one (the caller frees it).
 * Returns an exit status (exitcode.h).
 */
int pool_run(int argc, char **argv, struct conf *c);

#endif
