/*
 * fuzz_redirects.c - redirects_parse_opts(): whatever the upstream sends,
 * the map holds only clean, sorted, unique rules with targets sherve may
 * send as a Location.
 *
 * Input: the body of a redirects file, as fetched (not NUL-terminated).
 * It is parsed four ways: gosherve (the default), "_redirects"
 * (Netlify), "_redirects" (Cloudflare) with alias-case = insensitive,
 * and gosherve with alias-case = insensitive and allow-relative-targets
 * = yes. Each exact rule that no earlier pattern may take must answer a
 * request for its own path (match_resolve() over the parsed map). Every
 * rule's chain (chain_follow(), x.example named as the site's) is well
 * formed: distinct hops but for a loop's last, within CHAIN_MAX.
 */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "chain.h"
#include "fuzz.h"
#include "match.h"
#include "redirects.h"
#include "url.h"
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

/* The alias of r, by its kind: as listed, never with a leading '/' but
 * for the root; a Cloudflare key may keep its trailing '/'. */
static void
check_alias(const struct redirect *r, const struct redirects_opts *o)
{
	size_t al = strlen(r->alias), kl = redirect_key_len(r);
	int cf = o->format == REDIRECTS_NETLIFY &&
	         o->dialect == DIALECT_CLOUDFLARE;

	/* Only a pattern (the root with query conditions) has no alias. */
	FUZZ_ASSERT((al > 0 || r->kind == REDIRECT_PATTERN) &&
	            kl <= REDIRECT_ALIAS_MAX + 1);
	FUZZ_ASSERT(r->alias[0] != '/' || strcmp(r->alias, "/") == 0);
	switch (r->kind) {
	case REDIRECT_EXACT:
		FUZZ_ASSERT(kl == al);
		FUZZ_ASSERT(r->alias[al - 1] != '/' || al == 1 || cf);
		FUZZ_ASSERT(al == 1 || r->alias[al - 1] != '/' ||
		            r->alias[al - 2] != '/');
		break;
	case REDIRECT_PREFIX:
		/* "*", or "docs/\*" whose key is "docs". */
		FUZZ_ASSERT(strcmp(r->alias, "*") == 0 ||
		            (al >= 3 && strcmp(r->alias + al - 2, "/*") == 0 &&
		             kl == al - 2 && r->alias[kl - 1] != '/'));
		break;
	case REDIRECT_PATTERN:
		/* Only "_redirects" has them: one '*' at most. */
		FUZZ_ASSERT(o->format == REDIRECTS_NETLIFY && kl == al);
		FUZZ_ASSERT(strchr(r->alias, '*') == strrchr(r->alias, '*'));
		FUZZ_ASSERT(al == 0 || r->alias[al - 1] != '/');
		break;
	default: FUZZ_ASSERT(0);
	}
	if (o->fold_case)
		FUZZ_ASSERT(!has_upper(r->alias));
}

/* A target sherve may send as a Location, or a page of the site. */
static void
check_target(const struct redirect *r, const struct redirects_opts *o)
{
	size_t ul = strlen(r->url);
	int page = r->status == 200 || r->status == 404 || r->status == 410;

	FUZZ_ASSERT(ul <= REDIRECT_URL_MAX);
	FUZZ_ASSERT(ul > 0 || r->status == 404 || r->status == 410);
	if (ul == 0)
		return;
	if (!url_split(r->url, ul, NULL)) {
		/* Only a same-site path, never "//host" or "/\host". */
		FUZZ_ASSERT(o->allow_relative ||
		            o->format == REDIRECTS_NETLIFY);
		FUZZ_ASSERT(r->url[0] == '/' && r->url[1] != '/' &&
		            r->url[1] != '\\');
	} else {
		FUZZ_ASSERT(!page);
		FUZZ_ASSERT(strncasecmp(r->url, "http://", 7) == 0 ||
		            strncasecmp(r->url, "https://", 8) == 0);
	}
}

static void
check_entry(const struct redirect_map *m, const struct redirect *r,
            const struct redirects_opts *o, unsigned lines)
{
	size_t al = strlen(r->alias), ul = strlen(r->url);
	size_t kl = redirect_key_len(r);
	int netlify = o->format == REDIRECTS_NETLIFY;

	check_alias(r, o);
	check_target(r, o);
	/* No CTL (so no CR/LF for a Location header), no blank. */
	FUZZ_ASSERT(!str_has_ctl(r->alias, al) && !str_has_ctl(r->url, ul));
	/* A "_redirects" from path is percent-decoded: "a%20b" is "a b". */
	FUZZ_ASSERT(netlify || strpbrk(r->alias, " \t") == NULL);
	FUZZ_ASSERT(strpbrk(r->url, " \t") == NULL);
	FUZZ_ASSERT(r->query == NULL ||
	            (r->kind == REDIRECT_PATTERN && r->query[0] != '\0' &&
	             strlen(r->query) <= REDIRECT_QUERY_MAX &&
	             !str_has_ctl(r->query, strlen(r->query)) &&
	             strpbrk(r->query, " \t") == NULL));
	FUZZ_ASSERT(r->line >= 1 && r->line <= lines);
	/* A host section's name is lower case, without port or CTL. */
	FUZZ_ASSERT(r->host == NULL ||
	            (r->host[0] != '\0' && strpbrk(r->host, " \t/") == NULL &&
	             !str_has_ctl(r->host, strlen(r->host)) &&
	             !has_upper(r->host)));
	FUZZ_ASSERT(r->host == NULL ||
	            strlen(r->host) + 1 + kl <= REDIRECT_KEY_MAX);
	FUZZ_ASSERT(r->status == 0 || r->status == 301 || r->status == 302 ||
	            r->status == 303 || r->status == 307 || r->status == 308 ||
	            r->status == 404 || r->status == 410 ||
	            (r->status == 200 && netlify));
	FUZZ_ASSERT((r->flags & ~(MATCH_FORCE | MATCH_SCAN | MATCH_SLASH |
	                          MATCH_YIELD)) == 0);
	FUZZ_ASSERT(!(r->flags & MATCH_YIELD) || r->host != NULL);
	FUZZ_ASSERT(netlify || r->flags == 0);
	FUZZ_ASSERT(!(r->flags & MATCH_SLASH) ||
	            (r->kind == REDIRECT_PATTERN &&
	             o->dialect == DIALECT_CLOUDFLARE));
	FUZZ_ASSERT(!(m->flags & MATCH_CLOUDFLARE) || (r->flags & MATCH_FORCE));
	/* The map finds each of its exact and prefix rules by its key. */
	FUZZ_ASSERT(r->kind == REDIRECT_PATTERN ||
	            redirects_find(m, r->kind, r->host, r->alias, kl) == r);
}

/*
 * An exact rule that no earlier pattern (MATCH_SCAN) or default rule
 * (MATCH_YIELD) may take answers a request for its own path:
 * match_resolve() over the map agrees with the parser.
 */
static void
check_answers(const struct match_source *src, const struct redirect *r)
{
	char probe[REDIRECT_ALIAS_MAX + 2];
	struct match_request rq = { probe, 0, 0, r->host, NULL, 0 };
	struct match_result res;
	size_t kl = strlen(r->alias);

	if (r->kind != REDIRECT_EXACT ||
	    (r->flags & (MATCH_SCAN | MATCH_YIELD)))
		return;
	if (strcmp(r->alias, "/") != 0) {
		memcpy(probe, r->alias, kl);
		rq.len = kl;
		if (kl > 1 && probe[kl - 1] == '/') {
			rq.len--;
			rq.slash = 1;
		}
	}
	if (match_reserved(probe, rq.len))
		return;
	FUZZ_ASSERT(match_resolve(src, &rq, &res) == SH_OK);
	FUZZ_ASSERT(res.rule.line == r->line && res.rule.kind == r->kind);
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
	if (c == 0 && ra->kind == REDIRECT_PATTERN)
		return (ra->line > rb->line) - (ra->line < rb->line);
	if (c == 0)
		c = memcmp(a, b, la < lb ? la : lb);
	return c != 0 ? c : (la > lb) - (la < lb);
}

/* Where rule r leads through m: a well-formed chain of distinct hops. */
static void
check_chain(const struct redirect_map *m, const struct redirect *r)
{
	struct chain_opts o = { "x.example", NULL, NULL, 301, 1, 1700000000 };
	char out[64];
	struct chain c;
	enum chain_kind k = chain_follow(m, &o, r, &c);
	size_t i, j, distinct;

	FUZZ_ASSERT(c.hop[0] == r && c.n >= 1 && c.n <= CHAIN_MAX + 1);
	FUZZ_ASSERT((k == CHAIN_NONE) == (c.n == 1));
	distinct = k == CHAIN_LOOP ? c.n - 1 : c.n;
	for (i = 0; i < distinct; i++)
		for (j = i + 1; j < distinct; j++)
			FUZZ_ASSERT(c.hop[i] != c.hop[j]);
	if (k == CHAIN_LOOP && c.n <= CHAIN_MAX) {
		for (i = 0; i + 1 < c.n && c.hop[i] != c.hop[c.n - 1]; i++)
			;
		FUZZ_ASSERT(i + 1 < c.n); /* it came back to a hop */
	}
	if (k == CHAIN_CHAIN)
		FUZZ_ASSERT(c.target[0] == '/' ||
		            url_split(c.target, strlen(c.target), NULL));
	chain_format(&c, k, out, sizeof(out));
	FUZZ_ASSERT(strlen(out) < sizeof(out));
}

static void
parse_and_check(const uint8_t *data, size_t size,
                const struct redirects_opts *o, unsigned lines)
{
	struct redirect_map m, m2;
	struct warns w = { 0, lines };
	struct redirects_view v;
	struct match_source src;
	unsigned npattern = 0, forced = 0, nhost = 0;
	size_t i;

	memset(&m, 0, sizeof(m));
	FUZZ_ASSERT(redirects_parse_opts((const char *)data, size, o, &m,
	                                 on_warn, &w) == SH_OK);
	FUZZ_ASSERT(m.n <= lines);
	FUZZ_ASSERT(w.calls == m.invalid + m.duplicates);
	FUZZ_ASSERT(m.n + m.invalid + m.duplicates <= lines);
	redirects_view(&m, UINT_MAX, ~0u, &v, &src);
	for (i = 0; i < m.n; i++) {
		check_entry(&m, &m.v[i], o, lines);
		check_answers(&src, &m.v[i]);
		check_chain(&m, &m.v[i]);
		npattern += m.v[i].kind == REDIRECT_PATTERN;
		nhost += m.v[i].host != NULL;
		forced |= m.v[i].flags & MATCH_FORCE;
		/* Sorted and unique: strictly increasing. */
		if (i > 0)
			FUZZ_ASSERT(key_cmp(&m.v[i - 1], &m.v[i]) < 0);
	}
	/* The map's own account of itself, which the store's layout keeps. */
	FUZZ_ASSERT(m.npattern == npattern &&
	            npattern <= REDIRECT_PATTERNS_MAX && m.nhost == nhost);
	FUZZ_ASSERT(((m.flags & MATCH_FORCED) != 0) == (forced != 0));
	FUZZ_ASSERT(((m.flags & MATCH_ORDERED) != 0) ==
	            (o->format == REDIRECTS_NETLIFY));
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
		{ REDIRECTS_GOSHERVE, 0, 0, DIALECT_NETLIFY },
		{ REDIRECTS_NETLIFY, 0, 0, DIALECT_NETLIFY },
		{ REDIRECTS_NETLIFY, 1, 0, DIALECT_CLOUDFLARE },
		{ REDIRECTS_GOSHERVE, 1, 1, DIALECT_NETLIFY },
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
