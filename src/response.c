/* response.c - status, headers and body to a sink; see response.h. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "response.h"
#include "util.h"

const char *
resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

static void
head_append(struct response *r, const char *s, size_t n)
{
	memcpy(r->head + r->len, s, n);
	r->len += n;
}

void
resp_begin(struct response *r, struct sink *s, int status)
{
	char line[64];
	int n;

	r->sink = s;
	r->status = status;
	r->head_sent = 0;
	r->failed = 0;
	r->body_bytes = 0;
	r->len = 0;
	n = snprintf(line, sizeof(line), "Status: %d %s\r\n", status,
	             resp_reason(status));
	if (n > 0 && (size_t)n < sizeof(line))
		head_append(r, line, (size_t)n);
}

int
resp_header(struct response *r, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	if (str_has_ctl(value, vl) || str_has_ctl(name, nl))
		return -1;
	/* Keep 2 bytes for the blank line that ends the block. */
	if (r->head_sent || r->len + nl + vl + 4 + 2 > sizeof(r->head))
		return -1;
	head_append(r, name, nl);
	head_append(r, ": ", 2);
	head_append(r, value, vl);
	head_append(r, "\r\n", 2);
	return 0;
}

int
resp_header_u64(struct response *r, const char *name, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	return resp_header(r, name, num);
}

static int
sink_write(struct response *r, const char *buf, size_t n)
{
	if (r->failed)
		return -1;
	if (n > 0 && r->sink->write(r->sink->ctx, buf, n) != 0) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

int
resp_finish(struct response *r)
{
	if (r->head_sent)
		return r->failed ? -1 : 0;
	head_append(r, "\r\n", 2);
	r->head_sent = 1;
	return sink_write(r, r->head, r->len);
}

int
resp_body(struct response *r, const void *buf, size_t n)
{
	if (resp_finish(r) != 0 || sink_write(r, buf, n) != 0)
		return -1;
	r->body_bytes += n;
	return 0;
}

int
resp_sendfile(struct response *r, int fd, uint64_t off, uint64_t n)
{
	if (r->sink->sendfile == NULL)
		return 1;
	if (resp_finish(r) != 0)
		return -1;
	if (n > 0 && r->sink->sendfile(r->sink->ctx, fd, off, n) != 0) {
		r->failed = 1;
		return -1;
	}
	r->body_bytes += n;
	return 0;
}
