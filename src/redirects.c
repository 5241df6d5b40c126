/* redirects.c - the redirects file parser; see redirects.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redirects.h"
#include "util.h"

struct span {
	const char *p;
	size_t n;
};

int
redirects_url_ok(const char *url, size_t len)
{
	size_t skip;

	if (len >= 8 && strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else if (len >= 7 && strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	/* A host must follow: "http:///x" and "http://" are not URLs. */
	return len > skip && url[skip] != '/' && url[skip] != '?' &&
	       url[skip] != '#';
}

/* Split a line into at most 3 whitespace-separated fields. */
static size_t
split_fields(const char *p, size_t n, struct span f[3])
{
	size_t i = 0, nf = 0;

	while (i < n) {
		size_t s;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		s = i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		if (nf < 3) {
			f[nf].p = p + s;
			f[nf].n = i - s;
		}
		nf++;
	}
	return nf;
}

static int
map_push(struct redirect_map *m, struct span alias, struct span url,
         unsigned line)
{
	struct redirect *r;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct redirect *v = reallocarray(m->v, cap, sizeof(*v));

		if (v == NULL)
			return SH_ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	r = &m->v[m->n];
	r->alias = strndup(alias.p, alias.n);
	r->url = strndup(url.p, url.n);
	r->line = line;
	if (r->alias == NULL || r->url == NULL) {
		free(r->alias);
		free(r->url);
		return SH_ENOMEM;
	}
	m->n++;
	return SH_OK;
}

/* Returns NULL if the line is valid, else the reason it is skipped. */
static const char *
check_line(const char *p, size_t n, struct span f[3], size_t *nf)
{
	if (memchr(p, '\0', n) != NULL || str_has_ctl(p, n)) {
		/* Tabs separate fields; any other CTL could reach a header. */
		size_t i;

		for (i = 0; i < n; i++)
			if (((unsigned char)p[i] < 0x20 && p[i] != '\t') ||
			    p[i] == 0x7f)
				return "control character";
	}
	*nf = split_fields(p, n, f);
	if (*nf != 2)
		return "expected 2 fields: alias URL";
	while (f[0].n > 0 && f[0].p[0] == '/') {
		f[0].p++;
		f[0].n--;
	}
	while (f[0].n > 0 && f[0].p[f[0].n - 1] == '/')
		f[0].n--;
	if (f[0].n == 0)
		return "empty alias";
	if (f[0].n > REDIRECT_ALIAS_MAX)
		return "alias too long";
	if (f[1].n > REDIRECT_URL_MAX)
		return "URL too long";
	if (!redirects_url_ok(f[1].p, f[1].n))
		return "URL is not absolute http or https";
	return NULL;
}

static int
alias_cmp(const struct redirect *a, const struct redirect *b)
{
	size_t la = strlen(a->alias), lb = strlen(b->alias);
	int c = memcmp(a->alias, b->alias, la < lb ? la : lb);

	/* LMDB's default key order: bytes, then the shorter key first. */
	if (c != 0)
		return c;
	if (la != lb)
		return la < lb ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int
qsort_cmp(const void *a, const void *b)
{
	return alias_cmp(a, b);
}

/* Sort, then keep the first line of each alias. */
static void
map_dedupe(struct redirect_map *m, redirects_warn_fn warn, void *ctx)
{
	size_t i, o = 0;

	/* qsort(NULL, 0, ...) is undefined: an empty map has no v. */
	if (m->n < 2)
		return;
	qsort(m->v, m->n, sizeof(m->v[0]), qsort_cmp);
	for (i = 0; i < m->n; i++) {
		if (o > 0 && strcmp(m->v[o - 1].alias, m->v[i].alias) == 0) {
			if (warn != NULL)
				warn(ctx, m->v[i].line,
				     "duplicate alias (first line wins)");
			m->duplicates++;
			free(m->v[i].alias);
			free(m->v[i].url);
			continue;
		}
		m->v[o++] = m->v[i];
	}
	m->n = o;
}

int
redirects_parse(const char *buf, size_t len, struct redirect_map *m,
                redirects_warn_fn warn, void *ctx)
{
	const char *p = buf, *end = buf + len;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		const char *why, *q;
		struct span f[3];
		size_t nf;

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (q = p; q < p + n && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < p + n && *q != '#') {
			if ((why = check_line(p, n, f, &nf)) != NULL) {
				m->invalid++;
				if (warn != NULL)
					warn(ctx, line, why);
			} else if (map_push(m, f[0], f[1], line) != SH_OK) {
				return SH_ENOMEM;
			}
		}
		p = nl != NULL ? nl + 1 : end;
	}
	map_dedupe(m, warn, ctx);
	return SH_OK;
}

void
redirects_free(struct redirect_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].alias);
		free(m->v[i].url);
	}
	free(m->v);
	memset(m, 0, sizeof(*m));
}
