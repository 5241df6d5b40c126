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

#include "args.h"
#include "cli.h"
#include "conf.h"
#include "fcgi.h"
#include "fetch.h"
#include "log.h"
#include "pool.h"
#include "refresher.h"
#include "util.h"
#include "worker.h"

/*
 * `sherve --help`, `sherve help [CMD]`, `sherve CMD --help`: the general
 * help, or CMD's (args.h); exit 64 for an unknown CMD or more than one.
 */
static int
help(const struct conf *c)
{
	char err[256];

	if (args_help(stdout, c->nargs, c->args, err, sizeof(err)) == SH_OK)
		return EXIT_OK;
	fprintf(stderr, "sherve: %s\n", err);
	return EXIT_USAGE;
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
		rc = help(&c);
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
