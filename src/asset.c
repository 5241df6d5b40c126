/* asset.c - contained open and chunked streaming; see asset.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "asset.h"
#include "util.h"

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
/* 0 until openat2 fails with ENOSYS/EPERM (old kernel or seccomp). */
static int no_openat2;

static int
open_beneath2(int root, const char *rel)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) {
		no_openat2 = 1;
		return -2;
	}
	return (int)fd;
}
#endif

/* Fallback: walk the components, refusing every symlink. */
static int
open_nofollow(int root, const char *rel)
{
	char comp[ASSET_PATH_MAX];
	const char *p = rel, *slash;
	int dir = root, fd = -1;

	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n >= sizeof(comp)) {
			errno = ENAMETOOLONG;
			fd = -1;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = openat(dir, comp,
		            OPEN_FLAGS | O_NOFOLLOW |
		                    (slash != NULL ? O_DIRECTORY : 0));
		if (dir != root)
			close(dir);
		if (fd < 0 || slash == NULL)
			break;
		dir = fd;
		p = slash + 1;
	}
	return fd;
}

static int
open_beneath(int root, const char *rel)
{
	if (rel[0] == '\0')
		rel = ".";
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	if (!no_openat2) {
		int fd = open_beneath2(root, rel);

		if (fd != -2)
			return fd;
	}
#endif
	if (strcmp(rel, ".") == 0)
		return openat(root, ".", OPEN_FLAGS | O_DIRECTORY);
	return open_nofollow(root, rel);
}

/* What a failed open(2) means for the request; see asset_open(). */
static int
open_failure(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:        /* a symlink, refused (O_NOFOLLOW) */
	case EXDEV:        /* RESOLVE_BENEATH: out of the webroot */
	case ENAMETOOLONG: /* no such name can exist */
	case ENXIO:        /* a socket or a device without a driver */
	case ENODEV: return ASSET_NOT_FOUND;
	case EACCES:
	case EPERM: return ASSET_FORBIDDEN;
	default: return ASSET_ERROR;
	}
}

/* Replace a directory fd with its index.html. */
static int
asset_index(int root, struct asset *a)
{
	size_t n = strlen(a->path);
	const char *sep = n > 0 ? "/" : "";
	char idx[ASSET_PATH_MAX];

	if ((size_t)snprintf(idx, sizeof(idx), "%s%sindex.html", a->path,
	                     sep) >= sizeof(idx))
		return ASSET_NOT_FOUND;
	close(a->fd);
	if ((a->fd = open_beneath(root, idx)) < 0)
		return open_failure(errno);
	str_copy(a->path, idx, sizeof(a->path));
	a->dir = 1;
	if (fstat(a->fd, &a->st) != 0)
		return ASSET_ERROR;
	return S_ISREG(a->st.st_mode) ? ASSET_OK : ASSET_NOT_FOUND;
}

int
asset_open(int root, const char *rel, int slash, struct asset *a)
{
	int rc = ASSET_NOT_FOUND, saved;

	a->fd = -1;
	a->dir = 0;
	if (str_copy(a->path, rel, sizeof(a->path)) >= sizeof(a->path))
		goto out;
	if ((a->fd = open_beneath(root, rel)) < 0) {
		rc = open_failure(errno);
		goto out;
	}
	if (fstat(a->fd, &a->st) != 0) {
		rc = ASSET_ERROR;
		goto out;
	}
	if (S_ISDIR(a->st.st_mode))
		rc = asset_index(root, a);
	else if (S_ISREG(a->st.st_mode) && !slash)
		rc = ASSET_OK;
out:
	if (rc != ASSET_OK) {
		saved = errno;
		asset_close(a);
		errno = saved;
	}
	return rc;
}

int
asset_sibling(int root, const struct asset *a, const char *suffix,
              struct asset *v)
{
	char p[ASSET_PATH_MAX];
	const struct timespec *ot = &a->st.st_mtim, *vt;

	v->fd = -1;
	if ((size_t)snprintf(p, sizeof(p), "%s%s", a->path, suffix) >=
	    sizeof(p))
		return ASSET_NOT_FOUND;
	if (asset_open(root, p, 0, v) != ASSET_OK)
		return ASSET_NOT_FOUND;
	vt = &v->st.st_mtim;
	/* A sibling older than its original is stale: never serve it. */
	if (vt->tv_sec < ot->tv_sec ||
	    (vt->tv_sec == ot->tv_sec && vt->tv_nsec < ot->tv_nsec)) {
		asset_close(v);
		return ASSET_NOT_FOUND;
	}
	return ASSET_OK;
}

void
asset_close(struct asset *a)
{
	if (a->fd != -1)
		close(a->fd);
	a->fd = -1;
}

ssize_t
asset_read_first(struct asset *a, char *buf, size_t bufsz)
{
	size_t want =
	        (uint64_t)a->st.st_size < bufsz ? (size_t)a->st.st_size : bufsz;
	struct stat st;
	ssize_t n;

	do
		n = pread(a->fd, buf, want, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n == want)
		return n;
	/* Short: the file shrank. Only a file now exactly that long can be
	 * answered whole from what was read. */
	if (fstat(a->fd, &st) != 0 || st.st_size != (off_t)n)
		return -1;
	a->st = st;
	return n;
}

int
asset_stream(struct asset *a, uint64_t off, uint64_t len, struct response *r)
{
	char buf[ASSET_CHUNK];
	int rc;

	/* Zero-copy where the sink can: the kernel moves the bytes. */
	if ((rc = resp_sendfile(r, a->fd, off, len)) <= 0)
		return rc;

	while (len > 0) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(a->fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		/* A file that shrank mid-response cannot be completed. */
		if (n <= 0)
			return -1;
		if (resp_body(r, buf, (size_t)n) != 0)
			return -1;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}
