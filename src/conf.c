/* conf.c - the settings table and its three sources; see conf.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "conf.h"
#include "location.h"
#include "util.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define CONF_LINE_MAX 4096

enum ktype {
	K_STR,
	K_HDR,
	K_HOSTS,
	K_DIR,
	K_BASE,
	K_U64,
	K_STATUS,
	K_LEVEL,
	K_BOOL,
	K_CACHEBUST,
	K_SENDFILE,
	K_FORMAT,
	K_FORWARD,
	K_CASE,
	K_DIRSLASH,
	K_DIALECT
};

struct key {
	const char *name;
	enum ktype type;
	uint64_t min, max;
	const char *def;
	size_t off;
	const char *help;
};

#define OFF(f) offsetof(struct conf, f)

/* Sorted by name, as --help prints it. */
static const struct key keys[] = {
	{ "alias-case", K_CASE, 0, 0, "sensitive", OFF(alias_fold),
	  "sensitive or insensitive (folds aliases and paths to lower case)" },
	{ "allow-relative-targets", K_BOOL, 0, 1, "no",
	  OFF(allow_relative_targets),
	  "accept targets that are a path on this host (/path)" },
	{ "base-path", K_BASE, 0, 0, "/", OFF(base_path),
	  "URL prefix sherve is mounted under" },
	{ "ca-bundle", K_STR, 0, 0, "", OFF(ca_bundle),
	  "CA certificates file for https upstreams (default: system)" },
	{ "cache-control", K_HDR, 0, 0,
	  "public, max-age=31536000, must-revalidate", OFF(cache_control),
	  "Cache-Control of assets" },
	{ "cachebust", K_CACHEBUST, 0, 0, "miss", OFF(cachebust),
	  "add cachebust= to upstream URL: miss, always or never" },
	{ "connect-timeout", K_U64, 1, 300, "10", OFF(connect_timeout),
	  "upstream connect timeout, seconds" },
	{ "directory-slash", K_DIRSLASH, 0, 0, "redirect", OFF(directory_slash),
	  "redirect or serve a directory without /" },
	{ "etag-inode", K_BOOL, 0, 1, "no", OFF(etag_inode),
	  "include the inode in ETags (differs between hosts)" },
	{ "fetch-timeout", K_U64, 1, 3600, "10", OFF(fetch_timeout),
	  "upstream total timeout, seconds" },
	{ "format", K_FORMAT, 0, 0, "auto", OFF(format),
	  "redirects file format: auto, gosherve or redirects (_redirects)" },
	{ "forward-query", K_FORWARD, 0, 0, "merge", OFF(forward_query),
	  "merge the request's query into redirect targets, or drop it" },
	{ "health-path", K_BASE, 0, 0, "", OFF(health_path),
	  "URL path of the health check, e.g. /-/health (empty: off)" },
	{ "hostnames", K_HOSTS, 0, 0, "", OFF(hostnames),
	  "names this site answers to, for chains and loops" },
	{ "keep-versions", K_U64, 1, 1000, "10", OFF(keep_versions),
	  "map versions kept for sherve rollback" },
	{ "listen", K_STR, 0, 0, "", OFF(listen),
	  "serve: unix:/path or HOST:PORT (systemd sockets need none)" },
	{ "log-level", K_LEVEL, 0, 0, "info", OFF(log_level),
	  "debug, info, warn or error" },
	{ "max-body", K_U64, 1024, 1024ULL * 1024 * 1024, "8388608",
	  OFF(max_body), "largest redirects file accepted, bytes" },
	{ "max-shrink", K_U64, 0, 100, "50", OFF(max_shrink),
	  "refuse a map that loses more than this percent (100: off)" },
	{ "metrics-path", K_BASE, 0, 0, "", OFF(metrics_path),
	  "URL path of the Prometheus metrics, e.g. /-/metrics (empty: off)" },
	{ "miss-refresh-interval", K_U64, 0, 86400, "30",
	  OFF(miss_refresh_interval),
	  "least seconds between refreshes caused by unknown aliases" },
	{ "precompressed", K_BOOL, 0, 1, "yes", OFF(precompressed),
	  "serve file.br/file.gz siblings to clients that accept them" },
	{ "redirect-cache-control", K_HDR, 0, 0, "public, max-age=3600",
	  OFF(redirect_cache_control), "Cache-Control of redirects" },
	{ "redirect-status", K_STATUS, 0, 0, "301", OFF(redirect_status),
	  "301, 302, 303, 307 or 308" },
	{ "redirects-dialect", K_DIALECT, 0, 0, "netlify",
	  OFF(redirects_dialect),
	  "whose _redirects: netlify, or cloudflare (302, rules first)" },
	{ "redirects-url", K_STR, 0, 0, "", OFF(redirects_url),
	  "http://, https:// or file:// URL of the redirects file" },
	{ "refresh-interval", K_U64, 0, 604800, "300", OFF(refresh_interval),
	  "seconds between scheduled refreshes (0: off)" },
	{ "sendfile-mode", K_SENDFILE, 0, 0, "none", OFF(sendfile_mode),
	  "let the web server send files: none, lighttpd, apache or nginx" },
	{ "sendfile-prefix", K_BASE, 0, 0, "/.sherve-files",
	  OFF(sendfile_prefix),
	  "nginx internal location that aliases the webroot" },
	{ "shutdown-grace", K_U64, 1, 3600, "10", OFF(shutdown_grace),
	  "serve: seconds in-flight requests get on SIGTERM" },
	{ "state-dir", K_STR, 0, 0, LOCALSTATEDIR "/lib/sherve", OFF(state_dir),
	  "directory for the LMDB store and locks" },
	{ "user", K_STR, 0, 0, "", OFF(user),
	  "serve: drop to this user after binding (as root)" },
	{ "webroot", K_DIR, 0, 0, "", OFF(webroot),
	  "directory of static assets (empty: none)" },
	{ "workers", K_U64, 0, 1024, "0", OFF(workers),
	  "serve: worker processes (0: one per CPU)" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *
conf_key_name(size_t i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

static const struct key *
key_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(keys[i].name) == len &&
		    strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static int
set_string(struct conf *c, const struct key *k, const char *v)
{
	char **slot = (char **)((char *)c + k->off);
	char *dup = strdup(v);

	if (dup == NULL)
		return -1;
	free(*slot);
	*slot = dup;
	return 0;
}

static int
set_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* Strip trailing slashes: "/" -> "", "/go/" -> "/go". */
static int
set_base(struct conf *c, const struct key *k, const char *v, const char **why)
{
	char buf[1024];
	size_t n;

	if (v[0] != '/' && v[0] != '\0') {
		*why = "must start with /";
		return -1;
	}
	if (str_copy(buf, v, sizeof(buf)) >= sizeof(buf)) {
		*why = "too long";
		return -1;
	}
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (strstr(buf, "//") != NULL || strchr(buf, '%') != NULL ||
	    strchr(buf, '?') != NULL) {
		*why = "must be a plain path without //, % or ?";
		return -1;
	}
	return set_string(c, k, buf) == 0 ? 0 : (*why = "out of memory", -1);
}

static int
set_enum(const char *v, const char *const *names, size_t n, int *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

/* The words of the enum settings, in enum order. */
static const char *const sendfile_modes[] = { "none", "lighttpd", "apache",
	                                      "nginx" };
static const char *const bust[] = { "miss", "always", "never" };
static const char *const formats[] = { "auto", "gosherve", "redirects" };
static const char *const forwards[] = { "merge", "drop" };
static const char *const cases[] = { "sensitive", "insensitive" };
static const char *const dirslashes[] = { "redirect", "serve" };
static const char *const dialects[] = { "netlify", "cloudflare" };

/* Set an enum setting of type t; returns 0, or -1 with *why set. */
static int
set_choice(enum ktype t, const char *v, void *slot, const char **why)
{
	int i;

	switch (t) {
	case K_FORMAT:
		if (set_enum(v, formats, 3, &i) != 0)
			*why = "must be auto, gosherve or redirects";
		else
			*(enum redirects_format *)slot =
			        (enum redirects_format)i;
		break;
	case K_FORWARD:
		if (set_enum(v, forwards, 2, &i) != 0)
			*why = "must be merge or drop";
		else
			*(enum forward_query *)slot = (enum forward_query)i;
		break;
	case K_DIRSLASH:
		if (set_enum(v, dirslashes, 2, &i) != 0)
			*why = "must be redirect or serve";
		else
			*(enum directory_slash *)slot = (enum directory_slash)i;
		break;
	case K_DIALECT:
		if (set_enum(v, dialects, 2, &i) != 0)
			*why = "must be netlify or cloudflare";
		else
			*(enum redirects_dialect *)slot =
			        (enum redirects_dialect)i;
		break;
	default:
		if (set_enum(v, cases, 2, &i) != 0)
			*why = "must be sensitive or insensitive";
		else
			*(int *)slot = i;
		break;
	}
	return *why == NULL ? 0 : -1;
}

/*
 * Each name of hostnames is a host name (location_host()), checked as the
 * value is set so that the error names the file and line it came from.
 */
static int
hostnames_valid(const char *v, char *why, size_t whysz)
{
	char h[256];
	size_t n;

	while (*v != '\0') {
		v += strspn(v, ", \t");
		if ((n = strcspn(v, ", \t")) == 0)
			break;
		if (location_host(v, n, h, sizeof(h)) < 0) {
			snprintf(why, whysz, "%.*s: not a host name", (int)n,
			         v);
			return -1;
		}
		v += n;
	}
	return 0;
}

/* Set a text setting; returns 0, or -1 with *why set. */
static int
set_text(struct conf *c, const struct key *k, const char *v, const char **why)
{
	static char bad[300]; /* conf_load is single-threaded */

	if (k->type == K_HOSTS && hostnames_valid(v, bad, sizeof(bad)) != 0) {
		*why = bad;
		return -1;
	}
	if (set_string(c, k, v) != 0) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* Set a number (K_U64 within the key's bounds, or K_STATUS); returns 0,
 * or -1 with *why set. */
static int
set_number(const struct key *k, const char *v, void *slot, const char **why)
{
	static char bounds[128]; /* conf_load is single-threaded */
	uint64_t u;

	if (k->type == K_STATUS) {
		if (parse_u64(v, 301, 308, &u, why) != 0 ||
		    (u != 301 && u != 302 && u != 303 && u != 307 &&
		     u != 308)) {
			*why = "must be 301, 302, 303, 307 or 308";
			return -1;
		}
		*(unsigned *)slot = (unsigned)u;
		return 0;
	}
	if (parse_u64(v, k->min, k->max, &u, why) != 0) {
		snprintf(bounds, sizeof(bounds),
		         "%s: must be a whole number from %llu to %llu", *why,
		         (unsigned long long)k->min,
		         (unsigned long long)k->max);
		*why = bounds;
		return -1;
	}
	*(uint64_t *)slot = u;
	return 0;
}

static int
key_set(struct conf *c, const struct key *k, const char *v, const char **why)
{
	void *slot = (char *)c + k->off;
	int i;

	*why = NULL;
	if (str_has_ctl(v, strlen(v))) {
		*why = "contains a control character";
		return -1;
	}
	switch (k->type) {
	case K_STR:
	case K_HDR:
	case K_HOSTS:
	case K_DIR: return set_text(c, k, v, why);
	case K_BASE: return set_base(c, k, v, why);
	case K_U64:
	case K_STATUS: return set_number(k, v, slot, why);
	case K_LEVEL:
		if (log_level_parse(v, (enum log_level *)slot) != 0)
			*why = "must be debug, info, warn or error";
		break;
	case K_BOOL:
		if (set_bool(v, (int *)slot) != 0)
			*why = "must be yes or no";
		break;
	case K_SENDFILE:
		if (set_enum(v, sendfile_modes, 4, &i) != 0)
			*why = "must be none, lighttpd, apache or nginx";
		else
			*(enum sendfile_mode *)slot = (enum sendfile_mode)i;
		break;
	case K_CACHEBUST:
		if (set_enum(v, bust, 3, &i) != 0)
			*why = "must be miss, always or never";
		else
			*(enum cachebust *)slot = (enum cachebust)i;
		break;
	case K_FORMAT:
	case K_FORWARD:
	case K_DIRSLASH:
	case K_DIALECT:
	case K_CASE: return set_choice(k->type, v, slot, why);
	}
	return *why == NULL ? 0 : -1;
}

static int
conf_defaults(struct conf *c, char *err, size_t errsz)
{
	const char *why;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (key_set(c, &keys[i], keys[i].def, &why) != 0) {
			snprintf(err, errsz, "default: %s: %s", keys[i].name,
			         why);
			return -1;
		}
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	                 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Parse one "name = value" line; returns 0 or -1 with err filled. */
static int
conf_file_line(struct conf *c, const char *file, unsigned lineno, char *line,
               char *err, size_t errsz)
{
	const struct key *k;
	const char *why;
	char *eq, *name, *val;
	size_t vl;

	name = trim(line);
	if (*name == '\0' || *name == '#')
		return 0;
	if ((eq = strchr(name, '=')) == NULL) {
		snprintf(err, errsz, "%s:%u: expected name = value", file,
		         lineno);
		return -1;
	}
	*eq = '\0';
	name = trim(name);
	val = trim(eq + 1);
	vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = '\0';
		val++;
	}
	if ((k = key_find(name, strlen(name))) == NULL) {
		snprintf(err, errsz, "%s:%u: %s: unknown setting", file, lineno,
		         name);
		return -1;
	}
	if (key_set(c, k, val, &why) != 0) {
		snprintf(err, errsz, "%s:%u: %s: %s", file, lineno, name, why);
		return -1;
	}
	return 0;
}

static int
conf_file(struct conf *c, const char *file, char *err, size_t errsz)
{
	char line[CONF_LINE_MAX];
	unsigned lineno = 0;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(file, "r")) == NULL) {
		snprintf(err, errsz, "%s: config: %s", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errsz, "%s:%u: line too long", file,
			         lineno);
			goto out;
		}
		if (conf_file_line(c, file, lineno, line, err, errsz) != 0)
			goto out;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: config: read error", file);
		goto out;
	}
	rc = 0;
out:
	fclose(fp);
	return rc;
}

/* The environment name of k: "SHERVE_" and its name upper-cased. */
static void
env_name(const struct key *k, char *var, size_t varsz)
{
	size_t j;

	str_copy(var, "SHERVE_", varsz);
	for (j = 0; k->name[j] != '\0' && j + 8 < varsz; j++) {
		char ch = k->name[j];

		var[7 + j] = ch == '-' ? '_' : (char)(ch - 'a' + 'A');
		if (ch >= '0' && ch <= '9')
			var[7 + j] = ch;
	}
	var[7 + j] = '\0';
}

static int
conf_env(struct conf *c, char *err, size_t errsz)
{
	char var[64];
	const char *v, *why;
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		env_name(&keys[i], var, sizeof(var));
		if ((v = getenv(var)) == NULL)
			continue;
		if (key_set(c, &keys[i], v, &why) != 0) {
			snprintf(err, errsz, "%s: %s: %s", var, keys[i].name,
			         why);
			return -1;
		}
	}
	return 0;
}

/*
 * SHERVE_ names read that are not settings: the config file, and the
 * binary that the tests and contrib scripts name.
 */
static const char *const env_other[] = { "SHERVE_CONFIG", "SHERVE_BIN" };

/* Levenshtein distance of a and b (short names: a row on the stack). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], i, j, diag, up;

	if (lb >= sizeof(row) / sizeof(row[0]))
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* 1 if name (len bytes) is a SHERVE_ variable sherve reads. Sets best
 * to the nearest one when it is not. */
static int
env_known(const char *name, size_t len, char *best, size_t bestsz)
{
	char var[64], n[64];
	size_t i, d, bd = (size_t)-1;

	if (len >= sizeof(n))
		len = sizeof(n) - 1;
	memcpy(n, name, len);
	n[len] = '\0';
	best[0] = '\0';
	for (i = 0; i < NKEYS + sizeof(env_other) / sizeof(*env_other); i++) {
		if (i < NKEYS)
			env_name(&keys[i], var, sizeof(var));
		else
			str_copy(var, env_other[i - NKEYS], sizeof(var));
		if ((d = distance(n, var)) == 0)
			return 1;
		if (d < bd) {
			bd = d;
			str_copy(best, var, bestsz);
		}
	}
	/* A typo is a few letters off; farther is no suggestion. */
	if (bd > 2)
		best[0] = '\0';
	return 0;
}

void
conf_env_check(void (*warn)(const char *msg))
{
	extern char **environ;
	char msg[256], best[64];
	char **e;
	size_t len;

	for (e = environ; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "SHERVE_", 7) != 0)
			continue;
		len = strcspn(*e, "=");
		if (env_known(*e, len, best, sizeof(best)))
			continue;
		snprintf(msg, sizeof(msg),
		         "%.*s is not a sherve setting and is ignored%s%s%s",
		         (int)(len < 80 ? len : 80), *e,
		         best[0] != '\0' ? " (did you mean " : "", best,
		         best[0] != '\0' ? "?)" : "");
		warn(msg);
	}
}

/*
 * suEXEC strips SHERVE_*, so a CGI on shared hosting finds its config
 * beside the binary; a packaged install finds it in SYSCONFDIR/sherve/
 * (/etc/sherve/sherve.conf), a directory of its own as Debian's daemons
 * keep theirs.
 */
static char *
conf_find_file(void)
{
	char exe[PATH_MAX], cand[PATH_MAX + 16];
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			slash[1] = '\0';
			snprintf(cand, sizeof(cand), "%ssherve.conf", exe);
			if (access(cand, R_OK) == 0)
				return strdup(cand);
		}
	}
	if (access(CONF_SYSTEM_FILE, R_OK) == 0)
		return strdup(CONF_SYSTEM_FILE);
	return NULL;
}

/*
 * `sherve export --format nginx` names the output format, while the
 * setting `format` names the redirects file's: args.c tells them apart.
 */
static int
export_format_set(struct conf *c, const char *val, char *err, size_t errsz)
{
	free(c->export_format);
	if ((c->export_format = strdup(val)) != NULL)
		return 0;
	snprintf(err, errsz, "out of memory");
	return -1;
}

/* Keep operand a. */
static int
add_operand(struct conf *c, char *a, char *err, size_t errsz)
{
	if (c->nargs == CONF_MAX_ARGS) {
		snprintf(err, errsz, "too many arguments");
		return -1;
	}
	c->args[c->nargs++] = a;
	return 0;
}

/*
 * Apply the command line's settings and operands, in their order, over
 * the file and the environment.
 */
static int
conf_args(struct conf *c, const struct args *a, char *err, size_t errsz)
{
	const struct args_item *it;
	const char *why;
	size_t i;

	for (i = 0; i < a->nitems; i++) {
		it = &a->item[i];
		if (it->kind == ARGS_OPERAND) {
			if (add_operand(c, it->value, err, errsz) != 0)
				return -1;
		} else if (it->kind == ARGS_EXPORT_FORMAT) {
			if (export_format_set(c, it->value, err, errsz) != 0)
				return -1;
		} else if (key_set(c, &keys[it->key], it->value, &why) != 0) {
			snprintf(err, errsz, "--%s: %s", keys[it->key].name,
			         why);
			return -1;
		}
	}
	return 0;
}

/*
 * --help, --version or the command help: record the operands (`sherve
 * help CMD`, `sherve CMD --help`) and read nothing else, so that help
 * works whatever the settings say.
 */
static int
conf_help_args(struct conf *c, const struct args *a)
{
	size_t i;

	if (!c->help && !c->version)
		return 0;
	for (i = 0; i < a->nitems && c->nargs < CONF_MAX_ARGS; i++)
		if (a->item[i].kind == ARGS_OPERAND)
			c->args[c->nargs++] = a->item[i].value;
	return 1;
}

static int
conf_validate(struct conf *c, char *err, size_t errsz)
{
	struct stat st;

	if (c->webroot[0] != '\0' &&
	    (stat(c->webroot, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(err, errsz, "webroot: %s: not a directory",
		         c->webroot);
		return -1;
	}
	if (c->sendfile_mode != SENDFILE_NONE && c->webroot[0] != '/') {
		snprintf(err, errsz,
		         "sendfile-mode: needs an absolute webroot");
		return -1;
	}
	/* X-Sendfile names webroot/path, which lighttpd percent-decodes. */
	if ((c->sendfile_mode == SENDFILE_LIGHTTPD ||
	     c->sendfile_mode == SENDFILE_APACHE) &&
	    !str_ascii_except(c->webroot, "%")) {
		snprintf(err, errsz,
		         "sendfile-mode: the webroot %s holds a '%%' or a "
		         "byte that is not ASCII, which the web server would "
		         "read as another path",
		         c->webroot);
		return -1;
	}
	if (c->state_dir[0] == '\0') {
		snprintf(err, errsz, "state-dir: must not be empty");
		return -1;
	}
	/* Both are answered before the map: one path would hide the other. */
	if (c->health_path[0] != '\0' &&
	    strcmp(c->health_path, c->metrics_path) == 0) {
		snprintf(err, errsz,
		         "health-path: %s is the metrics-path too; give each "
		         "its own path",
		         c->health_path);
		return -1;
	}
	return 0;
}

/*
 * The sources over the defaults, in rising precedence: the config file,
 * the environment, the command line a.
 */
static int
conf_sources(struct conf *c, const struct args *a, char *err, size_t errsz)
{
	const char *envfile = getenv("SHERVE_CONFIG");

	if (a->config != NULL && (c->config_file = strdup(a->config)) == NULL)
		goto nomem;
	if (conf_help_args(c, a))
		return SH_OK;
	if (c->config_file == NULL && envfile != NULL && envfile[0] != '\0' &&
	    (c->config_file = strdup(envfile)) == NULL)
		goto nomem;
	/* SHERVE_CONFIG set but empty: read no file at all. */
	if (c->config_file == NULL && envfile == NULL)
		c->config_file = conf_find_file();
	if (c->config_file != NULL &&
	    conf_file(c, c->config_file, err, errsz) != 0)
		return SH_EINVAL;
	if (conf_env(c, err, errsz) != 0 || conf_args(c, a, err, errsz) != 0 ||
	    conf_validate(c, err, errsz) != 0)
		return SH_EINVAL;
	return SH_OK;
nomem:
	snprintf(err, errsz, "out of memory");
	return SH_ENOMEM;
}

int
conf_load(struct conf *c, int argc, char **argv, char *err, size_t errsz)
{
	struct args a;
	int rc;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	rc = conf_defaults(c, err, errsz) != 0 ? SH_EINVAL : SH_OK;
	if (rc == SH_OK &&
	    (rc = args_parse(c, &a, argc, argv, err, errsz)) == SH_OK) {
		rc = conf_sources(c, &a, err, errsz);
		args_free(&a);
	}
	if (rc != SH_OK)
		conf_free(c);
	return rc;
}

void
conf_free(struct conf *c)
{
	size_t i;

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type == K_STR || keys[i].type == K_HDR ||
		    keys[i].type == K_HOSTS || keys[i].type == K_DIR ||
		    keys[i].type == K_BASE) {
			char **slot = (char **)((char *)c + keys[i].off);

			free(*slot);
			*slot = NULL;
		}
	}
	free(c->config_file);
	c->config_file = NULL;
	free(c->export_format);
	c->export_format = NULL;
}

/*
 * The value of k in c, as key_set() reads it back: a string of c, or
 * one written into num (numsz bytes).
 */
static const char *
key_value(const struct conf *c, const struct key *k, char *num, size_t numsz)
{
	const void *slot = (const char *)c + k->off;

	switch (k->type) {
	case K_STR:
	case K_HDR:
	case K_HOSTS:
	case K_DIR:
	case K_BASE: return *(char *const *)slot;
	case K_U64:
		snprintf(num, numsz, "%llu",
		         (unsigned long long)*(const uint64_t *)slot);
		return num;
	case K_STATUS:
		snprintf(num, numsz, "%u", *(const unsigned *)slot);
		return num;
	case K_LEVEL: return log_level_name(*(const enum log_level *)slot);
	case K_BOOL: return *(const int *)slot ? "yes" : "no";
	case K_CACHEBUST: return bust[*(const enum cachebust *)slot];
	case K_SENDFILE:
		return sendfile_modes[*(const enum sendfile_mode *)slot];
	case K_FORMAT: return formats[*(const enum redirects_format *)slot];
	case K_FORWARD: return forwards[*(const enum forward_query *)slot];
	case K_CASE: return cases[*(const int *)slot];
	case K_DIRSLASH: return dirslashes[*(const enum directory_slash *)slot];
	case K_DIALECT: return dialects[*(const enum redirects_dialect *)slot];
	}
	return "";
}

int
conf_env_entry(const struct conf *c, size_t i, char *buf, size_t bufsz)
{
	char var[64], num[32];

	if (i >= NKEYS)
		return 0;
	env_name(&keys[i], var, sizeof(var));
	return snprintf(buf, bufsz, "%s=%s", var,
	                key_value(c, &keys[i], num, sizeof(num)));
}

/* The value's placeholder in --help, as GNU tools write --name=VALUE. */
static const char *
key_arg(const struct key *k)
{
	switch (k->type) {
	case K_U64: return "N";
	case K_DIR: return "DIR";
	case K_BASE: return "PATH";
	case K_HDR: return "VALUE";
	case K_STATUS: return "CODE";
	case K_BOOL: return "yes|no";
	case K_LEVEL: return "LEVEL";
	case K_HOSTS: return "NAMES";
	case K_STR: break;
	default: return "WORD";
	}
	if (strcmp(k->name, "state-dir") == 0)
		return "DIR";
	if (strcmp(k->name, "redirects-url") == 0)
		return "URL";
	if (strcmp(k->name, "ca-bundle") == 0)
		return "FILE";
	if (strcmp(k->name, "listen") == 0)
		return "ADDR";
	return strcmp(k->name, "user") == 0 ? "USER" : "VALUE";
}

/*
 * Print text from column col on, wrapped at 79 columns with later lines
 * indented to column ind. Returns the column the text ends at.
 */
static size_t
usage_wrap(FILE *fp, size_t col, size_t ind, const char *text)
{
	const char *w = text, *e;
	size_t n;

	while (*w != '\0') {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			break;
		e = strchr(w, ' ');
		n = e != NULL ? (size_t)(e - w) : strlen(w);
		if (col > ind && col + 1 + n > 79) {
			fprintf(fp, "\n%*s", (int)ind, "");
			col = ind;
		} else if (col > ind) {
			fputc(' ', fp);
			col++;
		}
		fprintf(fp, "%.*s", (int)n, w);
		col += n;
		w += n;
	}
	return col;
}

/* One option of --help: "  --name=ARG", the help, then [default]. */
static void
usage_row(FILE *fp, const char *name, const char *arg, const char *help,
          const char *defval)
{
	enum { IND = 30 };
	char opt[64], def[128];
	size_t col;

	col = (size_t)snprintf(opt, sizeof(opt), "  --%s=%s", name, arg);
	fputs(opt, fp);
	if (col + 2 > IND)
		fprintf(fp, "\n%*s", IND, "");
	else
		fprintf(fp, "%*s", (int)(IND - col), "");
	col = usage_wrap(fp, IND, IND, help);
	snprintf(def, sizeof(def), "[%s]", defval[0] != '\0' ? defval : "none");
	/* The default stays on one line, even if that means a new one. */
	if (col + 1 + strlen(def) > 79)
		fprintf(fp, "\n%*s%s\n", IND, "", def);
	else
		fprintf(fp, " %s\n", def);
}

void
conf_usage(void *vfp)
{
	FILE *fp = vfp;
	size_t i;

	usage_row(fp, "config", "FILE",
	          "read settings from FILE, not sherve.conf beside the binary "
	          "or",
	          CONF_SYSTEM_FILE);
	for (i = 0; i < NKEYS; i++)
		usage_row(fp, keys[i].name, key_arg(&keys[i]), keys[i].help,
		          keys[i].def);
}
