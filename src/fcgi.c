/* fcgi.c - FastCGI and CGI responder loops; see fcgi.h. */
#include "config.h"

#include <errno.h>
#include <fastcgi.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcgi.h"
#include "log.h"
#include "util.h"

#define FCGI_REC_MAX 65535u /* the largest record content */

static volatile sig_atomic_t stopping;

/*
 * Finish the request in flight, then stop. epoll_wait() is never
 * restarted after a handler, so the loop sees the flag at once; SA_RESTART
 * keeps the writes of the request in flight from failing with EINTR.
 */
static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

int
fcgi_on_socket(void)
{
	struct stat st;
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (fstat(STDIN_FILENO, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	               &len) != 0)
		return 0;
	return listening != 0;
}

static const char *
fcgx_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static int
fcgx_write(void *ctx, const char *buf, size_t n)
{
	FCGX_Stream *out = ((FCGX_Request *)ctx)->out;

	while (n > 0) {
		/* FCGX_PutStr takes an int; write big bodies in slices. */
		int chunk = n > 1U << 30 ? 1 << 30 : (int)n;

		if (FCGX_PutStr(buf, chunk, out) != chunk)
			return -1;
		buf += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

/* Send n bytes of fd from *off to sock; 0, or -1 (error, early EOF). */
static int
send_file_bytes(int sock, int fd, off_t *off, size_t n)
{
	while (n > 0) {
		ssize_t w = sendfile(sock, fd, off, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * A file body as FastCGI stdout records written by hand: libfcgi copies
 * every byte through an 8 KiB buffer, one write(2) per 8 KiB; here each
 * 64 KiB record is one header write and one sendfile(2), and the bytes
 * never enter user space. libfcgi's buffer is flushed first so records
 * stay in order; FCGX_Finish_r() then ends the stream as usual.
 */
static int
fcgx_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	FCGX_Request *req = ctx;
	unsigned char h[8];
	off_t o = (off_t)off;

	if (FCGX_FFlush(req->out) != 0)
		return -1;
	while (n > 0) {
		size_t len = n > FCGI_REC_MAX ? FCGI_REC_MAX : (size_t)n;

		h[0] = FCGI_VERSION_1;
		h[1] = FCGI_STDOUT;
		h[2] = (unsigned char)((unsigned)req->requestId >> 8);
		h[3] = (unsigned char)req->requestId;
		h[4] = (unsigned char)(len >> 8);
		h[5] = (unsigned char)len;
		h[6] = 0; /* no padding */
		h[7] = 0;
		if (send(req->ipcFd, h, sizeof(h), MSG_MORE | MSG_NOSIGNAL) !=
		            (ssize_t)sizeof(h) ||
		    send_file_bytes(req->ipcFd, fd, &o, len) != 0)
			return -1;
		n -= len;
	}
	return 0;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	/* A pool worker starts with these blocked; take them from here on. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGINT);
	return sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
}

/* FCGX_Accept_r returns -errno; these pass once descriptors free up. */
static int
fd_exhausted(int rc)
{
	return rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS ||
	       rc == -ENOMEM;
}

/*
 * One worker serves one request at a time but may hold many connections:
 * a web server that keeps FastCGI connections open (nginx with
 * fastcgi_keep_conn and an upstream keepalive pool) leaves them idle
 * between requests, and a worker blocked reading one idle connection
 * would starve the others. So the listener and every kept connection
 * wait in one epoll set, and whichever is ready is served next. Each
 * connection has its own FCGX_Request: libfcgi reuses a request's
 * connection (ipcFd) while it is kept, and accepts a new one when it has
 * none. The listener is non-blocking, so a worker that loses the race for
 * a connection to another worker goes back to waiting instead of
 * blocking in accept() with its own connections ready.
 */
#define FCGI_CONNS 64 /* connections one worker holds at most */

struct conns {
	FCGX_Request req[FCGI_CONNS];
	int fd[FCGI_CONNS]; /* the fd registered in epoll, or -1 */
	int ep, listen, listening;
	size_t nused;
};

/* Keep epoll in step with slot i after a request: its fd, if kept. */
static void
conn_track(struct conns *cs, size_t i)
{
	FCGX_Request *r = &cs->req[i];
	struct epoll_event ev = { .events = EPOLLIN };
	int keep = r->ipcFd >= 0;

	if (cs->fd[i] != -1 && cs->fd[i] != r->ipcFd) {
		(void)epoll_ctl(cs->ep, EPOLL_CTL_DEL, cs->fd[i], NULL);
		cs->fd[i] = -1;
		cs->nused--;
	}
	/* A slot holding a kept connection has no listener: when the peer
	 * drops it, libfcgi's retry cannot accept a new connection into the
	 * same fd number (which epoll would no longer watch); it fails, and
	 * the slot is freed here instead. */
	r->listen_sock = keep ? -1 : cs->listen;
	ev.data.u64 = i;
	if (keep && cs->fd[i] == -1) {
		if (epoll_ctl(cs->ep, EPOLL_CTL_ADD, r->ipcFd, &ev) == 0) {
			cs->fd[i] = r->ipcFd;
			cs->nused++;
		} else {
			FCGX_Free(r, 1); /* cannot watch it: let it go */
		}
	}
}

/*
 * Serve the next request on slot i (accepting one if it has no fd). With
 * last set, the connection is closed after the answer even if the web
 * server asked to keep it: the end of the answer and the close reach it
 * together, so it never sends another request on this connection.
 */
static void
conn_serve(struct handler *h, struct conns *cs, size_t i, int last)
{
	FCGX_Request *r = &cs->req[i];
	struct request rq;
	struct sink sink;
	int rc;

	if ((rc = FCGX_Accept_r(r)) < 0) {
		if (!stopping && fd_exhausted(rc)) {
			/* Out of descriptors: pause instead of dying, so the
			 * web server is not left without a backend. */
			log_warnx("fastcgi: accept: %s; pausing 1 s",
			          strerror(-rc));
			sleep(1);
		}
		conn_track(cs, i);
		return;
	}
	request_from_params(&rq, fcgx_param, r);
	sink.write = fcgx_write;
	sink.ctx = r;
	sink.sendfile = fcgx_sendfile;
	handler_serve(h, &rq, &sink);
	if (last)
		r->keepConnection = 0;
	FCGX_Finish_r(r); /* closes the connection unless it is kept */
	conn_track(cs, i);
}

/* A slot with no connection, for the listener; FCGI_CONNS if none. */
static size_t
conn_free(const struct conns *cs)
{
	size_t i;

	for (i = 0; i < FCGI_CONNS; i++)
		if (cs->fd[i] == -1)
			return i;
	return FCGI_CONNS;
}

/* Watch the listener only while a slot is free to take a connection. */
static void
conn_listen(struct conns *cs, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int want = cs->nused < FCGI_CONNS && !stopping;

	ev.data.u64 = FCGI_CONNS;
	if (want && !cs->listening)
		cs->listening = epoll_ctl(cs->ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	else if (!want && cs->listening &&
	         epoll_ctl(cs->ep, EPOLL_CTL_DEL, fd, NULL) == 0)
		cs->listening = 0;
}

static int
conns_init(struct conns *cs, int fd)
{
	size_t i;
	int fl;

	cs->nused = 0;
	cs->listening = 0;
	cs->listen = fd;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    (cs->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	for (i = 0; i < FCGI_CONNS; i++) {
		cs->fd[i] = -1;
		if (FCGX_InitRequest(&cs->req[i], fd, 0) != 0)
			return -1;
	}
	return 0;
}

/*
 * Stopping: closing a kept connection with a request unread in it resets
 * that request, and one the web server is about to reuse fails it. So
 * each kept connection gets one last answer, closed right after it, and
 * one idle for 100 ms is closed then; the listener is already gone.
 */
static void
conns_drain(struct handler *h, struct conns *cs)
{
	struct epoll_event ev[16];
	int n, k, rounds = 0;
	size_t i;

	while (cs->nused > 0 && rounds++ < 100) {
		if ((n = epoll_wait(cs->ep, ev, 16, 100)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (k = 0; k < n; k++)
			if ((i = (size_t)ev[k].data.u64) < FCGI_CONNS &&
			    cs->fd[i] != -1)
				conn_serve(h, cs, i, 1);
	}
}

int
fcgi_run(struct handler *h, int fd)
{
	static struct conns cs; /* 64 requests: keep them off the stack */
	struct epoll_event ev[16];
	size_t i;
	int n, k;

	if (install_signals() != 0 || FCGX_Init() != 0 ||
	    conns_init(&cs, fd) != 0) {
		log_error("fastcgi: cannot initialise the responder");
		return SH_EIO;
	}
	log_info("fastcgi responder ready (pid %ld)", (long)getpid());
	while (!stopping) {
		conn_listen(&cs, fd);
		if ((n = epoll_wait(cs.ep, ev, 16, -1)) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("fastcgi: epoll_wait");
			break;
		}
		for (k = 0; k < n && !stopping; k++) {
			i = (size_t)ev[k].data.u64;
			if (i == FCGI_CONNS &&
			    (i = conn_free(&cs)) == FCGI_CONNS)
				continue;
			conn_serve(h, &cs, i, 0);
		}
	}
	/* Leave the listener first. Closing it would not be enough: the
	 * socket lives on in the other workers, so epoll would keep this
	 * process registered, and with EPOLLEXCLUSIVE a new connection could
	 * wake only this one, which no longer accepts. */
	if (cs.listening)
		(void)epoll_ctl(cs.ep, EPOLL_CTL_DEL, fd, NULL);
	cs.listening = 0;
	close(fd);
	conns_drain(h, &cs);
	/* Plain close: libfcgi's would wait up to 2 s per idle connection
	 * for the web server to close its end first. */
	for (i = 0; i < FCGI_CONNS; i++) {
		if (cs.req[i].ipcFd >= 0)
			close(cs.req[i].ipcFd);
		cs.req[i].ipcFd = -1;
		FCGX_Free(&cs.req[i], 0);
	}
	close(cs.ep);
	log_info("fastcgi responder stopping (pid %ld)", (long)getpid());
	return SH_OK;
}

static const char *
env_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static int
fd_write(void *ctx, const char *buf, size_t n)
{
	int fd = *(int *)ctx;

	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fd_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	off_t o = (off_t)off;

	return send_file_bytes(*(int *)ctx, fd, &o, (size_t)n);
}

int
cgi_run(struct handler *h)
{
	static struct request rq; /* 8 KiB URI buffer: keep it off the stack */
	int fd = STDOUT_FILENO;
	struct sink sink = { fd_write, &fd, fd_sendfile };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	request_from_params(&rq, env_param, NULL);
	handler_serve(h, &rq, &sink);
	return SH_OK;
}
