/*
 * cli.h - the admin verbs over the same store the responder reads.
 *
 * Each verb prints to stdout and returns an exit status (see EXIT STATUS
 * in sherve(8)): 0 success, 1 the operation failed, 64 usage, 74 the store
 * could not be opened, 78 configuration.
 */
#ifndef SHERVE_CLI_H
#define SHERVE_CLI_H

#include "conf.h"

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 64,
	EXIT_IOERR = 74,
	EXIT_CONFIG = 78,
};

/* Run the verb in c->args[0]. Returns an exit status. */
int cli_main(const struct conf *c);

#endif
