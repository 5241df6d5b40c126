/* webroot.c - the webroot fd, re-checked once per clock tick; see webroot.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "webroot.h"

/* Seams for tests/unit/test_webroot.c, which includes this file. */
#ifndef WEBROOT_CLOCK
#define WEBROOT_CLOCK(ts) clock_gettime(CLOCK_MONOTONIC_COARSE, (ts))
#endif
#ifndef WEBROOT_STAT
#define WEBROOT_STAT(path, st) stat((path), (st))
#endif

/* CLOCK_MONOTONIC_COARSE is read from the vDSO: no system call. */
static int
same_tick(struct webroot *w)
{
	struct timespec now;

	if (WEBROOT_CLOCK(&now) != 0)
		return 0;
	if (now.tv_sec == w->check.tv_sec && now.tv_nsec == w->check.tv_nsec)
		return 1;
	w->check = now;
	return 0;
}

static int
reopen(struct webroot *w, const char *path)
{
	struct stat st;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
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
	       st.st_ino == w->ino;
}

int
webroot_fd(struct webroot *w, const char *path)
{
	if (same_tick(w) && w->open)
		return w->fd;
	if (webroot_current(w, path))
		return w->fd;
	webroot_close(w);
	return reopen(w, path);
}

void
webroot_close(struct webroot *w)
{
	if (w->open)
		close(w->fd);
	w->open = 0;
	w->fd = -1;
}
