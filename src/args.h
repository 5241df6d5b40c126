/*
 * args.h - the command line: options, flags, operands, and --help.
 *
 * args_parse() reads argv with getopt_long(3). Its option table is built
 * at run time from the settings table (conf_key_name()), so a setting is
 * --name=VALUE or --name VALUE under the same name it has in the config
 * file and, as SHERVE_NAME, in the environment; no second list of names
 * exists. Besides the settings there are --config FILE and the flags
 * (--help, --version, --force, --probe, --json, --resolve-chains,
 * --startup, --scheduled, --miss), and operands: the command (the verb)
 * and its arguments. -h and -V are the only short options.
 *
 * The rules, as sherve(8) has always read its command line:
 *  - options, flags and operands come in any order; an option after the
 *    command is the same option (`sherve list --state-dir D`);
 *  - a name is matched whole: --webr is not --webroot (getopt_long's
 *    prefix matching is refused: a new setting would make a prefix that
 *    scripts use ambiguous, and the file and environment take none);
 *  - a word that starts with one '-' and is not -h or -V is an operand:
 *    `import -` (stdin), `lookup -alias`; -hV is no cluster of -h -V;
 *  - "--" ends the options: every word after it is an operand;
 *  - a flag given a value (--force=1) is an unknown option;
 *  - with the command `export`, --format names the output format
 *    (ARGS_EXPORT_FORMAT), not the redirects file's format;
 *  - the command `help` is --help.
 *
 * Caveats: args_parse() uses getopt_long's global state (optind, opterr),
 * so it is not thread-safe; it resets that state on every call, so it may
 * run any number of times in a process (SIGHUP re-reads the command
 * line). argv is neither permuted nor changed. Values and operands point
 * into argv.
 */
#ifndef SHERVE_ARGS_H
#define SHERVE_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

enum args_kind {
	ARGS_SETTING,       /* --name VALUE: setting number key */
	ARGS_EXPORT_FORMAT, /* export --format WORD */
	ARGS_OPERAND        /* the command or one of its arguments */
};

/* One setting or operand of the command line. */
struct args_item {
	enum args_kind kind;
	size_t key;  /* ARGS_SETTING: the setting's conf_key_name() index */
	char *value; /* the value or the operand, in argv */
};

struct args {
	char *config;           /* the last --config's value, or NULL */
	const char *verb;       /* the first operand (the command), or NULL */
	struct args_item *item; /* settings and operands, in argv order */
	size_t nitems;
};

/*
 * Parse argv[1..argc-1] into a and the command-line-only flags of c
 * (c->help, c->version, c->force, ...: set to 1 when given, else left as
 * they are). Values are not checked here: conf_load() applies them, so
 * that options override the file and the environment and that --help
 * works whatever a value says.
 * Returns SH_OK (free a with args_free()), SH_ENOMEM, or SH_EINVAL with a
 * one-line message in err: "--name: unknown option (see --help)" (also
 * for a flag given a value) or "--name: needs a value". On error a holds
 * nothing to free.
 */
int args_parse(struct conf *c, struct args *a, int argc, char **argv, char *err,
               size_t errsz);

/* Free what args_parse() allocated. Safe on a zeroed struct. */
void args_free(struct args *a);

/*
 * Print the help that `sherve --help`, `sherve help [CMD]` and
 * `sherve CMD --help` ask for to fp: the general help (commands, every
 * setting as an option, exit statuses) when args names no command, else
 * that command's. args are the operands (c->args): a leading "help" is
 * skipped.
 * Returns SH_OK, or SH_EINVAL with a one-line message in err, printing
 * nothing, for an unknown command ("CMD: unknown command (see --help)")
 * or more than one ("help: one command at most"): a usage error.
 */
int args_help(FILE *fp, int nargs, char *const *args, char *err, size_t errsz);

#endif
