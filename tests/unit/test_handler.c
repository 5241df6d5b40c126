/*
 * test_handler.c - handler_serve() end to end, without a web server.
 *
 * Requests are filled in by hand and answered into a buffer sink. The
 * suite builds a temporary webroot (pages, a dotfile, symlinks in and
 * out, a FIFO) and an LMDB store with a few aliases, then checks status,
 * headers and body of each answer. Every answer is also checked for
 * framing: one Status line, a blank line, no repeated header, and a
 * Content-Length that matches the body. How an asset answers once it is
 * chosen (Range, precompressed siblings, X-Sendfile) is test_entity.c's.
 */
#include "unit.h"
#include "answer.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "asset.h"
#include "cond.h"
#include "conf.h"
#include "handler.h"
#include "httpdate.h"
#include "log.h"
#include "redirects.h"
#include "store.h"
#include "util.h"

#define INDEX_BODY  "<h1>home</h1>\n"
#define SUB_BODY    "sub index\n"
#define CSS_BODY    "body { color: red; }\n"
#define DIGITS_BODY "0123456789"
#define PAGE404     "<p>custom 404</p>\n"
#define SECRET      "secret-dotfile\n"
#define FOO_URL     "https://example.com/foo?a=1&b=<2>"
#define BIG_SIZE    (200 * 1024 + 17)
#define JS_BODY     "console.log(1);\n"
#define JS_GZ       "GZ-BYTES"
#define JS_BR       "BR-BYTES"

static char base[] = "/tmp/sherve-handler.XXXXXX";
static char www[300], www404[300], state[300], state2[300], state3[300];

enum which {
	C_MAIN,
	C_308,
	C_GO,
	C_NOROOT,
	C_404,
	C_METRICS,
	C_NOPRE,
	C_LIGHTTPD,
	C_APACHE,
	C_NGINX,
	C_DROP,  /* forward-query = drop */
	C_FOLD,  /* alias-case = insensitive */
	C_SERVE, /* directory-slash = serve */
	C_NCONF
};

static struct conf confs[C_NCONF];
static int conf_ok[C_NCONF];
static struct store *store;

/* Validators of the files, as the handler should send them. */
static char etag_index[ETAG_MAX];
static char lm_index[HTTPDATE_LEN];
static char lm_earlier[HTTPDATE_LEN], lm_later[HTTPDATE_LEN];
static char inm_list[2 * ETAG_MAX + 16];
static char long_uri[6000];

/* ---- fixture ---- */

static int
load_conf(enum which w, const char *const *extra)
{
	char *argv[16], err[256];
	int argc = 0;
	size_t i;

	argv[argc++] = (char *)"test";
	argv[argc++] = (char *)"--config";
	argv[argc++] = (char *)"/dev/null";
	argv[argc++] = (char *)"--state-dir";
	argv[argc++] = state;
	for (i = 0; extra[i] != NULL && argc < 15; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
	if (conf_load(&confs[w], argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	conf_ok[w] = 1;
	return 0;
}

static int
build_store(void)
{
	static const char map[] = "foo " FOO_URL "\n"
	                          "bar/baz http://example.org/\n"
	                          "style.css http://shadowed.example/\n";
	struct redirect_map m;
	char err[256];
	int rc;

	if (store_open(state, &store, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	memset(&m, 0, sizeof(m));
	if (redirects_parse(map, strlen(map), &m, NULL, NULL) != SH_OK)
		return -1;
	rc = store_replace(store, &m, NULL, 0);
	redirects_free(&m);
	return rc == SH_OK ? 0 : -1;
}

static int
suite_init(void)
{
	char path[512], *big;
	size_t i;
	int rc = 0;

	/* A FIFO that blocked the worker would hang here, not pass. */
	alarm(120);
	log_set_level(SH_LOG_ERROR);
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(www, sizeof(www), "%s/www", base);
	snprintf(www404, sizeof(www404), "%s/www404", base);
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(state2, sizeof(state2), "%s/state2", base);
	snprintf(state3, sizeof(state3), "%s/state3", base);
	snprintf(path, sizeof(path), "%s/sub", www);
	if (mkdir(www, 0755) != 0 || mkdir(www404, 0755) != 0 ||
	    mkdir(path, 0755) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/noindex", www);
	rc |= mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/we?ird #dir%%", www);
	rc |= mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/caf\xc3\xa9", www);
	rc |= mkdir(path, 0755);
	rc |= put_text(www, "we?ird #dir%/index.html", "WEIRD\n");
	rc |= put_text(www, "caf\xc3\xa9/index.html", "CAFE-DIR\n");
	rc |= put_text(www, "index.html", INDEX_BODY);
	rc |= put_text(www, "sub/index.html", SUB_BODY);
	rc |= put_text(www, "style.css", CSS_BODY);
	rc |= put_text(www, "digits.txt", DIGITS_BODY);
	rc |= put_text(www, "empty.txt", "");
	rc |= put_text(www, ".hidden", SECRET);
	rc |= put_text(www, "app.js", JS_BODY);
	rc |= put_text(www, "app.js.gz", JS_GZ);
	rc |= put_text(www, "app.js.br", JS_BR);
	rc |= put_text(www, "pct%41.txt", "PCT\n");
	rc |= put_text(www, "caf\xc3\xa9.txt", "CAFE\n");
	rc |= put_text(www, "old.css", CSS_BODY);
	rc |= put_text(www, "old.css.gz", "STALE");
	rc |= put_text(www, "image.png", "PNG");
	rc |= put_text(www, "image.png.gz", "PNG-GZ");
	rc |= age(www, "old.css.gz", 3600);
	rc |= age(www, "app.js", 60);
	rc |= put_text(www404, "index.html", "x");
	rc |= put_text(www404, "404.html", PAGE404);
	if ((big = malloc(BIG_SIZE)) == NULL)
		return -1;
	for (i = 0; i < BIG_SIZE; i++)
		big[i] = (char)('a' + (i * 7 + i / 251) % 26);
	rc |= put_file(www, "big.bin", big, BIG_SIZE);
	free(big);
	snprintf(path, sizeof(path), "%s/passwd", www);
	rc |= symlink("/etc/passwd", path);
	snprintf(path, sizeof(path), "%s/relout", www);
	rc |= symlink("../../../../../../../../etc/passwd", path);
	snprintf(path, sizeof(path), "%s/inside", www);
	rc |= symlink("style.css", path);
	snprintf(path, sizeof(path), "%s/fifo", www);
	rc |= mkfifo(path, 0644);
	if (rc != 0)
		return -1;

	if (validators_of(www, "index.html", "", etag_index, lm_index) != 0)
		return -1;
	{
		struct stat st;
		char p2[512];

		snprintf(p2, sizeof(p2), "%s/index.html", www);
		if (stat(p2, &st) != 0)
			return -1;
		httpdate_format(st.st_mtim.tv_sec - 86400, lm_earlier,
		                sizeof(lm_earlier));
		httpdate_format(st.st_mtim.tv_sec + 86400, lm_later,
		                sizeof(lm_later));
	}
	snprintf(inm_list, sizeof(inm_list), "\"nope\", %s", etag_index);
	long_uri[0] = '/';
	memset(long_uri + 1, 'a', sizeof(long_uri) - 2);
	long_uri[sizeof(long_uri) - 1] = '\0';

	if (build_store() != 0)
		return -1;
	{
		const char *mainv[] = { "--webroot", www, NULL };
		const char *v308[] = { "--webroot", www, "--redirect-status",
			               "308", NULL };
		const char *vgo[] = { "--webroot", www, "--base-path", "/go/",
			              NULL };
		const char *vnoroot[] = { NULL };
		const char *v404[] = { "--webroot", www404, NULL };
		const char *vmetrics[] = { "--webroot", www, "--metrics-path",
			                   "/-/metrics", NULL };
		const char *vnopre[] = { "--webroot", www, "--precompressed",
			                 "no", NULL };
		const char *vlighttpd[] = { "--webroot", www, "--sendfile-mode",
			                    "lighttpd", NULL };
		const char *vnginx[] = { "--webroot", www, "--sendfile-mode",
			                 "nginx", NULL };
		const char *vapache[] = { "--webroot", www, "--sendfile-mode",
			                  "apache", NULL };
		const char *vdrop[] = { "--webroot", www, "--forward-query",
			                "drop", NULL };
		const char *vfold[] = { "--webroot", www, "--alias-case",
			                "insensitive", NULL };
		const char *vserve[] = { "--webroot", www, "--directory-slash",
			                 "serve", NULL };

		if (load_conf(C_MAIN, mainv) || load_conf(C_308, v308) ||
		    load_conf(C_GO, vgo) || load_conf(C_NOROOT, vnoroot) ||
		    load_conf(C_404, v404) || load_conf(C_METRICS, vmetrics) ||
		    load_conf(C_NOPRE, vnopre) ||
		    load_conf(C_LIGHTTPD, vlighttpd) ||
		    load_conf(C_APACHE, vapache) ||
		    load_conf(C_NGINX, vnginx) || load_conf(C_DROP, vdrop) ||
		    load_conf(C_FOLD, vfold) || load_conf(C_SERVE, vserve))
			return -1;
	}
	return 0;
}

static int
suite_cleanup(void)
{
	size_t i;

	for (i = 0; i < C_NCONF; i++)
		if (conf_ok[i])
			conf_free(&confs[i]);
	store_close(store);
	store = NULL;
	alarm(0);
	return unit_rmtree(base);
}

/* ---- one request ---- */

struct row {
	unsigned line;
	const char *desc;
	enum which conf;
	const char *method; /* NULL: GET; "" : no method at all */
	const char *uri;
	const char *inm, *ims, *im, *ius, *range, *if_range;
	const char *ae; /* Accept-Encoding */
	int status;
	const char *body; /* NULL: not checked */
	struct hdr has[7];
	const char *lacks[3];
	const char *body_lacks;
	const char *host;  /* NULL: "example.test" */
	const char *query; /* what the server parsed, or NULL */
};

static int
serve(struct handler *h, const struct row *r, struct buf *b)
{
	struct sink out = { buf_write, b, NULL };
	struct request rq;

	memset(&rq, 0, sizeof(rq));
	rq.method = r->method == NULL      ? "GET"
	            : r->method[0] == '\0' ? NULL
	                                   : r->method;
	rq.uri = r->uri;
	rq.host = r->host != NULL ? r->host : "example.test";
	rq.query = r->query;
	rq.cond.if_none_match = r->inm;
	rq.cond.if_modified_since = r->ims;
	rq.cond.if_match = r->im;
	rq.cond.if_unmodified_since = r->ius;
	rq.range = r->range;
	rq.if_range = r->if_range;
	rq.accept_encoding = r->ae;
	return handler_serve(h, &rq, &out);
}

static void
check_row(struct handler *h, const struct row *r)
{
	struct buf b;
	struct answer a;
	int status, head;

	memset(&b, 0, sizeof(b));
	status = serve(h, r, &b);
	answer_parse(&a, &b);
	head = r->method != NULL && strcmp(r->method, "HEAD") == 0;
	expect_int(r->line, r->desc, r->status, status);
	check_framing(&a, status, head, r->line, r->desc);
	if (r->body != NULL)
		expect_mem(r->line, r->desc, r->body, a.body, a.blen);
	answer_expect(&a, r->has, NELEM(r->has), r->lacks, NELEM(r->lacks),
	              r->line, r->desc);
	if (r->body_lacks != NULL)
		expect_lacks(r->line, r->desc, b.p != NULL ? b.p : "",
		             r->body_lacks);
	free(a.head);
	free(b.p);
}

#define TEXT_HTML  "text/html; charset=utf-8"
#define TEXT_PLAIN "text/plain; charset=utf-8"
#define ASSET_CC   "public, max-age=31536000, must-revalidate"
#define REDIR_CC   "public, max-age=3600"

static const struct row rows[] = {
	/* Assets. */
	{ .line = __LINE__,
	  .desc = "root",
	  .uri = "/",
	  .status = 200,
	  .body = INDEX_BODY,
	  .has = { { "Content-Type", TEXT_HTML },
	           { "Content-Length", "14" },
	           { "ETag", etag_index },
	           { "Last-Modified", lm_index },
	           { "Cache-Control", ASSET_CC },
	           { "Accept-Ranges", "bytes" } },
	  .lacks = { "Location", "Content-Range" } },
	{ .line = __LINE__,
	  .desc = "index by name",
	  .uri = "/index.html",
	  .status = 200,
	  .body = INDEX_BODY,
	  .has = { { "ETag", etag_index } } },
	{ .line = __LINE__,
	  .desc = "root with query",
	  .uri = "/?utm=x",
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "directory without slash: 301 to it with the slash",
	  .uri = "/sub",
	  .status = 301,
	  .body_lacks = SUB_BODY,
	  .has = { { "Location", "/sub/" },
	           { "Cache-Control", REDIR_CC },
	           { "Content-Type", TEXT_HTML } },
	  .lacks = { "ETag", "Last-Modified" } },
	{ .line = __LINE__,
	  .desc = "directory with slash",
	  .uri = "/sub/",
	  .status = 200,
	  .body = SUB_BODY },
	{ .line = __LINE__,
	  .desc = "directory index by name",
	  .uri = "/sub/index.html",
	  .status = 200,
	  .body = SUB_BODY },
	{ .line = __LINE__,
	  .desc = "stylesheet",
	  .uri = "/style.css",
	  .status = 200,
	  .body = CSS_BODY,
	  .has = { { "Content-Type", "text/css; charset=utf-8" },
	           { "Content-Length", "21" } } },
	{ .line = __LINE__,
	  .desc = "asset beats an alias of the same name",
	  .uri = "/style.css",
	  .status = 200,
	  .body = CSS_BODY,
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "file with a trailing slash",
	  .uri = "/digits.txt/",
	  .status = 404,
	  .body = "Not found\n" },
	{ .line = __LINE__,
	  .desc = "file with a slash falls to its alias",
	  .uri = "/style.css/",
	  .status = 301,
	  .has = { { "Location", "http://shadowed.example/" } } },
	{ .line = __LINE__,
	  .desc = "empty file",
	  .uri = "/empty.txt",
	  .status = 200,
	  .body = "",
	  .has = { { "Content-Length", "0" },
	           { "Content-Type", TEXT_PLAIN } } },
	{ .line = __LINE__,
	  .desc = "directory without index",
	  .uri = "/noindex/",
	  .status = 404,
	  .body = "Not found\n" },
	{ .line = __LINE__,
	  .desc = "percent-encoded name",
	  .uri = "/%73tyle.css",
	  .status = 200,
	  .body = CSS_BODY },

	/* Conditional requests. */
	{ .line = __LINE__,
	  .desc = "If-None-Match with the ETag",
	  .uri = "/",
	  .inm = etag_index,
	  .status = 304,
	  .body = "",
	  .has = { { "ETag", etag_index },
	           { "Last-Modified", lm_index },
	           { "Cache-Control", ASSET_CC } } },
	{ .line = __LINE__,
	  .desc = "If-None-Match *",
	  .uri = "/",
	  .inm = "*",
	  .status = 304,
	  .body = "" },
	{ .line = __LINE__,
	  .desc = "If-None-Match in a list",
	  .uri = "/",
	  .inm = inm_list,
	  .status = 304,
	  .body = "" },
	{ .line = __LINE__,
	  .desc = "If-None-Match other",
	  .uri = "/",
	  .inm = "\"nope\"",
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "If-Modified-Since = Last-Modified",
	  .uri = "/",
	  .ims = lm_index,
	  .status = 304,
	  .body = "" },
	{ .line = __LINE__,
	  .desc = "If-Modified-Since later",
	  .uri = "/",
	  .ims = lm_later,
	  .status = 304,
	  .body = "" },
	{ .line = __LINE__,
	  .desc = "If-Modified-Since earlier",
	  .uri = "/",
	  .ims = lm_earlier,
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "If-Modified-Since garbage",
	  .uri = "/",
	  .ims = "last week",
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "If-None-Match beats If-Modified-Since",
	  .uri = "/",
	  .inm = "\"nope\"",
	  .ims = lm_index,
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "If-Match other",
	  .uri = "/",
	  .im = "\"nope\"",
	  .status = 412,
	  .body = "Precondition failed\n" },
	{ .line = __LINE__,
	  .desc = "If-Match the ETag",
	  .uri = "/",
	  .im = etag_index,
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "If-Unmodified-Since earlier",
	  .uri = "/",
	  .ius = lm_earlier,
	  .status = 412 },
	{ .line = __LINE__,
	  .desc = "If-Unmodified-Since later",
	  .uri = "/",
	  .ius = lm_later,
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "HEAD",
	  .method = "HEAD",
	  .uri = "/",
	  .status = 200,
	  .body = "",
	  .has = { { "Content-Length", "14" },
	           { "ETag", etag_index },
	           { "Content-Type", TEXT_HTML } } },
	{ .line = __LINE__,
	  .desc = "HEAD with If-None-Match",
	  .method = "HEAD",
	  .uri = "/",
	  .inm = etag_index,
	  .status = 304,
	  .body = "" },

	{ .line = __LINE__,
	  .desc = "Range on a 404",
	  .uri = "/missing",
	  .range = "bytes=0-1",
	  .status = 404,
	  .body = "Not found\n",
	  .lacks = { "Content-Range" } },

	/* Redirects. */
	{ .line = __LINE__,
	  .desc = "alias",
	  .uri = "/foo",
	  .status = 301,
	  .has = { { "Location", FOO_URL },
	           { "Access-Control-Allow-Origin", "*" },
	           { "Cache-Control", REDIR_CC },
	           { "Content-Type", TEXT_HTML },
	           { "Content-Length", NULL } },
	  .lacks = { "ETag", "Last-Modified" } },
	{ .line = __LINE__,
	  .desc = "alias with slash",
	  .uri = "/foo/",
	  .status = 301,
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "alias with query",
	  .uri = "/foo?x=1",
	  .status = 301,
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "alias with two segments",
	  .uri = "/bar/baz",
	  .status = 301,
	  .has = { { "Location", "http://example.org/" } } },
	{ .line = __LINE__,
	  .desc = "alias with two segments and slash",
	  .uri = "//bar//baz/",
	  .status = 301,
	  .has = { { "Location", "http://example.org/" } } },
	{ .line = __LINE__,
	  .desc = "prefix of an alias",
	  .uri = "/bar",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "HEAD of an alias",
	  .method = "HEAD",
	  .uri = "/foo",
	  .status = 301,
	  .body = "",
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "conditional headers do not touch redirects",
	  .uri = "/foo",
	  .inm = "*",
	  .range = "bytes=0-1",
	  .status = 301,
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "308 from conf",
	  .conf = C_308,
	  .uri = "/foo",
	  .status = 308,
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "308 conf: assets unchanged",
	  .conf = C_308,
	  .uri = "/",
	  .status = 200,
	  .body = INDEX_BODY },

	/* Not found. */
	{ .line = __LINE__,
	  .desc = "unknown",
	  .uri = "/unknown",
	  .status = 404,
	  .body = "Not found\n",
	  .has = { { "Content-Type", TEXT_PLAIN },
	           { "Cache-Control", "no-store" },
	           { "Content-Length", "10" } },
	  .lacks = { "ETag", "Location" } },
	{ .line = __LINE__,
	  .desc = "HEAD unknown",
	  .method = "HEAD",
	  .uri = "/unknown",
	  .status = 404,
	  .body = "",
	  .has = { { "Content-Length", "10" } } },
	{ .line = __LINE__,
	  .desc = "404.html",
	  .conf = C_404,
	  .uri = "/unknown",
	  .status = 404,
	  .body = PAGE404,
	  .has = { { "Content-Type", TEXT_HTML },
	           { "Cache-Control", "no-store" } },
	  .lacks = { "ETag", "Last-Modified" } },
	{ .line = __LINE__,
	  .desc = "404.html under HEAD",
	  .conf = C_404,
	  .method = "HEAD",
	  .uri = "/unknown",
	  .status = 404,
	  .body = "" },
	{ .line = __LINE__,
	  .desc = "404.html ignores If-None-Match",
	  .conf = C_404,
	  .uri = "/unknown",
	  .inm = "*",
	  .status = 404,
	  .body = PAGE404 },
	{ .line = __LINE__,
	  .desc = "404.html: aliases still work",
	  .conf = C_404,
	  .uri = "/foo",
	  .status = 301 },
	{ .line = __LINE__,
	  .desc = "no webroot",
	  .conf = C_NOROOT,
	  .uri = "/",
	  .status = 404,
	  .body = "Not found\n" },
	{ .line = __LINE__,
	  .desc = "no webroot: file",
	  .conf = C_NOROOT,
	  .uri = "/digits.txt",
	  .status = 404,
	  .body = "Not found\n" },
	{ .line = __LINE__,
	  .desc = "no webroot: alias",
	  .conf = C_NOROOT,
	  .uri = "/foo",
	  .status = 301,
	  .has = { { "Location", FOO_URL } } },

	/* Methods and malformed requests. */
	{ .line = __LINE__,
	  .desc = "POST",
	  .method = "POST",
	  .uri = "/",
	  .status = 405,
	  .body = "Method not allowed\n",
	  .has = { { "Allow", "GET, HEAD" }, { "Content-Type", TEXT_PLAIN } } },
	{ .line = __LINE__,
	  .desc = "POST to an alias",
	  .method = "POST",
	  .uri = "/foo",
	  .status = 405,
	  .has = { { "Allow", "GET, HEAD" } },
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "PUT",
	  .method = "PUT",
	  .uri = "/",
	  .status = 405 },
	{ .line = __LINE__,
	  .desc = "OPTIONS *",
	  .method = "OPTIONS",
	  .uri = "*",
	  .status = 405 },
	{ .line = __LINE__,
	  .desc = "lower-case get",
	  .method = "get",
	  .uri = "/",
	  .status = 405 },
	{ .line = __LINE__,
	  .desc = "no method",
	  .method = "",
	  .uri = "/",
	  .status = 405 },
	{ .line = __LINE__,
	  .desc = "bad escape",
	  .uri = "/%zz",
	  .status = 400,
	  .body = "Bad request\n",
	  .has = { { "Content-Type", TEXT_PLAIN } } },
	{ .line = __LINE__,
	  .desc = "absolute-form",
	  .uri = "http://x/",
	  .status = 400 },
	{ .line = __LINE__,
	  .desc = "URI too long",
	  .uri = long_uri,
	  .status = 414 },

	/* Nothing outside the webroot, nothing hidden. */
	{ .line = __LINE__,
	  .desc = "dot-dot",
	  .uri = "/../etc/passwd",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "encoded dot-dot",
	  .uri = "/%2e%2e/etc/passwd",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "encoded slashes",
	  .uri = "/%2e%2e%2fetc%2fpasswd",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "dot-dot below a directory",
	  .uri = "/sub/../../etc/passwd",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "dotfile",
	  .uri = "/.hidden",
	  .status = 404,
	  .body_lacks = "secret" },
	{ .line = __LINE__,
	  .desc = "encoded dotfile",
	  .uri = "/%2ehidden",
	  .status = 404,
	  .body_lacks = "secret" },
	{ .line = __LINE__,
	  .desc = "absolute symlink out",
	  .uri = "/passwd",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "relative symlink out",
	  .uri = "/relout",
	  .status = 404,
	  .body_lacks = "root:" },
	{ .line = __LINE__,
	  .desc = "FIFO",
	  .uri = "/fifo",
	  .status = 404,
	  .body = "Not found\n" },
	{ .line = __LINE__,
	  .desc = "NUL",
	  .uri = "/index.html%00",
	  .status = 404 },

	/* directory-slash: a directory asked for without its slash. */
	{ .line = __LINE__,
	  .desc = "slash: the query is kept as sent",
	  .uri = "/sub?b=2&a=%41&&c",
	  .query = "b=2&a=%41&&c",
	  .status = 301,
	  .has = { { "Location", "/sub/?b=2&a=%41&&c" } } },
	{ .line = __LINE__,
	  .desc = "slash: forward-query drop does not drop it",
	  .conf = C_DROP,
	  .uri = "/sub?a=1",
	  .query = "a=1",
	  .status = 301,
	  .has = { { "Location", "/sub/?a=1" } } },
	{ .line = __LINE__,
	  .desc = "slash: HEAD is 301 without a body",
	  .method = "HEAD",
	  .uri = "/sub",
	  .status = 301,
	  .body = "",
	  .has = { { "Location", "/sub/" } } },
	{ .line = __LINE__,
	  .desc = "slash: If-None-Match * is for the index, not the 301",
	  .uri = "/sub",
	  .inm = "*",
	  .status = 301,
	  .has = { { "Location", "/sub/" } } },
	{ .line = __LINE__,
	  .desc = "slash: If-Match that fails is still 301 (not 412)",
	  .uri = "/sub",
	  .im = "\"nope\"",
	  .status = 301,
	  .has = { { "Location", "/sub/" } } },
	{ .line = __LINE__,
	  .desc = "slash: Range is ignored",
	  .uri = "/sub",
	  .range = "bytes=0-1",
	  .status = 301,
	  .lacks = { "Content-Range" } },
	{ .line = __LINE__,
	  .desc = "slash: the Location is the normalised path",
	  .uri = "/./sub/.",
	  .status = 301,
	  .has = { { "Location", "/sub/" } } },
	{ .line = __LINE__,
	  .desc = "slash: '//sub' never gives '//sub/' (another host)",
	  .uri = "//sub",
	  .status = 301,
	  .has = { { "Location", "/sub/" } } },
	{ .line = __LINE__,
	  .desc = "slash: decoded ' ?#%' encoded again",
	  .uri = "/we%3Fird%20%23dir%25",
	  .status = 301,
	  .has = { { "Location", "/we%3Fird%20%23dir%25/" } } },
	{ .line = __LINE__,
	  .desc = "slash: UTF-8 percent-encoded",
	  .uri = "/caf\xc3\xa9",
	  .status = 301,
	  .has = { { "Location", "/caf%C3%A9/" } } },
	{ .line = __LINE__,
	  .desc = "slash: ... and its index with the slash",
	  .uri = "/caf%C3%A9/",
	  .status = 200,
	  .body = "CAFE-DIR\n" },
	{ .line = __LINE__,
	  .desc = "slash: a control character in the query serves the index",
	  .uri = "/sub?a=%0A",
	  .query = "a=\n",
	  .status = 200,
	  .body = SUB_BODY,
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "slash: a directory without index.html stays a 404",
	  .uri = "/noindex",
	  .status = 404,
	  .body = "Not found\n",
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "slash: a file is never redirected",
	  .uri = "/style.css",
	  .status = 200,
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "slash: lighttpd mode redirects before any X-Sendfile",
	  .conf = C_LIGHTTPD,
	  .uri = "/sub",
	  .status = 301,
	  .has = { { "Location", "/sub/" } },
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "slash: nginx mode likewise",
	  .conf = C_NGINX,
	  .uri = "/sub",
	  .status = 301,
	  .has = { { "Location", "/sub/" } },
	  .lacks = { "X-Accel-Redirect" } },
	{ .line = __LINE__,
	  .desc = "slash serve: the index, as gosherve did",
	  .conf = C_SERVE,
	  .uri = "/sub",
	  .status = 200,
	  .body = SUB_BODY,
	  .has = { { "Content-Type", TEXT_HTML },
	           { "Cache-Control", ASSET_CC } },
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "slash serve: conditionals apply to that index",
	  .conf = C_SERVE,
	  .uri = "/sub",
	  .inm = "*",
	  .status = 304 },
	{ .line = __LINE__,
	  .desc = "slash serve: with the slash as well",
	  .conf = C_SERVE,
	  .uri = "/sub/",
	  .status = 200,
	  .body = SUB_BODY },

	/* Base path /go. */
	{ .line = __LINE__,
	  .desc = "base: root",
	  .conf = C_GO,
	  .uri = "/go/",
	  .status = 200,
	  .body = INDEX_BODY },
	{ .line = __LINE__,
	  .desc = "base: no slash is 301 to the base with it",
	  .conf = C_GO,
	  .uri = "/go",
	  .status = 301,
	  .has = { { "Location", "/go/" } } },
	{ .line = __LINE__,
	  .desc = "base: a directory without slash, under the base",
	  .conf = C_GO,
	  .uri = "/go/sub?a=1",
	  .query = "a=1",
	  .status = 301,
	  .has = { { "Location", "/go/sub/?a=1" } } },
	{ .line = __LINE__,
	  .desc = "base: file",
	  .conf = C_GO,
	  .uri = "/go/style.css",
	  .status = 200,
	  .body = CSS_BODY },
	{ .line = __LINE__,
	  .desc = "base: alias",
	  .conf = C_GO,
	  .uri = "/go/foo",
	  .status = 301,
	  .has = { { "Location", FOO_URL } } },
	{ .line = __LINE__,
	  .desc = "base: deep alias",
	  .conf = C_GO,
	  .uri = "/go/bar/baz/",
	  .status = 301,
	  .has = { { "Location", "http://example.org/" } } },
	{ .line = __LINE__,
	  .desc = "base: alias outside",
	  .conf = C_GO,
	  .uri = "/foo",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "base: file outside",
	  .conf = C_GO,
	  .uri = "/style.css",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "base: prefix of a segment",
	  .conf = C_GO,
	  .uri = "/gofoo",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "base: root outside",
	  .conf = C_GO,
	  .uri = "/",
	  .status = 404 },

	/* The web server sends the file (sendfile-mode). */
	{ .line = __LINE__,
	  .desc = "X-Sendfile: 304 still ours",
	  .conf = C_LIGHTTPD,
	  .uri = "/",
	  .inm = etag_index,
	  .status = 304,
	  .body = "",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "X-Sendfile: redirects unchanged",
	  .conf = C_LIGHTTPD,
	  .uri = "/foo",
	  .status = 301,
	  .has = { { "Location", FOO_URL } },
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "X-Sendfile: 404 streamed",
	  .conf = C_LIGHTTPD,
	  .uri = "/unknown",
	  .status = 404,
	  .body = "Not found\n",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "X-Accel-Redirect",
	  .conf = C_NGINX,
	  .uri = "/sub/",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Accel-Redirect", "/.sherve-files/sub/index.html" } },
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "metrics unavailable",
	  .conf = C_METRICS,
	  .uri = "/-/metrics",
	  .status = 503,
	  .has = { { "Cache-Control", "no-store" } } },
	{ .line = __LINE__,
	  .desc = "metrics with a query",
	  .conf = C_METRICS,
	  .uri = "/-/metrics?x=1",
	  .status = 503 },
	/* Only the exact path: a web server's allow-list for /-/metrics must
	 * not be dodged by a spelling that normalises to it. */
	{ .line = __LINE__,
	  .desc = "metrics path with a trailing slash",
	  .conf = C_METRICS,
	  .uri = "/-/metrics/",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "metrics path with a doubled slash",
	  .conf = C_METRICS,
	  .uri = "//-/metrics",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "metrics path with a dot segment",
	  .conf = C_METRICS,
	  .uri = "/-/./metrics",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "metrics path percent-encoded",
	  .conf = C_METRICS,
	  .uri = "/%2D/metrics",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "metrics path off",
	  .uri = "/-/metrics",
	  .status = 404 },
};

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct handler h;

		if (!conf_ok[rows[i].conf]) {
			expect_true(rows[i].line, "conf loaded", 0);
			continue;
		}
		memset(&h, 0, sizeof(h));
		h.conf = &confs[rows[i].conf];
		h.store = store;
		check_row(&h, &rows[i]);
		handler_close(&h);
	}
}

/* The body of a redirect links its target, HTML-escaped. */
static void
test_redirect_body(void)
{
	const struct row r = { .uri = "/foo" };
	struct handler h;
	struct answer a;
	struct buf b;

	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	h.conf = &confs[C_MAIN];
	h.store = store;
	expect_int(__LINE__, "redirect", 301, serve(&h, &r, &b));
	answer_parse(&a, &b);
	expect_has(__LINE__, "body links the target", a.body,
	           "href=\"https://example.com/foo?a=1&amp;b=&lt;2&gt;\"");
	expect_lacks(__LINE__, "nothing unescaped in the body", a.body, "<2>");
	free(a.head);
	free(b.p);
	handler_close(&h);
}

/* A symlink that stays inside: followed with openat2, else refused. */
static void
test_symlink_inside(void)
{
	const struct row r = { .uri = "/inside" };
	struct handler h;
	struct answer a;
	struct buf b;
	int status;

	memset(&h, 0, sizeof(h));
	memset(&b, 0, sizeof(b));
	h.conf = &confs[C_MAIN];
	h.store = store;
	status = serve(&h, &r, &b);
	answer_parse(&a, &b);
	expect_true(__LINE__, "200 or 404", status == 200 || status == 404);
	if (status == 200)
		expect_mem(__LINE__, "target's body", CSS_BODY, a.body, a.blen);
	free(a.head);
	free(b.p);
	handler_close(&h);
}

/* A file several read chunks long arrives whole, and ranges across chunks. */
static void
test_big_file(void)
{
	const struct row whole = { .uri = "/big.bin" };
	const struct row part = { .uri = "/big.bin",
		                  .range = "bytes=65530-65545" };
	struct handler h;
	struct answer a;
	struct buf b;
	size_t i, bad = 0;

	memset(&h, 0, sizeof(h));
	h.conf = &confs[C_MAIN];
	h.store = store;

	memset(&b, 0, sizeof(b));
	expect_int(__LINE__, "big file", 200, serve(&h, &whole, &b));
	answer_parse(&a, &b);
	check_framing(&a, 200, 0, __LINE__, "big file");
	expect_int(__LINE__, "big file length", BIG_SIZE, a.blen);
	for (i = 0; i < a.blen; i++)
		if (a.body[i] != (char)('a' + (i * 7 + i / 251) % 26))
			bad++;
	expect_int(__LINE__, "big file bytes", 0, bad);
	free(a.head);
	free(b.p);

	memset(&b, 0, sizeof(b));
	expect_int(__LINE__, "range across a chunk", 206, serve(&h, &part, &b));
	answer_parse(&a, &b);
	check_framing(&a, 206, 0, __LINE__, "range across a chunk");
	expect_int(__LINE__, "range length", 16, a.blen);
	for (i = 0, bad = 0; i < a.blen; i++)
		if (a.body[i] !=
		    (char)('a' + ((i + 65530) * 7 + (i + 65530) / 251) % 26))
			bad++;
	expect_int(__LINE__, "range bytes", 0, bad);
	free(a.head);
	free(b.p);
	handler_close(&h);
}

/* A client that goes away: the status is still returned, nothing more. */
static void
test_sink_failure(void)
{
	const struct row big = { .uri = "/big.bin" };
	const struct row redir = { .uri = "/foo" };
	struct handler h;
	struct buf b;

	memset(&h, 0, sizeof(h));
	h.conf = &confs[C_MAIN];
	h.store = store;

	memset(&b, 0, sizeof(b));
	b.fail_after = 1;
	expect_int(__LINE__, "asset to a gone client", 200,
	           serve(&h, &big, &b));
	expect_true(__LINE__, "no writes after the failure", b.writes <= 2);
	free(b.p);

	memset(&b, 0, sizeof(b));
	b.fail_after = 2;
	expect_int(__LINE__, "asset failing mid-body", 200,
	           serve(&h, &big, &b));
	expect_true(__LINE__, "stopped after the failure", b.writes <= 3);
	expect_true(__LINE__, "less than the file", b.len < BIG_SIZE);
	free(b.p);

	memset(&b, 0, sizeof(b));
	b.fail_after = 1;
	expect_int(__LINE__, "redirect to a gone client", 301,
	           serve(&h, &redir, &b));
	free(b.p);
	handler_close(&h);
}

/* The store may be missing: aliases 404, assets are still served. */
static void
test_no_store(void)
{
	static const struct row rs[] = {
		{ .line = __LINE__,
		  .desc = "no store: alias",
		  .uri = "/foo",
		  .status = 404,
		  .body = "Not found\n" },
		{ .line = __LINE__,
		  .desc = "no store: asset",
		  .uri = "/",
		  .status = 200,
		  .body = INDEX_BODY },
	};
	struct handler h;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.conf = &confs[C_MAIN];
	h.store = NULL;
	for (i = 0; i < NELEM(rs); i++)
		check_row(&h, &rs[i]);
	handler_close(&h);
}

struct miss {
	unsigned calls;
	struct store *s;
	int add; /* store "late" on the first miss */
};

static int
on_miss(void *ctx)
{
	static const char map[] = "late http://late.example/\n";
	struct miss *m = ctx;
	struct redirect_map rm;
	int rc;

	m->calls++;
	if (!m->add)
		return 0;
	memset(&rm, 0, sizeof(rm));
	if (redirects_parse(map, strlen(map), &rm, NULL, NULL) != SH_OK)
		return 0;
	rc = store_replace(m->s, &rm, NULL, 0);
	redirects_free(&rm);
	return rc == SH_OK;
}

/*
 * Out of descriptors (RLIMIT_NOFILE at the lowest free fd): a file that
 * exists is 503 with Retry-After, never a 404, and no miss refresh is
 * started for it; with descriptors back, it is served again.
 */
static void
out_of_descriptors(struct handler *h, struct miss *m)
{
	static const struct row busy = {
		.line = __LINE__,
		.desc = "an existing file, no descriptor left",
		.uri = "/sub/",
		.status = 503,
		.has = { { "Retry-After", "5" },
		         { "Cache-Control", "no-store" } },
		.body_lacks = SUB_BODY,
	};
	static const struct row back = { .line = __LINE__,
		                         .desc = "the file, descriptors back",
		                         .uri = "/sub/",
		                         .status = 200 };
	struct rlimit old, low;
	unsigned calls = m->calls;
	int fd = dup(0);

	require_true(__LINE__, "getrlimit",
	             fd >= 0 && getrlimit(RLIMIT_NOFILE, &old) == 0);
	close(fd);
	check_row(h, &back); /* the webroot is held from here */
	low = old;
	low.rlim_cur = (rlim_t)fd;
	require_true(__LINE__, "setrlimit",
	             setrlimit(RLIMIT_NOFILE, &low) == 0);
	check_row(h, &busy);
	require_true(__LINE__, "setrlimit back",
	             setrlimit(RLIMIT_NOFILE, &old) == 0);
	expect_int(__LINE__, "no miss refresh for it", (int)calls,
	           (int)m->calls);
	check_row(h, &back);
}

/* On a miss the refresh hook runs once, and a yes means look again. */
static void
test_on_miss(void)
{
	static const struct row late = {
		.line = __LINE__,
		.desc = "late alias",
		.uri = "/late",
		.status = 301,
		.has = { { "Location", "http://late.example/" } }
	};
	static const struct row late404 = { .line = __LINE__,
		                            .desc = "late alias, no refresh",
		                            .uri = "/late",
		                            .status = 404 };
	static const struct row asset = {
		.line = __LINE__, .desc = "asset", .uri = "/", .status = 200
	};
	struct store *s = NULL;
	struct handler h;
	struct miss m;
	char err[256];

	require_true(__LINE__, "store_open",
	             store_open(state2, &s, err, sizeof(err)) == SH_OK);
	memset(&h, 0, sizeof(h));
	memset(&m, 0, sizeof(m));
	m.s = s;
	h.conf = &confs[C_MAIN];
	h.store = s;
	h.on_miss = on_miss;
	h.miss_ctx = &m;

	check_row(&h, &late404);
	expect_int(__LINE__, "hook ran once on a miss", 1, m.calls);
	check_row(&h, &asset);
	expect_int(__LINE__, "no hook for an asset", 1, m.calls);
	m.add = 1;
	check_row(&h, &late);
	expect_int(__LINE__, "hook ran once more", 2, m.calls);
	check_row(&h, &late);
	expect_int(__LINE__, "no hook for a hit", 2, m.calls);
	m.add = 0;
	out_of_descriptors(&h, &m);
	store_close(s);
	handler_close(&h);
}

/* A stored URL that would split the header block is never sent. */
static void
test_header_injection(void)
{
	static const struct row evil = { .line = __LINE__,
		                         .desc = "CR LF in a stored URL",
		                         .uri = "/evil",
		                         .status = 404,
		                         .body_lacks = "Set-Cookie" };
	struct redirect_map m;
	struct store *s = NULL;
	struct handler h;
	char err[256];

	require_true(__LINE__, "store_open",
	             store_open(state2, &s, err, sizeof(err)) == SH_OK);
	memset(&m, 0, sizeof(m));
	m.v = calloc(1, sizeof(*m.v));
	require_true(__LINE__, "calloc", m.v != NULL);
	m.cap = 1;
	m.n = 1;
	m.v[0].alias = str_dup("evil");
	m.v[0].url = str_dup("http://x.example/\r\nSet-Cookie: a=b");
	m.v[0].line = 1;
	expect_int(__LINE__, "store the bad URL", SH_OK,
	           store_replace(s, &m, NULL, 0));
	redirects_free(&m);
	memset(&h, 0, sizeof(h));
	h.conf = &confs[C_MAIN];
	h.store = s;
	check_row(&h, &evil);
	store_close(s);
	handler_close(&h);
}

/* ---- rule kinds: prefixes, hosts, statuses, queries, case ---- */

#define SPACES_20 "%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20"
#define SPACES_200                                                             \
	SPACES_20 SPACES_20 SPACES_20 SPACES_20 SPACES_20 SPACES_20 SPACES_20  \
	        SPACES_20 SPACES_20 SPACES_20
#define SPACES_2000                                                            \
	SPACES_200 SPACES_200 SPACES_200 SPACES_200 SPACES_200 SPACES_200      \
	        SPACES_200 SPACES_200 SPACES_200 SPACES_200

static char long_query[REDIRECT_URL_MAX];

static const struct row rule_rows[] = {
	{ .line = __LINE__,
	  .desc = "exact rule",
	  .uri = "/go",
	  .status = 301,
	  .has = { { "Location", "https://example.com/go?src=link" } } },
	{ .line = __LINE__,
	  .desc = "query merged, the request's value wins",
	  .uri = "/go?utm=1&src=mail",
	  .query = "utm=1&src=mail",
	  .status = 301,
	  .has = { { "Location", "https://example.com/go?utm=1&src=mail" } } },
	{ .line = __LINE__,
	  .desc = "forward-query drop",
	  .conf = C_DROP,
	  .uri = "/go?utm=1",
	  .query = "utm=1",
	  .status = 301,
	  .has = { { "Location", "https://example.com/go?src=link" } } },
	{ .line = __LINE__,
	  .desc = "prefix with splat",
	  .uri = "/docs/a/b/",
	  .status = 301,
	  .has = { { "Location", "https://new.example/docs/a/b" },
	           { "Cache-Control", REDIR_CC } } },
	{ .line = __LINE__,
	  .desc = "prefix, empty splat",
	  .uri = "/docs",
	  .status = 301,
	  .has = { { "Location", "https://new.example/docs/" } } },
	{ .line = __LINE__,
	  .desc = "splat re-encoded",
	  .uri = "/docs/a%20b%3Fc",
	  .status = 301,
	  .has = { { "Location", "https://new.example/docs/a%20b%3Fc" } } },
	{ .line = __LINE__,
	  .desc = "splat and query",
	  .uri = "/docs/x?p=1",
	  .query = "p=1",
	  .status = 301,
	  .has = { { "Location", "https://new.example/docs/x?p=1" } } },
	{ .line = __LINE__,
	  .desc = "status of the line",
	  .uri = "/temp",
	  .status = 307,
	  .has = { { "Location", "https://example.com/temp" } } },
	{ .line = __LINE__,
	  .desc = "catch-all with its status",
	  .uri = "/zzz/y",
	  .status = 302,
	  .has = { { "Location", "https://fallback.example/zzz/y" } } },
	{ .line = __LINE__,
	  .desc = "the catch-all never answers robots.txt",
	  .uri = "/robots.txt",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "nor favicon.ico",
	  .uri = "/favicon.ico",
	  .status = 404 },
	{ .line = __LINE__,
	  .desc = "an asset beats the catch-all",
	  .uri = "/style.css",
	  .status = 200,
	  .body = CSS_BODY },
	{ .line = __LINE__,
	  .desc = "case-sensitive by default",
	  .uri = "/GO",
	  .status = 302,
	  .has = { { "Location", "https://fallback.example/GO" } } },
	{ .line = __LINE__,
	  .desc = "host section, normalised",
	  .host = "H.Example.:8080",
	  .uri = "/go",
	  .status = 308,
	  .has = { { "Location", "https://h.example.net/go" } } },
	{ .line = __LINE__,
	  .desc = "host section falls back to the default",
	  .host = "h.example",
	  .uri = "/temp",
	  .status = 307,
	  .has = { { "Location", "https://example.com/temp" } } },
	{ .line = __LINE__,
	  .desc = "a Location over 8 KiB is a 404",
	  .uri = "/docs/" SPACES_2000 SPACES_2000,
	  .status = 404,
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "a query making it over 8 KiB is a 404",
	  .uri = "/go",
	  .query = long_query,
	  .status = 404,
	  .lacks = { "Location" } },
	{ .line = __LINE__,
	  .desc = "alias-case insensitive: exact",
	  .conf = C_FOLD,
	  .host = "fold.example",
	  .uri = "/GITHUB",
	  .status = 301,
	  .has = { { "Location", "https://github.com/" } } },
	{ .line = __LINE__,
	  .desc = "alias-case insensitive: the splat keeps its case",
	  .conf = C_FOLD,
	  .host = "fold.example",
	  .uri = "/DOCS/ReadMe",
	  .status = 301,
	  .has = { { "Location", "https://d.example/ReadMe" } } },
};

static int
fill_store(struct store *s, const char *text, int fold)
{
	struct redirects_opts o = { REDIRECTS_GOSHERVE, fold, 0,
		                    DIALECT_NETLIFY };
	struct redirect_map m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (redirects_parse_opts(text, strlen(text), &o, &m, NULL, NULL) !=
	    SH_OK)
		return SH_ENOMEM;
	rc = store_replace(s, &m, NULL, 0);
	redirects_free(&m);
	return rc;
}

static void
test_rule_kinds(void)
{
	static const char map[] = "go https://example.com/go?src=link\n"
	                          "docs/* https://new.example/docs/:splat\n"
	                          "temp https://example.com/temp 307\n"
	                          "* https://fallback.example/:splat 302\n"
	                          "@host h.example\n"
	                          "go https://h.example.net/go 308\n"
	                          /* folded at ingest, for C_FOLD's host */
	                          "@host fold.example\n"
	                          "github https://github.com/\n"
	                          "docs/* https://d.example/:splat\n";
	struct store *s = NULL;
	struct handler h;
	char err[256];
	size_t i;

	memset(long_query, 'q', sizeof(long_query) - 1);
	long_query[sizeof(long_query) - 1] = '\0';
	require_true(__LINE__, "store_open",
	             store_open(state3, &s, err, sizeof(err)) == SH_OK);
	require_true(__LINE__, "fill", fill_store(s, map, 0) == SH_OK);
	for (i = 0; i < NELEM(rule_rows); i++) {
		memset(&h, 0, sizeof(h));
		h.conf = &confs[rule_rows[i].conf];
		h.store = s;
		check_row(&h, &rule_rows[i]);
		handler_close(&h);
	}
	store_close(s);
}

/* Write n bytes of c to www/name, truncating it first (a rewrite in place). */
static int
rewrite(const char *name, char c, size_t n)
{
	char path[400], buf[2000];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", www, name);
	memset(buf, c, n < sizeof(buf) ? n : sizeof(buf));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	ok = write(fd, buf, n) == (ssize_t)n;
	return close(fd) == 0 && ok ? 0 : -1;
}

/*
 * A file rewritten in place between its fstat and its first read: the
 * headers must describe the bytes that are sent, not the old size.
 */
static void
test_shrunk_before_read(void)
{
	struct asset f = { .fd = -1 };
	struct webroot w = { 0 };
	char buf[ASSET_CHUNK];
	ssize_t n;
	int root;

	require_true(__LINE__, "write 1500 bytes",
	             rewrite("shrink.txt", 'a', 1500) == 0);
	require_true(__LINE__, "webroot_fd", (root = webroot_fd(&w, www)) >= 0);
	require_true(__LINE__, "asset_open",
	             asset_open(root, "shrink.txt", 0, &f) == ASSET_OK);
	expect_int(__LINE__, "size at open", 1500, (long long)f.st.st_size);
	require_true(__LINE__, "rewrite with 10 bytes",
	             rewrite("shrink.txt", 'b', 10) == 0);
	n = asset_read_first(&f, buf, sizeof(buf));
	expect_int(__LINE__, "bytes read after the shrink", 10, (long long)n);
	expect_int(__LINE__, "st refreshed to the new size", 10,
	           (long long)f.st.st_size);
	expect_true(__LINE__, "the new bytes", n == 10 && buf[0] == 'b');
	asset_close(&f);

	require_true(__LINE__, "asset_open again",
	             asset_open(root, "shrink.txt", 0, &f) == ASSET_OK);
	n = asset_read_first(&f, buf, 4);
	expect_int(__LINE__, "a read shorter than the file is not a shrink", 4,
	           (long long)n);
	expect_int(__LINE__, "st kept", 10, (long long)f.st.st_size);
	asset_close(&f);
	webroot_close(&w);
}

/* Wait for the coarse clock to tick (it does every few ms). */
static void
next_tick(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &a);
	do {
		usleep(500);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &b);
	} while (a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec);
}

static int
body_is(struct handler *h, const char *uri, int status, const char *body)
{
	struct row r = { .uri = uri };
	struct buf b;
	int got;

	memset(&b, 0, sizeof(b));
	got = serve(h, &r, &b);
	got = got == status && b.len >= strlen(body) &&
	      memcmp(b.p + b.len - strlen(body), body, strlen(body)) == 0;
	free(b.p);
	return got;
}

/*
 * The webroot is held open between requests and checked again once per
 * clock tick: a deploy by symlink flip is served from the new tree after
 * at most a tick, and a webroot renamed away or replaced by a file
 * answers 404, never from the old tree.
 */
static void
test_webroot_swap(void)
{
	char link[400], rel1[400], rel2[400], f[420], away[420];
	struct conf c = confs[C_MAIN];
	struct handler h;

	snprintf(link, sizeof(link), "%s/site", base);
	snprintf(rel1, sizeof(rel1), "%s/rel1", base);
	snprintf(rel2, sizeof(rel2), "%s/rel2", base);
	require_true(__LINE__, "mkdir releases",
	             mkdir(rel1, 0755) == 0 && mkdir(rel2, 0755) == 0);
	require_true(__LINE__, "release files",
	             put_text(rel1, "v.txt", "RELEASE-1\n") == 0 &&
	                     put_text(rel2, "v.txt", "RELEASE-2\n") == 0);
	require_true(__LINE__, "symlink", symlink(rel1, link) == 0);
	c.webroot = link;
	memset(&h, 0, sizeof(h));
	h.conf = &c;
	h.store = store;
	expect_true(__LINE__, "release 1 served",
	            body_is(&h, "/v.txt", 200, "RELEASE-1\n"));
	expect_true(__LINE__, "the webroot is held open", h.root.open);
	snprintf(f, sizeof(f), "%s/site.new", base);
	require_true(__LINE__, "flip the symlink",
	             symlink(rel2, f) == 0 && rename(f, link) == 0);
	next_tick();
	expect_true(__LINE__, "release 2 served a tick after the flip",
	            body_is(&h, "/v.txt", 200, "RELEASE-2\n"));
	snprintf(away, sizeof(away), "%s/rel2.away", base);
	require_true(__LINE__, "rename the release away",
	             rename(rel2, away) == 0);
	next_tick();
	expect_true(__LINE__, "webroot gone: 503, not a 404 caches keep",
	            body_is(&h, "/v.txt", 503, "Service unavailable\n"));
	expect_true(__LINE__, "... and nothing held", !h.root.open);
	expect_true(__LINE__, "... an alias still answers",
	            body_is(&h, "/foo", 301, "Moved Permanently</a>.\n"));
	require_true(__LINE__, "replace the link by a file",
	             unlink(link) == 0 &&
	                     put_text(base, "site", "not a dir\n") == 0);
	next_tick();
	expect_true(__LINE__, "webroot a file: 503",
	            body_is(&h, "/v.txt", 503, "Service unavailable\n"));
	require_true(__LINE__, "webroot back",
	             unlink(link) == 0 && symlink(away, link) == 0);
	next_tick();
	expect_true(__LINE__, "webroot back: served again at the next tick",
	            body_is(&h, "/v.txt", 200, "RELEASE-2\n"));
	handler_close(&h);
	expect_true(__LINE__, "handler_close lets it go", !h.root.open);
}

static const struct unit_test handler_tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_webroot_swap),
	UNIT_TEST(test_redirect_body),
	UNIT_TEST(test_symlink_inside),
	UNIT_TEST(test_big_file),
	UNIT_TEST(test_sink_failure),
	UNIT_TEST(test_no_store),
	UNIT_TEST(test_on_miss),
	UNIT_TEST(test_header_injection),
	UNIT_TEST(test_rule_kinds),
	UNIT_TEST(test_shrunk_before_read),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "handler_serve", suite_init, suite_cleanup, handler_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
