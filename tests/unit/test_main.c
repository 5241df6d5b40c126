/*
 * test_main.c - main() of sherve (main.c): the settings loaded, then the
 * dispatch, and the exit status each path ends with (exitcode.h).
 *
 * main.c is included with main renamed sherve_main, and each row runs it
 * in a forked child (it exits, serves, sets the log level and libcurl's
 * global state) with stdin, stdout and stderr on files of a temporary
 * dir; the parent asserts the exit status and what was printed:
 *
 *  - --version, --help, help, help CMD, CMD --help (exit 0), help of an
 *    unknown command (64);
 *  - an unknown option, a bad setting on the command line or in a file
 *    (file:line: key: message), an unreadable --config (78, the message
 *    naming it; --version does not read the file);
 *  - a verb dispatched to the CLI (status, lookup on an empty store, a
 *    state dir without a store: 74), serve with an argument (64);
 *  - no verb, stdin not a socket (or a connected one, not a listener),
 *    no GATEWAY_INTERFACE: a usage message and 64;
 *  - GATEWAY_INTERFACE: one CGI request for a file of the webroot (200
 *    and the body), one for no file (404), exit 0;
 *  - stdin a listening unix socket: the FastCGI loop answers a request
 *    and exits 0 on SIGTERM.
 *
 * Waits are bounded (a child that hangs is killed and fails its row);
 * every child is reaped; nothing asserts how long anything took.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "fcgiget.h"
#include "fixture.h"

int sherve_main(int argc, char **argv);

#define main sherve_main
#include "../../src/main.c"
#undef main

static char base[256], www[300], state[300], nostore[300], badconf[300],
        missing[300], sock[300], outp[300], errp[300];

static int
suite_init(void)
{
	char path[340];
	struct store *s;

	if (fixture_tmpdir(base, sizeof(base), "sherve-main") != 0)
		return -1;
	snprintf(www, sizeof(www), "%s/www", base);
	snprintf(state, sizeof(state), "%s/state", base);
	snprintf(nostore, sizeof(nostore), "%s/nostore", base);
	snprintf(badconf, sizeof(badconf), "%s/bad.conf", base);
	snprintf(missing, sizeof(missing), "%s/missing.conf", base);
	snprintf(sock, sizeof(sock), "%s/fcgi.sock", base);
	snprintf(outp, sizeof(outp), "%s/out", base);
	snprintf(errp, sizeof(errp), "%s/err", base);
	snprintf(path, sizeof(path), "%s/hello.txt", www);
	if (mkdir(www, 0755) != 0 || unit_write_file(path, "hello, main\n") ||
	    unit_write_file(badconf, "# a comment\nworkers = many\n"))
		return -1;
	/* An empty store: status reads it, lookup finds nothing in it. */
	if ((s = fixture_open(base, "state")) == NULL)
		return -1;
	store_close(s);
	return 0;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(base);
}

/* ---- a child running sherve_main() ---- */

#define NARGS 12

enum in { IN_NULL, IN_SOCKET };

/* "@WWW", "@STATE", "@NOSTORE", "@BAD", "@MISSING": the paths above. */
static char *
arg(const char *a)
{
	static const struct {
		const char *name;
		char *path;
	} at[] = { { "@WWW", www },
		   { "@STATE", state },
		   { "@NOSTORE", nostore },
		   { "@BAD", badconf },
		   { "@MISSING", missing } };
	size_t i;

	for (i = 0; i < NELEM(at); i++)
		if (strcmp(a, at[i].name) == 0)
			return at[i].path;
	return (char *)a;
}

/* Open path on fd (for writing, truncated, unless it is stdin). */
static int
redirect(const char *path, int fd)
{
	int f = fd == 0 ? open(path, O_RDONLY | O_CLOEXEC)
	                : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	                       0644);

	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/*
 * In the child: stdin /dev/null or the listening socket lfd, stdout and
 * stderr to files, GATEWAY_INTERFACE and REQUEST_URI set when cgi is
 * not NULL; then sherve_main() and its status.
 */
static void
child(const char *const *args, const char *cgi, int lfd)
{
	char *argv[NARGS + 2];
	int argc = 0, rc;

	argv[argc++] = "sherve";
	while (argc <= NARGS && args[argc - 1] != NULL) {
		argv[argc] = arg(args[argc - 1]);
		argc++;
	}
	argv[argc] = NULL;
	if ((lfd >= 0 ? dup2(lfd, 0) < 0 : redirect("/dev/null", 0) != 0) ||
	    redirect(outp, 1) != 0 || redirect(errp, 2) != 0)
		_exit(99);
	unsetenv("GATEWAY_INTERFACE");
	if (cgi != NULL && (setenv("GATEWAY_INTERFACE", "CGI/1.1", 1) != 0 ||
	                    setenv("REQUEST_METHOD", "GET", 1) != 0 ||
	                    setenv("REQUEST_URI", cgi, 1) != 0))
		_exit(99);
	rc = sherve_main(argc, argv);
	/* exit(), not _exit(): LeakSanitizer and valgrind check the child. */
	exit(rc);
}

/*
 * Reap pid, waiting at most 20 s (then it is killed and fails the row).
 * Returns its exit status, or -1 if it did not exit by itself.
 */
static int
reap(pid_t pid)
{
	int i, status = 0;
	pid_t got = 0;

	for (i = 0; i < 400 && got == 0; i++) {
		got = waitpid(pid, &status, WNOHANG);
		if (got == 0)
			usleep(50000);
		else if (got < 0 && errno == EINTR)
			got = 0;
	}
	if (got == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return got == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The text of path (cut at outsz - 1), "" if it cannot be read. */
static void
slurp(const char *path, char *out, size_t outsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, outsz - 1) : -1;

	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/* ---- the rows ---- */

struct row {
	unsigned line;
	const char *desc;
	const char *args[NARGS]; /* after "sherve" */
	const char *cgi;         /* REQUEST_URI of a CGI request, or NULL */
	int rc;
	const char *out;  /* a substring of stdout, or NULL */
	const char *body; /* the end of stdout, or NULL */
	const char *err;  /* a substring of stderr, or NULL */
	const char *no;   /* on neither, or NULL */
};

#define CONF "--config", "/dev/null"

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "--version", { CONF, "--version" }, NULL, EXIT_OK,
	  NULL, "sherve " PACKAGE_VERSION "\n", NULL, "Usage:" },
	{ __LINE__, "--help", { CONF, "--help" }, NULL, EXIT_OK,
	  "Usage: sherve [OPTION]... [COMMAND [ARG]...]\n", NULL, NULL,
	  "sherve:" },
	{ __LINE__, "help", { CONF, "help" }, NULL, EXIT_OK,
	  "Usage: sherve [OPTION]... [COMMAND [ARG]...]\n", NULL, NULL,
	  "sherve:" },
	{ __LINE__, "help list", { CONF, "help", "list" }, NULL, EXIT_OK,
	  "Usage: sherve [OPTION]... list\n", NULL, NULL, "[COMMAND" },
	{ __LINE__, "list --help", { CONF, "list", "--help" }, NULL, EXIT_OK,
	  "Usage: sherve [OPTION]... list\n", NULL, NULL, "[COMMAND" },
	{ __LINE__, "help of an unknown command",
	  { CONF, "help", "nosuchverb" }, NULL, EXIT_USAGE, NULL, NULL,
	  "sherve: nosuchverb: unknown command (see --help)\n", "Usage:" },
	{ __LINE__, "an unknown option", { CONF, "--bogus" }, NULL,
	  EXIT_CONFIG, NULL, NULL,
	  "sherve: --bogus: unknown option (see --help)\n", NULL },
	{ __LINE__, "a bad setting value", { CONF, "--workers", "abc" }, NULL,
	  EXIT_CONFIG, NULL, NULL, "sherve: --workers: invalid: ", NULL },
	{ __LINE__, "a bad setting in a file", { "--config", "@BAD",
	  "--state-dir", "@STATE", "status" }, NULL, EXIT_CONFIG, NULL, NULL,
	  "/bad.conf:2: workers: invalid: must be a whole number", "state dir" },
	{ __LINE__, "an unreadable --config", { "--config", "@MISSING",
	  "--state-dir", "@STATE", "status" }, NULL, EXIT_CONFIG, NULL, NULL,
	  "/missing.conf: config: No such file or directory\n", "state dir" },
	{ __LINE__, "--version reads no --config", { "--config", "@MISSING",
	  "--version" }, NULL, EXIT_OK, NULL, "sherve " PACKAGE_VERSION "\n",
	  NULL, "missing.conf" },
	{ __LINE__, "status", { CONF, "--state-dir", "@STATE", "status" },
	  NULL, EXIT_OK, "/state\n", NULL, NULL, NULL },
	{ __LINE__, "lookup on an empty store", { CONF, "--state-dir",
	  "@STATE", "lookup", "x" }, NULL, EXIT_FAILED, NULL, NULL,
	  "sherve: x: no such alias\n", NULL },
	{ __LINE__, "status without a store", { CONF, "--state-dir",
	  "@NOSTORE", "status" }, NULL, EXIT_IOERR, NULL, NULL,
	  "no store yet", NULL },
	{ __LINE__, "serve with an argument", { CONF, "serve", "x" }, NULL,
	  EXIT_USAGE, NULL, NULL, "sherve: serve takes no arguments", NULL },
	{ __LINE__, "no verb, no socket, no CGI", { CONF, "--state-dir",
	  "@STATE", "--webroot", "@WWW" }, NULL, EXIT_USAGE, NULL, NULL,
	  "sherve: not started by a web server (no FastCGI socket on stdin, "
	  "no CGI environment); see --help\n", NULL },
	{ __LINE__, "a CGI request", { CONF, "--state-dir", "@STATE",
	  "--webroot", "@WWW" }, "/hello.txt", EXIT_OK, "Status: 200 OK\r\n",
	  "\r\nContent-Length: 12\r\n\r\nhello, main\n", NULL,
	  "not started" },
	{ __LINE__, "a CGI request for no file", { CONF, "--state-dir",
	  "@STATE", "--webroot", "@WWW" }, "/nope.txt", EXIT_OK,
	  "Status: 404", NULL, NULL, "hello, main" },
};
/* clang-format on */

static void
run_row(const struct row *t)
{
	static char out[16384], err[16384];
	pid_t pid;
	int rc;

	fflush(NULL);
	if ((pid = fork()) == 0)
		child(t->args, t->cgi, -1);
	require_true(t->line, "fork", pid > 0);
	rc = reap(pid);
	slurp(outp, out, sizeof(out));
	slurp(errp, err, sizeof(err));
	if (!expect_int(t->line, t->desc, t->rc, rc))
		fprintf(stderr, "stdout: %s\nstderr: %s\n", out, err);
	if (t->out != NULL)
		expect_has(t->line, t->desc, out, t->out);
	if (t->body != NULL)
		expect_str(t->line, t->desc, t->body,
		           out + (strlen(out) > strlen(t->body)
		                          ? strlen(out) - strlen(t->body)
		                          : 0));
	if (t->err != NULL)
		expect_has(t->line, t->desc, err, t->err);
	if (t->no != NULL) {
		expect_lacks(t->line, t->desc, out, t->no);
		expect_lacks(t->line, t->desc, err, t->no);
	}
}

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		run_row(&rows[i]);
}

/* A connected socket on stdin is not a FastCGI listener: usage, 64. */
static void
test_not_listening(void)
{
	static const char *const args[] = { CONF, "--state-dir", "@STATE",
		                            NULL };
	char err[4096];
	int sv[2], rc;
	pid_t pid;

	require_true(__LINE__, "socketpair",
	             socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ==
	                     0);
	fflush(NULL);
	if ((pid = fork()) == 0)
		child(args, NULL, sv[0]);
	close(sv[0]);
	close(sv[1]);
	require_true(__LINE__, "fork", pid > 0);
	rc = reap(pid);
	slurp(errp, err, sizeof(err));
	expect_int(__LINE__, "a socketpair on stdin: usage", EXIT_USAGE, rc);
	expect_has(__LINE__, "... not started by a web server", err,
	           "sherve: not started by a web server");
}

/* ---- FastCGI: stdin a listening socket ---- */

/* A unix socket listening at sock; its fd, or -1. */
static int
listener(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)str_copy(sa.sun_path, sock, sizeof(sa.sun_path));
	if (fd >= 0 && (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	                listen(fd, 8) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void
test_fastcgi(void)
{
	static const char *const args[] = { CONF,     "--state-dir",
		                            "@STATE", "--webroot",
		                            "@WWW",   NULL };
	char out[4096], err[4096];
	int lfd, rc;
	pid_t pid;

	require_true(__LINE__, "a listening socket", (lfd = listener()) >= 0);
	fflush(NULL);
	if ((pid = fork()) == 0)
		child(args, NULL, lfd);
	close(lfd);
	require_true(__LINE__, "fork", pid > 0);
	expect_int(__LINE__, "a FastCGI request is answered", 0,
	           fcgiget(sock, "/hello.txt", out, sizeof(out)));
	expect_has(__LINE__, "... from the webroot", out,
	           "\r\n\r\nhello, main\n");
	expect_true(__LINE__, "... 200",
	            strncmp(out, "Status: 200 OK\r\n", 16) == 0);
	expect_has(__LINE__, "... its length", out, "Content-Length: 12\r\n");
	kill(pid, SIGTERM);
	rc = reap(pid);
	slurp(errp, err, sizeof(err));
	if (!expect_int(__LINE__, "SIGTERM: the loop exits 0", EXIT_OK, rc))
		fprintf(stderr, "stderr: %s\n", err);
	expect_has(__LINE__, "... after logging the request", err,
	           "\"path\":\"/hello.txt\",\"status\":\"200\"");
	unlink(sock);
}

int
main(void)
{
	static const struct unit_test tests[] = { UNIT_TEST(test_rows),
		                                  UNIT_TEST(test_not_listening),
		                                  UNIT_TEST(test_fastcgi),
		                                  UNIT_END };
	static const struct unit_suite suites[] = {
		{ "main", suite_init, suite_cleanup, tests },
		{ NULL, NULL, NULL, NULL },
	};

	return unit_main(suites);
}
