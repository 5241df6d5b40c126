/*
 * floor.c - the FastCGI floor of contrib/bench: a zero-work responder.
 *
 * It stands in for sherve in a bench setup to measure what any FastCGI
 * responder could reach there. One process serves many connections from
 * one epoll set and keeps them when the web server asks (FCGI_KEEP_CONN).
 * Each alias of the redirect map gets a 301 whose bytes were built once at
 * start; anything else gets a small 404. No webroot, no store, no log per
 * request: what is left per request is the FastCGI exchange itself.
 *
 * It takes sherve's command line and environment as far as the bench
 * needs. Started by a web server with a listening socket on fd 0
 * (lighttpd bin-path, mod_fcgid), it serves that socket; as
 * `floor serve --listen unix:/path|HOST:PORT --workers N` it pre-forks N
 * workers on one socket, as `sherve serve` does. It reads redirects-url
 * (a file:// URL or a path), base-path, listen and workers from
 * `--name value`, `--name=value` or SHERVE_NAME, options winning; every
 * other sherve setting is accepted and ignored. It reads no config file:
 * --config is refused rather than ignored (no bench setup needs one).
 *
 * Caveats: Linux only (epoll, accept4, PR_SET_PDEATHSIG). Only exact
 * rules of the map (`alias URL [status]`) are loaded; prefix rules and
 * host sections are skipped. Records are parsed with bounds: a PARAMS
 * stream is collected across records up to PARAMS_MAX (beyond it, or
 * malformed, the answer is a 400), padding is skipped, GET_VALUES is
 * answered, ABORT_REQUEST ends its request, and a second request while
 * one is open on a connection gets FCGI_CANT_MPX_CONN.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_USAGE  64
#define EXIT_CONFIG 78

/* FastCGI 1.0 (the specification's names, shortened). */
#define HDR             8
#define REC_MAX         (HDR + 65535 + 255)
#define T_BEGIN         1
#define T_ABORT         2
#define T_END           3
#define T_PARAMS        4
#define T_STDIN         5
#define T_STDOUT        6
#define T_GET_VALUES    9
#define T_VALUES_RES    10
#define T_UNKNOWN       11
#define ROLE_RESPONDER  1
#define FLAG_KEEP       1
#define ST_COMPLETE     0
#define ST_CANT_MPX     1
#define ST_UNKNOWN_ROLE 3

#define PARAMS_MAX (64 * 1024)
#define ANSWER_MAX 4096 /* one answer's CGI bytes: headers and body */
#define TARGET_MAX 1024
#define ALIAS_MAX  500 /* as sherve.redirects(5) */
#define LINE_MAX_  8192
/* Output one record may produce: STDOUT, padding, empty STDOUT, END. */
#define ROOM        (HDR + ANSWER_MAX + 7 + HDR + HDR + 8)
#define OUT_CAP     (4 * ROOM)
#define CONNS_MAX   4096
#define WORKERS_MAX 1024

struct opts {
	char redirects_url[4096];
	char listen[512];
	char base_path[512];
	char workers[16];
	const char *verb;
	int help, version;
};

/* An alias and its whole answer (CGI headers and body), one allocation. */
struct entry {
	char *key;
	size_t klen, rlen;
	uint64_t hash;
};

struct table {
	struct entry *slots;
	size_t cap, n;
};

struct conn {
	int fd;
	unsigned id; /* the open request, 0 when none */
	unsigned keep : 1, params_done : 1, bad : 1, closing : 1, want_out : 1,
	        watched : 1; /* in the epoll set */
	size_t inlen, plen, outoff, outlen;
	struct conn *next_free;
	unsigned char in[REC_MAX];
	unsigned char params[PARAMS_MAX];
	unsigned char out[OUT_CAP];
};

struct loop {
	int ep, lfd, paused, nconns;
	uint32_t lev; /* the listener's epoll events */
	const struct table *t;
	const char *base;
	size_t baselen;
	struct conn *free_list;
};

static const char NOT_FOUND[] = "Status: 404 Not Found\r\n"
                                "Content-Type: text/plain; charset=utf-8\r\n"
                                "Content-Length: 10\r\n"
                                "Cache-Control: no-store\r\n\r\n"
                                "Not found\n";
static const char BAD_REQUEST[] = "Status: 400 Bad Request\r\n"
                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Length: 12\r\n"
                                  "Cache-Control: no-store\r\n\r\n"
                                  "Bad request\n";

/* ------------------------------------------------------------ settings */

/* Store a setting the floor uses; others are accepted and ignored. */
static int
opt_set(struct opts *o, const char *name, size_t nlen, const char *val)
{
	static const struct {
		const char *name;
		size_t off, size;
	} used[] = {
		{ "redirects-url", offsetof(struct opts, redirects_url),
		  sizeof(o->redirects_url) },
		{ "listen", offsetof(struct opts, listen), sizeof(o->listen) },
		{ "base-path", offsetof(struct opts, base_path),
		  sizeof(o->base_path) },
		{ "workers", offsetof(struct opts, workers),
		  sizeof(o->workers) },
	};
	size_t i, vlen = strlen(val);

	for (i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		if (strlen(used[i].name) != nlen ||
		    memcmp(used[i].name, name, nlen) != 0)
			continue;
		if (vlen >= used[i].size) {
			fprintf(stderr, "floor: %.*s: value too long\n",
			        (int)nlen, name);
			return -1;
		}
		memcpy((char *)o + used[i].off, val, vlen + 1);
	}
	return 0;
}

static int
opts_env(struct opts *o)
{
	static const char *const vars[][2] = {
		{ "SHERVE_REDIRECTS_URL", "redirects-url" },
		{ "SHERVE_LISTEN", "listen" },
		{ "SHERVE_BASE_PATH", "base-path" },
		{ "SHERVE_WORKERS", "workers" },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if ((v = getenv(vars[i][0])) != NULL &&
		    opt_set(o, vars[i][1], strlen(vars[i][1]), v) != 0)
			return -1;
	return 0;
}

/* One pass over argv: the verb with apply 0, the options with 1. */
static int
opts_argv(struct opts *o, int argc, char **argv, int apply)
{
	const char *a, *name, *eq, *val;
	size_t nlen;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			o->help = 1;
		else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0)
			o->version = 1;
		else if (strcmp(a, "--force") == 0)
			continue;
		else if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (!apply && o->verb != NULL) {
				fprintf(stderr,
				        "floor: %s: unexpected "
				        "argument\n",
				        a);
				return -1;
			}
			o->verb = a;
		} else {
			name = a + 2;
			eq = strchr(name, '=');
			nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
			if (eq != NULL)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				fprintf(stderr, "floor: %s: needs a value\n",
				        a);
				return -1;
			}
			/* Settings in a file the floor would ignore: refuse. */
			if (nlen == 6 && memcmp(name, "config", 6) == 0) {
				fprintf(stderr, "floor: --config: not read; "
				                "give settings as options or "
				                "SHERVE_NAME\n");
				return -1;
			}
			if (apply && opt_set(o, name, nlen, val) != 0)
				return -1;
		}
	}
	return 0;
}

static int
opts_load(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->base_path, "/", 2);
	memcpy(o->workers, "0", 2);
	if (opts_argv(o, argc, argv, 0) != 0)
		return -1;
	if (opts_env(o) != 0)
		return -1;
	return opts_argv(o, argc, argv, 1);
}

/* A decimal number in [0, max]; -1 when s is not one. */
static long
parse_count(const char *s, long max)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > max / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

/* ---------------------------------------------------------------- map */

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static struct entry *
table_slot(const struct table *t, const char *key, size_t klen, uint64_t h)
{
	size_t i = h & (t->cap - 1);

	while (t->slots[i].key != NULL &&
	       !(t->slots[i].hash == h && t->slots[i].klen == klen &&
	         memcmp(t->slots[i].key, key, klen) == 0))
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

/* Open addressing, at most half full; grows by doubling. */
static int
table_grow(struct table *t)
{
	struct table nt = { NULL, t->cap != 0 ? t->cap * 2 : 64, t->n };
	size_t i;

	if ((nt.slots = calloc(nt.cap, sizeof(*nt.slots))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].key != NULL)
			*table_slot(&nt, t->slots[i].key, t->slots[i].klen,
			            t->slots[i].hash) = t->slots[i];
	free(t->slots);
	*t = nt;
	return 0;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->cap; i++)
		free(t->slots[i].key);
	free(t->slots);
}

static const char *
reason(unsigned status)
{
	switch (status) {
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	default: return "Moved Permanently";
	}
}

/* The target HTML-escaped for the body's link; 0 when it does not fit. */
static size_t
html_escape(char *dst, size_t dsz, const char *s)
{
	size_t n = 0, l;
	const char *rep;
	char one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: one[0] = *s; rep = one;
		}
		if ((l = strlen(rep)) >= dsz - n)
			return 0;
		memcpy(dst + n, rep, l + 1);
		n += l;
	}
	return n;
}

/*
 * The answer sherve gives a redirect with the bench's settings, header
 * for header, so that both cost the web server the same bytes. Returns
 * 1 when the target does not fit (the line is skipped).
 */
static int
table_add(struct table *t, const char *alias, const char *target,
          unsigned status)
{
	char body[2 * TARGET_MAX + 64], esc[2 * TARGET_MAX];
	char resp[ANSWER_MAX];
	size_t klen = strlen(alias);
	uint64_t h = hash(alias, klen);
	struct entry *e;
	int bl, rl;

	if ((t->n + 1) * 2 > t->cap && table_grow(t) != 0)
		return -1;
	e = table_slot(t, alias, klen, h);
	if (e->key != NULL)
		return 0; /* the first rule for an alias wins */
	if (html_escape(esc, sizeof(esc), target) == 0)
		return 1;
	bl = snprintf(body, sizeof(body), "<a href=\"%s\">%s</a>.\n", esc,
	              reason(status));
	rl = snprintf(resp, sizeof(resp),
	              "Status: %u %s\r\nLocation: %s\r\n"
	              "Access-Control-Allow-Origin: *\r\n"
	              "Cache-Control: public, max-age=3600\r\n"
	              "Content-Type: text/html; charset=utf-8\r\n"
	              "Content-Length: %d\r\n\r\n%s",
	              status, reason(status), target, bl, body);
	if (bl < 0 || (size_t)bl >= sizeof(body) || rl < 0 ||
	    (size_t)rl >= sizeof(resp))
		return 1;
	if ((e->key = malloc(klen + 1 + (size_t)rl)) == NULL)
		return -1;
	memcpy(e->key, alias, klen + 1);
	memcpy(e->key + klen + 1, resp, (size_t)rl);
	e->klen = klen;
	e->rlen = (size_t)rl;
	e->hash = h;
	t->n++;
	return 0;
}

/* Split a line into at most 4 fields; returns how many. */
static int
fields(char *s, char **f)
{
	int n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s == '\0' || n == 4)
			return n;
		f[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' &&
		       *s != '\n')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

/*
 * One line: 0 loaded or nothing to load, 1 skipped, -1 out of memory.
 * *host is set inside an @host section, whose rules are skipped.
 */
static int
map_line(struct table *t, char *line, int *host)
{
	char *f[4], *alias, *end;
	int n = fields(line, f);
	long status = 301;
	const unsigned char *p;

	if (n == 0 || f[0][0] == '#')
		return 0;
	if (strcmp(f[0], "@host") == 0) {
		*host = n < 2 || strcmp(f[1], "*") != 0;
		return 0;
	}
	if (*host || n < 2 || n > 3)
		return 1;
	if (n == 3 && (status = parse_count(f[2], 999)) != 301 &&
	    status != 302 && status != 303 && status != 307 && status != 308)
		return 1;
	for (alias = f[0]; *alias == '/'; alias++)
		;
	for (end = alias + strlen(alias); end > alias && end[-1] == '/';)
		*--end = '\0';
	if (*alias == '\0' || end - alias > ALIAS_MAX ||
	    strchr(alias, '*') != NULL || strlen(f[1]) > TARGET_MAX)
		return 1;
	for (p = (const unsigned char *)f[1]; *p != '\0'; p++)
		if (*p < 0x21 || *p == 0x7f)
			return 1;
	return table_add(t, alias, f[1], (unsigned)status);
}

static int
map_load(struct table *t, const char *url)
{
	char line[LINE_MAX_];
	const char *path = url;
	unsigned skipped = 0;
	FILE *fp;
	int rc = 0, r, host = 0;

	if (url[0] == '\0') {
		fprintf(stderr, "floor: redirects-url: not set\n");
		return -1;
	}
	if (strncmp(url, "file://", 7) == 0)
		path = url + 7;
	if (path[0] != '/') {
		fprintf(stderr,
		        "floor: redirects-url: %s: the floor reads a "
		        "local file (file:///path) and fetches nothing\n",
		        url);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			int ch;

			while ((ch = fgetc(fp)) != EOF && ch != '\n')
				;
			skipped++;
			continue;
		}
		if ((r = map_line(t, line, &host)) < 0)
			rc = -1;
		skipped += r > 0;
	}
	if (rc == 0 && ferror(fp))
		rc = -1;
	fclose(fp);
	if (rc != 0)
		fprintf(stderr, "floor: %s: cannot read the map\n", path);
	else if (skipped > 0)
		fprintf(stderr,
		        "floor: %s: %u lines skipped (the floor "
		        "loads exact rules only)\n",
		        path, skipped);
	return rc;
}

/* ------------------------------------------------------------- FastCGI */

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Append one record; the caller checked that ROOM is free. */
static void
emit(struct conn *c, unsigned type, unsigned id, const void *body, size_t len)
{
	unsigned char *p = c->out + c->outlen;
	size_t pad = (8 - len % 8) % 8;

	p[0] = 1;
	p[1] = (unsigned char)type;
	p[2] = (unsigned char)(id >> 8);
	p[3] = (unsigned char)id;
	p[4] = (unsigned char)(len >> 8);
	p[5] = (unsigned char)len;
	p[6] = (unsigned char)pad;
	p[7] = 0;
	if (len > 0)
		memcpy(p + HDR, body, len);
	memset(p + HDR + len, 0, pad);
	c->outlen += HDR + len + pad;
}

/* FCGI_END_REQUEST; the connection closes after it unless kept. */
static void
end_request(struct conn *c, unsigned id, unsigned char status)
{
	const unsigned char body[8] = { 0, 0, 0, 0, status, 0, 0, 0 };

	emit(c, T_END, id, body, sizeof(body));
	if (id == c->id) {
		c->id = 0;
		if (!c->keep)
			c->closing = 1;
	}
}

/* One name-value length (1 or 4 bytes) at p[*at]; -1 past the end. */
static int
nv_len(const unsigned char *p, size_t n, size_t *at, size_t *len)
{
	if (*at >= n)
		return -1;
	if (p[*at] < 0x80) {
		*len = p[(*at)++];
		return 0;
	}
	if (n - *at < 4)
		return -1;
	*len = (size_t)(p[*at] & 0x7f) << 24 | (size_t)p[*at + 1] << 16 |
	       (size_t)p[*at + 2] << 8 | p[*at + 3];
	*at += 4;
	return 0;
}

struct nv {
	const char *name, *value;
	size_t nlen, vlen;
};

/* The next pair: 1 when one was read, 0 at the end, -1 if malformed. */
static int
nv_next(const unsigned char *p, size_t n, size_t *at, struct nv *out)
{
	size_t nl, vl;

	if (*at == n)
		return 0;
	if (nv_len(p, n, at, &nl) != 0 || nv_len(p, n, at, &vl) != 0 ||
	    nl > n - *at || vl > n - *at - nl)
		return -1;
	out->name = (const char *)p + *at;
	out->nlen = nl;
	out->value = out->name + nl;
	out->vlen = vl;
	*at += nl + vl;
	return 1;
}

static int
nv_is(const struct nv *v, const char *name)
{
	return v->nlen == strlen(name) && memcmp(v->name, name, v->nlen) == 0;
}

/* FCGI_GET_VALUES: one connection, one request at a time. */
static void
get_values(struct conn *c, const unsigned char *body, size_t len)
{
	static const char *const known[][2] = {
		{ "FCGI_MAX_CONNS", "4096" },
		{ "FCGI_MAX_REQS", "4096" },
		{ "FCGI_MPXS_CONNS", "0" },
	};
	unsigned char res[128];
	size_t at = 0, n = 0, i, nl, vl;
	struct nv v;

	while (nv_next(body, len, &at, &v) == 1)
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			nl = strlen(known[i][0]);
			vl = strlen(known[i][1]);
			if (!nv_is(&v, known[i][0]) ||
			    n + 2 + nl + vl > sizeof(res))
				continue;
			res[n++] = (unsigned char)nl;
			res[n++] = (unsigned char)vl;
			memcpy(res + n, known[i][0], nl);
			memcpy(res + n + nl, known[i][1], vl);
			n += nl + vl;
		}
	emit(c, T_VALUES_RES, 0, res, n);
}

/* The table key of a request: its path without query, base path and the
 * slashes around it. Returns the answer's bytes. */
static const char *
route(const struct loop *l, const char *path, size_t len, size_t *rlen)
{
	const struct entry *e;
	size_t q;

	for (q = 0; q < len && path[q] != '?'; q++)
		;
	len = q;
	if (l->baselen > 1) {
		if (len < l->baselen ||
		    memcmp(path, l->base, l->baselen) != 0 ||
		    (len > l->baselen && path[l->baselen] != '/'))
			goto not_found;
		path += l->baselen;
		len -= l->baselen;
	}
	for (; len > 0 && *path == '/'; path++, len--)
		;
	for (; len > 0 && path[len - 1] == '/'; len--)
		;
	e = table_slot(l->t, path, len, hash(path, len));
	if (e->key != NULL) {
		*rlen = e->rlen;
		return e->key + e->klen + 1;
	}
not_found:
	*rlen = sizeof(NOT_FOUND) - 1;
	return NOT_FOUND;
}

/* The request is complete: find the path in its PARAMS and answer. */
static void
answer(const struct loop *l, struct conn *c)
{
	char path[2048];
	const char *resp = BAD_REQUEST;
	size_t at = 0, rlen = sizeof(BAD_REQUEST) - 1, sl = 0, pl = 0;
	struct nv v, sn = { 0 }, pi = { 0 };
	int r = 0;

	while (!c->bad && (r = nv_next(c->params, c->plen, &at, &v)) == 1) {
		if (nv_is(&v, "REQUEST_URI")) {
			resp = route(l, v.value, v.vlen, &rlen);
			goto out;
		}
		if (nv_is(&v, "SCRIPT_NAME"))
			sn = v;
		else if (nv_is(&v, "PATH_INFO"))
			pi = v;
	}
	/* Some gateways omit REQUEST_URI (RFC 3875 lacks it). */
	if (!c->bad && r == 0 &&
	    (sl = sn.vlen) + (pl = pi.vlen) < sizeof(path)) {
		memcpy(path, sn.value, sl);
		memcpy(path + sl, pi.value, pl);
		resp = route(l, path, sl + pl, &rlen);
	}
out:
	emit(c, T_STDOUT, c->id, resp, rlen);
	emit(c, T_STDOUT, c->id, NULL, 0);
	end_request(c, c->id, ST_COMPLETE);
}

static int
begin(struct conn *c, unsigned id, const unsigned char *body, size_t len)
{
	if (len < 8)
		return -1;
	if (c->id != 0) {
		if (id != c->id)
			end_request(c, id, ST_CANT_MPX);
		return 0;
	}
	c->keep = (body[2] & FLAG_KEEP) != 0;
	if (be16(body) != ROLE_RESPONDER) {
		c->closing = !c->keep;
		end_request(c, id, ST_UNKNOWN_ROLE);
		return 0;
	}
	c->id = id;
	c->plen = 0;
	c->params_done = 0;
	c->bad = 0;
	return 0;
}

static void
params(struct conn *c, const unsigned char *body, size_t len)
{
	if (len == 0)
		c->params_done = 1;
	else if (len > sizeof(c->params) - c->plen)
		c->bad = 1;
	else if (!c->bad) {
		memcpy(c->params + c->plen, body, len);
		c->plen += len;
	}
}

/* One whole record; -1 ends the connection (not FastCGI). */
static int
record(const struct loop *l, struct conn *c, const unsigned char *r)
{
	unsigned type = r[1], id = be16(r + 2);
	size_t len = be16(r + 4);
	const unsigned char *body = r + HDR;

	if (r[0] != 1)
		return -1;
	if (id == 0) {
		unsigned char unknown[8] = { (unsigned char)type };

		if (type == T_GET_VALUES)
			get_values(c, body, len);
		else
			emit(c, T_UNKNOWN, 0, unknown, sizeof(unknown));
		return 0;
	}
	if (type == T_BEGIN)
		return begin(c, id, body, len);
	if (id != c->id)
		return 0; /* a finished or refused request's last records */
	if (type == T_ABORT)
		end_request(c, id, ST_COMPLETE);
	else if (type == T_PARAMS && !c->params_done)
		params(c, body, len);
	else if (type == T_STDIN && len == 0)
		answer(l, c); /* a body, if any, was skipped */
	return 0;
}

/* ---------------------------------------------------------- event loop */

/* Watch c for input, or for room to write (and then not for input). */
static int
want(const struct loop *l, struct conn *c, int out)
{
	struct epoll_event ev = { .events = out ? EPOLLOUT : EPOLLIN,
		                  .data.ptr = c };
	int op = c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	c->want_out = out != 0;
	c->watched = 1;
	return epoll_ctl(l->ep, op, c->fd, &ev);
}

/*
 * Handle the whole records read so far while there is ROOM for their
 * answers. Returns 1 when it stopped for want of ROOM, 0 when every
 * whole record was handled, -1 when the input is not FastCGI.
 */
static int
conn_parse(const struct loop *l, struct conn *c)
{
	size_t at = 0, total;
	int full = 0;

	while (!c->closing && c->inlen - at >= HDR) {
		if (OUT_CAP - c->outlen < ROOM) {
			full = 1;
			break;
		}
		total = HDR + be16(c->in + at + 4) + c->in[at + 6];
		if (c->inlen - at < total)
			break;
		if (record(l, c, c->in + at) != 0)
			return -1;
		at += total;
	}
	if (at > 0) {
		memmove(c->in, c->in + at, c->inlen - at);
		c->inlen -= at;
	}
	return full;
}

/*
 * Answer what was read, and write. While an answer waits for the socket,
 * the connection is watched for EPOLLOUT only, so it reads nothing more.
 * Returns -1 when the connection is to be closed.
 */
static int
conn_work(const struct loop *l, struct conn *c)
{
	ssize_t n;
	int full;

	do {
		if ((full = conn_parse(l, c)) < 0)
			return -1;
		while (c->outoff < c->outlen) {
			n = send(c->fd, c->out + c->outoff,
			         c->outlen - c->outoff, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return c->want_out ? 0 : want(l, c, 1);
			if (n < 0)
				return -1;
			c->outoff += (size_t)n;
		}
		c->outoff = c->outlen = 0;
		if (c->closing)
			return -1;
		if (c->want_out && want(l, c, 0) != 0)
			return -1;
	} while (full); /* records left for want of ROOM need no read */
	return 0;
}

static void
conn_close(struct loop *l, struct conn *c)
{
	struct epoll_event ev = { .events = l->lev, .data.ptr = NULL };

	close(c->fd);
	c->next_free = l->free_list;
	l->free_list = c;
	l->nconns--;
	if (l->paused && epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev) == 0)
		l->paused = 0;
}

/* Returns -1 when it closed the connection. */
static int
conn_event(struct loop *l, struct conn *c, uint32_t events)
{
	ssize_t n;

	if (!c->want_out && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		if (c->inlen == sizeof(c->in))
			goto close; /* cannot happen: a record fits */
		n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0)
			goto close;
		c->inlen += (size_t)n;
	}
	if (conn_work(l, c) == 0)
		return 0;
close:
	conn_close(l, c);
	return -1;
}

/*
 * Accept one connection; the listener is level-triggered and wakes us
 * again for the next. Out of descriptors, it rests until one closes.
 * The web server writes its request as soon as it is connected, so it is
 * read at once: a connection used for one request (lighttpd, mod_fcgid)
 * is answered and closed without ever entering the epoll set.
 */
static void
loop_accept(struct loop *l)
{
	struct conn *c;
	int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if ((errno == EMFILE || errno == ENFILE) && l->nconns > 0 &&
		    epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL) == 0)
			l->paused = 1;
		return;
	}
	if ((c = l->free_list) != NULL)
		l->free_list = c->next_free;
	else if (l->nconns >= CONNS_MAX || (c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->id = 0;
	c->keep = c->closing = c->want_out = c->watched = 0;
	c->inlen = c->outoff = c->outlen = c->plen = 0;
	l->nconns++;
	if (conn_event(l, c, EPOLLIN) == 0 && !c->watched && want(l, c, 0) != 0)
		conn_close(l, c);
}

/* Serve the listening socket lfd until killed. Returns only on error. */
static int
loop_run(int lfd, const struct table *t, const char *base, int shared)
{
	struct epoll_event evs[64], ev = { .data.ptr = NULL };
	/* Several workers on one socket: wake one per connection. */
	struct loop l = { .lfd = lfd,
		          .t = t,
		          .base = base,
		          .baselen = strlen(base),
		          .lev = EPOLLIN | (shared ? EPOLLEXCLUSIVE : 0) };
	int i, n, fl = fcntl(lfd, F_GETFL);

	ev.events = l.lev;
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    (l.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(l.ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
		fprintf(stderr, "floor: listener: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		if ((n = epoll_wait(l.ep, evs, 64, -1)) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "floor: epoll_wait: %s\n",
			        strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++)
			if (evs[i].data.ptr == NULL)
				loop_accept(&l);
			else
				conn_event(&l, evs[i].data.ptr, evs[i].events);
	}
}

/* -------------------------------------------------------------- serve */

static int
listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "floor: listen: %s: path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket left by a killed run is in the way; nothing else is. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 1024) != 0) {
		fprintf(stderr, "floor: listen: %s: %s\n", path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT, [V6]:PORT */
static int
listen_tcp(const char *spec)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		                  .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
	                *res = NULL;
	size_t hl;
	int fd = -1, one = 1, rc;

	if (colon == NULL || (hl = (size_t)(colon - spec)) >= sizeof(host)) {
		fprintf(stderr,
		        "floor: listen: %s: expected unix:/path or "
		        "HOST:PORT\n",
		        spec);
		return -1;
	}
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']')
		memcpy(host, spec + 1, hl -= 2);
	else
		memcpy(host, spec, hl);
	host[hl] = '\0';
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		fprintf(stderr, "floor: listen: %s: %s\n", spec,
		        gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0)) <
	            0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, 1024) != 0) {
		fprintf(stderr, "floor: listen: %s: %s\n", spec,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void
stop_workers(const pid_t *pids, long n)
{
	long i;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

/* The master: wait for SIGTERM or SIGINT (stop the workers, exit 0) or
 * a worker's death (a bug: stop the others and exit 1). */
static int
master_wait(pid_t *pids, long n, const sigset_t *set)
{
	siginfo_t si;
	pid_t pid;
	long i;
	int rc = -1;

	while (rc < 0) {
		if (sigwaitinfo(set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			rc = 0;
			break;
		}
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (pids[i] == pid) {
					fprintf(stderr,
					        "floor: worker %ld "
					        "died\n",
					        (long)pid);
					pids[i] = 0;
					rc = 1;
				}
	}
	stop_workers(pids, n);
	return rc;
}

/* `floor serve`: N workers on one socket, as `sherve serve`. */
static int
serve(const struct opts *o, const struct table *t)
{
	long n = parse_count(o->workers, WORKERS_MAX), i;
	pid_t *pids, master = getpid();
	sigset_t set;
	int fd, rc = 1;

	if (n < 0) {
		fprintf(stderr, "floor: workers: %s: not a number in 0..%d\n",
		        o->workers, WORKERS_MAX);
		return EXIT_CONFIG;
	}
	if (n == 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	if (o->listen[0] == '\0') {
		fprintf(stderr, "floor: serve: listen: not set (use --listen "
		                "unix:/path or HOST:PORT)\n");
		return EXIT_CONFIG;
	}
	fd = strncmp(o->listen, "unix:", 5) == 0 ? listen_unix(o->listen + 5)
	                                         : listen_tcp(o->listen);
	if (fd < 0 || (pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) < 0) {
			fprintf(stderr, "floor: fork: %s\n", strerror(errno));
			pids[i] = 0;
			stop_workers(pids, i);
			goto out;
		}
		if (pids[i] == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			/* A worker outlives no master. */
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
			    getppid() != master)
				_exit(1);
			_exit(loop_run(fd, t, o->base_path, 1));
		}
	}
	rc = master_wait(pids, n, &set);
out:
	if (strncmp(o->listen, "unix:", 5) == 0)
		unlink(o->listen + 5);
	free(pids);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- main */

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: floor [OPTION]... [serve]\n"
	        "The FastCGI floor of sherve's benchmark: a zero-work "
	        "responder that answers\neach alias of the redirect map with "
	        "its redirect and anything else with 404.\n"
	        "\n"
	        "Without a command it serves the listening socket a web "
	        "server passes on\nstdin (lighttpd bin-path, mod_fcgid); "
	        "`serve` runs --workers processes\non --listen, as "
	        "`sherve serve`.\n"
	        "\n"
	        "Options (also SHERVE_NAME in the environment):\n"
	        "  --redirects-url URL   file:// URL (or path) of the map\n"
	        "  --base-path PATH      URL prefix it answers under "
	        "(default /)\n"
	        "  --listen ADDRESS      serve: unix:/path or HOST:PORT\n"
	        "  --workers N           serve: processes (0: one per CPU)\n"
	        "  -h, --help            show this help and exit\n"
	        "  -V, --version         show the version and exit\n"
	        "Any other sherve option is accepted and ignored.\n"
	        "\n"
	        "Exit status: 0 success, 1 failure, 64 usage, 78 "
	        "configuration.\n");
}

/* fd 0 is a listening socket when a web server started us. */
static int
on_socket(void)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	return getsockopt(STDIN_FILENO, SOL_SOCKET, SO_ACCEPTCONN, &listening,
	                  &len) == 0 &&
	       listening;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct table t = { NULL, 0, 0 };
	int serving, rc;

	if (opts_load(&o, argc, argv) != 0)
		return EXIT_USAGE;
	if (o.help || o.version) {
		if (o.help)
			usage(stdout);
		else
			printf("floor (sherve contrib/bench)\n");
		return 0;
	}
	serving = o.verb != NULL && strcmp(o.verb, "serve") == 0;
	if (o.verb != NULL && !serving) {
		fprintf(stderr,
		        "floor: %s: the floor only answers requests "
		        "(see --help)\n",
		        o.verb);
		return EXIT_USAGE;
	}
	if (!serving && !on_socket()) {
		fprintf(stderr, "floor: no listening socket on stdin; run it "
		                "from a web server or as `floor serve`\n");
		return EXIT_USAGE;
	}
	if (o.base_path[0] != '/') {
		fprintf(stderr, "floor: base-path: %s: must start with /\n",
		        o.base_path);
		return EXIT_CONFIG;
	}
	if (table_grow(&t) != 0 || map_load(&t, o.redirects_url) != 0)
		rc = EXIT_CONFIG;
	else if (serving)
		rc = serve(&o, &t);
	else
		rc = loop_run(STDIN_FILENO, &t, o.base_path, 0);
	table_free(&t);
	return rc;
}
