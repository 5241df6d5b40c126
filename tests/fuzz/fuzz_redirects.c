/*
 * fuzz_redirects.c - redirects_parse_opts(): whatever the upstream sends,
 * the map holds only clean, sorted, unique rules with targets sherve may
 * send as a Location.
 *
 * Input: the body of a redirects file, as fetched (not NUL-terminated).
 * It is parsed three ways: gosherve (the default), "_redirects"
 * (Netlify), and gosherve with alias-case = insensitive and
 * allow-relative-targets = yes.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "redirects.h"
#include "util.h"

struct warns {
	unsigned calls, lines;
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct warns *w = ctx;

	FUZZ_ASSERT(reason != NULL && reason[0] != '\0');
	FUZZ_ASSERT(line >= 1 && line <= w->lines);
	w->calls++;
}

static int
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return 1;
	return 0;
}

static void
check_entry(const struct redirect_map *m, const struct redirect *r,
            const struct redirects_opts *o, unsigned lines)
{
	size_t al = strlen(r->alias), ul = strlen(r->url);
	size_t kl = redirect_key_len(r);

	FUZZ_ASSERT(al > 0 && kl <= REDIRECT_ALIAS_MAX);
	FUZZ_ASSERT(r->alias[0] != '/' || strcmp(r->alias, "/*") == 0);
	FUZZ_ASSERT(r->kind == REDIRECT_EXACT || r->kind == REDIRECT_PREFIX);
	if (r->kind == REDIRECT_EXACT) {
		FUZZ_ASSERT(kl == al && r->alias[al - 1] != '/');
	} else {
		/* "*", or "docs/\*" whose key is "docs". */
		FUZZ_ASSERT(strcmp(r->alias, "*") == 0 ||
		            (al >= 3 && strcmp(r->alias + al - 2, "/*") == 0 &&
		             kl == al - 2 && r->alias[kl - 1] != '/'));
	}
	if (o->fold_case)
		FUZZ_ASSERT(!has_upper(r->alias));
	FUZZ_ASSERT(ul > 0 && ul <= REDIRECT_URL_MAX);
	if (!redirects_url_ok(r->url, ul)) {
		/* Only a same-site path, never "//host" or "/\host". */
		FUZZ_ASSERT(o->allow_relative && r->url[0] == '/');
		FUZZ_ASSERT(r->url[1] != '/' && r->url[1] != '\\');
	} else {
		FUZZ_ASSERT(strncasecmp(r->url, "http://", 7) == 0 ||
		            strncasecmp(r->url, "https://", 8) == 0);
	}
	/* No CTL (so no CR/LF for a Location header), no blank. */
	FUZZ_ASSERT(!str_has_ctl(r->alias, al) && !str_has_ctl(r->url, ul));
	FUZZ_ASSERT(strpbrk(r->alias, " \t") == NULL);
	FUZZ_ASSERT(strpbrk(r->url, " \t") == NULL);
	FUZZ_ASSERT(r->line >= 1 && r->line <= lines);
	/* A host section's name is lower case, without port or CTL. */
	FUZZ_ASSERT(r->host == NULL ||
	            (r->host[0] != '\0' && strpbrk(r->host, " \t/") == NULL &&
	             !str_has_ctl(r->host, strlen(r->host)) &&
	             !has_upper(r->host)));
	FUZZ_ASSERT(r->host == NULL ||
	            strlen(r->host) + 1 + kl <= REDIRECT_KEY_MAX);
	FUZZ_ASSERT(r->status == 0 || r->status == 301 || r->status == 302 ||
	            r->status == 303 || r->status == 307 || r->status == 308);
	/* The map finds each of its rules by its key. */
	FUZZ_ASSERT(redirects_find(m, r->kind, r->host, r->alias, kl) == r);
}

/*
 * LMDB's order: kind (its database), host, then the key bytes, the
 * shorter key first. A prefix rule's key is its alias without "/" "*".
 */
static int
key_cmp(const struct redirect *ra, const struct redirect *rb)
{
	const char *a = ra->alias, *b = rb->alias;
	size_t la = redirect_key_len(ra), lb = redirect_key_len(rb);
	int c;

	if (ra->kind != rb->kind)
		return ra->kind < rb->kind ? -1 : 1;
	c = strcmp(ra->host ? ra->host : "", rb->host ? rb->host : "");
	if (c == 0)
		c = memcmp(a, b, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

static void
parse_and_check(const uint8_t *data, size_t size,
                const struct redirects_opts *o, unsigned lines)
{
	struct redirect_map m, m2;
	struct warns w = { 0, lines };
	size_t i;

	memset(&m, 0, sizeof(m));
	FUZZ_ASSERT(redirects_parse_opts((const char *)data, size, o, &m,
	                                 on_warn, &w) == SH_OK);
	FUZZ_ASSERT(m.n <= lines);
	FUZZ_ASSERT(w.calls == m.invalid + m.duplicates);
	FUZZ_ASSERT(m.n + m.invalid + m.duplicates <= lines);
	for (i = 0; i < m.n; i++) {
		check_entry(&m, &m.v[i], o, lines);
		/* Sorted and unique: strictly increasing. */
		if (i > 0)
			FUZZ_ASSERT(key_cmp(&m.v[i - 1], &m.v[i]) < 0);
	}
	/* Parsing is deterministic and needs no warn callback. */
	memset(&m2, 0, sizeof(m2));
	FUZZ_ASSERT(redirects_parse_opts((const char *)data, size, o, &m2, NULL,
	                                 NULL) == SH_OK);
	FUZZ_ASSERT(m2.n == m.n && m2.invalid == m.invalid);
	for (i = 0; i < m.n; i++)
		FUZZ_ASSERT(strcmp(m.v[i].alias, m2.v[i].alias) == 0 &&
		            strcmp(m.v[i].url, m2.v[i].url) == 0);
	redirects_free(&m2);
	redirects_free(&m);
	FUZZ_ASSERT(m.n == 0 && m.v == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct redirects_opts opts[] = {
		{ REDIRECTS_GOSHERVE, 0, 0 },
		{ REDIRECTS_NETLIFY, 0, 0 },
		{ REDIRECTS_GOSHERVE, 1, 1 },
	};
	unsigned lines = 1;
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		parse_and_check(data, size, &opts[i], lines);
	/* redirects_parse() is the default options. */
	{
		struct redirect_map m;

		memset(&m, 0, sizeof(m));
		FUZZ_ASSERT(redirects_parse((const char *)data, size, &m, NULL,
		                            NULL) == SH_OK);
		redirects_free(&m);
	}
	return 0;
}
