/* check.c - the redirects linter behind `sherve check`; see check.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset.h"
#include "check.h"
#include "path.h"
#include "redirects.h"
#include "util.h"

struct lint {
	const char *source;
	unsigned problems;
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct lint *l = ctx;

	printf("%s:%u: %s\n", l->source, line, reason);
}

static const struct redirect *
find(const struct redirect_map *m, const char *alias, size_t n)
{
	size_t lo = 0, hi = m->n;

	/* The map is sorted in LMDB order: bytes, then shorter first. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *a = m->v[mid].alias;
		size_t al = strlen(a);
		int c = memcmp(a, alias, al < n ? al : n);

		if (c == 0)
			c = al < n ? -1 : al > n;
		if (c == 0)
			return &m->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
check_shadow(const struct conf *c, const struct lint *l,
             const struct redirect *r)
{
	char uri[REDIRECT_ALIAS_MAX + 2], rel[ASSET_PATH_MAX];
	struct asset a;
	int slash;

	if (c->webroot[0] == '\0')
		return;
	snprintf(uri, sizeof(uri), "/%s", r->alias);
	if (path_normalise(uri, "", rel, sizeof(rel), &slash) == PATH_OK &&
	    asset_open(c->webroot, rel, 0, &a) == ASSET_OK) {
		printf("%s:%u: alias '%s' is shadowed by the asset %s\n",
		       l->source, r->line, r->alias, a.path);
		asset_close(&a);
	}
}

/* The path of an absolute URL, slashes trimmed, into out. */
static void
url_path(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://"), *end;
	size_t n;

	out[0] = '\0';
	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return;
	while (*p == '/')
		p++;
	end = p + strcspn(p, "?#");
	while (end > p && end[-1] == '/')
		end--;
	n = (size_t)(end - p);
	if (n < outsz) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

static void
check_loop(const struct lint *l, const struct redirect_map *m,
           const struct redirect *r)
{
	char path[REDIRECT_URL_MAX + 1];

	url_path(r->url, path, sizeof(path));
	if (path[0] != '\0' && find(m, path, strlen(path)) != NULL)
		printf("%s:%u: target of '%s' is the alias '%s' (a loop if "
		       "that host is served by this sherve)\n",
		       l->source, r->line, r->alias, path);
}

struct diff {
	const struct redirect_map *m;
	unsigned removed;
};

static int
on_stored(void *ctx, const char *alias, size_t alen, const char *url,
          size_t ulen)
{
	struct diff *d = ctx;

	if (find(d->m, alias, alen) == NULL) {
		printf("- %.*s %.*s\n", (int)alen, alias, (int)ulen, url);
		d->removed++;
	}
	return 0;
}

static void
check_diff(struct store *s, const struct redirect_map *m)
{
	char old[REDIRECT_URL_MAX + 1];
	struct diff d = { m, 0 };
	unsigned added = 0, changed = 0;
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];
		int rc = store_lookup(s, r->alias, strlen(r->alias), old,
		                      sizeof(old));

		if (rc == SH_ENOTFOUND) {
			printf("+ %s %s\n", r->alias, r->url);
			added++;
		} else if (rc == SH_OK && strcmp(old, r->url) != 0) {
			printf("~ %s %s -> %s\n", r->alias, old, r->url);
			changed++;
		}
	}
	(void)store_foreach(s, on_stored, &d);
	printf("diff against the stored map: %u added, %u removed, %u "
	       "changed\n",
	       added, d.removed, changed);
}

int
check_redirects(const struct conf *c, struct store *s, const char *source,
                const char *buf, size_t len)
{
	struct redirect_map m = { 0 };
	struct lint l = { source, 0 };
	size_t i;
	int invalid;

	if (redirects_parse(buf, len, &m, on_warn, &l) != SH_OK) {
		redirects_free(&m);
		return -1;
	}
	for (i = 0; i < m.n; i++) {
		check_shadow(c, &l, &m.v[i]);
		check_loop(&l, &m, &m.v[i]);
	}
	printf("%s: %zu aliases, %u invalid lines, %u duplicates\n", source,
	       m.n, m.invalid, m.duplicates);
	if (s != NULL)
		check_diff(s, &m);
	invalid = (int)m.invalid;
	redirects_free(&m);
	return invalid;
}
