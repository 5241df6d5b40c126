/*
 * test_check_probe.c - check_probe(), `sherve check --probe`, against a
 * real local HTTP server (httpd.h): which rules of a map are probed
 * (not a 410 without a page, not a pattern whose target takes a
 * placeholder; a prefix rule with an empty splat), how targets are
 * grouped (one per URL, in the order of the file, its rules listed, at
 * most 3 named in text), a relative target skipped outside an @host
 * section and probed on https://NAME inside one, the text and JSON
 * reports byte for byte, skipped lines on stderr, the number of dead
 * targets returned, and an unwritable stdout.
 *
 * probe_run()'s own verdicts are test_probe.c's; the caps over a whole
 * run are measured by tests/integration/probe.sh.
 */
#include "unit.h"

#include <fcntl.h>

#include "check_probe.h"
#include "conf.h"
#include "fetch.h"
#include "httpd.h"
#include "util.h"

static char dir[] = "/tmp/sherve-check-probe.XXXXXX";
static char state[64];
static char base[32];
static pid_t http_pid = -1;
static struct conf conf;
static int conf_ok;

static void
route(int fd, const char *req, const char *method, const char *path)
{
	(void)req;
	if (strcmp(path, "/ok") == 0 || strcmp(path, "/docs/") == 0 ||
	    strcmp(path, "/many") == 0 || strcmp(path, "/caf%C3%A9") == 0)
		httpd_respond(fd, "200 OK", "", 0);
	else if (strcmp(path, "/nohead") == 0)
		httpd_respond(fd,
		              strcmp(method, "HEAD") == 0
		                      ? "405 Method Not Allowed"
		                      : "200 OK",
		              "", 0);
	else if (strcmp(path, "/chain/1") == 0)
		httpd_respond(fd, "302 Found\r\nLocation: /chain/0", "", 0);
	else if (strcmp(path, "/chain/0") == 0)
		httpd_respond(fd, "200 OK", "", 0);
	else
		httpd_respond(fd, "404 Not Found", "", 0);
}

/* The settings of `sherve --allow-relative-targets yes check --probe`. */
static int
load(void)
{
	char err[256];
	char *argv[] = { "sherve",    "--config",
		         "/dev/null", "--state-dir",
		         state,       "--fetch-timeout",
		         "3",         "--connect-timeout",
		         "3",         "--allow-relative-targets",
		         "yes",       "check",
		         NULL };

	if (conf_load(&conf, (int)NELEM(argv) - 1, argv, err, sizeof(err)) !=
	    SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	conf_ok = 1;
	return 0;
}

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/state", dir);
	if (mkdir(state, 0700) != 0 || load() != 0 ||
	    (http_pid = httpd_start(route, base, sizeof(base))) < 0)
		return -1;
	return fetch_global_init() == SH_OK ? 0 : -1;
}

static int
suite_cleanup(void)
{
	httpd_stop(http_pid);
	if (conf_ok)
		conf_free(&conf);
	return unit_rmtree(dir);
}

/* -------------------------------------------------- running it */

struct call {
	const char *source;
	char map[2048];
	int json;
};

/* Copy text into out with every "%B" replaced by the base URL. */
static void
with_base(char *out, size_t outsz, const char *text)
{
	size_t o = 0;

	for (; *text != '\0' && o + sizeof(base) + 1 < outsz; text++) {
		if (*text == '%' && text[1] == 'B') {
			o += (size_t)snprintf(out + o, outsz - o, "%s", base);
			text++;
		} else {
			out[o++] = *text;
		}
	}
	out[o] = '\0';
}

static int
call_probe(void *ctx)
{
	const struct call *c = ctx;

	return check_probe(&conf, c->source, c->map, strlen(c->map), c->json);
}

/*
 * check_probe() of map (%B standing for the server's base URL) named
 * source; its stdout into *out (malloc'd, NULL if the capture failed),
 * its stderr into err (errsz bytes). Returns its value, or -2 when
 * stderr could not be captured.
 */
static int
run(const char *source, const char *map, int json, char **out, char *err,
    size_t errsz)
{
	static struct call c;
	FILE *tmp = tmpfile();
	int saved = -1, rc = -2;
	size_t n;

	*out = NULL;
	err[0] = '\0';
	c.source = source;
	c.json = json;
	with_base(c.map, sizeof(c.map), map);
	fflush(stderr);
	if (tmp == NULL || (saved = dup(2)) < 0 || dup2(fileno(tmp), 2) < 0)
		goto out;
	rc = unit_capture(call_probe, &c, out);
	fflush(stderr);
	dup2(saved, 2);
	rewind(tmp);
	n = fread(err, 1, errsz - 1, tmp);
	err[n] = '\0';
out:
	if (saved >= 0)
		close(saved);
	if (tmp != NULL)
		fclose(tmp);
	return rc;
}

/* -------------------------------------------------- the cases */

/* A target of two rules, a dead one, a redirect, a GET after a 405, a
 * prefix rule, a gone rule, a relative target, five rules of one. */
static const char map_text[] = "# rules probed\n"
                               "live   %B/ok\n"
                               "gone   %B/nothing\n"
                               "also   %B/ok\n"
                               "chain  %B/chain/1\n"
                               "nohead %B/nohead\n"
                               "docs/* %B/docs/:splat\n"
                               "old    410\n"
                               "here   /local/page\n"
                               "a1     %B/many\n"
                               "a2     %B/many\n"
                               "a3     %B/many\n"
                               "a4     %B/many\n"
                               "a5     %B/many\n";

static const char want_text[] =
        "fine       200 %B/ok  <- live (line 2), also (line 4)\n"
        "dead       404 %B/nothing  <- gone (line 3)\n"
        "redirected 200 %B/chain/1 -> %B/chain/0 (1 redirect)  <- chain "
        "(line 5)\n"
        "fine       200 %B/nohead (GET: HEAD refused)  <- nohead (line 6)\n"
        "fine       200 %B/docs/  <- docs/* (line 7)\n"
        "skipped      - /local/page (relative target outside any @host "
        "section: no host to probe it on)  <- here (line 9)\n"
        "fine       200 %B/many  <- a1 (line 10), a2 (line 11), a3 (line "
        "12), +2 more\n"
        "map.txt: 7 targets of 12 rules: 4 fine, 1 redirected, 1 dead, 1 "
        "skipped\n";

static void
test_text(void)
{
	char want[2048], err[1024], *out = NULL;

	with_base(want, sizeof(want), want_text);
	expect_int(__LINE__, "one target is dead", 1,
	           run("map.txt", map_text, 0, &out, err, sizeof(err)));
	expect_str(__LINE__, "the text report", want, out);
	expect_str(__LINE__, "nothing on stderr", "", err);
	free(out);
}

/* JSON, byte for byte: escaping, nulls, a skipped line on stderr. */
static void
test_json(void)
{
	static const char map[] = "say\\\"hi %B/ok\n"
	                          "this line is not a rule\n"
	                          "gone %B/caf\xc3\xa9x\n"
	                          "cafe %B/caf\xc3\xa9\n"
	                          "here /local\n";
	static const char want_json[] =
	        "{\"source\":\"m \\\"1\\\".txt\",\"rules\":4,\"targets\":["
	        "{\"url\":\"%B/ok\",\"result\":\"fine\",\"status\":200,"
	        "\"final_url\":\"%B/ok\",\"redirects\":0,\"method\":\"HEAD\","
	        "\"detail\":null,\"rules\":[{\"alias\":\"say\\\\\\\"hi\","
	        "\"line\":1,\"host\":null}]},"
	        "{\"url\":\"%B/caf%C3%A9x\",\"result\":\"dead\",\"status\":404,"
	        "\"final_url\":\"%B/caf%C3%A9x\",\"redirects\":0,\"method\":"
	        "\"HEAD\",\"detail\":null,\"rules\":[{\"alias\":\"gone\","
	        "\"line\":3,\"host\":null}]},"
	        "{\"url\":\"%B/caf%C3%A9\",\"result\":\"fine\",\"status\":200,"
	        "\"final_url\":\"%B/caf%C3%A9\",\"redirects\":0,\"method\":"
	        "\"HEAD\",\"detail\":null,\"rules\":[{\"alias\":\"cafe\","
	        "\"line\":4,\"host\":null}]},"
	        "{\"url\":\"/local\",\"result\":\"skipped\",\"status\":null,"
	        "\"final_url\":null,\"redirects\":0,\"method\":null,\"detail\":"
	        "\"relative target outside any @host section: no host to "
	        "probe it on\",\"rules\":[{\"alias\":\"here\",\"line\":5,"
	        "\"host\":null}]}],"
	        "\"counts\":{\"fine\":2,\"redirected\":0,\"dead\":1,"
	        "\"skipped\":1}}\n";
	char want[4096], err[1024], *out = NULL;

	with_base(want, sizeof(want), want_json);
	expect_int(__LINE__, "one dead", 1,
	           run("m \"1\".txt", map, 1, &out, err, sizeof(err)));
	expect_str(__LINE__, "the JSON report", want, out);
	expect_has(__LINE__, "the skipped line, with its number", err,
	           "m \"1\".txt:2: ");
	free(out);
}

/*
 * A _redirects file: a rule whose target takes a placeholder is not
 * probed (no one URL), one whose target does not take it is; a 404
 * whose page is a relative target is skipped like any relative target.
 */
static void
test_redirects_format(void)
{
	static const char map[] = "/blog/:year/:slug %B/posts/:slug\n"
	                          "/about/:lang      %B/ok 301\n"
	                          "/old              /gone 404\n"
	                          "/x/*              %B/docs/:splat\n";
	char want[512], err[1024], *out = NULL;

	with_base(want, sizeof(want),
	          "fine       200 %B/ok  <- about/:lang (line 2)\n"
	          "skipped      - /gone (relative target outside any @host "
	          "section: no host to probe it on)  <- old (line 3)\n"
	          "fine       200 %B/docs/  <- x/* (line 4)\n"
	          "_redirects: 3 targets of 3 rules: 2 fine, 0 redirected, 0 "
	          "dead, 1 skipped\n");
	expect_int(__LINE__, "no dead target", 0,
	           run("_redirects", map, 0, &out, err, sizeof(err)));
	expect_str(__LINE__, "the report, without /posts/", want, out);
	free(out);
}

/* A relative target in an @host section is probed on https://NAME. */
static void
test_host_section(void)
{
	static const char map[] = "@host localhost\n"
	                          "there /elsewhere\n";
	char err[1024], *out = NULL;

	(void)run("map.txt", map, 1, &out, err, sizeof(err));
	expect_has(__LINE__, "the URL of the site", out,
	           "{\"url\":\"https://localhost/elsewhere\",\"result\":\"");
	expect_lacks(__LINE__, "not skipped", out, "\"skipped\",");
	expect_has(__LINE__, "its rule names its host", out,
	           "\"rules\":[{\"alias\":\"there\",\"line\":2,"
	           "\"host\":\"localhost\"}]");
	free(out);
}

/* Nothing to probe: a report of nothing, and 0. */
static void
test_empty(void)
{
	char err[1024], *out = NULL;

	expect_int(__LINE__, "an empty map", 0,
	           run("map.txt", "# nothing\n", 0, &out, err, sizeof(err)));
	expect_str(__LINE__, "an empty report",
	           "map.txt: 0 targets of 0 rules: 0 fine, 0 redirected, 0 "
	           "dead, 0 skipped\n",
	           out);
	free(out);
}

/* A report that cannot be written is an error, not a count of 0. */
static void
test_stdout_full(void)
{
	int full = open("/dev/full", O_WRONLY), out = dup(1), err = dup(2);
	FILE *tmp = tmpfile();
	char msg[512];
	size_t n = 0;
	int rc = -2;

	fflush(stdout);
	fflush(stderr);
	if (full >= 0 && out >= 0 && err >= 0 && tmp != NULL &&
	    dup2(full, 1) >= 0 && dup2(fileno(tmp), 2) >= 0) {
		rc = check_probe(&conf, "map.txt", "a /x\n", 5, 0);
		fflush(stderr);
		clearerr(stdout);
		rewind(tmp);
		n = fread(msg, 1, sizeof(msg) - 1, tmp);
	}
	msg[n] = '\0';
	if (out >= 0)
		dup2(out, 1);
	if (err >= 0)
		dup2(err, 2);
	if (full >= 0)
		close(full);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	if (tmp != NULL)
		fclose(tmp);
	expect_int(__LINE__, "stdout on /dev/full: -1", -1, rc);
	expect_has(__LINE__, "... said on stderr", msg,
	           "sherve: check --probe: ");
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_text),
	UNIT_TEST(test_json),
	UNIT_TEST(test_redirects_format),
	UNIT_TEST(test_host_section),
	UNIT_TEST(test_empty),
	UNIT_TEST(test_stdout_full),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "check_probe", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
