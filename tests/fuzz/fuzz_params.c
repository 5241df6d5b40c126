/*
 * fuzz_params.c - FastCGI parameters -> request_from_params() ->
 * handler_serve(), against a fixed webroot and store.
 *
 * Input: byte 0 picks one of NCONF configurations (bits 0-2) and the
 * separator of the parameters (bit 7 set: NUL, so values may hold LF;
 * else LF). The rest is NAME=VALUE parameters, the first of a name wins,
 * as FCGX_GetParam() does.
 *
 * The fixture, built once in a temporary directory: a webroot with pages,
 * a 70 000-byte file, precompressed siblings, a 404 page, dotfiles, a
 * FIFO and symlinks to a canary file outside; a store with aliases,
 * prefix rules with :splat, a host section with a catch-all and a
 * relative target.
 * Every answer must be framed ("Status: " line, CRLF headers without a
 * CR or LF inside a value, a blank line, a body as long as its
 * Content-Length), never 5xx, never leak the canaries or a descriptor.
 */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"
#include "handler.h"
#include "log.h"
#include "metrics.h"
#include "redirects.h"
#include "request.h"
#include "store.h"
#include "util.h"

#define CANARY_OUT "CANARY-OUTSIDE-93c1e"
#define CANARY_DOT "CANARY-DOTFILE-5e2b7"
#define MAXP       64
#define NCONF      8
#define OUT_MAX    (1u << 20)

extern char **environ;

static char top[PATH_MAX];
static char www[PATH_MAX], www_real[PATH_MAX];
static struct conf confs[NCONF];
static struct store *store;
static struct metrics *metrics;

/* top/rel into p (PATH_MAX bytes); the fixture paths are short. */
static void
fixture_path(char *p, const char *rel)
{
	if ((size_t)snprintf(p, PATH_MAX, "%s/%s", top, rel) >= PATH_MAX)
		abort();
}

static void
put_file(const char *rel, const char *body, size_t n, time_t mtime)
{
	char p[PATH_MAX];
	struct timespec ts[2];
	int fd;

	fixture_path(p, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, body, n) != (ssize_t)n)
		abort();
	ts[0].tv_sec = ts[1].tv_sec = mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);
	close(fd);
}

static void
put_text(const char *rel, const char *body)
{
	put_file(rel, body, strlen(body), 1600000000);
}

static void
mk(const char *rel)
{
	char p[PATH_MAX];

	fixture_path(p, rel);
	if (mkdir(p, 0755) != 0)
		abort();
}

static void
link_to(const char *target, const char *rel)
{
	char p[PATH_MAX];

	fixture_path(p, rel);
	if (symlink(target, p) != 0)
		abort();
}

static void
fixture_files(void)
{
	static char big[70000];
	char p[PATH_MAX];
	size_t i;

	mk("www");
	mk("www/dir");
	mk("www/sub");
	mk("www/.git");
	mk("www/go");
	mk("outside");
	mk("state");
	put_text("outside/canary.txt", CANARY_OUT "\n");
	put_text("www/index.html", "<h1>home</h1>\n");
	put_text("www/a.txt", "hello\n");
	put_text("www/dir/index.html", "dir index\n");
	put_text("www/dir/page.html", "<p>page</p>\n");
	put_text("www/go/x.txt", "under go\n");
	put_text("www/404.html", "<p>custom 404</p>\n");
	put_text("www/style.css", "body { color: red; }\n");
	put_file("www/style.css.gz", "GZ-BYTES", 8, 1600000001);
	put_file("www/style.css.br", "BR-BYTES", 8, 1600000001);
	put_file("www/app.js.gz", "STALE-GZ", 8, 1500000000);
	put_text("www/app.js", "console.log(1);\n");
	put_text("www/.secret", CANARY_DOT "\n");
	put_text("www/.git/config", "[core]\n" CANARY_DOT "\n");
	put_text("www/sub/.htaccess", CANARY_DOT "\n");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	put_file("www/big.bin", big, sizeof(big), 1600000000);
	fixture_path(p, "outside/canary.txt");
	link_to(p, "www/abs-link.txt");
	link_to("../outside/canary.txt", "www/link.txt");
	link_to("../outside", "www/linkdir");
	link_to("a.txt", "www/inside-link.txt");
	fixture_path(p, "www/fifo");
	if (mkfifo(p, 0644) != 0)
		abort();
}

static void
fixture_store(const char *state)
{
	static const char map[] =
	        "foo https://example.com/foo\n"
	        "bar/baz http://example.org/x?y=1&z=<\">\n"
	        "a.txt https://example.com/shadowed-by-the-asset\n"
	        "go/deep https://example.net/deep 302\n"
	        "caf\xc3\xa9 https://example.com/caf%C3%A9\n"
	        "Mixed https://example.com/mixed?keep=1#frag 307\n"
	        "rel /a.txt\n"
	        "docs/* https://docs.example/v2/:splat?from=docs\n"
	        "deep/er/* https://example.com/:splat/x/:splat 308\n"
	        "@host example.org\n"
	        "gh https://github.com/org\n"
	        "* https://www.example.org/:splat 302\n"
	        "@host *\n";
	static const struct redirects_opts opts = { REDIRECTS_GOSHERVE, 0, 1, DIALECT_NETLIFY };
	struct redirect_map m;
	char err[512];

	memset(&m, 0, sizeof(m));
	if (store_open(state, &store, err, sizeof(err)) != SH_OK ||
	    redirects_parse_opts(map, sizeof(map) - 1, &opts, &m, NULL, NULL) !=
	            SH_OK ||
	    m.n != 11 || store_replace(store, &m, NULL, 0) != SH_OK) {
		fprintf(stderr, "fuzz_params: store: %s\n", err);
		abort();
	}
	redirects_free(&m);
	if (metrics_open(state, &metrics, err, sizeof(err)) != SH_OK)
		metrics = NULL;
}

static void
fixture_confs(const char *state)
{
	static const char *const extra[NCONF][4] = {
		{ NULL },
		{ "--base-path=/go", "--redirect-status=308", NULL },
		{ "--sendfile-mode=lighttpd", "--precompressed=no", NULL },
		{ "--sendfile-mode=nginx", "--metrics-path=/-/metrics", NULL },
		{ "--webroot=", "--etag-inode=yes", NULL },
		{ "--metrics-path=/-/metrics", "--sendfile-mode=apache",
		  "--etag-inode=yes", NULL },
		{ "--alias-case=insensitive", "--allow-relative-targets=yes",
		  "--forward-query=drop", NULL },
		{ "--base-path=/go", "--alias-case=insensitive",
		  "--precompressed=no", NULL },
	};
	char wr[PATH_MAX + 16], sd[PATH_MAX + 16], err[512];
	char *argv[12];
	int i, j, argc;

	snprintf(wr, sizeof(wr), "--webroot=%s", www);
	snprintf(sd, sizeof(sd), "--state-dir=%s", state);
	for (i = 0; i < NCONF; i++) {
		argc = 0;
		argv[argc++] = (char *)"sherve";
		argv[argc++] = (char *)"--config=/dev/null";
		argv[argc++] = wr;
		argv[argc++] = sd;
		for (j = 0; extra[i][j] != NULL; j++)
			argv[argc++] = (char *)extra[i][j];
		argv[argc] = NULL;
		if (conf_load(&confs[i], argc, argv, err, sizeof(err)) !=
		    SH_OK) {
			fprintf(stderr, "fuzz_params: conf %d: %s\n", i, err);
			abort();
		}
	}
}

static void
remove_fixture(void)
{
	char cmd[PATH_MAX + 16];
	int i;

	for (i = 0; i < NCONF; i++)
		conf_free(&confs[i]);
	metrics_close(metrics);
	store_close(store);
	if (strstr(top, "/sherve-fuzz-params.") != NULL &&
	    strchr(top, '\'') == NULL) {
		if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top) >=
		            sizeof(cmd) ||
		    system(cmd) != 0)
			fprintf(stderr, "fuzz_params: could not remove %s\n",
			        top);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char state[PATH_MAX], name[256];
	const char *tmp;
	size_t i, n;

	(void)argc;
	(void)argv;
	if (store != NULL)
		return 0;
	for (i = 0; environ[i] != NULL;) {
		if (strncmp(environ[i], "SHERVE_", 7) != 0) {
			i++;
			continue;
		}
		n = strcspn(environ[i], "=");
		snprintf(name, sizeof(name), "%.*s", (int)n, environ[i]);
		unsetenv(name);
		i = 0;
	}
	tmp = getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/sherve-fuzz-params.XXXXXX",
	         tmp != NULL && tmp[0] == '/' && strlen(tmp) < 512 ? tmp
	                                                           : "/tmp");
	if (mkdtemp(top) == NULL) {
		perror("fuzz_params: mkdtemp");
		abort();
	}
	atexit(remove_fixture);
	fixture_path(www, "www");
	fixture_path(state, "state");
	fixture_files();
	if (realpath(www, www_real) == NULL)
		abort();
	fixture_store(state);
	fixture_confs(state);
	log_set_level(SH_LOG_ERROR);
	return 0;
}

struct params {
	const char *name[MAXP], *value[MAXP];
	size_t n;
};

static const char *
get_param(void *ctx, const char *name)
{
	const struct params *p = ctx;
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

struct out {
	char *p;
	size_t len;
};

static int
out_write(void *ctx, const char *buf, size_t n)
{
	struct out *o = ctx;

	FUZZ_ASSERT(n > 0 && o->len + n <= OUT_MAX);
	memcpy(o->p + o->len, buf, n);
	o->len += n;
	return 0;
}

/* The header's value, or NULL: a view into the header block. */
static const char *
find_header(const char *head, size_t hlen, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + hlen, *eol;

	for (; p < end; p = eol + 2) {
		eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nl + 2 &&
		    strncasecmp(p, name, nl) == 0 && p[nl] == ':' &&
		    p[nl + 1] == ' ') {
			*vlen = (size_t)(eol - p) - nl - 2;
			return p + nl + 2;
		}
	}
	return NULL;
}

/* The X-Sendfile path names a regular file inside the webroot. */
static void
check_sendfile(const char *v, size_t n)
{
	char path[PATH_MAX], real[PATH_MAX];
	size_t wl = strlen(www_real);
	struct stat st;

	FUZZ_ASSERT(n < sizeof(path));
	memcpy(path, v, n);
	path[n] = '\0';
	FUZZ_ASSERT(strstr(path, "/.") == NULL);
	FUZZ_ASSERT(realpath(path, real) != NULL);
	FUZZ_ASSERT(strncmp(real, www_real, wl) == 0 && real[wl] == '/');
	/* stat, not lstat: a symlink inside the webroot may be served. */
	FUZZ_ASSERT(stat(path, &st) == 0 && S_ISREG(st.st_mode));
}

static void
check_answer(const struct out *o, int status, const struct request *rq,
             const struct conf *c, int in_has_canary)
{
	const char *end, *v, *line, *eol;
	size_t hlen, blen, vlen, i;
	uint64_t cl;
	char *e;
	int is_head = rq->method != NULL && strcmp(rq->method, "HEAD") == 0;

	FUZZ_ASSERT(status >= 200 && status <= 499);
	FUZZ_ASSERT(o->len > 12 && memcmp(o->p, "Status: ", 8) == 0);
	FUZZ_ASSERT(o->p[8] - '0' == status / 100 &&
	            o->p[9] - '0' == status / 10 % 10 &&
	            o->p[10] - '0' == status % 10 && o->p[11] == ' ');
	end = memmem(o->p, o->len, "\r\n\r\n", 4);
	FUZZ_ASSERT(end != NULL);
	hlen = (size_t)(end - o->p) + 2; /* each line with its CRLF */
	blen = o->len - hlen - 2;
	/* Every line ends in CRLF; no CR or LF inside; no CTL at all. */
	for (line = o->p; line < o->p + hlen; line = eol + 2) {
		eol = memmem(line, (size_t)(o->p + hlen - line), "\r\n", 2);
		FUZZ_ASSERT(eol != NULL && eol > line);
		for (i = 0; line + i < eol; i++)
			FUZZ_ASSERT((unsigned char)line[i] >= 0x20 &&
			            line[i] != 0x7f);
		FUZZ_ASSERT(memchr(line, ':', (size_t)(eol - line)) != NULL);
	}
	/*
	 * Nothing from outside the webroot or from a dotfile. Redirects echo
	 * the request (a splat, the query) and the metrics page lists
	 * aliases asked for, so only other answers are searched, and only
	 * when the input does not carry a canary itself (libFuzzer learns
	 * the strings this very check looks for).
	 */
	if (!in_has_canary && !(status >= 300 && status <= 308) &&
	    ((v = find_header(o->p, hlen, "Content-Type", &vlen)) == NULL ||
	     strncmp(v, "text/plain; version=", 20) != 0)) {
		FUZZ_ASSERT(memmem(o->p, o->len, CANARY_OUT,
		                   strlen(CANARY_OUT)) == NULL);
		FUZZ_ASSERT(memmem(o->p, o->len, CANARY_DOT,
		                   strlen(CANARY_DOT)) == NULL);
	}
	if (is_head || status == 304)
		FUZZ_ASSERT(blen == 0);
	if ((v = find_header(o->p, hlen, "Content-Length", &vlen)) != NULL &&
	    !is_head && status != 304) {
		cl = strtoull(v, &e, 10);
		FUZZ_ASSERT(e == v + vlen && cl == blen);
	}
	if (status >= 300 && status <= 308 && status != 304)
		FUZZ_ASSERT(find_header(o->p, hlen, "Location", &vlen) != NULL);
	if (status == 206)
		FUZZ_ASSERT(find_header(o->p, hlen, "Content-Range", &vlen) !=
		            NULL);
	if ((v = find_header(o->p, hlen, "X-Sendfile", &vlen)) != NULL) {
		FUZZ_ASSERT(status == 200 && blen == 0);
		check_sendfile(v, vlen);
	}
	if ((v = find_header(o->p, hlen, "X-Accel-Redirect", &vlen)) != NULL) {
		size_t pl = strlen(c->sendfile_prefix);
		char path[PATH_MAX];

		FUZZ_ASSERT(status == 200 && blen == 0);
		FUZZ_ASSERT(vlen > pl &&
		            memcmp(v, c->sendfile_prefix, pl) == 0 &&
		            v[pl] == '/');
		FUZZ_ASSERT((size_t)snprintf(path, sizeof(path), "%s%.*s", www,
		                             (int)(vlen - pl),
		                             v + pl) < sizeof(path));
		check_sendfile(path, strlen(path));
	}
}

/* The lowest free descriptor: a leak would take it. */
static int
lowest_free_fd(void)
{
	int fd = dup(2);

	if (fd >= 0)
		close(fd);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct request rq;
	static char out_buf[OUT_MAX];
	struct params prm;
	struct handler h;
	struct out o;
	struct sink sink = { out_write, &o, NULL };
	const struct conf *c;
	char *buf, *p, *end, *sep, *eq;
	int status, fd_before;
	char delim;

	if (store == NULL)
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 1)
		return 0;
	c = &confs[(data[0] & 7) % NCONF];
	delim = (data[0] & 0x80) ? '\0' : '\n';
	if ((buf = fuzz_cstr(data + 1, size - 1)) == NULL)
		return 0;
	prm.n = 0;
	for (p = buf, end = buf + size - 1; p < end && prm.n < MAXP;) {
		sep = memchr(p, delim, (size_t)(end - p));
		if (sep == NULL)
			sep = end;
		*sep = '\0';
		if ((eq = strchr(p, '=')) != NULL && eq > p) {
			*eq = '\0';
			prm.name[prm.n] = p;
			prm.value[prm.n++] = eq + 1;
		}
		p = sep + 1;
	}
	o.p = out_buf;
	o.len = 0;
	memset(&h, 0, sizeof(h));
	h.conf = c;
	h.store = store;
	h.metrics = metrics;
	fd_before = lowest_free_fd();
	request_from_params(&rq, get_param, &prm);
	status = handler_serve(&h, &rq, &sink);
	handler_close(&h); /* the webroot it held open between requests */
	FUZZ_ASSERT(lowest_free_fd() == fd_before);
	if (getenv("FUZZ_SHOW") != NULL) /* to see what a seed does */
		fprintf(stderr, "%.*s\n", (int)(o.len < 600 ? o.len : 600),
		        o.p);
	check_answer(&o, status, &rq, c,
	             memmem(data, size, "CANARY", 6) != NULL ||
	                     memmem(data, size, "ANARY-", 6) != NULL);
	free(buf);
	return 0;
}
