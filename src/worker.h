/*
 * worker.h - one responder process: open the store, refresh once if it
 * is empty, start the refresh timer, then answer requests (a FastCGI
 * loop, or one CGI request). One thread: the timer waits in the FastCGI
 * loop's epoll set, and every refresh runs in a process of its own
 * (refresher.h).
 *
 * Used by main.c when a web server spawns sherve (lighttpd bin-path,
 * mod_fcgid, CGI) and by pool.c for each forked worker.
 *
 * Caveats: call after fork(); the LMDB environment is opened here.
 * A store that cannot be opened is logged and the worker still serves
 * assets (a FastCGI backend that dies at spawn takes lighttpd with it),
 * and tries again as requests come (statedir.h).
 */
#ifndef SHERVE_WORKER_H
#define SHERVE_WORKER_H

#include "conf.h"

enum worker_mode { WORKER_FASTCGI, WORKER_CGI };

/*
 * Serve in mode; fd is the FastCGI listening socket (ignored for CGI).
 * Returns an exit status (exitcode.h): EXIT_OK, EXIT_CONFIG (the state dir is
 * on a network filesystem) or EXIT_FAILED.
 */
int worker_run(const struct conf *c, enum worker_mode mode, int fd);

#endif
