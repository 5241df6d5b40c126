/* args.c - the command line and its help; see args.h. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "util.h"

/*
 * "-": every word is returned in argv order (options after the command
 * stay options, argv is not permuted, POSIXLY_CORRECT changes nothing);
 * ":": a missing value is ':', not '?'. No "W;": -W is nothing special.
 */
#define OPTSTRING "-:hV"

/* getopt_long's codes beyond the short options' characters. */
enum { CODE_CONFIG = 0x100, CODE_FLAG = 0x200, CODE_KEY = 0x400 };

#define OFF(f) offsetof(struct conf, f)

/* The options that take no value; command-line only. */
static const struct {
	const char *name;
	int shortopt; /* its short form, or 0 */
	size_t off;   /* an int of struct conf, set to 1 */
} flags[] = {
	{ "help", 'h', OFF(help) },
	{ "version", 'V', OFF(version) },
	{ "force", 0, OFF(force) },
	{ "probe", 0, OFF(probe) },
	{ "json", 0, OFF(json) },
	{ "resolve-chains", 0, OFF(resolve_chains) },
	{ "startup", 0, OFF(startup) },
	{ "scheduled", 0, OFF(scheduled) },
	{ "miss", 0, OFF(miss) },
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

/*
 * getopt_long's table, built from the settings table: each setting, then
 * the flags, then --config. NULL when out of memory.
 */
static struct option *
options_build(void)
{
	struct option *o;
	size_t nkeys = 0, i;

	while (conf_key_name(nkeys) != NULL)
		nkeys++;
	if ((o = calloc(nkeys + NFLAGS + 2, sizeof(*o))) == NULL)
		return NULL;
	for (i = 0; i < nkeys; i++) {
		o[i].name = conf_key_name(i);
		o[i].has_arg = required_argument;
		o[i].val = CODE_KEY + (int)i;
	}
	for (i = 0; i < NFLAGS; i++) {
		o[nkeys + i].name = flags[i].name;
		o[nkeys + i].has_arg = no_argument;
		o[nkeys + i].val = CODE_FLAG + (int)i;
	}
	o[nkeys + NFLAGS].name = "config";
	o[nkeys + NFLAGS].has_arg = required_argument;
	o[nkeys + NFLAGS].val = CODE_CONFIG;
	return o; /* calloc'd: the last row is the zero terminator */
}

/*
 * Forget what getopt_long kept from an earlier parse (its ordering, a
 * half-read word): optind 0 makes it start afresh, here on an argv of no
 * options, which leaves optind at 1.
 */
static void
getopt_reset(const struct option *o)
{
	static char name[] = "sherve";
	char *none[] = { name, NULL };

	opterr = 0; /* the messages are ours, in sherve's words */
	optind = 0;
	(void)getopt_long(1, none, OPTSTRING, o, NULL);
}

/* 1 if word, "--name" or "--name=value", names an option of o exactly. */
static int
option_exact(const struct option *o, const char *word)
{
	const char *name = word + 2;
	size_t len = strcspn(name, "=");

	for (; o->name != NULL; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return 1;
	return 0;
}

/* A word getopt_long never sees: an operand, as -h, -V and --... are not. */
static int
is_operand(const char *word)
{
	return strncmp(word, "--", 2) != 0 && strcmp(word, "-h") != 0 &&
	       strcmp(word, "-V") != 0;
}

static void
item_add(struct args *a, enum args_kind kind, size_t key, char *value)
{
	a->item[a->nitems].kind = kind;
	a->item[a->nitems].key = key;
	a->item[a->nitems].value = value;
	a->nitems++;
}

/* "--name: why" for word "--name[=value]"; returns -1. */
static int
word_error(const char *word, const char *why, char *err, size_t errsz)
{
	snprintf(err, errsz, "--%.*s: %s", (int)strcspn(word + 2, "="),
	         word + 2, why);
	return -1;
}

/* Apply what getopt_long returned (code) for word; 0 or -1 with err. */
static int
option_one(struct conf *c, struct args *a, int code, const char *word,
           char *err, size_t errsz)
{
	size_t i;

	if (code == '?') /* a flag given a value, as in --force=1 */
		return word_error(word, "unknown option (see --help)", err,
		                  errsz);
	if (code == ':')
		return word_error(word, "needs a value", err, errsz);
	if (code == 1) /* an operand; is_operand() took them all already */
		item_add(a, ARGS_OPERAND, 0, optarg);
	else if (code == CODE_CONFIG)
		a->config = optarg;
	else if (code >= CODE_KEY)
		item_add(a, ARGS_SETTING, (size_t)(code - CODE_KEY), optarg);
	else
		for (i = 0; i < NFLAGS; i++)
			if (code == CODE_FLAG + (int)i ||
			    (flags[i].shortopt != 0 &&
			     code == flags[i].shortopt))
				*(int *)((char *)c + flags[i].off) = 1;
	return 0;
}

/* The words of argv in order; 0, or -1 with err. */
static int
parse_words(struct conf *c, struct args *a, const struct option *o, int argc,
            char **argv, char *err, size_t errsz)
{
	int at, code;

	getopt_reset(o);
	while ((at = optind) < argc) {
		if (is_operand(argv[at])) {
			item_add(a, ARGS_OPERAND, 0, argv[at]);
			optind++;
			continue;
		}
		/* Whole names only: getopt_long would take a prefix. */
		if (argv[at][1] == '-' && argv[at][2] != '\0' &&
		    !option_exact(o, argv[at]))
			return word_error(argv[at],
			                  "unknown option (see --help)", err,
			                  errsz);
		if ((code = getopt_long(argc, argv, OPTSTRING, o, NULL)) == -1)
			break; /* "--" */
		if (option_one(c, a, code, argv[at], err, errsz) != 0)
			return -1;
	}
	for (at = optind; at < argc; at++)
		item_add(a, ARGS_OPERAND, 0, argv[at]);
	return 0;
}

/* The command decides what the words mean: see args.h. */
static void
apply_verb(struct conf *c, struct args *a)
{
	size_t i;

	for (i = 0; i < a->nitems && a->verb == NULL; i++)
		if (a->item[i].kind == ARGS_OPERAND)
			a->verb = a->item[i].value;
	if (a->verb == NULL)
		return;
	if (strcmp(a->verb, "help") == 0)
		c->help = 1;
	if (strcmp(a->verb, "export") != 0)
		return;
	for (i = 0; i < a->nitems; i++)
		if (a->item[i].kind == ARGS_SETTING &&
		    strcmp(conf_key_name(a->item[i].key), "format") == 0)
			a->item[i].kind = ARGS_EXPORT_FORMAT;
}

int
args_parse(struct conf *c, struct args *a, int argc, char **argv, char *err,
           size_t errsz)
{
	struct option *o = options_build();
	int rc = SH_ENOMEM;

	memset(a, 0, sizeof(*a));
	if (o == NULL)
		goto out;
	/* Each word is at most one item. */
	if ((a->item = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*a->item))) ==
	    NULL)
		goto out;
	rc = SH_EINVAL;
	if (parse_words(c, a, o, argc, argv, err, errsz) != 0)
		goto out;
	apply_verb(c, a);
	rc = SH_OK;
out:
	if (rc == SH_ENOMEM)
		snprintf(err, errsz, "out of memory");
	if (rc != SH_OK)
		args_free(a);
	free(o);
	return rc;
}

void
args_free(struct args *a)
{
	free(a->item);
	memset(a, 0, sizeof(*a));
}

/* One row per command: `sherve --help` lists them, `sherve help CMD` and
 * `sherve CMD --help` print one. */
struct command_help {
	const char *name, *args, *brief, *text;
};

static const struct command_help commands[] = {
	{ "serve", "", "run a pre-fork FastCGI pool on --listen",
	  "Listen on --listen (unix:/path or HOST:PORT) or on the socket\n"
	  "systemd passes, start --workers processes and restart any that\n"
	  "die. SIGHUP re-reads the configuration, SIGTERM drains. As root,\n"
	  "--user names the user to run as after binding.\n" },
	{ "refresh", "[--force]", "fetch redirects-url now and store it",
	  "Fetch redirects-url (with If-None-Match/If-Modified-Since), check\n"
	  "it and replace the stored map. --force sends no validators and\n"
	  "skips the max-shrink guard. Run it as the user the web server runs\n"
	  "sherve as, so the store stays writable for it.\n"
	  "\n"
	  "The refresh a worker starts, in a process of its own: --scheduled\n"
	  "(its timer: only when due, at nice 19, not waiting for a refresh\n"
	  "under way), --miss (an unknown alias: at most once per\n"
	  "miss-refresh-interval, with the cache-buster) or --startup (the\n"
	  "store never held a map). These log as a worker does (JSON on\n"
	  "stderr) and exit 75 when there was nothing to do.\n" },
	{ "check", "[FILE|URL]",
	  "lint a redirects file; diff it with the store",
	  "Lint FILE or URL (default: redirects-url): invalid lines, shadowed\n"
	  "aliases, chains and loops (hostnames), expired and soon expiring\n"
	  "rules, what sherve lacks; then show what would change in the\n"
	  "stored map. Exits 1 when a line is invalid or the map has a loop.\n"
	  "\n"
	  "check --resolve-chains [FILE|URL] prints the map instead, in the\n"
	  "format it was read in, each chain collapsed to where it ends (the\n"
	  "report goes to stderr).\n"
	  "\n"
	  "check --probe [--json] [FILE|URL] asks every distinct target of the\n"
	  "file instead whether it still answers: HEAD (GET when refused), 4\n"
	  "at a time, 10 a second, up to 5 redirects, fetch-timeout each. It\n"
	  "reports each fine, redirected or dead (--json: one JSON object)\n"
	  "and exits 1 when one is dead.\n" },
	{ "import", "FILE|-", "store a local redirects file",
	  "Store FILE (or stdin, -) as the map, with the same checks as\n"
	  "refresh.\n" },
	{ "list", "", "print the stored map (as it was read)",
	  "Print the stored map in the format it was read in: a _redirects\n"
	  "map as from/to lines in its file's order; a gosherve map with its\n"
	  "statuses, prefix rules (docs/*) and @host sections.\n" },
	{ "lookup", "PATH [HOST]", "print where a request for PATH goes",
	  "Print the Location a request for PATH (on HOST) is redirected to,\n"
	  "or the status of a rule that answers otherwise (410 Gone, 404,\n"
	  "200 and the page); exits 1 when no rule answers it.\n" },
	{ "export", "[FILE]", "write the map for --format=WORD",
	  "Write the stored map for a server that answers the redirects\n"
	  "itself: --format=nginx (a map include), apache (FILE: the\n"
	  "RewriteMap; the rules on stdout) or redirects (_redirects).\n" },
	{ "metrics", "", "print the Prometheus metrics",
	  "Print the Prometheus metrics, summed over every process of the\n"
	  "instance (for node_exporter's textfile collector).\n" },
	{ "status", "", "show the settings used, the store, the last refresh",
	  "Show the config file and state dir used, redirects-url, the\n"
	  "stored map's source and size, the last refresh and its error, and\n"
	  "when the next one is due.\n" },
	{ "versions", "[--json]", "list the kept versions of the map",
	  "List the kept versions of the map, newest first: number, time\n"
	  "(UTC), rules, SHA-256 (short), source, and which is current and\n"
	  "pinned. --json prints a JSON array.\n" },
	{ "rollback", "[N]", "serve version N (default: the previous), pinned",
	  "Make version N (default: the one before the current) current in\n"
	  "one transaction and pin it: refreshes keep storing new versions\n"
	  "but serve none until unpin. Exits 65 when N is not kept.\n" },
	{ "unpin", "", "remove the pin; serve the newest version",
	  "Remove the pin set by rollback: the newest version becomes\n"
	  "current.\n" },
	{ "diff", "[A [B]]", "aliases added, removed, changed from A to B",
	  "Print the aliases added (+), removed (-) and changed (~) from\n"
	  "version A to version B (default: the previous and the current).\n"
	  "Exits 0 when they are equal, 1 when they differ.\n" },
	{ "help", "[COMMAND]", "show this help, or COMMAND's",
	  "Show the general help, or the help of COMMAND.\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command_help *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage(FILE *fp)
{
	char syn[64];
	size_t i;

	fprintf(fp,
	        "Usage: sherve [OPTION]... [COMMAND [ARG]...]\n"
	        "Serve static assets and short-link redirects as a FastCGI or "
	        "CGI responder.\n"
	        "\n"
	        "Without COMMAND, sherve answers requests: FastCGI when the "
	        "web server\npasses a listening socket on stdin, one CGI "
	        "request when GATEWAY_INTERFACE\nis set.\n"
	        "\n"
	        "Commands (sherve help COMMAND, or COMMAND --help, for more):\n");
	for (i = 0; i < NCOMMANDS; i++) {
		snprintf(syn, sizeof(syn), "%s %s", commands[i].name,
		         commands[i].args);
		fprintf(fp, "  %-20s %s\n", syn, commands[i].brief);
	}
	fprintf(fp, "\n"
	            "Options (also SHERVE_NAME in the environment, or name = "
	            "value in the file):\n");
	conf_usage(fp);
	fprintf(fp,
	        "  -h, --help                  show this help and exit\n"
	        "  -V, --version               show the version and exit\n"
	        "\n"
	        "Exit status: 0 success, 1 failure, 64 usage, 65 bad data (a "
	        "version not kept),\n74 store I/O, 75 nothing to do (a "
	        "worker's refresh), 78 configuration.\n"
	        "See sherve(8) and sherve.conf(5).\n");
}

int
args_help(FILE *fp, int nargs, char *const *args, char *err, size_t errsz)
{
	const struct command_help *h;

	if (nargs > 0 && strcmp(args[0], "help") == 0) {
		args++;
		nargs--;
	}
	if (nargs > 1) {
		snprintf(err, errsz, "help: one command at most");
		return SH_EINVAL;
	}
	if (nargs == 0) {
		usage(fp);
		return SH_OK;
	}
	if ((h = command_find(args[0])) == NULL) {
		snprintf(err, errsz, "%s: unknown command (see --help)",
		         args[0]);
		return SH_EINVAL;
	}
	fprintf(fp, "Usage: sherve [OPTION]... %s%s%s\n\n%s", h->name,
	        h->args[0] != '\0' ? " " : "", h->args, h->text);
	fprintf(fp, "\nEvery option of sherve --help applies.\n");
	return SH_OK;
}
