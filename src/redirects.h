/*
 * redirects.h - parse the redirects file: one "alias URL" per line.
 *
 * The format is gosherve's and servy's: blank lines and lines starting
 * with '#' are ignored, fields are separated by runs of spaces or tabs,
 * CRLF line ends are accepted. An invalid line is skipped and reported
 * with its number: wrong field count, a URL that is not absolute
 * http/https, a control character, an over-long alias or URL. When an
 * alias appears twice the first line wins. Leading and trailing '/' of an
 * alias are trimmed, as they are of request paths.
 *
 * Caveats: pure; no I/O. The map owns its strings.
 */
#ifndef SHERVE_REDIRECTS_H
#define SHERVE_REDIRECTS_H

#include <stddef.h>

#define REDIRECT_ALIAS_MAX 500 /* LMDB's key limit is 511 bytes */
#define REDIRECT_URL_MAX   8192

struct redirect {
	char *alias;
	char *url;
	unsigned line;
};

struct redirect_map {
	struct redirect *v; /* sorted by alias (memcmp order) after parse */
	size_t n, cap;
	unsigned invalid;    /* lines skipped */
	unsigned duplicates; /* later lines of a repeated alias */
};

/* Called once per skipped line; reason is a static string. */
typedef void (*redirects_warn_fn)(void *ctx, unsigned line, const char *reason);

/*
 * Parse len bytes of buf into m (zeroed by the caller or by a previous
 * redirects_free). warn may be NULL.
 * Returns SH_OK (even with zero entries; the caller decides) or SH_ENOMEM.
 */
int redirects_parse(const char *buf, size_t len, struct redirect_map *m,
                    redirects_warn_fn warn, void *ctx);

/* 1 if url (len bytes) is an absolute http or https URL with a host. */
int redirects_url_ok(const char *url, size_t len);

/* Free the entries and zero m. */
void redirects_free(struct redirect_map *m);

#endif
