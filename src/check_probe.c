/* check_probe.c - `sherve check --probe`; see check_probe.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_probe.h"
#include "location.h"
#include "match.h"
#include "probe.h"
#include "redirects.h"
#include "refresh.h"
#include "util.h"

#define ALIASES_SHOWN 3 /* in a text line; JSON lists them all */

/* One rule and the URL it sends visitors to. */
struct use {
	char *url; /* probed, or the relative path of a skipped one */
	const struct redirect *r;
	int skip; /* relative, in no host section */
};

/* One distinct target: uses[first, first + count) send to it. */
struct group {
	size_t first, count;
	unsigned line;          /* the first line that sends to it */
	struct probe_target *t; /* NULL: skipped */
};

struct probe_report {
	const char *source;
	const struct use *uses;
	struct group *g;
	size_t nuses, ng;
	unsigned counts[4]; /* fine, redirected, dead, skipped */
};

enum { N_FINE, N_REDIRECTED, N_DEAD, N_SKIPPED };

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	fprintf(stderr, "%s:%u: %s\n", (const char *)ctx, line, reason);
}

/*
 * 1 if r has one target to probe: not a 404 or 410 without a page, not
 * a pattern whose target takes a ":placeholder" of the request.
 */
static int
probed(const struct redirect *r)
{
	return r->url[0] != '\0' &&
	       (r->kind != REDIRECT_PATTERN ||
	        match_placeholder(r->url, "splat") == NULL);
}

/* The Location a visitor of r's alias itself gets, as a URL to probe. */
static int
use_of(const struct redirect *r, struct use *u)
{
	char loc[REDIRECT_URL_MAX + 1];
	size_t n;

	struct match_result m; /* an empty splat */

	memset(&m, 0, sizeof(m));
	m.splat = "";
	u->r = r;
	u->skip = 0;
	if (location_build(r->url, r->kind != REDIRECT_EXACT ? &m : NULL, NULL,
	                   loc, sizeof(loc)) < 0)
		str_copy(loc, r->url, sizeof(loc)); /* over 8 KiB encoded */
	if (loc[0] != '/' || r->host == NULL) {
		/* A relative target outside any @host names no site. */
		u->skip = loc[0] == '/';
		return (u->url = str_dup(loc)) != NULL ? 0 : -1;
	}
	n = strlen(r->host) + strlen(loc) + sizeof("https://");
	if ((u->url = malloc(n)) == NULL)
		return -1;
	snprintf(u->url, n, "https://%s%s", r->host, loc);
	return 0;
}

static int
use_cmp(const void *a, const void *b)
{
	const struct use *x = a, *y = b;
	int c;

	if (x->skip != y->skip)
		return x->skip - y->skip;
	if ((c = strcmp(x->url, y->url)) != 0)
		return c;
	return (x->r->line > y->r->line) - (x->r->line < y->r->line);
}

static int
group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* Group the sorted uses by URL, in the order of the file. */
static struct group *
group_uses(const struct use *u, size_t n, size_t *ng)
{
	struct group *g = calloc(n > 0 ? n : 1, sizeof(*g));
	size_t i, k = 0;

	if (g == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (i == 0 || u[i].skip != u[i - 1].skip ||
		    strcmp(u[i].url, u[i - 1].url) != 0) {
			g[k].first = i;
			g[k].line = u[i].r->line;
			k++;
		}
		g[k - 1].count++;
		if (u[i].r->line < g[k - 1].line)
			g[k - 1].line = u[i].r->line;
	}
	if (k > 1)
		qsort(g, k, sizeof(*g), group_cmp);
	*ng = k;
	return g;
}

static int
file_put(void *ctx, const char *p, size_t n)
{
	return fwrite(p, 1, n, ctx) == n ? 0 : -1;
}

static void
json_str(const char *s)
{
	if (s == NULL || s[0] == '\0') {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	(void)json_escape(s, file_put, stdout);
	putchar('"');
}

static void
json_rules(const struct probe_report *p, const struct group *g)
{
	size_t i;

	fputs(",\"rules\":[", stdout);
	for (i = 0; i < g->count; i++) {
		const struct redirect *r = p->uses[g->first + i].r;

		fputs(i > 0 ? ",{\"alias\":" : "{\"alias\":", stdout);
		json_str(r->alias);
		printf(",\"line\":%u,\"host\":", r->line);
		json_str(r->host);
		putchar('}');
	}
	putchar(']');
}

static void
json_target(const struct probe_report *p, const struct group *g)
{
	const struct probe_target *t = g->t;

	fputs("{\"url\":", stdout);
	json_str(p->uses[g->first].url);
	if (t == NULL) {
		fputs(",\"result\":\"skipped\",\"status\":null,\"final_url\":"
		      "null,\"redirects\":0,\"method\":null,\"detail\":",
		      stdout);
		json_str("relative target outside any @host section: no "
		         "host to probe it on");
	} else {
		printf(",\"result\":\"%s\",\"status\":",
		       probe_verdict_name(t->verdict));
		if (t->status > 0)
			printf("%ld", t->status);
		else
			fputs("null", stdout);
		fputs(",\"final_url\":", stdout);
		json_str(t->final_url);
		printf(",\"redirects\":%u,\"method\":\"%s\",\"detail\":",
		       t->redirects, t->used_get ? "GET" : "HEAD");
		json_str(t->error);
	}
	json_rules(p, g);
	putchar('}');
}

static void
report_json(const struct probe_report *p)
{
	size_t i;

	fputs("{\"source\":", stdout);
	json_str(p->source);
	printf(",\"rules\":%zu,\"targets\":[", p->nuses);
	for (i = 0; i < p->ng; i++) {
		if (i > 0)
			putchar(',');
		json_target(p, &p->g[i]);
	}
	printf("],\"counts\":{\"fine\":%u,\"redirected\":%u,\"dead\":%u,"
	       "\"skipped\":%u}}\n",
	       p->counts[N_FINE], p->counts[N_REDIRECTED], p->counts[N_DEAD],
	       p->counts[N_SKIPPED]);
}

/* "  <- gh (line 3), git (line 9, @host example.org), +2 more" */
static void
text_rules(const struct probe_report *p, const struct group *g)
{
	size_t i;

	fputs("  <- ", stdout);
	for (i = 0; i < g->count && i < ALIASES_SHOWN; i++) {
		const struct redirect *r = p->uses[g->first + i].r;

		printf("%s%s (line %u%s%s)", i > 0 ? ", " : "", r->alias,
		       r->line, r->host != NULL ? ", @host " : "",
		       r->host != NULL ? r->host : "");
	}
	if (g->count > ALIASES_SHOWN)
		printf(", +%zu more", g->count - ALIASES_SHOWN);
	putchar('\n');
}

static void
text_target(const struct probe_report *p, const struct group *g)
{
	const struct probe_target *t = g->t;
	const char *url = p->uses[g->first].url;

	if (t == NULL) {
		printf("%-10s   - %s (relative target outside any @host "
		       "section: no host to probe it on)",
		       "skipped", url);
		text_rules(p, g);
		return;
	}
	printf("%-10s ", probe_verdict_name(t->verdict));
	if (t->status > 0)
		printf("%3ld %s", t->status, url);
	else
		printf("  - %s", url);
	if (t->redirects > 0)
		printf(" -> %s (%u redirect%s)", t->final_url, t->redirects,
		       t->redirects > 1 ? "s" : "");
	if (t->used_get)
		fputs(" (GET: HEAD refused)", stdout);
	if (t->error[0] != '\0')
		printf(" (%s)", t->error);
	text_rules(p, g);
}

static void
report_text(const struct probe_report *p)
{
	size_t i;

	for (i = 0; i < p->ng; i++)
		text_target(p, &p->g[i]);
	printf("%s: %zu targets of %zu rules: %u fine, %u redirected, %u "
	       "dead, %u skipped\n",
	       p->source, p->ng, p->nuses, p->counts[N_FINE],
	       p->counts[N_REDIRECTED], p->counts[N_DEAD],
	       p->counts[N_SKIPPED]);
}

/* Probe what the groups of p name; fills their verdicts and counts. */
static int
probe_groups(const struct conf *c, struct probe_report *p,
             struct probe_target *t)
{
	struct probe_opts o = {
		c->ca_bundle,           (long)c->connect_timeout,
		(long)c->fetch_timeout, PROBE_PARALLEL,
		PROBE_PER_SECOND,       PROBE_REDIRECTS
	};
	size_t i, nt = 0;
	int rc;

	for (i = 0; i < p->ng; i++) {
		if (p->uses[p->g[i].first].skip) {
			p->counts[N_SKIPPED]++;
			continue;
		}
		t[nt].url = p->uses[p->g[i].first].url;
		p->g[i].t = &t[nt++];
	}
	if ((rc = probe_run(&o, t, nt)) != SH_OK)
		return rc;
	for (i = 0; i < nt; i++)
		p->counts[t[i].verdict == PROBE_FINE         ? N_FINE
		          : t[i].verdict == PROBE_REDIRECTED ? N_REDIRECTED
		                                             : N_DEAD]++;
	return SH_OK;
}

/* Parse, collect and group the targets, probe them, report. */
static int
probe_map(const struct conf *c, const struct redirect_map *m,
          struct probe_report *p, struct use *u, int json)
{
	struct probe_target *t = NULL;
	size_t i;
	int rc = SH_ENOMEM;

	p->nuses = 0;
	for (i = 0; i < m->n; i++)
		if (probed(&m->v[i]) && use_of(&m->v[i], &u[p->nuses++]) != 0)
			goto out;
	if (p->nuses > 1)
		qsort(u, p->nuses, sizeof(*u), use_cmp);
	if ((p->g = group_uses(u, p->nuses, &p->ng)) == NULL ||
	    (t = calloc(p->ng > 0 ? p->ng : 1, sizeof(*t))) == NULL)
		goto out;
	if ((rc = probe_groups(c, p, t)) == SH_OK) {
		if (json)
			report_json(p);
		else
			report_text(p);
	}
	probe_targets_free(t, p->ng);
out:
	free(t);
	return rc;
}

int
check_probe(const struct conf *c, const char *source, const char *buf,
            size_t len, int json)
{
	struct probe_report p = { source, NULL, NULL, 0, 0, { 0, 0, 0, 0 } };
	struct redirect_map m = { 0 };
	struct redirects_opts o;
	struct use *u = NULL;
	size_t i;
	int rc = SH_ENOMEM;

	refresh_parse_opts(c, source, &o);
	if (redirects_parse_opts(buf, len, &o, &m, on_warn, (void *)source) !=
	            SH_OK ||
	    (u = calloc(m.n > 0 ? m.n : 1, sizeof(*u))) == NULL)
		goto out;
	p.uses = u;
	rc = probe_map(c, &m, &p, u, json);
	if (rc == SH_OK && (fflush(stdout) != 0 || ferror(stdout)))
		rc = SH_EIO;
out:
	if (rc != SH_OK)
		fprintf(stderr, "sherve: check --probe: %s\n",
		        sherve_strerror(rc));
	for (i = 0; u != NULL && i < m.n; i++)
		free(u[i].url);
	free(u);
	free(p.g);
	redirects_free(&m);
	return rc == SH_OK ? (int)p.counts[N_DEAD] : -1;
}
