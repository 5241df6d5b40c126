/*
 * main.c - sherve: a FastCGI/CGI responder for assets and short links.
 *
 * Dispatch: a verb runs the admin CLI; otherwise fd 0 being a socket
 * means FastCGI, GATEWAY_INTERFACE means one CGI request. Only this file
 * and cli.c turn error codes into exit statuses.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "fcgi.h"
#include "fetch.h"
#include "log.h"
#include "pool.h"
#include "refresher.h"
#include "util.h"
#include "worker.h"

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
	        "Exit status: 0 success, 1 failure, 64 usage, 74 store I/O, "
	        "75 nothing to do\n(a worker's refresh), 78 configuration.\n"
	        "See sherve(8) and sherve.conf(5).\n");
}

/*
 * `sherve --help`, `sherve help [CMD]`, `sherve CMD --help`: the general
 * help, or CMD's; exit 64 for an unknown CMD or more than one.
 */
static int
help(int nargs, char **args)
{
	const struct command_help *h;
	const char *name;

	if (nargs > 0 && strcmp(args[0], "help") == 0) {
		args++;
		nargs--;
	}
	if (nargs > 1) {
		fprintf(stderr, "sherve: help: one command at most\n");
		return EXIT_USAGE;
	}
	name = nargs == 1 ? args[0] : NULL;
	if (name == NULL) {
		usage(stdout);
		return EXIT_OK;
	}
	if ((h = command_find(name)) == NULL) {
		fprintf(stderr, "sherve: %s: unknown command (see --help)\n",
		        name);
		return EXIT_USAGE;
	}
	printf("Usage: sherve [OPTION]... %s%s%s\n\n%s", h->name,
	       h->args[0] != '\0' ? " " : "", h->args, h->text);
	printf("\nEvery option of sherve --help applies.\n");
	return EXIT_OK;
}

static int
serve_usage(void)
{
	fprintf(stderr, "sherve: serve takes no arguments; use --listen and "
	                "--workers (see --help)\n");
	return EXIT_USAGE;
}

static int
serve(const struct conf *c)
{
	if (fcgi_on_socket())
		return worker_run(c, WORKER_FASTCGI, STDIN_FILENO);
	if (getenv("GATEWAY_INTERFACE") != NULL)
		return worker_run(c, WORKER_CGI, -1);
	fprintf(stderr, "sherve: not started by a web server (no FastCGI "
	                "socket on stdin, no CGI environment); see --help\n");
	return EXIT_USAGE;
}

/* conf_env_check()'s warnings: plain for a command, JSON for a server. */
static void
warn_cli(const char *msg)
{
	fprintf(stderr, "sherve: warning: %s\n", msg);
}

static void
warn_log(const char *msg)
{
	log_warnx("%s", msg);
}

int
main(int argc, char **argv)
{
	struct conf c;
	char err[1024];
	int rc, cli;

	refresher_init(argv[0]);
	if (conf_load(&c, argc, argv, err, sizeof(err)) != SH_OK) {
		if (isatty(STDERR_FILENO) || argc > 1)
			fprintf(stderr, "sherve: %s\n", err);
		else
			log_error("configuration: %s", err);
		return EXIT_CONFIG;
	}
	if (c.help) {
		rc = help(c.nargs, c.args);
		goto out;
	}
	if (c.version) {
		printf("sherve %s\n", PACKAGE_VERSION);
		rc = EXIT_OK;
		goto out;
	}
	log_set_level(c.log_level);
	/* serve logs like its workers: its stderr is a log, too. */
	conf_env_check(c.nargs > 0 && strcmp(c.args[0], "serve") != 0
	                       ? warn_cli
	                       : warn_log);
	if (fetch_global_init() != SH_OK) {
		fprintf(stderr, "sherve: cannot initialise libcurl\n");
		rc = EXIT_FAILED;
		goto out;
	}
	cli = c.nargs > 0;
	if (cli && strcmp(c.args[0], "serve") == 0)
		rc = c.nargs == 1 ? pool_run(argc, argv, &c) : serve_usage();
	else
		rc = cli ? cli_main(&c) : serve(&c);
out:
	conf_free(&c);
	return rc;
}
