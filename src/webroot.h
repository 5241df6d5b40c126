/*
 * webroot.h - the webroot directory, held open between requests.
 *
 * Every asset is opened beneath a directory fd of the webroot (asset.h).
 * Opening the webroot afresh for each request costs every request, short
 * links and misses included, an open(2) and a close(2). Held open for
 * good, the fd would keep serving the old tree after a deploy that swaps
 * the webroot (a symlink flip, a rename). So the path is stat()ed again at
 * most once per tick of the coarse monotonic clock (a few milliseconds),
 * and the fd is replaced when another directory stands there, or when
 * its mode or owner changed (a held fd would go on opening files beneath
 * a webroot made unreadable, and answer 403 for each).
 *
 * A webroot that cannot be opened (missing, unreadable) is tried again
 * at each tick, not at each request, and logged once with its path and
 * errno when it fails (again if the errno changes) and once when it
 * opens again: an admin who fixes it sees it served within a tick, no
 * SIGHUP needed.
 *
 * Caveats: a swap is seen within one tick, not on the very next request;
 * a request racing a deploy can see either tree anyway. A zeroed struct
 * webroot is a valid closed one (its fd is not read while closed).
 */
#ifndef SHERVE_WEBROOT_H
#define SHERVE_WEBROOT_H

#include <sys/types.h>
#include <time.h>

struct webroot {
	int open;  /* fd, dev and ino are valid */
	int fd;    /* O_DIRECTORY fd of the webroot */
	dev_t dev; /* what fd is, to compare with the path */
	ino_t ino;
	mode_t mode; /* and its access then: a chmod or chown since means */
	uid_t uid;   /* opening it again, which may now fail */
	gid_t gid;
	struct timespec check; /* coarse clock at the last check */
	int failed;            /* the last open failed with errno err */
	int err;
};

/*
 * A directory fd for path, owned by w (never close it). Returns it, or -1
 * with errno set (the path is gone, is not a directory, or open failed),
 * in which case nothing is held; within the tick of a failure, -1 comes
 * at once with the same errno.
 */
int webroot_fd(struct webroot *w, const char *path);

/*
 * 1 if path names, right now, the directory w holds (with the same mode
 * and owner): for an answer that the web server opens again by its name
 * (sendfile-mode), which must be the file whose headers were taken from
 * w's tree. One stat(2).
 */
int webroot_current(const struct webroot *w, const char *path);

/* Close what w holds; w is then a closed webroot again. */
void webroot_close(struct webroot *w);

#endif
