/*
 * test_statedir.c - a worker's handles on the state dir (statedir.c),
 * against real directories in a temporary dir, with the coarse clock
 * driven by hand (TICK_CLOCK, as test_tick.c does), so "once per tick"
 * is exact, not slept for.
 *
 * The state dir is created when missing; a regular file in its place,
 * and a parent the worker may not write, leave the worker serving
 * assets only, with one error line naming the path and the errno and a
 * "why" for the request log; nothing more is logged while the cause
 * stays, nothing is tried again within the same tick, and the first tick
 * after the cause is fixed opens the store and the metrics and says so
 * once. An open store replaced by another process is reopened at the
 * next tick; one opened read-only (the dir and the file not writable) is
 * reopened read-write in the first second after they are writable
 * again, and not retried more than once a second.
 *
 * Permissions mean nothing to root: as root, the rows that need a
 * directory the worker may not write or read run in a child that became
 * nobody (65534), which sends its findings back through a pipe.
 *
 * The log lines are read by pointing stderr at a temporary file around
 * each call.
 */
#include "unit.h"

#include <errno.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>

static struct timespec fake_now = { 1000, 0 };

static int
fake_clock(struct timespec *ts)
{
	*ts = fake_now;
	return 0;
}

#define TICK_CLOCK(ts) fake_clock(ts)
#include "../../src/statedir.c"

#define NOBODY 65534

static char base[] = "/tmp/sherve-statedir.XXXXXX";

/* ---- stderr, captured ---- */

struct logs {
	struct unit_stderr cap;
	char text[8192];
};

static void
logs_begin(struct logs *l)
{
	unit_stderr_begin(&l->cap);
}

/* Stop capturing; the lines written since logs_begin() are in l->text. */
static const char *
logs_end(struct logs *l)
{
	unit_stderr_end(&l->cap, l->text, sizeof(l->text));
	return l->text;
}

/* Lines of text holding needle. */
static int
count(const char *text, const char *needle)
{
	int n = 0;

	for (; (text = strstr(text, needle)) != NULL; text += strlen(needle))
		n++;
	return n;
}

/* ---- the worker ---- */

static int
load(struct conf *c, const char *state)
{
	char *argv[] = { "sherve",      "--config",    "/dev/null",
		         "--state-dir", (char *)state, "--log-level",
		         "info",        NULL };
	char err[256];

	if (conf_load(c, 7, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

static void
next_tick(void)
{
	fake_now.tv_nsec += 4000000;
}

static int
suite_init(void)
{
	return mkdtemp(base) != NULL && chmod(base, 0755) == 0 ? 0 : -1;
}

static int
suite_cleanup(void)
{
	char path[300];

	/* Whatever a failed row left unwritable. */
	snprintf(path, sizeof(path), "%s/nobody/parent", base);
	(void)chmod(path, 0755);
	return unit_rmtree(base);
}

/* A missing state dir (and its parent) is created; both open. */
static void
test_create(void)
{
	char state[300], path[340];
	struct statedir sd;
	struct stat st;
	struct conf c;
	struct logs l;

	snprintf(state, sizeof(state), "%s/new/state", base);
	require_true(__LINE__, "conf", load(&c, state) == 0);
	logs_begin(&l);
	expect_int(__LINE__, "open", SH_OK, statedir_open(&sd, &c, 1));
	logs_end(&l);
	expect_true(__LINE__, "the state dir was created",
	            stat(state, &st) == 0 && S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/redirects.mdb", state);
	expect_true(__LINE__, "the store is open, in it",
	            sd.store != NULL && access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s/metrics.shm", state);
	expect_true(__LINE__, "the metrics too",
	            sd.metrics != NULL && access(path, F_OK) == 0);
	expect_str(__LINE__, "no why", "", sd.why);
	expect_true(__LINE__, "the handler's miss context has the store",
	            sd.miss.store == sd.store && sd.miss.conf == &c);
	expect_int(__LINE__, "no redirects-url: no refreshing", 0,
	           sd.refreshing);
	expect_int(__LINE__, "... no claim", -1, sd.claim_fd);
	expect_lacks(__LINE__, "nothing logged as an error", l.text,
	             "\"level\":\"error\"");
	statedir_close(&sd);
	expect_true(__LINE__, "closed", sd.store == NULL && sd.metrics == NULL);
	conf_free(&c);
}

/*
 * The store cannot open (cause in place): one error, naming want_err;
 * the next tick tries again and logs nothing; fix(), and nothing is
 * tried within the same tick; the next tick opens it and logs the
 * recovery once, and the one after that logs nothing.
 */
struct scenario {
	const char *state;
	const char *want_err; /* in the error line and in why */
	void (*fix)(const char *state);
	/* What happened, for the parent when run as nobody. */
	int open_rc, store_down, metrics_down, why_ok, errors, named, warns;
	int retry_quiet, still_down, quiet, up_after_fix, recovered,
	        metrics_back, quiet2;
	char why[512];
};

static void
run_scenario(struct scenario *s)
{
	struct statedir sd;
	struct conf c;
	struct logs l;

	if (load(&c, s->state) != 0)
		return;
	logs_begin(&l);
	s->open_rc = statedir_open(&sd, &c, 1);
	logs_end(&l);
	s->store_down = sd.store == NULL;
	s->metrics_down = sd.metrics == NULL;
	(void)str_copy(s->why, sd.why, sizeof(s->why));
	s->why_ok = strstr(sd.why, s->want_err) != NULL;
	s->errors = count(l.text, "\"level\":\"error\"");
	s->named = count(l.text, s->want_err);
	s->warns = count(l.text, "requests are not counted until it opens");
	/* The next tick tries again and fails: nothing more is said. */
	next_tick();
	logs_begin(&l);
	statedir_tick(&sd);
	logs_end(&l);
	s->retry_quiet = sd.store == NULL && l.text[0] == '\0';
	/* The cause fixed, but the same tick: nothing is tried again. */
	s->fix(s->state);
	logs_begin(&l);
	statedir_tick(&sd);
	next_tick();
	logs_end(&l);
	s->still_down = sd.store == NULL;
	s->quiet = l.text[0] == '\0';
	logs_begin(&l);
	statedir_tick(&sd);
	logs_end(&l);
	s->up_after_fix = sd.store != NULL && sd.why[0] == '\0' &&
	                  sd.miss.store == sd.store;
	s->recovered = count(l.text, "opened: aliases are served again");
	s->metrics_back = sd.metrics != NULL &&
	                  count(l.text, "requests are counted again") == 1;
	next_tick();
	logs_begin(&l);
	statedir_tick(&sd);
	logs_end(&l);
	s->quiet2 = l.text[0] == '\0';
	statedir_close(&sd);
	conf_free(&c);
}

/* The assertions over what run_scenario() found. */
static void
check_scenario(unsigned line, const char *desc, const struct scenario *s)
{
	expect_int(line, desc, SH_OK, s->open_rc);
	expect_true(line, desc, s->store_down && s->metrics_down);
	if (!expect_true(line, desc, s->why_ok))
		fprintf(stderr, "  why: %s\n", s->why);
	expect_int(line, "one error line", 1, s->errors);
	expect_int(line, "... naming the path and the errno", 1, s->named);
	expect_int(line, "one warning for the metrics", 1, s->warns);
	expect_true(line, "the next tick fails again, and logs nothing",
	            s->retry_quiet);
	expect_true(line, "fixed, but the same tick: not tried again",
	            s->still_down && s->quiet);
	expect_true(line, "the next tick opens the store", s->up_after_fix);
	expect_int(line, "... and says so once", 1, s->recovered);
	expect_true(line, "... the metrics too, said once", s->metrics_back);
	expect_true(line, "then nothing more is logged", s->quiet2);
}

static void
remove_file(const char *state)
{
	(void)unlink(state);
}

/* A regular file where the state dir should be. */
static void
test_file_in_the_way(void)
{
	struct scenario s;
	char state[300], want[360];

	memset(&s, 0, sizeof(s));
	snprintf(state, sizeof(state), "%s/file", base);
	snprintf(want, sizeof(want), "state-dir: %s: %s", state,
	         strerror(ENOTDIR));
	require_true(__LINE__, "a file", unit_write_file(state, "x\n") == 0);
	s.state = state;
	s.want_err = want;
	s.fix = remove_file;
	run_scenario(&s);
	check_scenario(__LINE__, "a file in the way of the state dir", &s);
}

static void
make_writable(const char *state)
{
	char parent[300];

	(void)str_copy(parent, state, sizeof(parent));
	*strrchr(parent, '/') = '\0';
	(void)chmod(parent, 0755);
}

/*
 * Run fn(ctx) as a user permissions apply to: here when not root; as
 * root in a child that became nobody, whose ctx (size bytes: what fn
 * found) comes back through a pipe. Returns 0, or -1 if the child
 * failed to report.
 */
static int
as_user(void (*fn)(void *), void *ctx, size_t size)
{
	int p[2], st = 0, ok;
	pid_t pid;

	if (geteuid() != 0) {
		fn(ctx);
		return 0;
	}
	if (pipe(p) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(p[0]);
		if (setgroups(0, NULL) != 0 ||
		    setresgid(NOBODY, NOBODY, NOBODY) != 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) != 0)
			_exit(2);
		fn(ctx);
		_exit(write(p[1], ctx, size) == (ssize_t)size ? 0 : 3);
	}
	close(p[1]);
	ok = pid > 0 && read(p[0], ctx, size) == (ssize_t)size;
	close(p[0]);
	if (pid > 0 && (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	                WEXITSTATUS(st) != 0))
		ok = 0;
	return ok ? 0 : -1;
}

/* dir for the user as_user() runs as. */
static int
user_dir(const char *dir, mode_t mode)
{
	if (mkdir(dir, mode) != 0)
		return -1;
	return geteuid() == 0 && chown(dir, NOBODY, NOBODY) != 0 ? -1 : 0;
}

static void
scenario_fn(void *ctx)
{
	run_scenario(ctx);
}

/* The parent of the state dir is not writable. */
static void
test_unwritable_parent(void)
{
	char dir[300], parent[320], state[340], want[800];
	struct scenario s;

	memset(&s, 0, sizeof(s));
	snprintf(dir, sizeof(dir), "%s/nobody", base);
	snprintf(parent, sizeof(parent), "%s/parent", dir);
	snprintf(state, sizeof(state), "%s/state", parent);
	snprintf(want, sizeof(want), "state-dir: cannot create %s: %s", state,
	         strerror(EACCES));
	require_true(__LINE__, "dirs",
	             user_dir(dir, 0755) == 0 && user_dir(parent, 0555) == 0);
	s.state = state;
	s.want_err = want;
	s.fix = make_writable;
	expect_int(__LINE__, "run as a user", 0,
	           as_user(scenario_fn, &s, sizeof(s)));
	check_scenario(__LINE__, "an unwritable parent", &s);
}

/* A store its worker may only read, then may write again. */
struct readonly {
	char state[300];
	int opened, rdonly, refreshing, warned, same_second, reopened, said;
};

static void
readonly_fn(void *ctx)
{
	struct readonly *r = ctx;
	char file[340], text[4096];
	struct statedir sd;
	struct conf c;
	struct logs l;

	snprintf(file, sizeof(file), "%s/redirects.mdb", r->state);
	if (load(&c, r->state) != 0)
		return;
	logs_begin(&l);
	r->opened = statedir_open(&sd, &c, 1) == SH_OK && sd.store != NULL;
	statedir_close(&sd); /* the files exist now */
	(void)chmod(file, 0444);
	(void)chmod(r->state, 0555);
	r->opened = r->opened && statedir_open(&sd, &c, 1) == SH_OK &&
	            sd.store != NULL;
	(void)str_copy(text, logs_end(&l), sizeof(text));
	r->rdonly = sd.store != NULL && store_readonly(sd.store);
	r->refreshing = sd.refreshing;
	r->warned = count(text, "opened read-only");
	logs_begin(&l);
	next_tick(); /* looked at: still read-only */
	statedir_tick(&sd);
	(void)chmod(r->state, 0755);
	(void)chmod(file, 0644);
	next_tick(); /* a new tick, the same second */
	statedir_tick(&sd);
	r->same_second = sd.store != NULL && store_readonly(sd.store);
	fake_now.tv_sec++;
	statedir_tick(&sd);
	r->reopened = sd.store != NULL && !store_readonly(sd.store);
	r->said = count(logs_end(&l), "is writable again: reopening the "
	                              "store");
	statedir_close(&sd);
	conf_free(&c);
}

static void
test_readonly(void)
{
	struct readonly r;

	memset(&r, 0, sizeof(r));
	snprintf(r.state, sizeof(r.state), "%s/ro", base);
	require_true(__LINE__, "dir", user_dir(r.state, 0755) == 0);
	expect_int(__LINE__, "run as a user", 0,
	           as_user(readonly_fn, &r, sizeof(r)));
	expect_int(__LINE__, "a read-only state dir: the store opens", 1,
	           r.opened);
	expect_int(__LINE__, "... read-only", 1, r.rdonly);
	expect_int(__LINE__, "... said once", 1, r.warned);
	expect_int(__LINE__, "... and no refreshing from it", 0, r.refreshing);
	expect_int(__LINE__, "writable again: not tried twice a second", 1,
	           r.same_second);
	expect_int(__LINE__, "the next second: reopened read-write", 1,
	           r.reopened);
	expect_int(__LINE__, "... said once", 1, r.said);
}

/* Another process replaced redirects.mdb: reopened at the next tick. */
static void
test_replaced(void)
{
	char state[300], other[300], from[340], to[340];
	struct statedir sd, od;
	struct conf c, oc;
	struct logs l;
	struct store *before;

	snprintf(state, sizeof(state), "%s/replaced", base);
	snprintf(other, sizeof(other), "%s/other", base);
	require_true(__LINE__, "conf",
	             load(&c, state) == 0 && load(&oc, other) == 0);
	logs_begin(&l);
	expect_int(__LINE__, "open", SH_OK, statedir_open(&sd, &c, 1));
	expect_int(__LINE__, "open another", SH_OK, statedir_open(&od, &oc, 1));
	statedir_close(&od);
	logs_end(&l);
	before = sd.store;
	require_true(__LINE__, "both open", before != NULL);
	snprintf(from, sizeof(from), "%s/redirects.mdb", other);
	snprintf(to, sizeof(to), "%s/redirects.mdb", state);
	require_true(__LINE__, "rename", rename(from, to) == 0);
	logs_begin(&l);
	statedir_tick(&sd); /* the same tick: not looked at */
	next_tick();
	statedir_tick(&sd);
	logs_end(&l);
	expect_true(__LINE__, "open again", sd.store != NULL);
	expect_int(__LINE__, "one line says it was replaced", 1,
	           count(l.text, "redirects.mdb was replaced by another "
	                         "process: reopening it"));
	expect_has(__LINE__, "... naming the path", l.text, to);
	expect_true(__LINE__, "the miss context follows",
	            sd.miss.store == sd.store);
	statedir_close(&sd);
	conf_free(&c);
	conf_free(&oc);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_create),
		UNIT_TEST(test_file_in_the_way),
		UNIT_TEST(test_unwritable_parent),
		UNIT_TEST(test_readonly),
		UNIT_TEST(test_replaced),
		UNIT_END
	};
	static const struct unit_suite suites[] = {
		{ "statedir", suite_init, suite_cleanup, tests },
		{ NULL, NULL, NULL, NULL }
	};

	return unit_main(suites);
}
