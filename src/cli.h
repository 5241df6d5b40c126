/*
 * cli.h - the admin verbs over the same store the responder reads.
 *
 * Each verb prints to stdout and returns an exit status (exitcode.h, EXIT
 * STATUS in sherve(8)): 0 success, 1 the operation failed (diff: the
 * versions differ), 64 usage, 65 a version that is not kept (or none to
 * go back to), 74 the store could not be opened, 75 a worker's refresh
 * had nothing to do, 78 configuration.
 */
#ifndef SHERVE_CLI_H
#define SHERVE_CLI_H

#include "conf.h"
#include "exitcode.h"
#include "store.h"

/* Run the verb in c->args[0]. Returns an exit status. */
int cli_main(const struct conf *c);

/*
 * Whether a verb's output on stdout was all written: flushes it and
 * looks at its error indicator (a write that failed while the buffer
 * filled leaves only that, and an unbuffered stdout nothing to flush).
 * Returns 0, or -1 after saying on stderr that the output of verb could
 * not be written, and why when it is known.
 */
int cli_stdout_done(const char *verb);

/* The verbs over the kept versions (cli_versions.c); each returns an
 * exit status. */
int cli_versions(const struct conf *c, struct store *s);
int cli_rollback(const struct conf *c, struct store *s);
int cli_unpin(const struct conf *c, struct store *s);
int cli_diff(const struct conf *c, struct store *s);

/*
 * The checks run before rollback, unpin or diff open the store: each
 * version number operand, and for rollback and unpin a store that
 * exists (they would create one). Returns EXIT_OK, or EXIT_USAGE or
 * EXIT_DATAERR after a line on stderr, having created nothing.
 */
int cli_versions_validate(const struct conf *c);

#endif
