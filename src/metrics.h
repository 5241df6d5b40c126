/*
 * metrics.h - counters that stay true across every worker process.
 *
 * The counters live in STATE_DIR/metrics.shm, mapped shared by every
 * process of an instance (lighttpd max-procs, mod_fcgid, the serve pool,
 * CGI processes). Each process claims a cache-line-aligned slot tagged
 * with its pid and adds to it with relaxed atomics: recording costs no
 * syscall and no lock. A slot whose owner died is taken over with its
 * counts, so totals survive worker restarts and, the file being on disk,
 * server restarts too (delete the file to reset; a sherve with another
 * layout of it starts a new file from zero). Per-alias redirect and
 * 410 counters are a fixed table of METRICS_ALIASES entries shared by
 * all; aliases past it are counted in
 * sherve_redirects_served_other_total and
 * sherve_redirects_gone_other_total.
 * Refresh outcomes are counted in the store's meta by refresh.c.
 *
 * Caveats: open after fork(). A NULL struct metrics * is accepted by
 * every recording function and records nothing.
 */
#ifndef SHERVE_METRICS_H
#define SHERVE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define METRICS_SLOTS   128
#define METRICS_ALIASES 1024

struct metrics;

/*
 * Map (creating or upgrading) STATE_DIR/metrics.shm and claim a slot.
 * Returns SH_OK, SH_EIO (err says why) or SH_ENOMEM.
 */
int metrics_open(const char *state_dir, struct metrics **out, char *err,
                 size_t errsz);

/*
 * Map STATE_DIR/metrics.shm read-only, to render it (sherve metrics): no
 * file is created and no slot claimed, so an admin's run as root leaves
 * nothing the workers cannot open. A missing file renders as zeros.
 * Pass the result to metrics_render() and metrics_close() only.
 * Returns SH_OK or SH_ENOMEM.
 */
int metrics_open_reader(const char *state_dir, struct metrics **out);

/* Release the slot (its counts stay) and unmap. Safe with NULL. */
void metrics_close(struct metrics *m);

/* One answered request: status, bytes written, handling time. */
void metrics_request(struct metrics *m, int status, uint64_t bytes,
                     uint64_t nanoseconds);

/* One redirect served for alias (len bytes). */
void metrics_redirect(struct metrics *m, const char *alias, size_t len);

/* One 410 Gone answered for alias (len bytes): gone, or expired. */
void metrics_gone(struct metrics *m, const char *alias, size_t len);

/*
 * Render the Prometheus text exposition (format 0.0.4) of the sums over
 * every slot, plus gauges read from the store (s may be NULL).
 * Returns a malloc'd NUL-terminated buffer (*len bytes) or NULL.
 */
char *metrics_render(struct metrics *m, struct store *s, size_t *len);

#endif
