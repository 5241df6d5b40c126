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
#include "handler.h"
#include "log.h"
#include "refresh.h"
#include "store.h"
#include "util.h"

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
	        "  refresh [--force]  fetch redirects-url now and store it\n"
	        "  import FILE|-      store a local redirects file\n"
	        "  list               print the stored map (redirects format)\n"
	        "  lookup ALIAS       print the target of ALIAS\n"
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
serve(const struct conf *c)
{
	struct handler h = { c, NULL };
	char err[512];
	int fastcgi = fcgi_on_socket(), rc;

	if (!fastcgi && getenv("GATEWAY_INTERFACE") == NULL) {
		fprintf(stderr, "sherve: not started by a web server (no "
		                "FastCGI socket on stdin, no CGI environment); "
		                "see --help\n");
		return EXIT_USAGE;
	}
	rc = store_open(c->state_dir, &h.store, err, sizeof(err));
	if (rc == SH_EINVAL) {
		log_error("%s", err);
		return EXIT_CONFIG;
	}
	/* Serve assets even without a store: dying would take the web
	 * server's backend (and with lighttpd, the server) down. */
	if (rc != SH_OK)
		log_error("%s; serving assets only", err);
	else
		refresh_startup(c, h.store, !fastcgi);
	rc = fastcgi ? fcgi_run(&h) : cgi_run(&h);
	store_close(h.store);
	return rc == SH_OK ? EXIT_OK : EXIT_FAILED;
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
	rc = cli ? cli_main(&c) : serve(&c);
out:
	conf_free(&c);
	return rc;
}
