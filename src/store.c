/*
 * store.c - the LMDB environment of the redirect map; see store.h.
 *
 * What lives where (store_int.h: what the three files share):
 *  - store.c: the environment (open, reader and writer, the lock file),
 *    the fault guard and the damage checks (file size, checksum),
 *    setting a damaged file aside and healing, growing the map, the room
 *    check, the write transaction and its errors, the meta records;
 *  - store_map.c: the key and value layout of the map (keys, values,
 *    host section markers, the layout record), writing a map into a
 *    transaction, the lookups the matcher reads, and the walk;
 *  - store_versions.c: the kept versions and the version step.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "match.h"
#include "sha256.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

#define STORE_FILE "redirects.mdb"
/* Virtual size only: LMDB does not preallocate the file, and a map this
 * large seldom needs growing, which is unsafe while other threads read. */
#define STORE_MAP_INITIAL (1UL << 30)
#define STORE_MAP_LIMIT   (16ULL << 30)
#define STORE_OPEN_TRIES  5
#define STORE_LOCK_BYTES  (64 << 10) /* the lock file, allocated at open */
/* The digest of the map, written with it: "sha256:HEX". */
#define CHECKSUM_KEY "checksum"
/* Damaged files set aside: STORE_FILE DAMAGED_TAG STAMP; the newest kept. */
#define DAMAGED_TAG  ".damaged-"
#define DAMAGED_KEEP 2

/*
 * The fault guard. Every public call that reads or writes the map runs
 * under guard_run() (guard.h): a read past the end of a file truncated
 * under us (SIGBUS), a scribbled page that sends LMDB outside the map
 * (SIGSEGV), or one of LMDB's assertions (its assert hook) returns to
 * store_guarded() instead of killing the process. The store is then marked
 * damaged: every later call answers SH_EDAMAGED without touching the map,
 * and its owner sets the file aside (store_set_aside(), store_heal()).
 *
 * What is safe after the jump, and why:
 *  - aborting the read transaction: a reader holds no LMDB lock while it
 *    reads pages (mdb_txn_begin takes the reader table's mutex and lets
 *    it go before any page is read), and the abort only clears its slot
 *    in the lock file, which is another file;
 *  - closing the read transaction's cursors (s->cur): that frees them;
 *  - aborting a write transaction (s->wtxn): it releases the writer lock
 *    and frees its dirty pages, which live in memory, not in the map;
 *    pages it spilled to the file are in no committed tree, so nothing
 *    reaches the file: the last committed map is what it was;
 *  - closing the environment (mdb_env_close() unmaps without reading).
 * What is not: reading anything through that environment again. The call
 * that faulted was cut short; a callback of store_foreach_rule() only ever
 * sees a rule copied out of the map, so a fault never lands in stdio.
 */

/* A public call's body and its arguments, for guard_run(). */
struct call {
	struct store *s;
	int (*fn)(struct store *s, void *arg);
	void *arg;
};

static int
call_fn(void *ctx)
{
	struct call *c = ctx;

	return c->fn(c->s, c->arg);
}

/* Mark s damaged (the first reason sticks); returns SH_EDAMAGED. */
int
store_set_damaged(struct store *s, const char *why)
{
	if (!s->damaged) {
		s->damaged = 1;
		(void)str_copy(s->why, why, sizeof(s->why));
	}
	return SH_EDAMAGED;
}

/* LMDB's codes for a file that is not what its header says it is. */
static int
damage_rc(int rc)
{
	return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
	       rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH;
}

/* A read's LMDB code as ours: SH_ENOTFOUND, SH_EDAMAGED or SH_ESTORE. */
int
store_rd_err(struct store *s, int rc)
{
	char why[96];

	if (rc == MDB_NOTFOUND)
		return SH_ENOTFOUND;
	if (!damage_rc(rc))
		return SH_ESTORE;
	snprintf(why, sizeof(why), "LMDB: %s", mdb_strerror(rc));
	return store_set_damaged(s, why);
}

/* Close the read cursors a call holds in s->cur. */
void
store_close_cursors(struct store *s)
{
	size_t i;

	for (i = 0; i < 2; i++) {
		if (s->cur[i] != NULL)
			mdb_cursor_close(s->cur[i]);
		s->cur[i] = NULL;
	}
	if (s->pcur != NULL)
		mdb_cursor_close(s->pcur);
	s->pcur = NULL;
}

/* After a jump: let go of what the cut-short call held. */
static void
abandon(struct store *s)
{
	store_close_cursors(s);
	if (s->wtxn != NULL)
		mdb_txn_abort(s->wtxn); /* frees its own cursors */
	s->wtxn = NULL;
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	s->rtxn = NULL;
}

/* Run fn(s, arg) under the fault guard. */
int
store_guarded(struct store *s, int (*fn)(struct store *s, void *arg), void *arg)
{
	struct call c = { s, fn, arg };
	char why[160];
	int rc;

	if (s->damaged)
		return SH_EDAMAGED;
	if ((rc = guard_run(call_fn, &c, why, sizeof(why))) != GUARD_FAULT)
		return rc;
	abandon(s);
	return store_set_damaged(s, why);
}

/* LMDB's assertion hook: inside store_guarded(), leave as a fault would. */
static void
on_assert(MDB_env *env, const char *msg)
{
	char why[160];

	(void)env;
	snprintf(why, sizeof(why), "LMDB assertion: %s", msg);
	guard_fail(why);
}

/*
 * mkdir -p; what it creates gets 0777 less the umask, so a shared group
 * can be given the state dir. On failure errno is set and failed names
 * the directory that could not be created or used.
 */
static int
mkdir_p(const char *dir, char *failed, size_t failedsz)
{
	struct stat st;
	char buf[4096];
	char *p;
	int why;

	(void)str_copy(failed, dir, failedsz);
	if (str_copy(buf, dir, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
			(void)str_copy(failed, buf, failedsz);
			return -1;
		}
		*p = '/';
	}
	/* A read-only or foreign-owned state dir that exists is fine: the
	 * store then opens read-only. EEXIST also covers a regular file in
	 * the way: the stat says so now. */
	why = mkdir(buf, 0777) == 0 ? 0 : errno;
	if (why != 0 && why != EEXIST && why != EROFS && why != EACCES)
		return -1;
	if (stat(buf, &st) != 0) {
		/* Not there, and mkdir said why: that is the cause to tell. */
		if (errno == ENOENT && why != 0 && why != EEXIST)
			errno = why;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

/*
 * The message for a state dir that could not be made: with a permission
 * error, say as whom sherve runs and what to create for it.
 */
static void
mkdir_error(const char *dir, const char *failed, int e, char *err, size_t errsz)
{
	char who[128];
	const char *owner = who;

	if (e != EACCES && e != EPERM && e != EROFS) {
		snprintf(err, errsz, "state-dir: %s: %s", failed, strerror(e));
		return;
	}
	util_whoami(who, sizeof(who));
	if (strncmp(who, "uid ", 4) == 0)
		owner += 4; /* no name: install -o takes the number */
	snprintf(err, errsz,
	         "state-dir: cannot create %s: %s (sherve runs as %s; as "
	         "root, create %s for that user, e.g. install -d -o %.*s %s)",
	         failed, strerror(e), who, dir, (int)strcspn(owner, " "), owner,
	         dir);
}

/* LMDB's shared-memory locking is unsafe on network filesystems. */
static const char *
network_fs(const char *dir)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0)
		return NULL;
	switch ((unsigned long)sf.f_type) {
	case 0x6969UL: return "nfs";
	case 0x517bUL: return "smb";
	case 0xff534d42UL: return "cifs";
	case 0xfe534d42UL: return "smb2";
	}
	return NULL;
}

/* 1 if name is a set-aside data file (not its lock file). */
static int
is_damaged_name(const char *name)
{
	size_t n = strlen(name);

	return strncmp(name, STORE_FILE DAMAGED_TAG,
	               sizeof(STORE_FILE DAMAGED_TAG) - 1) == 0 &&
	       (n < 5 || strcmp(name + n - 5, "-lock") != 0);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Keep the DAMAGED_KEEP newest damaged sets in dir (their names sort by
 * time): a store damaged again and again must not fill the disk.
 */
static void
prune_damaged(const char *dir)
{
	char *names[64], path[4200];
	struct dirent *e;
	size_t n = 0, i;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(*names))
		if (is_damaged_name(e->d_name) &&
		    (names[n] = strdup(e->d_name)) != NULL)
			n++;
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (i + DAMAGED_KEEP < n) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			(void)unlink(path);
			snprintf(path, sizeof(path), "%s/%s-lock", dir,
			         names[i]);
			(void)unlink(path);
		}
		free(names[i]);
	}
}

/*
 * Rename the damaged store file (dev, ino) of dir, and its lock file,
 * to STORE_FILE.damaged-STAMP, so the next open starts a fresh store and
 * the next refresh fills it. Under an flock of the dir, and only if that
 * file still stands at the path: a process that found the same damage a
 * moment later must not set aside the fresh store. Processes that still
 * map the old file keep their (renamed) pair until they see the change.
 * Returns SH_OK (set aside now or before) or SH_EIO.
 */
static int
set_aside_file(const char *dir, dev_t dev, ino_t ino, const char *why)
{
	char path[4200], to[4300], stamp[32];
	time_t now = time(NULL);
	struct stat st;
	struct tm tm;
	int dfd, rc = SH_OK, n;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return SH_EIO;
	while (flock(dfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(dfd);
			return SH_EIO;
		}
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE);
	if (stat(path, &st) != 0 || st.st_dev != dev || st.st_ino != ino)
		goto out; /* another process did it */
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	/* Under the flock no other sherve names one: only this process may
	 * have set a store aside in the same second. */
	for (n = 0; n < 100; n++) {
		snprintf(to, sizeof(to), "%s%s%s-%ld%s%.0d", path, DAMAGED_TAG,
		         stamp, (long)getpid(), n > 0 ? "." : "", n);
		if (access(to, F_OK) != 0 && errno == ENOENT)
			break;
	}
	if (n == 100 || rename(path, to) != 0) {
		log_warn("store: %s is damaged (%s) but cannot be set aside",
		         path, why);
		rc = SH_EIO;
		goto out;
	}
	/* The lock file belongs to the old data file: its transaction id
	 * and readers mean nothing to a fresh one. */
	snprintf(path, sizeof(path), "%s/%s-lock", dir, STORE_FILE);
	snprintf(to + strlen(to), sizeof(to) - strlen(to), "-lock");
	(void)rename(path, to);
	to[strlen(to) - 5] = '\0';
	log_error("store: %s/%s is damaged (%s); set aside as %s; the next "
	          "refresh rebuilds the map, assets are served meanwhile",
	          dir, STORE_FILE, why, to);
	prune_damaged(dir);
out:
	close(dfd); /* drops the flock */
	return rc;
}

static int
store_dbis(struct store *s)
{
	MDB_txn *txn = NULL;
	int rc;

	/* Read-only first, so a busy writer elsewhere does not block us. A
	 * store of an older layout has no "pattern" database: a reader sees
	 * it empty (the layout says so) and a writer creates it. */
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0 && (rc = mdb_dbi_open(txn, "map", 0, &s->map)) == 0 &&
	    (rc = mdb_dbi_open(txn, "prefix", 0, &s->prefix)) == 0 &&
	    (rc = mdb_dbi_open(txn, "meta", 0, &s->meta)) == 0 &&
	    ((rc = mdb_dbi_open(txn, "pattern", 0, &s->pattern)) == 0 ||
	     (rc == MDB_NOTFOUND && s->rdonly)) &&
	    ((rc = mdb_dbi_open(txn, "versions", 0, &s->versions)) == 0 ||
	     (rc == MDB_NOTFOUND && s->rdonly))) {
		s->has_versions = rc == 0;
		return mdb_txn_commit(txn);
	}
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	s->wtxn = txn;
	if ((rc = mdb_dbi_open(txn, "map", MDB_CREATE, &s->map)) != 0 ||
	    (rc = mdb_dbi_open(txn, "prefix", MDB_CREATE, &s->prefix)) != 0 ||
	    (rc = mdb_dbi_open(txn, "pattern", MDB_CREATE, &s->pattern)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "versions", MDB_CREATE, &s->versions)) !=
	            0) {
		s->wtxn = NULL;
		mdb_txn_abort(txn);
		return rc;
	}
	s->wtxn = NULL;
	s->has_versions = 1;
	return mdb_txn_commit(txn);
}

/* store_dbis() for store_guarded(): its LMDB code is kept in s->last_rc. */
static int
dbis_fn(struct store *s, void *arg)
{
	int rc;

	(void)arg;
	if ((rc = store_dbis(s)) == 0)
		return SH_OK;
	if (damage_rc(rc))
		return store_rd_err(s, rc);
	s->last_rc = rc;
	return SH_ESTORE;
}

/*
 * Is the file at s->path still the one mapped, and as long as its header
 * says? LMDB never shrinks its file and writes pages before the header
 * that names them, so a healthy file always reaches its last page; a
 * shorter one was truncated (a full disk elsewhere, a bad copy), and a
 * read of a page past its end would raise SIGBUS. One stat(2); the
 * header is read from the map only once the file holds it.
 */
static int
check_file(struct store *s, void *arg)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned long long need;
	MDB_envinfo info;
	struct stat st;
	MDB_stat ms;
	char why[192];

	(void)arg;
	if (stat(s->path, &st) != 0)
		return errno == ENOENT ? SH_ESTALE : SH_EIO;
	if (st.st_dev != s->dev || st.st_ino != s->ino)
		return SH_ESTALE;
	if (st.st_size < 2 * (pg > 0 ? pg : 4096)) {
		snprintf(why, sizeof(why),
		         "truncated: %lld bytes, less than its two header "
		         "pages",
		         (long long)st.st_size);
		return store_set_damaged(s, why);
	}
	if (mdb_env_stat(s->env, &ms) != 0 || mdb_env_info(s->env, &info) != 0)
		return SH_ESTORE;
	need = ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize;
	if ((unsigned long long)st.st_size < need) {
		snprintf(why, sizeof(why),
		         "truncated: %lld bytes, its header says %llu",
		         (long long)st.st_size, need);
		return store_set_damaged(s, why);
	}
	return SH_OK;
}

/*
 * LMDB maps its lock file and writes into it: a page of it that the disk
 * has no block for raises SIGBUS when touched (when the lock is set up,
 * or when a reader takes a slot on a new page), where a write(2) would
 * have said ENOSPC. So the blocks are allocated here first, where a full
 * disk is a clean error. STORE_LOCK_BYTES is more than 126 readers need;
 * LMDB sizes its reader table to the file (about 1,000 slots). Not with
 * MDB_NOLOCK (a reader that must not create the file), and nothing to do
 * where the file cannot be opened for writing (LMDB says why).
 * Returns 0 or ENOSPC.
 */
static int
lock_blocks(const char *path, unsigned flags)
{
	char lock[4200];
	int fd, rc;

	if ((flags & MDB_NOLOCK) != 0 ||
	    (size_t)snprintf(lock, sizeof(lock), "%s-lock", path) >=
	            sizeof(lock) ||
	    (fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
		return 0;
	/* No fcntl lock of this process is on the file yet: closing this
	 * descriptor drops none of LMDB's. */
	rc = posix_fallocate(fd, 0, STORE_LOCK_BYTES);
	close(fd);
	return rc == ENOSPC ? ENOSPC : 0;
}

/*
 * Open the environment at path into s. Returns 0 or an LMDB code (or
 * errno); MDB_CORRUPTED when the file is damaged (s->why says how), and
 * EAGAIN when another file took its place while it was being opened.
 */
static int
store_env(struct store *s, const char *path, unsigned flags)
{
	struct stat st;
	int rc, dead, fd;

	if ((rc = mdb_env_create(&s->env)) != 0)
		return rc;
	if ((rc = mdb_env_set_maxdbs(s->env, 5)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, STORE_MAP_INITIAL)) != 0)
		return rc;
	(void)mdb_env_set_assert(s->env, on_assert);
	if ((rc = lock_blocks(path, flags)) != 0)
		return rc;
	/* 0666: the umask decides, so a shared group can share the store. */
	rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS | flags, 0666);
	if (rc != 0)
		return rc;
	s->rdonly = (flags & MDB_RDONLY) != 0;
	/* LMDB opens its lock file close-on-exec but not the data file; a
	 * process sherve executes (a refresh) must inherit neither. */
	if (mdb_env_get_fd(s->env, &fd) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fstat(fd, &st) != 0)
		return EIO;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	(void)str_copy(s->path, path, sizeof(s->path));
	/* Whole, before any page past the header is read. */
	rc = store_guarded(s, check_file, NULL);
	if (rc == SH_ESTALE)
		return EAGAIN;
	if (rc != SH_OK)
		return rc == SH_EDAMAGED ? MDB_CORRUPTED : EIO;
	/* Free slots of readers that were killed (mod_fcgid, SIGKILL). */
	(void)mdb_reader_check(s->env, &dead);
	if ((rc = store_guarded(s, dbis_fn, NULL)) == SH_OK)
		return 0;
	return rc == SH_EDAMAGED ? MDB_CORRUPTED : s->last_rc;
}

/*
 * The store file under dir into path, once dir is known to be on a local
 * filesystem. Returns SH_OK, SH_EINVAL or SH_ETOOLONG, with err set.
 */
static int
store_path(const char *dir, char *path, size_t pathsz, char *err, size_t errsz)
{
	const char *fs;

	if ((fs = network_fs(dir)) != NULL) {
		snprintf(err, errsz,
		         "state-dir: %s is on %s; LMDB needs a local "
		         "filesystem (use a directory on local disk)",
		         dir, fs);
		return SH_EINVAL;
	}
	if ((size_t)snprintf(path, pathsz, "%s/%s", dir, STORE_FILE) >=
	    pathsz) {
		snprintf(err, errsz, "state-dir: path too long");
		return SH_ETOOLONG;
	}
	return SH_OK;
}

/*
 * One try at opening path with flags: the store, or NULL with *mrc set
 * (and why, for a damaged file; dev and ino name the file LMDB found).
 */
static struct store *
open_try(const char *dir, const char *path, unsigned flags, int *mrc, char *why,
         size_t whysz)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		*mrc = ENOMEM;
		return NULL;
	}
	(void)str_copy(s->dir, dir, sizeof(s->dir));
	if ((*mrc = store_env(s, path, flags)) == 0)
		return s;
	if (*mrc == MDB_CORRUPTED && s->damaged)
		(void)str_copy(why, s->why, whysz);
	else
		snprintf(why, whysz, "%s", mdb_strerror(*mrc));
	store_close(s);
	return NULL;
}

/*
 * The state dir is not writable (a read-only mount, or a store that
 * another user refreshes): serve what is stored rather than nothing.
 * LMDB skips its lock file on a read-only filesystem; elsewhere the lock
 * file must still be writable. Returns the store, or NULL with *mrc set.
 */
static struct store *
open_rdonly(const char *dir, const char *path, int why, int *mrc)
{
	struct store *s;
	char msg[192];

	if ((s = open_try(dir, path, MDB_RDONLY, mrc, msg, sizeof(msg))) ==
	    NULL) {
		*mrc = why; /* the first cause is the one to report */
		return NULL;
	}
	log_warnx("store: %s: %s; opened read-only: the stored map is "
	          "served, refreshes and imports fail",
	          path, mdb_strerror(why));
	return s;
}

/*
 * Open (creating) path; a CGI open can race another process creating
 * the same files, so a few tries. Returns the store or NULL, *mrc set.
 */
static struct store *
open_writer(const char *dir, const char *path, int *mrc, char *why,
            size_t whysz)
{
	struct store *s = NULL;
	int tries;

	for (tries = 0; tries < STORE_OPEN_TRIES; tries++) {
		if ((s = open_try(dir, path, 0, mrc, why, whysz)) != NULL)
			return s;
		if (*mrc != EAGAIN && *mrc != EBUSY && *mrc != MDB_INVALID)
			break;
		usleep(20000u << tries);
	}
	return NULL;
}

int
store_open(const char *dir, struct store **out, char *err, size_t errsz)
{
	struct store *s = NULL;
	char path[4096], failed[4096], why[192];
	struct stat st;
	int rc, mrc = 0;

	*out = NULL;
	if (mkdir_p(dir, failed, sizeof(failed)) != 0) {
		mkdir_error(dir, failed, errno, err, errsz);
		return SH_EIO;
	}
	if ((rc = store_path(dir, path, sizeof(path), err, errsz)) != SH_OK)
		return rc;
	s = open_writer(dir, path, &mrc, why, sizeof(why));
	/* A damaged file is a cache lost: set it aside, start afresh. The
	 * file is named by what stands at the path now; if another process
	 * put a fresh one there meanwhile, that one opens. */
	if (s == NULL && damage_rc(mrc) && stat(path, &st) == 0 &&
	    set_aside_file(dir, st.st_dev, st.st_ino, why) == SH_OK)
		s = open_writer(dir, path, &mrc, why, sizeof(why));
	if (s == NULL && (mrc == EACCES || mrc == EROFS))
		s = open_rdonly(dir, path, mrc, &mrc);
	if (s == NULL) {
		snprintf(err, errsz, "state-dir: %s: %s", path,
		         damage_rc(mrc) ? why : mdb_strerror(mrc));
		return mrc == EACCES || mrc == EROFS ? SH_EIO : SH_ESTORE;
	}
	*out = s;
	return SH_OK;
}

int
store_open_reader(const char *dir, struct store **out, char *err, size_t errsz)
{
	char path[4096], lock[4112], why[192];
	unsigned flags = MDB_RDONLY;
	struct stat st;
	int rc, mrc;

	*out = NULL;
	if ((rc = store_path(dir, path, sizeof(path), err, errsz)) != SH_OK)
		return rc;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		snprintf(err, errsz,
		         "state-dir: %s: no store yet (sherve refresh or "
		         "sherve import creates it)",
		         dir);
		return SH_ENOTFOUND;
	}
	/* LMDB would create a missing lock file, owned by whoever runs this
	 * (root, say) and then unwritable for the workers. No lock file means
	 * no process has the store open: read it without one. */
	snprintf(lock, sizeof(lock), "%s-lock", path);
	if (access(lock, F_OK) != 0 && errno == ENOENT)
		flags |= MDB_NOLOCK;
	/* LMDB reads an empty file as a new one, which a reader cannot
	 * write: it would say "Bad file descriptor". */
	if (stat(path, &st) == 0 && st.st_size == 0) {
		mrc = MDB_INVALID;
		snprintf(why, sizeof(why), "the file is empty");
	} else if ((*out = open_try(dir, path, flags, &mrc, why,
	                            sizeof(why))) != NULL) {
		return SH_OK;
	}
	if (damage_rc(mrc)) {
		snprintf(err, errsz,
		         "state-dir: %s is damaged (%s); sherve refresh "
		         "--force sets it aside and rebuilds it",
		         path, why);
		return SH_EDAMAGED;
	}
	snprintf(err, errsz, "state-dir: cannot read the store: %s: %s", path,
	         mdb_strerror(mrc));
	return mrc == EACCES || mrc == EROFS || mrc == ENOENT ? SH_EIO
	                                                      : SH_ESTORE;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_close_cursors(s);
	if (s->rtxn != NULL)
		mdb_txn_abort(s->rtxn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
}

/* ---- Checks: the file against its header, the map against its sum ---- */

int
store_check(struct store *s)
{
	return store_guarded(s, check_file, NULL);
}

const char *
store_damage(const struct store *s)
{
	return s->damaged ? s->why : NULL;
}

int
store_set_aside(struct store *s)
{
	return set_aside_file(s->dir, s->dev, s->ino,
	                      s->damaged ? s->why : "damaged");
}

/*
 * Make s whole: if it is damaged, set its file aside and open a fresh,
 * empty store in the same struct (so callers keep their pointer).
 */
int
store_heal(struct store *s)
{
	struct store *n;
	char why[192];
	int rc, mrc;

	if ((rc = store_check(s)) == SH_OK || rc == SH_ESTALE)
		return SH_OK;
	if (rc != SH_EDAMAGED)
		return rc;
	if (s->rdonly)
		return SH_EDAMAGED;
	if (store_set_aside(s) != SH_OK)
		return SH_EDAMAGED;
	if ((n = open_writer(s->dir, s->path, &mrc, why, sizeof(why))) ==
	    NULL) {
		log_error("store: %s: cannot open a fresh store: %s", s->path,
		          why);
		return SH_EDAMAGED;
	}
	/* Swap the fresh handle's innards into s, then close the old. */
	{
		struct store old = *s;

		*s = *n;
		*n = old;
		store_close(n);
	}
	return SH_OK;
}

/* 4 bytes of n, big-endian, into the digest: lengths frame the bytes. */
static void
digest_len(struct sha256 *c, size_t n)
{
	unsigned char b[4] = { (unsigned char)(n >> 24),
		               (unsigned char)(n >> 16),
		               (unsigned char)(n >> 8), (unsigned char)n };

	sha256_update(c, b, sizeof(b));
}

/*
 * The digest of the map as txn sees it: every entry of "map", "prefix"
 * and "pattern" in key order (database number, key and value, each
 * framed by its length), then the "layout" record, which says how to
 * read them.
 * Generic over the key layout: whatever rules are stored, all are summed.
 * With track, the cursors sit in s->cur for abandon() (a read txn).
 * Returns 0 or an LMDB code.
 */
static int
map_digest(struct store *s, MDB_txn *txn, int track, char hex[SHA256_HEX + 8])
{
	MDB_dbi dbis[3] = { s->map, s->prefix, s->pattern };
	MDB_val lk = { sizeof(LAYOUT_KEY) - 1, (void *)LAYOUT_KEY }, k, v;
	unsigned char d[SHA256_LEN], tag;
	struct sha256 c;
	MDB_cursor *cur;
	int rc, op;
	size_t i;

	sha256_init(&c);
	for (i = 0; i < 3; i++) {
		if ((rc = mdb_cursor_open(txn, dbis[i], &cur)) != 0)
			return rc;
		if (track)
			s->cur[i % 2] = cur;
		tag = (unsigned char)i;
		for (op = MDB_FIRST;
		     (rc = mdb_cursor_get(cur, &k, &v, op)) == 0;
		     op = MDB_NEXT) {
			sha256_update(&c, &tag, 1);
			digest_len(&c, k.mv_size);
			sha256_update(&c, k.mv_data, k.mv_size);
			digest_len(&c, v.mv_size);
			sha256_update(&c, v.mv_data, v.mv_size);
		}
		if (track)
			s->cur[i % 2] = NULL;
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	tag = 3;
	sha256_update(&c, &tag, 1);
	if ((rc = mdb_get(txn, s->meta, &lk, &v)) == 0)
		sha256_update(&c, v.mv_data, v.mv_size);
	else if (rc != MDB_NOTFOUND)
		return rc;
	sha256_final(&c, d);
	memcpy(hex, "sha256:", 7);
	sha256_hex(d, hex + 7);
	return 0;
}

/*
 * After a walk of the whole map: let the pages read go from this
 * process's resident set. The map is a read-only shared mapping of the
 * file, so this only drops page table entries (the pages stay in the
 * page cache, and a later read maps them again): a refresh that checks
 * a 1 GB map first does not carry it through the fetch and the parse.
 */
static void
drop_pages(struct store *s)
{
	unsigned long long lo, hi, off, ino;
	unsigned maj, mnr;
	char line[512];
	FILE *fp;

	/* LMDB does not say where it mapped the file (me_mapaddr is only
	 * set for a fixed map): the kernel's list of mappings does. */
	if ((fp = fopen("/proc/self/maps", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%llx-%llx %*4s %llx %x:%x %llu", &lo, &hi,
		           &off, &maj, &mnr, &ino) != 6 ||
		    ino != (unsigned long long)s->ino || maj != major(s->dev) ||
		    mnr != minor(s->dev))
			continue;
		(void)madvise((void *)(uintptr_t)lo, (size_t)(hi - lo),
		              MADV_DONTNEED);
	}
	fclose(fp);
}

/* Read every entry of dbi (structure only): a damaged page shows. */
static int
walk_all(struct store *s, MDB_dbi dbi)
{
	MDB_val k, v;
	int rc, op;

	if ((rc = mdb_cursor_open(s->rtxn, dbi, &s->cur[0])) != 0)
		return rc;
	for (op = MDB_FIRST; (rc = mdb_cursor_get(s->cur[0], &k, &v, op)) == 0;
	     op = MDB_NEXT)
		;
	mdb_cursor_close(s->cur[0]);
	s->cur[0] = NULL;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct verify_call {
	char *sum; /* out: the stored checksum */
	size_t sumsz;
};

static int
verify_fn(struct store *s, void *arg)
{
	struct verify_call *vc = arg;
	MDB_val ck = { sizeof(CHECKSUM_KEY) - 1, (void *)CHECKSUM_KEY }, v;
	char want[SHA256_HEX + 8], got[SHA256_HEX + 8];
	int rc;

	if ((rc = store_read_begin(s)) != 0)
		return store_rd_err(s, rc);
	/* The free list and the meta records are not summed (they change
	 * without the map), but their pages must read. */
	if ((rc = walk_all(s, 0)) != 0 || (rc = walk_all(s, s->meta)) != 0 ||
	    (s->has_versions && (rc = walk_all(s, s->versions)) != 0) ||
	    (rc = mdb_get(s->rtxn, s->meta, &ck, &v)) != 0)
		goto out;
	if (store_copy_val(&v, want, sizeof(want)) != SH_OK) {
		rc = MDB_CORRUPTED;
		goto out;
	}
	(void)str_copy(vc->sum, want, vc->sumsz);
	if ((rc = map_digest(s, s->rtxn, 1, got)) == 0 &&
	    strcmp(want, got) != 0) {
		mdb_txn_reset(s->rtxn);
		return store_set_damaged(
		        s, "checksum mismatch: the map changed on disk "
		           "since it was written");
	}
out:
	mdb_txn_reset(s->rtxn);
	drop_pages(s);
	return rc == 0 ? SH_OK : store_rd_err(s, rc);
}

int
store_verify(struct store *s, char *sum, size_t sumsz)
{
	struct verify_call vc = { sum, sumsz };

	if (sumsz > 0)
		sum[0] = '\0';
	return store_guarded(s, verify_fn, &vc);
}

/* Begin (or renew) the shared read transaction. */
int
store_read_begin(struct store *s)
{
	int rc;

	if (s->rtxn != NULL) {
		if ((rc = mdb_txn_renew(s->rtxn)) == 0)
			return 0;
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
		if (rc != MDB_MAP_RESIZED)
			return rc;
		/* Another process grew the map; adopt its size. */
		(void)mdb_env_set_mapsize(s->env, 0);
	}
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc == MDB_MAP_RESIZED) {
		(void)mdb_env_set_mapsize(s->env, 0);
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	}
	if (rc != 0)
		s->rtxn = NULL;
	return rc;
}

int
store_copy_val(const MDB_val *v, char *out, size_t outsz)
{
	if (v->mv_size >= outsz)
		return SH_ETOOLONG;
	memcpy(out, v->mv_data, v->mv_size);
	out[v->mv_size] = '\0';
	return SH_OK;
}

/* The value of key into val: a string, or (len not NULL) its bytes. */
static int
meta_get(struct store *s, const char *key, char *val, size_t valsz, size_t *len)
{
	MDB_val k = { strlen(key), (void *)key }, v;
	int rc;

	if (valsz > 0)
		val[0] = '\0';
	if (k.mv_size == 0 || k.mv_size > REDIRECT_ALIAS_MAX)
		return SH_ENOTFOUND;
	if (store_read_begin(s) != 0)
		return SH_ESTORE;
	rc = mdb_get(s->rtxn, s->meta, &k, &v);
	if (rc != 0) {
		rc = store_rd_err(s, rc);
	} else if (len == NULL) {
		rc = store_copy_val(&v, val, valsz);
	} else if (v.mv_size > valsz) {
		rc = SH_ETOOLONG;
	} else {
		memcpy(val, v.mv_data, v.mv_size);
		*len = v.mv_size;
		rc = SH_OK;
	}
	mdb_txn_reset(s->rtxn);
	return rc;
}

struct meta_call {
	const char *key;
	char *val;
	size_t valsz;
	size_t *len;
};

static int
meta_get_fn(struct store *s, void *arg)
{
	struct meta_call *c = arg;

	return meta_get(s, c->key, c->val, c->valsz, c->len);
}

int
store_meta_get(struct store *s, const char *key, char *val, size_t valsz)
{
	struct meta_call c = { key, val, valsz, NULL };

	if (valsz > 0)
		val[0] = '\0';
	return store_guarded(s, meta_get_fn, &c);
}

int
store_meta_read(struct store *s, const char *key, void *buf, size_t bufsz,
                size_t *len)
{
	struct meta_call c = { key, buf, bufsz, len };

	*len = 0;
	return store_guarded(s, meta_get_fn, &c);
}

static int
put_meta(MDB_txn *txn, MDB_dbi dbi, const struct store_kv *kv, size_t nkv)
{
	size_t i;
	int rc;

	for (i = 0; i < nkv; i++) {
		MDB_val k = { strlen(kv[i].key), (void *)kv[i].key };
		MDB_val v = { kv[i].len != 0 ? kv[i].len : strlen(kv[i].val),
			      (void *)kv[i].val };

		if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
			return rc;
	}
	return 0;
}

/*
 * The map's checksum (map_digest()), written in the transaction that
 * wrote the map, so a reader can tell a page changed since (store_verify).
 */
static int
put_checksum(MDB_txn *txn, struct store *s)
{
	MDB_val k = { sizeof(CHECKSUM_KEY) - 1, (void *)CHECKSUM_KEY }, v;
	char hex[SHA256_HEX + 8];
	int rc;

	if ((rc = map_digest(s, txn, 0, hex)) != 0)
		return rc;
	/* A map bigger than LMDB keeps in memory was partly spilled to the
	 * file: the walk read those pages back through the mapping. */
	drop_pages(s);
	v.mv_size = strlen(hex);
	v.mv_data = hex;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/* Double the map size; only when this process has no live txn. */
static int
grow(struct store *s)
{
	MDB_envinfo info;

	if (s->rtxn != NULL) {
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	if (mdb_env_info(s->env, &info) != 0 ||
	    (unsigned long long)info.me_mapsize * 2 > STORE_MAP_LIMIT)
		return -1;
	return mdb_env_set_mapsize(s->env, info.me_mapsize * 2) == 0 ? 0 : -1;
}

/* The version step vp (if any) and the map m (if any, and unless the
 * step keeps the map), in txn. */
static int
put_all(MDB_txn *txn, struct store *s, const struct redirect_map *m,
        const struct store_vput *vp, struct store_vstate *out)
{
	int rc, write_map = 1;

	if (vp != NULL &&
	    (rc = store_versions_step(txn, s, vp, &write_map, out)) != 0)
		return rc;
	if (m == NULL || !write_map)
		return 0;
	if ((rc = store_put_map(txn, s, m)) != 0)
		return rc;
	return put_checksum(txn, s);
}

static int
write_txn(struct store *s, const struct redirect_map *m,
          const struct store_kv *kv, size_t nkv, const struct store_vput *vp,
          struct store_vstate *out)
{
	MDB_txn *txn = NULL;
	int rc;

	for (;;) {
		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			(void)mdb_env_set_mapsize(s->env, 0);
			continue;
		}
		if (rc != 0)
			return rc;
		s->wtxn = txn; /* for abandon() after a fault */
		if ((rc = put_all(txn, s, m, vp, out)) == 0 &&
		    (rc = put_meta(txn, s->meta, kv, nkv)) == 0)
			rc = mdb_txn_commit(
			        txn); /* frees txn, even on failure */
		else
			mdb_txn_abort(txn);
		s->wtxn = NULL;
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_FULL && grow(s) == 0)
			continue;
		return rc;
	}
}

/* Less free space than this after a failed write: the disk is full. */
#define STORE_FULL_BYTES (1u << 20)

/*
 * LMDB turns a short write on a full disk into EIO: look at the free
 * space so the error names the real cause.
 */
static int
write_done(struct store *s)
{
	struct statfs sf;

	if (s->last_rc == 0)
		return SH_OK;
	if (s->last_rc == EIO && statfs(s->dir, &sf) == 0 &&
	    (unsigned long long)sf.f_bavail * (unsigned long long)sf.f_bsize <
	            STORE_FULL_BYTES)
		s->last_rc = ENOSPC;
	return SH_ESTORE;
}

struct write_call {
	const struct redirect_map *m;
	const struct store_kv *kv;
	size_t nkv;
	const struct store_vput *vp;
	struct store_vstate *out;
};

static int
write_fn(struct store *s, void *arg)
{
	struct write_call *c = arg;

	if ((s->last_rc = write_txn(s, c->m, c->kv, c->nkv, c->vp, c->out)) ==
	    0)
		return SH_OK;
	if (s->last_rc == MDB_NOTFOUND)
		return SH_ENOTFOUND; /* a version step's number */
	return damage_rc(s->last_rc) ? store_rd_err(s, s->last_rc) : SH_ESTORE;
}

/*
 * One write, under the guard. A store found damaged before or during it
 * is a cache lost: set aside, and the write made again in a fresh store
 * (store_heal()); the map it held comes back with the next refresh.
 */
static int
write_healing(struct store *s, struct write_call *c)
{
	int rc;

	if (s->rdonly) {
		s->last_rc = EROFS;
		return SH_ESTORE;
	}
	rc = store_guarded(s, write_fn, c);
	if (rc == SH_EDAMAGED && store_heal(s) == SH_OK && !s->damaged)
		rc = store_guarded(s, write_fn, c);
	if (rc == SH_EDAMAGED) {
		s->last_rc = MDB_CORRUPTED;
		return SH_ESTORE;
	}
	if (rc == SH_ENOTFOUND)
		return rc;
	return rc == SH_OK ? SH_OK : write_done(s);
}

/*
 * Room check. LMDB writes a new map beside the old one (readers keep
 * the old until they finish), so a replace needs room for a whole map.
 * One that fills the disk fails at its commit, with the file grown to
 * the last byte: no room for the logs, nor for the next attempt. So the
 * room is checked first, against a worst case: entries plus node headers
 * in pages three quarters full (sorted input fills them; a B-tree fed
 * out of order leaves them about 69 % full), values too long for a node
 * in overflow pages of their own.
 */
static unsigned long long
map_bytes(const struct redirect_map *m)
{
	unsigned long long n = 1ULL << 16; /* branch pages, meta records */
	size_t i, kv;

	for (i = 0; i < m->n; i++) {
		const struct redirect *r = &m->v[i];

		kv = (r->host != NULL ? strlen(r->host) : 0) +
		     strlen(r->alias) + strlen(r->url) + 2;
		n += kv > 2000 ? (kv / 4096 + 1) * 4096 : (kv + 16) * 3 / 2;
	}
	return n;
}

/* What must stay free for the old map to be read and logs written. */
static unsigned long long
reserve_bytes(const struct statfs *sf)
{
	unsigned long long total =
	        (unsigned long long)sf->f_blocks * sf->f_bsize;
	unsigned long long r = (256ULL << 10) + total / 100;

	return r < (64ULL << 20) ? r : 64ULL << 20;
}

/* Bytes of pages inside the file that no tree uses (free for reuse). */
static int
free_in_file(struct store *s, void *arg)
{
	MDB_dbi dbis[6] = { 0, 1, s->map, s->prefix, s->meta, s->versions };
	unsigned long long *bytes = arg, used = 2; /* the two header pages */
	MDB_envinfo info;
	MDB_stat st;
	size_t i;
	int rc;

	*bytes = 0;
	if ((rc = store_read_begin(s)) != 0)
		return store_rd_err(s, rc);
	for (i = 0; i < (s->has_versions ? 6u : 5u); i++) {
		if ((rc = mdb_stat(s->rtxn, dbis[i], &st)) != 0)
			break;
		used += st.ms_branch_pages + st.ms_leaf_pages +
		        st.ms_overflow_pages;
	}
	if (rc == 0 && (rc = mdb_env_info(s->env, &info)) == 0 &&
	    info.me_last_pgno + 1 > used)
		*bytes = ((unsigned long long)info.me_last_pgno + 1 - used) *
		         st.ms_psize;
	mdb_txn_reset(s->rtxn);
	return rc == 0 ? SH_OK : store_rd_err(s, rc);
}

static double
mib(unsigned long long n)
{
	return (double)n / (1024.0 * 1024.0);
}

/* SH_OK if a map of m fits with the reserve left over, else SH_ENOSPACE. */
static int
room_for(struct store *s, const struct redirect_map *m, size_t extra)
{
	unsigned long long need = map_bytes(m) + extra, avail, inside = 0, keep;
	struct statfs sf;

	if (statfs(s->dir, &sf) != 0)
		return SH_OK; /* cannot tell: let the write say */
	avail = (unsigned long long)sf.f_bavail * sf.f_bsize;
	(void)store_guarded(s, free_in_file, &inside);
	keep = reserve_bytes(&sf);
	if (avail + inside >= need + keep)
		return SH_OK;
	snprintf(s->space_err, sizeof(s->space_err),
	         "not enough free space in %s: %.1f MiB free (and %.1f MiB "
	         "reusable in the store), the new map may need %.1f MiB and "
	         "%.1f MiB must stay free",
	         s->dir, mib(avail), mib(inside), mib(need), mib(keep));
	return SH_ENOSPACE;
}

int
store_replace_version(struct store *s, const struct redirect_map *m,
                      const struct store_kv *kv, size_t nkv,
                      const struct store_vput *vp, struct store_vstate *out)
{
	struct write_call c = { m, kv, nkv, vp, out };
	/* A kept file in overflow pages of its own, and its header. */
	size_t extra = vp != NULL && vp->step == STORE_VADD
	                       ? vp->len + 2 * 4096 + strlen(vp->v->source)
	                       : 0;

	s->space_err[0] = '\0';
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (!s->rdonly && room_for(s, m, extra) != SH_OK)
		return SH_ENOSPACE;
	return write_healing(s, &c);
}

int
store_replace(struct store *s, const struct redirect_map *m,
              const struct store_kv *kv, size_t nkv)
{
	return store_replace_version(s, m, kv, nkv, NULL, NULL);
}

int
store_meta_put(struct store *s, const struct store_kv *kv, size_t nkv)
{
	struct write_call c = { NULL, kv, nkv, NULL, NULL };

	s->space_err[0] = '\0';
	return write_healing(s, &c);
}

const char *
store_write_error(const struct store *s)
{
	if (s->rdonly)
		return "the store is open read-only (state-dir not writable)";
	if (s->space_err[0] != '\0')
		return s->space_err;
	if (s->last_rc == MDB_MAP_FULL)
		return "the map is full at its 16 GiB limit";
	if (s->last_rc == MDB_CORRUPTED && s->damaged)
		return s->why;
	return s->last_rc == 0 ? "no error" : mdb_strerror(s->last_rc);
}

int
store_readonly(const struct store *s)
{
	return s->rdonly;
}
