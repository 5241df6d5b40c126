/*
 * test_cli.c - cli_main(), in process: each row is a command line (after
 * `sherve --config /dev/null --state-dir STATE`), its exit status and
 * what it prints on stdout. The rows run in order on one state
 * directory: the verbs that need no store before any exists, an import
 * refused and one taken, then list, lookup (normalised as a request:
 * dot segments and percent-encoding), export, check and status, and the
 * usage errors (64).
 */
#include "unit.h"

#include "cli.h"
#include "conf.h"
#include "util.h"

static char dir[] = "/tmp/sherve-cli.XXXXXX";
static char state[64], map[64], bad[64];

static int
suite_init(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(map, sizeof(map), "%s/map.txt", dir);
	snprintf(bad, sizeof(bad), "%s/bad.txt", dir);
	if (unit_write_file(map, "foo https://example.com/foo\n"
	                         "docs/* https://docs.example.com/:splat 308\n"
	                         "gone https://example.com/g 302 "
	                         "expires=2000-01-01\n"
	                         "@host a.example\n"
	                         "foo https://a.example.net/foo\n") != 0 ||
	    unit_write_file(bad,
	                    "foo https://example.com/foo\nnot a valid line\n"))
		return -1;
	return 0;
}

static int
suite_cleanup(void)
{
	return unit_rmtree(dir);
}

#define NARGS 8

struct row {
	unsigned line;
	const char *desc;
	const char *args[NARGS]; /* "@MAP", "@BAD": the files above */
	int rc;
	const char *out; /* exact stdout, or NULL */
	const char *has; /* a substring of stdout, or NULL */
};

static int
run_cli(void *ctx)
{
	return cli_main(ctx);
}

static void
run_row(const struct row *t)
{
	char *argv[NARGS + 8], err[256], *out = NULL;
	struct conf c;
	int argc = 0, rc;
	size_t i;

	argv[argc++] = "sherve";
	argv[argc++] = "--config";
	argv[argc++] = "/dev/null";
	argv[argc++] = "--state-dir";
	argv[argc++] = state;
	for (i = 0; i < NARGS && t->args[i] != NULL; i++)
		argv[argc++] = strcmp(t->args[i], "@MAP") == 0 ? map
		               : strcmp(t->args[i], "@BAD") == 0
		                       ? bad
		                       : (char *)t->args[i];
	argv[argc] = NULL;
	if (!expect_int(t->line, t->desc, SH_OK,
	                conf_load(&c, argc, argv, err, sizeof(err)))) {
		fprintf(stderr, "conf_load: %s\n", err);
		return;
	}
	rc = unit_capture(run_cli, &c, &out);
	expect_int(t->line, t->desc, t->rc, rc);
	if (t->out != NULL)
		expect_str(t->line, t->desc, t->out, out);
	if (t->has != NULL)
		expect_has(t->line, t->desc, out, t->has);
	free(out);
	conf_free(&c);
}

/* clang-format off */
static const struct row rows[] = {
	{ __LINE__, "list before any store", { "list" }, EXIT_IOERR, "", NULL },
	{ __LINE__, "metrics need no store", { "metrics" }, EXIT_OK, NULL,
	  "\nsherve_requests_total 0\n" },
	{ __LINE__, "check needs no store", { "check", "@MAP" }, EXIT_OK,
	  NULL, ": 4 aliases, 0 invalid lines, 0 duplicates\n" },
	{ __LINE__, "check of a file with an invalid line", { "check", "@BAD" },
	  EXIT_FAILED, NULL, ": 1 aliases, 1 invalid lines, 0 duplicates\n" },
	{ __LINE__, "import of a missing file",
	  { "import", "/nonexistent/map.txt" }, EXIT_FAILED, "", NULL },
	{ __LINE__, "... creates no store", { "list" }, EXIT_IOERR, "", NULL },
	{ __LINE__, "import", { "import", "@MAP" }, EXIT_OK, NULL,
	  "map.txt: stored 4 aliases (0 invalid lines skipped) as version 1\n" },
	{ __LINE__, "list", { "list" }, EXIT_OK,
	  "foo https://example.com/foo\n"
	  "gone https://example.com/g 302 expires=2000-01-01\n"
	  "docs/* https://docs.example.com/:splat 308\n"
	  "\n"
	  "@host a.example\n"
	  "foo https://a.example.net/foo\n", NULL },
	{ __LINE__, "lookup of an exact rule", { "lookup", "foo" }, EXIT_OK,
	  "https://example.com/foo\n", NULL },
	{ __LINE__, "lookup with a leading slash and a query",
	  { "lookup", "/foo?x=1" }, EXIT_OK, "https://example.com/foo?x=1\n",
	  NULL },
	{ __LINE__, "lookup under a prefix", { "lookup", "docs/a/b" }, EXIT_OK,
	  "https://docs.example.com/a/b\n", NULL },
	{ __LINE__, "lookup refuses a dot segment, as a request is",
	  { "lookup", "docs/../foo" }, EXIT_FAILED, "", NULL },
	{ __LINE__, "... an encoded one too",
	  { "lookup", "docs/%2e%2e/foo" }, EXIT_FAILED, "", NULL },
	{ __LINE__, "lookup decodes percent-encoding once, as a request",
	  { "lookup", "%66o%6F" }, EXIT_OK, "https://example.com/foo\n",
	  NULL },
	{ __LINE__, "... and not twice", { "lookup", "%2566oo" }, EXIT_FAILED,
	  "", NULL },
	{ __LINE__, "lookup merges a trailing slash", { "lookup", "foo/" },
	  EXIT_OK, "https://example.com/foo\n", NULL },
	{ __LINE__, "lookup of an expired rule", { "lookup", "gone" }, EXIT_OK,
	  "410 Gone\n", NULL },
	{ __LINE__, "lookup with a host", { "lookup", "foo", "A.Example." },
	  EXIT_OK, "https://a.example.net/foo\n", NULL },
	{ __LINE__, "lookup of no alias", { "lookup", "nothing" }, EXIT_FAILED,
	  "", NULL },
	{ __LINE__, "lookup of a refused path", { "lookup", "a/%2f/b" },
	  EXIT_FAILED, "", NULL },
	{ __LINE__, "lookup with a bad host", { "lookup", "foo", "a b" },
	  EXIT_USAGE, "", NULL },
	{ __LINE__, "export, _redirects by default", { "export" }, EXIT_OK,
	  NULL, "\n/foo https://example.com/foo\n" },
	{ __LINE__, "export --format nginx", { "--format", "nginx", "export" },
	  EXIT_OK, NULL, "\n\t\"/foo\" \"301 https://example.com/foo\";\n" },
	{ __LINE__, "export for apache needs the map file",
	  { "--format", "apache", "export" }, EXIT_USAGE, "", NULL },
	{ __LINE__, "export of an unknown format",
	  { "--format", "lighttpd", "export" }, EXIT_USAGE, "", NULL },
	{ __LINE__, "check diffs against the store", { "check", "@BAD" },
	  EXIT_FAILED, NULL, "\n- docs/* https://docs.example.com/:splat 308\n" },
	{ __LINE__, "check --json without --probe", { "--json", "check", "@MAP" },
	  EXIT_USAGE, "", NULL },
	{ __LINE__, "check with nothing to check", { "check" }, EXIT_USAGE, "",
	  NULL },
	{ __LINE__, "status: the source", { "status" }, EXIT_OK, NULL,
	  "\nsource          import:" },
	{ __LINE__, "status: the aliases", { "status" }, EXIT_OK, NULL,
	  "\naliases         4\n" },
	{ __LINE__, "status: the store verified", { "status" }, EXIT_OK, NULL,
	  "\nstore           ok (sha256:" },
	{ __LINE__, "an unknown command", { "frobnicate" }, EXIT_USAGE, "",
	  NULL },
	{ __LINE__, "list takes no operand", { "list", "x" }, EXIT_USAGE, "",
	  NULL },
	{ __LINE__, "lookup needs one", { "lookup" }, EXIT_USAGE, "", NULL },
};
/* clang-format on */

static void
test_verbs(void)
{
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		run_row(&rows[i]);
}

static const struct unit_test tests[] = {
	UNIT_TEST(test_verbs),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "cli", suite_init, suite_cleanup, tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
