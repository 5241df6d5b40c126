/*
 * versions.h - the kept versions of the map, for the admin: list them,
 * make one current and pin it (rollback), unpin, and diff two.
 *
 * A version is the file as it was fetched or imported (store.h keeps
 * it); making one current parses that file again with the settings of
 * today (format, alias-case, allow-relative-targets, dialect: as a
 * refresh would) and writes its map and the new state in one LMDB
 * transaction, under the refresh lock, so every worker answers from it
 * at its next request, and no refresh lands in between.
 *
 * Caveats: a rollback and a diff parse whole files (a refresh's cost);
 * the file's SHA-256 is checked first, so a damaged copy is refused.
 */
#ifndef SHERVE_VERSIONS_H
#define SHERVE_VERSIONS_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "store.h"

/*
 * Print the kept versions to out, newest first: one line each
 * ("N  TIME  RULES rules  SHORTHASH  SOURCE [current] [pinned]"), or a
 * JSON array. Returns SH_OK, SH_ENOMEM or SH_ESTORE.
 */
int versions_print(struct store *s, int json, FILE *out);

/*
 * Make version n current and pin it (n 0: the newest kept before the
 * current one). msg says what was done, or why not. Returns SH_OK,
 * SH_ENOTFOUND (no version n kept), SH_EINVAL (no versions, or none
 * before the current), SH_EDAMAGED (its file fails its SHA-256),
 * SH_EPARSE, SH_ENOMEM, SH_EIO (the lock) or SH_ESTORE.
 */
int versions_rollback(const struct conf *c, struct store *s, uint64_t n,
                      char *msg, size_t msgsz);

/*
 * Remove the pin: the newest version becomes current. Without a pin
 * nothing changes (SH_OK, msg says so). Returns versions_rollback()'s
 * codes.
 */
int versions_unpin(const struct conf *c, struct store *s, char *msg,
                   size_t msgsz);

/*
 * Print to out the aliases added (+), removed (-) and changed (~) from
 * version a to version b (0: the one before the current, and the
 * current), then a summary line; *differ is 1 if they differ. Returns
 * versions_rollback()'s codes (SH_EINVAL: a store with one version).
 */
int versions_diff(const struct conf *c, struct store *s, uint64_t a, uint64_t b,
                  FILE *out, int *differ, char *msg, size_t msgsz);

#endif
