/*
 * health.h - the health check at health-path, in the format of the IETF
 * draft "Health Check Response Format for HTTP APIs"
 * (draft-inadarei-api-health-check): application/health+json.
 *
 * "status" is:
 *  - "fail" (HTTP 503) when redirects-url is set but no map is stored,
 *    or the store cannot be read;
 *  - "warn" (200) when the last refresh failed, the last success is
 *    older than 3 x refresh-interval, or a version is pinned;
 *  - "pass" (200) otherwise: a map is current and the last refresh
 *    succeeded, or no redirects-url is set.
 * "checks" holds map:version, map:rules, map:pinned, refresh:age (seconds
 * since the last success) and refresh:error (the last error, its URL
 * replaced by the word redirects-url, since monitors probe from anywhere
 * and the URL of a private file is a secret).
 *
 * Caveats: reads the store's state (a few short read transactions); a
 * health request is never a redirect, a miss, or a reason to refresh.
 */
#ifndef SHERVE_HEALTH_H
#define SHERVE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

/*
 * The health of the instance at now (unix seconds), s NULL when the
 * store could not be opened (why says why). Returns the JSON body
 * (malloc'd, *len bytes) and sets *status (200 or 503); NULL when out of
 * memory.
 */
char *health_render(const struct conf *c, struct store *s, const char *why,
                    uint64_t now, size_t *len, int *status);

#endif
