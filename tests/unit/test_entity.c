/*
 * test_entity.c - entity_serve(): how an asset that handler.c chose
 * answers, called directly on files of a temporary webroot and answered
 * into memory (answer.h). Range and If-Range; the conditionals (304,
 * 412 with nothing sent); precompressed siblings and their ETags, Vary
 * and the path sent; error pages (404, 410: no validators, no Range, no
 * Vary, no-store, never by the web server); and sendfile-mode: the
 * X-Sendfile / X-Accel-Redirect header, the names each server would
 * read as another (streamed instead), a webroot swapped since it was
 * opened (streamed), and what is never handed out (206, 304, pages).
 */
#include "unit.h"

#include <unistd.h>

#include "answer.h"
#include "asset.h"
#include "conf.h"
#include "entity.h"
#include "log.h"
#include "webroot.h"

#define DIGITS_BODY "0123456789"
#define CSS_BODY    "body { color: red; }\n"
#define JS_BODY     "console.log(1);\n"
#define JS_GZ       "GZ-BYTES"
#define JS_BR       "BR-BYTES"
#define PAGE        "<p>gone</p>\n"
#define TEXT_JS     "text/javascript; charset=utf-8"
#define TEXT_PLAIN  "text/plain; charset=utf-8"
#define ASSET_CC    "public, max-age=31536000, must-revalidate"

static char base[] = "/tmp/sherve-entity.XXXXXX";
static char www[300], www2[300], state[300];

enum which { C_MAIN, C_NOPRE, C_LIGHTTPD, C_NGINX, C_APACHE, C_SWAPPED, C_N };

static struct conf confs[C_N];
static int conf_ok[C_N];
static struct webroot wr;
static int root = -1;

static char etag_digits[ETAG_MAX], lm_digits[HTTPDATE_LEN];
static char lm_earlier[HTTPDATE_LEN], lm_later[HTTPDATE_LEN];
static char weak_digits[ETAG_MAX + 2];
static char etag_js[ETAG_MAX], etag_js_br[ETAG_MAX], etag_js_gz[ETAG_MAX];
static char xsendfile_style[400], xsendfile_app[400], xsendfile_q[400];

/* ---- fixture ---- */

static int
load_conf(enum which w, const char *root_dir, const char *mode, const char *pre)
{
	char *argv[12], err[256];
	int argc = 0;

	argv[argc++] = "test";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-dir";
	argv[argc++] = state;
	argv[argc++] = "--webroot";
	argv[argc++] = (char *)root_dir;
	argv[argc++] = "--sendfile-mode";
	argv[argc++] = (char *)mode;
	argv[argc++] = "--precompressed";
	argv[argc++] = (char *)pre;
	argv[argc] = NULL;
	if (conf_load(&confs[w], argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	conf_ok[w] = 1;
	return 0;
}

static int
put_files(void)
{
	int rc = 0;

	rc |= put_text(www, "style.css", CSS_BODY);
	rc |= put_text(www, "digits.txt", DIGITS_BODY);
	rc |= put_text(www, "empty.txt", "");
	rc |= put_text(www, "page.html", PAGE);
	rc |= put_text(www, "app.js", JS_BODY);
	rc |= put_text(www, "app.js.gz", JS_GZ);
	rc |= put_text(www, "app.js.br", JS_BR);
	rc |= put_text(www, "pct%41.txt", "PCT\n");
	rc |= put_text(www, "caf\xc3\xa9.txt", "CAFE\n");
	rc |= put_text(www, "q?x.txt", "Q\n");
	rc |= put_text(www, "h#x.txt", "H\n");
	rc |= put_text(www, "old.css", CSS_BODY);
	rc |= put_text(www, "old.css.gz", "STALE");
	rc |= put_text(www, "image.png", "PNG");
	rc |= put_text(www, "image.png.gz", "PNG-GZ");
	rc |= age(www, "old.css.gz", 3600);
	rc |= age(www, "app.js", 60);
	return rc;
}

static int
validators(void)
{
	struct stat st;
	char p[512];

	if (validators_of(www, "digits.txt", "", etag_digits, lm_digits) != 0 ||
	    validators_of(www, "app.js", "", etag_js, NULL) != 0 ||
	    validators_of(www, "app.js.br", "br", etag_js_br, NULL) != 0 ||
	    validators_of(www, "app.js.gz", "gz", etag_js_gz, NULL) != 0)
		return -1;
	snprintf(p, sizeof(p), "%s/digits.txt", www);
	if (stat(p, &st) != 0)
		return -1;
	httpdate_format(st.st_mtim.tv_sec - 86400, lm_earlier,
	                sizeof(lm_earlier));
	httpdate_format(st.st_mtim.tv_sec + 86400, lm_later, sizeof(lm_later));
	snprintf(weak_digits, sizeof(weak_digits), "W/%s", etag_digits);
	snprintf(xsendfile_style, sizeof(xsendfile_style), "%s/style.css", www);
	snprintf(xsendfile_app, sizeof(xsendfile_app), "%s/app.js", www);
	snprintf(xsendfile_q, sizeof(xsendfile_q), "%s/q?x.txt", www);
	return 0;
}

static int
suite_init(void)
{
	log_set_level(SH_LOG_ERROR);
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(www, sizeof(www), "%s/www", base);
	snprintf(www2, sizeof(www2), "%s/www2", base);
	snprintf(state, sizeof(state), "%s/state", base);
	if (mkdir(www, 0755) != 0 || mkdir(www2, 0755) != 0 ||
	    mkdir(state, 0700) != 0 || put_files() != 0 || validators() != 0)
		return -1;
	/* C_SWAPPED names www2 while the tree held open is www: the
	 * webroot was swapped since this worker opened it. */
	if (load_conf(C_MAIN, www, "none", "yes") ||
	    load_conf(C_NOPRE, www, "none", "no") ||
	    load_conf(C_LIGHTTPD, www, "lighttpd", "yes") ||
	    load_conf(C_NGINX, www, "nginx", "yes") ||
	    load_conf(C_APACHE, www, "apache", "yes") ||
	    load_conf(C_SWAPPED, www2, "lighttpd", "yes"))
		return -1;
	return (root = webroot_fd(&wr, www)) < 0 ? -1 : 0;
}

static int
suite_cleanup(void)
{
	size_t i;

	webroot_close(&wr);
	for (i = 0; i < C_N; i++)
		if (conf_ok[i])
			conf_free(&confs[i]);
	return unit_rmtree(base);
}

/* ---- one asset answered ---- */

struct row {
	unsigned line;
	const char *desc;
	enum which conf;
	const char *method; /* NULL: GET */
	const char *file;   /* relative to the webroot */
	int page;           /* 404 or 410: served as an error page */
	const char *inm, *ims, *im, *ius, *range, *if_range;
	const char *ae; /* Accept-Encoding */
	int status;
	const char *body; /* NULL: not checked */
	struct hdr has[7];
	const char *lacks[4];
	const char *sent; /* the path sent; NULL: not checked */
};

static int
serve(const struct row *r, struct buf *b, char *sent, size_t sentsz)
{
	struct entity_from e = { &confs[r->conf], &wr, root };
	struct sink out = { buf_write, b, NULL };
	struct asset a = { .fd = -1 };
	struct request rq;
	int status;

	memset(&rq, 0, sizeof(rq));
	rq.method = r->method != NULL ? r->method : "GET";
	rq.uri = "/";
	rq.host = "example.test";
	rq.cond.if_none_match = r->inm;
	rq.cond.if_modified_since = r->ims;
	rq.cond.if_match = r->im;
	rq.cond.if_unmodified_since = r->ius;
	rq.range = r->range;
	rq.if_range = r->if_range;
	rq.accept_encoding = r->ae;
	if (asset_open(root, r->file, 0, &a) != ASSET_OK)
		return -1;
	status = entity_serve(&e, &rq, &out, &a, r->page != 0 ? r->page : 200,
	                      sent, sentsz);
	asset_close(&a);
	return status;
}

static void
check_row(const struct row *r)
{
	char sent[ASSET_PATH_MAX];
	struct buf b;
	struct answer a;
	int status;

	memset(&b, 0, sizeof(b));
	sent[0] = '\0';
	status = serve(r, &b, sent, sizeof(sent));
	expect_int(r->line, r->desc, r->status, status);
	if (r->sent != NULL)
		expect_str(r->line, r->desc, r->sent, sent);
	if (status == 412) {
		/* The caller answers a 412: nothing may be written. */
		expect_int(r->line, "412: nothing sent", 0, b.len);
		free(b.p);
		return;
	}
	answer_parse(&a, &b);
	check_framing(&a, status,
	              r->method != NULL && strcmp(r->method, "HEAD") == 0,
	              r->line, r->desc);
	if (r->body != NULL)
		expect_mem(r->line, r->desc, r->body, a.body, a.blen);
	answer_expect(&a, r->has, NELEM(r->has), r->lacks, NELEM(r->lacks),
	              r->line, r->desc);
	free(a.head);
	free(b.p);
}

/* Rows moved from test_handler.c (through handler_serve then), as
 * entity_serve() is asked for the file the handler chose. */
static const struct row moved_rows[] = {
	/* Ranges. */
	{ .line = __LINE__,
	  .desc = "Range 0-3",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .status = 206,
	  .body = "0123",
	  .has = { { "Content-Range", "bytes 0-3/10" },
	           { "Content-Length", "4" },
	           { "Content-Type", TEXT_PLAIN },
	           { "ETag", etag_digits } } },
	{ .line = __LINE__,
	  .desc = "Range suffix",
	  .file = "digits.txt",
	  .range = "bytes=-2",
	  .status = 206,
	  .body = "89",
	  .has = { { "Content-Range", "bytes 8-9/10" } } },
	{ .line = __LINE__,
	  .desc = "Range open",
	  .file = "digits.txt",
	  .range = "bytes=5-",
	  .status = 206,
	  .body = "56789",
	  .has = { { "Content-Range", "bytes 5-9/10" } } },
	{ .line = __LINE__,
	  .desc = "Range clipped",
	  .file = "digits.txt",
	  .range = "bytes=8-100",
	  .status = 206,
	  .body = "89",
	  .has = { { "Content-Range", "bytes 8-9/10" } } },
	{ .line = __LINE__,
	  .desc = "Range past the end",
	  .file = "digits.txt",
	  .range = "bytes=999999-",
	  .status = 416,
	  .body = "",
	  .has = { { "Content-Range", "bytes */10" },
	           { "Content-Length", "0" } } },
	{ .line = __LINE__,
	  .desc = "two ranges served whole",
	  .file = "digits.txt",
	  .range = "bytes=0-1,3-4",
	  .status = 200,
	  .body = DIGITS_BODY,
	  .lacks = { "Content-Range" } },
	{ .line = __LINE__,
	  .desc = "other unit ignored",
	  .file = "digits.txt",
	  .range = "items=0-1",
	  .status = 200,
	  .body = DIGITS_BODY },
	{ .line = __LINE__,
	  .desc = "If-Range other ETag",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .if_range = "\"nope\"",
	  .status = 200,
	  .body = DIGITS_BODY,
	  .lacks = { "Content-Range" } },
	{ .line = __LINE__,
	  .desc = "If-Range weak ETag",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .if_range = weak_digits,
	  .status = 200,
	  .body = DIGITS_BODY },
	{ .line = __LINE__,
	  .desc = "If-Range the ETag",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .if_range = etag_digits,
	  .status = 206,
	  .body = "0123" },
	{ .line = __LINE__,
	  .desc = "If-Range the date",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .if_range = lm_digits,
	  .status = 206,
	  .body = "0123" },
	{ .line = __LINE__,
	  .desc = "If-Range an older date",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .if_range = lm_earlier,
	  .status = 200,
	  .body = DIGITS_BODY },
	{ .line = __LINE__,
	  .desc = "HEAD with Range",
	  .method = "HEAD",
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .status = 206,
	  .body = "",
	  .has = { { "Content-Length", "4" },
	           { "Content-Range", "bytes 0-3/10" } } },
	/* Precompressed siblings. */
	{ .line = __LINE__,
	  .desc = "br preferred",
	  .file = "app.js",
	  .ae = "gzip, deflate, br",
	  .status = 200,
	  .body = JS_BR,
	  .has = { { "Content-Encoding", "br" },
	           { "Vary", "Accept-Encoding" },
	           { "Content-Type", TEXT_JS },
	           { "ETag", etag_js_br },
	           { "Content-Length", "8" } } },
	{ .line = __LINE__,
	  .desc = "gzip only",
	  .file = "app.js",
	  .ae = "gzip",
	  .status = 200,
	  .body = JS_GZ,
	  .has = { { "Content-Encoding", "gzip" },
	           { "ETag", etag_js_gz },
	           { "Vary", "Accept-Encoding" } } },
	{ .line = __LINE__,
	  .desc = "br refused by q=0",
	  .file = "app.js",
	  .ae = "br;q=0, gzip;q=0.5",
	  .status = 200,
	  .body = JS_GZ },
	{ .line = __LINE__,
	  .desc = "star accepts br",
	  .file = "app.js",
	  .ae = "*",
	  .status = 200,
	  .body = JS_BR },
	{ .line = __LINE__,
	  .desc = "identity only",
	  .file = "app.js",
	  .ae = "identity",
	  .status = 200,
	  .body = JS_BODY,
	  .has = { { "Vary", "Accept-Encoding" }, { "ETag", etag_js } },
	  .lacks = { "Content-Encoding" } },
	{ .line = __LINE__,
	  .desc = "no Accept-Encoding",
	  .file = "app.js",
	  .status = 200,
	  .body = JS_BODY,
	  .has = { { "Vary", "Accept-Encoding" } },
	  .lacks = { "Content-Encoding" } },
	{ .line = __LINE__,
	  .desc = "stale sibling ignored",
	  .file = "old.css",
	  .ae = "gzip",
	  .status = 200,
	  .body = CSS_BODY,
	  .lacks = { "Content-Encoding" } },
	{ .line = __LINE__,
	  .desc = "not compressible",
	  .file = "image.png",
	  .ae = "gzip",
	  .status = 200,
	  .body = "PNG",
	  .lacks = { "Content-Encoding", "Vary" } },
	{ .line = __LINE__,
	  .desc = "304 for the br ETag",
	  .file = "app.js",
	  .ae = "br",
	  .inm = etag_js_br,
	  .status = 304,
	  .body = "",
	  .has = { { "ETag", etag_js_br }, { "Vary", "Accept-Encoding" } } },
	{ .line = __LINE__,
	  .desc = "identity ETag does not match br",
	  .file = "app.js",
	  .ae = "br",
	  .inm = etag_js,
	  .status = 200,
	  .body = JS_BR },
	{ .line = __LINE__,
	  .desc = "Range of the br body",
	  .file = "app.js",
	  .ae = "br",
	  .range = "bytes=0-1",
	  .status = 206,
	  .body = "BR",
	  .has = { { "Content-Range", "bytes 0-1/8" },
	           { "Content-Encoding", "br" } } },
	{ .line = __LINE__,
	  .desc = "precompressed off",
	  .conf = C_NOPRE,
	  .file = "app.js",
	  .ae = "br, gzip",
	  .status = 200,
	  .body = JS_BODY,
	  .lacks = { "Content-Encoding", "Vary" } },

	/* The web server sends the file (sendfile-mode). */
	{ .line = __LINE__,
	  .desc = "X-Sendfile",
	  .conf = C_LIGHTTPD,
	  .file = "style.css",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Sendfile", xsendfile_style },
	           { "ETag", NULL },
	           { "Content-Type", "text/css; charset=utf-8" } } },
	{ .line = __LINE__,
	  .desc = "nginx: no precompressed siblings",
	  .conf = C_NGINX,
	  .file = "app.js",
	  .ae = "br",
	  .status = 200,
	  .has = { { "X-Accel-Redirect", "/.sherve-files/app.js" } },
	  .lacks = { "Content-Encoding" } },
	{ .line = __LINE__,
	  .desc = "apache: no precompressed siblings (mod_xsendfile drops "
	          "Content-Encoding)",
	  .conf = C_APACHE,
	  .file = "app.js",
	  .ae = "br, gzip",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Sendfile", xsendfile_app } },
	  .lacks = { "Content-Encoding", "Vary" } },
	{ .line = __LINE__,
	  .desc = "lighttpd: a name holding '%' is streamed (lighttpd would "
	          "decode it)",
	  .conf = C_LIGHTTPD,
	  .file = "pct%41.txt",
	  .status = 200,
	  .body = "PCT\n",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "apache: a name holding '%' is streamed too (mod_xsendfile "
	          "1.0 decodes)",
	  .conf = C_APACHE,
	  .file = "pct%41.txt",
	  .status = 200,
	  .body = "PCT\n",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "lighttpd: a name that is not ASCII is streamed",
	  .conf = C_LIGHTTPD,
	  .file = "caf\xc3\xa9.txt",
	  .status = 200,
	  .body = "CAFE\n",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "nginx: a name that is not ASCII is streamed",
	  .conf = C_NGINX,
	  .file = "caf\xc3\xa9.txt",
	  .status = 200,
	  .body = "CAFE\n",
	  .lacks = { "X-Accel-Redirect" } },

	/* Metrics without a metrics mapping. */
};

/* Rows of the branches no handler row reached. */
static const struct row rows[] = {
	{ .line = __LINE__,
	  .desc = "200: validators, Cache-Control, Accept-Ranges",
	  .file = "digits.txt",
	  .status = 200,
	  .body = DIGITS_BODY,
	  .has = { { "ETag", etag_digits },
	           { "Last-Modified", lm_digits },
	           { "Cache-Control", ASSET_CC },
	           { "Accept-Ranges", "bytes" },
	           { "Content-Type", TEXT_PLAIN },
	           { "Content-Length", "10" },
	           { "Vary", "Accept-Encoding" } },
	  .lacks = { "Content-Encoding", "X-Sendfile" },
	  .sent = "digits.txt" },
	{ .line = __LINE__,
	  .desc = "HEAD: the headers of the whole file, no body",
	  .method = "HEAD",
	  .file = "digits.txt",
	  .status = 200,
	  .body = "",
	  .has = { { "Content-Length", "10" }, { "ETag", etag_digits } } },
	{ .line = __LINE__,
	  .desc = "an empty file",
	  .file = "empty.txt",
	  .status = 200,
	  .body = "",
	  .has = { { "Content-Length", "0" }, { "ETag", NULL } } },
	{ .line = __LINE__,
	  .desc = "an empty file has no byte to give a Range",
	  .file = "empty.txt",
	  .range = "bytes=0-0",
	  .status = 416,
	  .has = { { "Content-Range", "bytes */0" } } },
	/* Conditionals. */
	{ .line = __LINE__,
	  .desc = "If-None-Match the ETag: 304 with the validators",
	  .file = "digits.txt",
	  .inm = etag_digits,
	  .status = 304,
	  .body = "",
	  .has = { { "ETag", etag_digits },
	           { "Last-Modified", lm_digits },
	           { "Cache-Control", ASSET_CC } },
	  .lacks = { "Content-Length", "Content-Type" } },
	{ .line = __LINE__,
	  .desc = "If-Modified-Since later: 304",
	  .file = "digits.txt",
	  .ims = lm_later,
	  .status = 304 },
	{ .line = __LINE__,
	  .desc = "If-Match another ETag: 412, nothing sent",
	  .file = "digits.txt",
	  .im = "\"nope\"",
	  .status = 412,
	  .sent = "digits.txt" },
	{ .line = __LINE__,
	  .desc = "If-Unmodified-Since earlier: 412",
	  .file = "digits.txt",
	  .ius = lm_earlier,
	  .status = 412 },
	{ .line = __LINE__,
	  .desc = "If-Match the ETag: the Range applies",
	  .file = "digits.txt",
	  .im = etag_digits,
	  .range = "bytes=1-2",
	  .status = 206,
	  .body = "12" },
	/* The variant sent, and its path. */
	{ .line = __LINE__,
	  .desc = "br: the sibling's path is the one sent",
	  .file = "app.js",
	  .ae = "br",
	  .status = 200,
	  .body = JS_BR,
	  .sent = "app.js.br" },
	{ .line = __LINE__,
	  .desc = "gzip: likewise",
	  .file = "app.js",
	  .ae = "gzip",
	  .status = 200,
	  .sent = "app.js.gz" },
	{ .line = __LINE__,
	  .desc = "identity: the file itself",
	  .file = "app.js",
	  .status = 200,
	  .sent = "app.js" },
	{ .line = __LINE__,
	  .desc = "If-Range the br ETag: the Range of the br body",
	  .file = "app.js",
	  .ae = "br",
	  .range = "bytes=3-",
	  .if_range = etag_js_br,
	  .status = 206,
	  .body = "BYTES" },
	{ .line = __LINE__,
	  .desc = "If-Range the identity ETag on the br body: all of it",
	  .file = "app.js",
	  .ae = "br",
	  .range = "bytes=3-",
	  .if_range = etag_js,
	  .status = 200,
	  .body = JS_BR },
	/* Error pages. */
	{ .line = __LINE__,
	  .desc = "a 404 page: no validators, no-store",
	  .file = "page.html",
	  .page = 404,
	  .status = 404,
	  .body = PAGE,
	  .has = { { "Cache-Control", "no-store" },
	           { "Content-Type", "text/html; charset=utf-8" },
	           { "Content-Length", "12" } },
	  .lacks = { "ETag", "Last-Modified", "Accept-Ranges", "Vary" } },
	{ .line = __LINE__,
	  .desc = "a 410 page ignores Range and conditionals",
	  .file = "page.html",
	  .page = 410,
	  .range = "bytes=0-1",
	  .inm = "*",
	  .im = "\"nope\"",
	  .status = 410,
	  .body = PAGE,
	  .lacks = { "Content-Range", "ETag" } },
	{ .line = __LINE__,
	  .desc = "a page may be precompressed, but says no Vary",
	  .file = "app.js",
	  .page = 404,
	  .ae = "br",
	  .status = 404,
	  .body = JS_BR,
	  .has = { { "Content-Encoding", "br" } },
	  .lacks = { "Vary" },
	  .sent = "app.js.br" },
	{ .line = __LINE__,
	  .desc = "sendfile-mode: a page is streamed",
	  .conf = C_LIGHTTPD,
	  .file = "page.html",
	  .page = 410,
	  .status = 410,
	  .body = PAGE,
	  .lacks = { "X-Sendfile" } },
	/* sendfile-mode. */
	{ .line = __LINE__,
	  .desc = "lighttpd: HEAD is still handed to the server",
	  .conf = C_LIGHTTPD,
	  .method = "HEAD",
	  .file = "style.css",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Sendfile", xsendfile_style } },
	  .lacks = { "Content-Length" } },
	{ .line = __LINE__,
	  .desc = "lighttpd: a 206 is sherve's own",
	  .conf = C_LIGHTTPD,
	  .file = "digits.txt",
	  .range = "bytes=0-3",
	  .status = 206,
	  .body = "0123",
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "lighttpd: a 304 is sherve's own",
	  .conf = C_LIGHTTPD,
	  .file = "digits.txt",
	  .inm = etag_digits,
	  .status = 304,
	  .lacks = { "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "lighttpd: '?' is no special byte in a path",
	  .conf = C_LIGHTTPD,
	  .file = "q?x.txt",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Sendfile", xsendfile_q } } },
	{ .line = __LINE__,
	  .desc = "nginx: '?' would start a query: streamed",
	  .conf = C_NGINX,
	  .file = "q?x.txt",
	  .status = 200,
	  .body = "Q\n",
	  .lacks = { "X-Accel-Redirect" } },
	{ .line = __LINE__,
	  .desc = "nginx: '#' would start a fragment: streamed",
	  .conf = C_NGINX,
	  .file = "h#x.txt",
	  .status = 200,
	  .body = "H\n",
	  .lacks = { "X-Accel-Redirect" } },
	{ .line = __LINE__,
	  .desc = "nginx: the prefix and the path",
	  .conf = C_NGINX,
	  .file = "style.css",
	  .status = 200,
	  .body = "",
	  .has = { { "X-Accel-Redirect", "/.sherve-files/style.css" },
	           { "ETag", NULL },
	           { "Cache-Control", ASSET_CC } },
	  .lacks = { "Content-Length", "X-Sendfile" } },
	{ .line = __LINE__,
	  .desc = "a webroot swapped since it was opened: streamed",
	  .conf = C_SWAPPED,
	  .file = "style.css",
	  .status = 200,
	  .body = CSS_BODY,
	  .lacks = { "X-Sendfile" } },
};

static void
test_moved_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(moved_rows); i++)
		check_row(&moved_rows[i]);
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		check_row(&rows[i]);
}

static void
test_is_error_page(void)
{
	static const struct {
		int status, want;
	} t[] = { { 404, 1 }, { 410, 1 }, { 200, 0 }, { 403, 0 }, { 500, 0 } };
	size_t i;

	for (i = 0; i < NELEM(t); i++)
		expect_int(__LINE__, "entity_is_error_page", t[i].want,
		           entity_is_error_page(t[i].status));
}

static const struct unit_test entity_tests[] = {
	UNIT_TEST(test_moved_rows),
	UNIT_TEST(test_rows),
	UNIT_TEST(test_is_error_page),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "entity", suite_init, suite_cleanup, entity_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
