/* listing.c - a map as text in sherve's own formats; see listing.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listing.h"
#include "match.h"
#include "path.h"
#include "redirects.h"
#include "url.h"
#include "util.h"

int
listing_add(struct listing *l, const struct listing_rule *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct listing_rule *v = reallocarray(l->v, cap, sizeof(*v));

		if (v == NULL)
			return SH_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return SH_OK;
}

static int
collect(void *ctx, const struct store_rule *r)
{
	struct listing *l = ctx;
	struct listing_rule e;

	memset(&e, 0, sizeof(e));
	e.host = strndup(r->host, r->hlen);
	e.alias = strndup(r->alias, r->alen);
	e.query = strndup(r->query != NULL ? r->query : "", r->qlen);
	e.url = strndup(r->url, r->ulen);
	e.kind = r->kind;
	e.status = r->status;
	e.flags = r->flags;
	e.line = r->line;
	e.expires = r->expires;
	if (e.host == NULL || e.alias == NULL || e.query == NULL ||
	    e.url == NULL || listing_add(l, &e) != SH_OK) {
		free(e.host);
		free(e.alias);
		free(e.query);
		free(e.url);
		return SH_ENOMEM;
	}
	return 0;
}

int
listing_collect(struct store *s, struct listing *l)
{
	l->owned = 1;
	l->flags = store_map_flags(s);
	return store_foreach_rule(s, collect, l);
}

void
listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; l->owned && i < l->n; i++) {
		free(l->v[i].host);
		free(l->v[i].alias);
		free(l->v[i].query);
		free(l->v[i].url);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* 1 if byte c of a from path is written percent-encoded: as itself, it
 * would not read back (or reach sherve) as c. */
static int
path_encoded(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '#' || c == '?';
}

int
listing_unreachable(const struct listing_rule *r)
{
	char uri[3 * REDIRECT_ALIAS_MAX + 2], rel[REDIRECT_ALIAS_MAX + 3];
	size_t n = strlen(r->alias), i, o = 0;
	int slash;

	if (r->kind == REDIRECT_PATTERN || strcmp(r->alias, "/") == 0)
		return 0;
	if (n > 1 && r->alias[n - 1] == '/')
		n--; /* a Cloudflare key */
	if (n > REDIRECT_ALIAS_MAX || strchr(r->alias, '\\') != NULL ||
	    match_reserved(r->alias, n))
		return 1;
	/*
	 * A request never names what normalising would change. It names
	 * the alias as a client sends it: "100%" as /100%25, "q?" as
	 * /q%3F (which reach the rule), not as the raw bytes.
	 */
	uri[o++] = '/';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->alias[i];

		if (path_encoded(c)) {
			url_pct_encode(c, uri + o);
			o += 3;
		} else {
			uri[o++] = (char)c;
		}
	}
	uri[o] = '\0';
	return path_normalise(uri, "", rel, sizeof(rel), &slash) != PATH_OK ||
	       strlen(rel) != n || memcmp(rel, r->alias, n) != 0;
}

/* ---- order ---- */

static int
by_line(const void *pa, const void *pb)
{
	const struct listing_rule *a = pa, *b = pb;

	return (a->line > b->line) - (a->line < b->line);
}

static int
by_precedence(const void *pa, const void *pb)
{
	const struct listing_rule *a = pa, *b = pb;

	return match_order(a->host, a->kind, a->alias, b->host, b->kind,
	                   b->alias);
}

/* The store's order: sections (the default first), exact, prefix. */
static int
by_section(const void *pa, const void *pb)
{
	const struct listing_rule *a = pa, *b = pb;
	int c = strcmp(a->host, b->host);

	if (c != 0)
		return c;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return strcmp(a->alias, b->alias);
}

void
listing_sort(struct listing *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]),
		      (l->flags & MATCH_ORDERED) ? by_line : by_precedence);
}

/* ---- writing ---- */

/* " expires=..." (a whole day as YYYY-MM-DD). */
static void
put_expires(FILE *fp, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return;
	strftime(buf, sizeof(buf),
	         t % 86400 == 0 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(fp, " expires=%s", buf);
}

/* A from path, each byte that would not read back as itself encoded. */
static void
put_path(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char e[3];

		if (path_encoded(c)) {
			url_pct_encode(c, e);
			fwrite(e, 1, sizeof(e), fp);
		} else {
			fputc(c, fp);
		}
	}
}

/* "alias URL [STATUS] [expires=...]", "alias 410": the gosherve form. */
static void
put_gosherve(FILE *fp, const struct listing_rule *r)
{
	fprintf(fp, "%s%s", r->alias,
	        r->kind != REDIRECT_PREFIX ? ""
	        : r->alias[0] != '\0'      ? "/*"
	                                   : "*");
	if (r->url[0] != '\0')
		fprintf(fp, " %s", r->url);
	if (r->url[0] == '\0' || r->status != 0)
		fprintf(fp, " %u", r->status);
	put_expires(fp, r->expires);
	fputc('\n', fp);
}

static int
write_gosherve(FILE *fp, struct listing *l)
{
	const char *section = "";
	size_t i;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), by_section);
	for (i = 0; i < l->n; i++) {
		const struct listing_rule *r = &l->v[i];

		if (strcmp(r->host, section) != 0) {
			fprintf(fp, "%s@host %s\n", i > 0 ? "\n" : "", r->host);
			section = r->host;
		}
		put_gosherve(fp, r);
	}
	return ferror(fp) ? -1 : 0;
}

/*
 * Why r cannot be written as a "_redirects" line, or NULL: a ':' or '*'
 * of a literal alias would read back as a placeholder or a splat.
 */
static const char *
not_redirects(const struct listing_rule *r)
{
	const char *p = r->alias, *star = strchr(p, '*');

	if (r->kind == REDIRECT_PATTERN)
		return NULL;
	if (star != NULL)
		return "a literal '*' reads as a splat in _redirects";
	for (; (p = strchr(p, ':')) != NULL; p++)
		if ((p == r->alias || p[-1] == '/') &&
		    match_name_len(p + 1, strlen(p + 1)) > 0)
			return "a literal ':name' segment reads as a "
			       "placeholder in _redirects";
	return NULL;
}

void
listing_put_from(FILE *fp, const struct listing_rule *r)
{
	if (r->host[0] != '\0')
		fprintf(fp, "https://%s", r->host);
	fputc('/', fp);
	if (strcmp(r->alias, "/") != 0)
		put_path(fp, r->alias);
	if (r->kind == REDIRECT_PREFIX)
		fputs(r->alias[0] != '\0' ? "/*" : "*", fp);
	if (r->kind == REDIRECT_PATTERN && (r->flags & MATCH_SLASH))
		fputc('/', fp);
}

/* "from [conditions] to|410 [status[!]] [expires=...]" */
static void
put_redirects(FILE *fp, const struct listing *l, const struct listing_rule *r)
{
	unsigned st = r->status;
	const char *q;
	size_t n;

	listing_put_from(fp, r);
	/* Query conditions are fields between from and to. */
	for (q = r->query; *q != '\0'; q += n + (q[n] == '&')) {
		n = strcspn(q, "&");
		fprintf(fp, " %.*s", (int)n, q);
	}
	/* A gosherve map's default status, said (Netlify's is 301). */
	if (st == 0 && !(l->flags & MATCH_ORDERED) && l->redirect_status != 301)
		st = l->redirect_status;
	if (r->url[0] != '\0')
		fprintf(fp, " %s", r->url);
	if (r->url[0] == '\0' || st != 0)
		fprintf(fp, " %u", st != 0 ? st : r->status);
	if ((r->flags & MATCH_FORCE) && !(l->flags & MATCH_CLOUDFLARE))
		fputc('!', fp);
	put_expires(fp, r->expires);
	fputc('\n', fp);
}

static int
any_prefix(const struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].kind == REDIRECT_PREFIX)
			return 1;
	return 0;
}

static int
write_redirects(FILE *fp, struct listing *l)
{
	const char *why;
	size_t i;

	listing_sort(l);
	fprintf(fp,
	        "# _redirects written by sherve: %zu rules; the first line "
	        "that matches answers.\n",
	        l->n);
	if (l->flags & MATCH_CLOUDFLARE)
		fputs("# Read it with redirects-dialect = cloudflare.\n", fp);
	if (!(l->flags & MATCH_ORDERED) && any_prefix(l))
		fputs("# From a gosherve map, whose splats leave out a request's "
		      "trailing slash:\n# here they keep it. `sherve list` "
		      "writes the map as it reads.\n",
		      fp);
	for (i = 0; i < l->n; i++) {
		const struct listing_rule *r = &l->v[i];

		if (listing_unreachable(r))
			continue;
		if ((why = not_redirects(r)) != NULL) {
			fprintf(fp, "# not written: '%s': %s\n", r->alias, why);
			continue;
		}
		put_redirects(fp, l, r);
	}
	return ferror(fp) ? -1 : 0;
}

int
listing_write(FILE *fp, struct listing *l, enum listing_format f)
{
	return f == LISTING_GOSHERVE ? write_gosherve(fp, l)
	                             : write_redirects(fp, l);
}
