/* refresh_state.c - the refresh bookkeeping record; see refresh_state.h. */
#include "config.h"

#include <string.h>

#include "refresh_state.h"
#include "util.h"

#define NUMBERS 10

static void
put_be(unsigned char *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

const char *
refresh_result_name(enum refresh_result r)
{
	switch (r) {
	case REFRESH_UPDATED: return "updated";
	case REFRESH_NOT_MODIFIED: return "not_modified";
	case REFRESH_FAILED: return "failed";
	case REFRESH_NONE: break;
	}
	return "";
}

/* The numbers of st, in record order. */
static void
numbers(struct refresh_state *st, uint64_t *n[NUMBERS])
{
	n[0] = &st->last_attempt;
	n[1] = &st->last_success;
	n[2] = &st->retry_at;
	n[3] = &st->failures;
	n[4] = &st->count;
	n[5] = &st->miss_fetch_at;
	n[6] = &st->miss_fetch_us;
	n[7] = &st->updated_total;
	n[8] = &st->not_modified_total;
	n[9] = &st->failed_total;
}

/* The strings of st, in record order, with their sizes. */
static size_t
strings(struct refresh_state *st, char *f[5], size_t sz[5])
{
	f[0] = st->source;
	sz[0] = sizeof(st->source);
	f[1] = st->parse_options;
	sz[1] = sizeof(st->parse_options);
	f[2] = st->etag;
	sz[2] = sizeof(st->etag);
	f[3] = st->last_modified;
	sz[3] = sizeof(st->last_modified);
	f[4] = st->last_error;
	sz[4] = sizeof(st->last_error);
	return 5;
}

size_t
refresh_state_encode(const struct refresh_state *st, unsigned char *out,
                     size_t outsz)
{
	struct refresh_state c = *st; /* numbers() and strings() point in */
	uint64_t *n[NUMBERS];
	char *f[5];
	size_t sz[5], i, nf, len, at = 4 + NUMBERS * 8 + 1;

	numbers(&c, n);
	nf = strings(&c, f, sz);
	if (outsz < at)
		return 0;
	put_be(out, REFRESH_STATE_LAYOUT, 4);
	for (i = 0; i < NUMBERS; i++)
		put_be(out + 4 + i * 8, *n[i], 8);
	out[4 + NUMBERS * 8] = (unsigned char)c.last_result;
	for (i = 0; i < nf; i++) {
		len = strnlen(f[i], sz[i] - 1);
		if (outsz - at < 2 + len)
			return 0;
		put_be(out + at, len, 2);
		memcpy(out + at + 2, f[i], len);
		at += 2 + len;
	}
	return at;
}

int
refresh_state_decode(const unsigned char *p, size_t len,
                     struct refresh_state *st)
{
	uint64_t *n[NUMBERS];
	char *f[5];
	size_t sz[5], i, nf, at = 4 + NUMBERS * 8 + 1, fl;

	memset(st, 0, sizeof(*st));
	if (len < at || get_be(p, 4) != REFRESH_STATE_LAYOUT ||
	    p[at - 1] > REFRESH_FAILED)
		return -1;
	numbers(st, n);
	for (i = 0; i < NUMBERS; i++)
		*n[i] = get_be(p + 4 + i * 8, 8);
	st->last_result = (enum refresh_result)p[at - 1];
	nf = strings(st, f, sz);
	for (i = 0; i < nf; i++) {
		if (len - at < 2 || (fl = (size_t)get_be(p + at, 2)) >= sz[i] ||
		    len - at - 2 < fl)
			goto bad;
		memcpy(f[i], p + at + 2, fl);
		f[i][fl] = '\0';
		at += 2 + fl;
	}
	if (at == len)
		return 0;
bad:
	memset(st, 0, sizeof(*st));
	return -1;
}

int
refresh_state_load(struct store *s, struct refresh_state *st)
{
	unsigned char buf[REFRESH_STATE_MAX];
	size_t len = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = store_meta_read(s, REFRESH_STATE_KEY, buf, sizeof(buf), &len);
	if (rc == SH_ENOTFOUND)
		return SH_OK;
	if (rc != SH_OK)
		return rc;
	(void)refresh_state_decode(buf, len, st); /* another layout: zeros */
	return SH_OK;
}

int
refresh_state_kv(const struct refresh_state *st, unsigned char *buf,
                 size_t bufsz, struct store_kv *kv)
{
	size_t len = refresh_state_encode(st, buf, bufsz);

	if (len == 0)
		return -1;
	kv->key = REFRESH_STATE_KEY;
	kv->val = (const char *)buf;
	kv->len = len;
	return 0;
}

int
refresh_state_save(struct store *s, const struct refresh_state *st)
{
	unsigned char buf[REFRESH_STATE_MAX];
	struct store_kv kv;

	if (refresh_state_kv(st, buf, sizeof(buf), &kv) != 0)
		return SH_ETOOLONG;
	return store_meta_put(s, &kv, 1);
}
