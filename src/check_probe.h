/*
 * check_probe.h - `sherve check --probe`: do the targets of a map still
 * answer?
 *
 * The file is parsed as refresh would parse it (its skipped lines are
 * reported on stderr), and every distinct Location its rules send is
 * probed (probe.h): the target as a visitor of the alias itself gets it
 * (a prefix rule with an empty splat, no query, non-ASCII bytes
 * percent-encoded), at most PROBE_PARALLEL requests at a time and
 * PROBE_PER_SECOND a second, each with fetch-timeout and
 * connect-timeout, following up to PROBE_REDIRECTS redirects, TLS
 * verified against ca-bundle. A relative target ("/path") is probed on
 * https://NAME/path when its rule is in an "@host NAME" section, and
 * skipped with a note otherwise (no name says which site it is on).
 *
 * The report, on stdout, has one line per target in the order of the
 * file (its verdict, status, URL, where it ended, why, and the rules
 * that send it) and a summary line; with json, one JSON object instead:
 *
 *   {"source": S, "rules": N, "targets": [{"url": U, "result":
 *    "fine"|"redirected"|"dead"|"skipped", "status": N|null,
 *    "final_url": U|null, "redirects": N, "method": "HEAD"|"GET"|null,
 *    "detail": S|null, "rules": [{"alias": A, "line": N,
 *    "host": H|null}, ...]}, ...],
 *    "counts": {"fine": N, "redirected": N, "dead": N, "skipped": N}}
 *
 * Caveats: takes about 0.12 s per request (a map of 1,000 targets about
 * two minutes): an offline check, never run by a request or a refresh.
 */
#ifndef SHERVE_CHECK_PROBE_H
#define SHERVE_CHECK_PROBE_H

#include <stddef.h>

#include "conf.h"

#define PROBE_PARALLEL   4  /* requests in flight */
#define PROBE_PER_SECOND 10 /* request starts in any second */
#define PROBE_REDIRECTS  5  /* followed per target */

/*
 * Probe the targets of the redirects file in buf (len bytes), named
 * source in the report; json selects the JSON report. Returns the number
 * of dead targets (0: none), or -1 with a message on stderr (out of
 * memory, libcurl failed, stdout unwritable).
 */
int check_probe(const struct conf *c, const char *source, const char *buf,
                size_t len, int json);

#endif
