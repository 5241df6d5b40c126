/* fcgi.c - the FastCGI event loop and the CGI responder; see fcgi.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fcgi.h"
#include "fcgi_proto.h"
#include "log.h"
#include "util.h"

#define FCGI_CONNS         64   /* connections one worker holds at most */
#define FCGI_WAIT_MS       5000 /* a request must arrive whole within this */
#define FCGI_LINGER_MS     2000 /* reading to the end before a close */
#define FCGI_DRAIN_IDLE_MS 100  /* stopping: idle kept connections close */
#define FCGI_PAUSE_MS      1000 /* out of descriptors: no accept for this */
#define FCGI_DRAIN_ACCEPTS 1024 /* stopping: at most this many taken */
#define FCGI_PARAMS_MAX    (128u * 1024) /* one request's FCGI_PARAMS */
#define FCGI_PAIRS_MAX     1024
/* Two whole records: a 64 KiB first chunk of a file and its headers. */
#define FCGI_OUT_MAX (2 * (FCGI_HEADER_LEN + FCGI_CONTENT_MAX) + 64)

static volatile sig_atomic_t stopping;
static int ready_fd = -1; /* see fcgi_ready_fd() */

/* See fcgi_timer(): one more descriptor in the epoll set. */
static struct {
	int fd;
	void (*fire)(void *ctx);
	void *ctx;
} timer = { -1, NULL, NULL };
/* The timer's epoll data; the listener's is FCGI_CONNS. */
#define FCGI_TIMER_EV (FCGI_CONNS + 1)

/*
 * Finish the request in flight, then stop. SIGTERM and SIGINT are blocked
 * except inside epoll_pwait(), so the flag is set only there (which then
 * returns EINTR): never between the loop's test of it and the wait, where
 * it would go unseen until the next event.
 */
static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
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

/* Milliseconds on the monotonic clock (util.h: no system call). */
static uint64_t
now_ms(void)
{
	return mono_ns() / 1000000u;
}

static int
send_all(int fd, const unsigned char *p, size_t n, int flags)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, flags | MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
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
 * The answer to one request, as FCGI_STDOUT records built in obuf: the
 * handler's writes are copied in, and the buffer goes out when full or at
 * the end, so an answer up to FCGI_OUT_MAX is one send(2).
 */
struct out {
	int fd;
	unsigned id;
	size_t len; /* bytes in obuf */
	size_t rec; /* where the open record's header goes */
	int open;   /* a record is open at rec */
	int failed; /* the peer is gone, or a file ended early */
};

static unsigned char obuf[FCGI_OUT_MAX];

static void
out_close_record(struct out *o)
{
	if (!o->open)
		return;
	fcgi_header(obuf + o->rec, FCGI_STDOUT, o->id,
	            o->len - o->rec - FCGI_HEADER_LEN);
	o->open = 0;
}

static int
out_flush(struct out *o, int flags)
{
	out_close_record(o);
	if (!o->failed && o->len > 0 && send_all(o->fd, obuf, o->len, flags))
		o->failed = 1;
	o->len = 0;
	return o->failed ? -1 : 0;
}

static int
out_write(void *ctx, const char *buf, size_t n)
{
	struct out *o = ctx;
	size_t room, k;

	while (n > 0 && !o->failed) {
		if (!o->open) {
			if (sizeof(obuf) - o->len <= FCGI_HEADER_LEN)
				(void)out_flush(o, MSG_MORE);
			o->rec = o->len;
			o->len += FCGI_HEADER_LEN;
			o->open = 1;
		}
		room = FCGI_CONTENT_MAX - (o->len - o->rec - FCGI_HEADER_LEN);
		if (room > sizeof(obuf) - o->len)
			room = sizeof(obuf) - o->len;
		if (room == 0) {
			out_close_record(o);
			continue;
		}
		k = n < room ? n : room;
		memcpy(obuf + o->len, buf, k);
		o->len += k;
		buf += k;
		n -= k;
	}
	return o->failed ? -1 : 0;
}

/*
 * A file body: per 64 KiB record, what is buffered (the headers first)
 * goes out with the record's header in one send, then the bytes by
 * sendfile(2), never entering user space.
 */
static int
out_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	struct out *o = ctx;
	off_t pos = (off_t)off;

	out_close_record(o);
	while (n > 0 && !o->failed) {
		size_t k = n > FCGI_CONTENT_MAX ? FCGI_CONTENT_MAX : (size_t)n;

		if (sizeof(obuf) - o->len < FCGI_HEADER_LEN &&
		    out_flush(o, MSG_MORE) != 0)
			break;
		fcgi_header(obuf + o->len, FCGI_STDOUT, o->id, k);
		o->len += FCGI_HEADER_LEN;
		if (out_flush(o, MSG_MORE) != 0 ||
		    send_file_bytes(o->fd, fd, &pos, k) != 0)
			o->failed = 1;
		n -= k;
	}
	return o->failed ? -1 : 0;
}

/* The empty FCGI_STDOUT and FCGI_END_REQUEST, sent with what is left. */
static int
out_end(struct out *o)
{
	out_close_record(o);
	if (sizeof(obuf) - o->len < FCGI_HEADER_LEN + FCGI_END_LEN)
		(void)out_flush(o, MSG_MORE);
	fcgi_header(obuf + o->len, FCGI_STDOUT, o->id, 0);
	o->len += FCGI_HEADER_LEN;
	fcgi_end_request(obuf + o->len, o->id, 0, FCGI_REQUEST_COMPLETE);
	o->len += FCGI_END_LEN;
	return out_flush(o, 0);
}

/*
 * One worker serves one request at a time but holds many connections: a
 * web server that keeps FastCGI connections open (nginx with
 * fastcgi_keep_conn and an upstream keepalive pool) leaves them idle
 * between requests, and a peer may send a request slowly or not at all.
 * So the listener and every connection wait in one epoll set, and each
 * connection keeps what has arrived of its request (a record not yet
 * whole, the FCGI_PARAMS so far) until the request is whole.
 */
enum conn_state { CONN_FREE = 0, CONN_OPEN, CONN_LINGER };

struct conn {
	int fd;
	enum conn_state state;
	int watched;         /* in the epoll set */
	int served;          /* answered a request already */
	int closing;         /* the last answer is out: close after this read */
	int broken;          /* the peer is gone or speaks no FastCGI */
	uint64_t deadline;   /* ms; 0 for an idle kept connection */
	unsigned id;         /* the request being read (0: none) */
	int keep;            /* its FCGI_KEEP_CONN */
	int overflow;        /* its FCGI_PARAMS outgrew FCGI_PARAMS_MAX */
	unsigned done;       /* the request answered whose FCGI_STDIN goes on */
	unsigned char *part; /* the start of a record not yet whole */
	size_t npart, partcap;
	unsigned char *params; /* the FCGI_PARAMS stream of id, so far */
	size_t nparams, paramcap;
};

struct conns {
	struct conn c[FCGI_CONNS];
	size_t nused;
	int ep, listen, listening;
	uint64_t pause_until; /* out of descriptors: no accept before */
	int last; /* stopping: every answer is a connection's last */
	struct handler *h;
};

/* Received bytes: a record not yet whole (< FCGI_RECORD_MAX) is copied to
 * the front first, so a whole record always fits. */
static unsigned char rbuf[2 * FCGI_RECORD_MAX];

static int
conn_watch(struct conns *cs, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (c->watched)
		return 0;
	ev.data.u64 = (uint64_t)(c - cs->c);
	if (epoll_ctl(cs->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		return -1;
	c->watched = 1;
	return 0;
}

static void
conn_close(struct conns *cs, struct conn *c)
{
	/* Not needed while no other process holds a copy of the fd (every
	 * descriptor is close-on-exec, and a refresh is posix_spawn()ed),
	 * but a copy would keep the registration alive past close(). */
	if (c->watched)
		(void)epoll_ctl(cs->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_FREE;
	cs->nused--;
}

/*
 * The answer is out but the peer may still be sending what we never read
 * (a request body): a close with bytes unread resets the connection, and
 * over TCP the reset can destroy the answer before the web server has
 * read it. So stop writing and read to the end first, for a while.
 */
static void
conn_linger(struct conns *cs, struct conn *c, uint64_t now)
{
	if (shutdown(c->fd, SHUT_WR) != 0 || conn_watch(cs, c) != 0) {
		conn_close(cs, c);
		return;
	}
	c->npart = 0;
	c->state = CONN_LINGER;
	c->deadline = now + FCGI_LINGER_MS;
}

/* A record that needs no request: refuse one, or answer FCGI_GET_VALUES. */
static void
conn_send(struct conn *c, const unsigned char *b, size_t n)
{
	if (n > 0 && send_all(c->fd, b, n, 0) != 0)
		c->broken = 1;
}

static void
conn_end(struct conn *c, unsigned id, enum fcgi_status st)
{
	unsigned char b[FCGI_END_LEN];

	fcgi_end_request(b, id, 0, st);
	conn_send(c, b, sizeof(b));
}

static void
conn_management(struct conn *c, const struct fcgi_record *r)
{
	unsigned char b[128];

	if (r->type == FCGI_GET_VALUES) {
		conn_send(c, b,
		          fcgi_get_values(r->content, r->len, FCGI_CONNS, b,
		                          sizeof(b)));
		return;
	}
	fcgi_header(b, FCGI_UNKNOWN_TYPE, 0, 8);
	memset(b + FCGI_HEADER_LEN, 0, 8);
	b[FCGI_HEADER_LEN] = (unsigned char)r->type;
	conn_send(c, b, FCGI_HEADER_LEN + 8);
}

/* Grow *buf (cap *cap) to hold need bytes, up to max. 0, or -1. */
static int
buf_reserve(unsigned char **buf, size_t *cap, size_t need, size_t max)
{
	size_t n = *cap > 0 ? *cap : 4096;
	unsigned char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > max)
		n = max;
	if (need > n || (p = realloc(*buf, n)) == NULL)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static void
conn_params(struct conn *c, const struct fcgi_record *r)
{
	if (c->overflow || c->nparams + r->len > FCGI_PARAMS_MAX ||
	    buf_reserve(&c->params, &c->paramcap, c->nparams + r->len,
	                FCGI_PARAMS_MAX) != 0) {
		c->overflow = 1; /* answered 431 once the stream ends */
		return;
	}
	memcpy(c->params + c->nparams, r->content, r->len);
	c->nparams += r->len;
}

static struct {
	struct fcgi_param p[FCGI_PAIRS_MAX];
	size_t n;
} pairs;

static const char *
pairs_get(void *ctx, const char *name)
{
	(void)ctx;
	return fcgi_params_get(pairs.p, pairs.n, name);
}

/* The answer to a request the handler cannot be given. */
static void
answer_fixed(struct out *o, int status, const char *reason)
{
	char b[256];
	int n = snprintf(b, sizeof(b),
	                 "Status: %d %s\r\n"
	                 "Content-Type: text/plain; charset=utf-8\r\n"
	                 "Content-Length: %zu\r\n"
	                 "Cache-Control: no-store\r\n\r\n%s\n",
	                 status, reason, strlen(reason) + 1, reason);

	if (n > 0 && (size_t)n < sizeof(b))
		(void)out_write(o, b, (size_t)n);
}

/* The FCGI_PARAMS stream of c->id has ended: answer the request. */
static void
conn_answer(struct conns *cs, struct conn *c)
{
	static struct request rq; /* 8 KiB URI buffer: keep it off the stack */
	struct out o = { .fd = c->fd, .id = c->id };
	struct sink sink = { out_write, &o, out_sendfile };
	int n = -1;

	if (!c->overflow)
		n = fcgi_params_decode(c->params, c->nparams, pairs.p,
		                       FCGI_PAIRS_MAX);
	if (n >= 0) {
		pairs.n = (size_t)n;
		request_from_params(&rq, pairs_get, NULL);
		handler_serve(cs->h, &rq, &sink);
	} else if (c->overflow) {
		log_warnx("fastcgi: request parameters over %u KiB: 431",
		          FCGI_PARAMS_MAX / 1024);
		answer_fixed(&o, 431, "Request Header Fields Too Large");
	} else {
		log_warnx("fastcgi: malformed request parameters: 400");
		answer_fixed(&o, 400, "Bad Request");
	}
	if (out_end(&o) != 0)
		c->broken = 1;
	if (!c->keep || cs->last)
		c->closing = 1;
	c->served = 1;
	c->done = c->id;
	c->id = 0;
	c->nparams = 0;
	c->overflow = 0;
	c->deadline = 0;
}

static void
conn_begin(struct conn *c, const struct fcgi_record *r)
{
	unsigned role = 0, flags = 0;

	if (c->closing)
		return; /* nothing more is read on this connection */
	if (c->id != 0) {
		conn_end(c, r->id, FCGI_CANT_MPX_CONN);
		return;
	}
	if (fcgi_begin_parse(r, &role, &flags) != 0 || role != FCGI_RESPONDER) {
		conn_end(c, r->id, FCGI_UNKNOWN_ROLE);
		return;
	}
	c->id = r->id;
	c->keep = (flags & FCGI_KEEP_CONN) != 0;
	c->nparams = 0;
	c->overflow = 0;
}

static void
conn_record(struct conns *cs, struct conn *c, const struct fcgi_record *r)
{
	if (r->id == 0) {
		conn_management(c, r);
		return;
	}
	switch (r->type) {
	case FCGI_BEGIN_REQUEST: conn_begin(c, r); break;
	case FCGI_PARAMS:
		if (r->id != c->id)
			break;
		if (r->len == 0)
			conn_answer(cs, c);
		else
			conn_params(c, r);
		break;
	case FCGI_STDIN:
		/* sherve reads no body; its end makes a plain close safe. */
		if (r->id == c->done && r->len == 0)
			c->done = 0;
		break;
	case FCGI_ABORT_REQUEST:
		if (r->id != c->id)
			break; /* answered already: its end was sent */
		conn_end(c, r->id, FCGI_REQUEST_COMPLETE);
		c->id = 0;
		c->closing = !c->keep;
		break;
	default: break; /* the rest of a request already answered */
	}
}

/* Handle the whole records in p[0..n); returns the bytes they took. */
static size_t
conn_input(struct conns *cs, struct conn *c, const unsigned char *p, size_t n)
{
	struct fcgi_record r;
	size_t off = 0;
	int rc = FCGI_REC_OK;

	while (off < n && !c->broken &&
	       (rc = fcgi_record_parse(p + off, n - off, &r)) == FCGI_REC_OK) {
		conn_record(cs, c, &r);
		off += r.size;
	}
	if (rc == FCGI_REC_BAD) {
		log_warnx("fastcgi: a peer that does not speak FastCGI; "
		          "connection closed");
		c->broken = 1;
	}
	return off;
}

/* After a read: close, linger, or keep what is left and wait for more. */
static void
conn_after(struct conns *cs, struct conn *c, const unsigned char *rest,
           size_t n)
{
	uint64_t now = now_ms();

	if (c->broken || (c->closing && c->done == 0)) {
		conn_close(cs, c);
		return;
	}
	if (c->closing) {
		conn_linger(cs, c, now);
		return;
	}
	if (buf_reserve(&c->part, &c->partcap, n, FCGI_RECORD_MAX) != 0) {
		conn_close(cs, c);
		return;
	}
	if (n > 0)
		memcpy(c->part, rest, n);
	c->npart = n;
	if (c->id != 0 || n > 0) {
		if (c->deadline == 0) /* a kept connection's next request */
			c->deadline = now + FCGI_WAIT_MS;
	} else {
		c->deadline = cs->last ? now + FCGI_DRAIN_IDLE_MS : 0;
	}
	if (conn_watch(cs, c) != 0)
		conn_close(cs, c);
}

static void
conn_read(struct conns *cs, struct conn *c)
{
	size_t have = c->npart, used;
	ssize_t n;

	if (have > 0)
		memcpy(rbuf, c->part, have);
	do
		n = recv(c->fd, rbuf + have, sizeof(rbuf) - have, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (conn_watch(cs, c) != 0)
			conn_close(cs, c);
		return;
	}
	if (n <= 0) { /* the peer closed (or reset) */
		conn_close(cs, c);
		return;
	}
	if (c->state == CONN_LINGER)
		return; /* after the last answer: dropped */
	have += (size_t)n;
	used = conn_input(cs, c, rbuf, have);
	conn_after(cs, c, rbuf + used, have - used);
}

/* accept(2) errors that pass once descriptors or memory free up. */
static int
fd_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

/* A kept connection idle between requests, to give up; NULL if none. */
static struct conn *
conn_idle(struct conns *cs)
{
	size_t i;

	for (i = 0; i < FCGI_CONNS; i++)
		if (cs->c[i].state == CONN_OPEN && cs->c[i].served &&
		    cs->c[i].id == 0 && cs->c[i].npart == 0)
			return &cs->c[i];
	return NULL;
}

/*
 * accept4(), out of descriptors: an idle kept connection is closed to
 * make room (the web server opens another when it needs one), else the
 * listener is left alone for a while, instead of dying or spinning; the
 * connections held meanwhile are still served. Without this, idle kept
 * connections would hold every descriptor while new ones wait unseen.
 */
static int
accept_fd(struct conns *cs)
{
	struct conn *idle;
	int fd;

	while ((fd = accept4(cs->listen, NULL, NULL, SOCK_CLOEXEC)) < 0 &&
	       fd_exhausted(errno)) {
		if ((idle = conn_idle(cs)) != NULL) {
			conn_close(cs, idle);
			continue;
		}
		log_warn("fastcgi: accept; pausing %d ms", FCGI_PAUSE_MS);
		cs->pause_until = now_ms() + FCGI_PAUSE_MS;
		break;
	}
	return fd; /* < 0 with EAGAIN: another worker took it */
}

/* Take one connection off the listener; 1 if one was taken. */
static int
conn_accept(struct conns *cs)
{
	struct conn *c = NULL;
	size_t i;
	int fd;

	for (i = 0; i < FCGI_CONNS && c == NULL; i++)
		if (cs->c[i].state == CONN_FREE)
			c = &cs->c[i];
	if (c == NULL || (fd = accept_fd(cs)) < 0)
		return 0;
	c->fd = fd;
	c->state = CONN_OPEN;
	c->watched = c->served = c->closing = c->broken = 0;
	c->id = c->done = 0;
	c->npart = c->nparams = 0;
	c->overflow = 0;
	c->deadline = now_ms() + FCGI_WAIT_MS;
	cs->nused++;
	/* A web server writes its request as soon as it has connected: read
	 * it now. A request answered here, on a connection not kept, costs
	 * no epoll round trip and no epoll_ctl at all. */
	conn_read(cs, c);
	return 1;
}

/* Watch the listener only while a slot is free to take a connection. */
static void
conns_listen(struct conns *cs, uint64_t now)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int want =
	        cs->nused < FCGI_CONNS && !stopping && now >= cs->pause_until;

	ev.data.u64 = FCGI_CONNS;
	if (want && !cs->listening)
		cs->listening =
		        epoll_ctl(cs->ep, EPOLL_CTL_ADD, cs->listen, &ev) == 0;
	else if (!want && cs->listening &&
	         epoll_ctl(cs->ep, EPOLL_CTL_DEL, cs->listen, NULL) == 0)
		cs->listening = 0;
}

/* The epoll_wait timeout: until the next deadline, or -1 for none. */
static int
conns_timeout(const struct conns *cs, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	size_t i;

	if (now < cs->pause_until)
		next = cs->pause_until;
	for (i = 0; i < FCGI_CONNS; i++)
		if (cs->c[i].state != CONN_FREE && cs->c[i].deadline != 0 &&
		    cs->c[i].deadline < next)
			next = cs->c[i].deadline;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now + 1);
}

/* Close connections past their deadline; one log line for the lot. */
static void
conns_expire(struct conns *cs, uint64_t now)
{
	unsigned incomplete = 0;
	size_t i;

	for (i = 0; i < FCGI_CONNS; i++) {
		struct conn *c = &cs->c[i];

		if (c->state == CONN_FREE || c->deadline == 0 ||
		    c->deadline > now)
			continue;
		if (c->state == CONN_OPEN &&
		    (c->id != 0 || c->npart > 0 || !c->served))
			incomplete++;
		conn_close(cs, c);
	}
	if (incomplete > 0)
		log_warnx("fastcgi: closed %u connection%s that sent no whole "
		          "request within %d s",
		          incomplete, incomplete == 1 ? "" : "s",
		          FCGI_WAIT_MS / 1000);
}

static void
conns_event(struct conns *cs, uint64_t i)
{
	if (i == FCGI_TIMER_EV) {
		if (!stopping && timer.fire != NULL)
			timer.fire(timer.ctx);
	} else if (i == FCGI_CONNS)
		(void)conn_accept(cs);
	else if (i < FCGI_CONNS && cs->c[i].state != CONN_FREE)
		conn_read(cs, &cs->c[i]);
}

/* Wait for events until every connection is closed (all have deadlines). */
static void
conns_wait_all(struct conns *cs)
{
	struct epoll_event ev[16];
	int n, k;

	while (cs->nused > 0) {
		n = epoll_wait(cs->ep, ev, 16, conns_timeout(cs, now_ms()));
		if (n < 0 && errno != EINTR)
			break;
		for (k = 0; k < n; k++)
			conns_event(cs, ev[k].data.u64);
		conns_expire(cs, now_ms());
	}
}

/*
 * Stopping. Leave the listener first, then take what is queued on it:
 * with EPOLLEXCLUSIVE the kernel wakes one waiting worker per connection,
 * and it may have chosen this one for a connection no other worker will
 * hear of. Closing the listener would not do: the socket lives on in the
 * other workers. Then each kept connection gets one last answer, closed
 * right after it (closing one with a request unread in it would reset
 * that request), and one idle for 100 ms is closed then.
 */
static void
conns_stop(struct conns *cs)
{
	uint64_t now;
	size_t i;

	cs->last = 1;
	/* No refresh starts while the worker stops. */
	if (timer.fd >= 0)
		(void)epoll_ctl(cs->ep, EPOLL_CTL_DEL, timer.fd, NULL);
	if (cs->listening)
		(void)epoll_ctl(cs->ep, EPOLL_CTL_DEL, cs->listen, NULL);
	cs->listening = 0;
	/* Bounded: under a flood the queue may never be empty, and a
	 * listener left readable is seen by the workers that stay. */
	for (i = 0; i < FCGI_DRAIN_ACCEPTS && conn_accept(cs); i++)
		;
	close(cs->listen);
	now = now_ms();
	for (i = 0; i < FCGI_CONNS; i++)
		if (cs->c[i].state == CONN_OPEN && cs->c[i].deadline == 0)
			cs->c[i].deadline = now + FCGI_DRAIN_IDLE_MS;
	conns_wait_all(cs);
	for (i = 0; i < FCGI_CONNS; i++) {
		if (cs->c[i].state != CONN_FREE)
			conn_close(cs, &cs->c[i]);
		free(cs->c[i].part);
		free(cs->c[i].params);
		cs->c[i].part = cs->c[i].params = NULL;
		cs->c[i].partcap = cs->c[i].paramcap = 0;
	}
}

/* Install on_term; block its signals; *wait is the mask for the wait. */
static int
install_signals(sigset_t *wait)
{
	struct sigaction sa;
	sigset_t term;

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
	/* A pool worker starts with them blocked already. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	if (sigprocmask(SIG_BLOCK, &term, wait) != 0)
		return -1;
	sigdelset(wait, SIGTERM);
	sigdelset(wait, SIGINT);
	return 0;
}

static int
conns_init(struct conns *cs, struct handler *h, int fd)
{
	size_t i;
	int fl;

	memset(cs, 0, sizeof(*cs));
	cs->h = h;
	cs->listen = fd;
	for (i = 0; i < FCGI_CONNS; i++)
		cs->c[i].fd = -1;
	/* Non-blocking: a worker that loses the race for a connection to
	 * another goes back to waiting instead of blocking in accept(). */
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    (cs->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -1;
	if (timer.fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.u64 = FCGI_TIMER_EV;
		if (epoll_ctl(cs->ep, EPOLL_CTL_ADD, timer.fd, &ev) != 0)
			return -1;
	}
	return 0;
}

void
fcgi_ready_fd(int fd)
{
	ready_fd = fd;
}

void
fcgi_timer(int fd, void (*fire)(void *ctx), void *ctx)
{
	timer.fd = fd;
	timer.fire = fire;
	timer.ctx = ctx;
}

/* Waiting on the listener now: tell whoever asked (a reloading pool). */
static void
say_ready(void)
{
	ssize_t w;

	if (ready_fd < 0)
		return;
	w = write(ready_fd, "r", 1);
	(void)w; /* nobody reads: the pool stopped waiting */
	close(ready_fd);
	ready_fd = -1;
}

int
fcgi_run(struct handler *h, int fd)
{
	static struct conns cs; /* 64 connections: keep them off the stack */
	struct epoll_event ev[16];
	sigset_t wait;
	int n, k;

	if (install_signals(&wait) != 0 || conns_init(&cs, h, fd) != 0) {
		log_error("fastcgi: cannot initialise the responder");
		return SH_EIO;
	}
	log_info("fastcgi responder ready (pid %ld)", (long)getpid());
	conns_listen(&cs, now_ms());
	say_ready();
	while (!stopping) {
		conns_listen(&cs, now_ms());
		n = epoll_pwait(cs.ep, ev, 16, conns_timeout(&cs, now_ms()),
		                &wait);
		if (n < 0 && errno != EINTR) {
			log_warn("fastcgi: epoll_wait");
			break;
		}
		/* Every event is handled, even once stopping: a connection
		 * accepted is served, never dropped. */
		for (k = 0; k < n; k++)
			conns_event(&cs, ev[k].data.u64);
		conns_expire(&cs, now_ms());
	}
	conns_stop(&cs);
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

/* CGI's stdout; SIGTERM is blocked from its first byte (see fcgi.h). */
struct cgi_out {
	int fd;
	int held;
};

static void
cgi_hold(struct cgi_out *o)
{
	sigset_t term;

	if (o->held)
		return;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	o->held = sigprocmask(SIG_BLOCK, &term, NULL) == 0;
}

static int
cgi_write(void *ctx, const char *buf, size_t n)
{
	struct cgi_out *o = ctx;

	cgi_hold(o);
	while (n > 0) {
		ssize_t w = write(o->fd, buf, n);

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
cgi_sendfile(void *ctx, int fd, uint64_t off, uint64_t n)
{
	struct cgi_out *o = ctx;
	off_t pos = (off_t)off;

	cgi_hold(o);
	return send_file_bytes(o->fd, fd, &pos, (size_t)n);
}

int
cgi_run(struct handler *h)
{
	static struct request rq; /* 8 KiB URI buffer: keep it off the stack */
	struct cgi_out o = { STDOUT_FILENO, 0 };
	struct sink sink = { cgi_write, &o, cgi_sendfile };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	request_from_params(&rq, env_param, NULL);
	handler_serve(h, &rq, &sink);
	return SH_OK;
}
