/*
 * test_conf.c - settings: defaults, file < environment < options, errors.
 *
 * Every conf_load() here names its config file (--config), so neither a
 * sherve.conf beside the test binary nor one in SYSCONFDIR is read, and
 * SHERVE_* variables of the caller are cleared first.
 */
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
/* Before conf.h (and so log.h): log.h's level names must not collide
 * with syslog's LOG_* macros, or this file stops compiling. */
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

extern char **environ;

static char tmpdir[] = "/tmp/sherve-conf.XXXXXX";
static char cfg[256];     /* the config file the tests write */
static char cfg2[256];    /* a second one */
static char regular[256]; /* a regular file, not a directory */

/* Unset every SHERVE_* variable so the caller's setup cannot leak in. */
static void
clear_env(void)
{
	char name[256];
	size_t i;

	for (i = 0; environ[i] != NULL;) {
		const char *eq = strchr(environ[i], '=');
		size_t n = eq != NULL ? (size_t)(eq - environ[i])
		                      : strlen(environ[i]);

		if (strncmp(environ[i], "SHERVE_", 7) == 0 &&
		    n < sizeof(name)) {
			memcpy(name, environ[i], n);
			name[n] = '\0';
			unsetenv(name);
			i = 0; /* environ changed under us */
			continue;
		}
		i++;
	}
}

static int
suite_init(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cfg, sizeof(cfg), "%s/sherve.conf", tmpdir);
	snprintf(cfg2, sizeof(cfg2), "%s/other.conf", tmpdir);
	snprintf(regular, sizeof(regular), "%s/regular", tmpdir);
	clear_env();
	return unit_write_file(regular, "x\n");
}

static int
suite_cleanup(void)
{
	unlink(cfg);
	unlink(cfg2);
	unlink(regular);
	return rmdir(tmpdir);
}

#define MAXARGS 16

/*
 * conf_load with argv {"test", "--config", FILE, args...}; FILE is cfg
 * holding text, or /dev/null when text is NULL. "@DIR" and "@FILE" in
 * args become the temporary directory and a regular file.
 */
static int
load(struct conf *c, const char *text, const char *const *args, char *err,
     size_t errsz)
{
	char *argv[MAXARGS + 4];
	int argc = 0;
	size_t i;

	argv[argc++] = (char *)"test";
	argv[argc++] = (char *)"--config";
	if (text != NULL) {
		if (unit_write_file(cfg, text) != 0)
			return -1;
		argv[argc++] = cfg;
	} else {
		argv[argc++] = (char *)"/dev/null";
	}
	for (i = 0; args != NULL && args[i] != NULL && i < MAXARGS; i++) {
		if (strcmp(args[i], "@DIR") == 0)
			argv[argc++] = tmpdir;
		else if (strcmp(args[i], "@FILE") == 0)
			argv[argc++] = regular;
		else
			argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	return conf_load(c, argc, argv, err, errsz);
}

static void
test_defaults(void)
{
	struct conf c;
	char err[256];
	int rc = load(&c, NULL, NULL, err, sizeof(err));

	require_true(__LINE__, err, rc == SH_OK);
	expect_str(__LINE__, "/dev/null is an empty config", "/dev/null",
	           c.config_file);
	expect_int(__LINE__, "redirect_status", 301, c.redirect_status);
	expect_str(__LINE__, "cache_control",
	           "public, max-age=31536000, must-revalidate",
	           c.cache_control);
	expect_str(__LINE__, "redirect_cache_control", "public, max-age=3600",
	           c.redirect_cache_control);
	expect_str(__LINE__, "base_path", "", c.base_path);
	expect_int(__LINE__, "log_level", SH_LOG_INFO, c.log_level);
	expect_u64(__LINE__, "refresh_interval", 300, c.refresh_interval);
	expect_u64(__LINE__, "miss_refresh_interval", 30,
	           c.miss_refresh_interval);
	expect_u64(__LINE__, "max_shrink", 50, c.max_shrink);
	expect_u64(__LINE__, "max_body", 8388608, c.max_body);
	expect_u64(__LINE__, "fetch_timeout", 10, c.fetch_timeout);
	expect_u64(__LINE__, "connect_timeout", 10, c.connect_timeout);
	expect_u64(__LINE__, "workers", 0, c.workers);
	expect_u64(__LINE__, "shutdown_grace", 10, c.shutdown_grace);
	expect_int(__LINE__, "etag_inode", 0, c.etag_inode);
	expect_int(__LINE__, "cachebust", CACHEBUST_MISS, c.cachebust);
	expect_int(__LINE__, "precompressed", 1, c.precompressed);
	expect_int(__LINE__, "sendfile_mode", SENDFILE_NONE, c.sendfile_mode);
	expect_str(__LINE__, "sendfile_prefix", "/.sherve-files",
	           c.sendfile_prefix);
	expect_str(__LINE__, "webroot", "", c.webroot);
	expect_str(__LINE__, "redirects_url", "", c.redirects_url);
	expect_str(__LINE__, "state_dir", LOCALSTATEDIR "/lib/sherve",
	           c.state_dir);
	expect_str(__LINE__, "ca_bundle", "", c.ca_bundle);
	expect_str(__LINE__, "metrics_path", "", c.metrics_path);
	expect_str(__LINE__, "listen", "", c.listen);
	expect_str(__LINE__, "user", "", c.user);
	expect_int(__LINE__, "help", 0, c.help);
	expect_int(__LINE__, "version", 0, c.version);
	expect_int(__LINE__, "force", 0, c.force);
	expect_int(__LINE__, "nargs", 0, c.nargs);
	expect_str(__LINE__, "no error text", "", err);
	conf_free(&c);
	expect_true(__LINE__, "conf_free clears",
	            c.webroot == NULL && c.config_file == NULL);
	conf_free(&c); /* twice is safe */
}

/* Render the setting name of c as text, for table comparisons. */
static void
render(const struct conf *c, const char *name, char *buf, size_t n)
{
	static const char *const levels[] = { "debug", "info", "warn",
		                              "error" };

	if (strcmp(name, "redirect-status") == 0)
		snprintf(buf, n, "%u", c->redirect_status);
	else if (strcmp(name, "refresh-interval") == 0)
		snprintf(buf, n, "%" PRIu64, c->refresh_interval);
	else if (strcmp(name, "miss-refresh-interval") == 0)
		snprintf(buf, n, "%" PRIu64, c->miss_refresh_interval);
	else if (strcmp(name, "max-shrink") == 0)
		snprintf(buf, n, "%" PRIu64, c->max_shrink);
	else if (strcmp(name, "cache-control") == 0)
		snprintf(buf, n, "%s", c->cache_control);
	else if (strcmp(name, "redirects-url") == 0)
		snprintf(buf, n, "%s", c->redirects_url);
	else if (strcmp(name, "base-path") == 0)
		snprintf(buf, n, "%s", c->base_path);
	else if (strcmp(name, "sendfile-prefix") == 0)
		snprintf(buf, n, "%s", c->sendfile_prefix);
	else if (strcmp(name, "log-level") == 0)
		snprintf(buf, n, "%s", levels[c->log_level]);
	else
		snprintf(buf, n, "?");
}

struct prec_row {
	unsigned line;
	const char *name, *env;
	const char *def, *file, *envval, *opt;
};

static const struct prec_row prec_rows[] = {
	{ __LINE__, "redirect-status", "SHERVE_REDIRECT_STATUS", "301", "302",
	  "303", "307" },
	{ __LINE__, "refresh-interval", "SHERVE_REFRESH_INTERVAL", "300", "60",
	  "120", "0" },
	{ __LINE__, "miss-refresh-interval", "SHERVE_MISS_REFRESH_INTERVAL",
	  "30", "1", "2", "3" },
	{ __LINE__, "max-shrink", "SHERVE_MAX_SHRINK", "50", "10", "20",
	  "100" },
	{ __LINE__, "cache-control", "SHERVE_CACHE_CONTROL",
	  "public, max-age=31536000, must-revalidate", "no-cache",
	  "max-age=60, public", "private" },
	{ __LINE__, "redirects-url", "SHERVE_REDIRECTS_URL", "",
	  "https://file.example/r.txt", "https://env.example/r.txt",
	  "file:///srv/r.txt" },
	{ __LINE__, "base-path", "SHERVE_BASE_PATH", "", "/file", "/env",
	  "/opt" },
	{ __LINE__, "log-level", "SHERVE_LOG_LEVEL", "info", "debug", "warn",
	  "error" },
};

/* Each setting from each combination of file, environment and option. */
static void
test_precedence(void)
{
	size_t i;
	unsigned mask;

	for (i = 0; i < NELEM(prec_rows); i++) {
		const struct prec_row *r = &prec_rows[i];

		for (mask = 0; mask < 8; mask++) {
			char text[512], opt[512], got[512], err[256], desc[128];
			const char *args[4] = { NULL, NULL, NULL, NULL };
			const char *want = r->def;
			struct conf c;
			int rc;

			snprintf(desc, sizeof(desc), "%s with%s%s%s", r->name,
			         mask & 1 ? " file" : "",
			         mask & 2 ? " env" : "",
			         mask & 4 ? " option" : "");
			snprintf(text, sizeof(text), "# test\n%s = %s\n",
			         mask & 1 ? r->name : "# none",
			         mask & 1 ? r->file : "");
			if (mask & 1)
				want = r->file;
			if (mask & 2) {
				setenv(r->env, r->envval, 1);
				want = r->envval;
			}
			if (mask & 4) {
				/* Both option forms: --name=value, --name
				 * value. */
				if ((i + mask) % 2 == 0) {
					snprintf(opt, sizeof(opt), "--%s=%s",
					         r->name, r->opt);
					args[0] = opt;
				} else {
					snprintf(opt, sizeof(opt), "--%s",
					         r->name);
					args[0] = opt;
					args[1] = r->opt;
				}
				want = r->opt;
			}
			rc = load(&c, text, args, err, sizeof(err));
			unsetenv(r->env);
			if (!expect_int(r->line, desc, SH_OK, rc)) {
				fprintf(stderr, "  error: %s\n", err);
				continue;
			}
			render(&c, r->name, got, sizeof(got));
			expect_str(r->line, desc, want, got);
			conf_free(&c);
		}
	}
}

struct err_row {
	unsigned line;
	const char *desc;
	const char *file; /* config text; NULL: /dev/null */
	const char *envname, *envval;
	const char *args[12];
	const char *needle[2]; /* "%s" is replaced by the config path */
};

static const struct err_row err_rows[] = {
	{ __LINE__,
	  "redirect-status 305",
	  NULL,
	  NULL,
	  NULL,
	  { "--redirect-status", "305" },
	  { "--redirect-status: ", "301" } },
	{ __LINE__,
	  "redirect-status not a number",
	  NULL,
	  NULL,
	  NULL,
	  { "--redirect-status=abc" },
	  { "redirect-status", NULL } },
	{ __LINE__,
	  "redirect-status 200",
	  NULL,
	  NULL,
	  NULL,
	  { "--redirect-status=200" },
	  { "redirect-status", NULL } },
	{ __LINE__,
	  "redirect-status empty",
	  NULL,
	  NULL,
	  NULL,
	  { "--redirect-status=" },
	  { "redirect-status", NULL } },
	{ __LINE__,
	  "unknown option",
	  NULL,
	  NULL,
	  NULL,
	  { "--no-such-thing", "1" },
	  { "--no-such-thing", "unknown option" } },
	{ __LINE__,
	  "unknown option last, without a value",
	  NULL,
	  NULL,
	  NULL,
	  { "--no-such-thing" },
	  { "--no-such-thing", "unknown option" } },
	{ __LINE__,
	  "out of range names the bounds",
	  NULL,
	  NULL,
	  NULL,
	  { "--max-shrink=101" },
	  { "--max-shrink: ", "0 to 100" } },
	{ __LINE__,
	  "unknown option with value",
	  NULL,
	  NULL,
	  NULL,
	  { "--colour=red" },
	  { "--colour: unknown option", NULL } },
	{ __LINE__,
	  "option without its value",
	  NULL,
	  NULL,
	  NULL,
	  { "--webroot" },
	  { "--webroot: needs a value", NULL } },
	{ __LINE__,
	  "unknown key in file",
	  "# c\n\nbogus = 1\n",
	  NULL,
	  NULL,
	  { NULL },
	  { "%s:3: bogus: unknown setting", NULL } },
	{ __LINE__,
	  "file line without =",
	  "webroot\n",
	  NULL,
	  NULL,
	  { NULL },
	  { "%s:1: expected name = value", NULL } },
	{ __LINE__,
	  "bad value in file",
	  "\nredirect-status = 305\n",
	  NULL,
	  NULL,
	  { NULL },
	  { "%s:2: redirect-status: ", "301" } },
	{ __LINE__,
	  "CTL in a file value",
	  "cache-control = a\x01z\n",
	  NULL,
	  NULL,
	  { NULL },
	  { "%s:1: cache-control: ", "control character" } },
	{ __LINE__,
	  "a host name that is not one, in a file: the error names the line",
	  "# hosts\nhostnames = example.com, a/b\n",
	  NULL,
	  NULL,
	  { NULL },
	  { "%s:2: hostnames: ", "a/b: not a host name" } },
	{ __LINE__,
	  "a host name that is not one, on the command line",
	  NULL,
	  NULL,
	  NULL,
	  { "--hostnames=a/b" },
	  { "--hostnames: ", "a/b: not a host name" } },
	{ __LINE__,
	  "bad value in env",
	  NULL,
	  "SHERVE_REDIRECT_STATUS",
	  "999",
	  { NULL },
	  { "SHERVE_REDIRECT_STATUS", "redirect-status" } },
	{ __LINE__,
	  "bad log level in env",
	  NULL,
	  "SHERVE_LOG_LEVEL",
	  "loud",
	  { NULL },
	  { "log-level", NULL } },
	{ __LINE__,
	  "CTL in env",
	  NULL,
	  "SHERVE_REDIRECT_CACHE_CONTROL",
	  "a\r\nSet-Cookie: x=y",
	  { NULL },
	  { "redirect-cache-control", "control character" } },
	{ __LINE__,
	  "webroot missing",
	  NULL,
	  NULL,
	  NULL,
	  { "--webroot", "/nonexistent/sherve/www" },
	  { "webroot", "/nonexistent/sherve/www" } },
	{ __LINE__,
	  "webroot a regular file",
	  NULL,
	  NULL,
	  NULL,
	  { "--webroot", "@FILE" },
	  { "webroot", "not a directory" } },
	{ __LINE__,
	  "health-path the metrics-path too",
	  NULL,
	  NULL,
	  NULL,
	  { "--metrics-path=/-/m", "--health-path=/-/m" },
	  { "health-path: /-/m", "metrics-path" } },
	{ __LINE__,
	  "base-path relative",
	  NULL,
	  NULL,
	  NULL,
	  { "--base-path", "go" },
	  { "base-path", NULL } },
	{ __LINE__,
	  "base-path with //",
	  NULL,
	  NULL,
	  NULL,
	  { "--base-path=/a//b" },
	  { "base-path", NULL } },
	{ __LINE__,
	  "base-path with %",
	  NULL,
	  NULL,
	  NULL,
	  { "--base-path=/a%20b" },
	  { "base-path", NULL } },
	{ __LINE__,
	  "base-path with ?",
	  NULL,
	  NULL,
	  NULL,
	  { "--base-path=/a?b" },
	  { "base-path", NULL } },
	{ __LINE__,
	  "CR LF in cache-control",
	  NULL,
	  NULL,
	  NULL,
	  { "--cache-control", "public\r\nX-Evil: 1" },
	  { "--cache-control: ", "control character" } },
	{ __LINE__,
	  "tab in redirect-cache-control",
	  NULL,
	  NULL,
	  NULL,
	  { "--redirect-cache-control=a\tb" },
	  { "redirect-cache-control", "control character" } },
	{ __LINE__,
	  "refresh-interval too large",
	  NULL,
	  NULL,
	  NULL,
	  { "--refresh-interval=604801" },
	  { "--refresh-interval: ", "too large" } },
	{ __LINE__,
	  "max-shrink negative",
	  NULL,
	  NULL,
	  NULL,
	  { "--max-shrink=-1" },
	  { "--max-shrink: ", "invalid" } },
	{ __LINE__,
	  "max-shrink 101",
	  NULL,
	  NULL,
	  NULL,
	  { "--max-shrink=101" },
	  { "max-shrink", "too large" } },
	{ __LINE__,
	  "max-body too small",
	  NULL,
	  NULL,
	  NULL,
	  { "--max-body=1023" },
	  { "max-body", "too small" } },
	{ __LINE__,
	  "max-body overflow",
	  NULL,
	  NULL,
	  NULL,
	  { "--max-body=99999999999999999999999" },
	  { "max-body", NULL } },
	{ __LINE__,
	  "workers too many",
	  NULL,
	  NULL,
	  NULL,
	  { "--workers=1025" },
	  { "workers", NULL } },
	{ __LINE__,
	  "connect-timeout 0",
	  NULL,
	  NULL,
	  NULL,
	  { "--connect-timeout=0" },
	  { "connect-timeout", NULL } },
	{ __LINE__,
	  "log-level unknown",
	  NULL,
	  NULL,
	  NULL,
	  { "--log-level", "loud" },
	  { "log-level", NULL } },
	{ __LINE__,
	  "etag-inode not a bool",
	  NULL,
	  NULL,
	  NULL,
	  { "--etag-inode=maybe" },
	  { "etag-inode", NULL } },
	{ __LINE__,
	  "cachebust unknown",
	  NULL,
	  NULL,
	  NULL,
	  { "--cachebust=sometimes" },
	  { "cachebust", NULL } },
	{ __LINE__,
	  "sendfile-mode unknown",
	  NULL,
	  NULL,
	  NULL,
	  { "--sendfile-mode=caddy" },
	  { "sendfile-mode", NULL } },
	{ __LINE__,
	  "sendfile-mode without a webroot",
	  NULL,
	  NULL,
	  NULL,
	  { "--sendfile-mode=lighttpd" },
	  { "sendfile-mode", "absolute webroot" } },
	{ __LINE__,
	  "sendfile-prefix relative",
	  NULL,
	  NULL,
	  NULL,
	  { "--sendfile-prefix=files" },
	  { "sendfile-prefix", NULL } },
	{ __LINE__,
	  "precompressed not a bool",
	  NULL,
	  NULL,
	  NULL,
	  { "--precompressed=br" },
	  { "precompressed", NULL } },
	{ __LINE__,
	  "state-dir empty",
	  NULL,
	  NULL,
	  NULL,
	  { "--state-dir=" },
	  { "state-dir", NULL } },
	{ __LINE__,
	  "config file missing",
	  NULL,
	  NULL,
	  NULL,
	  { "--config", "/nonexistent/sherve.conf" },
	  { "/nonexistent/sherve.conf", NULL } },
	{ __LINE__,
	  "too many arguments",
	  NULL,
	  NULL,
	  NULL,
	  { "1", "2", "3", "4", "5", "6", "7", "8", "9" },
	  { "too many arguments", NULL } },
};

/* Copy pat into out with its "%s", if any, replaced by the config path. */
static void
expand(char *out, size_t outsz, const char *pat)
{
	const char *p = strstr(pat, "%s");

	if (p == NULL)
		snprintf(out, outsz, "%s", pat);
	else
		snprintf(out, outsz, "%.*s%s%s", (int)(p - pat), pat, cfg,
		         p + 2);
}

static void
test_errors(void)
{
	size_t i, k;

	for (i = 0; i < NELEM(err_rows); i++) {
		const struct err_row *r = &err_rows[i];
		char err[512], needle[512];
		struct conf c;
		int rc;

		memset(err, 'X', sizeof(err));
		if (r->envname != NULL)
			setenv(r->envname, r->envval, 1);
		rc = load(&c, r->file, r->args, err, sizeof(err));
		if (r->envname != NULL)
			unsetenv(r->envname);
		expect_int(r->line, r->desc, SH_EINVAL, rc);
		expect_true(r->line, r->desc, memchr(err, '\0', sizeof(err)));
		expect_true(r->line, "error is one line",
		            err[0] != '\0' && strchr(err, '\n') == NULL);
		for (k = 0; k < 2 && r->needle[k] != NULL; k++) {
			expand(needle, sizeof(needle), r->needle[k]);
			expect_has(r->line, r->desc, err, needle);
		}
		/* On error c is freed already. */
		expect_true(r->line, "freed on error",
		            c.webroot == NULL && c.cache_control == NULL &&
		                    c.config_file == NULL);
		if (rc == SH_OK)
			conf_free(&c);
	}
}

struct value_row {
	unsigned line;
	const char *desc;
	const char *args[4];
	const char *name; /* for render() */
	const char *want;
};

static const struct value_row value_rows[] = {
	{ __LINE__,
	  "base-path / is empty",
	  { "--base-path=/" },
	  "base-path",
	  "" },
	{ __LINE__,
	  "base-path trailing slash",
	  { "--base-path=/go/" },
	  "base-path",
	  "/go" },
	{ __LINE__,
	  "base-path plain",
	  { "--base-path=/go" },
	  "base-path",
	  "/go" },
	{ __LINE__, "base-path empty", { "--base-path=" }, "base-path", "" },
	{ __LINE__,
	  "base-path deep",
	  { "--base-path", "/a/b/" },
	  "base-path",
	  "/a/b" },
	{ __LINE__,
	  "base-path only slashes",
	  { "--base-path=///" },
	  "base-path",
	  "" },
	{ __LINE__,
	  "redirect-status 302",
	  { "--redirect-status=302" },
	  "redirect-status",
	  "302" },
	{ __LINE__,
	  "redirect-status 303",
	  { "--redirect-status=303" },
	  "redirect-status",
	  "303" },
	{ __LINE__,
	  "redirect-status 308",
	  { "--redirect-status", "308" },
	  "redirect-status",
	  "308" },
	{ __LINE__,
	  "log-level debug",
	  { "--log-level=debug" },
	  "log-level",
	  "debug" },
	{ __LINE__,
	  "log-level warn",
	  { "--log-level=warn" },
	  "log-level",
	  "warn" },
	{ __LINE__,
	  "refresh-interval 0 disables",
	  { "--refresh-interval=0" },
	  "refresh-interval",
	  "0" },
	{ __LINE__,
	  "refresh-interval max",
	  { "--refresh-interval=604800" },
	  "refresh-interval",
	  "604800" },
	{ __LINE__,
	  "cache-control with spaces and quotes",
	  { "--cache-control", "no-cache, private=\"x\"" },
	  "cache-control",
	  "no-cache, private=\"x\"" },
	{ __LINE__,
	  "empty cache-control",
	  { "--cache-control=" },
	  "cache-control",
	  "" },
	{ __LINE__,
	  "value holding =",
	  { "--redirects-url=https://x/?a=b" },
	  "redirects-url",
	  "https://x/?a=b" },
	{ __LINE__,
	  "sendfile-prefix normalised",
	  { "--sendfile-prefix=/internal/" },
	  "sendfile-prefix",
	  "/internal" },
	{ __LINE__,
	  "last option wins",
	  { "--max-shrink=1", "--max-shrink", "2" },
	  "max-shrink",
	  "2" },
};

static void
test_values(void)
{
	size_t i;

	for (i = 0; i < NELEM(value_rows); i++) {
		const struct value_row *r = &value_rows[i];
		char err[256], got[512];
		struct conf c;

		if (!expect_int(r->line, r->desc, SH_OK,
		                load(&c, NULL, r->args, err, sizeof(err)))) {
			fprintf(stderr, "  error: %s\n", err);
			continue;
		}
		render(&c, r->name, got, sizeof(got));
		expect_str(r->line, r->desc, r->want, got);
		conf_free(&c);
	}
}

struct enum_row {
	unsigned line;
	const char *arg;
	int etag_inode; /* -1: not checked */
	int cachebust;  /* -1: not checked */
	int sendfile;   /* -1: not checked */
};

static const struct enum_row enum_rows[] = {
	{ __LINE__, "--etag-inode=yes", 1, -1, -1 },
	{ __LINE__, "--etag-inode=true", 1, -1, -1 },
	{ __LINE__, "--etag-inode=on", 1, -1, -1 },
	{ __LINE__, "--etag-inode=1", 1, -1, -1 },
	{ __LINE__, "--etag-inode=no", 0, -1, -1 },
	{ __LINE__, "--etag-inode=false", 0, -1, -1 },
	{ __LINE__, "--etag-inode=off", 0, -1, -1 },
	{ __LINE__, "--etag-inode=0", 0, -1, -1 },
	{ __LINE__, "--cachebust=miss", -1, CACHEBUST_MISS, -1 },
	{ __LINE__, "--cachebust=always", -1, CACHEBUST_ALWAYS, -1 },
	{ __LINE__, "--cachebust=never", -1, CACHEBUST_NEVER, -1 },
	{ __LINE__, "--sendfile-mode=none", -1, -1, SENDFILE_NONE },
	{ __LINE__, "--sendfile-mode=lighttpd", -1, -1, SENDFILE_LIGHTTPD },
	{ __LINE__, "--sendfile-mode=apache", -1, -1, SENDFILE_APACHE },
	{ __LINE__, "--sendfile-mode=nginx", -1, -1, SENDFILE_NGINX },
};

static void
test_enums(void)
{
	size_t i;

	for (i = 0; i < NELEM(enum_rows); i++) {
		const struct enum_row *r = &enum_rows[i];
		const char *args[4] = { r->arg, "--webroot", "@DIR", NULL };
		char err[256];
		struct conf c;

		if (!expect_int(r->line, r->arg, SH_OK,
		                load(&c, NULL, args, err, sizeof(err))))
			continue;
		if (r->etag_inode >= 0)
			expect_int(r->line, r->arg, r->etag_inode,
			           c.etag_inode);
		if (r->cachebust >= 0)
			expect_int(r->line, r->arg, r->cachebust, c.cachebust);
		if (r->sendfile >= 0)
			expect_int(r->line, r->arg, r->sendfile,
			           c.sendfile_mode);
		conf_free(&c);
	}
}

/*
 * X-Sendfile names webroot/path and lighttpd percent-decodes it: a
 * webroot holding '%' or non-ASCII is refused in those modes only.
 */
static void
test_sendfile_webroot(void)
{
	static const char *const modes[] = { "lighttpd", "apache", "nginx",
		                             "none" };
	char dir[300], err[256];
	size_t i;

	snprintf(dir, sizeof(dir), "%s/a%%41b", tmpdir);
	require_true(__LINE__, "mkdir", mkdir(dir, 0755) == 0);
	for (i = 0; i < NELEM(modes); i++) {
		const char *args[] = { "--webroot", dir, "--sendfile-mode",
			               modes[i], NULL };
		int refused = i < 2;
		struct conf c;
		int rc = load(&c, NULL, args, err, sizeof(err));

		expect_int(__LINE__, modes[i], refused ? SH_EINVAL : SH_OK, rc);
		if (rc == SH_OK)
			conf_free(&c);
		else
			expect_true(__LINE__, "the error names sendfile-mode",
			            strncmp(err, "sendfile-mode:", 14) == 0);
	}
	rmdir(dir);
}

/* directory-slash: redirect (the default) or serve, from each source. */
static void
test_directory_slash(void)
{
	static const struct {
		unsigned line;
		const char *file, *arg;
		int rc, want;
	} rows[] = {
		{ __LINE__, NULL, NULL, SH_OK, DIRSLASH_REDIRECT },
		{ __LINE__, "directory-slash = serve\n", NULL, SH_OK,
		  DIRSLASH_SERVE },
		{ __LINE__, "directory-slash = serve\n",
		  "--directory-slash=redirect", SH_OK, DIRSLASH_REDIRECT },
		{ __LINE__, NULL, "--directory-slash=serve", SH_OK,
		  DIRSLASH_SERVE },
		{ __LINE__, NULL, "--directory-slash=yes", SH_EINVAL, -1 },
		{ __LINE__, "directory-slash = Redirect\n", NULL, SH_EINVAL,
		  -1 },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		const char *args[] = { rows[i].arg, NULL };
		char err[256] = "";
		struct conf c;
		int rc = load(&c, rows[i].file, args, err, sizeof(err));

		expect_int(rows[i].line, "directory-slash", rows[i].rc, rc);
		if (rc != SH_OK) {
			expect_has(
			        rows[i].line, "names the setting", err,
			        "directory-slash: must be redirect or serve");
			continue;
		}
		expect_int(rows[i].line, "directory-slash", rows[i].want,
		           c.directory_slash);
		conf_free(&c);
	}
}

/* The settings of the redirect rules (sherve.redirects(5)). */
struct rules_row {
	unsigned line;
	const char *args[5];
	int rc;
	int format, forward, fold, relative; /* -1: not checked */
	const char *export_format;           /* NULL: none */
	const char *err_has;                 /* on an error */
};

static const struct rules_row rules_rows[] = {
	{ __LINE__,
	  { NULL },
	  SH_OK,
	  REDIRECTS_AUTO,
	  FORWARD_MERGE,
	  0,
	  0,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--format=gosherve" },
	  SH_OK,
	  REDIRECTS_GOSHERVE,
	  -1,
	  -1,
	  -1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--format", "redirects" },
	  SH_OK,
	  REDIRECTS_NETLIFY,
	  -1,
	  -1,
	  -1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--forward-query=drop" },
	  SH_OK,
	  -1,
	  FORWARD_DROP,
	  -1,
	  -1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--alias-case=insensitive" },
	  SH_OK,
	  -1,
	  -1,
	  1,
	  -1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--alias-case=sensitive" },
	  SH_OK,
	  -1,
	  -1,
	  0,
	  -1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--allow-relative-targets=yes" },
	  SH_OK,
	  -1,
	  -1,
	  -1,
	  1,
	  NULL,
	  NULL },
	{ __LINE__,
	  { "--format=nginx" },
	  SH_EINVAL,
	  -1,
	  -1,
	  -1,
	  -1,
	  NULL,
	  "format" },
	{ __LINE__,
	  { "--forward-query=keep" },
	  SH_EINVAL,
	  -1,
	  -1,
	  -1,
	  -1,
	  NULL,
	  "forward-query" },
	{ __LINE__,
	  { "--alias-case=upper" },
	  SH_EINVAL,
	  -1,
	  -1,
	  -1,
	  -1,
	  NULL,
	  "alias-case" },
	{ __LINE__,
	  { "--allow-relative-targets=maybe" },
	  SH_EINVAL,
	  -1,
	  -1,
	  -1,
	  -1,
	  NULL,
	  "allow-relative-targets" },
	/* For export, --format names the output, not the file's format. */
	{ __LINE__,
	  { "export", "--format", "nginx" },
	  SH_OK,
	  REDIRECTS_AUTO,
	  -1,
	  -1,
	  -1,
	  "nginx",
	  NULL },
	{ __LINE__,
	  { "--format=apache", "export", "f.map" },
	  SH_OK,
	  REDIRECTS_AUTO,
	  -1,
	  -1,
	  -1,
	  "apache",
	  NULL },
	{ __LINE__,
	  { "--log-level", "warn", "export", "--format=redirects" },
	  SH_OK,
	  REDIRECTS_AUTO,
	  -1,
	  -1,
	  -1,
	  "redirects",
	  NULL },
	{ __LINE__,
	  { "list", "--format", "nginx" },
	  SH_EINVAL,
	  -1,
	  -1,
	  -1,
	  -1,
	  NULL,
	  "format" },
};

static void
test_rule_settings(void)
{
	size_t i;

	for (i = 0; i < NELEM(rules_rows); i++) {
		const struct rules_row *r = &rules_rows[i];
		const char *desc = r->args[0] ? r->args[0] : "defaults";
		char err[256] = "";
		struct conf c;
		int rc = load(&c, NULL, r->args, err, sizeof(err));

		expect_int(r->line, desc, r->rc, rc);
		if (rc != SH_OK) {
			expect_has(r->line, desc, err, r->err_has);
			continue;
		}
		if (r->format >= 0)
			expect_int(r->line, desc, r->format, c.format);
		if (r->forward >= 0)
			expect_int(r->line, desc, r->forward, c.forward_query);
		if (r->fold >= 0)
			expect_int(r->line, desc, r->fold, c.alias_fold);
		if (r->relative >= 0)
			expect_int(r->line, desc, r->relative,
			           c.allow_relative_targets);
		expect_str(r->line, desc, r->export_format, c.export_format);
		conf_free(&c);
	}
}

static void
test_file_syntax(void)
{
	struct conf c;
	char err[256];
	int rc;

	rc = load(&c,
	          "# a comment\r\n"
	          "\r\n"
	          "   \t\n"
	          "  redirect-status   =   302  \r\n"
	          "cache-control = \"no-cache, no-store\"\r\n"
	          "\tlog-level=debug\n"
	          "  # indented comment = ignored\n"
	          "webroot = @NOT-EXPANDED-BUT-UNUSED\n"
	          "webroot =\n"
	          "redirects-url = https://example.com/r.txt",
	          NULL, err, sizeof(err));
	if (!expect_int(__LINE__, "file syntax", SH_OK, rc)) {
		fprintf(stderr, "  error: %s\n", err);
		return;
	}
	expect_str(__LINE__, "config_file names the file", cfg, c.config_file);
	expect_int(__LINE__, "spaces around =", 302, c.redirect_status);
	expect_str(__LINE__, "quotes stripped", "no-cache, no-store",
	           c.cache_control);
	expect_int(__LINE__, "no spaces around =", SH_LOG_DEBUG, c.log_level);
	expect_str(__LINE__, "empty value", "", c.webroot);
	expect_str(__LINE__, "last line without newline",
	           "https://example.com/r.txt", c.redirects_url);
	conf_free(&c);
}

static void
test_long_file_line(void)
{
	char *text = malloc(8192), err[256];
	struct conf c;

	require_true(__LINE__, "malloc", text != NULL);
	memcpy(text, "cache-control = ", 16);
	memset(text + 16, 'x', 8000);
	memcpy(text + 8016, "\n", 2);
	expect_int(__LINE__, "line too long", SH_EINVAL,
	           load(&c, text, NULL, err, sizeof(err)));
	expect_has(__LINE__, "line too long", err, ":1: line too long");
	free(text);
}

static void
test_config_env(void)
{
	char *argv[] = { (char *)"test", NULL, NULL, NULL };
	struct conf c;
	char err[256];

	require_true(__LINE__, "write",
	             unit_write_file(cfg, "max-shrink = 7\n") == 0);
	require_true(__LINE__, "write",
	             unit_write_file(cfg2, "max-shrink = 8\n") == 0);
	/* SHERVE_CONFIG names the file when --config does not. */
	setenv("SHERVE_CONFIG", cfg, 1);
	if (expect_int(__LINE__, "SHERVE_CONFIG", SH_OK,
	               conf_load(&c, 1, argv, err, sizeof(err)))) {
		expect_u64(__LINE__, "SHERVE_CONFIG read", 7, c.max_shrink);
		expect_str(__LINE__, "SHERVE_CONFIG recorded", cfg,
		           c.config_file);
		conf_free(&c);
	}
	/* --config beats SHERVE_CONFIG. */
	argv[1] = (char *)"--config";
	argv[2] = cfg2;
	if (expect_int(__LINE__, "--config over SHERVE_CONFIG", SH_OK,
	               conf_load(&c, 3, argv, err, sizeof(err)))) {
		expect_u64(__LINE__, "--config over SHERVE_CONFIG", 8,
		           c.max_shrink);
		expect_str(__LINE__, "--config recorded", cfg2, c.config_file);
		conf_free(&c);
	}
	/* --config=FILE works too, and the last --config wins. */
	argv[1] = (char *)"--config=/nonexistent/first.conf";
	argv[2] = (char *)"--config";
	argv[3] = cfg2;
	if (expect_int(__LINE__, "last --config", SH_OK,
	               conf_load(&c, 4, argv, err, sizeof(err)))) {
		expect_u64(__LINE__, "last --config", 8, c.max_shrink);
		conf_free(&c);
	}
	unsetenv("SHERVE_CONFIG");
}

static void
test_args_and_flags(void)
{
	const char *pos[] = { "list", "--log-level", "warn", "x", "-", NULL };
	const char *force[] = { "import", "--force", "file.txt", NULL };
	const char *webroot[] = { "--webroot", "@DIR", NULL };
	const char *modes[] = { "--startup", "refresh", "--scheduled", "--miss",
		                NULL };
	struct conf c;
	char err[256];

	if (expect_int(__LINE__, "positional", SH_OK,
	               load(&c, NULL, pos, err, sizeof(err)))) {
		expect_int(__LINE__, "positional count", 3, c.nargs);
		expect_str(__LINE__, "verb", "list",
		           c.nargs > 0 ? c.args[0] : "");
		expect_str(__LINE__, "operand", "x",
		           c.nargs > 1 ? c.args[1] : "");
		expect_str(__LINE__, "dash operand", "-",
		           c.nargs > 2 ? c.args[2] : "");
		expect_int(__LINE__, "option between operands", SH_LOG_WARN,
		           c.log_level);
		conf_free(&c);
	}
	if (expect_int(__LINE__, "--force", SH_OK,
	               load(&c, NULL, force, err, sizeof(err)))) {
		expect_int(__LINE__, "--force", 1, c.force);
		expect_int(__LINE__, "--force takes no value", 2, c.nargs);
		conf_free(&c);
	}
	if (expect_int(__LINE__, "webroot directory", SH_OK,
	               load(&c, NULL, webroot, err, sizeof(err)))) {
		expect_str(__LINE__, "webroot directory", tmpdir, c.webroot);
		conf_free(&c);
	}
	/* A worker's refresh (refresher.h): flags, not operands. */
	if (expect_int(__LINE__, "refresh --startup --scheduled --miss", SH_OK,
	               load(&c, NULL, modes, err, sizeof(err)))) {
		expect_int(__LINE__, "--startup", 1, c.startup);
		expect_int(__LINE__, "--scheduled", 1, c.scheduled);
		expect_int(__LINE__, "--miss", 1, c.miss);
		expect_int(__LINE__, "the verb alone is an operand", 1,
		           c.nargs);
		conf_free(&c);
	}
}

/*
 * The command line as sherve(8) reads it: which words are operands, which
 * flags, and which error a bad line gets (the first in argv order, and
 * only after the file's and the environment's).
 */
struct cmd_row {
	unsigned line;
	const char *desc;
	const char *file; /* config text; NULL: /dev/null */
	const char *args[12];
	int rc;
	const char *err; /* SH_EINVAL: the whole message */
	int help, version, force;
	const char *ops[CONF_MAX_ARGS + 1]; /* SH_OK: the operands */
};

static const struct cmd_row cmd_rows[] = {
	{ __LINE__,
	  "a word with one '-' is an operand",
	  NULL,
	  { "lookup", "-x", "-" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "lookup", "-x", "-" } },
	{ __LINE__,
	  "-hV is no cluster: an operand",
	  NULL,
	  { "-hV" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "-hV" } },
	{ __LINE__,
	  "-h=x is an operand",
	  NULL,
	  { "list", "-h=x" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "list", "-h=x" } },
	{ __LINE__,
	  "flags anywhere, operands in order",
	  NULL,
	  { "--force", "import", "-V", "f", "-h" },
	  SH_OK,
	  NULL,
	  1,
	  1,
	  1,
	  { "import", "f" } },
	{ __LINE__,
	  "-- ends the options",
	  NULL,
	  { "lookup", "--", "--x", "-h" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "lookup", "--x", "-h" } },
	{ __LINE__,
	  "--help after -- is an operand",
	  NULL,
	  { "--", "--help", "--webroot" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "--help", "--webroot" } },
	{ __LINE__,
	  "a value that looks like an option is a value",
	  NULL,
	  { "--cache-control", "--webroot", "list" },
	  SH_OK,
	  NULL,
	  0,
	  0,
	  0,
	  { "list" } },
	{ __LINE__,
	  "the command help is --help",
	  NULL,
	  { "help", "list" },
	  SH_OK,
	  NULL,
	  1,
	  0,
	  0,
	  { "help", "list" } },
	{ __LINE__,
	  "help keeps 8 operands, no error",
	  NULL,
	  { "help", "1", "2", "3", "4", "5", "6", "7", "8", "9" },
	  SH_OK,
	  NULL,
	  1,
	  0,
	  0,
	  { "help", "1", "2", "3", "4", "5", "6", "7" } },
	{ __LINE__,
	  "--version and --help both",
	  NULL,
	  { "--version", "--help" },
	  SH_OK,
	  NULL,
	  1,
	  1,
	  0,
	  { NULL } },
	{ __LINE__,
	  "a prefix is no option",
	  NULL,
	  { "--webr", "/" },
	  SH_EINVAL,
	  "--webr: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "a prefix with = is no option",
	  NULL,
	  { "--redirect-st=302" },
	  SH_EINVAL,
	  "--redirect-st: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "a flag given a value",
	  NULL,
	  { "--force=1", "list" },
	  SH_EINVAL,
	  "--force: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "--help given a value",
	  NULL,
	  { "--help=x" },
	  SH_EINVAL,
	  "--help: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "an unknown option stops --help",
	  NULL,
	  { "--help", "--bogus" },
	  SH_EINVAL,
	  "--bogus: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "a missing value stops --help",
	  NULL,
	  { "--help", "--webroot" },
	  SH_EINVAL,
	  "--webroot: needs a value",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "--config without its value",
	  NULL,
	  { "list", "--config" },
	  SH_EINVAL,
	  "--config: needs a value",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "three dashes",
	  NULL,
	  { "---x" },
	  SH_EINVAL,
	  "---x: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "no name",
	  NULL,
	  { "--=x" },
	  SH_EINVAL,
	  "--: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "names are case-sensitive",
	  NULL,
	  { "--Help" },
	  SH_EINVAL,
	  "--Help: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "an unknown option before a bad value",
	  NULL,
	  { "--redirect-status=305", "--bogus" },
	  SH_EINVAL,
	  "--bogus: unknown option (see --help)",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "the first bad value in argv order",
	  NULL,
	  { "--log-level", "loud", "--redirect-status", "305" },
	  SH_EINVAL,
	  "--log-level: must be debug, info, warn or error",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "the file's error before the options'",
	  "redirect-status = 1\n",
	  { "--log-level", "loud" },
	  SH_EINVAL,
	  "%s:1: redirect-status: must be 301, 302, 303, 307 or 308",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "too many operands before a bad value",
	  NULL,
	  { "1", "2", "3", "4", "5", "6", "7", "8", "9", "--log-level=x" },
	  SH_EINVAL,
	  "too many arguments",
	  0,
	  0,
	  0,
	  { NULL } },
	{ __LINE__,
	  "a bad value before too many operands",
	  NULL,
	  { "--log-level=x", "1", "2", "3", "4", "5", "6", "7", "8", "9" },
	  SH_EINVAL,
	  "--log-level: must be debug, info, warn or error",
	  0,
	  0,
	  0,
	  { NULL } },
};

static void
test_command_line(void)
{
	size_t i, k;

	for (i = 0; i < NELEM(cmd_rows); i++) {
		const struct cmd_row *r = &cmd_rows[i];
		char err[512], want[512];
		struct conf c;
		int rc = load(&c, r->file, r->args, err, sizeof(err));

		if (!expect_int(r->line, r->desc, r->rc, rc))
			fprintf(stderr, "  error: %s\n", err);
		if (rc != SH_OK) {
			expand(want, sizeof(want),
			       r->err != NULL ? r->err : "");
			expect_str(r->line, r->desc, want, err);
			continue;
		}
		expect_int(r->line, "help", r->help, c.help);
		expect_int(r->line, "version", r->version, c.version);
		expect_int(r->line, "force", r->force, c.force);
		for (k = 0; r->ops[k] != NULL; k++)
			expect_str(r->line, r->desc, r->ops[k],
			           (int)k < c.nargs ? c.args[k] : "(none)");
		expect_int(r->line, "operands", (int)k, c.nargs);
		conf_free(&c);
	}
}

struct flag_row {
	unsigned line;
	const char *desc;
	const char *args[4];
	int help, version;
};

static const struct flag_row flag_rows[] = {
	{ __LINE__, "--help", { "--help" }, 1, 0 },
	{ __LINE__, "-h", { "-h" }, 1, 0 },
	{ __LINE__, "--version", { "--version" }, 0, 1 },
	{ __LINE__, "-V", { "-V" }, 0, 1 },
	{ __LINE__,
	  "--help skips value checks",
	  { "--help", "--redirect-status", "305" },
	  1,
	  0 },
	{ __LINE__,
	  "--version after an operand",
	  { "check", "--version" },
	  0,
	  1 },
};

static void
test_flags(void)
{
	size_t i;

	for (i = 0; i < NELEM(flag_rows); i++) {
		const struct flag_row *r = &flag_rows[i];
		char err[256];
		struct conf c;

		if (!expect_int(r->line, r->desc, SH_OK,
		                load(&c, NULL, r->args, err, sizeof(err))))
			continue;
		expect_int(r->line, r->desc, r->help, c.help);
		expect_int(r->line, r->desc, r->version, c.version);
		conf_free(&c);
	}
	/* --help works even when the config file is broken. */
	{
		const char *args[] = { "--help", NULL };
		char err[256];
		struct conf c;

		if (expect_int(
		            __LINE__, "--help with a broken file", SH_OK,
		            load(&c, "bogus = 1\n", args, err, sizeof(err)))) {
			expect_int(__LINE__, "--help with a broken file", 1,
			           c.help);
			conf_free(&c);
		}
	}
}

static void
test_usage(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	require_true(__LINE__, "open_memstream", fp != NULL);
	conf_usage(fp);
	fclose(fp);
	expect_has(__LINE__, "usage names options", text, "--redirect-status");
	expect_has(__LINE__, "usage names options", text, "--webroot");
	expect_has(__LINE__, "usage shows defaults", text, "[301]");
	expect_has(__LINE__, "usage shows defaults", text,
	           "[public, max-age=3600]");
	free(text);
}

#define ENTRIES_MAX 64

/* Every entry conf_env_entry() gives for c, malloc'd; returns how many. */
static size_t
entries_of(const struct conf *c, char **out)
{
	size_t n;
	int len;

	for (n = 0;
	     n < ENTRIES_MAX && (len = conf_env_entry(c, n, NULL, 0)) > 0;
	     n++) {
		out[n] = malloc((size_t)len + 1);
		if (out[n] == NULL ||
		    conf_env_entry(c, n, out[n], (size_t)len + 1) != len)
			break;
	}
	return n;
}

/*
 * Load with the environment holding the nw entries of want alone
 * (SHERVE_CONFIG empty: no file) and compare: the same entries, and the
 * values each source gave test_env_entries().
 */
static void
expect_read_back(char **want, size_t nw)
{
	char *got[ENTRIES_MAX], *argv[] = { "test", NULL }, err[256];
	struct conf d;
	size_t ng, i;

	for (i = 0; i < nw; i++)
		putenv(want[i]);
	setenv("SHERVE_CONFIG", "", 1);
	if (!expect_int(__LINE__, "read back from the environment", SH_OK,
	                conf_load(&d, 1, argv, err, sizeof(err))))
		goto out;
	expect_true(__LINE__, "no file read", d.config_file == NULL);
	ng = entries_of(&d, got);
	expect_int(__LINE__, "as many entries", (int)nw, (int)ng);
	for (i = 0; i < nw && i < ng; i++)
		expect_str(__LINE__, want[i], want[i], got[i]);
	for (i = 0; i < ng; i++)
		free(got[i]);
	expect_int(__LINE__, "file: redirect-status", 308, d.redirect_status);
	expect_str(__LINE__, "file: base-path, normalised", "/go", d.base_path);
	expect_int(__LINE__, "file: redirects-dialect", DIALECT_CLOUDFLARE,
	           d.redirects_dialect);
	expect_str(__LINE__, "file: hostnames", "a.example, www.a.example",
	           d.hostnames);
	expect_u64(__LINE__, "environment: fetch-timeout", 17, d.fetch_timeout);
	expect_int(__LINE__, "environment: cachebust", CACHEBUST_ALWAYS,
	           d.cachebust);
	expect_int(__LINE__, "option: sendfile-mode", SENDFILE_NGINX,
	           d.sendfile_mode);
	expect_str(__LINE__, "option: redirects-url",
	           "https://u:tok@example.com/r.txt?a=1&b", d.redirects_url);
	conf_free(&d);
out:
	clear_env(); /* before the strings putenv() lent it go */
}

/*
 * What a worker hands a refresh child (refresher.h): every setting as
 * SHERVE_NAME=value. Settings from the file, the environment and the
 * command line, none at its default, read back from the environment
 * alone (SHERVE_CONFIG empty: no file) give the same configuration.
 */
static void
test_env_entries(void)
{
	const char *args[] = { "--webroot",
		               "@DIR",
		               "--sendfile-mode",
		               "nginx",
		               "--forward-query",
		               "drop",
		               "--directory-slash",
		               "serve",
		               "--redirects-url",
		               "https://u:tok@example.com/r.txt?a=1&b",
		               "--cache-control",
		               "private, max-age=60",
		               NULL };
	char *want[ENTRIES_MAX];
	size_t nw, i;
	struct conf c;
	char err[256], cut[12];

	setenv("SHERVE_FETCH_TIMEOUT", "17", 1);
	setenv("SHERVE_CACHEBUST", "always", 1);
	setenv("SHERVE_ALIAS_CASE", "insensitive", 1);
	setenv("SHERVE_FORMAT", "redirects", 1);
	require_true(__LINE__, err,
	             load(&c,
	                  "redirect-status = 308\nlog-level = warn\n"
	                  "base-path = /go/\nprecompressed = no\n"
	                  "metrics-path = /-/metrics\n"
	                  "redirects-dialect = cloudflare\n"
	                  "hostnames = a.example, www.a.example\n",
	                  args, err, sizeof(err)) == SH_OK);
	clear_env();
	nw = entries_of(&c, want);
	expect_int(__LINE__, "past the last setting", 0,
	           conf_env_entry(&c, nw, NULL, 0));
	expect_true(__LINE__, "one entry per setting", nw >= 30);
	expect_int(__LINE__, "a cut entry says its whole length",
	           (int)strlen(want[0]),
	           conf_env_entry(&c, 0, cut, sizeof(cut)));
	expect_int(__LINE__, "... and is cut", (int)sizeof(cut) - 1,
	           (int)strlen(cut));
	expect_read_back(want, nw);
	for (i = 0; i < nw; i++)
		free(want[i]);
	conf_free(&c);
}

/* conf_env_check()'s warnings, gathered. */
static char warned[2048];

static void
gather(const char *msg)
{
	size_t n = strlen(warned);

	snprintf(warned + n, sizeof(warned) - n, "%s\n", msg);
}

static const struct {
	unsigned line;
	const char *name;
	const char *want; /* "": no warning */
} env_rows[] = {
	{ __LINE__, "SHERVE_REDIRECT_URL",
	  "SHERVE_REDIRECT_URL is not a sherve setting and is ignored (did "
	  "you mean SHERVE_REDIRECTS_URL?)\n" },
	{ __LINE__, "SHERVE_WEB_ROOT",
	  "SHERVE_WEB_ROOT is not a sherve setting and is ignored (did you "
	  "mean SHERVE_WEBROOT?)\n" },
	{ __LINE__, "SHERVE_STATEDIR",
	  "SHERVE_STATEDIR is not a sherve setting and is ignored (did you "
	  "mean SHERVE_STATE_DIR?)\n" },
	{ __LINE__, "SHERVE_XYZZY_PLUGH",
	  "SHERVE_XYZZY_PLUGH is not a sherve setting and is ignored\n" },
	{ __LINE__, "SHERVE_REDIRECTS_URL", "" },
	{ __LINE__, "SHERVE_MISS_REFRESH_INTERVAL", "" },
	{ __LINE__, "SHERVE_CONFIG", "" },
	{ __LINE__, "SHERVE_BIN", "" },
	{ __LINE__, "NOT_SHERVE_AT_ALL", "" },
};

static void
test_env_check(void)
{
	size_t i;

	for (i = 0; i < NELEM(env_rows); i++) {
		clear_env();
		setenv(env_rows[i].name, "1", 1);
		warned[0] = '\0';
		conf_env_check(gather);
		expect_str(env_rows[i].line, env_rows[i].name, env_rows[i].want,
		           warned);
		unsetenv(env_rows[i].name);
	}
	clear_env();
	setenv("SHERVE_A_TYPO", "1", 1);
	setenv("SHERVE_REDIRECT_STATUS", "302", 1);
	setenv("SHERVE_ANOTHER_TYPO", "1", 1);
	warned[0] = '\0';
	conf_env_check(gather);
	expect_has(__LINE__, "each unknown one", warned, "SHERVE_A_TYPO is");
	expect_has(__LINE__, "each unknown one", warned,
	           "SHERVE_ANOTHER_TYPO is");
	expect_lacks(__LINE__, "not the setting", warned,
	             "SHERVE_REDIRECT_STATUS is");
	clear_env();
}

static const struct unit_test conf_tests[] = {
	UNIT_TEST(test_env_check),       UNIT_TEST(test_defaults),
	UNIT_TEST(test_precedence),      UNIT_TEST(test_errors),
	UNIT_TEST(test_values),          UNIT_TEST(test_enums),
	UNIT_TEST(test_file_syntax),     UNIT_TEST(test_long_file_line),
	UNIT_TEST(test_config_env),      UNIT_TEST(test_env_entries),
	UNIT_TEST(test_args_and_flags),  UNIT_TEST(test_command_line),
	UNIT_TEST(test_flags),           UNIT_TEST(test_usage),
	UNIT_TEST(test_rule_settings),   UNIT_TEST(test_sendfile_webroot),
	UNIT_TEST(test_directory_slash), UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "conf_load", suite_init, suite_cleanup, conf_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
