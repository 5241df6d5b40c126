/* cli.c - one function per admin verb; see cli.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "redirects.h"
#include "refresh.h"
#include "store.h"
#include "util.h"

struct verb {
	const char *name;
	int min_args, max_args; /* operands after the verb */
	int (*fn)(const struct conf *c, struct store *s);
};

static int
open_store(const struct conf *c, struct store **s)
{
	char err[512];
	int rc;

	if ((rc = store_open(c->state_dir, s, err, sizeof(err))) != SH_OK) {
		fprintf(stderr, "sherve: %s\n", err);
		return rc == SH_EINVAL ? EXIT_CONFIG : EXIT_IOERR;
	}
	return EXIT_OK;
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
verb_refresh(const struct conf *c, struct store *s)
{
	struct refresh_report rep;
	unsigned flags = c->force ? REFRESH_FORCE : 0;

	return report(refresh_run(c, s, flags, &rep), &rep);
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
	rc = refresh_import(c, s, buf, len, source,
	                    c->force ? REFRESH_FORCE : 0, &rep);
	free(buf);
	return report(rc, &rep);
}

static int
print_pair(void *ctx, const char *alias, size_t alen, const char *url,
           size_t ulen)
{
	(void)ctx;
	printf("%.*s %.*s\n", (int)alen, alias, (int)ulen, url);
	return ferror(stdout) ? -1 : 0;
}

static int
verb_list(const struct conf *c, struct store *s)
{
	(void)c;
	if (store_foreach(s, print_pair, NULL) != 0) {
		fprintf(stderr, "sherve: list: cannot read the store\n");
		return EXIT_FAILED;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
verb_lookup(const struct conf *c, struct store *s)
{
	char url[REDIRECT_URL_MAX + 1];
	const char *alias = c->args[1];
	size_t n = strlen(alias);

	/* Trim slashes as request paths are trimmed. */
	while (*alias == '/') {
		alias++;
		n--;
	}
	while (n > 0 && alias[n - 1] == '/')
		n--;
	switch (store_lookup(s, alias, n, url, sizeof(url))) {
	case SH_OK: printf("%s\n", url); return EXIT_OK;
	case SH_ENOTFOUND:
		fprintf(stderr, "sherve: %.*s: no such alias\n", (int)n, alias);
		return EXIT_FAILED;
	}
	fprintf(stderr, "sherve: lookup: cannot read the store\n");
	return EXIT_FAILED;
}

static void
print_time(const char *label, struct store *s, const char *key)
{
	char v[32];
	const char *why;
	uint64_t t;
	time_t tt;
	struct tm tm;
	char buf[64];

	if (store_meta_get(s, key, v, sizeof(v)) != SH_OK || v[0] == '\0' ||
	    parse_u64(v, 0, UINT64_MAX, &t, &why) != 0) {
		printf("%-15s never\n", label);
		return;
	}
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		str_copy(buf, v, sizeof(buf));
	printf("%-15s %s\n", label, buf);
}

static void
print_meta(const char *label, struct store *s, const char *key)
{
	char v[4096];

	if (store_meta_get(s, key, v, sizeof(v)) != SH_OK || v[0] == '\0')
		str_copy(v, "-", sizeof(v));
	printf("%-15s %s\n", label, v);
}

static int
verb_status(const struct conf *c, struct store *s)
{
	printf("%-15s %s\n", "configured",
	       c->redirects_url[0] != '\0' ? c->redirects_url
	                                   : "(redirects-url not set)");
	print_meta("source", s, "source");
	printf("%-15s %zu\n", "aliases", store_count(s));
	print_time("last attempt", s, "last_attempt");
	print_meta("last result", s, "last_result");
	print_meta("last error", s, "last_error");
	print_time("last success", s, "last_success");
	print_meta("etag", s, "etag");
	print_meta("last modified", s, "last_modified");
	return EXIT_OK;
}

static const struct verb verbs[] = {
	{ "import", 1, 1, verb_import }, { "list", 0, 0, verb_list },
	{ "lookup", 1, 1, verb_lookup }, { "refresh", 0, 0, verb_refresh },
	{ "status", 0, 0, verb_status },
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
cli_is_verb(const char *name)
{
	return verb_find(name) != NULL;
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
	if ((rc = open_store(c, &s)) != EXIT_OK)
		return rc;
	rc = v->fn(c, s);
	store_close(s);
	return rc;
}
