/*
 * exitcode.h - the exit statuses of sherve (EXIT STATUS in sherve(8)).
 *
 * Modules return an enum sherve_err (util.h) and never exit. Only main.c
 * and cli.c turn codes into these statuses; the process layer (pool.c,
 * worker.c, and refresher.c, which reads the status of the refresh it
 * started) may use them too, since a process's status is its interface.
 * The numbers follow <sysexits.h> where one fits.
 */
#ifndef SHERVE_EXITCODE_H
#define SHERVE_EXITCODE_H

enum {
	EXIT_OK = 0,        /* success, a 304 included */
	EXIT_FAILED = 1,    /* the operation failed (the message says why) */
	EXIT_USAGE = 64,    /* EX_USAGE: a command or its arguments */
	EXIT_DATAERR = 65,  /* EX_DATAERR: a map version that is not kept */
	EXIT_IOERR = 74,    /* EX_IOERR: the store cannot be opened, damaged */
	EXIT_TEMPFAIL = 75, /* EX_TEMPFAIL: refresh --scheduled, --miss or
	                       --startup had nothing to do now (not due,
	                       rate-limited, another refresh ran) */
	EXIT_CONFIG = 78,   /* EX_CONFIG: a setting, option or file */
};

#endif
