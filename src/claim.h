/*
 * claim.h - one state dir serves one redirects-url.
 *
 * Two instances (two sites, two web servers) pointed at one state dir
 * with different redirects-urls would each store their own map at each
 * refresh, and each site would answer from the other's map half the
 * time, silently. So the state dir records the redirects-url of the
 * instance that refreshes it, beside its refresh lock, in
 * STATE_DIR/instance.lock ("URL\n"), and every long-lived worker of that
 * instance holds a shared flock(2) on that file while it runs. A refresh
 * for another URL finds the file held by a live instance and refuses to
 * store its map; when no process holds it (that instance stopped, or its
 * admin changed redirects-url and restarted), the next refresh or worker
 * records its own URL and takes the dir over.
 *
 * Caveats:
 *  - CGI processes hold nothing between requests: two CGI sites on one
 *    state dir are not told apart (each refresh records its URL). A
 *    FastCGI instance (lighttpd, mod_fcgid, `sherve serve`) is.
 *  - An import is the admin's own act and is not checked.
 *  - flock(2) locks belong to the open file: a child forked by a worker
 *    shares its worker's lock, so a worker's own refresh passes.
 */
#ifndef SHERVE_CLAIM_H
#define SHERVE_CLAIM_H

#include <stddef.h>

/*
 * For a worker: hold the state dir dir for url (a shared lock on its
 * instance.lock, kept in *fd until claim_release()). Returns SH_OK
 * (held), SH_EBUSY (a live instance holds it for another URL: other
 * holds that URL; *fd is -1) or SH_EIO (the file cannot be opened; errno
 * is kept).
 */
int claim_hold(const char *dir, const char *url, int *fd, char *other,
               size_t othersz);

/*
 * For a refresh, under the refresh lock: may url be stored in dir? If no
 * process holds the dir, url is recorded as its own. Returns SH_OK,
 * SH_EBUSY (other holds the live instance's URL) or SH_EIO.
 */
int claim_check(const char *dir, const char *url, char *other, size_t othersz);

/* Let go of what claim_hold() holds; safe with -1. */
void claim_release(int fd);

#endif
