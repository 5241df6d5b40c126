/*
 * response.h - the CGI/FastCGI response writer: status, headers, body.
 *
 * Output goes to a struct sink, so the same handler writes to a FastCGI
 * stream, to stdout in CGI mode, or to a buffer in unit tests. Headers are
 * gathered in a fixed buffer and sent with the first body bytes.
 *
 * Caveats: resp_header() refuses any value holding a control character,
 * so nothing from the redirect map or the request can inject a header.
 */
#ifndef SHERVE_RESPONSE_H
#define SHERVE_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

struct sink {
	/* Write all n bytes; return 0, or -1 when the client is gone. */
	int (*write)(void *ctx, const char *buf, size_t n);
	void *ctx;
	/*
	 * Optional (NULL: not offered): send n bytes of file fd from off
	 * without copying them through sherve (sendfile(2)). Returns 0, or
	 * -1 when the client is gone or the file ended early.
	 */
	int (*sendfile)(void *ctx, int fd, uint64_t off, uint64_t n);
};

#define RESP_HEAD_MAX 16384

struct response {
	struct sink *sink;
	int status;
	int head_sent;
	int failed; /* the sink failed; later writes are dropped */
	uint64_t body_bytes;
	size_t len;
	char head[RESP_HEAD_MAX];
};

/* Start a response with status (e.g. 200). */
void resp_begin(struct response *r, struct sink *s, int status);

/*
 * Add "name: value". Returns 0, or -1 if value holds a control character
 * or the header block is full (the header is then left out).
 */
int resp_header(struct response *r, const char *name, const char *value);

/* Add a header whose value is an unsigned number. */
int resp_header_u64(struct response *r, const char *name, uint64_t v);

/* Send body bytes (the header block first if not yet sent). */
int resp_body(struct response *r, const void *buf, size_t n);

/*
 * Send n bytes of fd from off as body (the header block first) through
 * the sink's sendfile. Returns 0, -1 on failure, or 1 if the sink has no
 * sendfile (nothing was sent: the caller copies the bytes instead).
 */
int resp_sendfile(struct response *r, int fd, uint64_t off, uint64_t n);

/* Send the header block if not yet sent. Returns 0, or -1. */
int resp_finish(struct response *r);

/* The reason phrase for a status code. */
const char *resp_reason(int status);

#endif
