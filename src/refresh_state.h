/*
 * refresh_state.h - the refresh bookkeeping as one typed record.
 *
 * What refresh.c keeps between refreshes (the source and how it was
 * parsed, the validators for a conditional GET, the times, the backoff,
 * the outcome counters) is one struct, stored in the store's meta as one
 * record ("state"), read whole in one read transaction and written whole
 * in one write transaction (with the map, when a refresh stores one).
 *
 * The record: a 4-byte layout number (REFRESH_STATE_LAYOUT), the
 * numbers (8 bytes each, big-endian) in the order of the struct, the
 * result (1 byte), then the strings, each a 2-byte length and its bytes.
 * A record of another layout, or none (a store written by a sherve that
 * kept eleven string keys), reads as all zeros: the next refresh fetches
 * without validators and refills it; the old string keys are left as
 * they are and never read.
 *
 * Caveats: the struct is about 6 KiB. Write it only under the refresh
 * lock (refresh.h): a load, change and save by two processes at once
 * would lose one's change.
 */
#ifndef SHERVE_REFRESH_STATE_H
#define SHERVE_REFRESH_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define REFRESH_STATE_LAYOUT 1
#define REFRESH_POPTS_MAX    1280

enum refresh_result {
	REFRESH_NONE = 0, /* never tried */
	REFRESH_UPDATED,
	REFRESH_NOT_MODIFIED,
	REFRESH_FAILED,
};

struct refresh_state {
	uint64_t last_attempt; /* unix seconds; 0: never */
	uint64_t last_success;
	uint64_t retry_at;      /* after a failure: not before this */
	uint64_t failures;      /* in a row */
	uint64_t count;         /* aliases of the map last stored */
	uint64_t miss_fetch_at; /* the last miss fetch began, seconds */
	uint64_t miss_fetch_us; /* the same, microseconds */
	uint64_t updated_total, not_modified_total, failed_total;
	enum refresh_result last_result;
	char source[4096]; /* the URL or "import:PATH" of the map stored */
	char parse_options[REFRESH_POPTS_MAX]; /* how it was parsed */
	char etag[256];
	char last_modified[256];
	char last_error[320];
};

/* "updated", "not_modified", "failed" or "" (never). */
const char *refresh_result_name(enum refresh_result r);

/*
 * Encode st into out (outsz bytes). Returns the length, or 0 if it does
 * not fit.
 */
size_t refresh_state_encode(const struct refresh_state *st, unsigned char *out,
                            size_t outsz);

/* Decode len bytes at p into st. Returns 0, or -1 (another layout, or
 * damaged: st is zeroed). */
int refresh_state_decode(const unsigned char *p, size_t len,
                         struct refresh_state *st);

/* The stored state, in one read transaction; zeros when there is none.
 * Returns SH_OK or the store's code (st zeroed). */
int refresh_state_load(struct store *s, struct refresh_state *st);

/* Store st in one write transaction. Returns SH_OK or SH_ESTORE. */
int refresh_state_save(struct store *s, const struct refresh_state *st);

/* The meta record of st for store_replace_version() (kv->val points
 * into buf). Returns 0, or -1 if it does not fit. */
int refresh_state_kv(const struct refresh_state *st, unsigned char *buf,
                     size_t bufsz, struct store_kv *kv);

#define REFRESH_STATE_KEY "state"
#define REFRESH_STATE_MAX 8192 /* an encoded record, at most */

#endif
