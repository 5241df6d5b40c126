/*
 * fcgiget.h - a FastCGI client for the suites that start a real
 * responder (test_pool, test_main): one GET over a new connection to a
 * unix socket, the answer's FCGI_STDOUT stream collected until the
 * peer's FCGI_END_REQUEST.
 *
 * Caveats: static inline, for one translation unit per test program;
 * the test links libsherve (fcgi_proto.c frames and parses the records).
 * Params are short (each name and value under 128 bytes, all under 256).
 * Every read waits at most 10 s: a responder that never answers fails
 * the row instead of hanging the suite.
 */
#ifndef SHERVE_FCGIGET_H
#define SHERVE_FCGIGET_H

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcgi_proto.h"
#include "util.h"

/* Append a name-value pair (lengths under 128) to b at *n. */
static inline void
fcgiget_nv(unsigned char *b, size_t *n, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	b[(*n)++] = (unsigned char)nl;
	b[(*n)++] = (unsigned char)vl;
	memcpy(b + *n, name, nl);
	memcpy(b + *n + nl, value, vl);
	*n += nl + vl;
}

/*
 * Read fd until the peer's FCGI_END_REQUEST; the STDOUT stream into out
 * (NUL-terminated, records that would not fit are dropped). Returns 0,
 * or -1 on a timeout, an EOF or an error first.
 */
static inline int
fcgiget_answer(int fd, char *out, size_t outsz)
{
	static unsigned char in[1 << 17];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct fcgi_record r;
	size_t have = 0, o = 0;
	ssize_t n;

	out[0] = '\0';
	for (;;) {
		while (fcgi_record_parse(in, have, &r) == FCGI_REC_OK) {
			if (r.type == FCGI_END_REQUEST)
				return 0;
			if (r.type == FCGI_STDOUT && o + r.len < outsz) {
				memcpy(out + o, r.content, r.len);
				out[o += r.len] = '\0';
			}
			memmove(in, in + r.size, have - r.size);
			have -= r.size;
		}
		if (have == sizeof(in) || poll(&p, 1, 10000) != 1 ||
		    (n = read(fd, in + have, sizeof(in) - have)) <= 0)
			return -1;
		have += (size_t)n;
	}
}

/*
 * GET uri (Host: localhost) from the FastCGI socket at path; the CGI
 * answer into out. Returns 0, or -1 (no connection, no whole answer).
 */
static inline int
fcgiget(const char *path, const char *uri, char *out, size_t outsz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char req[512], params[256];
	size_t n = 16, pn = 0;
	int fd, rc = -1;

	(void)str_copy(sa.sun_path, path, sizeof(sa.sun_path));
	fcgiget_nv(params, &pn, "REQUEST_METHOD", "GET");
	fcgiget_nv(params, &pn, "REQUEST_URI", uri);
	fcgiget_nv(params, &pn, "HTTP_HOST", "localhost");
	fcgi_header(req, FCGI_BEGIN_REQUEST, 1, 8);
	memcpy(req + 8, "\0\1\0\0\0\0\0\0", 8); /* responder, no keep-conn */
	fcgi_header(req + n, FCGI_PARAMS, 1, pn);
	memcpy(req + n + 8, params, pn);
	n += 8 + pn;
	fcgi_header(req + n, FCGI_PARAMS, 1, 0);
	fcgi_header(req + n + 8, FCGI_STDIN, 1, 0);
	n += 16;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    write(fd, req, n) == (ssize_t)n)
		rc = fcgiget_answer(fd, out, outsz);
	close(fd);
	return rc;
}

#endif
