/* cli.c - one function per admin verb; see cli.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asset.h"
#include "check.h"
#include "check_probe.h"
#include "cli.h"
#include "export.h"
#include "fetch.h"
#include "handler.h"
#include "listing.h"
#include "log.h"
#include "metrics.h"
#include "path.h"
#include "redirects.h"
#include "refresh.h"
#include "location.h"
#include "schedule.h"
#include "store.h"
#include "url.h"
#include "util.h"

struct verb {
	const char *name;
	int min_args, max_args; /* operands after the verb */
	int (*fn)(const struct conf *c, struct store *s);
	int writes;     /* opens the store read-write, creating it */
	int nostore_ok; /* runs without a store (s is NULL) */
	/* Checks run before the store is opened, so a command refused
	 * creates nothing (as root, a store the workers could not open). */
	int (*validate)(const struct conf *c);
};

int
cli_stdout_done(const char *verb)
{
	int e = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		e = errno;
	if (e == 0 && !ferror(stdout))
		return 0;
	if (e != 0)
		fprintf(stderr, "sherve: %s: cannot write the output: %s\n",
		        verb, strerror(e));
	else
		fprintf(stderr, "sherve: %s: cannot write the output\n", verb);
	return -1;
}

/*
 * Before a command prints the whole map (list, export, the diff of
 * check): a map that fails its checksum would print wrong, silently.
 * Returns 0, or -1 when it is damaged (store_damage() says why).
 */
static int
verified(struct store *s)
{
	char sum[96];

	return store_verify(s, sum, sizeof(sum)) == SH_EDAMAGED ? -1 : 0;
}

/*
 * A read that found the store damaged, or failed: say so, and what
 * repairs it. Returns the exit status.
 */
static int
store_failed(const char *verb, struct store *s)
{
	const char *why = store_damage(s);

	if (why != NULL) {
		fprintf(stderr,
		        "sherve: %s: the store is damaged (%s); sherve "
		        "refresh --force sets it aside and rebuilds it\n",
		        verb, why);
		return EXIT_IOERR;
	}
	fprintf(stderr, "sherve: %s: cannot read the store\n", verb);
	return EXIT_FAILED;
}

/*
 * refresh --startup, --scheduled or --miss: a refresh a worker started
 * (refresher.h), which reports as the worker would, in its log.
 */
static int
as_worker(const struct conf *c)
{
	return c->startup || c->scheduled || c->miss;
}

/* check and metrics run without a store: diff against nothing, zeros. */
static int
open_store(const struct conf *c, const struct verb *v, struct store **s)
{
	char err[512];
	int rc;

	if (v->writes)
		rc = store_open(c->state_dir, s, err, sizeof(err));
	else
		rc = store_open_reader(c->state_dir, s, err, sizeof(err));
	if (rc == SH_OK || (rc == SH_ENOTFOUND && v->nostore_ok))
		return EXIT_OK;
	if (as_worker(c))
		log_warnx("refresh: %s", err);
	else
		fprintf(stderr, "sherve: %s\n", err);
	return rc == SH_EINVAL ? EXIT_CONFIG : EXIT_IOERR;
}

static int
report(int rc, const struct refresh_report *rep)
{
	if (rc == SH_OK || rc == SH_EUNCHANGED) {
		printf("%s\n", rep->msg);
		return EXIT_OK;
	}
	fprintf(stderr, "sherve: refresh failed: %s\n", rep->msg);
	return rc == SH_EINVAL ? EXIT_CONFIG : EXIT_FAILED;
}

static int
refresh_validate(const struct conf *c)
{
	char msg[320];

	if (c->force + c->startup + c->scheduled + c->miss > 1) {
		fprintf(stderr, "sherve: refresh: --force, --startup, "
		                "--scheduled and --miss exclude each other\n");
		return EXIT_USAGE;
	}
	if (refresh_url_check(c, msg, sizeof(msg)) == SH_OK)
		return EXIT_OK;
	if (as_worker(c))
		log_error("refresh failed: %s", msg);
	else
		fprintf(stderr, "sherve: refresh failed: %s\n", msg);
	return EXIT_CONFIG;
}

static int
verb_refresh(const struct conf *c, struct store *s)
{
	struct refresh_report rep;
	unsigned flags = c->force ? REFRESH_FORCE : 0;
	int rc;

	if (!as_worker(c))
		return report(refresh_run(c, s, flags, &rep), &rep);
	/* Logged already; the worker reads the status (refresher_wait()). */
	rc = schedule_child(c, s);
	if (rc == SH_OK || rc == SH_EUNCHANGED)
		return EXIT_OK;
	if (rc == SH_EBUSY)
		return EXIT_TEMPFAIL;
	return rc == SH_EINVAL ? EXIT_CONFIG : EXIT_FAILED;
}

/* Read a whole local file or stdin for import; bounded by max-body. */
static char *
slurp(const char *path, uint64_t max, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	if (fp == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (n > max) {
			errno = EFBIG;
			goto fail;
		}
	} while (got > 0);
	if (ferror(fp))
		goto fail;
	buf[n] = '\0';
	*len = n;
	if (fp != stdin)
		fclose(fp);
	return buf;
fail:
	free(buf);
	if (fp != stdin)
		fclose(fp);
	return NULL;
}

/* The file must be readable before a store is created for it. */
static int
import_validate(const struct conf *c)
{
	const char *file = c->args[1];
	FILE *fp;

	if (strcmp(file, "-") == 0)
		return EXIT_OK;
	if ((fp = fopen(file, "rb")) == NULL) {
		fprintf(stderr, "sherve: import: %s: %s\n", file,
		        strerror(errno));
		return EXIT_FAILED;
	}
	fclose(fp);
	return EXIT_OK;
}

static int
verb_import(const struct conf *c, struct store *s)
{
	struct refresh_report rep;
	const char *file = c->args[1];
	char source[4096];
	size_t len = 0;
	char *buf;
	int rc;

	if ((buf = slurp(file, c->max_body, &len)) == NULL) {
		fprintf(stderr, "sherve: import: %s: %s\n", file,
		        strerror(errno));
		return EXIT_FAILED;
	}
	snprintf(source, sizeof(source), "import:%s",
	         strcmp(file, "-") == 0 ? "stdin" : file);
	/* Freed by refresh_import(), once parsed. */
	rc = refresh_import(c, s, buf, len, source,
	                    c->force ? REFRESH_FORCE : 0, &rep);
	return report(rc, &rep);
}

/*
 * `list`: the stored map in the format it was read in: a "_redirects"
 * map as a "_redirects" file, in its order; else the gosherve superset.
 */
static int
verb_list(const struct conf *c, struct store *s)
{
	struct listing l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.redirect_status = c->redirect_status;
	if (verified(s) != 0 || listing_collect(s, &l) != SH_OK) {
		listing_free(&l);
		return store_failed("list", s);
	}
	rc = listing_write(stdout, &l,
	                   (l.flags & MATCH_ORDERED) ? LISTING_REDIRECTS
	                                             : LISTING_GOSHERVE);
	listing_free(&l);
	/* Whatever failed, the output's state says why. */
	return cli_stdout_done("list") == 0 && rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/*
 * `lookup PATH [HOST]`: what a request for PATH below base-path would be
 * sent to. base-path/PATH goes through the normalisation of a request
 * (one percent-decoding, dot segments, refusals) and the handler's own
 * resolution (handler_rule()), so the two cannot disagree; a leading '/'
 * may be left out, and a "?query" is merged as a request's would be.
 */
static int
verb_lookup(const struct conf *c, struct store *s)
{
	char uri[ASSET_PATH_MAX + 1], rel[ASSET_PATH_MAX];
	char host[LOCATION_HOST_MAX + 1];
	const char *arg = c->args[1], *hp = NULL, *q;
	struct handler_rule a;
	int rc, slash;

	if (c->nargs > 2) {
		if (location_host(c->args[2], strlen(c->args[2]), host,
		                  sizeof(host)) < 0) {
			fprintf(stderr, "sherve: lookup: %s: not a host name\n",
			        c->args[2]);
			return EXIT_USAGE;
		}
		hp = c->args[2];
	}
	rc = (size_t)snprintf(uri, sizeof(uri), "%s%s%s", c->base_path,
	                      arg[0] == '/' ? "" : "/", arg) < sizeof(uri)
	             ? path_normalise(uri, c->base_path, rel, sizeof(rel),
	                              &slash)
	             : PATH_TOO_LONG;
	q = strchr(uri, '?');
	if (rc == PATH_OK)
		rc = handler_rule(c, s, rel, slash, hp,
		                  q != NULL ? q + 1 : NULL, &a);
	else
		rc = SH_ENOTFOUND; /* a request for it is refused */
	switch (rc) {
	case SH_OK:
		/* A redirect prints its Location; a rewrite, 404 or 410 the
		 * status and the page. */
		if (a.status >= 300 && a.status < 400)
			printf("%s\n", a.location);
		else
			printf("%d %s\n", a.status,
			       a.url[0] != '\0'  ? a.location
			       : a.status == 410 ? "Gone"
			                         : "Not Found");
		return cli_stdout_done("lookup") == 0 ? EXIT_OK : EXIT_FAILED;
	case SH_ENOTFOUND:
	case SH_ETOOLONG:
		fprintf(stderr, "sherve: %s: no such alias\n", arg);
		return EXIT_FAILED;
	}
	return store_failed("lookup", s);
}

/*
 * `export [--format nginx|apache|redirects] [FILE]`: to stdout, or FILE.
 * Apache needs FILE: the RewriteMap the server reads; the mod_rewrite
 * block that names it goes to stdout.
 */
static int
verb_export(const struct conf *c, struct store *s)
{
	const char *name = c->export_format ? c->export_format : "redirects";
	const char *file = c->nargs > 1 ? c->args[1] : NULL;
	enum export_format f;
	FILE *fp = NULL;
	int rc;

	if (export_format_parse(name, &f) != 0) {
		fprintf(stderr,
		        "sherve: export: --format %s: must be nginx, "
		        "apache or redirects\n",
		        name);
		return EXIT_USAGE;
	}
	if (f == EXPORT_APACHE && file == NULL) {
		fprintf(stderr, "sherve: export: apache needs the path of the "
		                "RewriteMap file to write\n");
		return EXIT_USAGE;
	}
	if (verified(s) != 0)
		return store_failed("export", s);
	if (file != NULL && (fp = fopen(file, "w")) == NULL) {
		fprintf(stderr, "sherve: export: %s: %s\n", file,
		        strerror(errno));
		return EXIT_FAILED;
	}
	rc = export_write(s, c, f,
	                  f == EXPORT_APACHE || fp == NULL ? stdout : fp, fp,
	                  file);
	if (fp != NULL && fclose(fp) != 0)
		rc = SH_EIO;
	if (rc == SH_OK && cli_stdout_done("export") != 0)
		rc = SH_EIO;
	if (rc == SH_OK)
		return EXIT_OK;
	if (store_damage(s) != NULL)
		return store_failed("export", s);
	fprintf(stderr, "sherve: export: %s\n", sherve_strerror(rc));
	return EXIT_FAILED;
}

static void
print_epoch(const char *label, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[64];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)t);
	printf("%-15s %s\n", label, buf);
}

static void
print_time(const char *label, uint64_t t)
{
	if (t == 0)
		printf("%-15s never\n", label);
	else
		print_epoch(label, t);
}

static void
print_str(const char *label, const char *v)
{
	printf("%-15s %s\n", label, v[0] != '\0' ? v : "-");
}

static void
print_next(const struct conf *c, const struct refresh_state *st)
{
	uint64_t due = refresh_due(c, st);
	if (due == UINT64_MAX) {
		printf("%-15s %s\n", "next due",
		       "never (refresh-interval 0 "
		       "or no redirects-url)");
		return;
	}
	print_epoch("next due", due);
}

/* store_versions_list() callback: keep the current version, then stop. */
static int
take_current(void *ctx, const struct store_version *v)
{
	if (!v->current)
		return 0;
	*(struct store_version *)ctx = *v;
	return 1;
}

/*
 * The version served and its source. While a pin holds, the refresh
 * state's source is that of the newest version, kept but not served:
 * the source printed is the served one's. Falls back to fallback for a
 * map stored before versions were kept.
 */
static void
print_version(struct store *s, const char *fallback)
{
	struct store_version *v = calloc(1, sizeof(*v));
	struct store_vstate vs = { 0 };

	/* Found or not, v->n says: the walk's code would only say why not. */
	if (v != NULL)
		(void)store_versions_list(s, take_current, v, &vs);
	if (v == NULL || v->n == 0) {
		print_str("source", fallback);
		free(v);
		return;
	}
	print_str("source", v->source);
	if (vs.pinned)
		printf("%-15s %llu, pinned (%llu kept; sherve unpin serves "
		       "the newest, %llu)\n",
		       "version", (unsigned long long)v->n,
		       (unsigned long long)vs.count,
		       (unsigned long long)vs.newest);
	else
		printf("%-15s %llu (%llu kept)\n", "version",
		       (unsigned long long)v->n, (unsigned long long)vs.count);
	free(v);
}

/* The refresh bookkeeping (one read of the state). */
static void
print_state(const struct conf *c, struct store *s)
{
	struct refresh_state *st = calloc(1, sizeof(*st));

	if (st == NULL || refresh_state_load(s, st) != SH_OK) {
		printf("%-15s %s\n", "source", "(cannot read the state)");
		free(st);
		return;
	}
	print_version(s, st->source);
	printf("%-15s %zu\n", "aliases", store_count(s));
	print_time("last attempt", st->last_attempt);
	print_str("last result", refresh_result_name(st->last_result));
	print_str("last error", st->last_error);
	print_time("last success", st->last_success);
	printf("%-15s %llu\n", "failures", (unsigned long long)st->failures);
	print_next(c, st);
	print_str("etag", st->etag);
	print_str("last modified", st->last_modified);
	free(st);
}

/*
 * The store's health: the file against its header, the map against its
 * checksum (reads the whole map). Returns 1 if it is damaged.
 */
static int
print_health(struct store *s)
{
	char sum[96];
	int rc = store_verify(s, sum, sizeof(sum));

	if (rc == SH_OK)
		printf("%-15s ok (%s)\n", "store", sum);
	else if (rc == SH_ENOTFOUND)
		printf("%-15s %s\n", "store",
		       store_count(s) > 0 ? "no checksum (written by an older "
		                            "sherve; the next refresh adds one)"
		                          : "empty (no map stored yet)");
	else if (store_damage(s) != NULL)
		printf("%-15s DAMAGED: %s; sherve refresh --force sets it aside "
		       "and rebuilds it\n",
		       "store", store_damage(s));
	else
		printf("%-15s cannot be verified: %s\n", "store",
		       sherve_strerror(rc));
	return store_damage(s) != NULL;
}

static int
verb_status(const struct conf *c, struct store *s)
{
	int damaged;

	/* Which settings these are: an admin's shell and the service must
	 * agree, and this is how to see that they do. */
	printf("%-15s %s\n", "config file",
	       c->config_file != NULL ? c->config_file : "(none)");
	printf("%-15s %s\n", "state dir", c->state_dir);
	printf("%-15s %s\n", "configured",
	       c->redirects_url[0] != '\0' ? c->redirects_url
	                                   : "(redirects-url not set)");
	print_state(c, s);
	damaged = print_health(s);
	if (cli_stdout_done("status") != 0)
		return EXIT_FAILED;
	return damaged ? EXIT_IOERR : EXIT_OK;
}

/* Fetch a URL for check, without validators or a cache-buster. */
static char *
fetch_for_check(const struct conf *c, const char *url, size_t *len)
{
	struct fetch_result fr;
	struct fetch_opts o;
	char *body;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_bundle = c->ca_bundle;
	o.connect_timeout = (long)c->connect_timeout;
	o.timeout = (long)c->fetch_timeout;
	o.max_body = c->max_body;
	if (fetch_url(&o, &fr) != SH_OK) {
		fprintf(stderr, "sherve: check: %s: %s\n", url, fr.err);
		fetch_result_free(&fr);
		return NULL;
	}
	body = fr.body;
	*len = fr.len;
	return body;
}

static int
verb_check(const struct conf *c, struct store *s)
{
	const char *src = c->nargs > 1 ? c->args[1] : c->redirects_url;
	size_t len = 0;
	char *buf;
	int bad;

	if (src[0] == '\0') {
		fprintf(stderr, "sherve: check: no FILE or URL given and "
		                "redirects-url is not set\n");
		return EXIT_USAGE;
	}
	if (c->json && !c->probe) {
		fprintf(stderr, "sherve: check: --json goes with --probe\n");
		return EXIT_USAGE;
	}
	if (url_has_scheme(src))
		buf = fetch_for_check(c, src, &len);
	else if ((buf = slurp(src, c->max_body, &len)) == NULL)
		fprintf(stderr, "sherve: check: %s: %s\n", src,
		        strerror(errno));
	if (buf == NULL)
		return EXIT_FAILED;
	if (!c->probe && s != NULL && verified(s) != 0) {
		free(buf);
		return store_failed("check", s);
	}
	bad = c->probe ? check_probe(c, src, buf, len, c->json)
	               : check_redirects(c, s, src, buf, len);
	free(buf);
	if (s != NULL && store_damage(s) != NULL)
		return store_failed("check (the diff above is incomplete)", s);
	return bad == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
verb_metrics(const struct conf *c, struct store *s)
{
	struct metrics *m = NULL;
	char *text;
	size_t len = 0;
	int rc = EXIT_FAILED;

	if (metrics_open_reader(c->state_dir, &m) != SH_OK) {
		fprintf(stderr, "sherve: metrics: out of memory\n");
		return EXIT_FAILED;
	}
	if ((text = metrics_render(m, s, &len)) != NULL &&
	    fwrite(text, 1, len, stdout) == len &&
	    cli_stdout_done("metrics") == 0)
		rc = EXIT_OK;
	free(text);
	metrics_close(m);
	return rc;
}

static const struct verb verbs[] = {
	{ "check", 0, 1, verb_check, 0, 1, NULL },
	{ "diff", 0, 2, cli_diff, 0, 0, cli_versions_validate },
	{ "export", 0, 1, verb_export, 0, 0, NULL },
	{ "import", 1, 1, verb_import, 1, 0, import_validate },
	{ "list", 0, 0, verb_list, 0, 0, NULL },
	{ "lookup", 1, 2, verb_lookup, 0, 0, NULL },
	{ "metrics", 0, 0, verb_metrics, 0, 1, NULL },
	{ "refresh", 0, 0, verb_refresh, 1, 0, refresh_validate },
	{ "rollback", 0, 1, cli_rollback, 1, 0, cli_versions_validate },
	{ "status", 0, 0, verb_status, 0, 0, NULL },
	{ "unpin", 0, 0, cli_unpin, 1, 0, cli_versions_validate },
	{ "versions", 0, 0, cli_versions, 0, 0, NULL },
};

static const struct verb *
verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

int
cli_main(const struct conf *c)
{
	const struct verb *v = verb_find(c->args[0]);
	struct store *s = NULL;
	int ops = c->nargs - 1, rc;

	if (v == NULL) {
		fprintf(stderr, "sherve: %s: unknown command (see --help)\n",
		        c->args[0]);
		return EXIT_USAGE;
	}
	if (ops < v->min_args || ops > v->max_args) {
		fprintf(stderr,
		        "sherve: %s: wrong number of arguments "
		        "(see --help)\n",
		        v->name);
		return EXIT_USAGE;
	}
	if (v->validate != NULL && (rc = v->validate(c)) != EXIT_OK)
		return rc;
	if ((rc = open_store(c, v, &s)) != EXIT_OK)
		return rc;
	rc = v->fn(c, s);
	store_close(s);
	return rc;
}
