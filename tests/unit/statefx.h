/*
 * statefx.h - a state dir of its own for each test row, for the suites
 * of the refresh path (refresh, schedule, worker): under one temporary
 * root per suite ($TMPDIR, else /tmp), the settings loaded as sherve
 * loads them (no config file, STATEFX_URL, the state dir, refresh-
 * interval 100, then the row's own), and a store opened in the dir.
 *
 * Caveats: static inline, for one translation unit per test program.
 * LMDB allows one environment per file open in a process: close the
 * store (statefx_close() or store_close()) before another opens it.
 */
#ifndef SHERVE_STATEFX_H
#define SHERVE_STATEFX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "store.h"
#include "util.h"

#define STATEFX_URL "https://up.example/r.txt"

struct statefx {
	struct conf c;
	struct store *s;
	char dir[600];
};

static char statefx_root[512];
static unsigned statefx_dirs;

/* The suite's root, "$TMPDIR/sherve-NAME.XXXXXX". Returns 0, or -1. */
static inline int
statefx_init(const char *name)
{
	const char *t = getenv("TMPDIR");

	snprintf(statefx_root, sizeof(statefx_root), "%s/sherve-%s.XXXXXX",
	         t != NULL && *t != '\0' ? t : "/tmp", name);
	return mkdtemp(statefx_root) != NULL ? 0 : -1;
}

/* rm -r the suite's root. */
static inline int
statefx_cleanup(void)
{
	return unit_rmtree(statefx_root);
}

/* (Re)load f's settings, extra last ("--name", "value" pairs ending
 * with NULL; NULL for none). Returns conf_load()'s code. */
static inline int
statefx_conf(struct statefx *f, const char *const *extra)
{
	char *argv[32] = { "test",      "--config",
		           "/dev/null", "--redirects-url",
		           STATEFX_URL, "--state-dir",
		           f->dir,      "--refresh-interval",
		           "100" };
	char err[256];
	int argc = 9;

	while (extra != NULL && *extra != NULL && argc < 31)
		argv[argc++] = (char *)*extra++;
	conf_free(&f->c);
	memset(&f->c, 0, sizeof(f->c));
	return conf_load(&f->c, argc, argv, err, sizeof(err));
}

/* A new dir under the root, its settings (see statefx_conf()) and, with
 * store set, its store. Returns 0, or -1. */
static inline int
statefx_open(struct statefx *f, const char *const *extra, int store)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "%s/%u", statefx_root, ++statefx_dirs);
	if (mkdir(f->dir, 0700) != 0 || statefx_conf(f, extra) != SH_OK)
		return -1;
	return !store || store_open(f->dir, &f->s, err, sizeof(err)) == SH_OK
	               ? 0
	               : -1;
}

static inline void
statefx_close(struct statefx *f)
{
	store_close(f->s);
	f->s = NULL;
	conf_free(&f->c);
}

#endif
