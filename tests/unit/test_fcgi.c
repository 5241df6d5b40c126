/*
 * test_fcgi.c - the FastCGI event loop and the CGI responder (fcgi.c),
 * run for real.
 *
 * Each test forks a child that runs fcgi_run() on a unix listening socket
 * in a temporary directory, with a handler over a temporary webroot and a
 * store holding a small map, and talks FastCGI to it as a web server
 * would: requests written record by record here, answers read back and
 * split. The child's log goes to a file. Every wait is bounded (poll with
 * a timeout), so a bug fails a row instead of hanging the suite, and every
 * child is stopped with SIGTERM, must exit 0, and is reaped.
 *
 * cgi_run() runs in a child too, its request in the environment and its
 * stdout a pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "answer.h"
#include "fixture.h"

#include "conf.h"
#include "fcgi.h"
#include "fcgi_proto.h"
#include "handler.h"
#include "util.h"

#define WAIT_MS  5000 /* "answered within a generous bound" */
#define QUIET_MS 300  /* nothing arrives: a negative check, never a pass */
#define BIG_LEN  (150u * 1024) /* a body of several records */

static char base[128];
static char big[BIG_LEN];

static struct {
	char www[192], state[192], sock[192], log[192];
	struct conf c;
	struct handler h;
	pid_t pid; /* the running responder, or 0 */
} fx;

/* ---- the client: records out, records in ---- */

/* Milliseconds on the monotonic clock (util.h: no system call). */
static uint64_t
now_ms(void)
{
	return mono_ns() / 1000000u;
}

/* Poll fd for input until deadline; 1 readable, 0 not by then. */
static int
wait_in(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now;
	int n;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return 0;
		n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 0;
	}
}

/* Read exactly n bytes by deadline. 0, or -1 (EOF, error, late). */
static int
read_full(int fd, unsigned char *p, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t r;

		if (!wait_in(fd, deadline))
			return -1;
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static unsigned char rec[FCGI_RECORD_MAX];

/* Read one whole record into rec, parsed into r. 0, or -1. */
static int
read_record(int fd, struct fcgi_record *r, uint64_t deadline)
{
	size_t clen;

	if (read_full(fd, rec, FCGI_HEADER_LEN, deadline) != 0)
		return -1;
	clen = (size_t)rec[4] << 8 | rec[5];
	if (read_full(fd, rec + FCGI_HEADER_LEN, clen + rec[6], deadline) != 0)
		return -1;
	return fcgi_record_parse(rec, FCGI_HEADER_LEN + clen + rec[6], r) ==
	                       FCGI_REC_OK
	               ? 0
	               : -1;
}

/* One answer: the FCGI_STDOUT stream of a request, and its end. */
struct reply {
	struct buf out;
	int stdout_ended; /* the empty FCGI_STDOUT came */
	int ended;        /* FCGI_END_REQUEST came, after it */
	unsigned app, pst;
	unsigned other; /* records of another type or request */
};

/* Read the answer to request id; returns rp->ended. */
static int
read_reply(int fd, unsigned id, struct reply *rp)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct fcgi_record r;

	memset(rp, 0, sizeof(*rp));
	while (!rp->ended && read_record(fd, &r, deadline) == 0) {
		if (r.id != id) {
			rp->other++;
		} else if (r.type == FCGI_STDOUT && r.len == 0) {
			rp->stdout_ended = 1;
		} else if (r.type == FCGI_STDOUT && !rp->stdout_ended) {
			if (buf_write(&rp->out, (const char *)r.content, r.len))
				break;
		} else if (r.type == FCGI_END_REQUEST && r.len == 8) {
			rp->app = (unsigned)r.content[0] << 24 |
			          (unsigned)r.content[1] << 16 |
			          (unsigned)r.content[2] << 8 | r.content[3];
			rp->pst = r.content[4];
			rp->ended = rp->stdout_ended;
		} else {
			rp->other++;
		}
	}
	return rp->ended;
}

/* 1 if the peer closes fd within WAIT_MS with nothing more sent. */
static int
closed_by_peer(int fd)
{
	unsigned char b[64];
	ssize_t r;

	if (!wait_in(fd, now_ms() + WAIT_MS))
		return 0;
	r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

/* 1 if nothing arrives on fd (and it stays open) for QUIET_MS. */
static int
quiet(int fd)
{
	return !wait_in(fd, now_ms() + QUIET_MS);
}

static size_t
put_record(unsigned char *b, unsigned type, unsigned id, const void *c,
           size_t n)
{
	fcgi_header(b, type, id, n);
	if (n > 0)
		memcpy(b + FCGI_HEADER_LEN, c, n);
	return FCGI_HEADER_LEN + n;
}

/* One name-value pair, both under 128 bytes (one-byte lengths). */
static size_t
put_pair(unsigned char *b, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	b[0] = (unsigned char)nl;
	b[1] = (unsigned char)vl;
	memcpy(b + 2, name, nl);
	memcpy(b + 2 + nl, value, vl);
	return 2 + nl + vl;
}

/* A whole request as a web server writes it, into b (1 KiB). */
static size_t
req_build(unsigned char *b, unsigned id, int keep, const char *uri)
{
	unsigned char begin[8] = { 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
	unsigned char pairs[512];
	size_t n = 0, np = 0;

	begin[2] = keep ? FCGI_KEEP_CONN : 0;
	np += put_pair(pairs + np, "REQUEST_METHOD", "GET");
	np += put_pair(pairs + np, "REQUEST_URI", uri);
	np += put_pair(pairs + np, "SERVER_PROTOCOL", "HTTP/1.1");
	np += put_pair(pairs + np, "HTTP_HOST", "localhost");
	n += put_record(b + n, FCGI_BEGIN_REQUEST, id, begin, sizeof(begin));
	n += put_record(b + n, FCGI_PARAMS, id, pairs, np);
	n += put_record(b + n, FCGI_PARAMS, id, NULL, 0);
	n += put_record(b + n, FCGI_STDIN, id, NULL, 0);
	return n;
}

static int
send_bytes(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_req(int fd, unsigned id, int keep, const char *uri)
{
	unsigned char b[1024];

	return send_bytes(fd, b, req_build(b, id, keep, uri));
}

static int
cl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)str_copy(sa.sun_path, fx.sock, sizeof(sa.sun_path));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* ---- what an answer must be ---- */

/* The answer rp is status st with body (NULL: any body), sent whole. */
static void
expect_reply(unsigned line, const char *desc, struct reply *rp, int st,
             const char *body)
{
	struct answer a;

	expect_true(line, desc, rp->ended);
	expect_int(line, desc, 0, rp->other);
	expect_int(line, desc, FCGI_REQUEST_COMPLETE, rp->pst);
	expect_int(line, desc, 0, rp->app);
	answer_parse(&a, &rp->out);
	expect_int(line, desc, st, a.status);
	if (body != NULL)
		expect_mem(line, desc, body, a.body, a.blen);
	free(a.head);
	free(rp->out.p);
	rp->out.p = NULL;
}

/* Request uri on fd (id 1) and expect status st and body. */
static void
round_trip(unsigned line, const char *desc, int fd, int keep, const char *uri,
           int st, const char *body)
{
	struct reply rp;

	expect_int(line, desc, 0, send_req(fd, 1, keep, uri));
	(void)read_reply(fd, 1, &rp);
	expect_reply(line, desc, &rp, st, body);
}

/* ---- the responder in a child ---- */

/*
 * In a child: the log to fx.log, and the store opened here, after the
 * fork (an LMDB environment is used only by the process that opened it).
 * The handler's request path runs with it, then it is closed again.
 */
static void
child_setup(void)
{
	char err[256];
	int log = open(fx.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (log >= 0)
		dup2(log, STDERR_FILENO);
	if (store_open(fx.state, &fx.h.store, err, sizeof(err)) != SH_OK)
		fx.h.store = NULL;
}

static void
child_exit(int rc)
{
	int ok = rc == SH_OK && fx.h.store != NULL;

	handler_close(&fx.h);
	store_close(fx.h.store);
	conf_free(&fx.c);
	_exit(ok ? 0 : 1);
}

static void
child_serve(int lfd, int ready)
{
	child_setup();
	fcgi_ready_fd(ready);
	child_exit(fcgi_run(&fx.h, lfd));
}

static int reap(pid_t pid, unsigned ms);

/* A listener at fx.sock (made anew); its fd, or -1. */
static int
srv_listener(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)unlink(fx.sock);
	(void)str_copy(sa.sun_path, fx.sock, sizeof(sa.sun_path));
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	                listen(fd, 256) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Start fcgi_run() in a child on a new listener, and wait (bounded) for
 * the byte fcgi_ready_fd() promises once it waits on the listener: its
 * signal handlers are in place from then on. 0, or -1.
 */
static int
srv_start(void)
{
	int fd = srv_listener(), p[2] = { -1, -1 }, ok = 0;
	char c = 0;

	if (fd < 0 || pipe2(p, O_CLOEXEC) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fflush(NULL);
	if ((fx.pid = fork()) == 0) {
		close(p[0]);
		child_serve(fd, p[1]);
	}
	close(fd);
	close(p[1]);
	ok = fx.pid > 0 && wait_in(p[0], now_ms() + WAIT_MS) &&
	     read(p[0], &c, 1) == 1 && c == 'r';
	close(p[0]);
	if (!ok && fx.pid > 0) {
		(void)reap(fx.pid, 0);
		fx.pid = 0;
	}
	return ok ? 0 : -1;
}

/* Wait (bounded) for pid to exit; its wait status, or -1 (killed). */
static int
reap(pid_t pid, unsigned ms)
{
	uint64_t deadline = now_ms() + ms;
	int st = 0;
	pid_t r;

	while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	if (r == pid)
		return st;
	kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -1;
}

/* 1 if the responder still runs (has not crashed). */
static int
srv_alive(void)
{
	int st;

	return fx.pid > 0 && waitpid(fx.pid, &st, WNOHANG) == 0;
}

/* SIGTERM: the loop stops and the child exits 0. */
static void
srv_stop(unsigned line)
{
	int st;

	if (fx.pid <= 0)
		return;
	kill(fx.pid, SIGTERM);
	st = reap(fx.pid, 2 * WAIT_MS);
	fx.pid = 0;
	expect_true(line, "the responder exits 0 on SIGTERM",
	            st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- the rows ---- */

/* A request for uri and the answer it must get (body NULL: any). */
struct uri_row {
	unsigned line;
	const char *uri;
	int status;
	const char *body;
};

/* Without FCGI_KEEP_CONN: one answer (an asset, a file of several
 * records, a 404), then the responder closes the connection. */
static void
test_one_per_connection(void)
{
	static const struct uri_row rows[] = {
		{ __LINE__, "/a.txt", 200, "hello\n" },
		{ __LINE__, "/big.bin", 200, NULL },
		{ __LINE__, "/nope", 404, NULL },
	};
	struct reply rp;
	size_t i;
	int fd;

	require_true(__LINE__, "start", srv_start() == 0);
	for (i = 0; i < NELEM(rows); i++) {
		require_true(rows[i].line, "connect", (fd = cl_connect()) >= 0);
		expect_int(rows[i].line, rows[i].uri, 0,
		           send_req(fd, 7, 0, rows[i].uri));
		(void)read_reply(fd, 7, &rp);
		if (rows[i].body == NULL && rows[i].status == 200)
			expect_true(
			        rows[i].line, "the whole file",
			        rp.out.len > BIG_LEN &&
			                memcmp(rp.out.p + rp.out.len - BIG_LEN,
			                       big, BIG_LEN) == 0);
		expect_reply(rows[i].line, rows[i].uri, &rp, rows[i].status,
		             rows[i].body);
		expect_true(rows[i].line, "closed after the answer",
		            closed_by_peer(fd));
		close(fd);
	}
	srv_stop(__LINE__);
}

/* FCGI_KEEP_CONN: request after request on one connection. */
static void
test_keep_conn(void)
{
	static const char *uris[] = { "/a.txt", "/nope", "/a.txt", "/b.txt" };
	struct reply rp;
	size_t i;
	int fd;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	for (i = 0; i < NELEM(uris); i++) {
		expect_int(__LINE__, uris[i], 0,
		           send_req(fd, (unsigned)i + 1, 1, uris[i]));
		(void)read_reply(fd, (unsigned)i + 1, &rp);
		expect_reply(__LINE__, uris[i], &rp,
		             strcmp(uris[i], "/nope") == 0 ? 404 : 200, NULL);
		expect_true(__LINE__, "the connection is kept", quiet(fd));
	}
	/* Two requests in one write: both answered, in order. */
	{
		unsigned char b[2048];
		size_t n = req_build(b, 9, 1, "/a.txt");

		n += req_build(b + n, 10, 1, "/b.txt");
		expect_int(__LINE__, "two requests sent", 0,
		           send_bytes(fd, b, n));
		(void)read_reply(fd, 9, &rp);
		expect_reply(__LINE__, "the first of two", &rp, 200, "hello\n");
		(void)read_reply(fd, 10, &rp);
		expect_reply(__LINE__, "the second of two", &rp, 200, "bee\n");
	}
	close(fd);
	srv_stop(__LINE__);
}

/* One byte per send, two connections interleaved: each request is
 * assembled from its own bytes and answered to its own connection. */
static void
test_byte_at_a_time(void)
{
	unsigned char ra[1024], rb[1024];
	size_t na = req_build(ra, 3, 0, "/a.txt");
	size_t nb = req_build(rb, 4, 1, "/b.txt"), i;
	struct reply rp;
	int a, b, ok = 1;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect a", (a = cl_connect()) >= 0);
	require_true(__LINE__, "connect b", (b = cl_connect()) >= 0);
	for (i = 0; i < na || i < nb; i++) {
		if (i < na)
			ok &= send_bytes(a, ra + i, 1) == 0;
		if (i < nb)
			ok &= send_bytes(b, rb + i, 1) == 0;
		usleep(500); /* lets the responder see the parts */
	}
	expect_true(__LINE__, "every byte sent", ok);
	(void)read_reply(b, 4, &rp);
	expect_reply(__LINE__, "b, kept", &rp, 200, "bee\n");
	(void)read_reply(a, 3, &rp);
	expect_reply(__LINE__, "a", &rp, 200, "hello\n");
	expect_true(__LINE__, "a closed", closed_by_peer(a));
	round_trip(__LINE__, "b again, byte-sent request done", b, 1, "/a.txt",
	           200, "hello\n");
	close(a);
	close(b);
	srv_stop(__LINE__);
}

/* A peer silent after half a header holds a slot, not the worker; one
 * that closes mid-request is forgotten; the loop goes on. */
static void
test_slow_and_gone_peers(void)
{
	unsigned char b[1024];
	size_t n = req_build(b, 1, 0, "/a.txt");
	int slow, half, gone, fd;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (slow = cl_connect()) >= 0);
	require_true(__LINE__, "connect", (half = cl_connect()) >= 0);
	expect_int(__LINE__, "half a header", 0, send_bytes(slow, b, 4));
	expect_int(__LINE__, "half a request", 0, send_bytes(half, b, 30));
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	round_trip(__LINE__, "answered past two silent peers", fd, 0, "/a.txt",
	           200, "hello\n");
	close(fd);
	/* Gone mid-request: mid-header and mid-params. */
	require_true(__LINE__, "connect", (gone = cl_connect()) >= 0);
	expect_int(__LINE__, "part sent", 0, send_bytes(gone, b, n - 20));
	close(gone);
	require_true(__LINE__, "connect", (gone = cl_connect()) >= 0);
	expect_int(__LINE__, "part sent", 0, send_bytes(gone, b, 3));
	close(gone);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	round_trip(__LINE__, "answered after peers left mid-request", fd, 0,
	           "/b.txt", 200, "bee\n");
	close(fd);
	expect_true(__LINE__, "the responder runs on", srv_alive());
	/* The silent ones are closed in the end (fcgi.h: 5 s; the bound
	 * here is generous). */
	expect_true(__LINE__, "the silent peer is closed",
	            wait_in(slow, now_ms() + 4 * WAIT_MS) &&
	                    closed_by_peer(slow));
	expect_true(__LINE__, "the half request is closed",
	            closed_by_peer(half));
	close(slow);
	close(half);
	srv_stop(__LINE__);
}

/* Bytes that are no FastCGI: the connection is closed, nothing sent. */
static void
test_garbage(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	expect_int(
	        __LINE__, "garbage sent", 0,
	        send_bytes(fd, (const unsigned char *)http, sizeof(http) - 1));
	expect_true(__LINE__, "closed, nothing answered", closed_by_peer(fd));
	close(fd);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	round_trip(__LINE__, "the next request", fd, 0, "/a.txt", 200,
	           "hello\n");
	close(fd);
	srv_stop(__LINE__);
}

/* The records that need no request (id 0), and those refused. */
static void
test_management(void)
{
	unsigned char b[256], q[128];
	struct fcgi_param ps[8];
	struct fcgi_record r;
	size_t nq = 0;
	int fd, n;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	/* An unknown management type: FCGI_UNKNOWN_TYPE naming it. */
	expect_int(__LINE__, "type 42 sent", 0,
	           send_bytes(fd, b, put_record(b, 42, 0, "xy", 2)));
	require_true(__LINE__, "a record back",
	             read_record(fd, &r, now_ms() + WAIT_MS) == 0);
	expect_int(__LINE__, "its type", FCGI_UNKNOWN_TYPE, r.type);
	expect_int(__LINE__, "its id", 0, r.id);
	expect_true(__LINE__, "the type named",
	            r.len == 8 && r.content[0] == 42);
	/* FCGI_GET_VALUES: what one worker holds, no multiplexing. */
	nq += put_pair(q + nq, "FCGI_MAX_CONNS", "");
	nq += put_pair(q + nq, "FCGI_MPXS_CONNS", "");
	expect_int(__LINE__, "GET_VALUES sent", 0,
	           send_bytes(fd, b, put_record(b, FCGI_GET_VALUES, 0, q, nq)));
	require_true(__LINE__, "a record back",
	             read_record(fd, &r, now_ms() + WAIT_MS) == 0);
	expect_int(__LINE__, "its type", FCGI_GET_VALUES_RESULT, r.type);
	memcpy(b, r.content, r.len);
	n = fcgi_params_decode(b, r.len, ps, NELEM(ps));
	expect_str(__LINE__, "FCGI_MAX_CONNS", "64",
	           n > 0 ? fcgi_params_get(ps, (size_t)n, "FCGI_MAX_CONNS")
	                 : NULL);
	expect_str(__LINE__, "FCGI_MPXS_CONNS", "0",
	           n > 0 ? fcgi_params_get(ps, (size_t)n, "FCGI_MPXS_CONNS")
	                 : NULL);
	/* The connection serves a request after them. */
	round_trip(__LINE__, "a request after management records", fd, 1,
	           "/a.txt", 200, "hello\n");
	close(fd);
	srv_stop(__LINE__);
}

/* A role other than responder, and a second request on a busy
 * connection: FCGI_END_REQUEST with the reason, then the first one. */
static void
test_refused(void)
{
	unsigned char b[1024], begin[8] = { 0, 2, 0, 0, 0, 0, 0, 0 };
	struct fcgi_record r;
	struct reply rp;
	size_t n = 0;
	int fd;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	n += put_record(b, FCGI_BEGIN_REQUEST, 5, begin, sizeof(begin));
	expect_int(__LINE__, "authorizer sent", 0, send_bytes(fd, b, n));
	require_true(__LINE__, "a record back",
	             read_record(fd, &r, now_ms() + WAIT_MS) == 0);
	expect_true(__LINE__, "FCGI_UNKNOWN_ROLE for id 5",
	            r.type == FCGI_END_REQUEST && r.id == 5 && r.len == 8 &&
	                    r.content[4] == FCGI_UNKNOWN_ROLE);
	/* Request 1 begun, then request 2 begun before 1 is whole. */
	begin[1] = FCGI_RESPONDER;
	begin[2] = FCGI_KEEP_CONN;
	n = put_record(b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
	n += put_record(b + n, FCGI_BEGIN_REQUEST, 2, begin, sizeof(begin));
	expect_int(__LINE__, "two begun", 0, send_bytes(fd, b, n));
	require_true(__LINE__, "a record back",
	             read_record(fd, &r, now_ms() + WAIT_MS) == 0);
	expect_true(__LINE__, "FCGI_CANT_MPX_CONN for id 2",
	            r.type == FCGI_END_REQUEST && r.id == 2 && r.len == 8 &&
	                    r.content[4] == FCGI_CANT_MPX_CONN);
	/* The rest of request 1 (its BEGIN skipped): still answered. */
	n = req_build(b, 1, 1, "/a.txt");
	expect_int(__LINE__, "request 1 ends", 0,
	           send_bytes(fd, b + 16, n - 16));
	(void)read_reply(fd, 1, &rp);
	expect_reply(__LINE__, "request 1", &rp, 200, "hello\n");
	close(fd);
	srv_stop(__LINE__);
}

/* FCGI_ABORT_REQUEST before the request is whole: its end is sent, and
 * the connection closed unless kept (then it serves the next one). */
static void
test_abort(void)
{
	unsigned char b[1024];
	struct fcgi_record r;
	size_t n;
	int fd, keep;

	require_true(__LINE__, "start", srv_start() == 0);
	for (keep = 0; keep < 2; keep++) {
		require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
		/* The BEGIN record and the first FCGI_PARAMS, then abort. */
		n = req_build(b, 3, keep, "/a.txt") - 2 * FCGI_HEADER_LEN;
		n += put_record(b + n, FCGI_ABORT_REQUEST, 3, NULL, 0);
		expect_int(__LINE__, "sent", 0, send_bytes(fd, b, n));
		expect_true(__LINE__, "FCGI_END_REQUEST, complete, alone",
		            read_record(fd, &r, now_ms() + WAIT_MS) == 0 &&
		                    r.type == FCGI_END_REQUEST && r.id == 3 &&
		                    r.len == 8 &&
		                    r.content[4] == FCGI_REQUEST_COMPLETE);
		if (keep)
			round_trip(__LINE__, "kept: the next request", fd, 1,
			           "/a.txt", 200, "hello\n");
		else
			expect_true(__LINE__, "closed", closed_by_peer(fd));
		close(fd);
	}
	srv_stop(__LINE__);
}

/* FCGI_PARAMS over 128 KiB get 431, malformed ones 400: answers, never
 * a crash or a silent close. */
static void
test_params_limits(void)
{
	static unsigned char big_rec[FCGI_HEADER_LEN + 60000];
	static const unsigned char bad[] = { 5, 0x7f, 'a' };
	unsigned char b[1024];
	unsigned char begin[8] = { 0, FCGI_RESPONDER, 0, 0, 0, 0, 0, 0 };
	struct reply rp;
	size_t n;
	int fd, i, ok = 1;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	n = put_record(b, FCGI_BEGIN_REQUEST, 1, begin, sizeof(begin));
	ok &= send_bytes(fd, b, n) == 0;
	fcgi_header(big_rec, FCGI_PARAMS, 1, sizeof(big_rec) - 8);
	for (i = 0; i < 3; i++) /* 180,000 bytes */
		ok &= send_bytes(fd, big_rec, sizeof(big_rec)) == 0;
	n = put_record(b, FCGI_PARAMS, 1, NULL, 0);
	n += put_record(b + n, FCGI_STDIN, 1, NULL, 0);
	ok &= send_bytes(fd, b, n) == 0;
	expect_true(__LINE__, "180 KB of parameters sent", ok);
	(void)read_reply(fd, 1, &rp);
	expect_reply(__LINE__, "parameters too large", &rp, 431, NULL);
	close(fd);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	n = put_record(b, FCGI_BEGIN_REQUEST, 2, begin, sizeof(begin));
	n += put_record(b + n, FCGI_PARAMS, 2, bad, sizeof(bad));
	n += put_record(b + n, FCGI_PARAMS, 2, NULL, 0);
	expect_int(__LINE__, "sent", 0, send_bytes(fd, b, n));
	(void)read_reply(fd, 2, &rp);
	expect_reply(__LINE__, "a length past the end", &rp, 400, NULL);
	close(fd);
	srv_stop(__LINE__);
}

#define HELD 64 /* FCGI_CONNS, fcgi.c */

/* More than 64 connections: the 65th waits on the listener until a slot
 * is free, then is answered; those held are all served. */
/* 1 if request uri on fd is answered whole, with a body. */
static int
answered(int fd, unsigned id, int keep, const char *uri)
{
	struct reply rp;
	int ok;

	if (fd < 0 || send_req(fd, id, keep, uri) != 0)
		return 0;
	ok = read_reply(fd, id, &rp) && rp.out.len > 0;
	free(rp.out.p);
	return ok;
}

static void
test_over_64(void)
{
	int held[HELD], extra = -1, ok = 1;
	struct reply rp;
	size_t i;

	for (i = 0; i < HELD; i++)
		held[i] = -1;
	require_true(__LINE__, "start", srv_start() == 0);
	/* 64 kept connections, each idle after one answer: no deadline.
	 * The first failure ends the loop: every wait is bounded, and so
	 * is their sum. */
	for (i = 0; i < HELD && ok; i++)
		ok = answered(held[i] = cl_connect(), 1, 1, "/a.txt");
	if (!expect_true(__LINE__, "64 kept connections answered", ok) ||
	    !expect_true(__LINE__, "a 65th", (extra = cl_connect()) >= 0))
		goto out;
	expect_int(__LINE__, "its request sent", 0,
	           send_req(extra, 1, 0, "/b.txt"));
	expect_true(__LINE__, "not taken while 64 are held", quiet(extra));
	close(held[0]);
	held[0] = -1;
	(void)read_reply(extra, 1, &rp);
	expect_reply(__LINE__, "the 65th, once a slot is free", &rp, 200,
	             "bee\n");
	expect_true(__LINE__, "the 65th closed", closed_by_peer(extra));
	for (i = 1; i < HELD && ok; i++)
		ok = answered(held[i], 2, 0, "/b.txt") &&
		     closed_by_peer(held[i]);
	expect_true(__LINE__, "the 63 held: answered again, then closed", ok);
out:
	for (i = 0; i < HELD; i++)
		if (held[i] >= 0)
			close(held[i]);
	if (extra >= 0)
		close(extra);
	srv_stop(__LINE__);
}

/* SIGTERM: a request queued is still answered, a kept connection idle is
 * closed, and the child exits 0. */
static void
test_stop(void)
{
	struct reply rp;
	int kept, queued, st;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (kept = cl_connect()) >= 0);
	round_trip(__LINE__, "a kept connection", kept, 1, "/a.txt", 200,
	           "hello\n");
	require_true(__LINE__, "connect", (queued = cl_connect()) >= 0);
	expect_int(__LINE__, "sent", 0, send_req(queued, 1, 1, "/b.txt"));
	kill(fx.pid, SIGTERM);
	(void)read_reply(queued, 1, &rp);
	expect_reply(__LINE__, "the request sent before SIGTERM", &rp, 200,
	             "bee\n");
	expect_true(__LINE__, "its connection closed (the last answer)",
	            closed_by_peer(queued));
	expect_true(__LINE__, "the idle kept connection closed",
	            closed_by_peer(kept));
	st = reap(fx.pid, 2 * WAIT_MS);
	fx.pid = 0;
	expect_true(__LINE__, "exit 0 after SIGTERM",
	            st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(kept);
	close(queued);
}

/* SIGINT stops the loop as SIGTERM does, mid-conversation too. */
static void
test_stop_sigint(void)
{
	int fd, st;

	require_true(__LINE__, "start", srv_start() == 0);
	require_true(__LINE__, "connect", (fd = cl_connect()) >= 0);
	expect_int(__LINE__, "half a request", 0, send_bytes(fd, rec, 4));
	kill(fx.pid, SIGINT);
	st = reap(fx.pid, 2 * WAIT_MS);
	fx.pid = 0;
	expect_true(__LINE__, "exit 0 after SIGINT",
	            st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	expect_true(__LINE__, "the half request's connection closed",
	            closed_by_peer(fd));
	close(fd);
}

/* ---- cgi_run() ---- */

static void
cgi_child(const char *uri, int out)
{
	child_setup();
	dup2(out, STDOUT_FILENO);
	setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
	setenv("REQUEST_METHOD", "GET", 1);
	setenv("REQUEST_URI", uri, 1);
	setenv("SERVER_PROTOCOL", "HTTP/1.1", 1);
	setenv("HTTP_HOST", "localhost", 1);
	child_exit(cgi_run(&fx.h));
}

/* Run one CGI request for uri; its output in b. The wait status. */
static int
cgi_once(const char *uri, struct buf *b)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	char chunk[4096];
	int p[2];
	pid_t pid;
	ssize_t r;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0)
		cgi_child(uri, p[1]);
	close(p[1]);
	while (pid > 0 && wait_in(p[0], deadline) &&
	       (r = read(p[0], chunk, sizeof(chunk))) > 0)
		if (buf_write(b, chunk, (size_t)r) != 0)
			break;
	close(p[0]);
	return pid > 0 ? reap(pid, WAIT_MS) : -1;
}

static void
test_cgi_run(void)
{
	static const struct uri_row rows[] = {
		{ __LINE__, "/a.txt", 200, "hello\n" },
		{ __LINE__, "/nope", 404, NULL },
		{ __LINE__, "/foo", 301, NULL },
	};
	char v[256];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct buf b = { 0 };
		struct answer a;
		int st = cgi_once(rows[i].uri, &b);

		expect_true(rows[i].line, "cgi_run exits 0",
		            st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		answer_parse(&a, &b);
		expect_true(rows[i].line, "a Status line first",
		            b.p != NULL && strncmp(b.p, "Status: ", 8) == 0);
		expect_int(rows[i].line, rows[i].uri, rows[i].status, a.status);
		if (rows[i].body != NULL)
			expect_mem(rows[i].line, rows[i].uri, rows[i].body,
			           a.body, a.blen);
		if (rows[i].status == 301)
			expect_str(rows[i].line, "Location",
			           "https://example.com/foo",
			           header(&a, "Location", v, sizeof(v), NULL));
		free(a.head);
		free(b.p);
	}
}

/* ---- the suite ---- */

static int
suite_init(void)
{
	char *argv[] = { "sherve",    "--config",    "/dev/null",
		         "--webroot", fx.www,        "--state-dir",
		         fx.state,    "--log-level", "info" };
	struct store *s;
	char err[512];
	size_t i;

	for (i = 0; i < BIG_LEN; i++)
		big[i] = (char)('a' + i % 26);
	if (fixture_tmpdir(base, sizeof(base), "sherve-fcgi") != 0)
		return -1;
	snprintf(fx.www, sizeof(fx.www), "%s/www", base);
	snprintf(fx.state, sizeof(fx.state), "%s/state", base);
	snprintf(fx.sock, sizeof(fx.sock), "%s/s", base);
	snprintf(fx.log, sizeof(fx.log), "%s/log", base);
	if (mkdir(fx.www, 0755) != 0 || mkdir(fx.state, 0755) != 0 ||
	    put_text(fx.www, "a.txt", "hello\n") != 0 ||
	    put_text(fx.www, "b.txt", "bee\n") != 0 ||
	    put_file(fx.www, "big.bin", big, BIG_LEN) != 0)
		return -1;
	if (conf_load(&fx.c, (int)NELEM(argv), argv, err, sizeof(err)) !=
	    SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	fx.h.conf = &fx.c;
	/* The map is written here; each child opens the store itself. */
	if ((s = fixture_store(fx.state, "foo https://example.com/foo\n", 0)) ==
	    NULL)
		return -1;
	store_close(s);
	return 0;
}

static int
suite_cleanup(void)
{
	if (fx.pid > 0)
		(void)reap(fx.pid, 0);
	conf_free(&fx.c);
	return base[0] != '\0' ? unit_rmtree(base) : 0;
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_one_per_connection),
	UNIT_TEST(test_keep_conn),
	UNIT_TEST(test_byte_at_a_time),
	UNIT_TEST(test_slow_and_gone_peers),
	UNIT_TEST(test_garbage),
	UNIT_TEST(test_management),
	UNIT_TEST(test_refused),
	UNIT_TEST(test_abort),
	UNIT_TEST(test_params_limits),
	UNIT_TEST(test_over_64),
	UNIT_TEST(test_stop),
	UNIT_TEST(test_stop_sigint),
	UNIT_TEST(test_cgi_run),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "fcgi", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
