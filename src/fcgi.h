/*
 * fcgi.h - the responder loops: FastCGI on a listening socket, or one CGI
 * request.
 *
 * FastCGI is read and written here, on the wire format of fcgi_proto.h,
 * not through libfcgi. One single-threaded worker serves one request at a
 * time but holds up to 64 connections in one epoll set with the listener:
 * kept connections (nginx's fastcgi_keep_conn) wait there between
 * requests, and so does every connection whose request has not arrived
 * whole. Bytes are read as they come (recv with MSG_DONTWAIT) into a
 * buffer per connection, and a request goes to the handler only once its
 * FCGI_PARAMS stream has ended, so a peer that sends half a header holds
 * a connection slot, never the worker. A connection that has not
 * delivered a whole request within FCGI_WAIT_MS (5 s) of its accept (or
 * of a kept connection's first byte) is closed.
 *
 * Why not libfcgi: its FCGX_Accept_r reads a request blocking, so two
 * half-sent headers stopped a 2-worker pool; a peek (recv MSG_PEEK) to
 * find whole requests before handing them over would cost a system call
 * per request. Reading the records ourselves costs none: a web server
 * writes a request in one go, so the common case is one recv for the
 * whole request (read at once after accept4, with no epoll_ctl for a
 * connection that is answered and closed), one send for an answer up to
 * 128 KiB (the records, the empty FCGI_STDOUT and FCGI_END_REQUEST
 * together) or a send and a sendfile(2) per 64 KiB of a file, and a
 * plain close once the request's FCGI_STDIN has ended, where libfcgi
 * waited for the peer to close first (shutdown, select, read).
 *
 * Caveats: SIGTERM/SIGINT end the FastCGI loop after the request in
 * flight; the worker then leaves the listener, answers what is already
 * queued on it and on its kept connections (each answer the connection's
 * last), and returns. The process never exits by itself after N requests
 * (mod_fcgid decides process lifetimes). Writes block: a web server that
 * stops reading an answer holds the worker (they all read as they go).
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

/*
 * Before fcgi_run(): once it waits on the listener, it writes one byte to
 * fd and closes it (-1: nothing). A reloading pool stops its previous
 * generation of workers only then (pool.c), so the socket's queue is
 * never left to workers still starting.
 */
void fcgi_ready_fd(int fd);

/*
 * Before fcgi_run(): one more descriptor for the loop's epoll set, the
 * refresh timer's timerfd (schedule.h); when it is readable, fire(ctx)
 * runs between requests, and must not block. fd -1: none. The worker
 * runs no thread: the timer, the listener and the connections share one
 * wait.
 */
void fcgi_timer(int fd, void (*fire)(void *ctx), void *ctx);

/*
 * Answer the one CGI request described by the environment. From the
 * first byte of the answer on, SIGTERM is blocked and stays blocked when
 * this returns: lighttpd's mod_cgi and Apache's send one as soon as the
 * answer is complete, and it must not land between the last byte and the
 * metrics that count it, nor stop the refresh a CGI process starts after
 * answering. The process exits soon after anyway.
 */
int cgi_run(struct handler *h);

#endif
