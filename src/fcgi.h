/*
 * fcgi.h - the responder loops: FastCGI over fd 0, or one CGI request.
 *
 * This is the only file that includes fcgiapp.h. fcgi_stdio.h is never
 * used: it redefines stdio.
 *
 * Caveats: SIGTERM (lighttpd stopping its backends) ends the FastCGI loop
 * after the request in flight; the process never exits by itself after N
 * requests (mod_fcgid decides process lifetimes).
 */
#ifndef SHERVE_FCGI_H
#define SHERVE_FCGI_H

#include "handler.h"

/* 1 if fd 0 is a listening socket: a web server passed a FastCGI listener. */
int fcgi_on_socket(void);

/*
 * Serve FastCGI requests on the listening socket fd (0 when spawned by a
 * web server) until SIGTERM/SIGINT, which let the request in flight
 * finish. Returns SH_OK or SH_EIO.
 */
int fcgi_run(struct handler *h, int fd);

/* Answer the one CGI request described by the environment. */
int cgi_run(struct handler *h);

#endif
