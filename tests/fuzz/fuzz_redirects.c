/*
 * fuzz_redirects.c - redirects_parse(): whatever the upstream sends, the
 * map holds only clean, sorted, unique aliases with http(s) targets.
 *
 * Input: the body of a redirects file, as fetched (not NUL-terminated).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "redirects.h"
#include "util.h"

struct warns {
	unsigned calls, max_line, lines;
};

static void
on_warn(void *ctx, unsigned line, const char *reason)
{
	struct warns *w = ctx;

	FUZZ_ASSERT(reason != NULL && reason[0] != '\0');
	FUZZ_ASSERT(line >= 1 && line <= w->lines);
	w->calls++;
}

static void
check_entry(const struct redirect *r, unsigned lines)
{
	size_t al = strlen(r->alias), ul = strlen(r->url);

	FUZZ_ASSERT(al > 0 && al <= REDIRECT_ALIAS_MAX);
	FUZZ_ASSERT(r->alias[0] != '/' && r->alias[al - 1] != '/');
	FUZZ_ASSERT(ul > 0 && ul <= REDIRECT_URL_MAX);
	FUZZ_ASSERT(strncasecmp(r->url, "http://", 7) == 0 ||
	            strncasecmp(r->url, "https://", 8) == 0);
	FUZZ_ASSERT(redirects_url_ok(r->url, ul));
	/* No CTL (so no CR/LF for a Location header), no blank. */
	FUZZ_ASSERT(!str_has_ctl(r->alias, al) && !str_has_ctl(r->url, ul));
	FUZZ_ASSERT(strpbrk(r->alias, " \t") == NULL);
	FUZZ_ASSERT(strpbrk(r->url, " \t") == NULL);
	FUZZ_ASSERT(r->line >= 1 && r->line <= lines);
}

/* LMDB's order: bytes, then the shorter key first. */
static int
key_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int c = memcmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct redirect_map m;
	struct warns w = { 0, 0, 1 };
	size_t i;

	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			w.lines++;
	memset(&m, 0, sizeof(m));
	FUZZ_ASSERT(redirects_parse((const char *)data, size, &m, on_warn,
	                            &w) == SH_OK);
	FUZZ_ASSERT(m.n <= w.lines);
	FUZZ_ASSERT(w.calls == m.invalid + m.duplicates);
	FUZZ_ASSERT(m.n + m.invalid + m.duplicates <= w.lines);
	for (i = 0; i < m.n; i++) {
		check_entry(&m.v[i], w.lines);
		/* Sorted and unique: strictly increasing. */
		if (i > 0)
			FUZZ_ASSERT(key_cmp(m.v[i - 1].alias, m.v[i].alias) <
			            0);
	}
	/* Parsing is deterministic and needs no warn callback. */
	{
		struct redirect_map m2;

		memset(&m2, 0, sizeof(m2));
		FUZZ_ASSERT(redirects_parse((const char *)data, size, &m2,
		                            NULL, NULL) == SH_OK);
		FUZZ_ASSERT(m2.n == m.n && m2.invalid == m.invalid);
		for (i = 0; i < m.n; i++)
			FUZZ_ASSERT(strcmp(m.v[i].alias, m2.v[i].alias) == 0 &&
			            strcmp(m.v[i].url, m2.v[i].url) == 0);
		redirects_free(&m2);
	}
	redirects_free(&m);
	FUZZ_ASSERT(m.n == 0 && m.v == NULL);
	return 0;
}
