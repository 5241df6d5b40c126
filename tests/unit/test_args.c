/*
 * test_args.c - the command line: args_parse() over the option table it
 * builds from the settings table, and args_help().
 *
 * args_parse() reads no file and no environment: these rows are argv
 * alone. conf_load()'s use of it (precedence, value errors) is
 * test_conf.c's.
 */
#include "unit.h"

#include <stdlib.h>

#include "args.h"
#include "conf.h"
#include "util.h"

#define MAXWORDS 12

/*
 * The result of a parse as one line: each item in order, "name=value"
 * for a setting, "export-format=value", "@operand" for an operand, then
 * "config=FILE" and the flags set, each followed by a space.
 */
static void
render(const struct conf *c, const struct args *a, char *out, size_t outsz)
{
	static const struct {
		const char *name;
		size_t off;
	} fl[] = {
		{ "help", offsetof(struct conf, help) },
		{ "version", offsetof(struct conf, version) },
		{ "force", offsetof(struct conf, force) },
		{ "probe", offsetof(struct conf, probe) },
		{ "json", offsetof(struct conf, json) },
		{ "resolve-chains", offsetof(struct conf, resolve_chains) },
		{ "startup", offsetof(struct conf, startup) },
		{ "scheduled", offsetof(struct conf, scheduled) },
		{ "miss", offsetof(struct conf, miss) },
	};
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < a->nitems && n < outsz; i++) {
		const struct args_item *it = &a->item[i];

		if (it->kind == ARGS_OPERAND)
			n += (size_t)snprintf(out + n, outsz - n, "@%s ",
			                      it->value);
		else
			n += (size_t)snprintf(out + n, outsz - n, "%s=%s ",
			                      it->kind == ARGS_SETTING
			                              ? conf_key_name(it->key)
			                              : "export-format",
			                      it->value);
	}
	if (a->config != NULL && n < outsz)
		n += (size_t)snprintf(out + n, outsz - n, "config=%s ",
		                      a->config);
	for (i = 0; i < NELEM(fl) && n < outsz; i++)
		if (*(const int *)((const char *)c + fl[i].off))
			n += (size_t)snprintf(out + n, outsz - n, "%s ",
			                      fl[i].name);
}

struct parse_row {
	unsigned line;
	const char *desc;
	const char *words[MAXWORDS]; /* argv[1..] */
	int rc;
	const char *want; /* SH_OK: render()'s line; else the error */
	const char *verb; /* SH_OK: the command, or NULL */
};

static const struct parse_row parse_rows[] = {
	{ __LINE__, "nothing", { NULL }, SH_OK, "", NULL },
	{ __LINE__,
	  "--name=value",
	  { "--webroot=/srv" },
	  SH_OK,
	  "webroot=/srv ",
	  NULL },
	{ __LINE__,
	  "--name value",
	  { "--webroot", "/srv" },
	  SH_OK,
	  "webroot=/srv ",
	  NULL },
	{ __LINE__,
	  "--name= is an empty value",
	  { "--webroot=" },
	  SH_OK,
	  "webroot= ",
	  NULL },
	{ __LINE__,
	  "a value with '='",
	  { "--redirects-url=https://x/?a=b" },
	  SH_OK,
	  "redirects-url=https://x/?a=b ",
	  NULL },
	{ __LINE__,
	  "a separate value that looks like an option",
	  { "--cache-control", "--webroot" },
	  SH_OK,
	  "cache-control=--webroot ",
	  NULL },
	{ __LINE__,
	  "a separate value that is --",
	  { "--user", "--", "list" },
	  SH_OK,
	  "user=-- @list ",
	  "list" },
	{ __LINE__,
	  "values are not checked here",
	  { "--redirect-status", "999" },
	  SH_OK,
	  "redirect-status=999 ",
	  NULL },
	{ __LINE__,
	  "repeated options: each, in order",
	  { "--max-shrink=1", "--max-shrink", "2" },
	  SH_OK,
	  "max-shrink=1 max-shrink=2 ",
	  NULL },
	{ __LINE__,
	  "--config, the last wins",
	  { "--config=/a", "--config", "/b" },
	  SH_OK,
	  "config=/b ",
	  NULL },
	{ __LINE__,
	  "options and operands in argv order",
	  { "--log-level=warn", "lookup", "--state-dir", "/s", "foo", "host" },
	  SH_OK,
	  "log-level=warn @lookup state-dir=/s @foo @host ",
	  "lookup" },
	{ __LINE__,
	  "the command need not come first",
	  { "--force", "import", "-" },
	  SH_OK,
	  "@import @- force ",
	  "import" },
	{ __LINE__,
	  "each flag",
	  { "--help", "--version", "--force", "--probe", "--json",
	    "--resolve-chains", "--startup", "--scheduled", "--miss" },
	  SH_OK,
	  "help version force probe json resolve-chains startup scheduled "
	  "miss ",
	  NULL },
	{ __LINE__,
	  "-h and -V",
	  { "-h", "check", "-V" },
	  SH_OK,
	  "@check help version ",
	  "check" },
	{ __LINE__,
	  "the command help is --help",
	  { "help", "list" },
	  SH_OK,
	  "@help @list help ",
	  "help" },
	{ __LINE__,
	  "help as an operand is not the command",
	  { "lookup", "help" },
	  SH_OK,
	  "@lookup @help ",
	  "lookup" },
	{ __LINE__,
	  "one '-': operands, -hV no cluster",
	  { "lookup", "-x", "-hV", "-h=1", "-" },
	  SH_OK,
	  "@lookup @-x @-hV @-h=1 @- ",
	  "lookup" },
	{ __LINE__,
	  "-- ends the options",
	  { "lookup", "--", "--webroot", "-h", "--" },
	  SH_OK,
	  "@lookup @--webroot @-h @-- ",
	  "lookup" },
	{ __LINE__,
	  "-- first",
	  { "--", "--version" },
	  SH_OK,
	  "@--version ",
	  "--version" },
	{ __LINE__, "-- last", { "list", "--" }, SH_OK, "@list ", "list" },
	{ __LINE__,
	  "export: --format after it names the output",
	  { "export", "--format", "nginx", "--log-level=warn" },
	  SH_OK,
	  "@export export-format=nginx log-level=warn ",
	  "export" },
	{ __LINE__,
	  "export: --format before it too",
	  { "--format=apache", "export", "f.map" },
	  SH_OK,
	  "export-format=apache @export @f.map ",
	  "export" },
	{ __LINE__,
	  "another command: --format is the file's",
	  { "check", "--format", "gosherve" },
	  SH_OK,
	  "@check format=gosherve ",
	  "check" },
	{ __LINE__,
	  "export as an operand is not the command",
	  { "lookup", "export", "--format=nginx" },
	  SH_OK,
	  "@lookup @export format=nginx ",
	  "lookup" },
	{ __LINE__,
	  "unknown option",
	  { "--colour", "red" },
	  SH_EINVAL,
	  "--colour: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "unknown option with =",
	  { "list", "--colour=red" },
	  SH_EINVAL,
	  "--colour: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "a prefix of one option",
	  { "--webr", "/srv" },
	  SH_EINVAL,
	  "--webr: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "a prefix of several",
	  { "--re=1" },
	  SH_EINVAL,
	  "--re: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "a prefix of a flag",
	  { "--vers" },
	  SH_EINVAL,
	  "--vers: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "a flag given a value",
	  { "--force=yes" },
	  SH_EINVAL,
	  "--force: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "--help given a value",
	  { "--help=list" },
	  SH_EINVAL,
	  "--help: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "missing value",
	  { "list", "--webroot" },
	  SH_EINVAL,
	  "--webroot: needs a value",
	  NULL },
	{ __LINE__,
	  "missing value of --config",
	  { "--config" },
	  SH_EINVAL,
	  "--config: needs a value",
	  NULL },
	{ __LINE__,
	  "the first error in argv order",
	  { "--bogus", "--webroot" },
	  SH_EINVAL,
	  "--bogus: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "an error after --help",
	  { "--help", "--bogus" },
	  SH_EINVAL,
	  "--bogus: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "upper case is another name",
	  { "--WEBROOT=/" },
	  SH_EINVAL,
	  "--WEBROOT: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "three dashes",
	  { "---webroot=/" },
	  SH_EINVAL,
	  "---webroot: unknown option (see --help)",
	  NULL },
	{ __LINE__,
	  "-W is no option here",
	  { "-W", "webroot=/" },
	  SH_OK,
	  "@-W @webroot=/ ",
	  "-W" },
};

/* argv for words: {"sherve", words..., NULL}; returns argc. */
static int
make_argv(const char *const *words, char **argv)
{
	int n = 0;

	argv[n++] = (char *)"sherve";
	while (n <= MAXWORDS && words[n - 1] != NULL) {
		argv[n] = (char *)words[n - 1];
		n++;
	}
	argv[n] = NULL;
	return n;
}

static void
check_row(const struct parse_row *r)
{
	char *argv[MAXWORDS + 2], *saved[MAXWORDS + 2], err[256], got[512];
	struct conf c;
	struct args a;
	int argc, rc;

	memset(argv, 0, sizeof(argv)); /* compared whole, past argc too */
	argc = make_argv(r->words, argv);
	memcpy(saved, argv, sizeof(argv));
	memset(&c, 0, sizeof(c));
	memset(err, 'X', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	rc = args_parse(&c, &a, argc, argv, err, sizeof(err));
	expect_int(r->line, r->desc, r->rc, rc);
	expect_true(r->line, "argv is neither permuted nor changed",
	            memcmp(saved, argv, sizeof(argv)) == 0);
	if (rc != SH_OK) {
		expect_str(r->line, r->desc, r->want, err);
		expect_true(r->line, "nothing kept on error",
		            a.item == NULL && a.nitems == 0);
		return;
	}
	render(&c, &a, got, sizeof(got));
	expect_str(r->line, r->desc, r->want, got);
	expect_str(r->line, "the command", r->verb, a.verb);
	args_free(&a);
}

static void
test_parse(void)
{
	size_t i;

	for (i = 0; i < NELEM(parse_rows); i++)
		check_row(&parse_rows[i]);
	/* Again, backwards: no row depends on what the one before left in
	 * getopt_long's state (an error stops it in the middle of argv). */
	for (i = NELEM(parse_rows); i-- > 0;)
		check_row(&parse_rows[i]);
}

/* POSIXLY_CORRECT makes getopt_long stop at the first operand unless the
 * option string says otherwise: an option after the command stays one. */
static void
test_posixly_correct(void)
{
	const struct parse_row row = { __LINE__,
		                       "POSIXLY_CORRECT",
		                       { "list", "--webroot", "/w", "-h" },
		                       SH_OK,
		                       "@list webroot=/w help ",
		                       "list" };

	setenv("POSIXLY_CORRECT", "1", 1);
	check_row(&row);
	unsetenv("POSIXLY_CORRECT");
}

/* The words and values point into argv: nothing to copy or free. */
static void
test_values_in_argv(void)
{
	const char *words[] = { "--webroot", "/w", "--user=u", "list", NULL };
	char *argv[MAXWORDS + 2], err[256];
	struct conf c;
	struct args a;
	int argc = make_argv(words, argv);

	memset(&c, 0, sizeof(c));
	require_true(__LINE__, "parse",
	             args_parse(&c, &a, argc, argv, err, sizeof(err)) == SH_OK);
	require_true(__LINE__, "three items", a.nitems == 3);
	expect_true(__LINE__, "a separate value is the word",
	            a.item[0].value == argv[2]);
	expect_true(__LINE__, "a value after = is in the word",
	            a.item[1].value == argv[3] + strlen("--user="));
	expect_true(__LINE__, "an operand is the word",
	            a.item[2].value == argv[4] && a.verb == argv[4]);
	args_free(&a);
	expect_true(__LINE__, "args_free zeroes", a.item == NULL);
	args_free(&a); /* safe twice */
}

/*
 * The option table comes from the settings table: every setting is an
 * option, in both forms, and --help lists it as one.
 */
static void
test_every_setting(void)
{
	char *argv[5], word[128], err[256], *help = NULL;
	size_t i, len = 0;
	const char *name;
	FILE *fp = open_memstream(&help, &len);
	struct conf c;
	struct args a;

	require_true(__LINE__, "open_memstream", fp != NULL);
	conf_usage(fp);
	fclose(fp);
	argv[0] = (char *)"sherve";
	for (i = 0; (name = conf_key_name(i)) != NULL; i++) {
		snprintf(word, sizeof(word), "--%s=v", name);
		argv[1] = word;
		argv[2] = (char *)"--";
		argv[3] = (char *)name;
		argv[4] = NULL;
		memset(&c, 0, sizeof(c));
		if (!expect_int(__LINE__, name, SH_OK,
		                args_parse(&c, &a, 4, argv, err, sizeof(err))))
			continue;
		expect_true(__LINE__, name,
		            a.nitems == 2 && a.item[0].kind == ARGS_SETTING &&
		                    a.item[0].key == i &&
		                    strcmp(a.item[0].value, "v") == 0);
		args_free(&a);
		snprintf(word, sizeof(word), "--%s", name);
		argv[2] = (char *)"v";
		if (expect_int(__LINE__, name, SH_OK,
		               args_parse(&c, &a, 3, argv, err, sizeof(err)))) {
			expect_true(__LINE__, name,
			            a.nitems == 1 && a.item[0].key == i);
			args_free(&a);
		}
		snprintf(word, sizeof(word), "  --%s=", name);
		expect_has(__LINE__, "--help lists it", help, word);
	}
	expect_true(__LINE__, "the settings table is not empty", i >= 30);
	expect_true(__LINE__, "past the last: NULL",
	            conf_key_name(i) == NULL && conf_key_name(i + 100) == NULL);
	free(help);
}

/* args_help() into a string; returns its code. */
static int
help_of(const char *const *words, char **text, char *err, size_t errsz)
{
	char *args[MAXWORDS];
	size_t len = 0;
	int n = 0, rc;
	FILE *fp = open_memstream(text, &len);

	if (fp == NULL)
		return -1;
	while (n < MAXWORDS && words[n] != NULL) {
		args[n] = (char *)words[n];
		n++;
	}
	rc = args_help(fp, n, args, err, errsz);
	fclose(fp);
	return rc;
}

static const struct {
	unsigned line;
	const char *desc;
	const char *words[4];
	int rc;
	const char *want; /* SH_OK: the first line; else the error */
} help_rows[] = {
	{ __LINE__,
	  "--help",
	  { NULL },
	  SH_OK,
	  "Usage: sherve [OPTION]... [COMMAND [ARG]...]\n" },
	{ __LINE__,
	  "help",
	  { "help" },
	  SH_OK,
	  "Usage: sherve [OPTION]... [COMMAND [ARG]...]\n" },
	{ __LINE__,
	  "help list",
	  { "help", "list" },
	  SH_OK,
	  "Usage: sherve [OPTION]... list\n" },
	{ __LINE__,
	  "list --help",
	  { "list" },
	  SH_OK,
	  "Usage: sherve [OPTION]... list\n" },
	{ __LINE__,
	  "lookup foo --help",
	  { "lookup", "foo" },
	  SH_EINVAL,
	  "help: one command at most" },
	{ __LINE__,
	  "help lookup",
	  { "help", "lookup" },
	  SH_OK,
	  "Usage: sherve [OPTION]... lookup PATH [HOST]\n" },
	{ __LINE__,
	  "help help",
	  { "help", "help" },
	  SH_OK,
	  "Usage: sherve [OPTION]... help [COMMAND]\n" },
	{ __LINE__,
	  "help serve",
	  { "help", "serve" },
	  SH_OK,
	  "Usage: sherve [OPTION]... serve\n" },
	{ __LINE__,
	  "help a b",
	  { "help", "a", "b" },
	  SH_EINVAL,
	  "help: one command at most" },
	{ __LINE__,
	  "help nope",
	  { "help", "nope" },
	  SH_EINVAL,
	  "nope: unknown command (see --help)" },
	{ __LINE__,
	  "nope --help",
	  { "nope" },
	  SH_EINVAL,
	  "nope: unknown command (see --help)" },
};

static void
test_help(void)
{
	size_t i;

	for (i = 0; i < NELEM(help_rows); i++) {
		char *text = NULL, err[256] = "";
		int rc = help_of(help_rows[i].words, &text, err, sizeof(err));

		expect_int(help_rows[i].line, help_rows[i].desc,
		           help_rows[i].rc, rc);
		if (rc == SH_OK) {
			expect_true(
			        help_rows[i].line, help_rows[i].desc,
			        text != NULL &&
			                strncmp(text, help_rows[i].want,
			                        strlen(help_rows[i].want)) ==
			                        0);
		} else {
			expect_str(help_rows[i].line, help_rows[i].desc,
			           help_rows[i].want, err);
			expect_str(help_rows[i].line, "nothing printed", "",
			           text);
		}
		free(text);
	}
}

/* --help: every command and option, within 80 columns. */
static void
test_help_text(void)
{
	static const char *const cmds[] = { "serve",    "refresh",  "check",
		                            "import",   "list",     "lookup",
		                            "export",   "metrics",  "status",
		                            "versions", "rollback", "unpin",
		                            "diff",     "help" };
	const char *const none[] = { NULL };
	char *text = NULL, err[256], row[64];
	const char *line, *nl;
	size_t i;

	require_true(__LINE__, "--help",
	             help_of(none, &text, err, sizeof(err)) == SH_OK);
	require_true(__LINE__, "--help", text != NULL);
	for (line = text; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		if (!expect_true(__LINE__, "within 79 columns",
		                 nl - line <= 79))
			break;
		if (*nl == '\0')
			break;
	}
	for (i = 0; i < NELEM(cmds); i++) {
		snprintf(row, sizeof(row), "\n  %s ", cmds[i]);
		expect_has(__LINE__, cmds[i], text, row);
	}
	expect_has(__LINE__, "-h", text, "\n  -h, --help ");
	expect_has(__LINE__, "-V", text, "\n  -V, --version ");
	expect_has(__LINE__, "--config", text, "\n  --config=FILE ");
	expect_has(__LINE__, "a setting", text, "\n  --state-dir=DIR ");
	expect_has(__LINE__, "exit statuses", text, "64 usage");
	free(text);
}

static const struct unit_test args_tests[] = {
	UNIT_TEST(test_parse),
	UNIT_TEST(test_posixly_correct),
	UNIT_TEST(test_values_in_argv),
	UNIT_TEST(test_every_setting),
	UNIT_TEST(test_help),
	UNIT_TEST(test_help_text),
	UNIT_END,
};

static const struct unit_suite suites[] = {
	{ "args", NULL, NULL, args_tests },
	{ NULL, NULL, NULL, NULL },
};

int
main(void)
{
	return unit_main(suites);
}
