/*
 * fuzz_cond.c - If-None-Match, If-Match, If-Modified-Since,
 * If-Unmodified-Since and If-Range against one representation.
 *
 * Input: up to five '\n'-separated header values, in the order
 * If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since,
 * If-Range; an empty one is absent. The representation is 26 bytes,
 * modified Sun, 06 Nov 1994 08:49:37 GMT; its ETag comes from cond_etag().
 */
#include "config.h"

#include <string.h>

#include "cond.h"
#include "fuzz.h"
#include "httpdate.h"

#define MTIME 784111777

/* 1 if list matches strongly, and then it must match weakly too. */
static int
match_both(const char *list, const char *etag)
{
	int strong = cond_etag_match(list, etag, 0);
	int weak = cond_etag_match(list, etag, 1);

	FUZZ_ASSERT(strong == 0 || strong == 1);
	FUZZ_ASSERT(weak == 0 || weak == 1);
	FUZZ_ASSERT(!strong || weak);
	return weak;
}

/* The ETag of any fstat() result fits and matches itself strongly. */
static void
check_etag(const uint8_t *data, size_t size)
{
	struct stat st;
	uint64_t h = 1469598103934665603ULL;
	char etag[ETAG_MAX], weak[ETAG_MAX + 2];
	size_t i;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)(h >> 1);
	st.st_mtim.tv_sec = (time_t)(h * 31);
	st.st_mtim.tv_nsec = (long)(h % 1000000000);
	st.st_ino = (ino_t)(h >> 8);
	FUZZ_ASSERT(cond_etag(&st, (int)(h & 1), (h & 2) ? "br" : "", etag,
	                      sizeof(etag)) == 0);
	FUZZ_ASSERT(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
	FUZZ_ASSERT(cond_etag_match(etag, etag, 0) == 1);
	FUZZ_ASSERT(cond_if_range(etag, etag, 0) == 1);
	snprintf(weak, sizeof(weak), "W/%s", etag);
	FUZZ_ASSERT(cond_etag_match(weak, etag, 0) == 0);
	FUZZ_ASSERT(cond_etag_match(weak, etag, 1) == 1);
	FUZZ_ASSERT(cond_if_range(weak, etag, 0) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[5] = { NULL, NULL, NULL, NULL, NULL };
	struct cond_headers h;
	enum cond_result r, want;
	char etag[ETAG_MAX], *buf, *p, *nl;
	struct stat st;
	time_t t;
	int i, ir;

	if ((buf = fuzz_cstr(data, size)) == NULL)
		return 0;
	for (p = buf, i = 0; i < 5 && p != NULL; i++) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		f[i] = p[0] != '\0' ? p : NULL;
		p = nl != NULL ? nl + 1 : NULL;
	}
	memset(&st, 0, sizeof(st));
	st.st_size = 26;
	st.st_mtim.tv_sec = MTIME;
	FUZZ_ASSERT(cond_etag(&st, 0, "", etag, sizeof(etag)) == 0);

	h.if_none_match = f[0];
	h.if_modified_since = f[1];
	h.if_match = f[2];
	h.if_unmodified_since = f[3];
	r = cond_evaluate(&h, etag, MTIME);
	FUZZ_ASSERT(r == COND_PROCEED || r == COND_NOT_MODIFIED ||
	            r == COND_PRECONDITION_FAILED);
	/* RFC 9110 13.2.2: If-Match first (strong), then If-None-Match
	 * (weak), and If-Modified-Since only without If-None-Match. */
	if (h.if_match != NULL && !cond_etag_match(h.if_match, etag, 0))
		FUZZ_ASSERT(r == COND_PRECONDITION_FAILED);
	if (h.if_match == NULL && h.if_unmodified_since == NULL) {
		if (h.if_none_match != NULL)
			want = match_both(h.if_none_match, etag)
			               ? COND_NOT_MODIFIED
			               : COND_PROCEED;
		else if (h.if_modified_since != NULL &&
		         httpdate_parse(h.if_modified_since, &t) == 0 &&
		         MTIME <= t)
			want = COND_NOT_MODIFIED;
		else
			want = COND_PROCEED;
		FUZZ_ASSERT(r == want);
	}
	if (h.if_match != NULL)
		(void)match_both(h.if_match, etag);

	ir = cond_if_range(f[4], etag, MTIME);
	FUZZ_ASSERT(ir == 0 || ir == 1);
	if (f[4] == NULL)
		FUZZ_ASSERT(ir == 1);
	else if (strncmp(f[4] + strspn(f[4], " \t"), "W/", 2) == 0)
		FUZZ_ASSERT(ir == 0); /* a weak validator never allows Range */

	check_etag(data, size);
	free(buf);
	return 0;
}
