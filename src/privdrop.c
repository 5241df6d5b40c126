/* privdrop.c - serve as root: directories for --user, then the drop; see
 * privdrop.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"
#include "util.h"

#define DIR_MAX 4096

int
privdrop_lookup(const struct conf *c, struct privdrop *p, char *err,
                size_t errsz)
{
	struct passwd *pw;

	memset(p, 0, sizeof(*p));
	if (c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL ||
	    str_copy(p->name, pw->pw_name, sizeof(p->name)) >=
	            sizeof(p->name)) {
		snprintf(err, errsz, "user: %s: no such user", c->user);
		return -1;
	}
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	p->set = 1;
	return 0;
}

static void
say_create(const char *what, const char *dir, const struct privdrop *p, int e,
           char *err, size_t errsz)
{
	snprintf(err, errsz,
	         "%s: %s: %s; create it as root, owned by %s "
	         "(mkdir -p %s && chown %s: %s)",
	         what, dir, strerror(e), p->name, dir, p->name, dir);
}

/* Directories made here: path, of which path[0..top) existed before. */
struct made {
	char path[DIR_MAX];
	int any; /* something was made */
	size_t top;
};

/* Remove what m made, deepest first (all empty: nothing ran in them). */
static void
unmake(struct made *m)
{
	char *s;

	while (m->any && strlen(m->path) > m->top && rmdir(m->path) == 0 &&
	       (s = strrchr(m->path, '/')) != NULL)
		*s = '\0';
	m->any = 0;
}

/* mkdir one level of m->path (cut at its end): the first one made marks
 * where m->path began to be new. */
static int
make_one(struct made *m, mode_t mode)
{
	char *slash;

	if (mkdir(m->path, mode) != 0)
		return errno == EEXIST ? 0 : -1;
	if (!m->any) {
		slash = strrchr(m->path, '/');
		m->top = slash != NULL ? (size_t)(slash - m->path) : 0;
		m->any = 1;
	}
	/* Whatever the umask: --user must get through to the last one. */
	return chmod(m->path, mode);
}

/* mkdir -p m->path: parents root's (0755), the last one p's, with mode. */
static int
dir_for(const char *what, struct made *m, mode_t mode, const struct privdrop *p,
        char *err, size_t errsz)
{
	struct stat st;
	size_t n = strlen(m->path);
	char *s;

	m->any = 0;
	while (n > 1 && m->path[n - 1] == '/')
		m->path[--n] = '\0';
	if (stat(m->path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0; /* an admin's own: left alone */
		errno = ENOTDIR;
		goto fail;
	}
	for (s = m->path + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (make_one(m, 0755) != 0)
			goto fail_slash;
		*s = '/';
	}
	if (mkdir(m->path, mode) != 0)
		goto fail;
	if (!m->any) {
		s = strrchr(m->path, '/');
		m->top = s != NULL ? (size_t)(s - m->path) : 0;
		m->any = 1;
	}
	if (chown(m->path, p->uid, p->gid) != 0 || chmod(m->path, mode) != 0)
		goto fail;
	return 0;
fail_slash:
	*s = '/';
fail:
	say_create(what, m->path, p, errno, err, errsz);
	return -1;
}

/*
 * errno for access(dir, W_OK | X_OK) as p, asked in a child that drops to
 * p (the master runs no thread yet): the kernel's answer, ACLs and
 * groups included, not a guess from mode bits. 0 if writable.
 */
static int
access_as(const struct privdrop *p, const char *dir)
{
	pid_t pid;
	int st;

	if ((pid = fork()) < 0)
		return errno;
	if (pid == 0)
		_exit(initgroups(p->name, p->gid) != 0 ||
		                      setresgid(p->gid, p->gid, p->gid) != 0 ||
		                      setresuid(p->uid, p->uid, p->uid) != 0
		              ? EPERM
		      : access(dir, W_OK | X_OK) != 0 ? errno
		                                      : 0);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

int
privdrop_dirs(const struct conf *c, const struct privdrop *p, char *err,
              size_t errsz)
{
	struct made sock, state;
	char *slash;
	int e;

	if (!p->set || geteuid() != 0)
		return 0;
	sock.any = state.any = 0;
	if (strncmp(c->listen, "unix:", 5) == 0 &&
	    str_copy(sock.path, c->listen + 5, DIR_MAX) < DIR_MAX &&
	    (slash = strrchr(sock.path, '/')) != NULL && slash != sock.path) {
		*slash = '\0';
		/* 0755: the web server must reach the socket inside. */
		if (dir_for("listen", &sock, 0755, p, err, errsz) != 0)
			return -1;
	}
	if (str_copy(state.path, c->state_dir, DIR_MAX) >= DIR_MAX) {
		say_create("state-dir", c->state_dir, p, ENAMETOOLONG, err,
		           errsz);
		goto undo;
	}
	if (dir_for("state-dir", &state, 0750, p, err, errsz) != 0)
		goto undo;
	if ((e = access_as(p, state.path)) != 0) {
		snprintf(err, errsz,
		         "state-dir: %s: %s for user %s; make it writable by "
		         "%s (chown %s: %s)",
		         state.path, strerror(e), p->name, p->name, p->name,
		         state.path);
		goto undo;
	}
	if (sock.any)
		log_info("serve: created listen %s for user %s", sock.path,
		         p->name);
	if (state.any)
		log_info("serve: created state-dir %s for user %s", state.path,
		         p->name);
	return 0;
undo:
	unmake(&state);
	unmake(&sock);
	return -1;
}

int
privdrop_drop(const struct privdrop *p, const char *sock_path, char *err,
              size_t errsz)
{
	if (!p->set)
		return 0;
	if (sock_path != NULL && sock_path[0] != '\0' &&
	    chown(sock_path, p->uid, p->gid) != 0)
		goto fail;
	/* The user's own groups: a webroot readable through one of them
	 * must stay readable. */
	if (initgroups(p->name, p->gid) != 0 ||
	    setresgid(p->gid, p->gid, p->gid) != 0 ||
	    setresuid(p->uid, p->uid, p->uid) != 0)
		goto fail;
	if (p->uid != 0 && setuid(0) == 0) {
		snprintf(err, errsz, "user: %s: could regain root", p->name);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errsz, "user: %s: %s", p->name, strerror(errno));
	return -1;
}
