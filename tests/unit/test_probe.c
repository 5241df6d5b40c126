/*
 * test_probe.c - probe_run() against a real local HTTP server (httpd.h)
 * whose every request is logged ("METHOD path" a line), so that a row
 * asserts both the verdict and what went on the wire: HEAD first, GET
 * only after a 405 or 501 (its body cut at the first byte), redirects
 * followed one request per hop up to max_redirects, a redirect back to
 * the target itself, a redirect without a Location, a status that ends
 * nothing, schemes that are not followed, Locations with non-ASCII bytes
 * (percent-encoded) or control characters (refused), a closed port, a
 * server slower than the timeout, and a refused scheme as a target.
 *
 * The caps (in flight, starts per second) are measured by the server of
 * tests/integration/probe.sh over a whole `sherve check --probe`; here
 * per_second is high so the rows do not wait on the spacing.
 */
#include "unit.h"

#include <fcntl.h>
#include <poll.h>

#include "fetch.h"
#include "httpd.h"
#include "probe.h"
#include "util.h"

static char dir[] = "/tmp/sherve-probe.XXXXXX";
static char reqlog[64]; /* the server's log of requests */
static char base[32];
static pid_t http_pid = -1;

/* -------------------------------------------------- the HTTP server */

/* Append "METHOD path\n" to the log (O_APPEND: one write, no tearing). */
static void
log_request(const char *method, const char *path)
{
	char line[1100];
	int fd = open(reqlog, O_WRONLY | O_APPEND | O_CREAT, 0600);
	int n = snprintf(line, sizeof(line), "%s %s\n", method, path);

	if (fd >= 0 && n > 0 && (size_t)n < sizeof(line) &&
	    write(fd, line, (size_t)n) != n)
		_exit(0);
	if (fd >= 0)
		close(fd);
}

/* How many times line ("METHOD path") is in the log. */
static unsigned
logged(const char *line)
{
	char l[1100];
	unsigned n = 0;
	FILE *f = fopen(reqlog, "r");

	while (f != NULL && fgets(l, sizeof(l), f) != NULL) {
		l[strcspn(l, "\n")] = '\0';
		n += strcmp(l, line) == 0;
	}
	if (f != NULL)
		fclose(f);
	return n;
}

/* A 302 to loc. */
static void
redirect(int fd, const char *loc)
{
	char h[256];

	snprintf(h, sizeof(h), "302 Found\r\nLocation: %s", loc);
	httpd_respond(fd, h, "", 0);
}

/* /chain/N: 302 to /chain/N-1 (a relative Location); /chain/0: 200. */
static void
chain(int fd, const char *path)
{
	char loc[64];
	long n = strtol(path + 7, NULL, 10); /* test input */

	if (n <= 0) {
		httpd_respond(fd, "200 OK", "", 0);
		return;
	}
	snprintf(loc, sizeof(loc), "/chain/%ld", n - 1);
	redirect(fd, loc);
}

/* GET answers with 16 KiB, more than the probe reads. */
static void
refuse_head(int fd, const char *method, const char *status)
{
	static char body[16384];

	memset(body, 'x', sizeof(body));
	if (strcmp(method, "HEAD") == 0)
		httpd_respond(fd, status, "", 0);
	else
		httpd_respond(fd, "200 OK", body, sizeof(body));
}

static void
route(int fd, const char *req, const char *method, const char *path)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	(void)req;
	log_request(method, path);
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/caf%c3%a9") == 0)
		httpd_respond(fd, "200 OK", "", 0);
	else if (strcmp(path, "/nohead") == 0)
		refuse_head(fd, method, "405 Method Not Allowed");
	else if (strcmp(path, "/nohead501") == 0)
		refuse_head(fd, method, "501 Not Implemented");
	else if (strncmp(path, "/chain/", 7) == 0)
		chain(fd, path);
	else if (strcmp(path, "/back") == 0)
		/* The first visit redirects to itself, the second is 200. */
		logged("HEAD /back") < 2 ? redirect(fd, "/back")
		                         : httpd_respond(fd, "200 OK", "", 0);
	else if (strcmp(path, "/noloc") == 0)
		httpd_respond(fd, "302 Found", "", 0);
	else if (strcmp(path, "/304") == 0)
		httpd_respond(fd, "304 Not Modified", "", 0);
	else if (strcmp(path, "/mailto") == 0)
		redirect(fd, "mailto:a@example.org");
	else if (strcmp(path, "/utf8") == 0)
		redirect(fd, "/caf\xc3\xa9");
	else if (strcmp(path, "/ctl") == 0)
		redirect(fd, "/a\x01z");
	else if (strcmp(path, "/todead") == 0)
		redirect(fd, "/dead");
	else if (strcmp(path, "/error") == 0)
		httpd_respond(fd, "500 Internal Server Error", "", 0);
	else if (strcmp(path, "/slow") == 0) {
		/* 4 s, or until the client gives up and closes. */
		if (poll(&p, 1, 4000) != 0)
			_exit(0);
		httpd_respond(fd, "200 OK", "", 0);
	} else
		httpd_respond(fd, "404 Not Found", "", 0);
}

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(reqlog, sizeof(reqlog), "%s/requests", dir);
	if ((http_pid = httpd_start(route, base, sizeof(base))) < 0)
		return -1;
	return fetch_global_init() == SH_OK ? 0 : -1;
}

static int
suite_cleanup(void)
{
	httpd_stop(http_pid);
	return unit_rmtree(dir);
}

/* -------------------------------------------------- the cases */

struct row {
	unsigned line;
	const char *desc;
	const char *url; /* after base when it starts with '/' */
	unsigned max_redirects;
	enum probe_verdict verdict;
	long status;
	const char *final; /* after base when it starts with '/' */
	unsigned redirects;
	int used_get;
	const char *error; /* a substring of error; NULL: error is "" */
	const char *wire;  /* the requests the server saw, "; "-joined */
};

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "200 to HEAD: fine", "/ok", 5, PROBE_FINE, 200, "/ok", 0,
	  0, NULL, "HEAD /ok" },
	{ __LINE__, "404: dead, without a reason of its own", "/nothing", 5,
	  PROBE_DEAD, 404, "/nothing", 0, 0, NULL, "HEAD /nothing" },
	{ __LINE__, "500: dead", "/error", 5, PROBE_DEAD, 500, "/error", 0, 0,
	  NULL, "HEAD /error" },
	{ __LINE__, "405 to HEAD: asked again with GET", "/nohead", 5,
	  PROBE_FINE, 200, "/nohead", 0, 1, NULL,
	  "HEAD /nohead; GET /nohead" },
	{ __LINE__, "501 to HEAD: asked again with GET", "/nohead501", 5,
	  PROBE_FINE, 200, "/nohead501", 0, 1, NULL,
	  "HEAD /nohead501; GET /nohead501" },
	{ __LINE__, "3 redirects, then 200: redirected", "/chain/3", 5,
	  PROBE_REDIRECTED, 200, "/chain/0", 3, 0, NULL,
	  "HEAD /chain/3; HEAD /chain/2; HEAD /chain/1; HEAD /chain/0" },
	{ __LINE__, "as many redirects as allowed", "/chain/2", 2,
	  PROBE_REDIRECTED, 200, "/chain/0", 2, 0, NULL,
	  "HEAD /chain/2; HEAD /chain/1; HEAD /chain/0" },
	{ __LINE__, "one redirect more than allowed: dead, not asked",
	  "/chain/3", 2, PROBE_DEAD, 302, "/chain/1", 2, 0,
	  "more than 2 redirects",
	  "HEAD /chain/3; HEAD /chain/2; HEAD /chain/1" },
	{ __LINE__, "no redirect allowed", "/chain/1", 0, PROBE_DEAD, 302,
	  "/chain/1", 0, 0, "more than 0 redirects", "HEAD /chain/1" },
	{ __LINE__, "a redirect back to the target, then 200: fine", "/back",
	  5, PROBE_FINE, 200, "/back", 1, 0, NULL, "HEAD /back; HEAD /back" },
	{ __LINE__, "a redirect to a dead page: dead", "/todead", 5,
	  PROBE_DEAD, 404, "/dead", 1, 0, NULL, "HEAD /todead; HEAD /dead" },
	{ __LINE__, "a 302 without a Location: dead", "/noloc", 5, PROBE_DEAD,
	  302, "/noloc", 0, 0, "a 302 without a Location", "HEAD /noloc" },
	{ __LINE__, "a 304 ends nothing: dead", "/304", 5, PROBE_DEAD, 304,
	  "/304", 0, 0, "status 304 ends nothing", "HEAD /304" },
	{ __LINE__, "a redirect to mailto: is not followed", "/mailto", 5,
	  PROBE_REDIRECTED, 302, "mailto:a@example.org", 1, 0,
	  "not followed: not http or https", "HEAD /mailto" },
	{ __LINE__, "... not even past max_redirects", "/mailto", 0,
	  PROBE_REDIRECTED, 302, "mailto:a@example.org", 1, 0,
	  "not followed", "HEAD /mailto" },
	{ __LINE__, "a Location of UTF-8 bytes is kept percent-encoded",
	  "/utf8", 5, PROBE_REDIRECTED, 200, "/caf%c3%a9", 1, 0, NULL,
	  "HEAD /utf8; HEAD /caf%c3%a9" },
	{ __LINE__, "a Location with a control character: dead", "/ctl", 5,
	  PROBE_DEAD, 302, "/ctl", 0, 0, "control character", "HEAD /ctl" },
	{ __LINE__, "a server slower than the timeout: dead", "/slow", 5,
	  PROBE_DEAD, 0, "/slow", 0, 0, "imed out", "HEAD /slow" },
	{ __LINE__, "nothing listening: dead", "http://127.0.0.1:1/x", 5,
	  PROBE_DEAD, 0, "http://127.0.0.1:1/x", 0, 0, "onnect", "" },
	{ __LINE__, "an ftp:// target is never asked", "ftp://127.0.0.1:1/x",
	  5, PROBE_DEAD, 0, "ftp://127.0.0.1:1/x", 0, 0, "rotocol", "" },
};
/* clang-format on */

/* The log as "METHOD path; ..." into out. */
static void
wire(char *out, size_t outsz)
{
	char l[1100];
	size_t n = 0;
	FILE *f = fopen(reqlog, "r");

	out[0] = '\0';
	while (f != NULL && fgets(l, sizeof(l), f) != NULL && n < outsz) {
		l[strcspn(l, "\n")] = '\0';
		n += (size_t)snprintf(out + n, outsz - n, "%s%s",
		                      n > 0 ? "; " : "", l);
	}
	if (f != NULL)
		fclose(f);
}

static void
expand(char *out, size_t outsz, const char *u)
{
	snprintf(out, outsz, "%s%s", u[0] == '/' ? base : "", u);
}

static void
run_row(const struct row *w)
{
	struct probe_opts o = { NULL, 3, 1, 2, 1000, w->max_redirects };
	struct probe_target t = { 0 };
	char url[128], final[128], seen[1024];

	expand(url, sizeof(url), w->url);
	expand(final, sizeof(final), w->final);
	t.url = url;
	require_true(w->line, "truncate the log",
	             unit_write_file(reqlog, "") == 0);
	expect_int(w->line, w->desc, SH_OK, probe_run(&o, &t, 1));
	expect_str(w->line, w->desc, probe_verdict_name(w->verdict),
	           probe_verdict_name(t.verdict));
	expect_int(w->line, w->desc, w->status, t.status);
	expect_str(w->line, w->desc, final, t.final_url);
	expect_int(w->line, w->desc, w->redirects, t.redirects);
	expect_int(w->line, w->desc, w->used_get, t.used_get);
	if (w->error != NULL)
		expect_has(w->line, w->desc, t.error, w->error);
	else
		expect_str(w->line, w->desc, "", t.error);
	wire(seen, sizeof(seen));
	expect_str(w->line, w->desc, w->wire, seen);
	probe_targets_free(&t, 1);
	expect_true(w->line, "probe_targets_free clears final_url",
	            t.final_url == NULL);
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		run_row(&rows[i]);
}

/*
 * Several targets in one run, with caps of 0 (taken as 1): each gets
 * its own verdict in order, and every one is asked exactly once.
 */
static void
test_many(void)
{
	static const char *const paths[] = { "/ok", "/nothing", "/chain/1",
		                             "/nohead" };
	static const enum probe_verdict want[] = { PROBE_FINE, PROBE_DEAD,
		                                   PROBE_REDIRECTED,
		                                   PROBE_FINE };
	struct probe_opts o = { NULL, 3, 3, 0, 0, 5 };
	struct probe_target t[4];
	char urls[4][64], line[80];
	size_t i;

	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++) {
		expand(urls[i], sizeof(urls[i]), paths[i]);
		t[i].url = urls[i];
	}
	require_true(__LINE__, "truncate the log",
	             unit_write_file(reqlog, "") == 0);
	expect_int(__LINE__, "4 targets, one slot", SH_OK, probe_run(&o, t, 4));
	for (i = 0; i < 4; i++) {
		expect_str(__LINE__, paths[i], probe_verdict_name(want[i]),
		           probe_verdict_name(t[i].verdict));
		snprintf(line, sizeof(line), "HEAD %s", paths[i]);
		expect_int(__LINE__, paths[i], 1, logged(line));
	}
	expect_int(__LINE__, "the GET after the 405, once", 1,
	           logged("GET /nohead"));
	probe_targets_free(t, 4);
	expect_int(__LINE__, "no target: nothing to do", SH_OK,
	           probe_run(&o, t, 0));
}

static void
test_names(void)
{
	expect_str(__LINE__, "fine", "fine", probe_verdict_name(PROBE_FINE));
	expect_str(__LINE__, "redirected", "redirected",
	           probe_verdict_name(PROBE_REDIRECTED));
	expect_str(__LINE__, "dead", "dead", probe_verdict_name(PROBE_DEAD));
	expect_str(__LINE__, "pending", "pending",
	           probe_verdict_name(PROBE_PENDING));
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_rows),
	UNIT_TEST(test_many),
	UNIT_TEST(test_names),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "probe", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
