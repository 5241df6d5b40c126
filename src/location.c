/* location.c - Host names and the Location of a rule; see location.h. */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "location.h"
#include "match.h"
#include "redirects.h"
#include "url.h"
#include "util.h"

#define SPLAT     ":splat"
#define SPLAT_LEN (sizeof(SPLAT) - 1)

static int
host_char(unsigned char c, int bracketed)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.' || c == '_')
		return 1;
	return bracketed && c == ':';
}

/* Where the host ends: before ":port", after "]" for IPv6; or -1. */
static long
host_end(const char *in, size_t len)
{
	const char *p;
	size_t end, i;

	if (in[0] == '[') {
		if ((p = memchr(in, ']', len)) == NULL)
			return -1;
		end = (size_t)(p - in) + 1;
	} else {
		p = memchr(in, ':', len);
		end = p != NULL ? (size_t)(p - in) : len;
	}
	if (end < len && in[end] != ':')
		return -1;
	/* A port is digits only: anything else is no Host we know. */
	for (i = end + 1; i < len; i++)
		if (in[i] < '0' || in[i] > '9')
			return -1;
	return (long)end;
}

int
location_host(const char *in, size_t len, char *out, size_t outsz)
{
	int bracketed;
	long end;
	size_t i, n;

	if (in == NULL || len == 0 || (end = host_end(in, len)) <= 0)
		return -1;
	n = (size_t)end;
	bracketed = in[0] == '[';
	if (in[0] == '.')
		return -1;
	/* "example.org." names the same host as "example.org". */
	if (!bracketed && n > 1 && in[n - 1] == '.')
		n--;
	if (n > LOCATION_HOST_MAX || n >= outsz)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!host_char(c, bracketed) &&
		    !(bracketed &&
		      ((i == 0 && c == '[') || (i == n - 1 && c == ']'))))
			return -1;
		out[i] = (char)c;
	}
	out[n] = '\0';
	return (int)n;
}

void
location_fold(const char *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = in[i];

		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
}

/* A bounded writer: over is set, and nothing more written, on overflow. */
struct out {
	char *p;
	size_t n, cap;
	int over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->over || n > o->cap - o->n) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

/* RFC 3986 pchar and '/', less the sub-delims a query would misread. */
static int
path_safe(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("-._~!$'()*,;:@/", c) != NULL;
}

static void
put_encoded(struct out *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char e[3];

		url_pct_encode((unsigned char)s[i], e);
		if (path_safe((unsigned char)s[i]))
			put(o, s + i, 1);
		else
			put(o, e, 3);
	}
}

/* The next byte of s[*i, n), percent-decoded (a '%' that starts no
 * escape is itself); advances *i. */
static int
next_decoded(const char *s, size_t n, size_t *i)
{
	int c = url_pct_next(s, n, i);

	return c >= 0 ? c : (unsigned char)s[(*i)++];
}

/* A capture's value, percent-encoded as a path (decoded first if it came
 * from the query, where it is still encoded). */
static void
put_value(struct out *o, const struct match_capture *c)
{
	size_t i = 0;
	char b;

	if (!c->from_query) {
		put_encoded(o, c->val, c->vlen);
		return;
	}
	while (i < c->vlen) {
		b = (char)next_decoded(c->val, c->vlen, &i);
		put_encoded(o, &b, 1);
	}
}

/*
 * The substitution that text t (n bytes, at a ':') starts with: the
 * longest capture name, or "splat" for a rule with a splat. Returns the
 * bytes it replaces (':' included), 0 for none; *c is the capture, NULL
 * for the splat.
 */
static size_t
substitution(const char *t, const struct match_result *m,
             const struct match_capture **c)
{
	size_t i, best = 0, n = strlen(t + 1);

	*c = NULL;
	if (m == NULL)
		return 0;
	if (m->splat != NULL && n >= SPLAT_LEN - 1 &&
	    memcmp(t, SPLAT, SPLAT_LEN) == 0)
		best = SPLAT_LEN;
	for (i = 0; i < m->ncap; i++) {
		const struct match_capture *k = &m->cap[i];

		if (k->nlen + 1 > best && k->nlen <= n &&
		    memcmp(t + 1, m->names + k->name, k->nlen) == 0) {
			best = k->nlen + 1;
			*c = k;
		}
	}
	return best;
}

static void
put_target(struct out *o, const char *t, const struct match_result *m)
{
	const struct match_capture *c;
	const char *p;
	size_t n;

	while ((p = strchr(t, ':')) != NULL) {
		put(o, t, (size_t)(p - t));
		if ((n = substitution(p, m, &c)) == 0) {
			put(o, ":", 1);
			t = p + 1;
			continue;
		}
		if (c != NULL) {
			put_value(o, c);
		} else {
			put_encoded(o, m->splat, m->splen);
			if (m->splat_slash)
				put(o, "/", 1);
		}
		t = p + n;
	}
	put(o, t, strlen(t));
}

/* Two parameter names, equal once percent-decoded ("%72ef" = "ref"). */
static int
name_eq(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an && j < bn)
		if (next_decoded(a, an, &i) != next_decoded(b, bn, &j))
			return 0;
	return i == an && j == bn;
}

/* 1 if the query q (qlen bytes) has a parameter named like param's. */
static int
param_in(const char *q, size_t qlen, const char *param, size_t plen)
{
	const char *eq = memchr(param, '=', plen);
	size_t nl = eq != NULL ? (size_t)(eq - param) : plen, i = 0;

	while (i <= qlen) {
		const char *amp = memchr(q + i, '&', qlen - i);
		size_t e = amp != NULL ? (size_t)(amp - q) : qlen, ql;
		const char *qe = memchr(q + i, '=', e - i);

		ql = qe != NULL ? (size_t)(qe - q) - i : e - i;
		if (name_eq(q + i, ql, param, nl))
			return 1;
		i = e + 1;
	}
	return 0;
}

/*
 * Drop, in place, the parameters of s[from, to) that q also names.
 * Returns the end of what is kept.
 */
static size_t
filter_params(char *s, size_t from, size_t to, const char *q, size_t qlen)
{
	size_t w = from, r = from;

	while (r < to) {
		const char *amp = memchr(s + r, '&', to - r);
		size_t e = amp != NULL ? (size_t)(amp - s) : to;

		/* w <= r here: kept bytes only ever move left. */
		if (e > r && !param_in(q, qlen, s + r, e - r)) {
			if (w > from)
				s[w++] = '&';
			memmove(s + w, s + r, e - r);
			w += e - r;
		}
		r = e + 1;
	}
	return w;
}

/*
 * Copy the non-empty parameters of q into dst (NULL: only count), joined
 * by single '&': "a=1&&b=2&" -> "a=1&b=2". Returns the length.
 */
static size_t
compact_query(const char *q, char *dst)
{
	size_t n = 0, len;
	const char *amp;

	for (; *q != '\0'; q += len + (amp != NULL)) {
		amp = strchr(q, '&');
		len = amp != NULL ? (size_t)(amp - q) : strlen(q);
		if (len == 0)
			continue;
		if (n > 0 && dst != NULL)
			dst[n] = '&';
		n += n > 0;
		if (dst != NULL)
			memcpy(dst + n, q, len);
		n += len;
	}
	return n;
}

/* Merge the request's query q into the URL in o, before any fragment. */
static void
merge_query(struct out *o, const char *q)
{
	char *s = o->p, *hash = memchr(s, '#', o->n), *qm;
	size_t qlen = compact_query(q, NULL), fpos, flen, qpos, kept = 0, w,
	       dest;

	if (qlen == 0)
		return;

	fpos = hash != NULL ? (size_t)(hash - s) : o->n;
	flen = o->n - fpos;
	qm = memchr(s, '?', fpos);
	qpos = qm != NULL ? (size_t)(qm - s) : fpos;
	w = qpos + 1;
	if (qm != NULL) {
		w = filter_params(s, qpos + 1, fpos, q, qlen);
		kept = w - (qpos + 1);
	}
	dest = qpos + 1 + kept + (kept > 0) + qlen;
	if (dest + flen > o->cap) {
		o->over = 1;
		return;
	}
	memmove(s + dest, s + fpos, flen);
	s[qpos] = '?';
	if (kept > 0)
		s[w++] = '&';
	(void)compact_query(q, s + w);
	o->n = dest + flen;
}

/*
 * Percent-encode, in place, every byte of o that is not ASCII: a header
 * value is ASCII (RFC 9110 obs-text is obsolete), and a target typed
 * with an accent or an emoji must reach the browser as a URL it can
 * follow, as gosherve's Go redirect sent it. Spelled backwards so no
 * byte is read after it is overwritten.
 */
static void
escape_non_ascii(struct out *o)
{
	size_t i, extra = 0, w;

	if (o->over)
		return;
	for (i = 0; i < o->n; i++)
		extra += ((unsigned char)o->p[i] & 0x80) ? 2 : 0;
	if (extra == 0)
		return;
	if (extra > o->cap - o->n) {
		o->over = 1;
		return;
	}
	w = o->n + extra;
	for (i = o->n; i-- > 0;) {
		unsigned char c = (unsigned char)o->p[i];

		if (c & 0x80) {
			w -= 3;
			url_pct_encode(c, o->p + w);
		} else {
			o->p[--w] = (char)c;
		}
	}
	o->n += extra;
}

/* A writer into out, bounded by outsz - 1 and REDIRECT_URL_MAX. */
static struct out
location_out(char *out, size_t outsz)
{
	struct out o = { out, 0, 0, 0 };

	o.cap = outsz - 1 < REDIRECT_URL_MAX ? outsz - 1 : REDIRECT_URL_MAX;
	return o;
}

/* Encode what is not ASCII, terminate; the length, or -1 (size, CTL). */
static int
location_end(struct out *o)
{
	size_t i;

	escape_non_ascii(o);
	o->p[o->over ? 0 : o->n] = '\0';
	if (o->over)
		return -1;
	for (i = 0; i < o->n; i++)
		if ((unsigned char)o->p[i] < 0x20 || o->p[i] == 0x7f)
			return -1;
	return (int)o->n;
}

int
location_build(const char *target, const struct match_result *m,
               const char *query, char *out, size_t outsz)
{
	struct out o;

	if (outsz == 0)
		return -1;
	o = location_out(out, outsz);
	put_target(&o, target, m);
	if (!o.over && query != NULL && query[0] != '\0')
		merge_query(&o, query);
	return location_end(&o);
}

int
location_dir(const char *base, const char *dir, const char *query, char *out,
             size_t outsz)
{
	struct out o;

	if (outsz == 0)
		return -1;
	o = location_out(out, outsz);
	/* Both are decoded paths: "/go" and "a b/c" -> "/go/a%20b/c/". */
	put_encoded(&o, base, strlen(base));
	put(&o, "/", 1);
	if (dir[0] != '\0') {
		put_encoded(&o, dir, strlen(dir));
		put(&o, "/", 1);
	}
	if (query != NULL && query[0] != '\0') {
		put(&o, "?", 1);
		put(&o, query, strlen(query));
	}
	return location_end(&o);
}
