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

/*
 * Take f shared and compare the URL it records with url: SH_OK (the
 * same; f holds the lock), SH_EBUSY (another: other says which) or
 * SH_EIO. Converting an exclusive lock is not atomic: another process
 * may take it in between and record its own URL. Whatever stands in the
 * file once the shared lock is held is what the live instances agree on.
 */
static int
shared_is(int f, const char *url, char *other, size_t othersz)
{
	char now[CLAIM_MAX + 1];

	if (lock(f, LOCK_SH) != 0)
		return SH_EIO;
	recorded(f, now, sizeof(now));
	if (strcmp(now, url) == 0)
		return SH_OK;
	(void)str_copy(other, now, othersz);
	return SH_EBUSY;
}

/* Open dir's claim and record url if no one holds it; f, or -1. */
static int
claim_start(const char *dir, const char *url, char *other, size_t othersz,
            int *taken)
{
	int f, saved;

	if (othersz > 0)
		other[0] = '\0';
	if ((f = claim_open(dir)) < 0)
		return -1;
	if ((*taken = take_free(f, url)) < 0) {
		saved = errno;
		close(f);
		errno = saved;
		return -1;
	}
	return f;
}

int
claim_hold(const char *dir, const char *url, int *fd, char *other,
           size_t othersz)
{
	int f, taken, rc, saved;

	*fd = -1;
	if ((f = claim_start(dir, url, other, othersz, &taken)) < 0)
		return SH_EIO;
	if ((rc = shared_is(f, url, other, othersz)) != SH_OK) {
		saved = errno;
		close(f); /* drops the lock */
		errno = saved;
		return rc;
	}
	*fd = f;
	return SH_OK;
}

int
claim_check(const char *dir, const char *url, char *other, size_t othersz)
{
	int f, taken, rc;

	if ((f = claim_start(dir, url, other, othersz, &taken)) < 0)
		return SH_EIO;
	/* Not taken: held by live workers (maybe ours), whose URL it is. */
	rc = taken ? SH_OK : shared_is(f, url, other, othersz);
	close(f);
	return rc;
}

void
claim_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
