/*
 * test_privdrop.c - `sherve serve` as root (privdrop.c): --user looked
 * up, the directories made for it, the drop itself.
 *
 * Everything runs against real directories in a temporary dir and the
 * real user "nobody". The drop is done in a forked child of this
 * single-threaded program, which reports what the kernel says it now is
 * (uids, gids, supplementary groups, whether setuid(0) works) through a
 * pipe.
 *
 * Most of what privdrop.c does happens only as root: those tests are
 * registered only when the program runs as root (as in CI); as a normal
 * user they are not run, not counted, and a line on stdout says so. The
 * rest run either way.
 */
#include "unit.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>

#include "conf.h"
#include "log.h"
#include "privdrop.h"
#include "util.h"

static char base[] = "/tmp/sherve-privdrop.XXXXXX";
static uid_t nobody_uid;
static gid_t nobody_gid;

/* For both suites: the temporary dir lives as long as main(). */
static int
setup(void)
{
	struct passwd *pw = getpwnam("nobody");

	if (pw == NULL || mkdtemp(base) == NULL || chmod(base, 0755) != 0)
		return -1;
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	log_set_level(SH_LOG_ERROR);
	return 0;
}

/* c with --user user (NULL: none), --state-dir and --listen as given. */
static int
load(struct conf *c, const char *user, const char *state, const char *listen)
{
	char *argv[12], err[256];
	int argc = 0;

	argv[argc++] = "sherve";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-dir";
	argv[argc++] = (char *)state;
	if (user != NULL) {
		argv[argc++] = "--user";
		argv[argc++] = (char *)user;
	}
	if (listen != NULL) {
		argv[argc++] = "--listen";
		argv[argc++] = (char *)listen;
	}
	argv[argc] = NULL;
	if (conf_load(c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

/* A path under the temporary dir. */
static const char *
at(const char *rel)
{
	static char path[4][300];
	static unsigned i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", base, rel);
	return path[i];
}

/* ---- lookup, as anyone ---- */

static void
test_lookup(void)
{
	struct privdrop p;
	char err[256] = "";
	struct conf c;

	require_true(__LINE__, "conf", load(&c, NULL, at("s"), NULL) == 0);
	p.set = 7;
	expect_int(__LINE__, "no --user", 0,
	           privdrop_lookup(&c, &p, err, sizeof(err)));
	expect_int(__LINE__, "... nothing to drop to", 0, p.set);
	conf_free(&c);
	require_true(__LINE__, "conf", load(&c, "nobody", at("s"), NULL) == 0);
	expect_int(__LINE__, "--user nobody", 0,
	           privdrop_lookup(&c, &p, err, sizeof(err)));
	expect_int(__LINE__, "... set", 1, p.set);
	expect_int(__LINE__, "... its uid", nobody_uid, p.uid);
	expect_int(__LINE__, "... its primary gid", nobody_gid, p.gid);
	expect_str(__LINE__, "... its name", "nobody", p.name);
	conf_free(&c);
	require_true(__LINE__, "conf",
	             load(&c, "sherve-no-such-user", at("s"), NULL) == 0);
	expect_int(__LINE__, "an unknown user", -1,
	           privdrop_lookup(&c, &p, err, sizeof(err)));
	expect_str(__LINE__, "... a clear error",
	           "user: sherve-no-such-user: no such user", err);
	expect_int(__LINE__, "... nothing to drop to", 0, p.set);
	conf_free(&c);
}

/* Without --user, nothing is made and nothing is dropped. */
static void
test_no_user(void)
{
	struct privdrop p = { 0, 0, 0, "" };
	char err[256] = "";
	struct conf c;
	uid_t uid = getuid();

	require_true(__LINE__, "conf",
	             load(&c, NULL, at("none/state"), "unix:/x/y.sock") == 0);
	expect_int(__LINE__, "dirs", 0,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	expect_true(__LINE__, "... no state dir made",
	            access(at("none"), F_OK) != 0 && errno == ENOENT);
	expect_int(__LINE__, "drop", 0,
	           privdrop_drop(&p, at("none.sock"), err, sizeof(err)));
	expect_int(__LINE__, "... still who we were", uid, getuid());
	conf_free(&c);
}

/* Not root (as nobody when root): nothing is made, the drop refused. */
static int
as_user(void)
{
	struct privdrop p;
	char err[256] = "", want[300];
	struct conf c;
	int bad = 0;

	if (load(&c, "root", at("user/state"), "unix:/nonexistent/s.sock") != 0)
		return 1;
	if (privdrop_lookup(&c, &p, err, sizeof(err)) != 0 || p.uid != 0)
		bad |= 2;
	if (privdrop_dirs(&c, &p, err, sizeof(err)) != 0 ||
	    access(at("user"), F_OK) == 0)
		bad |= 4;
	snprintf(want, sizeof(want), "user: root: %s", strerror(EPERM));
	if (privdrop_drop(&p, NULL, err, sizeof(err)) != -1 ||
	    strcmp(err, want) != 0 || getuid() == 0 || geteuid() == 0)
		bad |= 8;
	conf_free(&c);
	return bad;
}

static void
test_not_root(void)
{
	int st = 0;
	pid_t pid;

	if (geteuid() != 0) {
		expect_int(__LINE__, "as a user: no dirs, no drop to root", 0,
		           as_user());
		return;
	}
	if ((pid = fork()) == 0)
		_exit(setgroups(0, NULL) == 0 &&
		                      setresgid(nobody_gid, nobody_gid,
		                                nobody_gid) == 0 &&
		                      setresuid(nobody_uid, nobody_uid,
		                                nobody_uid) == 0
		              ? as_user()
		              : 99);
	require_true(__LINE__, "fork", pid > 0);
	require_true(__LINE__, "wait",
	             waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	expect_int(__LINE__, "as nobody: no dirs, no drop to root", 0,
	           WEXITSTATUS(st));
}

/* ---- as root ---- */

static int
owned(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_uid == uid && st.st_gid == gid &&
	       (st.st_mode & 07777) == mode;
}

/* The state dir and the socket's dir, made with their parents. */
static void
test_dirs_made(void)
{
	char err[512] = "", listen[300];
	struct privdrop p;
	struct conf c;

	snprintf(listen, sizeof(listen), "unix:%s", at("run/a/sherve.sock"));
	require_true(__LINE__, "conf",
	             load(&c, "nobody", at("lib/b/state"), listen) == 0);
	require_true(__LINE__, "lookup",
	             privdrop_lookup(&c, &p, err, sizeof(err)) == 0);
	umask(077); /* whatever the umask: the modes are set */
	expect_int(__LINE__, "dirs", 0,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	umask(022);
	expect_str(__LINE__, "no error", "", err);
	expect_true(__LINE__, "the state dir: nobody's, 0750",
	            owned(at("lib/b/state"), nobody_uid, nobody_gid, 0750));
	expect_true(__LINE__, "its new parents: root's, 0755",
	            owned(at("lib"), 0, 0, 0755) &&
	                    owned(at("lib/b"), 0, 0, 0755));
	expect_true(__LINE__, "the socket's dir: nobody's, 0755",
	            owned(at("run/a"), nobody_uid, nobody_gid, 0755));
	expect_true(__LINE__, "... its parent root's",
	            owned(at("run"), 0, 0, 0755));
	expect_true(__LINE__, "no socket made here",
	            access(at("run/a/sherve.sock"), F_OK) != 0);
	conf_free(&c);
}

/* An admin's existing state dir is left as it is, if nobody can write. */
static void
test_dirs_existing(void)
{
	char err[512] = "", want[512];
	struct privdrop p;
	struct conf c;

	require_true(__LINE__, "dirs",
	             mkdir(at("mine"), 0770) == 0 &&
	                     chown(at("mine"), nobody_uid, 0) == 0 &&
	                     chmod(at("mine"), 0770) == 0 &&
	                     mkdir(at("roots"), 0755) == 0);
	require_true(__LINE__, "conf",
	             load(&c, "nobody", at("mine"), NULL) == 0);
	require_true(__LINE__, "lookup",
	             privdrop_lookup(&c, &p, err, sizeof(err)) == 0);
	expect_int(__LINE__, "an existing dir nobody may write", 0,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	expect_true(__LINE__, "... is left as it was",
	            owned(at("mine"), nobody_uid, 0, 0770));
	conf_free(&c);
	require_true(__LINE__, "conf",
	             load(&c, "nobody", at("roots"), NULL) == 0);
	expect_int(__LINE__, "root's own 0755 dir", -1,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "state-dir: %s: %s for user nobody; make it writable by "
	         "nobody (chown nobody: %s)",
	         at("roots"), strerror(EACCES), at("roots"));
	expect_str(__LINE__, "... asked as nobody: what to do", want, err);
	expect_true(__LINE__, "... and left alone",
	            owned(at("roots"), 0, 0, 0755));
	conf_free(&c);
}

/* A failure says what to create, and removes what was made. */
static void
test_dirs_fail(void)
{
	char err[512] = "", want[800], listen[300];
	struct privdrop p;
	struct conf c;

	require_true(__LINE__, "a file", unit_write_file(at("f"), "x") == 0);
	snprintf(listen, sizeof(listen), "unix:%s", at("run2/x/s.sock"));
	require_true(__LINE__, "conf",
	             load(&c, "nobody", at("f/state"), listen) == 0);
	require_true(__LINE__, "lookup",
	             privdrop_lookup(&c, &p, err, sizeof(err)) == 0);
	expect_int(__LINE__, "a state dir under a file", -1,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	snprintf(want, sizeof(want),
	         "state-dir: %s: %s; create it as root, owned by nobody "
	         "(mkdir -p %s && chown nobody: %s)",
	         at("f/state"), strerror(ENOTDIR), at("f/state"),
	         at("f/state"));
	expect_str(__LINE__, "... what to create, and for whom", want, err);
	expect_true(__LINE__, "... the socket's dirs made are removed",
	            access(at("run2"), F_OK) != 0 && errno == ENOENT);
	conf_free(&c);
	require_true(__LINE__, "conf", load(&c, "nobody", at("f"), NULL) == 0);
	expect_int(__LINE__, "a file where the state dir should be", -1,
	           privdrop_dirs(&c, &p, err, sizeof(err)));
	expect_has(__LINE__, "... says so", err, strerror(ENOTDIR));
	conf_free(&c);
}

/* What the child found after the drop. */
struct after {
	int rc;
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int ngroups;
	gid_t groups[64];
	int regained; /* setuid(0) worked */
	uid_t sock_uid;
	gid_t sock_gid;
	char err[256];
};

static void
drop_child(int fd, const struct privdrop *p, const char *sock)
{
	struct after a;
	struct stat st;

	memset(&a, 0, sizeof(a));
	a.rc = privdrop_drop(p, sock, a.err, sizeof(a.err));
	(void)getresuid(&a.r, &a.e, &a.s);
	(void)getresgid(&a.rg, &a.eg, &a.sg);
	a.ngroups = getgroups(64, a.groups);
	a.regained = setuid(0) == 0;
	if (stat(sock, &st) == 0) {
		a.sock_uid = st.st_uid;
		a.sock_gid = st.st_gid;
	}
	_exit(write(fd, &a, sizeof(a)) == (ssize_t)sizeof(a) ? 0 : 1);
}

static void
test_drop(void)
{
	gid_t want[64];
	int nwant = 64, p2[2], st = 0;
	struct privdrop p;
	struct after a;
	struct conf c;
	char err[256];
	pid_t pid;

	require_true(__LINE__, "conf", load(&c, "nobody", at("s"), NULL) == 0);
	require_true(__LINE__, "lookup",
	             privdrop_lookup(&c, &p, err, sizeof(err)) == 0);
	conf_free(&c);
	require_true(__LINE__, "nobody's groups",
	             getgrouplist("nobody", nobody_gid, want, &nwant) > 0);
	require_true(__LINE__, "a socket file",
	             unit_write_file(at("drop.sock"), "") == 0);
	require_true(__LINE__, "pipe", pipe(p2) == 0);
	if ((pid = fork()) == 0) {
		close(p2[0]);
		drop_child(p2[1], &p, at("drop.sock"));
	}
	close(p2[1]);
	require_true(__LINE__, "fork", pid > 0);
	memset(&a, 0, sizeof(a));
	expect_true(__LINE__, "the child's report",
	            read(p2[0], &a, sizeof(a)) == (ssize_t)sizeof(a));
	close(p2[0]);
	expect_true(__LINE__, "the child exited",
	            waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	                    WEXITSTATUS(st) == 0);
	expect_int(__LINE__, "dropped", 0, a.rc);
	expect_str(__LINE__, "no error", "", a.err);
	expect_true(__LINE__, "real, effective, saved uid: nobody",
	            a.r == nobody_uid && a.e == nobody_uid &&
	                    a.s == nobody_uid);
	expect_true(__LINE__, "real, effective, saved gid: nogroup",
	            a.rg == nobody_gid && a.eg == nobody_gid &&
	                    a.sg == nobody_gid);
	expect_int(__LINE__, "supplementary groups: nobody's", nwant,
	           a.ngroups);
	expect_true(__LINE__, "... the same, root's own gone",
	            a.ngroups == nwant &&
	                    memcmp(a.groups, want, sizeof(gid_t) * nwant) == 0);
	expect_int(__LINE__, "root cannot be regained", 0, a.regained);
	expect_true(__LINE__, "the socket is nobody's",
	            a.sock_uid == nobody_uid && a.sock_gid == nobody_gid);
	expect_int(__LINE__, "this process is still root", 0, geteuid());
}

int
main(void)
{
	static const struct unit_test anyone[] = { UNIT_TEST(test_lookup),
		                                   UNIT_TEST(test_no_user),
		                                   UNIT_TEST(test_not_root),
		                                   UNIT_END };
	static const struct unit_test root[] = {
		UNIT_TEST(test_dirs_made), UNIT_TEST(test_dirs_existing),
		UNIT_TEST(test_dirs_fail), UNIT_TEST(test_drop), UNIT_END
	};
	static const struct unit_suite all[] = {
		{ "privdrop", NULL, NULL, anyone },
		{ "privdrop as root", NULL, NULL, root },
		{ NULL, NULL, NULL, NULL }
	};
	static const struct unit_suite user[] = {
		{ "privdrop", NULL, NULL, anyone }, { NULL, NULL, NULL, NULL }
	};

	int rc;

	if (setup() != 0) {
		perror("privdrop: setup");
		return 99;
	}
	if (geteuid() == 0) {
		rc = unit_main(all);
	} else {
		printf("privdrop: not root: the %zu tests of \"privdrop as "
		       "root\" are not run\n",
		       NELEM(root) - 1);
		rc = unit_main(user);
	}
	if (unit_rmtree(base) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return rc;
}
