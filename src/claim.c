/* claim.c - which redirects-url a state dir serves; see claim.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "claim.h"
#include "util.h"

#define CLAIM_FILE "instance.lock"
#define CLAIM_MAX  8192 /* a redirects-url is shorter */

static int
claim_open(const char *dir)
{
	char path[4200];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, CLAIM_FILE) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* 0666 less the umask, as every file sherve creates. */
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
}

static int
lock(int fd, int op)
{
	while (flock(fd, op) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* The URL recorded in fd ("" if none) into out. */
static void
recorded(int fd, char *out, size_t outsz)
{
	char buf[CLAIM_MAX + 1];
	ssize_t n = pread(fd, buf, CLAIM_MAX, 0);

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	(void)str_copy(out, buf, outsz);
}

/* Record url in fd, which the caller holds exclusively. */
static int
record(int fd, const char *url)
{
	size_t n = strlen(url);
	char buf[CLAIM_MAX + 2];

	if (n > CLAIM_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, url, n);
	buf[n++] = '\n';
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, n, 0) != (ssize_t)n)
		return -1;
	return 0;
}

/*
 * Take fd exclusively if no one holds it and record url: returns 1.
 * Returns 0 if someone holds it, -1 on error.
 */
static int
take_free(int fd, const char *url)
{
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		return errno == EWOULDBLOCK ? 0 : -1;
	return record(fd, url) == 0 ? 1 : -1;
}

int
claim_hold(const char *dir, const char *url, int *fd, char *other,
           size_t othersz)
{
	char now[CLAIM_MAX + 1];
	int f, rc;

	*fd = -1;
	if (othersz > 0)
		other[0] = '\0';
	if ((f = claim_open(dir)) < 0)
		return SH_EIO;
	if ((rc = take_free(f, url)) < 0)
		goto fail;
	/* Shared from here. Converting a lock is not atomic: another
	 * process may take it exclusively in between and record its own
	 * URL. Whatever stands in the file once the shared lock is held is
	 * what the live instances agree on. */
	if (lock(f, LOCK_SH) != 0)
		goto fail;
	recorded(f, now, sizeof(now));
	if (strcmp(now, url) != 0) {
		(void)str_copy(other, now, othersz);
		close(f); /* drops the lock */
		return SH_EBUSY;
	}
	*fd = f;
	return SH_OK;
fail:
	rc = errno;
	close(f);
	errno = rc;
	return SH_EIO;
}

int
claim_check(const char *dir, const char *url, char *other, size_t othersz)
{
	char now[CLAIM_MAX + 1];
	int f, rc;

	if (othersz > 0)
		other[0] = '\0';
	if ((f = claim_open(dir)) < 0)
		return SH_EIO;
	if ((rc = take_free(f, url)) != 0) {
		close(f);
		return rc > 0 ? SH_OK : SH_EIO;
	}
	/* Held by live workers (maybe ours): theirs is the URL recorded. */
	if (lock(f, LOCK_SH) != 0) {
		close(f);
		return SH_EIO;
	}
	recorded(f, now, sizeof(now));
	close(f);
	if (strcmp(now, url) == 0)
		return SH_OK;
	(void)str_copy(other, now, othersz);
	return SH_EBUSY;
}

void
claim_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
