/*
 * privdrop.h - `sherve serve` started as root: what it prepares for
 * --user before dropping to it, the drop itself, and the check after.
 *
 * As root, the master creates what the pool will need and cannot create
 * once it is --user: the directory of a unix socket (so the socket can be
 * removed at stop) and the state dir (where the workers create the store
 * and its locks), each owned by --user and its primary group, with any
 * missing parents owned by root (0755). An existing directory is left as
 * it is, but the state dir must be writable by --user: asked as --user,
 * so the answer is the kernel's, not a guess from mode bits. A failure
 * says what to create (or chown), and for whom, and leaves nothing
 * behind.
 *
 * Caveats: without --user, or when not root, nothing is created here:
 * the workers create the state dir themselves (store.h), and a
 * misconfiguration is theirs to report and recover from.
 */
#ifndef SHERVE_PRIVDROP_H
#define SHERVE_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

struct privdrop {
	int set; /* --user was given */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/*
 * Look --user (c->user) up into *p (p->set is 0 when none is given).
 * Returns 0, or -1 with err set (no such user).
 */
int privdrop_lookup(const struct conf *c, struct privdrop *p, char *err,
                    size_t errsz);

/*
 * As root with --user: create the directory of a unix: listen and the
 * state dir where missing, owned by p, and check (as p, in a child
 * process) that the state dir is writable. Does nothing otherwise.
 * Returns 0, or -1 with err naming what to create (or chown) and for
 * whom, having removed what it created.
 */
int privdrop_dirs(const struct conf *c, const struct privdrop *p, char *err,
                  size_t errsz);

/*
 * Give the socket at sock_path (NULL or "": none) to p, then drop to p
 * for good: groups, gid, uid, and prove root cannot be regained. Does
 * nothing without --user. Returns 0, or -1 with err set.
 */
int privdrop_drop(const struct privdrop *p, const char *sock_path, char *err,
                  size_t errsz);

#endif
