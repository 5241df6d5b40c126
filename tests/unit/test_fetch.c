/*
 * test_fetch.c - fetch_url() against real local servers: a tiny HTTP
 * server in a child process (httpd.h) and `openssl s_server` with a
 * self-signed certificate for TLS. Covers 200 with validators, conditional GET
 * (304 on ETag and on Last-Modified), the redirect limit, validators forgotten
 * across a redirect, redirects and URLs to refused protocols, max-body
 * (declared and streamed), gzip, the timeout, HTTP errors with Retry-After,
 * control characters in validators, cachebust, file://, and TLS verification
 * (unknown CA refused, the right CA accepted, a host name the certificate does
 * not name refused).
 */
#include "unit.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "httpd.h"
#include "util.h"

static char dir[] = "/tmp/sherve-fetch.XXXXXX";
static char base[64];    /* http://127.0.0.1:PORT */
static char tlsbase[64]; /* https://127.0.0.1:PORT */
static char tlsport[16];
static pid_t http_pid = -1, tls_pid = -1;

/* -------------------------------------------------- the HTTP server */

static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x4b\x54"
                         "\xc8\x28\x29\x29\x28\xb6\xd2\xd7\x4f\xad\x48\xcc"
                         "\x2d\xc8\x49\xd5\x4b\xce\xcf\xd5\x4f\xaf\xe2\x02"
                         "\x00\x03\xcd\x0e\x97\x19\x00\x00\x00";

#define MAP_BODY "a https://example.com/a\n"
#define LM       "Tue, 01 Dec 2026 00:00:00 GMT"

/* /hop/N answers 302 to /hop/N-1 (with an ETag of its own); /hop/0 200. */
static void
hop(int fd, const char *path)
{
	char h[128];
	long n = strtol(path + 5, NULL, 10); /* test input, not outside */

	if (n <= 0) {
		httpd_respond(fd, "200 OK", MAP_BODY, strlen(MAP_BODY));
		return;
	}
	snprintf(h, sizeof(h),
	         "302 Found\r\nETag: \"hop\"\r\nLocation: /hop/%ld", n - 1);
	httpd_respond(fd, h, "", 0);
}

static void
route(int fd, const char *req, const char *method, const char *path)
{
	static char big[5000];

	(void)method;

	if (strcmp(path, "/ok") == 0)
		httpd_respond(fd,
		              "200 OK\r\nETag: \"v1\"\r\nLast-Modified: " LM,
		              MAP_BODY, strlen(MAP_BODY));
	else if (strcmp(path, "/cond") == 0)
		httpd_respond(fd,
		              strstr(req, "If-None-Match: \"v1\"\r\n") != NULL
		                      ? "304 Not Modified\r\nETag: \"v1\""
		                      : "200 OK\r\nETag: \"v1\"",
		              "", 0);
	else if (strcmp(path, "/lm") == 0)
		httpd_respond(fd,
		              strstr(req, "If-Modified-Since: " LM "\r\n") !=
		                              NULL
		                      ? "304 Not Modified"
		                      : "200 OK\r\nLast-Modified: " LM,
		              "", 0);
	else if (strncmp(path, "/hop/", 5) == 0)
		hop(fd, path);
	else if (strcmp(path, "/toftp") == 0)
		httpd_respond(fd, "302 Found\r\nLocation: ftp://127.0.0.1:1/x",
		              "", 0);
	else if (strcmp(path, "/big") == 0) {
		memset(big, 'x', sizeof(big));
		httpd_respond(fd, "200 OK", big, sizeof(big));
	} else if (strcmp(path, "/bigstream") == 0) {
		/* No Content-Length: only the body callback can stop it. */
		memset(big, 'x', sizeof(big));
		httpd_put(fd, "HTTP/1.0 200 OK\r\n\r\n", 19);
		httpd_put(fd, big, sizeof(big));
	} else if (strcmp(path, "/gzip") == 0)
		httpd_respond(fd, "200 OK\r\nContent-Encoding: gzip", gz,
		              sizeof(gz) - 1);
	else if (strcmp(path, "/slow") == 0) {
		/* 4 s, or until the client gives up and closes. */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 4000) != 0)
			_exit(0);
		httpd_respond(fd, "200 OK", MAP_BODY, strlen(MAP_BODY));
	} else if (strcmp(path, "/busy") == 0)
		httpd_respond(fd, "429 Too Many Requests\r\nRetry-After: 120",
		              "", 0);
	else if (strcmp(path, "/down") == 0)
		httpd_respond(fd, "500 Internal Server Error", "", 0);
	else if (strcmp(path, "/ctl") == 0)
		httpd_respond(fd, "200 OK\r\nETag: \"a\x01z\"", MAP_BODY,
		              strlen(MAP_BODY));
	else if (strncmp(path, "/echo", 5) == 0)
		httpd_respond(fd, "200 OK", req, strlen(req));
	else
		httpd_respond(fd, "404 Not Found", "", 0);
}

/* -------------------------------------------------- the TLS server */

/* Run argv with stdout to out (or /dev/null), in dir; its pid or -1. */
static pid_t
spawn(char *const argv[], const char *out)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	fd = open(out != NULL ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC,
	          0600);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || chdir(dir) != 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

static int
run(char *const argv[])
{
	int st = 0;
	pid_t pid = spawn(argv, NULL);

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Wait (10 s at most) for s_server's "ACCEPT 127.0.0.1:PORT" line. */
static int
tls_port(const char *log)
{
	char line[256];
	int i;

	for (i = 0; i < 200; i++) {
		FILE *f = fopen(log, "r");
		int found = 0;

		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			found |= sscanf(line, "ACCEPT 127.0.0.1:%15[0-9]",
			                tlsport) == 1;
		if (f != NULL)
			fclose(f);
		if (found)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int
tls_start(void)
{
	char *req[] = { "openssl",
		        "req",
		        "-x509",
		        "-newkey",
		        "ec",
		        "-pkeyopt",
		        "ec_paramgen_curve:prime256v1",
		        "-nodes",
		        "-subj",
		        "/CN=127.0.0.1",
		        "-addext",
		        "subjectAltName=IP:127.0.0.1",
		        "-days",
		        "2",
		        "-keyout",
		        "key.pem",
		        "-out",
		        "cert.pem",
		        NULL };
	char *srv[] = { "openssl", "s_server", "-accept", "127.0.0.1:0",
		        "-cert",   "cert.pem", "-key",    "key.pem",
		        "-WWW",    NULL };
	char log[96];
	FILE *f;

	if (run(req) != 0)
		return -1;
	snprintf(log, sizeof(log), "%s/s_server.log", dir);
	if ((tls_pid = spawn(srv, log)) < 0 || tls_port(log) != 0)
		return -1;
	snprintf(tlsbase, sizeof(tlsbase), "https://127.0.0.1:%s", tlsport);
	snprintf(log, sizeof(log), "%s/file.txt", dir);
	if ((f = fopen(log, "w")) == NULL)
		return -1;
	fputs(MAP_BODY, f);
	return fclose(f);
}

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL ||
	    (http_pid = httpd_start(route, base, sizeof(base))) < 0 ||
	    tls_start() != 0)
		return -1;
	return fetch_global_init() == SH_OK ? 0 : -1;
}

static int
suite_cleanup(void)
{
	httpd_stop(http_pid);
	httpd_stop(tls_pid);
	return unit_rmtree(dir);
}

/* -------------------------------------------------- the cases */

struct row {
	unsigned line;
	const char *desc;
	const char *url; /* after base (or tlsbase when it starts with "s") */
	const char *etag, *lm, *ca;
	uint64_t max_body;
	long timeout;
	int cachebust;
	int rc;
	long status;      /* when rc is SH_OK, SH_EUNCHANGED or an HTTP error */
	const char *body; /* when rc is SH_OK */
	const char *want_etag, *want_lm;
	const char *err; /* a substring of r.err when rc is not SH_OK */
	long retry_after;
};

static void
run_row(const struct row *t)
{
	char url[512], ca[96];
	struct fetch_opts o = { 0 };
	struct fetch_result r;
	int rc;

	if (strncmp(t->url, "tls:", 4) == 0)
		snprintf(url, sizeof(url), "%s%s", tlsbase, t->url + 4);
	else if (strncmp(t->url, "tlsname:", 8) == 0)
		snprintf(url, sizeof(url), "https://localhost:%s%s", tlsport,
		         t->url + 8);
	else if (t->url[0] == '/')
		snprintf(url, sizeof(url), "%s%s", base, t->url);
	else if (strncmp(t->url, "file:", 5) == 0)
		snprintf(url, sizeof(url), "file://%s%s", dir, t->url + 5);
	else
		snprintf(url, sizeof(url), "%s", t->url);
	if (t->ca != NULL)
		snprintf(ca, sizeof(ca), "%s/%s", dir, t->ca);
	o.url = url;
	o.ca_bundle = t->ca != NULL ? ca : NULL;
	o.etag = t->etag;
	o.last_modified = t->lm;
	o.connect_timeout = 5;
	o.timeout = t->timeout != 0 ? t->timeout : 10;
	o.max_body = t->max_body != 0 ? t->max_body : 1 << 20;
	o.cachebust = t->cachebust;
	rc = fetch_url(&o, &r);
	expect_int(t->line, t->desc, t->rc, rc);
	if (t->status != 0)
		expect_int(t->line, t->desc, t->status, r.status);
	if (t->rc == SH_OK && t->body != NULL)
		expect_str(t->line, t->desc, t->body, r.body);
	else if (t->rc == SH_OK)
		expect_true(t->line, t->desc, r.body != NULL);
	else
		expect_true(t->line, t->desc, r.body == NULL);
	if (t->want_etag != NULL)
		expect_str(t->line, t->desc, t->want_etag, r.etag);
	if (t->want_lm != NULL)
		expect_str(t->line, t->desc, t->want_lm, r.last_modified);
	if (t->err != NULL)
		expect_has(t->line, t->desc, r.err, t->err);
	if (t->rc == SH_OK)
		expect_str(t->line, t->desc, "", r.err);
	expect_int(t->line, t->desc, t->retry_after, r.retry_after);
	fetch_result_free(&r);
	expect_true(t->line, "fetch_result_free clears the body",
	            r.body == NULL && r.len == 0);
}

/* clang-format off */
static const struct row http_rows[] = {
	{ __LINE__, "200 with both validators", "/ok", NULL, NULL, NULL, 0, 0,
	  0, SH_OK, 200, MAP_BODY, "\"v1\"", LM, NULL, -1 },
	{ __LINE__, "a body of exactly max-body bytes is taken", "/ok", NULL,
	  NULL, NULL, sizeof(MAP_BODY) - 1, 0, 0, SH_OK, 200, MAP_BODY, NULL,
	  NULL, NULL, -1 },
	{ __LINE__, "If-None-Match matching: 304", "/cond", "\"v1\"", NULL,
	  NULL, 0, 0, 0, SH_EUNCHANGED, 304, NULL, "\"v1\"", NULL, NULL, -1 },
	{ __LINE__, "If-None-Match not matching: 200", "/cond", "\"v0\"",
	  NULL, NULL, 0, 0, 0, SH_OK, 200, "", "\"v1\"", NULL, NULL, -1 },
	{ __LINE__, "If-Modified-Since matching: 304", "/lm", NULL, LM, NULL,
	  0, 0, 0, SH_EUNCHANGED, 304, NULL, "", NULL, NULL, -1 },
	{ __LINE__, "no validator sent: 200 with Last-Modified", "/lm", NULL,
	  NULL, NULL, 0, 0, 0, SH_OK, 200, "", "", LM, NULL, -1 },
	{ __LINE__, "5 redirects are followed; the 302s' ETag is forgotten",
	  "/hop/5", NULL, NULL, NULL, 0, 0, 0, SH_OK, 200, MAP_BODY, "", "",
	  NULL, -1 },
	{ __LINE__, "a 6th redirect is refused", "/hop/6", NULL, NULL, NULL,
	  0, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL, "redirects hit maximum",
	  -1 },
	{ __LINE__, "a redirect to ftp:// is refused", "/toftp", NULL, NULL,
	  NULL, 0, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL, "Unsupported protocol",
	  -1 },
	{ __LINE__, "Content-Length over max-body", "/big", NULL, NULL, NULL,
	  4096, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL,
	  "body larger than max-body", -1 },
	{ __LINE__, "a streamed body over max-body", "/bigstream", NULL, NULL,
	  NULL, 4096, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL,
	  "body larger than max-body", -1 },
	{ __LINE__, "the same bodies under max-body", "/bigstream", NULL,
	  NULL, NULL, 5000, 0, 0, SH_OK, 200, NULL, NULL, NULL, NULL, -1 },
	{ __LINE__, "a gzip body arrives decoded", "/gzip", NULL, NULL, NULL,
	  0, 0, 0, SH_OK, 200, "a https://example.com/gz\n", NULL, NULL,
	  NULL, -1 },
	{ __LINE__, "a server slower than the timeout", "/slow", NULL, NULL,
	  NULL, 0, 1, 0, SH_EFETCH, 0, NULL, NULL, NULL, "Timeout", -1 },
	{ __LINE__, "429 with Retry-After", "/busy", NULL, NULL, NULL, 0, 0,
	  0, SH_EFETCH, 429, NULL, NULL, NULL, "HTTP status 429", 120 },
	{ __LINE__, "500", "/down", NULL, NULL, NULL, 0, 0, 0, SH_EFETCH, 500,
	  NULL, NULL, NULL, "HTTP status 500", -1 },
	{ __LINE__, "404", "/nothing", NULL, NULL, NULL, 0, 0, 0, SH_EFETCH,
	  404, NULL, NULL, NULL, "HTTP status 404", -1 },
	{ __LINE__, "an ETag with a control character is not kept", "/ctl",
	  NULL, NULL, NULL, 0, 0, 0, SH_OK, 200, MAP_BODY, "", NULL, NULL,
	  -1 },
	{ __LINE__, "file:// gives 200 and the file", "file:/file.txt", NULL,
	  NULL, NULL, 0, 0, 1, SH_OK, 200, MAP_BODY, NULL, NULL, NULL, -1 },
	{ __LINE__, "a missing file", "file:/nofile", NULL, NULL, NULL, 0, 0,
	  0, SH_EFETCH, 0, NULL, NULL, NULL, "file", -1 },
	{ __LINE__, "ftp:// is refused before any transfer",
	  "ftp://127.0.0.1/x", NULL, NULL, NULL, 0, 0, 0, SH_EINVAL, 0, NULL,
	  NULL, NULL, "not an http, https or file URL", -1 },
	{ __LINE__, "gopher:// is refused before any transfer",
	  "gopher://127.0.0.1/x", NULL, NULL, NULL, 0, 0, 0, SH_EINVAL, 0,
	  NULL, NULL, NULL, "not an http, https or file URL", -1 },
	{ __LINE__, "nothing listening", "http://127.0.0.1:1/", NULL, NULL,
	  NULL, 0, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL, "connect", -1 },
};

static const struct row tls_rows[] = {
	{ __LINE__, "a self-signed certificate is refused", "tls:/file.txt",
	  NULL, NULL, NULL, 0, 0, 0, SH_EFETCH, 0, NULL, NULL, NULL,
	  "certificate", -1 },
	{ __LINE__, "... and taken with it as ca-bundle", "tls:/file.txt",
	  NULL, NULL, "cert.pem", 0, 0, 0, SH_OK, 200, MAP_BODY, NULL, NULL,
	  NULL, -1 },
	{ __LINE__, "a name the certificate does not hold is refused",
	  "tlsname:/file.txt", NULL, NULL, "cert.pem", 0, 0, 0, SH_EFETCH, 0,
	  NULL, NULL, NULL, "certificate", -1 },
};
/* clang-format on */

static void
test_http(void)
{
	size_t i;

	for (i = 0; i < NELEM(http_rows); i++)
		run_row(&http_rows[i]);
}

static void
test_tls(void)
{
	size_t i;

	for (i = 0; i < NELEM(tls_rows); i++)
		run_row(&tls_rows[i]);
}

/* What goes out on the wire: validators, User-Agent, encodings, bust. */
static void
test_request(void)
{
	static const struct {
		unsigned line;
		const char *desc, *path;
		int bust;
		const char *has, *lacks;
	} rows[] = {
		{ __LINE__, "If-None-Match sent", "/echo", 0,
		  "If-None-Match: \"e\"\r\n", NULL },
		{ __LINE__, "If-Modified-Since sent", "/echo", 0,
		  "If-Modified-Since: " LM "\r\n", NULL },
		{ __LINE__, "User-Agent", "/echo", 0,
		  "User-Agent: sherve/" PACKAGE_VERSION "\r\n", NULL },
		{ __LINE__, "gzip accepted", "/echo", 0,
		  "Accept-Encoding: ", NULL },
		{ __LINE__, "cachebust starts a query", "/echo", 1,
		  "GET /echo?cachebust=", NULL },
		{ __LINE__, "cachebust joins a query", "/echo?x=1", 1,
		  "GET /echo?x=1&cachebust=", NULL },
		{ __LINE__, "cachebust goes before the fragment", "/echo#f", 1,
		  "GET /echo?cachebust=", "#" },
		{ __LINE__, "no cachebust unless asked", "/echo", 0,
		  "GET /echo ", "cachebust" },
	};
	char url[256];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		struct fetch_opts o = { 0 };
		struct fetch_result r;

		snprintf(url, sizeof(url), "%s%s", base, rows[i].path);
		o.url = url;
		o.etag = "\"e\"";
		o.last_modified = LM;
		o.connect_timeout = 5;
		o.timeout = 10;
		o.max_body = 1 << 16;
		o.cachebust = rows[i].bust;
		expect_int(rows[i].line, rows[i].desc, SH_OK,
		           fetch_url(&o, &r));
		expect_has(rows[i].line, rows[i].desc, r.body, rows[i].has);
		if (rows[i].lacks != NULL)
			expect_lacks(rows[i].line, rows[i].desc, r.body,
			             rows[i].lacks);
		fetch_result_free(&r);
	}
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_http),
	UNIT_TEST(test_request),
	UNIT_TEST(test_tls),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "fetch", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
