/* fcgi_proto.c - FastCGI records and name-value pairs; see fcgi_proto.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi_proto.h"

int
fcgi_record_parse(const unsigned char *p, size_t n, struct fcgi_record *r)
{
	size_t len, size;

	/* The version byte comes first: a peer speaking anything else (an
	 * HTTP client on the wrong socket) is told apart at once. */
	if (n >= 1 && p[0] != 1)
		return FCGI_REC_BAD;
	if (n < FCGI_HEADER_LEN)
		return FCGI_REC_SHORT;
	len = (size_t)p[4] << 8 | p[5];
	size = FCGI_HEADER_LEN + len + p[6];
	if (n < size)
		return FCGI_REC_SHORT;
	r->type = p[1];
	r->id = (unsigned)p[2] << 8 | p[3];
	r->content = p + FCGI_HEADER_LEN;
	r->len = len;
	r->size = size;
	return FCGI_REC_OK;
}

int
fcgi_begin_parse(const struct fcgi_record *r, unsigned *role, unsigned *flags)
{
	if (r->len < 8)
		return -1;
	*role = (unsigned)r->content[0] << 8 | r->content[1];
	*flags = r->content[2];
	return 0;
}

/* One length of a pair at p[*off]: 1 byte below 128, else 4 (31 bits). */
static int
nv_len(const unsigned char *p, size_t n, size_t *off, size_t *len)
{
	const unsigned char *b = p + *off;

	if (*off >= n)
		return -1;
	if (b[0] < 0x80) {
		*len = b[0];
		*off += 1;
		return 0;
	}
	if (n - *off < 4)
		return -1;
	*len = (size_t)(b[0] & 0x7f) << 24 | (size_t)b[1] << 16 |
	       (size_t)b[2] << 8 | b[3];
	*off += 4;
	return 0;
}

/* The lengths of the pair at p[*off]; *off then points at its name. */
static int
nv_pair(const unsigned char *p, size_t n, size_t *off, size_t *nl, size_t *vl)
{
	if (nv_len(p, n, off, nl) != 0 || nv_len(p, n, off, vl) != 0)
		return -1;
	/* Each compared with what is left, so no sum can overflow. */
	if (*nl > n - *off || *vl > n - *off - *nl)
		return -1;
	return 0;
}

int
fcgi_params_decode(unsigned char *buf, size_t n, struct fcgi_param *out,
                   size_t max)
{
	size_t r = 0, w = 0, nl, vl, count = 0;

	/* The write offset never passes the read offset: a pair's two
	 * lengths take at least 2 bytes, its two NULs exactly 2. */
	while (r < n) {
		if (count == max || nv_pair(buf, n, &r, &nl, &vl) != 0)
			return -1;
		memmove(buf + w, buf + r, nl);
		buf[w + nl] = '\0';
		memmove(buf + w + nl + 1, buf + r + nl, vl);
		buf[w + nl + 1 + vl] = '\0';
		out[count].name = (const char *)buf + w;
		out[count].value = (const char *)buf + w + nl + 1;
		count++;
		r += nl + vl;
		w += nl + vl + 2;
	}
	return (int)count;
}

const char *
fcgi_params_get(const struct fcgi_param *ps, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(ps[i].name, name) == 0)
			return ps[i].value;
	return NULL;
}

void
fcgi_header(unsigned char *h, unsigned type, unsigned id, size_t len)
{
	h[0] = 1;
	h[1] = (unsigned char)type;
	h[2] = (unsigned char)(id >> 8);
	h[3] = (unsigned char)id;
	h[4] = (unsigned char)(len >> 8);
	h[5] = (unsigned char)len;
	h[6] = 0;
	h[7] = 0;
}

void
fcgi_end_request(unsigned char *out, unsigned id, unsigned app,
                 enum fcgi_status st)
{
	unsigned char *b = out + FCGI_HEADER_LEN;

	fcgi_header(out, FCGI_END_REQUEST, id, 8);
	b[0] = (unsigned char)(app >> 24);
	b[1] = (unsigned char)(app >> 16);
	b[2] = (unsigned char)(app >> 8);
	b[3] = (unsigned char)app;
	b[4] = (unsigned char)st;
	b[5] = b[6] = b[7] = 0;
}

/* Append the pair name=value (both under 128 bytes) at out[*len]. */
static int
nv_put(unsigned char *out, size_t outsz, size_t *len, const char *name,
       const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);

	if (outsz - *len < 2 + nl + vl)
		return -1;
	out[(*len)++] = (unsigned char)nl;
	out[(*len)++] = (unsigned char)vl;
	memcpy(out + *len, name, nl);
	memcpy(out + *len + nl, value, vl);
	*len += nl + vl;
	return 0;
}

size_t
fcgi_get_values(const unsigned char *q, size_t n, unsigned max_conns,
                unsigned char *out, size_t outsz)
{
	static const char *const names[] = { "FCGI_MAX_CONNS", "FCGI_MAX_REQS",
		                             "FCGI_MPXS_CONNS" };
	size_t off = 0, nl, vl, len = FCGI_HEADER_LEN, i;
	unsigned answered = 0; /* a bit per name: each answered once */
	char num[16];

	if (outsz < FCGI_HEADER_LEN)
		return 0;
	snprintf(num, sizeof(num), "%u", max_conns);
	while (off < n) {
		if (nv_pair(q, n, &off, &nl, &vl) != 0)
			return 0;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (nl != strlen(names[i]) ||
			    memcmp(q + off, names[i], nl) != 0 ||
			    (answered & (1u << i)) != 0)
				continue;
			if (nv_put(out, outsz, &len, names[i],
			           i == 2 ? "0" : num) != 0)
				return 0;
			answered |= 1u << i;
		}
		off += nl + vl;
	}
	fcgi_header(out, FCGI_GET_VALUES_RESULT, 0, len - FCGI_HEADER_LEN);
	return len;
}
