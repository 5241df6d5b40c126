/*
 * conf.h - settings from defaults < config file < environment < options.
 *
 * Every setting has one row in a static key table (conf.c): its name, type,
 * bounds and default. The same name is used as `name = value` in the file,
 * as SHERVE_NAME (upper case, '-' -> '_') in the environment and as
 * --name[=value] on the command line, which args.c reads (args.h).
 *
 * Caveats: the struct is immutable after conf_load(); the request path
 * reads it but never parses anything. Errors are one line naming the
 * source and the setting ("sherve.conf:3: redirect-status: …").
 */
#ifndef SHERVE_CONF_H
#define SHERVE_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "redirects.h"

enum sendfile_mode {
	SENDFILE_NONE = 0,
	SENDFILE_LIGHTTPD,
	SENDFILE_APACHE,
	SENDFILE_NGINX
};

enum cachebust { CACHEBUST_MISS = 0, CACHEBUST_ALWAYS, CACHEBUST_NEVER };

/* What becomes of a redirected request's query string. */
enum forward_query { FORWARD_MERGE = 0, FORWARD_DROP };

/* A directory asked for without its '/': 301 to "dir/", or its index. */
enum directory_slash { DIRSLASH_REDIRECT = 0, DIRSLASH_SERVE };

#define CONF_MAX_ARGS 8

struct conf {
	char *webroot;       /* "" means: no assets */
	char *redirects_url; /* "" means: no upstream */
	char *state_dir;
	char *base_path; /* normalised: "" for "/", else "/go" */
	unsigned redirect_status;
	char *cache_control;
	char *redirect_cache_control;
	enum log_level log_level;
	int etag_inode;
	uint64_t refresh_interval;      /* seconds; 0 disables */
	uint64_t miss_refresh_interval; /* seconds */
	enum cachebust cachebust;
	uint64_t max_shrink;      /* percent; 100 disables the guard */
	uint64_t fetch_timeout;   /* seconds, whole transfer */
	uint64_t connect_timeout; /* seconds */
	uint64_t max_body;        /* bytes */
	char *ca_bundle;          /* "" means: the system default */
	int precompressed;
	enum directory_slash directory_slash;
	enum sendfile_mode sendfile_mode;
	char *sendfile_prefix;                    /* nginx: "/.sherve-files" */
	char *metrics_path;                       /* "" means: not exposed */
	char *health_path;                        /* "" means: not exposed */
	uint64_t keep_versions;                   /* map versions kept */
	enum redirects_format format;             /* of the redirects file */
	enum redirects_dialect redirects_dialect; /* of a _redirects file */
	enum forward_query forward_query;         /* merge or drop */
	int alias_fold;                           /* alias-case = insensitive */
	int allow_relative_targets; /* "/path" targets are allowed */
	char *hostnames;            /* names this site answers to, for chains */
	char *listen;               /* serve: "unix:/p", "host:port" or "" */
	uint64_t workers;           /* serve: 0 means one per CPU */
	char *user;                 /* serve: drop to this user, or "" */
	uint64_t shutdown_grace;    /* serve: seconds */
	char *config_file;          /* the file read, or NULL */

	/* Command-line only. */
	int help;
	int version;
	int force;
	int probe;          /* check --probe: ask the targets */
	int json;           /* check --probe --json */
	int resolve_chains; /* `check --resolve-chains` */
	/* refresh as a worker starts it (refresher.h): at its start, from its
	 * timer, for an unknown alias. */
	int startup, scheduled, miss;
	char *export_format; /* `export --format F`: not the file format */
	int nargs;
	char *args[CONF_MAX_ARGS]; /* positional: verb and its operands */
};

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
/* The host's config file, read when no other is named and none sits
 * beside the binary (a packaged install: /etc/sherve/sherve.conf). */
#define CONF_SYSTEM_FILE SYSCONFDIR "/sherve/sherve.conf"

/*
 * Fill c from defaults, the config file, the environment and argv. The
 * file is --config, else SHERVE_CONFIG (set but empty: no file at all),
 * else sherve.conf beside the binary, else SYSCONFDIR/sherve/sherve.conf.
 * With --help, --version or the command "help", only --config and the
 * operands are read (c->help set, c->args the commands named), so help
 * works whatever the settings.
 * Returns SH_OK, SH_EINVAL with a one-line message in err, or SH_ENOMEM.
 * On error c is freed already.
 */
int conf_load(struct conf *c, int argc, char **argv, char *err, size_t errsz);

/* Free every string c owns. Safe on a zeroed struct. */
void conf_free(struct conf *c);

/*
 * Call warn once for each SHERVE_* environment variable that is not a
 * setting (nor SHERVE_CONFIG, nor SHERVE_BIN, which scripts set), with
 * the nearest known name when one is a few letters off: a typo such as
 * SHERVE_REDIRECT_URL would otherwise be ignored without a word.
 */
void conf_env_check(void (*warn)(const char *msg));

/*
 * The i-th setting of c (i from 0) as an environment entry,
 * "SHERVE_NAME=value", which conf_load() reads back as the same value:
 * how a worker hands its settings to a refresh it starts (refresher.h).
 * Returns the entry's length as snprintf() does (the entry is cut to fit
 * bufsz; buf may be NULL with bufsz 0), 0 when i is past the last
 * setting, or -1 on an output error.
 */
int conf_env_entry(const struct conf *c, size_t i, char *buf, size_t bufsz);

/*
 * The name of the i-th setting (i from 0), as the file and the command
 * line spell it ("redirect-status"), or NULL when i is past the last:
 * args.c builds its option table from these.
 */
const char *conf_key_name(size_t i);

/* Print the settings table (name, default, help) for --help. */
void conf_usage(void *fp);

#endif
