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
#include "util.h"
#include "worker.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: sherve [OPTION]... [COMMAND [ARG]]\n"
	        "Serve static assets and short-link redirects as a FastCGI or "
	        "CGI responder.\n"
	        "\n"
	        "Without COMMAND, sherve answers requests: FastCGI when the "
	        "web server\npasses a listening socket on stdin, one CGI "
	        "request when GATEWAY_INTERFACE\nis set.\n"
	        "\n"
	        "Commands:\n"
	        "  serve              run a pre-fork FastCGI pool on --listen\n"
	        "  refresh [--force]  fetch redirects-url now and store it\n"
	        "  check [FILE|URL]   lint a redirects file; diff it against the store\n"
	        "  import FILE|-      store a local redirects file\n"
	        "  list               print the stored map (redirects format)\n"
	        "  lookup PATH [HOST] print where a request for PATH goes\n"
	        "  export [FILE]      write the map for --format nginx, apache\n"
	        "                     (FILE: its RewriteMap) or redirects\n"
	        "  metrics            print the Prometheus metrics\n"
	        "  status             show the last refresh and the store\n"
	        "\n"
	        "Options (also SHERVE_NAME in the environment, or name = "
	        "value in the file):\n"
	        "  --config FILE              read settings from FILE\n");
	conf_usage(fp);
	fprintf(fp,
	        "  -h, --help                 show this help and exit\n"
	        "  -V, --version              show the version and exit\n"
	        "\n"
	        "Exit status: 0 success, 1 failure, 64 usage, 74 store I/O, "
	        "78 configuration.\n"
	        "See sherve(8) and sherve.conf(5).\n");
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

int
main(int argc, char **argv)
{
	struct conf c;
	char err[1024];
	int rc, cli;

	if (conf_load(&c, argc, argv, err, sizeof(err)) != SH_OK) {
		if (isatty(STDERR_FILENO) || argc > 1)
			fprintf(stderr, "sherve: %s\n", err);
		else
			log_error("configuration: %s", err);
		return EXIT_CONFIG;
	}
	if (c.help) {
		usage(stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (c.version) {
		printf("sherve %s\n", PACKAGE_VERSION);
		rc = EXIT_OK;
		goto out;
	}
	log_set_level(c.log_level);
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
