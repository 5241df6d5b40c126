/*
 * asset.h - open a file under the webroot, safely, and stream it.
 *
 * The file is opened beneath the webroot with openat2(RESOLVE_BENEATH),
 * so no "..", absolute symlink or symlink chain can leave it; where the
 * kernel lacks openat2, every component is opened with O_NOFOLLOW and
 * symlinks are refused. Metadata comes from fstat() of the opened fd, never
 * from an earlier stat of the path (no check-then-use race).
 *
 * Caveats: only regular files are served. A FIFO or device is refused
 * (and opened O_NONBLOCK so it cannot hang the worker). A directory serves
 * its index.html. The caller holds the webroot's directory fd (webroot.h).
 */
#ifndef SHERVE_ASSET_H
#define SHERVE_ASSET_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "response.h"

#define ASSET_PATH_MAX 4096
#define ASSET_CHUNK    65536 /* bytes read and sent at a time */

struct asset {
	int fd;
	struct stat st;
	char path[ASSET_PATH_MAX]; /* relative to the webroot, for logs */
	int dir; /* 1: the index.html of the directory that was asked for */
};

enum asset_rc { ASSET_OK = 0, ASSET_NOT_FOUND, ASSET_FORBIDDEN, ASSET_ERROR };

/*
 * Open rel (from path_normalise) beneath root, a directory fd of the
 * webroot. slash says whether the request ended in '/', which only a
 * directory may. A directory, with or without slash, opens its
 * index.html and sets a->dir, so the caller can redirect a request
 * without the slash instead. On ASSET_OK the caller owns a->fd and calls
 * asset_close(). Otherwise errno says why, and the code what it means:
 *  - ASSET_NOT_FOUND: nothing there to serve (ENOENT, ENOTDIR, a symlink
 *    out of the webroot: ELOOP, EXDEV; not a regular file);
 *  - ASSET_FORBIDDEN: EACCES or EPERM, a permission the admin chose;
 *  - ASSET_ERROR: anything else (EMFILE, ENFILE, EIO, ENOMEM...): the
 *    file may well exist, so this is no "not found".
 */
int asset_open(int root, const char *rel, int slash, struct asset *a);

/*
 * Open the precompressed sibling of a (a->path + suffix, e.g. ".br") into
 * v. A sibling older than a is ignored, so an edited file never shares its
 * URL with a stale compressed body. Returns ASSET_OK or ASSET_NOT_FOUND.
 */
int asset_sibling(int root, const struct asset *a, const char *suffix,
                  struct asset *v);

/* Close a->fd; safe to call twice. */
void asset_close(struct asset *a);

/*
 * Read the first min(size, bufsz) bytes of a into buf, before its
 * headers are sent. If the file shrank since a->st was taken (rewritten
 * in place) and now ends where the read did, a->st is refreshed so the
 * headers describe what was read. Returns the bytes read, or -1 (a read
 * error, or a file still changing).
 */
ssize_t asset_read_first(struct asset *a, char *buf, size_t bufsz);

/*
 * Stream len bytes from offset off into r in bounded chunks; the file is
 * never read whole. Returns 0, or -1 on a read error or a short file (the
 * file shrank under us), or when the client went away.
 */
int asset_stream(struct asset *a, uint64_t off, uint64_t len,
                 struct response *r);

#endif
