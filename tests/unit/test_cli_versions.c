/*
 * test_cli_versions.c - the verbs over the kept versions (cli_versions.c):
 * versions, rollback, unpin and diff, through cli_main() as `sherve`
 * runs them, against real stores in a temporary dir.
 *
 * The rows run in order: "many" gets three imported versions (A, B, C),
 * "one" a single one. Each row is a command line, its exit status (0, 1
 * for a diff that differs, 64 for a usage error, 65 for a version not
 * kept or none to go back to, 74 for no store), and what it prints on
 * stdout (exact, or a substring) and on stderr (a substring). Stored
 * times are today's, so version lines are matched in parts.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "store.h"
#include "util.h"

static char dir[] = "/tmp/sherve-cli-versions.XXXXXX";
static char many[300], one[300], fa[300], fb[300], fc[300];

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(many, sizeof(many), "%s/many", dir);
	snprintf(one, sizeof(one), "%s/one", dir);
	snprintf(fa, sizeof(fa), "%s/A", dir);
	snprintf(fb, sizeof(fb), "%s/B", dir);
	snprintf(fc, sizeof(fc), "%s/C", dir);
	return unit_write_file(fa, "a https://one.example/\n"
	                           "b https://b.example/\n") != 0 ||
	                       unit_write_file(fb,
	                                       "a https://two.example/\n"
	                                       "c https://c.example/\n") != 0 ||
	                       unit_write_file(fc,
	                                       "a https://two.example/\n"
	                                       "c https://c.example/\n"
	                                       "d https://d.example/\n") != 0
	               ? -1
	               : 0;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

#define NARGS 5
#define EMPTY "@EMPTY" /* a row that makes an empty store (make_empty) */

struct row {
	unsigned line;
	const char *desc;
	int many;                /* on "many", else on "one" */
	const char *args[NARGS]; /* "@A", "@B", "@C": the files */
	int rc;
	const char *out;    /* exact stdout, or NULL */
	const char *has[3]; /* substrings of stdout */
	const char *err;    /* a substring of stderr, or NULL: "" */
};

/* Run cli_main() with stderr into a file, read back into err. */
struct run {
	const struct conf *c;
	char err[1024];
};

static int
run_cli(void *ctx)
{
	struct run *r = ctx;
	struct unit_stderr cap;
	int rc;

	unit_stderr_begin(&cap);
	rc = cli_main(r->c);
	unit_stderr_end(&cap, r->err, sizeof(r->err));
	return rc;
}

static const char *
arg(const char *a)
{
	if (strcmp(a, "@A") == 0)
		return fa;
	if (strcmp(a, "@B") == 0)
		return fb;
	return strcmp(a, "@C") == 0 ? fc : a;
}

static int
load(struct conf *c, const struct row *t)
{
	char *argv[NARGS + 8], err[256];
	int argc = 0;
	size_t i;

	argv[argc++] = "sherve";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-dir";
	argv[argc++] = t->many ? many : one;
	for (i = 0; i < NARGS && t->args[i] != NULL; i++)
		argv[argc++] = (char *)arg(t->args[i]);
	argv[argc] = NULL;
	if (conf_load(c, argc, argv, err, sizeof(err)) != SH_OK) {
		fprintf(stderr, "conf_load: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * The EMPTY row: the state dir holds no file yet (every row before it
 * was refused), then an empty store is made in it.
 */
static void
make_empty(const struct row *t)
{
	struct store *s = NULL;
	char path[400], err[512];

	snprintf(path, sizeof(path), "%s/redirects.mdb", many);
	expect_true(t->line, t->desc, access(path, F_OK) != 0);
	expect_true(t->line, t->desc, access(many, F_OK) != 0);
	require_true(t->line, t->desc,
	             store_open(many, &s, err, sizeof(err)) == SH_OK);
	store_close(s);
}

static void
run_row(const struct row *t)
{
	struct run r = { NULL, "" };
	struct conf c;
	char *out = NULL;
	size_t i;

	if (t->args[0] != NULL && strcmp(t->args[0], EMPTY) == 0) {
		make_empty(t);
		return;
	}
	require_true(t->line, t->desc, load(&c, t) == 0);
	r.c = &c;
	expect_int(t->line, t->desc, t->rc, unit_capture(run_cli, &r, &out));
	if (t->out != NULL)
		expect_str(t->line, t->desc, t->out, out);
	for (i = 0; i < NELEM(t->has) && t->has[i] != NULL; i++)
		expect_has(t->line, t->desc, out, t->has[i]);
	if (t->err == NULL)
		expect_str(t->line, t->desc, "", r.err);
	else
		expect_has(t->line, t->desc, r.err, t->err);
	free(out);
	conf_free(&c);
}

#define M           1 /* on "many" */
#define O           0 /* on "one" */
#define NOT_KEPT_99 "version 99: not kept (sherve versions lists them)\n"

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "versions before any store", M, { "versions" },
	  EXIT_IOERR, "", { NULL }, "no store yet" },
	{ __LINE__, "rollback before any store", M, { "rollback" },
	  EXIT_DATAERR, "", { NULL },
	  "rollback: no versions are kept yet: state-dir: " },
	{ __LINE__, "rollback N before any store", M, { "rollback", "1" },
	  EXIT_DATAERR, "", { NULL }, "rollback: no versions are kept yet: " },
	{ __LINE__, "rollback 0 before any store", M, { "rollback", "0" },
	  EXIT_USAGE, "", { NULL }, "rollback: 0: not a version number" },
	{ __LINE__, "unpin before any store", M, { "unpin" }, EXIT_DATAERR,
	  "", { NULL }, "unpin: no versions are kept yet: state-dir: " },
	{ __LINE__, "diff before any store", M, { "diff" }, EXIT_IOERR, "",
	  { NULL }, "no store yet" },
	{ __LINE__, "diff to a word before any store", M, { "diff", "1", "x" },
	  EXIT_USAGE, "", { NULL }, "diff: x: not a version number" },
	/* None of these made a store: the first that is made is empty, as
	 * `sherve serve` leaves it before its first refresh. */
	{ __LINE__, "the refused commands created nothing", M, { EMPTY },
	  EXIT_OK, NULL, { NULL }, NULL },
	{ __LINE__, "rollback of an empty store", M, { "rollback" },
	  EXIT_DATAERR, "", { NULL }, "rollback: no versions are kept yet\n" },
	{ __LINE__, "unpin of an empty store", M, { "unpin" }, EXIT_DATAERR,
	  "", { NULL }, "unpin: " },
	{ __LINE__, "versions of an empty store: none", M, { "versions" },
	  EXIT_OK, "", { NULL }, NULL },
	{ __LINE__, "versions --json of an empty store", M,
	  { "--json", "versions" }, EXIT_OK, "[]\n", { NULL }, NULL },
	{ __LINE__, "import A", M, { "import", "@A" }, EXIT_OK, NULL,
	  { "as version 1\n" }, NULL },
	{ __LINE__, "import B", M, { "import", "@B" }, EXIT_OK, NULL,
	  { "as version 2\n" }, NULL },
	{ __LINE__, "import C", M, { "import", "@C" }, EXIT_OK, NULL,
	  { "as version 3\n" }, NULL },
	{ __LINE__, "versions: newest first, the current marked", M,
	  { "versions" }, EXIT_OK, NULL,
	  { "  3 rules  6b5de1bd93b1  import:", "C  current\n2  ",
	    "  2 rules  1b542ee68f67  import:" }, NULL },
	{ __LINE__, "versions --json", M, { "--json", "versions" }, EXIT_OK,
	  NULL,
	  { "[{\"version\":3,\"time\":\"",
	    "\"rules\":3,\"sha256\":\"6b5de1bd93b1a4314bd50f497fc0b78e531a6ab"
	    "3a7c1b24f06dfa9fe2d025087\"",
	    "\"current\":false,\"pinned\":false}]\n" }, NULL },
	{ __LINE__, "versions takes no operand", M, { "versions", "1" },
	  EXIT_USAGE, "", { NULL }, "versions: wrong number of arguments" },
	{ __LINE__, "rollback to a word", M, { "rollback", "abc" }, EXIT_USAGE,
	  "", { NULL }, "rollback: abc: not a version number (invalid)\n" },
	{ __LINE__, "rollback to 0", M, { "rollback", "0" }, EXIT_USAGE, "",
	  { NULL }, "rollback: 0: not a version number (too small)\n" },
	{ __LINE__, "rollback to -1", M, { "rollback", "-1" }, EXIT_USAGE, "",
	  { NULL }, "rollback: -1: not a version number" },
	{ __LINE__, "rollback to a version not kept", M, { "rollback", "99" },
	  EXIT_DATAERR, "", { NULL }, "rollback: " NOT_KEPT_99 },
	{ __LINE__, "rollback with two operands", M, { "rollback", "1", "2" },
	  EXIT_USAGE, "", { NULL }, "rollback: wrong number of arguments" },
	{ __LINE__, "... changed nothing", M, { "versions" }, EXIT_OK, NULL,
	  { "import:", "C  current\n" }, NULL },
	{ __LINE__, "rollback: the one before the current, pinned", M,
	  { "rollback" }, EXIT_OK,
	  "version 2 is current (2 rules), pinned: refreshes keep new "
	  "versions but do not serve them until sherve unpin\n", { NULL },
	  NULL },
	{ __LINE__, "versions shows the pin", M, { "versions" }, EXIT_OK, NULL,
	  { "B  current  pinned\n" }, NULL },
	{ __LINE__, "status: the pinned version and its source", M,
	  { "status" }, EXIT_OK, NULL,
	  { "/B\nversion         2, pinned (3 kept; sherve unpin serves the "
	    "newest, 3)\naliases         2\n" },
	  NULL },
	{ __LINE__, "versions --json shows the pin", M,
	  { "--json", "versions" }, EXIT_OK, NULL,
	  { "\"source\":\"import:", "\"current\":true,\"pinned\":true}" },
	  NULL },
	{ __LINE__, "diff 1 3: they differ (1)", M, { "diff", "1", "3" },
	  EXIT_FAILED,
	  "~ a https://one.example/ -> https://two.example/\n"
	  "- b https://b.example/\n"
	  "+ c https://c.example/\n"
	  "+ d https://d.example/\n"
	  "version 1 -> 3: 2 added, 1 removed, 1 changed\n", { NULL }, NULL },
	{ __LINE__, "diff: before the current (pinned 2) and it", M,
	  { "diff" }, EXIT_FAILED, NULL,
	  { "version 1 -> 2: 1 added, 1 removed, 1 changed\n" }, NULL },
	{ __LINE__, "diff of a version with itself", M, { "diff", "3", "3" },
	  EXIT_OK, "version 3 -> 3: 0 added, 0 removed, 0 changed\n",
	  { NULL }, NULL },
	{ __LINE__, "diff of a word", M, { "diff", "x" }, EXIT_USAGE, "",
	  { NULL }, "diff: x: not a version number (invalid)\n" },
	{ __LINE__, "diff, the second a word", M, { "diff", "1", "2x" },
	  EXIT_USAGE, "", { NULL }, "diff: 2x: not a version number" },
	{ __LINE__, "diff to a version not kept", M, { "diff", "1", "99" },
	  EXIT_DATAERR, "", { NULL }, "diff: " NOT_KEPT_99 },
	{ __LINE__, "diff with three operands", M, { "diff", "1", "2", "3" },
	  EXIT_USAGE, "", { NULL }, "diff: wrong number of arguments" },
	{ __LINE__, "unpin takes no operand", M, { "unpin", "2" }, EXIT_USAGE,
	  "", { NULL }, "unpin: wrong number of arguments" },
	{ __LINE__, "unpin: the newest is current again", M, { "unpin" },
	  EXIT_OK, "version 3 is current (3 rules)\n", { NULL }, NULL },
	{ __LINE__, "status: the newest, no pin", M, { "status" }, EXIT_OK,
	  NULL, { "/C\nversion         3 (3 kept)\naliases         3\n" },
	  NULL },
	{ __LINE__, "unpin without a pin", M, { "unpin" }, EXIT_OK,
	  "no pin is set; version 3 is current\n", { NULL }, NULL },
	{ __LINE__, "rollback to a number kept", M, { "rollback", "1" },
	  EXIT_OK, NULL, { "version 1 is current (2 rules), pinned" }, NULL },
	{ __LINE__, "import into the second store", O, { "import", "@A" },
	  EXIT_OK, NULL, { "as version 1\n" }, NULL },
	{ __LINE__, "rollback with nothing before the current", O,
	  { "rollback" }, EXIT_DATAERR, "", { NULL }, "rollback: " },
	{ __LINE__, "diff with a single version", O, { "diff" }, EXIT_DATAERR,
	  "", { NULL }, "diff: " },
	{ __LINE__, "rollback to the current one", O, { "rollback", "1" },
	  EXIT_OK, NULL, { "version 1 is current" }, NULL },
};
/* clang-format on */

static void
test_rows(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		run_row(&rows[i]);
}

int
main(void)
{
	static const struct unit_test tests[] = { UNIT_TEST(test_rows),
		                                  UNIT_END };
	static const struct unit_suite suites[] = {
		{ "cli_versions", suite_init, suite_cleanup, tests },
		{ NULL, NULL, NULL, NULL }
	};

	log_set_level(SH_LOG_ERROR);
	return unit_main(suites);
}
