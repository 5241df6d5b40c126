/* cli_versions.c - the verbs over the kept versions; see cli.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "store.h"
#include "util.h"
#include "versions.h"

/*
 * A version number operand into *n. Returns EXIT_OK, or EXIT_USAGE with
 * a line on stderr: not a number is a usage error; a number no version
 * has is the data's (EXIT_DATAERR, from versions_*).
 */
static int
version_arg(const char *verb, const char *a, uint64_t *n)
{
	const char *why;

	if (parse_u64(a, 1, UINT64_MAX, n, &why) == 0)
		return EXIT_OK;
	fprintf(stderr, "sherve: %s: %s: not a version number (%s)\n", verb, a,
	        why);
	return EXIT_USAGE;
}

int
cli_versions_validate(const struct conf *c)
{
	const char *verb = c->args[0];
	struct store *s = NULL;
	char err[512];
	uint64_t n;
	int i, rc;

	for (i = 1; i < c->nargs; i++)
		if ((rc = version_arg(verb, c->args[i], &n)) != EXIT_OK)
			return rc;
	if (strcmp(verb, "diff") == 0)
		return EXIT_OK;
	/* rollback and unpin open the store to write it, which would create
	 * one: with none, there is nothing to go back to, and nothing is
	 * made (as root, a store the workers could not open). */
	rc = store_open_reader(c->state_dir, &s, err, sizeof(err));
	store_close(s);
	if (rc != SH_ENOTFOUND)
		return EXIT_OK; /* any other trouble: the real open says it */
	fprintf(stderr, "sherve: %s: no versions are kept yet: %s\n", verb,
	        err);
	return EXIT_DATAERR;
}

/* A versions_* code as an exit status, with msg on stderr. */
static int
versions_exit(const char *verb, int rc, const char *msg)
{
	switch (rc) {
	case SH_OK: return EXIT_OK;
	case SH_ENOTFOUND:
	case SH_EINVAL:
	case SH_EPARSE:
		fprintf(stderr, "sherve: %s: %s\n", verb, msg);
		return EXIT_DATAERR;
	case SH_EDAMAGED:
		fprintf(stderr, "sherve: %s: %s\n", verb, msg);
		return EXIT_IOERR;
	default:
		fprintf(stderr, "sherve: %s: %s\n", verb,
		        msg[0] != '\0' ? msg : "cannot read the store");
		return EXIT_FAILED;
	}
}

int
cli_versions(const struct conf *c, struct store *s)
{
	if (versions_print(s, c->json, stdout) != SH_OK) {
		fprintf(stderr, "sherve: versions: cannot read the store\n");
		return EXIT_FAILED;
	}
	return cli_stdout_done("versions") == 0 ? EXIT_OK : EXIT_FAILED;
}

int
cli_rollback(const struct conf *c, struct store *s)
{
	char msg[320] = "";
	uint64_t n = 0;
	int rc;

	if (c->nargs > 1 &&
	    (rc = version_arg("rollback", c->args[1], &n)) != EXIT_OK)
		return rc;
	rc = versions_rollback(c, s, n, msg, sizeof(msg));
	if (rc == SH_OK)
		printf("%s\n", msg);
	return versions_exit("rollback", rc, msg);
}

int
cli_unpin(const struct conf *c, struct store *s)
{
	char msg[320] = "";
	int rc = versions_unpin(c, s, msg, sizeof(msg));

	if (rc == SH_OK)
		printf("%s\n", msg);
	return versions_exit("unpin", rc, msg);
}

int
cli_diff(const struct conf *c, struct store *s)
{
	char msg[320] = "";
	uint64_t a = 0, b = 0;
	int rc, differ = 0;

	if (c->nargs > 1 &&
	    (rc = version_arg("diff", c->args[1], &a)) != EXIT_OK)
		return rc;
	if (c->nargs > 2 &&
	    (rc = version_arg("diff", c->args[2], &b)) != EXIT_OK)
		return rc;
	rc = versions_diff(c, s, a, b, stdout, &differ, msg, sizeof(msg));
	if (rc != SH_OK)
		return versions_exit("diff", rc, msg);
	if (cli_stdout_done("diff") != 0)
		return EXIT_FAILED;
	return differ ? EXIT_FAILED : EXIT_OK;
}
