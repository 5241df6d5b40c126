/*
 * check.h - `sherve check`: lint a redirects file before it goes live.
 *
 * Reports, one per line on stdout, each invalid line with its number and
 * reason, duplicate rules (the first wins), aliases shadowed by an asset
 * in the webroot, rules that would take a reserved path (robots.txt,
 * favicon.ico, .well-known/, which sherve never answers with a
 * redirect), and targets that point back at an alias of the same map (a
 * loop when that host is this sherve). Then the diff against the stored
 * map: "+ alias URL [STATUS]", "- alias URL", "~ alias OLD -> NEW", each
 * followed by " (@host NAME)" for a rule of a host section. The file is
 * parsed as refresh would (format, alias-case, allow-relative-targets).
 */
#ifndef SHERVE_CHECK_H
#define SHERVE_CHECK_H

#include <stddef.h>

#include "conf.h"
#include "store.h"

/*
 * Lint len bytes of buf, named source in messages. s may be NULL (no
 * diff). Returns the number of invalid lines (0: the file is valid), or
 * -1 on allocation failure.
 */
int check_redirects(const struct conf *c, struct store *s, const char *source,
                    const char *buf, size_t len);

#endif
