/*
 * export.h - `sherve export`: the stored map in another server's terms,
 * the migration path out of sherve (and, for "_redirects", back in).
 *
 *  - EXPORT_NGINX: one file for nginx's http {} context: `map`s that
 *    resolve "$host$uri" to $sherve_status and $sherve_location in
 *    sherve's order (the host's exact rule, its longest prefix, the
 *    default exact rule, the longest default prefix). Its header comment
 *    holds the five `if ($sherve_status = N) { return N ...; }` lines for
 *    the server {} block.
 *  - EXPORT_APACHE: a RewriteMap txt file of the exact rules (written to
 *    a file, because the server reads it), and on out the mod_rewrite
 *    block for the server config or a <VirtualHost>: the map
 *    declaration, one RewriteRule per prefix rule, the lookups.
 *  - EXPORT_REDIRECTS: a "_redirects" file (Netlify, Cloudflare Pages):
 *    host rules as https://HOST/alias from-URLs, ordered so that first
 *    match gives sherve's answer.
 * Statuses are written out: a rule's own, else redirect-status. Reserved
 * paths (robots.txt, favicon.ico, .well-known/) are never redirected.
 *
 * Caveats: what each server cannot say exactly is documented in
 * sherve(8) (EXPORT): nginx compares map strings without regard to case,
 * and neither nginx nor Apache can let the request's query parameter
 * replace the target's (both are kept).
 */
#ifndef SHERVE_EXPORT_H
#define SHERVE_EXPORT_H

#include <stdio.h>

#include "conf.h"
#include "store.h"

enum export_format { EXPORT_NGINX, EXPORT_APACHE, EXPORT_REDIRECTS };

/* "nginx", "apache" or "redirects" into *f. Returns 0, or -1. */
int export_format_parse(const char *name, enum export_format *f);

/*
 * Write the map of s in format f to out. For EXPORT_APACHE the RewriteMap
 * file goes to map (opened by the caller), named map_path in the config
 * written to out; map and map_path are unused otherwise.
 * Returns SH_OK, SH_ENOMEM, SH_ESTORE or SH_EIO (a write failed).
 */
int export_write(struct store *s, const struct conf *c, enum export_format f,
                 FILE *out, FILE *map, const char *map_path);

#endif
