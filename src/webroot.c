/* webroot.c - the webroot fd, re-checked once per clock tick; see webroot.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "tick.h"
#include "webroot.h"

/* Seams for tests/unit/test_webroot.c, which includes this file (and
 * sets the clock through tick.h's TICK_CLOCK). */
#ifndef WEBROOT_STAT
#define WEBROOT_STAT(path, st) stat((path), (st))
#endif

#ifndef WEBROOT_OPEN
#define WEBROOT_OPEN(path, flags) open((path), (flags))
#endif
#ifndef WEBROOT_WARN
#define WEBROOT_WARN log_warnx
#endif
#ifndef WEBROOT_INFO
#define WEBROOT_INFO log_info
#endif

static int
reopen(struct webroot *w, const char *path)
{
	struct stat st;
	int fd, saved;

	if ((fd = WEBROOT_OPEN(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	w->fd = fd;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->mode = st.st_mode;
	w->uid = st.st_uid;
	w->gid = st.st_gid;
	w->open = 1;
	return fd;
}

int
webroot_current(const struct webroot *w, const char *path)
{
	struct stat st;

	/* While w->fd is held its inode cannot be reused: equal dev and ino
	 * mean the very same directory still stands at path. */
	return w->open && WEBROOT_STAT(path, &st) == 0 && st.st_dev == w->dev &&
	       st.st_ino == w->ino && st.st_mode == w->mode &&
	       st.st_uid == w->uid && st.st_gid == w->gid;
}

/* Log the change of state only: a failure (or a new errno), a recovery. */
static int
opened(struct webroot *w, const char *path, int fd)
{
	int e = errno;

	if (fd < 0 && (!w->failed || w->err != e))
		WEBROOT_WARN("webroot: %s: %s; assets answer 503 until it can "
		             "be opened (tried again at each tick)",
		             path, strerror(e));
	else if (fd >= 0 && w->failed)
		WEBROOT_INFO("webroot: %s: recovered; serving assets again",
		             path);
	w->failed = fd < 0;
	w->err = fd < 0 ? e : 0;
	errno = e;
	return fd;
}

int
webroot_fd(struct webroot *w, const char *path)
{
	if (!tick_new(&w->check)) {
		if (w->open)
			return w->fd;
		if (w->failed) {
			errno = w->err;
			return -1;
		}
	}
	if (webroot_current(w, path))
		return w->fd;
	webroot_close(w);
	return opened(w, path, reopen(w, path));
}

void
webroot_close(struct webroot *w)
{
	if (w->open)
		close(w->fd);
	w->open = 0;
	w->fd = -1;
}
